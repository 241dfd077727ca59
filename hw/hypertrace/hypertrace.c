/*
 * hypertrace: guest-to-host tracing device
 *
 * A control BAR (registers, doorbells, synchronous emit slots) and a
 * RAM-backed data BAR holding one shared-memory ring per vCPU.  Guests
 * publish ring records without a VM exit; a drain thread per device takes
 * them into QEMU's trace backends.  The ABI lives in
 * include/hypertrace/abi.h and docs/specs/hypertrace.rst.
 *
 * This file is the device's life: properties, realize, reset, run state
 * changes and exit.  The clock, the drain thread, the ring consumer, the
 * registers and the monitor commands have files of their own.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/lockable.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "qemu/host-utils.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/boards.h"
#include "migration/blocker.h"
#include "system/runstate.h"
#include "system/kvm.h"
#include "system/hostmem.h"
#include "hw/hypertrace/hypercall.h"
#include "hw/hypertrace/probe.h"
#include "hw/hypertrace/sample.h"
#include "hypertrace-internal.h"

QEMU_BUILD_BUG_ON(sizeof(struct ht_ring_header) != 4 * HT_CACHELINE);
QEMU_BUILD_BUG_ON(sizeof(struct ht_record) != HT_CACHELINE);
QEMU_BUILD_BUG_ON(HT_CLIENT_BASE + HT_MAX_CLIENTS * HT_CLIENT_STRIDE >
                  HT_CTRL_BAR_SIZE);
QEMU_BUILD_BUG_ON(HT_RING_REGS_BASE + HT_MAX_RINGS * HT_RING_REGS_STRIDE >
                  HT_CLIENT_BASE);

static QTAILQ_HEAD(, HypertraceState) hypertrace_devices =
    QTAILQ_HEAD_INITIALIZER(hypertrace_devices);

static bool ht_check_range(const char *prop, uint64_t val, uint64_t min,
                           uint64_t max, Error **errp)
{
    if (val < min || val > max) {
        error_setg(errp, "hypertrace: %s=%" PRIu64 " is out of range",
                   prop, val);
        error_append_hint(errp, "Use a value from %" PRIu64 " to %" PRIu64
                          ".\n", min, max);
        return false;
    }
    return true;
}

static bool ht_check_props(HypertraceState *s, Error **errp)
{
    unsigned int cpus = current_machine->smp.max_cpus;
    uint64_t data_size;

    if (!s->nr_rings) {
        s->nr_rings = MIN(cpus, HT_MAX_RINGS);
    }
    if (!s->nr_clients) {
        s->nr_clients = MIN(cpus, HT_MAX_CLIENTS);
    }
    if (!ht_check_range("rings", s->nr_rings, 1, HT_MAX_RINGS, errp) ||
        !ht_check_range("clients", s->nr_clients, 1, HT_MAX_CLIENTS, errp) ||
        !ht_check_range("ring-size", s->ring_size, 1u << HT_MIN_RING_ORDER,
                        1u << HT_MAX_RING_ORDER, errp) ||
        !ht_check_range("drain-period-us", s->drain_period_us, 10,
                        10 * 1000 * 1000, errp) ||
        !ht_check_range("drain-budget", s->drain_budget, 1, 1u << 24,
                        errp) ||
        !ht_check_range("sample-hz", s->sample_hz, 0,
                        HYPERTRACE_SAMPLE_MAX_HZ, errp)) {
        return false;
    }
    if (!is_power_of_2(s->ring_size)) {
        error_setg(errp, "hypertrace: ring-size=%u is not a power of two",
                   s->ring_size);
        error_append_hint(errp, "Use a power of two from %u to %u.\n",
                          1u << HT_MIN_RING_ORDER, 1u << HT_MAX_RING_ORDER);
        return false;
    }
    if (!strcmp(s->mode_name, "discard")) {
        s->mode = HT_MODE_DISCARD;
    } else if (!strcmp(s->mode_name, "overwrite")) {
        s->mode = HT_MODE_OVERWRITE;
    } else {
        error_setg(errp, "hypertrace: mode=%s is not a ring mode",
                   s->mode_name);
        error_append_hint(errp, "Use mode=discard or mode=overwrite.\n");
        return false;
    }
    s->ring_order = ctz32(s->ring_size);
    s->ring_stride = ROUND_UP(HT_RING_HEADER_SIZE +
                              s->ring_size * HT_RECORD_SIZE, 4 * KiB);
    data_size = (uint64_t)s->ring_stride * s->nr_rings;
    if (data_size > HT_MAX_DATA_SIZE) {
        error_setg(errp, "hypertrace: rings=%u x ring-size=%u needs %" PRIu64
                   " MiB of ring memory, more than %llu MiB", s->nr_rings,
                   s->ring_size, data_size / MiB, HT_MAX_DATA_SIZE / MiB);
        error_append_hint(errp, "Lower rings or ring-size.\n");
        return false;
    }
    return true;
}

static void ht_vm_state_change(void *opaque, bool running, RunState state)
{
    HypertraceState *s = opaque;

    uint32_t r;

    if (running) {
        WITH_QEMU_LOCK_GUARD(&s->drain_lock) {
            s->clock.kvm_tsc_offset_ns = 0; /* KVM may have moved it */
            ht_clock_update(&s->clock); /* the TSC runs again from here */
            for (r = 0; r < s->nr_rings; r++) {
                s->rings[r].stalled = false; /* producers were stopped */
            }
        }
        ht_clock_sync_kvm(s);
    } else {
        /* at a shutdown the vCPUs are paused and will not commit again */
        ht_drain_all(s, state == RUN_STATE_SHUTDOWN);
    }
}

