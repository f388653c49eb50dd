import Testing
import KafkaNet
import KafkaProtocol

@Suite struct BackoffTests {
    let b = Backoff(base: .milliseconds(50), max: .seconds(1), jitter: 0.2)

    @Test func growsExponentiallyWithoutJitterAtMidpoint() {
        #expect(b.delay(afterFailures: 1, unit: 0.5) == .milliseconds(50))
        #expect(b.delay(afterFailures: 2, unit: 0.5) == .milliseconds(100))
        #expect(b.delay(afterFailures: 3, unit: 0.5) == .milliseconds(200))
        #expect(b.delay(afterFailures: 5, unit: 0.5) == .milliseconds(800))
    }

    @Test func isCappedAtMax() {
        #expect(b.delay(afterFailures: 6, unit: 0.5) == .seconds(1))
        #expect(b.delay(afterFailures: 60, unit: 0.5) == .seconds(1))
    }

    @Test func jitterStaysWithinBounds() {
        #expect(b.delay(afterFailures: 1, unit: 0) == .milliseconds(40))
        #expect(b.delay(afterFailures: 1, unit: 1) == .milliseconds(60))
        for _ in 0 ..< 100 {
            let d = b.delay(afterFailures: 3)
            #expect(d >= .milliseconds(160) && d <= .milliseconds(240))
        }
    }

    @Test func noFailuresMeansNoDelay() {
        #expect(b.delay(afterFailures: 0, unit: 0.3) == .zero)
    }
}

@Suite struct VersionSelectionTests {
    @Test func highestCommonVersion() throws {
        #expect(try BrokerConnection.selectVersion(ours: 0 ... 13, broker: 0 ... 12, cap: nil, apiKey: .metadata, remote: "x") == 12)
        #expect(try BrokerConnection.selectVersion(ours: 2 ... 7, broker: 0 ... 9, cap: nil, apiKey: .createTopics, remote: "x") == 7)
        #expect(try BrokerConnection.selectVersion(ours: 0 ... 13, broker: 0 ... 12, cap: 4, apiKey: .metadata, remote: "x") == 4)
    }

    @Test func noCommonVersionIsAClearError() {
        do {
            _ = try BrokerConnection.selectVersion(ours: 2 ... 7, broker: 0 ... 1, cap: nil, apiKey: .createTopics, remote: "b:1")
            Issue.record("expected an error")
        } catch let e as KafkaError {
            #expect(e.kind == .unsupportedVersion)
            #expect(e.message.contains("CreateTopics"))
            #expect(e.message.contains("0...1"))
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func missingApiIsAClearError() {
        #expect(throws: KafkaError.self) {
            try BrokerConnection.selectVersion(ours: 0 ... 4, broker: nil, cap: nil, apiKey: .saslHandshake, remote: "b:1")
        }
    }
}
