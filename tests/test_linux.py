"""A Linux guest (Debian's bookworm kernel, busybox initramfs): user
programs emit through hypercalls (hcuser, by hand; hooked, through
libhypertrace's -finstrument-functions hooks) and through the device's
ring and sync channels (hooked, with libhypertrace)."""

import glob
import os
import subprocess

import htlib
from htlib import Skip, check, check_eq, run_guest

USER_FUNC = 2000


def kernel():
    kernels = sorted(glob.glob("/boot/vmlinuz-*-amd64"))
    if not kernels:
        raise Skip("no Debian kernel in /boot (package linux-image-amd64)")
    return kernels[-1]


def symbols(binary):
    out = subprocess.run(["nm", binary], check=True, text=True,
                         stdout=subprocess.PIPE).stdout
    return {int(addr, 16): name for addr, _t, name in
            (line.split() for line in out.splitlines() if len(line.split()) == 3)}


_boot = None


def boot():
    """One boot serves every test of this file."""
    global _boot
    if _boot is None:
        ours = os.path.join(htlib.BUILD, "ours")
        _boot = run_guest(kernel(), machine="pc", timeout=300, qemu_args=[
            "-m", "512",
            "-initrd", os.path.join(ours, "initramfs-hcuser.cpio.gz"),
            "-append", "console=ttyS0 panic=-1 rdinit=/init quiet"])
    return _boot


def user_calls(run, binary, source):
    """(function, 0 entry / 1 exit) of USER_FUNC events from @source."""
    syms = symbols(os.path.join(htlib.BUILD, "ours", binary))
    out = []
    for name, _ts, _p, a in run.events():
        if source == "hypercall" and name == "hypertrace_hypercall" and \
                a["nr"] == USER_FUNC:
            out.append((syms.get(a["a0"]), a["a1"]))
        elif source == "ring" and name == "hypertrace_event" and \
                a["id"] == USER_FUNC:
            out.append((syms.get(a["a0"]), a["a1"]))
    return [c for c in out if c[0] is not None]


def test_linux_user_hypercalls():
    run = boot()
    check("hcuser: done, vmcall returned -1" in run.serial,
          "guest console:\n" + run.serial[-3000:])
    check("hcuser: exit status 0" in run.serial, run.serial[-3000:])
    one_middle = [("middle", 0), ("leaf", 0), ("leaf", 1), ("leaf", 0),
                  ("leaf", 1), ("middle", 1)]
    check_eq(user_calls(run, "hcuser", "hypercall"),
             [("main", 0)] + one_middle * 3 + [("main", 1)],
             "user function events, resolved with hcuser's symbols")


HOOKED = [("main", 0), ("sum_of_squares", 0), ("square", 0), ("square", 1),
          ("square", 0), ("square", 1), ("sum_of_squares", 1)]


def test_linux_hooks_and_library():
    run = boot()
    check("hooked hypercall: exit status 0" in run.serial, run.serial[-3000:])
    check("hooked ring: exit status 0" in run.serial, run.serial[-3000:])
    check("hooked: device /sys/bus/pci/devices/0000:00:" in run.serial,
          run.serial[-3000:])
    calls = user_calls(run, "hooked", "hypercall")
    check_eq(calls, HOOKED + [("main", 1)], "hooks over hypercalls")
    calls = user_calls(run, "hooked", "ring")
    check_eq(calls, HOOKED + [("main", 1)], "hooks over the ring")
    events = run.events()
    mine = [a for n, _t, _p, a in events if a.get("id") == 77]
    check_eq(sorted(a["a0"] for a in mine), [1, 2], "library emits")
    check_eq([n for n, *_ in events if n in ("hypertrace_lost",
                                             "hypertrace_guest_error")],
             [], "lost records or guest errors")
