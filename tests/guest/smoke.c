/*
 * Smoke guest: find the hypertrace device, check its identity, emit one
 * synchronous event and three ring records with the guest header, then
 * exit with code 0 (QEMU status 1).  Any mismatch exits with 0x7f.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "hypertrace.h"

void guest_main(void)
{
    uint64_t args[HT_NR_ARGS] = { 1, 2, 3, 4, 5, 6 };
    volatile void *ctrl;
    void *data;
    struct ht_ring ring;
    int i;

    puts("smoke: start\n");
    hypertrace_open(&ctrl, &data);
    if (ht_readl(ctrl, HT_REG_MAGIC) != HT_MAGIC) {
        fail("bad magic", ht_readl(ctrl, HT_REG_MAGIC));
    }
    if (ht_readl(ctrl, HT_REG_VERSION) != HT_ABI_VERSION) {
        fail("bad version", ht_readl(ctrl, HT_REG_VERSION));
    }
    ht_sync_emit(ctrl, 0, 100, args);
    ht_ring_init(&ring, data, ht_readl(ctrl, HT_REG_RING_STRIDE), 0, ctrl);
    for (i = 0; i < 3; i++) {
        args[0] = 0x100 + i;
        if (ht_ring_emit(&ring, 200 + i, args)) {
            fail("ring full", i);
        }
    }
    puts("smoke: done\n");
    guest_exit(0);
}
