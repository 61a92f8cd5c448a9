import Testing

@testable import RegistryCore

@Suite struct ErrorTests {
    @Test func errorsCarryCodesAndConditionsButNoStatus() {
        let error = RegistryError(.blobUploadInvalid, "out of order", condition: .rangeMismatch)
        #expect(error.code == .blobUploadInvalid)
        #expect(error.condition == .rangeMismatch)
        #expect(error.description == "BLOB_UPLOAD_INVALID: out of order")
        #expect(RegistryError(.blobUnknown, "x").condition == nil)
    }
}

@Suite struct ConfigurationTests {
    static let stock = """
        version: 0.1
        log:
          fields:
            service: registry
        storage:
          cache:
            blobdescriptor: inmemory
          filesystem:
            rootdirectory: /var/lib/registry
        http:
          addr: :5000
          headers:
            X-Content-Type-Options: [nosniff]
        health:
          storagedriver:
            enabled: true
            interval: 10s
            threshold: 3
        """

    func load(_ yaml: String, _ environment: [String: String] = [:]) throws(ConfigurationError) -> ConfigurationLoader.Result {
        try ConfigurationLoader(file: "config.yml", baseDirectory: "/etc/registry").load(yaml: yaml, environment: environment)
    }

    @Test func readsTheReferenceStockFileUnchanged() throws {
        let result = try load(Self.stock)
        let config = result.configuration
        #expect(result.warnings.isEmpty)
        #expect(config.storage.rootDirectory == "/var/lib/registry")
        #expect(config.http.host == "0.0.0.0")
        #expect(config.http.port == 5000)
        #expect(config.http.headers == [.init(name: "X-Content-Type-Options", values: ["nosniff"])])
        #expect(config.health.storageDriver == .init(enabled: true, interval: .seconds(10), threshold: 3))
        #expect(config.log.fields == ["service": "registry"])
        #expect(config.storage.deleteEnabled == false)
    }

    @Test func environmentOverridesTheFile() throws {
        let config = try load(
            Self.stock,
            [
                "REGISTRY_HTTP_ADDR": "127.0.0.1:6000", "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY": "/srv/r",
                "REGISTRY_STORAGE_DELETE_ENABLED": "true", "REGISTRY_LOG_LEVEL": "debug",
            ]
        ).configuration
        #expect(config.http.host == "127.0.0.1")
        #expect(config.http.port == 6000)
        #expect(config.storage.rootDirectory == "/srv/r")
        #expect(config.storage.deleteEnabled)
        #expect(config.log.level == .debug)
    }

    @Test func unknownKeysWarnWithTheirName() throws {
        let result = try load(Self.stock + "\nsurprise:\n  key: 1\n")
        #expect(result.warnings.count == 1)
        #expect(result.warnings[0].contains("surprise"))
        #expect(result.warnings[0].contains("config.yml:20"))
    }

    @Test func relativeRootResolvesAgainstTheConfigFolder() throws {
        let config = try load("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ./data\n").configuration
        #expect(config.storage.rootDirectory == "/etc/registry/data")
    }

    @Test func wrongTypesNameFileLineAndKey() {
        do {
            _ = try load("version: 0.1\nstorage:\n  delete:\n    enabled: maybe\n")
            Issue.record("accepted a bad boolean")
        } catch {
            #expect(error.description.hasPrefix("config.yml:4: storage.delete.enabled:"))
        }
        do {
            _ = try load("version: 0.1\nhttp:\n  addr: [1, 2]\n")
            Issue.record("accepted a list as addr")
        } catch {
            #expect(error.description.hasPrefix("config.yml:3: http.addr:"))
        }
    }

    @Test func malformedYAMLNamesTheLine() {
        do {
            _ = try load("version: 0.1\nhttp:\n  addr: :5000\n   bad: [\n")
            Issue.record("accepted malformed YAML")
        } catch {
            #expect(error.description.hasPrefix("config.yml:"))
            #expect(error.line != nil)
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func parsesGoDurations() {
        #expect(GoDuration.parse("10s") == .seconds(10))
        #expect(GoDuration.parse("1h30m") == .seconds(5400))
        #expect(GoDuration.parse("500ms") == .milliseconds(500))
        #expect(GoDuration.parse("168h") == .seconds(168 * 3600))
        #expect(GoDuration.parse("ten") == nil)
        #expect(GoDuration.parse("") == nil)
    }
}

@Suite struct BerthConfigurationTests {
    func load(_ yaml: String, _ environment: [String: String] = [:]) throws(ConfigurationError) -> ConfigurationLoader.Result {
        try ConfigurationLoader(file: "config.yml", baseDirectory: "/etc/registry").load(yaml: yaml, environment: environment)
    }

    @Test func switchesAreOffByDefault() throws {
        let result = try load("version: 0.1\n")
        #expect(result.configuration.berth == RegistryConfiguration.Berth())
        #expect(!result.configuration.berth.mountAnywhere)
        #expect(!result.configuration.berth.allowNonDistributable)
    }

    @Test func readsTheBerthSection() throws {
        let result = try load(
            """
            berth:
              mount:
                anywhere: true
              manifests:
                allownondistributable: true
            """)
        #expect(result.configuration.berth.mountAnywhere)
        #expect(result.configuration.berth.allowNonDistributable)
        #expect(result.warnings.isEmpty)
    }

    @Test func environmentSetsBerthSwitchesAndUnknownKeysWarn() throws {
        let result = try load(
            "berth:\n  mount:\n    everywhere: true\n", ["REGISTRY_BERTH_MOUNT_ANYWHERE": "true"])
        #expect(result.configuration.berth.mountAnywhere)
        #expect(result.warnings.contains { $0.contains("berth.mount.everywhere") })
    }

    @Test func wrongTypeNamesTheKey() {
        #expect(throws: ConfigurationError.self) { try load("berth:\n  mount:\n    anywhere: maybe\n") }
    }
}
