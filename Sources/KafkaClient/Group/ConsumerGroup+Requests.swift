import KafkaProtocol
import KafkaNet

/// The group's requests to the coordinator. Each takes what it needs as parameters and
/// returns the machine event its answer means, so the executor can run it as a cancellable
/// task (a leave interrupts a held JoinGroup) and feed the answer only after the inputs that
/// arrived meanwhile.
extension ConsumerGroup {
    // MARK: Coordinator lookup

    /// Asks any broker for this group's coordinator and makes it the coordinator link; a
    /// broker error is thrown as `.broker(code)`. The one FindCoordinator of the group (kept
    /// small so a shared coordinator directory can replace it with one call).
    func lookUpCoordinator() async throws -> BrokerLink {
        // The cluster's CoordinatorDirectory is the one place FindCoordinator is sent; a member
        // asks only when it has no coordinator or lost it, so never from the cache.
        let c = try await cluster.coordinator(for: .group(groupId), fresh: true)
        let link = try cluster.coordinatorLink(nodeId: c.nodeId, host: c.host, port: Int32(c.port))
        coordinator.withLock { $0 = link }
        return link
    }

    func coordinatorLink() throws -> BrokerLink {
        guard let l = coordinator.withLock({ $0 }) else { throw KafkaError(.connection, "group coordinator unknown") }
        return l
    }

    func findCoordinator() async -> GroupStateMachine.Event {
        do {
            _ = try await lookUpCoordinator()
            return .coordinatorFound
        } catch let e as KafkaError where !e.isRetriable {
            if case let .broker(code) = e.kind { return .fatal(code: code, api: "FindCoordinator") }
            config.client.log("cgrp", "group \(groupId): FindCoordinator failed: \(e)")
            return .coordinatorLost
        } catch {
            config.client.log("cgrp", "group \(groupId): FindCoordinator failed: \(error)")
            return .coordinatorLost
        }
    }

    // MARK: Membership

    func join(memberId: String, topics: [String], owned: [TopicPartition], generation: Int32) async -> (GroupStateMachine.Event, JoinGroupResponse?) {
        var r = JoinGroupRequest()
        r.groupId = groupId
        r.sessionTimeoutMs = config.sessionTimeout.int32Milliseconds
        r.rebalanceTimeoutMs = config.maxPollInterval.int32Milliseconds
        r.memberId = memberId
        r.groupInstanceId = config.groupInstanceId
        r.protocolType = "consumer"
        let known: Int32? = generation >= 0 ? generation : nil  // the machine keeps the wire's -1
        do {
            r.protocols = try assignors.map { a in
                var p = JoinGroupRequest.GroupProtocol()
                p.name = a.name
                p.metadata = try ConsumerGroupPayloads.subscription(
                    topics: topics, ownedPartitions: owned, generationId: known, rackId: config.clientRack,
                    userData: a.userData(ownedPartitions: owned, generationId: known))
                return p
            }
            // The broker holds JoinGroup until every member has joined (up to the rebalance timeout).
            let response = try await coordinatorLink().send(r, timeout: config.maxPollInterval + config.client.requestTimeout)
            if response.errorCode != 0 {
                config.client.log("cgrp", "group \(groupId): JoinGroup answered \(KafkaErrorCode(rawValue: response.errorCode).name)")
            }
            return (.joinAnswered(code: KafkaErrorCode(rawValue: response.errorCode), generation: response.generationId,
                                  memberId: response.memberId, leaderId: response.leader), response)
        } catch {
            return (.coordinatorLost, nil)
        }
    }

    func sync(generation: Int32, memberId: String, isLeader: Bool, join: JoinGroupResponse?) async -> GroupStateMachine.Event {
        var r = SyncGroupRequest()
        r.groupId = groupId
        r.generationId = generation
        r.memberId = memberId
        r.groupInstanceId = config.groupInstanceId
        r.protocolType = "consumer"
        r.protocolName = join?.protocolName
        do {
            // KIP-814: a static leader rejoining a stable group is told to skip the assignment
            // (the coordinator keeps the current one); it syncs with no assignments.
            if isLeader, let join, !join.skipAssignment {
                r.assignments = try await computeAssignment(join)
            }
            let response = try await coordinatorLink().send(r, timeout: config.maxPollInterval + config.client.requestTimeout)
            let code = KafkaErrorCode(rawValue: response.errorCode)
            guard code.isSuccess else {
                config.client.log("cgrp", "group \(groupId): SyncGroup answered \(code.name)")
                return .syncAnswered(code: code, assigned: [])
            }
            do {
                return .syncAnswered(code: code, assigned: try ConsumerGroupPayloads.decodeAssignment(response.assignment).partitions)
            } catch {
                return .assignmentUndecodable(KafkaError(.decoding, "SyncGroup assignment for group \(groupId): \(error)",
                                                         context: .init(apiKey: .syncGroup), underlying: error))
            }
        } catch {
            return .coordinatorLost
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

    func heartbeat(generation: Int32, memberId: String) async -> GroupStateMachine.Event {
        var r = HeartbeatRequest()
        r.groupId = groupId
        r.generationId = generation
        r.memberId = memberId
        r.groupInstanceId = config.groupInstanceId
        do {
            let response = try await coordinatorLink().send(r)
            return .heartbeatAnswered(code: KafkaErrorCode(rawValue: response.errorCode))
        } catch {
            return .heartbeatAnswered(code: nil)
        }
    }

    /// LeaveGroup, best effort: the session timeout removes us anyway.
    func sendLeave(memberId: String, reason: String) async {
        var identity = LeaveGroupRequest.MemberIdentity()
        identity.memberId = memberId
        identity.groupInstanceId = config.groupInstanceId
        identity.reason = reason
        _ = try? await coordinatorLink().send(timeout: .seconds(5)) { [groupId] v in
            var m = identity
            if v < 5 { m.reason = nil }
            return LeaveGroupRequest(groupId: groupId, member: m, version: v)
        }
    }

    // MARK: Subscription

    /// The topics `subscription` resolves to in fresh metadata, with their partition counts.
    func resolve(_ subscription: Subscription) async throws -> [String: Int32] {
        var matched: [String: Int32] = [:]
        switch subscription {
        case let .topics(names):
            guard !names.isEmpty else { break }
            let metadata = try await cluster.refreshMetadata(topics: names)
            for n in names { if let t = metadata.topics[n], t.error == nil { matched[n] = Int32(t.partitions.count) } }
        case let .pattern(p):
            let regex = try Regex(p)
            let metadata = try await cluster.refreshMetadata(topics: nil)
            for (name, t) in metadata.topics where !t.isInternal && t.error == nil {
                if (try? regex.wholeMatch(in: name)) != nil { matched[name] = Int32(t.partitions.count) }
            }
        }
        return matched
    }
}
