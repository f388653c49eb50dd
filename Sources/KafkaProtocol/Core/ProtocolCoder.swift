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

    /// A BOOLEAN.
    /// - Parameters:
    ///   - v: The field: read when decoding, written when encoding.
    ///   - name: The schema's field name (snake_case), used in JSON and error paths.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func bool(_ v: inout Bool, _ name: StaticString) throws
    /// An INT8.
    /// - Parameters:
    ///   - v: The field: read when decoding, written when encoding.
    ///   - name: The schema's field name (snake_case), used in JSON and error paths.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func int8(_ v: inout Int8, _ name: StaticString) throws
    /// An INT16.
    /// - Parameters:
    ///   - v: The field: read when decoding, written when encoding.
    ///   - name: The schema's field name (snake_case), used in JSON and error paths.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func int16(_ v: inout Int16, _ name: StaticString) throws
    /// A UINT16.
    /// - Parameters:
    ///   - v: The field: read when decoding, written when encoding.
    ///   - name: The schema's field name (snake_case), used in JSON and error paths.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func uint16(_ v: inout UInt16, _ name: StaticString) throws
    /// An INT32.
    /// - Parameters:
    ///   - v: The field: read when decoding, written when encoding.
    ///   - name: The schema's field name (snake_case), used in JSON and error paths.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func int32(_ v: inout Int32, _ name: StaticString) throws
    /// A UINT32.
    /// - Parameters:
    ///   - v: The field: read when decoding, written when encoding.
    ///   - name: The schema's field name (snake_case), used in JSON and error paths.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func uint32(_ v: inout UInt32, _ name: StaticString) throws
    /// An INT64.
    /// - Parameters:
    ///   - v: The field: read when decoding, written when encoding.
    ///   - name: The schema's field name (snake_case), used in JSON and error paths.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func int64(_ v: inout Int64, _ name: StaticString) throws
    /// A FLOAT64.
    /// - Parameters:
    ///   - v: The field: read when decoding, written when encoding.
    ///   - name: The schema's field name (snake_case), used in JSON and error paths.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func float64(_ v: inout Double, _ name: StaticString) throws
    /// A UUID.
    /// - Parameters:
    ///   - v: The field: read when decoding, written when encoding.
    ///   - name: The schema's field name (snake_case), used in JSON and error paths.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func uuid(_ v: inout KafkaUUID, _ name: StaticString) throws

    /// A string: Int16 length (classic) or unsigned varint length+1 (compact).
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func string(_ v: inout String, _ name: StaticString, compact: Bool) throws
    /// A nullable string; `nullable: false` makes null an error in both directions.
    /// - Parameters:
    ///   - v: The field; nil is null.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    ///   - nullable: Whether this version allows null.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func nullableString(_ v: inout String?, _ name: StaticString, compact: Bool, nullable: Bool) throws
    /// Bytes: Int32 length (classic) or unsigned varint length+1 (compact).
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func bytes(_ v: inout [UInt8], _ name: StaticString, compact: Bool) throws
    /// Nullable bytes (also the `records` type).
    /// - Parameters:
    ///   - v: The field; nil is null.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    ///   - nullable: Whether this version allows null.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func nullableBytes(_ v: inout [UInt8]?, _ name: StaticString, compact: Bool, nullable: Bool) throws

    /// An array whose elements are visited by `element`.
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    ///   - element: Visits one element.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func array<T: DefaultConstructible>(
        _ v: inout [T], _ name: StaticString, compact: Bool,
        _ element: (inout Self, inout T) throws -> Void
    ) throws
    /// A nullable array.
    /// - Parameters:
    ///   - v: The field; nil is null.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    ///   - nullable: Whether this version allows null.
    ///   - element: Visits one element.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func nullableArray<T: DefaultConstructible>(
        _ v: inout [T]?, _ name: StaticString, compact: Bool, nullable: Bool,
        _ element: (inout Self, inout T) throws -> Void
    ) throws
    /// A nested struct that is not in an array (e.g. a single struct-typed field).
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - body: Visits the struct's fields.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func nested<T>(_ v: inout T, _ name: StaticString, _ body: (inout Self, inout T) throws -> Void) throws

    /// The tagged-field section that ends every struct in flexible versions. `known` calls
    /// `tag(_:_:_:_:)` once for each tagged field the schema defines; all other tags go to (and
    /// come from) `unknown`, verbatim. Tags are written in ascending order.
    /// - Parameters:
    ///   - unknown: The tagged fields the schema does not define.
    ///   - known: Visits the defined tagged fields.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func taggedFields(_ unknown: inout [TaggedField], known: (inout Self) throws -> Void) throws
    /// One known tagged field; nil means absent (not written).
    /// - Parameters:
    ///   - tag: The field's tag number.
    ///   - v: The field; nil when absent.
    ///   - name: The schema's field name.
    ///   - body: Visits the value.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    mutating func tag<T: DefaultConstructible>(_ tag: UInt32, _ v: inout T?, _ name: StaticString, _ body: (inout Self, inout T) throws -> Void) throws

    /// A field that the version being coded does not have. Decoding sets the default; encoding
    /// a non-default value throws unless the schema marks the field ignorable.
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - d: The schema's default.
    ///   - ignorable: Whether the schema lets a non-default value be dropped.
    /// - Throws: `ProtocolEncodingError.unsupportedAtVersion` for a non-default value that is not ignorable.
    mutating func absent<T: Equatable>(_ v: inout T, _ name: StaticString, default d: T, ignorable: Bool) throws
}

