#!/usr/bin/python3
"""Read hypertrace events from QEMU trace files.

A simpletrace file is read through QEMU's own scripts/simpletrace.py and
the trace-events-all file of the same build, so field names and order
always match the binary that wrote the trace.  An LTTng (CTF) trace
directory is read through babeltrace2's Python bindings (python3-bt2).

Every reader yields (name, timestamp_ns, pid, {arg: value}) with string
arguments as str, and time stamps as the event's own time on the trace's
clock.
"""

import os
import sys

RING_EVENT = "hypertrace_event"


def _qemu_scripts(build):
    return os.path.join(build, "qemu-src", "scripts")


def trace_events_file(build="build"):
    """The trace-events-all file of a build: the event formats it writes."""
    return os.path.join(build, "qemu-build", "trace", "trace-events-all")


def _text(value):
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value


def read_simpletrace(trace_file, build="build", events_file=None):
    """Yield (name, timestamp_ns, pid, {arg: value}) for every record."""
    sys.path.insert(0, _qemu_scripts(build))
    try:
        import simpletrace
        from tracetool import read_events
    finally:
        sys.path.pop(0)
    events_file = events_file or trace_events_file(build)
    with open(events_file) as f:
        events = read_events(f, events_file)
    with open(trace_file, "rb") as log:
        simpletrace.read_trace_header(log)
        records = simpletrace.read_trace_records(events, log, True)
        while True:
            # simpletrace raises these for a trace that does not match
            try:
                rec = next(records)
            except StopIteration:
                return
            except simpletrace.SimpleException as e:
                raise ValueError("the trace has an event not declared in "
                                 "%s: %s" % (events_file, e))
            except KeyError as e:
                raise ValueError("record of an unmapped event id %s" % e)
            event, name, ts, pid = rec[:4]
            argnames = [a[1] for a in event.args]
            yield name, ts, pid, dict(zip(argnames, map(_text, rec[4:])))


def _ctf_value(field):
    import numbers
    return int(field) if isinstance(field, numbers.Integral) else str(field)


def _clock_offset_ns(snapshot):
    """How far the clock's origin lies before its raw cycle count."""
    freq = snapshot.clock_class.frequency
    return snapshot.ns_from_origin - snapshot.value * 1000000000 // freq


def _ctf_event(msg):
    event = msg.event
    name = event.name
    if name.startswith("qemu:"):
        name = name[len("qemu:"):]
    args = {k: _ctf_value(v) for k, v in event.payload_field.items()}
    snapshot = msg.default_clock_snapshot
    ts = snapshot.ns_from_origin
    if name == RING_EVENT:
        # LTTng stamps a ring record when QEMU drains it; its own time is
        # its ns field, on QEMU's monotonic clock, which is LTTng's raw one.
        ts = args["ns"] + _clock_offset_ns(snapshot)
    context = event.common_context_field
    has_pid = context is not None and "vpid" in context
    pid = int(context["vpid"]) if has_pid else 0
    return name, ts, pid, args


def _ctf_discarded(msg, last_ts):
    """Events LTTng lost, as simpletrace's own 'dropped' record."""
    if msg.stream.cls.discarded_events_have_default_clock_snapshots:
        last_ts = msg.end_default_clock_snapshot.ns_from_origin
    return "dropped", last_ts, 0, {"num_events_dropped": msg.count or 0}


def ctf_trace_dirs(top):
    """The CTF traces under top: LTTng writes one per user and ABI
    (ust/uid/UID/64-bit/), each a directory with a metadata file."""
    return sorted(root for root, _dirs, files in os.walk(top)
                  if "metadata" in files)


def read_ctf(top):
    """Yield (name, timestamp_ns, pid, {arg: value}) for every event of
    the CTF traces under a directory, merged in time order (LTTng's qemu:
    provider prefix is stripped); events LTTng discarded come as
    'dropped' records."""
    import bt2
    traces = ctf_trace_dirs(top)
    if not traces:
        raise ValueError("no CTF trace (a metadata file) under " + top)
    # Name the source: babeltrace2's auto-discovery aborts the process on
    # a corrupt trace instead of raising.
    specs = [bt2.ComponentSpec.from_named_plugin_and_component_class(
        "ctf", "fs", {"inputs": [trace]}) for trace in traces]
    last_ts = 0
    try:
        for msg in bt2.TraceCollectionMessageIterator(specs):
            if type(msg) is bt2._EventMessageConst:
                rec = _ctf_event(msg)
                last_ts = msg.default_clock_snapshot.ns_from_origin
                yield rec
            elif type(msg) is bt2._DiscardedEventsMessageConst:
                yield _ctf_discarded(msg, last_ts)
    except bt2._Error as e:
        raise ValueError("babeltrace2: " + str(e).splitlines()[0])


def read_trace(path, build="build", events_file=None):
    """Read a simpletrace file, or a CTF trace if path is a directory."""
    if os.path.isdir(path):
        return read_ctf(path)
    return read_simpletrace(path, build, events_file)


def _format_arg(value):
    return "0x%x" % value if isinstance(value, int) else str(value)


def main(argv=None):
    """Print a trace as text, one event per line: what the log backend
    would have printed, from the simple backend's file or LTTng's."""
    import argparse
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("trace", help="a simpletrace file or a CTF directory")
    ap.add_argument("--build", default=os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build"),
        help="the build that wrote it (default: this tree's build/)")
    args = ap.parse_args(argv)
    try:
        for name, ts, pid, fields in read_trace(args.trace, args.build):
            print("%d.%09d %s pid=%d %s" % (
                ts // 1000000000, ts % 1000000000, name, pid,
                " ".join("%s=%s" % (k, _format_arg(v))
                         for k, v in fields.items())))
    except BrokenPipeError:     # a pager or head quit
        sys.stderr.close()
    except (OSError, ValueError) as e:
        sys.exit("httrace: %s: %s" % (args.trace, e))


if __name__ == "__main__":
    main()
