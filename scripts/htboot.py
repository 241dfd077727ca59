#!/usr/bin/python3
"""htboot: where does a guest's boot time go?

Reads a hypertrace trace (a simpletrace file, or an LTTng CTF directory)
and splits the boot into contiguous phases: firmware, kernel early, one
phase per initcall level, kernel late, user space.  Prints a text report;
with --out also writes report.txt, report.json and a boot.svg timeline.

  scripts/htboot.py TRACE [--symbols System.map|ELF ...]
                    [--user-symbols ELF ...] [--out DIR] [--folded FILE]
                    [--json] [--top N] [--build DIR]
                    [--events trace-events-file]
  scripts/htboot.py diff BASE_TRACE... --vs NEW_TRACE...: see htdiff.py

With samples (device property sample-hz) the report also profiles each
phase and each slow initcall (see htprofile.py), and --out also writes
folded.txt and flame.svg.

Phases, each ending where the next starts, so that they add up to the
total exactly (a phase whose events are missing is left out):
  firmware          t_start -> firmware_exit milestone (else kernel_entry)
  kernel setup      -> start_kernel's entry, if probed: the setup code,
                    the decompressor and the kernel's own entry code
  kernel early      -> the first do_one_initcall entry
  initcalls: LEVEL  from the first initcall of each level, in order of
                    appearance; the last ends at the return of the last
                    initcall before user space (its entry if it never
                    returned)
  kernel late       -> run_init_process's entry (else the first user
                    function event)
  user space        -> t_end: the last user function exit (else the last
                    event)
t_start is the reset milestone, else the first event; every time in the
report is relative to it.  Exit status 2 on bad input, with one line
naming the cause and the fix.

Importable: analyze(events, symbols, user_symbols, top) -> report dict
(the JSON), render_text(report), render_svg(report), load_trace(path,
build, events_file), load_symbols(path), load_user_symbols(elfs).
"""

import argparse
import json
import math
import os
import re
import struct
import subprocess
import sys
from xml.sax.saxutils import escape

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "scripts"))
import httrace  # noqa: E402
import htflame  # noqa: E402
import htprofile  # noqa: E402

PROBE = "hypertrace_probe"
START_KERNEL = "start_kernel"
MILESTONE = "hypertrace_milestone"
HYPERCALL = "hypertrace_hypercall"
RING = "hypertrace_event"
CHANNELS = {PROBE: "probe", MILESTONE: "milestone", HYPERCALL: "hypercall",
            RING: "ring", "hypertrace_sync": "sync",
            "hypertrace_lost": "lost",
            "hypertrace_guest_error": "guest_error", "dropped": "dropped",
            htprofile.SAMPLE: "sample"}
# The arguments the analysis reads, per event.
NEEDED_ARGS = {
    PROBE: ("cpu", "ret", "addr", "a0", "a1", "a2", "a3", "a4", "a5", "name"),
    MILESTONE: ("cpu", "name"), HYPERCALL: ("cpu", "nr", "a0", "a1"),
    RING: ("ring", "id", "a0", "a1"), "hypertrace_lost": ("count",),
    "dropped": ("num_events_dropped",),
    htprofile.SAMPLE: htprofile.NEEDED_ARGS}
# Always shown in the text report, even when zero.
MAIN_CHANNELS = ("probe", "milestone", "hypercall", "ring", "sync")

NR_KERNEL_FN = 1000     # hypercall: a0 = kernel function, a1 = 0 entry/1 exit
NR_USER_FN = 2000       # hypercall: the same for a user-space function
RING_USER_FN = 2000     # ring record id: the same, through a ring
INITCALL_FN = "do_one_initcall"
USER_START_FN = "run_init_process"

LEVELS = ("early", "pure", "core", "postcore", "arch", "subsys", "fs",
          "device", "late")
UNKNOWN = "unknown"


class Error(Exception):
    """Bad input: the message names the cause and the fix."""


# ---------------------------------------------------------------- symbols

SYMBOL_LINE = re.compile(r"^([0-9a-fA-F]+)\s+([A-Za-z])\s+(\S+)\s*$")
SIZED_SYMBOL_LINE = re.compile(
    r"^([0-9a-fA-F]+)\s+([0-9a-fA-F]+)\s+([A-Za-z])\s+(\S+)\s*$")
# __initcall__kmod_<obj>__<n>_<line>_<fn><suffix>, or __initcall_<fn><suffix>
# before Linux 5.13
INITCALL_ENTRY = re.compile(r"^__initcall__kmod_.*?__\d+_\d+_|^__initcall_")


def parse_symbols(lines):
    """(addr, type, name) of each 'ADDR TYPE NAME' line (System.map,
    /proc/kallsyms, nm).  A module's '[mod]' column fails the pattern on
    purpose, as do blank and garbage lines; address 0 is kallsyms hiding
    the address."""
    entries = []
    for line in lines:
        m = SYMBOL_LINE.match(line)
        if m and int(m.group(1), 16):
            entries.append((int(m.group(1), 16), m.group(2), m.group(3)))
    return entries


