import Testing

@testable import RegistryCore

@Suite struct RouteTests {
    @Test func recognisesEveryEndpoint() {
        #expect(Route(path: "/v2/") == .base)
        #expect(Route(path: "/v2") == .base)
        #expect(Route(path: "/v2/_catalog") == .catalog)
        #expect(Route(path: "/v2/team/app/tags/list") == .tags(name: "team/app"))
        #expect(Route(path: "/v2/a/b/manifests/v1") == .manifest(name: "a/b", reference: "v1"))
        #expect(Route(path: "/v2/a/blobs/sha256:00") == .blob(name: "a", digest: "sha256:00"))
        #expect(Route(path: "/v2/a/blobs/sha256%3A00") == .blob(name: "a", digest: "sha256:00"))
        #expect(Route(path: "/v2/a/b/blobs/uploads/") == .uploads(name: "a/b"))
        #expect(Route(path: "/v2/a/b/blobs/uploads") == .uploads(name: "a/b"))
        #expect(Route(path: "/v2/a/blobs/uploads/x-1") == .upload(name: "a", id: "x-1"))
        #expect(Route(path: "/v2/a/referrers/sha256:00") == .referrers(name: "a", digest: "sha256:00"))
    }

    @Test func namesThatLookLikeKeywordsMatchFromTheEnd() {
        #expect(Route(path: "/v2/blobs/manifests/manifests/v1") == .manifest(name: "blobs/manifests", reference: "v1"))
        #expect(Route(path: "/v2/tags/list/tags/list") == .tags(name: "tags/list"))
        // The name is the path's own bytes up to the endpoint, empty parts and all (its rules
        // are checked later), not parts joined again.
        #expect(Route(path: "/v2/a//b/manifests/v1") == .manifest(name: "a//b", reference: "v1"))
        #expect(Route(path: "/v2/é/b/blobs/uploads/") == .uploads(name: "é/b"))
        #expect(Route(path: "/v2//blobs/sha256:00") == .blob(name: "", digest: "sha256:00"))
    }

    @Test func rejectsOtherPaths() {
        #expect(Route(path: "/") == nil)
        #expect(Route(path: "/v1/") == nil)
        #expect(Route(path: "/v2/manifests/v1") == nil)
        #expect(Route(path: "/v2/a/manifests/v1/") == nil)
        #expect(Route(path: "/v2x/a/manifests/v1") == nil)
    }
}
