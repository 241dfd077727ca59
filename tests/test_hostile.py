"""What a hostile guest must not be able to do to QEMU (issue 13)."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import htlib
import httrace
from htlib import Qmp, SharedRingVm, check, check_eq, run_guest


def test_eject_then_reset_keeps_qemu_running():
    """The guest ejects the device through PIIX4's ACPI PCI hot-plug and
    resets.  The device cannot be unplugged, so the eject is ignored: the
    firmware runs again under the reset milestone's probe, and the guest
    finds the device.  QEMU used to abort here (status 134)."""
    run = run_guest("eject.elf", device="hypertrace,addr=04.0", reboot=True,
                    timeout=60)
    check_eq(run.status, 1, "exit status (134: QEMU aborted)\n" +
             run.serial + run.stderr[-2000:])
    check("eject: ejecting slot 4" in run.serial, run.serial)
    check("still there after the reset" in run.serial, run.serial)
    # SeaBIOS resets once more itself on a reboot: count the kernel entries
    entries = [e for e in run.events("hypertrace_milestone")
               if e[3]["name"] == "kernel_entry"]
    check_eq(len(entries), 2, "kernel_entry milestones (one per boot)")


def test_device_del_is_refused():
    """The host side cannot unplug it either: device_del says why."""
    with SharedRingVm() as vm:
        path = vm.command("query-hypertrace")["return"][0]["path"]
        reply = vm.command("device_del", id=path)
        check("error" in reply, "device_del was accepted: %r" % reply)
        check_eq(reply["error"]["desc"],
                 "Device '%s' does not support hotplugging"
                 % "hypertrace", "the error")
        check_eq(len(vm.command("query-hypertrace")["return"]), 1,
                 "devices after device_del")
        vm.command("quit")


def test_probe_with_stack_in_mmio_leaves_the_monitor_answering():
    """A probed function called over and over with its stack in MMIO
    while the monitor asks for the probes' state 200 times.  The probe
    used to read that stack holding the probe lock; the read waited for
    the BQL, the main loop held it waiting for the probe lock, and QEMU
    stopped answering.  Now the probe reads only guest RAM: every return
    is counted untracked, and every answer comes within a second."""
    tmp = tempfile.mkdtemp(prefix="ht-mmio-")
    sock, trace = os.path.join(tmp, "qmp"), os.path.join(tmp, "trace")
    elf = os.path.join(htlib.GUESTS, "mmiostack")
    proc = subprocess.Popen(
        [htlib.QEMU, "-M", "pc", "-accel", "tcg", "-m", "64",
         "-display", "none", "-nodefaults", "-D", "/dev/null",
         "-kernel", elf + ".elf",
         "-device", "hypertrace,symbols=%s-elf64,probes=stack_probed" % elf,
         "-trace", "enable=hypertrace_probe,file=" + trace,
         "-qmp", "unix:%s,server=on,wait=off" % sock],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        qmp = Qmp(sock)
        qmp.sock.settimeout(5)      # a hung QEMU fails the test, not CI
        deadline = time.monotonic() + 30
        while not qmp.command("query-hypertrace")["return"][0]["probes"][
                "untracked-returns"]:
            check(time.monotonic() < deadline, "the guest never called")
            time.sleep(0.01)
        slowest = 0.0
        for i in range(200):
            t0 = time.monotonic()
            try:
                info = qmp.command("query-hypertrace")["return"][0]
            except socket.timeout:
                raise AssertionError("QEMU stopped answering after %d "
                                     "queries" % i)
            slowest = max(slowest, time.monotonic() - t0)
        check(slowest < 1.0, "slowest answer %.3f s" % slowest)
        qmp.command("stop")
        untracked = qmp.command("query-hypertrace")["return"][0][
            "probes"]["untracked-returns"]
        qmp.command("quit")
        check_eq(proc.wait(30), 0, "exit status\n" + proc.stderr.read())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    events = list(httrace.read_simpletrace(trace, htlib.BUILD))
    entries = [e for e in events
               if e[0] == "hypertrace_probe" and e[3]["ret"] == 0]
    # the simple backend drops what its buffer cannot take, and counts it
    dropped = sum(e[3]["num_events_dropped"] for e in events
                  if e[0] == "dropped")
    check(len(entries) > 0, "no probe hit")
    check_eq(untracked, len(entries) + dropped,
             "untracked returns (one per call), entries %d + dropped %d"
             % (len(entries), dropped))
    shutil.rmtree(tmp)
