import Synchronization
import KafkaProtocol
import KafkaNet

/// What a consumer subscribes to.
enum Subscription: Sendable, Equatable {
    case topics([String])
    /// A regular expression matched against whole topic names (internal topics excluded),
    /// re-evaluated on every metadata check.
    case pattern(String)
}

/// The consumer a group works for, held weakly: the run loop must not keep a consumer the
/// application dropped alive (its deinit then leaves the group). Nil: it is gone.
struct GroupHost: Sendable {
    weak var consumer: KafkaConsumer?
    init(_ consumer: KafkaConsumer?) { self.consumer = consumer }
}

/// Runs a `GroupStateMachine` against the group coordinator for one `KafkaConsumer`: carries
/// out its actions (requests on a dedicated coordinator connection, assignment changes in the
/// consumer, rebalance events to the application), feeds the answers back, heartbeats on its
/// own schedule however fast the application reads, and auto-commits.
final class ConsumerGroup: Sendable {
    let groupId: String
    let config: ConsumerConfig
    let cluster: Cluster
    let assignors: [any PartitionAssignor]
    let handler: RebalanceHandler?
    let events: AsyncStream<RebalanceEvent>
    private let eventSink: AsyncStream<RebalanceEvent>.Continuation
    private let machine: Mutex<GroupStateMachine>
    private let shared = Mutex(Shared())
    private let signal = Signal()
    /// Signalled when the application asks for more records (or seeks, or closes): what a
    /// revocation waits for.
    private let progressSignal = Signal()

    struct Shared: Sendable {
        var subscription: Subscription = .topics([])
        /// Topics the subscription resolved to at the last check, and their partition counts.
        var matched: [String: Int32] = [:]
        var coordinator: BrokerLink?
        var lastJoin: JoinGroupResponse?
        /// Actions produced outside the run loop (poll, commit errors, subscription changes).
        var injected: [GroupStateMachine.Action] = []
        var lastCommitted: [TopicPartition: Int64] = [:]
        var nextAutoCommit: ContinuousClock.Instant = .now
        var nextMetadataCheck: ContinuousClock.Instant = .now
        var finished = false
        var closing = false
        /// Bumped by `leave(final: false)`: a run loop of an older epoch stops.
        var loopEpoch = 0
    }

    init(groupId: String, config: ConsumerConfig, cluster: Cluster, handler: RebalanceHandler?) throws {
        self.groupId = groupId
        self.config = config
        self.cluster = cluster
        self.handler = handler
        assignors = config.assignors
        let settings = GroupStateMachine.Settings(
            groupId: groupId, instanceId: config.groupInstanceId, sessionTimeout: config.sessionTimeout,
            heartbeatInterval: config.heartbeatInterval, maxPollInterval: config.maxPollInterval,
            retryBackoff: config.client.retryBackoff, rebalanceProtocol: assignors.first?.rebalanceProtocol ?? .eager)
        machine = Mutex(GroupStateMachine(settings: settings, now: .now))
        (events, eventSink) = AsyncStream.makeStream(of: RebalanceEvent.self, bufferingPolicy: .bufferingNewest(1024))
    }

    var memberId: String { machine.withLock { $0.memberId } }
    var generation: Int32 { machine.withLock { $0.generation } }
    var phase: GroupStateMachine.Phase { machine.withLock { $0.phase } }

    // MARK: Inputs from the consumer

    func setSubscription(_ s: Subscription) {
        let changed = shared.withLock { sh -> Bool in
            defer { sh.subscription = s; sh.nextMetadataCheck = .now }
            return sh.subscription != s
        }
        if changed { inject(machine.withLock { $0.subscriptionChanged() }) }
    }

    func polled() {
        let actions = machine.withLock { $0.polled(now: .now) }
        if !actions.isEmpty { inject(actions) }
    }

    /// The application asked for more (its earlier records count as processed now), seeked or
    /// closed: a revocation waiting for it looks again.
    func applicationProgressed() {
        progressSignal.notify()
    }

    private func inject(_ actions: [GroupStateMachine.Action]) {
        guard !actions.isEmpty else { return }
        shared.withLock { $0.injected += actions }
        signal.notify()
    }

    // MARK: Run loop

