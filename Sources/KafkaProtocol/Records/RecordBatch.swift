// Record batch v2 (magic 2, KIP-98), the only format Produce v3+ may send:
//
//   offset  field                    type     notes
//        0  base_offset              int64
//        8  batch_length             int32    bytes after this field
//       12  partition_leader_epoch   int32
//       16  magic                    int8     2
//       17  crc                      uint32   CRC-32C of bytes 21…end
//       21  attributes               int16    see RecordBatchAttributes
//       23  last_offset_delta        int32
//       27  base_timestamp           int64
//       35  max_timestamp            int64
//       43  producer_id              int64
//       51  producer_epoch           int16
//       53  base_sequence            int32
//       57  records_count            int32
//       61  records                           (compressed as a whole when the codec ≠ none)
//
// Each record: length varint (of the rest), attributes int8 (unused), timestamp_delta varlong,
// offset_delta varint, key (varint length, -1 = null, bytes), value (same), header count varint,
// then per header: key (varint length, UTF-8), value (varint length, -1 = null, bytes).

/// A record batch v2 read from a buffer: its header, and its records decoded on demand.
///
/// The batch keeps a reference to the buffer it was read from (no copy). `records(decompress:)`
/// hands out a `RecordReader` that decodes one record at a time; keys and values are slices of
/// that buffer (or of the decompressed records, for compressed batches).
public struct RecordBatch: Sendable {
    /// Bytes before the records: the fixed header.
    public static let headerSize = 61
    /// Smallest valid `batch_length` (a header with no records).
    static let minimumBatchLength: Int32 = 49
    /// Smallest encoded record (every field one byte): a bound on hostile record counts.
    static let minimumRecordSize = 7

    /// `baseOffset`: the offset of the first record.
    public let baseOffset: Int64
    /// Bytes after the `batch_length` field (the batch is `batchLength + 12` bytes).
    public let batchLength: Int32
    /// `partitionLeaderEpoch`: the leader epoch the batch was written in (-1 when unknown).
    public let partitionLeaderEpoch: Int32
    /// `magic`: 2.
    public let magic: Int8
    /// The stored CRC-32C.
    public let crc: UInt32
    /// `attributes`: codec, timestamp type, transactional and control bits.
    public let attributes: RecordBatchAttributes
    /// `lastOffsetDelta`: the last record's offset minus `baseOffset`.
    public let lastOffsetDelta: Int32
    /// First record's timestamp; the delete horizon when `attributes.hasDeleteHorizon`.
    public let baseTimestamp: Int64
    /// `maxTimestamp`: the largest record timestamp (every record's, with log-append time).
    public let maxTimestamp: Int64
    /// -1 unless the producer is idempotent or transactional.
    public let producerId: Int64
    /// `producerEpoch`: -1 unless the producer is idempotent or transactional.
    public let producerEpoch: Int16
    /// `baseSequence`: the first record's sequence number (-1 unless idempotent).
    public let baseSequence: Int32
    /// Records the header declares (checked against the records when they are decoded).
    public let recordCount: Int32

    /// The buffer the batch was read from, and where in it.
    let storage: [UInt8]
    /// The whole batch's position in the buffer it was read from.
    public let byteRange: Range<Int>

    /// The batch's bytes (a slice of the buffer it was read from).
    public var bytes: ArraySlice<UInt8> { storage[byteRange] }
    /// The offset of the last record.
    public var lastOffset: Int64 { baseOffset &+ Int64(lastOffsetDelta) }
    /// The offset after this batch (where the next fetch continues).
    public var nextOffset: Int64 { lastOffset &+ 1 }
    /// True for a control batch (transaction markers).
    public var isControl: Bool { attributes.isControl }
    /// True when written in a transaction.
    public var isTransactional: Bool { attributes.isTransactional }
    /// Create time or log-append time.
    public var timestampType: TimestampType { attributes.timestampType }
    /// The delete horizon (KIP-534) when the attribute says `baseTimestamp` holds one.
    public var deleteHorizonMs: Int64? { attributes.hasDeleteHorizon ? baseTimestamp : nil }

