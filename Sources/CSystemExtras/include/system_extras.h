#ifndef SYSTEM_EXTRAS_H
#define SYSTEM_EXTRAS_H

/// syncfs(2): flush the file system holding `fd`. Glibc declares it only with _GNU_SOURCE,
/// which Swift's Glibc module does not define. Returns 0, or -1 with errno set.
int system_extras_syncfs(int fd);

#endif
