public import KafkaProtocol
import KafkaNet

/// Consumer group administration: list, describe, committed offsets, lag, delete.
///
/// Every call that names groups goes to each group's coordinator (FindCoordinator first);
/// NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE and COORDINATOR_LOAD_IN_PROGRESS make it look the
/// coordinator up again and retry, with backoff, until `default.api.timeout.ms`. Errors that
/// belong to one group (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, GROUP_AUTHORIZATION_FAILED…) come
/// back as that group's `Result`; the call itself throws only when it cannot be made at all.
extension KafkaAdminClient {
    /// Every group in the cluster, sorted by id: ListGroups is sent to every broker (each lists
    /// the groups it coordinates) and the answers merged.
    ///
    /// - Parameter states: only groups in these states (ListGroups v4+; with an older broker a
    ///   non-empty filter throws `.unsupportedVersion` rather than silently listing all). A
    ///   broker that ignores the filter is filtered here, except that a group whose state the
    ///   broker did not know (Tansu 0.6 says `Unknown` for every group) is kept, not guessed away.
    /// - Throws: when a broker cannot be listed within `default.api.timeout.ms` (a partial
    ///   listing would look complete).
    public func listGroups(states: Set<ConsumerGroupState> = []) async throws -> [ConsumerGroupListing] {
        let m = try await cluster.withRetries("Metadata") { [self] in try await cluster.refreshMetadata(topics: nil) }
        let filter = states.map(\.rawValue).sorted()
        let wanted = Set(filter.map { $0.lowercased() })
        var merged: [String: ConsumerGroupListing] = [:]
        for id in m.brokers.keys.sorted() {
            let (response, version) = try await cluster.withRetries("ListGroups") { [self] () async throws -> (ListGroupsResponse, Int16) in
                let c = try await cluster.link(forNode: id).connection()
                let v = try c.version(for: ListGroupsRequest.self)
                if !filter.isEmpty && v < 4 {
                    throw KafkaError(.unsupportedVersion, "broker \(id) speaks ListGroups up to v\(v); filtering by state needs v4", context: .init(broker: c.remote, apiKey: .listGroups, apiVersion: v))
                }
                let r = try await c.send(ListGroupsRequest(statesFilter: filter), version: v, timeout: cluster.config.requestTimeout)
                let code = KafkaErrorCode(rawValue: r.errorCode)
                // COORDINATOR_LOAD_IN_PROGRESS is retriable: withRetries asks again.
                guard code.isSuccess else { throw KafkaError.broker(code, context: .init(broker: c.remote, apiKey: .listGroups, apiVersion: v)) }
                return (r, v)
            }
            for g in response.groups {
                let state = version >= 4 && !g.groupState.isEmpty ? ConsumerGroupState(rawValue: g.groupState) : nil
                if let state, !wanted.isEmpty, state != .unknown, !wanted.contains(state.rawValue.lowercased()) { continue }
                merged[g.groupId] = ConsumerGroupListing(
                    groupId: g.groupId, protocolType: g.protocolType.isEmpty ? nil : g.protocolType,  // "": a simple group
                    state: state,
                    type: version >= 5 && !g.groupType.isEmpty ? g.groupType : nil,
                    coordinatorId: id
                )
            }
        }
        return merged.values.sorted { $0.groupId < $1.groupId }
    }

    /// Describes groups: state, protocol, members with their client id, host, static instance id,
    /// subscription and assignment. One result per id, in order.
    ///
    /// Member payloads of `consumer` groups are decoded with the standard consumer protocol;
    /// bytes that do not decode are kept raw and marked `.undecodable` instead of failing the
    /// call. A group that does not exist is GROUP_ID_NOT_FOUND on Kafka 4.0+ (DescribeGroups
    /// v6); older brokers describe it as `Dead` without an error.
    /// - Parameter groupIds: The groups.
    /// - Returns: One result per group, in order.
    /// - Throws: `KafkaError` only when no coordinator could be asked at all (e.g. no broker reachable, `.cancelled` when the task is cancelled).
    public func describeGroups(_ groupIds: [String]) async throws -> [Result<ConsumerGroupDescription, KafkaError>] {
        guard !groupIds.isEmpty else { return [] }
        let results = try await atCoordinators(groupIds, api: .describeGroups) { link, broker, groups in
            let r = try await link.send(DescribeGroupsRequest(groups: groups))
            var out: [String: GroupStep<ConsumerGroupDescription>] = [:]
            for g in r.groups where groups.contains(g.groupId) {
                let code = KafkaErrorCode(rawValue: g.errorCode)
                if code.isSuccess {
                    out[g.groupId] = .done(.success(Self.groupDescription(g, coordinator: broker)))
                } else {
                    out[g.groupId] = Self.step(code, g.errorMessage, group: g.groupId, broker: broker, api: .describeGroups)
                }
            }
            return out
        }
        return groupIds.map { results[$0] ?? .failure(KafkaError(.decoding, "no result for group \($0)", context: .init(apiKey: .describeGroups))) }
    }

