import Foundation

/// Non-distributable ("foreign") layers: layers whose descriptor lists `urls` that clients
/// fetch them from, so the registry need not hold their bytes.
extension Manifest {
    /// The layers that carry `urls`.
    public var externalLayers: [Descriptor] { layers.filter { !$0.urls.isEmpty } }

    /// This manifest with its layers that carry `urls` no longer required in the registry,
    /// after checking that every URL is an absolute `http` or `https` URL without a fragment.
    public func trustingExternalLayers() throws(RegistryError) -> Manifest {
        for (index, layer) in layers.enumerated() {
            for url in layer.urls where !Self.isAcceptableLayerURL(url) {
                throw RegistryError(
                    .manifestInvalid, "layers[\(index)] has a URL that is not an absolute http or https URL",
                    detail: String(url.prefix(256)))
            }
        }
        var copy = self
        copy.externalLayersTrusted = true
        return copy
    }

    static func isAcceptableLayerURL(_ text: String) -> Bool {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.fragment == nil
        else { return false }
        return true
    }
}
