#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A socket descriptor with exactly one owner, closed exactly once.
///
/// Why this exists: a descriptor number is reused by the kernel as soon as it is closed. If a
/// connection were closed from an application thread while the event loop was still reading
/// it, the loop could read — or register — a descriptor that now belongs to someone else. So
/// once a socket is registered with an `EventLoop`, only the loop closes it (`EventLoop.retire`),
/// between two rounds of events; before registration its creator may close it.
final class OwnedSocket: Sendable {
    let fd: Int32
    private let closed = Atomic<Bool>(false)

    private init(fd: Int32) { self.fd = fd }

    /// A non-blocking TCP socket with TCP_NODELAY and (best effort) keep-alive.
    static func tcp(family: Int32) throws(SystemCallError) -> OwnedSocket {
        let socket = OwnedSocket(fd: try Posix.tcpSocket(family: family))
        try Posix.setNoDelay(socket.fd)
        try? Posix.setKeepAlive(socket.fd)
        return socket
    }

    /// Starts connecting to `address`: true when connected at once, false while in progress.
    func connect(to address: SocketAddress) throws(SystemCallError) -> Bool {
        let r: Result<Bool, SystemCallError> = address.withSockAddr { p, n in
            do throws(SystemCallError) { return .success(try Posix.connect(fd, p, n)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    /// The pending error of a non-blocking connect (0: connected).
    var pendingError: Int32 { Posix.socketError(fd) }

    var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Closes the descriptor; later calls do nothing.
    func close() {
        if !closed.exchange(true, ordering: .acquiringAndReleasing) { Posix.close(fd) }
    }

    deinit { close() }
}
