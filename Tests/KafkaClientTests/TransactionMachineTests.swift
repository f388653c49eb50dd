import Testing
@testable import KafkaClient
import KafkaNet
import KafkaProtocol

/// Every transition of the pure `TransactionMachine`, driven by calls, events and injected
/// instants: no broker, no clock.
@Suite struct TransactionMachineTests {
    let t0 = ContinuousClock.now
    let p0 = TopicPartition(topic: "t", partition: 0)
    let p1 = TopicPartition(topic: "t", partition: 1)
    let p2 = TopicPartition(topic: "u", partition: 0)
    let id7 = ProducerIdentity(id: 7, epoch: 3)
    let group = ConsumerGroupMetadata(groupId: "g", generationId: 4, memberId: "m-1", groupInstanceId: nil)

    func fresh() -> TransactionMachine {
        TransactionMachine(settings: .init(transactionalId: "tx", transactionTimeout: .seconds(60), retryBackoff: .milliseconds(100), retryBackoffMax: .seconds(1)))
    }

    /// A machine past initTransactions(), in `ready`.
    func ready(v2: Bool = false) throws -> TransactionMachine {
        var m = fresh()
        _ = try m.start(.initialize)
        _ = m.next(now: t0)
        m.handle(.initAnswered(.noError, id7, transactionV2: v2), now: t0)
        _ = m.next(now: t0)
        m.claimed(.initialize)
        return m
    }

    func inTransaction(v2: Bool = false) throws -> TransactionMachine {
        var m = try ready(v2: v2)
        try m.begin()
        return m
    }

    func request(_ a: TransactionAction) -> TransactionRequest? {
        if case let .send(r) = a { r } else { nil }
    }

    func finished(_ a: TransactionAction) -> (TransactionMachine.Operation, Result<Void, KafkaError>)? {
        if case let .finished(op, r) = a { (op, r) } else { nil }
    }

    func waitUntil(_ a: TransactionAction) -> ContinuousClock.Instant? {
        if case let .wait(t) = a { t } else { nil }
    }

    func isSuccess(_ r: Result<Void, KafkaError>?) -> Bool {
        if case .success = r { true } else { false }
    }

    func failure(_ r: Result<Void, KafkaError>?) -> KafkaError? {
        if case let .failure(e) = r { e } else { nil }
    }

    func kind(_ body: () throws -> Void) -> KafkaError.Kind? {
        do { try body(); return nil } catch { return (error as? KafkaError)?.kind }
    }

    // MARK: init

    @Test func initGoesThroughInitializingToReadyWithTheCoordinatorsIdentity() throws {
        var m = fresh()
        #expect(m.state == .uninitialized)
        guard case .started = try m.start(.initialize) else { Issue.record("not started"); return }
        #expect(m.state == .initializing)
        #expect(request(m.next(now: t0)) == .initProducerId(current: .none))
        #expect(request(m.next(now: t0)) == nil, "one request at a time")
        m.handle(.initAnswered(.noError, id7, transactionV2: false), now: t0)
        let done = finished(m.next(now: t0))
        #expect(done?.0 == .initialize && isSuccess(done?.1))
        #expect(m.state == .ready && m.identity == id7 && !m.transactionV2)
    }

    @Test func aTimedOutInitCalledAgainContinuesTheSameOperationAndGetsItsOutcome() throws {
        var m = fresh()
        _ = try m.start(.initialize)
        _ = m.next(now: t0)
        // The caller gave up; a second call joins the running operation instead of starting one.
        guard case .resumed = try m.start(.initialize) else { Issue.record("not resumed"); return }
        m.handle(.initAnswered(.noError, id7, transactionV2: false), now: t0)
        _ = m.next(now: t0)  // finished, nobody claimed it
        guard case let .finished(r) = try m.start(.initialize) else { Issue.record("outcome lost"); return }
        #expect(isSuccess(r))
        #expect(kind { _ = try m.start(.initialize) } == .invalidState, "once claimed, a new init is misuse")
    }

