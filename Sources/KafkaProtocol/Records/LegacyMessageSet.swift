// Legacy message sets (magic 0 and 1), decoding only: what a log written before Kafka 0.11
// still holds, and what brokers hand out from it.
//
//   offset        int64
//   message_size  int32    bytes after this field
//   crc           uint32   CRC-32 (IEEE) of magic…end
//   magic         int8     0 or 1
//   attributes    int8     bits 0–2 codec; bit 3 (magic 1) log append time
//   timestamp     int64    magic 1 only
//   key           bytes    int32 length, -1 = null
//   value         bytes    int32 length, -1 = null
//
// A compressed message ("wrapper") carries a whole inner message set, compressed, as its value.
// Inner messages are uncompressed (nesting is invalid). With magic 0 the inner offsets are
// absolute; with magic 1 they are relative (0, 1, …) and the wrapper's offset is that of the last
// inner message (KIP-31), so inner offset i maps to wrapper.offset − last.offset + i.

/// One legacy message (magic 0 or 1) read from a buffer; possibly a compressed wrapper.
public struct LegacyMessage: Sendable {
    /// Smallest `message_size` of magic 0: crc, magic, attributes, two -1 lengths.
    static let minimumSizeV0: Int32 = 14
    static let minimumSizeV1: Int32 = 22

    /// The message's offset: for a magic 1 wrapper, the offset of its last inner message.
    public let offset: Int64
    /// The stored CRC-32 (checked when the message was read).
    public let crc: UInt32
    /// The format: 0 or 1.
    public let magic: Int8
    /// Codec bits 0–2, timestamp type bit 3 (magic 1).
    public let attributes: Int8
    /// Magic 1 only.
    public let timestamp: Int64?
    /// The key (a slice of the buffer), nil when null.
    public let key: ArraySlice<UInt8>?
    /// The value (for a compressed wrapper: the compressed inner messages), nil when null.
    public let value: ArraySlice<UInt8>?
    /// The message's position in the buffer it was read from.
    public let byteRange: Range<Int>
    /// The buffer it was read from.
    let storage: [UInt8]

    /// The raw codec bits (5–7 are unassigned; `compression` is nil for them).
    public var compressionCodec: Int16 { Int16(attributes & 0x7) }
    /// The codec, or nil when the bits hold an unassigned value.
    public var compression: RecordCompression? { RecordCompression(rawValue: compressionCodec) }
    /// Create time, or log-append time (attributes bit 3, magic 1 only).
    public var timestampType: TimestampType { magic >= 1 && attributes & 0x8 != 0 ? .logAppendTime : .createTime }

    /// Parses the message occupying `storage[range]` (length from `message_size`, magic 0 or 1)
    /// and checks its CRC.
    init(parsing storage: [UInt8], range: Range<Int>, verifyCRC: Bool) throws(RecordDecodingError) {
        typealias Fields = (Int64, UInt32, Int8, Int8, Int64?, Range<Int>?, Range<Int>?, UInt32)
        let f = try storage.withBytes { raw throws(RecordDecodingError) -> Fields in
            var c = RecordCursor(raw, position: range.lowerBound, end: range.upperBound)
            let offset = try c.int64("offset")
            _ = try c.int32("message_size")
            let crc = UInt32(bitPattern: try c.int32("crc"))
            let magic = Int8(bitPattern: try c.uint8("magic"))
            let attributes = Int8(bitPattern: try c.uint8("attributes"))
            let timestamp: Int64? = magic >= 1 ? try c.int64("timestamp") : nil
            let key = try c.int32Bytes("key")
            let value = try c.int32Bytes("value")
            if c.position != range.upperBound {
                throw RecordDecodingError(path: "value", offset: c.position, reason: .trailingBytes(range.upperBound - c.position))
            }
            let computed = verifyCRC ? CRC32.update(0, UnsafeRawBufferPointer(rebasing: raw[range.lowerBound + 16 ..< range.upperBound])) : crc
            return (offset, crc, magic, attributes, timestamp, key, value, computed)
        }
        // `offset + 1` is the next fetch position: an offset of Int64.max (outside the CRC, so
        // any middlebox can write it) would make that arithmetic trap downstream.
        guard f.0 < Int64.max else {
            throw RecordDecodingError(path: "offset", offset: range.lowerBound, reason: .invalid("offset \(f.0) leaves no next offset"))
        }
        offset = f.0
        crc = f.1
        magic = f.2
        attributes = f.3
        timestamp = f.4
        key = f.5.map { storage[$0] }
        value = f.6.map { storage[$0] }
        byteRange = range
        self.storage = storage
        if f.7 != crc {
            throw RecordDecodingError(path: "crc", offset: range.lowerBound + 12, reason: .crcMismatch(stored: crc, computed: f.7))
        }
    }

