"""What a hostile guest must not be able to do to QEMU (issue 13)."""

from htlib import SharedRingVm, check, check_eq, run_guest


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
