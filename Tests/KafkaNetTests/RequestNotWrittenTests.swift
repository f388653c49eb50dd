import Testing
import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// A request whose frame the connection could not finish writing is reported as never written
/// (`KafkaError.requestNotWritten`): Kafka reads whole frames only, so the broker never acted on
/// it, and the producer may re-split what it carried. A request fully written before the
/// connection died is not: the broker may have processed it.
@Suite(.serialized) struct RequestNotWrittenTests {
    /// A frame with a valid header (ApiVersions v0) padded to `size` bytes.
    func frame(size: Int) -> [UInt8] {
        let n = UInt32(size - 4)
        var f: [UInt8] = [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
        f += [0, 18, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]  // api key 18, version 0, correlation id, no client id
        f += [UInt8](repeating: 0, count: size - f.count)
        return f
    }

    func failure(_ body: () async throws -> Void) async -> KafkaError? {
        do { try await body() } catch { return error as? KafkaError }
        return nil
    }

    @Test(.timeLimit(.minutes(1)))
    func aFrameCutPartwayIsNotWrittenAndOneFullyWrittenIs() async throws {
        let broker = try FakeBroker { _, _ in .ignore }
        defer { broker.stop() }
        // The link dies after 200 KB: a 32 MB frame cannot have fit in the kernel's buffers by then.
        let proxy = try FaultProxy(upstreamPort: broker.port, faults: .init(cutAfterClientBytes: 200_000 ... 200_000))
        defer { proxy.stop() }
        let cut = try await Connection.connect(host: "127.0.0.1", port: proxy.port)
        let small = frame(size: 100)
        async let first = failure { _ = try await cut.send(frame: small, apiKey: .apiVersions, apiVersion: 0, timeout: .seconds(30)) }
        // The small request is queued (in flight) before the big one is sent.
        let queuedBy = ContinuousClock.now + .seconds(10)
        while cut.inflightCount < 1 && ContinuousClock.now < queuedBy { try await Task.sleep(for: .milliseconds(5)) }
        try #require(cut.inflightCount == 1)
        let big = frame(size: 32 << 20)
        let e = try #require(await failure { _ = try await cut.send(frame: big, apiKey: .apiVersions, apiVersion: 0, timeout: .seconds(30)) })
        #expect(e.kind == .connection && e.requestNotWritten, "\(e)")
        // The small request was written whole before the cut: the broker may have it.
        let f = try #require(await first)
        #expect(f.kind == .connection && !f.requestNotWritten, "\(f)")
        // Refused before it was queued (connection already closed): not written either.
        let late = try #require(await failure { _ = try await cut.send(frame: small, apiKey: .apiVersions, apiVersion: 0, timeout: .seconds(5)) })
        #expect(late.requestNotWritten, "\(late)")
        #expect(proxy.stats.cuts == 1)
    }

    @Test(.timeLimit(.minutes(1)))
    func aBrokerThatReadTheWholeRequestAndHungUpMayHaveActedOnIt() async throws {
        let broker = try FakeBroker { _, _ in .disconnect }
        defer { broker.stop() }
        let c = try await Connection.connect(host: "127.0.0.1", port: broker.port)
        let e = try #require(await failure { _ = try await c.send(frame: frame(size: 4096), apiKey: .apiVersions, apiVersion: 0, timeout: .seconds(10)) })
        #expect(e.kind == .connection && !e.requestNotWritten, "\(e)")
    }
}