    /// Reads one whole batch from `bytes` (which must hold exactly one batch).
    /// - Parameters:
    ///   - bytes: One whole batch.
    ///   - verifyCRC: Check the CRC-32C.
    /// - Throws: `RecordDecodingError` for a malformed header, a size mismatch or a bad CRC.
    public init(_ bytes: [UInt8], verifyCRC: Bool = true) throws(RecordDecodingError) {
        let length = try bytes.withBytes { raw throws(RecordDecodingError) -> Int32 in
            var c = RecordCursor(raw, position: 8, end: raw.count)
            return try c.int32("batch_length")
        }
        guard length >= 0, Int(length) == bytes.count - 12 else {
            throw RecordDecodingError(path: "batch_length", offset: 8, reason: .invalid("batch_length \(length) but \(bytes.count - 12) bytes follow it"))
        }
        try self.init(parsing: bytes, range: 0 ..< bytes.count, verifyCRC: verifyCRC)
    }

    /// Parses the header of the batch occupying `storage[range]` (whose length the caller took
    /// from `batch_length`, and whose magic is 2) and checks its CRC.
    init(parsing storage: [UInt8], range: Range<Int>, verifyCRC: Bool) throws(RecordDecodingError) {
        self.storage = storage
        byteRange = range
        guard range.count >= Self.headerSize else {
            throw RecordDecodingError(path: "batch_length", offset: range.lowerBound + 8, reason: .invalidLength(Int64(range.count - 12)))
        }
        typealias Header = (Int64, Int32, Int32, Int8, UInt32, Int16, Int32, Int64, Int64, Int64, Int16, Int32, Int32, UInt32)
        let h = try storage.withBytes { raw throws(RecordDecodingError) -> Header in
            var c = RecordCursor(raw, position: range.lowerBound, end: range.upperBound)
            let baseOffset = try c.int64("base_offset")
            let batchLength = try c.int32("batch_length")
            let epoch = try c.int32("partition_leader_epoch")
            let magic = Int8(bitPattern: try c.uint8("magic"))
            let crc = UInt32(bitPattern: try c.int32("crc"))
            let attributes = try c.int16("attributes")
            let lastOffsetDelta = try c.int32("last_offset_delta")
            let baseTimestamp = try c.int64("base_timestamp")
            let maxTimestamp = try c.int64("max_timestamp")
            let producerId = try c.int64("producer_id")
            let producerEpoch = try c.int16("producer_epoch")
            let baseSequence = try c.int32("base_sequence")
            let recordCount = try c.int32("records_count")
            let computed = verifyCRC ? CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[range.lowerBound + 21 ..< range.upperBound])) : crc
            return (baseOffset, batchLength, epoch, magic, crc, attributes, lastOffsetDelta, baseTimestamp, maxTimestamp, producerId, producerEpoch, baseSequence, recordCount, computed)
        }
        (baseOffset, batchLength, partitionLeaderEpoch, magic) = (h.0, h.1, h.2, h.3)
        crc = h.4
        attributes = RecordBatchAttributes(rawValue: h.5)
        (lastOffsetDelta, baseTimestamp, maxTimestamp) = (h.6, h.7, h.8)
        (producerId, producerEpoch, baseSequence, recordCount) = (h.9, h.10, h.11, h.12)
        guard magic == 2 else {
            throw RecordDecodingError(path: "magic", offset: range.lowerBound + 16, reason: .unsupportedMagic(magic))
        }
        if h.13 != crc {
            throw RecordDecodingError(path: "crc", offset: range.lowerBound + 17, reason: .crcMismatch(stored: crc, computed: h.13))
        }
        // The base offset lies outside the CRC: whatever it says, every record offset and the
        // next fetch position (`lastOffset + 1`) must be representable, or the arithmetic on
        // them downstream would trap or wrap.
        // (An empty batch — no records appended yet — has last_offset_delta -1.)
        guard lastOffsetDelta >= -1, baseOffset <= Int64.max - 1 - Int64(max(0, lastOffsetDelta)) else {
            throw RecordDecodingError(path: "base_offset", offset: range.lowerBound, reason: .invalid("base_offset \(baseOffset) with last_offset_delta \(lastOffsetDelta) leaves no next offset"))
        }
    }

    /// The CRC-32C of the batch's bytes as they are (compare with `crc`).
    public var computedCRC: UInt32 {
        storage.withUnsafeBytes { CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[byteRange.lowerBound + 21 ..< byteRange.upperBound])) }
    }

    /// A reader over the batch's records. A compressed batch is decompressed here, once, with
    /// `decompress`; without one it fails with `.unsupportedCompression`.
    /// - Parameter decompress: Decompresses the records section; nil fails a compressed batch.
    /// - Returns: A reader over the records.
    /// - Throws: `RecordDecodingError` for a failed decompression or malformed records.
    public func records(decompress: RecordCodecFunction? = nil) throws(RecordDecodingError) -> RecordReader {
        let start = byteRange.lowerBound + Self.headerSize
        guard let compression = attributes.compression else {
            throw RecordDecodingError(path: "attributes", offset: byteRange.lowerBound + 21, reason: .unknownCompressionCodec(attributes.compressionCodec))
        }
        guard recordCount >= 0 else {
            throw RecordDecodingError(path: "records_count", offset: byteRange.lowerBound + 57, reason: .invalidLength(Int64(recordCount)))
        }
        let logAppendTime: Int64? = attributes.timestampType == .logAppendTime ? maxTimestamp : nil
        if compression == .none {
            return try RecordReader(storage: storage, range: start ..< byteRange.upperBound, count: recordCount, baseOffset: baseOffset, lastOffsetDelta: lastOffsetDelta, baseTimestamp: baseTimestamp, logAppendTime: logAppendTime, decompressed: false)
        }
        guard let decompress else {
            throw RecordDecodingError(path: "records", offset: start, reason: .unsupportedCompression(compression))
        }
        let plain: [UInt8]
        do {
            plain = try decompress(compression, Array(storage[start ..< byteRange.upperBound]))
        } catch let e as DecompressionBudgetExhausted {
            throw RecordDecodingError(path: "records", offset: start, reason: .decompressionBudgetExhausted(remaining: e.remaining))
        } catch {
            throw RecordDecodingError(path: "records", offset: start, reason: .decompressionFailed(compression, String(describing: error)))
        }
        return try RecordReader(storage: plain, range: 0 ..< plain.count, count: recordCount, baseOffset: baseOffset, lastOffsetDelta: lastOffsetDelta, baseTimestamp: baseTimestamp, logAppendTime: logAppendTime, decompressed: true)
    }

    /// All the batch's records (see `records(decompress:)`).
    /// - Parameter decompress: Decompresses the records section; nil fails a compressed batch.
    /// - Returns: The records.
    /// - Throws: `RecordDecodingError` for a failed decompression or malformed records.
    public func decodeRecords(decompress: RecordCodecFunction? = nil) throws(RecordDecodingError) -> [Record] {
        var reader = try records(decompress: decompress)
        return try reader.readAll()
    }

    /// The control records of a control batch (empty for other batches).
    /// - Parameter decompress: Decompresses the records section; nil fails a compressed batch.
    /// - Returns: The control records.
    /// - Throws: `RecordDecodingError` for a failed decompression or malformed records.
    public func controlRecords(decompress: RecordCodecFunction? = nil) throws(RecordDecodingError) -> [ControlRecord] {
        guard isControl else { return [] }
        var out: [ControlRecord] = []
        for r in try decodeRecords(decompress: decompress) { out.append(try ControlRecord(r)) }
        return out
    }
}

