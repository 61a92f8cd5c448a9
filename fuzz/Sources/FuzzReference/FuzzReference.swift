import RegistryCore

/// Any text as a repository name, a tag, a digest, a manifest reference and a request path.
/// Whatever parses must print back as the same text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReference(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let name = try? RepositoryName(text) { precondition(name.description == text) }
    if let tag = try? Tag(text) { precondition(tag.description == text) }
    if let digest = try? Digest(parsing: text) { precondition(digest.description == text) }
    if let reference = try? Reference(parsing: text) { precondition(reference.description == text) }
    _ = Route(path: text)
    return 0
}
