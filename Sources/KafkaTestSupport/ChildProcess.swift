#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Foundation

/// Why `runProcess` gave up on a child.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `argv` (argv[0] is a path, or a name looked up in `PATH`) to completion and returns its
/// exit status and everything it wrote.
///
/// Test code is async and the cooperative pool has as many threads as cores (two here): a test
/// that blocks one in `waitUntilExit` or `readDataToEndOfFile` stalls every other test's timers.
/// So all the blocking work (feeding stdin, reading both pipes, reaping) happens on a dedicated
/// thread and the caller awaits a continuation.
///
/// - `stdin`: written to the child's standard input, which is then closed; nil = `/dev/null`.
/// - `environment`: the child's whole environment; nil = this process's environment.
/// - `timeout`: past it the child gets SIGTERM (SIGKILL 2 s later) and this throws.
///
/// The status is the exit code, or 128 + the signal number when a signal ended the child (-1 in
/// the unlikely case that something else in this process reaped it first).
/// stdout and stderr are read together (poll), so neither pipe can fill up and stall the child;
/// once the child has exited, output still held open by a grandchild it left behind (a daemon)
/// is read for at most a second more, so a daemonizing script cannot hang the caller.
public func runProcess(_ argv: [String], stdin: Data? = nil, environment: [String: String]? = nil,
                       timeout: Duration) async throws -> (status: Int32, stdout: Data, stderr: Data) {
    guard !argv.isEmpty else { throw ChildProcessError("runProcess needs a program") }
    let result: ChildRun = try await withCheckedThrowingContinuation { continuation in
        // A thread of its own, not a Dispatch worker: it blocks in poll/waitpid for as long as
        // the child runs, and several children may run at once.
        Thread.detachNewThread {
            continuation.resume(with: Result { try ChildRun.run(argv, stdin: stdin, environment: environment, timeout: timeout) })
        }
    }
    return (result.status, result.stdout, result.stderr)
}

/// `runProcess` for the one place a test cannot await: a suite's `.enabled(if:)` condition, which
/// Swift Testing evaluates while planning, before any test runs. Blocks the calling thread.
public func runProcessBlocking(_ argv: [String], stdin: Data? = nil, environment: [String: String]? = nil,
                               timeout: Duration) throws -> (status: Int32, stdout: Data, stderr: Data) {
    guard !argv.isEmpty else { throw ChildProcessError("runProcess needs a program") }
    let r = try ChildRun.run(argv, stdin: stdin, environment: environment, timeout: timeout)
    return (r.status, r.stdout, r.stderr)
}

