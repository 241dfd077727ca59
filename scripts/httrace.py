"""Read hypertrace events from QEMU trace files.

A simpletrace file is read through QEMU's own scripts/simpletrace.py and
the trace-events-all file of the same build, so field names and order
always match the binary that wrote the trace.
"""

import os
import sys


def _qemu_scripts(build):
    return os.path.join(build, "qemu-src", "scripts")


def read_simpletrace(trace_file, build="build", events_file=None):
    """Yield (name, timestamp_ns, pid, {arg: value}) for every record."""
    sys.path.insert(0, _qemu_scripts(build))
    try:
        import simpletrace
        from tracetool import read_events
    finally:
        sys.path.pop(0)
    events_file = events_file or os.path.join(
        build, "qemu-build", "trace", "trace-events-all")
    with open(events_file) as f:
        events = read_events(f, events_file)
    edict = {e.name: e for e in events}
    dropped = simpletrace.Event.build(
        "Dropped_Event(uint64_t num_events_dropped)", 0, "httrace")
    edict["dropped"] = dropped
    idtoname = {simpletrace.dropped_event_id: "dropped"}
    with open(trace_file, "rb") as log:
        simpletrace.read_trace_header(log)
        for rec in simpletrace.read_trace_records(edict, idtoname, log):
            name, ts, pid = rec[0], rec[1], rec[2]
            argnames = [a[1] for a in edict[name].args]
            yield name, ts, pid, dict(zip(argnames, rec[3:]))
