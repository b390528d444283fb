"""USB Pro output, read back by a second USB Pro.

Wiring: interface OUT (Enttec DMX USB Pro, the one under test) DMX OUT → XLR cable →
interface IN (a second DMX USB Pro) DMX IN. Both on USB. Terminate the line at IN
(a 120 Ω terminator in IN's DMX OUT, or a fixture chain ending in one).

Checks: SETs of /dmx/1/1, /dmx/1/512 and a 16-bit patched param arrive on the cable with the
right values; the frame rate seen by IN is 44 ± 2 Hz.
"""

import argparse
import sys
import time

from dmx_reader import USBProReader, rate
from hwrun import Gateway, check

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True, help="serial device of the USB Pro under test")
parser.add_argument("--in", dest="input", required=True, help="serial device of the reading USB Pro")
args = parser.parse_args()

reader = USBProReader(args.input)
gateway = Gateway({
    "interface": '"usbpro"', "device": f'"{args.out}"', "universe": 1,
    "patch": '["/fixtures/mover @ 20: pan:16"]',
})
ok = True
try:
    gateway.set({"/dmx/1/1": 255, "/dmx/1/512": 0.5, "/fixtures/mover/pan": 0x1234})
    time.sleep(0.5)
    frames = reader.frames(3)
    ok &= check(len(frames) > 100, f"{len(frames)} frames read in 3 s")
    if frames:
        slots = frames[-1][1]
        ok &= check(slots[0] == 255 and slots[511] == 128, f"channel 1 = {slots[0]}, channel 512 = {slots[511]}")
        ok &= check(slots[19] == 0x12 and slots[20] == 0x34, f"pan coarse/fine = {slots[19]:#x}/{slots[20]:#x}")
        hz, stdev = rate(frames)
        ok &= check(42 <= hz <= 46, f"rate {hz:.2f} Hz, interval stdev {stdev:.2f} ms (as seen through the reader)")
finally:
    gateway.stop()
sys.exit(0 if ok else 1)
