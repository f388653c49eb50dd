import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// Raw requests to a `FakeCluster` broker over our `BrokerConnection`, for the protocol-level
/// tests of its transaction coordinator (no producer involved: every version is chosen here).
struct FakeClusterTxnWire {
    let conn: BrokerConnection
    static let timeout = Duration.seconds(5)

    static func connect(_ broker: FakeBroker) async throws -> FakeClusterTxnWire {
        FakeClusterTxnWire(conn: try await BrokerConnection.connect(host: broker.host, port: broker.port, requestTimeout: timeout))
    }

    func close() { conn.close() }

    func initProducerId(_ id: String?, version: Int16 = 4, producerId: Int64 = -1, epoch: Int16 = -1, timeoutMs: Int32 = 60_000) async throws -> InitProducerIdResponse {
        try await conn.send(InitProducerIdRequest(transactionalId: id, transactionTimeoutMs: timeoutMs, producerId: producerId, producerEpoch: epoch), version: version, timeout: Self.timeout)
    }

    /// Each partition's code, in request order.
    func addPartitions(_ id: String, _ pid: Int64, _ epoch: Int16, _ topic: String, _ partitions: [Int32], version: Int16 = 3) async throws -> [KafkaErrorCode] {
        let r = try await conn.send(AddPartitionsToTxnRequest(transactionalId: id, producerId: pid, producerEpoch: epoch, topics: [.init(name: topic, partitions: partitions)]),
                                    version: version, timeout: Self.timeout)
        return r.resultsByTopicV3AndBelow.flatMap { $0.resultsByPartition.map { KafkaErrorCode(rawValue: $0.partitionErrorCode) } }
    }

    func addOffsets(_ id: String, _ pid: Int64, _ epoch: Int16, group: String, version: Int16 = 3) async throws -> KafkaErrorCode {
        let r = try await conn.send(AddOffsetsToTxnRequest(transactionalId: id, producerId: pid, producerEpoch: epoch, groupId: group), version: version, timeout: Self.timeout)
        return KafkaErrorCode(rawValue: r.errorCode)
    }

    func endTxn(_ id: String, _ pid: Int64, _ epoch: Int16, commit: Bool, version: Int16 = 3) async throws -> EndTxnResponse {
        try await conn.send(EndTxnRequest(transactionalId: id, producerId: pid, producerEpoch: epoch, committed: commit), version: version, timeout: Self.timeout)
    }

    /// Each partition's code, in request order.
    func txnOffsetCommit(_ id: String, _ pid: Int64, _ epoch: Int16, group: String, _ offsets: [(String, Int32, Int64)], generation: Int32 = -1,
                         member: String = "", instance: String? = nil, version: Int16 = 3) async throws -> [KafkaErrorCode] {
        var t = TxnOffsetCommitRequest()
        (t.transactionalId, t.groupId, t.producerId, t.producerEpoch) = (id, group, pid, epoch)
        (t.generationId, t.memberId, t.groupInstanceId) = (generation, member, instance)
        t.topics = offsets.map { TxnOffsetCommitRequest.Topic(name: $0.0, partitions: [.init(partitionIndex: $0.1, committedOffset: $0.2)]) }
        let r = try await conn.send(t, version: version, timeout: Self.timeout)
        return r.topics.flatMap { $0.partitions.map { KafkaErrorCode(rawValue: $0.errorCode) } }
    }

    /// The committed offset (-1: none) and code of each partition asked for.
    func offsetFetch(_ group: String, _ topic: String, _ partitions: [Int32], requireStable: Bool = false, version: Int16 = 7) async throws -> [(Int64, KafkaErrorCode)] {
        let r = try await conn.send(OffsetFetchRequest(groupId: group, topics: [(topic, partitions)], requireStable: requireStable, version: version), version: version, timeout: Self.timeout)
        if version >= 8 { return r.groups.flatMap { $0.topics.flatMap { $0.partitions.map { ($0.committedOffset, KafkaErrorCode(rawValue: $0.errorCode)) } } } }
        return r.topics.flatMap { $0.partitions.map { ($0.committedOffset, KafkaErrorCode(rawValue: $0.errorCode)) } }
    }

    /// Produces one batch of `values` (transactional unless told otherwise); the partition's code.
    func produce(_ topic: String, _ partition: Int32, _ values: [String], pid: Int64, epoch: Int16, transactional: Bool = true, version: Int16 = 9) async throws -> KafkaErrorCode {
        var b = RecordBatchBuilder(producerId: pid, producerEpoch: epoch, baseSequence: 0, isTransactional: transactional)
        for (i, v) in values.enumerated() { try b.append(timestamp: 1_700_000_000_000 + Int64(i), key: nil, value: Array(v.utf8)) }
        let p = ProduceRequest(transactionalId: transactional ? "tx" : nil, acks: -1, timeoutMs: 1000,
                               topicData: [.init(name: topic, partitionData: [.init(index: partition, records: try b.build())])])
        let r = try await conn.send(p, version: version, timeout: Self.timeout)
        return KafkaErrorCode(rawValue: r.responses.first?.partitionResponses.first?.errorCode ?? -1)
    }

    /// One Fetch of the partition from `offset` (no session, no wait).
    func fetch(_ topic: String, _ partition: Int32, from offset: Int64, readCommitted: Bool) async throws -> FetchResponse.Partition? {
        var f = FetchRequest()
        (f.maxWaitMs, f.isolationLevel, f.sessionEpoch) = (0, readCommitted ? 1 : 0, -1)
        f.topics = [.init(topic: topic, partitions: [.init(partition: partition, fetchOffset: offset, partitionMaxBytes: 1 << 20)])]
        let r = try await conn.send(f, version: 11, timeout: Self.timeout)
        return r.responses.first?.partitions.first
    }

    /// The values of the data records in a fetched partition, control batches skipped.
    static func values(_ p: FetchResponse.Partition?) throws -> [String] {
        var out: [String] = []
        var rest = p?.records ?? []
        while rest.count >= 61 {
            let length = Int(UInt32(rest[8]) << 24 | UInt32(rest[9]) << 16 | UInt32(rest[10]) << 8 | UInt32(rest[11])) + 12
            let batch = try RecordBatch(Array(rest.prefix(length)))
            if !batch.isControl {
                var reader = try batch.records()
                while let r = try reader.next() { out.append(String(decoding: r.value ?? [], as: UTF8.self)) }
            }
            rest = Array(rest.dropFirst(length))
        }
        return out
    }
}
