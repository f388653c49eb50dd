import Synchronization
package import KafkaProtocol

/// A continuation that several parties race to resume — the operation's own completion, a
/// cancellation handler, a timer — of which exactly the first wins; later resumes are no-ops.
///
/// The usual cancellable wait:
/// ```swift
/// let once = OnceContinuation<T>()
/// return try await withTaskCancellationHandler {
///     try await withCheckedThrowingContinuation { c in
///         guard once.install(c) else { return }   // already cancelled: resumed with .cancelled
///         … hand `once` to whoever completes the operation …
///     }
/// } onCancel: { once.cancel("… cancelled") }
/// ```
/// `install` checks `Task.isCancelled` under the same lock `cancel` takes, so a cancellation
/// that arrives before the continuation exists is not lost.
package final class OnceContinuation<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        /// Set by the first resume (or cancel): every later one is ignored.
        var outcome: Result<T, any Error>?
    }
    private let state = Mutex(State())

    package init() {}

    /// Installs the continuation; when a resume or cancellation came first it is resumed at
    /// once with that outcome and false is returned (do not start the operation then).
    @discardableResult
    package func install(_ c: CheckedContinuation<T, any Error>, cancelledMessage: String = "cancelled") -> Bool {
        let early: Result<T, any Error>? = state.withLock { s in
            if s.outcome == nil, Task.isCancelled { s.outcome = .failure(KafkaError(.cancelled, cancelledMessage)) }
            if let o = s.outcome { return o }
            s.continuation = c
            return nil
        }
        guard let early else { return true }
        c.resume(with: early)
        return false
    }

    /// Resumes the waiter with `result` unless something resumed it before. Returns whether
    /// this call won.
    @discardableResult
    package func resume(with result: Result<T, any Error>) -> Bool {
        let c: CheckedContinuation<T, any Error>?? = state.withLock { s in
            guard s.outcome == nil else { return .none }
            s.outcome = result
            defer { s.continuation = nil }
            return .some(s.continuation)
        }
        guard case let .some(cont) = c else { return false }
        cont?.resume(with: result)
        return true
    }

    /// Resumes the waiter with `KafkaError(.cancelled, message)` unless it was resumed before.
    @discardableResult
    package func cancel(_ message: String, context: KafkaError.Context = .init()) -> Bool {
        resume(with: .failure(KafkaError(.cancelled, message, context: context)))
    }

    /// Whether some resume has happened.
    package var isResumed: Bool { state.withLock { $0.outcome != nil } }
}
