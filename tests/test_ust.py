"""The ust backend for real: LTTng records qemu:hypertrace_*, babeltrace2
reads the CTF trace back."""

import os
import re
import shutil
import subprocess
import tempfile

from htlib import Skip, check, check_eq, run_guest


def lttng(*args):
    subprocess.run(["lttng"] + list(args), check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def fields(line):
    """babeltrace2 text: '... qemu:hypertrace_sync: { client = 0, ... }'"""
    name = re.search(r"qemu:(\w+):", line).group(1)
    body = line.rsplit("{", 1)[1].rstrip("} ")
    return name, {k.strip(): v.strip('"') if v.startswith('"') else int(v, 0)
                  for k, v in (kv.split(" = ") for kv in body.split(", "))}


def test_ust_backend_with_lttng():
    if os.geteuid() != 0:
        raise Skip("LTTng kernel-independent sessions need root here")
    if not shutil.which("lttng") or not shutil.which("babeltrace2"):
        raise Skip("lttng-tools or babeltrace2 not installed")
    out = tempfile.mkdtemp(prefix="ht-lttng-")
    session = "ht%d" % os.getpid()
    lttng("create", session, "--output=" + out)
    try:
        lttng("enable-event", "-u", "qemu:hypertrace_*", "-s", session)
        lttng("start", session)
        run = run_guest("smoke.elf")
        hc_run = run_guest("hypercall.elf")
        lttng("stop", session)
    finally:
        lttng("destroy", session)
    check_eq(run.status, 1, "exit status")
    text = subprocess.run(["babeltrace2", out], check=True, text=True,
                          stdout=subprocess.PIPE).stdout
    events = [fields(l) for l in text.splitlines() if "qemu:hypertrace" in l]
    check_eq([e for e in events if e[0] == "hypertrace_sync"],
             [("hypertrace_sync", dict(client=0, id=100, a0=1, a1=2, a2=3,
                                       a3=4, a4=5, a5=6))], "sync via ust")
    ring = [e[1] for e in events if e[0] == "hypertrace_event"]
    check_eq([(r["ring"], r["id"], r["a0"], r["a5"]) for r in ring],
             [(0, 200, 0x100, 6), (0, 201, 0x101, 6), (0, 202, 0x102, 6)],
             "ring events via ust")
    check(all(run.t0 <= r["ns"] <= run.t1 for r in ring), "event times")
    check_eq([(e[1]["name"], e[1]["addr"]) for e in events
              if e[0] == "hypertrace_milestone"][:3],
             [("reset", 0xfffffff0), ("firmware_exit", 0x10000c),
              ("kernel_entry", 0x10000c)], "milestones via ust")
    check_eq(hc_run.status, 1, "hypercall guest exit status")
    hcs = [(e[1]["nr"], e[1]["a0"], e[1]["a1"]) for e in events
           if e[0] == "hypertrace_hypercall"]
    check_eq(hcs, [(1000, 0x0c0ffee0, 0), (1000, 0x0c0ffee0, 1),
                   (2000, 0x4000, 0), (1000, 0xffffffff81000000, 0),
                   (1001, 10, 11), (2000, 0x401000, 0), (2000, 0x401000, 1),
                   (1000, 0x1234, 0)], "hypercalls via ust")
