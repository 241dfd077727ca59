"""htaccel: does this host's /dev/kvm run our guests?

A /dev/kvm may exist and still not run a 64-bit guest: a nested PVM one
runs a 32-bit guest and hangs in long mode.  So run a test guest that
goes through every CPU mode (tests/guest/hypercall.c: real, 32-bit,
64-bit, CPL 3), which a working KVM finishes in a second.
"""

import os
import subprocess

def kvm_usable(qemu, guests, seconds=15):
    """(True, "") if KVM runs the guests here, else (False, why).  A
    working KVM takes a second; a busy CI host may need more."""
    if not os.path.exists("/dev/kvm"):
        return False, "no /dev/kvm"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm is not readable and writable by this user"
    try:
        proc = subprocess.run(
            [qemu, "-M", "pc", "-accel", "kvm", "-m", "64",
             "-display", "none", "-nodefaults", "-no-reboot",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
             "-kernel", os.path.join(guests, "hypercall.elf"),
             "-device", "hypertrace"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, timeout=seconds)
    except subprocess.TimeoutExpired:
        return False, ("/dev/kvm did not run a test guest through long mode "
                       "in %d s" % seconds)
    if proc.returncode != 1:
        return False, "/dev/kvm failed a test guest (QEMU exit status %d)" \
            % proc.returncode
    return True, ""
