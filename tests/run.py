#!/usr/bin/python3
"""Run every hypertrace test and print 'N passed, N failed[, N skipped]'.

Each test is a function in a module of tests/ named test_*.py, or a qtest
binary whose TAP lines count one test each.  Exit status 1 if any failed.
"""

import argparse
import importlib.util
import os
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import htlib  # noqa: E402


def run_tap(label, argv, env, results):
    """Run a GLib test binary; each TAP line is one test."""
    start = time.time()
    proc = subprocess.run(argv + ["--tap", "-k"], env=dict(os.environ, **env),
                          text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=1200,
                          cwd=htlib.scratch_dir())
    seen = []
    for line in proc.stdout.splitlines():
        if line.startswith("ok ") or line.startswith("not ok "):
            name = "%s %s" % (label, line.split(" ", 3)[-1])
            if line.startswith("not ok "):
                seen.append((name, "FAIL", proc.stdout[-4000:]))
            elif "# SKIP" in line:
                seen.append((name.split(" # SKIP")[0], "SKIP",
                             line.split("# SKIP", 1)[1].strip()))
            else:
                seen.append((name, "PASS", ""))
    if not seen or (proc.returncode != 0 and
                    not any(r[1] == "FAIL" for r in seen)):
        seen.append((label, "FAIL", "exit %d, output:\n%s" %
                     (proc.returncode, proc.stdout[-4000:])))
    for r in seen:
        report(*r)
    print("  (%s: %d tests in %.1f s)" % (label, len(seen), time.time() - start))
    results += seen


def run_binaries(results):
    run_tap("qtest", [os.path.join(htlib.QBUILD, "tests", "qtest",
                                   "hypertrace-test")],
            {"QTEST_QEMU_BINARY": htlib.QEMU,
             "QTEST_QEMU_IMG": os.path.join(htlib.QBUILD, "qemu-img"),
             # make fuzz's seeds and every crash it found, replayed
             "HYPERTRACE_FUZZ_INPUTS": ":".join(
                 os.path.join(HERE, "fuzz", d)
                 for d in ("corpus-hypertrace", "crashes"))},
            results)
    htlib.mount_tracefs()
    run_tap("unit", [os.path.join(htlib.BUILD, "ours", "test-tracepoint")],
            {"HT_TEST_DATA": os.path.join(HERE, "data")}, results)
    run_tap("unit", [os.path.join(htlib.BUILD, "ours", "test-guest-ring")],
            {}, results)


def load_modules(pattern, results):
    """Each test module; one that cannot be loaded is a failure."""
    for fname in sorted(os.listdir(HERE)):
        if fname.startswith("test_") and fname.endswith(".py"):
            if pattern and pattern not in fname:
                continue
            spec = importlib.util.spec_from_file_location(
                fname[:-3], os.path.join(HERE, fname))
            mod = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(mod)
            except Exception:
                results.append((fname, "FAIL", traceback.format_exc()))
                report(fname, "FAIL", traceback.format_exc())
                continue
            yield mod


def run_python_tests(pattern, results):
    for mod in load_modules(pattern, results):
        for name in sorted(n for n in dir(mod) if n.startswith("test_")):
            label = "%s.%s" % (mod.__name__, name)
            start = time.time()
            try:
                getattr(mod, name)()
                status, why = "PASS", ""
            except htlib.Skip as e:
                status, why = "SKIP", str(e)
            except Exception:
                status, why = "FAIL", traceback.format_exc()
            results.append((label, status, why))
            report(label, status, why, time.time() - start)


def report(label, status, why, secs=None):
    timing = "" if secs is None else " (%.1f s)" % secs
    print("%s %s%s" % (status, label, timing), flush=True)
    if why and status != "PASS":
        for line in why.rstrip().splitlines():
            print("    " + line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--qemu-build", default=None,
                    help="QEMU build directory (default BUILD/qemu-build)")
    ap.add_argument("-k", dest="pattern", default="",
                    help="only test files whose name contains this")
    args = ap.parse_args()
    htlib.set_build(args.build, args.qemu_build)

    results = []
    if not args.pattern:
        run_binaries(results)
    run_python_tests(args.pattern, results)

    passed = sum(1 for r in results if r[1] == "PASS")
    failed = sum(1 for r in results if r[1] == "FAIL")
    skipped = sum(1 for r in results if r[1] == "SKIP")
    tail = ", %d skipped" % skipped if skipped else ""
    print("%d passed, %d failed%s" % (passed, failed, tail))
    sys.exit(1 if failed or not results else 0)


if __name__ == "__main__":
    main()