def level_ranges(entries):
    """(lo, hi, level): [__initcall_start, __initcall0_start) is early,
    [__initcallN_start, __initcallN+1_start) is level N."""
    addr = {name: a for a, _kind, name in entries}
    marks = (["__initcall_start"]
             + ["__initcall%d_start" % n for n in range(8)]
             + ["__initcall_end"])
    return [(addr[lo], addr[hi], level)
            for lo, hi, level in zip(marks, marks[1:], LEVELS)
            if lo in addr and hi in addr]


def level_suffixes(level):
    if level == "early":
        return ("early",)
    n = str(LEVELS.index(level) - 1)
    return (n + "s", n) + (("rootfs",) if level == "fs" else ())


def initcall_fn(entry_name, level):
    """The function of an initcall entry symbol, or None if it is not one."""
    m = INITCALL_ENTRY.match(entry_name)
    if not m:
        return None
    body = entry_name[m.end():]
    for suffix in level_suffixes(level):
        if body.endswith(suffix) and len(body) > len(suffix):
            return body[:-len(suffix)]
    return None


def initcall_levels(entries):
    """Initcall function name -> level name.  A name with entries in two
    levels (two static functions) keeps the lowest address's level."""
    ranges = level_ranges(entries)
    levels = {}
    for addr, _kind, name in sorted(entries):
        level = next((lv for lo, hi, lv in ranges if lo <= addr < hi), None)
        fn = level and initcall_fn(name, level)
        if fn:
            levels.setdefault(fn, level)
    return levels


class Symbols:
    """Names at addresses, and the initcall level of function names.
    @sizes: function sizes where known (ELF symbol tables)."""

    def __init__(self, entries=(), sizes=None, source=None):
        self.by_addr, self.by_name = {}, {}
        self.offset = 0         # where KASLR moved the kernel: see analyze
        self.source = source
        for addr, _kind, name in entries:
            self.by_name.setdefault(name, addr)
        # text symbols first, each class in file order (sorted is stable)
        for addr, _kind, name in sorted(entries,
                                        key=lambda e: e[1] not in "tT"):
            self.by_addr.setdefault(addr, []).append(name)
        self.levels = initcall_levels(entries)
        self.text = sorted({(a, n) for a, kind, n in entries if kind in "tT"})
        self.sizes = sizes or {}

    def name(self, addr):
        names = self.by_addr.get(addr - self.offset)
        return names[0] if names else None

    def initcall(self, addr):
        """(name or None, level) of the function at addr; of several names
        there, the one with an initcall entry."""
        names = self.by_addr.get(addr - self.offset, [])
        for name in names:
            if name in self.levels:
                return name, self.levels[name]
        return (names[0] if names else None), UNKNOWN

    def ranges(self):
        """(start, end, name) of each text symbol, where it runs: its size
        if known, else up to the next text symbol; the last one ends at
        _etext, or it has no range."""
        etext = self.by_name.get("_etext")
        found = []
        for i, (start, name) in enumerate(self.text):
            end = start + self.sizes[start] if self.sizes.get(start) else (
                self.text[i + 1][0] if i + 1 < len(self.text) else etext)
            if end is not None and end > start:
                found.append((start, end, name))
        return found


