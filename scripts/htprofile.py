"""htprofile: where inside each boot phase the time goes.

With sample-hz=N the device records where each vCPU is, N times a second
(trace event hypertrace_sample).  This module names the sampled addresses
from symbol tables, puts each sample in its boot phase and under the
probed calls open on its vCPU, and counts: the top functions of each phase
and of each slow initcall, and folded stacks for flame graphs
(phase;probed call;...;function count).

Only samples taken at CPL 0 are named: user-space addresses belong to
whichever process ran, which a sample does not say.  An address that no
table covers is never given a name: it counts as "PHASE (no symbols)
0xLO-0xHI", one such range for each run of unnamed addresses sampled in
that phase with no gap of CLUSTER_GAP between them.
"""

import bisect

SAMPLE = "hypertrace_sample"
OUTSIDE = "outside the boot"
NEEDED_ARGS = ("cpu", "pc", "cpl", "halted")
CLUSTER_GAP = 64 * 1024     # unnamed addresses further apart: two ranges
UNNAMED = " (no symbols)"   # the label of addresses no table names


class AddressNames:
    """The function at an address, from symbol tables that know where
    their functions run (htboot.Symbols.ranges) and where the kernel was
    moved to (their offset)."""

    def __init__(self, tables):
        spans = sorted((start + t.offset, end + t.offset, name)
                       for t in tables for start, end, name in t.ranges())
        self.starts = [s[0] for s in spans]
        self.spans = spans

    def name(self, pc):
        i = bisect.bisect_right(self.starts, pc) - 1
        if i >= 0 and pc < self.spans[i][1]:
            return self.spans[i][2]
        return None


def samples_of(events):
    """(ts, cpu, pc, cpl, halted) of each sample, in time order."""
    return [(ts, a["cpu"], a["pc"], a["cpl"], a["halted"])
            for name, ts, _pid, a in events if name == SAMPLE]


