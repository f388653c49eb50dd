#if canImport(Glibc)
import Glibc
#endif
import KafkaProtocol

/// One TLS client session over a connected non-blocking socket.
///
/// Not thread-safe (neither is an OpenSSL `SSL`): it is created, used and freed only under
/// `Connection.state` (a `Mutex`), which is what the `@unchecked Sendable` relies on.
/// Handshake, reads and writes return "want read"/"want write" instead of blocking; the event
/// loop calls again when the socket is ready.
final class TLSSession: @unchecked Sendable {
    enum IO { case done(Int), wantRead, wantWrite, closed, failed(KafkaError) }

    private let lib: OpenSSL
    /// Keeps the shared `SSL_CTX` alive as long as this session.
    private let context: TLSContext
    private var ssl: OpaquePointer?
    private let remote: String

    /// A client session on the connected (or connecting) socket `fd`, verifying `host`.
    /// Cheap: the context (trust store, client certificate) is built once per configuration.
    init(context: TLSContext, config: TLSConfiguration, host: String, fd: Int32, remote: String) throws(KafkaError) {
        self.remote = remote
        self.context = context
        let lib = context.lib
        self.lib = lib
        lib.ERR_clear_error()
        func failure(_ what: String) -> KafkaError {
            KafkaError(.configuration, "TLS setup for \(remote): \(what)\(lib.errorQueueText().map { " (\($0))" } ?? "")", context: .init(broker: remote))
        }
        guard let ssl = lib.SSL_new(context.ctx) else { throw failure("cannot create an SSL session") }
        self.ssl = ssl
        _ = lib.SSL_set_fd(ssl, fd)
        let isIP = Self.isIPLiteral(host)
        if !isIP {
            // SNI (RFC 6066) only carries host names, never IP literals.
            host.withCString { _ = lib.SSL_ctrl(ssl, OpenSSL.SSL_CTRL_SET_TLSEXT_HOSTNAME, 0, UnsafeMutableRawPointer(mutating: $0)) }
        }
        if config.verifyCertificate && config.verifyHostname {
            let ok = isIP ? lib.X509_VERIFY_PARAM_set1_ip_asc(lib.SSL_get0_param(ssl), host) : lib.SSL_set1_host(ssl, host)
            guard ok == 1 else { shutdown(); throw failure("cannot set the expected host name \(host)") }
        }
    }

    static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// One step of the handshake.
    func handshake() -> IO {
        lib.ERR_clear_error()
        let r = lib.SSL_connect(ssl)
        if r == 1 { return .done(0) }
        return classify(r, during: "handshake")
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> IO {
        lib.ERR_clear_error()
        let r = lib.SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        if r > 0 { return .done(Int(r)) }
        return classify(r, during: "read")
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> IO {
        lib.ERR_clear_error()
        let r = lib.SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        if r > 0 { return .done(Int(r)) }
        return classify(r, during: "write")
    }

    private func classify(_ r: Int32, during what: String) -> IO {
        let e = lib.SSL_get_error(ssl, r)
        switch e {
        case OpenSSL.SSL_ERROR_WANT_READ: return .wantRead
        case OpenSSL.SSL_ERROR_WANT_WRITE: return .wantWrite
        case OpenSSL.SSL_ERROR_ZERO_RETURN: return .closed
        case OpenSSL.SSL_ERROR_SYSCALL where what != "handshake" && errno == 0: return .closed
        default:
            if what == "handshake" {
                let verify = lib.SSL_get_verify_result(ssl)
                if verify != OpenSSL.X509_V_OK {
                    let reason = Posix.cString(lib.X509_verify_cert_error_string(verify)) ?? "error \(verify)"
                    return .failed(KafkaError(.authentication, "TLS handshake with \(remote) failed: certificate verify failed: \(reason)", context: .init(broker: remote)))
                }
                let detail = lib.errorQueueText() ?? (e == OpenSSL.SSL_ERROR_SYSCALL ? "connection closed during the handshake (is the broker speaking TLS?)" : "SSL error \(e)")
                return .failed(KafkaError(.authentication, "TLS handshake with \(remote) failed: \(detail)", context: .init(broker: remote)))
            }
            let detail = lib.errorQueueText() ?? "SSL error \(e)"
            return .failed(KafkaError(.connection, "TLS \(what) on \(remote) failed: \(detail)", context: .init(broker: remote)))
        }
    }

    /// Decrypted bytes buffered inside OpenSSL, not yet read (epoll cannot see them).
    var pendingBytes: Int {
        guard let ssl else { return 0 }
        return Int(lib.SSL_pending(ssl))
    }

    /// Sends close_notify (best effort) and frees the session. Idempotent.
    func shutdown() {
        if let ssl {
            _ = lib.SSL_shutdown(ssl)
            lib.SSL_free(ssl)
            self.ssl = nil
        }
    }

    deinit {
        // No close_notify here: the descriptor may already be closed (and its number reused).
        if let ssl { lib.SSL_free(ssl) }
    }
}