    /// The records this message holds: itself, or for a compressed wrapper the inner messages
    /// (decompressed with `decompress`; without one, `.unsupportedCompression`).
    /// - Parameter decompress: Decompresses a wrapper's value; nil fails compressed ones.
    /// - Returns: The records, with absolute offsets.
    /// - Throws: `RecordDecodingError` for malformed inner messages or a failed decompression.
    public func records(decompress: RecordCodecFunction? = nil) throws(RecordDecodingError) -> [Record] {
        guard let compression else {
            throw RecordDecodingError(path: "attributes", offset: byteRange.lowerBound + 17, reason: .unknownCompressionCodec(compressionCodec))
        }
        if compression == .none {
            return [Record(sharing: key, value, in: storage, offset: offset, timestamp: timestamp ?? -1)]
        }
        guard let decompress else {
            throw RecordDecodingError(path: "value", offset: byteRange.lowerBound, reason: .unsupportedCompression(compression))
        }
        guard let value else {
            throw RecordDecodingError(path: "value", offset: byteRange.lowerBound, reason: .invalid("a compressed message has a null value"))
        }
        let inner: [UInt8]
        do {
            inner = try decompress(compression, Array(value))
        } catch let e as DecompressionBudgetExhausted {
            throw RecordDecodingError(path: "value", offset: value.startIndex, reason: .decompressionBudgetExhausted(remaining: e.remaining))
        } catch {
            throw RecordDecodingError(path: "value", offset: value.startIndex, reason: .decompressionFailed(compression, String(describing: error)))
        }
        let path = "message(offset \(offset)).decompressed"
        var messages: [LegacyMessage] = []
        var reader = RecordSetReader(inner)
        do throws(RecordDecodingError) {
            while let entry = try reader.next() {
                guard case let .legacy(m) = entry else {
                    throw RecordDecodingError(path: "magic", offset: 0, reason: .invalid("a record batch v2 inside a legacy compressed message"))
                }
                guard m.compressionCodec == 0 else {
                    throw RecordDecodingError(path: "attributes", offset: m.byteRange.lowerBound + 17, reason: .invalid("nested compressed message"))
                }
                messages.append(m)
            }
        } catch {
            throw error.prefixed(path)
        }
        if reader.completeBytes != inner.count {
            throw RecordDecodingError(path: path, offset: reader.completeBytes, reason: .truncated(needed: inner.count - reader.completeBytes + 1, remaining: inner.count - reader.completeBytes))
        }
        guard let last = messages.last else { return [] }
        // Magic 1: relative inner offsets, the wrapper carries the last one's absolute offset.
        let (shift, shiftOverflow): (Int64, Bool) = magic >= 1 ? offset.subtractingReportingOverflow(last.offset) : (0, false)
        let appendTime: Int64? = timestampType == .logAppendTime ? timestamp : nil
        var out: [Record] = []
        out.reserveCapacity(messages.count)
        for m in messages {
            // Hostile relative offsets must not wrap into a bogus absolute offset (or Int64.max,
            // which has no next offset).
            let (absolute, overflow) = m.offset.addingReportingOverflow(shift)
            guard !shiftOverflow, !overflow, absolute < Int64.max else {
                throw RecordDecodingError(path: path + ".offset", offset: m.byteRange.lowerBound, reason: .invalid("inner offset \(m.offset) with wrapper offset \(offset) is out of range"))
            }
            out.append(Record(sharing: m.key, m.value, in: inner, offset: absolute, timestamp: appendTime ?? m.timestamp ?? -1))
        }
        return out
    }
}
