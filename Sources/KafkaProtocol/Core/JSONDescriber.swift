/// `ProtocolCoder` that describes a value as JSON, with the schema's snake_case field names and
/// only the fields that exist at the version being described. Used by `kwire decode`.
public struct JSONDescriber: ProtocolCoder {
    private var fields: [(String, JSONValue)] = []
    private var scalar: JSONValue?

    /// A describer with nothing described yet.
    public init() {}

    /// The description built so far: an object, or a bare value when a single unnamed field was
    /// visited (elements of `[int32]` arrays).
    public var value: JSONValue {
        if fields.isEmpty, let scalar { return scalar }
        return .object(fields)
    }

    public var isDecoding: Bool { false }

    private mutating func put(_ name: StaticString, _ v: JSONValue) {
        let key = name.description
        if key.isEmpty { scalar = v } else { fields.append((key, v)) }
    }

    public mutating func bool(_ v: inout Bool, _ name: StaticString) throws { put(name, .bool(v)) }
    public mutating func int8(_ v: inout Int8, _ name: StaticString) throws { put(name, .int(Int64(v))) }
    public mutating func int16(_ v: inout Int16, _ name: StaticString) throws { put(name, .int(Int64(v))) }
    public mutating func uint16(_ v: inout UInt16, _ name: StaticString) throws { put(name, .int(Int64(v))) }
    public mutating func int32(_ v: inout Int32, _ name: StaticString) throws { put(name, .int(Int64(v))) }
    public mutating func uint32(_ v: inout UInt32, _ name: StaticString) throws { put(name, .int(Int64(v))) }
    public mutating func int64(_ v: inout Int64, _ name: StaticString) throws { put(name, .int(v)) }
    public mutating func float64(_ v: inout Double, _ name: StaticString) throws { put(name, .double(v)) }
    public mutating func uuid(_ v: inout KafkaUUID, _ name: StaticString) throws { put(name, .string(v.description)) }
    public mutating func string(_ v: inout String, _ name: StaticString, compact: Bool) throws { put(name, .string(v)) }
    public mutating func nullableString(_ v: inout String?, _ name: StaticString, compact: Bool, nullable: Bool) throws {
        put(name, v.map(JSONValue.string) ?? .null)
    }
    public mutating func bytes(_ v: inout [UInt8], _ name: StaticString, compact: Bool) throws { put(name, .hex(v)) }
    public mutating func nullableBytes(_ v: inout [UInt8]?, _ name: StaticString, compact: Bool, nullable: Bool) throws {
        put(name, v.map(JSONValue.hex) ?? .null)
    }

    private func describe<T>(_ items: inout [T], _ element: (inout JSONDescriber, inout T) throws -> Void) rethrows -> JSONValue {
        var out: [JSONValue] = []
        out.reserveCapacity(items.count)
        for i in items.indices {
            var sub = JSONDescriber()
            try element(&sub, &items[i])
            out.append(sub.value)
        }
        return .array(out)
    }

    public mutating func array<T: DefaultConstructible>(
        _ v: inout [T], _ name: StaticString, compact: Bool, _ element: (inout JSONDescriber, inout T) throws -> Void
    ) throws {
        put(name, try describe(&v, element))
    }

    public mutating func nullableArray<T: DefaultConstructible>(
        _ v: inout [T]?, _ name: StaticString, compact: Bool, nullable: Bool, _ element: (inout JSONDescriber, inout T) throws -> Void
    ) throws {
        if v == nil { put(name, .null) } else { put(name, try describe(&v!, element)) }
    }

    public mutating func nested<T>(_ v: inout T, _ name: StaticString, _ body: (inout JSONDescriber, inout T) throws -> Void) throws {
        var sub = JSONDescriber()
        try body(&sub, &v)
        put(name, sub.value)
    }

    public mutating func taggedFields(_ unknown: inout [TaggedField], known: (inout JSONDescriber) throws -> Void) throws {
        try known(&self)
        if !unknown.isEmpty {
            put("_unknown_tagged_fields", .array(unknown.map { .object([("tag", .int(Int64($0.tag))), ("data", .hex($0.data))]) }))
        }
    }

    public mutating func tag<T: DefaultConstructible>(_ tag: UInt32, _ v: inout T?, _ name: StaticString, _ body: (inout JSONDescriber, inout T) throws -> Void) throws {
        guard var value = v else { return }
        var sub = JSONDescriber()
        try body(&sub, &value)
        put(name, sub.value)
    }

    public mutating func absent<T: Equatable>(_ v: inout T, _ name: StaticString, default d: T, ignorable: Bool) throws {}
}