/// A function that compresses or decompresses a batch's records section with the given codec
/// (KafkaProtocol does not implement codecs; the compression module provides one).
public typealias RecordCodecFunction = (RecordCompression, [UInt8]) throws -> [UInt8]

/// Decodes the records of one batch, one at a time, from the batch's (decompressed) records
/// section. Checks every length against the record it is in, every record against the section,
/// and the count against the header; never traps.
public struct RecordReader: Sendable {
    let storage: [UInt8]
    var position: Int
    let end: Int
    /// Records not yet read.
    public private(set) var remaining: Int
    let baseOffset: Int64
    /// Record offset deltas must lie in 0...lastOffsetDelta (the batch header checked that
    /// baseOffset + lastOffsetDelta + 1 is representable), so record offsets never wrap.
    let lastOffsetDelta: Int32
    let baseTimestamp: Int64
    let logAppendTime: Int64?
    let decompressed: Bool
    var index = 0

    init(storage: [UInt8], range: Range<Int>, count: Int32, baseOffset: Int64, lastOffsetDelta: Int32, baseTimestamp: Int64, logAppendTime: Int64?, decompressed: Bool) throws(RecordDecodingError) {
        // Every record takes at least 7 bytes: a larger count is a lie (and must not size an
        // allocation).
        guard Int(count) <= range.count / RecordBatch.minimumRecordSize else {
            throw RecordDecodingError(path: "records_count", offset: range.lowerBound, reason: .invalid("\(count) records cannot fit in \(range.count) bytes"))
        }
        self.storage = storage
        position = range.lowerBound
        end = range.upperBound
        remaining = Int(count)
        self.baseOffset = baseOffset
        self.lastOffsetDelta = lastOffsetDelta
        self.baseTimestamp = baseTimestamp
        self.logAppendTime = logAppendTime
        self.decompressed = decompressed
    }

