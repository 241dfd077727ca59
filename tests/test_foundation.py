"""The fork's foundation: the binary, the device's registration, a guest."""

from htlib import check, check_eq, qemu_output, run_guest

DESC = "Guest-to-host tracing: shared-memory rings and sync events"


def test_device_help_lists_hypertrace():
    status, out = qemu_output(["-device", "help"])
    check_eq(status, 0, "exit status")
    check('name "hypertrace", bus PCI, desc "%s"' % DESC in out,
          "hypertrace missing from -device help")


def test_trace_backends_enabled():
    status, out = qemu_output(["-trace", "help"])
    check_eq(status, 0, "exit status")
    for name in ("hypertrace_event", "hypertrace_sync", "hypertrace_lost",
                 "hypertrace_guest_error", "hypertrace_probe",
                 "hypertrace_milestone"):
        check(name + "\n" in out, name + " missing from -trace help")


def test_migration_blocked():
    status, out = qemu_output(
        ["-M", "pc", "-nodefaults", "-display", "none", "-S",
         "-device", "hypertrace", "-monitor", "stdio"],
        stdin="migrate exec:cat\nquit\n")
    check("hypertrace: migration is not supported" in out,
          "no migration blocker message:\n" + out)


def check_smoke(run, same_clock=True):
    """@same_clock: QEMU ran on this host's clock (not nested in L1)."""
    check_eq(run.status, 1, "exit status (guest code 0)\n" + run.serial +
             run.stderr)
    check("smoke: done" in run.serial, "serial output:\n" + run.serial)
    events = run.events()
    sync = [e for e in events if e[0] == "hypertrace_sync"]
    check_eq([e[3] for e in sync],
             [dict(client=0, id=100, a0=1, a1=2, a2=3, a3=4, a4=5, a5=6)],
             "sync events")
    ring = [e[3] for e in events if e[0] == "hypertrace_event"]
    check_eq([(r["ring"], r["id"], r["a0"], r["a1"], r["a5"]) for r in ring],
             [(0, 200, 0x100, 2, 6), (0, 201, 0x101, 2, 6),
              (0, 202, 0x102, 2, 6)], "ring events")
    tscs = [r["tsc"] for r in ring]
    check(0 < tscs[0] < tscs[1] < tscs[2], "TSC not increasing: %r" % tscs)
    for r in ring:
        check(not same_clock or run.t0 <= r["ns"] <= run.t1,
              "mapped time %d outside the run [%d, %d]" %
              (r["ns"], run.t0, run.t1))
    check(sync[0][1] <= ring[0]["ns"] + 1000000,
          "sync event stamped after the ring records it preceded")
    start = 0x10000c    # smoke.elf's multiboot entry: _start
    check_eq([(e[0], e[3].get("name"), e[3].get("addr")) for e in events
              if e[0] not in ("hypertrace_sync", "hypertrace_event")],
             [("hypertrace_milestone", "reset", 0xfffffff0),
              ("hypertrace_milestone", "firmware_exit", start),
              ("hypertrace_milestone", "kernel_entry", start)],
             "other events: the boot milestones")


def test_smoke_guest_pc():
    check_smoke(run_guest("smoke.elf", machine="pc"))


def test_smoke_guest_q35():
    check_smoke(run_guest("smoke.elf", machine="q35"))


def test_smoke_guest_without_device_fails():
    run = run_guest("smoke.elf", device=None)
    check_eq(run.status, 2 * 0x7f + 1, "exit status")
    check("FAIL: no hypertrace device" in run.serial, run.serial)