    @Test func initRetriesCoordinatorErrorsWithBackoffAndConcurrentTransactionsSooner() throws {
        var m = fresh()
        _ = try m.start(.initialize)
        _ = m.next(now: t0)
        m.handle(.initAnswered(.notCoordinator, .none, transactionV2: false), now: t0)
        #expect(waitUntil(m.next(now: t0)) == t0 + .milliseconds(100))
        #expect(request(m.next(now: t0 + .milliseconds(100))) == .initProducerId(current: .none))
        m.handle(.initAnswered(.coordinatorLoadInProgress, .none, transactionV2: false), now: t0)
        #expect(waitUntil(m.next(now: t0)) == t0 + .milliseconds(200), "doubling")
        _ = m.next(now: t0 + .seconds(1))
        m.handle(.initAnswered(.concurrentTransactions, .none, transactionV2: false), now: t0)
        #expect(waitUntil(m.next(now: t0)) == t0 + .milliseconds(80), "20 ms doubling for CONCURRENT_TRANSACTIONS")
        _ = m.next(now: t0 + .seconds(1))
        m.handle(.notAnswered(.initProducerId, KafkaError(.connection, "lost")), now: t0)
        #expect(waitUntil(m.next(now: t0)) != nil, "no answer is retried too")
        #expect(m.state == .initializing)
    }

    @Test func initFailsFatallyWhenNotAuthorized() throws {
        var m = fresh()
        _ = try m.start(.initialize)
        _ = m.next(now: t0)
        m.handle(.initAnswered(.transactionalIdAuthorizationFailed, .none, transactionV2: false), now: t0)
        #expect(failure(finished(m.next(now: t0))?.1)?.code == .transactionalIdAuthorizationFailed)
        #expect(m.state == .fatalError)
    }

    // MARK: misuse

    @Test func everyCallOutOfOrderIsATypedInvalidStateError() throws {
        var m = fresh()
        #expect(kind { try m.begin() } == .invalidState)
        #expect(kind { _ = try m.start(.commit) } == .invalidState)
        #expect(kind { _ = try m.start(.abort) } == .invalidState)
        #expect(kind { _ = try m.start(.sendOffsets, offsets: [p0: 1], group: group) } == .invalidState)
        #expect(m.recordRefusal?.kind == .invalidState)
        m = try ready()
        #expect(m.recordRefusal?.kind == .invalidState, "no record outside a transaction")
        #expect(kind { _ = try m.start(.commit) } == .invalidState)
        #expect(kind { _ = try m.start(.abort) } == .invalidState)
        #expect(kind { _ = try m.start(.initialize) } == .invalidState)
        try m.begin()
        #expect(m.recordRefusal == nil)
        #expect(kind { try m.begin() } == .invalidState, "one transaction at a time")
        #expect(kind { _ = try m.start(.sendOffsets, offsets: [p0: 1], group: ConsumerGroupMetadata(groupId: "")) } == .configuration)
        _ = try m.start(.commit)
        #expect(m.recordRefusal?.kind == .invalidState, "no record while committing")
        #expect(kind { _ = try m.start(.abort) } == .invalidState, "abort during a commit: the commit must be finished")
        #expect(kind { try m.begin() } == .invalidState)
    }

    // MARK: AddPartitionsToTxn

    @Test func newPartitionsAreAddedInOneRequestBeforeTheirFirstBatch() throws {
        var m = try inTransaction()
        m.recordAppended(to: p0)
        m.recordAppended(to: p1)
        m.recordAppended(to: p0)
        #expect(!m.mayProduce(p0) && !m.mayProduce(p1), "held until added")
        #expect(m.takeAddPartitions(now: t0) == .addPartitions([p0, p1], id7))
        m.recordAppended(to: p2)
        #expect(m.takeAddPartitions(now: t0) == nil, "one AddPartitionsToTxn at a time")
        m.handle(.partitionsAnswered([p0: .noError, p1: .noError]), now: t0)
        #expect(m.mayProduce(p0) && m.mayProduce(p1) && !m.mayProduce(p2))
        #expect(m.takeAddPartitions(now: t0) == .addPartitions([p2], id7), "the partition that came meanwhile")
        m.recordAppended(to: p0)
        m.handle(.partitionsAnswered([p2: .noError]), now: t0)
        #expect(m.takeAddPartitions(now: t0) == nil, "an added partition is not added again")
    }

    @Test func retriableAddPartitionsErrorsAreRetriedAfterABackoff() throws {
        var m = try inTransaction()
        m.recordAppended(to: p0)
        _ = m.takeAddPartitions(now: t0)
        m.handle(.partitionsAnswered([p0: .concurrentTransactions]), now: t0)
        #expect(m.addPartitionsRetryAt == t0 + .milliseconds(20))
        #expect(m.takeAddPartitions(now: t0 + .milliseconds(10)) == nil)
        #expect(m.takeAddPartitions(now: t0 + .milliseconds(20)) == .addPartitions([p0], id7))
        m.handle(.notAnswered(.addPartitionsToTxn, KafkaError(.timeout, "late")), now: t0)
        #expect(m.takeAddPartitions(now: t0 + .seconds(1)) == .addPartitions([p0], id7))
        #expect(m.state == .inTransaction)
    }

