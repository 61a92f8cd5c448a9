import ArgumentParser
import Foundation

struct Certs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a private CA, a server certificate and a client certificate for TLS and mutual TLS.",
        discussion: """
            Writes ca.pem and ca-key.pem, server-cert.pem and server-key.pem (serverAuth, every --host \
            as a DNS or IP subjectAltName), cert.pem and key.pem (a clientAuth certificate). Keys are \
            ECDSA P-256, or RSA 2048 with --rsa; key files get mode 0400, certificates 0444.
            """)

    @Option(name: .long, help: "Folder to write the files into (created if missing).")
    var out: String

    @Option(name: .long, help: "A DNS name or IP address the server answers on (repeat for more).")
    var host: [String] = []

    @Option(name: .long, help: "Days the certificates stay valid.")
    var days = 825

    @Flag(name: .long, help: "RSA 2048 keys instead of ECDSA P-256.")
    var rsa = false

    @Flag(name: .long, help: "Overwrite an existing CA in --out.")
    var force = false

    func validate() throws {
        guard !host.isEmpty else { throw ValidationError("give at least one --host") }
        guard days > 0 else { throw ValidationError("--days must be positive") }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: out).standardizedFileURL.path
        let files = FileManager.default
        if files.fileExists(atPath: folder + "/ca.pem") || files.fileExists(atPath: folder + "/ca-key.pem"), !force {
            Console.error("\(folder)/ca.pem already exists; pass --force to replace the CA and every certificate it signed")
            throw ExitCode(2)
        }
        try files.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let set = try CertificateSet(hosts: host, days: days, rsa: rsa)
        let outputs: [(String, String, Int16)] = [
            ("ca.pem", set.authority.certificatePEM, 0o444), ("ca-key.pem", set.authority.keyPEM, 0o400),
            ("server-cert.pem", set.server.certificatePEM, 0o444), ("server-key.pem", set.server.keyPEM, 0o400),
            ("cert.pem", set.client.certificatePEM, 0o444), ("key.pem", set.client.keyPEM, 0o400),
        ]
        for (name, text, mode) in outputs {
            try write(text, to: folder + "/" + name, mode: mode)
        }
        let first = host[0]
        print(
            """
            Wrote \(outputs.map(\.0).joined(separator: ", ")) to \(folder) (valid \(days) days, \
            \(rsa ? "RSA 2048" : "ECDSA P-256")).

            config.yml:
              http:
                tls:
                  certificate: \(folder)/server-cert.pem
                  key: \(folder)/server-key.pem
                  clientcas:            # only clients holding cert.pem/key.pem get in
                    - \(folder)/ca.pem

            Docker (on each client; docker treats 127.0.0.0/8 as insecure and ignores these there):
              /etc/docker/certs.d/\(first):PORT/ca.crt       <- ca.pem
              /etc/docker/certs.d/\(first):PORT/client.cert  <- cert.pem
              /etc/docker/certs.d/\(first):PORT/client.key   <- key.pem
            The same three files in one folder work with skopeo and podman: --cert-dir FOLDER.
            """)
    }

    /// Writes through a temporary file so that a replaced key file is never half written.
    private func write(_ text: String, to path: String, mode: Int16) throws {
        let temporary = path + ".tmp-\(getpid())"
        unlink(temporary)
        guard FileManager.default.createFile(
            atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: NSNumber(value: mode)])
        else {
            Console.error("cannot write \(temporary)")
            throw ExitCode.failure
        }
        guard rename(temporary, path) == 0 else {
            Console.error("cannot write \(path): \(String(cString: strerror(errno)))")
            throw ExitCode.failure
        }
    }
}
