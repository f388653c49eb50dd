import Testing
@testable import KafkaClient
import KafkaProtocol

/// What the consumer makes of a partition's fetched bytes (`FetchedRecordsDecoder`): offsets
/// below the fetch offset, control batches, transactions, partial batches.
struct FetchedRecordsDecoderTests {
    static var decompress: RecordCodecFunction { Compression.recordDecompressor(maxOutput: 1 << 24) }

    /// A batch of `count` records at `base` ("v<offset>" values).
    static func batch(base: Int64, count: Int, producerId: Int64 = -1, transactional: Bool = false, compression: RecordCompression = .none) throws -> [UInt8] {
        var b = RecordBatchBuilder(baseOffset: base, compression: compression, producerId: producerId, producerEpoch: producerId < 0 ? -1 : 0,
                                   baseSequence: producerId < 0 ? -1 : 0, isTransactional: transactional)
        for i in 0 ..< count { try b.append(timestamp: 1000 + Int64(i), key: nil, value: Array("v\(base &+ Int64(i))".utf8)) }
        return try b.build(compress: compression == .none ? nil : Compression.recordCompressor())
    }

    /// A transaction marker at `offset`.
    static func marker(_ type: ControlRecordType, at offset: Int64, producerId: Int64) throws -> [UInt8] {
        var b = RecordBatchBuilder(baseOffset: offset, producerId: producerId, producerEpoch: 0, isTransactional: true, isControl: true)
        try b.appendControl(type: type, coordinatorEpoch: 0, timestamp: 2000)
        return try b.build()
    }

    func decode(_ bytes: [UInt8], from: Int64, committed: Bool = false, aborted: [(Int64, Int64)] = []) throws -> (offsets: [Int64], values: [String], next: Int64?) {
        let r = try FetchedRecordsDecoder.decode(bytes, abortedTransactions: aborted.map { .init(producerId: $0.0, firstOffset: $0.1) },
                                                 topic: "t", partition: 3, from: from, readCommitted: committed, verifyCRC: true, decompress: Self.decompress)
        #expect(r.records.allSatisfy { $0.topic == "t" && $0.partition == 3 })
        return (r.records.map(\.offset), r.records.map { $0.valueString ?? "null" }, r.next)
    }

    // Qualified: KafkaClient's alias and KafkaProtocol's type are both in scope here, and the
    // `(T).self` that @Test writes for a parameter type cannot choose between them.
    @Test(arguments: [RecordCompression.none, .lz4, .zstd])
    func recordsBelowTheFetchOffsetInTheFirstBatchAreSkipped(compression: KafkaProtocol.RecordCompression) throws {
        // The broker answers whole batches: asked for offset 5, it sends the batch 0…9.
        let bytes = try Self.batch(base: 0, count: 10, compression: compression) + Self.batch(base: 10, count: 3, compression: compression)
        let r = try decode(bytes, from: 5)
        #expect(r.offsets == Array(5 ... 12))
        #expect(r.values.first == "v5")
        #expect(r.next == 13)
    }

    @Test func controlBatchesAreHiddenAndPassed() throws {
        let bytes = try Self.batch(base: 0, count: 3, producerId: 7, transactional: true) + Self.marker(.commit, at: 3, producerId: 7)
        for committed in [false, true] {
            let r = try decode(bytes, from: 0, committed: committed)
            #expect(r.offsets == [0, 1, 2])
            #expect(r.next == 4, "the next fetch starts after the marker")
        }
        // Only a marker: nothing to deliver, but the position moves past it.
        let markerOnly = try decode(Self.marker(.commit, at: 3, producerId: 7), from: 3)
        #expect(markerOnly.offsets.isEmpty && markerOnly.next == 4)
    }

    /// Producer 1's transaction (offsets 0–2) is aborted; producer 2's (3–4) interleaves and
    /// commits; producer 1 then commits a new transaction (7–8); a plain record at 10.
    static func interleaved() throws -> [UInt8] {
        try batch(base: 0, count: 3, producerId: 1, transactional: true)
            + batch(base: 3, count: 2, producerId: 2, transactional: true)
            + marker(.abort, at: 5, producerId: 1)
            + marker(.commit, at: 6, producerId: 2)
            + batch(base: 7, count: 2, producerId: 1, transactional: true)
            + marker(.commit, at: 9, producerId: 1)
            + batch(base: 10, count: 1)
    }

    @Test func readCommittedDropsExactlyTheAbortedTransaction() throws {
        let bytes = try Self.interleaved()
        let committed = try decode(bytes, from: 0, committed: true, aborted: [(1, 0)])
        #expect(committed.offsets == [3, 4, 7, 8, 10])
        #expect(committed.next == 11)
        let uncommitted = try decode(bytes, from: 0, committed: false, aborted: [(1, 0)])
        #expect(uncommitted.offsets == [0, 1, 2, 3, 4, 7, 8, 10], "read_uncommitted passes every data record")
        #expect(uncommitted.next == 11)
    }