    /// Runs until the group is closed or fails.
    func run(host: GroupHost) async {
        let epoch = shared.withLock { $0.loopEpoch }
        var pending = machine.withLock { $0.start(now: .now) }
        while shared.withLock({ $0.loopEpoch }) == epoch {
            while !pending.isEmpty {
                let action = pending.removeFirst()
                pending += await execute(action, host: host)
            }
            let phase = self.phase
            if phase == .closed || phase == .failed { break }
            await housekeeping(host: host)
            let wake = machine.withLock { $0.nextWake(now: .now) }
            let limit = shared.withLock { sh in min(sh.nextAutoCommit, sh.nextMetadataCheck) }
            await signal.wait(until: min(wake, limit, .now + .seconds(1)))
            pending = shared.withLock { sh in defer { sh.injected = [] }; return sh.injected }
            pending += machine.withLock { $0.tick(now: .now) }
        }
        shared.withLock { $0.finished = true }
    }

    /// Auto-commit and subscription checks, between actions.
    private func housekeeping(host: GroupHost) async {
        let now = ContinuousClock.now
        let (commitDue, checkDue) = shared.withLock { sh in (sh.nextAutoCommit <= now, sh.nextMetadataCheck <= now) }
        if commitDue {
            shared.withLock { $0.nextAutoCommit = now + config.autoCommitInterval }
            if config.enableAutoCommit, phase == .stable, let host = host.consumer {
                let offsets = host.committablePositions(processedOnly: true, partitions: nil)
                do {
                    try await commit(offsets, onlyChanged: true)
                } catch {
                    // Not fatal (the next round commits again) but never silent: a group whose
                    // auto-commits keep failing re-reads data after a restart.
                    config.client.warn("cgrp", "group \(groupId): auto-commit failed: \(error)")
                }
            }
        }
        if checkDue {
            shared.withLock { $0.nextMetadataCheck = now + min(config.client.metadataMaxAge, .seconds(30)) }
            if let changed = try? await resolveSubscription(), changed, phase == .stable {
                inject(machine.withLock { $0.subscriptionChanged() })
            }
        }
    }

    /// Resolves the subscription against fresh metadata; true when the matched topics or their
    /// partition counts changed since the last resolution.
    @discardableResult
    private func resolveSubscription() async throws -> Bool {
        let sub = shared.withLock { $0.subscription }
        let metadata: ClusterMetadata
        var matched: [String: Int32] = [:]
        switch sub {
        case let .topics(names):
            guard !names.isEmpty else { break }
            metadata = try await cluster.refreshMetadata(topics: names)
            for n in names { if let t = metadata.topics[n], t.error == nil { matched[n] = Int32(t.partitions.count) } }
        case let .pattern(p):
            let regex = try Regex(p)
            metadata = try await cluster.refreshMetadata(topics: nil)
            for (name, t) in metadata.topics where !t.isInternal && t.error == nil {
                if (try? regex.wholeMatch(in: name)) != nil { matched[name] = Int32(t.partitions.count) }
            }
        }
        return shared.withLock { sh in
            defer { sh.matched = matched }
            return sh.matched != matched
        }
    }