    // MARK: abortable errors

    @Test func anAbortableErrorRefusesCommitAllowsAbortAndTheNextTransactionSucceeds() throws {
        var m = try inTransaction()
        m.recordAppended(to: p0)
        _ = m.takeAddPartitions(now: t0)
        m.handle(.partitionsAnswered([p0: .transactionAbortable]), now: t0)
        #expect(m.state == .abortableError)
        #expect(m.takeUnsentFailure()?.code == .transactionAbortable, "unsent batches fail")
        #expect(m.takeUnsentFailure() == nil, "once")
        #expect(m.recordRefusal?.code == .transactionAbortable)
        #expect(kind { _ = try m.start(.commit) } == .broker(.transactionAbortable))
        guard case .started = try m.start(.abort) else { Issue.record("abort refused"); return }
        #expect(m.state == .aborting)
        guard case .dropUnsent = m.next(now: t0) else { Issue.record("unsent batches first"); return }
        m.handle(.dropped, now: t0)
        guard case .flush = m.next(now: t0) else { Issue.record("then in-flight ones"); return }
        m.handle(.flushed, now: t0)
        // p0 was never added: nothing to end at the coordinator.
        #expect(isSuccess(finished(m.next(now: t0))?.1))
        #expect(m.state == .ready)
        try m.begin()
        #expect(m.state == .inTransaction && m.error == nil)
    }

    @Test func aFailedRecordMakesTheCommitFailAfterTheFlush() throws {
        var m = try inTransaction()
        m.recordAppended(to: p0)
        _ = m.takeAddPartitions(now: t0)
        m.handle(.partitionsAnswered([p0: .noError]), now: t0)
        _ = try m.start(.commit)
        guard case .flush = m.next(now: t0) else { Issue.record("commit flushes first"); return }
        m.recordFailed(KafkaError(.timeout, "message not delivered within delivery.timeout.ms"))
        m.handle(.flushed, now: t0)
        let done = finished(m.next(now: t0))
        #expect(done?.0 == .commit && failure(done?.1)?.kind == .timeout, "no EndTxn: the commit fails")
        #expect(m.state == .abortableError && m.epochBumpNeeded)
        _ = try m.start(.abort)
        _ = m.next(now: t0)
        m.handle(.dropped, now: t0)
        _ = m.next(now: t0)
        m.handle(.flushed, now: t0)
        #expect(request(m.next(now: t0)) == .endTxn(commit: false, id7))
        m.handle(.endTxnAnswered(.noError, .none), now: t0)
        // Sequence numbers may have a gap: the abort ends with an epoch bump (KIP-360).
        #expect(request(m.next(now: t0)) == .initProducerId(current: id7))
        m.handle(.initAnswered(.noError, ProducerIdentity(id: 7, epoch: 4), transactionV2: false), now: t0)
        #expect(isSuccess(finished(m.next(now: t0))?.1))
        #expect(m.identity.epoch == 4 && !m.epochBumpNeeded && m.state == .ready)
    }

    @Test func groupFencingOnTxnOffsetCommitForcesAnAbort() throws {
        var m = try inTransaction()
        _ = try m.start(.sendOffsets, offsets: [p0: 42], group: group)
        #expect(request(m.next(now: t0)) == .addOffsets(groupId: "g", id7))
        m.handle(.addOffsetsAnswered(.noError), now: t0)
        #expect(request(m.next(now: t0)) == .commitOffsets([p0: 42], group, id7))
        m.handle(.offsetsAnswered([p0: .illegalGeneration]), now: t0)
        #expect(failure(finished(m.next(now: t0))?.1)?.code == .illegalGeneration)
        #expect(m.state == .abortableError)
        #expect(kind { _ = try m.start(.commit) } == .broker(.illegalGeneration))
    }

