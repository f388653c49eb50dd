import Dispatch
import Foundation
import Synchronization

/// SIGINT/SIGTERM as a flag the command loop checks, so a group member can close cleanly
/// (final commit, LeaveGroup) instead of dying mid-batch. A second signal exits at once.
final class StopSignal: @unchecked Sendable {
    // @unchecked: `sources` is immutable after init and dispatch sources are thread-safe.
    private final class Count: Sendable { let value = Atomic<Int>(0) }
    private let count = Count()
    private let sources: [any DispatchSourceSignal]

    init() {
        var made: [any DispatchSourceSignal] = []
        let count = self.count
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler {
                if count.value.add(1, ordering: .relaxed).newValue > 1 { exit(130) }
            }
            s.resume()
            made.append(s)
        }
        sources = made
    }

    var requested: Bool { count.value.load(ordering: .relaxed) > 0 }
}
