#!/usr/bin/python3
"""make bench: per-event cost of every hypertrace channel.

1. A Linux guest: each way a user-space program can emit, and its peers
   (write(2), ftrace's trace_marker), recorded and not, with the stalls
   and losses of a 200,000-record burst (tests/linux/htbench.c).
2. The channels side by side in one bare-metal TCG guest and one run
   (tests/guest/bench.c), timed on the guest's TSC between sync markers.
3. A host-side model of KVM: producer threads write through the guest
   header into ring memory that QEMU shares (memdev), with no exits;
   the drain thread drains into the simple backend.
4. The synchronous channel through qtest, against a plain RAM write.

Figures depend on the machine and its load: compare ratios from one run.
"""

import argparse
import contextlib
import json
import mmap
import os
import platform
import struct
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests"))
import htlib  # noqa: E402

N_GUEST = 20000          # events per phase in bench.c
RING_SIZE = 1 << 20      # records per ring in the KVM model
EVENTS = 20000000        # events per producer in the KVM model
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


PHASES = 5                # bench.c: markers 900 to 904


def bench_channels(trace_events="hypertrace_*", device=""):
    """Per-event cost of each phase of bench.c, less the plain loop's, the
    plain loop's, and the records the trace backend dropped."""
    run = htlib.run_guest("bench.elf",
                          device="hypertrace,ring-size=32768" + device,
                          trace_events=trace_events)
    if run.status != 1:
        sys.exit("bench guest failed:\n" + run.serial + run.stderr)
    marks = {a["id"] - 900: (a["a0"], a["a1"], a["a2"], ts)
             for name, ts, _p, a in run.events()
             if name == "hypertrace_sync" and a["id"] >= 900}
    if sorted(marks) != list(range(PHASES)):
        sys.exit("bench guest: phase markers %s missing from the trace"
                 % sorted(set(range(PHASES)) - set(marks)))
    # the TSC rate, from the first and last markers' TSC and host time
    first, last = marks[0], marks[PHASES - 1]
    ns_per_tick = (last[3] - first[3]) / (last[2] - first[2])
    phase = [(marks[i][1] - marks[i][0]) * ns_per_tick / N_GUEST
             for i in range(PHASES)]
    base = phase[0]
    return [p - base for p in phase[1:]], base, count_records(
        run.trace_file)[1]


LINUX_CASES = (("floor", "rdtsc + store (the floor)"),
               ("ring_inline", "ring record, inline"),
               ("ring_library", "ring record, libhypertrace"),
               ("getcpu", "sched_getcpu() (in libhypertrace's emit)"),
               ("sync", "sync emit (id only: 1 exit)"),
               ("hypercall", "hypercall (vmcall nr 2000, CPL 3)"),
               ("mmio_write", "MMIO write, no-op register"),
               ("write_devnull", "write(2) to /dev/null"),
               ("trace_marker", "ftrace trace_marker write"))


def htbench_qemu(accel, recorded, device, tmp, append=""):
    """The QEMU command line that boots htbench's guest: its console in
    @tmp/serial, its trace in @tmp/trace."""
    return [htlib.QEMU, "-M", "pc", "-accel", accel, "-m", "512",
            "-smp", "1", "-display", "none", "-nodefaults",
            "-serial", "file:" + os.path.join(tmp, "serial"),
            "-kernel", htlib.linux_kernel(),
            "-initrd", os.path.join(htlib.BUILD, "ours",
                                    "initramfs-bench.cpio.gz"),
            "-append", "console=ttyS0 panic=-1 rdinit=/init quiet" + append,
            "-device", device,
            "-trace", "enable=%s,file=%s" % (
                "hypertrace_*" if recorded else "hypertrace_lost",
                os.path.join(tmp, "trace"))]