    private func execute(_ action: GroupStateMachine.Action, host: GroupHost) async -> [GroupStateMachine.Action] {
        config.client.log("cgrp", "group \(groupId): \(action) (phase \(phase))")
        switch action {
        case .findCoordinator:
            return await findCoordinator()
        case let .join(memberId):
            return await join(memberId: memberId)
        case let .sync(generation, memberId, isLeader):
            return await sync(generation: generation, memberId: memberId, isLeader: isLeader)
        case let .heartbeat(generation, memberId):
            do {
                let response = try await coordinatorLink().send(heartbeatRequest(generation: generation, memberId: memberId))
                return machine.withLock { $0.heartbeatResponse(code: KafkaErrorCode(rawValue: response.errorCode), now: .now) }
            } catch {
                return machine.withLock { $0.heartbeatResponse(code: nil, now: .now) }
            }
        case let .leave(memberId, reason):
            if !shared.withLock({ $0.closing }) {
                config.client.warn("cgrp", "group \(groupId): member \(memberId) leaves the group: \(reason)")
            }
            var identity = LeaveGroupRequest.MemberIdentity()
            identity.memberId = memberId
            identity.groupInstanceId = config.groupInstanceId
            identity.reason = reason
            // Best effort: the session timeout removes us anyway.
            _ = try? await coordinatorLink().send(timeout: .seconds(5)) { [groupId] v in
                var m = identity
                if v < 5 { m.reason = nil }
                return LeaveGroupRequest(groupId: groupId, member: m, version: v)
            }
            return []
        case let .revoke(partitions):
            host.consumer?.groupStopFetching(partitions)
            if !shared.withLock({ $0.closing }) {
                // Like the Java client, which revokes inside poll(): wait until the application
                // has finished with what it was given (it asks for more), so the commit below
                // neither loses nor repeats. Bounded by max.poll.interval.ms, after which the
                // member would be out of the group anyway.
                // Heartbeats go on meanwhile: the coordinator keeps our session alive through a
                // rebalance only if we keep heartbeating (the answers say REBALANCE_IN_PROGRESS).
                await Self.awaitApplication(
                    event: progressSignal, deadline: .now + config.maxPollInterval, heartbeatInterval: config.heartbeatInterval,
                    done: { self.shared.withLock { $0.closing } || (host.consumer?.groupProcessedAll(partitions) ?? true) },
                    heartbeat: {
                        let (generation, memberId) = self.machine.withLock { ($0.generation, $0.memberId) }
                        if generation >= 0 {
                            _ = try? await self.coordinatorLink().send(self.heartbeatRequest(generation: generation, memberId: memberId))
                        }
                    })
            }
            await tell(.revoked(partitions))
            if config.enableAutoCommit {
                // On close the application is done with everything it was given; during a
                // rebalance it may still be processing the latest records, so only what it
                // finished with is committed (at least once, never lost).
                let closing = shared.withLock { $0.closing }
                let offsets = host.consumer?.committablePositions(processedOnly: !closing, partitions: partitions) ?? [:]
                do {
                    try await commit(offsets, onlyChanged: true)
                } catch {
                    config.client.log("cgrp", "group \(groupId): commit on revocation failed: \(error)")
                }
            }
            host.consumer?.groupRemove(partitions)
            return []
        case let .lose(partitions):
            host.consumer?.groupStopFetching(partitions)
            await tell(.lost(partitions))
            host.consumer?.groupRemove(partitions)
            return []
        case let .assign(partitions):
            var starts: [TopicPartition: Int64] = [:]
            if !partitions.isEmpty {
                do {
                    starts = try await committedOffsets(partitions, budget: config.sessionTimeout / 2)
                } catch {
                    // Without committed offsets we must not guess a start: rejoin and try again.
                    return machine.withLock { $0.commitFailed(code: .rebalanceInProgress) }
                }
            }
            shared.withLock { sh in for (tp, o) in starts { sh.lastCommitted[tp] = o } }
            host.consumer?.groupAdd(partitions, committed: starts)
            await tell(.assigned(partitions))
            return []
        case let .backoff(d):
            try? await Task.sleep(for: d)
            return []
        case let .fail(code, message):
            let e = KafkaError.broker(KafkaErrorCode(rawValue: code), "group \(groupId): \(message)")
            host.consumer?.groupFailed(e)
            return []
        }
    }

    /// Waits until `done()` (checked when `event` is signalled — no polling) or `deadline`,
    /// calling `heartbeat` every `heartbeatInterval` meanwhile.
    static func awaitApplication(
        event: Signal, deadline: ContinuousClock.Instant, heartbeatInterval: Duration,
        done: () -> Bool, heartbeat: () async -> Void
    ) async {
        var nextHeartbeat = ContinuousClock.now + heartbeatInterval
        while !done(), ContinuousClock.now < deadline {
            if ContinuousClock.now >= nextHeartbeat {
                nextHeartbeat = ContinuousClock.now + heartbeatInterval
                await heartbeat()
            }
            await event.wait(until: min(deadline, nextHeartbeat))
        }
    }

    private func tell(_ event: RebalanceEvent) async {
        eventSink.yield(event)
        await handler?(event)
    }

    // MARK: Requests

    private func coordinatorLink() throws -> BrokerLink {
        guard let l = shared.withLock({ $0.coordinator }) else { throw KafkaError(.connection, "group coordinator unknown") }
        return l
    }

