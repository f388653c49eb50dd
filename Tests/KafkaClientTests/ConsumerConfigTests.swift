import Testing
@testable import KafkaClient

/// Consumer and group properties: names, defaults, and the errors a user can act on.
struct ConsumerConfigTests {
    @Test func groupPropertiesSetTypedValues() throws {
        let c = try ConsumerConfig(properties: [
            "bootstrap.servers": "h:1", "group.id": "g", "group.instance.id": "i-1", "session.timeout.ms": "6000",
            "heartbeat.interval.ms": "1000", "max.poll.interval.ms": "20000", "partition.assignment.strategy": "cooperative-sticky",
            "enable.auto.commit": "false", "auto.commit.interval.ms": "250", "client.rack": "r1", "debug": "cgrp",
        ])
        #expect(c.groupId == "g")
        #expect(c.groupInstanceId == "i-1")
        #expect(c.sessionTimeout == .seconds(6))
        #expect(c.heartbeatInterval == .seconds(1))
        #expect(c.maxPollInterval == .seconds(20))
        #expect(c.assignmentStrategies == ["cooperative-sticky"])
        #expect(c.enableAutoCommit == false)
        #expect(c.autoCommitInterval == .milliseconds(250))
        #expect(c.clientRack == "r1")
        #expect(c.client.debugContexts == ["cgrp"])
        try c.validate()
    }

    @Test func defaultsMatchTheJavaClient() {
        let c = ConsumerConfig()
        #expect(c.sessionTimeout == .seconds(45))
        #expect(c.heartbeatInterval == .seconds(3))
        #expect(c.maxPollInterval == .seconds(300))
        #expect(c.enableAutoCommit)
        #expect(c.autoCommitInterval == .seconds(5))
        #expect(c.groupId == nil)
    }

    @Test func unknownAssignorNamesTheValidOnes() {
        #expect { try ConsumerConfig(properties: ["partition.assignment.strategy": "sticky-ish"]) } throws: { e in
            guard let e = e as? KafkaError, case .configuration = e.kind else { return false }
            return e.message.contains("range") && e.message.contains("cooperative-sticky")
        }
    }

    @Test func eagerAndCooperativeAssignorsCannotBeMixed() throws {
        var c = try ConsumerConfig(properties: ["bootstrap.servers": "h:1", "partition.assignment.strategy": "range,cooperative-sticky"])
        #expect { try c.validate() } throws: { e in (e as? KafkaError)?.message.contains("mixes eager and cooperative") == true }
        c.assignors = [RangeAssignor(), RoundRobinAssignor()]
        try c.validate()
        c.assignors = [RangeAssignor(), EverythingToOne(rebalanceProtocol: .cooperative)]
        #expect { try c.validate() } throws: { e in (e as? KafkaError)?.message.contains("mixes eager and cooperative") == true }
    }

    /// An application's own assignor goes into the typed list beside (or instead of) the
    /// built-in ones; `partition.assignment.strategy` still sets the list by name.
    @Test func assignorsAreValues() throws {
        var c = try ConsumerConfig(properties: ["bootstrap.servers": "h:1", "partition.assignment.strategy": "org.apache.kafka.clients.consumer.RoundRobinAssignor, range"])
        #expect(c.assignmentStrategies == ["roundrobin", "range"])
        #expect(ConsumerConfig().assignmentStrategies == ["range", "roundrobin"])
        c.assignors = [EverythingToOne(), RangeAssignor()]
        try c.validate()
        #expect(c.assignmentStrategies == ["everything-to-one", "range"])
        c.assignors = [EverythingToOne(), EverythingToOne()]
        #expect { try c.validate() } throws: { e in (e as? KafkaError)?.message.contains("twice") == true }
        c.assignors = []
        #expect(throws: KafkaError.self) { try c.validate() }
    }

    @Test func heartbeatMustBeShorterThanTheSession() throws {
        let c = try ConsumerConfig(properties: ["bootstrap.servers": "h:1", "session.timeout.ms": "3000", "heartbeat.interval.ms": "3000"])
        #expect { try c.validate() } throws: { e in (e as? KafkaError)?.message.contains("heartbeat.interval.ms") == true }
    }

    @Test func badValuesNameTheKey() {
        for (k, v) in [("session.timeout.ms", "soon"), ("enable.auto.commit", "maybe"), ("debug", "everything"), ("max.poll.interval.ms", "-1")] {
            #expect(throws: KafkaError.self) { try ConsumerConfig(properties: [k: v]) }
            do { _ = try ConsumerConfig(properties: [k: v]) } catch { #expect("\(error)".contains(k), "\(k)") }
        }
    }

    @Test func subscribeWithoutGroupIdIsAClearError() throws {
        let c = try KafkaConsumer(properties: ["bootstrap.servers": "127.0.0.1:1"])
        #expect { try c.subscribe(topics: ["t"]) } throws: { e in (e as? KafkaError)?.message.contains("group.id") == true }
        #expect { try c.subscribe(pattern: "t[") } throws: { e in (e as? KafkaError)?.message.contains("group.id") == true || (e as? KafkaError)?.message.contains("pattern") == true }
    }

    @Test func invalidPatternIsAConfigurationError() throws {
        let c = try KafkaConsumer(properties: ["bootstrap.servers": "127.0.0.1:1", "group.id": "g"])
        #expect { try c.subscribe(pattern: "orders-[") } throws: { e in (e as? KafkaError)?.message.contains("invalid topic pattern") == true }
    }

    @Test func assignAndSubscribeDoNotMix() async throws {
        let c = try KafkaConsumer(properties: ["bootstrap.servers": "127.0.0.1:1", "group.id": "g"])
        try await c.assign([TopicPartition(topic: "t", partition: 0)], from: .beginning)
        #expect { try c.subscribe(topics: ["t"]) } throws: { e in (e as? KafkaError)?.message.contains("after assign") == true }
        let d = try KafkaConsumer(properties: ["bootstrap.servers": "127.0.0.1:1", "group.id": "g"])
        try d.subscribe(topics: ["t"])
        await #expect(throws: KafkaError.self) { try await d.assign([TopicPartition(topic: "t", partition: 0)]) }
        await c.close()
        await d.close()
    }
}
