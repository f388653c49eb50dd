import Foundation
import Synchronization
import KafkaClient
import KafkaTestSupport

/// One soak: a producer and a group consumer of ours, default settings (the group's session
/// timeout aside: Tansu holds each JoinGroup for half of it), through a `FaultProxy` in front of
/// the restart rig's broker, with a fault every `faultEvery` for `minutes`; then an exact audit.
struct SoakRun: Sendable {
    var minutes: Double
    var rate: Int
    var faultEvery: Duration
    var seed: UInt64
    var stateDir: String
    var repoRoot: String

    /// RSS samples: (seconds since start, bytes).
    final class RSSLog: Sendable {
        let samples = Mutex<[(Double, Int)]>([])
        func sample(at t: Double) { if let r = Self.current() { samples.withLock { $0.append((t, r)) } } }
        /// VmRSS of this process (Linux), nil elsewhere.
        static func current() -> Int? {
            guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                  let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                  let kb = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
            return kb * 1024
        }
    }

    /// A flag a task polls to know when to stop.
    final class RunFlag: Sendable {
        private let on = Atomic<Bool>(true)
        var isOn: Bool { on.load(ordering: .relaxed) }
        func stop() { on.store(false, ordering: .relaxed) }
    }

    func run() async throws -> SoakReport {
        let (rig, proxy) = try await RestartRig.startBehindProxy(stateDir: stateDir)
        defer { proxy.stop() }
        do {
            let report = try await soak(proxy: proxy, rig: rig)
            await rig.stop()
            return report
        } catch {
            await rig.stop()
            throw error
        }
    }

    private func soak(proxy: FaultProxy, rig: RestartRig) async throws -> SoakReport {
        let partitions: Int32 = 4
        let topic = IntegrationEnvironment.uniqueTopic("kw-soak")
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [proxy.address]))
        try await admin.createTopic(NewTopic(name: topic, partitions: partitions, replicationFactor: 1))
        await admin.close()

        let ledger = SoakLedger()
        let rss = RSSLog()
        let start = ContinuousClock.now
        func elapsed() -> Double { let d = ContinuousClock.now - start; return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        let producer = try KafkaProducer(properties: ["bootstrap.servers": proxy.address]) { ledger.record($0) }
        let consumer = try KafkaConsumer(properties: ["bootstrap.servers": proxy.address, "group.id": "kw-soak-\(seed)",
                                                      "auto.offset.reset": "earliest", "session.timeout.ms": "6000"])
        try consumer.subscribe(topics: [topic])
        let end = start + .milliseconds(Int64(minutes * 60_000))

        // The group consumer: reads and records until told to stop.
        let reading = RunFlag()
        let reader = Task {
            while reading.isOn {
                guard let batch = try? await consumer.poll(max: 2000, timeout: .milliseconds(200)) else {
                    try? await Task.sleep(for: .milliseconds(100))
                    continue
                }
                ledger.processed(batch)
            }
        }
        // The producer: `rate` messages a second, in steps of 10 ms.
        let writer = Task {
            var i = 0
            let perTick = max(1, rate / 100)
            var next = ContinuousClock.now
            while ContinuousClock.now < end {
                for _ in 0 ..< perTick {
                    while true {
                        do {
                            let id = try producer.enqueue(ProducerRecord(topic: topic, key: SequencedWorkload.key(i), value: SequencedWorkload.value(i, size: 40)))
                            ledger.enqueued(id)
                            break
                        } catch let e as KafkaError where e.kind == .queueFull {
                            try? await Task.sleep(for: .milliseconds(10))
                        }
                    }
                    i += 1
                }
                next += .milliseconds(10)
                try? await Task.sleep(until: next)
            }
        }
        // Faults, and RSS every 5 s.
        var faults: [SoakFault: Int] = [:]
        var schedule = SoakFaultSchedule(seed: seed)
        rss.sample(at: 0)
        var nextFault = start + faultEvery
        var nextSample = start + .seconds(5)
        while ContinuousClock.now < end {
            let now = ContinuousClock.now
            if now >= nextSample { rss.sample(at: elapsed()); nextSample += .seconds(5) }
            if now >= nextFault, end - now > .seconds(15) {
                let f = schedule.next()
                print("soak: \(String(format: "%7.1f", elapsed())) s  \(f.rawValue)  (\(ledger.enqueuedCount) enqueued, \(ledger.reportCount) reported)")
                try await f.inject(proxy: proxy, rig: rig)
                faults[f, default: 0] += 1
                nextFault = ContinuousClock.now + faultEvery
                continue
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        try await writer.value
        proxy.faults = .none
        proxy.resume()
        print("soak: \(String(format: "%7.1f", elapsed())) s  producing stopped (\(ledger.enqueuedCount) enqueued); flushing")
        let unsettled = try await producer.flush(timeout: .seconds(180))
        await producer.close(timeout: .seconds(10))
        rss.sample(at: elapsed())

        // The consumer catches up with everything delivered (bounded), then leaves.
        let settleBy = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < settleBy, !ledger.state.withLock({ s in (0 ..< s.enqueued).allSatisfy { s.failed[$0] != 0 || s.processed[$0] > 0 } }) {
            try await Task.sleep(for: .milliseconds(250))
        }
        reading.stop()
        await reader.value
        await consumer.close()
        rss.sample(at: elapsed())

        // The log, read by confluent-kafka to the end of every partition.
        // confluent-kafka is the oracle; on a long run Tansu on S3 (moto) can serve it too slowly
        // to finish, and then our consumer's view (each offset once) stands in, saying so.
        let log: SoakLogView
        do {
            log = SoakLogView(try await readLog(topic: topic, bootstrap: proxy.address, expected: ledger.enqueuedCount))
        } catch {
            log = SoakLogView(consumerOf: ledger.state.withLock { $0 }, because: "\(error)".prefix(300).description)
        }
        return SoakReport(ledger: ledger.state.withLock { $0 }, log: log, faults: faults, rss: rss.samples.withLock { $0 },
                          unsettledAfterFlush: unsettled, seconds: elapsed(), seed: seed, proxy: proxy.stats)
    }

    private func readLog(topic: String, bootstrap: String, expected: Int) async throws -> SequencedLogAudit {
        let script = repoRoot + "/scripts/peer_consume.py"
        // The time allowed grows with the log, up to 5 minutes: on a 30-minute soak's 5 M records
        // Tansu on S3 (moto) served confluent-kafka nothing in 11 minutes (no partition reached
        // its end), and then our consumer's view stands in (see `run`).
        let seconds = min(120 + expected / 10_000, 300)
        let r = try await runProcess(["/usr/bin/env", "python3", script, "--client", "confluent", "--bootstrap", bootstrap, "--topic", topic,
                                      "--count", "0", "--to-end", "--compact", "--timeout", String(seconds)], timeout: .seconds(seconds + 180))
        guard r.status == 0 else {
            throw RestartRig.RigError(description: "peer_consume.py failed (status \(r.status)): \(String(decoding: r.stderr.suffix(800), as: UTF8.self))")
        }
        var audit = SequencedLogAudit(expected: expected)
        for line in String(decoding: r.stdout, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: false)
            guard f.count == 3, let p = Int32(f[0]), let o = Int64(f[1]) else { continue }
            audit.add(partition: p, offset: o, index: Int(f[2]))
        }
        return audit
    }
}
