"""scripts/htboot.py, the boot-time analyzer, on synthetic traces: a
simpletrace v4 file written here (the probe and milestone events are not
in the built QEMU yet), a CTF trace written through babeltrace2, and a
small System.map with initcall entry symbols."""

import gzip
import importlib.util
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from htlib import BUILD, TOP, Skip, check, check_eq

sys.path.insert(0, os.path.join(TOP, "scripts"))
import htboot  # noqa: E402

HTBOOT = os.path.join(TOP, "scripts", "htboot.py")

TRACE_EVENTS = """\
hypertrace_event(uint32_t ring, uint32_t id, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t tsc, uint64_t ns) "ring=%u id=%u"
hypertrace_sync(uint32_t client, uint32_t id, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5) "client=%u id=%u"
hypertrace_lost(uint32_t ring, uint64_t count) "ring=%u count=%" PRIu64
hypertrace_guest_error(uint32_t ring, uint32_t code, uint64_t value) "ring=0x%x code=%u"
hypertrace_hypercall(int cpu, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3) "cpu=%d nr=%" PRIu64
hypertrace_probe(uint32_t cpu, uint32_t ret, uint64_t addr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, const char *name) "cpu=%u ret=%u name=%s"
hypertrace_milestone(uint32_t cpu, uint64_t addr, const char *name) "cpu=%u name=%s"
"""

SYSTEM_MAP = """\
ffffffff81000000 T _text
ffffffff81001000 T start_kernel
ffffffff81002000 T do_one_initcall
ffffffff81003000 t init_hw_perf_events
ffffffff81004000 t foo_init
ffffffff81004000 t foo_init_alias
ffffffff81005000 t bar_init2
ffffffff81006000 t populate_rootfs
ffffffff81007000 t late_thing
ffffffff81008000 t no_entry_fn
ffffffff81009000 T run_init_process
ffffffff8100a000 T do_populate_rootfs
ffffffff8100b000 T kfunc
ffffffff82000000 D __initcall_start
ffffffff82000000 d __initcall__kmod_core__391_2229_init_hw_perf_eventsearly
ffffffff82000004 D __initcall0_start
ffffffff82000004 D __initcall1_start
ffffffff82000004 d __initcall__kmod_foo__12_345_foo_init1
ffffffff82000008 D __initcall2_start
ffffffff82000008 D __initcall3_start
ffffffff82000008 D __initcall4_start
ffffffff82000008 D __initcall5_start
ffffffff82000008 d __initcall__kmod_initramfs__400_10_populate_rootfsrootfs
ffffffff8200000c D __initcall6_start
ffffffff8200000c d __initcall__kmod_bar__1_2_bar_init26s
ffffffff82000010 D __initcall7_start
ffffffff82000010 d __initcall__kmod_late__3_4_late_thing7
ffffffff82000014 D __initcall_end
ffffffffc0001000 t mod_init\t[mymod]
this line is garbage

0000000000000000 T hidden_by_kptr_restrict
"""

USER_MAP = ["0000000000401000 T main", "0000000000401100 T ring_fn"]

FN = {"start_kernel": 0xffffffff81001000,
      "do_one_initcall": 0xffffffff81002000,
      "init_hw_perf_events": 0xffffffff81003000,
      "foo_init": 0xffffffff81004000,
      "bar_init2": 0xffffffff81005000, "populate_rootfs": 0xffffffff81006000,
      "late_thing": 0xffffffff81007000, "no_entry_fn": 0xffffffff81008000,
      "run_init_process": 0xffffffff81009000,
      "do_populate_rootfs": 0xffffffff8100a000, "kfunc": 0xffffffff8100b000,
      "probed_inner": 0xffffffff8100c000, "unmapped": 0xffffffff8100f000,
      "mod_init": 0xffffffffc0001000, "main": 0x401000, "ring_fn": 0x401100}

RESET = 5000000000   # t_start on the trace clock: 5 s after it began
MS = 1000000


# ---------------------------------------------------------------- scenario

def probe(rel, name, ret=0, cpu=0, a0=0, fn=None):
    """A probe record of function `name`; a do_one_initcall entry passes
    the initcall's address as a0."""
    args = dict(cpu=cpu, ret=ret, addr=FN[name], a0=a0, a1=0, a2=0, a3=0,
                a4=0, a5=0, name=name)
    return ("hypertrace_probe", RESET + rel, args)


