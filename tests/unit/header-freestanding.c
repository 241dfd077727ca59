/*
 * Compiled (not run) with -ffreestanding -nostdlib, as 32- and 64-bit
 * code, by meson.build: the guest header must need nothing else.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hypertrace.h"

int use_every_channel(struct ht_ring *ring, volatile void *ctrl,
                      const uint64_t *args);

int use_every_channel(struct ht_ring *ring, volatile void *ctrl,
                      const uint64_t *args)
{
    ht_hypercall(HT_HC_KERNEL_FUNC, args[0], 0, 0, 0);
    ht_sync_emit(ctrl, 0, 1, args);
    ht_ring_doorbell(ring);
    return ht_ring_emit(ring, 2, args);
}
