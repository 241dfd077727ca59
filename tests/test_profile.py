"""Sampling (sample-hz), the profile in the boot report, its folded stacks
and flame graph, and the boot diff, on a bare-metal guest whose three
functions cost 1 : 2 : 4 (tests/guest/profile.c)."""

import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

import htlib
from htlib import check, check_eq, run_guest

HTBOOT = os.path.join(htlib.TOP, "scripts", "htboot.py")
COSTS = {"work_small": 1, "work_medium": 2, "work_large": 4}
TOLERANCE_PCT = 5.0     # each share within 5 points of its cost's share
_runs = {}
# SeaBIOS runs from its ROM and shadow (below 1 MiB, aliased below 4 GiB),
# and its init code from a copy near the top of RAM (run_guest's
# 256 MiB): the top sampled range may be any of them, as the load decides
FIRMWARE_CODE = ((0xc0000, 0x100000), (0xfffe0000, 0x100000000),
                 (0xe000000, 0x10000000))


def elf():
    return os.path.join(htlib.GUESTS, "profile.elf")


def profile_run(hz=2000, slow=1, rounds=40, probes="work_*", qemu_args=(),
                **kw):
    device = "hypertrace,symbols=%s,probes=%s" % (elf(), probes)
    if hz:
        device += ",sample-hz=%d" % hz
    run = run_guest("profile.elf", device=device, qemu_args=[
        "-append", "slow=%d rounds=%d" % (slow, rounds)] + list(qemu_args),
        **kw)
    check_eq(run.status, 1, "exit status\n" + run.stderr[-2000:] +
             "\nserial:\n" + run.serial[-2000:])
    check("profile: done" in run.serial, run.serial)
    return run


def sampled_run():
    if "tcg" not in _runs:
        _runs["tcg"] = profile_run()
    return _runs["tcg"]


def report_of(run):
    import htboot
    return htboot.analyze(run.events(""), htboot.load_symbols(elf()))


def check_shares(report):
    """The three functions' shares of their samples match their costs."""
    phase = [p for p in report["profile"]["phases"]
             if p["phase"] == "kernel early"][0]
    counts = {f["function"]: f["samples"] for f in phase["top"]
              if f["function"] in COSTS}
    check_eq(sorted(counts), sorted(COSTS), "sampled work functions")
    total = sum(counts.values())
    check(total > 200, "only %d samples in the work functions" % total)
    for name, cost in COSTS.items():
        share = 100.0 * counts[name] / total
        truth = 100.0 * cost / sum(COSTS.values())
        check(abs(share - truth) <= TOLERANCE_PCT, "%s: %.1f%% of the "
              "samples, its cost is %.1f%% (%r)" % (name, share, truth,
                                                   counts))
    check_eq(phase["top"][0]["function"], "work_large", "top function")


def test_sample_shares_match_the_costs():
    run = sampled_run()
    samples = [a for n, _t, _p, a in run.events() if n == "hypertrace_sample"]
    check_eq({(a["cpu"], a["cpl"]) for a in samples}, {(0, 0)},
             "vCPUs and privilege levels sampled")
    # the reset vector's real mode, the firmware's 32-bit code, the guest
    check_eq({(a["protected_mode"], a["bits"]) for a in samples} >=
             {(0, 16), (1, 32), (1, 64)}, True, "modes sampled")
    check_shares(report_of(run))


def test_unnamed_addresses_stay_addresses():
    """The firmware has no symbols here: its samples are address ranges
    named after the phase, never a guest function's name."""
    profile = report_of(sampled_run())["profile"]
    firmware = [p for p in profile["phases"] if p["phase"] == "firmware"][0]
    top = firmware["top"][0]
    check(top["function"].startswith("firmware (no symbols) 0x"), top)
    lo, hi = (int(x, 16) for x in top["range"].split("-"))
    check_eq(top["function"], "firmware (no symbols) 0x%x-0x%x" % (lo, hi),
             "the range in the name")
    check(lo < hi and any(start <= lo and hi < end
                          for start, end in FIRMWARE_CODE),
          "firmware range %x-%x" % (lo, hi))
    # a vCPU sampled at the guest's entry, about to run its first
    # instruction, is still in the firmware phase: firmware_exit is when
    # that instruction runs
    others = {f["function"] for f in firmware["top"][1:]}
    check_eq({f for f in others if "(no symbols)" not in f} - {"_start"},
             set(), "guest functions sampled in the firmware phase")


def test_same_samples_without_symbols_are_ranges():
    """The same boot analyzed with no symbol table: the guest's code is
    one address range, which holds the three functions, and no sample
    has a name."""
    import htboot
    run = sampled_run()
    syms = htboot.load_symbols(elf())
    report = htboot.analyze(run.events(""), htboot.Symbols())
    phase = [p for p in report["profile"]["phases"]
             if p["phase"] == "kernel early"][0]
    top = phase["top"][0]
    lo, hi = (int(x, 16) for x in top["range"].split("-"))
    check_eq(top["function"], "kernel early (no symbols) 0x%x-0x%x"
             % (lo, hi), "the top function without symbols")
    # the range spans the sampled addresses, which a function's first
    # bytes (run once a call) may not be among: its code meets the range
    code = {name: (start, end) for start, end, name in syms.ranges()}
    for name in COSTS:
        start, end = code[name]
        check(start <= hi and lo < end, "%s at %x-%x is not in %x-%x"
              % (name, start, end, lo, hi))
    check_eq(report["profile"]["named"], 0, "named samples")


