import KafkaProtocol

extension FakeCluster {
    /// Where a transaction is, as the coordinator sees it (Kafka's PrepareCommit/PrepareAbort do
    /// not exist here: EndTxn writes its markers before it answers).
    public enum TransactionPhase: Sendable, Equatable {
        /// Initialized, nothing added since (or re-initialized after fencing).
        case empty
        /// Partitions or a group were added.
        case ongoing
        /// The last transaction was committed / aborted.
        case completeCommit, completeAbort
    }

    /// A committed (or pending) consumer offset.
    public struct CommittedOffset: Sendable, Equatable {
        public let offset: Int64
        public let leaderEpoch: Int32
        public let metadata: String?
        public init(offset: Int64, leaderEpoch: Int32 = -1, metadata: String? = "") {
            self.offset = offset
            self.leaderEpoch = leaderEpoch
            self.metadata = metadata
        }
    }

    /// One transactional id's state, for tests to inspect.
    public struct TransactionSnapshot: Sendable {
        public let producerId: Int64
        public let producerEpoch: Int16
        public let phase: TransactionPhase
        /// Partitions in the open transaction, in the order they were added.
        public let partitions: [PartitionKey]
        /// Groups added with AddOffsetsToTxn (or implicitly, TV2).
        public let groups: [String]
        /// Offsets written by TxnOffsetCommit, visible only once the transaction commits.
        public let pendingOffsets: [String: [PartitionKey: CommittedOffset]]
    }

    /// What an EndTxn (or a fencing InitProducerId) leaves to do on the partition logs: a marker
    /// on every partition of the transaction, and (commit) the pending offsets to make visible.
    struct TransactionCompletion {
        var producerId: Int64
        var markerEpoch: Int16
        var commit: Bool
        var partitions: [PartitionKey]
        var offsets: [String: [PartitionKey: CommittedOffset]]
    }

    /// The transaction coordinator as a pure value: each request's checks and state change, and
    /// the answer's error codes. Decoding, routing, markers and logging are the glue's
    /// (`FakeCluster+Transactions.swift`). Errors follow Kafka's coordinator: an unknown
    /// transactional id or a producer id not its own is INVALID_PRODUCER_ID_MAPPING, another epoch
    /// is PRODUCER_FENCED at the versions that know it (KIP-588) and INVALID_PRODUCER_EPOCH before.
    struct TransactionCoordinator {
        struct Transaction {
            var producerId: Int64
            var epoch: Int16
            var timeoutMs: Int32
            var phase: TransactionPhase = .empty
            var partitions: [PartitionKey] = []
            var groups: [String] = []
            var pending: [String: [PartitionKey: CommittedOffset]] = [:]
            /// The epoch and outcome of the last EndTxn, so that its retry gets the same answer.
            var lastEnd: (epoch: Int16, commit: Bool)?
            /// The epoch before the coordinator's own bump (a timed-out transaction): its
            /// producer may still resume with it (KIP-360 / KIP-588).
            var previousEpoch: Int16?

            var snapshot: TransactionSnapshot {
                TransactionSnapshot(producerId: producerId, producerEpoch: epoch, phase: phase, partitions: partitions, groups: groups, pendingOffsets: pending)
            }
        }

        /// Kafka's `transaction.max.timeout.ms` default: 15 minutes.
        static let maxTimeoutMs: Int32 = 900_000

        var transactions: [String: Transaction] = [:]
        /// Every producer id ever handed to a transactional id (old ones too, to fence them).
        var owner: [Int64: String] = [:]
        var nextProducerId: Int64 = 4000
        /// The finalized `transaction.version` (0 or 1: TV1; 2: KIP-890 part 2).
        var transactionVersion: Int16 = 0

        mutating func newProducerId() -> Int64 {
            nextProducerId += 1
            return nextProducerId
        }

        /// PRODUCER_FENCED from `since` on, INVALID_PRODUCER_EPOCH before (KIP-588).
        static func fenced(_ version: Int16, since: Int16) -> KafkaErrorCode {
            version >= since ? .producerFenced : .invalidProducerEpoch
        }

        /// The transaction `id` if `producerId`/`epoch` are its current ones, else the error.
        func current(_ id: String, _ producerId: Int64, _ epoch: Int16, fenced: KafkaErrorCode) -> Result<Transaction, CodeError> {
            guard let t = transactions[id], t.producerId == producerId else { return .failure(CodeError(.invalidProducerIdMapping)) }
            guard t.epoch == epoch else { return .failure(CodeError(fenced)) }
            return .success(t)
        }

        /// A bumped epoch, or a new producer id at epoch 0 when the epoch is exhausted (as Kafka).
        mutating func bump(_ t: inout Transaction, id: String) {
            if t.epoch >= Int16.max - 1 {
                t.producerId = newProducerId()
                t.epoch = 0
                owner[t.producerId] = id
            } else {
                t.epoch += 1
            }
        }

        // MARK: Requests

