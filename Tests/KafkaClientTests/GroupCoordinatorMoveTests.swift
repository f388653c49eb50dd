import Foundation
import Synchronization
import Testing
@testable import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// A group coordinator that moves to another broker during a rebalance (as coordinators move
/// on a multi-broker cluster): two in-process brokers share one group; whichever is not the
/// coordinator answers the group's requests with NOT_COORDINATOR.
struct GroupCoordinatorMoveTests {
    /// The group's state, seen by both brokers.
    final class World: Sendable {
        struct State {
            var coordinator: Int32
            var addresses: [Int32: (host: String, port: Int)] = [:]
            var generation: Int32 = 0
            /// The next heartbeat answers REBALANCE_IN_PROGRESS, and the coordinator moves.
            var rebalanceAndMove: (to: Int32, armed: Bool)?
            /// Partition 0's committed offset (the group stood at 5 before the test).
            var committed: Int64 = 5
            /// "node api" for every group request, in arrival order.
            var log: [String] = []
            /// Offsets committed for partition 0, with the broker that accepted them.
            var commits: [(node: Int32, offset: Int64)] = []
        }
        let state: Mutex<State>
        init(coordinator: Int32) { state = Mutex(State(coordinator: coordinator)) }
        var log: [String] { state.withLock { $0.log } }
        var commits: [(node: Int32, offset: Int64)] { state.withLock { $0.commits } }
    }

    /// One broker of the pair: it answers FindCoordinator with the current coordinator, the
    /// group's requests as the coordinator (or NOT_COORDINATOR), and, as the partition's
    /// leader (`leader`), one record at offset 5 of partition 0.
    func broker(_ world: World, nodeId: Int32, topic: String, leader: Bool) throws -> FakeBroker {
        try FakeBroker(nodeId: nodeId) { req, b in
            let key = req.header.apiKey
            let groupAPIs: [ApiKey] = [.joinGroup, .syncGroup, .heartbeat, .offsetCommit, .offsetFetch, .leaveGroup]
            let isCoordinator = world.state.withLock { s in
                if groupAPIs.contains(key) { s.log.append("\(b.nodeId) \(key)") }
                return s.coordinator == b.nodeId
            }
            switch key {
            case .findCoordinator:
                let (node, address) = world.state.withLock { s in (s.coordinator, s.addresses[s.coordinator]) }
                guard let address else { return .disconnect }
                return b.coordinatorIs(nodeId: node, host: address.host, port: address.port, req)
            case .joinGroup:
                guard let j = try? req.decode(JoinGroupRequest.self) else { return .disconnect }
                var r = JoinGroupResponse()
                if !isCoordinator {
                    r.errorCode = KafkaErrorCode.notCoordinator.rawValue
                } else if j.memberId.isEmpty {
                    r = .memberIdRequired
                } else {
                    r = .soleLeader(j, generation: world.state.withLock { s in s.generation += 1; return s.generation })
                }
                return .respond(b.body(r, for: req))
            case .syncGroup:
                var r = SyncGroupResponse()
                if isCoordinator {
                    var a = ConsumerProtocolAssignment()
                    var tp = ConsumerProtocolAssignment.TopicPartition()
                    tp.topic = topic
                    tp.partitions = [0]
                    a.assignedPartitions = [tp]
                    r.assignment = (try? a.encoded(version: 0)) ?? []
                } else {
                    r.errorCode = KafkaErrorCode.notCoordinator.rawValue
                }
                return .respond(b.body(r, for: req))
            case .heartbeat:
                var r = HeartbeatResponse()
                let rebalance = world.state.withLock { s -> Bool in
                    guard isCoordinator, let m = s.rebalanceAndMove, m.armed else { return false }
                    // The rebalance starts here; by the member's commit before revoking, the
                    // group lives on the other broker.
                    s.rebalanceAndMove = nil
                    s.coordinator = m.to
                    return true
                }
                if !isCoordinator { r.errorCode = KafkaErrorCode.notCoordinator.rawValue }
                if rebalance { r.errorCode = KafkaErrorCode.rebalanceInProgress.rawValue }
                return .respond(b.body(r, for: req))
            case .offsetCommit:
                guard let c = try? req.decode(OffsetCommitRequest.self) else { return .disconnect }
                guard isCoordinator else { return b.offsetCommitAnswer(c, code: .notCoordinator, for: req) }
                world.state.withLock { s in
                    for t in c.topics where t.name == topic {
                        for p in t.partitions where p.partitionIndex == 0 {
                            s.committed = p.committedOffset
                            s.commits.append((b.nodeId, p.committedOffset))
                        }
                    }
                }
                return b.offsetCommitAnswer(c, for: req)
            case .offsetFetch:
                var r = OffsetFetchResponse()
                var g = OffsetFetchResponse.Group()
                g.groupId = "g"
                if isCoordinator {
                    var p0 = OffsetFetchResponse.GroupPartition()
                    p0.partitionIndex = 0
                    p0.committedOffset = world.state.withLock { $0.committed }
                    var t = OffsetFetchResponse.GroupTopic()
                    t.name = topic
                    t.partitions = [p0]
                    g.topics = [t]
                } else {
                    r.errorCode = KafkaErrorCode.notCoordinator.rawValue
                    g.errorCode = KafkaErrorCode.notCoordinator.rawValue
                }
                r.groups = [g]
                return .respond(b.body(r, for: req))
            case .leaveGroup:
                var r = LeaveGroupResponse()
                if !isCoordinator { r.errorCode = KafkaErrorCode.notCoordinator.rawValue }
                return .respond(b.body(r, for: req))
            case .fetch where leader:
                guard let f = try? req.decode(FetchRequest.self) else { return .disconnect }
                let r = FetchResponse.answering(f, highWatermark: 6, oneRecordFor: 0, at: 5, value: [5])
                return .respondAfter(.milliseconds(50), b.body(r, for: req))
            default:
                return b.defaultAction(req)
            }
        }
    }

