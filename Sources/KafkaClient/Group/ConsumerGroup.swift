import Synchronization
import KafkaProtocol
import KafkaNet

/// What a consumer subscribes to.
enum Subscription: Sendable, Equatable {
    case topics([String])
    /// A regular expression matched against whole topic names (internal topics excluded),
    /// re-evaluated on every metadata check.
    case pattern(String)
}

/// The consumer a group works for, held weakly: the executor must not keep a consumer the
/// application dropped alive (its deinit then leaves the group). Nil: it is gone.
struct GroupHost: Sendable {
    weak var consumer: KafkaConsumer?
    init(_ consumer: KafkaConsumer?) { self.consumer = consumer }
}

/// One `KafkaConsumer`'s membership in its group. The rules are in `GroupStateMachine`
/// (pure); one `GroupExecutor` task feeds it every input and carries out its actions one at a
/// time. Everything else — the consumer's `poll`, `subscribe`, `commit`, `close` — only posts
/// inputs here (`inbox`) and wakes the executor; nothing outside it changes the machine.
final class ConsumerGroup: Sendable {
    let groupId: String
    let config: ConsumerConfig
    let cluster: Cluster
    let assignors: [any PartitionAssignor]
    let handler: RebalanceHandler?
    let events: AsyncStream<RebalanceEvent>
    let eventSink: AsyncStream<RebalanceEvent>.Continuation
    let errors: AsyncStream<ConsumerGroupError>
    let errorSink: AsyncStream<ConsumerGroupError>.Continuation
    /// Changed only by the executor; read elsewhere for `memberId`, `generation` and commits.
    let machine: Mutex<GroupStateMachine>
    let inbox = Mutex(Inbox())
    /// Wakes the executor: an input arrived.
    let wake = Signal()
    /// The coordinator connection: set by the lookup, used by the executor and by commits.
    let coordinator = Mutex<BrokerLink?>(nil)
    /// The offset last committed per partition (auto-commits send only what changed).
    let lastCommitted = Mutex<[TopicPartition: Int64]>([:])

    /// Inputs from other tasks, taken by the executor between actions.
    struct Inbox: Sendable {
        var events: [GroupStateMachine.Event] = []
        /// The newest subscription asked for, not yet taken.
        var subscription: Subscription?
        /// When the application last asked for records (taken as a `.polled` event).
        var lastPoll: ContinuousClock.Instant?
        /// The machine waits for a poll (it left after `max.poll.interval.ms`): wake on one.
        var wakeOnPoll = false
        /// A revocation waits for the application: wake when it makes progress.
        var watching = false
        var leaves: [LeaveRequest] = []
        var leaveWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextLeaveId = 0
        /// A leave is pending or running: interruptible actions are not started.
        var leaving = false
        /// Cancels the interruptible request in flight (FindCoordinator, a held JoinGroup, …).
        var cancelCurrent: (@Sendable () -> Void)?
        /// The executor returned after a final leave.
        var finished = false
    }

    struct LeaveRequest: Sendable {
        var final: Bool
        var deadline: ContinuousClock.Instant
        var ids: [Int]
    }

    init(groupId: String, config: ConsumerConfig, cluster: Cluster, handler: RebalanceHandler?) throws {
        self.groupId = groupId
        self.config = config
        self.cluster = cluster
        self.handler = handler
        assignors = config.assignors
        let settings = GroupStateMachine.Settings(
            groupId: groupId, instanceId: config.groupInstanceId, sessionTimeout: config.sessionTimeout,
            heartbeatInterval: config.heartbeatInterval, maxPollInterval: config.maxPollInterval,
            retryBackoff: config.client.retryBackoff, rebalanceProtocol: assignors.first?.rebalanceProtocol ?? .eager,
            autoCommitInterval: config.enableAutoCommit ? config.autoCommitInterval : nil,
            subscriptionCheckInterval: min(config.client.metadataMaxAge, .seconds(30)))
        machine = Mutex(GroupStateMachine(settings: settings, now: .now))
        (events, eventSink) = AsyncStream.makeStream(of: RebalanceEvent.self, bufferingPolicy: .bufferingNewest(1024))
        (errors, errorSink) = AsyncStream.makeStream(of: ConsumerGroupError.self, bufferingPolicy: .bufferingNewest(1024))
    }

    var memberId: String { machine.withLock { $0.memberId } }
    var generation: Int32 { machine.withLock { $0.generation } }
    /// Member id and generation read together, so they belong to the same join.
    var membership: (memberId: String, generation: Int32) { machine.withLock { ($0.memberId, $0.generation) } }
    var phase: GroupStateMachine.Phase { machine.withLock { $0.phase } }

    // MARK: Inputs from the consumer

    func setSubscription(_ s: Subscription) {
        inbox.withLock { $0.subscription = s }
        wake.notify()
    }

    /// The application asked for records. Only a lock and a timestamp: the executor reads it
    /// when it next wakes, and is woken now only if the machine waits for a poll.
    func polled() {
        let now = ContinuousClock.now
        if inbox.withLock({ ib in ib.lastPoll = now; return ib.wakeOnPoll }) { wake.notify() }
    }

    /// The application asked for more (its earlier records count as processed now), seeked or
    /// closed: a revocation waiting for it looks again.
    func applicationProgressed() {
        if inbox.withLock({ $0.watching }) { wake.notify() }
    }

    func post(_ event: GroupStateMachine.Event) {
        inbox.withLock { $0.events.append(event) }
        wake.notify()
    }

    /// Runs the executor until a final leave.
    func run(host: GroupHost) async {
        await GroupExecutor(group: self, host: host).run()
    }

    // MARK: Shutdown

    /// Revokes (with the final commit) and leaves, as an input to the executor (a held
    /// JoinGroup in flight is cancelled); returns when done or after `timeout`.
    /// `final`: the consumer is closing (the executor and the event streams end); otherwise
    /// (`unsubscribe`) the group starts over idle, ready for a new subscription.
    func leave(timeout: Duration, final: Bool) async {
        let deadline = ContinuousClock.now + timeout
        let id = inbox.withLock { ib in defer { ib.nextLeaveId += 1 }; return ib.nextLeaveId }
        let timer = Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            self?.resumeLeaveWaiters([id])
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let (cancel, finished) = inbox.withLock { ib -> ((@Sendable () -> Void)?, Bool) in
                if ib.finished { return (nil, true) }
                ib.leaves.append(LeaveRequest(final: final, deadline: deadline, ids: [id]))
                ib.leaveWaiters[id] = c
                ib.leaving = true
                return (ib.cancelCurrent, false)
            }
            if finished {
                c.resume()
                return
            }
            cancel?()
            wake.notify()
        }
        timer.cancel()
    }

    func resumeLeaveWaiters(_ ids: [Int]) {
        let waiters = inbox.withLock { ib in ids.compactMap { ib.leaveWaiters.removeValue(forKey: $0) } }
        for w in waiters { w.resume() }
    }

    func tell(_ event: RebalanceEvent) async {
        eventSink.yield(event)
        await handler?(event)
    }
}
