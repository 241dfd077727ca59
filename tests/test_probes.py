"""Host-side probes on an unmodified bare-metal guest under TCG: exact
entries, arguments, returns and milestones; errors for bad input; and a
guest that cannot tell whether it is probed."""

import os
import tempfile

import htlib
from htlib import check, check_eq, qemu_output, run_guest

ELF64 = "probed-elf64"


def elf_path(binary=ELF64):
    return os.path.join(htlib.GUESTS, binary)


def symbols(binary=ELF64):
    """name -> address, from nm."""
    return {name: addr for addr, name in
            htlib.nm_symbols(os.path.join(htlib.GUESTS, binary))}


def function_of(addr, syms):
    """The text symbol that holds @addr."""
    return max(((a, n) for n, a in syms.items() if a <= addr))[1]


def probe_run(device_args, **kw):
    return run_guest("probed.elf", device="hypertrace," + device_args, **kw)


def probe_events(run):
    """(kind, name, values...) in trace order."""
    out = []
    for name, _ts, _pid, a in run.events():
        if name == "hypertrace_milestone":
            out.append(("milestone", a["name"], a["addr"]))
        elif name == "hypertrace_probe" and a["ret"] == 0:
            out.append(("entry", a["name"], a["addr"],
                        tuple(a["a%d" % i] for i in range(6))))
        elif name == "hypertrace_probe":
            out.append(("return", a["name"], a["addr"], a["a0"], a["a1"]))
    return out


def expected(syms):
    def entry(name, *args):
        return ("entry", name, syms[name], tuple(args))

    def ret(name, value):
        return ("return", name, syms[name], value % 2 ** 64)

    by_address = "0x%x" % syms["by_address"]
    start = syms["_start"]
    return [
        ("milestone", "reset", 0xfffffff0),
        ("milestone", "firmware_exit", start),
        ("milestone", "kernel_entry", start),
        entry("probe_sum6", 1, 2, 3, 4, 5, 6), ret("probe_sum6", 91),
        entry("probe_fact", 4), entry("probe_fact", 3),
        entry("probe_fact", 2), entry("probe_fact", 1),
        ret("probe_fact", 1), ret("probe_fact", 2), ret("probe_fact", 6),
        ret("probe_fact", 24),
        entry("probe_negate", 7), ret("probe_negate", -7),
        ("entry", by_address, syms["by_address"], (0,)),
        ("return", by_address, syms["by_address"], 0x5a5a),
        ("entry", by_address, syms["by_address"], (1,)),
        ("return", by_address, syms["by_address"], 0x5a5b),
        entry("probe_sum6", 10, 20, 30, 40, 50, 60), ret("probe_sum6", 910),
    ]


def normalize(got, want):
    """Drop return sites, and entry arguments beyond those the callee
    takes: the other registers hold whatever they held."""
    out = []
    for i, g in enumerate(got):
        w = want[i] if i < len(want) else ()
        if g[0] == "entry" and w[:1] == ("entry",):
            g = g[:3] + (g[3][:len(w[3])],)
        out.append(g[:4])
    return out


def check_probe_trace(run, syms):
    check_eq(run.status, 1, "exit status\n" + run.serial + run.stderr)
    want = expected(syms)
    got = normalize(probe_events(run), want)
    check_eq(got, want, "probe events")


def test_probes_exact_entries_returns_milestones():
    syms = symbols()
    run = probe_run("symbols=%s,probes=probe_*:0x%x" %
                    (os.path.join(htlib.GUESTS, ELF64), syms["by_address"]))
    check_probe_trace(run, syms)
    sites = [(e[1], function_of(e[4], syms)) for e in probe_events(run)
             if e[0] == "return"]
    check_eq([caller for name, caller in sites if name == "probe_fact"],
             ["probe_fact"] * 3 + ["guest_main"], "probe_fact return sites")
    stamps = [ts for _n, ts, _p, _a in run.events()]
    check(stamps == sorted(stamps), "timestamps out of order")


def test_probes_system_map_and_elf32_agree():
    """A System.map (nm's output) and the ELF32 image give the same trace."""
    syms = symbols()
    with tempfile.NamedTemporaryFile("w", suffix=".map") as m:
        m.write(htlib.nm(os.path.join(htlib.GUESTS, ELF64)))
        m.flush()
        for source in (m.name, os.path.join(htlib.GUESTS, "probed.elf")):
            run = probe_run("symbols=%s,probes=probe_*:0x%x" %
                            (source, syms["by_address"]))
            check_probe_trace(run, syms)


