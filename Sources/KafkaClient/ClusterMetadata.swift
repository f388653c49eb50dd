public import KafkaProtocol

/// A snapshot of what the cluster said about itself in a Metadata response.
public struct ClusterMetadata: Sendable, Equatable {
    /// A broker of the cluster.
    public struct Broker: Sendable, Equatable, Hashable {
        /// The broker's node id.
        public var nodeId: Int32
        /// The host name it advertises.
        public var host: String
        /// The port it advertises.
        public var port: Int
        /// Its rack (`broker.rack`), if set.
        public var rack: String?
        /// `host:port`.
        public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// One partition's leadership.
    public struct Partition: Sendable, Equatable {
        /// The partition index.
        public var partition: Int32
        /// The leader's node id; nil when the partition has no leader (the broker said -1).
        public var leader: Int32?
        /// The leader's epoch (KIP-320); nil when the broker did not say (Metadata before v7, or -1).
        public var leaderEpoch: Int32?
        /// Node ids of every replica, preferred leader first.
        public var replicas: [Int32]
        /// Node ids of the in-sync replicas.
        public var isr: [Int32]
        /// Node ids of replicas that are offline.
        public var offlineReplicas: [Int32]
        /// A partition-level error (e.g. LEADER_NOT_AVAILABLE), if any.
        public var error: KafkaErrorCode?
    }

    /// One topic.
    public struct Topic: Sendable, Equatable {
        /// The topic name.
        public var name: String
        /// The topic id; nil when the broker did not report one (Metadata before v10, or the zero id).
        public var topicId: KafkaUUID?
        /// True for Kafka's own topics.
        public var isInternal: Bool
        /// Sorted by partition number.
        public var partitions: [Partition]
        /// A topic-level error (e.g. UNKNOWN_TOPIC_OR_PARTITION), if any.
        public var error: KafkaErrorCode?
    }

    /// The cluster id, if reported.
    public var clusterId: String?
    /// The controller's node id; nil when unknown (the broker said -1).
    public var controllerId: Int32?
    /// Brokers by node id.
    public var brokers: [Int32: Broker]
    /// Topics by name (only those without a name-less error).
    public var topics: [String: Topic]

    /// A snapshot with these parts.
    /// - Parameters:
    ///   - clusterId: The cluster id.
    ///   - controllerId: The controller's node id; nil when unknown.
    ///   - brokers: Brokers by node id.
    ///   - topics: Topics by name.
    public init(clusterId: String? = nil, controllerId: Int32? = nil, brokers: [Int32: Broker] = [:], topics: [String: Topic] = [:]) {
        self.clusterId = clusterId
        self.controllerId = controllerId
        self.brokers = brokers
        self.topics = topics
    }

    /// Builds a snapshot from a Metadata response.
    /// - Parameter response: A decoded Metadata response.
    public init(_ response: MetadataResponse) {
        clusterId = response.clusterId
        controllerId = response.controllerId >= 0 ? response.controllerId : nil
        var brokers: [Int32: Broker] = [:]
        for b in response.brokers {
            brokers[b.nodeId] = Broker(nodeId: b.nodeId, host: b.host, port: Int(b.port), rack: b.rack)
        }
        self.brokers = brokers
        var topics: [String: Topic] = [:]
        for t in response.topics {
            guard let name = t.name else { continue }
            let partitions = t.partitions.map { p in
                Partition(
                    partition: p.partitionIndex, leader: p.leaderId >= 0 ? p.leaderId : nil, leaderEpoch: p.leaderEpoch >= 0 ? p.leaderEpoch : nil,
                    replicas: p.replicaNodes, isr: p.isrNodes, offlineReplicas: p.offlineReplicas,
                    error: p.errorCode == 0 ? nil : KafkaErrorCode(rawValue: p.errorCode)
                )
            }.sorted { $0.partition < $1.partition }
            topics[name] = Topic(name: name, topicId: t.topicId == .zero ? nil : t.topicId, isInternal: t.isInternal, partitions: partitions,
                                 error: t.errorCode == 0 ? nil : KafkaErrorCode(rawValue: t.errorCode))
        }
        self.topics = topics
    }

    /// The leader broker of `topic`/`partition`, if known and alive in this snapshot.
    /// - Parameters:
    ///   - topic: The topic.
    ///   - partition: The partition index.
    /// - Returns: The leader; nil when unknown, leaderless or not among the brokers.
    public func leader(topic: String, partition: Int32) -> Broker? {
        guard let p = topics[topic]?.partitions.first(where: { $0.partition == partition }), let leader = p.leader else { return nil }
        return brokers[leader]
    }

    /// Merges a partial refresh (some topics) into this snapshot: brokers and controller are
    /// replaced, the named topics updated, the others kept.
    /// - Parameters:
    ///   - partial: A snapshot for some topics.
    ///   - names: The topics `partial` was asked for (those it lacks are dropped).
    /// - Returns: The merged snapshot.
    public func merging(_ partial: ClusterMetadata, refreshed names: [String]) -> ClusterMetadata {
        var out = partial
        var topics = self.topics
        for n in names { topics[n] = partial.topics[n] }
        for (n, t) in partial.topics { topics[n] = t }
        out.topics = topics.filter { $0.value.error != .unknownTopicOrPartition }
        return out
    }
}
