import RegistryCore

/// Any bytes as a manifest body, with and without each manifest Content-Type. A valid
/// manifest must identify the exact bytes it was given.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for contentType in [nil, MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, "text/plain"] {
        guard let manifest = try? Manifest(bytes: bytes, contentType: contentType) else { continue }
        precondition(manifest.bytes == bytes)
        precondition(manifest.digest == DigestHasher.digest(of: bytes))
        _ = manifest.blobReferences
        _ = try? manifest.trustingExternalLayers()
    }
    return 0
}
