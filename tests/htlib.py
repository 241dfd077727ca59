"""Helpers shared by the hypertrace tests: paths, running QEMU, traces."""

import atexit
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = QBUILD = QEMU = GUESTS = None


class Skip(Exception):
    """Raised by a test that cannot run on this machine, with the reason."""


def set_build(build, qemu_build=None):
    global BUILD, QBUILD, QEMU, GUESTS
    BUILD = os.path.abspath(build)
    QBUILD = os.path.abspath(qemu_build or os.path.join(BUILD, "qemu-build"))
    QEMU = os.path.join(QBUILD, "qemu-system-x86_64")
    GUESTS = os.path.join(BUILD, "ours")
    sys.path.insert(0, os.path.join(TOP, "scripts"))


set_build(os.environ.get("HYPERTRACE_BUILD", os.path.join(TOP, "build")))


def linux_kernel():
    """Debian's newest kernel in /boot: the Linux tests' guest."""
    import htkernel
    image = htkernel.kernel_image()
    if not image:
        raise Skip("no Debian kernel in /boot (package linux-image-amd64)")
    return image


def nm(binary):
    """nm's listing of @binary: 'ADDRESS TYPE NAME' lines, a System.map."""
    return subprocess.run(["nm", binary], check=True, text=True,
                          stdout=subprocess.PIPE).stdout


def nm_symbols(binary):
    """(address, name) of every symbol nm lists with an address."""
    fields = map(str.split, nm(binary).splitlines())
    return [(int(f[0], 16), f[2]) for f in fields if len(f) == 3]


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


def scratch_dir():
    """A folder in /tmp that lives until the test process exits: a run's
    trace is read after run_guest returns."""
    path = tempfile.mkdtemp(prefix="ht-")
    if not _scratch_dirs:
        atexit.register(lambda: [shutil.rmtree(d, ignore_errors=True)
                                 for d in _scratch_dirs])
    _scratch_dirs.append(path)
    return path


_scratch_dirs = []


def run_guest(kernel, qemu_args=(), device="hypertrace", timeout=120,
              trace_events="hypertrace_*", machine="pc", log="/dev/null",
              trace_file=None, reboot=False, wrapper=()):
    """Boot a guest under TCG (unless qemu_args name an -accel; KVM runs
    through htkvm) with the simple backend: a multiboot test guest by
    name, or any kernel by absolute path.  @wrapper: a command that runs
    QEMU (taskset, chrt)."""
    tmp = scratch_dir()
    trace = trace_file or os.path.join(tmp, "trace.bin")
    serial = os.path.join(tmp, "serial.txt")
    accel = [] if "-accel" in qemu_args else ["-accel", "tcg"]
    cmd = list(wrapper) + [QEMU, "-M", machine] + accel + ["-m", "256",
           "-display", "none", "-nodefaults",
           "-serial", "file:" + serial,
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-kernel", os.path.join(GUESTS, kernel),
           "-trace", "enable=%s,file=%s" % (trace_events, trace),
           "-D", log]
    if not reboot:
        cmd += ["-no-reboot"]
    if device:
        cmd += ["-device", device]
    cmd += list(qemu_args)
    t0 = time.monotonic_ns()
    if uses_kvm(cmd):
        import htkvm
        status, _out, err = htkvm.run(cmd, timeout)
    else:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              timeout=timeout)
        status, err = proc.returncode, proc.stderr
    t1 = time.monotonic_ns()
    with open(serial, errors="replace") as f:
        out = f.read()
    return Run(status, out, err, trace, t0, t1)


def abi(name):
    """A constant of the ABI header, include/hypertrace/abi.h."""
    with open(os.path.join(TOP, "include", "hypertrace", "abi.h")) as f:
        for line in f:
            words = line.split()
            if words[:2] == ["#define", name]:
                return int(words[2].rstrip("uUlL"), 0)
    raise KeyError(name)


def uses_kvm(cmd):
    """Whether a QEMU command line asks for KVM: it then runs through
    htkvm, on /dev/kvm or nested."""
    return any(a == "-accel" and b.split(",")[0] == "kvm"
               for a, b in zip(cmd, cmd[1:]))