def sample_period_ns(samples):
    """The typical time between two samples of one vCPU."""
    last, gaps = {}, []
    for ts, cpu, *_rest in samples:
        if cpu in last:
            gaps.append(ts - last[cpu])
        last[cpu] = ts
    return sorted(gaps)[len(gaps) // 2] if gaps else 0


def open_calls(calls, samples):
    """For each sample, the probed calls open on its vCPU at its time,
    outermost first.  A call that never returned stays open."""
    by_cpu = {}
    for call in sorted(calls, key=lambda c: c.start):
        by_cpu.setdefault(call.stream, []).append(call)
    taken, active, found = {}, {}, []
    for ts, cpu, *_rest in samples:
        pending, i = by_cpu.get(cpu, []), taken.get(cpu, 0)
        now = active.setdefault(cpu, [])
        while i < len(pending) and pending[i].start <= ts:
            now.append(pending[i])
            i += 1
        taken[cpu] = i
        now[:] = [c for c in now if c.end is None or c.end > ts]
        found.append(list(now))
    return found


def frame(text):
    """A name fit for a folded stack: no ';', which separates frames."""
    return text.replace(";", ":")


class Tally:
    """Samples per function, and the address range of unnamed ones."""

    def __init__(self):
        self.count, self.lo, self.hi = {}, {}, {}

    def add(self, label, pc):
        self.count[label] = self.count.get(label, 0) + 1
        self.lo[label] = min(self.lo.get(label, pc), pc)
        self.hi[label] = max(self.hi.get(label, pc), pc)

    def total(self):
        return sum(self.count.values())

    def top(self, n, period_ns, unnamed):
        total = self.total()
        ranked = sorted(self.count.items(), key=lambda kv: (-kv[1], kv[0]))
        return [{"function": label, "samples": k,
                 "pct": round(100.0 * k / total, 2),
                 "est_ms": round(k * period_ns / 1e6, 3),
                 "range": ("0x%x-0x%x" % (self.lo[label], self.hi[label])
                           if label in unnamed else None)}
                for label, k in ranked[:n]]


def unnamed_clusters(pcs, gap=CLUSTER_GAP):
    """(lo, hi) of runs of addresses no more than @gap apart."""
    runs = []
    for pc in sorted(set(pcs)):
        if runs and pc - runs[-1][1] <= gap:
            runs[-1][1] = pc
        else:
            runs.append([pc, pc])
    return runs


def unnamed_label(phase, runs, pc):
    """'PHASE (no symbols) 0xLO-0xHI' of the run that holds @pc."""
    lo, hi = runs[bisect.bisect_right([r[0] for r in runs], pc) - 1]
    return "%s%s 0x%x-0x%x" % (phase, UNNAMED, lo, hi)


def unnamed_phase(name):
    """The phase of an unnamed_label(), or None for a function's name."""
    phase, unnamed, _range = name.partition(UNNAMED)
    return phase if unnamed else None


def leaf_totals(tallies):
    """Samples per function (or unnamed range) over all @tallies."""
    totals = {}
    for tally in tallies:
        for label, k in tally.count.items():
            totals[label] = totals.get(label, 0) + k
    return dict(sorted(totals.items()))


def build(events, phase_of, calls, call_label, tables, slowest=(), top=5):
    """The profile section of the boot report, or None without samples.
    @phase_of(ts) names a time's phase (None outside the boot);
    @call_label(call) names a probed call's frame; @slowest lists
    (label, call) of the initcalls to profile."""
    samples = samples_of(events)
    if not samples:
        return None
    names, period = AddressNames(tables), sample_period_ns(samples)
    by_phase, by_call, folded, unnamed = {}, {}, {}, set()
    wanted = {id(call): label for label, call in slowest}
    where = [(phase_of(ts) or OUTSIDE, names.name(pc) if cpl == 0 else None)
             for ts, _cpu, pc, cpl, _halted in samples]
    runs = {}
    for (phase, name), sample in zip(where, samples):
        if name is None:
            runs.setdefault(phase, []).append(sample[2])
    runs = {phase: unnamed_clusters(pcs) for phase, pcs in runs.items()}
    for (phase, name), sample, stack in zip(where, samples,
                                            open_calls(calls, samples)):
        pc = sample[2]
        leaf = name or unnamed_label(phase, runs[phase], pc)
        if name is None:
            unnamed.add(leaf)
        by_phase.setdefault(phase, Tally()).add(leaf, pc)
        for call in stack:
            if id(call) in wanted:
                by_call.setdefault(id(call), Tally()).add(leaf, pc)
        key = tuple(frame(f) for f in
                    [phase] + [call_label(c) for c in stack] + [leaf])
        folded[key] = folded.get(key, 0) + 1
    return {
        "samples": len(samples), "period_ns": period,
        "named": sum(k for t in by_phase.values()
                     for label, k in t.count.items() if label not in unnamed),
        "phases": [{"phase": p, "samples": by_phase[p].total(),
                    "top": by_phase[p].top(top, period, unnamed)}
                   for p in by_phase],
        "initcalls": [{"initcall": label, "samples": by_call[id(c)].total(),
                       "top": by_call[id(c)].top(top, period, unnamed)}
                      for label, c in slowest if id(c) in by_call],
        "folded": [";".join(k) + " %d" % n
                   for k, n in sorted(folded.items())],
        "by_function": leaf_totals(by_phase.values()),
    }


def text(profile):
    """The text report's profile section."""
    if not profile:
        return []
    lines = ["", "profile: %d samples, one per %.3f ms of each vCPU's time; "
             "%d named" % (profile["samples"], profile["period_ns"] / 1e6,
                           profile["named"]),
             "%7s %8s %10s  %s" % ("%", "samples", "~ms", "function")]
    groups = ([("phase", p["phase"], p) for p in profile["phases"]] +
              [("initcall", p["initcall"], p) for p in profile["initcalls"]])
    for kind, name, group in groups:
        lines.append("%s %s (%d samples)" % (kind, name, group["samples"]))
        for f in group["top"]:
            lines.append("%7.1f %8d %10.3f  %s%s" % (
                f["pct"], f["samples"], f["est_ms"], f["function"],
                ""))
    return lines
