"""KVM for the tests: /dev/kvm where it runs our guests, and otherwise
KVM nested in a Linux guest that our QEMU runs under TCG with an emulated
AMD-V CPU (-cpu max), as ../shared/notes/facts.md describes.

The nested guest (L1) is Debian's kernel from /boot with a busybox
initramfs holding the KVM and 9p modules from /lib/modules, booted with
tsc=reliable: TCG's TSC is the host's, but L1's clocksource watchdog
would call it unstable, and KVM would then undo an L2 guest's writes to
IA32_TSC within milliseconds (its TSC catch-up), as no stable host
does.  It mounts
the host's / read-only and the host's /tmp read-write over virtio-9p, and
runs each job in a chroot of that mount: the same QEMU binary, libraries,
firmware, guests and absolute paths as on the host, so a test builds one
command line and runs it either way.  Its output files land in the host's
/tmp.  One L1 serves a whole test run; jobs run one at a time.
"""

import atexit
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import htlib

L1_MEMORY = "3072"
L1_BOOT_TIMEOUT = 300       # seconds, on a busy 2-core host
L1_MODULES = ("kvm-amd", "virtio_pci", "9pnet_virtio", "9p")
SLOWDOWN = 4                # nested KVM against the host's timeouts
SANITIZER_SLOWDOWN = 3      # and an ASan build of the QEMU under test

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
fail() { echo "nested: failed: $*"; poweroff -f; }
for m in $(cat /modules.order); do
    args=
    case $m in kvm-amd.ko) args="nested=1 npt=1" ;; esac
    insmod /modules/$m $args || fail "insmod $m"
done
[ -c /dev/kvm ] || fail "no /dev/kvm after loading kvm-amd (is SVM there?)"
mkdir -p /host
mount -t 9p -o trans=virtio,version=9p2000.L,ro hostroot /host ||
    fail "mount the host's root over 9p"
mount -t 9p -o trans=virtio,version=9p2000.L hosttmp /host/tmp ||
    fail "mount the host's /tmp over 9p"
mount -t devtmpfs dev /host/dev
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t tracefs tracefs /host/sys/kernel/tracing
# the exits that tell an emulation failure under L1 (see JOB)
echo 'exit_reason == 127 || exit_reason == 70' \
    > /host/sys/kernel/tracing/events/kvm/kvm_exit/filter &&
    echo 1 > /host/sys/kernel/tracing/events/kvm/kvm_exit/enable ||
    fail "trace KVM's shutdown and #UD exits"
mkdir -p /host/dev/shm && mount -t tmpfs tmpfs /host/dev/shm
jobs=$(sed -n 's/.*ht_jobs=\([^ ]*\).*/\1/p' /proc/cmdline)
echo "nested: ready, jobs in $jobs"
n=1
while :; do
    if [ -e /host$jobs/job-$n.sh ]; then
        chroot /host /bin/sh $jobs/job-$n.sh
        echo $? > /host$jobs/job-$n.rc.tmp
        mv /host$jobs/job-$n.rc.tmp /host$jobs/job-$n.rc
        n=$((n + 1))
    else
        sleep 0.1
    fi
done
"""


def _modules(kernel_version):
    """The .ko files for L1_MODULES and their dependencies, in load
    order, from the host's module tree."""
    paths = []
    for module in L1_MODULES:   # more names would be the first's options
        out = subprocess.run(
            ["modprobe", "-S", kernel_version, "--show-depends", module],
            check=True, text=True, stdout=subprocess.PIPE).stdout
        for line in out.splitlines():
            words = line.split()
            if words and words[0] == "insmod" and words[1] not in paths:
                paths.append(words[1])
    return paths