def bench_linux(recorded, device="hypertrace"):
    """htbench in a Linux guest, its events recorded or not: its lines by
    case, QEMU's CPU per thread at the end, and the device's counters."""
    tmp = tempfile.mkdtemp(prefix="ht-bench-", dir="/dev/shm")
    serial, sock = os.path.join(tmp, "serial"), os.path.join(tmp, "qmp")
    qemu = subprocess.Popen(
        htbench_qemu("tcg", recorded, device, tmp) +
        ["-name", "debug-threads=on",
         "-qmp", "unix:%s,server=on,wait=off" % sock], cwd=tmp,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        qmp = htlib.Qmp(sock)
        deadline = time.monotonic() + 900
        while True:
            with open(serial, errors="replace") as f:
                out = f.read()
            if "htbench: exit status" in out:
                break
            if time.monotonic() > deadline or qemu.poll() is not None:
                sys.exit("htbench did not finish:\n" + out[-3000:])
            time.sleep(0.5)
        cpu = thread_cpu_ns(qemu.pid)
        info = qmp.command("query-hypertrace")["return"][0]["rings"][0]
        qmp.command("quit")
        qemu.wait(60)
    finally:
        if qemu.poll() is None:
            qemu.kill()
        subprocess.run(["rm", "-rf", tmp])
    if "htbench: exit status 0" not in out:
        sys.exit("htbench failed:\n" + out[-3000:])
    return parse_htbench(out), cpu, info


def parse_htbench(out):
    """htbench's lines by case: {case: {key: value}}."""
    cases = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) > 2 and words[0] == "htbench:" and "=" in words[2]:
            cases[words[1]] = {k: float(v) for k, v in
                               (w.split("=") for w in words[2:])}
    return cases


def bench_linux_kvm(recorded):
    """htbench in the same Linux guest under KVM (nested in a TCG guest
    where /dev/kvm does not run our guests): its lines by case."""
    import htkvm
    tmp = htlib.scratch_dir()   # in /tmp, which a nested L1 shares
    serial = os.path.join(tmp, "serial")
    status, _out, err = htkvm.run(
        htbench_qemu("kvm", recorded, "hypertrace", tmp, " ht_poweroff") +
        ["-no-reboot"], timeout=900)
    with open(serial, errors="replace") as f:
        out = f.read()
    if status != 0 or "htbench: exit status 0" not in out:
        sys.exit("htbench under KVM failed (status %d):\n%s%s"
                 % (status, out[-3000:], err[-2000:]))
    return parse_htbench(out), htkvm.describe()


def print_linux_kvm():
    cases = {rec: bench_linux_kvm(rec) for rec in (True, False)}
    how = cases[True][1]
    print("\n1b. The same Linux guest and htbench under KVM (%s%s), 1 vCPU."
          % (how, ": every figure is\n   inflated by the nesting; compare "
             "them only with each other" if "nested" in how else ""))
    print("   %-34s %14s   %14s" % ("", "recorded", "not recorded"))
    print("   %-34s %6s %7s   %6s %7s" % ("case (ns per event)", "median",
                                          "mean", "median", "mean"))
    for key, label in LINUX_CASES:
        row = []
        for rec in (True, False):
            c = cases[rec][0][key]
            row += [c["median_ns"], c["mean_ns"]]
        print("   %-34s %6.0f %7.0f   %6.0f %7.0f" % ((label,) + tuple(row)))
    print_pairs({rec: cases[rec][0] for rec in cases})


def print_pairs(cases):
    """htbench's library/inline comparison, recorded and not."""
    for rec in (True, False):
        pair = cases[rec]["ring_pair"]
        print("   libhypertrace against inline, alternated (%d rounds of "
              "%d each), %s: medians %.0f and %.0f ns, difference %.0f "
              "(rounds: %.0f to %.0f)" % (
                  pair["rounds"], pair["n"],
                  "recorded" if rec else "not recorded",
                  pair["library_median_ns"], pair["inline_median_ns"],
                  pair["diff_median_ns"], pair["diff_min_ns"],
                  pair["diff_max_ns"]))