/* The data BAR: private RAM, or a memory backend others may map too. */
static bool ht_init_data(HypertraceState *s, uint64_t size, Error **errp)
{
    ERRP_GUARD();
    uint64_t have;

    if (!s->hostmem) {
        s->data = &s->data_ram;
        memory_region_init_ram(&s->data_ram, OBJECT(s), "hypertrace-data",
                               size, errp);
        return !*errp;
    }
    if (host_memory_backend_is_mapped(s->hostmem)) {
        error_setg(errp, "hypertrace: memdev %s is already in use",
                   object_get_canonical_path_component(OBJECT(s->hostmem)));
        return false;
    }
    have = memory_region_size(host_memory_backend_get_memory(s->hostmem));
    if (have < size || !is_power_of_2(have)) {
        error_setg(errp, "hypertrace: memdev %s has %" PRIu64 " bytes; "
                   "these rings need a power of two of at least %" PRIu64,
                   object_get_canonical_path_component(OBJECT(s->hostmem)),
                   have, size);
        error_append_hint(errp, "Give the memory backend size=%" PRIu64
                          ".\n", size);
        return false;
    }
    s->data = host_memory_backend_get_memory(s->hostmem);
    host_memory_backend_set_mapped(s->hostmem, true);
    return true;
}

/* Undo ht_init_data() and the migration blocker. */
static void ht_release_data(HypertraceState *s)
{
    if (s->hostmem) {
        host_memory_backend_set_mapped(s->hostmem, false);
    }
    if (s->migration_blocker) {
        migrate_del_blocker(&s->migration_blocker);
    }
}

static void ht_release_hypercalls(HypertraceState *s)
{
    if (s->hypercalls) {
#ifdef CONFIG_LINUX
        hypertrace_kvm_hypercalls_stop();
#endif
        hypertrace_hypercall_release();
    }
}

/*
 * A shutdown request (quit, a signal, the guest's power-off, a reset with
 * -no-reboot): in the main loop, with the BQL, before QEMU cleans up and
 * the trace backends flush.  A running VM is drained when QEMU stops it
 * (ht_vm_state_change); a stopped one gets no such change, and its
 * vCPUs will not commit again, so drain it for good here.
 */
static void ht_drain_at_shutdown(Notifier *notifier, void *cause)
{
    HypertraceState *s;

    if (runstate_is_running()) {
        return;
    }
    QTAILQ_FOREACH(s, &hypertrace_devices, next) {
        ht_drain_all(s, true);
    }
}

/*
 * Any exit(), also one that skips the shutdown (isa-debug-exit, fatal
 * errors): before the simple backend's own atexit flush, see realize.  It
 * drains only on a thread that holds the BQL; another thread's exit()
 * would race the main loop over the device's state.
 */
static void ht_drain_at_exit(void)
{
    HypertraceState *s;

    if (!bql_locked()) {
        return;
    }
    QTAILQ_FOREACH(s, &hypertrace_devices, next) {
        ht_drain_close(s);
        ht_release_hypercalls(s);
    }
}

