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
    /// Each round: FindCoordinator for the groups still pending (one batched request on v4+,
    /// one request per group before), then one `operation` call per coordinator with all of its
    /// groups. Coordinators are looked up again every round rather than cached, because the
    /// reason for a retry is usually that the coordinator moved or is still loading. Returns
    /// one result per distinct group id. Throws only when the call as a whole cannot proceed
    /// (client closed, no common protocol version for FindCoordinator).
    func atCoordinators<T: Sendable>(
        _ groups: [String], api: ApiKey,
        _ operation: (BrokerLink, ClusterMetadata.Broker, [String]) async throws -> [String: GroupStep<T>]
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
            let located = try await findCoordinators(pending)
            var byNode: [Int32: (ClusterMetadata.Broker, [String])] = [:]
            for g in pending {
                switch located[g] {
                case let .done(.success(broker))?: byNode[broker.nodeId, default: (broker, [])].1.append(g)
                case let .done(.failure(e))?: results[g] = .failure(e)
                case let .retry(e)?: retry[g] = e
                case nil: retry[g] = KafkaError(.decoding, "FindCoordinator did not answer for group \(g)", context: .init(apiKey: .findCoordinator))
                }
            }
            for nodeId in byNode.keys.sorted() {
                guard let (broker, members) = byNode[nodeId] else { continue }
                let steps: [String: GroupStep<T>]
                do {
                    let link = try await coordinatorLink(broker)
                    steps = try await operation(link, broker, members)
                } catch let e as KafkaError where e.kind == .closed || e.kind == .cancelled {
                    throw e
                } catch let e as KafkaError {
                    for g in members {
                        if e.isRetriable { retry[g] = e } else { results[g] = .failure(e) }
                    }
                    continue
                }
                for g in members {
                    switch steps[g] {
                    case let .done(r)?: results[g] = r
                    case let .retry(e)?: retry[g] = e
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

    /// The coordinator of each group: found, failed for good, or worth asking again.
    func findCoordinators(_ groups: [String]) async throws -> [String: GroupStep<ClusterMetadata.Broker>] {
        let connection: BrokerConnection
        do {
            connection = try await anyConnection()
        } catch let e as KafkaError where e.isRetriable {
            return Dictionary(uniqueKeysWithValues: groups.map { ($0, .retry(e)) })
        }
        let version = try connection.version(for: FindCoordinatorRequest.self)
        let timeout = cluster.config.requestTimeout
        var out: [String: GroupStep<ClusterMetadata.Broker>] = [:]
        func classify(_ group: String, _ c: FindCoordinatorResponse.Coordinator?) {
            guard let c else {
                out[group] = .retry(KafkaError(.decoding, "FindCoordinator response did not mention group \(group)", context: .init(broker: connection.remote, apiKey: .findCoordinator)))
                return
            }
            let code = KafkaErrorCode(rawValue: c.errorCode)
            if code.isSuccess && c.nodeId < 0 {
                // No error but no coordinator either: treat as "not available yet".
                out[group] = .retry(KafkaError.broker(.coordinatorNotAvailable, "FindCoordinator named no node for group \(group)", context: .init(broker: connection.remote, apiKey: .findCoordinator)))
            } else if code.isSuccess {
                out[group] = .done(.success(ClusterMetadata.Broker(nodeId: c.nodeId, host: c.host, port: Int(c.port), rack: nil)))
            } else {
                let e = KafkaError.broker(code, c.errorMessage, context: .init(broker: connection.remote, apiKey: .findCoordinator))
                out[group] = code.isRetriable ? .retry(e) : .done(.failure(e))
            }
        }
        do {
            if version >= 4 {
                let r = try await connection.send(FindCoordinatorRequest(keys: groups, keyType: FindCoordinatorRequest.groupKeyType, version: version), version: version, timeout: timeout)
                // Only the per-key entries count at v4+ (the top-level fields are absent there).
                for g in groups { classify(g, r.coordinators.first { $0.key == g }) }
            } else {
                for g in groups {
                    let r = try await connection.send(FindCoordinatorRequest(keys: [g], keyType: FindCoordinatorRequest.groupKeyType, version: version), version: version, timeout: timeout)
                    classify(g, r.coordinator(for: g))
                }
            }
        } catch let e as KafkaError where e.isRetriable {
            for g in groups where out[g] == nil { out[g] = .retry(e) }
        }
        return out
    }

    /// A connection to some live broker: the known brokers in node order, then (through a
    /// metadata refresh, which tries the bootstrap servers) again.
    func anyConnection() async throws -> BrokerConnection {
        var failures: [String] = []
        for fresh in [false, true] {
            let m = fresh ? try await cluster.refreshMetadata(topics: nil) : try await cluster.metadata()
            for id in m.brokers.keys.sorted() {
                do {
                    return try await cluster.link(forNode: id).connection()
                } catch let e as KafkaError where e.kind == .connection || e.kind == .timeout {
                    failures.append(e.message)
                }
            }
        }
        throw KafkaError(.connection, "no broker reachable (" + failures.joined(separator: "; ") + ")")
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
