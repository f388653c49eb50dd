import Foundation
import Synchronization
import Testing
import KafkaClient
import KafkaTestSupport

// Broker restarts and crashes against `scripts/restart_rig.sh` (Tansu on S3 storage over a local
// moto_server, started by scripts/test.sh as KWIRE_RESTART_RIG): the broker process goes away
// and comes back on the same port with its data, as a real broker does after a restart.
// Every client runs with DEFAULT settings (only Tansu's group limit, session.timeout.ms 6000, is
// set for groups), and what was written is read back by confluent-kafka or kafka-python.
//
// The tests of this suite live in the BrokerRestartTests+*.swift files; this one holds the rig,
// the workload and the read-back.

@Suite(.serialized, .enabled(if: RestartRig.fromEnvironment != nil && PeerClients.available,
                             "needs the restart rig (KWIRE_RESTART_RIG, KWIRE_RESTART_DIR: scripts/restart_rig.sh start) and the peer clients"))
struct BrokerRestartTests {
    static let rig = RestartRig.fromEnvironment

    /// The rig, or a thrown error (the suite is enabled only with it).
    static func theRig() throws -> RestartRig {
        guard let rig else { throw RestartRig.RigError(description: "KWIRE_RESTART_RIG is not set") }
        return rig
    }

    static func createTopic(_ prefix: String, partitions: Int32, on rig: RestartRig) async throws -> String {
        let topic = IntegrationEnvironment.uniqueTopic(prefix)
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [rig.bootstrap]))
        try await admin.createTopic(NewTopic(name: topic, partitions: partitions, replicationFactor: 1))
        await admin.close()
        return topic
    }

    /// Enqueues messages 0 ..< n of the `SequencedWorkload` as fast as `enqueue` takes them, or
    /// at about `perSecond` (so that restarts find the workload still running: unpaced, a
    /// million small messages are delivered in a second or two); `ids[i]` is message i's id.
    static func enqueueAll(_ producer: KafkaProducer, topic: String, n: Int, size: Int, perSecond: Int? = nil, ledger: DeliveryLedger) async throws -> [MessageID] {
        var ids: [MessageID] = []
        ids.reserveCapacity(n)
        var i = 0
        let started = ContinuousClock.now
        while i < n {
            if let perSecond, i % 1000 == 0 {
                try await Task.sleep(until: started + .milliseconds(Int64(i) * 1000 / Int64(perSecond)))
            }
            do {
                let id = try producer.enqueue(ProducerRecord(topic: topic, key: SequencedWorkload.key(i), value: SequencedWorkload.value(i, size: size)))
                ledger.accepted(id)
                ids.append(id)
                i += 1
            } catch let e as KafkaError where e.kind == .queueFull {
                // buffer.memory is full (no broker for a while): wait for outcomes to make room.
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        return ids
    }

    /// Where a peer client found each message, and the audit of the log it read.
    struct ReadBack {
        var audit: SequencedLogAudit
        /// `position[i]`: (partition, offset) of message i, nil when it is not in the log.
        var position: [(partition: Int32, offset: Int64)?]
    }

    /// Reads the whole topic back, to the end of every partition, with confluent-kafka
    /// (`scripts/peer_consume.py --compact --to-end`) and audits it. `atLeast`: how many records
    /// must be there (the read waits up to 60 s for them).
    static func readBack(_ rig: RestartRig, topic: String, expected n: Int, atLeast: Int, offsetGapsAllowed: Bool = false) async throws -> ReadBack {
        let started = ContinuousClock.now
        let r = try await runProcess(["/usr/bin/env", "python3", PeerClients.script, "--client", "confluent", "--bootstrap", rig.bootstrap,
                                      "--topic", topic, "--count", String(atLeast), "--timeout", "60", "--compact", "--to-end"], timeout: .seconds(300))
        #expect(r.status == 0, "peer_consume.py: status \(r.status), \(String(decoding: r.stderr.suffix(500), as: UTF8.self))")
        var audit = SequencedLogAudit(expected: n, offsetGapsAllowed: offsetGapsAllowed)
        var position = [(partition: Int32, offset: Int64)?](repeating: nil, count: n)
        for line in String(decoding: r.stdout, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 3, let p = Int32(fields[0]), let o = Int64(fields[1]) else { continue }
            let i = Int(fields[2])
            audit.add(partition: p, offset: o, index: i)
            if let i, i >= 0, i < n, position[i] == nil { position[i] = (p, o) }
        }
        print("BrokerRestart: confluent-kafka read \(audit.records) records of \(topic) in \(ContinuousClock.now - started)")
        return ReadBack(audit: audit, position: position)
    }

    /// Checks (aimd's `DeliveryLedger`) that each of the `n` messages accepted got exactly one
    /// outcome and nothing else was reported.
    static func expectExactlyOneOutcomeEach(_ ledger: DeliveryLedger, n: Int) -> DeliveryLedger.Audit {
        let audit = ledger.audit()
        #expect(audit.accepted == n, "\(audit.accepted) accepted of \(n)")
        #expect(audit.isExact, "\(audit)")
        #expect(ledger.outcomes == n, "reports add up to \(ledger.outcomes) messages for \(n) enqueued")
        print("BrokerRestart: delivery reports: \(audit)")
        return audit
    }

    /// Runs `body` while `restarts` runs beside it, and waits for both (the restarts' error first).
    static func withRestarts<T: Sendable>(_ restarts: @escaping @Sendable () async throws -> Void, _ body: () async throws -> T) async throws -> T {
        let task = Task { try await restarts() }
        let result: T
        do { result = try await body() } catch {
            // The rig's failure is usually why the body failed: say so.
            if case let .failure(e) = await task.result { Issue.record("the broker restarts failed: \(e)") }
            throw error
        }
        try await task.value
        return result
    }
}
