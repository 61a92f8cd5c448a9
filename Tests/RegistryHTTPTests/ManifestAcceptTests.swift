import RegistryCore
import Testing

@testable import RegistryHTTP

/// Which stored manifests a GET's `Accept` headers let through: everything unless the client
/// named manifest types, compared without regard to case, parameters or white space.
@Suite struct ManifestAcceptTests {
    let oci = MediaType.ociManifest
    let docker = MediaType.dockerManifest

    @Test func noManifestTypeNamedAcceptsAny() {
        #expect(RegistryAPI.accepts([], oci))
        #expect(RegistryAPI.accepts(["application/json"], oci))
        #expect(RegistryAPI.accepts(["text/html, application/xml;q=0.9"], docker))
    }

    @Test func namedTypesAcceptOnlyThemselves() {
        #expect(RegistryAPI.accepts([oci], oci))
        #expect(!RegistryAPI.accepts([oci], docker))
        #expect(!RegistryAPI.accepts([docker, "text/html"], oci))
        #expect(RegistryAPI.accepts(["\(docker), \(MediaType.ociIndex), \(oci)"], oci))
    }

    @Test func aWildcardAcceptsAny() {
        #expect(RegistryAPI.accepts([docker, "*/*"], oci))
        #expect(RegistryAPI.accepts(["\t*/*;q=0.1"], oci))
    }

    @Test func caseParametersAndWhiteSpaceDoNotMatter() {
        #expect(RegistryAPI.accepts(["\(docker); q=0.5 ,  APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON "], oci))
        #expect(RegistryAPI.accepts([docker, " \(MediaType.ociIndex)\t;q=1"], MediaType.ociIndex))
        #expect(!RegistryAPI.accepts(["\(oci)x", docker], oci))
        #expect(!RegistryAPI.accepts(["\(oci), application/vnd.oci.image.manifest.v1+jso"], docker))
    }

    @Test func emptyElementsAreIgnored() {
        #expect(RegistryAPI.accepts([",,\(oci),"], oci))
        #expect(!RegistryAPI.accepts([", ,\(oci)"], docker))
    }
}
