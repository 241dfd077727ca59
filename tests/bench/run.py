#!/usr/bin/python3
"""make bench: per-event cost of every hypertrace channel.

1. The three channels side by side in one TCG guest and one run
   (tests/guest/bench.c), timed on the guest's TSC between sync markers.
2. A host-side model of KVM: producer threads write through the guest
   header into ring memory that QEMU shares (memdev), with no exits;
   QEMU's own consumer drains into the simple backend.
3. The synchronous channel through qtest, against a plain RAM write.

Figures depend on the machine and its load: compare ratios from one run.
"""

import argparse
import json
import mmap
import os
import platform
import struct
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests"))
import htlib  # noqa: E402

N_GUEST = 20000          # events per phase in bench.c
RING_SIZE = 1 << 20      # records per ring in the KVM model
EVENTS = 1000000         # events per producer in the KVM model
SIMPLE_EVENTS = 20000000  # ... with no log backend
# paced producers, up to the drain rate that issue 3 asks for
PACED_RATES = (5000000, 10000000, 15000000, 20000000)


def machine():
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return "%s, %d cores, Linux %s" % (cpu, os.cpu_count(), platform.release())


PHASES = 5                # bench.c: markers 900 to 905


def bench_channels(trace_events="hypertrace_*", device=""):
    run = htlib.run_guest("bench.elf",
                          device="hypertrace,ring-size=32768" + device,
                          trace_events=trace_events)
    if run.status != 1:
        sys.exit("bench guest failed:\n" + run.serial + run.stderr)
    marks = {a["id"]: (a["a0"], ts) for name, ts, _p, a in run.events()
             if name == "hypertrace_sync" and a["id"] >= 900}
    # the TSC rate, from the first and last markers' TSC and host time
    ns_per_tick = ((marks[900 + PHASES][1] - marks[900][1]) /
                   (marks[900 + PHASES][0] - marks[900][0]))
    phase = [(marks[900 + i + 1][0] - marks[900 + i][0]) * ns_per_tick /
             N_GUEST for i in range(PHASES)]
    base = phase[0]
    return [p - base for p in phase[1:]], base


def print_channels():
    recorded, base = bench_channels()
    alone, _ = bench_channels("hypertrace_sync")
    print("\n1. Channels in one guest (TCG, %d events each), recorded by the "
          "simple and log backends, and alone (their events not enabled)"
          % N_GUEST)
    print("   %-36s %14s %14s" % ("channel", "recorded ns/ev", "alone ns/ev"))
    names = ["hypercall (vmcall nr 1000)", "sync emit (1 argument: 2 exits)",
             "ring record (no exit)"]
    for name, rec, al in zip(names, recorded, alone):
        print("   %-36s %14.0f %14.0f" % (name, rec, al))
    print("   (loop baseline: a RAM store costs %.0f ns here; sync emits are "
          "always recorded: the phase markers are sync events)" % base)
    print_probes(recorded[3])


def print_probes(plain_call):
    """A host-side probe on a function: entry and return, per call."""
    elf = os.path.join(htlib.GUESTS, "bench-elf64")
    probed, _ = bench_channels(device=",symbols=%s,probes=bench_probe_target"
                               % elf)
    alone, _ = bench_channels("hypertrace_sync", device=",symbols=%s,probes="
                              "bench_probe_target" % elf)
    print("   %-36s %14.0f %14.0f" % ("probed call (entry + return)",
                                     probed[3] - plain_call,
                                     alone[3] - plain_call))
    print("   (over the same call unprobed, which costs %.0f ns over the loop)"
          % plain_call)


def count_records(trace):
    """Count hypertrace_event records and the simple backend's drops."""
    recorded = dropped = 0
    with open(trace, "rb") as f:
        data = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    off = 24
    while off + 8 <= len(data):
        (rtype,) = struct.unpack_from("=Q", data, off)
        if rtype == 0:      # mapping: id, name length, name
            (nlen,) = struct.unpack_from("=L", data, off + 16)
            off += 20 + nlen
            continue
        ev, _ts, length, _pid = struct.unpack_from("=QQII", data, off + 8)
        if ev == 0xfffffffffffffffe:
            dropped += struct.unpack_from("=Q", data, off + 32)[0]
        else:
            recorded += 1
        off += 8 + length
    return recorded, dropped


