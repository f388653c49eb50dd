import Synchronization

/// Holds a group rebalance back until `TransactionalPipeline` has aborted the transaction that
/// was open when it began, so that partitions are never handed to another member while output
/// computed from them may still commit.
///
/// The consumer awaits its rebalance handler before partitions move (`RebalanceHandler`): the
/// handler counts the rebalance and, for a revocation or loss during an open transaction,
/// waits until the pipeline's loop has seen the count change, aborted and rewound. The loop
/// only reads the count between steps, so the barrier never interrupts a request.
final class RebalanceBarrier: Sendable {
    private struct State {
        /// Rebalance events seen (each one makes an open transaction abort).
        var rebalances = 0
        /// Whether the loop has a transaction open.
        var open = false
        /// Whether the loop stopped (nothing to wait for any more).
        var stopped = false
        /// Handlers waiting for the open transaction to end.
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    /// Rebalance events so far; the loop compares it with the value it last acted on.
    var rebalances: Int { state.withLock { $0.rebalances } }

    /// The rebalance handler's part: counts `event` and, when it takes partitions away while
    /// a transaction is open, returns only once that transaction ended.
    func handle(_ event: RebalanceEvent) async {
        let mustWait: Bool = state.withLock { s in
            s.rebalances += 1
            if case .assigned = event { return false }  // nothing leaves: the flag is enough
            return s.open && !s.stopped
        }
        guard mustWait else { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s -> Bool in
                guard s.open, !s.stopped else { return true }
                s.waiters.append(c)
                return false
            }
            if resumeNow { c.resume() }
        }
    }

    /// The loop began a transaction.
    func opened() { state.withLock { $0.open = true } }

    /// The loop's transaction ended (committed or aborted): waiting handlers go on.
    func closed() { release { $0.open = false } }

    /// The loop stopped: no handler waits from now on.
    func stop() { release { $0.stopped = true } }

    private func release(_ change: (inout State) -> Void) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            change(&s)
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }
}
