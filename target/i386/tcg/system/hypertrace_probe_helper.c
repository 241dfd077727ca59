/*
 * x86 TCG: the helper that an instruction at a hypertrace probe calls
 * before it runs (see hw/hypertrace/probe.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "cpu.h"
#include "exec/helper-proto.h"
#include "hypertrace-probe.h"

void helper_hypertrace_probe(CPUX86State *env, target_ulong pc)
{
    x86_hypertrace_probe(env, pc);
}