def thread_cpu_ns(pid):
    """CPU time (user + system) of each of a process's threads, by name."""
    tick_ns = 1e9 / os.sysconf("SC_CLK_TCK")
    times = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
            stat = f.read()
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        times[name] = times.get(name, 0) + \
            (int(fields[11]) + int(fields[12])) * tick_ns
    return times


def bench_kvm_model(producers, events="hypertrace_event", qemu=None,
                    per_producer=EVENTS, rate=0, to_null=False):
    """@rate: records per second per producer, 0 for flat out.
    @to_null: the simple backend writes to /dev/null, not to a file."""
    tmp = tempfile.mkdtemp(prefix="ht-bench-", dir="/dev/shm")
    shm = os.path.join(tmp, "rings")
    trace = os.path.join(tmp, "trace")
    sock = os.path.join(tmp, "qmp")
    size = htlib.memdev_size(producers, RING_SIZE)
    qemu = subprocess.Popen(
        [qemu or htlib.QEMU, "-M", "pc", "-accel", "tcg", "-m", "128",
         "-display", "none", "-nodefaults",
         "-kernel", os.path.join(htlib.GUESTS, "idle.elf"),
         "-object", "memory-backend-file,id=rings,size=%d,mem-path=%s,"
         "share=on" % (size, shm),
         "-device", "hypertrace,memdev=rings,rings=%d,ring-size=%d,"
         "drain-period-us=100" % (producers, RING_SIZE),
         "-trace", "enable=%s,file=%s" % (
             events, "/dev/null" if to_null else trace),
         # the log backend formats every enabled event too, and QEMU 7.2
         # cannot turn that off at run time: send it to /dev/null
         "-D", "/dev/null",
         "-qmp", "unix:%s,server=on,wait=off" % sock], cwd=tmp,
        stderr=subprocess.DEVNULL)
    try:
        qmp = htlib.Qmp(sock)
        while qmp.command("query-status")["return"]["status"] != "running":
            time.sleep(0.05)
        cpu0 = thread_cpu_ns(qemu.pid)
        out = subprocess.run(
            [os.path.join(htlib.BUILD, "ours", "ring-producer"), shm,
             str(producers), str(per_producer)] + ([str(rate)] if rate else []),
            check=True, text=True, stdout=subprocess.PIPE).stdout
        result = json.loads(out)
        info = qmp.command("query-hypertrace")["return"][0]
        cpu = thread_cpu_ns(qemu.pid)
        result["device_consumed"] = sum(r["consumed"] for r in info["rings"])
        # CPU per record drained: the main loop drains, the trace thread
        # writes (vCPU threads idle in the guest's hlt)
        for key, thread in (("main_ns", "qemu-system-x86"),
                            ("writer_ns", "trace-thread")):
            result[key] = (cpu[thread] - cpu0[thread]) / max(
                result["device_consumed"], 1)
        result["device_lost"] = sum(r["lost"] for r in info["rings"])
        qmp.command("quit")
        qemu.wait(60)
    finally:
        if qemu.poll() is None:
            qemu.kill()
    if to_null:     # nothing to count the backend's drops in
        result["trace_recorded"], result["trace_dropped"] = None, None
    else:
        result["trace_recorded"], result["trace_dropped"] = count_records(
            trace)
    subprocess.run(["rm", "-rf", tmp])
    return result


KVM_COLUMNS = ("   %-9s %7s %6s %12s %10s %10s %8s %6s %6s",
               ("producers", "wall ns", "cpu ns", "drained ev/s", "dropped",
                "dev. lost", "bk. drop", "main", "writer"))


