import Foundation
import Testing
import KafkaClient
import KafkaTestSupport

/// Admin calls while the broker restarts: they retry within `default.api.timeout.ms`.
extension BrokerRestartTests {
    /// Calls made while the broker is down for ~3 s succeed once it is back (default settings:
    /// a 60 s budget), on an admin client that was connected before the restart.
    @Test(.timeLimit(.minutes(2)))
    func adminCallsDuringARestartSucceedWhenTheBrokerIsBackWithinTheTimeout() async throws {
        let rig = try Self.theRig()
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [rig.bootstrap]))
        _ = try await admin.describeCluster()
        let name = IntegrationEnvironment.uniqueTopic("kw-restart-admin")
        let started = ContinuousClock.now
        let (created, listed) = try await Self.withRestarts({ try await rig.restart(down: .seconds(2)) }) {
            // The SIGTERM reaches the broker ~0.2 s after the script starts.
            try await Task.sleep(for: .milliseconds(700))
            let created = try await admin.createTopic(NewTopic(name: name, partitions: 2, replicationFactor: 1))
            let listed = try await admin.listTopics().map(\.name)
            return (created, listed)
        }
        print("BrokerRestart(admin): createTopic + listTopics across a restart took \(ContinuousClock.now - started)")
        #expect(created.name == name)
        #expect(listed.contains(name))
        let described = try await admin.describeTopics([name])
        #expect(described.first?.partitions.count == 2)
        await admin.close()
    }

    /// With the broker down longer than `default.api.timeout.ms` (3 s here: the setting under
    /// test), a call fails with a typed `KafkaError` after about that long — no hang — and the
    /// same client works again once the broker is back.
    @Test(.timeLimit(.minutes(2)))
    func adminCallsFailCleanlyAfterTheApiTimeoutWhileTheBrokerIsDown() async throws {
        let rig = try Self.theRig()
        let admin = try KafkaAdminClient(properties: ["bootstrap.servers": rig.bootstrap, "default.api.timeout.ms": "3000"])
        _ = try await admin.describeCluster()
        try await Self.withRestarts({ try await rig.restart(down: .seconds(8)) }) {
            try await Task.sleep(for: .milliseconds(700))
            let started = ContinuousClock.now
            do {
                let topics = try await admin.listTopics()
                Issue.record("listTopics succeeded while the broker was down: \(topics.count) topics")
            } catch let e as KafkaError {
                let took = ContinuousClock.now - started
                print("BrokerRestart(admin): listTopics failed after \(took): \(e)")
                #expect(e.kind == .timeout || e.kind == .connection, "\(e)")
                #expect(took >= .milliseconds(2900) && took < .seconds(5), "failed after \(took) with default.api.timeout.ms 3000")
            }
        }
        // The same client works again (a fresh rig may hold no topics yet: success is the point).
        _ = try await admin.listTopics()
        await admin.close()
    }
}