def test_unprobed_guest_sees_no_difference():
    syms = symbols()
    probed = probe_run("symbols=%s,probes=probe_*:by_address:not_probed" %
                       os.path.join(htlib.GUESTS, ELF64))
    plain = run_guest("probed.elf", device=None)
    off = probe_run("milestones=off")
    for run in (probed, plain, off):
        check_eq((run.status, run.serial), (1, plain.serial),
                 "guest output and exit status")
    check("probed: total=" in plain.serial, plain.serial)
    check_eq([e for e in probe_events(off)], [], "events with no probes")
    check_eq(len([e for e in probe_events(probed) if e[1] == "not_probed"]),
             4, "not_probed probed by name: 2 calls, 2 returns")
    check_eq(syms["not_probed"] > 0, True, "symbol")


def test_probe_errors_name_the_fix():
    elf = os.path.join(htlib.GUESTS, ELF64)
    with tempfile.NamedTemporaryFile("w", suffix=".map") as bad, \
            tempfile.NamedTemporaryFile("wb", suffix=".elf") as cut:
        bad.write("0000000000100000 T fine\nthis is not a map\n")
        bad.flush()
        with open(elf, "rb") as f:
            cut.write(f.read(256))      # the header, not the sections
        cut.flush()
        cases = [
            ("probes=probe_sum6",
             "probes=probe_sum6 names a symbol, but no symbols= file is "
             "given"),
            ("symbols=%s,probes=nosuch" % elf,
             "probes=nosuch: no such symbol in symbols=%s" % elf),
            ("symbols=%s,probes=zz*" % elf,
             "probes=zz* matches no function in symbols=%s" % elf),
            ("probes=0xfoo", "probes=0xfoo is not a hexadecimal address"),
            ("symbols=/nonexistent.map,probes=f",
             "cannot read symbols=/nonexistent.map"),
            ("symbols=%s,probes=fine" % bad.name,
             "symbols=%s: line 2 is not 'ADDRESS TYPE NAME'" % bad.name),
            ("symbols=%s,probes=f" % cut.name,
             "symbols=%s: section header 0 lies outside the file "
             "(truncated?)" % cut.name),
            ("symbols=%s,probes=0xffffffff81000000" % elf,
             "probes=0xffffffff81000000 is a kernel address, and symbols= "
             "has no linux_banner"),
        ]
        for props, message in cases:
            status, out = qemu_output(["-M", "pc", "-display", "none",
                                       "-nodefaults", "-S",
                                       "-device", "hypertrace," + props])
            check_eq(status, 1, "exit status for " + props)
            check(message in out, "%s: no '%s' in:\n%s" % (props, message,
                                                           out))


def test_info_hypertrace_shows_probes():
    status, out = qemu_output(
        ["-M", "pc", "-display", "none", "-nodefaults", "-S",
         "-kernel", os.path.join(htlib.GUESTS, "probed.elf"),
         "-device", "hypertrace,symbols=%s,probes=probe_*" %
         os.path.join(htlib.GUESTS, ELF64), "-monitor", "stdio"],
        stdin="info hypertrace\nquit\n")
    check_eq(status, 0, "exit status\n" + out)
    check("  probes: 3 functions, 3 milestones, kernel none, 0 return "
          "sites, 0 pending, 0 untracked returns" in out, out)


def test_probes_read_the_stack_through_32bit_paging():
    """A cdecl function probed in 32-bit protected mode with 4 KiB pages,
    a 4 MiB PSE page and PAE's 2 MiB page: its stack arguments and return
    address are read through each mode's page walk."""
    elf = os.path.join(htlib.GUESTS, "paging32-elf64")
    run = run_guest("paging32.elf", trace_events="hypertrace_probe",
                    device="hypertrace,symbols=%s,probes=paged32_probed"
                    % elf)
    check_eq((run.status, run.serial.splitlines()[-1:]),
             (1, ["paging32: done"]), run.serial + run.stderr)
    calls = [(a["ret"], a["a0"], a["a1"] if a["ret"] == 0 else None)
             for _n, _t, _p, a in run.events()
             if a["name"] == "paged32_probed"]
    check_eq(calls, [(0, 0x11, 0x22), (1, 0x33, None),
                     (0, 0x33, 0x44), (1, 0x77, None),
                     (0, 0x55, 0x66), (1, 0xbb, None)],
             "entries (a0, a1) and returns (a0) under each paging mode")