def read_elf_symbols(path):
    """Entries and sizes of an ELF's symbol table (nm -S)."""
    try:
        out = subprocess.run(["nm", "-S", "--defined-only", path], check=True,
                             text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise Error("cannot list the symbols of %s: %s (fix: pass an "
                    "unstripped ELF and install binutils)"
                    % (path, getattr(e, "stderr", "") or e))
    entries, sizes = [], {}
    for line in out.splitlines():
        m = SIZED_SYMBOL_LINE.match(line)
        if m and int(m.group(1), 16):
            addr = int(m.group(1), 16)
            entries.append((addr, m.group(3), m.group(4)))
            sizes[addr] = max(sizes.get(addr, 0), int(m.group(2), 16))
        else:
            entries += parse_symbols([line])
    return entries, sizes


def is_elf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def load_symbols(path):
    """A System.map, a copy of /proc/kallsyms, or an ELF file."""
    try:
        if is_elf(path):
            return Symbols(*read_elf_symbols(path), source=path)
        with open(path, errors="replace") as f:
            return Symbols(parse_symbols(f), source=path)
    except OSError as e:
        raise Error("cannot read symbols %s: %s (fix: pass the guest "
                    "kernel's System.map, a copy of /proc/kallsyms, or an "
                    "unstripped ELF)" % (path, e.strerror))


def load_user_symbols(elfs):
    entries = []
    for elf in elfs:
        entries += read_elf_symbols(elf)[0]
    return Symbols(entries)


# ---------------------------------------------------------------- reading

def load_trace(path, build, events_file=None):
    """All events of a trace file or CTF directory, as httrace tuples."""
    if not os.path.exists(path):
        raise Error("no trace at %s (fix: pass the file QEMU's -trace "
                    "file=... wrote, or an LTTng trace directory)" % path)
    events_file = events_file or httrace.trace_events_file(build)
    if not os.path.isdir(path) and not os.path.exists(events_file):
        raise Error("no trace events file %s (fix: pass --build with the "
                    "QEMU build that wrote the trace, or --events)"
                    % events_file)
    try:
        return list(httrace.read_trace(path, build, events_file))
    except ImportError:
        raise Error("reading the CTF trace %s needs babeltrace2's bindings "
                    "(fix: apt-get install python3-bt2, run /usr/bin/python3)"
                    % path)
    except (OSError, ValueError, struct.error, RuntimeError) as e:
        raise Error("cannot read trace %s: %s (fix: pass a simpletrace file "
                    "and the --build or --events that wrote it, or an LTTng "
                    "trace directory)" % (path, e))


# ---------------------------------------------------------------- analysis

def signed(value, bits):
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def hexaddr(addr):
    return "0x%x" % addr


class Call:
    """One execution of a function: its entry, and its return if seen."""

    def __init__(self, addr, stream, start, args=(), name=None):
        self.addr, self.stream, self.start = addr, stream, start
        self.args, self.name = list(args), name
        self.end = self.rax = None

    @property
    def duration(self):
        return None if self.end is None else self.end - self.start


class CallStacks:
    """One call stack per key (by default the stream: cpu, ring).  A return
    closes the innermost open call of its function; calls above that one
    never returned."""

    def __init__(self):
        self.stacks = {}

    def enter(self, call, key=None):
        self.stacks.setdefault(call.stream if key is None else key,
                               []).append(call)

    def leave(self, stream, addr, ts):
        stack = self.stacks.get(stream, [])
        for i in range(len(stack) - 1, -1, -1):
            if stack[i].addr == addr:
                call = stack[i]
                del stack[i:]
                call.end = ts
                return call
        return None


def probe_calls(events):
    """Calls seen by hypertrace_probe, in entry order.  QEMU reports a
    return only for a call it saw return (same return site and stack), so
    a return closes the latest open call of its function, whichever vCPU
    or thread: kernel threads interleave and migrate between vCPUs."""
    calls, stacks = [], CallStacks()
    for name, ts, _pid, a in events:
        if name != PROBE:
            continue
        if a["ret"]:
            call = stacks.leave(a["addr"], a["addr"], ts)
            if call:
                call.rax = a["a0"]
        else:
            call = Call(a["addr"], a["cpu"], ts,
                        [a["a%d" % i] for i in range(6)], a["name"])
            calls.append(call)
            stacks.enter(call, key=a["addr"])
    return calls


def function_marks(events):
    """(ts, space, stream, addr, is_exit) of the functions the guest
    reports itself: hypercalls nr 1000 (kernel) and 2000 (user), and ring
    records id 2000 (user)."""
    marks = []
    for name, ts, _pid, a in events:
        if name == HYPERCALL and a["nr"] in (NR_KERNEL_FN, NR_USER_FN):
            space = "user" if a["nr"] == NR_USER_FN else "kernel"
            marks.append((ts, space, ("cpu", a["cpu"]), a["a0"], a["a1"] == 1))
        elif name == RING and a["id"] == RING_USER_FN:
            marks.append((ts, "user", ("ring", a["ring"]), a["a0"],
                          a["a1"] == 1))
    return marks


def function_totals(marks, symbols, user_symbols):
    """Per function: calls and total time of the calls that returned,
    by total time (ties: first call first)."""
    stacks, totals = CallStacks(), {}
    for ts, space, stream, addr, is_exit in marks:
        if is_exit:
            call = stacks.leave((space, stream), addr, ts)
            if call:
                totals[(space, addr)]["total_ns"] += call.duration
            continue
        stacks.enter(Call(addr, (space, stream), ts))
        if (space, addr) not in totals:
            names = user_symbols if space == "user" else symbols
            totals[(space, addr)] = {
                "space": space, "name": names.name(addr) or hexaddr(addr),
                "addr": hexaddr(addr), "first_ns": ts, "calls": 0,
                "total_ns": 0}
        totals[(space, addr)]["calls"] += 1
    return sorted(totals.values(),
                  key=lambda t: (-t["total_ns"], t["first_ns"]))


def initcall_records(calls, symbols):
    records = []
    for call in calls:
        if call.name != INITCALL_FN:
            continue
        fn = call.args[0]
        name, level = symbols.initcall(fn)
        records.append({
            "name": name or hexaddr(fn), "addr": hexaddr(fn),
            "resolved": name is not None, "level": level, "cpu": call.stream,
            "start_ns": call.start, "duration_ns": call.duration,
            # initcalls return int: the low half of rax
            "ret": None if call.rax is None else signed(call.rax, 32)})
    return records


def slowest(initcalls, top):
    done = [ic for ic in initcalls if ic["duration_ns"] is not None]
    done.sort(key=lambda ic: (-ic["duration_ns"], ic["start_ns"]))
    return done[:top]


def initcall_phases(boot_initcalls):
    """(name, start) at the first initcall of each level, in order of
    appearance.  An initcall of unknown level joins the running phase."""
    starts, seen = [], set()
    for ic in boot_initcalls:
        if not starts or (ic["level"] != UNKNOWN and ic["level"] not in seen):
            starts.append(("initcalls: " + ic["level"], ic["start_ns"]))
            seen.add(ic["level"])
    return starts


def contiguous_phases(starts, t_end):
    """Phases from (name, start) in order, each ending where the next
    starts.  Starts are clamped to be in time order so that no duration is
    negative and they add up to exactly the total."""
    clamped, prev = [], 0
    for name, start in starts:
        prev = max(prev, start)
        clamped.append((name, prev))
    ends = [s for _n, s in clamped[1:]] + [max(t_end, prev)]
    return [{"name": name, "start_ns": start, "duration_ns": end - start}
            for (name, start), end in zip(clamped, ends)]


def boot_phases(milestones, boot_initcalls, user_start, t_end,
                start_kernel=None):
    """The phases from t_start (0) to t_end; see the module doc."""
    firmware_end = milestones.get("firmware_exit",
                                  milestones.get("kernel_entry"))
    starts = []
    if firmware_end is not None:
        starts.append(("firmware", 0))
    if start_kernel is not None:
        starts.append(("kernel setup", firmware_end or 0))
        starts.append(("kernel early", start_kernel))
    else:
        starts.append(("kernel early", firmware_end or 0))
    starts += initcall_phases(boot_initcalls)
    if boot_initcalls:
        last = boot_initcalls[-1]
        last_end = last["start_ns"] + (last["duration_ns"] or 0)
        starts.append(("kernel late", last_end))
    if user_start is not None:
        starts.append(("user space", user_start))
    return contiguous_phases(starts, t_end)


def phase_at(phases, ts):
    """The name of the phase holding time ts, None outside the boot."""
    end = phases[-1]["start_ns"] + phases[-1]["duration_ns"] if phases else -1
    if not 0 <= ts <= end:
        return None
    return [p for p in phases if p["start_ns"] <= ts][-1]["name"]


def markers(events, calls, phases):
    """Milestones, and the calls of every probed function but
    do_one_initcall, in time order."""
    found = [{"kind": "milestone", "name": a["name"], "cpu": a["cpu"],
              "start_ns": ts, "duration_ns": None, "ret": None}
             for name, ts, _pid, a in events if name == MILESTONE]
    found += [{"kind": "probe", "name": c.name, "cpu": c.stream,
               "start_ns": c.start, "duration_ns": c.duration,
               "ret": None if c.rax is None else signed(c.rax, 64)}
              for c in calls if c.name != INITCALL_FN]
    found.sort(key=lambda m: m["start_ns"])
    for m in found:
        m["phase"] = phase_at(phases, m["start_ns"])
    return found


def event_counts(events):
    channels, nrs, ring_ids = {}, {}, {}
    for name, _ts, _pid, a in events:
        channel = CHANNELS.get(name, name)
        channels[channel] = channels.get(channel, 0) + 1
        if name == HYPERCALL:
            nrs[str(a["nr"])] = nrs.get(str(a["nr"]), 0) + 1
        elif name == RING:
            ring_ids[str(a["id"])] = ring_ids.get(str(a["id"]), 0) + 1
    by_number = lambda d: dict(sorted(d.items(), key=lambda kv: int(kv[0])))
    return {"channels": dict(sorted(channels.items())),
            "hypercall_nr": by_number(nrs), "ring_id": by_number(ring_ids)}


def lost_records(events):
    """Records the trace does not hold: ring losses and simpletrace's."""
    return sum(a["count"] if name == "hypertrace_lost"
               else a["num_events_dropped"]
               for name, _ts, _pid, a in events
               if name in ("hypertrace_lost", "dropped"))


def first_milestones(events):
    found = {}
    for name, ts, _pid, a in events:
        if name == MILESTONE:
            found.setdefault(a["name"], ts)
    return found


def user_space_bounds(calls, marks, events):
    """(start, end, what ends it) of user space: run_init_process's entry,
    else the first user function event; the last user function exit
    (/init's program is done), else the last event."""
    user_marks = [m for m in marks if m[1] == "user"]
    start = next((c.start for c in calls if c.name == USER_START_FN),
                 user_marks[0][0] if user_marks else None)
    exits = [m[0] for m in user_marks if m[4]]
    if exits:
        return start, exits[-1], "the last user-space function exit"
    return start, events[-1][1], "the last event"


def level_counts(initcalls):
    counts = {}
    for level in LEVELS + (UNKNOWN,):
        count = sum(1 for ic in initcalls if ic["level"] == level)
        if count:
            counts[level] = count
    return counts


def check_args(events):
    """Fail on records that lack an argument the analysis reads: the trace
    was decoded with another QEMU's event formats."""
    for name, _ts, _pid, a in events:
        missing = [arg for arg in NEEDED_ARGS.get(name, ()) if arg not in a]
        if missing:
            raise Error("%s records lack %s (fix: read the trace with the "
                        "trace-events of the QEMU that wrote it: --build or "
                        "--events)" % (name, ", ".join(missing)))


def kaslr_offset(calls, symbols):
    """How far the kernel runs from its symbols: QEMU names each probe and
    places it where the kernel really is (it follows KASLR)."""
    for call in calls:
        if call.name in symbols.by_name:
            return call.addr - symbols.by_name[call.name]
    return 0


def first_call(calls, name):
    return next((c.start for c in calls if c.name == name), None)


def call_label(call, symbols):
    """A probed call's frame: an initcall by the function it calls."""
    if call.name == INITCALL_FN:
        return symbols.initcall(call.args[0])[0] or hexaddr(call.args[0])
    return call.name


def profile(events, phases, calls, initcalls, symbols, more_symbols, top):
    """The profile of the samples: see htprofile."""
    for table in more_symbols:
        table.offset = kaslr_offset(calls, table)
    ic_calls = {id(ic): c for ic, c in
                zip(initcalls, [c for c in calls if c.name == INITCALL_FN])}
    return htprofile.build(
        events, lambda ts: phase_at(phases, ts), calls,
        lambda c: call_label(c, symbols), [symbols] + list(more_symbols),
        [(ic["name"], ic_calls[id(ic)]) for ic in slowest(initcalls, top)])


def analyze(events, symbols=None, user_symbols=None, top=10,
            more_symbols=()):
    """The boot report of a list of httrace event tuples, as a dict ready
    for json; times in ns relative to t_start.  @more_symbols: symbol
    tables (firmware, boot loader) that name samples only."""
    symbols, user_symbols = symbols or Symbols(), user_symbols or Symbols()
    check_args(events)
    events = sorted(events, key=lambda e: e[1])   # stable: ties keep order
    if not any(e[0] == PROBE for e in events):
        raise Error("the trace has no hypertrace_probe events (fix: record "
                    "with -trace enable=hypertrace_* and probes set on the "
                    "guest kernel, e.g. on do_one_initcall)")
    milestones = first_milestones(events)
    t_start = milestones.get("reset", events[0][1])
    events = [(name, ts - t_start, pid, a) for name, ts, pid, a in events]

    calls = probe_calls(events)
    symbols.offset = kaslr_offset(calls, symbols)
    marks = function_marks(events)
    user_start, t_end, end_at = user_space_bounds(calls, marks, events)
    initcalls = initcall_records(calls, symbols)
    boot_initcalls = [ic for ic in initcalls
                      if user_start is None or ic["start_ns"] < user_start]
    phases = boot_phases({m: ts - t_start for m, ts in milestones.items()},
                         boot_initcalls, user_start, t_end,
                         first_call(calls, START_KERNEL))
    total = sum(p["duration_ns"] for p in phases)
    levels = level_counts(initcalls)
    return {
        "t_start_ns": t_start, "t_end_ns": t_start + total, "total_ns": total,
        "start_at": "reset" if "reset" in milestones else "the first event",
        "end_at": end_at,
        "phases": phases,
        "markers": markers(events, calls, phases),
        "initcalls": initcalls,
        "top": top, "slowest": slowest(initcalls, top),
        "levels": levels,
        "unresolved": sum(1 for ic in initcalls if not ic["resolved"]),
        "unknown_level": levels.get(UNKNOWN, 0),
        "functions": function_totals(marks, symbols, user_symbols),
        "counts": event_counts(events),
        "lost": lost_records(events),
        "kaslr_offset": symbols.offset,
        "profile": profile(events, phases, calls, initcalls, symbols,
                           more_symbols, top),
    }


# ---------------------------------------------------------------- text

def ms(ns):
    return "-" if ns is None else "%.3f" % (ns / 1e6)


def text_phases(report):
    total = report["total_ns"]
    lines = ["%-24s %12s %12s %7s" % ("phase", "start ms", "duration ms", "%")]
    for p in report["phases"]:
        share = 100.0 * p["duration_ns"] / total if total else 0.0
        lines.append("%-24s %12s %12s %7.1f" % (
            p["name"], ms(p["start_ns"]), ms(p["duration_ns"]), share))
    lines.append("%-24s %12s %12s %7.1f" % ("total", "", ms(total), 100.0))
    return lines


def text_markers(report):
    lines = ["", "markers", "%12s %12s  %-20s %s" % (
        "at ms", "duration ms", "phase", "name")]
    for m in report["markers"]:
        lines.append("%12s %12s  %-20s %s %s" % (
            ms(m["start_ns"]), ms(m["duration_ns"]), m["phase"] or "-",
            m["kind"], m["name"]))
    return lines


def text_slowest(report):
    lines = ["", "%d slowest initcalls" % report["top"],
             "%4s %12s %6s  %-8s %s" % ("rank", "duration ms", "ret",
                                       "level", "name")]
    for rank, ic in enumerate(report["slowest"], 1):
        lines.append("%4d %12s %6d  %-8s %s" % (
            rank, ms(ic["duration_ns"]), ic["ret"], ic["level"], ic["name"]))
    return lines


def text_levels(report):
    per_level = ", ".join("%s %d" % kv for kv in report["levels"].items())
    return ["", "initcalls per level: %s (%d in all)" % (
                per_level or "none", len(report["initcalls"])),
            "initcalls of unknown level (no entry symbol): %d" %
            report["unknown_level"],
            "unresolved initcall addresses: %d" % report["unresolved"]]


def text_functions(report):
    if not report["functions"]:
        return []
    lines = ["", "guest-reported functions (top %d by total time)" %
             report["top"],
             "%-6s %7s %12s  %s" % ("space", "calls", "total ms", "name")]
    for f in report["functions"][:report["top"]]:
        lines.append("%-6s %7d %12s  %s" % (f["space"], f["calls"],
                                            ms(f["total_ns"]), f["name"]))
    return lines


def text_counts(report):
    counts = report["counts"]
    channels = dict.fromkeys(MAIN_CHANNELS, 0)
    channels.update(counts["channels"])
    lines = ["", "events per channel: " +
             ", ".join("%s %d" % kv for kv in channels.items())]
    if counts["hypercall_nr"]:
        lines.append("hypercalls per nr: " + ", ".join(
            "%s: %d" % kv for kv in counts["hypercall_nr"].items()))
    if counts["ring_id"]:
        lines.append("ring records per id: " + ", ".join(
            "%s: %d" % kv for kv in counts["ring_id"].items()))
    lines.append("lost: %d" % report["lost"])
    return lines


def render_text(report):
    lines = ["boot: %s ms from %s to %s" % (
        ms(report["total_ns"]), report["start_at"], report["end_at"])]
    if report.get("accelerator"):
        lines.append("accelerator: " + report["accelerator"])
    if report["kaslr_offset"]:
        lines.append("the kernel ran %+d MiB from its symbols (KASLR); "
                     "addresses are resolved with that offset"
                     % (report["kaslr_offset"] >> 20))
    lines.append("")
    for section in (text_phases, text_markers, text_slowest, text_levels,
                    text_functions, text_counts):
        lines += section(report)
    lines += htprofile.text(report["profile"])
    return "\n".join(lines) + "\n"


def render_json(report):
    return json.dumps(report, indent=2) + "\n"


# ---------------------------------------------------------------- SVG

SVG_WIDTH = 1200
MARGIN = 20
FONT_PX = 11
CHAR_PX = 6.7           # advance of an 11 px monospace glyph
MIN_PX = 2.0            # narrower items are drawn this wide to stay visible
ROW_PX = 16
PALETTE = ("#9e9e9e", "#4e79a7", "#59a14f", "#8cd17d", "#b6992d", "#f1ce63",
           "#499894", "#86bcb6", "#e15759", "#ff9d9a", "#79706e", "#d37295",
           "#b07aa1", "#f28e2b")


class TimeScale:
    """Maps ns since t_start to x pixels, linearly over the whole boot."""

    def __init__(self, total_ns, left=MARGIN, right=SVG_WIDTH - MARGIN):
        self.total, self.left, self.right = max(total_ns, 1), left, right

    def x(self, ns):
        return self.left + (self.right - self.left) * ns / self.total

    def span(self, start, duration):
        x0 = self.x(start)
        return x0, max(MIN_PX, self.x(start + duration) - x0)


def text_px(text):
    return len(text) * CHAR_PX


def svg_text(x, y, text, anchor="start", extra=""):
    return '<text x="%.1f" y="%.1f" text-anchor="%s"%s>%s</text>' % (
        x, y, anchor, extra, escape(text))


def label_beside(scale, x, width, y, text):
    """A label right of a bar, or left of it when it would leave the chart."""
    if x + width + 4 + text_px(text) <= scale.right:
        return svg_text(x + width + 4, y, text)
    return svg_text(max(x - 4, scale.left + text_px(text)), y, text, "end")


def assign_lanes(spans, gap=6):
    """A lane for each (x, width) span, in x order, such that spans in one
    lane do not overlap: greedy, first lane free at x."""
    lane_ends, lanes = [], []
    for x, width in spans:
        for i, end in enumerate(lane_ends):
            if x >= end + gap:
                lane_ends[i] = x + width
                lanes.append(i)
                break
        else:
            lane_ends.append(x + width)
            lanes.append(len(lane_ends) - 1)
    return lanes


def tick_step(total_ms, target=10):
    """A 1-2-5 step giving about target ticks."""
    raw = max(total_ms, 1e-6) / target
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


def timeline_markers(report):
    """Milestones and the first call of each probed function."""
    seen, chosen = set(), []
    for m in report["markers"]:
        key = (m["kind"], m["name"])
        if m["phase"] is not None and (m["kind"] == "milestone" or
                                       key not in seen):
            seen.add(key)
            chosen.append(m)
    return chosen


def band_label(phase, width):
    """The longest label that fits in a phase's band, or None."""
    for text in ("%s %s ms" % (phase["name"], ms(phase["duration_ns"])),
                 phase["name"]):
        if text_px(text) + 6 <= width:
            return text
    return None


def top_labels(scale, report):
    """(x, text, color) above the phase band, in x order: the markers
    (color None), and the phases too narrow to hold their name."""
    items = [(scale.x(m["start_ns"]), m["name"], None)
             for m in timeline_markers(report)]
    for i, p in enumerate(report["phases"]):
        x, width = scale.span(p["start_ns"], p["duration_ns"])
        if band_label(p, width) is None:
            items.append((x + width / 2, p["name"], PALETTE[i % len(PALETTE)]))
    return sorted(items, key=lambda item: item[0])


def svg_top_labels(scale, items, y):
    """The labels in non-overlapping lanes from y down; returns the
    elements, the lane of each item and the y below the lanes."""
    boxes = [(min(x + 2, scale.right - text_px(text)), text)
             for x, text, _color in items]
    lanes = assign_lanes([(x, text_px(text)) for x, text in boxes])
    out = [svg_text(x, y + (lane + 1) * ROW_PX - 4, text,
                    extra="" if color is None else ' font-weight="bold"')
           for (x, text), lane, (_x, _t, color) in zip(boxes, lanes, items)]
    return out, lanes, y + (max(lanes) + 1 if lanes else 0) * ROW_PX


def svg_leaders(items, lanes, top, band_y, bottom):
    """A dashed line down the chart for each marker, a line in its color
    from each narrow phase's label to its band."""
    out = []
    for (x, _text, color), lane in zip(items, lanes):
        y0 = top + lane * ROW_PX + 2
        style = ('stroke="#333" stroke-dasharray="3,3"' if color is None
                 else 'stroke="%s" stroke-width="2"' % color)
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" %s/>' % (
            x, y0, x, bottom if color is None else band_y, style))
    return out


