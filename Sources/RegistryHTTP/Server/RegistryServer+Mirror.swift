import RegistryCore
import RegistryMirror
import RegistryService

extension RegistryServer {
    /// The pull-through cache of `proxy:` or `berth.mirrors`, over the service's own (cached)
    /// metadata so that what it stores is seen at once by every request. Nil without mirrors.
    /// Made after the metrics backend is bootstrapped: its counters are created with it.
    func pullThroughCache(for service: RegistryService) throws -> PullThroughCache? {
        guard !configuration.mirrors.isEmpty else { return nil }
        for mirror in configuration.mirrors {
            logger.info(
                "mirroring \(mirror.remoteURL)",
                metadata: [
                    "prefix": "\(mirror.prefix.isEmpty ? "(every repository)" : mirror.prefix)",
                    "default": "\(mirror.isDefault)", "credentials": "\(mirror.username == nil ? "none" : "configured")",
                ])
        }
        return try PullThroughCache(
            mirrors: configuration.mirrors, metadata: service.metadata, blobs: service.blobs,
            manifestSizeLimit: service.manifestSizeLimit,
            spoolDirectory: configuration.storage.rootDirectory + "/mirror-spool", logger: logger)
    }
}
