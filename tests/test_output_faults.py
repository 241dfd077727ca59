"""The trace file's disk fills up, or the file becomes unwritable: QEMU
says so once, counts the records it lost, and the guest runs to its
end."""

import os
import re
import shutil
import struct
import subprocess
import tempfile

import htlib
import httrace
from htlib import Skip, check, check_eq, run_guest


# bench.c: three loops of 20,000 records, five phase markers and the
# sync of its open; the boot adds three milestones
BENCH_RECORDS = 3 * 20000 + 6 + 3
# the simple backend's buffer (256 KiB) over its smallest record (32 bytes)
RECORDS_PER_BUFFER = 256 * 1024 // 32
# a pipe's default capacity (64 KiB) over that record
PIPE_RECORDS = 64 * 1024 // 32


def check_reported(run, error):
    """The bench guest ran to its end; the write error was reported once
    and the lost records counted at exit.  Returns that count."""
    check_eq(run.status, 1, "the guest ran to its end\n" + run.stderr[-2000:])
    check("bench: done" in run.serial, run.serial)
    errors = re.findall(r"warning: cannot write trace file .*: %s; trace "
                        r"records are being lost" % error, run.stderr)
    check_eq(len(errors), 1, "write error reports\n" + run.stderr[-2000:])
    lost = re.findall(r"warning: (\d+) trace records lost: trace file .* "
                      r"could not be written", run.stderr)
    check_eq(len(lost), 1, "lost-records report\n" + run.stderr[-2000:])
    return int(lost[0])


def records_in(trace):
    """The whole records in a trace file that was cut short, and the
    drops that its drop notices count."""
    kept, dropped = 0, 0
    records = httrace.read_simpletrace(trace, htlib.BUILD)
    while True:
        try:
            name, _t, _p, args = next(records)
        except StopIteration:
            return kept, dropped
        except (ValueError, struct.error):
            return kept, dropped    # the record cut short
        if name == "dropped":
            dropped += args["num_events_dropped"]
        else:
            kept += 1


def check_accounted(kept, dropped, lost, unseen=0):
    """Every record the guest sent is in the file, in a drop notice that
    reached it, or counted lost, but for @unseen that vanished after a
    write that succeeded.  A run of records whose write failed part way
    is both in the file and counted lost: at most one buffer's worth."""
    accounted = kept + dropped + lost
    check(BENCH_RECORDS - unseen <= accounted <=
          BENCH_RECORDS + RECORDS_PER_BUFFER,
          "%d records kept, %d noted dropped, %d counted lost: %d of the %d "
          "sent" % (kept, dropped, lost, accounted, BENCH_RECORDS))


def test_full_disk():
    if os.geteuid() != 0:
        raise Skip("mounting a small tmpfs needs root")
    mnt = tempfile.mkdtemp(prefix="ht-full-")
    copy = mnt + ".trace"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt],
                   check=True)
    try:
        # the bench guest's 60,000 records take megabytes of trace
        run = run_guest("bench.elf", device="hypertrace,ring-size=32768",
                        trace_file=os.path.join(mnt, "trace"))
        shutil.copyfile(os.path.join(mnt, "trace"), copy)
    finally:
        subprocess.run(["umount", mnt])
    lost = check_reported(run, "No space left on device")
    kept, dropped = records_in(copy)
    check(kept > 5000, "only %d records fit in 1 MiB" % kept)
    check_accounted(kept, dropped, lost)


def test_trace_file_becomes_unwritable():
    """The trace goes to a pipe whose reader quits early: every later
    write fails (EPIPE).  Reported once, counted, and the guest goes on."""
    tmp = tempfile.mkdtemp(prefix="ht-pipe-")
    fifo, copy = os.path.join(tmp, "trace"), os.path.join(tmp, "copy")
    os.mkfifo(fifo)
    # takes the header and the first records, then closes its end
    with open(copy, "wb") as out:
        reader = subprocess.Popen(["head", "-c", "1000000", fifo],
                                  stdout=out)
        try:
            run = run_guest("bench.elf", device="hypertrace,ring-size=32768",
                            trace_file=fifo)
        finally:
            reader.wait(60)
    lost = check_reported(run, "Broken pipe")
    kept, dropped = records_in(copy)
    check(kept > 5000, "only %d records in the first megabyte" % kept)
    # what the pipe held when its reader quit was written, then discarded
    check_accounted(kept, dropped, lost, unseen=PIPE_RECORDS)


def test_trace_file_cannot_be_created():
    """Upstream said nothing and wrote nothing; now it says so."""
    path = "/nonexistent-ht-dir/trace"
    run = run_guest("smoke.elf", trace_file=path)
    check_eq(run.status, 1, "the guest ran to its end\n" + run.stderr)
    check_eq(run.stderr.count(": cannot open trace file %s: No such file "
                              "or directory\n" % path), 1, run.stderr)
