import KafkaProtocol

/// Everything the producer asks of cluster metadata, in one place: partition counts and
/// partitions with a leader (for partitioning), the leader of a partition (for draining), and
/// the topics it still needs metadata for. When the shared metadata cache (`TopicRouter`) lands,
/// only this type changes.
struct ProducerRoutes: Sendable {
    /// A topic's shape as the partitioner needs it (built once per metadata update, so the
    /// per-message path does not allocate).
    struct TopicInfo: Sendable {
        var partitionCount: Int32
        var available: [Int32]
    }

    /// The last metadata received (nil before the first).
    private(set) var metadata: ClusterMetadata?
    private(set) var topics: [String: TopicInfo] = [:]
    private var leaders: [TopicPartition: Int32] = [:]
    /// Topics to ask about in the next metadata request (unknown, or a leader went missing).
    private(set) var wanted: Set<String> = []
    /// Partitions a KIP-951 hint just moved: their routing error needs no metadata refresh.
    private var moved: Set<TopicPartition> = []

    /// Adopts a metadata answer.
    mutating func update(_ m: ClusterMetadata) {
        metadata = m
        var info: [String: TopicInfo] = [:]
        var leaders: [TopicPartition: Int32] = [:]
        for (name, t) in m.topics where t.error == nil && !t.partitions.isEmpty {
            info[name] = TopicInfo(partitionCount: Int32(t.partitions.count), available: t.partitions.compactMap { $0.leader != nil ? $0.partition : nil })
            for p in t.partitions { if let l = p.leader { leaders[TopicPartition(topic: name, partition: p.partition)] = l } }
        }
        topics = info
        self.leaders = leaders
    }

    /// The partition's leader, or nil (then its topic is wanted).
    mutating func leader(of tp: TopicPartition) -> Int32? {
        if let l = leaders[tp] { return l }
        wanted.insert(tp.topic)
        return nil
    }

    /// Notes partitions a leader hint moved (see `routingErrorNeedsRefresh`).
    mutating func noteMoved(_ partitions: Set<TopicPartition>) { moved.formUnion(partitions) }

    /// Whether `tp`'s routing error should refresh metadata: no when a hint already moved it
    /// (the note is used up, so a second error on the new route does refresh).
    mutating func routingErrorNeedsRefresh(_ tp: TopicPartition) -> Bool { moved.remove(tp) == nil }

    /// Asks for `topic` in the next metadata request; true when it was not asked for yet.
    @discardableResult
    mutating func want(_ topic: String) -> Bool { wanted.insert(topic).inserted }

    /// The topics for the next metadata request (every known one plus the wanted ones), or nil
    /// when none is needed. Clears `wanted`; `requestFailed` puts them back.
    mutating func takeRequest() -> [String]? {
        guard !wanted.isEmpty || metadata == nil else { return nil }
        let topics = Set(metadata?.topics.keys.map { $0 } ?? []).union(wanted)
        wanted = []
        return Array(topics)
    }

    /// A metadata request for `topics` failed: they stay wanted.
    mutating func requestFailed(_ topics: [String]) {
        wanted.formUnion(topics)
    }

    /// Forgets every wanted topic (their messages were failed).
    mutating func clearWanted() { wanted = [] }
}
