import Testing
import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// FakeCluster's transaction coordinator at the protocol level, driven with raw requests over
/// our connection: markers and the last stable offset, fencing by epoch (with the code each
/// version knows), TV1's partition checks, TV2's implicit adds and epoch bumps, EndTxn retries,
/// and scripted answers.
@Suite struct FakeClusterTransactionTests {
    /// A one-broker cluster with topic "t" (2 partitions) and a connection to it.
    static func rig(partitions: Int32 = 2) async throws -> (FakeCluster, FakeBroker, FakeClusterTxnWire) {
        let cluster = FakeCluster(sessions: false)
        let broker = try cluster.startBroker(nodeId: 1)
        cluster.createTopic("t", partitions: partitions, leader: 1)
        return (cluster, broker, try await FakeClusterTxnWire.connect(broker))
    }

    @Test(.timeLimit(.minutes(1)))
    func findCoordinatorNamesABrokerForGroupsAndTransactionsAtEveryVersion() async throws {
        let cluster = FakeCluster()
        let one = try cluster.startBroker(nodeId: 1), two = try cluster.startBroker(nodeId: 2)
        defer { one.stop(); two.stop() }
        let wire = try await FakeClusterTxnWire.connect(one)
        defer { wire.close() }
        cluster.moveCoordinator(.transaction, "tx-b", to: 2)
        for v in FindCoordinatorRequest.versions {
            let r = try await wire.conn.send(FindCoordinatorRequest(keys: ["g"], keyType: 0, version: v), version: v, timeout: .seconds(5))
            if v >= 4 {
                #expect(r.coordinators.map(\.nodeId) == [1] && r.coordinators.first?.port == Int32(one.port), "v\(v)")
            } else {
                #expect(r.errorCode == 0 && r.nodeId == 1 && r.port == Int32(one.port), "v\(v)")
            }
            guard v >= 1 else { continue }
            let keys = v >= 4 ? ["tx-a", "tx-b"] : ["tx-b"]
            let t = try await wire.conn.send(FindCoordinatorRequest(keys: keys, keyType: 1, version: v), version: v, timeout: .seconds(5))
            #expect((v >= 4 ? t.coordinators.map(\.nodeId) : [t.nodeId]) == (v >= 4 ? [1, 2] : [2]), "v\(v)")
        }
        let bad = try await wire.conn.send(FindCoordinatorRequest(keys: ["x"], keyType: 7, version: 4), version: 4, timeout: .seconds(5))
        #expect(bad.coordinators.first?.errorCode == KafkaErrorCode.invalidRequest.rawValue)
        // A transactional request at a broker that does not coordinate its id.
        let misrouted = try await wire.initProducerId("tx-b")
        #expect(misrouted.errorCode == KafkaErrorCode.notCoordinator.rawValue)
        // One log entry per key: 7 group lookups, 3 + 3 × 2 transaction keys, the bad one.
        #expect(cluster.requests(.findCoordinator).count == 17)
    }

