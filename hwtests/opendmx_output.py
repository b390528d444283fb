"""Open DMX (FTDI) output, read back by a USB Pro.

Wiring: Enttec Open DMX USB (FTDI FT232R, 0403:6001, the one under test) DMX OUT → XLR
cable → an Enttec DMX USB Pro DMX IN. Both on USB. The Open DMX must not be bound to the
ftdi_sio kernel driver (libftdi opens it directly); the USB Pro must be (it is read as a
serial port). If both are FTDI 0403:6001, give the Open DMX's USB serial with --serial.

Checks: SETs of /dmx/1/1 and /dmx/1/512 arrive on the cable (so break and mark-after-break
are long enough for a real receiver); the frame rate seen by the USB Pro is 30 ± 2 Hz.
"""

import argparse
import sys
import time

from dmx_reader import USBProReader, rate
from hwrun import Gateway, check

parser = argparse.ArgumentParser()
parser.add_argument("--in", dest="input", required=True, help="serial device of the reading USB Pro")
parser.add_argument("--serial", default="", help="USB serial number of the Open DMX")
args = parser.parse_args()

reader = USBProReader(args.input)
gateway = Gateway({"interface": '"opendmx"', "usb_serial": f'"{args.serial}"', "universe": 1, "refresh_rate": 30})
ok = True
try:
    gateway.set({"/dmx/1/1": 255, "/dmx/1/512": 7})
    time.sleep(0.5)
    frames = reader.frames(3)
    ok &= check(len(frames) > 100, f"{len(frames)} frames read in 3 s")
    if frames:
        slots = frames[-1][1]
        ok &= check(slots[0] == 255 and slots[511] == 7, f"channel 1 = {slots[0]}, channel 512 = {slots[511]}")
        hz, stdev = rate(frames)
        ok &= check(28 <= hz <= 32, f"rate {hz:.2f} Hz, interval stdev {stdev:.2f} ms (as seen through the reader)")
finally:
    gateway.stop()
sys.exit(0 if ok else 1)
