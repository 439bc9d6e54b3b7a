/*
 * A slower disk, for measuring how Parley and the ceilings behave when fsync is slow (see
 * bench/README.md, twelfth round). Preloaded into the bench and every process it starts, it
 * lengthens each fsync and fdatasync (LevelDB's and Node's alike) by FSYNC_DELAY_US
 * microseconds after the real call returns.
 *
 *   gcc -shared -fPIC -O2 -o /tmp/slow-fsync.so bench/tools/slow-fsync.c -ldl
 *   FSYNC_DELAY_US=6000 LD_PRELOAD=/tmp/slow-fsync.so npm run bench -- send-to-sync
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void slow_down(void) {
  const char *s = getenv("FSYNC_DELAY_US");
  long us = s ? atol(s) : 0;
  if (us <= 0) return;
  struct timespec t = { us / 1000000, (us % 1000000) * 1000 };
  nanosleep(&t, NULL);
}

/* The call itself, looked up once, then the delay. */
#define SLOWED(name)                                                   \
  int name(int fd) {                                                   \
    static int (*real)(int);                                           \
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, #name);           \
    int r = real(fd);                                                  \
    slow_down();                                                       \
    return r;                                                          \
  }

SLOWED(fsync)
SLOWED(fdatasync)