    @Test(.timeLimit(.minutes(1)))
    func commitWritesMarkersSoReadCommittedSeesTheRecordsAndOffsetsOnlyThen() async throws {
        let (cluster, broker, wire) = try await Self.rig()
        defer { wire.close(); broker.stop() }
        let i = try await wire.initProducerId("tx")
        #expect(i.errorCode == 0 && i.producerEpoch == 0)
        let (pid, epoch) = (i.producerId, i.producerEpoch)
        #expect(try await wire.addPartitions("tx", pid, epoch, "t", [0, 1]) == [.noError, .noError])
        #expect(try await wire.produce("t", 0, ["a", "b"], pid: pid, epoch: epoch) == .noError)
        #expect(try await wire.produce("t", 1, ["c"], pid: pid, epoch: epoch) == .noError)
        #expect(try await wire.addOffsets("tx", pid, epoch, group: "g") == .noError)
        #expect(try await wire.txnOffsetCommit("tx", pid, epoch, group: "g", [("src", 0, 42)]) == [.unknownTopicOrPartition])
        #expect(try await wire.txnOffsetCommit("tx", pid, epoch, group: "g", [("t", 1, 42)]) == [.noError])

        // Open: read_committed stops at the first open offset; the offset is pending.
        let open = try await wire.fetch("t", 0, from: 0, readCommitted: true)
        #expect(open?.lastStableOffset == 0 && open?.highWatermark == 2 && open?.records == [])
        #expect(try await wire.offsetFetch("g", "t", [1], requireStable: true).map(\.1) == [.unstableOffsetCommit])
        #expect(try await wire.offsetFetch("g", "t", [1]).map(\.0) == [-1])

        let end = try await wire.endTxn("tx", pid, epoch, commit: true)
        #expect(end.errorCode == 0)
        #expect(cluster.endOffset("t", 0) == 3 && cluster.endOffset("t", 1) == 2, "a COMMIT marker on each partition")
        let committed = try await wire.fetch("t", 0, from: 0, readCommitted: true)
        #expect(committed?.lastStableOffset == 3 && committed?.abortedTransactions == [])
        #expect(try FakeClusterTxnWire.values(committed) == ["a", "b"])
        #expect(try await wire.offsetFetch("g", "t", [1], requireStable: true).map(\.0) == [42])
        #expect(cluster.transaction("tx")?.phase == .completeCommit)
        // A retry of the same EndTxn succeeds again; the other outcome is refused; nothing new is written.
        #expect(try await wire.endTxn("tx", pid, epoch, commit: true).errorCode == 0)
        #expect(try await wire.endTxn("tx", pid, epoch, commit: false).errorCode == KafkaErrorCode.invalidTxnState.rawValue)
        #expect(cluster.endOffset("t", 0) == 3)
        // TV1: an EndTxn with nothing in the transaction is refused, as Kafka does.
        #expect(try await wire.endTxn("tx", pid, epoch, commit: true, version: 2).errorCode == 0, "still the retry")
        #expect(try await wire.addOffsets("tx", pid, epoch, group: "g") == .noError)
        #expect(try await wire.endTxn("tx", pid, epoch, commit: false).errorCode == 0, "offsets only: an empty abort")
    }

    @Test(.timeLimit(.minutes(1)))
    func abortHidesTheRecordsDropsTheOffsetsAndFetchListsTheAbortedRange() async throws {
        let (cluster, broker, wire) = try await Self.rig()
        defer { wire.close(); broker.stop() }
        cluster.appendRecords("t", 0, ["before"])
        let i = try await wire.initProducerId("tx")
        let (pid, epoch) = (i.producerId, i.producerEpoch)
        _ = try await wire.addPartitions("tx", pid, epoch, "t", [0])
        #expect(try await wire.produce("t", 0, ["x", "y"], pid: pid, epoch: epoch) == .noError)
        _ = try await wire.addOffsets("tx", pid, epoch, group: "g")
        _ = try await wire.txnOffsetCommit("tx", pid, epoch, group: "g", [("t", 0, 3)])
        #expect(try await wire.endTxn("tx", pid, epoch, commit: false).errorCode == 0)
        let p = try await wire.fetch("t", 0, from: 0, readCommitted: true)
        #expect(p?.lastStableOffset == 4 && p?.abortedTransactions == [.init(producerId: pid, firstOffset: 1)])
        let uncommitted = try await wire.fetch("t", 0, from: 0, readCommitted: false)
        #expect(uncommitted?.abortedTransactions == nil)
        #expect(try FakeClusterTxnWire.values(uncommitted) == ["before", "x", "y"])
        #expect(try await wire.offsetFetch("g", "t", [0], requireStable: true).map(\.0) == [-1])
        #expect(cluster.committedOffset(group: "g", "t", 0) == nil)
    }

