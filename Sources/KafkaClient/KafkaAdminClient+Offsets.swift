public import KafkaProtocol
import KafkaNet

extension KafkaAdminClient {
    /// Looks up an offset per partition with ListOffsets at each partition's leader:
    /// `.end` is the log end offset (high watermark, what lag is measured against), `.beginning`
    /// the log start, `.timestamp(t)` the first offset written at or after `t` (nil when no
    /// record is that new).
    ///
    /// One result per distinct partition. Leader moves and other retriable errors
    /// (NOT_LEADER_OR_FOLLOWER, a lost connection…) refresh metadata and retry until
    /// `default.api.timeout.ms`; an unknown topic or partition fails at once. Never creates
    /// topics.
    ///
    /// Read uncommitted: `.end` counts records of open transactions too, as Kafka's own lag
    /// tooling does.
    /// - Parameters:
    ///   - partitions: The partitions.
    ///   - spec: Which offset: `.beginning`, `.end` or `.timestamp(_:)` (`.offset(_:)` returns itself).
    /// - Returns: One result per partition; `.success(nil)` when the broker has no such offset
    ///   (it answered -1: no record at or after the timestamp).
    /// - Throws: `KafkaError`: `.configuration` for a negative timestamp; otherwise only when metadata cannot be had
    ///   (e.g. no broker reachable, `.cancelled` when the task is cancelled).
    public func listOffsets(_ partitions: [TopicPartition], spec: OffsetSpec = .end) async throws -> [TopicPartition: Result<Int64?, KafkaError>] {
        let timestamp: Int64
        switch spec {
        case .end: timestamp = ListOffsetsRequest.latestTimestamp
        case .beginning: timestamp = ListOffsetsRequest.earliestTimestamp
        case let .timestamp(t):
            guard t >= 0 else { throw KafkaError(.configuration, "timestamp must not be negative, got \(t)") }
            timestamp = t
        case let .offset(o):
            return Dictionary(partitions.map { ($0, .success(Optional(o))) }, uniquingKeysWith: { a, _ in a })
        }
        var results: [TopicPartition: Result<Int64?, KafkaError>] = [:]
        var pending = Array(Set(partitions))
        var rounds = RetryRounds(config: cluster.config)
        var metadata = try await cluster.withRetries("Metadata") { [self] in try await cluster.metadata() }
        if pending.contains(where: { metadata.topics[$0.topic] == nil }) {
            metadata = try await cluster.withRetries("Metadata") { [self] in try await cluster.refreshMetadata(topics: nil) }
        }
        while !pending.isEmpty {
            var retry: [TopicPartition: KafkaError] = [:]
            var byLeader: [Int32: [TopicPartition]] = [:]
            for tp in pending {
                let context = KafkaError.Context(apiKey: .listOffsets, topic: tp.topic, partition: tp.partition)
                guard let topic = metadata.topics[tp.topic], topic.error != .unknownTopicOrPartition,
                      let p = topic.partitions.first(where: { $0.partition == tp.partition }) else {
                    results[tp] = .failure(KafkaError.broker(.unknownTopicOrPartition, context: context))
                    continue
                }
                if let e = topic.error ?? p.error, e != .leaderNotAvailable {
                    if e.isRetriable { retry[tp] = KafkaError.broker(e, context: context) } else { results[tp] = .failure(KafkaError.broker(e, context: context)) }
                    continue
                }
                guard let leader = p.leader else {
                    retry[tp] = KafkaError.broker(.leaderNotAvailable, context: context)
                    continue
                }
                byLeader[leader, default: []].append(tp)
            }
            for leader in byLeader.keys.sorted() {
                let tps = byLeader[leader, default: []]
                let byTopic = Dictionary(grouping: tps, by: \.topic)
                let request = ListOffsetsRequest(topics: byTopic.keys.sorted().map { t in
                    .init(name: t, partitions: byTopic[t, default: []].sorted { $0.partition < $1.partition }.map { .init(partitionIndex: $0.partition, timestamp: timestamp) })
                })
                let response: ListOffsetsResponse
                do {
                    response = try await rounds.attempt { [cluster] in try await cluster.link(forNode: leader).send(request) }
                } catch let e as KafkaError where e.kind == .closed || e.kind == .cancelled {
                    throw e
                } catch let e as KafkaError {
                    for tp in tps { if e.isRetriable { retry[tp] = e } else { results[tp] = .failure(e) } }
                    continue
                }
                var answered: Set<TopicPartition> = []
                for t in response.topics {
                    for p in t.partitions {
                        let tp = TopicPartition(topic: t.name, partition: p.partitionIndex)
                        guard tps.contains(tp) else { continue }
                        answered.insert(tp)
                        let code = KafkaErrorCode(rawValue: p.errorCode)
                        if code.isSuccess {
                            results[tp] = .success(p.offset >= 0 ? p.offset : nil)  // -1: no such offset
                        } else {
                            let e = KafkaError.broker(code, context: .init(apiKey: .listOffsets, topic: tp.topic, partition: tp.partition))
                            // UNKNOWN_TOPIC_OR_PARTITION here (the metadata knew the partition) is a
                            // leader that has not caught up yet, or a topic deleted meanwhile: the
                            // next round's metadata tells which.
                            if code.isRetriable { retry[tp] = e } else { results[tp] = .failure(e) }
                        }
                    }
                }
                for tp in tps where !answered.contains(tp) {
                    results[tp] = .failure(KafkaError(.decoding, "the ListOffsets response did not mention \(tp)", context: .init(apiKey: .listOffsets, topic: tp.topic, partition: tp.partition)))
                }
            }
            pending = pending.filter { retry[$0] != nil }
            guard !pending.isEmpty else { break }
            guard try await rounds.next() else {
                for tp in pending { results[tp] = .failure(RetryRounds.timedOut("ListOffsets for \(tp)", last: retry[tp])) }
                break
            }
            if let fresh = try? await cluster.refreshMetadata(topics: nil) { metadata = fresh }
        }
        return results
    }
}
