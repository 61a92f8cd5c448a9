import Crypto
import Foundation

/// MD5 for S3's `Content-MD5` header (DeleteObjects requires one): an integrity check the
/// protocol asks for, not a security measure.
enum Insecure_MD5 {
    static func digest<Bytes: DataProtocol>(_ bytes: Bytes) -> [UInt8] {
        Array(Insecure.MD5.hash(data: bytes))
    }
}
