import Foundation
import Testing
import KafkaClient
import KafkaTestSupport

/// The producer, with default settings, while the broker restarts (SIGTERM) or crashes (SIGKILL).
extension BrokerRestartTests {
    /// Restarts (or crashes) the broker each time the reports reach the next of `at` (fractions
    /// of `n`): the producer always has messages in flight or queued when the broker goes away.
    static func bounce(_ rig: RestartRig, crash: Bool, at fractions: [Double], of n: Int, ledger: DeliveryLedger) -> @Sendable () async throws -> Void {
        { @Sendable in
            for (k, f) in fractions.enumerated() {
                let mark = Int(Double(n) * f)
                let deadline = ContinuousClock.now + .seconds(240)
                while ledger.outcomes < mark {
                    guard ContinuousClock.now < deadline else { throw KafkaError(.timeout, "bounce \(k + 1): reports stuck at \(ledger.outcomes) of \(mark)") }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let started = ContinuousClock.now
                if crash { try await rig.kill() } else { try await rig.restart() }
                print("BrokerRestart: \(crash ? "SIGKILL" : "SIGTERM") \(k + 1) at \(ledger.outcomes) reports; broker back after \(ContinuousClock.now - started)")
            }
        }
    }

    /// 1 M messages while the broker restarts gracefully three times: every message acknowledged
    /// exactly once, none lost, order per partition kept, each reported offset is where
    /// confluent-kafka finds the message, and nothing in the log was reported failed.
    @Test(.timeLimit(.minutes(8)))
    func producerDeliversExactlyOnceAcrossThreeGracefulRestarts() async throws {
        let rig = try Self.theRig()
        let n = 1_000_000, partitions: Int32 = 4
        let topic = try await Self.createTopic("kw-restart-produce", partitions: partitions, on: rig)
        let ledger = DeliveryLedger()
        let producer = try KafkaProducer(properties: ["bootstrap.servers": rig.bootstrap]) { ledger.record($0) }
        let started = ContinuousClock.now
        let ids = try await Self.withRestarts(Self.bounce(rig, crash: false, at: [0.15, 0.4, 0.65], of: n, ledger: ledger)) {
            // 40 k/s: the three restarts (each ~5 s down: Tansu drains its connections) fall
            // in the middle of the run.
            let ids = try await Self.enqueueAll(producer, topic: topic, n: n, size: 24, perSecond: 40_000, ledger: ledger)
            try await awaitCondition("a report for each of \(n) messages", timeout: .seconds(300)) { ledger.outcomes >= n }
            return ids
        }
        print("BrokerRestart: \(n) messages in \(ContinuousClock.now - started) across 3 restarts")
        try await producer.flush()
        await producer.close()
        let audit = Self.expectExactlyOneOutcomeEach(ledger, n: n)
        #expect(audit.failed == 0, "\(audit.failed) messages failed: \(audit.failuresByKind)")

        let read = try await Self.readBack(rig, topic: topic, expected: n, atLeast: n)
        #expect(read.audit.missing.isEmpty, "\(read.audit.missing.count) messages lost, first \(read.audit.missing.prefix(10))")
        #expect(read.audit.duplicated.isEmpty, "\(read.audit.duplicated.count) messages twice in the log, first \(read.audit.duplicated.prefix(10))")
        #expect(read.audit.problems.isEmpty, "\(read.audit.problemCount) order/offset problems: \(read.audit.problems)")
        // Reported delivered ⇔ in the log, at the offset reported.
        var misplaced = 0, failedButWritten = 0
        for (i, id) in ids.enumerated() {
            switch ledger.outcome(of: id) {
            case let .delivered(partition, offset):
                if let at = read.position[i], at.partition == partition, at.offset == offset { continue }
                misplaced += 1
            case .failed: if read.audit.contains(i) { failedButWritten += 1 }
            case nil: break
            }
        }
        #expect(misplaced == 0, "\(misplaced) messages reported delivered but not in the log where reported")
        #expect(failedButWritten == 0, "\(failedButWritten) messages reported failed are in the log")
    }

    /// The broker is SIGKILLed three times during 200 k messages. Tansu on S3 acknowledges before
    /// its write is durable, so a crash may lose acknowledged messages (librdkafka saw the same);
    /// what must hold: no duplicates, order per key and contiguous offsets in the log, no hang,
    /// every message reported exactly once, and no message the producer reported failed for
    /// sure (not `.outcomeUnknown`) is in the log. (Offsets may jump where the broker lost
    /// batches between ones it kept; they never repeat.)
    @Test(.timeLimit(.minutes(6)))
    func producerCrashedBrokerNoDuplicatesOrderKeptEveryMessageReportedOnce() async throws {
        let rig = try Self.theRig()
        let n = 200_000, partitions: Int32 = 4
        let topic = try await Self.createTopic("kw-restart-kill", partitions: partitions, on: rig)
        let ledger = DeliveryLedger()
        let producer = try KafkaProducer(properties: ["bootstrap.servers": rig.bootstrap]) { ledger.record($0) }
        let started = ContinuousClock.now
        let ids = try await Self.withRestarts(Self.bounce(rig, crash: true, at: [0.2, 0.45, 0.7], of: n, ledger: ledger)) {
            let ids = try await Self.enqueueAll(producer, topic: topic, n: n, size: 24, ledger: ledger)
            // delivery.timeout.ms (default 120 s) bounds every message's outcome.
            try await awaitCondition("a report for each of \(n) messages", timeout: .seconds(200)) { ledger.outcomes >= n }
            return ids
        }
        print("BrokerRestart(kill): \(n) messages reported in \(ContinuousClock.now - started) across 3 SIGKILLs")
        try await producer.flush()
        await producer.close()
        _ = Self.expectExactlyOneOutcomeEach(ledger, n: n)

        // Read what is there (at most n records; fewer when the broker lost a tail).
        // A crash can lose batches between surviving ones: offsets may jump (never go back).
        let read = try await Self.readBack(rig, topic: topic, expected: n, atLeast: 0, offsetGapsAllowed: true)
        #expect(read.audit.duplicated.isEmpty, "\(read.audit.duplicated.count) messages twice in the log, first \(read.audit.duplicated.prefix(10))")
        #expect(read.audit.problems.isEmpty, "\(read.audit.problemCount) order/offset problems: \(read.audit.problems)")
        var deliveredLost = 0, failedSureButWritten = 0, failed = 0
        for (i, id) in ids.enumerated() {
            switch ledger.outcome(of: id) {
            case let .failed(kind):
                failed += 1
                if kind != .outcomeUnknown, read.audit.contains(i) { failedSureButWritten += 1 }
            case .delivered: if !read.audit.contains(i) { deliveredLost += 1 }
            case nil: break
            }
        }
        print("BrokerRestart(kill): \(read.audit.records) of \(n) in the log; \(failed) reported failed; \(deliveredLost) reported delivered and lost by the broker")
        #expect(failedSureButWritten == 0, "\(failedSureButWritten) messages reported failed (not outcome-unknown) are in the log")
    }
}