def initcall(start, end, fn_addr, ret=0, cpu=0):
    """Entry and return of do_one_initcall(fn_addr) returning ret."""
    return [probe(start, "do_one_initcall", cpu=cpu, a0=fn_addr),
            probe(end, "do_one_initcall", ret=1, cpu=cpu, a0=ret)]


def milestone(rel, name):
    return ("hypertrace_milestone", RESET + rel,
            dict(cpu=0, addr=0xfffffff0, name=name))


def hypercall(rel, nr, a0=0, a1=0):
    return ("hypertrace_hypercall", RESET + rel,
            dict(cpu=0, nr=nr, a0=a0, a1=a1, a2=0, a3=0))


def ring(rel, ev_id, a0=0, a1=0):
    return ("hypertrace_event", RESET + rel,
            dict(ring=1, id=ev_id, a0=a0, a1=a1, a2=0, a3=0, a4=0, a5=0,
                 tsc=12345, ns=RESET + rel))


def boot_events():
    """A boot with every phase, in (name, absolute ns, {args}) form."""
    return ([hypercall(-500, 7),
             milestone(0, "reset"),
             milestone(999000, "firmware_exit"),
             milestone(1099000, "kernel_entry"),
             probe(1999000, "start_kernel")]
            + initcall(9 * MS, 9500000, FN["init_hw_perf_events"])
            + initcall(19 * MS, 22 * MS, FN["foo_init"], ret=2**64 - 12)
            + initcall(29 * MS, 29100000, FN["populate_rootfs"])
            + [probe(29050000, "do_populate_rootfs", cpu=1),
               probe(79 * MS, "do_populate_rootfs", ret=1, cpu=1)]
            + initcall(39 * MS, 40 * MS, FN["no_entry_fn"])
            + initcall(49 * MS, 49500000, FN["unmapped"])
            # garbage in rax's high half: an int return is its low half
            + initcall(59 * MS, 61 * MS, FN["bar_init2"], ret=0x1ffffffed)
            + [probe(69 * MS, "do_one_initcall", a0=FN["late_thing"]),
               probe(70 * MS, "probed_inner"),   # its return never came
               probe(74 * MS, "do_one_initcall", ret=1, a0=0),
               probe(89 * MS, "run_init_process"),
               probe(89500000, "run_init_process", ret=1),
               hypercall(90 * MS, 2000, FN["main"], 0),
               ring(91 * MS, 2000, FN["ring_fn"], 0),
               ring(92 * MS, 2000, FN["ring_fn"], 1),
               hypercall(94 * MS, 2000, FN["main"], 1),
               hypercall(95 * MS, 1000, FN["kfunc"], 0),
               hypercall(95250000, 1000, FN["kfunc"], 1),
               ("hypertrace_sync", RESET + 96 * MS,
                dict(client=0, id=300, a0=0, a1=0, a2=0, a3=0, a4=0, a5=0)),
               ("hypertrace_lost", RESET + 97 * MS, dict(ring=1, count=3)),
               ("dropped", RESET + 97500000, dict(num_events_dropped=2)),
               ("hypertrace_guest_error", RESET + 98 * MS,
                dict(ring=1, code=2, value=0))]
            # a module's initcall, after user space started
            + initcall(99 * MS, 99100000, FN["mod_init"]))


WANT_PHASES = [("firmware", 0, 999000),
               ("kernel setup", 999000, 1000000),
               ("kernel early", 1999000, 7001000),
               ("initcalls: early", 9 * MS, 10 * MS),
               ("initcalls: core", 19 * MS, 10 * MS),
               ("initcalls: fs", 29 * MS, 30 * MS),
               ("initcalls: device", 59 * MS, 10 * MS),
               ("initcalls: late", 69 * MS, 5 * MS),
               ("kernel late", 74 * MS, 15 * MS),
               ("user space", 89 * MS, 5 * MS)]

WANT_SLOWEST = [("late_thing", "late", 5 * MS, 0),
                ("foo_init", "core", 3 * MS, -12),
                ("bar_init2", "device", 2 * MS, -19),
                ("no_entry_fn", "unknown", 1 * MS, 0),
                ("init_hw_perf_events", "early", 500000, 0),
                ("0xffffffff8100f000", "unknown", 500000, 0),
                ("populate_rootfs", "fs", 100000, 0),
                ("0xffffffffc0001000", "unknown", 100000, 0)]