/*
 * Probes and milestones belong to the whole VM, as hypercalls do: the
 * first device that wants them gets them.  A second device that wants
 * them too (milestones are on by default) is an error, never a device
 * that silently records none.
 */
static bool ht_probes_taken(void)
{
    HypertraceState *s;

    QTAILQ_FOREACH(s, &hypertrace_devices, next) {
        if (s->has_probes) {
            return true;
        }
    }
    return false;
}

static bool ht_start_probes(HypertraceState *s, Error **errp)
{
    if (ht_probes_taken()) {
        if (s->probes || s->symbols || s->milestones) {
            error_setg(errp, "hypertrace: another hypertrace device already "
                       "has the probes and milestones");
            error_append_hint(errp, "Give symbols= and probes= to one "
                              "device only, and milestones=off to the "
                              "others.\n");
            return false;
        }
        return true;
    }
    if (!s->milestones && !s->probes) {
        return true;
    }
    if (!hypertrace_probes_start(s->symbols, s->probes, s->milestones,
                                 errp)) {
        return false;
    }
    s->has_probes = true;
    return true;
}

static void ht_stop_probes(HypertraceState *s)
{
    if (s->has_probes) {
        hypertrace_probes_stop();
        s->has_probes = false;
    }
}

static bool ht_start_sampler(HypertraceState *s, Error **errp)
{
    if (s->sample_hz && !hypertrace_sampler_start(s->sample_hz, errp)) {
        return false;
    }
    s->has_sampler = s->sample_hz;
    return true;
}

static void ht_stop_sampler(HypertraceState *s)
{
    if (s->has_sampler) {
        hypertrace_sampler_stop();
        s->has_sampler = false;
    }
}

static void ht_start_hypercalls(HypertraceState *s)
{
#ifdef CONFIG_LINUX
    if (s->hypercalls && kvm_enabled()) {
        hypertrace_kvm_hypercalls_start();
    }
#endif
}

/* What a device takes of the whole VM: hypercalls, probes, sampling. */
static bool ht_claim_vm_channels(HypertraceState *s, Error **errp)
{
    if (s->hypercalls &&
        !hypertrace_hypercall_claim(s->user_hypercalls, errp)) {
        return false;
    }
    if (!ht_start_probes(s, errp)) {
        goto release_hypercalls;
    }
    if (!ht_start_sampler(s, errp)) {
        goto stop_probes;
    }
    return true;

stop_probes:
    ht_stop_probes(s);
release_hypercalls:
    ht_release_hypercalls(s);
    return false;
}

static void ht_realize(PCIDevice *pdev, Error **errp)
{
    HypertraceState *s = HYPERTRACE(pdev);
    static Notifier shutdown_notifier = { .notify = ht_drain_at_shutdown };
    static bool notifiers_done;
    uint64_t data_size;
    uint32_t r;

    if (!ht_check_props(s, errp)) {
        return;
    }
    data_size = pow2ceil((uint64_t)s->ring_stride * s->nr_rings);
    if (!ht_init_data(s, data_size, errp)) {
        return;
    }
    error_setg(&s->migration_blocker, "hypertrace: migration is not "
               "supported; its rings hold host-side consumer state");
    if (migrate_add_blocker(&s->migration_blocker, errp) < 0 ||
        !ht_claim_vm_channels(s, errp)) {
        ht_release_data(s);
        return;
    }
    memory_region_init_io(&s->ctrl, OBJECT(s), &ht_ctrl_ops, s,
                          "hypertrace-ctrl", HT_CTRL_BAR_SIZE);
    s->data_ptr = memory_region_get_ram_ptr(s->data);
    pci_register_bar(pdev, HT_CTRL_BAR, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->ctrl);
    pci_register_bar(pdev, HT_DATA_BAR, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, s->data);

    s->rings = g_new0(HypertraceRing, s->nr_rings);
    s->clients = g_new0(HypertraceClient, s->nr_clients);
    if (s->hostmem) {
        /* a file may hold anything; our own RAM starts zeroed, untouched */
        memset(s->data_ptr, 0, (size_t)s->ring_stride * s->nr_rings);
    }
    for (r = 0; r < s->nr_rings; r++) {
        ht_ring_reset(s, r);
    }
    ht_clock_start(&s->clock);
    ht_drain_start(s);
    s->vmstate_entry = qemu_add_vm_change_state_handler(ht_vm_state_change,
                                                        s);
    ht_start_hypercalls(s);
    QTAILQ_INSERT_TAIL(&hypertrace_devices, s, next);
    /*
     * QEMU's exit notifiers run after the trace backends' atexit flush,
     * because they were registered first; our own atexit handler, for
     * exits that skip the shutdown, runs before it.
     */
    if (!notifiers_done) {
        qemu_register_shutdown_notifier(&shutdown_notifier);
        atexit(ht_drain_at_exit);
        notifiers_done = true;
    }
}