def svg_phases(scale, phases, y, height=28):
    out = []
    for i, p in enumerate(phases):
        x, width = scale.span(p["start_ns"], p["duration_ns"])
        out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%d" '
                   'fill="%s"><title>%s</title></rect>' % (
                       x, y, width, height, PALETTE[i % len(PALETTE)],
                       escape("%s: %s ms" % (p["name"],
                                             ms(p["duration_ns"])))))
        text = band_label(p, width)
        if text:
            out.append(svg_text(x + width / 2, y + height / 2 + 4, text,
                                "middle"))
    return out, y + height


def svg_axis(scale, total_ns, y):
    total_ms = total_ns / 1e6
    step = tick_step(total_ms)
    out = ['<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#000"/>'
           % (scale.left, y, scale.right, y)]
    for i in range(int(total_ms / step) + 1):
        x = scale.x(i * step * 1e6)
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" '
                   'stroke="#000"/>' % (x, y, x, y + 5))
        out.append(svg_text(x, y + 17, "%g" % round(i * step, 6), "middle"))
    out.append(svg_text(scale.right, y + 31, "ms since t_start", "end"))
    return out, y + 40


def svg_initcalls(scale, report, y):
    """The slowest initcalls of the boot (not those of modules loaded
    after it), one row each, in time order."""
    out = [svg_text(scale.left, y + 12, "%d slowest initcalls" % report["top"],
                    extra=' font-weight="bold"')]
    y += ROW_PX + 4
    total = report["total_ns"]
    in_boot = [ic for ic in report["slowest"] if ic["start_ns"] >= 0 and
               ic["start_ns"] + ic["duration_ns"] <= total]
    for ic in sorted(in_boot, key=lambda ic: ic["start_ns"]):
        x, width = scale.span(ic["start_ns"], ic["duration_ns"])
        out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%d" '
                   'fill="#e15759"/>' % (x, y + 2, width, ROW_PX - 4))
        out.append(label_beside(scale, x, width, y + ROW_PX - 4, "%s %s ms" % (
            ic["name"], ms(ic["duration_ns"]))))
        y += ROW_PX
    return out, y