    @Test func txnOffsetCommitRetriesOnlyThePartitionsThatFailed() throws {
        var m = try inTransaction(v2: true)
        _ = try m.start(.sendOffsets, offsets: [p0: 1, p1: 2], group: group)
        #expect(request(m.next(now: t0)) == .commitOffsets([p0: 1, p1: 2], group, id7), "V2: no AddOffsetsToTxn")
        m.handle(.offsetsAnswered([p0: .noError, p1: .coordinatorLoadInProgress]), now: t0)
        _ = m.next(now: t0)
        #expect(request(m.next(now: t0 + .seconds(1))) == .commitOffsets([p1: 2], group, id7))
        m.handle(.offsetsAnswered([p1: .noError]), now: t0)
        #expect(isSuccess(finished(m.next(now: t0))?.1))
        #expect(m.state == .inTransaction && m.hasOffsets)
    }

    // MARK: fatal errors

    @Test func fencingIsFatalForEveryLaterCall() throws {
        var m = try inTransaction()
        m.recordAppended(to: p0)
        _ = m.takeAddPartitions(now: t0)
        m.handle(.partitionsAnswered([p0: .noError]), now: t0)
        _ = try m.start(.commit)
        _ = m.next(now: t0)
        m.handle(.flushed, now: t0)
        #expect(request(m.next(now: t0)) == .endTxn(commit: true, id7))
        m.handle(.endTxnAnswered(.producerFenced, .none), now: t0)
        #expect(failure(finished(m.next(now: t0))?.1)?.code == .producerFenced)
        m.claimed(.commit)
        #expect(m.state == .fatalError)
        #expect(kind { _ = try m.start(.abort) } == .broker(.producerFenced))
        #expect(kind { _ = try m.start(.commit) } == .broker(.producerFenced))
        #expect(kind { try m.begin() } == .broker(.producerFenced))
        #expect(m.recordRefusal?.code == .producerFenced)
    }

    @Test func aFencedRecordIsFatal() throws {
        var m = try inTransaction()
        m.recordFailed(KafkaError.broker(.invalidProducerEpoch))
        #expect(m.state == .fatalError && m.takeUnsentFailure() != nil)
        m.recordFailed(KafkaError(.timeout, "later"))
        #expect(m.error?.underlying.map { ($0 as? KafkaError)?.code } == .invalidProducerEpoch, "the first fatal error stays")
    }

    @Test func failuresDuringAnAbortAreTheAbortsOwn() throws {
        var m = try inTransaction()
        _ = try m.start(.abort)
        m.recordFailed(KafkaError(.invalidState, "the transaction was aborted before the record was sent"))
        #expect(m.state == .aborting && m.error == nil)
    }

    // MARK: commit outcome

    @Test func anEndTxnWithoutAnswerIsRetriedAndNeverReportedCommitted() throws {
        var m = try inTransaction()
        m.recordAppended(to: p0)
        _ = m.takeAddPartitions(now: t0)
        m.handle(.partitionsAnswered([p0: .noError]), now: t0)
        _ = try m.start(.commit)
        _ = m.next(now: t0)
        m.handle(.flushed, now: t0)
        _ = m.next(now: t0)
        m.handle(.notAnswered(.endTxn, KafkaError(.timeout, "no answer")), now: t0)
        #expect(m.state == .committing && m.unclaimed == nil)
        guard case .resumed = try m.start(.commit) else { Issue.record("commit again must resume"); return }
        #expect(request(m.next(now: t0 + .seconds(1))) == .endTxn(commit: true, id7), "the same EndTxn again")
        m.handle(.endTxnAnswered(.concurrentTransactions, .none), now: t0)
        #expect(request(m.next(now: t0 + .seconds(1))) == .endTxn(commit: true, id7))
        m.handle(.endTxnAnswered(.noError, .none), now: t0)
        #expect(isSuccess(finished(m.next(now: t0))?.1))
        #expect(m.state == .ready)
    }

    @Test func endTxnAbortableAnswerLeavesTheTransactionToAbort() throws {
        var m = try inTransaction()
        _ = try m.start(.sendOffsets, offsets: [p0: 1], group: group)
        _ = m.next(now: t0)
        m.handle(.addOffsetsAnswered(.noError), now: t0)
        _ = m.next(now: t0)
        m.handle(.offsetsAnswered([p0: .noError]), now: t0)
        _ = m.next(now: t0)
        m.claimed(.sendOffsets)
        _ = try m.start(.commit)
        _ = m.next(now: t0)
        m.handle(.flushed, now: t0)
        #expect(request(m.next(now: t0)) == .endTxn(commit: true, id7), "offsets only: not empty")
        m.handle(.endTxnAnswered(.transactionAbortable, .none), now: t0)
        #expect(failure(finished(m.next(now: t0))?.1)?.code == .transactionAbortable)
        #expect(m.state == .abortableError)
    }

