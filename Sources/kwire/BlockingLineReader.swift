import Foundation
import Synchronization

/// Lines from a blocking source (standard input) for async code: a dedicated thread makes the
/// blocking reads, so no thread of Swift's cooperative pool ever waits on the source, and hands
/// the lines over through a buffer of at most `capacity` lines. When the buffer is full the
/// reading thread waits for the consumer (backpressure): input is never read ahead without bound.
///
/// `next()` returns nil at the end of the input, and also when the awaiting task is cancelled.
/// A reader that is abandoned before the end leaves its thread parked (waiting for room, or in
/// the source's read); that is fine for a CLI, which exits soon after.
final class BlockingLineReader: Sendable {
    private struct State {
        var buffer: [String] = []
        var head = 0
        var finished = false
        var waiter: CheckedContinuation<String?, Never>?
    }

    private let state = Mutex(State())
    /// Free slots in the buffer; the reading thread takes one before each read.
    private let space: DispatchSemaphore

    /// Starts reading `read` (nil = end of input) on a new thread; `read` is called only there.
    init(capacity: Int = 1024, read: @escaping @Sendable () -> String?) {
        // Created at 0 and raised to `capacity`: libdispatch traps when a semaphore is freed with
        // a value below its initial one, which a reader freed with lines still buffered would be.
        space = DispatchSemaphore(value: 0)
        for _ in 0 ..< max(1, capacity) { space.signal() }
        let thread = Thread { [self] in self.readLoop(read) }
        thread.name = "kwire-stdin"
        thread.start()
    }

    /// Reads standard input, without the line terminators.
    static func standardInput(capacity: Int = 1024) -> BlockingLineReader {
        BlockingLineReader(capacity: capacity) { readLine(strippingNewline: true) }
    }

    private func readLoop(_ read: @Sendable () -> String?) {
        while true {
            space.wait()
            let line = read()
            let waiter = state.withLock { s -> CheckedContinuation<String?, Never>? in
                if let w = s.waiter {
                    s.waiter = nil
                    if line == nil { s.finished = true }
                    return w
                }
                if let line { s.buffer.append(line) } else { s.finished = true }
                return nil
            }
            if let waiter {
                // Handed straight to the consumer: the slot taken for it is free again.
                space.signal()
                waiter.resume(returning: line)
            }
            if line == nil { return }
        }
    }

    /// The next line, or nil at the end of the input (or when the calling task is cancelled).
    func next() async -> String? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<String?, Never>) in
                enum Outcome { case line(String), end, wait }
                let outcome = state.withLock { s -> Outcome in
                    if s.head < s.buffer.count {
                        let line = s.buffer[s.head]
                        s.head += 1
                        // Drop consumed lines now and then, not on every read (amortised O(1)).
                        if s.head >= 64, s.head * 2 >= s.buffer.count {
                            s.buffer.removeFirst(s.head)
                            s.head = 0
                        }
                        return .line(line)
                    }
                    if s.finished || Task.isCancelled { return .end }
                    s.waiter = c
                    return .wait
                }
                switch outcome {
                case .line(let line):
                    space.signal()
                    c.resume(returning: line)
                case .end:
                    c.resume(returning: nil)
                case .wait:
                    break
                }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<String?, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