    /// Describes one group, throwing its error.
    /// - Parameter groupId: The group.
    /// - Returns: Its description.
    /// - Throws: `KafkaError`: a broker error, `.timeout` once `default.api.timeout.ms` is spent on retries, `.closed` after `close()`, or `.cancelled` when the task is cancelled.
    public func describeGroup(_ groupId: String) async throws -> ConsumerGroupDescription {
        try await describeGroups([groupId])[0].get()
    }

    /// The group's committed offsets (OffsetFetch at its coordinator): every partition it has
    /// committed, or only `partitions`. Partitions without a committed offset are absent.
    ///
    /// - Parameters:
    ///   - groupId: The group whose offsets to read.
    ///   - partitions: The partitions to read; nil for every partition the group committed.
    ///   - requireStable: fail-and-retry partitions with pending transactional commits
    ///     (OffsetFetch v7+, KIP-447) instead of returning the last stable offset.
    /// - Returns: The committed offset of each partition that has one.
    /// - Throws: `KafkaError`: the coordinator's error for the group (after retrying retriable
    ///   ones until `default.api.timeout.ms`), `.timeout`, or `.cancelled`.
    public func listConsumerGroupOffsets(_ groupId: String, partitions: [TopicPartition]? = nil, requireStable: Bool = false) async throws -> [TopicPartition: ConsumerGroupOffset] {
        let timeout = cluster.config.requestTimeout
        var topics: [(name: String, partitionIndexes: [Int32])]?
        if let partitions {
            guard !partitions.isEmpty else { return [:] }
            let byTopic = Dictionary(grouping: partitions, by: \.topic)
            topics = byTopic.keys.sorted().map { t in (t, Array(Set(byTopic[t, default: []].map(\.partition))).sorted()) }
        }
        let results = try await atCoordinators([groupId], api: .offsetFetch) { [topics] link, broker, _ -> [String: GroupStep<[TopicPartition: ConsumerGroupOffset]>] in
            let c = try await link.connection()
            let v = try c.version(for: OffsetFetchRequest.self)
            if topics == nil && v < 2 {
                return [groupId: .done(.failure(KafkaError(.unsupportedVersion, "broker speaks OffsetFetch v1 only, which cannot list every partition; name the partitions", context: .init(broker: broker.address, apiKey: .offsetFetch, apiVersion: v))))]
            }
            let r = try await c.send(OffsetFetchRequest(groupId: groupId, topics: topics, requireStable: requireStable, version: v), version: v, timeout: timeout)
            return [groupId: OffsetFetchAnswer.read(r, version: v, group: groupId, broker: broker.address)]
        }
        return try (results[groupId] ?? .failure(KafkaError(.decoding, "no result for group \(groupId)"))).get()
    }

    /// The group's lag on every partition it has committed offsets for: committed offset, log
    /// end offset (ListOffsets LATEST at each partition's leader) and their difference.
    ///
    /// A partition whose log end cannot be read (topic deleted, no leader within
    /// `default.api.timeout.ms`) has `logEndOffset` = `.failure` and no lag; the call still
    /// succeeds for the others.
    /// - Parameter groupId: The group.
    /// - Returns: Its lag per committed partition.
    /// - Throws: `KafkaError`: a broker error, `.timeout` once `default.api.timeout.ms` is spent on retries, `.closed` after `close()`, or `.cancelled` when the task is cancelled.
    public func consumerGroupLag(_ groupId: String) async throws -> ConsumerGroupLag {
        let committed = try await listConsumerGroupOffsets(groupId)
        let ends = try await logEndOffsets(Array(committed.keys))
        let partitions = committed.map { tp, c in
            ConsumerGroupPartitionLag(topicPartition: tp, committedOffset: c.offset, logEndOffset: ends[tp] ?? .failure(Self.noLogEnd(tp)))
        }.sorted { ($0.topicPartition.topic, $0.topicPartition.partition) < ($1.topicPartition.topic, $1.topicPartition.partition) }
        return ConsumerGroupLag(groupId: groupId, partitions: partitions)
    }

