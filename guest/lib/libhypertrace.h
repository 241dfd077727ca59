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
 * What the inline emit reads of a device: a device begins with it, and
 * the rest is the library's.  @generation tells a reopened device from
 * an old one at the same address.
 */
struct ht_device_head {
    uint64_t generation;
};

/* The ring of the CPU the caller runs on now. */
struct ht_ring *ht_device_ring_here(ht_device *dev);

/* A thread's ring of a device, as ht_device_emit() keeps it. */
struct ht_thread_ring {
    uint64_t generation;
    struct ht_ring ring;
};

/*
 * Point @tr at the ring of the caller's CPU: what ht_device_emit() does
 * at a thread's first emit, out of line to keep the emit small.
 */
void ht_device_thread_ring(ht_device *dev, struct ht_thread_ring *tr);

/*
 * One ring record: 0, or -1 if the ring was full.  Each thread emits on
 * the ring of the CPU it first emitted on, so its records stay in one
 * ring, in order (any ring is safe to share).  Inline: after a thread's
 * first emit, it costs what ht_ring_emit() costs, plus two loads and a
 * compare (the thread keeps its own copy of the ring's geometry).
 */
HT_INLINE int ht_device_emit(ht_device *dev, uint32_t id,
                             const uint64_t *args)
{
    static __thread struct ht_thread_ring here;

    if (__builtin_expect(here.generation !=
                         ((const struct ht_device_head *)dev)->generation,
                         0)) {
        ht_device_thread_ring(dev, &here);
    }
    return ht_ring_emit(&here.ring, id, args);
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