def print_linux():
    runs = {rec: bench_linux(rec) for rec in (True, False)}
    cases = {rec: runs[rec][0] for rec in runs}
    print("\n1. A Linux guest (Debian's kernel, busybox; TCG, 1 vCPU, "
          "-device hypertrace with its defaults:\n   ring-size=65536): "
          "tests/linux/htbench.c times each event on the TSC, less the "
          "cost of timing.\n   Recorded: -trace enable='hypertrace_*' "
          "into tmpfs; not recorded: those events off\n   (the device still "
          "drains the ring).")
    print("   %-34s %21s   %21s" % ("", "recorded", "not recorded"))
    print("   %-34s %6s %7s %7s   %6s %7s %7s" % (
        "case (ns per event)", "median", "mean", "max us", "median",
        "mean", "max us"))
    for key, label in LINUX_CASES:
        row = []
        for rec in (True, False):
            c = cases[rec][key]
            row += [c["median_ns"], c["mean_ns"], c["max_us"]]
        print("   %-34s %6.0f %7.0f %7.0f   %6.0f %7.0f %7.0f"
              % ((label,) + tuple(row)))
    for key in ("ring_inline", "ring_library"):
        for rec in (True, False):
            c = cases[rec][key]
            print("   %s burst of %d, %s: %d dropped (%.1f%%), first exit "
                  "after it %.0f us" % (
                      key.replace("_", " "), c["n"],
                      "recorded" if rec else "not recorded", c["dropped"],
                      100 * c["dropped"] / c["n"], c["first_exit_us"]))
    for rec in (True, False):
        cpu, records = runs[rec][1], runs[rec][2]["consumed"]
        print("   %s run, %d records drained: drain thread %.0f ns CPU per "
              "record, trace writer %.0f ns;\n   main loop %.2f s of CPU "
              "over the whole run (boot included)" % (
                  "recorded" if rec else "not recorded", records,
                  cpu.get("ht-drain", 0) / records,
                  cpu.get("trace-thread", 0) / records,
                  cpu.get("qemu-system-x86", 0) / 1e9))
    small = bench_linux(True, "hypertrace,ring-size=4096")[0]
    print("   with ring-size=4096 (the default before the drain thread), "
          "recorded: the inline burst dropped\n   %d, the library's %d"
          % (small["ring_inline"]["dropped"],
             small["ring_library"]["dropped"]))
    print_pairs(cases)
    inline = cases[True]["ring_inline"]
    targets = (
        ("recorded ring mean within 2x of not recorded",
         inline["mean_ns"] <= 2 * cases[False]["ring_inline"]["mean_ns"]),
        ("first exit after a burst within 5 ms",
         max(c[k]["first_exit_us"] for c in cases.values()
             for k in ("ring_inline", "ring_library")) <= 5000),
        ("a 200,000-record burst loses at most 5%",
         max(c[k]["dropped"] / c[k]["n"] for c in cases.values()
             for k in ("ring_inline", "ring_library")) <= 0.05),
        ("libhypertrace within 20 ns of the inline emit (median "
         "difference of alternated rounds)",
         all(c["ring_pair"]["diff_median_ns"] <= 20
             for c in cases.values())))
    for name, met in targets:
        print("   target: %s: %s" % (name, "met" if met else "NOT met"))


def print_channels():
    recorded, base, dropped = bench_channels()
    alone, _, _ = bench_channels("hypertrace_sync")
    print("\n2. Channels in one bare-metal guest (TCG, %d events each), "
          "recorded by the simple backend,\n   and alone (their events not "
          "enabled)" % N_GUEST)
    print("   %-36s %14s %14s" % ("channel", "recorded ns/ev", "alone ns/ev"))
    names = ["hypercall (vmcall nr 1000)", "sync emit (1 argument: 2 exits)",
             "ring record (no exit)"]
    for name, rec, al in zip(names, recorded, alone):
        print("   %-36s %14.0f %14.0f" % (name, rec, al))
    print("   (loop baseline: a RAM store costs %.0f ns here; sync emits are "
          "always recorded: the phase markers are sync events;\n   the "
          "backend dropped %d records of the recorded run: the hypercall "
          "and sync phases\n   record from the vCPU thread, which does not "
          "wait for the writer)" % (base, dropped))
    print_probes(recorded[3])


def print_probes(plain_call):
    """A host-side probe on a function: entry and return, per call."""
    elf = os.path.join(htlib.GUESTS, "bench-elf64")
    probed, _, dropped = bench_channels(
        device=",symbols=%s,probes=bench_probe_target" % elf)
    alone, _, _ = bench_channels("hypertrace_sync", device=",symbols=%s,"
                                 "probes=bench_probe_target" % elf)
    print("   %-36s %14.0f %14.0f" % ("probed call (entry + return)",
                                     probed[3] - plain_call,
                                     alone[3] - plain_call))
    print("   (over the same call unprobed, which costs %.0f ns over the "
          "loop; the backend dropped %d records)" % (plain_call, dropped))


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
    """CPU time of each of a process's threads, by name, in ns: schedstat's
    run time (stat's user and system times tick in 10 ms)."""
    times = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        task = "/proc/%d/task/%s/" % (pid, tid)
        with open(task + "comm") as f:
            name = f.read().strip()
        with open(task + "schedstat") as f:
            times[name] = times.get(name, 0) + int(f.read().split()[0])
    return times