    private func heartbeatRequest(generation: Int32, memberId: String) -> HeartbeatRequest {
        var r = HeartbeatRequest()
        r.groupId = groupId
        r.generationId = generation
        r.memberId = memberId
        r.groupInstanceId = config.groupInstanceId
        return r
    }

    /// FindCoordinator for this group: one `key` up to v3, `coordinator_keys` from v4 (KIP-699).
    private func findCoordinatorRequest(version: Int16) -> FindCoordinatorRequest {
        var r = FindCoordinatorRequest()
        if version >= 4 { r.coordinatorKeys = [groupId] } else { r.key = groupId }
        return r
    }

    /// Asks any broker for this group's coordinator and makes it the coordinator link; a
    /// broker error is thrown as `.broker(code)`.
    private func lookUpCoordinator() async throws -> BrokerLink {
        let response = try await cluster.sendToAny(findCoordinatorRequest)
        var (code, node, host, port) = (response.errorCode, response.nodeId, response.host, response.port)
        if let c = response.coordinators.first { (code, node, host, port) = (c.errorCode, c.nodeId, c.host, c.port) }
        if code != 0 { throw KafkaError.broker(KafkaErrorCode(rawValue: code), context: .init(apiKey: .findCoordinator)) }
        let link = try cluster.coordinatorLink(nodeId: node, host: host, port: port)
        shared.withLock { $0.coordinator = link }
        return link
    }

    private func findCoordinator() async -> [GroupStateMachine.Action] {
        do {
            _ = try await lookUpCoordinator()
            return machine.withLock { $0.coordinatorFound(now: .now) }
        } catch let e as KafkaError where !e.isRetriable {
            if case let .broker(code) = e.kind { return machine.withLock { $0.fatal(code, api: "FindCoordinator") } }
            config.client.log("cgrp", "group \(groupId): FindCoordinator failed: \(e)")
            return machine.withLock { $0.coordinatorLost() }
        } catch {
            config.client.log("cgrp", "group \(groupId): FindCoordinator failed: \(error)")
            return machine.withLock { $0.coordinatorLost() }
        }
    }

    private func join(memberId: String) async -> [GroupStateMachine.Action] {
        do {
            try await resolveSubscription()
        } catch {
            try? await Task.sleep(for: config.client.retryBackoff)
        }
        let (topics, owned, generation) = (shared.withLock { Array($0.matched.keys).sorted() }, machine.withLock { Array($0.owned) }, self.generation)
        var r = JoinGroupRequest()
        r.groupId = groupId
        r.sessionTimeoutMs = config.sessionTimeout.int32Milliseconds
        r.rebalanceTimeoutMs = config.maxPollInterval.int32Milliseconds
        r.memberId = memberId
        r.groupInstanceId = config.groupInstanceId
        r.protocolType = "consumer"
        do {
            r.protocols = try assignors.map { a in
                var p = JoinGroupRequest.GroupProtocol()
                p.name = a.name
                p.metadata = try ConsumerGroupPayloads.subscription(
                    topics: topics, ownedPartitions: owned, generationId: generation, rackId: config.clientRack,
                    userData: a.userData(ownedPartitions: owned, generationId: generation))
                return p
            }
            // The broker holds JoinGroup until every member has joined (up to the rebalance timeout).
            let response = try await coordinatorLink().send(r, timeout: config.maxPollInterval + config.client.requestTimeout)
            shared.withLock { $0.lastJoin = response }
            if response.errorCode != 0 {
                config.client.log("cgrp", "group \(groupId): JoinGroup answered \(KafkaErrorCode(rawValue: response.errorCode).name)")
            }
            return machine.withLock {
                $0.joinResponse(code: KafkaErrorCode(rawValue: response.errorCode), generation: response.generationId,
                                memberId: response.memberId, leaderId: response.leader, now: .now)
            }
        } catch {
            return machine.withLock { $0.coordinatorLost() }
        }
    }

