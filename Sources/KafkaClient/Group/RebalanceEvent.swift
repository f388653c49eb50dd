/// A change of the partitions a group member reads, told to the application before it takes
/// effect (`revoked`, `lost`) or before the first record is delivered (`assigned`).
public enum RebalanceEvent: Sendable, Equatable {
    /// These partitions are now ours; reading starts at the committed offsets (or
    /// `auto.offset.reset`). Seeking here changes where reading starts.
    case assigned([TopicPartition])
    /// These partitions are being handed to another member: commit or flush their state now.
    /// With `enable.auto.commit`, their processed positions are committed right after.
    case revoked([TopicPartition])
    /// These partitions were taken away without a clean hand-over (the generation expired,
    /// the member was removed, or the application stopped polling); another member may already
    /// be reading them, so their offsets are not committed.
    case lost([TopicPartition])
}

/// Receives rebalance events; awaited before the partitions move.
public typealias RebalanceHandler = @Sendable (RebalanceEvent) async -> Void
