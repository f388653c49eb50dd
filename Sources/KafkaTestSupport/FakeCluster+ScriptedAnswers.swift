import Synchronization
public import KafkaProtocol

/// Scripted answers per request type, and the log of coordinator requests, for `FakeCluster`.
///
/// `failNext(.endTxn, with: .concurrentTransactions, times: 2)` answers the next two EndTxn
/// requests (at any broker) with that error and changes nothing; `silenceNext(.endTxn)` leaves
/// the next one unanswered (a timeout). Errors can be scripted for FindCoordinator,
/// InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit, OffsetCommit,
/// OffsetFetch and Produce — the code goes where Kafka puts that API's errors (every partition,
/// every coordinator key, or the top level). Silence and disconnects work for every API.
extension FakeCluster {
    /// What to do with a request instead of serving it.
    public enum ScriptedAnswer: Sendable, Equatable {
        /// Answer with this error code (nothing changes in the cluster).
        case error(KafkaErrorCode)
        /// Never answer (the client's request times out).
        case noAnswer
        /// Close the connection without answering.
        case disconnect
    }

    /// One coordinator request (FindCoordinator, InitProducerId, the transaction APIs,
    /// OffsetCommit, OffsetFetch) and its answer.
    public struct CoordinatorRequestSeen: Sendable {
        public let broker: Int32
        public let apiKey: ApiKey
        public let version: Int16
        /// The transactional id (transaction APIs, InitProducerId, FindCoordinator key type 1).
        public let transactionalId: String?
        /// The group (AddOffsetsToTxn, TxnOffsetCommit, OffsetCommit, OffsetFetch, FindCoordinator key type 0).
        public let groupId: String?
        public let producerId: Int64
        public let producerEpoch: Int16
        /// EndTxn: true to commit, false to abort.
        public let committed: Bool?
        /// The partitions named (AddPartitionsToTxn, TxnOffsetCommit, OffsetCommit, OffsetFetch).
        public let partitions: [PartitionKey]
        /// OffsetFetch: whether it asked for `require_stable` (v7+).
        public let requireStable: Bool?
        /// The answer's first error (noError when everything succeeded); nil when not answered.
        public let errorCode: KafkaErrorCode?
        /// Whether the answer was scripted (`failNext`, `silenceNext`, `disconnectNext`).
        public let scripted: Bool
        public let at: ContinuousClock.Instant

        init(broker: Int32, apiKey: ApiKey, version: Int16, transactionalId: String? = nil, groupId: String? = nil,
             producerId: Int64 = -1, producerEpoch: Int16 = -1, committed: Bool? = nil, partitions: [PartitionKey] = [],
             requireStable: Bool? = nil, errorCode: KafkaErrorCode?, scripted: Bool = false) {
            (self.broker, self.apiKey, self.version) = (broker, apiKey, version)
            (self.transactionalId, self.groupId, self.producerId, self.producerEpoch) = (transactionalId, groupId, producerId, producerEpoch)
            (self.committed, self.partitions, self.requireStable) = (committed, partitions, requireStable)
            (self.errorCode, self.scripted, self.at) = (errorCode, scripted, .now)
        }

        func with(errorCode: KafkaErrorCode?, scripted: Bool) -> CoordinatorRequestSeen {
            CoordinatorRequestSeen(broker: broker, apiKey: apiKey, version: version, transactionalId: transactionalId, groupId: groupId,
                                   producerId: producerId, producerEpoch: producerEpoch, committed: committed, partitions: partitions,
                                   requireStable: requireStable, errorCode: errorCode, scripted: scripted)
        }
    }

    /// Every coordinator request so far, in arrival order.
    public var coordinatorRequests: [CoordinatorRequestSeen] { state.withLock { $0.coordinatorRequests } }

    /// The coordinator requests of one API so far (e.g. `requests(.addPartitionsToTxn).isEmpty` under TV2).
    public func requests(_ api: ApiKey) -> [CoordinatorRequestSeen] { coordinatorRequests.filter { $0.apiKey == api } }

    /// Answers the next `times` requests of `api` with `answer` instead of serving them.
    public func script(_ api: ApiKey, _ answer: ScriptedAnswer, times: Int = 1) {
        state.withLock { $0.scripted[api, default: []] += Array(repeating: answer, count: max(0, times)) }
    }

    /// Answers the next `times` requests of `api` with `code` (see the list of APIs above).
    public func failNext(_ api: ApiKey, with code: KafkaErrorCode, times: Int = 1) { script(api, .error(code), times: times) }

