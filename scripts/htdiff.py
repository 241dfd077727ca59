"""htdiff: what changed between two sets of boots.

  scripts/htboot.py diff BASE_TRACE... --vs NEW_TRACE...
                    [--symbols FILE ...] [--threshold-pct P] [--alpha A]
                    [--top N] [--json] [--build DIR] [--events FILE]

Each trace is analyzed as by htboot (it needs probes).  Per run, in ms:
  total      the boot, t_start to t_end
  phase      each phase's duration
  milestone  each milestone's time from t_start
  function   each probed function's time in the calls that returned, by
             name (an initcall by the function it calls), so that builds
             with other addresses compare
  sampled    each sampled function's samples times the sample period
A measure missing from a run counts 0 for functions (not called, not
sampled); a phase or milestone missing from some runs is listed apart.

Confidence: the Mann-Whitney U rank test, two-sided, exact, of the base
runs against the new ones.  A change is significant when p < alpha
(default 0.05) and the medians differ by more than the threshold (default
5% of the base median, and at least 0.1 ms).  The exact test needs 4 runs
a side to reach p < 0.05: with fewer, nothing is significant, and the
report says so.  A sampled function's counts are small integers, and
there are thousands of functions: by chance alone some would rank apart
(0 samples in every base run, 1 in every new one).  So its p is the
larger of the rank test's and an exact Poisson test's of the samples
pooled over each side's runs (a binomial test of the split, for the runs
and rates of each side), Bonferroni-corrected over the sampled functions.
Probed functions get no such correction (4 runs cannot pass one): with 4
runs a side, an unchanged function whose spread exceeds the threshold
still ranks apart by chance 2.9% of the time (2 of the 70 orderings), so
CI should record more runs and lower alpha.  Significant slowdowns rank
first, the most specific first (function, sampled, phase, milestone,
total), then by size.

Exit status: 0 no significant slowdown, 1 a significant slowdown, 2 bad
input (the message names the file and the fix).
"""

import argparse
import json
import os
import statistics
import sys

import htboot
import htprofile

KINDS = ("function", "sampled", "phase", "milestone", "total")
MIN_MS = 0.1
PERIOD = ("period", "sample")   # a run's sample period in ms, not a measure


def measures(report):
    """{(kind, name): ms} of one boot report."""
    found = {("total", "boot"): report["total_ns"] / 1e6}
    for p in report["phases"]:
        found[("phase", p["name"])] = p["duration_ns"] / 1e6
    for m in report["markers"]:
        if m["kind"] == "milestone":
            found.setdefault(("milestone", m["name"]), m["start_ns"] / 1e6)
        elif m["duration_ns"] is not None:
            key = ("function", m["name"])
            found[key] = found.get(key, 0.0) + m["duration_ns"] / 1e6
    for ic in report["initcalls"]:
        if ic["duration_ns"] is not None:
            key = ("function", ic["name"])
            found[key] = found.get(key, 0.0) + ic["duration_ns"] / 1e6
    profile = report.get("profile")
    if profile:
        period_ms = profile["period_ns"] / 1e6
        found[PERIOD] = period_ms
        for leaf, count in profile["by_function"].items():
            key = ("sampled", sampled_name(leaf))
            found[key] = found.get(key, 0.0) + count * period_ms
    return found


def sampled_name(leaf):
    """A sampled function's name; the unnamed addresses of a phase as one,
    whatever their ranges (KASLR moves them from boot to boot)."""
    phase = htprofile.unnamed_phase(leaf)
    return leaf if phase is None else phase + htprofile.UNNAMED


def side_values(runs, key):
    """The measure's value in every run, or None where a phase or
    milestone is missing from some run."""
    if key[0] in ("function", "sampled"):
        return [run.get(key, 0.0) for run in runs]
    values = [run.get(key) for run in runs]
    return None if None in values else values


def rank_test(base, new):
    """Two-sided p of the exact Mann-Whitney U test."""
    from scipy.stats import mannwhitneyu
    if len(set(base) | set(new)) == 1:
        return 1.0
    return float(mannwhitneyu(base, new, alternative="two-sided",
                              method="exact").pvalue)


def count_test(base_runs, new_runs, key):
    """Two-sided p of the exact Poisson test of a sampled function's
    samples pooled over each side, given each side's runs and rates."""
    from scipy.stats import binomtest
    counts, rates = [], []
    for runs in (base_runs, new_runs):
        sampled = [r for r in runs if PERIOD in r]
        counts.append(round(sum(r.get(key, 0.0) / r[PERIOD]
                                for r in sampled)))
        rates.append(sum(1.0 / r[PERIOD] for r in sampled))
    if not all(rates) or not sum(counts):
        return 1.0
    return float(binomtest(counts[1], sum(counts),
                           rates[1] / sum(rates)).pvalue)


