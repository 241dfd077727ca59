/*
 * hypertrace: the control BAR
 *
 * Global read-only registers, per-ring status and control, and per-client
 * emit slots of the synchronous channel.  Every offset the guest uses is
 * decoded against the device's geometry; anything else is a counted guest
 * error, never a crash.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/lockable.h"
#include "hypertrace-internal.h"
#include "trace.h"

static void ht_sync_emit(HypertraceState *s, uint32_t c, uint32_t id)
{
    uint64_t *a = s->clients[c].args;

    trace_hypertrace_sync(c, id, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static uint64_t ht_hi_lo(uint64_t v, hwaddr off)
{
    return off & 4 ? v >> 32 : (uint32_t)v;
}

/*
 * Split @off in a block of @count slots of @stride bytes from @base into a
 * slot index and an offset in it.  False (an error counted) when the slot
 * does not exist.
 */
static bool ht_slot(HypertraceState *s, hwaddr off, hwaddr base,
                    hwaddr stride, uint32_t count, uint32_t code,
                    uint32_t *idx, hwaddr *reg)
{
    *idx = (off - base) / stride;
    *reg = (off - base) % stride;
    if (*idx >= count) {
        ht_guest_error(s, HT_NO_RING, code, off);
        return false;
    }
    return true;
}

static bool ht_ring_slot(HypertraceState *s, hwaddr off, uint32_t *r,
                         hwaddr *reg)
{
    return ht_slot(s, off, HT_RING_REGS_BASE, HT_RING_REGS_STRIDE,
                   s->nr_rings, HT_ERR_BAD_RING, r, reg);
}

static bool ht_client_slot(HypertraceState *s, hwaddr off, uint32_t *c,
                           hwaddr *reg)
{
    return ht_slot(s, off, HT_CLIENT_BASE, HT_CLIENT_STRIDE, s->nr_clients,
                   HT_ERR_BAD_CLIENT, c, reg);
}

/* Returns false for an offset that holds no readable register. */
static bool ht_ring_read32(HypertraceState *s, hwaddr off, uint32_t *val)
{
    HypertraceRing *ring;
    uint32_t r;
    hwaddr reg;

    if (!ht_ring_slot(s, off, &r, &reg)) {
        return true; /* already counted as HT_ERR_BAD_RING */
    }
    ring = &s->rings[r];
    QEMU_LOCK_GUARD(&s->drain_lock); /* held by the drain thread briefly */
    switch (reg & ~7) {
    case HT_RING_STATUS:
        if (reg != HT_RING_STATUS) {
            return false; /* HT_RING_CONTROL is write-only */
        }
        *val = ring->halted ? HT_RING_ST_HALTED : 0;
        return true;
    case HT_RING_PUBLISHED:
        *val = ht_hi_lo(ring->published, reg);
        return true;
    case HT_RING_CONSUMED:
        *val = ht_hi_lo(ring->consumed, reg);
        return true;
    case HT_RING_LOST:
        *val = ht_hi_lo(ring->lost, reg);
        return true;
    case HT_RING_ERRORS:
        *val = ht_hi_lo(ring->errors, reg);
        return true;
    }
    return false;
}

static bool ht_client_read32(HypertraceState *s, hwaddr off, uint32_t *val)
{
    uint32_t c;
    hwaddr reg;

    if (!ht_client_slot(s, off, &c, &reg)) {
        return true; /* already counted as HT_ERR_BAD_CLIENT */
    }
    if (reg >= HT_CLIENT_ARG(HT_NR_ARGS)) {
        return false;
    }
    *val = ht_hi_lo(s->clients[c].args[reg / 8], reg);
    return true;
}

static bool ht_global_read32(HypertraceState *s, hwaddr off, uint32_t *val)
{
    switch (off) {
    case HT_REG_MAGIC:
        *val = HT_MAGIC;
        return true;
    case HT_REG_VERSION:
        *val = HT_ABI_VERSION;
        return true;
    case HT_REG_FEATURES:
        *val = HT_FEAT_RINGS | HT_FEAT_SYNC |
               (s->hypercalls ? HT_FEAT_HYPERCALLS : 0);
        return true;
    case HT_REG_MODE:
        *val = s->mode;
        return true;
    case HT_REG_NR_RINGS:
        *val = s->nr_rings;
        return true;
    case HT_REG_RING_ORDER:
        *val = s->ring_order;
        return true;
    case HT_REG_RECORD_SIZE:
        *val = HT_RECORD_SIZE;
        return true;
    case HT_REG_NR_ARGS:
        *val = HT_NR_ARGS;
        return true;
    case HT_REG_RING_STRIDE:
        *val = s->ring_stride;
        return true;
    case HT_REG_NR_CLIENTS:
        *val = s->nr_clients;
        return true;
    case HT_REG_WATERMARK:
        *val = ht_ring_records(s) / 2;
        return true;
    case HT_REG_ERRORS:
    case HT_REG_ERRORS + 4:
        *val = ht_hi_lo(qatomic_read(&s->errors), off);
        return true;
    }
    return false;
}

static uint32_t ht_ctrl_read32(HypertraceState *s, hwaddr off)
{
    uint32_t val = 0;
    bool ok;

    if (off >= HT_CLIENT_BASE) {
        ok = ht_client_read32(s, off, &val);
    } else if (off >= HT_RING_REGS_BASE) {
        ok = ht_ring_read32(s, off, &val);
    } else {
        ok = ht_global_read32(s, off, &val);
    }
    if (!ok) {
        ht_guest_error(s, HT_NO_RING, HT_ERR_BAD_ACCESS, off);
    }
    return val;
}

static bool ht_ctrl_write32(HypertraceState *s, hwaddr off, uint32_t val)
{
    uint32_t idx;
    hwaddr reg;

    if (off >= HT_CLIENT_BASE) {
        if (!ht_client_slot(s, off, &idx, &reg)) {
            return true;
        }
        if (reg < HT_CLIENT_ARG(HT_NR_ARGS)) {
            uint64_t *arg = &s->clients[idx].args[reg / 8];
            *arg = deposit64(*arg, reg & 4 ? 32 : 0, 32, val);
            return true;
        }
        if (reg == HT_CLIENT_EMIT) {
            ht_sync_emit(s, idx, val);
            return true;
        }
        return reg == HT_CLIENT_EMIT + 4; /* an 8-byte emit's upper half */
    }
    if (off >= HT_RING_REGS_BASE) {
        if (!ht_ring_slot(s, off, &idx, &reg)) {
            return true;
        }
        if (reg == HT_RING_CONTROL) {
            ht_ring_control(s, idx, val);
            return true;
        }
    }
    return false;
}

static uint64_t ht_ctrl_read(void *opaque, hwaddr addr, unsigned size)
{
    HypertraceState *s = opaque;
    uint64_t val = ht_ctrl_read32(s, addr);

    if (size == 8) {
        val |= (uint64_t)ht_ctrl_read32(s, addr + 4) << 32;
    }
    return val;
}

static void ht_ctrl_write(void *opaque, hwaddr addr, uint64_t val,
                          unsigned size)
{
    HypertraceState *s = opaque;

    if (!ht_ctrl_write32(s, addr, val)) {
        ht_guest_error(s, HT_NO_RING, HT_ERR_BAD_ACCESS, addr);
    }
    if (size == 8 && !ht_ctrl_write32(s, addr + 4, val >> 32)) {
        ht_guest_error(s, HT_NO_RING, HT_ERR_BAD_ACCESS, addr + 4);
    }
}

const MemoryRegionOps ht_ctrl_ops = {
    .read = ht_ctrl_read,
    .write = ht_ctrl_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};