    private func sync(generation: Int32, memberId: String, isLeader: Bool) async -> [GroupStateMachine.Action] {
        var r = SyncGroupRequest()
        r.groupId = groupId
        r.generationId = generation
        r.memberId = memberId
        r.groupInstanceId = config.groupInstanceId
        r.protocolType = "consumer"
        let join = shared.withLock { $0.lastJoin }
        r.protocolName = join?.protocolName
        do {
            // KIP-814: a static leader rejoining a stable group is told to skip the assignment
            // (the coordinator keeps the current one); it syncs with no assignments.
            if isLeader, let join, !join.skipAssignment {
                r.assignments = try await computeAssignment(join)
            }
            let response = try await coordinatorLink().send(r, timeout: config.maxPollInterval + config.client.requestTimeout)
            let code = KafkaErrorCode(rawValue: response.errorCode)
            if !code.isSuccess { config.client.log("cgrp", "group \(groupId): SyncGroup answered \(code.name)") }
            var assigned: [TopicPartition] = []
            if code.isSuccess {
                do {
                    assigned = try ConsumerGroupPayloads.decodeAssignment(response.assignment).partitions
                } catch {
                    // Reading it as "nothing assigned" would silently stop consuming; a rejoin
                    // asks the leader for a new assignment.
                    config.client.warn("cgrp", "group \(groupId): the assignment from SyncGroup cannot be used (\(error)); rejoining")
                    return machine.withLock { $0.syncResponse(code: .rebalanceInProgress, assigned: [], now: .now) }
                }
            }
            return machine.withLock { $0.syncResponse(code: code, assigned: assigned, now: .now) }
        } catch {
            return machine.withLock { $0.coordinatorLost() }
        }
    }

    /// The leader's job: run the chosen assignor over every member's subscription.
    private func computeAssignment(_ join: JoinGroupResponse) async throws -> [SyncGroupRequest.Assignment] {
        let name = join.protocolName ?? ""
        guard let assignor = assignors.first(where: { $0.name == name }) else {
            throw KafkaError(.configuration, "the group chose assignor '\(name)', which this consumer does not offer")
        }
        let (subscriptions, _) = ConsumerGroupPayloads.members(join.members)
        let topics = Array(Set(subscriptions.flatMap(\.topics))).sorted()
        var counts: [String: Int32] = [:]
        if !topics.isEmpty {
            let m = try await cluster.refreshMetadata(topics: topics)
            for t in topics { if let md = m.topics[t], md.error == nil, !md.partitions.isEmpty { counts[t] = Int32(md.partitions.count) } }
        }
        let plan = assignor.assign(members: subscriptions, partitionsPerTopic: counts)
        return try subscriptions.map { s in
            var a = SyncGroupRequest.Assignment()
            a.memberId = s.memberId
            a.assignment = try ConsumerGroupPayloads.assignment(plan[s.memberId] ?? [], userData: nil)
            return a
        }
    }

    // MARK: Offsets

    /// Commits `offsets` for this member's generation (generation -1 for a consumer that is not
    /// a group member). Group-level errors move the state machine (rejoin / rediscover).
    func commit(_ offsets: [TopicPartition: Int64], onlyChanged: Bool = false) async throws {
        let todo = shared.withLock { sh in onlyChanged ? offsets.filter { sh.lastCommitted[$0.key] != $0.value } : offsets }
        guard !todo.isEmpty else { return }
        // The generation is valid until the machine resets it (also while closing: the final
        // commit happens before LeaveGroup).
        let (generation, memberId) = machine.withLock { m in m.generation >= 0 ? (m.generation, m.memberId) : (-1, "") }
        var r = OffsetCommitRequest()
        r.groupId = groupId
        r.generationIdOrMemberEpoch = generation
        r.memberId = memberId
        r.groupInstanceId = generation >= 0 ? config.groupInstanceId : nil
        r.topics = Dictionary(grouping: todo, by: \.key.topic).map { topic, entries in
            var t = OffsetCommitRequest.Topic()
            t.name = topic
            t.partitions = entries.map { e in
                var p = OffsetCommitRequest.Partition()
                p.partitionIndex = e.key.partition
                p.committedOffset = e.value
                return p
            }.sorted { $0.partitionIndex < $1.partitionIndex }
            return t
        }
        let response: OffsetCommitResponse
        do {
            response = try await coordinatorOrFind().send(r)
        } catch let e as KafkaError {
            inject(machine.withLock { $0.coordinatorLost() })
            throw e
        }
        var firstError: KafkaError?
        for t in response.topics {
            for p in t.partitions {
                let tp = TopicPartition(topic: t.name, partition: p.partitionIndex)
                let code = KafkaErrorCode(rawValue: p.errorCode)
                if code.isSuccess {
                    if let o = todo[tp] { shared.withLock { $0.lastCommitted[tp] = o } }
                } else {
                    inject(machine.withLock { $0.commitFailed(code: code) })
                    if firstError == nil {
                        firstError = KafkaError.broker(code, context: .init(apiKey: .offsetCommit, topic: tp.topic, partition: tp.partition))
                    }
                }
            }
        }
        if let firstError { throw firstError }
    }

