/// `storage.s3` and `storage.redirect`.
extension ConfigReader {
    /// ```yaml
    /// storage:
    ///   s3:
    ///     accesskey: AKIA...
    ///     secretkey: ...
    ///     region: us-east-1
    ///     regionendpoint: http://127.0.0.1:7480
    ///     bucket: registry
    ///     forcepathstyle: true
    /// ```
    mutating func readS3(_ s3: Section) throws(ConfigurationError) -> RegistryConfiguration.S3 {
        warnUnknown(
            s3,
            known: [
                "accesskey", "secretkey", "region", "regionendpoint", "bucket", "rootdirectory", "forcepathstyle",
                "secure", "skipverify", "v4auth", "chunksize", "multipartcopythresholdsize", "multipartcopychunksize",
                "multipartcopymaxconcurrency", "storageclass",
            ],
            ignored: ["encrypt", "keyid", "useragent", "usedualstack", "accelerate", "objectacl", "loglevel", "sessiontoken", "maxthreads"])
        var result = RegistryConfiguration.S3()
        func required(_ key: String) throws(ConfigurationError) -> String {
            guard let value = try string(s3, key), !value.isEmpty else {
                throw error(s3.line, s3.keyPath(key), "missing")
            }
            return value
        }
        result.region = try required("region")
        result.bucket = try required("bucket")
        // Distribution falls back to the environment's AWS credentials; so does Berth, through
        // REGISTRY_STORAGE_S3_ACCESSKEY / SECRETKEY, which override these keys.
        result.accessKey = try string(s3, "accesskey") ?? ""
        result.secretKey = try string(s3, "secretkey") ?? ""
        result.regionEndpoint = try string(s3, "regionendpoint")
        if let root = try string(s3, "rootdirectory") {
            result.rootDirectory = root.split(separator: "/").joined(separator: "/")
        }
        if let value = try bool(s3, "forcepathstyle") { result.forcePathStyle = value }
        if let value = try bool(s3, "secure") { result.secure = value }
        if let value = try bool(s3, "skipverify") { result.skipVerify = value }
        if let value = try bool(s3, "v4auth") {
            result.v4Auth = value
            if !value { note(s3, "v4auth", "is false, but only Signature Version 4 is spoken; using it") }
        }
        if let value = try int(s3, "chunksize") {
            guard value >= 5 << 20 else {
                throw error(s3.node("chunksize")?.line, s3.keyPath("chunksize"), "must be at least 5242880 (5 MiB)")
            }
            result.chunkSize = Int64(value)
        }
        if let value = try int(s3, "multipartcopythresholdsize") {
            guard value >= 0, value <= 5 << 30 else {
                throw error(
                    s3.node("multipartcopythresholdsize")?.line, s3.keyPath("multipartcopythresholdsize"),
                    "must be between 0 and 5 GiB")
            }
            result.multipartCopyThresholdSize = Int64(value)
        }
        if let value = try int(s3, "multipartcopychunksize") {
            guard value >= 5 << 20, value <= 5 << 30 else {
                throw error(
                    s3.node("multipartcopychunksize")?.line, s3.keyPath("multipartcopychunksize"),
                    "must be between 5 MiB and 5 GiB")
            }
            result.multipartCopyChunkSize = Int64(value)
        }
        if let value = try int(s3, "multipartcopymaxconcurrency") { result.multipartCopyMaxConcurrency = max(1, value) }
        if let value = try string(s3, "storageclass") {
            result.storageClass = value.uppercased() == "NONE" ? nil : value
        }
        return result
    }

    /// `storage.redirect.disable`: stream blob bytes through registryd instead of answering 307.
    mutating func readRedirect(_ redirect: Section) throws(ConfigurationError) -> Bool {
        warnUnknown(redirect, known: ["disable"])
        return try bool(redirect, "disable") ?? false
    }
}
