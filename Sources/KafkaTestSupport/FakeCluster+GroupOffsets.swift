import Synchronization
import KafkaProtocol

/// The group side of `FakeCluster`'s coordinators: FindCoordinator (groups and transactions, v0–3
/// one key, v4+ batched), committed offsets (OffsetCommit, OffsetFetch with `require_stable`),
/// and the membership commits are checked against: what the test declares (`declareGroup`), or
/// what JoinGroup made it (`+GroupMembership.swift` keeps `declared` in step), or anything goes.
extension FakeCluster {
    /// FindCoordinator's `key_type`.
    public enum CoordinatorType: Int8, Sendable {
        case group = 0
        case transaction = 1
    }

    struct CoordinatorKey: Hashable {
        var type: CoordinatorType
        var key: String
    }

    /// Committed offsets and declared memberships, as a pure value.
    struct GroupOffsets {
        struct Declared {
            var generationId: Int32
            var members: Set<String>
            /// Static members: instance id → member id.
            var instances: [String: String]
        }

        var committed: [String: [PartitionKey: CommittedOffset]] = [:]
        var declared: [String: Declared] = [:]

        /// The group's check of a commit's member fields (Kafka's order: static member fenced,
        /// unknown member, generation). An undeclared group accepts everything; an anonymous
        /// commit (no member id, generation < 0) is accepted in a transaction (KIP-447's
        /// compatibility) and on a declared group without members.
        func validate(_ group: String, generation: Int32, memberId: String, instanceId: String?, transactional: Bool) -> KafkaErrorCode? {
            guard let g = declared[group] else { return nil }
            if memberId.isEmpty && generation < 0 {
                return transactional || g.members.isEmpty ? nil : .unknownMemberId
            }
            if let instanceId, let owner = g.instances[instanceId], owner != memberId { return .fencedInstanceId }
            guard g.members.contains(memberId) else { return .unknownMemberId }
            guard generation == g.generationId else { return .illegalGeneration }
            return nil
        }
    }

    // MARK: Setup and inspection

    /// Declares a group's generation and members, so that OffsetCommit and TxnOffsetCommit (v3+)
    /// answer ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID and FENCED_INSTANCE_ID as its coordinator would.
    /// - Parameters:
    ///   - groupId: The group.
    ///   - generationId: Its current generation.
    ///   - members: Its member ids.
    ///   - instanceIds: Its static members: instance id → the member id that holds it now.
    public func declareGroup(_ groupId: String, generationId: Int32, members: [String], instanceIds: [String: String] = [:]) {
        state.withLock { $0.groups.declared[groupId] = .init(generationId: generationId, members: Set(members), instances: instanceIds) }
    }

    /// The group's committed offset for the partition (nil: none; pending transactional
    /// offsets are not committed until their transaction commits).
    public func committedOffset(group: String, _ topic: String, _ partition: Int32) -> CommittedOffset? {
        state.withLock { $0.groups.committed[group]?[PartitionKey(topic, partition)] }
    }

    /// Makes `node` the coordinator of `key` (default: the lowest broker id); requests for it at
    /// any other broker are answered NOT_COORDINATOR. A node without a broker: FindCoordinator
    /// answers COORDINATOR_NOT_AVAILABLE.
    public func moveCoordinator(_ type: CoordinatorType, _ key: String, to node: Int32) {
        state.withLock { $0.coordinatorNodes[CoordinatorKey(type: type, key: key)] = node }
    }

    /// The node coordinating `key`.
    public func coordinator(_ type: CoordinatorType, _ key: String) -> Int32 {
        state.withLock { Self.coordinator(in: $0, type, key) }
    }

    static func coordinator(in s: State, _ type: CoordinatorType, _ key: String) -> Int32 {
        s.coordinatorNodes[CoordinatorKey(type: type, key: key)] ?? s.brokers.keys.min() ?? -1
    }

    func partitionExists(_ s: State, _ key: PartitionKey) -> Bool {
        s.topics[key.topic]?.partitions.indices.contains(Int(key.partition)) ?? false
    }