    // MARK: empty transactions, V2

    @Test func anEmptyTransactionCommitsWithoutARequest() throws {
        var m = try inTransaction()
        _ = try m.start(.commit)
        guard case .flush = m.next(now: t0) else { Issue.record("flush"); return }
        m.handle(.flushed, now: t0)
        #expect(isSuccess(finished(m.next(now: t0))?.1))
        #expect(m.state == .ready)
    }

    @Test func transactionsV2AddNoPartitionsAndAdoptTheEpochOfEveryEndTxn() throws {
        var m = try inTransaction(v2: true)
        #expect(m.transactionV2)
        m.recordAppended(to: p0)
        #expect(m.mayProduce(p0) && m.takeAddPartitions(now: t0) == nil, "KIP-890: Produce adds the partition")
        _ = try m.start(.commit)
        _ = m.next(now: t0)
        m.handle(.flushed, now: t0)
        #expect(request(m.next(now: t0)) == .endTxn(commit: true, id7))
        m.handle(.endTxnAnswered(.noError, ProducerIdentity(id: 7, epoch: 4)), now: t0)
        _ = m.next(now: t0)
        #expect(m.identity == ProducerIdentity(id: 7, epoch: 4))
        try m.begin()
        m.recordAppended(to: p0)
        m.recordFailed(KafkaError(.timeout, "x"))
        _ = try m.start(.abort)
        _ = m.next(now: t0)
        m.handle(.dropped, now: t0)
        _ = m.next(now: t0)
        m.handle(.flushed, now: t0)
        // No AddPartitions in V2, but the failed record's partition is in the transaction.
        #expect(request(m.next(now: t0)) == .endTxn(commit: false, ProducerIdentity(id: 7, epoch: 4)))
        m.handle(.endTxnAnswered(.noError, ProducerIdentity(id: 7, epoch: 5)), now: t0)
        #expect(isSuccess(finished(m.next(now: t0))?.1), "V2 needs no InitProducerId bump: EndTxn bumped")
        #expect(m.identity.epoch == 5)
    }

    @Test func anAbortWaitsForAnAddPartitionsInFlightBeforeEndTxn() throws {
        var m = try inTransaction()
        m.recordAppended(to: p0)
        _ = m.takeAddPartitions(now: t0)
        _ = try m.start(.abort)
        _ = m.next(now: t0)
        m.handle(.dropped, now: t0)
        _ = m.next(now: t0)
        m.handle(.flushed, now: t0)
        #expect(waitUntil(m.next(now: t0)) == t0 + .milliseconds(20))
        m.handle(.partitionsAnswered([p0: .noError]), now: t0)
        #expect(request(m.next(now: t0)) == .endTxn(commit: false, id7), "the coordinator knows p0: end it")
    }

    @Test func backoffDoublesUpToTheCap() {
        let m = fresh()
        #expect(m.backoff(failures: 1, short: false) == .milliseconds(100))
        #expect(m.backoff(failures: 4, short: false) == .milliseconds(800))
        #expect(m.backoff(failures: 5, short: false) == .seconds(1))
        #expect(m.backoff(failures: 1_000, short: false) == .seconds(1))
        #expect(m.backoff(failures: 2, short: true) == .milliseconds(40))
    }

    // MARK: error classes

    @Test func errorsAreClassifiedAsLibrdkafkaAndJavaDo() {
        for code in [KafkaErrorCode.coordinatorLoadInProgress, .notCoordinator, .coordinatorNotAvailable, .concurrentTransactions] {
            guard case .retriable = TransactionErrorClass.of(code, api: .endTxn) else { Issue.record("\(code.name) retriable"); continue }
        }
        for code in [KafkaErrorCode.transactionAbortable, .unknownProducerId, .illegalGeneration, .unknownMemberId, .fencedInstanceId] {
            #expect(TransactionErrorClass.of(code, api: .txnOffsetCommit) == .abortable, "\(code.name)")
        }
        for code in [KafkaErrorCode.producerFenced, .invalidProducerEpoch, .invalidTxnState, .transactionalIdAuthorizationFailed] {
            #expect(TransactionErrorClass.of(code, api: .addPartitionsToTxn) == .fatal, "\(code.name)")
        }
        #expect(TransactionErrorClass.ofRecordFailure(KafkaError(.outcomeUnknown, "x")) == .abortable)
        #expect(TransactionErrorClass.ofRecordFailure(KafkaError.broker(.producerFenced)) == .fatal)
    }
}