# ---------------------------------------------------------------- writers

def event_signatures(text):
    """name -> [(arg name, is string)] of trace-events lines."""
    sigs = {"dropped": [("num_events_dropped", False)]}
    for m in re.finditer(r"^(\w+)\((.*?)\)", text, re.M):
        sigs[m.group(1)] = [(arg.split()[-1].lstrip("*"), "char" in arg)
                            for arg in m.group(2).split(",")]
    return sigs


def write_simpletrace(path, events, pid=4242):
    """A simpletrace v4 file as QEMU's trace/simple.c writes it: header,
    then a mapping record before each event's first record."""
    sigs = event_signatures(TRACE_EVENTS)
    ids = {"dropped": 0xfffffffffffffffe}
    with open(path, "wb") as f:
        f.write(struct.pack("=QQQ", 0xffffffffffffffff, 0xf2b177cb0aa429b4, 4))
        for name, ts, args in events:
            if name not in ids:
                ids[name] = len(ids)
                f.write(struct.pack("=QQI", 0, ids[name], len(name)) +
                        name.encode())
            payload = b"".join(
                struct.pack("=I", len(args[arg])) + args[arg].encode()
                if is_string else struct.pack("=Q", args[arg])
                for arg, is_string in sigs[name])
            f.write(struct.pack("=QQQII", 1, ids[name], ts, 24 + len(payload),
                                pid) + payload)


def packets(stamped):
    """The records split into packets at each 'dropped' one (CTF counts
    discarded events between packets), and the count of each split."""
    chunks, dropped = [[]], []
    for rec in stamped:
        if rec[1] == "dropped":
            chunks.append([])
            dropped.append(rec[2]["num_events_dropped"])
        else:
            chunks[-1].append(rec)
    return chunks, dropped


def write_ctf(path, events, clock_offset_s=2, drain_lag=300000):
    """A CTF trace of the events as LTTng would record them: names with
    the qemu: provider, a clock whose origin lies clock_offset_s before
    its raw count, ring records stamped when drained (drain_lag later)
    and 'dropped' as discarded events."""
    import bt2
    offset = clock_offset_s * 1000000000
    sigs = event_signatures(TRACE_EVENTS)
    stamped = sorted(
        ((ts - offset + (drain_lag if name == "hypertrace_event" else 0),
          name, dict(args, ns=args["ns"] - offset) if "ns" in args else args)
         for name, ts, args in events), key=lambda e: e[0])

    class Iterator(bt2._UserMessageIterator):
        def __init__(self, config, port):
            source = port.user_data
            stream = source.trace_class().create_stream(source.stream_class)
            self.queue = [self._create_stream_beginning_message(stream)]
            chunks, dropped = packets(stamped)
            prev_end = chunks[0][0][0]
            for i, chunk in enumerate(chunks):
                end = chunk[-1][0]
                if i:
                    self.queue.append(self._create_discarded_events_message(
                        stream, dropped[i - 1], prev_end, end))
                packet = stream.create_packet()
                self.queue.append(
                    self._create_packet_beginning_message(packet, prev_end))
                for clock, name, args in chunk:
                    msg = self._create_event_message(
                        source.classes[name], packet, clock)
                    for arg, value in args.items():
                        msg.event.payload_field[arg] = value
                    self.queue.append(msg)
                self.queue.append(self._create_packet_end_message(packet, end))
                prev_end = end
            self.queue.append(self._create_stream_end_message(stream))

        def __next__(self):
            if not self.queue:
                raise StopIteration
            return self.queue.pop(0)

    class Source(bt2._UserSourceComponent, message_iterator_class=Iterator):
        def __init__(self, config, params, obj):
            self.trace_class = self._create_trace_class()
            clock = self._create_clock_class(
                frequency=1000000000,
                offset=bt2.ClockClassOffset(clock_offset_s))
            self.stream_class = self.trace_class.create_stream_class(
                default_clock_class=clock, supports_packets=True,
                packets_have_beginning_default_clock_snapshot=True,
                packets_have_end_default_clock_snapshot=True,
                supports_discarded_events=True,
                discarded_events_have_default_clock_snapshots=True)
            self.classes = {}
            for name, fields in sigs.items():
                payload = self.trace_class.create_structure_field_class()
                for arg, is_string in fields:
                    payload.append_member(
                        arg, self.trace_class.create_string_field_class()
                        if is_string else
                        self.trace_class.create_unsigned_integer_field_class(
                            64))
                self.classes[name] = self.stream_class.create_event_class(
                    name="qemu:" + name, payload_field_class=payload)
            self._add_output_port("out", self)

    graph = bt2.Graph()
    source = graph.add_component(Source, "source")
    sink = graph.add_component(
        bt2.find_plugin("ctf").sink_component_classes["fs"], "sink",
        params={"path": path, "assume-single-trace": True, "quiet": True})
    graph.connect_ports(source.output_ports["out"], sink.input_ports["in"])
    graph.run()


