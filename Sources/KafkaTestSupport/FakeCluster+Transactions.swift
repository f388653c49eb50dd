import Synchronization
import KafkaProtocol

/// The transaction coordinator of `FakeCluster`, serving InitProducerId, AddPartitionsToTxn,
/// AddOffsetsToTxn, EndTxn and TxnOffsetCommit around the pure `TransactionCoordinator`: it
/// routes (NOT_COORDINATOR at a broker that does not coordinate the id or group), writes the
/// COMMIT/ABORT control batches to every partition of a transaction before EndTxn answers (so the
/// last stable offset moves and Fetch reports aborted ranges), makes committed offsets visible,
/// checks transactional Produce batches, and logs every request (`coordinatorRequests`).
///
/// Transaction version: 0 or 1 (TV1) or 2 (KIP-890 part 2: ApiVersions v3+ advertises the
/// finalized feature `transaction.version=2`, Produce v12+ adds partitions implicitly, EndTxn v5+
/// bumps the epoch and returns it, TxnOffsetCommit v5+ adds the group implicitly).
extension FakeCluster {
    /// Sets the finalized `transaction.version` (0: not advertised, like older brokers; 1: TV1
    /// advertised; 2: KIP-890 transactions).
    public func setTransactionVersion(_ level: Int16) {
        state.withLock { $0.transactions.transactionVersion = level }
    }

    /// The coordinator's state for a transactional id (nil: never initialized).
    public func transaction(_ transactionalId: String) -> TransactionSnapshot? {
        state.withLock { $0.transactions.transactions[transactionalId]?.snapshot }
    }

    /// Aborts the id's open transaction as Kafka does when `transaction.timeout.ms` passes: the
    /// epoch is bumped (so the producer's next AddPartitionsToTxn/EndTxn is fenced and its
    /// batches INVALID_PRODUCER_EPOCH) and ABORT markers are written. The producer may resume
    /// with InitProducerId v3+ naming its old epoch (KIP-360). Returns whether one was open.
    @discardableResult
    public func expireTransaction(_ transactionalId: String) -> Bool {
        state.withLock { s in
            guard let c = s.transactions.expire(transactionalId) else { return false }
            Self.complete(&s, c)
            return true
        }
    }

    // MARK: Serving

    /// The broker's ApiVersions answer, with `transaction.version` among the supported and
    /// finalized features (v3+) when a level ≥ 1 is set.
    func apiVersions(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        let action = broker.defaultAction(req)
        let level = state.withLock { $0.transactions.transactionVersion }
        let v = req.header.apiVersion
        guard level >= 1, v >= 3, case let .respond(body) = action,
              var r = try? ApiVersionsResponse(decoding: body, version: v), r.errorCode == 0 else { return action }
        var supported = ApiVersionsResponse.SupportedFeature()
        (supported.name, supported.minVersion, supported.maxVersion) = ("transaction.version", 0, 2)
        var finalized = ApiVersionsResponse.FinalizedFeature()
        (finalized.name, finalized.minVersionLevel, finalized.maxVersionLevel) = ("transaction.version", level, level)
        r.supportedFeatures = (r.supportedFeatures ?? []) + [supported]
        r.finalizedFeatures = (r.finalizedFeatures ?? []) + [finalized]
        r.finalizedFeaturesEpoch = 1
        return .respond(broker.body(r, for: req))
    }

    func initProducerId(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let i = try? req.decode(InitProducerIdRequest.self) else { return .disconnect }
        let v = req.header.apiVersion
        let r: InitProducerIdResponse = state.withLock { s in
            var r: InitProducerIdResponse
            // An idempotent producer may ask any broker; a transactional one its coordinator.
            if let id = i.transactionalId, Self.coordinator(in: s, .transaction, id) != broker.nodeId {
                r = InitProducerIdResponse()
                (r.errorCode, r.producerEpoch) = (KafkaErrorCode.notCoordinator.rawValue, -1)
            } else {
                let (answer, completion) = s.transactions.initProducerId(i, version: v)
                r = answer
                if let completion { Self.complete(&s, completion) }
            }
            s.coordinatorRequests.append(CoordinatorRequestSeen(broker: broker.nodeId, apiKey: .initProducerId, version: v, transactionalId: i.transactionalId,
                                                                producerId: i.producerId, producerEpoch: i.producerEpoch, errorCode: KafkaErrorCode(rawValue: r.errorCode)))
            return r
        }
        return .respond(broker.body(r, for: req))
    }

    func addPartitionsToTxn(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let a = try? req.decode(AddPartitionsToTxnRequest.self) else { return .disconnect }
        let v = req.header.apiVersion
        var r = AddPartitionsToTxnResponse()
        let logged = summary(req, broker)
        state.withLock { s in
            var first = KafkaErrorCode.noError
            if v >= 4 {
                // Batched AddPartitionsToTxn is for brokers verifying a transaction (KIP-890).
                r.errorCode = KafkaErrorCode.clusterAuthorizationFailed.rawValue
                first = .clusterAuthorizationFailed
            } else {
                let codes: [(PartitionKey, KafkaErrorCode)]
                if Self.coordinator(in: s, .transaction, a.v3AndBelowTransactionalId) != broker.nodeId {
                    codes = a.v3AndBelowTopics.flatMap { t in t.partitions.map { (PartitionKey(t.name, $0), KafkaErrorCode.notCoordinator) } }
                } else {
                    let snapshot = s
                    codes = s.transactions.addPartitions(a, version: v) { self.partitionExists(snapshot, $0) }
                }
                first = codes.first { !$0.1.isSuccess }?.1 ?? .noError
                r.resultsByTopicV3AndBelow = Self.grouped(codes).map { name, ps in
                    .init(name: name, resultsByPartition: ps.map { .init(partitionIndex: $0.0, partitionErrorCode: $0.1.rawValue) })
                }
            }
            if let logged { s.coordinatorRequests.append(logged.with(errorCode: first, scripted: false)) }
        }
        return .respond(broker.body(r, for: req))
    }

