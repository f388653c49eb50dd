import Foundation
import Synchronization
import Testing
@testable import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// The group runtime against an in-process broker that injects coordinator errors.
struct GroupFakeBrokerTests {
    /// Counts of requests per API and a script of error answers.
    final class Script: Sendable {
        let counts = Mutex<[ApiKey: Int]>([:])
        func next(_ key: ApiKey) -> Int { counts.withLock { c in c[key, default: 0] += 1; return c[key]! } }
        func count(_ key: ApiKey) -> Int { counts.withLock { $0[key] ?? 0 } }
    }

    func assignmentBytes(_ topic: String, _ partitions: [Int32]) -> [UInt8] {
        var a = ConsumerProtocolAssignment()
        var tp = ConsumerProtocolAssignment.TopicPartition()
        tp.topic = topic
        tp.partitions = partitions
        a.assignedPartitions = [tp]
        return (try? a.encoded(version: 0)) ?? []
    }

    /// A one-broker group coordinator: the first FindCoordinator says COORDINATOR_NOT_AVAILABLE,
    /// the second heartbeat NOT_COORDINATOR, the `rebalanceAt`-th REBALANCE_IN_PROGRESS.
    func coordinator(_ script: Script, topic: String, rebalanceAt: Int = 5, joinMetadata: Locked<[UInt8]>? = nil,
                     badAssignments: Int = 0, failCommits: Bool = false, serveRecords: Bool = false) throws -> FakeBroker {
        try FakeBroker { req, b in
            switch req.header.apiKey {
            case .findCoordinator:
                var r = FindCoordinatorResponse()
                // The first lookup finds no coordinator yet.
                let code: KafkaErrorCode = script.next(.findCoordinator) == 1 ? .coordinatorNotAvailable : .noError
                if req.header.apiVersion >= 4 {
                    var c = FindCoordinatorResponse.Coordinator()
                    c.key = "g"
                    c.errorCode = code.rawValue
                    c.nodeId = b.nodeId; c.host = b.host; c.port = Int32(b.port)
                    r.coordinators = [c]
                } else {
                    r.errorCode = code.rawValue
                    r.nodeId = b.nodeId; r.host = b.host; r.port = Int32(b.port)
                }
                return .respond(b.body(r, for: req))
            case .joinGroup:
                guard let j = try? req.decode(JoinGroupRequest.self) else { return .disconnect }
                _ = script.next(.joinGroup)
                if j.memberId.isEmpty { return .respond(b.body(JoinGroupResponse.memberIdRequired, for: req)) }
                joinMetadata?.withLock { $0 = j.protocols.first?.metadata ?? [] }
                return .respond(b.body(JoinGroupResponse.soleLeader(j, generation: Int32(script.count(.joinGroup))), for: req))
            case .syncGroup:
                let n = script.next(.syncGroup)
                var r = SyncGroupResponse()
                r.assignment = n <= badAssignments ? [0x00, 0x00, 0xFF, 0xFF, 0xFF] : self.assignmentBytes(topic, [0, 1])
                return .respond(b.body(r, for: req))
            case .heartbeat:
                let n = script.next(.heartbeat)
                var r = HeartbeatResponse()
                if n == 2 { r.errorCode = KafkaErrorCode.notCoordinator.rawValue }
                if n >= rebalanceAt, script.count(.joinGroup) < 3 { r.errorCode = KafkaErrorCode.rebalanceInProgress.rawValue }
                return .respond(b.body(r, for: req))
            case .offsetFetch:
                _ = script.next(.offsetFetch)
                var r = OffsetFetchResponse()
                var p0 = OffsetFetchResponse.GroupPartition(); p0.partitionIndex = 0; p0.committedOffset = 5
                var p1 = OffsetFetchResponse.GroupPartition(); p1.partitionIndex = 1; p1.committedOffset = -1
                var t = OffsetFetchResponse.GroupTopic(); t.name = topic; t.partitions = [p0, p1]
                var g = OffsetFetchResponse.Group(); g.groupId = "g"; g.topics = [t]
                r.groups = [g]
                return .respond(b.body(r, for: req))
            case .listOffsets:
                var r = ListOffsetsResponse()
                var p = ListOffsetsResponse.Partition(); p.partitionIndex = 1; p.offset = 0
                var t = ListOffsetsResponse.Topic(); t.name = topic; t.partitions = [p]
                r.topics = [t]
                return .respond(b.body(r, for: req))
            case .fetch:
                // Optionally one batch at offset 5 of partition 0 (where OffsetFetch says the
                // group stands), so the application has processed records to commit.
                guard serveRecords, let f = try? req.decode(FetchRequest.self) else {
                    return .respondAfter(.milliseconds(200), b.body(FetchResponse(), for: req))
                }
                let r = FetchResponse.answering(f, highWatermark: 6, oneRecordFor: 0, at: 5, value: [1])
                return .respondAfter(.milliseconds(50), b.body(r, for: req))
            case .leaveGroup:
                _ = script.next(.leaveGroup)
                return .respond(b.body(LeaveGroupResponse(), for: req))
            case .offsetCommit:
                _ = script.next(.offsetCommit)
                if failCommits, let c = try? req.decode(OffsetCommitRequest.self) {
                    return b.offsetCommitAnswer(c, code: .groupAuthorizationFailed, for: req)
                }
                return .respond(b.body(OffsetCommitResponse(), for: req))
            default:
                return b.defaultAction(req)
            }
        }
    }

