/// A value with a Kafka wire layout: a whole message, or a struct inside one.
///
/// The version is always a parameter of coding, never stored on the value, so the same value can
/// be re-encoded at another version (e.g. after renegotiation on retry).
public protocol ProtocolStruct: Sendable, DefaultConstructible {
    /// Visits every field in wire order for `version` (see `ProtocolCoder`).
    /// - Parameters:
    ///   - c: The coder: encoder, decoder or describer.
    ///   - version: The version whose layout to follow.
    /// - Throws: What the coder throws: a decoding or encoding error with the field's path.
    mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws
}

/// A top-level request or response body.
public protocol KafkaMessage: ProtocolStruct {
    /// The API this message belongs to.
    static var apiKey: ApiKey { get }
    /// Every version this library can encode and decode.
    static var versions: ClosedRange<Int16> { get }
    /// First version that uses compact strings/arrays and tagged fields (KIP-482); nil if never.
    static var flexibleFrom: Int16? { get }
}

extension KafkaMessage {
    /// True when `version` uses the flexible (compact + tagged fields) encoding.
    /// - Parameter version: A version of this message.
    /// - Returns: Whether it is at or after `flexibleFrom`.
    @inlinable public static func isFlexible(_ version: Int16) -> Bool {
        guard let f = flexibleFrom else { return false }
        return version >= f
    }

    /// The message name used in JSON and error paths (the Swift type name).
    public static var messageName: String { String(describing: Self.self) }
}

/// A request, tied to the response type it is answered with.
public protocol KafkaRequest: KafkaMessage {
    /// The message the broker answers this request with.
    associatedtype Response: KafkaMessage
}

extension ProtocolStruct {
    /// Appends the encoding of `self` at `version` to `writer`.
    /// - Parameters:
    ///   - writer: Where to append.
    ///   - version: The version to encode at.
    /// - Throws: `ProtocolEncodingError` for a value the version cannot carry.
    public func encode(into writer: inout ByteWriter, version: Int16) throws {
        var copy = self
        var encoder = WireEncoder(writer: ByteWriter(capacity: 0))
        encoder.version = version
        swap(&encoder.writer, &writer)
        defer { swap(&encoder.writer, &writer) }
        try copy.visit(&encoder, version: version)
    }

    /// The encoding of `self` at `version`.
    /// - Parameter version: The version to encode at.
    /// - Returns: The bytes.
    /// - Throws: `ProtocolEncodingError` for a value the version cannot carry.
    public func encoded(version: Int16) throws -> [UInt8] {
        var w = ByteWriter()
        try encode(into: &w, version: version)
        return w.take()
    }

    /// Decodes a value from `reader` at `version`, leaving the reader after it.
    /// - Parameters:
    ///   - reader: The bytes; left after the value.
    ///   - version: The version to decode at.
    /// - Throws: `ProtocolDecodingError` with the field path and offset.
    public init(from reader: inout ByteReader, version: Int16) throws {
        self.init()
        var decoder = WireDecoder(reader: reader)
        try self.visit(&decoder, version: version)
        reader = decoder.reader
    }

    /// A JSON description of `self` as it would be encoded at `version` (fields absent at that
    /// version are left out).
    /// - Parameter version: The version whose fields to describe.
    /// - Returns: A JSON object with the schema's field names.
    public func json(version: Int16) -> JSONValue {
        var copy = self
        var describer = JSONDescriber()
        // The describer never throws: it only reads values.
        try? copy.visit(&describer, version: version)
        return describer.value
    }
}

extension KafkaMessage {
    /// Decodes a whole message from `bytes`; every byte must be consumed.
    /// - Parameters:
    ///   - bytes: The message body.
    ///   - version: The version to decode at.
    /// - Throws: `ProtocolDecodingError` for a version we do not speak, malformed bytes or bytes left over.
    public init(decoding bytes: [UInt8], version: Int16) throws {
        var reader = ByteReader(bytes)
        try self.init(decodingAll: &reader, version: version)
    }

    /// Decodes a message that must extend exactly to the end of `reader`.
    /// - Parameters:
    ///   - reader: The bytes.
    ///   - version: The version to decode at.
    /// - Throws: `ProtocolDecodingError` for a version we do not speak, malformed bytes or bytes left over.
    public init(decodingAll reader: inout ByteReader, version: Int16) throws {
        guard Self.versions.contains(version) else {
            throw ProtocolDecodingError(path: Self.messageName, offset: reader.offset, reason: .invalid("version \(version) is not supported (\(Self.versions.lowerBound)...\(Self.versions.upperBound))"))
        }
        do {
            try self.init(from: &reader, version: version)
        } catch let e as ProtocolDecodingError {
            throw e.prefixed(Self.messageName)
        }
        if !reader.isAtEnd {
            throw ProtocolDecodingError(path: Self.messageName, offset: reader.offset, reason: .trailingBytes(reader.remaining))
        }
    }

    /// Encodes at `version`, checking the version is one this library speaks.
    /// - Parameter version: The version to encode at.
    /// - Returns: The message body.
    /// - Throws: `ProtocolEncodingError` for a version we do not speak or a value it cannot carry.
    public func encodedMessage(version: Int16) throws -> [UInt8] {
        guard Self.versions.contains(version) else {
            throw ProtocolEncodingError(field: Self.messageName, reason: .unsupportedVersion(version))
        }
        return try encoded(version: version)
    }
}