    // MARK: Serving

    func findCoordinator(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let f = try? req.decode(FindCoordinatorRequest.self) else { return .disconnect }
        let version = req.header.apiVersion
        let keys = version >= 4 ? f.coordinatorKeys : [f.key]
        let answers: [FindCoordinatorResponse.Coordinator] = state.withLock { s in
            keys.map { key in
                var c = FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1)
                if let type = CoordinatorType(rawValue: f.keyType), !key.isEmpty {
                    let node = Self.coordinator(in: s, type, key)
                    if let b = s.brokers[node] {
                        (c.nodeId, c.host, c.port) = (node, b.host, Int32(b.port))
                    } else {
                        c.errorCode = KafkaErrorCode.coordinatorNotAvailable.rawValue
                    }
                } else {
                    c.errorCode = KafkaErrorCode.invalidRequest.rawValue
                }
                let type = CoordinatorType(rawValue: f.keyType)
                s.coordinatorRequests.append(CoordinatorRequestSeen(
                    broker: broker.nodeId, apiKey: .findCoordinator, version: version,
                    transactionalId: type == .transaction ? key : nil, groupId: type == .group ? key : nil,
                    errorCode: KafkaErrorCode(rawValue: c.errorCode)))
                return c
            }
        }
        var r = FindCoordinatorResponse()
        if version >= 4 {
            r.coordinators = answers
        } else if let c = answers.first {
            (r.errorCode, r.nodeId, r.host, r.port) = (c.errorCode, c.nodeId, c.host, c.port)
            if version >= 1 { r.errorMessage = nil }
        }
        return .respond(broker.body(r, for: req))
    }

    func offsetCommit(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let c = try? req.decode(OffsetCommitRequest.self) else { return .disconnect }
        let version = req.header.apiVersion
        let codes: [(PartitionKey, KafkaErrorCode)] = state.withLock { s in
            let entries = c.topics.flatMap { t in t.partitions.map { (PartitionKey(t.name, $0.partitionIndex), $0) } }
            var codes: [(PartitionKey, KafkaErrorCode)]
            if Self.coordinator(in: s, .group, c.groupId) != broker.nodeId {
                codes = entries.map { ($0.0, .notCoordinator) }
            } else if let e = s.groups.validate(c.groupId, generation: c.generationIdOrMemberEpoch, memberId: c.memberId,
                                                instanceId: c.groupInstanceId, transactional: false) {
                codes = entries.map { ($0.0, e) }
            } else {
                codes = []
                for (key, p) in entries {
                    guard partitionExists(s, key) else {
                        codes.append((key, .unknownTopicOrPartition))
                        continue
                    }
                    s.groups.committed[c.groupId, default: [:]][key] = CommittedOffset(offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata)
                    codes.append((key, .noError))
                }
            }
            s.coordinatorRequests.append(CoordinatorRequestSeen(broker: broker.nodeId, apiKey: .offsetCommit, version: version, groupId: c.groupId,
                                                                partitions: codes.map(\.0), errorCode: codes.first { !$0.1.isSuccess }?.1 ?? .noError))
            return codes
        }
        return .respond(broker.body(Self.offsetCommitResponse(codes), for: req))
    }

    static func offsetCommitResponse(_ codes: [(PartitionKey, KafkaErrorCode)]) -> OffsetCommitResponse {
        var r = OffsetCommitResponse()
        r.topics = grouped(codes).map { name, parts in
            OffsetCommitResponse.Topic(name: name, partitions: parts.map { .init(partitionIndex: $0.0, errorCode: $0.1.rawValue) })
        }
        return r
    }

    /// One group's answer: every partition asked for (nil: every committed one), each with its
    /// committed offset, -1 for none, or UNSTABLE_OFFSET_COMMIT (`require_stable` while a
    /// transaction holds offsets for it).
    typealias OffsetAnswer = (key: PartitionKey, offset: CommittedOffset?, code: KafkaErrorCode)

    func offsetFetch(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let f = try? req.decode(OffsetFetchRequest.self) else { return .disconnect }
        let version = req.header.apiVersion
        let asked: [(String, [PartitionKey]?)] = version >= 8
            ? f.groups.map { g in (g.groupId, g.topics.map { ts in ts.flatMap { t in t.partitionIndexes.map { PartitionKey(t.name, $0) } } }) }
            : [(f.groupId, f.topics.map { ts in ts.flatMap { t in t.partitionIndexes.map { PartitionKey(t.name, $0) } } })]
        let answers: [(String, KafkaErrorCode, [OffsetAnswer])] = state.withLock { s in
            asked.map { group, keys in
                var code = KafkaErrorCode.noError
                var out: [OffsetAnswer] = []
                if Self.coordinator(in: s, .group, group) != broker.nodeId {
                    code = .notCoordinator
                    // v0–1 have no group error: it goes on every partition.
                    if version < 2 { out = (keys ?? []).map { ($0, nil, code) } }
                } else {
                    let committed = s.groups.committed[group] ?? [:]
                    let wanted = keys ?? committed.keys.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
                    out = wanted.map { key in
                        if f.requireStable && s.transactions.hasPendingOffsets(group: group, key) { return (key, nil, .unstableOffsetCommit) }
                        return (key, committed[key], .noError)
                    }
                }
                s.coordinatorRequests.append(CoordinatorRequestSeen(broker: broker.nodeId, apiKey: .offsetFetch, version: version, groupId: group,
                                                                    partitions: out.map(\.key), requireStable: f.requireStable, errorCode: out.first { !$0.code.isSuccess }?.code ?? code))
                return (group, code, out)
            }
        }
        return .respond(broker.body(Self.offsetFetchResponse(answers, version: version), for: req))
    }

    /// An OffsetFetch answer at `version` (v0–1: group errors on every partition; v2–7 top-level;
    /// v8+ per group).
    static func offsetFetchResponse(_ answers: [(String, KafkaErrorCode, [OffsetAnswer])], version: Int16) -> OffsetFetchResponse {
        var r = OffsetFetchResponse()
        if version >= 8 {
            r.groups = answers.map { group, code, parts in
                var g = OffsetFetchResponse.Group()
                g.groupId = group
                g.errorCode = code.rawValue
                g.topics = grouped(parts.map { ($0.key, $0) }).map { name, ps in
                    var t = OffsetFetchResponse.GroupTopic()
                    t.name = name
                    t.partitions = ps.map { index, a in
                        var p = OffsetFetchResponse.GroupPartition()
                        p.partitionIndex = index
                        p.committedOffset = a.offset?.offset ?? -1
                        p.committedLeaderEpoch = a.offset?.leaderEpoch ?? -1
                        p.metadata = a.offset?.metadata ?? ""
                        p.errorCode = a.code.rawValue
                        return p
                    }
                    return t
                }
                return g
            }
            return r
        }
        guard let (_, code, parts) = answers.first else { return r }
        if version >= 2 { r.errorCode = code.rawValue }
        r.topics = grouped(parts.map { ($0.key, $0) }).map { name, ps in
            var t = OffsetFetchResponse.Topic()
            t.name = name
            t.partitions = ps.map { index, a in
                var p = OffsetFetchResponse.Partition()
                p.partitionIndex = index
                p.committedOffset = a.offset?.offset ?? -1
                p.committedLeaderEpoch = version >= 5 ? a.offset?.leaderEpoch ?? -1 : -1
                p.metadata = a.offset?.metadata ?? ""
                p.errorCode = a.code.rawValue
                return p
            }
            return t
        }
        return r
    }

    /// Pairs grouped by topic, topics in first-seen order, partitions as given.
    static func grouped<V>(_ pairs: [(PartitionKey, V)]) -> [(String, [(Int32, V)])] {
        var out: [(String, [(Int32, V)])] = []
        for (key, v) in pairs {
            if let i = out.firstIndex(where: { $0.0 == key.topic }) {
                out[i].1.append((key.partition, v))
            } else {
                out.append((key.topic, [(key.partition, v)]))
            }
        }
        return out
    }
}
