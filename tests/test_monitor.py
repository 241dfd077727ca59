"""query-hypertrace (QMP) and info hypertrace (HMP) report exact counters."""

import time

from htlib import SharedRingVm, check_eq

EVENTS = 3000


def wait_consumed(vm, want):
    deadline = time.time() + 30
    while True:
        info = vm.command("query-hypertrace")["return"]
        if info[0]["rings"][0]["consumed"] >= want or time.time() > deadline:
            return info
        time.sleep(0.05)


def test_query_hypertrace_counts():
    with SharedRingVm() as vm:
        check_counts(vm)


def check_counts(vm):
    vm.publish(EVENTS)
    # paused: nothing drained yet
    info = vm.command("query-hypertrace")["return"]
    check_eq(info[0]["rings"], [dict(ring=0, published=0, consumed=0,
                                     lost=0, errors=0, halted=False)],
             "rings before the VM runs")
    vm.command("cont")
    info = wait_consumed(vm, EVENTS)
    check_eq(info, [{"path": "/machine/peripheral-anon/device[0]",
                     "mode": "discard", "ring-size": 4096, "clients": 1,
                     "errors": 0,
                     "rings": [dict(ring=0, published=EVENTS,
                                    consumed=EVENTS, lost=0, errors=0,
                                    halted=False)],
                     "probes": {"functions": 0, "milestones": 3,
                                "kernel": "none", "kaslr-offset": 0,
                                "return-sites": 0, "pending-returns": 0,
                                "untracked-returns": 0}}],
             "query-hypertrace")
    text = vm.hmp("info hypertrace")
    check_eq(text.splitlines(), [
        "/machine/peripheral-anon/device[0]: mode discard, 4096 records "
        "per ring, 1 clients, 0 errors",
        "  ring    published     consumed         lost   errors state",
        "     0         3000         3000            0        0 ok",
        "  probes: 0 functions, 3 milestones, kernel none, 0 return sites, "
        "0 pending, 0 untracked returns",
    ], "info hypertrace")
    vm.command("quit")
    _status, seqs = vm.finish()
    check_eq(seqs, list(range(EVENTS)), "records in the trace")


def test_no_device():
    with SharedRingVm(device=False) as vm:
        check_eq(vm.command("query-hypertrace")["return"], [], "no device")
        check_eq(vm.hmp("info hypertrace"), "No hypertrace device\r\n",
                 "info hypertrace")
