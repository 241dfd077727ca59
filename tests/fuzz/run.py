#!/usr/bin/python3
"""make fuzz: QEMU's generic fuzzer (libFuzzer) on the hypertrace device.

Drives the control BAR, the data BAR and PCI config space with random
qtest-style operations (QEMU_FUZZ_OBJECTS names our memory regions), under
ASan. Prints executions, executions per second, libFuzzer's coverage and
any crash; exits 1 if one was found. Hypercalls are not reached: the
qtest accelerator runs no guest code.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=600)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    fuzzer = os.path.join(build, "qemu-build-fuzz", "qemu-fuzz-i386")
    work = os.path.join(build, "fuzz")
    corpus = os.path.join(work, "corpus")
    os.makedirs(corpus, exist_ok=True)
    for seed in glob.glob(os.path.join(TOP, "tests", "fuzz", "corpus", "*")):
        shutil.copy(seed, corpus)
    env = dict(os.environ,
               QEMU_FUZZ_ARGS="-L /usr/share/seabios -L /usr/share/qemu "
                              "-L /usr/lib/ipxe/qemu -smp 2 "
                              "-device hypertrace,ring-size=16,"
                              "drain-budget=4",
               QEMU_FUZZ_OBJECTS="hypertrace*",
               ASAN_OPTIONS="detect_leaks=0")
    cmd = [fuzzer, "--fuzz-target=generic-fuzz",
           "-max_total_time=%d" % args.seconds, "-print_final_stats=1",
           "-artifact_prefix=" + work + "/", corpus]
    print("running:", " ".join(cmd))
    log_path = os.path.join(work, "fuzz.log")
    with open(log_path, "w") as log:
        status = subprocess.call(cmd, env=env, stdout=log,
                                 stderr=subprocess.STDOUT, cwd=work)
    text = open(log_path, errors="replace").read()
    execs = re.findall(r"stat::number_of_executed_units: (\d+)", text)
    rate = re.findall(r"stat::average_exec_per_sec:\s+(\d+)", text)
    cov = re.findall(r" cov: (\d+) ft: (\d+)", text)
    crashes = sorted(glob.glob(os.path.join(work, "crash-*")) +
                     glob.glob(os.path.join(work, "timeout-*")) +
                     glob.glob(os.path.join(work, "oom-*")))
    print("executions: %s, per second: %s, coverage (edges, features): %s"
          % (execs[-1] if execs else "?", rate[-1] if rate else "?",
             "%s, %s" % cov[-1] if cov else "?"))
    reports = (text.count("ERROR: AddressSanitizer") +
               text.count("runtime error:"))
    print("sanitizer reports: %d" % reports)
    print("crashes, hangs, OOMs: %d %s" % (len(crashes), " ".join(crashes)))
    print("log: " + log_path)
    sys.exit(1 if crashes or reports or status != 0 else 0)


if __name__ == "__main__":
    main()
