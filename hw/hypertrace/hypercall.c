/*
 * hypertrace hypercall channel
 *
 * vmcall nr HT_HC_KERNEL_FUNC, HT_HC_SCHED_SWITCH and HT_HC_USER_FUNC
 * become trace event hypertrace_hypercall.  Built into every system
 * emulator so that accelerators can call it with or without the device.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qapi/error.h"
#include "hw/hypertrace/hypercall.h"
#include "hw/hypertrace/hypertrace.h"
#include "hypertrace/abi.h"
#include "trace.h"

typedef enum {
    HC_OFF,             /* no device takes hypercalls */
    HC_KERNEL_ONLY,     /* user-hypercalls=off: CPL 3 is not recorded */
    HC_ALL,
} HypercallState;

static int hc_state = HC_OFF;

static bool hc_traced(uint64_t nr)
{
    return nr == HT_HC_KERNEL_FUNC || nr == HT_HC_SCHED_SWITCH ||
           nr == HT_HC_USER_FUNC;
}

void hypertrace_hypercall_record(const HypertraceHypercall *hc)
{
    int state = qatomic_read(&hc_state);

    if (state == HC_OFF || !hc_traced(hc->nr) ||
        (hc->cpl == 3 && state == HC_KERNEL_ONLY)) {
        return;
    }
    hypertrace_set_event_time(hc->time_ns);
    trace_hypertrace_hypercall(hc->cpu, hc->nr, hc->args[0], hc->args[1],
                               hc->args[2], hc->args[3]);
    hypertrace_set_event_time(0);
}

void hypertrace_hypercall_lost(uint64_t count)
{
    trace_hypertrace_lost(HT_NO_RING, count);
}

bool hypertrace_hypercall(const HypertraceHypercall *hc, int64_t *ret)
{
    if (qatomic_read(&hc_state) == HC_OFF) {
        return false;
    }
    hypertrace_hypercall_record(hc);
    /* What KVM answers: it knows none of these numbers. */
    *ret = hc->cpl ? HYPERTRACE_HC_EPERM : HYPERTRACE_HC_ENOSYS;
    return true;
}

bool hypertrace_hypercall_claim(bool allow_user, Error **errp)
{
    if (qatomic_read(&hc_state) != HC_OFF) {
        error_setg(errp, "hypertrace: another hypertrace device already "
                   "takes hypercalls");
        error_append_hint(errp, "Set hypercalls=off on all but one.\n");
        return false;
    }
    qatomic_set(&hc_state, allow_user ? HC_ALL : HC_KERNEL_ONLY);
    return true;
}

void hypertrace_hypercall_release(void)
{
    qatomic_set(&hc_state, HC_OFF);
}
