"""A burst larger than the simple backend's buffer waits in the ring.

The simple backend's writer blocks while nobody reads its trace file (here
a FIFO that the test stops reading for a while).  Its buffer fills; the
device then holds the rest of the burst in the guest's ring instead of
letting the backend drop records, and everything arrives, in order, once
the reader goes on.  With the writer off (trace-file off), a stop drains
the ring anyway, and the backend counts exactly what it drops.
"""

import os
import threading
import time

import htlib
from htlib import SharedRingVm, check, check_eq

RING = 1 << 18
BURST = 250000      # 26 MB of records: more than the backend's 16 MiB


class FifoReader(threading.Thread):
    """Copy the trace FIFO to a file while self.flowing is set."""

    def __init__(self, fifo):
        super().__init__(daemon=True)
        self.fifo, self.copy = fifo, fifo + ".copy"
        self.flowing = threading.Event()
        self.flowing.set()
        self.start()

    def run(self):
        fd = os.open(self.fifo, os.O_RDONLY)
        with open(self.copy, "wb") as out:
            while True:
                self.flowing.wait()
                data = os.read(fd, 1 << 16)
                if not data:
                    break
                out.write(data)
        os.close(fd)


def consumed(vm):
    rings = vm.command("query-hypertrace")["return"][0]["rings"]
    return rings[0]["consumed"], rings[0]["lost"]


def wait_until_still(vm, timeout=30):
    """The consumed count once it has stopped moving for a second."""
    last, since, deadline = None, time.time(), time.time() + timeout
    while time.time() < deadline:
        now = consumed(vm)
        if now != last:
            last, since = now, time.time()
        elif time.time() - since >= 1:
            return now
        time.sleep(0.1)
    raise AssertionError("the drain never settled: %r" % (last,))


def test_burst_waits_in_ring_for_a_slow_trace_reader():
    with SharedRingVm(ring_size=RING, fifo=True) as vm:
        reader = FifoReader(vm.trace)
        vm.connect()
        reader.flowing.clear()
        vm.publish(BURST)
        vm.command("cont")
        held, lost = wait_until_still(vm)
        check(held < BURST, "the device drained all %d records while "
              "the trace writer was blocked: the backend's buffer holds "
              "fewer, so it dropped the rest" % held)
        check_eq(lost, 0, "records lost while the reader waits")
        reader.flowing.set()
        check_eq(wait_until_still(vm), (BURST, 0),
                 "records consumed and lost once the reader goes on")
        vm.command("quit")
        vm.proc.wait(60)
        reader.join(60)
        import httrace
        events = list(httrace.read_simpletrace(reader.copy, htlib.BUILD))
    check_eq([n for n, _t, _p, _a in events if n == "dropped"], [],
             "records the backend dropped")
    check_eq([a["a0"] for n, _t, _p, a in events if n == "hypertrace_event"],
             list(range(BURST)), "records in the trace")


def test_stop_with_trace_file_off_counts_what_the_backend_drops():
    """With the writer off, a stop drains the ring anyway: the backend
    keeps what its buffer holds and counts the rest, exactly."""
    with SharedRingVm(ring_size=RING) as vm:
        vm.hmp("trace-file off")
        vm.publish(BURST)
        vm.command("cont")
        held, lost = wait_until_still(vm)
        check(held < BURST, "the device drained all %d records into a "
              "buffer that holds fewer" % held)
        check_eq(lost, 0, "records lost while the writer is off")
        vm.command("stop")
        check_eq(consumed(vm), (BURST, 0), "records consumed and lost by "
                 "the stop's drain")
        vm.hmp("trace-file on")
        vm.command("quit")
        vm.proc.wait(60)
        import httrace
        events = list(httrace.read_simpletrace(vm.trace, htlib.BUILD))
    kept = [a["a0"] for n, _t, _p, a in events if n == "hypertrace_event"]
    dropped = sum(a["num_events_dropped"] for n, _t, _p, a in events
                  if n == "dropped")
    check(0 < len(kept) < BURST, "%d records kept of %d" % (len(kept), BURST))
    check_eq(kept, list(range(len(kept))), "the records kept")
    check_eq(dropped, BURST - len(kept), "records the backend counted "
             "dropped")
