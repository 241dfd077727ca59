/*
 * hypertrace: the actions of a hostile guest, from fuzzer input
 *
 * Shared by the libFuzzer target (fuzz/hypertrace_fuzz.c) and the qtest
 * that replays its corpus and every crash it found (hypertrace-test.c),
 * so that an input means the same thing to both.  Each 16-byte action is
 * a control or config access, a ring header field, a record (committed,
 * torn or not at all), a doorbell, a synchronous emit, a hypercall, time
 * passing or a reset.  Values come from the input as they are, so indices
 * land ahead, behind, wrapped or far away.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_QTEST_HYPERTRACE_FUZZ_H
#define TESTS_QTEST_HYPERTRACE_FUZZ_H

#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "hw/pci/pci_regs.h"
#include "hw/hypertrace/hypercall.h"
#include "hypertrace/abi.h"

#define HT_FUZZ_RINGS       2
#define HT_FUZZ_RING_ORDER  HT_MIN_RING_ORDER
#define HT_FUZZ_MAX_STEP_NS (2 * HT_COMMIT_TIMEOUT_NS)
#define HT_FUZZ_PROBE_A     0x100000
#define HT_FUZZ_PROBE_B     0x100100
#define HT_FUZZ_ARGS        "-machine pc -m 64 -smp 2 -device hypertrace," \
                            "rings=2,clients=2,ring-size=16,drain-budget=4," \
                            "probes=0x100000:0x100100"

enum {
    HT_ACT_CTRL_WRITE,
    HT_ACT_CTRL_READ,
    HT_ACT_CONFIG_WRITE,
    HT_ACT_HEADER_WRITE,
    HT_ACT_RECORD,
    HT_ACT_PUBLISH,
    HT_ACT_DOORBELL,
    HT_ACT_SYNC_EMIT,
    HT_ACT_HYPERCALL,
    HT_ACT_CLOCK_STEP,
    HT_ACT_DATA_WRITE,
    HT_ACT_RESET,
    HT_ACT_MAX
};

typedef struct HtFuzzAction {
    uint8_t kind;
    uint8_t ring;
    uint16_t small;
    uint32_t offset;
    uint64_t value;
} HtFuzzAction;

typedef struct HtFuzzDevice {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *pci;
    QPCIBar ctrl;
    QPCIBar data;
    uint64_t stride;
    /* what the harness can do that a qtest client cannot, or NULL */
    void (*hypercall)(const HypertraceHypercall *hc);
    void (*probe_hit)(uint64_t pc, uint64_t sp, bool code64);
    void (*reset)(QTestState *qts);
} HtFuzzDevice;

static void ht_fuzz_found(QPCIDevice *dev, int devfn, void *opaque)
{
    *(QPCIDevice **)opaque = dev;
}

static inline void ht_fuzz_device_init(HtFuzzDevice *d, QTestState *qts)
{
    d->qts = qts;
    d->bus = qpci_new_pc(qts, NULL);    /* no DMA: no allocator */
    qpci_device_foreach(d->bus, HT_PCI_VENDOR_ID, HT_PCI_DEVICE_ID,
                        ht_fuzz_found, &d->pci);
    g_assert(d->pci);
    qpci_device_enable(d->pci);
    d->ctrl = qpci_iomap(d->pci, HT_CTRL_BAR, NULL);
    d->data = qpci_iomap(d->pci, HT_DATA_BAR, NULL);
    d->stride = qpci_io_readl(d->pci, d->ctrl, HT_REG_RING_STRIDE);
}

/* A reset unmaps the BARs: map them where they were, as firmware would. */
static inline void ht_fuzz_remap(HtFuzzDevice *d)
{
    qpci_config_writel(d->pci, PCI_BASE_ADDRESS_0 + 4 * HT_CTRL_BAR,
                       d->ctrl.addr);
    qpci_config_writel(d->pci, PCI_BASE_ADDRESS_0 + 4 * HT_DATA_BAR,
                       d->data.addr);
    qpci_config_writel(d->pci, PCI_BASE_ADDRESS_0 + 4 * HT_DATA_BAR + 4,
                       d->data.addr >> 32);
    qpci_device_enable(d->pci);
}

static inline uint64_t ht_fuzz_ring(HtFuzzDevice *d, const HtFuzzAction *a)
{
    return (a->ring % HT_FUZZ_RINGS) * d->stride;
}

/* A record at position a->offset; its commit word right, or a->value. */
static inline void ht_fuzz_record(HtFuzzDevice *d, const HtFuzzAction *a)
{
    uint64_t slot = a->offset & ((1u << HT_FUZZ_RING_ORDER) - 1);
    struct ht_record rec = {
        .commit = a->ring & 0x80 ? (uint32_t)a->value : a->offset + 1,
        .id = a->small,
        .tsc = a->value,
        .args = { a->value, a->offset },
    };

    qpci_memwrite(d->pci, d->data, ht_fuzz_ring(d, a) + HT_RING_HEADER_SIZE +
                  slot * HT_RECORD_SIZE, &rec, sizeof(rec));
}

