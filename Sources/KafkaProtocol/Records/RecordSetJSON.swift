/// JSON for the record batches inside a `records` field (`kwire decode --records`).
public enum RecordSetJSON {
    /// What `describe` found.
    public struct Description: Sendable {
        /// One object per entry (batch or legacy message), in order.
        public var entries: [JSONValue]
        /// Bytes of a partial trailing entry (0 when none).
        public var partialBytes: Int
        /// Errors met (each also appears as an entry's `"error"`), e.g. a CRC mismatch or an
        /// unsupported compression.
        public var errors: [RecordDecodingError]
    }

    /// Describes every entry of `records`: header fields, then `"records"` (offset, timestamp,
    /// key, value, headers) or `"error"` when its records cannot be decoded. Keys, values and
    /// header values are shown as a string when they are valid UTF-8, else as `{"hex": "…"}`.
    /// - Parameters:
    ///   - records: A record set.
    ///   - decompress: Decompresses compressed entries; nil reports them as errors.
    /// - Returns: The entries, the partial tail's size and the errors met.
    public static func describe(_ records: [UInt8], decompress: RecordCodecFunction? = nil) -> Description {
        var out = Description(entries: [], partialBytes: 0, errors: [])
        var reader = RecordSetReader(records)
        while true {
            let entry: RecordSetEntry
            do throws(RecordDecodingError) {
                guard let e = try reader.next() else { break }
                entry = e
            } catch {
                out.errors.append(error)
                out.entries.append(.object([("error", .string(error.description))]))
                if reader.isBroken { break }
                continue
            }
            var fields: [(String, JSONValue)]
            switch entry {
            case let .batch(b):
                fields = [
                    ("base_offset", .int(b.baseOffset)), ("batch_length", .int(Int64(b.batchLength))),
                    ("partition_leader_epoch", .int(Int64(b.partitionLeaderEpoch))), ("magic", .int(Int64(b.magic))),
                    ("crc", .string("0x" + hex32(b.crc))), ("attributes", .int(Int64(b.attributes.rawValue))),
                    ("compression", .string(b.attributes.compression.map(\.description) ?? "unknown(\(b.attributes.compressionCodec))")),
                    ("timestamp_type", .string(b.timestampType.description)),
                    ("is_transactional", .bool(b.isTransactional)), ("is_control", .bool(b.isControl)),
                    ("last_offset_delta", .int(Int64(b.lastOffsetDelta))), ("base_timestamp", .int(b.baseTimestamp)),
                    ("max_timestamp", .int(b.maxTimestamp)), ("producer_id", .int(b.producerId)),
                    ("producer_epoch", .int(Int64(b.producerEpoch))), ("base_sequence", .int(Int64(b.baseSequence))),
                    ("records_count", .int(Int64(b.recordCount))),
                ]
            case let .legacy(m):
                fields = [
                    ("offset", .int(m.offset)), ("magic", .int(Int64(m.magic))), ("crc", .string("0x" + hex32(m.crc))),
                    ("attributes", .int(Int64(m.attributes))),
                    ("compression", .string(m.compression.map(\.description) ?? "unknown(\(m.compressionCodec))")),
                ]
                if let t = m.timestamp { fields.append(("timestamp", .int(t))) }
            }
            do throws(RecordDecodingError) {
                let records = try entry.records(decompress: decompress)
                if case let .batch(b) = entry, b.isControl {
                    fields.append(("control_records", .array(try records.map { (r) throws(RecordDecodingError) in try json(ControlRecord(r)) })))
                } else {
                    fields.append(("records", .array(records.map(json))))
                }
            } catch {
                out.errors.append(error)
                fields.append(("error", .string(error.description)))
            }
            out.entries.append(.object(fields))
        }
        out.partialBytes = reader.partialBytes
        return out
    }

    /// `{"offset", "timestamp", "key", "value", "headers": [{"key", "value"}]}`.
    /// - Parameter r: The record.
    /// - Returns: Its JSON object.
    public static func json(_ r: Record) -> JSONValue {
        .object([
            ("offset", .int(r.offset)), ("timestamp", .int(r.timestamp)), ("key", bytes(r.key)), ("value", bytes(r.value)),
            ("headers", .array(r.headers.map { .object([("key", .string($0.key)), ("value", bytes($0.value))]) })),
        ])
    }

    /// `{"offset", "timestamp", "type", "version", "coordinator_epoch"}`.
    /// - Parameter c: The control record.
    /// - Returns: Its JSON object.
    public static func json(_ c: ControlRecord) -> JSONValue {
        .object([
            ("offset", .int(c.offset)), ("timestamp", .int(c.timestamp)), ("type", .string(c.type.description)),
            ("version", .int(Int64(c.version))), ("coordinator_epoch", c.coordinatorEpoch.map { .int(Int64($0)) } ?? .null),
        ])
    }

    /// A UTF-8 string, `{"hex": …}` for other bytes, null for nil.
    static func bytes(_ b: ArraySlice<UInt8>?) -> JSONValue {
        guard let b else { return .null }
        if let s = b.withContiguousStorageIfAvailable({ String(validating: $0, as: UTF8.self) }) ?? nil {
            return .string(s)
        }
        return .object([("hex", .hex(Array(b)))])
    }
}
