/*
 * hypertrace device: QEMU-internal interface
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_HYPERTRACE_H
#define HW_HYPERTRACE_H

#include "hw/pci/pci_device.h"
#include "qemu/queue.h"
#include "qemu/thread.h"
#include "qom/object.h"
#include "hypertrace/abi.h"

#define TYPE_HYPERTRACE "hypertrace"
OBJECT_DECLARE_SIMPLE_TYPE(HypertraceState, HYPERTRACE)

/* Host-side state of one ring; the guest's copy is in the ring header. */
typedef struct HypertraceRing {
    uint64_t consumer;      /* authoritative; the header copy is for guests */
    uint64_t published;
    uint64_t consumed;
    uint64_t lost;
    uint64_t errors;
    uint64_t guest_lost;    /* header lost counter already accounted */
    uint64_t stall_pos;     /* uncommitted position being timed */
    int64_t stall_since_ns; /* ht_producer_time_ns() when it was first seen */
    bool stalled;           /* stall_pos is being timed */
    bool halted;
} HypertraceRing;

/* One client of the synchronous channel: the arguments of its next emit. */
typedef struct HypertraceClient {
    uint64_t args[HT_NR_ARGS];
} HypertraceClient;

/*
 * Guest TSC to host CLOCK_MONOTONIC nanoseconds: an anchor (guest TSC and
 * host time read back to back while the VM runs) and the TSC rate, which
 * is the host's and is measured over the device's whole life.  Under KVM
 * the guest TSC is the host's plus an offset, read again every second.
 */
typedef struct HypertraceClock {
    uint64_t host_tsc0;
    int64_t ns0;
    uint64_t anchor_tsc;
    int64_t anchor_ns;
    double ns_per_tick;
    int64_t kvm_tsc_offset;
    int64_t kvm_tsc_offset_ns;  /* when it was read; 0 to read it again */
} HypertraceClock;

struct HypertraceState {
    PCIDevice parent_obj;

    MemoryRegion ctrl;
    MemoryRegion data_ram;
    MemoryRegion *data;         /* data_ram, or the memdev's region */
    uint8_t *data_ptr;
    QemuThread drain_thread;
    QemuEvent drain_wake;       /* a doorbell, the drain timer, exit */
    QemuMutex drain_lock;       /* the rings' consumer state, the clock */
    bool drain_quit;            /* the drain thread is to end */
    bool drain_closed;          /* drained for good at exit: take no more */
    QEMUTimer *drain_timer;
    VMChangeStateEntry *vmstate_entry;
    Error *migration_blocker;
    QTAILQ_ENTRY(HypertraceState) next;

    HypertraceRing *rings;      /* consumer state under drain_lock */
    HypertraceClient *clients;
    HypertraceClock clock;
    bool has_probes;            /* this device owns the VM's probes */
    bool has_sampler;           /* this device samples the vCPUs */
    bool trace_stuck;           /* in this pass, the trace writer is */
    uint64_t errors;            /* atomic: the vCPUs and the drain thread */
    uint32_t ring_order;
    uint32_t ring_stride;
    uint32_t mode;

    /* properties */
    uint32_t nr_rings;
    uint32_t ring_size;
    uint32_t nr_clients;
    char *mode_name;
    uint32_t drain_period_us;
    uint32_t drain_budget;
    bool hypercalls;
    bool user_hypercalls;
    HostMemoryBackend *hostmem;
    char *symbols;
    char *probes;
    bool milestones;
    uint32_t sample_hz;
};

/*
 * Stamp the events this thread traces next with host time @ns (get_clock()
 * nanoseconds) instead of the time they are traced; 0 ends it.  Only the
 * simple backend can take a time; the others stamp the trace call.
 */
void hypertrace_set_event_time(uint64_t ns);

/*
 * Whether the trace backends can take @len bytes of records without
 * dropping any, for producers that can hold events back.  Only the simple
 * backend's buffer can fill; with @wait, wait for its writer first.
 */
bool hypertrace_trace_has_room(size_t len, bool wait);

/*
 * Between these two calls, the simple backend holds the records this
 * thread traces and takes their room in its buffer at once, at the end.
 */
void hypertrace_trace_batch_begin(void);
void hypertrace_trace_batch_end(void);

/*
 * Under KVM on x86: the guest's TSC less the host's, read now from the
 * first vCPU (which leaves KVM_RUN for it): 1, or 0 if the vCPU has not
 * run since QEMU last set its registers (the offset is about to change),
 * or -1 if KVM does not answer or this is not KVM on x86.  Call with the
 * BQL held, not on a vCPU thread.
 */
int hypertrace_kvm_tsc_offset(int64_t *offset);

#endif
