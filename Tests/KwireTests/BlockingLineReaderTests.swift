import Dispatch
import Foundation
import Synchronization
import Testing
@testable import kwire

/// `kwire produce`'s standard-input reader: lines in order, bounded read-ahead, and blocking
/// reads that never occupy the cooperative pool.
@Suite struct BlockingLineReaderTests {
    /// A source of `count` lines that counts its calls.
    final class CountingSource: Sendable {
        let calls = Atomic<Int>(0)
        let count: Int
        init(count: Int) { self.count = count }
        func read() -> String? {
            let n = calls.add(1, ordering: .relaxed).oldValue
            return n < count ? "line \(n)" : nil
        }
    }

    final class Flag: Sendable { let value = Atomic<Bool>(false) }

    @Test func deliversEveryLineInOrderThenNil() async {
        let source = CountingSource(count: 5000)
        let reader = BlockingLineReader(capacity: 7) { source.read() }
        var got: [String] = []
        while let line = await reader.next() { got.append(line) }
        #expect(got == (0 ..< 5000).map { "line \($0)" })
        #expect(await reader.next() == nil, "stays at the end")
    }

    /// With nobody reading, the thread reads `capacity` lines and then waits for room.
    @Test func readsAheadAtMostCapacityLines() async throws {
        let source = CountingSource(count: 1_000_000)
        let reader = BlockingLineReader(capacity: 16) { source.read() }
        // Generous: the reading thread fills the buffer in microseconds when it runs at all.
        let deadline = ContinuousClock.now + .seconds(10)
        while source.calls.load(ordering: .relaxed) < 16, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(source.calls.load(ordering: .relaxed) == 16)
        #expect(await reader.next() == "line 0")
        let deadline2 = ContinuousClock.now + .seconds(10)
        while source.calls.load(ordering: .relaxed) < 17, ContinuousClock.now < deadline2 { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(source.calls.load(ordering: .relaxed) == 17, "one line taken, one more read")
    }

    /// Many readers whose source blocks (a silent terminal): their waits must leave the
    /// cooperative pool free. Reads made on the pool (the old `readLine` loop) would hold every
    /// pool thread, and the probe task would run only after the watchdog (a Dispatch timer, off
    /// the pool) released the sources; so the probe reports whether the watchdog had fired.
    @Test func blockedReadsLeaveTheCooperativePoolFree() async throws {
        let gate = DispatchSemaphore(value: 0)
        let readers = 16  // more than the pool has threads on any machine this runs on
        let watchdogFired = Flag()
        DispatchQueue.global().asyncAfter(deadline: .now() + 10) {
            watchdogFired.value.store(true, ordering: .relaxed)
            for _ in 0 ..< readers { gate.signal() }
        }
        await withTaskGroup(of: String?.self) { group in
            for _ in 0 ..< readers {
                group.addTask {
                    let reader = BlockingLineReader(capacity: 4) { gate.wait(); return nil }
                    return await reader.next()
                }
            }
            // Let every reader task start and park (generous).
            try? await Task.sleep(for: .milliseconds(300))
            let lateProbe = await Task { watchdogFired.value.load(ordering: .relaxed) }.value
            #expect(!lateProbe, "the probe ran only after the blocked reads were released")
            for _ in 0 ..< readers { gate.signal() }
            for await line in group { #expect(line == nil) }
        }
    }

    @Test func cancellingTheAwaitingTaskReturnsNil() async throws {
        let gate = DispatchSemaphore(value: 0)
        let reader = BlockingLineReader(capacity: 4) { gate.wait(); return nil }
        let waiting = Task { await reader.next() }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        #expect(await waiting.value == nil)
        gate.signal()
    }
}
