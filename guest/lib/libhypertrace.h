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

/* One ring record on the caller's CPU's ring: 0, or -1 if it was full. */
int ht_device_emit(ht_device *dev, uint32_t id, const uint64_t *args);
/*
 * One synchronous event with the first @nargs arguments (one exit each),
 * through the slot of the caller's CPU.  Threads preempted between the
 * arguments and the id may mix their arguments: pass nargs = 0 or 1, or
 * use the ring, when several threads emit at once.
 */
void ht_device_emit_sync(ht_device *dev, uint32_t id, const uint64_t *args,
                         int nargs);

/* The sysfs path of the device, e.g. /sys/bus/pci/devices/0000:00:04.0 */
const char *ht_device_path(const ht_device *dev);

#ifdef __cplusplus
}
#endif

#endif
