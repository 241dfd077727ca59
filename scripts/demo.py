#!/usr/bin/python3
"""make demo: boot the bundled guest with -device hypertrace, record with
the simple backend, and show what was recorded."""

import argparse
import os
import shutil
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "scripts"))
import httrace  # noqa: E402

NAMES = {1: "phase", 2: "step", 3: "done"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=None,
                    help="output folder (default BUILD/demo)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    out = os.path.abspath(args.out or os.path.join(build, "demo"))
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    trace = os.path.join(out, "trace.simple")
    cmd = [os.path.join(build, "qemu-system-x86_64"), "-M", "pc",
           "-accel", "tcg", "-m", "128", "-display", "none", "-nodefaults",
           "-serial", "file:" + os.path.join(out, "serial.txt"),
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-kernel", os.path.join(build, "ours/demo.elf"),
           "-device", "hypertrace",
           "-trace", "enable=hypertrace_*,file=" + trace]
    print("running:", " ".join(cmd))
    t0 = time.monotonic()
    with open(os.path.join(out, "qemu.log"), "w") as log:
        status = subprocess.call(cmd, stderr=log)
    print("QEMU exited with status %d after %.2f s (1 = guest success)"
          % (status, time.monotonic() - t0))
    events = list(httrace.read_simpletrace(trace, build))
    if not events:
        sys.exit("demo: the trace is empty")
    rows = []
    for name, ts, _pid, a in events:
        if name == "hypertrace_sync":
            rows.append((ts, "sync", a["id"], a["a0"], a["a1"]))
        elif name == "hypertrace_hypercall":
            rows.append((ts, "hcall", "start", a["a0"], a["a1"]))
        elif name == "hypertrace_event":
            rows.append((a["ns"], "ring%d" % a["ring"], a["id"], a["a0"],
                         a["a1"]))
        else:
            rows.append((ts, name, 0, 0, 0))
    rows.sort()
    base = rows[0][0]
    print("\ntime 0 is the guest's first instructions (a hypercall from _start)")
    print("%12s  %-8s %-6s %s" % ("time (us)", "channel", "event", "args"))
    for ts, chan, ev, a0, a1 in rows:
        print("%12.1f  %-8s %-6s a0=%d a1=%d" %
              ((ts - base) / 1000.0, chan, NAMES.get(ev, ev), a0, a1))
    phases = [r for r in rows if r[1] == "sync"]
    print("\nfirst instruction to the first phase: %.1f us" %
          ((phases[0][0] - base) / 1000.0))
    print("phase durations (between synchronous markers):")
    for cur, nxt in zip(phases, phases[1:]):
        print("  phase %d: %.1f us" % (cur[3], (nxt[0] - cur[0]) / 1000.0))
    counts = {}
    for name, *_ in events:
        counts[name] = counts.get(name, 0) + 1
    print("\nevents: " + ", ".join("%s=%d" % kv for kv in sorted(counts.items())))
    print("raw trace: %s\nserial console: %s\nQEMU's log: %s" %
          (trace, os.path.join(out, "serial.txt"),
           os.path.join(out, "qemu.log")))
    sys.exit(0 if status == 1 else 1)


if __name__ == "__main__":
    main()
