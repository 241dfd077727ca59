/*
 * hypertrace fuzz target: a hostile guest's view of the device
 *
 * The generic fuzzer only does MMIO and port accesses; it never writes the
 * data BAR, which is RAM, so it cannot reach the ring protocol.  This
 * target speaks it, with the actions of ../hypertrace-fuzz.h, and enters
 * the hypercall channel and the probe helper as a vCPU would.  Each input
 * starts from a freshly reset machine.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/qdev-core.h"
#include "hw/hypertrace/hypertrace.h"
#include "hw/hypertrace/probe.h"
#include "hw/core/cpu.h"
#include "tests/qtest/hypertrace-fuzz.h"
#include "fuzz.h"

/* qtest runs no guest code: call the channel's entry with guest values */
static void fuzz_hypercall(const HypertraceHypercall *hc)
{
    int64_t ret;

    hypertrace_hypercall(hc, &ret);
}

/* The probe helper's entry, as TCG and KVM call it at a probed address */
static void fuzz_probe_hit(uint64_t pc, uint64_t sp, bool code64)
{
    HypertraceProbeHit hit = {
        .cpu = first_cpu,
        .pc = pc,
        .sp = sp,
        .slot = code64 ? 8 : 4,
    };

    hypertrace_probe_hit(&hit);
}

/* The device's own reset, as an action of the input */
static void ht_fuzz_device_reset(QTestState *s)
{
    device_cold_reset(DEVICE(object_resolve_path_type("", TYPE_HYPERTRACE,
                                                      NULL)));
    flush_events(s);
}

static void hypertrace_fuzz(QTestState *s, const unsigned char *data,
                            size_t size)
{
    static HtFuzzDevice dev;

    if (!dev.pci) {
        ht_fuzz_device_init(&dev, s);
        dev.hypercall = fuzz_hypercall;
        dev.probe_hit = fuzz_probe_hit;
        dev.reset = ht_fuzz_device_reset;
    }
    ht_fuzz_run(&dev, data, size);
    flush_events(s);
    /* each input starts from a fresh machine, as upstream's targets do */
    fuzz_reset(s);
    ht_fuzz_remap(&dev);
}

/* QEMU_FUZZ_ARGS adds options, as for generic-fuzz: -L for firmware */
static GString *hypertrace_fuzz_argv(FuzzTarget *t)
{
    GString *argv = g_string_new(TARGET_NAME " -display none -accel qtest "
                                 HT_FUZZ_ARGS);

    if (getenv("QEMU_FUZZ_ARGS")) {
        g_string_append_printf(argv, " %s", getenv("QEMU_FUZZ_ARGS"));
    }
    return argv;
}

static void hypertrace_fuzz_register(void)
{
    fuzz_add_target(&(FuzzTarget){
        .name = "hypertrace-fuzz",
        .description = "the hypertrace device as a hostile guest sees it: "
                       "registers, rings, records, sync emits, resets, "
                       "hypercalls and probe hits",
        .get_init_cmdline = hypertrace_fuzz_argv,
        .fuzz = hypertrace_fuzz,
    });
}

fuzz_target_init(hypertrace_fuzz_register);