    @Test(.timeLimit(.minutes(1)))
    func reinitBumpsTheEpochAbortsTheOpenTransactionAndFencesTheOldEpochWithEachVersionsCode() async throws {
        let (cluster, broker, wire) = try await Self.rig()
        defer { wire.close(); broker.stop() }
        let first = try await wire.initProducerId("tx")
        let (pid, old) = (first.producerId, first.producerEpoch)
        _ = try await wire.addPartitions("tx", pid, old, "t", [0])
        _ = try await wire.produce("t", 0, ["zombie"], pid: pid, epoch: old)
        let second = try await wire.initProducerId("tx")
        #expect(second.producerId == pid && second.producerEpoch == old + 1)
        #expect(cluster.endOffset("t", 0) == 2, "the open transaction was aborted with a marker")
        #expect(try await wire.fetch("t", 0, from: 0, readCommitted: true)?.abortedTransactions == [.init(producerId: pid, firstOffset: 0)])
        #expect(cluster.transaction("tx")?.phase == .empty)
        #expect(try await wire.endTxn("tx", pid, old + 1, commit: true).errorCode == KafkaErrorCode.invalidTxnState.rawValue, "TV1: nothing to end")

        #expect(try await wire.addPartitions("tx", pid, old, "t", [0], version: 1) == [.invalidProducerEpoch])
        #expect(try await wire.addPartitions("tx", pid, old, "t", [0], version: 2) == [.producerFenced])
        #expect(try await wire.addOffsets("tx", pid, old, group: "g", version: 1) == .invalidProducerEpoch)
        #expect(try await wire.addOffsets("tx", pid, old, group: "g", version: 3) == .producerFenced)
        #expect(try await wire.endTxn("tx", pid, old, commit: true, version: 1).errorCode == KafkaErrorCode.invalidProducerEpoch.rawValue)
        #expect(try await wire.endTxn("tx", pid, old, commit: true, version: 3).errorCode == KafkaErrorCode.producerFenced.rawValue)
        #expect(try await wire.produce("t", 0, ["late"], pid: pid, epoch: old) == .invalidProducerEpoch)
        #expect(try await wire.txnOffsetCommit("tx", pid, old, group: "g", [("t", 0, 1)]) == [.invalidProducerEpoch])
        // KIP-360: resuming with a stale epoch is fenced too (PRODUCER_FENCED from InitProducerId v4).
        #expect(try await wire.initProducerId("tx", version: 3, producerId: pid, epoch: old).errorCode == KafkaErrorCode.invalidProducerEpoch.rawValue)
        #expect(try await wire.initProducerId("tx", version: 4, producerId: pid, epoch: old).errorCode == KafkaErrorCode.producerFenced.rawValue)
        #expect(try await wire.initProducerId("tx", version: 4, producerId: pid, epoch: old + 1).producerEpoch == old + 2)
        #expect(try await wire.addPartitions("tx", pid + 99, old + 2, "t", [0]) == [.invalidProducerIdMapping])
        #expect(try await wire.addPartitions("nobody", pid, old + 2, "t", [0]) == [.invalidProducerIdMapping])
        #expect(try await wire.initProducerId("tx", timeoutMs: 3_600_000).errorCode == KafkaErrorCode.invalidTransactionTimeout.rawValue)
        let idempotent = try await wire.initProducerId(nil)
        #expect(idempotent.errorCode == 0 && idempotent.producerId != pid && idempotent.producerEpoch == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func anExpiredTransactionIsAbortedWithABumpedEpochAndItsProducerMayResume() async throws {
        let (cluster, broker, wire) = try await Self.rig()
        defer { wire.close(); broker.stop() }
        let i = try await wire.initProducerId("tx")
        let (pid, epoch) = (i.producerId, i.producerEpoch)
        #expect(!cluster.expireTransaction("tx"), "nothing open")
        _ = try await wire.addPartitions("tx", pid, epoch, "t", [0])
        _ = try await wire.produce("t", 0, ["slow"], pid: pid, epoch: epoch)
        #expect(cluster.expireTransaction("tx"))
        #expect(cluster.endOffset("t", 0) == 2 && cluster.transaction("tx")?.producerEpoch == epoch + 1)
        #expect(try await wire.fetch("t", 0, from: 0, readCommitted: true)?.abortedTransactions == [.init(producerId: pid, firstOffset: 0)])
        #expect(try await wire.endTxn("tx", pid, epoch, commit: true).errorCode == KafkaErrorCode.producerFenced.rawValue)
        #expect(try await wire.produce("t", 0, ["late"], pid: pid, epoch: epoch) == .invalidProducerEpoch)
        // KIP-360: InitProducerId naming the epoch it had resumes (and bumps again).
        let resumed = try await wire.initProducerId("tx", version: 4, producerId: pid, epoch: epoch)
        #expect(resumed.errorCode == 0 && resumed.producerId == pid && resumed.producerEpoch == epoch + 2)
    }