static inline void ht_fuzz_sync_emit(HtFuzzDevice *d, const HtFuzzAction *a)
{
    int i;

    for (i = 0; i < a->small % (HT_NR_ARGS + 1); i++) {
        qpci_io_writeq(d->pci, d->ctrl,
                       HT_CLIENT_REG(a->ring, HT_CLIENT_ARG(i)), a->value + i);
    }
    qpci_io_writel(d->pci, d->ctrl, HT_CLIENT_REG(a->ring, HT_CLIENT_EMIT),
                   a->offset);
}

/*
 * A vCPU at a probed address, the reset milestone, or a->value (a return
 * site, or anywhere), with its stack pointer anywhere: RAM, MMIO or
 * nothing (a->offset, or a->value with 0x10 in a->small; 0x20: 64-bit).
 */
static inline void ht_fuzz_probe_hit(HtFuzzDevice *d, const HtFuzzAction *a)
{
    const uint64_t pcs[] = {
        HT_FUZZ_PROBE_A, HT_FUZZ_PROBE_B, 0xfffffff0, a->value,
    };

    if (d->probe_hit) {
        d->probe_hit(pcs[a->ring % ARRAY_SIZE(pcs)],
                     a->small & 0x10 ? a->value : a->offset, a->small & 0x20);
    }
}

static inline void ht_fuzz_hypercall(HtFuzzDevice *d, const HtFuzzAction *a)
{
    static const uint64_t traced[] = {
        HT_HC_KERNEL_FUNC, HT_HC_SCHED_SWITCH, HT_HC_USER_FUNC,
    };
    HypertraceHypercall hc = {
        .cpu = a->ring % 2,
        .cpl = a->small & 3,
        .nr = a->small & 4 ? a->value : traced[a->offset % ARRAY_SIZE(traced)],
        .args = { a->value, a->offset, a->small, a->ring },
    };

    if (d->hypercall) {
        d->hypercall(&hc);
    }
}

static inline void ht_fuzz_action(HtFuzzDevice *d, const HtFuzzAction *a)
{
    switch (a->kind % HT_ACT_MAX) {
    case HT_ACT_CTRL_WRITE:
        qpci_io_writel(d->pci, d->ctrl, a->offset % HT_CTRL_BAR_SIZE,
                       a->value);
        break;
    case HT_ACT_CTRL_READ:
        qpci_io_readq(d->pci, d->ctrl, a->offset % HT_CTRL_BAR_SIZE & ~7u);
        break;
    case HT_ACT_CONFIG_WRITE:
        qpci_config_writel(d->pci, a->offset & 0xfc, a->value);
        break;
    case HT_ACT_HEADER_WRITE:
        qpci_io_writeq(d->pci, d->data, ht_fuzz_ring(d, a) +
                       (a->offset % HT_RING_HEADER_SIZE & ~7u), a->value);
        break;
    case HT_ACT_RECORD:
        ht_fuzz_record(d, a);
        break;
    case HT_ACT_PUBLISH:
        qpci_io_writeq(d->pci, d->data, ht_fuzz_ring(d, a), a->value);
        break;
    case HT_ACT_DOORBELL:
        qpci_io_writel(d->pci, d->ctrl, HT_RING_REG(a->ring % (HT_FUZZ_RINGS
                       + 1), HT_RING_CONTROL), a->small);
        break;
    case HT_ACT_SYNC_EMIT:
        ht_fuzz_sync_emit(d, a);
        break;
    case HT_ACT_HYPERCALL:      /* the vCPU side: hypercalls and probes */
        if (a->small & 8) {
            ht_fuzz_probe_hit(d, a);
        } else {
            ht_fuzz_hypercall(d, a);
        }
        break;
    case HT_ACT_CLOCK_STEP:     /* QEMU 10.0's qtest refuses a step of 0 */
        qtest_clock_step(d->qts, 1 + a->value % HT_FUZZ_MAX_STEP_NS);
        break;
    case HT_ACT_DATA_WRITE:
        qpci_io_writeq(d->pci, d->data, a->value % (HT_FUZZ_RINGS * d->stride)
                       & ~7ull, a->offset);
        break;
    case HT_ACT_RESET:
        d->reset(d->qts);
        ht_fuzz_remap(d);
        break;
    }
}

/* Every whole action of @data, then time for the last drains. */
static inline void ht_fuzz_run(HtFuzzDevice *d, const uint8_t *data,
                               size_t size)
{
    HtFuzzAction a;

    for (; size >= sizeof(a); data += sizeof(a), size -= sizeof(a)) {
        memcpy(&a, data, sizeof(a));
        ht_fuzz_action(d, &a);
    }
    qtest_clock_step(d->qts, HT_FUZZ_MAX_STEP_NS);
}

#endif
