/// `ProtocolCoder` that fills values from bytes.
public struct WireDecoder: ProtocolCoder {
    /// Where the bytes come from.
    public var reader: ByteReader
    /// Tagged fields read by `taggedFields` and not yet claimed by a `tag` call.
    private var pendingTags: [(tag: UInt32, reader: ByteReader)] = []

    /// A decoder reading from `reader`.
    /// - Parameter reader: The bytes to decode.
    public init(reader: ByteReader) {
        self.reader = reader
    }

    public var isDecoding: Bool { true }

    public mutating func bool(_ v: inout Bool, _ name: StaticString) throws { v = try reader.readBool(name) }
    public mutating func int8(_ v: inout Int8, _ name: StaticString) throws { v = try reader.readInt8(name) }
    public mutating func int16(_ v: inout Int16, _ name: StaticString) throws { v = try reader.readInt16(name) }
    public mutating func uint16(_ v: inout UInt16, _ name: StaticString) throws { v = try reader.readUInt16(name) }
    public mutating func int32(_ v: inout Int32, _ name: StaticString) throws { v = try reader.readInt32(name) }
    public mutating func uint32(_ v: inout UInt32, _ name: StaticString) throws { v = try reader.readUInt32(name) }
    public mutating func int64(_ v: inout Int64, _ name: StaticString) throws { v = try reader.readInt64(name) }
    public mutating func float64(_ v: inout Double, _ name: StaticString) throws { v = try reader.readFloat64(name) }
    public mutating func uuid(_ v: inout KafkaUUID, _ name: StaticString) throws { v = try reader.readUUID(name) }

    public mutating func string(_ v: inout String, _ name: StaticString, compact: Bool) throws {
        guard let n = try reader.readLength(compact ? .compact : .int16, nullable: false, field: name) else { return }
        v = try reader.readUTF8(count: n, name)
    }

    public mutating func nullableString(_ v: inout String?, _ name: StaticString, compact: Bool, nullable: Bool) throws {
        guard let n = try reader.readLength(compact ? .compact : .int16, nullable: nullable, field: name) else {
            v = nil
            return
        }
        v = try reader.readUTF8(count: n, name)
    }

    public mutating func bytes(_ v: inout [UInt8], _ name: StaticString, compact: Bool) throws {
        guard let n = try reader.readLength(compact ? .compact : .int32, nullable: false, field: name) else { return }
        v = try reader.readBytes(count: n, name)
    }

    public mutating func nullableBytes(_ v: inout [UInt8]?, _ name: StaticString, compact: Bool, nullable: Bool) throws {
        guard let n = try reader.readLength(compact ? .compact : .int32, nullable: nullable, field: name) else {
            v = nil
            return
        }
        v = try reader.readBytes(count: n, name)
    }

    private mutating func elements<T: DefaultConstructible>(
        count: Int, _ name: StaticString, _ element: (inout WireDecoder, inout T) throws -> Void
    ) throws -> [T] {
        var result: [T] = []
        // `count` was checked against the bytes left, but an element may be far larger in memory
        // than its one-byte minimum on the wire (a 100-byte struct × a 1 MB count = 100 MB), so
        // only a bounded reservation is made up front; the array grows as elements decode.
        result.reserveCapacity(Swift.min(count, Self.maxReservedElements(T.self)))
        for i in 0 ..< count {
            var e = T()
            do {
                try element(&self, &e)
            } catch let error as ProtocolDecodingError {
                throw error.prefixed("\(name)[\(i)]")
            }
            result.append(e)
        }
        return result
    }

    /// Elements reserved before decoding: at most 64 KiB of them (at least 16).
    static func maxReservedElements<T>(_: T.Type) -> Int {
        Swift.max(16, 65536 / Swift.max(1, MemoryLayout<T>.stride))
    }

    public mutating func array<T: DefaultConstructible>(
        _ v: inout [T], _ name: StaticString, compact: Bool, _ element: (inout WireDecoder, inout T) throws -> Void
    ) throws {
        guard let n = try reader.readLength(compact ? .compact : .int32, nullable: false, field: name) else { return }
        v = try elements(count: n, name, element)
    }

    public mutating func nullableArray<T: DefaultConstructible>(
        _ v: inout [T]?, _ name: StaticString, compact: Bool, nullable: Bool, _ element: (inout WireDecoder, inout T) throws -> Void
    ) throws {
        guard let n = try reader.readLength(compact ? .compact : .int32, nullable: nullable, field: name) else {
            v = nil
            return
        }
        v = try elements(count: n, name, element)
    }

    public mutating func nested<T>(_ v: inout T, _ name: StaticString, _ body: (inout WireDecoder, inout T) throws -> Void) throws {
        do {
            try body(&self, &v)
        } catch let error as ProtocolDecodingError {
            throw error.prefixed(name.description)
        }
    }

    public mutating func taggedFields(_ unknown: inout [TaggedField], known: (inout WireDecoder) throws -> Void) throws {
        let countAt = reader.offset
        let count = try reader.readUnsignedVarint("_tagged_fields")
        // Each tagged field takes at least two bytes (tag and size), which bounds the count.
        guard Int(count) <= reader.remaining / 2 else {
            throw ProtocolDecodingError(path: "_tagged_fields", offset: countAt, reason: .invalidLength(Int64(count)))
        }
        let outer = pendingTags
        defer { pendingTags = outer }
        pendingTags = []
        pendingTags.reserveCapacity(min(Int(count), 64))
        var previous: UInt32?
        for _ in 0 ..< count {
            let tagAt = reader.offset
            let tag = try reader.readUnsignedVarint("_tagged_fields.tag")
            // The spec (KIP-482) writes tags in strictly ascending order. Checking that against
            // the previous tag alone keeps decoding linear: a search of the tags seen so far made
            // 250 k tiny tagged fields (1 MB, reachable before authentication) take seconds. It
            // also rejects a repeated tag, which could not be re-encoded faithfully.
            if let previous, tag <= previous {
                let why = tag == previous ? "tag \(tag) appears twice" : "tag \(tag) follows tag \(previous) (tags must ascend)"
                throw ProtocolDecodingError(path: "_tagged_fields.tag", offset: tagAt, reason: .invalid(why))
            }
            previous = tag
            let size = try reader.readUnsignedVarint("_tagged_fields.size")
            guard Int(size) <= reader.remaining else {
                throw ProtocolDecodingError(path: "_tagged_fields.size", offset: reader.offset, reason: .invalidLength(Int64(size)))
            }
            pendingTags.append((tag, try reader.sub(count: Int(size), "_tagged_fields.data")))
        }
        try known(&self)
        unknown = pendingTags.map { TaggedField(tag: $0.tag, data: $0.reader.rest()) }
    }

    public mutating func tag<T: DefaultConstructible>(_ tag: UInt32, _ v: inout T?, _ name: StaticString, _ body: (inout WireDecoder, inout T) throws -> Void) throws {
        guard let index = pendingTags.firstIndex(where: { $0.tag == tag }) else { return }
        var sub = WireDecoder(reader: pendingTags[index].reader)
        pendingTags.remove(at: index)
        var value = v ?? T()
        do {
            try body(&sub, &value)
        } catch let error as ProtocolDecodingError {
            throw error.prefixed(name.description)
        }
        if !sub.reader.isAtEnd {
            throw ProtocolDecodingError(path: name.description, offset: sub.reader.offset, reason: .trailingBytes(sub.reader.remaining))
        }
        v = value
    }

    public mutating func absent<T: Equatable>(_ v: inout T, _ name: StaticString, default d: T, ignorable: Bool) throws {
        v = d
    }
}
