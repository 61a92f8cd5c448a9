@preconcurrency import Crypto

/// Incremental hashing for a digest algorithm. A value: copying it forks the state.
/// swift-crypto's hash functions are copy-on-write values; sharing a copy across tasks is safe.
public struct DigestHasher: @unchecked Sendable {
    private enum State {
        case sha256(SHA256)
        case sha512(SHA512)
    }

    private var state: State
    public let algorithm: DigestAlgorithm

    public init(_ algorithm: DigestAlgorithm = .sha256) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha256: state = .sha256(SHA256())
        case .sha512: state = .sha512(SHA512())
        }
    }

    public mutating func update(bufferPointer: UnsafeRawBufferPointer) {
        switch state {
        case .sha256(var h):
            h.update(bufferPointer: bufferPointer)
            state = .sha256(h)
        case .sha512(var h):
            h.update(bufferPointer: bufferPointer)
            state = .sha512(h)
        }
    }

    public mutating func update(bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        array.withUnsafeBytes { update(bufferPointer: $0) }
    }

    /// The digest of everything hashed so far. The state is left as it was.
    public func finalize() -> Digest {
        let bytes: [UInt8]
        switch state {
        case .sha256(let h): bytes = Array(h.finalize())
        case .sha512(let h): bytes = Array(h.finalize())
        }
        return Digest(trusted: algorithm, hex: Hex.encode(bytes))
    }

    /// The digest of a whole byte sequence.
    public static func digest(of bytes: some Sequence<UInt8>, algorithm: DigestAlgorithm = .sha256) -> Digest {
        var hasher = DigestHasher(algorithm)
        hasher.update(bytes: bytes)
        return hasher.finalize()
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