    /// The committed offsets of `partitions` (absent: nothing committed).
    func committedOffsets(_ partitions: [TopicPartition], budget: Duration? = nil) async throws -> [TopicPartition: Int64] {
        let topics = Dictionary(grouping: partitions, by: \.topic).map { t, ps in (name: t, partitionIndexes: ps.map(\.partition).sorted()) }
        // Within the run loop nothing heartbeats while this retries: give up (and rejoin)
        // well before the session could expire.
        return try await cluster.withRetries("OffsetFetch for group \(groupId)", budget: budget) {
            // require_stable (v7+): wait out pending transactional commits instead of reading past them.
            let response = try await coordinatorOrFind().send { [groupId] v in
                OffsetFetchRequest(groupId: groupId, topics: topics, requireStable: v >= 7, version: v)
            }
            var out: [TopicPartition: Int64] = [:]
            var entries: [(String, Int32, Int64, Int16)] = []
            if let group = response.groups.first {
                if group.errorCode != 0 { throw self.offsetFetchError(group.errorCode) }
                for t in group.topics { for p in t.partitions { entries.append((t.name, p.partitionIndex, p.committedOffset, p.errorCode)) } }
            } else {
                if response.errorCode != 0 { throw self.offsetFetchError(response.errorCode) }
                for t in response.topics { for p in t.partitions { entries.append((t.name, p.partitionIndex, p.committedOffset, p.errorCode)) } }
            }
            for (topic, partition, offset, code) in entries {
                if code != 0 { throw self.offsetFetchError(code) }
                if offset >= 0 { out[TopicPartition(topic: topic, partition: partition)] = offset }
            }
            return out
        }
    }

    private func offsetFetchError(_ code: Int16) -> KafkaError {
        let c = KafkaErrorCode(rawValue: code)
        if c == .notCoordinator || c == .coordinatorNotAvailable {
            shared.withLock { $0.coordinator = nil }
        }
        return KafkaError.broker(c, context: .init(apiKey: .offsetFetch))
    }

    /// The coordinator link, finding the coordinator first when unknown (for commits and
    /// offset lookups outside the run loop, e.g. a consumer with manual assignment).
    private func coordinatorOrFind() async throws -> BrokerLink {
        if let l = shared.withLock({ $0.coordinator }) { return l }
        return try await lookUpCoordinator()
    }

    // MARK: Shutdown

    /// Revokes (with the final commit) and leaves; returns when done or after `timeout`.
    /// `final`: the consumer is closing (the event stream ends); otherwise (`unsubscribe`) the
    /// group starts over idle, ready for a new subscription.
    func leave(host: GroupHost, timeout: Duration, final: Bool) async {
        shared.withLock { $0.closing = true }
        let actions = machine.withLock { $0.close() }
        signal.notify()
        // A revocation waiting for the application in the run loop stops waiting.
        progressSignal.notify()
        let deadline = ContinuousClock.now + timeout
        // The run loop may be inside a long JoinGroup; the close actions run here instead.
        for a in actions {
            if ContinuousClock.now >= deadline { break }
            _ = await execute(a, host: host)
        }
        if final {
            eventSink.finish()
            return
        }
        machine.withLock { $0 = GroupStateMachine(settings: $0.settings, now: .now) }
        shared.withLock { sh in
            sh.loopEpoch += 1
            sh.closing = false
            sh.subscription = .topics([])
            sh.matched = [:]
            sh.lastJoin = nil
            sh.injected = []
        }
        signal.notify()
    }
}
