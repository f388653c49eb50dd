#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import KafkaProtocol

/// One OpenSSL `SSL_CTX` built from a `TLSConfiguration`: protocol floor, trust store (CA file,
/// directory or the system's), verification mode and the client certificate and key.
///
/// Built once per configuration and shared by every connection made with it (see
/// `TLSContextCache`): loading a CA bundle parses hundreds of certificates, which must not
/// happen per connection, and never on the event loop thread. After setup the context is only
/// read (`SSL_new`), which OpenSSL allows from any thread.
final class TLSContext: @unchecked Sendable {
    let lib: OpenSSL
    let ctx: OpaquePointer
    private var keyPassword: UnsafeMutablePointer<CChar>?

    /// Builds the context. Blocking (reads files): call off the cooperative pool.
    init(config: TLSConfiguration) throws(KafkaError) {
        let lib: OpenSSL
        switch OpenSSL.shared {
        case let .success(l): lib = l
        case let .failure(e): throw e
        }
        self.lib = lib
        // OpenSSL's socket BIO writes with write(2), which raises SIGPIPE on a connection the
        // peer reset (plain sockets use sendmsg with MSG_NOSIGNAL instead). Ignore SIGPIPE so
        // such a write fails with EPIPE rather than killing the process.
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
        lib.ERR_clear_error()
        func failure(_ what: String) -> KafkaError {
            KafkaError(.configuration, "TLS setup: \(what)\(lib.errorQueueText().map { " (\($0))" } ?? "")")
        }
        guard let ctx = lib.SSL_CTX_new(lib.TLS_client_method()) else { throw failure("cannot create an SSL context") }
        self.ctx = ctx
        // From here on, a failure frees the context through deinit.
        _ = lib.SSL_CTX_ctrl(ctx, OpenSSL.SSL_CTRL_SET_MIN_PROTO_VERSION, OpenSSL.TLS1_2_VERSION, nil)
        _ = lib.SSL_CTX_ctrl(ctx, OpenSSL.SSL_CTRL_MODE, OpenSSL.SSL_MODE_ENABLE_PARTIAL_WRITE | OpenSSL.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, nil)
        if let ca = config.caLocation {
            var st = stat()
            guard stat(ca, &st) == 0 else { throw failure("ssl.ca.location \(ca) does not exist") }
            let isDir = (st.st_mode & S_IFMT) == S_IFDIR
            let ok = isDir ? lib.SSL_CTX_load_verify_locations(ctx, nil, ca) : lib.SSL_CTX_load_verify_locations(ctx, ca, nil)
            guard ok == 1 else { throw failure("cannot load CA certificates from \(ca)") }
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
            guard lib.SSL_CTX_use_certificate_chain_file(ctx, cert) == 1 else { throw failure("cannot load client certificate \(cert)") }
            guard let key = config.keyLocation else { throw failure("ssl.certificate.location needs ssl.key.location") }
            guard lib.SSL_CTX_use_PrivateKey_file(ctx, key, OpenSSL.SSL_FILETYPE_PEM) == 1 else {
                throw failure("cannot load client key \(key) (wrong ssl.key.password?)")
            }
            guard lib.SSL_CTX_check_private_key(ctx) == 1 else { throw failure("client key does not match the certificate") }
        }
    }

    deinit {
        lib.SSL_CTX_free(ctx)
        if let keyPassword {
            memset(keyPassword, 0, strlen(keyPassword))
            free(keyPassword)
        }
    }
}

/// The `TLSContext` of one `TLSConfiguration`, built on first use and shared by every copy of
/// that configuration (so: by every connection of the client that made it).
///
/// The build runs on a Dispatch queue — it reads certificate files — never on the cooperative
/// pool or the event loop. A failed build is not kept: the next connection tries again (the
/// file may have been fixed).
public final class TLSContextCache: Sendable {
    /// The settings a context was built from: a copy of the configuration changed afterwards
    /// shares this cache but must not get the other settings' context.
    struct Key: Equatable {
        let ca: String?, verifyHostname: Bool, verifyCertificate: Bool, cert: String?, key: String?, password: String?
        init(_ c: TLSConfiguration) {
            (ca, verifyHostname, verifyCertificate) = (c.caLocation, c.verifyHostname, c.verifyCertificate)
            (cert, key, password) = (c.certificateLocation, c.keyLocation, c.keyPassword)
        }
    }
    private let built = Mutex<(key: Key, context: TLSContext)?>(nil)
    private static let queue = DispatchQueue(label: "kafkawire.tls-context")

    /// An empty cache: the context is built on first use.
    public init() {}

    /// Times a context was built (for tests).
    var builds: Int { buildCount.load(ordering: .relaxed) }
    private let buildCount = Atomic<Int>(0)

    func context(for config: TLSConfiguration) async throws -> TLSContext {
        let key = Key(config)
        if let c = built.withLock({ $0?.key == key ? $0?.context : nil }) { return c }
        let result: Result<TLSContext, KafkaError> = await withCheckedContinuation { cont in
            Self.queue.async { [self] in
                // Serial queue: a second caller waiting behind the first finds its context.
                if let c = built.withLock({ $0?.key == key ? $0?.context : nil }) { return cont.resume(returning: .success(c)) }
                do throws(KafkaError) {
                    let c = try TLSContext(config: config)
                    buildCount.add(1, ordering: .relaxed)
                    built.withLock { $0 = (key, c) }
                    cont.resume(returning: .success(c))
                } catch {
                    cont.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}