def qemu_output(args, stdin=None, timeout=60):
    # the simple backend writes trace-PID into the current directory
    proc = subprocess.run([QEMU] + list(args), input=stdin, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout, cwd=scratch_dir())
    return proc.returncode, proc.stdout


_sanitized = {}


def sanitized():
    """Whether QEMU is an ASan build (check-sanitize): several times
    slower, so nested runs get more time."""
    if QEMU not in _sanitized:
        out = subprocess.run(["readelf", "-d", QEMU], text=True,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL).stdout
        _sanitized[QEMU] = "libasan" in out
    return _sanitized[QEMU]


# ASan's notice, printed once, that QEMU's coroutines switch stacks
ASAN_COROUTINE_NOTICE = re.compile(
    r"^==\d+==WARNING: ASan doesn't fully support makecontext/swapcontext "
    r"functions and may produce false positives in some cases!\n", re.M)


def qemu_messages(stderr):
    """What QEMU said on stderr, less a sanitizer build's notices (its
    reports stay)."""
    return ASAN_COROUTINE_NOTICE.sub("", stderr)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def check_eq(got, want, what):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


class Qmp:
    """A QMP connection on a Unix socket, waiting for QEMU to create it."""

    def __init__(self, path, timeout=30):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise AssertionError("no QMP socket " + path)
                time.sleep(0.05)
        self.f = self.sock.makefile("rw")
        json.loads(self.f.readline())
        self.command("qmp_capabilities")

    def command(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            reply = json.loads(self.f.readline())
            if "return" in reply or "error" in reply:
                return reply

    def close(self):
        self.sock.close()


def memdev_size(rings, records):
    """The size of a memdev that holds such rings, from the ABI."""
    return int(subprocess.run(
        [os.path.join(BUILD, "ours", "ring-producer"), "--memdev-size",
         str(rings), str(records)], check=True, text=True,
        stdout=subprocess.PIPE).stdout)


class QemuProcess:
    """A QEMU process (self.proc) and its folder (self.tmp), both gone
    when the with block ends."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


class SharedRingVm(QemuProcess):
    """A paused VM whose one ring lives in a shared memdev, with QMP: host
    processes publish records into it (tests/bench/ring-producer)."""

    def __init__(self, device=True, ring_size=4096, fifo=False):
        """@fifo: the trace file is a FIFO; open self.trace before QMP."""
        self.tmp = tempfile.mkdtemp(prefix="ht-vm-", dir="/dev/shm")
        self.shm = os.path.join(self.tmp, "rings")
        self.trace = os.path.join(self.tmp, "trace")
        self.sock = os.path.join(self.tmp, "qmp")
        mem = memdev_size(1, ring_size)
        if fifo:
            os.mkfifo(self.trace)
        self.proc = subprocess.Popen(
            [QEMU, "-M", "pc", "-accel", "tcg", "-m", "64", "-S",
             "-display", "none", "-nodefaults", "-D", "/dev/null",
             "-kernel", os.path.join(GUESTS, "idle.elf"),
             "-object", "memory-backend-file,id=rings,size=%d,mem-path=%s,"
             "share=on" % (mem, self.shm),
             "-device", "hypertrace,memdev=rings,rings=1,ring-size=%d"
             % ring_size if device else "VGA",
             "-trace", "enable=hypertrace_*,file=" + self.trace,
             "-qmp", "unix:%s,server=on,wait=off" % self.sock],
            cwd=self.tmp, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.qmp = None
        if not fifo:
            self.connect()

    def connect(self):
        self.qmp = Qmp(self.sock)

    def hmp(self, line):
        """An HMP command's output."""
        return self.command("human-monitor-command",
                            **{"command-line": line})["return"]

    def command(self, name, **args):
        return self.qmp.command(name, **args)

    def publish(self, n):
        subprocess.run([os.path.join(BUILD, "ours", "ring-producer"),
                        self.shm, "1", str(n), "nowait"], check=True,
                       stdout=subprocess.DEVNULL)

    def finish(self):
        import httrace
        status = self.proc.wait(60)
        self.qmp.close()
        seqs = [a["a0"] for name, _ts, _p, a in
                httrace.read_simpletrace(self.trace, BUILD)
                if name == "hypertrace_event"]
        return status, seqs
