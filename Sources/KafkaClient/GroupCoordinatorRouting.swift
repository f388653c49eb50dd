import KafkaProtocol
import KafkaNet

/// What happened to one group in one round of a per-group admin call.
enum GroupStep<T: Sendable>: Sendable {
    /// Finished: a value, or an error that retrying will not change (GROUP_ID_NOT_FOUND…).
    case done(Result<T, KafkaError>)
    /// Try again after a backoff, finding the coordinator anew (NOT_COORDINATOR,
    /// COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, a lost connection…).
    case retry(KafkaError)
}

extension KafkaAdminClient {
    /// Runs `operation` for each group at that group's coordinator, retrying groups whose step
    /// says so until `default.api.timeout.ms`.
    ///
    /// Each round: the coordinators of the groups still pending from the cluster's
    /// `CoordinatorDirectory` (cached, or one batched FindCoordinator), then one `operation`
    /// call per coordinator with all of its groups. A group whose step says retry has its
    /// coordinator forgotten first, because the reason is usually that the coordinator moved or
    /// is still loading. Returns one result per distinct group id. Throws only when the call as
    /// a whole cannot proceed (client closed, no common protocol version for FindCoordinator).
    func atCoordinators<T: Sendable>(
        _ groups: [String], api: ApiKey,
        _ operation: @escaping @Sendable (BrokerLink, ClusterMetadata.Broker, [String]) async throws -> [String: GroupStep<T>]
    ) async throws -> [String: Result<T, KafkaError>] {
        var results: [String: Result<T, KafkaError>] = [:]
        var pending: [String] = []
        for g in groups where results[g] == nil && !pending.contains(g) {
            if g.isEmpty {
                results[g] = .failure(KafkaError(.configuration, "group id is empty", context: .init(apiKey: api)))
            } else {
                pending.append(g)
            }
        }
        var rounds = RetryRounds(config: cluster.config)
        while !pending.isEmpty {
            var retry: [String: KafkaError] = [:]
            // Every attempt ends by the deadline (`RetryRounds.attempt`).
            let keys = pending.map(CoordinatorKey.group)
            let located: [CoordinatorKey: CoordinatorLookup]
            do {
                located = try await rounds.attempt { [cluster] in try await cluster.coordinators(for: keys) }
            } catch let e as KafkaError where e.isRetriable && ContinuousClock.now >= rounds.end {
                for g in pending { results[g] = .failure(RetryRounds.timedOut("\(api.name) for group \(g)", last: e)) }
                break
            }
            var byNode: [Int32: (ClusterMetadata.Broker, [String])] = [:]
            for g in pending {
                switch located[.group(g)] {
                case let .found(broker)?: byNode[broker.nodeId, default: (broker, [])].1.append(g)
                case let .failed(e)?: results[g] = .failure(e)
                case let .retry(e)?: retry[g] = e
                case nil: retry[g] = KafkaError(.decoding, "FindCoordinator did not answer for group \(g)", context: .init(apiKey: .findCoordinator))
                }
            }
            for nodeId in byNode.keys.sorted() {
                guard let (broker, members) = byNode[nodeId] else { continue }
                let steps: [String: GroupStep<T>]
                do {
                    steps = try await rounds.attempt { [self] in
                        let link = try await coordinatorLink(broker)
                        return try await operation(link, broker, members)
                    }
                } catch let e as KafkaError where e.kind == .closed || e.kind == .cancelled {
                    throw e
                } catch let e as KafkaError {
                    for g in members {
                        // A lost connection or a coordinator we could not reach: look it up anew.
                        if e.isRetriable { retry[g] = e } else { results[g] = .failure(e) }
                        cluster.coordinatorDirectory.invalidate(.group(g), ifAt: broker.nodeId)
                    }
                    continue
                }
                for g in members {
                    switch steps[g] {
                    case let .done(r)?: results[g] = r
                    case let .retry(e)?:
                        retry[g] = e
                        if e.code.map(CoordinatorDirectory.isCoordinatorError) ?? true {
                            cluster.coordinatorDirectory.invalidate(.group(g), ifAt: broker.nodeId)
                        }
                    case nil:
                        results[g] = .failure(KafkaError(.decoding, "the coordinator's \(api.name) response did not mention group \(g)", context: .init(broker: broker.address, apiKey: api)))
                    }
                }
            }
            pending = pending.filter { retry[$0] != nil }
            guard !pending.isEmpty else { break }
            guard try await rounds.next() else {
                for g in pending { results[g] = .failure(RetryRounds.timedOut("\(api.name) for group \(g)", last: retry[g])) }
                break
            }
        }
        return results
    }

    /// The link to a coordinator named by FindCoordinator. Links are kept per node id from the
    /// metadata; a coordinator the cached metadata does not list yet (a broker that just
    /// joined) triggers one refresh.
    func coordinatorLink(_ broker: ClusterMetadata.Broker) async throws -> BrokerLink {
        if try await cluster.metadata().brokers[broker.nodeId] == nil {
            let m = try await cluster.refreshMetadata(topics: nil)
            guard m.brokers[broker.nodeId] != nil else {
                throw KafkaError(.connection, "coordinator \(broker.nodeId) at \(broker.address) is not in the cluster metadata yet", context: .init(broker: broker.address))
            }
        }
        return try cluster.link(forNode: broker.nodeId)
    }
}
