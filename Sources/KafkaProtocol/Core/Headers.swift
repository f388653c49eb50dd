/// Request header (Kafka `RequestHeader`).
///
/// Version 1 is the baseline (client id); version 2 adds tagged fields and is used by every
/// flexible request version. Version 0 (no client id) was removed in Kafka 4.0 and is not
/// spoken. The client id stays a classic (Int16-length) nullable string even in v2 — the one
/// deliberate exception to compact encoding in flexible headers.
public struct RequestHeader: Sendable, Equatable {
    /// `request_api_key`: the API.
    public var apiKey: ApiKey
    /// `request_api_version`: the version of the request body.
    public var apiVersion: Int16
    /// `correlation_id`: echoed in the response, to match it to this request.
    public var correlationId: Int32
    /// `client_id`: the client's id, or null.
    public var clientId: String?
    /// Tagged fields this version does not define (v2), kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A header.
    /// - Parameters:
    ///   - apiKey: The API.
    ///   - apiVersion: The body's version.
    ///   - correlationId: The id the response will carry.
    ///   - clientId: The client id, or nil.
    public init(apiKey: ApiKey, apiVersion: Int16, correlationId: Int32, clientId: String?) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
    }

    /// Writes the header at `headerVersion` (1 or 2).
    /// - Parameters:
    ///   - w: Where to append.
    ///   - headerVersion: 1 or 2 (see `HeaderVersions.request(_:version:)`).
    /// - Throws: `ProtocolEncodingError` for another header version.
    public func encode(into w: inout ByteWriter, headerVersion: Int16) throws {
        w.writeInt16(apiKey.rawValue)
        w.writeInt16(apiVersion)
        w.writeInt32(correlationId)
        var enc = WireEncoder(writer: ByteWriter(capacity: 0))
        swap(&enc.writer, &w)
        defer { swap(&enc.writer, &w) }
        var id = clientId
        try enc.nullableString(&id, "client_id", compact: false, nullable: true)
        if headerVersion >= 2 {
            var tags = unknownTaggedFields
            try enc.taggedFields(&tags, flexible: true)
        }
    }

    /// Reads the api key and version without consuming anything, to choose how to decode the rest.
    /// - Parameter reader: The bytes of a request frame after its size.
    /// - Returns: The API key and version.
    /// - Throws: `ProtocolDecodingError` when fewer than 4 bytes are there.
    public static func peek(_ reader: ByteReader) throws -> (apiKey: ApiKey, apiVersion: Int16) {
        var r = reader
        let key = try r.readInt16("request_api_key")
        let version = try r.readInt16("request_api_version")
        return (ApiKey(key), version)
    }

    /// Reads a header at `headerVersion` (1 or 2).
    /// - Parameters:
    ///   - reader: The bytes; left after the header.
    ///   - headerVersion: 1 or 2.
    /// - Returns: The header.
    /// - Throws: `ProtocolDecodingError` for malformed bytes or another header version.
    public static func decode(from reader: inout ByteReader, headerVersion: Int16) throws -> RequestHeader {
        let key = try reader.readInt16("request_api_key")
        let version = try reader.readInt16("request_api_version")
        let correlation = try reader.readInt32("correlation_id")
        var dec = WireDecoder(reader: reader)
        var clientId: String?
        try dec.nullableString(&clientId, "client_id", compact: false, nullable: true)
        var header = RequestHeader(apiKey: ApiKey(key), apiVersion: version, correlationId: correlation, clientId: clientId)
        if headerVersion >= 2 { try dec.taggedFields(&header.unknownTaggedFields, flexible: true) }
        reader = dec.reader
        return header
    }

    /// JSON description of the header.
    /// - Parameter headerVersion: The header version (tagged fields in 2).
    public func json(headerVersion: Int16) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("request_api_key", .int(Int64(apiKey.rawValue))),
            ("request_api_version", .int(Int64(apiVersion))),
            ("correlation_id", .int(Int64(correlationId))),
            ("client_id", clientId.map(JSONValue.string) ?? .null),
        ]
        if !unknownTaggedFields.isEmpty {
            pairs.append(("_unknown_tagged_fields", .array(unknownTaggedFields.map { .object([("tag", .int(Int64($0.tag))), ("data", .hex($0.data))]) })))
        }
        return .object(pairs)
    }
}

/// Response header (Kafka `ResponseHeader`): the correlation id, plus tagged fields in v1.
public struct ResponseHeader: Sendable, Equatable {
    /// `correlation_id`: the id of the request this answers.
    public var correlationId: Int32
    /// Tagged fields this version does not define (v1), kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A header.
    /// - Parameter correlationId: The id of the request it answers.
    public init(correlationId: Int32) { self.correlationId = correlationId }

    /// Writes the header at `headerVersion` (0 or 1).
    /// - Parameters:
    ///   - w: Where to append.
    ///   - headerVersion: 0 or 1 (see `HeaderVersions.response(_:version:)`).
    /// - Throws: `ProtocolEncodingError` for another header version.
    public func encode(into w: inout ByteWriter, headerVersion: Int16) throws {
        w.writeInt32(correlationId)
        if headerVersion >= 1 {
            var enc = WireEncoder(writer: ByteWriter(capacity: 0))
            swap(&enc.writer, &w)
            defer { swap(&enc.writer, &w) }
            var tags = unknownTaggedFields
            try enc.taggedFields(&tags, flexible: true)
        }
    }

    /// Reads a header at `headerVersion` (0 or 1).
    /// - Parameters:
    ///   - reader: The bytes; left after the header.
    ///   - headerVersion: 0 or 1.
    /// - Returns: The header.
    /// - Throws: `ProtocolDecodingError` for malformed bytes or another header version.
    public static func decode(from reader: inout ByteReader, headerVersion: Int16) throws -> ResponseHeader {
        var header = ResponseHeader(correlationId: try reader.readInt32("correlation_id"))
        if headerVersion >= 1 {
            var dec = WireDecoder(reader: reader)
            try dec.taggedFields(&header.unknownTaggedFields, flexible: true)
            reader = dec.reader
        }
        return header
    }

    /// JSON description of the header.
    public func json() -> JSONValue {
        var pairs: [(String, JSONValue)] = [("correlation_id", .int(Int64(correlationId)))]
        if !unknownTaggedFields.isEmpty {
            pairs.append(("_unknown_tagged_fields", .array(unknownTaggedFields.map { .object([("tag", .int(Int64($0.tag))), ("data", .hex($0.data))]) })))
        }
        return .object(pairs)
    }
}

/// Header versions: the one place the header quirks live.
public enum HeaderVersions {
    /// Request header version for a request of `type` at `version`: 2 when the request version is
    /// flexible, else 1.
    /// - Parameters:
    ///   - type: The request type.
    ///   - version: The request's version.
    /// - Returns: The header version.
    public static func request<M: KafkaMessage>(_ type: M.Type, version: Int16) -> Int16 {
        type.isFlexible(version) ? 2 : 1
    }

    /// Response header version for a request of `type` at `version`: 1 when flexible, else 0 —
    /// except ApiVersions, whose response header is always v0, because a client must be able to
    /// read the broker's answer before it knows which versions the broker speaks (KIP-511).
    /// - Parameters:
    ///   - type: The request type.
    ///   - version: The request's version.
    /// - Returns: The header version.
    public static func response<M: KafkaMessage>(_ type: M.Type, version: Int16) -> Int16 {
        if type.apiKey == .apiVersions { return 0 }
        return type.isFlexible(version) ? 1 : 0
    }
}
