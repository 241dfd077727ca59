"""The trace file's disk fills up, or the file becomes unwritable: QEMU
says so once, counts the records it lost, and the guest runs to its
end."""

import os
import re
import subprocess
import tempfile

from htlib import Skip, check, check_eq, run_guest


def check_reported_and_counted(run, error, least_lost):
    """The bench guest (about 80,000 records) ran to its end; the write
    error was reported once and the lost records counted at exit."""
    check_eq(run.status, 1, "the guest ran to its end\n" + run.stderr[-2000:])
    check("bench: done" in run.serial, run.serial)
    errors = re.findall(r"warning: cannot write trace file .*: %s; trace "
                        r"records are being lost" % error, run.stderr)
    check_eq(len(errors), 1, "write error reports\n" + run.stderr[-2000:])
    lost = re.findall(r"warning: (\d+) trace records lost: trace file .* "
                      r"could not be written", run.stderr)
    check_eq(len(lost), 1, "lost-records report\n" + run.stderr[-2000:])
    check(int(lost[0]) > least_lost, "lost %s records of about 80,000"
          % lost[0])


def test_full_disk():
    if os.geteuid() != 0:
        raise Skip("mounting a small tmpfs needs root")
    mnt = tempfile.mkdtemp(prefix="ht-full-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt],
                   check=True)
    try:
        # the bench guest records about 80,000 events: megabytes of trace
        run = run_guest("bench.elf", device="hypertrace,ring-size=32768",
                        trace_file=os.path.join(mnt, "trace"))
    finally:
        subprocess.run(["umount", mnt])
    # 256 KiB hold about 2,500 records; the backend's own buffer drops
    # some of the rest (10-30% here) when its writer falls behind
    check_reported_and_counted(run, "No space left on device", 40000)


def test_trace_file_becomes_unwritable():
    """The trace goes to a pipe whose reader quits early: every later
    write fails (EPIPE).  Reported once, counted, and the guest goes on."""
    tmp = tempfile.mkdtemp(prefix="ht-pipe-")
    fifo = os.path.join(tmp, "trace")
    os.mkfifo(fifo)
    # reads the header and the first records, then closes its end
    reader = subprocess.Popen(["head", "-c", "1000000", fifo],
                              stdout=subprocess.DEVNULL)
    try:
        run = run_guest("bench.elf", device="hypertrace,ring-size=32768",
                        trace_file=fifo)
    finally:
        reader.kill()
        reader.wait()
    # the reader took at most 1 MB, about 10,000 records; the backend's
    # own buffer drops some of the rest when its writer falls behind
    check_reported_and_counted(run, "Broken pipe", 20000)


def test_trace_file_cannot_be_created():
    """Upstream said nothing and wrote nothing; now it says so."""
    path = "/nonexistent-ht-dir/trace"
    run = run_guest("smoke.elf", trace_file=path)
    check_eq(run.status, 1, "the guest ran to its end\n" + run.stderr)
    check_eq(run.stderr.count(": cannot open trace file %s: No such file "
                              "or directory\n" % path), 1, run.stderr)
