"""Every record published before a stop or a reset reaches the trace.

A host process publishes records into the device's rings through the
guest header (tests/bench/ring-producer, rings in a shared memdev) while
the VM is paused, so nothing drains them before the stop.
"""

import signal

from htlib import SharedRingVm, check_eq

EVENTS = 3000


def check_stop(stop):
    with SharedRingVm() as vm:
        vm.publish(EVENTS)
        stop(vm)
        status, seqs = vm.finish()
    check_eq(seqs, list(range(EVENTS)), "records in the trace")
    return status


def test_qmp_quit_drains():
    check_eq(check_stop(lambda vm: vm.command("quit")), 0, "exit status")


def test_sigint_drains():
    check_stop(lambda vm: vm.proc.send_signal(signal.SIGINT))


def test_sigterm_drains():
    check_stop(lambda vm: vm.proc.send_signal(signal.SIGTERM))


def test_system_reset_drains_first():
    def reset_then_quit(vm):
        vm.command("system_reset")
        vm.command("quit")
    check_stop(reset_then_quit)


def test_two_vms_keep_separate_traces():
    """Two VMs traced at once: each trace holds its own guest's events."""
    import threading
    from htlib import run_guest
    runs = {}
    threads = [threading.Thread(target=lambda k=k: runs.__setitem__(
        k, run_guest(k + ".elf"))) for k in ("smoke", "demo")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = {k: sorted({a["id"] for n, _t, _p, a in r.events()
                      if n in ("hypertrace_sync", "hypertrace_event")})
           for k, r in runs.items()}
    check_eq(ids, {"smoke": [100, 200, 201, 202], "demo": [1, 2, 3]},
             "event ids per VM")
