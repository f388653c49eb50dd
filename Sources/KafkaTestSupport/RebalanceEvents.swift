public import KafkaClient

/// What a member owns after a sequence of rebalance events: the one fold of `assigned`
/// (added), `revoked` and `lost` (removed) that the group suites share.
public enum RebalanceEvents {
    /// The partitions `events` leave the member owning, in order of arrival.
    /// - Parameter events: Every event the member's handler received, oldest first.
    /// - Returns: The owned partitions.
    public static func owned(after events: [RebalanceEvent]) -> Set<TopicPartition> {
        var owned = Set<TopicPartition>()
        for e in events {
            switch e {
            case let .assigned(p): owned.formUnion(p)
            case let .revoked(p), let .lost(p): owned.subtract(p)
            }
        }
        return owned
    }
}
