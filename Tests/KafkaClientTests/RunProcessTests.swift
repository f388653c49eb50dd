import Foundation
import Testing
import KafkaTestSupport

/// `runProcess`, the one way tests run a child to completion.
@Suite struct RunProcessTests {
    @Test func stdinStdoutStderrAndStatus() async throws {
        // A megabyte to stderr before anything to stdout: with one pipe read after the other
        // this would deadlock on a full stderr pipe.
        let input = Data((0 ..< 300_000).map { UInt8($0 % 251) })
        let r = try await runProcess(["/bin/sh", "-c", "head -c 1048576 /dev/zero >&2; cat; exit 3"], stdin: input, timeout: .seconds(60))
        #expect(r.status == 3)
        #expect(r.stdout == input)
        #expect(r.stderr.count == 1_048_576)
    }

    @Test func environmentIsExactlyTheOneGiven() async throws {
        let r = try await runProcess(["/usr/bin/env"], environment: ["KW_ONLY": "yes"], timeout: .seconds(30))
        #expect(String(decoding: r.stdout, as: UTF8.self) == "KW_ONLY=yes\n")
        let inherited = try await runProcess(["/usr/bin/env"], timeout: .seconds(30))
        #expect(String(decoding: inherited.stdout, as: UTF8.self).contains("PATH="))
    }

    @Test func aSignalIsReportedAs128PlusItsNumber() async throws {
        let r = try await runProcess(["/bin/sh", "-c", "kill -9 $$"], timeout: .seconds(30))
        #expect(r.status == 128 + 9)
    }

    @Test func theTimeoutTerminatesTheChild() async throws {
        let started = ContinuousClock.now
        await #expect(throws: ChildProcessError.self) {
            _ = try await runProcess(["/bin/sleep", "60"], timeout: .seconds(1))
        }
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    /// A script that leaves a daemon holding its stdout (as `broker.sh` could) still returns.
    @Test func aGrandchildHoldingThePipeDoesNotHangTheCaller() async throws {
        let started = ContinuousClock.now
        let r = try await runProcess(["/bin/sh", "-c", "sleep 30 & echo started"], timeout: .seconds(60))
        #expect(r.status == 0)
        #expect(String(decoding: r.stdout, as: UTF8.self) == "started\n")
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    /// More waiting children than cooperative threads (one per core), and a timer set meanwhile
    /// still fires on time. (A helper that waited on the pool would hold every thread for 6 s.)
    @Test func waitingChildrenDoNotStarveTheCooperativePool() async throws {
        let n = ProcessInfo.processInfo.activeProcessorCount + 2
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0 ..< n { group.addTask { _ = try await runProcess(["/bin/sleep", "6"], timeout: .seconds(60)) } }
            let started = ContinuousClock.now
            try await Task.sleep(for: .milliseconds(100))
            #expect(ContinuousClock.now - started < .seconds(4), "a 100 ms timer took \(ContinuousClock.now - started)")
            try await group.waitForAll()
        }
    }
}
