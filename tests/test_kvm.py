"""The KVM paths, for exact results as under TCG: on /dev/kvm where it
runs our guests, else nested in a TCG guest with an emulated AMD-V CPU
(tests/htkvm.py), where our own QEMU is the L1 host too.  Nested, QEMU
runs on L1's clock, so times are not checked against this host's."""

import os
import re

import htkvm
import htlib
import test_boot as boot
import test_foundation as foundation
import test_linux as linux
import test_probes as probes
import test_profile as profile
import test_rings as rings
from htlib import check, check_eq, run_guest

KVM = ["-accel", "kvm"]


def nested():
    return htkvm.runner() is not None


def mapping_slack_ns():
    """How far a ring record's mapped time may fall outside its markers:
    1 ms on /dev/kvm (the spec's bound is about a microsecond), 5 ms
    nested, where the host that emulates L1 may preempt it while QEMU
    reads KVM's TSC offset."""
    return 5000000 if nested() else 1000000


def test_kvm_smoke_ring_sync_and_milestones():
    """Ring records, a sync event and the three boot milestones, two of
    which share an address (one hardware breakpoint serves both)."""
    run = run_guest("smoke.elf", qemu_args=KVM, timeout=60)
    check("not set" not in run.stderr, "a milestone was refused:\n" +
          run.stderr)
    foundation.check_smoke(run, same_clock=not nested())


def test_kvm_ring_times_fall_between_sync_markers():
    """Ring records mapped through KVM's TSC offset fall between the
    synchronous markers around them (mapping_slack_ns)."""
    rings.check_ring_times(run_guest("demo.elf", qemu_args=KVM, timeout=60),
                           slack_ns=mapping_slack_ns())


def test_kvm_guest_that_writes_ia32_tsc():
    """tests/guest/tscwrite.c moves IA32_TSC 2^44 ticks ahead, which moves
    KVM's TSC offset.  The device reads the offset again within a second
    (the spec), so every record of a phase that begins 1.2 s after the
    write falls between its markers, as without the write."""
    run = run_guest("tscwrite.elf", qemu_args=KVM, timeout=60)
    check_eq(run.status, 1, "exit status\n" + run.serial + run.stderr)
    jump = int(re.search(r"tscwrite: jump (0x[0-9a-f]+)", run.serial)
               .group(1), 16)
    events = run.events()
    sync = [(a["id"], a["a0"], a["a1"], ts) for n, ts, _p, a in events
            if n == "hypertrace_sync"]
    check_eq([(i, a0) for i, a0, _a1, _ts in sync[1:]],
             [(11, p) for p in range(25)], "phase markers")
    ident, before, after, wrote = sync[0]
    check(ident == 10 and before + jump <= after < before + 2 * jump,
          "the TSC before and after the write: %r" % (sync[0],))
    marks = [ts for _i, _a0, _a1, ts in sync[1:]]
    steps = [(a["a0"], a["a1"], ts, a["tsc"]) for n, ts, _p, a in events
             if n == "hypertrace_event"]
    check_eq([(p, s) for p, s, _ts, _tsc in steps],
             [(p, s) for p in range(24) for s in range(4)], "ring records")
    check_eq([tsc for *_rest, tsc in steps if tsc < after], [],
             "records from before the write's TSC (KVM undid it)")
    later = [(p, s, ts) for p, s, ts, _tsc in steps
             if marks[p] > wrote + 1.2e9]
    check(len(later) >= 20, "only %d records 1.2 s after the write: the "
          "guest's phases were too short" % len(later))
    rings.check_steps_between_markers(later, marks, mapping_slack_ns())


def test_kvm_probes_share_breakpoints_exactly():
    """A probe, its return site and the milestones, two of which share an
    address, within KVM's four hardware breakpoints: each breakpoint is
    given back when its last user is done (a milestone once it fired, a
    return site once no call is pending there)."""
    syms = probes.symbols()
    run = probes.probe_run(
        "symbols=%s,probes=probe_sum6" % probes.elf_path(),
        qemu_args=KVM, timeout=120)
    check_eq(htlib.qemu_messages(run.stderr), "", "QEMU's messages")
    want = [e for e in probes.expected(syms)
            if e[0] == "milestone" or e[1] == "probe_sum6"]
    check_eq(probes.normalize(probes.probe_events(run), want),
             want, "probe events")
    check_eq(run.status, 1, "exit status")


def test_kvm_more_probes_than_breakpoints_are_named():
    """Five probes and two milestone addresses against four breakpoints:
    QEMU names each probe it could not set, and the others still trace
    their entries exactly."""
    syms = probes.symbols()
    run = probes.probe_run(
        "symbols=%s,probes=probe_*:0x%x" % (probes.elf_path(),
                                            syms["by_address"]),
        qemu_args=KVM, timeout=120)
    refused = re.findall(r"KVM gives 4 hardware breakpoints; probe (\S+) "
                         r"is not set", run.stderr)
    check_eq(len(refused), 2, "probes not set\n" + run.stderr)
    entries = [e[1] for e in probes.probe_events(run)
               if e[0] == "entry"]
    set_ = [e[1] for e in probes.expected(syms)
            if e[0] == "entry" and e[1] not in refused]
    check_eq(entries, set_, "entries of the probes that were set")
    check_eq(run.status, 1, "exit status")


