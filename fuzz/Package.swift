// swift-tools-version:6.0
// libFuzzer targets for Berth's parsers. Kept out of the main package so a normal build pays
// nothing for them; see fuzz/README.md.
import PackageDescription

let core: Target.Dependency = .product(name: "RegistryCore", package: "Berth")

let package = Package(
    name: "BerthFuzz",
    dependencies: [.package(name: "Berth", path: "..")],
    targets: [
        .executableTarget(name: "FuzzManifest", dependencies: [core]),
        .executableTarget(name: "FuzzReference", dependencies: [core]),
        .executableTarget(name: "FuzzContentRange", dependencies: [core]),
    ]
)
