import CSystemExtras
import Foundation

/// glibc's allocator, tuned for a process that allocates large, short-lived buffers.
public enum AllocatorSetup {
    /// Blocks at least this large are mapped on their own and returned to the system when freed.
    public static let mmapThreshold: Int32 = 4 << 20

    /// Fixes glibc's mmap threshold at ``mmapThreshold``. By default glibc raises the threshold
    /// to the size of each large block freed (up to 32 MiB); from then on buffers such as an S3
    /// upload part (10 MiB by default) come from the per-thread heaps, and each heap keeps the
    /// memory after they are freed. Fixed, such buffers are mapped and unmapped, while the 1 MiB
    /// read and write buffers of the blob paths still come from (and go back to) the heaps.
    /// Measured on PostgreSQL + S3 (bench/run.sh, s3 run): peak RSS during eight parallel 64 MiB
    /// uploads 183 → 152 MiB, during one 256 MiB upload 102 → 71 MiB.
    /// An operator's `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=...` takes precedence.
    public static func tune() {
        if ProcessInfo.processInfo.environment["GLIBC_TUNABLES"]?.contains("mmap_threshold") == true { return }
        _ = system_extras_set_mmap_threshold(mmapThreshold)
    }
}
