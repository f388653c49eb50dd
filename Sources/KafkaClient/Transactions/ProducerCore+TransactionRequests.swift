import KafkaProtocol
import KafkaNet

/// The transactional requests on the wire: each `TransactionRequest` sent to its coordinator
/// (the transaction coordinator through the shared `CoordinatorDirectory`, key type 1; the
/// group's for TxnOffsetCommit) and its answer turned into the `TransactionEvent` to feed back.
/// Never throws: every failure is an event the machine classifies.
extension ProducerCore {
    var transactionalId: String { config.transactionalId ?? "" }

    /// Sends `request` and returns what came of it.
    func perform(_ request: TransactionRequest) async -> TransactionEvent {
        let key: CoordinatorKey
        if case let .commitOffsets(_, group, _) = request { key = .group(group.groupId) } else { key = .transaction(transactionalId) }
        do {
            let broker = try await cluster.coordinator(for: key)
            let connection = try await cluster.coordinatorLink(nodeId: broker.nodeId, host: broker.host, port: Int32(broker.port)).connection()
            let event = try await send(request, on: connection)
            if let code = Self.coordinatorCode(event) { cluster.coordinatorDirectory.coordinatorFailed(key, code: code) }
            return event
        } catch {
            let e = error as? KafkaError ?? KafkaError(.connection, "\(error)")
            // A lost connection may mean a moved coordinator: look it up again next time.
            if e.kind == .connection || e.kind == .timeout { cluster.coordinatorDirectory.invalidate(key) }
            if let code = e.code { cluster.coordinatorDirectory.coordinatorFailed(key, code: code) }
            return .notAnswered(request.apiKey, e.with(.init(apiKey: request.apiKey)))
        }
    }

    private func send(_ request: TransactionRequest, on c: BrokerConnection) async throws -> TransactionEvent {
        let timeout = config.client.requestTimeout
        switch request {
        case let .initProducerId(current):
            var r = InitProducerIdRequest(transactionalId: transactionalId, transactionTimeoutMs: config.transactionTimeout.int32Milliseconds)
            let version = try c.version(for: InitProducerIdRequest.self)
            // KIP-360 (v3+): bump our own epoch; before v3 a plain init bumps it too.
            if current.id >= 0 && version >= 3 {
                r.producerId = current.id
                r.producerEpoch = current.epoch
            }
            let answer = try await c.send(r, version: version, timeout: timeout)
            return .initAnswered(KafkaErrorCode(rawValue: answer.errorCode), ProducerIdentity(id: answer.producerId, epoch: answer.producerEpoch),
                                 transactionV2: Self.supportsTransactionV2(c))
        case let .addPartitions(partitions, id):
            let topics = Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }
                .map { AddPartitionsToTxnRequest.Topic(name: $0.key, partitions: $0.value.map(\.partition).sorted()) }
            let r = AddPartitionsToTxnRequest(transactionalId: transactionalId, producerId: id.id, producerEpoch: id.epoch, topics: topics)
            // v4+ is the brokers' batched form (KIP-890 part 1); clients use v0–3.
            let answer = try await c.send(r, version: try c.version(for: AddPartitionsToTxnRequest.self, cap: 3), timeout: timeout)
            var codes: [TopicPartition: KafkaErrorCode] = [:]
            for t in answer.resultsByTopicV3AndBelow {
                for p in t.resultsByPartition { codes[TopicPartition(topic: t.name, partition: p.partitionIndex)] = KafkaErrorCode(rawValue: p.partitionErrorCode) }
            }
            // A top-level error (v4+) or a partition left out answers for every partition.
            let top = KafkaErrorCode(rawValue: answer.errorCode)
            for tp in partitions where codes[tp] == nil || !top.isSuccess { codes[tp] = top.isSuccess ? .unknownServerError : top }
            return .partitionsAnswered(codes)
        case let .addOffsets(groupId, id):
            let r = AddOffsetsToTxnRequest(transactionalId: transactionalId, producerId: id.id, producerEpoch: id.epoch, groupId: groupId)
            let answer = try await c.send(r, timeout: timeout)
            return .addOffsetsAnswered(KafkaErrorCode(rawValue: answer.errorCode))
        case let .commitOffsets(offsets, group, id):
            var r = TxnOffsetCommitRequest()
            r.transactionalId = transactionalId
            r.groupId = group.groupId
            r.producerId = id.id
            r.producerEpoch = id.epoch
            let version = try c.version(for: TxnOffsetCommitRequest.self)
            // KIP-447: the member's generation fences a zombie; a pre-v3 coordinator cannot check it.
            if version >= 3 {
                r.generationId = group.generationId ?? -1
                r.memberId = group.memberId ?? ""
                r.groupInstanceId = group.groupInstanceId
            }
            r.topics = Dictionary(grouping: offsets, by: \.key.topic).sorted { $0.key < $1.key }.map { topic, entries in
                TxnOffsetCommitRequest.Topic(name: topic, partitions: entries.sorted { $0.key.partition < $1.key.partition }.map {
                    TxnOffsetCommitRequest.Partition(partitionIndex: $0.key.partition, committedOffset: $0.value)
                })
            }
            let answer = try await c.send(r, version: version, timeout: timeout)
            var codes: [TopicPartition: KafkaErrorCode] = [:]
            for t in answer.topics {
                for p in t.partitions { codes[TopicPartition(topic: t.name, partition: p.partitionIndex)] = KafkaErrorCode(rawValue: p.errorCode) }
            }
            for tp in offsets.keys where codes[tp] == nil { codes[tp] = .unknownServerError }
            return .offsetsAnswered(codes)
        case let .endTxn(commit, id):
            let r = EndTxnRequest(transactionalId: transactionalId, producerId: id.id, producerEpoch: id.epoch, committed: commit)
            let answer = try await c.send(r, timeout: timeout)
            return .endTxnAnswered(KafkaErrorCode(rawValue: answer.errorCode), ProducerIdentity(id: answer.producerId, epoch: answer.producerEpoch))
        }
    }

    /// KIP-890 (transactions V2): the cluster finalized `transaction.version` ≥ 2 and the
    /// coordinator speaks Produce ≥ 12, EndTxn ≥ 5 and TxnOffsetCommit ≥ 5 (our caps included).
    static func supportsTransactionV2(_ c: BrokerConnection) -> Bool {
        let level = c.apiVersions.finalizedFeatures?.first { $0.name == "transaction.version" }?.maxVersionLevel ?? 0
        guard level >= 2 else { return false }
        let produce = min(c.brokerRange(for: .produce)?.upperBound ?? 0, c.versionCaps[.produce] ?? .max)
        let endTxn = (try? c.version(for: EndTxnRequest.self)) ?? 0
        let offsets = (try? c.version(for: TxnOffsetCommitRequest.self)) ?? 0
        return produce >= 12 && endTxn >= 5 && offsets >= 5
    }

    /// The coordinator error an answer carries (the coordinator is then looked up again).
    private static func coordinatorCode(_ event: TransactionEvent) -> KafkaErrorCode? {
        let codes: [KafkaErrorCode]
        switch event {
        case let .initAnswered(c, _, _), let .addOffsetsAnswered(c), let .endTxnAnswered(c, _): codes = [c]
        case let .partitionsAnswered(m), let .offsetsAnswered(m): codes = Array(m.values)
        case .notAnswered, .flushed, .dropped: codes = []
        }
        return codes.first(where: CoordinatorDirectory.isCoordinatorError)
    }
}
