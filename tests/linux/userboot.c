/*
 * The user-space part of the demo boot: what an init system does first,
 * in miniature.  Built with -finstrument-functions and libhypertrace, so
 * every function's entry and exit reaches the trace over hypercalls,
 * and the boot report can say where user space spends its time.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

static void pause_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&t, NULL);
}

static int read_cmdline(char *buf, size_t len)
{
    FILE *f = fopen("/proc/cmdline", "r");
    int ok = f && fgets(buf, len, f) != NULL;

    if (f) {
        fclose(f);
    }
    return ok;
}

static void make_runtime_dirs(void)
{
    mkdir("/run", 0755);
    mkdir("/tmp/demo", 0755);
}

static void load_configuration(void)
{
    pause_ms(30);               /* a config parser with too much to do */
}

static void start_services(void)
{
    int i;

    for (i = 0; i < 3; i++) {
        pause_ms(10);           /* three services, one after the other */
    }
}

int main(void)
{
    char cmdline[512] = "";

    if (!read_cmdline(cmdline, sizeof(cmdline))) {
        fprintf(stderr, "userboot: cannot read /proc/cmdline\n");
        return 1;
    }
    make_runtime_dirs();
    load_configuration();
    start_services();
    printf("userboot: up (%zu bytes of kernel command line)\n",
           strlen(cmdline));
    return 0;
}
