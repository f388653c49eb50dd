import Synchronization
import Testing
@testable import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// `commitAsync()` without a completion: a failed commit is logged and yielded on
/// `partitionErrors` instead of vanishing; with a completion, the completion alone gets it.
@Suite struct ConsumerCommitAsyncTests {
    static let tp = TopicPartition(topic: "t", partition: 1)

    /// A coordinator (FindCoordinator points at itself) that refuses every OffsetCommit
    /// partition with TOPIC_AUTHORIZATION_FAILED (not retriable, so one attempt decides).
    static func refusingCoordinator() throws -> FakeBroker {
        let broker = try FakeBroker { req, b in
            switch req.header.apiKey {
            case .findCoordinator: return b.coordinatorIsSelf(req)
            case .offsetCommit:
                guard let c = try? req.decode(OffsetCommitRequest.self) else { return .disconnect }
                return b.offsetCommitAnswer(c, code: .topicAuthorizationFailed, for: req)
            case .fetch: return .respondAfter(.milliseconds(100), b.body(FetchResponse(), for: req))
            default: return b.defaultAction(req)
            }
        }
        broker.addTopic("t", partitions: 3)
        return broker
    }

    /// Log lines as (context): (message).
    final class LogLines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
    }

    /// A consumer of `tp` (manually assigned, with a group for commits) whose log lines are
    /// collected, and which has handed out records up to offset 41 (so commitAsync commits 42).
    static func consumer(_ broker: FakeBroker, log: LogLines) async throws -> KafkaConsumer {
        var config = try ConsumerConfig(properties: ["bootstrap.servers": broker.address, "group.id": "g", "enable.auto.commit": "false",
                                                     "request.timeout.ms": "10000"])
        config.client.logHandler = { context, message in log.lines.withLock { $0.append("\(context): \(message)") } }
        let c = try KafkaConsumer(config: config)
        try await c.assign([tp], from: .offset(42))
        c.state.withLock { $0.delivered[tp] = 42 }
        return c
    }

    @Test(.timeLimit(.minutes(1)))
    func aFailedCommitAsyncWithoutCompletionIsLoggedAndYieldedOnPartitionErrors() async throws {
        let broker = try Self.refusingCoordinator()
        defer { broker.stop() }
        let log = LogLines()
        let c = try await Self.consumer(broker, log: log)
        c.commitAsync()
        var errors = c.partitionErrors.makeAsyncIterator()
        let next = await errors.next()
        let error = try #require(next)
        #expect(error.code == .topicAuthorizationFailed, "\(error)")
        #expect(error.context.topic == "t" && error.context.partition == 1)
        let lines = log.all.filter { $0.contains("commitAsync") }
        #expect(lines.count == 1, "\(log.all)")
        #expect(lines.first?.hasPrefix("cgrp: ") == true)
        #expect(lines.first?.contains("t[1]") == true)
        #expect(lines.first?.contains("TOPIC_AUTHORIZATION_FAILED") == true)
        await c.close()
    }

    /// With a completion the application handles the outcome itself: nothing is logged or
    /// yielded a second time.
    @Test(.timeLimit(.minutes(1)))
    func aFailedCommitAsyncWithCompletionGoesToTheCompletionOnly() async throws {
        let broker = try Self.refusingCoordinator()
        defer { broker.stop() }
        let log = LogLines()
        let c = try await Self.consumer(broker, log: log)
        let outcome = await withCheckedContinuation { (k: CheckedContinuation<KafkaError?, Never>) in
            c.commitAsync { k.resume(returning: $0) }
        }
        #expect(outcome?.code == .topicAuthorizationFailed, "\(String(describing: outcome))")
        await c.close()
        #expect(log.all.allSatisfy { !$0.contains("commitAsync") }, "\(log.all)")
        var errors = c.partitionErrors.makeAsyncIterator()
        #expect(await errors.next() == nil, "the stream ends at close without the commit's error")
    }
}