        /// InitProducerId with a transactional id: a new producer id at epoch 0, or the known one
        /// with its epoch bumped — which fences the previous instance and aborts its open
        /// transaction (returned, for the glue to write the ABORT markers).
        mutating func initProducerId(_ r: InitProducerIdRequest, version: Int16) -> (InitProducerIdResponse, TransactionCompletion?) {
            var out = InitProducerIdResponse()
            func failed(_ code: KafkaErrorCode) -> (InitProducerIdResponse, TransactionCompletion?) {
                out.errorCode = code.rawValue
                out.producerEpoch = -1
                return (out, nil)
            }
            guard let id = r.transactionalId else {
                out.producerId = newProducerId()
                return (out, nil)
            }
            guard !id.isEmpty else { return failed(.invalidRequest) }
            guard r.transactionTimeoutMs > 0, r.transactionTimeoutMs <= Self.maxTimeoutMs else { return failed(.invalidTransactionTimeout) }
            guard var t = transactions[id] else {
                let t = Transaction(producerId: newProducerId(), epoch: 0, timeoutMs: r.transactionTimeoutMs)
                transactions[id] = t
                owner[t.producerId] = id
                (out.producerId, out.producerEpoch) = (t.producerId, t.epoch)
                return (out, nil)
            }
            // KIP-360: a producer resuming names its id and epoch; anything but the current ones is fenced.
            if r.producerId != -1 && (r.producerId != t.producerId || (r.producerEpoch != t.epoch && r.producerEpoch != t.previousEpoch)) {
                return failed(Self.fenced(version, since: 4))
            }
            var completion: TransactionCompletion?
            bump(&t, id: id)
            if t.phase == .ongoing {
                // Kafka answers CONCURRENT_TRANSACTIONS until its abort is done; this one is done at once.
                completion = TransactionCompletion(producerId: t.producerId, markerEpoch: t.epoch, commit: false, partitions: t.partitions, offsets: [:])
            }
            t.phase = .empty
            t.partitions = []
            t.groups = []
            t.pending = [:]
            t.lastEnd = nil
            t.previousEpoch = nil
            t.timeoutMs = r.transactionTimeoutMs
            transactions[id] = t
            (out.producerId, out.producerEpoch) = (t.producerId, t.epoch)
            return (out, completion)
        }

        /// AddPartitionsToTxn v0–3 (v4+ is broker-to-broker: CLUSTER_AUTHORIZATION_FAILED, as
        /// Kafka answers a client). Returns each partition's code.
        mutating func addPartitions(_ r: AddPartitionsToTxnRequest, version: Int16, exists: (PartitionKey) -> Bool) -> [(PartitionKey, KafkaErrorCode)] {
            let keys = r.v3AndBelowTopics.flatMap { t in t.partitions.map { PartitionKey(t.name, $0) } }
            let id = r.v3AndBelowTransactionalId
            switch current(id, r.v3AndBelowProducerId, r.v3AndBelowProducerEpoch, fenced: Self.fenced(version, since: 2)) {
            case let .failure(e): return keys.map { ($0, e.code) }
            case var .success(t):
                if keys.contains(where: { !exists($0) }) {
                    return keys.map { ($0, exists($0) ? .operationNotAttempted : .unknownTopicOrPartition) }
                }
                start(&t)
                for k in keys where !t.partitions.contains(k) { t.partitions.append(k) }
                transactions[id] = t
                return keys.map { ($0, .noError) }
            }
        }

        /// AddOffsetsToTxn: the group's offsets will be part of the transaction.
        mutating func addOffsets(_ r: AddOffsetsToTxnRequest, version: Int16) -> KafkaErrorCode {
            switch current(r.transactionalId, r.producerId, r.producerEpoch, fenced: Self.fenced(version, since: 2)) {
            case let .failure(e): return e.code
            case var .success(t):
                start(&t)
                if !t.groups.contains(r.groupId) { t.groups.append(r.groupId) }
                transactions[r.transactionalId] = t
                return .noError
            }
        }

        /// TxnOffsetCommit (at the group coordinator; the group's own checks come first, in the
        /// glue): the offsets stay pending until EndTxn. TV1 (or v0–4) needs the group added by
        /// AddOffsetsToTxn; TV2 at v5+ adds it implicitly (KIP-890). A stale epoch is
        /// INVALID_PRODUCER_EPOCH at every version here (the group coordinator's answer).
        mutating func txnOffsetCommit(_ r: TxnOffsetCommitRequest, version: Int16, exists: (PartitionKey) -> Bool) -> [(PartitionKey, KafkaErrorCode)] {
            let entries = r.topics.flatMap { t in t.partitions.map { (PartitionKey(t.name, $0.partitionIndex), $0) } }
            func all(_ code: KafkaErrorCode) -> [(PartitionKey, KafkaErrorCode)] { entries.map { ($0.0, code) } }
            switch current(r.transactionalId, r.producerId, r.producerEpoch, fenced: .invalidProducerEpoch) {
            case let .failure(e): return all(e.code)
            case var .success(t):
                if transactionVersion >= 2 && version >= 5 {
                    start(&t)
                    if !t.groups.contains(r.groupId) { t.groups.append(r.groupId) }
                } else if !t.groups.contains(r.groupId) || t.phase != .ongoing {
                    return all(.invalidTxnState)
                }
                var codes: [(PartitionKey, KafkaErrorCode)] = []
                for (key, p) in entries {
                    guard exists(key) else {
                        codes.append((key, .unknownTopicOrPartition))
                        continue
                    }
                    t.pending[r.groupId, default: [:]][key] = CommittedOffset(offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata)
                    codes.append((key, .noError))
                }
                transactions[r.transactionalId] = t
                return codes
            }
        }

