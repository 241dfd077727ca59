/*
 * Built with -finstrument-functions and libhypertrace: every function
 * entry and exit becomes an HT_HC_USER_FUNC event, through the channel
 * that HYPERTRACE_HOOKS names.  With an argument it also opens the device
 * and emits one ring record and one synchronous event by hand (id 77,
 * a0 = 1 and 2) and prints the BAR files it mapped; with "nobody" it
 * first drops root, to show the error.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "libhypertrace.h"

__attribute__((noinline)) static int square(int x)
{
    return x * x;
}

__attribute__((noinline)) static int sum_of_squares(int n)
{
    int i, s = 0;

    for (i = 1; i <= n; i++) {
        s += square(i);
    }
    return s;
}

/* The BAR files the library mapped, as the kernel lists them (untraced). */
__attribute__((no_instrument_function)) static void print_mapped_bars(void)
{
    char line[512];
    FILE *maps = fopen("/proc/self/maps", "r");

    while (maps && fgets(line, sizeof(line), maps)) {
        const char *file = strstr(line, "/resource");

        if (file) {
            printf("hooked: maps %s", file + 1);
        }
    }
    if (maps) {
        fclose(maps);
    }
}

int main(int argc, char **argv)
{
    uint64_t args[HT_NR_ARGS] = { 1 };
    char *error = NULL;
    ht_device *dev;

    printf("hooked: sum=%d\n", sum_of_squares(2));
    if (argc > 1 && !strcmp(argv[1], "nobody") &&
        (setgid(65534) || setuid(65534))) {
        return 2;
    }
    if (argc > 1) {
        dev = ht_device_open(&error);
        if (!dev) {
            printf("hooked: %s\n", error);
            return 1;
        }
        ht_device_emit(dev, 77, args);
        args[0] = 2;
        ht_device_emit_sync(dev, 77, args, 1);
        printf("hooked: device %s\n", ht_device_path(dev));
        print_mapped_bars();
        ht_device_close(dev);
        /* a thread's cached ring must follow the device it emits on */
        dev = ht_device_open(&error);
        if (!dev) {
            printf("hooked: reopen: %s\n", error);
            return 1;
        }
        args[0] = 3;
        ht_device_emit(dev, 77, args);
        ht_device_close(dev);
    }
    return 0;
}
