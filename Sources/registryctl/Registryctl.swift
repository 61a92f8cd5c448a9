import ArgumentParser

@main
struct Registryctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registryctl",
        abstract: "Administer a Berth registry.",
        version: "0.1.0")
}