    @Test func coordinatorErrorsAreRetriedAndAMoveDoesNotRebalance() async throws {
        let script = Script()
        let topic = "orders"
        let joinMetadata = Locked<[UInt8]>([])
        let broker = try coordinator(script, topic: topic, joinMetadata: joinMetadata)
        broker.addTopic(topic, partitions: 2)
        final class Events: Sendable { let list = Mutex<[RebalanceEvent]>([]) }
        let box = Events()
        let c = try KafkaConsumer(properties: ["bootstrap.servers": broker.address, "group.id": "g", "heartbeat.interval.ms": "100",
                                               "session.timeout.ms": "6000", "retry.backoff.ms": "20", "auto.offset.reset": "earliest"]) { e in
            box.list.withLock { $0.append(e) }
        }
        #expect(c.memberId == nil && c.generationId == nil, "no member id or generation before the first join")
        try c.subscribe(topics: [topic])
        let tp0 = TopicPartition(topic: topic, partition: 0), tp1 = TopicPartition(topic: topic, partition: 1)
        let deadline = ContinuousClock.now + .seconds(20)
        while script.count(.heartbeat) < 4, ContinuousClock.now < deadline {
            _ = try await c.poll(timeout: .milliseconds(50))
        }
        #expect(c.memberId == "m-1" && c.generationId == 2, "the coordinator's member id and the real join's generation")
        // Committed offset for p0, auto.offset.reset for p1.
        #expect(c.position(tp0) == 5)
        #expect(box.list.withLock { $0 } == [.assigned([tp0, tp1])])
        // COORDINATOR_NOT_AVAILABLE, found, then re-found after NOT_COORDINATOR — without rejoining.
        #expect(script.count(.findCoordinator) == 3)
        #expect(script.count(.joinGroup) == 2, "KIP-394 join + real join only")
        // The subscription carried the topic.
        let sub = try ConsumerProtocolSubscription.decode(joinMetadata.withLock { $0 }).value
        #expect(sub.topics == [topic])

        // REBALANCE_IN_PROGRESS on the fifth heartbeat: eager revoke, rejoin, assign again.
        while box.list.withLock({ $0.count }) < 3, ContinuousClock.now < deadline {
            _ = try await c.poll(timeout: .milliseconds(50))
        }
        #expect(box.list.withLock { $0 } == [.assigned([tp0, tp1]), .revoked([tp0, tp1]), .assigned([tp0, tp1])])
        #expect(script.count(.joinGroup) == 3)
        await c.close()
        #expect(script.count(.leaveGroup) == 1)
        broker.stop()
    }

