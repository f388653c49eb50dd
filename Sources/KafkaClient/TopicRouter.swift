import KafkaProtocol

/// Who leads each partition, and the one place that applies the leader-epoch rules.
///
/// A pure value: fed Metadata answers and "leader moved" hints, it answers `leader(for:)` and
/// `partitions(of:)`. Producer, consumer and admin all read leaders through it (via the
/// cluster's metadata cache), so the rules below hold for every client:
///
/// - **KIP-320**: a Metadata answer never moves a partition back to an older leader epoch. A
///   broker that has not caught up yet may still name the previous leader; the newer route is
///   kept and the topic is marked for another refresh.
/// - **KIP-951**: a NOT_LEADER_OR_FOLLOWER answer may carry the new leader (`CurrentLeader` in
///   Produce v10+/Fetch v12+). It moves the partition only if its epoch is newer than the one
///   known, and only to a broker the metadata lists (otherwise a refresh is requested: the
///   client could not connect to an unknown node id anyway).
/// - An answer without epochs (Metadata before v7, or a leaderless error entry) is taken as it
///   is: there is nothing to compare, and keeping an old leader forever would be worse.
/// - Unknown or fenced epochs, leaderless partitions and routing errors request a refresh of
///   the topic (`wanted`), which the cache drains.
struct TopicRouter: Sendable, Equatable {
    /// The merged view: brokers and controller from the latest answer, each topic from the latest
    /// answer that named it, with leaders and epochs as the rules above left them.
    private(set) var metadata = ClusterMetadata()
    /// Topics whose routing is stale or incomplete: the next refresh should ask for them.
    private(set) var wanted: Set<String> = []

    /// What a "leader moved" hint did.
    enum HintOutcome: Sendable, Equatable {
        /// The partition now routes to the hinted leader: retry there at once.
        case moved
        /// The hint is not newer than what is known (the route is unchanged, or already newer).
        case stale
        /// The hint could not be used (no epoch, an unknown broker or partition): a refresh was
        /// requested.
        case needsRefresh
    }

    init() {}

    /// The current leader of `tp`, if the metadata names a live one.
    func leader(for tp: TopicPartition) -> Int32? {
        partition(tp)?.leader
    }

    /// The leader epoch known for `tp`, nil when unknown (the KIP-320 `current_leader_epoch`
    /// to send is `-1` then).
    func leaderEpoch(for tp: TopicPartition) -> Int32? {
        partition(tp)?.leaderEpoch
    }

    /// The partition numbers of `topic` (sorted), nil when the topic is unknown.
    func partitions(of topic: String) -> [Int32]? {
        metadata.topics[topic]?.partitions.map(\.partition)
    }

    /// The broker `nodeId`, if the metadata lists it.
    func broker(_ nodeId: Int32) -> ClusterMetadata.Broker? {
        metadata.brokers[nodeId]
    }

    /// Applies a Metadata answer. `refreshed`: the topics the request asked for (nil: all
    /// topics — then topics the answer leaves out are forgotten). Brokers and controller are
    /// replaced; each answered topic is replaced, except that a partition whose known epoch is
    /// newer than the answer's keeps its route (and its topic stays `wanted`).
    mutating func apply(_ answer: ClusterMetadata, refreshed: [String]?) {
        var next = metadata.merging(answer, refreshed: refreshed ?? [])
        if refreshed == nil {
            next.topics = answer.topics.filter { $0.value.error != .unknownTopicOrPartition }
        }
        var stillWanted = wanted
        for (name, fresh) in answer.topics {
            stillWanted.remove(name)
            guard var topic = next.topics[name] else { continue }
            let old = metadata.topics[name]
            for i in topic.partitions.indices {
                let p = topic.partitions[i]
                if let known = old?.partitions.first(where: { $0.partition == p.partition }), Self.isOlder(p, than: known) {
                    // KIP-320: keep the newer leader; the answering broker is behind.
                    topic.partitions[i].leader = known.leader
                    topic.partitions[i].leaderEpoch = known.leaderEpoch
                    stillWanted.insert(name)
                } else if p.leader == nil {
                    stillWanted.insert(name)
                }
            }
            if fresh.error != nil && fresh.error != .unknownTopicOrPartition { stillWanted.insert(name) }
            next.topics[name] = topic
        }
        // A topic asked for but left out of the answer (or unknown) is no longer wanted: the
        // caller sees it missing and decides.
        for n in refreshed ?? [] where answer.topics[n] == nil { stillWanted.remove(n) }
        if refreshed == nil { stillWanted = stillWanted.filter { next.topics[$0] != nil } }
        metadata = next
        wanted = stillWanted
    }

