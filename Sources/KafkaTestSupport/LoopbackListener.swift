#if canImport(Glibc)
import Glibc
#endif

/// A listening TCP socket on an ephemeral loopback port, shared by `FakeBroker` and
/// `FaultProxy`. CLOEXEC: a child process a test spawns meanwhile (python peers, kwire, socat)
/// must not inherit it — a socket held open by a child is never closed towards our client.
enum LoopbackListener {
    /// Returns the listening descriptor and its port; `what` names the caller in errors.
    static func open(ipv6: Bool = false, backlog: Int32, what: String) throws -> (fd: Int32, port: Int) {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw FakeBrokerError("\(what): socket failed (errno \(errno))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if ipv6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_addr = in6addr_loopback
            return (fd, try bindAndListen(fd, &addr, backlog: backlog, what: "\(what) on ::1") { UInt16(bigEndian: $0.sin6_port) })
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return (fd, try bindAndListen(fd, &addr, backlog: backlog, what: what) { UInt16(bigEndian: $0.sin_port) })
    }

    private static func bindAndListen<A>(_ fd: Int32, _ addr: inout A, backlog: Int32, what: String, port: (A) -> UInt16) throws -> Int {
        let size = socklen_t(MemoryLayout<A>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let e = errno
            close(fd)
            throw FakeBrokerError("\(what): bind/listen failed (errno \(e))")
        }
        var len = size
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(port(addr))
    }
}
