/*
 * MMIO page-table guest: in long mode, move the top level of the page
 * tables (the PML4) into MMIO, client 0's argument registers in the
 * hypertrace control BAR, which read back what was written.  The vCPU
 * walks those tables itself.  A probe that read the return address of
 * its function would walk them too, reading MMIO: it must not, so each
 * return of the probed function goes untracked.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "hypertrace.h"

#define CALLS 5
#define PG_ACCESSED 0x20    /* set, so that no walk writes the entry */

extern uint64_t pml4[];

__attribute__((noinline, noipa, optimize("no-optimize-sibling-calls")))
uint64_t paged_probed(uint64_t x)
{
    return 3 * x;
}

void guest_main(void)
{
    volatile void *ctrl;
    void *data;
    uint64_t total = 0;
    int i;

    hypertrace_open(&ctrl, &data);
    ht_writeq(ctrl, HT_CLIENT_REG(0, HT_CLIENT_ARG(0)),
              pml4[0] | PG_ACCESSED);
    __asm__ volatile("mov %0, %%cr3" : : "r"((uintptr_t)ctrl +
                                             HT_CLIENT_REG(0, 0))
                     : "memory");
    for (i = 0; i < CALLS; i++) {
        total += paged_probed(i);
    }
    puts("mmiopaging: total=");
    put_dec(total);
    puts("\n");
    guest_exit(0);
}
