import KafkaProtocol

/// Reading an OffsetFetch response: the one place its layouts and error rules live, for the
/// group member (`ConsumerGroup.committedOffsets`) and the group admin
/// (`listConsumerGroupOffsets`).
///
/// Layouts: v8+ answers per group (`groups[]`), older versions at the top level, and v1 even
/// repeats group-level errors (NOT_COORDINATOR…) on every partition. Rules: a group-level or
/// partition error that is retriable (coordinator moved or loading, UNSTABLE_OFFSET_COMMIT
/// while a transaction is open) makes the whole answer a retry; a topic deleted since the
/// commit (UNKNOWN_TOPIC_OR_PARTITION) is left out; offset -1 means nothing committed.
enum OffsetFetchAnswer {
    /// `response` (at `version`) for `group`, asked of `broker` (`host:port`, for errors).
    static func read(_ response: OffsetFetchResponse, version: Int16, group: String, broker: String) -> GroupStep<[TopicPartition: ConsumerGroupOffset]> {
        typealias Row = (topic: String, partition: Int32, offset: Int64, epoch: Int32, metadata: String?, error: Int16)
        var rows: [Row] = []
        var groupError: Int16 = 0
        if version >= 8 {
            guard let g = response.groups.first(where: { $0.groupId == group }) else {
                return .done(.failure(KafkaError(.decoding, "the OffsetFetch response did not mention group \(group)", context: .init(broker: broker, apiKey: .offsetFetch))))
            }
            groupError = g.errorCode
            rows = g.topics.flatMap { t in t.partitions.map { (t.name, $0.partitionIndex, $0.committedOffset, $0.committedLeaderEpoch, $0.metadata, $0.errorCode) } }
        } else {
            groupError = response.errorCode
            rows = response.topics.flatMap { t in t.partitions.map { (t.name, $0.partitionIndex, $0.committedOffset, $0.committedLeaderEpoch, $0.metadata, $0.errorCode) } }
        }
        let code = KafkaErrorCode(rawValue: groupError)
        guard code.isSuccess else { return step(code, group: group, broker: broker, topicPartition: nil) }
        var out: [TopicPartition: ConsumerGroupOffset] = [:]
        for row in rows {
            let code = KafkaErrorCode(rawValue: row.error)
            // A topic deleted since the commit has no offsets worth reporting.
            if code == .unknownTopicOrPartition { continue }
            guard code.isSuccess else {
                return step(code, group: group, broker: broker, topicPartition: TopicPartition(topic: row.topic, partition: row.partition))
            }
            guard row.offset >= 0 else { continue }
            out[TopicPartition(topic: row.topic, partition: row.partition)] = ConsumerGroupOffset(
                offset: row.offset, leaderEpoch: row.epoch >= 0 ? row.epoch : nil, metadata: row.metadata
            )
        }
        return .done(.success(out))
    }

    private static func step<T>(_ code: KafkaErrorCode, group: String, broker: String, topicPartition tp: TopicPartition?) -> GroupStep<T> {
        let e = KafkaError.broker(code, "group \(group): \(code.message)", context: .init(broker: broker, apiKey: .offsetFetch, topic: tp?.topic, partition: tp?.partition))
        return code.isRetriable ? .retry(e) : .done(.failure(e))
    }
}