    @Test func readCommittedFromInsideAnAbortedTransaction() throws {
        // Fetching from offset 1: the aborted transaction began before the fetch offset.
        let r = try decode(try Self.interleaved(), from: 1, committed: true, aborted: [(1, 0)])
        #expect(r.offsets == [3, 4, 7, 8, 10])
    }

    @Test func abortedListOnlyAppliesToTheNamedProducer() throws {
        // Producer 2's transaction is the aborted one here: producer 1's records stay.
        let r = try decode(try Self.interleaved(), from: 0, committed: true, aborted: [(2, 3)])
        #expect(r.offsets == [0, 1, 2, 7, 8, 10])
    }

    @Test func aPartialLastBatchIsLeftForTheNextFetch() throws {
        let whole = try Self.batch(base: 0, count: 4) + Self.batch(base: 4, count: 4)
        let r = try decode(Array(whole.dropLast(5)), from: 0)
        #expect(r.offsets == [0, 1, 2, 3])
        #expect(r.next == 4)
        // Not even one complete batch: no position.
        let none = try decode(Array(whole.prefix(30)), from: 0)
        #expect(none.offsets.isEmpty && none.next == nil)
    }

    @Test func aCorruptBatchIsAnError() throws {
        var bytes = try Self.batch(base: 0, count: 4)
        bytes[bytes.count - 2] ^= 0xFF
        #expect(throws: RecordDecodingError.self) { _ = try decode(bytes, from: 0) }
    }

    /// A legacy (magic 1) message at `offset` with a correct CRC-32.
    static func legacyMessage(offset: Int64, value: [UInt8]) -> [UInt8] {
        func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
        let body: [UInt8] = [1, 0] + be(Int64(1000)) + be(Int32(-1)) + be(Int32(value.count)) + value
        return be(offset) + be(Int32(4 + body.count)) + be(CRC32.checksum(body)) + body
    }

    /// Offsets that leave no room for a next position (the consumer's `offset + 1` trapped on
    /// them) are refused; the largest usable ones still decode.
    @Test func offsetsAtInt64MaxAreRefused() throws {
        // Refused by the record layer (a batch or message whose next offset is not
        // representable) or, for what it lets through (negative offsets), by this decoder.
        func refused(_ body: () throws -> Void) -> Bool {
            do { try body(); return false } catch is FetchedRecordsDecoder.InvalidOffset { return true } catch is RecordDecodingError { return true } catch { return false }
        }
        // Last record at Int64.max: refused, wherever the fetch starts.
        #expect(refused { _ = try decode(Self.batch(base: Int64.max - 2, count: 3), from: Int64.max - 2) })
        #expect(refused { _ = try decode(Self.batch(base: Int64.max - 2, count: 3), from: 0) })
        // base + last_offset_delta past Int64.max (it wrapped, negative).
        #expect(refused { _ = try decode(Self.batch(base: Int64.max, count: 2), from: 0) })
        // A negative base offset.
        #expect(throws: FetchedRecordsDecoder.InvalidOffset.self) { _ = try decode(Self.batch(base: -5, count: 2), from: 0) }
        // Legacy messages at Int64.max (alone, or after a good one).
        let legacyMax = Self.legacyMessage(offset: Int64.max, value: [1])
        #expect(refused { _ = try decode(legacyMax, from: 0) })
        #expect(refused { _ = try decode(Self.legacyMessage(offset: 7, value: [1]) + legacyMax, from: 0) })
        // One below: fine, and the next position is Int64.max.
        let last = try decode(Self.batch(base: Int64.max - 3, count: 3), from: Int64.max - 3)
        #expect(last.offsets == [Int64.max - 3, Int64.max - 2, Int64.max - 1] && last.next == Int64.max)
        let legacy = try decode(Self.legacyMessage(offset: Int64.max - 1, value: [1]), from: 0)
        #expect(legacy.offsets == [Int64.max - 1] && legacy.next == Int64.max)
    }

    /// The wire's -1 ("no timestamp", "no leader epoch") becomes nil in `ConsumerRecord`; real
    /// values pass through. A magic 1 message has a timestamp but never a leader epoch.
    @Test func wireSentinelsBecomeNil() throws {
        func records(_ bytes: [UInt8]) throws -> [ConsumerRecord] {
            try FetchedRecordsDecoder.decode(bytes, abortedTransactions: [], topic: "t", partition: 0, from: 0,
                                             readCommitted: false, verifyCRC: true, decompress: Self.decompress).records
        }
        var unknown = RecordBatchBuilder(baseOffset: 0)
        try unknown.append(timestamp: -1, key: nil, value: [1])
        var known = RecordBatchBuilder(baseOffset: 1, partitionLeaderEpoch: 4)
        try known.append(timestamp: 1234, key: nil, value: [2])
        let got = try records(unknown.build() + known.build())
        #expect(got.map(\.timestamp) == [nil, 1234])
        #expect(got.map(\.leaderEpoch) == [nil, 4])
        let legacy = try records(Self.legacyMessage(offset: 0, value: [1]))
        #expect(legacy.map(\.timestamp) == [1000] && legacy.map(\.leaderEpoch) == [nil])
    }
}
