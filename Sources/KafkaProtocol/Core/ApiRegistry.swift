/// The APIs this library speaks, with type-erased decode/encode of their bodies.
///
/// Used where the message type is only known at run time: `kwire decode`, the fixture tests and
/// the fake broker. Every message family adds its line to `ApiRegistry.all`.
public struct ApiDescriptor: Sendable {
    /// The API key.
    public let apiKey: ApiKey
    /// Versions we can encode and decode.
    public let versions: ClosedRange<Int16>
    /// First flexible version, nil if never.
    public let flexibleFrom: Int16?
    let requestCodec: BodyCodec
    let responseCodec: BodyCodec

    /// Decodes and re-encodes a body of one message type at one version.
    struct BodyCodec: Sendable {
        let roundTrip: @Sendable (inout ByteReader, Int16) throws -> (json: JSONValue, reencoded: [UInt8])
    }

    init<R: KafkaRequest>(_ request: R.Type) {
        apiKey = R.apiKey
        versions = R.versions
        flexibleFrom = R.flexibleFrom
        requestCodec = BodyCodec(roundTrip: { reader, version in
            let value = try R(decodingAll: &reader, version: version)
            return (value.json(version: version), try value.encoded(version: version))
        })
        responseCodec = BodyCodec(roundTrip: { reader, version in
            let value = try R.Response(decodingAll: &reader, version: version)
            return (value.json(version: version), try value.encoded(version: version))
        })
    }

    /// Request header version for `version`.
    /// - Parameter version: The request's version.
    /// - Returns: The header version.
    public func requestHeaderVersion(_ version: Int16) -> Int16 {
        if let f = flexibleFrom, version >= f { return 2 }
        return 1
    }

    /// Response header version for `version` (ApiVersions: always 0).
    /// - Parameter version: The request's version.
    /// - Returns: The header version.
    public func responseHeaderVersion(_ version: Int16) -> Int16 {
        if apiKey == .apiVersions { return 0 }
        if let f = flexibleFrom, version >= f { return 1 }
        return 0
    }
}

/// Every API this library speaks.
public enum ApiRegistry {
    /// Descriptors by API key.
    public static let all: [ApiKey: ApiDescriptor] = {
        let list: [ApiDescriptor] = [
            ApiDescriptor(ApiVersionsRequest.self),
            ApiDescriptor(MetadataRequest.self),
            ApiDescriptor(CreateTopicsRequest.self),
            ApiDescriptor(DeleteTopicsRequest.self),
            ApiDescriptor(SaslHandshakeRequest.self),
            ApiDescriptor(SaslAuthenticateRequest.self),
            ApiDescriptor(ProduceRequest.self),
            ApiDescriptor(FetchRequest.self),
            ApiDescriptor(ListOffsetsRequest.self),
            ApiDescriptor(FindCoordinatorRequest.self),
            ApiDescriptor(JoinGroupRequest.self),
            ApiDescriptor(SyncGroupRequest.self),
            ApiDescriptor(HeartbeatRequest.self),
            ApiDescriptor(LeaveGroupRequest.self),
            ApiDescriptor(OffsetCommitRequest.self),
            ApiDescriptor(OffsetFetchRequest.self),
            ApiDescriptor(ListGroupsRequest.self),
            ApiDescriptor(DescribeGroupsRequest.self),
            ApiDescriptor(InitProducerIdRequest.self),
            ApiDescriptor(DeleteGroupsRequest.self),
            ApiDescriptor(AddPartitionsToTxnRequest.self),
            ApiDescriptor(AddOffsetsToTxnRequest.self),
            ApiDescriptor(EndTxnRequest.self),
            ApiDescriptor(TxnOffsetCommitRequest.self),
            ApiDescriptor(DescribeConfigsRequest.self),
            ApiDescriptor(CreatePartitionsRequest.self),
            ApiDescriptor(DeleteRecordsRequest.self),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.apiKey, $0) })
    }()
}