/// The blocking implementation behind `runProcess`; runs on its own thread.
struct ChildRun: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: Data

    /// Per stream; a test child printing more than this is broken.
    static let maxOutput = 64 << 20

    static func run(_ argv: [String], stdin input: Data?, environment: [String: String]?, timeout: Duration) throws -> ChildRun {
        let deadline = ContinuousClock.now + timeout
        // Close-on-exec: a child another thread spawns must not inherit our pipe ends (it would
        // hold them open and delay EOF). dup2 in our child clears it. (pipe2 would close the
        // short window before fcntl, but Glibc's Swift module does not export it.)
        func makePipe() throws -> (read: Int32, write: Int32) {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw ChildProcessError("pipe failed: errno \(errno)") }
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return (fds[0], fds[1])
        }
        let out = try makePipe()
        let err: (read: Int32, write: Int32)
        do { err = try makePipe() } catch { close(out.read); close(out.write); throw error }
        var inPipe: (read: Int32, write: Int32)?
        if input != nil {
            do { inPipe = try makePipe() } catch { for fd in [out.read, out.write, err.read, err.write] { close(fd) }; throw error }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let inPipe {
            posix_spawn_file_actions_adddup2(&actions, inPipe.read, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, out.write, 1)
        posix_spawn_file_actions_adddup2(&actions, err.write, 2)
        // The child starts with no blocked signals and SIGPIPE at its default, like a shell
        // would start it, whatever this test process has done to its own.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), pipeOnly = sigset_t()
        sigemptyset(&none)
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &pipeOnly)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        func cStrings(_ a: [String]) -> [UnsafeMutablePointer<CChar>?] { a.map { strdup($0) } + [nil] }
        let cargv = cStrings(argv), cenv = cStrings(env)
        defer { for p in cargv + cenv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, &attr, cargv, cenv)
        // The child has its copies; ours of the far ends must go or EOF never comes.
        close(out.write)
        close(err.write)
        if let inPipe { close(inPipe.read) }
        guard rc == 0 else {
            close(out.read)
            close(err.read)
            if let inPipe { close(inPipe.write) }
            throw ChildProcessError("cannot start \(argv[0]): \(String(cString: strerror(rc)))")
        }

        // Writing to a child that has exited raises SIGPIPE, which is process-fatal (or counted by
        // a test's handler). Blocked on this thread, the write fails with EPIPE instead; a pending
        // SIGPIPE is discarded with the thread.
        var blocked = pipeOnly
        pthread_sigmask(SIG_BLOCK, &blocked, nil)

        var pending = input.map { [UInt8]($0) } ?? []
        var written = 0
        var stdinFD: Int32 = inPipe?.write ?? -1
        if stdinFD >= 0 {
            _ = fcntl(stdinFD, F_SETFL, fcntl(stdinFD, F_GETFL) | O_NONBLOCK)
            if pending.isEmpty { close(stdinFD); stdinFD = -1 }
        }
        var outFD = out.read, errFD = err.read
        var stdoutData = Data(), stderrData = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var exitStatus: Int32?
        var exitedAt: ContinuousClock.Instant?
        var termSentAt: ContinuousClock.Instant?
        var failure: ChildProcessError?

        func reap(_ flags: Int32) {
            guard exitStatus == nil else { return }
            var status: Int32 = 0
            var r: pid_t
            repeat { r = waitpid(pid, &status, flags) } while r < 0 && errno == EINTR
            if r == pid {
                exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                exitedAt = .now
            } else if r < 0 && errno == ECHILD {
                // Someone else reaped it (a `waitpid(-1)` elsewhere in the process): it is gone,
                // its status is lost.
                exitStatus = -1
                exitedAt = .now
            }
        }
        func terminate(_ why: String) {
            if failure == nil { failure = ChildProcessError(why) }
            if termSentAt == nil, exitStatus == nil {
                kill(pid, SIGTERM)
                termSentAt = .now
            }
        }

        while outFD >= 0 || errFD >= 0 || stdinFD >= 0 {
            var fds: [pollfd] = []
            if outFD >= 0 { fds.append(pollfd(fd: outFD, events: Int16(POLLIN), revents: 0)) }
            if errFD >= 0 { fds.append(pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)) }
            if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            // Short waits: the loop also watches for the child's exit and the deadline.
            let n = poll(&fds, nfds_t(fds.count), 50)
            if n < 0 && errno != EINTR { terminate("poll failed: errno \(errno)"); break }
            for p in fds where p.revents != 0 {
                if p.fd == stdinFD {
                    let w = pending.withUnsafeBytes { write(stdinFD, $0.baseAddress! + written, $0.count - written) }
                    if w > 0 { written += w }
                    if (w < 0 && errno != EAGAIN && errno != EINTR) || written == pending.count {
                        // EPIPE: the child stopped reading; what it did with the rest is its status.
                        close(stdinFD)
                        stdinFD = -1
                        pending = []
                    }
                    continue
                }
                let r = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress!, $0.count) }
                if r < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if r <= 0 {
                    close(p.fd)
                    if p.fd == outFD { outFD = -1 } else { errFD = -1 }
                    continue
                }
                if p.fd == outFD { stdoutData.append(contentsOf: buffer[0 ..< r]) } else { stderrData.append(contentsOf: buffer[0 ..< r]) }
                if stdoutData.count > maxOutput || stderrData.count > maxOutput {
                    terminate("\(argv[0]) wrote more than \(maxOutput) bytes")
                }
            }
            reap(WNOHANG)
            let now = ContinuousClock.now
            if let exitedAt, now - exitedAt > .seconds(1) { break }   // a grandchild holds the pipes
            if exitStatus == nil, now >= deadline { terminate("\(argv[0]) did not finish within \(timeout)") }
            if let termSentAt, exitStatus == nil, now - termSentAt > .seconds(2) { kill(pid, SIGKILL) }
        }
        for fd in [outFD, errFD, stdinFD] where fd >= 0 { close(fd) }
        // Pipes closed: the child may still run (it closed them itself). Keep the deadline.
        while exitStatus == nil {
            reap(WNOHANG)
            if exitStatus != nil { break }
            let now = ContinuousClock.now
            if now >= deadline { terminate("\(argv[0]) did not finish within \(timeout)") }
            if let termSentAt, now - termSentAt > .seconds(2) { kill(pid, SIGKILL) }
            usleep(20_000)
        }
        if let failure {
            let tail = String(decoding: stderrData.suffix(2000), as: UTF8.self)
            throw ChildProcessError(failure.description + (tail.isEmpty ? "" : "; stderr ends: \(tail)"))
        }
        return ChildRun(status: exitStatus!, stdout: stdoutData, stderr: stderrData)
    }
}
