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
    private var ctx: OpaquePointer?
    private var ssl: OpaquePointer?
    private var keyPassword: UnsafeMutablePointer<CChar>?
    private let remote: String

    init(config: TLSConfiguration, host: String, fd: Int32, remote: String) throws {
        self.remote = remote
        let lib: OpenSSL
        switch OpenSSL.shared {
        case let .success(l): lib = l
        case let .failure(e): throw e.with(.init(broker: remote))
        }
        self.lib = lib
        // OpenSSL's socket BIO writes with write(2), which raises SIGPIPE on a connection the
        // peer reset (plain sockets use sendmsg with MSG_NOSIGNAL instead). Ignore SIGPIPE so
        // such a write fails with EPIPE rather than killing the process.
        _ = signal(SIGPIPE, SIG_IGN)
        lib.ERR_clear_error()
        func failure(_ what: String) -> KafkaError {
            KafkaError(.configuration, "TLS setup for \(remote): \(what)\(lib.errorQueueText().map { " (\($0))" } ?? "")", context: .init(broker: remote))
        }
        guard let ctx = lib.SSL_CTX_new(lib.TLS_client_method()) else { throw failure("cannot create an SSL context") }
        self.ctx = ctx
        _ = lib.SSL_CTX_ctrl(ctx, OpenSSL.SSL_CTRL_SET_MIN_PROTO_VERSION, OpenSSL.TLS1_2_VERSION, nil)
        _ = lib.SSL_CTX_ctrl(ctx, OpenSSL.SSL_CTRL_MODE, OpenSSL.SSL_MODE_ENABLE_PARTIAL_WRITE | OpenSSL.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, nil)
        if let ca = config.caLocation {
            var isDir = false
            var st = stat()
            if stat(ca, &st) == 0 { isDir = (st.st_mode & S_IFMT) == S_IFDIR } else {
                shutdown()
                throw failure("ssl.ca.location \(ca) does not exist")
            }
            let ok = isDir ? lib.SSL_CTX_load_verify_locations(ctx, nil, ca) : lib.SSL_CTX_load_verify_locations(ctx, ca, nil)
            guard ok == 1 else { shutdown(); throw failure("cannot load CA certificates from \(ca)") }
        } else {
            _ = lib.SSL_CTX_set_default_verify_paths(ctx)
        }
        lib.SSL_CTX_set_verify(ctx, config.verifyCertificate ? OpenSSL.SSL_VERIFY_PEER : OpenSSL.SSL_VERIFY_NONE, nil)
        if let password = config.keyPassword {
            keyPassword = strdup(password)
            lib.SSL_CTX_set_default_passwd_cb_userdata(ctx, UnsafeMutableRawPointer(keyPassword))
            lib.SSL_CTX_set_default_passwd_cb(ctx) { buf, size, _, user in
                // Copies the password handed over as user data; no captures in a C callback.
                guard let buf, let user else { return 0 }
                let pw = user.assumingMemoryBound(to: CChar.self)
                let n = min(Int(strlen(pw)), Int(size) - 1)
                guard n >= 0 else { return 0 }
                memcpy(buf, pw, n)
                buf[n] = 0
                return Int32(n)
            }
        }
        if let cert = config.certificateLocation {
            guard lib.SSL_CTX_use_certificate_chain_file(ctx, cert) == 1 else { shutdown(); throw failure("cannot load client certificate \(cert)") }
            guard let key = config.keyLocation else { shutdown(); throw failure("ssl.certificate.location needs ssl.key.location") }
            guard lib.SSL_CTX_use_PrivateKey_file(ctx, key, OpenSSL.SSL_FILETYPE_PEM) == 1 else {
                shutdown()
                throw failure("cannot load client key \(key) (wrong ssl.key.password?)")
            }
            guard lib.SSL_CTX_check_private_key(ctx) == 1 else { shutdown(); throw failure("client key does not match the certificate") }
        }
        guard let ssl = lib.SSL_new(ctx) else { shutdown(); throw failure("cannot create an SSL session") }
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

    /// Sends close_notify (best effort) and frees everything. Idempotent.
    func shutdown() {
        if let ssl {
            _ = lib.SSL_shutdown(ssl)
            lib.SSL_free(ssl)
            self.ssl = nil
        }
        if let ctx {
            lib.SSL_CTX_free(ctx)
            self.ctx = nil
        }
        if let keyPassword {
            memset(keyPassword, 0, strlen(keyPassword))
            free(keyPassword)
            self.keyPassword = nil
        }
    }

    deinit { shutdown() }
}
