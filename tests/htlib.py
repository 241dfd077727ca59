"""Helpers shared by the hypertrace tests: paths, running QEMU, traces."""

import os
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = QBUILD = QEMU = GUESTS = None


class Skip(Exception):
    """Raised by a test that cannot run on this machine, with the reason."""


def set_build(build):
    global BUILD, QBUILD, QEMU, GUESTS
    BUILD = os.path.abspath(build)
    QBUILD = os.path.join(BUILD, "qemu-build")
    QEMU = os.path.join(BUILD, "qemu-system-x86_64")
    GUESTS = os.path.join(BUILD, "ours", "tests", "guest")
    sys.path.insert(0, os.path.join(TOP, "scripts"))


set_build(os.environ.get("HYPERTRACE_BUILD", os.path.join(TOP, "build")))


def mount_tracefs():
    """Mount tracefs where the kernel expects it, if we may and it is not."""
    path = "/sys/kernel/tracing"
    if os.path.isdir(path) and not os.listdir(path) and os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tracefs", "nodev", path],
                       stderr=subprocess.DEVNULL)


class Run:
    """The outcome of one QEMU run."""

    def __init__(self, status, serial, stderr, trace, t0, t1):
        self.status, self.serial, self.stderr = status, serial, stderr
        self.trace_file, self.t0, self.t1 = trace, t0, t1

    def events(self, prefix="hypertrace_"):
        import httrace
        return [e for e in httrace.read_simpletrace(self.trace_file, BUILD)
                if e[0].startswith(prefix)]


def run_guest(kernel, qemu_args=(), device="hypertrace", timeout=120,
              trace_events="hypertrace_*", machine="pc", log="/dev/null"):
    """Boot a multiboot test guest under TCG with the simple backend."""
    tmp = tempfile.mkdtemp(prefix="ht-")
    trace = os.path.join(tmp, "trace.bin")
    serial = os.path.join(tmp, "serial.txt")
    cmd = [QEMU, "-M", machine, "-accel", "tcg", "-m", "256",
           "-display", "none", "-no-reboot", "-nodefaults",
           "-serial", "file:" + serial,
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-kernel", os.path.join(GUESTS, kernel),
           "-trace", "enable=%s,file=%s" % (trace_events, trace),
           "-D", log]
    if device:
        cmd += ["-device", device]
    cmd += list(qemu_args)
    t0 = time.monotonic_ns()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout)
    t1 = time.monotonic_ns()
    with open(serial, errors="replace") as f:
        out = f.read()
    return Run(proc.returncode, out, proc.stderr, trace, t0, t1)


def qemu_output(args, stdin=None, timeout=60):
    # the simple backend writes trace-PID into the current directory
    proc = subprocess.run([QEMU] + list(args), input=stdin, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout, cwd=tempfile.mkdtemp(prefix="ht-"))
    return proc.returncode, proc.stdout


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def check_eq(got, want, what):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))