def kvm_row(label, r, total):
    if r["device_consumed"] + r["device_lost"] != total:
        sys.exit("accounting mismatch: %r" % r)
    print("   %-9s %7.1f %6.1f %12.0f %10d %10d %8s %6.0f %6.0f" % (
        label, r["producer_ns_per_event"], r["producer_cpu_ns_per_event"],
        r["drain_events_per_sec"], r["dropped"], r["device_lost"],
        "n/a" if r["trace_dropped"] is None else r["trace_dropped"],
        r["main_ns"], r["writer_ns"]))


def print_kvm_model(simple_build):
    simple_qemu = os.path.abspath(os.path.join(simple_build,
                                               "qemu-system-x86_64"))
    print("\n2. Host-side model of KVM: producers write rings with no exit; "
          "QEMU drains into the simple backend.\n   Producer ns per event "
          "(wall clock, and the thread's CPU time); records dropped by "
          "producers\n   on a full ring, lost by the device, dropped by the "
          "trace backend; CPU ns per\n   record drained of QEMU's main "
          "loop (the consumer) and of the trace writer thread.")
    builds = (("backends simple,log,ust (log to /dev/null), %d records per "
               "producer, flat out" % EVENTS, None, EVENTS),
              ("backends simple,ust, %d records per producer, flat out"
               % SIMPLE_EVENTS, simple_qemu, SIMPLE_EVENTS))
    for title, qemu, n in builds:
        print("   " + title)
        print(KVM_COLUMNS[0] % KVM_COLUMNS[1])
        for p in (1, 2, 4):
            kvm_row(str(p), bench_kvm_model(p, qemu=qemu, per_producer=n),
                    p * n)
    fastest = {}    # to_null: the run at the highest rate
    for to_null in (False, True):
        print("   backends simple,ust, one producer paced for one second, "
              "the trace file %s" % ("/dev/null" if to_null else "in tmpfs"))
        print(KVM_COLUMNS[0] % (("M/s",) + KVM_COLUMNS[1][1:]))
        for rate in sorted(PACED_RATES):
            r = fastest[to_null] = bench_kvm_model(
                1, qemu=simple_qemu, per_producer=rate, rate=rate,
                to_null=to_null)
            kvm_row(str(rate // 10**6), r, rate)
    print("   with a core each, at the CPU per record of the %d M/s rows: "
          "the main loop drains %.1f M/s,\n   the writer writes %.1f M/s "
          "into tmpfs and %.1f M/s into /dev/null" % (
              max(PACED_RATES) // 10**6, 1e3 / fastest[False]["main_ns"],
              1e3 / fastest[False]["writer_ns"],
              1e3 / fastest[True]["writer_ns"]))
    r = bench_kvm_model(1, events="hypertrace_lost", qemu=simple_qemu,
                        per_producer=SIMPLE_EVENTS)
    print("   the device alone (hypertrace_event not enabled, records "
          "consumed but not traced): %.0f records/s" %
          r["drain_events_per_sec"])


def bench_sync_qtest():
    out = subprocess.run(
        [os.path.join(htlib.QBUILD, "tests/qtest/hypertrace-test"), "-m",
         "perf"], env=dict(os.environ, QTEST_QEMU_BINARY=htlib.QEMU),
        check=True, text=True, stdout=subprocess.PIPE,
        cwd=tempfile.mkdtemp(prefix="ht-")).stdout
    line = [l for l in out.splitlines() if l.startswith("bench:")][0]
    print("\n3. Synchronous channel through qtest (log and simple backends "
          "on)\n   " + line[len("bench: "):])
    return line


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--simple-build", default="build/qemu-build-simple",
                    help="a QEMU build whose trace backends are simple,ust")
    args = ap.parse_args()
    htlib.set_build(args.build)
    print("machine: " + machine())
    print("accelerator: TCG (this machine has no usable KVM)")
    print_channels()
    print_kvm_model(args.simple_build)
    bench_sync_qtest()


if __name__ == "__main__":
    main()
