"""Reads DMX with an Enttec DMX USB Pro in receive mode (label 8 mode 0, label 5 frames)."""

import statistics
import time

import serial

START, END = 0x7E, 0xE7


def message(label, data=b""):
    return bytes([START, label, len(data) & 0xFF, len(data) >> 8]) + bytes(data) + bytes([END])


class USBProReader:
    def __init__(self, path):
        self.port = serial.Serial(path, baudrate=115200, timeout=0.05)
        self.port.write(message(8, b"\x00"))  # send every received frame
        self.buffer = bytearray()

    def frames(self, seconds):
        """(arrival time, slots) for every good frame received within `seconds`."""
        got = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.buffer += self.port.read(self.port.in_waiting or 1)
            while True:
                start = self.buffer.find(START)
                if start < 0:
                    self.buffer.clear()
                    break
                del self.buffer[:start]
                if len(self.buffer) < 4:
                    break
                length = self.buffer[2] | self.buffer[3] << 8
                if len(self.buffer) < 5 + length:
                    break
                label, data, end = self.buffer[1], bytes(self.buffer[4:4 + length]), self.buffer[4 + length]
                del self.buffer[:5 + length]
                if end == END and label == 5 and len(data) >= 2 and data[0] == 0 and data[1] == 0:
                    got.append((time.monotonic(), data[2:]))
        return got


def rate(frames):
    times = [t for t, _ in frames]
    intervals = [b - a for a, b in zip(times, times[1:])]
    return 1.0 / statistics.mean(intervals), statistics.pstdev(intervals) * 1000
