/// `ProtocolCoder` that writes values to bytes.
public struct WireEncoder: ProtocolCoder {
    /// Where the bytes go.
    public var writer: ByteWriter
    /// The version being encoded (for error messages only; -1 when unknown).
    public var version: Int16 = -1
    /// Known tagged fields collected by `tag` while a `taggedFields` section is being written.
    private var pendingTags: [TaggedField] = []

    /// An encoder appending to `writer`.
    /// - Parameter writer: Where to write.
    public init(writer: ByteWriter = ByteWriter()) {
        self.writer = writer
    }

    public var isDecoding: Bool { false }

    public mutating func bool(_ v: inout Bool, _ name: StaticString) throws { writer.writeBool(v) }
    public mutating func int8(_ v: inout Int8, _ name: StaticString) throws { writer.writeInt8(v) }
    public mutating func int16(_ v: inout Int16, _ name: StaticString) throws { writer.writeInt16(v) }
    public mutating func uint16(_ v: inout UInt16, _ name: StaticString) throws { writer.writeUInt16(v) }
    public mutating func int32(_ v: inout Int32, _ name: StaticString) throws { writer.writeInt32(v) }
    public mutating func uint32(_ v: inout UInt32, _ name: StaticString) throws { writer.writeUInt32(v) }
    public mutating func int64(_ v: inout Int64, _ name: StaticString) throws { writer.writeInt64(v) }
    public mutating func float64(_ v: inout Double, _ name: StaticString) throws { writer.writeFloat64(v) }
    public mutating func uuid(_ v: inout KafkaUUID, _ name: StaticString) throws { writer.writeUUID(v) }

    private mutating func writeLength(_ n: Int, compact: Bool, classicInt16: Bool, _ name: StaticString) throws {
        if compact {
            guard n < Int(UInt32.max) else { throw ProtocolEncodingError(field: name.description, reason: .tooLong(n)) }
            writer.writeUnsignedVarint(UInt32(n + 1))
        } else if classicInt16 {
            guard n <= Int(Int16.max) else { throw ProtocolEncodingError(field: name.description, reason: .tooLong(n)) }
            writer.writeInt16(Int16(n))
        } else {
            guard n <= Int(Int32.max) else { throw ProtocolEncodingError(field: name.description, reason: .tooLong(n)) }
            writer.writeInt32(Int32(n))
        }
    }

    private mutating func writeNull(compact: Bool, classicInt16: Bool) {
        if compact { writer.writeUnsignedVarint(0) } else if classicInt16 { writer.writeInt16(-1) } else { writer.writeInt32(-1) }
    }

    public mutating func string(_ v: inout String, _ name: StaticString, compact: Bool) throws {
        var s = v
        try s.withUTF8 { utf8 in
            try writeLength(utf8.count, compact: compact, classicInt16: true, name)
            writer.writeBytes(UnsafeRawBufferPointer(utf8))
        }
    }

    public mutating func nullableString(_ v: inout String?, _ name: StaticString, compact: Bool, nullable: Bool) throws {
        guard var s = v else {
            guard nullable else { throw ProtocolEncodingError(field: name.description, reason: .nullNotAllowed(version)) }
            writeNull(compact: compact, classicInt16: true)
            return
        }
        try string(&s, name, compact: compact)
    }

    public mutating func bytes(_ v: inout [UInt8], _ name: StaticString, compact: Bool) throws {
        try writeLength(v.count, compact: compact, classicInt16: false, name)
        writer.writeBytes(v)
    }

    public mutating func nullableBytes(_ v: inout [UInt8]?, _ name: StaticString, compact: Bool, nullable: Bool) throws {
        guard var b = v else {
            guard nullable else { throw ProtocolEncodingError(field: name.description, reason: .nullNotAllowed(version)) }
            writeNull(compact: compact, classicInt16: false)
            return
        }
        try bytes(&b, name, compact: compact)
    }

    public mutating func array<T: DefaultConstructible>(
        _ v: inout [T], _ name: StaticString, compact: Bool, _ element: (inout WireEncoder, inout T) throws -> Void
    ) throws {
        try writeLength(v.count, compact: compact, classicInt16: false, name)
        for i in v.indices { try element(&self, &v[i]) }
    }

    public mutating func nullableArray<T: DefaultConstructible>(
        _ v: inout [T]?, _ name: StaticString, compact: Bool, nullable: Bool, _ element: (inout WireEncoder, inout T) throws -> Void
    ) throws {
        guard v != nil else {
            guard nullable else { throw ProtocolEncodingError(field: name.description, reason: .nullNotAllowed(version)) }
            writeNull(compact: compact, classicInt16: false)
            return
        }
        try array(&v!, name, compact: compact, element)
    }

    public mutating func nested<T>(_ v: inout T, _ name: StaticString, _ body: (inout WireEncoder, inout T) throws -> Void) throws {
        try body(&self, &v)
    }

    public mutating func taggedFields(_ unknown: inout [TaggedField], known: (inout WireEncoder) throws -> Void) throws {
        let outer = pendingTags
        pendingTags = []
        defer { pendingTags = outer }
        try known(&self)
        var all = pendingTags + unknown
        // Stable: a known and an unknown field never share a tag, so order is by tag alone.
        all.sort { $0.tag < $1.tag }
        writer.writeUnsignedVarint(UInt32(all.count))
        for field in all {
            writer.writeUnsignedVarint(field.tag)
            writer.writeUnsignedVarint(UInt32(field.data.count))
            writer.writeBytes(field.data)
        }
    }

    public mutating func tag<T: DefaultConstructible>(_ tag: UInt32, _ v: inout T?, _ name: StaticString, _ body: (inout WireEncoder, inout T) throws -> Void) throws {
        guard var value = v else { return }
        var sub = WireEncoder()
        sub.version = version
        try body(&sub, &value)
        pendingTags.append(TaggedField(tag: tag, data: sub.writer.take()))
    }

    public mutating func absent<T: Equatable>(_ v: inout T, _ name: StaticString, default d: T, ignorable: Bool) throws {
        if v != d && !ignorable {
            throw ProtocolEncodingError(field: name.description, reason: .unsupportedAtVersion(version))
        }
    }
}
