/// Builds one record batch v2 by appending records straight into the batch's byte buffer.
///
/// Each `append` computes the record's exact size (so its length prefix is known up front),
/// makes room once and writes varints and bytes through a raw pointer: no per-record objects,
/// no intermediate copies. The 61-byte header is reserved at the start and filled in by `build`,
/// which also computes the CRC (and compresses the records section, when asked, with the given
/// function). The buffer grows by doubling; pass the expected size (e.g. `batch.size`) as
/// `capacity` to avoid growing.
///
/// Offsets deltas are 0, 1, 2, … in append order; the base timestamp is the first record's.
public struct RecordBatchBuilder: Sendable {
    /// The first record's offset (0 for a producer: the broker assigns offsets).
    public var baseOffset: Int64
    /// The partition leader epoch (-1: the broker fills it in).
    public var partitionLeaderEpoch: Int32
    /// -1 unless idempotent/transactional.
    public var producerId: Int64
    /// The producer epoch (-1 unless idempotent/transactional).
    public var producerEpoch: Int16
    /// Sequence number of the first record (-1 when not idempotent).
    public var baseSequence: Int32
    /// Compression, timestamp type, transactional and control bits (set by `init`).
    public private(set) var attributes: RecordBatchAttributes

    /// Records appended so far.
    public private(set) var recordCount: Int32 = 0
    /// The first record's timestamp (-1 before the first append).
    public private(set) var baseTimestamp: Int64 = -1
    /// The largest timestamp appended (-1 before the first append).
    public private(set) var maxTimestamp: Int64 = -1

    /// Header placeholder, then the records; zero-filled beyond `used`.
    private var buffer: [UInt8]
    private var used: Int

    /// An empty batch.
    /// - Parameters:
    ///   - baseOffset: The first record's offset.
    ///   - compression: The codec `build` compresses with.
    ///   - producerId: The producer id, -1 for none.
    ///   - producerEpoch: The producer epoch, -1 for none.
    ///   - baseSequence: The first record's sequence, -1 for none.
    ///   - isTransactional: Written in a transaction.
    ///   - isControl: A control batch (markers only).
    ///   - timestampType: Create time or log-append time.
    ///   - partitionLeaderEpoch: The leader epoch, -1 for unknown.
    ///   - capacity: Bytes to reserve (e.g. `batch.size`).
    public init(
        baseOffset: Int64 = 0, compression: RecordCompression = .none,
        producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1,
        isTransactional: Bool = false, isControl: Bool = false, timestampType: TimestampType = .createTime,
        partitionLeaderEpoch: Int32 = -1, capacity: Int = 16 * 1024
    ) {
        self.baseOffset = baseOffset
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        attributes = RecordBatchAttributes(compression: compression, timestampType: timestampType, isTransactional: isTransactional, isControl: isControl)
        buffer = [UInt8](repeating: 0, count: max(capacity, RecordBatch.headerSize))
        used = RecordBatch.headerSize
    }

    /// Bytes of the batch so far, uncompressed (header included).
    public var sizeInBytes: Int { used }

    /// True when nothing has been appended.
    public var isEmpty: Bool { recordCount == 0 }

    /// The exact bytes `append` would add for this record (length prefix included), to decide
    /// whether it still fits before appending it.
    /// - Parameters:
    ///   - timestamp: The record's timestamp.
    ///   - keyCount: The key's length; nil for null.
    ///   - valueCount: The value's length; nil for null.
    ///   - headers: Its headers.
    /// - Returns: Bytes the record takes.
    public func sizeOfRecord(timestamp: Int64, keyCount: Int?, valueCount: Int?, headers: [RecordHeader] = []) -> Int {
        let delta = recordCount == 0 ? 0 : timestamp &- baseTimestamp
        let body = Self.bodySize(timestampDelta: delta, offsetDelta: recordCount, keyCount: keyCount, valueCount: valueCount, headers: headers)
        return Varint.size(signed: Int64(body)) + body
    }

