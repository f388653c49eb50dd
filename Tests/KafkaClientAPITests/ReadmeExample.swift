// README.md's Swift example, compiled (never run: it needs a broker) by a target that
// depends on KafkaClient alone. The lines between the markers are the README's block minus its
// `import` line, indented by four spaces; `ReadmeExampleTests` fails when the two differ, so
// a README change comes here too (and a change that breaks the example breaks the build).
import KafkaClient

func readmeExample() async throws {
    // README BEGIN

    let admin = try KafkaAdminClient(properties: [
        "bootstrap.servers": "localhost:9092",
        "client.id": "inventory-service",
        "request.timeout.ms": "10000",
    ])
    do {
        try await admin.createTopic(NewTopic(name: "orders", partitions: 3, replicationFactor: 1))
    } catch let error as KafkaError where error.code == .topicAlreadyExists {
        // already there
    }
    for topic in try await admin.listTopics() {
        print(topic.name, topic.partitionCount)
    }
    let producer = try KafkaProducer(properties: ["bootstrap.servers": "localhost:9092", "linger.ms": "5"])
    let meta = try await producer.send(ProducerRecord(topic: "orders", key: "order-17", value: "{\"qty\": 2}"))
    print("written to \(meta.topic)[\(meta.partition)] at offset \(meta.offset.map(String.init) ?? "unknown (acks=0)")")
    // The fast path: no suspension per message; outcomes arrive as DeliveryReports.
    for i in 0 ..< 100_000 { try producer.enqueue(ProducerRecord(topic: "orders", key: nil, value: "event \(i)")) }
    try await producer.flush()
    await producer.close()

    let consumer = try KafkaConsumer(properties: ["bootstrap.servers": "localhost:9092"])
    try await consumer.assign([TopicPartition(topic: "orders", partition: 0)], from: .beginning)
    for try await record in consumer.records {
        print(record.offset, record.keyString ?? "null", record.valueString ?? "null")
        if record.offset >= 99 { break }
    }
    await consumer.close()

    // A consumer group: partitions shared with the group's other members (ours, librdkafka's, Java's).
    let member = try KafkaConsumer(properties: [
        "bootstrap.servers": "localhost:9092", "group.id": "billing",
        "partition.assignment.strategy": "cooperative-sticky", "auto.offset.reset": "earliest",
    ]) { event in
        // Awaited before partitions move: flush per-partition state on .revoked.
        print("rebalance:", event)
    }
    try member.subscribe(topics: ["orders"])          // or subscribe(pattern: "orders-.*")
    for try await record in member.records {
        print(record.partition, record.offset, record.valueString ?? "null")
        if record.offset >= 99 { break }             // processed offsets are auto-committed
    }
    await member.close()                              // revoke, final commit, LeaveGroup
    for lag in try await admin.consumerGroupLag("billing").partitions { print(lag) }

    // Ported from the confluent-kafka tutorial: one outcome per message, flush with a timeout,
    // synchronous commits per message, a seek back, and partition-end events.
    let reporting = try KafkaProducer(properties: ["bootstrap.servers": "localhost:9092", "queue.buffering.max.messages": "100000"],
                                      onMessageDelivery: { d in
        switch d.result {
        case let .success(m): print("message \(d.messageId) at \(m.topic)[\(m.partition)]@\(m.offset.map(String.init) ?? "?")")
        case let .failure(e): print("message \(d.messageId) failed: \(e)")
        }
    })
    try reporting.enqueue(ProducerRecord(topic: "orders", key: "order-18", value: "{\"qty\": 1}"))
    let stillQueued = try await reporting.flush(timeout: .seconds(10))   // 0: everything settled
    print("\(stillQueued) messages not yet delivered")
    await reporting.close()

    let manual = try KafkaConsumer(properties: ["bootstrap.servers": "localhost:9092", "group.id": "audit",
                                                "enable.auto.commit": "false", "enable.partition.eof": "true"])
    try manual.subscribe(topics: ["orders"])
    Task { for await eof in manual.partitionEOF { print("read \(eof.topicPartition) to its end (\(eof.offset))") } }
    var rewound = false
    for try await record in manual.records {
        print(record.offset, record.valueString ?? "null")
        try await manual.commit(record)                  // commits record.offset + 1, waits for the answer
        if record.offset == 10 && !rewound {             // read the partition again from 0, once
            try manual.seek(record.topicPartition, to: .offset(0))
            rewound = true
        }
        if record.offset >= 99 { break }
    }
    await manual.close()

    let cluster = try await admin.describeCluster()
    print(cluster.clusterId ?? "?", cluster.brokers.map(\.address))
    await admin.close()
    // README END
}

/// README.md's second Swift block (the transactions section), compiled the same way.
func readmeTransactionsExample() async throws {
    // README TRANSACTIONS BEGIN
    // One producer with a transactional.id: several writes that become visible together.
    let orders = try KafkaProducer(properties: ["bootstrap.servers": "localhost:9092", "transactional.id": "order-writer-1"])
    try await orders.initTransactions()              // fences an older producer with this id
    try await orders.withTransaction { txn in        // commits on return, aborts if the body throws
        try txn.enqueue(ProducerRecord(topic: "orders", key: "order-18", value: "{\"qty\": 1}"))
        _ = try await txn.send(ProducerRecord(topic: "audit", key: "order-18", value: "created"))
    }
    await orders.close()

    // Consume-transform-produce, exactly once: the output and the input's offsets are committed
    // in one transaction; an abortable error or a rebalance aborts and rewinds to the last commit.
    let pipeline = try TransactionalPipeline(
        consumer: ConsumerConfig(properties: ["bootstrap.servers": "localhost:9092", "group.id": "order-enricher"]),
        producer: ProducerConfig(properties: ["bootstrap.servers": "localhost:9092", "transactional.id": "order-enricher-1"]))
    try await pipeline.run(topics: ["orders"], until: { _ in Task.isCancelled }) { record in
        [ProducerRecord(topic: "orders-enriched", key: record.keyString, value: (record.valueString ?? "").uppercased())]
    }
    await pipeline.close()
    // README TRANSACTIONS END
}
