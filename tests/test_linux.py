"""A Linux guest (Debian's bookworm kernel, busybox initramfs): user
programs emit through hypercalls (hcuser, by hand; hooked, through
libhypertrace's -finstrument-functions hooks) and through the device's
ring and sync channels (hooked, with libhypertrace)."""

import os
import re
import subprocess

import htlib
from htlib import check, check_eq, run_guest

USER_FUNC = 2000


def symbols(binary):
    return dict(htlib.nm_symbols(binary))


_boots = {}


def boot(device="hypertrace", accel=()):
    """One boot per device and accelerator serves every test."""
    key = (device, tuple(accel))
    if key not in _boots:
        ours = os.path.join(htlib.BUILD, "ours")
        _boots[key] = run_guest(
            htlib.linux_kernel(), machine="pc", timeout=600, device=device,
            qemu_args=list(accel) + [
                "-m", "512",
                "-initrd", os.path.join(ours, "initramfs-hcuser.cpio.gz"),
                "-append", "console=ttyS0 panic=-1 rdinit=/init quiet"])
    return _boots[key]


def user_calls(run, source):
    """(address, 0 entry / 1 exit) of USER_FUNC events, in trace order."""
    out = []
    for name, _ts, _p, a in run.events():
        if (source == "hypercall" and name == "hypertrace_hypercall" and
                a["nr"] == USER_FUNC) or \
           (source == "ring" and name == "hypertrace_event" and
                a["id"] == USER_FUNC):
            out.append((a["a0"], a["a1"]))
    return out


def resolve(calls, binary):
    syms = symbols(os.path.join(htlib.BUILD, "ours", binary))
    return [(syms.get(addr, hex(addr)), exit_) for addr, exit_ in calls]


# /init runs hcuser, then hooked over hypercalls: hcuser's 20 come first
HCUSER = [("main", 0)] + [("middle", 0), ("leaf", 0), ("leaf", 1),
                          ("leaf", 0), ("leaf", 1), ("middle", 1)] * 3 + \
         [("main", 1)]


def test_linux_user_hypercalls():
    check_user_hypercalls(boot())


def check_user_hypercalls(run):
    check("hcuser: done, vmcall returned -1" in run.serial,
          "guest console:\n" + run.serial[-3000:])
    check("hcuser: exit status 0" in run.serial, run.serial[-3000:])
    calls = user_calls(run, "hypercall")[:len(HCUSER)]
    check_eq(resolve(calls, "hcuser"), HCUSER,
             "user function events, resolved with hcuser's symbols")


HOOKED = [("main", 0), ("sum_of_squares", 0), ("square", 0), ("square", 1),
          ("square", 0), ("square", 1), ("sum_of_squares", 1)]


def test_linux_hooks_and_library():
    check_hooks_and_library(boot())


def check_hooks_and_library(run):
    check("hooked hypercall: exit status 0" in run.serial, run.serial[-3000:])
    check("hooked ring: exit status 0" in run.serial, run.serial[-3000:])
    check("hooked: device /sys/bus/pci/devices/0000:00:" in run.serial,
          run.serial[-3000:])
    # the ring write-combining, not uncached; the registers uncached
    mapped = re.findall(r"^hooked: maps (resource\S*)", run.serial, re.M)
    check_eq(sorted(set(mapped)), ["resource0", "resource2_wc"],
             "BAR files mapped")
    check(re.search(r"hooked: cannot open /sys/bus/pci/devices/\S+/resource0: "
                    r"Permission denied \(the PCI resource files are root's: "
                    r"run as root\)\nhooked nobody: exit status 1", run.serial),
          "no clear error without permission:\n" + run.serial[-2000:])
    calls = user_calls(run, "hypercall")[len(HCUSER):]
    check_eq(resolve(calls, "hooked"), HOOKED + [("main", 1)],
             "hooks over hypercalls")
    # HYPERTRACE_HOOKS=ring, then unset (auto: the ring, as root)
    check_eq(resolve(user_calls(run, "ring"), "hooked"),
             (HOOKED + [("main", 1)]) * 2, "hooks over the ring")
    check("hooked auto: exit status 0" in run.serial, run.serial[-3000:])
    check("hypertrace: hooks" not in run.serial, "hooks said something:\n"
          + run.serial[-3000:])
    events = run.events()
    mine = [a for n, _t, _p, a in events if a.get("id") == 77]
    check_eq(sorted(a["a0"] for a in mine), [1, 2, 3],
             "library emits, the last after a reopen")
    check_eq([n for n, *_ in events if n in ("hypertrace_lost",
                                             "hypertrace_guest_error")],
             [], "lost records or guest errors")


def test_library_without_device():
    """On a machine with no hypertrace device the error says what to do."""
    proc = subprocess.run([os.path.join(htlib.BUILD, "ours", "hooked"), "x"],
                          env=dict(os.environ, HYPERTRACE_HOOKS="off"),
                          text=True, stdout=subprocess.PIPE)
    check_eq(proc.returncode, 1, "exit status")
    check("hooked: no hypertrace device (PCI 1af4:10f0) in "
          "/sys/bus/pci/devices: start QEMU with -device hypertrace\n"
          in proc.stdout, proc.stdout)


def test_hooks_without_device_turn_off():
    """No device: a hypercall raises #UD under TCG.  The hooks find that
    out before their first event and turn themselves off with one line;
    the program runs as it would unhooked."""
    run = boot(device=None)
    off = ("hypertrace: hooks off: hypercalls fault here (start QEMU with "
           "-device hypertrace)\nhooked: sum=5\nhooked hypercall: exit "
           "status 0\n")
    check(off in run.serial.replace("\r", ""), run.serial[-3000:])
    no_ring = ("hypertrace: hooks off: no hypertrace device (PCI "
               "1af4:10f0) in /sys/bus/pci/devices: start QEMU with -device "
               "hypertrace, and hypercalls fault here\nhooked: sum=5\n")
    serial = run.serial.replace("\r", "")
    check_eq(serial.count(no_ring), 2, "ring and auto runs:\n" +
             serial[-3000:])
    check("hooked auto: exit status 0\n" in serial, serial[-3000:])
    check("hcuser: exit status 132\n" in serial,
          "hcuser's bare vmcall should die of SIGILL:\n" + serial[-3000:])
