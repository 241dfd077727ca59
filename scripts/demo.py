#!/usr/bin/python3
"""make demo: where does a Linux boot's time go?

Boots Debian's bookworm kernel (unmodified, KASLR on) with a busybox
initramfs, under KVM where /dev/kvm runs our guests, else under TCG.
hypertrace probes do_one_initcall and a few milestones from the host,
samples the vCPU 1000 times a second, and /init's program reports its
functions through libhypertrace's hooks (the device's ring, as root).
The trace goes to the simple backend; scripts/htboot.py, the analyzer
users run on their own traces, turns it into the report.

With --diff N (make demo-diff) it boots N times as above and N times
without "quiet" on the kernel command line (a console that got chatty),
and shows what `htboot.py diff` finds between the two sets.
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
import htdecompressor  # noqa: E402
import htdiff  # noqa: E402
import htkernel  # noqa: E402

PROBES = ["do_one_initcall", "start_kernel", "do_populate_rootfs",
          "run_init_process"]
SAMPLE_HZ = 1000
APPEND = "console=ttyS0 panic=-1 rdinit=/init quiet"
APPEND_CHATTY = "console=ttyS0 panic=-1 rdinit=/init"


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


def boot(build, kernel, sysmap, out, accel, append=APPEND, progress=True):
    """Run QEMU, showing the guest's console as it goes."""
    serial = os.path.join(out, "console.txt")
    cmd = [os.path.join(build, "qemu-system-x86_64"), "-M", "pc",
           "-accel", accel, "-m", "512", "-display", "none", "-nodefaults",
           "-no-reboot", "-serial", "file:" + serial, "-kernel", kernel,
           "-initrd", os.path.join(build, "ours", "initramfs-demo.cpio.gz"),
           "-append", append,
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
            try:
                proc.wait(2)
            except subprocess.TimeoutExpired:
                pass
            if progress and proc.poll() is None:
                print("      %3d s  %s" % (time.monotonic() - t0,
                                          last_line(serial)), flush=True)
            if time.monotonic() - t0 > 600:
                proc.kill()
                sys.exit("demo: the guest did not power off in 10 minutes; "
                         "see %s" % serial)
    with open(os.path.join(out, "qemu-stderr.txt")) as f:
        for line in f:
            if progress or proc.returncode:
                print("      qemu: " + line.rstrip())
    if proc.returncode != 0:
        sys.exit("demo: QEMU exited with status %d; see %s"
                 % (proc.returncode, out))
    if progress:
        print("      the guest powered off after %.1f s" %
              (time.monotonic() - t0))


def boot_diff(build, kernel, symbols, out, accel, runs):
    """Boot @runs times with APPEND and @runs times with APPEND_CHATTY,
    alternated so that host load falls on both sides; then diff them."""
    traces = {"base": [], "new": []}
    for i in range(runs):
        for side, append in (("base", APPEND), ("new", APPEND_CHATTY)):
            run_out = os.path.join(out, "%s-%d" % (side, i + 1))
            os.makedirs(run_out)
            t0 = time.monotonic()
            boot(build, kernel, symbols[0], run_out, accel, append, False)
            print("      %s run %d of %d: %.1f s" % (
                side, i + 1, runs, time.monotonic() - t0), flush=True)
            traces[side].append(os.path.join(run_out, "trace.simple"))
    argv = (traces["base"] + ["--vs"] + traces["new"] +
            sum((["--symbols", p] for p in symbols), []) +
            ["--build", build, "--top", "12"])
    step(3, "comparing the two sets: scripts/htboot.py diff %s" % " ".join(
        os.path.relpath(a, out) if a.startswith(out) else a for a in argv))
    step(4, "what changed\n")
    status = htdiff.main(argv)
    print("\nexit status %d: %s" % (status, {
        0: "no significant slowdown", 1: "a significant slowdown",
        2: "bad input"}[status]))
    if status == 2:
        sys.exit("demo: the diff failed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--out", help="output folder (default BUILD/demo, "
                    "BUILD/demo-diff with --diff)")
    ap.add_argument("--diff", type=int, metavar="N",
                    help="boot N times quiet and N times chatty, and diff "
                    "them (N >= 4 for the rank test to decide)")
    args = ap.parse_args()
    if args.diff is not None and args.diff < 1:
        ap.error("--diff needs N >= 1")
    build = os.path.abspath(args.build)
    out = os.path.abspath(args.out or os.path.join(
        build, "demo-diff" if args.diff else "demo"))
    kernel = htkernel.kernel_image()
    if not kernel:
        sys.exit("demo: no Debian kernel in /boot: apt-get install "
                 "linux-image-amd64")
    step(1, "symbols of %s" % kernel)
    sysmap = htkernel.kernel_symbols(build, kernel,
                                     log=lambda m: print("      " + m))
    symbols = [sysmap]
    try:
        symbols.append(htdecompressor.decompressor_symbols(kernel, build))
    except htdecompressor.Error as e:
        print("      its decompressor stays unnamed: %s" % e)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    kvm, why_not = htaccel.kvm_usable(
        os.path.join(build, "qemu-system-x86_64"), os.path.join(build, "ours"),
        seconds=5)
    accel = "kvm" if kvm else "tcg"
    accelerator = "KVM" if kvm else "TCG (%s)" % why_not
    if args.diff:
        step(2, "booting it %d times with \"%s\" and %d times without "
             "\"quiet\", under %s" % (args.diff, APPEND, args.diff,
                                     accelerator))
        boot_diff(build, kernel, symbols, out, accel, args.diff)
        print("\nthe runs are in %s" % out)
        return
    step(2, "booting it under %s with probes on %s, sampled at %d Hz"
         % (accelerator, ", ".join(PROBES), SAMPLE_HZ))
    boot(build, kernel, sysmap, out, accel)
    step(3, "analyzing the trace with scripts/htboot.py")
    try:
        report = htboot.analyze(
            htboot.load_trace(os.path.join(out, "trace.simple"), build),
            htboot.load_symbols(sysmap),
            htboot.load_user_symbols([os.path.join(build, "ours",
                                                   "userboot")]),
            more_symbols=[htboot.load_symbols(p) for p in symbols[1:]])
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
    symbol_args = " ".join("--symbols " + p for p in symbols)
    print("analyze it again: scripts/htboot.py %s %s"
          % (os.path.join(out, "trace.simple"), symbol_args))
    print("compare boots:    scripts/htboot.py diff BASE_TRACE... --vs "
          "NEW_TRACE... %s" % symbol_args)


if __name__ == "__main__":
    main()