def workdir():
    return tempfile.mkdtemp(prefix="ht-boot-")


def write_inputs(tmp, events):
    """The trace, trace-events and System.map files of a test."""
    paths = {k: os.path.join(tmp, k) for k in ("trace", "events", "map")}
    write_simpletrace(paths["trace"], events)
    for key, text in (("events", TRACE_EVENTS), ("map", SYSTEM_MAP)):
        with open(paths[key], "w") as f:
            f.write(text)
    return paths


def boot_report(events=None, top=10):
    tmp = workdir()
    try:
        paths = write_inputs(tmp, events or boot_events())
        trace = htboot.load_trace(paths["trace"], BUILD, paths["events"])
        return htboot.analyze(trace, htboot.load_symbols(paths["map"]),
                              htboot.Symbols(htboot.parse_symbols(USER_MAP)),
                              top)
    finally:
        shutil.rmtree(tmp)


def htboot_cli(*args):
    return subprocess.run(["/usr/bin/python3", HTBOOT] + list(args),
                          text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120)


def phase_rows(report):
    return [(p["name"], p["start_ns"], p["duration_ns"])
            for p in report["phases"]]


# ---------------------------------------------------------------- tests

def test_symbols_and_initcall_levels():
    symbols = htboot.Symbols(htboot.parse_symbols(SYSTEM_MAP.splitlines()))
    check_eq(symbols.levels, {
        "init_hw_perf_events": "early", "foo_init": "core",
        "populate_rootfs": "fs", "bar_init2": "device",
        "late_thing": "late"}, "initcall levels")
    check_eq(symbols.name(FN["mod_init"]), None, "a module symbol is ignored")
    check_eq(symbols.name(0), None, "a zeroed kallsyms address is ignored")
    check_eq(symbols.initcall(FN["foo_init"]), ("foo_init", "core"),
             "an alias at the same address")
    check_eq(symbols.initcall(FN["no_entry_fn"]), ("no_entry_fn", "unknown"),
             "a function without entry symbol")
    check_eq(symbols.initcall(FN["unmapped"]), (None, "unknown"), "no symbol")
    for entry, level, fn in (
            ("__initcall__kmod_x__1_2_foo66", "device", "foo6"),
            ("__initcall__kmod_x__1_2_foo6s", "device", "foo"),
            ("__initcall__kmod_page_alloc__9_10_f_initrootfs", "fs", "f_init"),
            ("__initcall_legacy_init4s", "subsys", "legacy_init"),
            ("__initcall__kmod_x__1_2_foo6", "late", None),
            ("__initcall_start", "early", None),
            ("not_an_entry6", "device", None)):
        check_eq(htboot.initcall_fn(entry, level), fn, entry)


def test_signed_returns():
    check_eq(htboot.signed(2**64 - 12, 32), -12, "int -12")
    check_eq(htboot.signed(0x1ffffffed, 32), -19, "high half ignored")
    check_eq(htboot.signed(0x80000000, 64), 0x80000000, "positive u64")
    check_eq(htboot.signed(2**64 - 1, 64), -1, "long -1")


def test_phases_add_up_to_the_total():
    report = boot_report()
    check_eq(phase_rows(report), WANT_PHASES, "phases")
    check_eq(report["total_ns"], 94 * MS, "total: reset to /init's exit")
    check_eq(sum(p["duration_ns"] for p in report["phases"]),
             report["total_ns"], "sum of the phases")
    check_eq((report["t_start_ns"], report["t_end_ns"]),
             (RESET, RESET + 94 * MS), "absolute bounds")


