/*
 * hypertrace: what it asks of QEMU's trace backends
 *
 * Events reported after the fact (ring records, host tracepoint samples)
 * carry the time they happened, a producer that can hold events back asks
 * for room first, and a run of ring records takes its room at once.  Only
 * the simple backend supports these; the others stamp the trace call,
 * never fill and take each record as it comes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/hypertrace/hypertrace.h"
#ifdef CONFIG_TRACE_SIMPLE
#include "trace/simple.h"
#endif

void hypertrace_set_event_time(uint64_t ns)
{
#ifdef CONFIG_TRACE_SIMPLE
    trace_simple_event_time_ns = ns;
#endif
}

bool hypertrace_trace_has_room(size_t len, bool wait)
{
#ifdef CONFIG_TRACE_SIMPLE
    return st_buffer_has_room(len, wait);
#else
    return true;
#endif
}

void hypertrace_trace_batch_begin(void)
{
#ifdef CONFIG_TRACE_SIMPLE
    st_batch_begin();
#endif
}

void hypertrace_trace_batch_end(void)
{
#ifdef CONFIG_TRACE_SIMPLE
    st_batch_end();
#endif
}
