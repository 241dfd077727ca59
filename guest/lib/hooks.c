/*
 * -finstrument-functions hooks: function entry and exit as
 * HT_HC_USER_FUNC events (a0 = function, a1 = 0 entry / 1 exit).
 *
 * HYPERTRACE_HOOKS chooses the channel when the program starts:
 *   auto (default)  the device's ring if it opens (root, -device
 *                   hypertrace), else hypercalls if they work here
 *   ring            the ring, else hypercalls if they work
 *   hypercall       hypercalls (vmcall or vmmcall), if they work
 *   off             nothing
 * The hooks never break the program they trace: a hypercall is tried
 * once, with a fault handler, before the first event, and where it
 * faults (no hypervisor takes it) the hooks turn themselves off.  One
 * line on stderr says which channel failed and why.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "libhypertrace.h"

#define NO_HOOK __attribute__((no_instrument_function))

enum hook_channel { HOOK_HYPERCALL, HOOK_RING, HOOK_OFF };

static enum hook_channel channel = HOOK_OFF;
static ht_device *hook_dev;
static sigjmp_buf hypercall_fault;

NO_HOOK static void hypercall_faulted(int sig)
{
    siglongjmp(hypercall_fault, sig);
}

/*
 * Whether a hypercall returns here.  Under TCG with no hypertrace device
 * taking them it raises #UD (SIGILL); a CPU's non-native instruction may
 * raise #GP (SIGSEGV).  HT_HC_PROBE is never traced.
 */
NO_HOOK static bool hypercall_works(void)
{
    struct sigaction fault = { .sa_handler = hypercall_faulted };
    struct sigaction old_ill, old_segv;
    volatile bool works = false;

    sigemptyset(&fault.sa_mask);
    sigaction(SIGILL, &fault, &old_ill);
    sigaction(SIGSEGV, &fault, &old_segv);
    if (!sigsetjmp(hypercall_fault, 1)) {
        ht_hypercall(HT_HC_PROBE, 0, 0, 0, 0);
        works = true;
    }
    sigaction(SIGILL, &old_ill, NULL);
    sigaction(SIGSEGV, &old_segv, NULL);
    return works;
}

/*
 * Hypercalls if they work, else off.  @ring_error: why the ring did not
 * open (NULL: not tried), said if @say_ring or if hypercalls fail too.
 */
NO_HOOK static void use_hypercalls(const char *ring_error, bool say_ring)
{
    if (hypercall_works()) {
        channel = HOOK_HYPERCALL;
        if (ring_error && say_ring) {
            fprintf(stderr, "hypertrace: hooks use hypercalls: %s\n",
                    ring_error);
        }
        return;
    }
    if (ring_error) {
        fprintf(stderr, "hypertrace: hooks off: %s, and hypercalls fault "
                "here\n", ring_error);
    } else {
        fprintf(stderr, "hypertrace: hooks off: hypercalls fault here "
                "(start QEMU with -device hypertrace)\n");
    }
}

/* The ring if the device opens; @error gets why not (to free) */
NO_HOOK static bool use_ring(char **error)
{
    hook_dev = ht_device_open(error);
    if (hook_dev) {
        channel = HOOK_RING;
    }
    return hook_dev;
}

NO_HOOK __attribute__((constructor)) static void hooks_init(void)
{
    const char *want = getenv("HYPERTRACE_HOOKS");
    char *error = NULL;

    if (want && !strcmp(want, "off")) {
        return;
    }
    if (want && !strcmp(want, "hypercall")) {
        use_hypercalls(NULL, false);
        return;
    }
    if (want && strcmp(want, "ring") && strcmp(want, "auto")) {
        fprintf(stderr, "hypertrace: hooks off: HYPERTRACE_HOOKS=%s is not "
                "a channel; use auto, ring, hypercall or off\n", want);
        return;
    }
    if (!use_ring(&error)) {
        /* auto: no word about a ring nobody asked for, if hypercalls work */
        use_hypercalls(error, want != NULL);
        free(error);
    }
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
