"""Boot analysis of an unmodified Linux guest (Debian's bookworm kernel
under TCG): host-side probes on do_one_initcall and boot milestones,
checked against the kernel's own initcall_debug output of the same boot;
KASLR relocation and refusal; and the boot report on that trace."""

import os
import re
import subprocess
import sys
import tempfile

import htlib
from htlib import check, check_eq, run_guest

PROBES = "do_one_initcall:start_kernel:do_populate_rootfs:run_init_process"
INITCALL_DEBUG = re.compile(r"^\[\s*[\d.]+\] calling  (\w+)\+0x0/0x[0-9a-f]+ "
                            r"@ \d+$", re.M)
_boots = {}


def kernel_and_map():
    import htkernel
    kernel = htlib.linux_kernel()
    return kernel, htkernel.kernel_symbols(htlib.BUILD, kernel)


def load_map(path):
    """address -> first name, and name -> address, of a System.map."""
    by_addr, by_name = {}, {}
    with open(path) as f:
        for line in f:
            addr, _type, name = line.split()
            by_addr.setdefault(int(addr, 16), name)
            by_name.setdefault(name, int(addr, 16))
    return by_addr, by_name


def boot(key, append, symbols=None):
    """One boot per configuration serves every test that needs it."""
    if key not in _boots:
        kernel, sysmap = kernel_and_map()
        _boots[key] = run_guest(kernel, machine="pc", timeout=300, qemu_args=[
            "-m", "512",
            "-initrd", os.path.join(htlib.GUESTS, "initramfs-demo.cpio.gz"),
            "-append", "console=ttyS0 panic=-1 rdinit=/init " + append],
            device="hypertrace,symbols=%s,probes=%s,sample-hz=1000" % (
                symbols or sysmap, PROBES))
    return _boots[key]


def debug_boot():
    return boot("debug", "nokaslr initcall_debug loglevel=8")


def initcall_entries(run):
    return [(ts, a) for name, ts, _p, a in run.events()
            if name == "hypertrace_probe" and a["name"] == "do_one_initcall"
            and a["ret"] == 0]


def console_initcalls(by_name):
    """Initcalls that console_init() runs itself, not do_one_initcall."""
    return {m.group(1) for m in (re.fullmatch(
        r"__initcall__kmod_\w+?__\d+_\d+_(\w+)con", n) for n in by_name) if m}


def test_initcalls_match_initcall_debug():
    run = debug_boot()
    check_eq(run.status, 0, "exit status (poweroff)\n" + run.stderr[-2000:])
    check("userboot: exit status 0" in run.serial, run.serial[-2000:])
    by_addr, by_name = load_map(kernel_and_map()[1])
    probed = sorted(by_addr.get(a["a0"], hex(a["a0"]))
                    for _ts, a in initcall_entries(run))
    consoles = console_initcalls(by_name)
    printed = sorted(n for n in INITCALL_DEBUG.findall(run.serial)
                     if n not in consoles)
    check(len(printed) > 500, "initcall_debug lines: %d" % len(printed))
    check_eq(len(probed), len(printed), "initcalls: probed vs initcall_debug")
    check_eq(probed, printed, "initcall names: probed vs initcall_debug")


def test_initcall_returns_match_initcall_debug():
    """Every initcall returns, with the value initcall_debug printed."""
    run = debug_boot()
    by_addr, by_name = load_map(kernel_and_map()[1])
    consoles = console_initcalls(by_name)
    stack, got = [], []
    for name, _ts, _p, a in run.events():
        if name != "hypertrace_probe" or a["name"] != "do_one_initcall":
            continue
        if a["ret"] == 0:
            stack.append(by_addr.get(a["a0"]))
        else:
            value = a["a0"] & 0xffffffff
            got.append((stack.pop(), value - (1 << 32) if value >> 31
                        else value))
    want = [(m.group(1), int(m.group(2))) for m in re.finditer(
        r"^\[\s*[\d.]+\] initcall (\w+)\+0x0/0x[0-9a-f]+ returned (-?\d+) "
        r"after", run.serial, re.M) if m.group(1) not in consoles]
    check_eq(stack, [], "initcalls that never returned")
    check_eq(sorted(got), sorted(want), "initcall return values")


