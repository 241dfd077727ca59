/*
 * hypertrace device: QEMU-internal interface
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_HYPERTRACE_H
#define HW_HYPERTRACE_H

#include "hw/pci/pci.h"
#include "qom/object.h"

#define TYPE_HYPERTRACE "hypertrace"

typedef struct HypertraceInfo HypertraceInfo;

/*
 * The monitor commands reach devices through their class, so that they
 * link into every system emulator, with or without CONFIG_HYPERTRACE.
 */
typedef struct HypertraceClass {
    PCIDeviceClass parent_class;
    HypertraceInfo *(*query)(Object *dev);
} HypertraceClass;

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
 * Between these calls, the events without strings that this thread traces
 * (a batch of ring records) take their space in the simple backend's
 * buffer all at once, at the end.  They do not nest.
 */
void hypertrace_trace_batch_begin(void);
void hypertrace_trace_batch_end(void);

/*
 * Under KVM on x86: the guest's TSC less the host's, read now from the
 * first vCPU (which leaves KVM_RUN for it).  False elsewhere, or if KVM
 * does not answer.  Call with the BQL held, not on a vCPU thread.
 */
bool hypertrace_kvm_tsc_offset(int64_t *offset);

#endif
