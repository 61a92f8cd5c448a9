import CLibcrypto
import Foundation

/// Incremental hashing for a digest algorithm. A value: copying it forks the state.
///
/// Backed by OpenSSL's SHA-256 and SHA-512, whose running state is a plain C struct, so that
/// an upload's hash can be saved with its session (``savedState``) and resumed by any server
/// after a restart or on another host (``init(resuming:)``) without reading the bytes again.
public struct DigestHasher: Sendable {
    private enum State: Sendable {
        case sha256(SHA256_CTX)
        case sha512(SHA512_CTX)
    }

    private var state: State
    public let algorithm: DigestAlgorithm

    public init(_ algorithm: DigestAlgorithm = .sha256) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha256:
            var context = SHA256_CTX()
            SHA256_Init(&context)
            state = .sha256(context)
        case .sha512:
            var context = SHA512_CTX()
            SHA512_Init(&context)
            state = .sha512(context)
        }
    }

    public mutating func update(bufferPointer: UnsafeRawBufferPointer) {
        guard let base = bufferPointer.baseAddress, bufferPointer.count > 0 else { return }
        switch state {
        case .sha256(var context):
            SHA256_Update(&context, base, bufferPointer.count)
            state = .sha256(context)
        case .sha512(var context):
            SHA512_Update(&context, base, bufferPointer.count)
            state = .sha512(context)
        }
    }

    public mutating func update(bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        array.withUnsafeBytes { update(bufferPointer: $0) }
    }

    /// The digest of everything hashed so far. The state is left as it was.
    public func finalize() -> Digest {
        var output: [UInt8]
        switch state {
        case .sha256(var copy):
            output = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
            SHA256_Final(&output, &copy)
        case .sha512(var copy):
            output = [UInt8](repeating: 0, count: Int(SHA512_DIGEST_LENGTH))
            SHA512_Final(&output, &copy)
        }
        return Digest(trusted: algorithm, hex: Hex.encode(output))
    }

    /// The digest of a whole byte sequence.
    public static func digest(of bytes: some Sequence<UInt8>, algorithm: DigestAlgorithm = .sha256) -> Digest {
        var hasher = DigestHasher(algorithm)
        hasher.update(bytes: bytes)
        return hasher.finalize()
    }

    // MARK: Saving and resuming

    /// The running state, to be stored and given to ``init(resuming:)`` later.
    public var savedState: SavedState {
        switch state {
        case .sha256(let context): SavedState(algorithm: .sha256, context: Self.bytes(of: context))
        case .sha512(let context): SavedState(algorithm: .sha512, context: Self.bytes(of: context))
        }
    }

    /// Resumes a saved state; nil when it was saved by a build whose state layout differs
    /// (the caller then hashes the bytes again).
    public init?(resuming saved: SavedState) {
        guard saved.layout == SavedState.currentLayout else { return nil }
        algorithm = saved.algorithm
        switch saved.algorithm {
        case .sha256:
            guard let context = Self.context(SHA256_CTX.self, from: saved.context) else { return nil }
            state = .sha256(context)
        case .sha512:
            guard let context = Self.context(SHA512_CTX.self, from: saved.context) else { return nil }
            state = .sha512(context)
        }
    }

    /// A hasher's state as bytes: OpenSSL's context struct, tagged with the layout that wrote it.
    public struct SavedState: Sendable, Codable, Equatable {
        /// Names the struct layout (library, architecture, byte order); a state is resumed only
        /// by a build with the same layout.
        static let currentLayout =
            "openssl-sha2-\(MemoryLayout<Int>.size * 8)bit-\(1.littleEndian == 1 ? "le" : "be")"
            + "-\(MemoryLayout<SHA256_CTX>.size)-\(MemoryLayout<SHA512_CTX>.size)"

        public var algorithm: DigestAlgorithm
        public var layout: String
        public var context: Data

        init(algorithm: DigestAlgorithm, context: Data) {
            self.algorithm = algorithm
            self.layout = Self.currentLayout
            self.context = context
        }
    }

    private static func bytes<Context>(of context: Context) -> Data {
        withUnsafeBytes(of: context) { Data($0) }
    }

    private static func context<Context>(_ type: Context.Type, from data: Data) -> Context? {
        guard data.count == MemoryLayout<Context>.size else { return nil }
        return data.withUnsafeBytes { $0.loadUnaligned(as: Context.self) }
    }
}

enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
