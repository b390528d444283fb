"""An Enttec DMX USB Pro widget emulated on the far end of a pty (pyserial).

It checks every byte the gateway sends against the widget protocol (Enttec "DMX USB Pro API"
1.44): 0x7E, label, length LSB/MSB (0-600), data, 0xE7; only the labels the gateway should use
(3 get parameters with 2 bytes user-config size, 6 send DMX with start code 0 and 24-512 slots,
8 receive-on-change mode with one byte 0 or 1, 10 get serial number with no data). Anything
else is recorded in `errors`. It answers labels 3 and 10, records each label-6 frame with its
arrival time, and once label 8 asked for input it sends `input_slots` as label 5 messages.
"""

import os
import statistics
import threading
import time

import serial

START, END = 0x7E, 0xE7
GET_PARAMETERS, RECEIVED_DMX, SEND_DMX, RECEIVE_ON_CHANGE, GET_SERIAL = 3, 5, 6, 8, 10
FIRMWARE = (0x2C, 0x01)  # 1.44, least significant byte first
SERIAL_BCD = bytes([0x78, 0x56, 0x34, 0x12])  # 12345678


def message(label, data=b""):
    data = bytes(data)
    return bytes([START, label, len(data) & 0xFF, len(data) >> 8]) + data + bytes([END])


class WidgetEmulator:
    def __init__(self, path, input_rate=20.0):
        self.port = serial.Serial(path, baudrate=115200, timeout=0.02)
        self.errors = []
        self.frames = []  # (monotonic seconds, slots bytes)
        self.labels = []  # every label received, in order
        self.receive_mode = None
        self.input_slots = None
        self.input_rate = input_rate
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.buffer = bytearray()
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.writer = threading.Thread(target=self._input_loop, daemon=True)
        self.reader.start()
        self.writer.start()

    # ------------------------------------------------------------------ protocol checking
    def _error(self, text):
        with self.lock:
            self.errors.append(text)

    def _read_loop(self):
        # Arrival times are the timing measurement: at real-time priority when allowed, the
        # emulator's own scheduling delays stay out of them.
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        except (PermissionError, OSError):
            pass
        while not self.closed.is_set():
            try:
                chunk = self.port.read(self.port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError):
                return  # the pty went away (unplug)
            now = time.monotonic()
            if chunk:
                self.buffer += chunk
                self._parse(now)

    def _parse(self, now):
        while self.buffer:
            if self.buffer[0] != START:
                self._error(f"byte 0x{self.buffer[0]:02x} outside a message")
                del self.buffer[0]
                continue
            if len(self.buffer) < 4:
                return
            label, length = self.buffer[1], self.buffer[2] | self.buffer[3] << 8
            if length > 600:
                self._error(f"label {label}: length {length} over 600")
                del self.buffer[0]
                continue
            if len(self.buffer) < 5 + length:
                return
            data, end = bytes(self.buffer[4:4 + length]), self.buffer[4 + length]
            del self.buffer[:5 + length]
            if end != END:
                self._error(f"label {label}: end byte 0x{end:02x}, not 0xE7")
                continue
            self._handle(label, data, now)

    def _handle(self, label, data, now):
        with self.lock:
            self.labels.append(label)
        if label == GET_PARAMETERS:
            if data != b"\x00\x00":
                self._error(f"get parameters with data {data.hex()}, not 0000")
            self._write(message(GET_PARAMETERS, bytes(FIRMWARE) + bytes([9, 1, 40])))
        elif label == GET_SERIAL:
            if data:
                self._error(f"get serial number with data {data.hex()}")
            self._write(message(GET_SERIAL, SERIAL_BCD))
        elif label == SEND_DMX:
            if not 25 <= len(data) <= 513:
                self._error(f"send DMX with {len(data)} bytes, not 25-513")
            elif data[0] != 0:
                self._error(f"send DMX with start code {data[0]}")
            with self.lock:
                self.frames.append((now, data[1:]))
        elif label == RECEIVE_ON_CHANGE:
            if data not in (b"\x00", b"\x01"):
                self._error(f"receive-on-change with data {data.hex()}")
            self.receive_mode = data[0] if data else None
        else:
            self._error(f"unexpected label {label} with {len(data)} bytes")

    def _write(self, data):
        try:
            self.port.write(data)
        except (serial.SerialException, OSError):
            pass

    # ------------------------------------------------------------------ DMX input
    def _input_loop(self):
        while not self.closed.wait(1.0 / self.input_rate):
            slots = self.input_slots
            if slots is not None and self.receive_mode == 0:
                # Label 5: receive status 0, start code 0, the slots.
                self._write(message(RECEIVED_DMX, b"\x00\x00" + bytes(slots)))

    # ------------------------------------------------------------------ test helpers
    def frames_since(self, start):
        with self.lock:
            return [(t, s) for t, s in self.frames if t >= start]

    def wait_for_frame(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if any(predicate(slots) for _, slots in self.frames[-5:]):
                    return True
            time.sleep(0.01)
        return False

    def close(self):
        self.closed.set()
        self.reader.join(2)
        self.writer.join(2)
        try:
            self.port.close()
        except (serial.SerialException, OSError):
            pass


def timing(times):
    """Rate and interval jitter of frame arrival times (seconds)."""
    intervals = [b - a for a, b in zip(times, times[1:])]
    mean = statistics.mean(intervals)
    deviations = sorted(abs(i - mean) for i in intervals)
    return {
        "frames": len(times),
        "rate_hz": 1.0 / mean,
        "mean_interval_ms": mean * 1000,
        "stdev_ms": statistics.pstdev(intervals) * 1000,
        "median_deviation_ms": deviations[len(deviations) // 2] * 1000,
        "p99_deviation_ms": deviations[min(len(deviations) - 1, int(len(deviations) * 0.99))] * 1000,
        "max_deviation_ms": deviations[-1] * 1000,
    }
