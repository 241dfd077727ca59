"""The Linux guest of the demo and tests: Debian's bookworm kernel, and a
System.map for it.

Debian ships /boot/System.map-* as a stub (the real map is in the 858 MB
-dbg package), so the map is taken from the kernel itself: one boot of
an initramfs that prints /proc/kallsyms (under nokaslr, so the addresses
are the link-time ones), cached per kernel in BUILD/linux/.
"""

import glob
import os
import re
import subprocess
import sys

BEGIN, END = "HYPERTRACE-KALLSYMS-BEGIN", "HYPERTRACE-KALLSYMS-END"


def _version_key(path):
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", path)]


def kernel_image():
    """The newest Debian kernel in /boot, or None."""
    kernels = sorted(glob.glob("/boot/vmlinuz-*-amd64"), key=_version_key)
    return kernels[-1] if kernels else None


def _extract_map(console):
    text = console.replace("\r", "")
    if BEGIN not in text or END not in text:
        return None
    body = text.split(BEGIN + "\n", 1)[1].split(END, 1)[0]
    lines = [l for l in body.splitlines()
             if re.fullmatch(r"[0-9a-f]{16} [a-zA-Z] \S+", l)]
    return "\n".join(lines) + "\n" if lines else None


def kernel_symbols(build, kernel, log=print):
    """Path of a System.map for @kernel, made by one boot if not cached."""
    name = os.path.basename(kernel).replace("vmlinuz-", "System.map-")
    out = os.path.join(build, "linux", name)
    if os.path.exists(out):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    console = out + ".console"
    log("hypertrace: reading the symbols of %s from one boot "
        "(about 30 s, once)" % kernel)
    subprocess.run(
        [os.path.join(build, "qemu-system-x86_64"), "-M", "pc",
         "-accel", "tcg", "-m", "512", "-display", "none", "-nodefaults",
         "-no-reboot", "-serial", "file:" + console, "-kernel", kernel,
         "-initrd", os.path.join(build, "ours",
                                 "initramfs-kallsyms.cpio.gz"),
         "-append", "console=ttyS0 panic=-1 rdinit=/init quiet nokaslr"],
        check=True, timeout=600)
    with open(console, errors="replace") as f:
        text = _extract_map(f.read())
    if text is None:
        sys.exit("hypertrace: the symbol boot printed no symbols; see %s"
                 % console)
    with open(out + ".tmp", "w") as f:
        f.write(text)
    os.replace(out + ".tmp", out)
    os.unlink(console)
    return out
