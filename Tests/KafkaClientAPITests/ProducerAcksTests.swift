import Testing
import KafkaClient

/// `acks` is an enum on the typed config; the property still takes Kafka's spellings.
@Suite struct ProducerAcksTests {
    @Test(arguments: [("0", ProducerConfig.Acks.none), ("1", .leader), ("-1", .all), ("all", .all), (" ALL ", .all)])
    func thePropertyTakesKafkasSpellings(value: String, expected: ProducerConfig.Acks) throws {
        var config = ProducerConfig()
        config.acks = expected == .all ? .none : .all   // start from another value
        try config.set("acks", value)
        #expect(config.acks == expected)
    }

    @Test func theDefaultIsAllAndPrintsAsKafkaWritesIt() {
        #expect(ProducerConfig().acks == .all)
        #expect(ProducerConfig.Acks.allCases.map(\.description) == ["0", "1", "all"])
    }

    @Test(arguments: ["2", "leader", "", "-2"])
    func aBadValueIsAClearConfigurationError(value: String) {
        var config = ProducerConfig()
        do {
            try config.set("acks", value)
            Issue.record("acks=\(value) was accepted")
        } catch let error as KafkaError {
            #expect(error.kind == .configuration)
            #expect(error.message.contains("acks") && error.message.contains("0, 1, all or -1"), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
        #expect(config.acks == .all, "a refused value leaves the setting alone")
    }

    @Test(arguments: [ProducerConfig.Acks.none, .leader])
    func idempotenceNeedsAcksAll(acks: ProducerConfig.Acks) throws {
        var config = ProducerConfig(bootstrapServers: ["localhost:9092"])
        config.acks = acks
        #expect(throws: KafkaError.self) { try config.validate() }
        config.enableIdempotence = false
        try config.validate()
        config.acks = .all
        config.enableIdempotence = true
        try config.validate()
    }
}
