import Foundation
import Testing
@testable import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// TLS against a real TLS implementation: Debian's `socat` (OpenSSL) terminating TLS in front of
/// the fake broker, with certificates made by the `openssl` CLI for this test run.
@Suite(.serialized, .enabled(if: TLSRig.toolsAvailable, "socat and openssl CLIs are needed (apt-get install socat openssl)"))
struct TLSTests {
    @Test func connectsAndVerifiesTheBrokerCertificate() async throws {
        let rig = try await TLSRig()
        defer { rig.stop() }
        let front = try await rig.front()
        defer { front.stop() }
        var o = ConnectionOptions()
        var tls = TLSConfiguration()
        tls.caLocation = rig.caPath
        o.tls = tls
        let c = try await BrokerConnection.connect(host: "localhost", port: front.port, options: o)
        defer { c.close() }
        rig.broker.addTopic("secure", partitions: 3)
        let m = try await c.send(MetadataRequest(topics: ["secure"]), timeout: .seconds(5))
        #expect(m.topics.first?.partitions.count == 3)
        // Pipelined requests over TLS.
        let counts = try await withThrowingTaskGroup(of: Int.self) { g in
            for _ in 0 ..< 50 { g.addTask { try await c.send(MetadataRequest(topics: ["secure"]), timeout: .seconds(5)).topics.count } }
            return try await g.reduce(0, +)
        }
        #expect(counts == 50)
        // More connections with the same settings reuse the one SSL_CTX (the CA file is read
        // once, off the loop), and a copy with other settings gets its own.
        for _ in 0 ..< 3 {
            let more = try await BrokerConnection.connect(host: "localhost", port: front.port, options: o)
            _ = try await more.send(MetadataRequest(topics: ["secure"]), timeout: .seconds(5))
            more.close()
        }
        #expect(tls.contextCache.builds == 1)
        var other = tls
        other.verifyHostname = false
        o.tls = other
        let third = try await BrokerConnection.connect(host: "localhost", port: front.port, options: o)
        third.close()
        #expect(tls.contextCache.builds == 2)
    }

    @Test func anUntrustedCertificateFailsWithACertificateError() async throws {
        let rig = try await TLSRig()
        defer { rig.stop() }
        let front = try await rig.front()
        defer { front.stop() }
        var o = ConnectionOptions()
        var tls = TLSConfiguration()
        tls.caLocation = rig.otherCAPath
        o.tls = tls
        do {
            _ = try await BrokerConnection.connect(host: "localhost", port: front.port, options: o)
            Issue.record("expected a certificate error")
        } catch let e as KafkaError {
            #expect(e.kind == .authentication)
            #expect(e.message.contains("certificate verify failed"))
        }
    }

    @Test func aHostNameMismatchFails() async throws {
        let rig = try await TLSRig()
        defer { rig.stop() }
        // 127.0.0.2 is loopback too, but the certificate only names localhost and 127.0.0.1.
        let front = try await rig.front(bind: "127.0.0.2")
        defer { front.stop() }
        var o = ConnectionOptions()
        var tls = TLSConfiguration()
        tls.caLocation = rig.caPath
        o.tls = tls
        do {
            _ = try await BrokerConnection.connect(host: "127.0.0.2", port: front.port, options: o)
            Issue.record("expected a host name error")
        } catch let e as KafkaError {
            #expect(e.kind == .authentication)
            #expect(e.message.lowercased().contains("mismatch") || e.message.contains("certificate verify failed"))
        }
        // With host name verification off, the same connection succeeds.
        tls.verifyHostname = false
        o.tls = tls
        let c = try await BrokerConnection.connect(host: "127.0.0.2", port: front.port, options: o)
        c.close()
    }

