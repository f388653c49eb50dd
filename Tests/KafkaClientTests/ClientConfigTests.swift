import Testing
@testable import KafkaClient
import KafkaProtocol

@Suite struct ClientConfigTests {
    @Test func familiarPropertyNamesSetTypedValues() throws {
        let c = try ClientConfig(properties: [
            "bootstrap.servers": "a:9092, b:9093",
            "client.id": "svc",
            "request.timeout.ms": "1500",
            "metadata.max.age.ms": "60000",
            "reconnect.backoff.ms": "10",
            "reconnect.backoff.max.ms": "2000",
            "allow.auto.create.topics": "true",
        ])
        #expect(c.bootstrapServers == ["a:9092", "b:9093"])
        #expect(c.clientId == "svc")
        #expect(c.requestTimeout == .milliseconds(1500))
        #expect(c.metadataMaxAge == .seconds(60))
        #expect(c.reconnectBackoff == .milliseconds(10))
        #expect(c.reconnectBackoffMax == .seconds(2))
        #expect(c.allowAutoCreateTopics)
    }

    @Test func defaultsMatchTheJavaClient() {
        let c = ClientConfig()
        #expect(c.requestTimeout == .seconds(30))
        #expect(c.metadataMaxAge == .seconds(300))
        #expect(c.reconnectBackoff == .milliseconds(50))
        #expect(c.reconnectBackoffMax == .seconds(1))
        #expect(c.retryBackoff == .milliseconds(100))
    }

    @Test func unknownKeyIsAClearErrorWithASuggestion() {
        var c = ClientConfig()
        do {
            try c.set("request.timeout.msec", "10")
            Issue.record("expected an error")
        } catch let e as KafkaError {
            #expect(e.kind == .configuration)
            #expect(e.message.contains("request.timeout.msec"))
            #expect(e.message.contains("did you mean request.timeout.ms"))
        } catch { Issue.record("\(error)") }
    }

    @Test(arguments: [
        ("request.timeout.ms", "soon"), ("request.timeout.ms", "-5"), ("request.timeout.ms", "0"),
        ("allow.auto.create.topics", "maybe"), ("bootstrap.servers", "nohost"), ("bootstrap.servers", "h:0"),
        ("bootstrap.servers", "h:70000"), ("receive.message.max.bytes", "12"),
    ])
    func badValuesNameTheKey(key: String, value: String) {
        var c = ClientConfig()
        do {
            try c.set(key, value)
            Issue.record("\(key)=\(value) should fail")
        } catch let e as KafkaError {
            #expect(e.kind == .configuration)
            #expect(e.message.contains(key) || e.message.contains(value))
        } catch { Issue.record("\(error)") }
    }

    @Test func bootstrapAddressesParse() throws {
        #expect(try BootstrapAddress.parse("localhost:9092") == BootstrapAddress(host: "localhost", port: 9092))
        #expect(try BootstrapAddress.parse("[::1]:9093") == BootstrapAddress(host: "::1", port: 9093))
        #expect(try BootstrapAddress.parse("PLAINTEXT://h:1") == BootstrapAddress(host: "h", port: 1))
        #expect(throws: KafkaError.self) { try BootstrapAddress.parse("[::1]9093") }
        #expect(throws: KafkaError.self) { try BootstrapAddress.parse(":9092") }
    }

    @Test func emptyBootstrapIsRejectedAtClientCreation() {
        #expect(throws: KafkaError.self) { try KafkaAdminClient(config: ClientConfig()) }
    }
}

@Suite struct SecurityConfigTests {
    @Test func saslPropertiesMapOntoTypedSettings() throws {
        let c = try ClientConfig(properties: [
            "bootstrap.servers": "h:1", "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanisms": "scram-sha-512", "sasl.username": "u", "sasl.password": "p",
        ])
        #expect(c.securityProtocol == .saslPlaintext)
        #expect(c.saslMechanism == .scramSHA512)
        try c.validate()
    }

