import Testing
import KafkaClient
@testable import kwire

/// `kwire produce`'s settings and its count of outcomes.
@Suite struct ProduceCommandTests {
    func config(_ argv: [String]) throws -> ProducerConfig {
        try ProduceCommand.producerConfig(ProduceCommand.arguments(["t", "-b", "127.0.0.1:9092"] + argv))
    }

    /// librdkafka's 300 s, not the 30 s the CLI used to force (a broker restart outlasted it).
    @Test func deliveryTimeoutDefaultsToLibrdkafkasAndXOverrides() throws {
        #expect(try config([]).deliveryTimeout == .seconds(300))
        #expect(try config(["-X", "delivery.timeout.ms=1234"]).deliveryTimeout == .milliseconds(1234))
        #expect(try config(["-X", "message.timeout.ms=5000"]).deliveryTimeout == .seconds(5))
        // The rest stays the library's default.
        #expect(try config([]).batchSize == ProducerConfig().batchSize)
        #expect(try config(["--batch-size", "1000"]).batchSize == 1000)
    }

    /// A message that went through `send` (buffer full) gets no delivery report: its result
    /// must be counted, once, beside the reports (the 4,999,999-of-5,000,000 summary).
    @Test func sendResultsCountBesideDeliveryReports() {
        let tally = ProduceTally()
        let tp = TopicPartition(topic: "t", partition: 0)
        tally.count(DeliveryReport(topicPartition: tp, messageIds: [MessageID(1), MessageID(2)], result: .success(0)))
        tally.count(.success(RecordMetadata(topic: "t", partition: 0, offset: 2, timestamp: 0)))
        tally.count(.failure(KafkaError(.timeout, "late")))
        tally.count(DeliveryReport(topicPartition: tp, messageIds: [MessageID(3)], result: .failure(KafkaError(.outcomeUnknown, "?"))))
        #expect(tally.delivered == 3)
        #expect(tally.failed == 2)
        #expect(tally.firstError?.contains("late") == true)
    }
}