    /// Log end offsets (ListOffsets LATEST) for lag: a partition the broker gave no offset for
    /// (-1) fails instead of having one.
    /// - Parameter partitions: The partitions.
    /// - Returns: One result per partition.
    /// - Throws: As `listOffsets`.
    func logEndOffsets(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Result<Int64, KafkaError>] {
        try await listOffsets(partitions, spec: .end).reduce(into: [:]) { out, entry in
            out[entry.key] = entry.value.flatMap { (offset: Int64?) -> Result<Int64, KafkaError> in
                offset.map { .success($0) } ?? .failure(Self.noLogEnd(entry.key))
            }
        }
    }

    static func noLogEnd(_ tp: TopicPartition) -> KafkaError {
        KafkaError(.decoding, "no log end offset for \(tp)", context: .init(apiKey: .listOffsets, topic: tp.topic, partition: tp.partition))
    }

    /// Deletes groups with their committed offsets; one result per id, in order. A group with
    /// members fails with NON_EMPTY_GROUP, an unknown one with GROUP_ID_NOT_FOUND.
    /// - Parameter groupIds: The groups.
    /// - Returns: One result per group, in order (`.broker(.nonEmptyGroup)` while it has members).
    /// - Throws: `KafkaError` only when no coordinator could be asked at all (e.g. no broker reachable, `.cancelled` when the task is cancelled).
    public func deleteGroups(_ groupIds: [String]) async throws -> [Result<Void, KafkaError>] {
        guard !groupIds.isEmpty else { return [] }
        let results = try await atCoordinators(groupIds, api: .deleteGroups) { link, broker, groups in
            let r = try await link.send(DeleteGroupsRequest(groupsNames: groups))
            var out: [String: GroupStep<Void>] = [:]
            for g in r.results where groups.contains(g.groupId) {
                let code = KafkaErrorCode(rawValue: g.errorCode)
                out[g.groupId] = code.isSuccess ? .done(.success(())) : Self.step(code, nil, group: g.groupId, broker: broker, api: .deleteGroups)
            }
            return out
        }
        return groupIds.map { results[$0] ?? .failure(KafkaError(.decoding, "no result for group \($0)", context: .init(apiKey: .deleteGroups))) }
    }

    /// Deletes one group, throwing its error (e.g. `.nonEmptyGroup`).
    /// - Parameter groupId: The group.
    /// - Throws: `KafkaError`: a broker error, `.timeout` once `default.api.timeout.ms` is spent on retries, `.closed` after `close()`, or `.cancelled` when the task is cancelled.
    public func deleteGroup(_ groupId: String) async throws {
        try await deleteGroups([groupId])[0].get()
    }

