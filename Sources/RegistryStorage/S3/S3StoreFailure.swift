import AsyncHTTPClient
import RegistryCore
import S3Client

/// An S3 failure in the terms a client may be told (see ``StorageFailure``); the S3 code and
/// what the store was doing stay in the description for the log.
public struct S3StoreFailure: StorageFailure, CustomStringConvertible {
    public let storageCondition: StorageCondition
    public let description: String

    init(_ condition: StorageCondition, _ description: String) {
        storageCondition = condition
        self.description = description
    }

    init(_ error: any Error, doing: String) {
        if let failure = error as? S3StoreFailure {
            self = failure
            return
        }
        let condition: StorageCondition =
            switch error {
            case let s3 as S3Error where s3.code == "QuotaExceeded" || s3.code == "EntityTooLarge": .noSpace
            case let s3 as S3Error where s3.isTransient: .temporarilyUnavailable
            case is HTTPClientError: .temporarilyUnavailable
            default: .failed
            }
        self.init(condition, "S3 store: \(doing): \(error)")
    }
}