    /// Leaves the next `times` requests of `api` unanswered.
    public func silenceNext(_ api: ApiKey, times: Int = 1) { script(api, .noAnswer, times: times) }

    /// Drops the scripted answers not used yet (all APIs).
    public func clearScripts() { state.withLock { $0.scripted = [:] } }

    /// The scripted action for this request, if one is due (it is used up and logged).
    func scriptedAction(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action? {
        let key = req.header.apiKey
        let answer: ScriptedAnswer? = state.withLock { s in
            guard var queue = s.scripted[key], !queue.isEmpty else { return nil }
            let a = queue.removeFirst()
            s.scripted[key] = queue
            return a
        }
        guard let answer else { return nil }
        let seen = summary(req, broker)
        var action: FakeBroker.Action
        var code: KafkaErrorCode?
        switch answer {
        case .noAnswer: action = .ignore
        case .disconnect: action = .disconnect
        case let .error(c):
            code = c
            action = errorAnswer(req, broker, c).map { .respond($0) } ?? .disconnect
        }
        state.withLock { s in
            if let seen { s.coordinatorRequests.append(seen.with(errorCode: code, scripted: true)) }
            if key == .produce, let p = try? req.decode(ProduceRequest.self) {
                let keys = p.topicData.flatMap { t in t.partitionData.map { PartitionKey(t.name, $0.index) } }
                s.produces.append(ProduceSeen(broker: broker.nodeId, version: req.header.apiVersion, answered: keys.map { ($0, code ?? .noError) }, hinted: false, at: .now))
            }
        }
        return action
    }

    /// What the log says of a coordinator request (nil for other APIs).
    func summary(_ req: FakeBroker.Request, _ broker: FakeBroker) -> CoordinatorRequestSeen? {
        let (node, api, v) = (broker.nodeId, req.header.apiKey, req.header.apiVersion)
        switch api {
        case .findCoordinator:
            guard let f = try? req.decode(FindCoordinatorRequest.self) else { return nil }
            let key = v >= 4 ? f.coordinatorKeys.first ?? "" : f.key
            return .init(broker: node, apiKey: api, version: v, transactionalId: f.keyType == 1 ? key : nil, groupId: f.keyType == 0 ? key : nil, errorCode: nil)
        case .initProducerId:
            guard let r = try? req.decode(InitProducerIdRequest.self) else { return nil }
            return .init(broker: node, apiKey: api, version: v, transactionalId: r.transactionalId, producerId: r.producerId, producerEpoch: r.producerEpoch, errorCode: nil)
        case .addPartitionsToTxn:
            guard let r = try? req.decode(AddPartitionsToTxnRequest.self) else { return nil }
            let keys = r.v3AndBelowTopics.flatMap { t in t.partitions.map { PartitionKey(t.name, $0) } }
            return .init(broker: node, apiKey: api, version: v, transactionalId: r.v3AndBelowTransactionalId, producerId: r.v3AndBelowProducerId,
                         producerEpoch: r.v3AndBelowProducerEpoch, partitions: keys, errorCode: nil)
        case .addOffsetsToTxn:
            guard let r = try? req.decode(AddOffsetsToTxnRequest.self) else { return nil }
            return .init(broker: node, apiKey: api, version: v, transactionalId: r.transactionalId, groupId: r.groupId, producerId: r.producerId, producerEpoch: r.producerEpoch, errorCode: nil)
        case .endTxn:
            guard let r = try? req.decode(EndTxnRequest.self) else { return nil }
            return .init(broker: node, apiKey: api, version: v, transactionalId: r.transactionalId, producerId: r.producerId, producerEpoch: r.producerEpoch, committed: r.committed, errorCode: nil)
        case .txnOffsetCommit:
            guard let r = try? req.decode(TxnOffsetCommitRequest.self) else { return nil }
            let keys = r.topics.flatMap { t in t.partitions.map { PartitionKey(t.name, $0.partitionIndex) } }
            return .init(broker: node, apiKey: api, version: v, transactionalId: r.transactionalId, groupId: r.groupId, producerId: r.producerId,
                         producerEpoch: r.producerEpoch, partitions: keys, errorCode: nil)
        case .offsetCommit:
            guard let r = try? req.decode(OffsetCommitRequest.self) else { return nil }
            return .init(broker: node, apiKey: api, version: v, groupId: r.groupId, partitions: r.topics.flatMap { t in t.partitions.map { PartitionKey(t.name, $0.partitionIndex) } }, errorCode: nil)
        case .offsetFetch:
            guard let r = try? req.decode(OffsetFetchRequest.self) else { return nil }
            return .init(broker: node, apiKey: api, version: v, groupId: v >= 8 ? r.groups.first?.groupId : r.groupId, requireStable: r.requireStable, errorCode: nil)
        default:
            return nil
        }
    }

    /// The request's answer with `code` wherever Kafka puts that API's errors (nil: not an API
    /// whose errors can be scripted).
    func errorAnswer(_ req: FakeBroker.Request, _ broker: FakeBroker, _ code: KafkaErrorCode) -> [UInt8]? {
        let v = req.header.apiVersion
        switch req.header.apiKey {
        case .findCoordinator:
            guard let f = try? req.decode(FindCoordinatorRequest.self) else { return nil }
            var r = FindCoordinatorResponse()
            if v >= 4 {
                r.coordinators = f.coordinatorKeys.map { .init(key: $0, nodeId: -1, host: "", port: -1, errorCode: code.rawValue) }
            } else {
                (r.errorCode, r.nodeId, r.host, r.port) = (code.rawValue, -1, "", -1)
                if v >= 1 { r.errorMessage = nil }
            }
            return broker.body(r, for: req)
        case .initProducerId:
            var r = InitProducerIdResponse()
            (r.errorCode, r.producerId, r.producerEpoch) = (code.rawValue, -1, -1)
            return broker.body(r, for: req)
        case .addPartitionsToTxn:
            guard let a = try? req.decode(AddPartitionsToTxnRequest.self) else { return nil }
            var r = AddPartitionsToTxnResponse()
            if v >= 4 {
                r.errorCode = code.rawValue
            } else {
                r.resultsByTopicV3AndBelow = a.v3AndBelowTopics.map { t in
                    .init(name: t.name, resultsByPartition: t.partitions.map { .init(partitionIndex: $0, partitionErrorCode: code.rawValue) })
                }
            }
            return broker.body(r, for: req)
        case .addOffsetsToTxn:
            var r = AddOffsetsToTxnResponse()
            r.errorCode = code.rawValue
            return broker.body(r, for: req)
        case .endTxn:
            var r = EndTxnResponse()
            r.errorCode = code.rawValue
            return broker.body(r, for: req)
        case .txnOffsetCommit:
            guard let t = try? req.decode(TxnOffsetCommitRequest.self) else { return nil }
            return broker.body(Self.txnOffsetCommitResponse(t.topics.flatMap { t in t.partitions.map { (PartitionKey(t.name, $0.partitionIndex), code) } }), for: req)
        case .offsetCommit:
            guard let c = try? req.decode(OffsetCommitRequest.self) else { return nil }
            return broker.body(Self.offsetCommitResponse(c.topics.flatMap { t in t.partitions.map { (PartitionKey(t.name, $0.partitionIndex), code) } }), for: req)
        case .offsetFetch:
            guard let f = try? req.decode(OffsetFetchRequest.self) else { return nil }
            let partitionLevel = v < 2 || code == .unstableOffsetCommit
            func parts(_ topics: [(String, [Int32])]?) -> [OffsetAnswer] {
                guard partitionLevel else { return [] }
                return (topics ?? []).flatMap { t in t.1.map { (PartitionKey(t.0, $0), nil, code) } }
            }
            let groupCode = partitionLevel ? KafkaErrorCode.noError : code
            let answers: [(String, KafkaErrorCode, [OffsetAnswer])] = v >= 8
                ? f.groups.map { g in (g.groupId, groupCode, parts(g.topics?.map { ($0.name, $0.partitionIndexes) })) }
                : [(f.groupId, groupCode, parts(f.topics?.map { ($0.name, $0.partitionIndexes) }))]
            return broker.body(Self.offsetFetchResponse(answers, version: v), for: req)
        case .produce:
            guard let p = try? req.decode(ProduceRequest.self) else { return nil }
            var r = ProduceResponse()
            r.responses = p.topicData.map { t in
                var rt = ProduceResponse.Topic()
                rt.name = t.name
                rt.partitionResponses = t.partitionData.map { d in
                    var out = ProduceResponse.Partition()
                    out.index = d.index
                    out.errorCode = code.rawValue
                    out.baseOffset = -1
                    return out
                }
                return rt
            }
            return broker.body(r, for: req)
        default:
            return nil
        }
    }
}