    @Test(.timeLimit(.minutes(1)))
    func tv1RefusesTransactionalBatchesForPartitionsNotAdded() async throws {
        let (_, broker, wire) = try await Self.rig()
        defer { wire.close(); broker.stop() }
        let i = try await wire.initProducerId("tx")
        _ = try await wire.addPartitions("tx", i.producerId, i.producerEpoch, "t", [0])
        #expect(try await wire.produce("t", 1, ["x"], pid: i.producerId, epoch: i.producerEpoch, version: 12) == .invalidTxnState)
        #expect(try await wire.produce("t", 0, ["x"], pid: 777, epoch: 0) == .invalidProducerIdMapping)
        #expect(try await wire.produce("t", 1, ["plain"], pid: 777, epoch: 0, transactional: false) == .noError)
        #expect(try await wire.addPartitions("tx", i.producerId, i.producerEpoch, "t", [1, 5]) == [.operationNotAttempted, .unknownTopicOrPartition])
        // TxnOffsetCommit before AddOffsetsToTxn (TV1): not part of the transaction.
        #expect(try await wire.txnOffsetCommit("tx", i.producerId, i.producerEpoch, group: "g", [("t", 0, 1)]) == [.invalidTxnState])
        let v4 = try await wire.conn.send(AddPartitionsToTxnRequest(), version: 4, timeout: .seconds(5))
        #expect(v4.errorCode == KafkaErrorCode.clusterAuthorizationFailed.rawValue, "v4+ is for brokers")
    }

    @Test(.timeLimit(.minutes(1)))
    func tv2AdvertisesTheFeatureAddsImplicitlyAndBumpsTheEpochOnEveryEndTxn() async throws {
        let (cluster, broker, wire) = try await Self.rig()
        defer { wire.close(); broker.stop() }
        cluster.setTransactionVersion(2)
        let fresh = try await FakeClusterTxnWire.connect(broker)
        defer { fresh.close() }
        let features = fresh.conn.apiVersions.finalizedFeatures ?? []
        #expect(features.map(\.name) == ["transaction.version"] && features.first?.maxVersionLevel == 2)
        #expect(wire.conn.apiVersions.finalizedFeatures == nil, "level 0 advertises nothing")

        let i = try await wire.initProducerId("tx", version: 5)
        let (pid, e0) = (i.producerId, i.producerEpoch)
        #expect(try await wire.produce("t", 0, ["a"], pid: pid, epoch: e0, version: 12) == .noError)
        #expect(try await wire.produce("t", 1, ["b"], pid: pid, epoch: e0, version: 11) == .invalidTxnState, "Produce < 12 still needs AddPartitionsToTxn")
        #expect(try await wire.txnOffsetCommit("tx", pid, e0, group: "g", [("t", 0, 1)], version: 5) == [.noError], "v5 adds the group")
        let end = try await wire.endTxn("tx", pid, e0, commit: true, version: 5)
        #expect(end.errorCode == 0 && end.producerId == pid && end.producerEpoch == e0 + 1)
        #expect(cluster.transaction("tx")?.producerEpoch == e0 + 1)
        #expect(cluster.committedOffset(group: "g", "t", 0)?.offset == 1)
        #expect(cluster.requests(.addPartitionsToTxn).isEmpty)
        let marker = try await wire.fetch("t", 0, from: 1, readCommitted: false)
        #expect(try RecordBatch(marker?.records ?? []).producerEpoch == e0 + 1, "markers carry the bumped epoch")
        // The retry (old epoch) gets the same answer; the old epoch is fenced for anything else.
        let retry = try await wire.endTxn("tx", pid, e0, commit: true, version: 5)
        #expect(retry.errorCode == 0 && retry.producerEpoch == e0 + 1)
        #expect(try await wire.produce("t", 0, ["old"], pid: pid, epoch: e0, version: 12) == .invalidProducerEpoch)
        // An empty abort is allowed (it bumps the epoch).
        #expect(try await wire.endTxn("tx", pid, e0 + 1, commit: false, version: 5).producerEpoch == e0 + 2)
    }

