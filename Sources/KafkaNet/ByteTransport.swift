#if canImport(Glibc)
import Glibc
#endif
import KafkaProtocol

/// Outcome of one non-blocking transport operation.
enum TransportIO {
    /// Bytes moved (for `handshake`: finished).
    case done(Int)
    /// Call again when the socket is readable.
    case wantRead
    /// Call again when the socket is writable.
    case wantWrite
    /// The peer closed the stream.
    case closed
    case failed(KafkaError)
}

/// Bytes in and out of one connected socket: plain TCP or TLS, behind one interface, so that
/// `Connection` (framing, correlation, deadlines) does not care which.
///
/// Not thread-safe by itself: `Connection` calls it under its lock, except `read` on a
/// transport whose `readIsIndependentOfWrites` is true (plain TCP), which the loop thread calls
/// without that lock so that writers never wait for a read.
protocol ByteTransport: AnyObject, Sendable {
    /// Advances the handshake; `.done` once the stream is ready for data.
    func handshake() -> TransportIO
    /// Writes as much as the kernel takes of `frames[head...]`, starting `offset` bytes into
    /// `frames[head]`; returns the bytes written (`.done(0)` never means "wait": that is
    /// `.wantWrite`).
    func write(_ frames: [[UInt8]], head: Int, offset: Int) -> TransportIO
    /// Reads into `buffer`; `.done(n)` with n > 0, `.closed` at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportIO
    /// True when a read may run concurrently with writes (plain sockets).
    var readIsIndependentOfWrites: Bool { get }
    /// Decrypted bytes already buffered inside the transport: epoll will not report them, so a
    /// reader that stopped early must come back without waiting for the socket.
    var hasBufferedInput: Bool { get }
    /// Ends the session (TLS close_notify, best effort) and frees its resources. Does not close
    /// the socket, which `OwnedSocket` owns. Idempotent.
    func shutdown()
}

/// Plain TCP: gathered `sendmsg` writes, `read` reads.
final class PlainTransport: ByteTransport {
    private let fd: Int32
    private let remote: String

    init(fd: Int32, remote: String) {
        self.fd = fd
        self.remote = remote
    }

    func handshake() -> TransportIO { .done(0) }

    var readIsIndependentOfWrites: Bool { true }
    var hasBufferedInput: Bool { false }

    /// Up to 16 frames per system call.
    func write(_ frames: [[UInt8]], head: Int, offset: Int) -> TransportIO {
        let end = min(frames.count, head + 16)
        guard head < end else { return .done(0) }
        return withUnsafeTemporaryAllocation(of: iovec.self, capacity: end - head) { iov -> TransportIO in
            // The frames stay alive in `frames` for the duration of the call.
            for i in head ..< end {
                frames[i].withUnsafeBytes { raw in
                    let skip = i == head ? offset : 0
                    iov[i - head] = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress.map { $0 + skip }), iov_len: raw.count - skip)
                }
            }
            switch Posix.send(fd, iov) {
            case let .bytes(n): return n > 0 ? .done(n) : .wantWrite
            case .wouldBlock: return .wantWrite
            case let .failed(e):
                return .failed(KafkaError(.connection, "write to \(remote) failed: \(e)", context: .init(broker: remote), underlying: e))
            }
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportIO {
        switch Posix.read(fd, into: buffer) {
        case let .bytes(n): return n > 0 ? .done(n) : .closed
        case .wouldBlock: return .wantRead
        case let .failed(e):
            return .failed(KafkaError(.connection, "read from \(remote) failed: \(e)", context: .init(broker: remote), underlying: e))
        }
    }

    func shutdown() {}
}

/// TLS through a `TLSSession` (OpenSSL). SSL objects are not thread-safe, so every call —
/// reads included — runs under `Connection`'s lock.
final class TLSTransport: ByteTransport {
    private let session: TLSSession

    init(session: TLSSession) { self.session = session }

    func handshake() -> TransportIO { session.handshake().transport }

    var readIsIndependentOfWrites: Bool { false }
    var hasBufferedInput: Bool { session.pendingBytes > 0 }

    /// Frame by frame (SSL_write takes one buffer), partial writes enabled.
    func write(_ frames: [[UInt8]], head: Int, offset: Int) -> TransportIO {
        var written = 0
        var i = head, skip = offset
        while i < frames.count {
            let r = frames[i].withUnsafeBytes { raw in session.write(UnsafeRawBufferPointer(rebasing: raw[skip...])) }
            switch r {
            case let .done(n):
                written += n
                if skip + n < frames[i].count { return .done(written) }
                i += 1
                skip = 0
            case .wantRead, .wantWrite:
                // WANT_READ during a write (renegotiation) resumes on the next socket event.
                return written > 0 ? .done(written) : .wantWrite
            case .closed: return written > 0 ? .done(written) : .closed
            case let .failed(e): return .failed(e)
            }
        }
        return .done(written)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportIO { session.read(into: buffer).transport }

    func shutdown() { session.shutdown() }
}

extension TLSSession.IO {
    var transport: TransportIO {
        switch self {
        case let .done(n): return .done(n)
        case .wantRead: return .wantRead
        case .wantWrite: return .wantWrite
        case .closed: return .closed
        case let .failed(e): return .failed(e)
        }
    }
}
