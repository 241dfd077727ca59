#!/usr/bin/python3
"""Write the seed corpus of the hypertrace-fuzz target: one file per way a
guest uses (or abuses) the device, in the action format of
tests/qtest/hypertrace-fuzz.h (16 bytes: kind u8, ring u8, small u16,
offset u32, value u64, little-endian)."""

import os
import struct

(CTRL_WRITE, CTRL_READ, CONFIG_WRITE, HEADER_WRITE, RECORD, PUBLISH,
 DOORBELL, SYNC_EMIT, HYPERCALL, CLOCK_STEP, DATA_WRITE, RESET) = range(12)
TORN = 0x80                 # ring flag: the record's commit word is `value`
DOORBELL_BIT, RESET_BIT = 1, 2
RING_REG = 0x1000           # HT_RING_REGS_BASE, stride 0x40
MS = 1000000


def act(kind, ring=0, small=0, offset=0, value=0):
    return struct.pack("<BBHIQ", kind, ring, small, offset, value)


def produce(ring, first, count, event=7):
    """Records first..first+count-1, published, and the doorbell."""
    return b"".join(act(RECORD, ring, event, pos, pos * 3)
                    for pos in range(first, first + count)) + \
        act(PUBLISH, ring, value=first + count) + act(DOORBELL, ring, 1) + \
        act(CLOCK_STEP, value=2 * MS)


SEEDS = {
    "ring-in-order": produce(0, 0, 4) + produce(1, 0, 3),
    "ring-overflow": produce(1, 0, 20),
    "ring-wraps": produce(0, 0, 15) + produce(0, 15, 15),
    "index-ahead": act(PUBLISH, value=1000) + act(DOORBELL, small=1) +
    act(CLOCK_STEP, value=MS) + act(DOORBELL, small=RESET_BIT) +
    produce(0, 0, 2),
    "index-wrapped": act(PUBLISH, value=2 ** 64 - 3) +
    act(CLOCK_STEP, value=MS),
    "index-behind": produce(0, 0, 4) + act(PUBLISH, value=2) +
    act(CLOCK_STEP, value=MS),
    "torn-record": act(RECORD, TORN, 1, 0, 12345) + act(PUBLISH, value=1) +
    act(CLOCK_STEP, value=150 * MS) + produce(0, 1, 2),
    "header-garbage": b"".join(act(HEADER_WRITE, r, 0, off, 0xdeadbeef)
                               for r in (0, 1) for off in range(0, 256, 24)) +
    act(CLOCK_STEP, value=MS),
    "sync-emit": act(SYNC_EMIT, 0, 6, 100, 1) + act(SYNC_EMIT, 1, 1, 101, 7) +
    act(SYNC_EMIT, 5, 2, 102, 9),
    "hypercalls": b"".join(act(HYPERCALL, cpu, cpl, nr, arg)
                           for cpu in (0, 1) for cpl in (0, 3)
                           for nr, arg in ((0, 1), (1, 2), (2, 3))) +
    act(HYPERCALL, 0, 4, 0, 424242),
    "registers": b"".join(act(CTRL_READ, offset=off)
                          for off in range(0, 0x2100, 0x3c)) +
    act(CTRL_WRITE, offset=0, value=1) +
    act(CTRL_WRITE, offset=RING_REG + 0x40 * 5 + 4, value=1),
    "config": act(CONFIG_WRITE, offset=4, value=0) + produce(0, 0, 1) +
    act(CONFIG_WRITE, offset=4, value=6) + act(CONFIG_WRITE, offset=0x10,
                                               value=0xffffffff),
    "reset-pending": produce(0, 0, 3)[:-16] + act(RESET) + produce(0, 0, 2),
    # probe hits (HYPERCALL with 8 in small): an entry with its stack in
    # RAM and the return there, in VGA memory, the LAPIC, nowhere; the
    # reset milestone; a device reset between
    "probe-stacks": act(HYPERCALL, 0, 8 | 0x20, 0x8000) +
    act(HYPERCALL, 3, 8 | 0x20, 0x8008, 0) +
    act(HYPERCALL, 1, 8, 0xb8000) + act(HYPERCALL, 0, 8 | 0x20, 0xfee00000) +
    act(HYPERCALL, 0, 8 | 0x10 | 0x20, 0, 1 << 40) +
    act(HYPERCALL, 2, 8, 0x7000) + act(RESET) +
    act(HYPERCALL, 1, 8 | 0x10, 0, 0xfffffffc),
    "data-scribble": b"".join(act(DATA_WRITE, offset=i * 77, value=i * 1031)
                              for i in range(40)) + act(CLOCK_STEP, value=MS),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "corpus-hypertrace")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
