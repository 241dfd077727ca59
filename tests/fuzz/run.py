#!/usr/bin/python3
"""make fuzz: a libFuzzer campaign (clang, ASan) on the hypertrace device.

The default target, hypertrace-fuzz (tests/qtest/fuzz/hypertrace_fuzz.c),
speaks the device's protocol: registers, ring headers and records in the
data BAR, doorbells, synchronous emits, PCI config, resets, and the
hypercall channel's entry. --target generic-fuzz runs QEMU's generic
fuzzer instead (MMIO and config only: it never writes the data BAR).

Prints executions, executions per second, coverage (libFuzzer's, and the
edges of hw/hypertrace/ that the campaign reached) and any crash, hang or
sanitizer report; exits 1 if there is one. Crash inputs are copied to
tests/fuzz/crashes/, which make check replays.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIRMWARE = "-L /usr/share/seabios -L /usr/share/qemu -L /usr/lib/ipxe/qemu"
TARGETS = {
    "hypertrace-fuzz": ("corpus-hypertrace", {}),
    "generic-fuzz": ("corpus", {
        "QEMU_FUZZ_ARGS": FIRMWARE + " -smp 2 -device hypertrace,"
                          "ring-size=16,drain-budget=4",
        "QEMU_FUZZ_OBJECTS": "hypertrace*"}),
}
COVERED = re.compile(r"^(?:UN)?COVERED_FUNC: hits: \d+ edges: (\d+)/(\d+) "
                     r"\S+ (\S+):\d+", re.M)


def device_coverage(text):
    """{file: [edges reached, edges]} of hw/hypertrace/, from
    -print_coverage.  Code that ran before the first input (realize,
    class init) counts as not reached."""
    files = {}
    for hit, edges, path in COVERED.findall(text):
        if "/hw/hypertrace/" in path:
            count = files.setdefault(path.split("/hw/hypertrace/")[1], [0, 0])
            count[0] += int(hit)
            count[1] += int(edges)
    return files


def findings(work):
    """The inputs libFuzzer kept for crashes, hangs and OOMs."""
    return [path for kind in ("crash", "timeout", "oom")
            for path in glob.glob(os.path.join(work, kind + "-*"))]


def campaign(fuzzer, target, seconds, work):
    corpus_dir, env = TARGETS[target]
    corpus = os.path.join(work, corpus_dir)
    os.makedirs(corpus, exist_ok=True)
    for seed in glob.glob(os.path.join(TOP, "tests", "fuzz", corpus_dir, "*")):
        shutil.copy(seed, corpus)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", **env)
    env.setdefault("QEMU_FUZZ_ARGS", FIRMWARE)
    cmd = [fuzzer, "--fuzz-target=" + target,
           "-max_total_time=%d" % seconds, "-print_final_stats=1",
           "-print_coverage=1", "-artifact_prefix=" + work + "/", corpus]
    print("running:", " ".join(cmd), flush=True)
    log_path = os.path.join(work, target + ".log")
    with open(log_path, "w") as log:
        status = subprocess.call(cmd, env=env, stdout=log,
                                 stderr=subprocess.STDOUT, cwd=work)
    return status, open(log_path, errors="replace").read(), log_path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--target", choices=sorted(TARGETS),
                    default="hypertrace-fuzz")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    fuzzer = os.path.join(build, "qemu-build-fuzz", "qemu-fuzz-i386")
    work = os.path.join(build, "fuzz")
    os.makedirs(work, exist_ok=True)
    before = set(findings(work))
    status, text, log_path = campaign(fuzzer, args.target, args.seconds,
                                      work)
    execs = re.findall(r"stat::number_of_executed_units: (\d+)", text)
    rate = re.findall(r"stat::average_exec_per_sec:\s+(\d+)", text)
    cov = re.findall(r" cov: (\d+) ft: (\d+)", text)
    files = device_coverage(text)
    reached = sum(c[0] for c in files.values())
    total = sum(c[1] for c in files.values())
    crashes = sorted(set(findings(work)) - before)
    print("target %s, %d s: executions %s, per second %s" % (
        args.target, args.seconds, execs[-1] if execs else "?",
        rate[-1] if rate else "?"))
    print("coverage: libFuzzer %s; hw/hypertrace/ edges %d of %d (%.0f%%)"
          % ("cov %s, ft %s" % cov[-1] if cov else "?", reached, total,
             100.0 * reached / total if total else 0))
    for name, (hit, edges) in sorted(files.items()):
        print("  %-22s %5d of %5d edges" % (name, hit, edges))
    reports = (text.count("ERROR: AddressSanitizer") +
               text.count("runtime error:"))
    print("sanitizer reports: %d" % reports)
    print("crashes, hangs, OOMs: %d %s" % (len(crashes), " ".join(crashes)))
    for crash in crashes:
        shutil.copy(crash, os.path.join(TOP, "tests", "fuzz", "crashes"))
    if crashes:
        print("copied to tests/fuzz/crashes/: make check replays them")
    print("log: " + log_path)
    sys.exit(1 if crashes or reports or status != 0 else 0)


if __name__ == "__main__":
    main()