def svg_legend(scale, report, y):
    """Every phase with its numbers, also those too narrow to label."""
    total = report["total_ns"] or 1
    out = []
    y += 8
    for i, p in enumerate(report["phases"]):
        out.append('<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/>'
                   % (scale.left, y + 2, PALETTE[i % len(PALETTE)]))
        out.append(svg_text(scale.left + 16, y + 11, "%-22s start %10s ms  "
                            "%10s ms  %5.1f%%" % (
                                p["name"], ms(p["start_ns"]),
                                ms(p["duration_ns"]),
                                100.0 * p["duration_ns"] / total),
                            extra=' xml:space="preserve"'))
        y += ROW_PX
    return out, y


def render_svg(report):
    scale = TimeScale(report["total_ns"])
    title = svg_text(scale.left, 20, "boot timeline: %s ms" %
                     ms(report["total_ns"]), extra=' font-weight="bold"')
    labels_y = 30
    items = top_labels(scale, report)
    labels, lanes, band_y = svg_top_labels(scale, items, labels_y)
    band_y += 4
    bands, y = svg_phases(scale, report["phases"], band_y)
    axis, y = svg_axis(scale, report["total_ns"], y)
    bars, chart_bottom = svg_initcalls(scale, report, y)
    legend, height = svg_legend(scale, report, chart_bottom)
    leaders = svg_leaders(items, lanes, labels_y, band_y, chart_bottom)
    return "\n".join(
        ['<?xml version="1.0" encoding="UTF-8"?>',
         '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
         'font-family="monospace" font-size="%d">' % (SVG_WIDTH, height + 10,
                                                      FONT_PX),
         '<rect width="100%" height="100%" fill="#fff"/>', title]
        + bands + axis + bars + leaders + labels + legend + ["</svg>"]) + "\n"