def compare(base_runs, new_runs, threshold_pct, alpha):
    """One row per measure of either side."""
    keys = sorted((k for k in set().union(*base_runs, *new_runs)
                   if k != PERIOD),
                  key=lambda k: (KINDS.index(k[0]), k[1]))
    n_sampled = sum(1 for k in keys if k[0] == "sampled")
    rows, apart = [], []
    for key in keys:
        base, new = side_values(base_runs, key), side_values(new_runs, key)
        if base is None or new is None:
            apart.append({"kind": key[0], "name": key[1],
                          "in_base": sum(key in r for r in base_runs),
                          "in_new": sum(key in r for r in new_runs)})
            continue
        b, n = statistics.median(base), statistics.median(new)
        delta, p = n - b, rank_test(base, new)
        if key[0] == "sampled":
            p = max(p, min(1.0, n_sampled *
                           count_test(base_runs, new_runs, key)))
        beyond = abs(delta) > max(MIN_MS, b * threshold_pct / 100.0)
        rows.append({
            "kind": key[0], "name": key[1], "base_ms": b, "new_ms": n,
            "delta_ms": delta, "delta_pct": 100.0 * delta / b if b else None,
            "base_range_ms": [min(base), max(base)],
            "new_range_ms": [min(new), max(new)],
            "p": p, "significant": p < alpha and beyond,
            "slower": delta > 0})
    rows.sort(key=lambda r: (not (r["significant"] and r["slower"]),
                             not r["significant"],
                             KINDS.index(r["kind"]) if r["significant"] else 0,
                             -abs(r["delta_ms"])))
    return rows, apart


def load_runs(paths, side, args, tables):
    runs = []
    for path in paths:
        try:
            events = htboot.load_trace(path, args.build, args.events)
            report = htboot.analyze(events, tables[0], None, 10, tables[1:])
        except htboot.Error as e:
            raise htboot.Error("%s trace %s: %s" % (side, path, e))
        runs.append(measures(report))
    return runs


def pct(value):
    return "-" if value is None else "%+.1f%%" % value


def render_text(result, top):
    rows = result["changes"]
    lines = ["boot diff: %d base runs vs %d new; Mann-Whitney U test "
             "(sampled functions: and a corrected Poisson count test), "
             "significant at p < %g beyond %g%% (and %g ms)" % (
                 result["base_runs"], result["new_runs"], result["alpha"],
                 result["threshold_pct"], MIN_MS)]
    if min(result["base_runs"], result["new_runs"]) < 4:
        lines.append("note: with fewer than 4 runs a side the exact test "
                     "cannot reach p < 0.05; record more runs")
    lines += ["", "%-9s %-32s %10s %10s %10s %8s %7s  %s" % (
        "kind", "name", "base ms", "new ms", "change ms", "change",
        "p", "verdict")]
    for r in rows[:top]:
        verdict = ("SLOWER" if r["slower"] else "faster") \
            if r["significant"] else "-"
        lines.append("%-9s %-32s %10.3f %10.3f %+10.3f %8s %7.3f  %s" % (
            r["kind"], r["name"][:32], r["base_ms"], r["new_ms"],
            r["delta_ms"], pct(r["delta_pct"]), r["p"], verdict))
    for a in result["not_in_every_run"]:
        lines.append("%-9s %-32s in %d of %d base runs, %d of %d new" % (
            a["kind"], a["name"][:32], a["in_base"], result["base_runs"],
            a["in_new"], result["new_runs"]))
    slower = [r for r in rows if r["significant"] and r["slower"]]
    lines += ["", "%d significant slowdowns, %d significant speedups, "
              "%d measures" % (len(slower), sum(
                  1 for r in rows if r["significant"] and not r["slower"]),
                  len(rows))]
    return "\n".join(lines) + "\n"


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="htboot.py diff",
        description="What changed between two sets of boots.")
    ap.add_argument("base", nargs="+", metavar="BASE_TRACE")
    ap.add_argument("--vs", nargs="+", required=True, metavar="NEW_TRACE")
    ap.add_argument("--symbols", action="append", default=[],
                    metavar="FILE", help="as for htboot (repeatable)")
    ap.add_argument("--threshold-pct", type=float, default=5.0, metavar="P",
                    help="smallest change that counts, in %% of the base")
    ap.add_argument("--alpha", type=float, default=0.05,
                    help="significance level of the rank test")
    ap.add_argument("--top", type=int, default=15, metavar="N",
                    help="changes to list (default 15)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--build", default=os.path.join(htboot.TOP, "build"))
    ap.add_argument("--events", metavar="FILE")
    args = ap.parse_args(argv)
    if args.threshold_pct < 0 or not 0 < args.alpha < 1:
        ap.error("--threshold-pct must be >= 0 and --alpha in (0, 1)")
    args.build = os.path.abspath(args.build)
    return args


def main(argv):
    args = parse_args(argv)
    try:
        tables = ([htboot.load_symbols(p) for p in args.symbols]
                  or [htboot.Symbols()])
        base = load_runs(args.base, "base", args, tables)
        new = load_runs(args.vs, "new", args, tables)
    except htboot.Error as e:
        print("htboot diff: error: %s" % e, file=sys.stderr)
        return 2
    try:
        rows, apart = compare(base, new, args.threshold_pct, args.alpha)
    except ImportError:
        print("htboot diff: error: the rank test needs SciPy (fix: "
              "apt-get install python3-scipy, run /usr/bin/python3)",
              file=sys.stderr)
        return 2
    result = {"base_runs": len(base), "new_runs": len(new),
              "alpha": args.alpha, "threshold_pct": args.threshold_pct,
              "test": "Mann-Whitney U, two-sided, exact; sampled "
                      "functions also an exact Poisson test of the pooled "
                      "samples, Bonferroni-corrected",
              "changes": rows, "not_in_every_run": apart}
    sys.stdout.write(json.dumps(result, indent=2) + "\n" if args.json
                     else render_text(result, args.top))
    return 1 if any(r["significant"] and r["slower"] for r in rows) else 0