def test_folded_stacks_and_flame_graph():
    run = sampled_run()
    out = tempfile.mkdtemp(prefix="ht-flame-")
    folded = os.path.join(out, "stacks.folded")
    proc = subprocess.run([sys.executable, HTBOOT, run.trace_file,
                           "--symbols", elf(), "--out", out,
                           "--folded", folded,
                           "--build", htlib.BUILD],
                          text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    check_eq(proc.returncode, 0, proc.stderr)
    check("phase kernel early (" in proc.stdout, proc.stdout)
    with open(folded) as f:
        lines = f.read().splitlines()
    with open(os.path.join(out, "folded.txt")) as f:
        check_eq(f.read().splitlines(), lines, "folded.txt and --folded")
    stacks = {line.rsplit(" ", 1)[0]: int(line.rsplit(" ", 1)[1])
              for line in lines}
    samples = sum(1 for n, *_ in run.events() if n == "hypertrace_sample")
    check_eq(sum(stacks.values()), samples, "samples in the folded stacks")
    # root: the phase; then the probed call open; then the function
    for name in COSTS:
        check("kernel early;%s;%s" % (name, name) in stacks,
              "no stack for %s in\n%s" % (name, "\n".join(lines)))
    svg = ElementTree.parse(os.path.join(out, "flame.svg")).getroot()
    titles = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")]
    check(any(t.startswith("work_large (") for t in titles), titles)
    check(titles[0].startswith("all (%d samples, 100.00%%)" % samples),
          titles[0])


def test_sampling_is_off_by_default():
    run = profile_run(hz=0)
    check_eq([n for n, *_ in run.events() if n == "hypertrace_sample"], [],
             "samples without sample-hz")


def test_sample_hz_errors_name_the_fix():
    for devices, error in (
            (["hypertrace,sample-hz=20001"],
             "hypertrace: sample-hz=20001 is out of range\n"
             "Use a value from 0 to 20000.\n"),
            (["hypertrace,sample-hz=100",
              "hypertrace,sample-hz=100,hypercalls=off,milestones=off"],
             "hypertrace: another hypertrace device already samples the "
             "vCPUs\nGive sample-hz= to one device only.\n")):
        args = sum((["-device", d] for d in devices), [])
        run = run_guest("profile.elf", device=None, qemu_args=args)
        check_eq(run.status, 1, "exit status")
        check(run.stderr.endswith(error), run.stderr)


def diff(base, new, *extra):
    proc = subprocess.run([sys.executable, HTBOOT, "diff"] + base +
                          ["--vs"] + new + ["--symbols", elf(), "--build",
                                            htlib.BUILD] + list(extra),
                          text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    return proc


def test_boot_diff():
    """Five boots a side, interleaved so that the host's load falls on
    both alike: identical boots show no significant change (exit 0); with
    work_medium four times slower it ranks first, and the exit is 1."""
    base, same, slower = [], [], []
    for _ in range(5):
        base.append(profile_run(hz=1000).trace_file)
        same.append(profile_run(hz=1000).trace_file)
        slower.append(profile_run(hz=1000, slow=4).trace_file)
    proc = diff(base, same, "--alpha", "0.01", "--threshold-pct", "10")
    check_eq(proc.returncode, 0, proc.stdout + proc.stderr)
    check("0 significant slowdowns" in proc.stdout, proc.stdout)
    proc = diff(base, slower, "--alpha", "0.01", "--threshold-pct", "10",
                "--json")
    check_eq(proc.returncode, 1, proc.stdout + proc.stderr)
    changes = json.loads(proc.stdout)["changes"]
    rows = [(c["kind"], c["name"], c["significant"], c["slower"])
            for c in changes]
    # the planted slowdown first, and first of the sampled functions too
    # (a host busy enough can push another function past the threshold)
    check_eq((rows[0], [r for r in rows if r[0] == "sampled"][0]),
             (("function", "work_medium", True, True),
              ("sampled", "work_medium", True, True)),
             "first change, and first sampled change, of %r" % rows[:6])
    # 4x the work: a busy host stretches single runs either way
    growth = changes[0]["new_ms"] / changes[0]["base_ms"]
    check(growth > 2, "work_medium grew %.2fx, it does 4x the work" % growth)


def test_boot_diff_bad_input():
    missing = "/nonexistent/trace.bin"
    proc = diff([sampled_run().trace_file], [missing])
    check_eq(proc.returncode, 2, proc.stdout + proc.stderr)
    check(proc.stderr.startswith("htboot diff: error: new trace %s: no "
                                 "trace at %s (fix: " % (missing, missing)),
          proc.stderr)


def test_boot_diff_sample_count_noise():
    """A sampled function with no sample in any base run and one in each
    new run is counting noise, not a slowdown, although the rank test
    alone ranks it apart (p = 2/70); twice the samples is a slowdown."""
    import htdiff
    base = [{("sampled", "f"): 0.0, ("sampled", "g"): 100.0,
             htdiff.PERIOD: 1.0} for _ in range(4)]
    new = [{("sampled", "f"): 1.0, ("sampled", "g"): 200.0,
            htdiff.PERIOD: 1.0} for _ in range(4)]
    rows, _apart = htdiff.compare(base, new, 5.0, 0.05)
    got = {r["name"]: (round(r["p"], 4), r["significant"]) for r in rows}
    # f: 4 samples, all new: binomial p = 2 * 0.5^4, times 2 functions
    check_eq(got, {"f": (0.25, False), "g": (round(2 / 70, 4), True)},
             "p and verdicts")