def bench_kvm_model(producers, events="hypertrace_event",
                    per_producer=EVENTS, rate=0, to_null=False):
    """@rate: records per second per producer, 0 for flat out.
    @to_null: the simple backend writes to /dev/null, not to a file."""
    tmp = tempfile.mkdtemp(prefix="ht-bench-", dir="/dev/shm")
    shm = os.path.join(tmp, "rings")
    trace = os.path.join(tmp, "trace")
    sock = os.path.join(tmp, "qmp")
    size = htlib.memdev_size(producers, RING_SIZE)
    qemu = subprocess.Popen(
        [htlib.QEMU, "-M", "pc", "-accel", "tcg", "-m", "128",
         "-display", "none", "-nodefaults",
         "-kernel", os.path.join(htlib.GUESTS, "idle.elf"),
         "-object", "memory-backend-file,id=rings,size=%d,mem-path=%s,"
         "share=on" % (size, shm),
         "-device", "hypertrace,memdev=rings,rings=%d,ring-size=%d,"
         "drain-period-us=100" % (producers, RING_SIZE),
         "-trace", "enable=%s,file=%s" % (
             events, "/dev/null" if to_null else trace),
         "-name", "debug-threads=on",   # the drain thread by its name
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
        # CPU per record drained of the drain thread, the trace writer
        # and the main loop (vCPU threads idle in the guest's hlt)
        for key, thread in THREADS:
            result[key] = (cpu.get(thread, 0) - cpu0.get(thread, 0)) / max(
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


# per-thread CPU time, by the names QEMU gives with -name debug-threads=on
THREADS = (("drain_ns", "ht-drain"), ("writer_ns", "trace-thread"),
           ("main_ns", "qemu-system-x86"))

KVM_COLUMNS = ("   %-9s %7s %6s %12s %10s %10s %8s %6s %6s %6s",
               ("producers", "wall ns", "cpu ns", "drained ev/s", "dropped",
                "dev. lost", "bk. drop", "drain", "writer", "main"))


def kvm_row(label, r, total):
    if r["device_consumed"] + r["device_lost"] != total:
        sys.exit("accounting mismatch: %r" % r)
    print("   %-9s %7.1f %6.1f %12.0f %10d %10d %8s %6.0f %6.0f %6.0f" % (
        label, r["producer_ns_per_event"], r["producer_cpu_ns_per_event"],
        r["drain_events_per_sec"], r["dropped"], r["device_lost"],
        "n/a" if r["trace_dropped"] is None else r["trace_dropped"],
        r["drain_ns"], r["writer_ns"], r["main_ns"]))


def print_kvm_model():
    print("\n3. Host-side model of KVM: producers write rings with no exit; "
          "QEMU drains into the simple backend.\n   Producer ns per event "
          "(wall clock, and the thread's CPU time); records dropped by "
          "producers\n   on a full ring, lost by the device, dropped by the "
          "trace backend; CPU ns per\n   record drained of the drain thread, "
          "the trace writer thread and the main loop.")
    print("   %d records per producer, flat out" % EVENTS)
    print(KVM_COLUMNS[0] % KVM_COLUMNS[1])
    for p in (1, 2, 4):
        kvm_row(str(p), bench_kvm_model(p, per_producer=EVENTS),
                p * EVENTS)
    fastest = {}    # to_null: the run at the highest rate
    for to_null in (False, True):
        print("   one producer paced for one second, the trace file %s"
              % ("/dev/null" if to_null else "in tmpfs"))
        print(KVM_COLUMNS[0] % (("M/s",) + KVM_COLUMNS[1][1:]))
        for rate in sorted(PACED_RATES):
            r = fastest[to_null] = bench_kvm_model(
                1, per_producer=rate, rate=rate, to_null=to_null)
            kvm_row(str(rate // 10**6), r, rate)
    drain = 1e3 / fastest[False]["drain_ns"]
    print("   with a core each, at the CPU per record of the %d M/s rows: "
          "the drain thread drains %.1f M/s,\n   the writer writes %.1f M/s "
          "into tmpfs and %.1f M/s into /dev/null" % (
              max(PACED_RATES) // 10**6, drain,
              1e3 / fastest[False]["writer_ns"],
              1e3 / fastest[True]["writer_ns"]))
    print("   target: the drain thread drains at least 20 M records/s with "
          "a core: %s" % ("met" if drain >= 20 else "NOT met"))
    r = bench_kvm_model(1, events="hypertrace_lost",
                        per_producer=EVENTS)
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
    print("\n4. Synchronous channel through qtest (simple backend on)\n   "
          + line[len("bench: "):])
    return line


SAMPLE_RATES = (0, 1000, 10000)
SAMPLE_ROUNDS = 3


def boot_ms(sample_hz, sysmap):
    """The Linux demo boot, reset to the last user-space exit, in ms."""
    import htboot
    run = htlib.run_guest(
        htlib.linux_kernel(), timeout=600, qemu_args=[
            "-m", "512", "-initrd", os.path.join(htlib.GUESTS,
                                                 "initramfs-demo.cpio.gz"),
            "-append", "console=ttyS0 panic=-1 rdinit=/init quiet"],
        device="hypertrace,symbols=%s,probes=do_one_initcall:start_kernel:"
               "run_init_process,sample-hz=%d" % (sysmap, sample_hz))
    if run.status != 0:
        sys.exit("the Linux boot failed:\n" + run.stderr[-2000:])
    report = htboot.analyze(run.events(""), htboot.load_symbols(sysmap))
    samples = report["profile"]["samples"] if report["profile"] else 0
    return report["total_ns"] / 1e6, samples


def print_sampling():
    """Boot time with samples at 1 and 10 kHz over the same boot without,
    alternated, SAMPLE_ROUNDS times each."""
    import htkernel
    sysmap = htkernel.kernel_symbols(htlib.BUILD, htlib.linux_kernel())
    times = {hz: [] for hz in SAMPLE_RATES}
    samples = {}
    for _ in range(SAMPLE_ROUNDS):
        for hz in SAMPLE_RATES:
            ms, samples[hz] = boot_ms(hz, sysmap)
            times[hz].append(ms)
    base = statistics.median(times[0])
    print("\n5. Sampling (sample-hz) on the Linux demo boot (TCG, 1 vCPU), "
          "reset to the last user-space exit, median of %d alternated boots"
          % SAMPLE_ROUNDS)
    print("   %-12s %12s %8s %9s" % ("sample-hz", "boot ms", "ratio",
                                     "samples"))
    for hz in SAMPLE_RATES:
        med = statistics.median(times[hz])
        print("   %-12s %12.1f %8.3f %9d" % (hz or "off", med, med / base,
                                            samples[hz]))


WARM_BYTES = 2 << 30     # more than any one run's trace
PAGE_REPORTING = "/sys/module/page_reporting/parameters/page_reporting_order"
NO_REPORTING = 11        # above the largest order of a free block


@contextlib.contextmanager
def free_page_reporting_off():
    """Yield what became of the guest kernel's free page reporting.  On a
    VM with a virtio balloon that reports free pages, the host takes back
    the memory of freed files, and a tmpfs write that touches a page
    again costs about ten times more (3.3 s per GiB against 0.35, measured
    on the bench's machines): that cost would land on the trace writers,
    a different amount in each run."""
    try:
        with open(PAGE_REPORTING) as f:
            order = f.read().strip()
        with open(PAGE_REPORTING, "w") as f:
            f.write(str(NO_REPORTING))
    except OSError as e:
        order, why = None, e.strerror
    if order is None:
        yield "left as it is (%s)" % why
        return
    try:
        yield "held off (order %s, restored at the end)" % order
    finally:
        with open(PAGE_REPORTING, "w") as f:
            f.write(order)


def warm_tmpfs():
    """Write and delete WARM_BYTES in tmpfs, where the traces go, so that
    the first run does not pay for the first touch of fresh memory."""
    room = os.statvfs("/dev/shm")
    size = min(WARM_BYTES, room.f_bavail * room.f_frsize // 2)
    chunk = bytes(64 << 20)
    t0 = time.monotonic()
    with tempfile.TemporaryFile(dir="/dev/shm") as f:
        for _ in range(size // len(chunk)):
            f.write(chunk)
    return size, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    htlib.set_build(args.build)
    print("machine: " + machine())
    print("accelerator: TCG, except 1b (KVM)")
    with free_page_reporting_off() as reporting:
        size, secs = warm_tmpfs()
        print("free page reporting %s; tmpfs warmed up: %d MiB written and "
              "deleted in %.1f s" % (reporting, size >> 20, secs))
        print_linux()
        print_linux_kvm()
        print_channels()
        print_kvm_model()
        bench_sync_qtest()
        print_sampling()


if __name__ == "__main__":
    main()
