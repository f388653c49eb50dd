import KafkaProtocol

/// KIP-951 for the producer: a Produce answer (v10+) whose partition failed with
/// NOT_LEADER_OR_FOLLOWER may name the partition's new leader (`current_leader`) and, in the
/// answer's `node_endpoints`, how to reach it. The router applies the epoch rules
/// (`TopicRouter.leaderMoved`: only a newer epoch at a known broker moves a partition); the
/// endpoints are registered first, so a leader the metadata does not list yet can be used.
/// The machine learns the moves before the answer (`leadersMoved`), so the batch's retry is
/// drained to the new leader and no Metadata request is needed for it.
extension ProducerCore {
    /// Feeds a sink's outcome, after the leader moves its answer names (if any).
    func feedAnswer(_ event: ProducerEvent) {
        if case let .answered(_, response, _) = event {
            let moved = cluster.applyLeaderHints(response)
            if !moved.isEmpty { feed(.leadersMoved(cluster.router.metadata, moved)) }
        }
        feed(event)
    }
}

extension Cluster {
    /// Applies the KIP-951 hints of a Produce answer: registers the brokers of
    /// `node_endpoints` the metadata lacks, then moves each partition whose error came with a
    /// `current_leader`. Returns the partitions that moved (a stale or unusable hint moves
    /// nothing; an unusable one requests a refresh, see `leaderMoved`).
    func applyLeaderHints(_ response: ProduceResponse) -> Set<TopicPartition> {
        var hints: [(TopicPartition, ProduceResponse.LeaderIdAndEpoch)] = []
        for t in response.responses {
            for p in t.partitionResponses where p.errorCode != 0 {
                if let leader = p.currentLeader, leader.leaderId >= 0 { hints.append((TopicPartition(topic: t.name, partition: p.index), leader)) }
            }
        }
        guard !hints.isEmpty else { return [] }
        if let endpoints = response.nodeEndpoints, !endpoints.isEmpty {
            learnBrokers(endpoints.map { ClusterMetadata.Broker(nodeId: $0.nodeId, host: $0.host, port: Int($0.port), rack: $0.rack) })
        }
        var moved: Set<TopicPartition> = []
        for (tp, leader) in hints where leaderMoved(tp, leader: leader.leaderId, epoch: leader.leaderEpoch) == .moved {
            moved.insert(tp)
        }
        return moved
    }
}