def test_initcalls_levels_and_slowest():
    report = boot_report()
    check_eq([(ic["name"], ic["level"], ic["start_ns"], ic["duration_ns"],
               ic["ret"]) for ic in report["initcalls"]][:3],
             [("init_hw_perf_events", "early", 9 * MS, 500000, 0),
              ("foo_init", "core", 19 * MS, 3 * MS, -12),
              ("populate_rootfs", "fs", 29 * MS, 100000, 0)],
             "first initcalls")
    check_eq(len(report["initcalls"]), 8, "initcalls")
    check_eq([(ic["name"], ic["level"], ic["duration_ns"], ic["ret"])
              for ic in report["slowest"]], WANT_SLOWEST,
             "slowest, ties by start time")
    check_eq(report["levels"], {"early": 1, "core": 1, "fs": 1, "device": 1,
                                "late": 1, "unknown": 3}, "levels")
    check_eq((report["unresolved"], report["unknown_level"]), (2, 3),
             "unresolved addresses, unknown levels")
    top3 = boot_report(top=3)
    check_eq([ic["name"] for ic in top3["slowest"]],
             [s[0] for s in WANT_SLOWEST[:3]], "--top 3")


def test_markers_counts_and_lost():
    report = boot_report()
    check_eq([(m["kind"], m["name"], m["start_ns"], m["duration_ns"],
               m["ret"], m["phase"]) for m in report["markers"]],
             [("milestone", "reset", 0, None, None, "firmware"),
              ("milestone", "firmware_exit", 999000, None, None,
               "kernel setup"),
              ("milestone", "kernel_entry", 1099000, None, None,
               "kernel setup"),
              ("probe", "start_kernel", 1999000, None, None, "kernel early"),
              ("probe", "do_populate_rootfs", 29050000, 49950000, 0,
               "initcalls: fs"),
              ("probe", "probed_inner", 70 * MS, None, None,
               "initcalls: late"),
              ("probe", "run_init_process", 89 * MS, 500000, 0,
               "user space")], "markers")
    check_eq(report["counts"], {
        "channels": {"dropped": 1, "guest_error": 1, "hypercall": 5,
                     "lost": 1, "milestone": 3, "probe": 22, "ring": 2,
                     "sync": 1},
        "hypercall_nr": {"7": 1, "1000": 2, "2000": 2},
        "ring_id": {"2000": 2}}, "counts")
    check_eq(report["lost"], 5, "hypertrace_lost counts + dropped")
    check_eq([(f["space"], f["name"], f["calls"], f["total_ns"])
              for f in report["functions"]],
             [("user", "main", 1, 4 * MS), ("user", "ring_fn", 1, 1 * MS),
              ("kernel", "kfunc", 1, 250000)], "guest-reported functions")


def test_phases_without_milestones_or_user_space():
    """No firmware milestones, no run_init_process or user events, the
    last initcall never returned: t_start is the first event, the boot
    ends at the last one."""
    events = ([hypercall(0, 7), probe(1 * MS, "start_kernel")]
              + initcall(2 * MS, 3 * MS, FN["foo_init"])
              + [probe(4 * MS, "do_one_initcall", a0=FN["bar_init2"]),
                 hypercall(9 * MS, 7)])
    report = boot_report(events)
    check_eq(phase_rows(report),
             [("kernel setup", 0, 1 * MS), ("kernel early", 1 * MS, 1 * MS),
              ("initcalls: core", 2 * MS, 2 * MS),
              ("initcalls: device", 4 * MS, 0),
              ("kernel late", 4 * MS, 5 * MS)], "phases")
    check_eq(report["total_ns"], 9 * MS, "total")
    check_eq((report["start_at"], report["end_at"]),
             ("the first event", "the last event"), "bounds")
    check_eq(report["initcalls"][-1]["duration_ns"], None, "no return")
    check_eq([ic["name"] for ic in report["slowest"]], ["foo_init"],
             "only returned initcalls rank")


def test_user_start_without_run_init_process():
    events = (initcall(0, 1 * MS, FN["foo_init"])
              + [ring(3 * MS, 2000, FN["ring_fn"], 0),
                 ring(5 * MS, 2000, FN["ring_fn"], 1), hypercall(6 * MS, 7)])
    check_eq(phase_rows(boot_report(events)),
             [("kernel early", 0, 0), ("initcalls: core", 0, 1 * MS),
              ("kernel late", 1 * MS, 2 * MS),
              ("user space", 3 * MS, 2 * MS)],
             "the first user event starts user space")