static void ht_exit(PCIDevice *pdev)
{
    HypertraceState *s = HYPERTRACE(pdev);

    ht_drain_stop(s);
    ht_stop_sampler(s);
    ht_release_hypercalls(s);
    ht_stop_probes(s);
    QTAILQ_REMOVE(&hypertrace_devices, s, next);
    qemu_del_vm_change_state_handler(s->vmstate_entry);
    g_free(s->rings);
    g_free(s->clients);
    ht_release_data(s);
}

static void ht_reset(DeviceState *dev)
{
    HypertraceState *s = HYPERTRACE(dev);
    uint32_t r;

    if (!s->rings) {
        return;
    }
    if (s->has_probes) {
        hypertrace_probes_reset();
    }
    WITH_QEMU_LOCK_GUARD(&s->drain_lock) {
        ht_drain_all_locked(s, true); /* what was published is kept */
        s->clock.kvm_tsc_offset_ns = 0; /* the CPUs' reset writes IA32_TSC */
        for (r = 0; r < s->nr_rings; r++) {
            ht_ring_reset(s, r);
        }
    }
    memset(s->clients, 0, sizeof(*s->clients) * s->nr_clients);
}

static const Property ht_properties[] = {
    DEFINE_PROP_UINT32("rings", HypertraceState, nr_rings, 0),
    DEFINE_PROP_UINT32("ring-size", HypertraceState, ring_size, 65536),
    DEFINE_PROP_UINT32("clients", HypertraceState, nr_clients, 0),
    DEFINE_PROP_STRING("mode", HypertraceState, mode_name),
    DEFINE_PROP_UINT32("drain-period-us", HypertraceState, drain_period_us,
                       1000),
    DEFINE_PROP_UINT32("drain-budget", HypertraceState, drain_budget, 4096),
    DEFINE_PROP_BOOL("hypercalls", HypertraceState, hypercalls, true),
    DEFINE_PROP_LINK("memdev", HypertraceState, hostmem, TYPE_MEMORY_BACKEND,
                     HostMemoryBackend *),
    DEFINE_PROP_BOOL("user-hypercalls", HypertraceState, user_hypercalls,
                     true),
    DEFINE_PROP_STRING("symbols", HypertraceState, symbols),
    DEFINE_PROP_STRING("probes", HypertraceState, probes),
    DEFINE_PROP_BOOL("milestones", HypertraceState, milestones, true),
    DEFINE_PROP_UINT32("sample-hz", HypertraceState, sample_hz, 0),
};

static void ht_instance_init(Object *obj)
{
    HypertraceState *s = HYPERTRACE(obj);

    s->mode_name = g_strdup("discard");
}

static void ht_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = ht_realize;
    k->exit = ht_exit;
    k->vendor_id = HT_PCI_VENDOR_ID;
    k->device_id = HT_PCI_DEVICE_ID;
    k->revision = HT_PCI_REVISION;
    k->class_id = HT_PCI_CLASS;
    dc->desc = "Guest-to-host tracing: shared-memory rings and sync events";
    device_class_set_legacy_reset(dc, ht_reset);
    /*
     * Probes and hypercalls belong to the whole VM, and translated code
     * calls into them: the device stays as long as the machine.
     */
    dc->hotpluggable = false;
    device_class_set_props(dc, ht_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo ht_types[] = {
    {
        .name = TYPE_HYPERTRACE,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(HypertraceState),
        .instance_init = ht_instance_init,
        .class_init = ht_class_init,
        .interfaces = (InterfaceInfo[]) {
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(ht_types)
