"""A Linux guest (Debian's bookworm kernel, busybox initramfs) whose user
program issues hypercall nr 2000; its events must appear in the trace."""

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


def test_linux_user_hypercalls():
    ours = os.path.join(htlib.BUILD, "ours")
    run = run_guest(kernel(), machine="pc", timeout=300, qemu_args=[
        "-m", "512", "-initrd", os.path.join(ours, "initramfs-hcuser.cpio.gz"),
        "-append", "console=ttyS0 panic=-1 rdinit=/init quiet"])
    check("hcuser: done, vmcall returned -1" in run.serial,
          "guest console:\n" + run.serial[-3000:])
    check("hcuser: exit status 0" in run.serial, run.serial[-3000:])
    syms = symbols(os.path.join(ours, "hcuser"))
    calls = [(syms.get(a["a0"], hex(a["a0"])), a["a1"])
             for name, _ts, _p, a in run.events()
             if name == "hypertrace_hypercall" and a["nr"] == USER_FUNC]
    one_middle = [("middle", 0), ("leaf", 0), ("leaf", 1), ("leaf", 0),
                  ("leaf", 1), ("middle", 1)]
    check_eq(calls, [("main", 0)] + one_middle * 3 + [("main", 1)],
             "user function events, resolved with hcuser's symbols")