    /// Sets a group's committed offsets (OffsetCommit as a non-member: generation -1, no member
    /// id), e.g. to rewind a stopped group. One result per partition. The group must have no
    /// active members: Kafka answers UNKNOWN_MEMBER_ID for the partitions otherwise.
    /// - Parameters:
    ///   - groupId: The group.
    ///   - offsets: The offsets to commit, per partition.
    /// - Returns: One result per partition.
    /// - Throws: `KafkaError`: a broker error, `.timeout` once `default.api.timeout.ms` is spent on retries, `.closed` after `close()`, or `.cancelled` when the task is cancelled.
    public func alterConsumerGroupOffsets(_ groupId: String, offsets: [TopicPartition: ConsumerGroupOffset]) async throws -> [TopicPartition: Result<Void, KafkaError>] {
        guard !offsets.isEmpty else { return [:] }
        if let bad = offsets.first(where: { $0.value.offset < 0 }) {
            throw KafkaError(.configuration, "offset for \(bad.key) must not be negative, got \(bad.value.offset)", context: .init(topic: bad.key.topic, partition: bad.key.partition))
        }
        let byTopic = Dictionary(grouping: offsets.keys, by: \.topic)
        let request = OffsetCommitRequest(groupId: groupId, topics: byTopic.keys.sorted().map { t in
            OffsetCommitRequest.Topic(name: t, partitions: byTopic[t, default: []].sorted { $0.partition < $1.partition }.map { tp in
                let o = offsets[tp] ?? ConsumerGroupOffset(offset: 0)
                return .init(partitionIndex: tp.partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch ?? -1, committedMetadata: o.metadata ?? "")
            })
        })
        let results = try await atCoordinators([groupId], api: .offsetCommit) { link, broker, _ -> [String: GroupStep<[TopicPartition: Result<Void, KafkaError>]>] in
            let r = try await link.send(request)
            var out: [TopicPartition: Result<Void, KafkaError>] = [:]
            for t in r.topics {
                for p in t.partitions {
                    let tp = TopicPartition(topic: t.name, partition: p.partitionIndex)
                    let code = KafkaErrorCode(rawValue: p.errorCode)
                    let e = KafkaError.broker(code, "group \(groupId): \(code.message)", context: .init(broker: broker.address, apiKey: .offsetCommit, topic: tp.topic, partition: tp.partition))
                    // The coordinator answers coordinator errors per partition; committing the
                    // same offsets again elsewhere is harmless, so retry the whole request.
                    if Self.isCoordinatorError(code) { return [groupId: .retry(e)] }
                    out[tp] = code.isSuccess ? .success(()) : .failure(e)
                }
            }
            return [groupId: .done(.success(out))]
        }
        let perPartition = try (results[groupId] ?? .failure(KafkaError(.decoding, "no result for group \(groupId)"))).get()
        return offsets.keys.reduce(into: [:]) { out, tp in
            out[tp] = perPartition[tp] ?? .failure(KafkaError(.decoding, "the OffsetCommit response did not mention \(tp)", context: .init(apiKey: .offsetCommit, topic: tp.topic, partition: tp.partition)))
        }
    }

    // MARK: Decoding

    /// The codes that mean "ask FindCoordinator again".
    static func isCoordinatorError(_ code: KafkaErrorCode) -> Bool {
        CoordinatorDirectory.isCoordinatorError(code)
    }

    /// A group-level error code as a step: retriable codes (the coordinator ones above, among
    /// others) are retried, the rest are that group's final error.
    static func step<T>(_ code: KafkaErrorCode, _ message: String?, group: String, broker: ClusterMetadata.Broker, api: ApiKey) -> GroupStep<T> {
        let e = KafkaError.broker(code, "group \(group): \(message ?? code.message)", context: .init(broker: broker.address, apiKey: api))
        return code.isRetriable ? .retry(e) : .done(.failure(e))
    }

    /// A described group, decoded tolerantly: odd values (authorized_operations -1, an empty
    /// protocol type, members without payloads) are kept or mapped, never fatal.
    static func groupDescription(_ g: DescribeGroupsResponse.DescribedGroup, coordinator: ClusterMetadata.Broker) -> ConsumerGroupDescription {
        let members = g.members.map { m in
            ConsumerGroupMemberDescription(
                memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, host: m.clientHost,
                subscription: payload(m.memberMetadata, protocolType: g.protocolType, ConsumerProtocolSubscription.decode),
                assignment: payload(m.memberAssignment, protocolType: g.protocolType, ConsumerProtocolAssignment.decode)
            )
        }
        return ConsumerGroupDescription(
            groupId: g.groupId, state: ConsumerGroupState(rawValue: g.groupState),
            protocolType: g.protocolType.isEmpty ? nil : g.protocolType, protocolName: g.protocolData.isEmpty ? nil : g.protocolData, members: members, coordinator: coordinator,
            authorizedOperations: g.authorizedOperations >= 0 ? g.authorizedOperations : nil
        )
    }

    /// One member payload: decoded when the group uses the consumer protocol (or does not say,
    /// and the bytes decode as it), otherwise kept raw.
    static func payload<V>(_ bytes: [UInt8], protocolType: String, _ decode: ([UInt8]) throws -> (value: V, version: Int16)) -> GroupMemberPayload<V> {
        guard !bytes.isEmpty else { return .empty }
        switch protocolType {
        case "consumer":
            do {
                let (v, version) = try decode(bytes)
                return .decoded(v, version: version)
            } catch {
                return .undecodable(bytes, reason: "\(error)")
            }
        case "":
            // Some brokers leave the protocol type empty; consumer bytes are recognisable.
            if let (v, version) = try? decode(bytes) { return .decoded(v, version: version) }
            return .opaque(bytes)
        default:
            return .opaque(bytes)
        }
    }
}
