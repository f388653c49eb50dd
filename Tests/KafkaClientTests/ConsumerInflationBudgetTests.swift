import Testing
@testable import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// Item 4: a Fetch response of small, highly compressible batches must not inflate without
/// bound. One `DecompressionBudget` per response: the batches past it are fetched again later.
@Suite(.serialized) struct ConsumerInflationBudgetTests {
    static func bigBatch(base: Int64, records: Int, valueSize: Int) throws -> [UInt8] {
        var b = RecordBatchBuilder(baseOffset: base, compression: .gzip)
        for i in 0 ..< records { try b.append(timestamp: 1, key: nil, value: [UInt8](repeating: UInt8(truncatingIfNeeded: base &+ Int64(i)), count: valueSize)) }
        return try b.build(compress: Compression.recordCompressor())
    }

    @Test func decodingStopsAtTheBatchThatExceedsTheBudgetAndResumesThere() throws {
        // Three batches of ~1 MB decompressed (a few KB on the wire); 2.5 MB of budget.
        let bytes = try Self.bigBatch(base: 0, records: 10, valueSize: 100_000) + Self.bigBatch(base: 10, records: 10, valueSize: 100_000) + Self.bigBatch(base: 20, records: 10, valueSize: 100_000)
        #expect(bytes.count < 30_000)
        let budget = DecompressionBudget(bytes: 2_500_000)
        let r = try FetchedRecordsDecoder.decode(bytes, abortedTransactions: nil, topic: "t", partition: 0, from: 0, readCommitted: false,
                                                 verifyCRC: true, decompress: budget.decompressor(maxPerBatch: 64 << 20))
        #expect(r.records.map(\.offset) == Array(0 ..< 20))
        #expect(r.next == 20, "the third batch is fetched again")
        // A fresh budget (the next response) takes it.
        let again = try FetchedRecordsDecoder.decode(bytes, abortedTransactions: nil, topic: "t", partition: 0, from: 20, readCommitted: false,
                                                     verifyCRC: true, decompress: DecompressionBudget(bytes: 2_500_000).decompressor(maxPerBatch: 64 << 20))
        #expect(again.records.map(\.offset) == Array(20 ..< 30) && again.next == 30)
        // Nothing fits: no records, no progress (not an error: the next fetch retries).
        let none = try FetchedRecordsDecoder.decode(bytes, abortedTransactions: nil, topic: "t", partition: 0, from: 0, readCommitted: false,
                                                    verifyCRC: true, decompress: DecompressionBudget(bytes: 10).decompressor(maxPerBatch: 64 << 20))
        #expect(none.records.isEmpty && none.next == nil)
    }

    @Test(.timeLimit(.minutes(2)))
    func aFetchOfCompressionBombsStaysWithinTheBudgetAndEveryRecordArrives() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        // 30 batches of 4 × 1 MiB values: ~4 MiB each decompressed, ~4 KiB on the wire, so one
        // 1 MiB fetch carries all of them (120 MiB inflated).
        let value = String(repeating: "z", count: 1 << 20)
        for _ in 0 ..< 30 { cluster.appendRecords("t", 0, Array(repeating: value, count: 4), compression: .gzip) }
        var config = try ConsumerConfig(properties: [
            "bootstrap.servers": broker.address, "fetch.max.wait.ms": "100", "request.timeout.ms": "5000",
            "queued.max.messages.kbytes": "\(16 * 1024)", "max.partition.fetch.bytes": "\(1 << 20)",
        ])
        config.maxBatchInflation = 8 << 20
        let c = try KafkaConsumer(config: config)
        try await c.assign([TopicPartition(topic: "t", partition: 0)], from: .beginning)
        // Nobody reads at first: one fetch's worth is buffered, bounded by the budget (16 MiB),
        // not by what the response could inflate to (120 MiB).
        try await eventually("a first fetch", timeout: .seconds(10)) { c.bufferedBytes > 0 }
        try await Task.sleep(for: .milliseconds(500))
        let buffered = c.bufferedRecordBytes
        #expect(buffered <= 2 * 16 << 20, "\(buffered) bytes buffered for a 16 MiB budget")
        // Everything still arrives, in order, through repeated fetches.
        var offsets: [Int64] = []
        let deadline = ContinuousClock.now + .seconds(40)
        while offsets.count < 120, ContinuousClock.now < deadline {
            for r in try await c.poll(max: 1000, timeout: .milliseconds(200)) {
                offsets.append(r.offset)
                #expect(r.value?.count == 1 << 20)
            }
        }
        #expect(offsets == Array(0 ..< 120))
        await c.close()
    }
}