    @Test func tlsPropertiesMapOntoTypedSettings() throws {
        let c = try ClientConfig(properties: [
            "bootstrap.servers": "h:1", "security.protocol": "ssl", "ssl.ca.location": "/ca.pem",
            "ssl.endpoint.identification.algorithm": "none", "ssl.certificate.location": "/c.pem",
            "ssl.key.location": "/k.pem", "ssl.key.password": "kp",
        ])
        #expect(c.securityProtocol == .ssl)
        #expect(c.tls.caLocation == "/ca.pem")
        #expect(!c.tls.verifyHostname)
        #expect(c.tls.keyPassword == "kp")
        #expect(!c.tls.description.contains("kp"))
        try c.validate()
    }

    @Test func clientCertificateWithoutKeyIsAConfigurationError() throws {
        let c = try ClientConfig(properties: ["bootstrap.servers": "h:1", "security.protocol": "ssl", "ssl.certificate.location": "/c.pem"])
        #expect(throws: KafkaError.self) { try c.validate() }
    }

    @Test func saslWithoutCredentialsIsAConfigurationError() throws {
        let c = try ClientConfig(properties: ["bootstrap.servers": "h:1", "security.protocol": "sasl_plaintext", "sasl.mechanism": "PLAIN"])
        #expect(throws: KafkaError.self) { try c.validate() }
    }

    @Test func unknownMechanismIsRejected() {
        var c = ClientConfig()
        #expect(throws: KafkaError.self) { try c.set("sasl.mechanism", "GSSAPI") }
    }

    // The librdkafka names a confluent-kafka port brings along (issue 13).

    @Test func librdkafkaQueueAndBatchPropertiesSetTypedValues() throws {
        let p = try ProducerConfig(properties: ["bootstrap.servers": "h:1", "queue.buffering.max.messages": "100000", "batch.num.messages": "20000"])
        #expect(p.maxQueuedMessages == 100_000)
        #expect(p.maxBatchRecords == 20_000)
        try p.validate()
        let defaults = ProducerConfig()
        #expect(defaults.maxQueuedMessages == Int.max, "unbounded unless set (buffer.memory bounds)")
        // librdkafka's 10,000 (issue 12): small messages make ~100 KB batches, which a lossy link can carry whole.
        #expect(defaults.maxBatchRecords == 10_000)
        let c = try ConsumerConfig(properties: ["bootstrap.servers": "h:1", "enable.partition.eof": "true"])
        #expect(c.enablePartitionEOF)
        #expect(ConsumerConfig().enablePartitionEOF == false)
    }

    @Test(arguments: [
        ("queue.buffering.max.messages", "0"), ("queue.buffering.max.messages", "lots"), ("queue.buffering.max.messages", "-1"),
        ("batch.num.messages", "0"), ("batch.num.messages", "1e4"),
    ])
    func badQueueAndBatchValuesNameTheKey(key: String, value: String) {
        do {
            _ = try ProducerConfig(properties: [key: value])
            Issue.record("\(key)=\(value) should fail")
        } catch let e as KafkaError {
            #expect(e.kind == .configuration)
            #expect(e.message.contains(key), "\(e)")
        } catch { Issue.record("\(error)") }
    }

    @Test func badPartitionEOFValueNamesTheKey() {
        do {
            _ = try ConsumerConfig(properties: ["enable.partition.eof": "sometimes"])
            Issue.record("should fail")
        } catch let e as KafkaError {
            #expect(e.kind == .configuration)
            #expect(e.message.contains("enable.partition.eof"), "\(e)")
        } catch { Issue.record("\(error)") }
    }

    @Test func misspelledNewPropertiesSuggestTheRightName() {
        for (wrong, right) in [("queue.buffering.max.message", "queue.buffering.max.messages"), ("batch.num.message", "batch.num.messages")] {
            do {
                _ = try ProducerConfig(properties: [wrong: "10"])
                Issue.record("\(wrong) should fail")
            } catch let e as KafkaError {
                #expect(e.message.contains("unknown configuration property '\(wrong)'") && e.message.contains(right), "\(e)")
            } catch { Issue.record("\(error)") }
        }
        do {
            _ = try ConsumerConfig(properties: ["enable.partition.oef": "true"])
            Issue.record("should fail")
        } catch let e as KafkaError {
            #expect(e.message.contains("enable.partition.eof"), "\(e)")
        } catch { Issue.record("\(error)") }
    }
}
