/*
 * libhypertrace: emit hypertrace events from Linux user space.
 *
 * Finds the hypertrace PCI device in sysfs, maps its BARs through the
 * resource files (root only), and emits through the ring of the CPU the
 * caller runs on, or through its synchronous slot.  Hypercalls need no
 * device: use ht_hypercall() from <hypertrace.h>.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef LIBHYPERTRACE_H
#define LIBHYPERTRACE_H

#include <stdint.h>
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#endif
#include "hypertrace.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ht_device ht_device;

/*
 * Open the first hypertrace device.  On failure returns NULL and, if
 * @error is not NULL, a malloc'ed message naming the cause and the fix.
 */
ht_device *ht_device_open(char **error);
void ht_device_close(ht_device *dev);

/*
 * The part of a device that the inline emit reads: its rings.  A device
 * begins with it; the rest is the library's.
 */
struct ht_device_rings {
    struct ht_ring *rings;
    uint32_t nr_rings;
};

/* The CPU the caller runs on, from sched_getcpu(): 0 if unknown. */
uint32_t ht_current_cpu_slow(void);

/*
 * The CPU the caller runs on, from glibc's rseq area (glibc 2.35 and
 * later): a load, where sched_getcpu() is a call.  Only a hint: the
 * thread may move at once, and any ring is safe to share.
 */
HT_INLINE uint32_t ht_current_cpu(void)
{
#ifdef RSEQ_SIG
    if (__rseq_size) {
        const struct rseq *rs = (const struct rseq *)
            ((const char *)__builtin_thread_pointer() + __rseq_offset);
        int cpu = (int)__atomic_load_n(&rs->cpu_id, __ATOMIC_RELAXED);

        if (cpu >= 0) {
            return (uint32_t)cpu;
        }
    }
#endif
    return ht_current_cpu_slow();
}

/*
 * One ring record on the caller's CPU's ring: 0, or -1 if it was full.
 * Inline, so that an emit costs what ht_ring_emit() costs.
 */
HT_INLINE int ht_device_emit(ht_device *dev, uint32_t id,
                             const uint64_t *args)
{
    const struct ht_device_rings *d = (const struct ht_device_rings *)dev;
    uint32_t cpu = ht_current_cpu();

    return ht_ring_emit(&d->rings[cpu < d->nr_rings ? cpu :
                                  cpu % d->nr_rings], id, args);
}

/*
 * One synchronous event with the first @nargs arguments (one exit each),
 * through the slot of the caller's CPU.  Threads preempted between the
 * arguments and the id may mix their arguments: pass nargs = 0 or 1, or
 * use the ring, when several threads emit at once.
 */
void ht_device_emit_sync(ht_device *dev, uint32_t id, const uint64_t *args,
                         int nargs);

/* Ring @index, for ht_ring_emit() inlined in the caller; NULL if none. */
struct ht_ring *ht_device_ring(ht_device *dev, uint32_t index);
/* The control BAR, for the register accessors of <hypertrace.h>. */
volatile void *ht_device_ctrl(const ht_device *dev);

/* The sysfs path of the device, e.g. /sys/bus/pci/devices/0000:00:04.0 */
const char *ht_device_path(const ht_device *dev);

#ifdef __cplusplus
}
#endif

#endif
