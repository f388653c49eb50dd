import Synchronization
public import KafkaProtocol

/// Produce for `FakeCluster`, the way Kafka answers it: a partition's leader appends the batches
/// to its log (transactional ones checked by the coordinator, `FakeCluster+Transactions.swift`);
/// any other broker answers NOT_LEADER_OR_FOLLOWER, from
/// v10 on (when `leaderHints` is on) with the partition's `current_leader` and the leader's
/// `node_endpoints` (KIP-951). Answers can be delayed per broker (`delayProduceAnswers`), and
/// every request is logged (`produces`). Idempotence is not checked: sequences are accepted as
/// they come.
extension FakeCluster {
    /// One Produce request and what the cluster answered.
    public struct ProduceSeen: Sendable {
        public let broker: Int32
        public let version: Int16
        /// Each partition the request carried, with the answer's error code.
        public let answered: [(PartitionKey, KafkaErrorCode)]
        /// Whether the answer carried a `current_leader` for some partition.
        public let hinted: Bool
        public let at: ContinuousClock.Instant
    }

    /// Every Produce so far, in arrival order.
    public var produces: [ProduceSeen] { state.withLock { $0.produces } }

    /// Delays `broker`'s Produce answers by `delay` (nil: answer at once).
    public func delayProduceAnswers(broker: Int32, by delay: Duration?) {
        state.withLock { $0.produceDelay[broker] = delay }
    }

    /// The record count of every batch in the partition's log, in order.
    public func batchRecordCounts(_ topic: String, _ partition: Int32) -> [Int64] {
        state.withLock { s in s.topics[topic]?.partitions[Int(partition)].batches.map { $0.last - $0.base + 1 } ?? [] }
    }

    func produce(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let p = try? req.decode(ProduceRequest.self) else { return .disconnect }
        let version = req.header.apiVersion
        let node = broker.nodeId
        var r = ProduceResponse()
        var seen: [(PartitionKey, KafkaErrorCode)] = []
        var endpoints: Set<Int32> = []
        for t in p.topicData {
            var rt = ProduceResponse.Topic()
            rt.name = t.name
            for data in t.partitionData {
                var out = ProduceResponse.Partition()
                out.index = data.index
                let key = PartitionKey(t.name, data.index)
                let route = leadership(t.name, data.index)
                switch route {
                case nil:
                    out.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                case let (leader, epoch)? where leader != node:
                    out.errorCode = KafkaErrorCode.notLeaderOrFollower.rawValue
                    out.baseOffset = -1
                    if leaderHints && version >= 10 && leader >= 0 {
                        out.currentLeader = .init(leaderId: leader, leaderEpoch: epoch)
                        endpoints.insert(leader)
                    }
                default:
                    switch appendProduced(key, data.records ?? [], version: version) {
                    case let .success(base):
                        out.baseOffset = base
                        out.logStartOffset = 0
                    case let .failure(e):
                        out.errorCode = e.code.rawValue
                        out.baseOffset = -1
                    }
                }
                seen.append((key, KafkaErrorCode(rawValue: out.errorCode)))
                rt.partitionResponses.append(out)
            }
            r.responses.append(rt)
        }
        let delay: Duration? = state.withLock { s in
            if !endpoints.isEmpty {
                r.nodeEndpoints = endpoints.sorted().compactMap { id in
                    s.brokers[id].map { .init(nodeId: id, host: $0.host, port: Int32($0.port)) }
                }
            }
            s.produces.append(ProduceSeen(broker: node, version: version, answered: seen, hinted: !endpoints.isEmpty, at: .now))
            return s.produceDelay[node]
        }
        if p.acks == 0 { return .ignore }
        let body = broker.body(r, for: req)
        return delay.map { .respondAfter($0, body) } ?? .respond(body)
    }
}
