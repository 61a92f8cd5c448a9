import AsyncHTTPClient
import RegistryCore
import S3Client

/// The bucket could not be opened when the store started: a missing bucket, credentials the
/// server refuses, or a server that does not answer. registryd prints it as one line and exits
/// with status 2, as for a configuration error, since that is nearly always what it is.
///
/// The line names the bucket, the endpoint and the access key id, which is what an operator
/// needs to find the wrong setting, and never the secret key.
public struct S3StartupFailure: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ error: any Error, settings: RegistryConfiguration.S3) {
        let place = "bucket \(settings.bucket) at \(settings.endpoint)"
        let key = settings.accessKey.isEmpty ? "no access key id" : "access key id \(settings.accessKey)"
        let reason: String =
            switch error {
            case let s3 as S3Error where s3.status == 403 || Self.credentialCodes.contains(s3.code):
                "the server refused the credentials of \(key) (\(s3.code), \(s3.status)); "
                    + "check storage.s3.accesskey and secretkey"
            case let s3 as S3Error where s3.isNotFound:
                "the bucket does not exist (\(s3.code), \(s3.status)); create it or fix storage.s3.bucket"
            case let s3 as S3Error:
                "\(s3) (with \(key))"
            default:
                "cannot reach the server: \(error)"
            }
        description = "S3 store: cannot open \(place): \(reason)"
    }

    /// S3's codes for a signature or key it does not accept (a HEAD has no body: 403 alone).
    static let credentialCodes: Set<String> = [
        "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
    ]
}