    @Test(.timeLimit(.minutes(1)))
    func scriptedAnswersReplaceServingPerRequestTypeAndChangeNothing() async throws {
        let (cluster, broker, wire) = try await Self.rig()
        defer { wire.close(); broker.stop() }
        let i = try await wire.initProducerId("tx")
        let (pid, epoch) = (i.producerId, i.producerEpoch)
        cluster.failNext(.addPartitionsToTxn, with: .coordinatorLoadInProgress)
        #expect(try await wire.addPartitions("tx", pid, epoch, "t", [0, 1]) == [.coordinatorLoadInProgress, .coordinatorLoadInProgress])
        #expect(cluster.transaction("tx")?.partitions == [])
        _ = try await wire.addPartitions("tx", pid, epoch, "t", [0])
        cluster.failNext(.endTxn, with: .concurrentTransactions, times: 2)
        for _ in 0 ..< 2 { #expect(try await wire.endTxn("tx", pid, epoch, commit: true).errorCode == KafkaErrorCode.concurrentTransactions.rawValue) }
        #expect(cluster.transaction("tx")?.phase == .ongoing)
        #expect(try await wire.endTxn("tx", pid, epoch, commit: true).errorCode == 0)
        cluster.failNext(.findCoordinator, with: .coordinatorNotAvailable)
        let fc = try await wire.conn.send(FindCoordinatorRequest(keys: ["a", "b"], keyType: 1, version: 4), version: 4, timeout: .seconds(5))
        #expect(fc.coordinators.map(\.errorCode) == [15, 15])
        cluster.failNext(.offsetFetch, with: .notCoordinator)
        let of = try await wire.conn.send(OffsetFetchRequest(groupId: "g", topics: nil, version: 8), version: 8, timeout: .seconds(5))
        #expect(of.groups.first?.errorCode == KafkaErrorCode.notCoordinator.rawValue)
        cluster.failNext(.produce, with: .notLeaderOrFollower)
        #expect(try await wire.produce("t", 0, ["x"], pid: -1, epoch: -1, transactional: false) == .notLeaderOrFollower)

        cluster.silenceNext(.initProducerId)
        await #expect(throws: KafkaError.self) {
            _ = try await wire.conn.send(InitProducerIdRequest(transactionalId: "tx", transactionTimeoutMs: 1000), version: 4, timeout: .milliseconds(300))
        }
        #expect(cluster.transaction("tx")?.producerEpoch == epoch, "an unanswered InitProducerId changed nothing")
        let log = cluster.requests(.endTxn)
        #expect(log.map(\.scripted) == [true, true, false] && log.map(\.errorCode) == [.concurrentTransactions, .concurrentTransactions, .noError])
        #expect(cluster.requests(.initProducerId).last?.errorCode == nil && cluster.requests(.initProducerId).last?.scripted == true)
    }
}