def test_text_report():
    text = htboot.render_text(boot_report())
    lines = text.splitlines()
    check_eq(lines[0], "boot: 94.000 ms from reset to the last user-space "
             "function exit", "headline")
    for want in ("initcalls: fs                  29.000       30.000    31.9",
                 "total                                       94.000   100.0",
                 "10 slowest initcalls",
                 "   1        5.000      0  late     late_thing",
                 "   2        3.000    -12  core     foo_init",
                 "   6        0.500      0  unknown  0xffffffff8100f000",
                 "initcalls per level: early 1, core 1, fs 1, device 1, "
                 "late 1, unknown 3 (8 in all)",
                 "unresolved initcall addresses: 2",
                 "events per channel: probe 22, milestone 3, hypercall 5, "
                 "ring 2, sync 1, dropped 1, guest_error 1, lost 1",
                 "lost: 5"):
        check(want in lines, "no line %r in:\n%s" % (want, text))
    check_eq(htboot.render_text(boot_report()), text, "deterministic")


def test_cli_writes_text_json_and_svg():
    tmp = workdir()
    try:
        paths = write_inputs(tmp, boot_events())
        out = os.path.join(tmp, "out")
        run = htboot_cli(paths["trace"], "--symbols", paths["map"],
                         "--events", paths["events"], "--out", out,
                         "--top", "5")
        check_eq(run.returncode, 0, "exit status\n" + run.stderr)
        with open(os.path.join(out, "report.txt")) as f:
            check_eq(f.read(), run.stdout, "report.txt is the printed text")
        check("5 slowest initcalls" in run.stdout, run.stdout)
        with open(os.path.join(out, "report.json")) as f:
            report = json.load(f)
        check_eq([(p["name"], p["start_ns"], p["duration_ns"])
                  for p in report["phases"]], WANT_PHASES, "JSON phases")
        check_eq(report["total_ns"], 94 * MS, "JSON total")
        check_eq([ic["name"] for ic in report["slowest"]],
                 [s[0] for s in WANT_SLOWEST[:5]], "JSON slowest")
        check_eq(len(report["initcalls"]), 8, "JSON initcalls")
        check_eq((report["lost"], report["unresolved"]), (5, 2),
                 "JSON lost, unresolved")
        check_eq(report["functions"][0]["name"], "0x401000",
                 "no --user-symbols: user addresses stay numbers")
        svg = ET.parse(os.path.join(out, "boot.svg")).getroot()
        check_eq(svg.tag, "{http://www.w3.org/2000/svg}svg", "SVG root")
        texts = " ".join("".join(t.itertext()) for t in svg.iter()
                         if t.tag.endswith("text"))
        for name, _start, _dur in WANT_PHASES:
            check(name in texts, "phase %r not in the SVG" % name)
        check("late_thing 5.000 ms" in texts, "initcall bar label")
        check("firmware_exit" in texts, "milestone label")
        run_json = htboot_cli(paths["trace"], "--symbols", paths["map"],
                              "--events", paths["events"], "--json")
        check_eq(json.loads(run_json.stdout)["phases"], report["phases"],
                 "--json prints the same report")
    finally:
        shutil.rmtree(tmp)


def test_cli_user_symbols_from_an_elf():
    elf = os.path.join(BUILD, "ours", "hcuser")
    if not os.path.exists(elf):
        raise Skip("no %s (make ours builds it)" % elf)
    nm = subprocess.run(["nm", "--defined-only", elf], text=True,
                        stdout=subprocess.PIPE).stdout
    main = int(re.search(r"^([0-9a-f]+) T main$", nm, re.M).group(1), 16)
    events = ([probe(0, "start_kernel"), hypercall(1 * MS, 2000, main, 0),
               hypercall(3 * MS, 2000, main, 1)])
    tmp = workdir()
    try:
        paths = write_inputs(tmp, events)
        run = htboot_cli(paths["trace"], "--events", paths["events"],
                         "--user-symbols", elf, "--json")
        check_eq(run.returncode, 0, run.stderr)
        check_eq([(f["name"], f["total_ns"])
                  for f in json.loads(run.stdout)["functions"]],
                 [("main", 2 * MS)], "user function named by nm")
    finally:
        shutil.rmtree(tmp)