def test_kvm_smp_two_producers():
    """Two vCPUs fill their rings and a shared one; the second vCPU makes
    a hypercall from real mode."""
    rings.check_smp(run_guest("smp.elf", qemu_args=KVM + ["-smp", "2"],
                              device="hypertrace,ring-size=8192",
                              timeout=120), same_clock=not nested())


def test_kvm_two_vcpus_hit_probes_at_once():
    """Both vCPUs call a probed function 2000 times at once.  A vCPU that
    changed the breakpoints used to wait for every other vCPU to take them,
    and two waiting for each other hung; a vCPU that had not taken a
    removal yet stopped the VM at the breakpoint removed."""
    elf = "smp-elf64"
    run = run_guest("smp.elf", qemu_args=KVM + ["-smp", "2"],
                    device="hypertrace,ring-size=8192,symbols=%s,"
                    "probes=smp_probe_target" % probes.elf_path(elf),
                    timeout=60)
    check_eq(run.status, 1, "exit status\n" + run.serial + run.stderr)
    check_eq(htlib.qemu_messages(run.stderr), "", "QEMU's messages")
    events = probes.probe_events(run)
    for cpu in (0, 1):
        check_eq([e[3][1] for e in events
                  if e[0] == "entry" and e[3][0] == cpu],
                 list(range(2000)), "entries of vCPU %d, in order" % cpu)
    check_eq(sorted(e[3] for e in events if e[0] == "return"),
             sorted(cpu * 1000000 + i for cpu in (0, 1)
                    for i in range(2000)), "return values")


def test_kvm_sampling_shares_match_the_costs():
    """sample-hz under KVM: registers read with KVM_GET_REGS/SREGS on the
    vCPU's thread; the 1 : 2 : 4 functions get their shares."""
    # nested under TCG the guest runs about 40 times slower: fewer rounds;
    # one probe, so that its entry and return fit KVM's breakpoints
    run = profile.profile_run(hz=1000, rounds=8, probes="work_large",
                              qemu_args=KVM, timeout=300)
    samples = [a for n, _t, _p, a in run.events() if n == "hypertrace_sample"]
    check_eq({(a["cpu"], a["cpl"], a["halted"]) for a in samples},
             {(0, 0, 0)}, "vCPUs, privilege levels and halts sampled")
    check_eq({(a["protected_mode"], a["bits"]) for a in samples} >=
             {(1, 32), (1, 64)}, True, "modes sampled")
    profile.check_shares(profile.report_of(run))


def test_kvm_linux_hooks_and_library():
    """Debian's kernel under KVM (AMD here): hcuser's hypercalls, the
    hooks over hypercalls (vmmcall at CPL 3, which vmcall would turn into
    #GP), over the ring, and auto, as under TCG."""
    run = linux.boot(accel=KVM)
    check_eq(run.status, 0, "exit status\n" + run.stderr[-2000:])
    linux.check_user_hypercalls(run)
    linux.check_hooks_and_library(run)


def test_kvm_kaslr_kernel_probes_match_initcall_debug():
    """Debian's kernel under KVM with KASLR on: the breakpoints at the
    System.map addresses never hit, so QEMU watches the vCPUs until one
    runs in the kernel's mapping, finds the offset, and moves the probes
    there before the first initcall: the probed initcalls are exactly the
    ones initcall_debug printed in test_boot's boot of the same kernel
    (printing them here, over a nested serial port, takes minutes)."""
    kernel, sysmap = boot.kernel_and_map()
    run = run_guest(kernel, timeout=900, qemu_args=KVM + [
        "-m", "512", "-initrd",
        os.path.join(htlib.GUESTS, "initramfs-demo.cpio.gz"),
        "-append", "console=ttyS0 panic=-1 rdinit=/init quiet"],
        device="hypertrace,symbols=%s,probes=do_one_initcall" % sysmap)
    check_eq(run.status, 0, "exit status\n" + run.stderr[-2000:])
    m = re.search(r"hypertrace: the kernel runs at ([+-]\d+) MiB from "
                  r"symbols=\S+ \(KASLR\); probes follow it", run.stderr)
    check(m, "no KASLR offset found:\n" + run.stderr[-2000:])
    offset = int(m.group(1)) << 20
    by_addr, by_name = boot.load_map(sysmap)
    probed = sorted(by_addr.get(a["a0"] - offset, hex(a["a0"]))
                    for _ts, a in boot.initcall_entries(run))
    debug = boot.debug_boot()
    consoles = boot.console_initcalls(by_name)
    printed = sorted(n for n in boot.INITCALL_DEBUG.findall(debug.serial)
                     if n not in consoles)
    check(len(printed) > 500, "initcall_debug lines: %d" % len(printed))
    check_eq(probed, printed, "initcalls: probed under KVM vs initcall_debug")
