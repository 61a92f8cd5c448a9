#ifndef SYSTEM_EXTRAS_H
#define SYSTEM_EXTRAS_H

/// syncfs(2): flush the file system holding `fd`. Glibc declares it only with _GNU_SOURCE,
/// which Swift's Glibc module does not define. Returns 0, or -1 with errno set.
int system_extras_syncfs(int fd);

/// sync_file_range(fd, offset, nbytes, SYNC_FILE_RANGE_WRITE): starts writeback of the dirty
/// pages in the range without waiting for it, so that a later fsync finds them written (or on
/// their way). Makes nothing durable by itself. Returns 0, or -1 with errno set; 0 where the
/// call does not exist (the fsync then does all of the work, as before).
int system_extras_start_writeback(int fd, long long offset, long long nbytes);

/// mallopt(M_MMAP_THRESHOLD, bytes) on glibc (malloc.h is not in Swift's Glibc module): a fixed
/// threshold above which blocks are mapped on their own. Returns 1 on success, 0 otherwise
/// (and always 0 where the C library is not glibc).
int system_extras_set_mmap_threshold(int bytes);

/// madvise(MADV_DONTNEED) on every private, executable, not writable file mapping of the
/// process (the code of the executable and of its libraries): those pages are never
/// written, so the kernel drops them and maps each again from the page cache when it next
/// runs. Returns the number of mappings released, or -1 when /proc/self/maps cannot be read.
int system_extras_release_code_pages(void);

#endif