    /// Appends a record (offset delta = the number of records before it).
    /// - Parameters:
    ///   - timestamp: Milliseconds since the epoch.
    ///   - key: The key; nil for null.
    ///   - value: The value; nil for null.
    ///   - headers: Its headers.
    /// - Throws: `RecordEncodingError.tooLarge` when the batch would outgrow its int32 length.
    public mutating func append(timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = []) throws(RecordEncodingError) {
        let plan = try plan(timestamp: timestamp, keyCount: key?.count, valueCount: value?.count, headers: headers)
        Self.withOptionalBytes(key) { k in
            Self.withOptionalBytes(value) { v in
                write(plan, timestamp: timestamp, key: k, value: v, headers: headers)
            }
        }
    }

    /// Appends `record`'s timestamp, key, value and headers (its offset is not used: the offset
    /// delta is the number of records before it).
    /// - Parameter record: The record to copy in.
    /// - Throws: `RecordEncodingError.tooLarge` when the batch would outgrow its int32 length.
    public mutating func append(_ record: Record) throws(RecordEncodingError) {
        let plan = try plan(timestamp: record.timestamp, keyCount: record.key?.count, valueCount: record.value?.count, headers: record.headers)
        record.withKeyAndValue { k, v in
            write(plan, timestamp: record.timestamp, key: k, value: v, headers: record.headers)
        }
    }

    /// Appends an end-transaction marker (for control batches: build with `isControl: true`).
    /// - Parameters:
    ///   - type: Abort or commit.
    ///   - coordinatorEpoch: The transaction coordinator's epoch.
    ///   - timestamp: The marker's timestamp.
    /// - Throws: `RecordEncodingError.tooLarge` when the batch would outgrow its int32 length.
    public mutating func appendControl(type: ControlRecordType, coordinatorEpoch: Int32, timestamp: Int64) throws(RecordEncodingError) {
        try append(timestamp: timestamp, key: ControlRecord.key(type: type), value: ControlRecord.endTransactionMarkerValue(coordinatorEpoch: coordinatorEpoch))
    }