/// Types that have a natural empty value to decode into.
public protocol DefaultConstructible {
    /// The empty value (zero, empty, nil).
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
    /// nil.
    public init() { self = nil }
}

// MARK: Version-gated conveniences
//
// `present:` is the field's version gate (`version >= 3`); when false the field is absent at
// this version and `absent(_:_:default:ignorable:)` applies.

extension ProtocolCoder {
    /// The tagged-field section of a struct without known tagged fields, in flexible versions only.
    /// - Parameters:
    ///   - unknown: The tagged fields the schema does not define.
    ///   - flexible: Whether the version is flexible; false codes nothing.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func taggedFields(_ unknown: inout [TaggedField], flexible: Bool) throws {
        if flexible { try taggedFields(&unknown, known: { _ in }) }
    }

    /// A version-gated field.
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - present: The field's version gate; false codes it as `absent(_:_:default:ignorable:)`.
    ///   - d: The schema's default.
    ///   - ignorable: Whether the schema lets a non-default value be dropped.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func bool(_ v: inout Bool, _ name: StaticString, present: Bool, default d: Bool = false, ignorable: Bool = false) throws {
        if present { try bool(&v, name) } else { try absent(&v, name, default: d, ignorable: ignorable) }
    }
    /// A version-gated field.
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - present: The field's version gate; false codes it as `absent(_:_:default:ignorable:)`.
    ///   - d: The schema's default.
    ///   - ignorable: Whether the schema lets a non-default value be dropped.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func int8(_ v: inout Int8, _ name: StaticString, present: Bool, default d: Int8 = 0, ignorable: Bool = false) throws {
        if present { try int8(&v, name) } else { try absent(&v, name, default: d, ignorable: ignorable) }
    }
    /// A version-gated field.
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - present: The field's version gate; false codes it as `absent(_:_:default:ignorable:)`.
    ///   - d: The schema's default.
    ///   - ignorable: Whether the schema lets a non-default value be dropped.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func int16(_ v: inout Int16, _ name: StaticString, present: Bool, default d: Int16 = 0, ignorable: Bool = false) throws {
        if present { try int16(&v, name) } else { try absent(&v, name, default: d, ignorable: ignorable) }
    }
    /// A version-gated field.
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - present: The field's version gate; false codes it as `absent(_:_:default:ignorable:)`.
    ///   - d: The schema's default.
    ///   - ignorable: Whether the schema lets a non-default value be dropped.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func int32(_ v: inout Int32, _ name: StaticString, present: Bool, default d: Int32 = 0, ignorable: Bool = false) throws {
        if present { try int32(&v, name) } else { try absent(&v, name, default: d, ignorable: ignorable) }
    }
    /// A version-gated field.
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - present: The field's version gate; false codes it as `absent(_:_:default:ignorable:)`.
    ///   - d: The schema's default.
    ///   - ignorable: Whether the schema lets a non-default value be dropped.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func int64(_ v: inout Int64, _ name: StaticString, present: Bool, default d: Int64 = 0, ignorable: Bool = false) throws {
        if present { try int64(&v, name) } else { try absent(&v, name, default: d, ignorable: ignorable) }
    }
    /// A version-gated UUID field (default: zero).
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - present: The field's version gate; false codes it as `absent(_:_:default:ignorable:)`.
    ///   - ignorable: Whether the schema lets a non-default value be dropped.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func uuid(_ v: inout KafkaUUID, _ name: StaticString, present: Bool, ignorable: Bool = false) throws {
        if present { try uuid(&v, name) } else { try absent(&v, name, default: .zero, ignorable: ignorable) }
    }
    /// A version-gated string field.
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    ///   - present: The field's version gate; false codes it as `absent(_:_:default:ignorable:)`.
    ///   - d: The schema's default.
    ///   - ignorable: Whether the schema lets a non-default value be dropped.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func string(_ v: inout String, _ name: StaticString, compact: Bool, present: Bool, default d: String = "", ignorable: Bool = false) throws {
        if present { try string(&v, name, compact: compact) } else { try absent(&v, name, default: d, ignorable: ignorable) }
    }
    /// A version-gated nullable string field.
    /// - Parameters:
    ///   - v: The field; nil is null.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    ///   - nullable: Whether this version allows null.
    ///   - present: The field's version gate; false codes it as `absent(_:_:default:ignorable:)`.
    ///   - d: The schema's default.
    ///   - ignorable: Whether the schema lets a non-default value be dropped.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func nullableString(_ v: inout String?, _ name: StaticString, compact: Bool, nullable: Bool, present: Bool, default d: String? = nil, ignorable: Bool = false) throws {
        if present { try nullableString(&v, name, compact: compact, nullable: nullable) } else { try absent(&v, name, default: d, ignorable: ignorable) }
    }
    /// A version-gated bytes field (default: empty).
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    ///   - present: The field's version gate; false codes it as `absent(_:_:default:ignorable:)`.
    ///   - ignorable: Whether the schema lets a non-default value be dropped.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func bytes(_ v: inout [UInt8], _ name: StaticString, compact: Bool, present: Bool, ignorable: Bool = false) throws {
        if present { try bytes(&v, name, compact: compact) } else { try absent(&v, name, default: [], ignorable: ignorable) }
    }
    /// A version-gated array field (default: empty).
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    ///   - present: The field's version gate; false codes it as `absent(_:_:default:ignorable:)`.
    ///   - ignorable: Whether the schema lets a non-default value be dropped.
    ///   - element: Visits one element.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func array<T: DefaultConstructible & Equatable>(
        _ v: inout [T], _ name: StaticString, compact: Bool, present: Bool, ignorable: Bool = false,
        _ element: (inout Self, inout T) throws -> Void
    ) throws {
        if present { try array(&v, name, compact: compact, element) } else { try absent(&v, name, default: [], ignorable: ignorable) }
    }

    /// An array of Int32 (broker ids, partition indexes…).
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func int32Array(_ v: inout [Int32], _ name: StaticString, compact: Bool) throws {
        try array(&v, name, compact: compact) { c, e in try c.int32(&e, "") }
    }
    /// An array of strings.
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func stringArray(_ v: inout [String], _ name: StaticString, compact: Bool) throws {
        try array(&v, name, compact: compact) { c, e in try c.string(&e, "", compact: compact) }
    }
    /// An array of protocol structs, each visited at `version`.
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    ///   - version: The version to visit the elements at.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func structArray<T: ProtocolStruct>(_ v: inout [T], _ name: StaticString, compact: Bool, version: Int16) throws {
        try array(&v, name, compact: compact) { c, e in try e.visit(&c, version: version) }
    }
    /// A nullable array of protocol structs.
    /// - Parameters:
    ///   - v: The field; nil is null.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    ///   - nullable: Whether this version allows null.
    ///   - version: The version to visit the elements at.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func nullableStructArray<T: ProtocolStruct>(_ v: inout [T]?, _ name: StaticString, compact: Bool, nullable: Bool, version: Int16) throws {
        try nullableArray(&v, name, compact: compact, nullable: nullable) { c, e in try e.visit(&c, version: version) }
    }
    /// A version-gated array of protocol structs.
    /// - Parameters:
    ///   - v: The field.
    ///   - name: The schema's field name.
    ///   - compact: True in flexible versions.
    ///   - version: The version to visit the elements at.
    ///   - present: The field's version gate; false codes it as `absent(_:_:default:ignorable:)`.
    ///   - ignorable: Whether the schema lets a non-default value be dropped.
    /// - Throws: A `ProtocolDecodingError` or `ProtocolEncodingError` naming the field's path.
    @inlinable public mutating func structArray<T: ProtocolStruct & Equatable>(_ v: inout [T], _ name: StaticString, compact: Bool, version: Int16, present: Bool, ignorable: Bool = false) throws {
        if present { try structArray(&v, name, compact: compact, version: version) } else { try absent(&v, name, default: [], ignorable: ignorable) }
    }
}
