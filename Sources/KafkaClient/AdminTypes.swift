public import KafkaProtocol

/// A topic to create.
public struct NewTopic: Sendable, Equatable {
    /// The topic name.
    public var name: String
    /// Number of partitions; nil for the broker default.
    public var partitions: Int32?
    /// Replication factor; nil for the broker default.
    public var replicationFactor: Int16?
    /// Manual replica assignment (partition → broker ids); when set, `partitions` and
    /// `replicationFactor` must be nil.
    public var replicaAssignment: [Int32: [Int32]]
    /// Topic configuration, e.g. `["cleanup.policy": "compact"]`.
    public var configs: [String: String]

    /// A topic to create.
    /// - Parameters:
    ///   - name: The topic name.
    ///   - partitions: Number of partitions; nil for the broker default.
    ///   - replicationFactor: Replication factor; nil for the broker default.
    ///   - replicaAssignment: Partition → broker ids, instead of `partitions` and `replicationFactor`.
    ///   - configs: Topic configuration entries.
    public init(name: String, partitions: Int32? = nil, replicationFactor: Int16? = nil, replicaAssignment: [Int32: [Int32]] = [:], configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.replicaAssignment = replicaAssignment
        self.configs = configs
    }
}

/// What the broker reported for a created (or validated) topic.
public struct CreatedTopic: Sendable, Equatable {
    /// The topic name.
    public var name: String
    /// The new topic's id; nil when the broker did not say (CreateTopics before v7).
    public var topicId: KafkaUUID?
    /// Its number of partitions; nil when the broker did not say (before v5, or -1).
    public var partitions: Int32?
    /// Its replication factor; nil when the broker did not say (before v5, or -1).
    public var replicationFactor: Int16?
}

/// A topic in a listing.
public struct TopicListing: Sendable, Equatable {
    /// The topic name.
    public var name: String
    /// The topic's id; nil when the broker did not report one.
    public var topicId: KafkaUUID?
    /// True for Kafka's own topics (`__consumer_offsets`, `__transaction_state`).
    public var isInternal: Bool
    /// Number of partitions.
    public var partitionCount: Int
}

/// The cluster as described by `describeCluster()`.
public struct ClusterDescription: Sendable, Equatable {
    /// The cluster id; nil when the broker did not report one.
    public var clusterId: String?
    /// nil when unknown.
    public var controller: ClusterMetadata.Broker?
    /// Sorted by node id.
    public var brokers: [ClusterMetadata.Broker]
}