def _initramfs(kernel_version):
    """build/tests/nested-l1-KV.cpio.gz, made again when this file
    changes."""
    out = os.path.join(htlib.BUILD, "tests", "nested-l1-%s.cpio.gz"
                       % kernel_version)
    if os.path.exists(out) and \
            os.path.getmtime(out) > os.path.getmtime(__file__):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    root = tempfile.mkdtemp(prefix="ht-l1-")
    try:
        mods = os.path.join(root, "modules")
        os.makedirs(mods)
        order = []
        for path in _modules(kernel_version):
            name = os.path.basename(path)
            if path.endswith(".xz"):
                name = name[:-3]
                with open(os.path.join(mods, name), "wb") as f:
                    subprocess.run(["xz", "-dc", path], check=True, stdout=f)
            else:
                shutil.copy(path, os.path.join(mods, name))
            order.append(name)
        with open(os.path.join(root, "modules.order"), "w") as f:
            f.write("\n".join(order) + "\n")
        init = os.path.join(root, "init.sh")
        with open(init, "w") as f:
            f.write(INIT)
        subprocess.run([os.path.join(htlib.TOP, "tests", "linux",
                                     "mkinitramfs.sh"), out + ".tmp", init,
                        os.path.join(root, "modules.order")], check=True)
        # mkinitramfs.sh takes files, not folders: add the modules after
        subprocess.run("cd %s && find modules | cpio -o -H newc --quiet | "
                       "gzip -1 >> %s.tmp" % (root, out), shell=True,
                       check=True)
        os.rename(out + ".tmp", out)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return out


def l1_qemu():
    """The QEMU that emulates L1: the plain build where there is one.  The
    QEMU under test (htlib.QEMU, a sanitizer build in check-sanitize) is
    the one that runs inside L1 with KVM; emulating all of L1 with the
    sanitizers on would slow every nested test several times over."""
    plain = os.path.join(htlib.BUILD, "qemu-build", "qemu-system-x86_64")
    return plain if os.path.exists(plain) else htlib.QEMU


