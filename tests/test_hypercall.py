"""Hypercall channel: exact events, order and return values."""

import re

import htlib
from htlib import check, check_eq, run_guest

ENOSYS = "0xfffffffffffffc18"  # -1000
EPERM = "0xffffffffffffffff"   # -1

KERNEL_EVENTS = [
    (1000, 0x0c0ffee0, 0, 1, 2),            # 32-bit CPL 0, vmcall
    (1000, 0x0c0ffee0, 1, 12345, 2),
    (2000, 0x4000, 0, 0, 0),                # 32-bit CPL 0, vmmcall
    (1000, 0xffffffff81000000, 0, 0, 1),    # 64-bit CPL 0
    (1001, 10, 11, 12, 13),
]
USER_EVENTS = [
    (2000, 0x401000, 0, 0, 0),              # 64-bit CPL 3
    (2000, 0x401000, 1, 0, 0),
    (1000, 0x1234, 0, 0, 0),
]


def values(serial, key):
    return [line.split("=", 1)[1] for line in serial.splitlines()
            if line.startswith(key + "=")]


def hypercalls(run):
    return [(a["cpu"], a["nr"], a["a0"], a["a1"], a["a2"], a["a3"])
            for name, _ts, _pid, a in run.events()
            if name == "hypertrace_hypercall"]


def check_returns(run, user_ret):
    check_eq(run.status, 1, "exit status\n" + run.serial + run.stderr)
    check("hypercall: done" in run.serial, run.serial)
    check_eq(values(run.serial, "ret32"), [ENOSYS] * 4, "32-bit returns")
    check_eq(values(run.serial, "ret64"), [ENOSYS] * 4, "64-bit returns")
    check_eq(values(run.serial, "retuser"), [user_ret] * 3, "CPL 3 returns")
    check_eq(values(run.serial, "udall"), ["0x" + "0" * 16], "#UD count")


def test_hypercalls_exact_events():
    run = run_guest("hypercall.elf")
    check_returns(run, EPERM)
    check_eq(hypercalls(run),
             [(0,) + e for e in KERNEL_EVENTS + USER_EVENTS], "events")
    stamps = [ts for name, ts, _pid, _a in run.events()]
    check(stamps == sorted(stamps), "timestamps not in order")


def test_user_hypercalls_off():
    run = run_guest("hypercall.elf",
                    device="hypertrace,user-hypercalls=off")
    check_returns(run, EPERM)
    check_eq(hypercalls(run), [(0,) + e for e in KERNEL_EVENTS], "events")



def test_hypercalls_off_is_upstream():
    off = run_guest("hypercall.elf", device="hypertrace,hypercalls=off")
    none = run_guest("hypercall.elf", device=None)
    check_eq(off.status, 1, "exit status")
    check_eq(off.serial, none.serial, "guest output, off vs no device")
    check_eq(off.status, none.status, "exit status, off vs no device")
    check_eq(hypercalls(off), [], "events with hypercalls=off")
    # upstream: every vmcall/vmmcall raised #UD and left RAX alone
    check_eq(values(off.serial, "ret32"),
             ["0x%016x" % v for v in (1000, 1000, 4242, 2000)], "32-bit")
    check_eq(values(off.serial, "ud32"), ["0x%016x" % 4], "32-bit #UD")
    check_eq(values(off.serial, "ret64"),
             ["0x%016x" % v for v in (1000, 1001, 7, 0x1000003e8)], "64")
    check_eq(values(off.serial, "retuser"),
             ["0x%016x" % v for v in (2000, 2000, 1000)], "CPL 3")
    check_eq(values(off.serial, "udall"), ["0x%016x" % 7], "#UD total")


def test_kvm_hypercalls():
    """Under KVM (on /dev/kvm, or nested) the events come from the host
    tracepoint kvm_hypercall, and the returns are KVM's: -KVM_ENOSYS at
    CPL 0, -KVM_EPERM at CPL 3, with the vendor's own instruction."""
    import htkvm
    run = run_guest("hypercall.elf", qemu_args=["-accel", "kvm"],
                    timeout=60)
    check("could not be opened" not in run.stderr and
          "channel is off" not in run.stderr,
          "KVM (%s): the host tracepoint: %s" % (htkvm.describe(),
                                                  run.stderr))
    check_returns(run, EPERM)
    check_eq(hypercalls(run),
             [(0,) + e for e in KERNEL_EVENTS + USER_EVENTS], "events")


def test_kvm_hypercall_samples_lost_are_counted():
    """Under KVM a reader thread takes the hypercalls from the kernel's
    perf ring (64 pages, some 3,000 samples).  Starve it: all of QEMU's
    threads share one CPU at one real-time priority, so the reader runs
    only once the vCPU stops, after a burst of 6,000.  The trace keeps
    samples in order and counts the rest with the kernel's own count."""
    run = run_guest("hcburst.elf", qemu_args=["-accel", "kvm"], timeout=120,
                    wrapper=["taskset", "-c", "0", "chrt", "-f", "10"])
    check_eq(run.status, 1, "exit status\n" + run.serial + run.stderr)
    burst = int(re.search(r"hcburst: done (0x[0-9a-f]+)", run.serial)
                .group(1), 16)
    events = run.events()
    kept = [a["a0"] for name, _ts, _pid, a in events
            if name == "hypertrace_hypercall"]
    lost = [(a["ring"], a["count"]) for name, _ts, _pid, a in events
            if name == "hypertrace_lost"]
    check_eq([a for name, _ts, _pid, a in events if name == "dropped"], [],
             "records the trace backend dropped (its buffer holds 3,600)")
    check_eq(kept, sorted(set(kept)), "samples kept, in order, once each")
    check(lost, "no loss reported: the reader kept up with %d of %d"
          % (len(kept), burst))
    check_eq({ring for ring, _count in lost}, {htlib.abi("HT_NO_RING")},
             "the ring of a hypercall loss")
    check_eq(len(kept) + sum(count for _ring, count in lost), burst,
             "samples kept + lost")
