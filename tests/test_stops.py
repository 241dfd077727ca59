"""Every record published before a stop or a reset reaches the trace.

A host process publishes records into the device's rings through the
guest header (tests/bench/ring-producer, rings in a shared memdev) while
the VM is paused, so nothing drains them before the stop; or while it
runs, racing the drain thread.
"""

import os
import signal
import struct
import subprocess
import time

import httrace
from htlib import BUILD, SharedRingVm, check, check_eq

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


def wait_stopped(pid):
    """Until every thread of @pid is stopped: SIGSTOP takes effect later
    than kill() returns."""
    deadline = time.monotonic() + 10
    while True:
        states = []
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                states.append(f.read().rsplit(")", 1)[1].split()[0])
        if all(state == "T" for state in states):
            return
        check(time.monotonic() < deadline, "producer not stopped: %s"
              % states)
        time.sleep(0.001)


def check_stop_during_burst(stop):
    """@stop a VM while a host producer publishes 500,000 records/s into
    its running ring, the drain thread at work.  The producer is frozen
    first (SIGSTOP), so that the ring header holds its final counts: every
    position is in the trace in order or counted lost, and so is every
    drop, exactly."""
    with SharedRingVm() as vm:
        vm.command("cont")
        producer = subprocess.Popen(
            [os.path.join(BUILD, "ours", "ring-producer"), vm.shm, "1",
             "2000000", "500000"], stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        producer.send_signal(signal.SIGSTOP)
        wait_stopped(producer.pid)
        stop(vm)
        status = vm.proc.wait(60)
        producer.kill()
        producer.wait()
        with open(vm.shm, "rb") as f:
            reserve, consumer, lost = struct.unpack_from(
                "<Q56xQ56xQ", f.read(192))
        seqs, trace_lost = [], 0
        for name, _t, _p, a in httrace.read_simpletrace(vm.trace, BUILD):
            if name == "hypertrace_event":
                seqs.append(a["a0"])
            elif name == "hypertrace_lost":
                trace_lost += a["count"]
    check(len(seqs) > 10000, "only %d records before the stop" % len(seqs))
    check(all(a < b for a, b in zip(seqs, seqs[1:])),
          "records out of order or twice")
    check_eq(consumer, reserve, "the device's consumer after the stop")
    check_eq(len(seqs) + trace_lost, consumer + lost,
             "records in the trace + counted lost")
    return status


def test_quit_during_a_burst_counts_exactly():
    check_eq(check_stop_during_burst(lambda vm: vm.command("quit")), 0,
             "exit status")


def test_sigterm_during_a_burst_counts_exactly():
    check_stop_during_burst(lambda vm: vm.proc.send_signal(signal.SIGTERM))
