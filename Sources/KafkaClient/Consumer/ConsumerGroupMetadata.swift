/// What a transactional producer needs to know about a consumer's group membership to commit
/// offsets inside a transaction (`sendOffsetsToTransaction`, KIP-447): the coordinator fences a
/// TxnOffsetCommit whose generation or member is stale, so a zombie that lost its partitions in
/// a rebalance cannot commit offsets for them.
///
/// Take it from `KafkaConsumer.groupMetadata` right before committing the transaction: it is a
/// snapshot, and a rebalance after it makes the commit fail (an abortable error).
public struct ConsumerGroupMetadata: Sendable, Hashable, CustomStringConvertible {
    /// `group.id`.
    public var groupId: String
    /// The generation the member belongs to; nil when it is not a member (before its first
    /// join completes, or after it left or was fenced). Sent as -1, which only a coordinator
    /// without KIP-447 fencing accepts.
    public var generationId: Int32?
    /// The member id the coordinator gave; nil before the first join.
    public var memberId: String?
    /// `group.instance.id` (KIP-345 static membership), if configured.
    public var groupInstanceId: String?

    /// Metadata for `groupId` as the given member. Use `KafkaConsumer.groupMetadata` for a
    /// consumer's own; this initializer is for tests and for groups managed elsewhere.
    /// - Parameters:
    ///   - groupId: `group.id`.
    ///   - generationId: The member's generation; nil when it is not a member.
    ///   - memberId: The member id the coordinator gave; nil before the first join.
    ///   - groupInstanceId: `group.instance.id`, if the member is static.
    public init(groupId: String, generationId: Int32? = nil, memberId: String? = nil, groupInstanceId: String? = nil) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
    }

    /// "group G generation N member M", plus the instance id when there is one.
    public var description: String {
        "group \(groupId) generation \(generationId.map(String.init) ?? "none") member \(memberId ?? "none")"
            + (groupInstanceId.map { " instance \($0)" } ?? "")
    }
}
