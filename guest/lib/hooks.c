/*
 * -finstrument-functions hooks: function entry and exit as
 * HT_HC_USER_FUNC events (a0 = function, a1 = 0 entry / 1 exit).
 *
 * HYPERTRACE_HOOKS chooses the channel when the program starts:
 *   hypercall (default)  vmcall, needs no device and no privilege
 *   ring                 the device's ring (root, -device hypertrace)
 *   off                  nothing
 * If the ring cannot be opened, one message on stderr says why and the
 * hooks fall back to hypercalls.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "libhypertrace.h"

#define NO_HOOK __attribute__((no_instrument_function))

enum hook_channel { HOOK_HYPERCALL, HOOK_RING, HOOK_OFF };

static enum hook_channel channel = HOOK_HYPERCALL;
static ht_device *hook_dev;

NO_HOOK __attribute__((constructor)) static void hooks_init(void)
{
    const char *want = getenv("HYPERTRACE_HOOKS");
    char *error = NULL;

    if (!want || !strcmp(want, "hypercall")) {
        return;
    }
    if (!strcmp(want, "off")) {
        channel = HOOK_OFF;
        return;
    }
    if (strcmp(want, "ring")) {
        fprintf(stderr, "hypertrace: HYPERTRACE_HOOKS=%s is not a channel; "
                "use hypercall, ring or off\n", want);
        return;
    }
    hook_dev = ht_device_open(&error);
    if (!hook_dev) {
        fprintf(stderr, "hypertrace: hooks use hypercalls: %s\n",
                error ? error : "cannot open the device");
        free(error);
        return;
    }
    channel = HOOK_RING;
}

NO_HOOK static void hook_emit(void *fn, uint64_t exit)
{
    uint64_t args[HT_NR_ARGS] = { (uintptr_t)fn, exit };

    switch (channel) {
    case HOOK_HYPERCALL:
        ht_hypercall(HT_HC_USER_FUNC, (uintptr_t)fn, exit, 0, 0);
        break;
    case HOOK_RING:
        ht_device_emit(hook_dev, HT_HC_USER_FUNC, args);
        break;
    case HOOK_OFF:
        break;
    }
}

NO_HOOK void __cyg_profile_func_enter(void *fn, void *site);
NO_HOOK void __cyg_profile_func_exit(void *fn, void *site);

void __cyg_profile_func_enter(void *fn, void *site)
{
    (void)site;
    hook_emit(fn, 0);
}

void __cyg_profile_func_exit(void *fn, void *site)
{
    (void)site;
    hook_emit(fn, 1);
}
