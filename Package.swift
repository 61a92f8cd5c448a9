// swift-tools-version:6.0
import PackageDescription

// Berth runs on Linux: it uses Glibc, syncfs(2) and Linux file-system semantics throughout.
#if !os(Linux)
#error("Berth builds and runs on Linux only.")
#endif

let package = Package(
    name: "Berth",
    products: [
        .executable(name: "registryd", targets: ["registryd"]),
        .executable(name: "registryctl", targets: ["registryctl"]),
        // For the fuzz targets in fuzz/Package.swift.
        .library(name: "RegistryCore", targets: ["RegistryCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // jwt-kit 5.7 needs swift-crypto 4; everything else accepts 3 or 4.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/CoreOffice/XMLCoder.git", from: "0.18.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // The PostgreSQL metadata store (database: in config.yml), for several registryd nodes.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // OpenSSL's libcrypto: SHA-256/512 whose running state can be saved and resumed.
        .systemLibrary(
            name: "CLibcrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        // Layer 1: values and rules, no I/O.
        .target(
            name: "RegistryCore",
            dependencies: [
                "CLibcrypto",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // syncfs(2), which Swift's Glibc module does not expose.
        .target(name: "CSystemExtras"),
        // Layer 2: the store contracts, the filesystem and SQLite stores, upload sessions,
        // garbage collection, fsck and backup. No HTTP.
        .target(
            name: "RegistryStorage",
            dependencies: [
                "RegistryCore",
                "CSystemExtras",
                "S3Client",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Layer 3: the registry's rules over the stores (push, pull, mount, delete, referrers,
        // listing), shared by the API and everything else that serves content.
        .target(
            name: "RegistryService",
            dependencies: [
                "RegistryCore",
                "RegistryStorage",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Layer 3 (beside the service): the pull-through cache of proxy: and berth.mirrors,
        // an upstream-aware source the service asks for what mirrored repositories lack.
        .target(
            name: "RegistryMirror",
            dependencies: [
                "RegistryCore",
                "RegistryStorage",
                "RegistryService",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Layer 4 (beside the API): the web UI's pages, templates and assets, read through
        // RegistryService. RegistryHTTP mounts it under /ui/.
        .target(
            name: "RegistryUI",
            dependencies: [
                "RegistryCore",
                "RegistryStorage",
                "RegistryService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Layer 4: the HTTP front door on Hummingbird: routes, middleware, TLS, health.
        .target(
            name: "RegistryHTTP",
            dependencies: [
                "RegistryMirror",
                "RegistryCore",
                "RegistryStorage",
                "RegistryService",
                "RegistryUI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // Event notifications to webhook endpoints.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // An S3 client of our own (no S3 SDK is available): SigV4 signing, objects, listing,
        // multipart uploads and presigned URLs over async-http-client. Used by the S3 blob store.
        .target(
            name: "S3Client",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "XMLCoder", package: "XMLCoder"),
            ]
        ),
        // Layer 5: thin executables, and what they share (reading config.yml, logging setup).
        .target(
            name: "RegistryCommandLine",
            dependencies: [
                "RegistryCore",
                "CSystemExtras",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "registryd",
            dependencies: [
                "RegistryCore",
                "RegistryStorage",
                "RegistryService",
                "RegistryHTTP",
                "RegistryCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "registryctl",
            dependencies: [
                "RegistryCore",
                "RegistryStorage",
                "RegistryCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                // registryctl health
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(name: "RegistryCoreTests", dependencies: ["RegistryCore"]),
        // Signing against AWS's published examples; everything else against a real Ceph RGW
        // (scripts/s3-server.sh) when S3_TEST_ENDPOINT is set, required when S3_TEST_REQUIRED=1.
        .testTarget(
            name: "S3ClientTests",
            dependencies: [
                "S3Client",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RegistryStorageTests",
            dependencies: [
                "RegistryCore", "RegistryStorage",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // One suite that every BlobStore and MetadataStore implementation passes.
        .testTarget(
            name: "StoreContractTests",
            dependencies: [
                "RegistryCore", "RegistryStorage", "S3Client",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "RegistryServiceTests",
            dependencies: ["RegistryCore", "RegistryStorage", "RegistryService"]
        ),
        // The HTTP layer in process: error mapping, middleware order, every route's access scope.
        .testTarget(
            name: "RegistryHTTPTests",
            dependencies: [
                "RegistryCore", "RegistryStorage", "RegistryService", "RegistryHTTP", "RegistryUI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
