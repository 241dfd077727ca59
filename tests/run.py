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


def run_qtest(name, results):
    binary = os.path.join(htlib.QBUILD, "tests", "qtest", name)
    env = dict(os.environ, QTEST_QEMU_BINARY=htlib.QEMU,
               QTEST_QEMU_IMG=os.path.join(htlib.QBUILD, "qemu-img"))
    start = time.time()
    proc = subprocess.run([binary, "--tap", "-k"], env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=600)
    seen = 0
    for line in proc.stdout.splitlines():
        if line.startswith("ok ") or line.startswith("not ok "):
            seen += 1
            passed = line.startswith("ok ")
            label = "qtest " + line.split(" ", 3)[-1]
            results.append((label, "PASS" if passed else "FAIL",
                            "" if passed else proc.stdout[-3000:]))
    if proc.returncode != 0 and not any(r[1] == "FAIL" for r in results):
        results.append(("qtest " + name, "FAIL",
                        "exit %d\n%s" % (proc.returncode, proc.stdout[-3000:])))
    if seen == 0:
        results.append(("qtest " + name, "FAIL", "no TAP output"))
    print("  (%s: %d subtests in %.1f s)" % (name, seen, time.time() - start))


def load_modules(pattern):
    for fname in sorted(os.listdir(HERE)):
        if fname.startswith("test_") and fname.endswith(".py"):
            if pattern and pattern not in fname:
                continue
            spec = importlib.util.spec_from_file_location(
                fname[:-3], os.path.join(HERE, fname))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            yield mod


def run_python_tests(pattern, results):
    for mod in load_modules(pattern):
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
    ap.add_argument("-k", dest="pattern", default="",
                    help="only test files whose name contains this")
    args = ap.parse_args()
    htlib.set_build(args.build)

    results = []
    if not args.pattern or "qtest" in args.pattern:
        qresults = []
        run_qtest("hypertrace-test", qresults)
        for r in qresults:
            report(*r)
        results += qresults
    run_python_tests(args.pattern if args.pattern != "qtest" else "-",
                     results)

    passed = sum(1 for r in results if r[1] == "PASS")
    failed = sum(1 for r in results if r[1] == "FAIL")
    skipped = sum(1 for r in results if r[1] == "SKIP")
    tail = ", %d skipped" % skipped if skipped else ""
    print("%d passed, %d failed%s" % (passed, failed, tail))
    sys.exit(1 if failed or not results else 0)


if __name__ == "__main__":
    main()
