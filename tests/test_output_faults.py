"""The trace file's disk fills up: QEMU says so once, counts the records
it lost, and the guest runs to its end."""

import os
import re
import subprocess
import tempfile

from htlib import Skip, check, check_eq, run_guest


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
    check_eq(run.status, 1, "the guest ran to its end\n" + run.stderr[-2000:])
    check("bench: done" in run.serial, run.serial)
    errors = re.findall(r"qemu: cannot write trace file .*: No space left on "
                        r"device; trace records are being lost and counted",
                        run.stderr)
    check_eq(len(errors), 1, "write error reports\n" + run.stderr[-2000:])
    lost = re.findall(r"qemu: (\d+) trace records lost: trace file .* could "
                      r"not be written", run.stderr)
    check_eq(len(lost), 1, "lost-records report")
    check(int(lost[0]) > 60000, "lost %s records of about 80,000" % lost[0])