    /// The finished batch: header filled in, records compressed with `compress` when the
    /// attributes ask for a codec (without one: `.unsupportedCompression`), CRC computed.
    /// An empty builder gives a batch with no records, last offset delta -1 and timestamps -1.
    /// - Parameter compress: Compresses the records section; nil fails a batch that asks for a codec.
    /// - Returns: The batch's bytes.
    /// - Throws: `RecordEncodingError` when compression is missing or fails.
    public consuming func build(compress: RecordCodecFunction? = nil) throws(RecordEncodingError) -> [UInt8] {
        var out = buffer
        buffer = []
        out.removeSubrange(used...)
        let codec = attributes.compression ?? .none
        if codec != .none {
            guard let compress else { throw RecordEncodingError(reason: .unsupportedCompression(codec)) }
            let compressed: [UInt8]
            do {
                compressed = try compress(codec, Array(out[RecordBatch.headerSize...]))
            } catch {
                throw RecordEncodingError(reason: .compressionFailed(codec, String(describing: error)))
            }
            out.removeSubrange(RecordBatch.headerSize...)
            out.append(contentsOf: compressed)
        }
        guard out.count - 12 <= Int(Int32.max) else { throw RecordEncodingError(reason: .tooLarge(out.count)) }
        let batchLength = Int32(out.count - 12)
        out.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress!
            p.storeBytes(of: baseOffset.bigEndian, toByteOffset: 0, as: Int64.self)
            p.storeBytes(of: batchLength.bigEndian, toByteOffset: 8, as: Int32.self)
            p.storeBytes(of: partitionLeaderEpoch.bigEndian, toByteOffset: 12, as: Int32.self)
            p.storeBytes(of: 2, toByteOffset: 16, as: UInt8.self)
            p.storeBytes(of: attributes.rawValue.bigEndian, toByteOffset: 21, as: Int16.self)
            p.storeBytes(of: (recordCount - 1).bigEndian, toByteOffset: 23, as: Int32.self)
            p.storeBytes(of: baseTimestamp.bigEndian, toByteOffset: 27, as: Int64.self)
            p.storeBytes(of: maxTimestamp.bigEndian, toByteOffset: 35, as: Int64.self)
            p.storeBytes(of: producerId.bigEndian, toByteOffset: 43, as: Int64.self)
            p.storeBytes(of: producerEpoch.bigEndian, toByteOffset: 51, as: Int16.self)
            p.storeBytes(of: baseSequence.bigEndian, toByteOffset: 53, as: Int32.self)
            p.storeBytes(of: recordCount.bigEndian, toByteOffset: 57, as: Int32.self)
            let crc = CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[21...]))
            p.storeBytes(of: crc.bigEndian, toByteOffset: 17, as: UInt32.self)
        }
        return out
    }

    // MARK: Writing

    /// Size of a record after its length prefix.
    @inline(__always)
    static func bodySize(timestampDelta: Int64, offsetDelta: Int32, keyCount: Int?, valueCount: Int?, headers: [RecordHeader]) -> Int {
        var n = 1 // attributes
        n &+= Varint.size(signed: timestampDelta)
        n &+= Varint.size(signed: offsetDelta)
        n &+= bytesSize(keyCount)
        n &+= bytesSize(valueCount)
        n &+= Varint.size(signed: Int64(headers.count))
        for h in headers {
            n &+= bytesSize(h.key.utf8.count)
            n &+= bytesSize(h.value?.count)
        }
        return n
    }

    /// Size of varint-length-prefixed bytes (-1 for nil).
    @inline(__always)
    static func bytesSize(_ count: Int?) -> Int {
        guard let count else { return 1 }
        return Varint.size(signed: Int64(count)) &+ count
    }

    @inline(__always)
    static func withOptionalBytes(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> Void) {
        if let bytes { bytes.withUnsafeBytes { body($0) } } else { body(nil) }
    }

    /// What appending a record takes: its timestamp delta, body size and total size.
    struct Plan {
        var timestampDelta: Int64
        var body: Int
        var total: Int
    }

    /// Sizes the record and checks it fits the format's limits (before anything is written).
    @inline(__always)
    private func plan(timestamp: Int64, keyCount: Int?, valueCount: Int?, headers: [RecordHeader]) throws(RecordEncodingError) -> Plan {
        let timestampDelta = recordCount == 0 ? 0 : timestamp &- baseTimestamp
        let body = Self.bodySize(timestampDelta: timestampDelta, offsetDelta: recordCount, keyCount: keyCount, valueCount: valueCount, headers: headers)
        let total = Varint.size(signed: Int64(body)) &+ body
        // A record's length is an int32 varint, and the batch's length an int32.
        guard body <= Int(Int32.max), used <= Int(Int32.max) - total else {
            throw RecordEncodingError(reason: .tooLarge(used + total))
        }
        return Plan(timestampDelta: timestampDelta, body: body, total: total)
    }

    /// Writes a planned record at the end of the buffer.
    @inline(__always)
    private mutating func write(_ plan: Plan, timestamp: Int64, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, headers: [RecordHeader]) {
        if used + plan.total > buffer.count {
            buffer.append(contentsOf: [UInt8](repeating: 0, count: max(buffer.count, used + plan.total - buffer.count)))
        }
        let start = used
        let offsetDelta = recordCount
        buffer.withUnsafeMutableBytes { raw in
            var p = raw.baseAddress! + start
            Varint.put(signed: Int32(plan.body), &p)
            p.storeBytes(of: 0, as: UInt8.self) // attributes
            p += 1
            Varint.put(signed: plan.timestampDelta, &p)
            Varint.put(signed: offsetDelta, &p)
            Self.putBytes(key, &p)
            Self.putBytes(value, &p)
            Varint.put(signed: Int64(headers.count), &p)
            for h in headers {
                var name = h.key
                name.withUTF8 { Self.putBytes(UnsafeRawBufferPointer($0), &p) }
                if let v = h.value {
                    v.withUnsafeBytes { Self.putBytes($0, &p) }
                } else {
                    Self.putBytes(nil, &p)
                }
            }
        }
        used = start + plan.total
        if recordCount == 0 {
            baseTimestamp = timestamp
            maxTimestamp = timestamp
        } else if timestamp > maxTimestamp {
            maxTimestamp = timestamp
        }
        recordCount += 1
    }

    /// Writes a varint length (-1 for nil) and the bytes.
    @inline(__always)
    static func putBytes(_ bytes: UnsafeRawBufferPointer?, _ p: inout UnsafeMutableRawPointer) {
        guard let bytes else {
            Varint.put(signed: Int32(-1), &p)
            return
        }
        Varint.put(signed: Int64(bytes.count), &p)
        if let src = bytes.baseAddress, bytes.count > 0 {
            p.copyMemory(from: src, byteCount: bytes.count)
            p += bytes.count
        }
    }
}
