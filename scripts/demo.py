#!/usr/bin/python3
"""make demo: where does a Linux boot's time go?

Boots Debian's bookworm kernel (unmodified, KASLR on) with a busybox
initramfs, under KVM where /dev/kvm runs our guests, else under TCG.
hypertrace probes do_one_initcall and a few milestones from the host,
samples the vCPU 1000 times a second, and /init's program reports its
functions through libhypertrace's hooks (the device's ring, as root).
The trace goes to the simple backend; scripts/htboot.py, the analyzer
users run on their own traces, turns it into the report.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "scripts"))
import htaccel  # noqa: E402
import htboot  # noqa: E402
import htkernel  # noqa: E402

PROBES = ["do_one_initcall", "start_kernel", "do_populate_rootfs",
          "run_init_process"]
SAMPLE_HZ = 1000


def step(n, text):
    print("[%d/4] %s" % (n, text), flush=True)


def last_line(path):
    try:
        with open(path, errors="replace") as f:
            lines = [l.strip() for l in f.read().replace("\r", "").split("\n")
                     if l.strip()]
        return lines[-1][:70] if lines else ""
    except OSError:
        return ""


def boot(build, kernel, sysmap, out, accel):
    """Run QEMU, showing the guest's console as it goes."""
    serial = os.path.join(out, "console.txt")
    cmd = [os.path.join(build, "qemu-system-x86_64"), "-M", "pc",
           "-accel", accel, "-m", "512", "-display", "none", "-nodefaults",
           "-no-reboot", "-serial", "file:" + serial, "-kernel", kernel,
           "-initrd", os.path.join(build, "ours", "initramfs-demo.cpio.gz"),
           "-append", "console=ttyS0 panic=-1 rdinit=/init quiet",
           "-device", "hypertrace,symbols=%s,probes=%s,sample-hz=%d"
           % (sysmap, ":".join(PROBES), SAMPLE_HZ),
           "-trace", "enable=hypertrace_*,file=" +
           os.path.join(out, "trace.simple"),
           "-D", os.path.join(out, "trace.log")]
    with open(os.path.join(out, "command.txt"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    t0 = time.monotonic()
    with open(os.path.join(out, "qemu-stderr.txt"), "w") as err:
        proc = subprocess.Popen(cmd, stderr=err)
        while proc.poll() is None:
            time.sleep(2)
            if proc.poll() is None:
                print("      %3d s  %s" % (time.monotonic() - t0,
                                          last_line(serial)), flush=True)
            if time.monotonic() - t0 > 600:
                proc.kill()
                sys.exit("demo: the guest did not power off in 10 minutes; "
                         "see %s" % serial)
    with open(os.path.join(out, "qemu-stderr.txt")) as f:
        for line in f:
            print("      qemu: " + line.rstrip())
    if proc.returncode != 0:
        sys.exit("demo: QEMU exited with status %d; see %s"
                 % (proc.returncode, out))
    print("      the guest powered off after %.1f s" %
          (time.monotonic() - t0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--out", help="output folder (default BUILD/demo)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    out = os.path.abspath(args.out or os.path.join(build, "demo"))
    kernel = htkernel.kernel_image()
    if not kernel:
        sys.exit("demo: no Debian kernel in /boot: apt-get install "
                 "linux-image-amd64")
    step(1, "symbols of %s" % kernel)
    sysmap = htkernel.kernel_symbols(build, kernel,
                                     log=lambda m: print("      " + m))
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    kvm, why_not = htaccel.kvm_usable(
        os.path.join(build, "qemu-system-x86_64"), os.path.join(build, "ours"),
        seconds=5)
    accel = "kvm" if kvm else "tcg"
    accelerator = "KVM" if kvm else "TCG (%s)" % why_not
    step(2, "booting it under %s with probes on %s, sampled at %d Hz"
         % (accelerator, ", ".join(PROBES), SAMPLE_HZ))
    boot(build, kernel, sysmap, out, accel)
    step(3, "analyzing the trace with scripts/htboot.py")
    try:
        report = htboot.analyze(
            htboot.load_trace(os.path.join(out, "trace.simple"), build),
            htboot.load_symbols(sysmap),
            htboot.load_user_symbols([os.path.join(build, "ours",
                                                   "userboot")]))
    except htboot.Error as e:
        sys.exit("demo: %s" % e)
    report["accelerator"] = accelerator
    text = htboot.render_text(report)
    htboot.write_outputs(out, report, text)
    step(4, "the boot report\n")
    sys.stdout.write(text)
    print("\nin %s:" % out)
    for name, what in (("report.txt", "the report above"),
                       ("report.json", "the same, for programs"),
                       ("boot.svg", "the boot's timeline picture"),
                       ("flame.svg", "the flame graph of the samples"),
                       ("folded.txt", "their folded stacks, for other "
                                      "flame graph tools"),
                       ("trace.simple", "the raw trace (simpletrace)"),
                       ("console.txt", "the guest's console")):
        print("  %-13s %s" % (name, what))
    print("analyze it again: scripts/htboot.py %s --symbols %s"
          % (os.path.join(out, "trace.simple"), sysmap))
    print("compare boots:    scripts/htboot.py diff BASE_TRACE... --vs "
          "NEW_TRACE... --symbols %s" % sysmap)


if __name__ == "__main__":
    main()
