"""Ring and sync channels driven by real guest code (guest/hypertrace.h)."""

from htlib import check, check_eq, run_guest


def test_smp_two_producers():
    check_smp(run_guest("smp.elf", qemu_args=["-smp", "2"],
                        device="hypertrace,ring-size=8192"))


def check_smp(run, same_clock=True):
    """@same_clock: QEMU ran on this host's clock (not nested in L1)."""
    check_eq(run.status, 1, "exit status\n" + run.serial + run.stderr)
    check("smp: done" in run.serial, run.serial)
    events = run.events()
    sync = sorted((a["client"], a["id"], a["a0"]) for n, _t, _p, a in events
                  if n == "hypertrace_sync")
    check_eq(sync, [(0, 300, 0), (1, 301, 1)], "sync events")
    hcs = [(a["cpu"], a["nr"], a["a0"], a["a1"], a["a2"], a["a3"])
           for n, _t, _p, a in events if n == "hypertrace_hypercall"]
    check_eq(hcs, [(1, 1000, 0x5151, 1, 2, 3)], "real-mode hypercall of the AP")
    check_eq([n for n, *_ in events if n in
              ("hypertrace_lost", "hypertrace_guest_error", "dropped")], [],
             "lost or error events")
    ring = [(ts, a) for n, ts, _p, a in events if n == "hypertrace_event"]
    check_eq(len(ring), 8000, "ring events")
    for ring_no, ids in ((0, (400, 500, 501)), (1, (401,))):
        mine = [a for _ts, a in ring if a["ring"] == ring_no]
        check_eq(sorted({a["id"] for a in mine}), list(ids),
                 "ids in ring %d" % ring_no)
        for ev_id in ids:
            seq = [a for a in mine if a["id"] == ev_id]
            check_eq([a["a1"] for a in seq], list(range(2000)),
                     "sequence of id %d in ring %d" % (ev_id, ring_no))
            check_eq({a["a0"] for a in seq}, {ev_id % 100}, "cpu of %d" % ev_id)
            tscs = [a["tsc"] for a in seq]
            check(tscs == sorted(tscs), "TSC of id %d not increasing" % ev_id)
    # the simple backend stamps each ring record with its own event time
    check(all(ts == a["ns"] for ts, a in ring), "record time != event time")
    check(not same_clock or all(run.t0 <= ts <= run.t1 for ts, _a in ring),
          "event times outside the run")


def test_ring_times_fall_between_sync_markers():
    """Ring records carry guest TSC mapped to host time; synchronous
    markers carry the host time of their exit.  Every record of a phase
    must fall between the markers around it (guest/baremetal/demo.c)."""
    check_ring_times(run_guest("demo.elf"))


def check_ring_times(run, slack_ns=0):
    """@slack_ns: how far a record may fall outside its markers (the
    error of the guest TSC's mapping under KVM)."""
    check_eq(run.status, 1, "exit status\n" + run.serial)
    events = run.events()
    marks = [ts for n, ts, _p, a in events if n == "hypertrace_sync"]
    check_eq(len(marks), 4, "markers")
    steps = [(a["a0"], a["a1"], ts) for n, ts, _p, a in events
             if n == "hypertrace_event"]
    start = [ts for n, ts, _p, a in events if n == "hypertrace_hypercall"]
    check_eq(len(start), 1, "first-instruction hypercall")
    check(start[0] < marks[0], "the timeline starts at the hypercall")
    check_eq([(p, s) for p, s, _ts in steps],
             [(p, s) for p in range(3) for s in range(8)], "steps")
    check_steps_between_markers(steps, marks, slack_ns)


def check_steps_between_markers(steps, marks, slack_ns=0):
    """Each (phase, step, time) falls between marks[phase] and
    marks[phase + 1], give or take @slack_ns."""
    for phase, step, ts in steps:
        check(marks[phase] - slack_ns < ts < marks[phase + 1] + slack_ns,
              "phase %d step %d at %d, outside [%d, %d]" %
              (phase, step, ts, marks[phase], marks[phase + 1]))