        /// EndTxn: the completion to write (nil when nothing is to be written), and the answer.
        /// A retry of the last EndTxn (same epoch, same outcome) gets the same success; the
        /// other outcome is INVALID_TXN_STATE. TV2 at v5+ bumps the epoch (markers carry the new
        /// one) and an empty transaction may be aborted (to bump it); TV1 refuses an EndTxn with
        /// nothing in the transaction, as Kafka does.
        mutating func endTxn(_ r: EndTxnRequest, version: Int16) -> (EndTxnResponse, TransactionCompletion?) {
            var out = EndTxnResponse()
            let tv2 = transactionVersion >= 2 && version >= 5
            func answer(_ code: KafkaErrorCode, _ t: Transaction?) -> EndTxnResponse {
                out.errorCode = code.rawValue
                if version >= 5, let t, code.isSuccess { (out.producerId, out.producerEpoch) = (t.producerId, t.epoch) }
                return out
            }
            guard var t = transactions[r.transactionalId] else { return (answer(.invalidProducerIdMapping, nil), nil) }
            if t.phase == .completeCommit || t.phase == .completeAbort, let last = t.lastEnd, last.epoch == r.producerEpoch,
               owner[r.producerId] == r.transactionalId {
                return (answer(last.commit == r.committed ? .noError : .invalidTxnState, t), nil)
            }
            guard t.producerId == r.producerId else { return (answer(.invalidProducerIdMapping, nil), nil) }
            guard t.epoch == r.producerEpoch else { return (answer(Self.fenced(version, since: 2), nil), nil) }
            switch t.phase {
            case .ongoing: break
            case .empty, .completeCommit, .completeAbort:
                // TV2 lets a producer abort with nothing open, to bump its epoch.
                guard tv2 && !r.committed else { return (answer(.invalidTxnState, nil), nil) }
            }
            let partitions = t.partitions
            let offsets = r.committed ? t.pending : [:]
            let requestEpoch = t.epoch
            if tv2 { bump(&t, id: r.transactionalId) }
            t.phase = r.committed ? .completeCommit : .completeAbort
            t.partitions = []
            t.groups = []
            t.pending = [:]
            t.lastEnd = (requestEpoch, r.committed)
            transactions[r.transactionalId] = t
            let completion = TransactionCompletion(producerId: t.producerId, markerEpoch: t.epoch, commit: r.committed, partitions: partitions, offsets: offsets)
            return (answer(.noError, t), completion)
        }

        /// What Kafka does to a transaction open longer than its timeout: the epoch is bumped
        /// (its producer's requests are fenced from now on, though it may resume with
        /// InitProducerId naming the old epoch) and the transaction aborted. Nil when none is open.
        mutating func expire(_ id: String) -> TransactionCompletion? {
            guard var t = transactions[id], t.phase == .ongoing else { return nil }
            let old = t.epoch
            bump(&t, id: id)
            let completion = TransactionCompletion(producerId: t.producerId, markerEpoch: t.epoch, commit: false, partitions: t.partitions, offsets: [:])
            t.phase = .completeAbort
            t.partitions = []
            t.groups = []
            t.pending = [:]
            t.lastEnd = nil
            t.previousEpoch = old
            transactions[id] = t
            return completion
        }

        /// A transactional batch's check at the partition leader: the producer's current epoch,
        /// and (TV1) the partition added to the transaction — TV2 with Produce v12+ adds it
        /// implicitly. Nil: accept.
        mutating func checkProduce(_ key: PartitionKey, producerId: Int64, epoch: Int16, version: Int16) -> KafkaErrorCode? {
            guard let id = owner[producerId], var t = transactions[id] else { return .invalidProducerIdMapping }
            guard t.producerId == producerId, t.epoch == epoch else { return .invalidProducerEpoch }
            if t.partitions.contains(key) { return nil }
            guard transactionVersion >= 2 && version >= 12 else { return .invalidTxnState }
            start(&t)
            t.partitions.append(key)
            transactions[id] = t
            return nil
        }

        /// Whether an open transaction holds offsets for the group's partition (require_stable).
        func hasPendingOffsets(group: String, _ key: PartitionKey?) -> Bool {
            transactions.values.contains { t in
                guard let offsets = t.pending[group] else { return false }
                return key.map { offsets[$0] != nil } ?? !offsets.isEmpty
            }
        }

        /// A new transaction starts with the first thing added after the last one ended.
        private func start(_ t: inout Transaction) {
            if t.phase != .ongoing {
                t.phase = .ongoing
                t.lastEnd = nil
            }
        }
    }

    /// A Kafka error code as a Swift error (for `Result`).
    struct CodeError: Error {
        let code: KafkaErrorCode
        init(_ code: KafkaErrorCode) { self.code = code }
    }
}
