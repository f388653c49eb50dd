/// A Kafka API key (the first field of every request header).
///
/// An open type: keys this library does not know still decode and print as `ApiKey(n)`.
public struct ApiKey: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    /// The key with this number.
    /// - Parameter rawValue: The number on the wire.
    public init(_ rawValue: Int16) { self.rawValue = rawValue }

    public static func < (a: ApiKey, b: ApiKey) -> Bool { a.rawValue < b.rawValue }

    /// Produce (key 0).
    public static let produce = ApiKey(0)
    /// Fetch (key 1).
    public static let fetch = ApiKey(1)
    /// ListOffsets (key 2).
    public static let listOffsets = ApiKey(2)
    /// Metadata (key 3).
    public static let metadata = ApiKey(3)
    /// OffsetCommit (key 8).
    public static let offsetCommit = ApiKey(8)
    /// OffsetFetch (key 9).
    public static let offsetFetch = ApiKey(9)
    /// FindCoordinator (key 10).
    public static let findCoordinator = ApiKey(10)
    /// JoinGroup (key 11).
    public static let joinGroup = ApiKey(11)
    /// Heartbeat (key 12).
    public static let heartbeat = ApiKey(12)
    /// LeaveGroup (key 13).
    public static let leaveGroup = ApiKey(13)
    /// SyncGroup (key 14).
    public static let syncGroup = ApiKey(14)
    /// DescribeGroups (key 15).
    public static let describeGroups = ApiKey(15)
    /// ListGroups (key 16).
    public static let listGroups = ApiKey(16)
    /// SaslHandshake (key 17).
    public static let saslHandshake = ApiKey(17)
    /// ApiVersions (key 18).
    public static let apiVersions = ApiKey(18)
    /// CreateTopics (key 19).
    public static let createTopics = ApiKey(19)
    /// DeleteTopics (key 20).
    public static let deleteTopics = ApiKey(20)
    /// DeleteRecords (key 21).
    public static let deleteRecords = ApiKey(21)
    /// InitProducerId (key 22).
    public static let initProducerId = ApiKey(22)
    /// OffsetForLeaderEpoch (key 23).
    public static let offsetForLeaderEpoch = ApiKey(23)
    /// AddPartitionsToTxn (key 24).
    public static let addPartitionsToTxn = ApiKey(24)
    /// AddOffsetsToTxn (key 25).
    public static let addOffsetsToTxn = ApiKey(25)
    /// EndTxn (key 26).
    public static let endTxn = ApiKey(26)
    /// TxnOffsetCommit (key 28).
    public static let txnOffsetCommit = ApiKey(28)
    /// DescribeConfigs (key 32).
    public static let describeConfigs = ApiKey(32)
    /// AlterConfigs (key 33).
    public static let alterConfigs = ApiKey(33)
    /// SaslAuthenticate (key 36).
    public static let saslAuthenticate = ApiKey(36)
    /// CreatePartitions (key 37).
    public static let createPartitions = ApiKey(37)
    /// DeleteGroups (key 42).
    public static let deleteGroups = ApiKey(42)
    /// IncrementalAlterConfigs (key 44).
    public static let incrementalAlterConfigs = ApiKey(44)
    /// OffsetDelete (key 47).
    public static let offsetDelete = ApiKey(47)
    /// DescribeCluster (key 60).
    public static let describeCluster = ApiKey(60)
    /// DescribeProducers (key 61).
    public static let describeProducers = ApiKey(61)
    /// DescribeTransactions (key 65).
    public static let describeTransactions = ApiKey(65)
    /// ListTransactions (key 66).
    public static let listTransactions = ApiKey(66)
    /// ConsumerGroupHeartbeat (key 68).
    public static let consumerGroupHeartbeat = ApiKey(68)
    /// ConsumerGroupDescribe (key 69).
    public static let consumerGroupDescribe = ApiKey(69)
    /// GetTelemetrySubscriptions (key 71).
    public static let getTelemetrySubscriptions = ApiKey(71)
    /// PushTelemetry (key 72).
    public static let pushTelemetry = ApiKey(72)
    /// DescribeTopicPartitions (key 75).
    public static let describeTopicPartitions = ApiKey(75)

    /// Kafka's name for the API (`Metadata`), or `ApiKey(n)` for one we do not know.
    public var name: String { Self.names[rawValue] ?? "ApiKey(\(rawValue))" }

    public var description: String { name }

    static let names: [Int16: String] = [
        0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 4: "LeaderAndIsr", 5: "StopReplica",
        6: "UpdateMetadata", 7: "ControlledShutdown", 8: "OffsetCommit", 9: "OffsetFetch",
        10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
        15: "DescribeGroups", 16: "ListGroups", 17: "SaslHandshake", 18: "ApiVersions",
        19: "CreateTopics", 20: "DeleteTopics", 21: "DeleteRecords", 22: "InitProducerId",
        23: "OffsetForLeaderEpoch", 24: "AddPartitionsToTxn", 25: "AddOffsetsToTxn", 26: "EndTxn",
        27: "WriteTxnMarkers", 28: "TxnOffsetCommit", 29: "DescribeAcls", 30: "CreateAcls",
        31: "DeleteAcls", 32: "DescribeConfigs", 33: "AlterConfigs", 34: "AlterReplicaLogDirs",
        35: "DescribeLogDirs", 36: "SaslAuthenticate", 37: "CreatePartitions",
        38: "CreateDelegationToken", 39: "RenewDelegationToken", 40: "ExpireDelegationToken",
        41: "DescribeDelegationToken", 42: "DeleteGroups", 43: "ElectLeaders",
        44: "IncrementalAlterConfigs", 45: "AlterPartitionReassignments",
        46: "ListPartitionReassignments", 47: "OffsetDelete", 48: "DescribeClientQuotas",
        49: "AlterClientQuotas", 50: "DescribeUserScramCredentials", 51: "AlterUserScramCredentials",
        55: "DescribeQuorum", 57: "UpdateFeatures", 60: "DescribeCluster", 61: "DescribeProducers",
        64: "UnregisterBroker", 65: "DescribeTransactions", 66: "ListTransactions",
        68: "ConsumerGroupHeartbeat", 69: "ConsumerGroupDescribe", 71: "GetTelemetrySubscriptions",
        72: "PushTelemetry", 74: "ListClientMetricsResources", 75: "DescribeTopicPartitions",
        76: "ShareGroupHeartbeat", 77: "ShareGroupDescribe", 78: "ShareFetch", 79: "ShareAcknowledge",
    ]
}
