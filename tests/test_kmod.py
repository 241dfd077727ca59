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


def check_parallel_initcalls(hc, inits_at):
    """The two modules loaded at once: each initcall's start and finish,
    with its own duration (ht_test_mod: 5 ms, then two threads that sleep
    3 x 20 ms each; ht_test_mod2: 300 ms, overlapping it)."""
    found = {}
    for name, addr in inits_at.items():
        found[name] = [c for c in hc if c[0] == addr]
        check_eq([(c[1], c[3]) for c in found[name]], [(0, 0), (1, 0)],
                 name + " start and finish")
    check_eq([c for c in hc if c[3] == 0 and c[0] not in inits_at.values()],
             [], "other initcall events")
    one, two = found["ht_test_mod_init"], found["ht_test_mod2_init"]
    check(two[0][4] < one[0][4] < two[1][4], "the initcalls did not overlap")
    check(one[1][2] >= 65000000, "ht_test_mod_init lasted %d ns, it sleeps "
          "5 ms, then 3 x 20 ms in each thread" % one[1][2])
    check(two[1][2] >= 300000000, "ht_test_mod2_init lasted %d ns, it "
          "sleeps 300 ms" % two[1][2])
    return one + two


def check_sleepers(hc, syms):
    """msleep, traced: the two threads on one CPU call it while the other
    sleeps in it, yet each call has depth 1 (its task's), and the six
    calls of 20 ms last at least that."""
    sleeps = [c for c in hc if syms.get(c[0]) == "msleep"]
    check_eq({c[3] for c in sleeps}, {1}, "depth of msleep calls")
    long_ones = [c for c in sleeps if c[1] == 1 and c[2] >= 20000000]
    check(len(long_ones) >= 6 + 1, "msleep calls of 20 ms or more: %d, "
          "want the six of the threads and the 300 ms one" % len(long_ones))


def test_kernel_module():
    run = boot()
    out = run.serial
    for step in ("insmod hypertrace", "insmod ht_test_mod",
                 "insmod ht_test_mod2",
                 "rmmod hypertrace", "insmod hypertrace ring",
                 "rmmod hypertrace ring"):
        check(step + ": 0" in out, "%s failed:\n%s" % (step, out[-3000:]))
    syms = kallsyms(out)
    inits_at = {n: a for a, n in syms.items()
                if n in ("ht_test_mod_init", "ht_test_mod2_init")}
    check_eq(sorted(inits_at), ["ht_test_mod2_init", "ht_test_mod_init"],
             "test module inits in kallsyms")
    events = run.events()

    # over hypercalls: functions by name and by glob, in pairs
    hc = calls(events, "hypertrace_hypercall", "nr")
    funcs = [c for c in hc if c[3] >= 1]
    count = check_pairs(funcs, syms, "hypercall channel")
    names = {f for f, _e in count}
    check({"do_sys_openat2", "vfs_read"} <= names, "traced: %r" % names)
    check(all(n in ("do_sys_openat2", "msleep") or n.startswith("vfs_rea")
              for n in names), "functions outside funcs=: %r" % names)
    stamps = [c[4] for c in hc]
    check(stamps == sorted(stamps), "hypercall times not increasing")

    check_sleepers(hc, syms)
    # discovery done, the glob's ftrace callback is off vfs_read
    enabled = re.findall(r"^enabled: (vfs_read \(\d+\).*)$", out, re.M)
    check_eq(len(enabled), 1, "vfs_read in enabled_functions\n" + out[-3000:])
    check(enabled[0].startswith("vfs_read (1) ") and
          "kprobe_ftrace_handler" in enabled[0],
          "callbacks left on vfs_read: " + enabled[0])
    inits = check_parallel_initcalls(hc, inits_at)

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