    /// The commit made before partitions are revoked meets a coordinator that just moved
    /// (NOT_COORDINATOR). Like the Java client's synchronous commit in onJoinPrepare, it finds
    /// the new coordinator and commits there before rejoining; dropping it would hand the
    /// partition on at the older committed offset and its records would be read twice.
    @Test(.timeLimit(.minutes(1)))
    func theCommitBeforeRevokingFollowsAMovedCoordinator() async throws {
        let topic = "orders"
        let world = World(coordinator: 1)
        let a = try broker(world, nodeId: 1, topic: topic, leader: true)
        let b = try broker(world, nodeId: 2, topic: topic, leader: false)
        defer { a.stop(); b.stop() }
        a.addTopic(topic, partitions: 1)
        world.state.withLock { s in
            s.addresses = [1: (a.host, a.port), 2: (b.host, b.port)]
        }
        let c = try KafkaConsumer(properties: [
            "bootstrap.servers": a.address, "group.id": "g", "heartbeat.interval.ms": "100", "session.timeout.ms": "6000",
            "retry.backoff.ms": "20", "enable.auto.commit": "true", "auto.commit.interval.ms": "600000", "fetch.max.wait.ms": "50",
        ])
        try c.subscribe(topics: [topic])
        var offsets: [Int64] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while !offsets.contains(5), ContinuousClock.now < deadline {
            offsets += try await c.poll(timeout: .milliseconds(50)).map(\.offset)
        }
        #expect(offsets == [5])
        // Asking again makes record 5 processed: the commit before revoking carries offset 6.
        offsets += try await c.poll(timeout: .milliseconds(50)).map(\.offset)
        world.state.withLock { $0.rebalanceAndMove = (to: 2, armed: true) }
        // The rejoin is done when the new coordinator was asked where partition 0 stands.
        func rejoinedAtB() -> Bool { world.log.contains("2 \(ApiKey.offsetFetch)") && !c.assignment.isEmpty }
        while !rejoinedAtB(), ContinuousClock.now < deadline {
            offsets += try await c.poll(timeout: .milliseconds(50)).map(\.offset)
        }
        #expect(rejoinedAtB(), "\(world.log.suffix(12))")
        // Long enough for a re-read of record 5 to arrive.
        let settle = ContinuousClock.now + .milliseconds(500)
        while ContinuousClock.now < settle { offsets += try await c.poll(timeout: .milliseconds(50)).map(\.offset) }
        #expect(offsets == [5], "record 5 was read again after the hand-over")
        #expect(world.commits.first.map { $0.node == 2 && $0.offset == 6 } == true, "commits: \(world.commits)")
        let log = world.log
        let commitAtB = log.firstIndex(of: "2 \(ApiKey.offsetCommit)"), joinAtB = log.firstIndex(of: "2 \(ApiKey.joinGroup)")
        #expect((commitAtB ?? .max) < (joinAtB ?? -1), "committed at the new coordinator before rejoining: \(log)")
        await c.close()
    }
}
