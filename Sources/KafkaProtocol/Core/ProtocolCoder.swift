/// The one traversal every message is written as.
///
/// Each message type hand-writes a single `visit(_:version:)` that lists its fields in wire order
/// with their version gates. The same function encodes (`WireEncoder`), decodes (`WireDecoder`) and
/// describes (`JSONDescriber`, used by `kwire decode`), so the three can never disagree about the
/// layout. Concrete coders are generic parameters, so the optimizer specializes each message's
/// visit for each direction — no existential dispatch on the hot path.
///
/// Names are the Kafka schema's field names in snake_case; they appear in JSON and in error paths.
public protocol ProtocolCoder {
    /// True when values are being filled in from bytes.
    var isDecoding: Bool { get }

    mutating func bool(_ v: inout Bool, _ name: StaticString) throws
    mutating func int8(_ v: inout Int8, _ name: StaticString) throws
    mutating func int16(_ v: inout Int16, _ name: StaticString) throws
    mutating func uint16(_ v: inout UInt16, _ name: StaticString) throws
    mutating func int32(_ v: inout Int32, _ name: StaticString) throws
    mutating func uint32(_ v: inout UInt32, _ name: StaticString) throws
    mutating func int64(_ v: inout Int64, _ name: StaticString) throws
    mutating func float64(_ v: inout Double, _ name: StaticString) throws
    mutating func uuid(_ v: inout KafkaUUID, _ name: StaticString) throws

    /// A string: Int16 length (classic) or unsigned varint length+1 (compact).
    mutating func string(_ v: inout String, _ name: StaticString, compact: Bool) throws
    /// A nullable string; `nullable: false` makes null an error in both directions.
    mutating func nullableString(_ v: inout String?, _ name: StaticString, compact: Bool, nullable: Bool) throws
    /// Bytes: Int32 length (classic) or unsigned varint length+1 (compact).
    mutating func bytes(_ v: inout [UInt8], _ name: StaticString, compact: Bool) throws
    /// Nullable bytes (also the `records` type).
    mutating func nullableBytes(_ v: inout [UInt8]?, _ name: StaticString, compact: Bool, nullable: Bool) throws

    /// An array whose elements are visited by `element`.
    mutating func array<T: DefaultConstructible>(
        _ v: inout [T], _ name: StaticString, compact: Bool,
        _ element: (inout Self, inout T) throws -> Void
    ) throws
    /// A nullable array.
    mutating func nullableArray<T: DefaultConstructible>(
        _ v: inout [T]?, _ name: StaticString, compact: Bool, nullable: Bool,
        _ element: (inout Self, inout T) throws -> Void
    ) throws
    /// A nested struct that is not in an array (e.g. a single struct-typed field).
    mutating func nested<T>(_ v: inout T, _ name: StaticString, _ body: (inout Self, inout T) throws -> Void) throws

    /// The tagged-field section that ends every struct in flexible versions. `known` calls
    /// `tag(_:_:_:_:)` once for each tagged field the schema defines; all other tags go to (and
    /// come from) `unknown`, verbatim. Tags are written in ascending order.
    mutating func taggedFields(_ unknown: inout [TaggedField], known: (inout Self) throws -> Void) throws
    /// One known tagged field; nil means absent (not written).
    mutating func tag<T: DefaultConstructible>(_ tag: UInt32, _ v: inout T?, _ name: StaticString, _ body: (inout Self, inout T) throws -> Void) throws

    /// A field that the version being coded does not have. Decoding sets the default; encoding
    /// a non-default value throws unless the schema marks the field ignorable.
    mutating func absent<T: Equatable>(_ v: inout T, _ name: StaticString, default: T, ignorable: Bool) throws
}

/// Types that have a natural empty value to decode into.
public protocol DefaultConstructible {
    init()
}

extension Bool: DefaultConstructible {}
extension Int8: DefaultConstructible {}
extension Int16: DefaultConstructible {}
extension Int32: DefaultConstructible {}
extension Int64: DefaultConstructible {}
extension String: DefaultConstructible {}
extension KafkaUUID: DefaultConstructible {}
extension Array: DefaultConstructible {}
extension Optional: DefaultConstructible {
    public init() { self = nil }
}

// MARK: Version-gated conveniences
//
// `present:` is the field's version gate (`version >= 3`); when false the field is absent at
// this version and `absent(_:_:default:ignorable:)` applies.

extension ProtocolCoder {
    @inlinable public mutating func taggedFields(_ unknown: inout [TaggedField], flexible: Bool) throws {
        if flexible { try taggedFields(&unknown, known: { _ in }) }
    }

