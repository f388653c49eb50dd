import Foundation
import Testing
import KafkaTestSupport

/// `kwire produce` and `kwire consume` over SASL_SSL with SCRAM-SHA-512, configured the kcat
/// way (`-X security.protocol=sasl_ssl -X sasl.mechanism=… -X ssl.ca.location=…`), and a wrong
/// password through each command: fast, an authentication error, the password never printed.
@Suite(.enabled(if: KwireCLITests.binary != nil && SecureRigEnvironment.isAvailable, "needs kwire and the secure rig (scripts/secure_rig.sh start)"))
struct KwireSecureCLITests {
    typealias E = SecureRigEnvironment

    static func saslSSL(password: String = E["KAFKA_SASL_PASSWORD"]) -> [String] {
        ["-b", E["KAFKA_SASL_SSL_BOOTSTRAP"], "-X", "security.protocol=sasl_ssl", "-X", "sasl.mechanism=SCRAM-SHA-512",
         "-X", "sasl.username=\(E["KAFKA_SASL_USER"])", "-X", "sasl.password=\(password)", "-X", "ssl.ca.location=\(E["KAFKA_TLS_CA"])"]
    }

    @Test func produceThenConsumeOverSaslSSLWithScramSha512() async throws {
        let topic = IntegrationEnvironment.uniqueTopic("kw-cli-secure")
        let create = try await ChildProcess.kwire(["topic", "create", topic, "--partitions", "1"] + Self.saslSSL())
        #expect(create.status == 0, "\(create.stderr)")
        let lines = (0 ..< 500).map { "k\($0 % 17)=message \($0) ✓ \(String(repeating: "q", count: $0 % 11))" }
        let produced = try await ChildProcess.kwire(["produce", topic, "--key-delimiter", "="] + Self.saslSSL(), stdin: lines.joined(separator: "\n") + "\n")
        #expect(produced.status == 0, "\(produced.stderr)")
        #expect(produced.stderr.contains("produced 500 messages"))
        let consumed = try await ChildProcess.kwire(["consume", topic, "--exit-at-end", "--format", "%k=%s\\n"] + Self.saslSSL())
        #expect(consumed.status == 0, "\(consumed.stderr)")
        #expect(consumed.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) == lines)
        #expect(consumed.stderr.contains("consumed 500 messages"))
    }

    /// Long timeouts on purpose: a command that retried or waited for a timeout would take 60 s
    /// or more; failing on the authentication error takes a moment (about a second alone; the
    /// bound leaves room for a loaded machine).
    @Test(arguments: [["metadata"], ["produce", "kw-cli-secure-never"], ["consume", "kw-cli-secure-never"]])
    func aWrongPasswordFailsFastAndIsNeverPrinted(command: [String]) async throws {
        let secret = "S3cret-\(UInt32.random(in: 0 ... .max))"
        let slow = ["-X", "request.timeout.ms=60000", "-X", "default.api.timeout.ms=60000", "-X", "socket.connection.setup.timeout.ms=60000"]
        let r = try await ChildProcess.kwire(command + Self.saslSSL(password: secret) + slow, stdin: command[0] == "produce" ? "a\nb\n" : nil)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("authentication") && r.stderr.contains("SCRAM-SHA-512"), "\(r.stderr)")
        #expect(!r.stderr.contains(secret) && !r.stdout.contains(secret))
        #expect(r.elapsed < .seconds(15), "\(command[0]) took \(r.elapsed)")
    }
}