    @Test func mutualTLSPresentsTheClientCertificate() async throws {
        let rig = try await TLSRig()
        defer { rig.stop() }
        let front = try await rig.front(requireClientCertificate: true)
        defer { front.stop() }
        var o = ConnectionOptions()
        var tls = TLSConfiguration()
        tls.caLocation = rig.caPath
        o.tls = tls
        // Without a client certificate the server refuses the handshake.
        await #expect(throws: KafkaError.self) {
            _ = try await BrokerConnection.connect(host: "localhost", port: front.port, options: o)
        }
        tls.certificateLocation = rig.clientCertPath
        tls.keyLocation = rig.clientKeyPath
        o.tls = tls
        let c = try await BrokerConnection.connect(host: "localhost", port: front.port, options: o)
        c.close()
    }

    @Test func plaintextClientAgainstTLSListenerFailsCleanly() async throws {
        let rig = try await TLSRig()
        defer { rig.stop() }
        let front = try await rig.front()
        defer { front.stop() }
        var o = ConnectionOptions()
        o.connectTimeout = .seconds(2)
        await #expect(throws: KafkaError.self) {
            _ = try await BrokerConnection.connect(host: "localhost", port: front.port, options: o, requestTimeout: .seconds(2))
        }
    }
}

/// Certificates (a CA, a server certificate for localhost/127.0.0.1, a client certificate and a
/// second unrelated CA) in a temporary directory, a fake broker, and socat TLS front ends.
final class TLSRig: @unchecked Sendable {
    // @unchecked: immutable after init except through `FakeBroker`, which is itself Sendable.
    let dir: URL
    let broker: FakeBroker
    var caPath: String { dir.appendingPathComponent("ca.pem").path }
    var otherCAPath: String { dir.appendingPathComponent("other-ca.pem").path }
    var clientCertPath: String { dir.appendingPathComponent("client.pem").path }
    var clientKeyPath: String { dir.appendingPathComponent("client.key").path }

    static func which(_ tool: String) -> Bool { IntegrationEnvironment.hasSystemTool(tool) }

    static var toolsAvailable: Bool { which("socat") && which("openssl") }

    init() async throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("kw-tls-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        broker = try FakeBroker()
        let d = dir.path
        try await Self.sh("""
        cd '\(d)'
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kw-test-ca -keyout ca.key -out ca.pem
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kw-other-ca -keyout other-ca.key -out other-ca.pem
        openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.pem
        openssl req -newkey rsa:2048 -nodes -subj /CN=kw-client -keyout client.key -out client.csr
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out client.pem
        """)
    }

    /// A socat process terminating TLS on a free port and forwarding to the fake broker.
    struct Front {
        let process: Process
        let port: Int
        func stop() {
            // SIGKILL: socat with `fork` may wait for its per-connection children on SIGTERM.
            // Those children exit when the fake broker closes their upstream connections.
            // Not waited for here (that would block a cooperative thread): Foundation's own child
            // monitor reaps it, and nothing after this depends on it being gone (each front has
            // its own port).
            kill(process.processIdentifier, SIGKILL)
        }
    }

    func front(requireClientCertificate: Bool = false, bind: String = "127.0.0.1") async throws -> Front {
        let port = try Self.freePort()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/socat")
        let verify = requireClientCertificate ? "verify=1,cafile=\(caPath)" : "verify=0"
        p.arguments = ["OPENSSL-LISTEN:\(port),bind=\(bind),reuseaddr,fork,cert=\(dir.path)/server.pem,key=\(dir.path)/server.key,\(verify)", "TCP:127.0.0.1:\(broker.port)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait (bounded) until socat listens.
        for _ in 0 ..< 100 {
            if Self.canConnect(port, host: bind) { return Front(process: p, port: port) }
            try await Task.sleep(for: .milliseconds(20))
        }
        p.terminate()
        throw FakeBrokerError("socat did not start listening on \(port)")
    }

    func stop() {
        broker.stop()
        try? FileManager.default.removeItem(at: dir)
    }

    static func sh(_ script: String) async throws {
        let r = try await runProcess(["/bin/sh", "-ec", script], timeout: .seconds(120))
        guard r.status == 0 else { throw FakeBrokerError("certificate generation failed") }
    }

    static func freePort() throws -> Int {
        let b = try FakeBroker()
        let port = b.port
        b.stop()
        return port
    }

    static func canConnect(_ port: Int, host: String) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr(host)
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 } }
    }
}
