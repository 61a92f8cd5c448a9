#define _GNU_SOURCE
#include <unistd.h>
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif
#include "system_extras.h"

int system_extras_syncfs(int fd) {
#ifdef __linux__
    return syncfs(fd);
#else
    (void)fd;
    sync();
    return 0;
#endif
}

int system_extras_set_mmap_threshold(int bytes) {
#if defined(M_MMAP_THRESHOLD) && defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, bytes);
#else
    (void)bytes;
    return 0;
#endif
}