    /// The next record, or nil after the last one (then the section must be used up exactly).
    /// - Throws: `RecordDecodingError` for a malformed record or a count that does not match the header.
    public mutating func next() throws(RecordDecodingError) -> Record? {
        if remaining == 0 {
            if position != end {
                let extra = end - position
                position = end
                throw prefixed(RecordDecodingError(path: "records", offset: end - extra, reason: .trailingBytes(extra)))
            }
            return nil
        }
        // Results leave the closure through captured locals rather than a generic return
        // value: measurably fewer copies (retains) of the record on this per-record path.
        let storage = self.storage
        let (start, end, baseOffset, lastOffsetDelta, baseTimestamp, logAppendTime) = (position, self.end, self.baseOffset, self.lastOffsetDelta, self.baseTimestamp, self.logAppendTime)
        var record: Record?
        var failure: RecordDecodingError?
        var next = start
        storage.withUnsafeBytes { raw in
            var c = RecordCursor(raw, position: start, end: end)
            do throws(RecordDecodingError) {
                record = try Self.decodeRecord(&c, storage: storage, baseOffset: baseOffset, lastOffsetDelta: lastOffsetDelta, baseTimestamp: baseTimestamp, logAppendTime: logAppendTime).record(storage)
                next = c.position
            } catch {
                failure = error
            }
        }
        if let failure { throw prefixed(failure.prefixed("records[\(index)]")) }
        position = next
        remaining -= 1
        index += 1
        return record
    }

    /// Records decoded into a buffer reserved up front; beyond that the array grows as records
    /// really decode. A hostile count (bounded only by section size / 7 bytes) must not reserve
    /// ~11 bytes of `Record` per wire byte before a single record proved to exist.
    static let maxReservedRecords = 16_384

    /// Every record left.
    /// - Returns: The records not read yet.
    /// - Throws: `RecordDecodingError` for a malformed record or a count that does not match the header.
    public mutating func readAll() throws(RecordDecodingError) -> [Record] {
        if remaining > Self.maxReservedRecords {
            // Rare (a normal 1 MB batch holds ~10 k records): the fast path for the first
            // chunk, then one record at a time with geometric growth.
            var out = try readChunk(Self.maxReservedRecords)
            while let r = try next() { out.append(r) }
            return out
        }
        let out = try readChunk(remaining)
        _ = try next() // nil, or the trailing-bytes error
        return out
    }

    /// The next `count` (≤ remaining) records, built in place.
    private mutating func readChunk(_ count: Int) throws(RecordDecodingError) -> [Record] {
        let storage = self.storage
        let (start, end, baseOffset, lastOffsetDelta, baseTimestamp, logAppendTime) = (position, self.end, self.baseOffset, self.lastOffsetDelta, self.baseTimestamp, self.logAppendTime)
        var failure: RecordDecodingError?
        var consumed = start
        // Records are built in place in the array's storage (`append` cost an extra copy of each
        // record, i.e. two more retain/release pairs). `count` was bounded by the section size.
        let out = storage.withUnsafeBytes { raw in
            [Record](unsafeUninitializedCapacity: count) { buffer, initialized in
                var c = RecordCursor(raw, position: start, end: end)
                do throws(RecordDecodingError) {
                    while initialized < count {
                        let r = try Self.decodeRecord(&c, storage: storage, baseOffset: baseOffset, lastOffsetDelta: lastOffsetDelta, baseTimestamp: baseTimestamp, logAppendTime: logAppendTime)
                        (buffer.baseAddress! + initialized).initialize(to: r.record(storage))
                        initialized += 1
                    }
                    consumed = c.position
                } catch {
                    failure = error
                }
            }
        }
        if let failure { throw prefixed(failure.prefixed("records[\(index + out.count)]")) }
        position = consumed
        index += out.count
        remaining -= out.count
        return out
    }

