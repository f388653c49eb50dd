import Synchronization
import KafkaProtocol

/// Metadata and ListOffsets for `FakeCluster`: every broker, each partition's leader and leader
/// epoch, topic ids; earliest/latest (the last stable offset under read_committed) and by timestamp.
extension FakeCluster {
    func metadata(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let m = try? req.decode(MetadataRequest.self) else { return .disconnect }
        let r: MetadataResponse = state.withLock { s in
            s.metadataRequests[broker.nodeId, default: 0] += 1
            var r = MetadataResponse()
            r.brokers = s.brokers.sorted { $0.key < $1.key }.map { .init(nodeId: $0.key, host: $0.value.host, port: Int32($0.value.port)) }
            r.clusterId = "fake-cluster"
            r.controllerId = s.brokers.keys.min() ?? -1
            let names = m.topics.map { $0.compactMap(\.name) } ?? s.topics.keys.sorted()
            let all = s.brokers.keys.sorted()
            r.topics = names.map { n in
                var t = MetadataResponse.Topic()
                t.name = n
                guard let topic = s.topics[n] else {
                    t.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                    return t
                }
                t.topicId = topic.id
                t.partitions = topic.partitions.enumerated().map { i, p in
                    var mp = MetadataResponse.Partition()
                    mp.partitionIndex = Int32(i)
                    mp.leaderId = p.leader
                    mp.leaderEpoch = p.leaderEpoch
                    mp.replicaNodes = all
                    mp.isrNodes = all
                    if p.leader < 0 { mp.errorCode = KafkaErrorCode.leaderNotAvailable.rawValue }
                    return mp
                }
                return t
            }
            return r
        }
        return .respond(broker.body(r, for: req))
    }

    func listOffsets(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let l = try? req.decode(ListOffsetsRequest.self) else { return .disconnect }
        let r: ListOffsetsResponse = state.withLock { s in
            var r = ListOffsetsResponse()
            r.topics = l.topics.map { t in
                var rt = ListOffsetsResponse.Topic()
                rt.name = t.name
                rt.partitions = t.partitions.map { lp in
                    var out = ListOffsetsResponse.Partition()
                    out.partitionIndex = lp.partitionIndex
                    guard let ps = s.topics[t.name]?.partitions, ps.indices.contains(Int(lp.partitionIndex)) else {
                        out.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                        return out
                    }
                    let p = ps[Int(lp.partitionIndex)]
                    guard p.leader == broker.nodeId else {
                        out.errorCode = KafkaErrorCode.notLeaderOrFollower.rawValue
                        return out
                    }
                    out.leaderEpoch = p.leaderEpoch
                    switch lp.timestamp {
                    case -2: out.offset = p.batches.first?.base ?? p.end
                    case -1: out.offset = l.isolationLevel == 1 ? p.lastStable : p.end
                    default: out.offset = p.batches.first { $0.maxTimestamp >= lp.timestamp }?.base ?? -1
                    }
                    return out
                }
                return rt
            }
            return r
        }
        return .respond(broker.body(r, for: req))
    }
}
