import Synchronization

/// Wakes one waiting task: `notify()` from anywhere, `wait(until:)` from the sender loop.
/// A notification that arrives while nobody waits is remembered, so none is lost.
final class Signal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    func notify() {
        let w: CheckedContinuation<Void, Never>? = state.withLock { s in
            if let w = s.waiter {
                s.waiter = nil
                return w
            }
            s.pending = true
            return nil
        }
        w?.resume()
    }

    /// Returns on `notify()` or at `deadline` (nil: only on notify), whichever is first.
    func wait(until deadline: ContinuousClock.Instant?) async {
        if state.withLock({ s in defer { s.pending = false }; return s.pending }) { return }
        let timer: Task<Void, Never>? = deadline.map { d in
            Task { [weak self] in
                try? await Task.sleep(until: d, clock: .continuous)
                if !Task.isCancelled { self?.notify() }
            }
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow: Bool = state.withLock { s in
                if s.pending {
                    s.pending = false
                    return true
                }
                s.waiter = c
                return false
            }
            if resumeNow { c.resume() }
        }
        timer?.cancel()
    }
}