# ---------------------------------------------------------------- command

def folded_text(report):
    return "".join(line + "\n" for line in report["profile"]["folded"])


def write_outputs(out_dir, report, text):
    """report.txt, report.json, boot.svg; with samples also folded.txt
    and flame.svg."""
    os.makedirs(out_dir, exist_ok=True)
    outputs = [("report.txt", text), ("report.json", render_json(report)),
               ("boot.svg", render_svg(report))]
    if report["profile"]:
        outputs += [("folded.txt", folded_text(report)),
                    ("flame.svg", htflame.render(
                        report["profile"]["folded"], "boot profile"))]
    for name, content in outputs:
        with open(os.path.join(out_dir, name), "w") as f:
            f.write(content)


def write_folded(path, report):
    if not report["profile"]:
        raise Error("the trace has no hypertrace_sample events, so no "
                    "folded stacks (fix: record with -device "
                    "hypertrace,sample-hz=1000)")
    with open(path, "w") as f:
        f.write(folded_text(report))


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Boot-time report of a hypertrace trace.")
    ap.add_argument("trace", help="simpletrace file, or LTTng CTF directory")
    ap.add_argument("--symbols", action="append", default=[], metavar="FILE",
                    help="System.map, /proc/kallsyms copy or ELF; the "
                         "first names probes and initcalls, all name "
                         "samples (repeatable)")
    ap.add_argument("--user-symbols", action="append", default=[],
                    metavar="ELF", help="user program (repeatable)")
    ap.add_argument("--out", metavar="DIR",
                    help="write report.txt, report.json and boot.svg here, "
                         "and with samples folded.txt and flame.svg")
    ap.add_argument("--folded", metavar="FILE",
                    help="write the samples' folded stacks here")
    ap.add_argument("--json", action="store_true",
                    help="print the JSON report instead of the text")
    ap.add_argument("--top", type=int, default=10, metavar="N",
                    help="slowest initcalls to list (default 10)")
    ap.add_argument("--build", default=os.path.join(TOP, "build"),
                    help="build directory of the QEMU that wrote the trace")
    ap.add_argument("--events", metavar="FILE",
                    help="trace-events file (default: the build's "
                         "trace-events-all)")
    return ap.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["diff"]:
        import htdiff
        return htdiff.main(argv[1:])
    args = parse_args(argv)
    try:
        events = load_trace(args.trace, os.path.abspath(args.build),
                            args.events)
        tables = [load_symbols(path) for path in args.symbols] or [Symbols()]
        report = analyze(events, tables[0],
                         load_user_symbols(args.user_symbols), args.top,
                         tables[1:])
        text = render_text(report)
        if args.out:
            write_outputs(args.out, report, text)
        if args.folded:
            write_folded(args.folded, report)
    except Error as e:
        print("htboot: error: %s" % e, file=sys.stderr)
        return 2
    except OSError as e:
        print("htboot: error: cannot write %s: %s (fix: pass a writable "
              "--out directory)" % (e.filename, e.strerror), file=sys.stderr)
        return 2
    sys.stdout.write(render_json(report) if args.json else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