    /// An assignment the member cannot decode is neither fatal nor read as "nothing": it is
    /// reported and the member rejoins until it gets a usable one.
    @Test func anUndecodableAssignmentIsReportedAndTheMemberRejoins() async throws {
        let script = Script()
        let topic = "orders"
        let broker = try coordinator(script, topic: topic, rebalanceAt: 1000, badAssignments: 2)
        broker.addTopic(topic, partitions: 2)
        defer { broker.stop() }
        let warnings = Mutex<[String]>([])
        var config = try ConsumerConfig(properties: ["bootstrap.servers": broker.address, "group.id": "g", "heartbeat.interval.ms": "100",
                                                     "session.timeout.ms": "6000", "retry.backoff.ms": "20", "auto.offset.reset": "earliest"])
        config.client.logHandler = { context, message in warnings.withLock { $0.append("\(context): \(message)") } }
        let c = try KafkaConsumer(config: config)
        try c.subscribe(topics: [topic])
        let tp0 = TopicPartition(topic: topic, partition: 0), tp1 = TopicPartition(topic: topic, partition: 1)
        let deadline = ContinuousClock.now + .seconds(20)
        while Set(c.assignment) != [tp0, tp1], ContinuousClock.now < deadline {
            _ = try await c.poll(timeout: .milliseconds(50))
        }
        #expect(Set(c.assignment) == [tp0, tp1])
        #expect(script.count(.syncGroup) == 3, "two unusable assignments, then a good one")
        #expect(script.count(.joinGroup) >= 4, "KIP-394 join, join, and a rejoin after each unusable assignment")
        #expect(warnings.withLock { $0.filter { $0.contains("cannot be used") }.count } == 2)
        await c.close()
        // The application sees each one as a typed error, not only in the log.
        var surfaced: [ConsumerGroupError] = []
        for await e in c.groupErrors { surfaced.append(e) }
        #expect(surfaced.map(\.kind) == [.undecodableAssignment, .undecodableAssignment])
        #expect(surfaced.allSatisfy { $0.underlying.kind == .decoding && $0.generationId != nil })
    }

    /// An auto-commit the coordinator rejects is reported, not dropped (it was `try?`).
    @Test func aFailedAutoCommitIsReported() async throws {
        let script = Script()
        let topic = "orders"
        let broker = try coordinator(script, topic: topic, rebalanceAt: 1000, failCommits: true, serveRecords: true)
        broker.addTopic(topic, partitions: 2)
        defer { broker.stop() }
        let warnings = Mutex<[String]>([])
        var config = try ConsumerConfig(properties: ["bootstrap.servers": broker.address, "group.id": "g", "heartbeat.interval.ms": "100",
                                                     "session.timeout.ms": "6000", "retry.backoff.ms": "20", "auto.offset.reset": "earliest",
                                                     "auto.commit.interval.ms": "100", "fetch.max.wait.ms": "50"])
        config.client.logHandler = { context, message in warnings.withLock { $0.append("\(context): \(message)") } }
        let c = try KafkaConsumer(config: config)
        try c.subscribe(topics: [topic])
        var read = 0
        let deadline = ContinuousClock.now + .seconds(20)
        while warnings.withLock({ !$0.contains { $0.contains("auto-commit failed") } }), ContinuousClock.now < deadline {
            read += try await c.poll(timeout: .milliseconds(50)).count
        }
        #expect(read >= 1, "the record at offset 5 was read")
        #expect(script.count(.offsetCommit) >= 1)
        #expect(warnings.withLock { $0.contains { $0.contains("auto-commit failed") } }, "\(warnings.withLock { $0.suffix(5) })")
        await c.close()
        var surfaced: [ConsumerGroupError] = []
        for await e in c.groupErrors { surfaced.append(e) }
        #expect(!surfaced.isEmpty && surfaced.allSatisfy { $0.kind == .autoCommitFailed })
        #expect(surfaced.first?.underlying.code == .groupAuthorizationFailed)
    }