    @inlinable public mutating func bool(_ v: inout Bool, _ name: StaticString, present: Bool, default d: Bool = false, ignorable: Bool = false) throws {
        if present { try bool(&v, name) } else { try absent(&v, name, default: d, ignorable: ignorable) }
    }
    @inlinable public mutating func int8(_ v: inout Int8, _ name: StaticString, present: Bool, default d: Int8 = 0, ignorable: Bool = false) throws {
        if present { try int8(&v, name) } else { try absent(&v, name, default: d, ignorable: ignorable) }
    }
    @inlinable public mutating func int16(_ v: inout Int16, _ name: StaticString, present: Bool, default d: Int16 = 0, ignorable: Bool = false) throws {
        if present { try int16(&v, name) } else { try absent(&v, name, default: d, ignorable: ignorable) }
    }
    @inlinable public mutating func int32(_ v: inout Int32, _ name: StaticString, present: Bool, default d: Int32 = 0, ignorable: Bool = false) throws {
        if present { try int32(&v, name) } else { try absent(&v, name, default: d, ignorable: ignorable) }
    }
    @inlinable public mutating func int64(_ v: inout Int64, _ name: StaticString, present: Bool, default d: Int64 = 0, ignorable: Bool = false) throws {
        if present { try int64(&v, name) } else { try absent(&v, name, default: d, ignorable: ignorable) }
    }
    @inlinable public mutating func uuid(_ v: inout KafkaUUID, _ name: StaticString, present: Bool, ignorable: Bool = false) throws {
        if present { try uuid(&v, name) } else { try absent(&v, name, default: .zero, ignorable: ignorable) }
    }
    @inlinable public mutating func string(_ v: inout String, _ name: StaticString, compact: Bool, present: Bool, default d: String = "", ignorable: Bool = false) throws {
        if present { try string(&v, name, compact: compact) } else { try absent(&v, name, default: d, ignorable: ignorable) }
    }
    @inlinable public mutating func nullableString(_ v: inout String?, _ name: StaticString, compact: Bool, nullable: Bool, present: Bool, default d: String? = nil, ignorable: Bool = false) throws {
        if present { try nullableString(&v, name, compact: compact, nullable: nullable) } else { try absent(&v, name, default: d, ignorable: ignorable) }
    }
    @inlinable public mutating func bytes(_ v: inout [UInt8], _ name: StaticString, compact: Bool, present: Bool, ignorable: Bool = false) throws {
        if present { try bytes(&v, name, compact: compact) } else { try absent(&v, name, default: [], ignorable: ignorable) }
    }
    @inlinable public mutating func array<T: DefaultConstructible & Equatable>(
        _ v: inout [T], _ name: StaticString, compact: Bool, present: Bool, ignorable: Bool = false,
        _ element: (inout Self, inout T) throws -> Void
    ) throws {
        if present { try array(&v, name, compact: compact, element) } else { try absent(&v, name, default: [], ignorable: ignorable) }
    }

    /// An array of Int32 (broker ids, partition indexes…).
    @inlinable public mutating func int32Array(_ v: inout [Int32], _ name: StaticString, compact: Bool) throws {
        try array(&v, name, compact: compact) { c, e in try c.int32(&e, "") }
    }
    /// An array of strings.
    @inlinable public mutating func stringArray(_ v: inout [String], _ name: StaticString, compact: Bool) throws {
        try array(&v, name, compact: compact) { c, e in try c.string(&e, "", compact: compact) }
    }
    /// An array of protocol structs, each visited at `version`.
    @inlinable public mutating func structArray<T: ProtocolStruct>(_ v: inout [T], _ name: StaticString, compact: Bool, version: Int16) throws {
        try array(&v, name, compact: compact) { c, e in try e.visit(&c, version: version) }
    }
    /// A nullable array of protocol structs.
    @inlinable public mutating func nullableStructArray<T: ProtocolStruct>(_ v: inout [T]?, _ name: StaticString, compact: Bool, nullable: Bool, version: Int16) throws {
        try nullableArray(&v, name, compact: compact, nullable: nullable) { c, e in try e.visit(&c, version: version) }
    }
    /// A version-gated array of protocol structs.
    @inlinable public mutating func structArray<T: ProtocolStruct & Equatable>(_ v: inout [T], _ name: StaticString, compact: Bool, version: Int16, present: Bool, ignorable: Bool = false) throws {
        if present { try structArray(&v, name, compact: compact, version: version) } else { try absent(&v, name, default: [], ignorable: ignorable) }
    }
}