    func addOffsetsToTxn(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let a = try? req.decode(AddOffsetsToTxnRequest.self) else { return .disconnect }
        var r = AddOffsetsToTxnResponse()
        let logged = summary(req, broker)
        state.withLock { s in
            let code = Self.coordinator(in: s, .transaction, a.transactionalId) != broker.nodeId
                ? .notCoordinator : s.transactions.addOffsets(a, version: req.header.apiVersion)
            r.errorCode = code.rawValue
            if let logged { s.coordinatorRequests.append(logged.with(errorCode: code, scripted: false)) }
        }
        return .respond(broker.body(r, for: req))
    }

    func endTxn(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let e = try? req.decode(EndTxnRequest.self) else { return .disconnect }
        var r = EndTxnResponse()
        let logged = summary(req, broker)
        state.withLock { s in
            if Self.coordinator(in: s, .transaction, e.transactionalId) != broker.nodeId {
                r.errorCode = KafkaErrorCode.notCoordinator.rawValue
            } else {
                let (answer, completion) = s.transactions.endTxn(e, version: req.header.apiVersion)
                r = answer
                if let completion { Self.complete(&s, completion) }
            }
            if let logged { s.coordinatorRequests.append(logged.with(errorCode: KafkaErrorCode(rawValue: r.errorCode), scripted: false)) }
        }
        return .respond(broker.body(r, for: req))
    }

    func txnOffsetCommit(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let t = try? req.decode(TxnOffsetCommitRequest.self) else { return .disconnect }
        let v = req.header.apiVersion
        let logged = summary(req, broker)
        let codes: [(PartitionKey, KafkaErrorCode)] = state.withLock { s in
            let keys = t.topics.flatMap { topic in topic.partitions.map { PartitionKey(topic.name, $0.partitionIndex) } }
            let codes: [(PartitionKey, KafkaErrorCode)]
            if Self.coordinator(in: s, .group, t.groupId) != broker.nodeId {
                codes = keys.map { ($0, .notCoordinator) }
            } else if v >= 3, let e = s.groups.validate(t.groupId, generation: t.generationId, memberId: t.memberId, instanceId: t.groupInstanceId, transactional: true) {
                codes = keys.map { ($0, e) }
            } else {
                let snapshot = s
                codes = s.transactions.txnOffsetCommit(t, version: v) { self.partitionExists(snapshot, $0) }
            }
            if let logged { s.coordinatorRequests.append(logged.with(errorCode: codes.first { !$0.1.isSuccess }?.1 ?? .noError, scripted: false)) }
            return codes
        }
        return .respond(broker.body(Self.txnOffsetCommitResponse(codes), for: req))
    }

    static func txnOffsetCommitResponse(_ codes: [(PartitionKey, KafkaErrorCode)]) -> TxnOffsetCommitResponse {
        var r = TxnOffsetCommitResponse()
        r.topics = grouped(codes).map { name, ps in
            var t = TxnOffsetCommitResponse.Topic()
            t.name = name
            t.partitions = ps.map { index, code in
                var p = TxnOffsetCommitResponse.Partition()
                (p.partitionIndex, p.errorCode) = (index, code.rawValue)
                return p
            }
            return t
        }
        return r
    }

    /// Appends a produced batch after the transactional checks (one lock: no EndTxn can slip in
    /// between the check and the append). Returns the base offset or the error.
    func appendProduced(_ key: PartitionKey, _ bytes: [UInt8], version: Int16) -> Result<Int64, CodeError> {
        state.withLock { s in
            guard bytes.count >= 61 else { return .failure(CodeError(.corruptMessage)) }
            let attributes = UInt16(bytes[21]) << 8 | UInt16(bytes[22])
            if attributes & 0x10 != 0 && attributes & 0x20 == 0 {
                let producerId = Int64(bitPattern: UInt64(UInt32(bitPattern: Self.int32(bytes, 43))) << 32 | UInt64(UInt32(bitPattern: Self.int32(bytes, 47))))
                let epoch = Int16(bitPattern: UInt16(bytes[51]) << 8 | UInt16(bytes[52]))
                if let e = s.transactions.checkProduce(key, producerId: producerId, epoch: epoch, version: version) { return .failure(CodeError(e)) }
            }
            let base = Self.append(&s, key.topic, key.partition, batch: bytes)
            return base < 0 ? .failure(CodeError(.corruptMessage)) : .success(base)
        }
    }

    /// Writes a transaction's markers (control batches, coordinator epoch 0) and, on commit, its offsets.
    static func complete(_ s: inout State, _ c: TransactionCompletion) {
        for key in c.partitions {
            var b = RecordBatchBuilder(producerId: c.producerId, producerEpoch: c.markerEpoch, isTransactional: true, isControl: true)
            try? b.appendControl(type: c.commit ? .commit : .abort, coordinatorEpoch: 0, timestamp: 1_700_000_000_000)
            if let bytes = try? b.build() { append(&s, key.topic, key.partition, batch: bytes) }
        }
        for (group, offsets) in c.offsets {
            for (key, offset) in offsets { s.groups.committed[group, default: [:]][key] = offset }
        }
    }
}