def test_ctf_trace_gives_the_same_report():
    if importlib.util.find_spec("bt2") is None:
        raise Skip("python3-bt2 not installed")
    tmp = workdir()
    try:
        ctf = os.path.join(tmp, "ctf")
        # where LTTng puts a per-user 64-bit trace of a session
        write_ctf(os.path.join(ctf, "ust", "uid", "0", "64-bit"),
                  boot_events())
        events = htboot.load_trace(ctf, BUILD)
        check_eq(events[0][0], "hypertrace_hypercall", "qemu: prefix stripped")
        ring_times = [ts for name, ts, _p, _a in events
                      if name == "hypertrace_event"]
        check_eq(ring_times, [RESET + 91 * MS, RESET + 92 * MS],
                 "ring records at their own time, not their drain time")
        with open(os.path.join(tmp, "map"), "w") as f:
            f.write(SYSTEM_MAP)
        report = htboot.analyze(
            events, htboot.load_symbols(os.path.join(tmp, "map")),
            htboot.Symbols(htboot.parse_symbols(USER_MAP)))
        want = boot_report()
        for key in want:
            check_eq(report[key], want[key], "CTF report's %s" % key)
    finally:
        shutil.rmtree(tmp)


def test_errors_exit_2_with_cause_and_fix():
    tmp = workdir()
    try:
        garbage = os.path.join(tmp, "garbage")
        with open(garbage, "wb") as f:
            f.write(b"not a trace at all, not even 24 bytes")
        bad_ctf = os.path.join(tmp, "ctf")
        os.makedirs(bad_ctf)
        with open(os.path.join(bad_ctf, "metadata"), "w") as f:
            f.write("garbage")
        paths = write_inputs(tmp, [hypercall(0, 7), milestone(5, "reset")])
        for args, cause in (
                ([os.path.join(tmp, "missing")], "no trace at"),
                ([garbage], "cannot read trace"),
                ([bad_ctf], "babeltrace2: "),
                ([os.path.join(TOP, "docs")], "no CTF trace"),
                ([paths["trace"]], "no hypertrace_probe events"),
                ([paths["trace"], "--symbols", os.path.join(tmp, "nomap")],
                 "cannot read symbols")):
            run = htboot_cli(*(args + ["--events", paths["events"]]))
            check_eq(run.returncode, 2, "exit status of %s" % cause)
            check_eq(run.stdout, "", "stdout of %s" % cause)
            err = run.stderr.strip()
            check(cause in err and "fix:" in err and "\n" not in err,
                  "one line with cause and fix, got: %r" % err)
    finally:
        shutil.rmtree(tmp)


def test_records_of_other_event_formats_are_refused():
    try:
        htboot.analyze([("hypertrace_probe", 0, 0, {"cpu": 0, "ret": 0})])
    except htboot.Error as e:
        check("hypertrace_probe records lack addr, a0" in str(e), str(e))
    else:
        raise AssertionError("records without addr were analyzed")


def test_recorded_boot_fixture():
    """A real trace (make demo: Debian's kernel under TCG, KASLR on) and
    its report, exactly; the fixture's own facts checked on their own."""
    data = os.path.join(TOP, "tests", "data", "boot")
    tmp = workdir()
    try:
        trace = os.path.join(tmp, "trace.simple")
        with gzip.open(os.path.join(data, "trace.simple.gz")) as f, \
                open(trace, "wb") as g:
            shutil.copyfileobj(f, g)
        run = htboot_cli(trace, "--symbols", os.path.join(data, "System.map"),
                         "--events", os.path.join(TOP, "hw", "hypertrace",
                                                  "trace-events"), "--json")
        check_eq(run.returncode, 0, run.stderr)
        report = json.loads(run.stdout)
        check_eq((len(report["initcalls"]), report["unresolved"],
                  report["unknown_level"], report["lost"]), (666, 0, 0, 0),
                 "initcalls, unresolved, unknown level, lost")
        check_eq(report["kaslr_offset"], 278 << 20, "KASLR offset")
        check_eq(sum(p["duration_ns"] for p in report["phases"]),
                 report["total_ns"], "phases add up")
        check_eq(report["slowest"][0]["name"], "crypto_algapi_init",
                 "slowest initcall")
        run = htboot_cli(trace, "--symbols", os.path.join(data, "System.map"),
                         "--events", os.path.join(TOP, "hw", "hypertrace",
                                                  "trace-events"))
        with open(os.path.join(data, "report.txt")) as f:
            check_eq(run.stdout, f.read(), "report of the recorded boot")
    finally:
        shutil.rmtree(tmp)