    private func prefixed(_ e: RecordDecodingError) -> RecordDecodingError {
        let batch = "batch(base_offset \(baseOffset))"
        return e.prefixed(decompressed ? batch + ".decompressed" : batch)
    }

    /// Decodes the record at the cursor.
    @inline(__always)
    static func decodeRecord(_ c: inout RecordCursor, storage: [UInt8], baseOffset: Int64, lastOffsetDelta: Int32, baseTimestamp: Int64, logAppendTime: Int64?) throws(RecordDecodingError) -> RawRecord {
        let lengthAt = c.position
        let length = try c.varint("length")
        guard length >= 0, Int(length) <= c.remaining else {
            throw RecordDecodingError(path: "length", offset: lengthAt, reason: .invalidLength(Int64(length)))
        }
        let recordEnd = c.position + Int(length)
        var r = RecordCursor(base: c.base, position: c.position, end: recordEnd)
        _ = try r.uint8("attributes")
        let timestampDelta = try r.varlong("timestamp_delta")
        let offsetDeltaAt = r.position
        let offsetDelta = try r.varint("offset_delta")
        guard offsetDelta >= 0, offsetDelta <= lastOffsetDelta else {
            throw RecordDecodingError(path: "offset_delta", offset: offsetDeltaAt, reason: .invalid("offset_delta \(offsetDelta) outside 0...\(lastOffsetDelta) (last_offset_delta)"))
        }
        let key = try r.varintBytes("key", nullable: true)
        let value = try r.varintBytes("value", nullable: true)
        let headerCountAt = r.position
        let headerCount = try r.varint("headers")
        // Each header takes at least 2 bytes (two one-byte lengths).
        guard headerCount >= 0, Int(headerCount) <= r.remaining / 2 else {
            throw RecordDecodingError(path: "headers", offset: headerCountAt, reason: .invalidLength(Int64(headerCount)))
        }
        var headers: [RecordHeader] = []
        if headerCount > 0 {
            headers.reserveCapacity(Int(headerCount))
            for i in 0 ..< Int(headerCount) {
                do throws(RecordDecodingError) {
                    // Non-nullable: a null header key is invalid.
                    let k = try r.varintBytes("key", nullable: false)!
                    let name = try r.utf8(k, "key")
                    let v = try r.varintBytes("value", nullable: true)
                    headers.append(RecordHeader(key: name, value: v.map { storage[$0] }))
                } catch {
                    throw error.prefixed("headers[\(i)]")
                }
            }
        }
        guard r.position == recordEnd else {
            throw RecordDecodingError(path: "length", offset: lengthAt, reason: .invalid("record length \(length) but its fields took \(r.position - (recordEnd - Int(length))) bytes"))
        }
        c.position = recordEnd
        return RawRecord(
            offset: baseOffset &+ Int64(offsetDelta),
            timestamp: logAppendTime ?? (baseTimestamp &+ timestampDelta),
            key: key, value: value, headers: headers
        )
    }
}

/// A decoded record before its key and value become slices (built at the call site: returning
/// a finished `Record` through the typed-throws path cost an extra copy, i.e. retains).
struct RawRecord {
    var offset: Int64
    var timestamp: Int64
    var key: Range<Int>?
    var value: Range<Int>?
    var headers: [RecordHeader]

    @inline(__always)
    func record(_ storage: [UInt8]) -> Record {
        Record(storage: storage, offset: offset, timestamp: timestamp, key: key, value: value, headers: headers)
    }
}
