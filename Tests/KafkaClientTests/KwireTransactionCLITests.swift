import Foundation
import Testing
import KafkaProtocol
import KafkaTestSupport

/// The CLI's transaction options: `kwire consume --isolation`.
@Suite(.enabled(if: KwireCLITests.binary != nil, "kwire not built"))
struct KwireTransactionCLITests {
    /// A topic with committed, aborted, plain and (at the end) open transactional records, on a
    /// FakeCluster that lists aborted transactions and a last stable offset in Fetch.
    static func transactionalTopic() throws -> (FakeCluster, FakeBroker) {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 0)
        cluster.createTopic("tx", partitions: 1, leader: 0)
        cluster.appendRecords("tx", 0, ["c0", "c1"], producerId: 7, transactional: true)
        cluster.appendRecords("tx", 0, ["plain"])
        cluster.appendMarker("tx", 0, .commit, producerId: 7)
        cluster.appendRecords("tx", 0, ["a0", "a1"], producerId: 7, transactional: true)
        cluster.appendMarker("tx", 0, .abort, producerId: 7)
        cluster.appendRecords("tx", 0, ["c2"], producerId: 8, transactional: true)
        cluster.appendMarker("tx", 0, .commit, producerId: 8)
        cluster.appendRecords("tx", 0, ["open"], producerId: 9, transactional: true)
        return (cluster, broker)
    }

    @Test(.timeLimit(.minutes(1)))
    func isolationLevelChoosesWhatConsumePrints() async throws {
        let (_, broker) = try Self.transactionalTopic()
        defer { broker.stop() }
        let committed = try await KwireCLITests.kwire(["-b", broker.address, "consume", "tx", "--isolation", "read_committed", "--exit-at-end", "--format", "%o:%s\\n"])
        #expect(committed.status == 0, "\(committed.stderr)")
        // Aborted records are hidden; the open transaction (offset 9) is past the last stable
        // offset, and --exit-at-end stops there instead of waiting for the high watermark.
        #expect(committed.stdout == "0:c0\n1:c1\n2:plain\n7:c2\n")
        let all = try await KwireCLITests.kwire(["-b", broker.address, "consume", "tx", "--isolation=read_uncommitted", "--exit-at-end", "--format", "%s\\n"])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout == "c0\nc1\nplain\na0\na1\nc2\nopen\n")
        let byDefault = try await KwireCLITests.kwire(["-b", broker.address, "consume", "tx", "--exit-at-end", "--format", "%s\\n"])
        #expect(byDefault.stdout == all.stdout, "read_uncommitted is the default")
    }

    @Test func aBadIsolationValueIsAOneLineUsageError() async throws {
        let r = try await KwireCLITests.kwire(["-b", "127.0.0.1:9", "consume", "tx", "--isolation", "committed"])
        #expect(r.status == 64)
        #expect(r.stderr == "kwire: --isolation takes read_committed or read_uncommitted, got 'committed'\n")
        let g = try await KwireCLITests.kwire(["-b", "127.0.0.1:9", "consume", "tx", "--group", "g", "--isolation", "READ_COMMITTED"])
        #expect(g.status == 64 && g.stderr.contains("got 'READ_COMMITTED'"))
    }
}
