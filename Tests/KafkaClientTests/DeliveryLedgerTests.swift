import Testing
import KafkaClient
import KafkaTestSupport

/// The ledger other fault suites rely on must itself catch each way "exactly one outcome per
/// message" can break.
@Suite struct DeliveryLedgerTests {
    func report(_ ids: [UInt64], partition: Int32 = 0, _ result: Result<Int64?, KafkaError>) -> DeliveryReport {
        DeliveryReport(topicPartition: TopicPartition(topic: "t", partition: partition), messageIds: ids.map { MessageID($0) }, result: result)
    }

    @Test func exactWhenEveryAcceptedIdHasOneReport() {
        let ledger = DeliveryLedger()
        // A report may arrive before `accepted` is called for its id.
        ledger.record(report([1, 2], .success(10)))
        for i in 1 ... 3 { ledger.accepted(MessageID(UInt64(i))) }
        ledger.record(report([3], .failure(KafkaError(.timeout, "late"))))
        let a = ledger.audit()
        #expect(a.isExact, "\(a)")
        #expect(a.accepted == 3 && a.delivered == 2 && a.failed == 1)
        #expect(a.failuresByKind.values.reduce(0, +) == 1)
        #expect(ledger.outcome(of: MessageID(2)) == .delivered(partition: 0, offset: 11))
        #expect(ledger.outcome(of: MessageID(4)) == nil)
    }

    @Test func findsMissingDuplicatedAndUnknownIds() {
        let ledger = DeliveryLedger()
        for i in 1 ... 4 { ledger.accepted(MessageID(UInt64(i))) }
        ledger.record(report([1, 2], .success(nil)))
        ledger.record(report([2], .failure(KafkaError(.outcomeUnknown, "?"))))
        ledger.record(report([9, 1 << 40], .success(0)))
        ledger.accepted(MessageID(1 << 41))
        let a = ledger.audit()
        #expect(!a.isExact)
        #expect(a.missing == [MessageID(3), MessageID(4), MessageID(1 << 41)])
        #expect(a.duplicated == [MessageID(2)])
        #expect(a.unknown == [MessageID(9), MessageID(1 << 40)])
        #expect(a.problems.count == 3)
    }

    @Test func countsOutcomesAgainstAcceptedForWaiting() async {
        let ledger = DeliveryLedger()
        ledger.accepted(MessageID(1))
        #expect(await ledger.waitForOutcomes(timeout: .milliseconds(30)) == false)
        ledger.record(report([1], .success(0)))
        #expect(await ledger.waitForOutcomes(timeout: .milliseconds(30)))
        #expect(ledger.outcomes == 1 && ledger.acceptedCount == 1)
    }
}
