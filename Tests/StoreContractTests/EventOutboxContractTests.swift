import Foundation
import RegistryCore
import RegistryStorage
import Testing

/// What every ``EventOutboxStore`` must do: events recorded exactly with their changes, in
/// commit order, and per-endpoint cursors under a lease.
@Suite struct EventOutboxContractTests {
    func event(_ action: RegistryEvent.Action, _ target: RegistryEvent.Target = .init(repository: "team/app"))
        -> RegistryEvent
    {
        RegistryEvent(
            action: action, target: target,
            request: .init(id: UUID().uuidString, addr: "127.0.0.1", host: "localhost", method: "PUT", useragent: "test"),
            actor: .init(name: "alice"), source: .init(addr: "node:5000", instanceID: "i"))
    }

    /// Events as the outbox stores them (timestamps to the millisecond, as they are sent).
    func stored(_ events: [RegistryEvent]) throws -> [Data] { try events.map { try $0.encoded() } }

    func outbox(_ stores: OpenedStores) throws -> any EventOutboxStore {
        try #require(stores.metadata as? any EventOutboxStore)
    }

    @Test(arguments: StoreImplementation.all)
    func eventsAreWrittenWithTheirChangesOnly(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let outbox = try outbox(stores)
        var written: [RegistryEvent] = []

        // A blob upload: its event gets the blob's size.
        let config = Array("{\"seed\":1}".utf8)
        let layer = bytes(1000)
        let blobPush = event(.push, .init(mediaType: "application/octet-stream", digest: digest(layer).description))
        _ = try await stores.uploads().uploadWhole(
            to: repository(), digest: digest(layer), body: Chunks(layer), length: 1000, events: [blobPush])
        try await push(config, to: repository(), in: stores)
        var sized = blobPush
        sized.target.size = 1000
        sized.target.length = 1000
        written.append(sized)

        // A manifest push; one that fails writes nothing.
        let manifest = try imageManifest(config: config, layers: [layer])
        let manifestPush = event(.push, .init(digest: manifest.digest.description, tag: "v1"))
        try await outbox.putManifest(manifest, in: repository(), tag: try Tag("v1"), events: [manifestPush])
        written.append(manifestPush)
        let missing = try imageManifest(config: config, layers: [bytes(7, seed: 9)])
        await #expect(throws: RegistryError.self) {
            try await outbox.putManifest(missing, in: repository(), tag: nil, events: [event(.push)])
        }

        // Deletes and mounts of what is not there write nothing.
        #expect(!(try await outbox.deleteTag(try Tag("nope"), in: repository(), events: [event(.delete)])))
        #expect(!(try await outbox.deleteManifest(digest(bytes(3)), in: repository(), events: [event(.delete)])))
        #expect(
            !(try await outbox.mountBlob(digest(layer), from: repository("empty/repo"), into: repository("b"), events: [event(.mount)])))
        let mount = event(.mount)
        #expect(try await outbox.mountBlob(digest(layer), from: repository(), into: repository("b"), events: [mount]))
        written.append(mount)
        let anywhere = event(.mount)
        #expect(try await outbox.mountBlobFromAnyRepository(digest(layer), into: repository("c"), events: [anywhere]))
        written.append(anywhere)
        let tagDelete = event(.delete, .init(repository: "team/app", tag: "v1"))
        #expect(try await outbox.deleteTag(try Tag("v1"), in: repository(), events: [tagDelete]))
        written.append(tagDelete)
        let manifestDelete = event(.delete, .init(digest: manifest.digest.description))
        #expect(try await outbox.deleteManifest(manifest.digest, in: repository(), events: [manifestDelete]))
        written.append(manifestDelete)
        #expect(!(try await outbox.unlinkBlob(digest(bytes(3)), from: repository(), events: [event(.delete)])))
        let blobDelete = event(.delete, .init(digest: digest(layer).description))
        #expect(try await outbox.unlinkBlob(digest(layer), from: repository("c"), events: [blobDelete]))
        written.append(blobDelete)
        let pulls = [event(.pull), event(.pull)]
        try await outbox.appendEvents(pulls)
        written += pulls

        // The changes themselves happened as without events.
        #expect(try await stores.metadata.blobSize(digest(layer), in: repository("b")) == 1000)
        #expect(try await stores.metadata.blobSize(digest(layer), in: repository("c")) == nil)

        let entries = try await outbox.outboxEvents(for: "hook", limit: 100)
        #expect(try stored(entries.map(\.event)) == stored(written))
        #expect(entries.map(\.sequence) == entries.map(\.sequence).sorted())
        #expect(Set(entries.map(\.sequence)).count == entries.count)
        #expect(try await outbox.outboxDepth(for: "hook") == written.count)
        #expect(try stored(try await outbox.outboxEvents(for: "hook", limit: 2).map(\.event)) == stored(Array(written.prefix(2))))
    }

    @Test(arguments: StoreImplementation.all)
    func cursorsMoveUnderALeaseAndPruningWaitsForEveryEndpoint(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let outbox = try outbox(stores)
        let events = [event(.push), event(.push), event(.delete)]
        try await outbox.appendEvents(events)
        let entries = try await outbox.outboxEvents(for: "a", limit: 10)
        #expect(entries.count == 3)

        #expect(try await outbox.claimOutbox(endpoint: "a", owner: "one", lease: .seconds(30)))
        #expect(!(try await outbox.claimOutbox(endpoint: "a", owner: "two", lease: .seconds(30))))
        #expect(try await outbox.claimOutbox(endpoint: "a", owner: "one", lease: .seconds(30)))
        // Only the holder moves the cursor.
        #expect(!(try await outbox.acknowledgeOutbox(endpoint: "a", owner: "two", through: entries[1].sequence)))
        #expect(try await outbox.acknowledgeOutbox(endpoint: "a", owner: "one", through: entries[1].sequence))
        #expect(try stored(try await outbox.outboxEvents(for: "a", limit: 10).map(\.event)) == stored([events[2]]))
        #expect(try await outbox.outboxDepth(for: "a") == 1)
        // Never backwards.
        #expect(try await outbox.acknowledgeOutbox(endpoint: "a", owner: "one", through: entries[0].sequence))
        #expect(try await outbox.outboxDepth(for: "a") == 1)

        // "b" has delivered nothing: nothing goes.
        #expect(try await outbox.outboxDepth(for: "b") == 3)
        #expect(try await outbox.pruneOutbox(endpoints: ["a", "b"]) == 0)
        #expect(try await outbox.claimOutbox(endpoint: "b", owner: "two", lease: .seconds(30)))
        #expect(try await outbox.acknowledgeOutbox(endpoint: "b", owner: "two", through: entries[2].sequence))
        #expect(try await outbox.pruneOutbox(endpoints: ["a", "b"]) == 2)
        #expect(try stored(try await outbox.outboxEvents(for: "a", limit: 10).map(\.event)) == stored([events[2]]))
        #expect(try await outbox.outboxDepth(for: "b") == 0)

        // A lapsed lease can be taken over.
        #expect(try await outbox.claimOutbox(endpoint: "c", owner: "one", lease: .milliseconds(50)))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await outbox.claimOutbox(endpoint: "c", owner: "two", lease: .seconds(30)))
        #expect(!(try await outbox.claimOutbox(endpoint: "c", owner: "one", lease: .seconds(30))))
    }
}
