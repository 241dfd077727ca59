"""Every record published before a stop or a reset reaches the trace.

A host process publishes records into the device's rings through the
guest header (tests/bench/ring-producer, rings in a shared memdev) while
the VM is paused, so nothing drains them before the stop.
"""

import os
import shutil
import json
import signal
import socket
import subprocess
import tempfile
import time

import htlib
import httrace
from htlib import check_eq

EVENTS = 3000


class Vm:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="ht-stop-", dir="/dev/shm")
        self.shm = os.path.join(self.tmp, "rings")
        self.trace = os.path.join(self.tmp, "trace")
        self.sock = os.path.join(self.tmp, "qmp")
        self.proc = subprocess.Popen(
            [htlib.QEMU, "-M", "pc", "-accel", "tcg", "-m", "64", "-S",
             "-display", "none", "-nodefaults", "-D", "/dev/null",
             "-kernel", os.path.join(htlib.GUESTS, "idle.elf"),
             "-object", "memory-backend-file,id=rings,size=1M,mem-path=%s,"
             "share=on" % self.shm,
             "-device", "hypertrace,memdev=rings,rings=1,ring-size=4096",
             "-trace", "enable=hypertrace_*,file=" + self.trace,
             "-qmp", "unix:%s,server=on,wait=off" % self.sock],
            cwd=self.tmp, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while not os.path.exists(self.sock):
            if time.time() > deadline or self.proc.poll() is not None:
                raise AssertionError("QEMU did not start")
            time.sleep(0.05)
        self.qmp = socket.socket(socket.AF_UNIX)
        self.qmp.connect(self.sock)
        self.f = self.qmp.makefile("rw")
        json.loads(self.f.readline())
        self.command("qmp_capabilities")

    def command(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            reply = json.loads(self.f.readline())
            if "return" in reply or "error" in reply:
                return reply

    def publish(self, n):
        subprocess.run([os.path.join(htlib.BUILD, "ours", "ring-producer"),
                        self.shm, "1", str(n), "nowait"], check=True,
                       stdout=subprocess.DEVNULL)

    def finish(self):
        status = self.proc.wait(60)
        self.qmp.close()
        seqs = [a["a0"] for name, _ts, _p, a in
                httrace.read_simpletrace(self.trace, htlib.BUILD)
                if name == "hypertrace_event"]
        shutil.rmtree(self.tmp)
        return status, seqs


def check_stop(stop):
    vm = Vm()
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