    /// A KIP-951 hint from a Produce or Fetch error answer: `leader` leads `tp` at `epoch`.
    mutating func leaderMoved(_ tp: TopicPartition, leader: Int32, epoch: Int32) -> HintOutcome {
        guard leader >= 0, epoch >= 0, let index = partitionIndex(tp) else {
            wanted.insert(tp.topic)
            return .needsRefresh
        }
        let known = metadata.topics[tp.topic]?.partitions[index]
        if let k = known?.leaderEpoch, epoch <= k { return .stale }
        guard metadata.brokers[leader] != nil else {
            wanted.insert(tp.topic)
            return .needsRefresh
        }
        metadata.topics[tp.topic]?.partitions[index].leader = leader
        metadata.topics[tp.topic]?.partitions[index].leaderEpoch = epoch
        return .moved
    }

    /// Registers brokers an answer named (KIP-951 `node_endpoints`) that the metadata does not
    /// list yet, so a hint can move a partition to them. Known brokers are left as they are:
    /// the next Metadata answer replaces the broker list anyway.
    mutating func learn(_ brokers: [ClusterMetadata.Broker]) {
        for b in brokers where metadata.brokers[b.nodeId] == nil { metadata.brokers[b.nodeId] = b }
    }

    /// A partition-level error from a leader: when it means the route is stale (or the leader
    /// epoch we sent is fenced or unknown to the broker), the topic is marked for a refresh.
    /// Returns whether it did.
    @discardableResult
    mutating func partitionFailed(_ tp: TopicPartition, code: KafkaErrorCode) -> Bool {
        guard Self.isRoutingError(code) else { return false }
        wanted.insert(tp.topic)
        return true
    }

    /// Marks `topics` for the next refresh (e.g. a producer's unknown topic).
    mutating func want(_ topics: some Sequence<String>) {
        wanted.formUnion(topics)
    }

    /// Errors that say "your idea of who leads this partition is wrong or out of date".
    static func isRoutingError(_ code: KafkaErrorCode) -> Bool {
        switch code {
        case .notLeaderOrFollower, .fencedLeaderEpoch, .unknownLeaderEpoch, .leaderNotAvailable,
             .unknownTopicOrPartition, .replicaNotAvailable, .kafkaStorageError, .notEnoughReplicas:
            return true
        default:
            return false
        }
    }

    /// True when `fresh` would move the partition back to an older epoch than `known`. An
    /// answer without an epoch is never "older": nothing can be compared.
    private static func isOlder(_ fresh: ClusterMetadata.Partition, than known: ClusterMetadata.Partition) -> Bool {
        guard let f = fresh.leaderEpoch, let k = known.leaderEpoch else { return false }
        return f < k
    }

    private func partition(_ tp: TopicPartition) -> ClusterMetadata.Partition? {
        partitionIndex(tp).flatMap { metadata.topics[tp.topic]?.partitions[$0] }
    }

    /// Partitions are sorted by number and almost always dense (0…n-1): try the direct index
    /// first, then search.
    private func partitionIndex(_ tp: TopicPartition) -> Int? {
        guard let ps = metadata.topics[tp.topic]?.partitions else { return nil }
        let guess = Int(tp.partition)
        if guess >= 0, guess < ps.count, ps[guess].partition == tp.partition { return guess }
        return ps.firstIndex { $0.partition == tp.partition }
    }
}
