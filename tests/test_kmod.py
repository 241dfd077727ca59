"""hypertrace.ko in Debian's bookworm kernel (busybox initramfs, TCG):
kernel functions, sched_switch and a later module's initcall, over
hypercalls and over the ring (tests/linux/init-kmod)."""

import collections
import os
import re

import htlib
from htlib import check, check_eq, run_guest

KFUNC, SCHED = 1000, 1001


def boot():
    ours = os.path.join(htlib.BUILD, "ours")
    return run_guest(htlib.linux_kernel(), machine="pc", timeout=300,
                     qemu_args=[
                         "-m", "512", "-initrd",
                         os.path.join(ours, "initramfs-kmod.cpio.gz"),
                         "-append",
                         "console=ttyS0 panic=-1 rdinit=/init quiet nokaslr"])


def kallsyms(serial):
    """The symbol lines the guest printed from /proc/kallsyms."""
    return {int(m.group(1), 16): m.group(2) for m in re.finditer(
        r"^([0-9a-f]{16}) [tT] (\w+)", serial, re.M)}


def calls(events, name, key):
    """(address, a1 entry/exit, a2, a3, timestamp) of kernel function events."""
    return [(a["a0"], a["a1"], a["a2"], a["a3"], ts)
            for n, ts, _p, a in events if n == name and a[key] == KFUNC]


def check_pairs(found, syms, what):
    count = collections.Counter()
    for addr, exit_, _a2, depth, _ts in found:
        check(addr in syms, "%s: address %#x is no kernel symbol" %
              (what, addr))
        check(depth >= 1, "%s: depth %d" % (what, depth))
        count[(syms[addr], exit_)] += 1
    for fn in {f for f, _e in count}:
        check_eq(count[(fn, 0)], count[(fn, 1)], "%s: %s entries and exits"
                 % (what, fn))
    return count


def test_kernel_module():
    run = boot()
    out = run.serial
    for step in ("insmod hypertrace", "insmod ht_test_mod",
                 "rmmod hypertrace", "insmod hypertrace ring",
                 "rmmod hypertrace ring"):
        check(step + ": 0" in out, "%s failed:\n%s" % (step, out[-3000:]))
    syms = kallsyms(out)
    test_init = [a for a, n in syms.items() if n == "ht_test_mod_init"]
    check_eq(len(test_init), 1, "ht_test_mod_init in kallsyms")
    events = run.events()

    # over hypercalls: functions by name and by glob, in pairs
    hc = calls(events, "hypertrace_hypercall", "nr")
    funcs = [c for c in hc if c[3] >= 1]
    count = check_pairs(funcs, syms, "hypercall channel")
    names = {f for f, _e in count}
    check({"do_sys_openat2", "vfs_read"} <= names, "traced: %r" % names)
    check(all(n == "do_sys_openat2" or n.startswith("vfs_rea")
              for n in names), "functions outside funcs=: %r" % names)
    stamps = [c[4] for c in hc]
    check(stamps == sorted(stamps), "hypercall times not increasing")

    # the initcall of the module loaded after ours, start and finish
    inits = [c for c in hc if c[0] == test_init[0]]
    check_eq([(c[1], c[3]) for c in inits], [(0, 0), (1, 0)],
             "ht_test_mod_init start and finish")
    check(inits[1][2] >= 5000000, "initcall lasted %d ns, it sleeps 5 ms"
          % inits[1][2])
    check_eq([c for c in hc if c[3] == 0 and c[0] != test_init[0]], [],
             "other initcall events")

    # over the ring: vfs_read in pairs, sched_switch
    ring = calls(events, "hypertrace_event", "id")
    ring_count = check_pairs(ring, syms, "ring channel")
    check(ring_count[("vfs_read", 0)] >= 1, "no vfs_read on the ring")
    sched_hc = [a for n, _t, _p, a in events
                if n == "hypertrace_hypercall" and a["nr"] == SCHED]
    sched_ring = [a for n, _t, _p, a in events
                  if n == "hypertrace_event" and a["id"] == SCHED]
    check(sched_hc and sched_ring, "sched_switch events: %d over hypercalls, "
          "%d over the ring" % (len(sched_hc), len(sched_ring)))
    check(all(a["a0"] < 1 << 22 and a["a2"] < 1 << 22 for a in sched_hc),
          "sched_switch pids out of range")
    check_eq([n for n, *_ in events if n in ("hypertrace_lost",
                                             "hypertrace_guest_error")], [],
             "lost records or guest errors")
    print("    kernel functions: %d over hypercalls, %d over the ring; "
          "sched_switch: %d + %d; initcalls: %d" %
          (len(funcs), len(ring), len(sched_hc), len(sched_ring),
           len(inits)))