def test_milestones_in_boot_order():
    run = debug_boot()
    order = [a["name"] for name, _ts, _p, a in run.events()
             if name == "hypertrace_milestone" or (
                 name == "hypertrace_probe" and a["ret"] == 0 and
                 a["name"] in ("start_kernel", "run_init_process"))]
    check_eq(order, ["reset", "firmware_exit", "kernel_entry",
                     "start_kernel", "run_init_process"], "milestone order")
    # the vCPU's own events; ring records carry the time of the event,
    # and reach the trace when the drain thread takes them
    stamps = [ts for n, ts, _p, _a in run.events()
              if n != "hypertrace_event"]
    check(stamps == sorted(stamps), "timestamps out of order")


def test_kaslr_offset_found_and_followed():
    """Without nokaslr the kernel moves: the probes follow it, and the
    initcall addresses still resolve once the offset is taken off."""
    run = boot("kaslr", "quiet")
    check_eq(run.status, 0, "exit status\n" + run.stderr[-2000:])
    m = re.search(r"hypertrace: the kernel runs at ([+-]\d+) MiB from "
                  r"symbols=\S+ \(KASLR\); probes follow it", run.stderr)
    by_addr, by_name = load_map(kernel_and_map()[1])
    entries = initcall_entries(run)
    check(len(entries) > 500, "initcalls probed under KASLR: %d"
          % len(entries))
    offset = int(m.group(1)) << 20 if m else 0
    probe_addr = {a["addr"] for _ts, a in entries}
    check_eq(probe_addr, {by_name["do_one_initcall"] + offset},
             "probe address (KASLR offset %d MiB)" % (offset >> 20))
    unresolved = [hex(a["a0"]) for _ts, a in entries
                  if a["a0"] - offset not in by_addr]
    check_eq(unresolved, [], "initcalls that do not resolve")


def test_wrong_symbols_are_refused():
    """A map whose linux_banner is nowhere in the kernel: no kernel probe
    fires, and QEMU says why and what to do."""
    _kernel, sysmap = kernel_and_map()
    with tempfile.NamedTemporaryFile("w", suffix=".map") as bad:
        with open(sysmap) as f:
            for line in f:
                addr, kind, name = line.split()
                if name == "linux_banner":
                    line = "%016x %s %s\n" % (int(addr, 16) + 0x1000, kind,
                                               name)
                bad.write(line)
        bad.flush()
        run = boot("refused", "quiet nokaslr", symbols=bad.name)
    check_eq(run.status, 0, "exit status\n" + run.stderr[-2000:])
    check("hypertrace: symbols=%s do not match the running kernel: "
          "linux_banner is not at 0x" % bad.name in run.stderr, run.stderr)
    check("boot it with nokaslr" in run.stderr, run.stderr)
    check_eq([a for n, _t, _p, a in run.events() if n == "hypertrace_probe"],
             [], "probe events from refused symbols")
    check("userboot: exit status 0" in run.serial, run.serial[-2000:])


def test_boot_report_of_the_same_boot():
    """The analyzer on the initcall_debug boot: every initcall resolves to
    a System.map symbol, the phases are in order and add up, and the
    report has as many initcalls as initcall_debug printed."""
    import htboot
    run = debug_boot()
    _kernel, sysmap = kernel_and_map()
    report = htboot.analyze(run.events(""), htboot.load_symbols(sysmap))
    by_addr, by_name = load_map(sysmap)
    names = [ic["name"] for ic in report["initcalls"]]
    check_eq(report["unresolved"], 0, "unresolved initcalls")
    check_eq([n for n in names if n not in by_name], [], "names not in map")
    consoles = console_initcalls(by_name)
    check_eq(len(names), len([n for n in INITCALL_DEBUG.findall(run.serial)
                              if n not in consoles]), "initcall count")
    starts = [p["start_ns"] for p in report["phases"]]
    check_eq(starts, sorted(starts), "phase order")
    check_eq(sum(p["duration_ns"] for p in report["phases"]),
             report["total_ns"], "phases add up to the total")
    check_eq([p["name"] for p in report["phases"]],
             ["firmware", "kernel setup", "kernel early"] +
             ["initcalls: " + lv for lv in ("early", "pure", "core",
                                            "postcore", "arch", "subsys",
                                            "fs", "device", "late")] +
             ["kernel late", "user space"], "phases")
    check_eq(report["end_at"], "the last user-space function exit", "end")


