#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <fcntl.h>
#include <sys/mman.h>
#endif
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

int system_extras_start_writeback(int fd, long long offset, long long nbytes) {
#ifdef __linux__
    return sync_file_range(fd, (off_t)offset, (off_t)nbytes, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
    (void)offset;
    (void)nbytes;
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

int system_extras_release_code_pages(void) {
#ifdef __linux__
    FILE *maps = fopen("/proc/self/maps", "r");
    if (maps == NULL) return -1;
    char line[4096];
    int released = 0;
    while (fgets(line, sizeof line, maps) != NULL) {
        unsigned long start, end, offset, inode;
        char perms[5], device[32];
        if (sscanf(line, "%lx-%lx %4s %lx %31s %lu", &start, &end, perms, &offset, device, &inode) != 6) continue;
        // Only code: file-backed ("r-xp"). Anonymous memory, the vDSO (no inode) and anything
        // writable now or before (data, relocated constants: "r--p" after RELRO) keep their pages.
        if (inode == 0 || strcmp(perms, "r-xp") != 0) continue;
        if (madvise((void *)start, (size_t)(end - start), MADV_DONTNEED) == 0) released++;
    }
    fclose(maps);
    return released;
#else
    return 0;
#endif
}
