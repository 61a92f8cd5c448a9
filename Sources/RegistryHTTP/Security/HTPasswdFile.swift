import Crypto
import Foundation
import HummingbirdBcrypt
import Logging
import NIOPosix
import RegistryCore
import Synchronization

/// An htpasswd file of bcrypt entries, re-read when its modification time, size or inode
/// changes, with a short-lived cache of successful checks: bcrypt costs tens of
/// milliseconds by design, and a `docker push` sends many requests with the same password.
final class HTPasswdFile: Sendable {
    private struct Snapshot {
        var entries = HTPasswdEntries()
        var stamp: FileStamp?
        /// SHA-256 of (user, password, hash) to the time the verification stops counting.
        var verified: [SHA256Digest: ContinuousClock.Instant] = [:]
    }

    private struct FileStamp: Equatable {
        var modified: timespec
        var size: off_t
        var inode: ino_t

        static func == (a: Self, b: Self) -> Bool {
            a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec && a.size == b.size
                && a.inode == b.inode
        }
    }

    /// A bcrypt hash checked for users that do not exist, so that they take as long as the others.
    private static let absentUserHash = "$2b$10$liUa0/WVVv4C8tmagsuaaOoPyCAwLFv592BqKf.mQWdivi6jc5hzW"
    private static let cacheLifetime = Duration.seconds(60)
    private static let cacheLimit = 4096

    let path: String
    private let logger: Logger
    private let state = Mutex(Snapshot())

    /// Fails with an ``InvalidSetting`` when the file cannot be read.
    init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        guard reloadIfChanged() else {
            throw InvalidSetting(key: "auth.htpasswd.path", message: "cannot read \(path)")
        }
    }

    /// True when `password` is `user`'s. Runs bcrypt on NIO's thread pool, not on the caller's.
    ///
    /// Timing reveals nothing useful: an unknown user costs a bcrypt run like a known one, and
    /// what bcrypt compares are two bcrypt outputs, whose shared prefix no one can steer
    /// without knowing the password. The cache is keyed by a SHA-256 of user, password and hash.
    func verify(user: String, password: String) async -> Bool {
        reloadIfChanged()
        let stored = state.withLock { $0.entries.hashes[user] }
        let hash = stored ?? Self.absentUserHash
        let key = SHA256.hash(data: Data("\(user)\u{0}\(password)\u{0}\(hash)".utf8))
        let now = ContinuousClock.now
        if stored != nil, state.withLock({ ($0.verified[key] ?? now) > now }) { return true }
        // bcrypt's C code knows $2a$ and $2b$; $2y$ (PHP's and Apache's name) is the same algorithm.
        let normalized = hash.hasPrefix("$2y$") ? "$2b$" + hash.dropFirst(4) : hash
        let matches =
            (try? await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: normalized) }) ?? false
        guard matches, stored != nil else { return false }
        state.withLock { snapshot in
            if snapshot.verified.count >= Self.cacheLimit {
                snapshot.verified = snapshot.verified.filter { $0.value > now }
                if snapshot.verified.count >= Self.cacheLimit { snapshot.verified.removeAll() }
            }
            snapshot.verified[key] = now + Self.cacheLifetime
        }
        return true
    }

    /// Re-reads the file when it changed; false when it cannot be read (the entries in use stay).
    @discardableResult
    private func reloadIfChanged() -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else {
            logger.error("cannot read the htpasswd file; keeping the users already loaded", metadata: ["path": "\(path)"])
            return false
        }
        let stamp = FileStamp(modified: info.st_mtim, size: info.st_size, inode: info.st_ino)
        guard state.withLock({ $0.stamp != stamp }) else { return true }
        guard let data = FileManager.default.contents(atPath: path) else {
            logger.error("cannot read the htpasswd file; keeping the users already loaded", metadata: ["path": "\(path)"])
            return false
        }
        let entries = HTPasswdEntries(parsing: String(decoding: data, as: UTF8.self))
        for user in entries.refusedUsers {
            logger.warning(
                "htpasswd entry is not bcrypt and is refused; use htpasswd -B or registryctl htpasswd add",
                metadata: ["user": "\(user)", "path": "\(path)"])
        }
        state.withLock { $0 = Snapshot(entries: entries, stamp: stamp) }
        logger.info("loaded htpasswd file", metadata: ["path": "\(path)", "users": "\(entries.hashes.count)"])
        return true
    }
}