class NestedKvm(htlib.QemuProcess):
    """A running L1 with KVM; run() executes a command line in it."""

    def __init__(self):
        kernel = htlib.linux_kernel()
        version = os.path.basename(kernel)[len("vmlinuz-"):]
        self.tmp = tempfile.mkdtemp(prefix="ht-nested-", dir="/tmp")
        self.console = os.path.join(self.tmp, "console")
        self.jobs = 0
        self.proc = subprocess.Popen(
            [l1_qemu(), "-M", "pc", "-accel", "tcg", "-cpu", "max",
             "-smp", "2", "-m", L1_MEMORY, "-display", "none",
             "-nodefaults", "-no-reboot", "-serial", "file:" + self.console,
             "-kernel", kernel, "-initrd", _initramfs(version),
             "-append", "console=ttyS0 panic=-1 rdinit=/init loglevel=4 "
             "tsc=reliable "
             "ht_jobs=" + self.tmp,
             "-virtfs", "local,path=/,mount_tag=hostroot,"
             "security_model=none,readonly=on,multidevs=remap",
             "-virtfs", "local,path=/tmp,mount_tag=hosttmp,"
             "security_model=none,multidevs=remap"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + L1_BOOT_TIMEOUT
        while True:
            text = self.console_text()
            if "nested: ready" in text:
                return
            failed = [line for line in text.splitlines()
                      if line.startswith("nested: failed")]
            if failed or self.proc.poll() is not None or \
                    time.monotonic() > deadline:
                self.close()
                raise htlib.Skip("KVM: no /dev/kvm that runs our guests, "
                                 "and nesting failed: %s; L1's console "
                                 "ends:\n%s" % (
                                     failed[0] if failed else
                                     "L1 did not come up",
                                     "\n".join(text.splitlines()[-15:])))
            time.sleep(0.2)

    def console_text(self):
        return read_text(self.console)

    def run(self, argv, timeout):
        """Run @argv in L1; (exit status, stdout, stderr).  Raises
        EmulationFailure where L1's KVM saw the guest fail in a way that
        only the emulated AMD-V under L1 causes."""
        self.jobs += 1
        base = os.path.join(self.tmp, "job-%d" % self.jobs)
        with open(base + ".sh.tmp", "w") as f:
            # a job that hangs is killed in L1, and the next one runs
            f.write(JOB % {
                "dir": shlex.quote(os.getcwd()), "base": base,
                "timeout": timeout * slowdown(),
                "argv": " ".join(shlex.quote(a) for a in argv)})
        os.rename(base + ".sh.tmp", base + ".sh")
        deadline = time.monotonic() + timeout * slowdown() + 30
        while not os.path.exists(base + ".rc"):
            if self.proc.poll() is not None:
                raise L1Ended(
                    "the nested KVM host (L1) ended, status %d:\n%s%s" % (
                        self.proc.returncode, self.proc.stderr.read(),
                        self.console_text()[-3000:]))
            if time.monotonic() > deadline:
                self.timed_out(argv, timeout, base)
            time.sleep(0.05)
        with open(base + ".rc") as f:
            status = int(f.read())
        failure = emulation_failure(base, status == 128 + 9)
        if failure:
            raise EmulationFailure(failure)
        if status == 128 + 9:
            self.timed_out(argv, timeout, base)
        return status, read_text(base + ".out"), read_text(base + ".err")

    def timed_out(self, argv, timeout, base):
        raise AssertionError(
            "%s\ntimed out after %d s in the nested KVM host (L1); its "
            "stderr:\n%s\nL1's console ends:\n%s" % (
                " ".join(argv), timeout * slowdown(),
                read_text(base + ".err")[-2000:],
                self.console_text()[-2000:]))

    def close(self):
        self.__exit__(None, None, None)


# A job: its command, then the count of the L2 exits that L1's KVM traced
# (INIT's filter: shutdown, #UD) while it ran.
JOB = """cd %(dir)s
echo > /sys/kernel/tracing/trace
timeout -s KILL %(timeout)d %(argv)s >%(base)s.out 2>%(base)s.err </dev/null
rc=$?
grep -c 'reason shutdown' /sys/kernel/tracing/trace >%(base)s.shutdowns
grep -c 'reason UD' /sys/kernel/tracing/trace >%(base)s.uds
exit $rc
"""

# #UD exits of a job that hung: a vCPU stuck re-running one instruction
STUCK_UD_EXITS = 1000


class L1Ended(AssertionError):
    """L1 itself stopped."""


class EmulationFailure(AssertionError):
    """The emulated AMD-V under L1 failed a job's guest."""


def emulation_failure(base, hung):
    """Why the job at @base failed below its guest, or None.  TCG's
    emulated AMD-V (L0) now and then runs an L2 with state that is not
    the L2's (QEMU 10.0, about one run in 10 to 15 of 8,000 hardware
    breakpoint exits; README.md, Tests): its page walks then fail
    everywhere and the vCPU triple-faults below the guest's own IDT, or
    it loops on a #UD in the firmware.  No guest of ours does either."""
    def count(suffix):
        text = read_text(base + suffix).strip()
        return int(text) if text.isdigit() else 0

    if count(".shutdowns"):
        return "L1's KVM saw a vCPU of the nested guest shut down " \
            "(triple fault)"
    if hung and count(".uds") >= STUCK_UD_EXITS:
        return "L1's KVM saw a vCPU of the nested guest hang, " \
            "re-running an instruction that raised #UD %d times" % \
            count(".uds")
    return None


def slowdown():
    """How much longer than on the host a nested run may take."""
    return SLOWDOWN * (SANITIZER_SLOWDOWN if htlib.sanitized() else 1)


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def _direct_kvm_works():
    """Whether this host's /dev/kvm runs our guests in every CPU mode."""
    import htaccel
    return htaccel.kvm_usable(htlib.QEMU, htlib.GUESTS)[0]


_runner = None


def runner():
    """The way KVM runs here: None for /dev/kvm, or the nested L1.  Raises
    Skip, with the reason, where neither works (again at each call)."""
    global _runner
    if _runner is None:
        if _direct_kvm_works():
            _runner = "direct"
        else:
            _runner = NestedKvm()
            atexit.register(_runner.close)
    return None if _runner == "direct" else _runner


def run(argv, timeout):
    """Run a QEMU command line that uses -accel kvm: (status, out, err).
    Nested, a run that the emulation under L1 failed, or that L1 died in,
    runs once more, in a new L1 if need be, and says so on stderr."""
    global _runner
    nested = runner()
    if nested:
        try:
            return nested.run(argv, timeout)
        except (EmulationFailure, L1Ended) as e:
            # all of it: L1's death says why only in its console
            sys.stderr.write("nested KVM: %s\nnested KVM: running it once "
                             "more\n" % e)
            if isinstance(e, L1Ended):
                nested.close()
                _runner = None
                nested = runner()
        return nested.run(argv, timeout)
    proc = subprocess.run(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def describe():
    """How KVM runs in this test run, for messages."""
    nested = runner()
    return "nested KVM in a TCG guest (emulated AMD-V)" if nested else \
        "/dev/kvm"