    /// A close while the broker holds the JoinGroup is an input to the one executor: the held
    /// request is cancelled, the member leaves at once, and close does not wait for the join.
    @Test(.timeLimit(.minutes(1)))
    func closeDuringAHeldJoinGroupLeavesAtOnce() async throws {
        let leaves = Mutex(0)
        let broker = try FakeBroker { req, b in
            switch req.header.apiKey {
            case .findCoordinator:
                return b.coordinatorIsSelf(req)
            case .joinGroup:
                guard let j = try? req.decode(JoinGroupRequest.self) else { return .disconnect }
                var r = JoinGroupResponse()
                if j.memberId.isEmpty {
                    r.errorCode = KafkaErrorCode.memberIdRequired.rawValue
                    r.memberId = "m-1"
                    return .respond(b.body(r, for: req))
                }
                // Held, as a broker holds it until every member joined.
                r.errorCode = KafkaErrorCode.rebalanceInProgress.rawValue
                return .respondAfter(.seconds(30), b.body(r, for: req))
            case .leaveGroup:
                leaves.withLock { $0 += 1 }
                return .respond(b.body(LeaveGroupResponse(), for: req))
            default:
                return b.defaultAction(req)
            }
        }
        broker.addTopic("orders", partitions: 2)
        defer { broker.stop() }
        let c = try KafkaConsumer(properties: ["bootstrap.servers": broker.address, "group.id": "g", "session.timeout.ms": "6000",
                                               "retry.backoff.ms": "20", "max.poll.interval.ms": "60000"])
        try c.subscribe(topics: ["orders"])
        try await eventually("the member id from KIP-394", timeout: .seconds(10)) { c.memberId == "m-1" }
        try await Task.sleep(for: .milliseconds(300))
        let start = ContinuousClock.now
        await c.close()
        #expect(ContinuousClock.now - start < .seconds(5), "close waited for the held JoinGroup")
        #expect(leaves.withLock { $0 } == 1)
    }

    /// While a revocation waits for the application to finish its batch, the member keeps
    /// heartbeating (the coordinator would otherwise expire its session mid-rebalance).
    @Test func heartbeatsContinueWhileRevocationWaitsForTheApplication() async throws {
        let script = Script()
        let topic = "orders"
        let broker = try coordinator(script, topic: topic, rebalanceAt: 4)
        broker.addTopic(topic, partitions: 2)
        // The fake broker serves no records, so "delivered" is set by hand through the hook the
        // group uses: the application was handed offset 0…9 of p0 and has not come back since.
        let c = try KafkaConsumer(properties: ["bootstrap.servers": broker.address, "group.id": "g", "heartbeat.interval.ms": "100",
                                               "session.timeout.ms": "6000", "retry.backoff.ms": "20", "auto.offset.reset": "earliest"])
        try c.subscribe(topics: [topic])
        let tp0 = TopicPartition(topic: topic, partition: 0)
        let deadline = ContinuousClock.now + .seconds(20)
        while c.assignment.isEmpty, ContinuousClock.now < deadline { _ = try await c.poll(timeout: .milliseconds(50)) }
        c.state.withLock { $0.delivered[tp0] = 10 }
        // Stop polling. The rebalance starts on the 4th heartbeat; the revocation must wait.
        while script.count(.heartbeat) < 4, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .seconds(1))
        #expect(script.count(.joinGroup) == 2, "rejoined before the application finished its batch")
        #expect(script.count(.heartbeat) >= 10, "only \(script.count(.heartbeat)) heartbeats while waiting")
        // The application asks for more: its batch is done, the revocation commits and rejoins.
        _ = try await c.poll(timeout: .milliseconds(50))
        while script.count(.joinGroup) < 3, ContinuousClock.now < deadline { _ = try await c.poll(timeout: .milliseconds(50)) }
        #expect(script.count(.joinGroup) == 3)
        #expect(script.count(.offsetCommit) >= 1)
        await c.close()
        broker.stop()
    }
}