def test_profile_of_a_linux_boot():
    """Samples of the same boot, named from System.map: kernel functions by
    name, the decompressor and firmware (no symbols given) as ranges named
    after their phase; every name a System.map text symbol."""
    import htboot
    run = debug_boot()
    _kernel, sysmap = kernel_and_map()
    profile = htboot.analyze(run.events(""),
                             htboot.load_symbols(sysmap))["profile"]
    by_addr, by_name = load_map(sysmap)
    phases = {p["phase"]: p for p in profile["phases"]}
    check(profile["samples"] > 1000, "samples: %d" % profile["samples"])
    for name in ("firmware", "kernel setup"):
        top = phases[name]["top"][0]
        check_eq(top["function"], "%s (no symbols) %s" % (name, top["range"]),
                 name + "'s top")
    named = [f["function"] for p in profile["phases"] for f in p["top"]
             if f["range"] is None]
    check(len(named) > 10, "named functions: %r" % named)
    check_eq([n for n in named if n not in by_name], [],
             "names not in System.map")
    early = [f["function"] for f in phases["kernel early"]["top"]]
    check(any(not f.endswith("(no symbols)") for f in early), early)
    check(profile["initcalls"], "no initcall was sampled")


def setup_top(run, sysmap, more_symbols):
    import htboot
    profile = htboot.analyze(run.events(""), htboot.load_symbols(sysmap),
                             None, 10, more_symbols)["profile"]
    return {p["phase"]: p for p in profile["phases"]}["kernel setup"]["top"]


def test_decompressor_named_with_its_symbols():
    """With the decompressor's symbols (rebuilt from Debian's linux-source
    by htdecompressor and checked against the image byte for byte), the
    top sampled function of the decompression (kernel setup) is named: the
    XZ decoder's lzma_main; without them those samples are the address
    range that holds it.  An ELF whose code differs by one byte is refused.
    """
    import htboot
    import htdecompressor
    run = debug_boot()
    kernel, sysmap = kernel_and_map()
    zo = htdecompressor.decompressor_symbols(kernel, htlib.BUILD)
    zo_symbols = htboot.load_symbols(zo)
    plain = setup_top(run, sysmap, [])[0]
    named = setup_top(run, sysmap, [zo_symbols])
    check_eq((named[0]["function"], named[0]["range"]), ("lzma_main", None),
             "kernel setup's top function with symbols")
    lo, hi = (int(a, 16) for a in plain["range"].split("-"))
    check(lo <= zo_symbols.by_name["lzma_main"] <= hi,
          "lzma_main at 0x%x, the unnamed top range %s"
          % (zo_symbols.by_name["lzma_main"], plain["range"]))
    check_eq([(f["function"], f["pct"]) for f in named
              if f["range"] and f["pct"] >= 1], [],
             "unnamed code of 1% or more with symbols")
    # one byte of code changed: no symbols rather than wrong ones
    built = os.path.join(htlib.BUILD, "linux", "decompressor", "vmlinux")
    with open(built, "rb") as f:
        data = bytearray(f.read())
    _name, _addr, offset, size = next(
        htdecompressor.executable_sections(built))
    data[offset + size // 2] ^= 0xff
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "vmlinux")
        with open(bad, "wb") as f:
            f.write(data)
        proc = subprocess.run(
            [sys.executable, os.path.join(htlib.TOP, "scripts",
                                          "htdecompressor.py"),
             kernel, "--from-elf", bad, "--out", os.path.join(tmp, "zo")],
            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check_eq(proc.returncode, 1, proc.stdout + proc.stderr)
        check(re.match(r"htdecompressor: error: the decompressor's \S+ "
                       r"differs from %s's in 1 of \d+ bytes: its symbols "
                       r"would name the wrong code" % re.escape(kernel),
                       proc.stderr), proc.stderr)
        check(not os.path.exists(os.path.join(tmp, "zo")), "symbols written")
