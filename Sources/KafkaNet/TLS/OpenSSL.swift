#if canImport(Glibc)
import Glibc
#endif
import KafkaProtocol

/// The system OpenSSL (libssl 3 / 1.1), loaded at run time with dlopen.
///
/// Loading at run time rather than linking means the package builds on machines without
/// OpenSSL headers, and a machine without libssl gets a clear error the first time TLS is used
/// instead of a build failure. Only the functions KafkaWire needs are bound; macros such as
/// `SSL_set_tlsext_host_name` are expressed through the `SSL_ctrl` calls they expand to.
struct OpenSSL: Sendable {
    typealias Ptr = OpaquePointer
    let TLS_client_method: @convention(c) () -> Ptr?
    let SSL_CTX_new: @convention(c) (Ptr?) -> Ptr?
    let SSL_CTX_free: @convention(c) (Ptr?) -> Void
    let SSL_CTX_ctrl: @convention(c) (Ptr?, Int32, Int, UnsafeMutableRawPointer?) -> Int
    let SSL_CTX_set_default_verify_paths: @convention(c) (Ptr?) -> Int32
    let SSL_CTX_load_verify_locations: @convention(c) (Ptr?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32
    let SSL_CTX_use_certificate_chain_file: @convention(c) (Ptr?, UnsafePointer<CChar>?) -> Int32
    let SSL_CTX_use_PrivateKey_file: @convention(c) (Ptr?, UnsafePointer<CChar>?, Int32) -> Int32
    let SSL_CTX_check_private_key: @convention(c) (Ptr?) -> Int32
    let SSL_CTX_set_default_passwd_cb: @convention(c) (Ptr?, (@convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32)?) -> Void
    let SSL_CTX_set_default_passwd_cb_userdata: @convention(c) (Ptr?, UnsafeMutableRawPointer?) -> Void
    let SSL_CTX_set_verify: @convention(c) (Ptr?, Int32, UnsafeRawPointer?) -> Void
    let SSL_new: @convention(c) (Ptr?) -> Ptr?
    let SSL_free: @convention(c) (Ptr?) -> Void
    let SSL_set_fd: @convention(c) (Ptr?, Int32) -> Int32
    let SSL_ctrl: @convention(c) (Ptr?, Int32, Int, UnsafeMutableRawPointer?) -> Int
    let SSL_set1_host: @convention(c) (Ptr?, UnsafePointer<CChar>?) -> Int32
    let SSL_get0_param: @convention(c) (Ptr?) -> Ptr?
    let X509_VERIFY_PARAM_set1_ip_asc: @convention(c) (Ptr?, UnsafePointer<CChar>?) -> Int32
    let SSL_connect: @convention(c) (Ptr?) -> Int32
    let SSL_get_error: @convention(c) (Ptr?, Int32) -> Int32
    let SSL_read: @convention(c) (Ptr?, UnsafeMutableRawPointer?, Int32) -> Int32
    let SSL_write: @convention(c) (Ptr?, UnsafeRawPointer?, Int32) -> Int32
    let SSL_shutdown: @convention(c) (Ptr?) -> Int32
    let SSL_pending: @convention(c) (Ptr?) -> Int32
    let SSL_get_verify_result: @convention(c) (Ptr?) -> Int
    let X509_verify_cert_error_string: @convention(c) (Int) -> UnsafePointer<CChar>?
    let ERR_get_error: @convention(c) () -> UInt
    let ERR_error_string_n: @convention(c) (UInt, UnsafeMutablePointer<CChar>?, Int) -> Void
    let ERR_clear_error: @convention(c) () -> Void

    // Constants from ssl.h / x509_vfy.h that the bindings need.
    static let SSL_ERROR_SSL: Int32 = 1
    static let SSL_ERROR_WANT_READ: Int32 = 2
    static let SSL_ERROR_WANT_WRITE: Int32 = 3
    static let SSL_ERROR_SYSCALL: Int32 = 5
    static let SSL_ERROR_ZERO_RETURN: Int32 = 6
    static let SSL_CTRL_MODE: Int32 = 33
    static let SSL_CTRL_SET_TLSEXT_HOSTNAME: Int32 = 55
    static let SSL_CTRL_SET_MIN_PROTO_VERSION: Int32 = 123
    static let TLS1_2_VERSION = 0x0303
    static let SSL_MODE_ENABLE_PARTIAL_WRITE = 0x1
    static let SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = 0x2
    static let SSL_VERIFY_NONE: Int32 = 0
    static let SSL_VERIFY_PEER: Int32 = 1
    static let SSL_FILETYPE_PEM: Int32 = 1
    static let X509_V_OK = 0

    /// The library, loaded once per process (or the reason it could not be).
    static let shared: Result<OpenSSL, KafkaError> = load(names: ["libssl.so.3", "libssl.so.1.1", "libssl.so"])

    /// Loads libssl from the first of `names` that opens. Injectable for tests.
    static func load(names: [String]) -> Result<OpenSSL, KafkaError> {
        var handle: UnsafeMutableRawPointer?
        for n in names where handle == nil { handle = dlopen(n, RTLD_NOW | RTLD_LOCAL) }
        guard let handle else {
            return .failure(KafkaError(.configuration, "TLS needs the system OpenSSL library (libssl), which is not installed (tried \(names.joined(separator: ", ")))"))
        }
        var missing: [String] = []
        func sym<T>(_ name: String, _ type: T.Type) -> T? {
            guard let p = dlsym(handle, name) else { missing.append(name); return nil }
            return unsafeBitCast(p, to: type)
        }
        let lib = OpenSSL(
            TLS_client_method: sym("TLS_client_method", (@convention(c) () -> Ptr?).self) ?? { nil },
            SSL_CTX_new: sym("SSL_CTX_new", (@convention(c) (Ptr?) -> Ptr?).self) ?? { _ in nil },
            SSL_CTX_free: sym("SSL_CTX_free", (@convention(c) (Ptr?) -> Void).self) ?? { _ in },
            SSL_CTX_ctrl: sym("SSL_CTX_ctrl", (@convention(c) (Ptr?, Int32, Int, UnsafeMutableRawPointer?) -> Int).self) ?? { _, _, _, _ in 0 },
            SSL_CTX_set_default_verify_paths: sym("SSL_CTX_set_default_verify_paths", (@convention(c) (Ptr?) -> Int32).self) ?? { _ in 0 },
            SSL_CTX_load_verify_locations: sym("SSL_CTX_load_verify_locations", (@convention(c) (Ptr?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32).self) ?? { _, _, _ in 0 },
            SSL_CTX_use_certificate_chain_file: sym("SSL_CTX_use_certificate_chain_file", (@convention(c) (Ptr?, UnsafePointer<CChar>?) -> Int32).self) ?? { _, _ in 0 },
            SSL_CTX_use_PrivateKey_file: sym("SSL_CTX_use_PrivateKey_file", (@convention(c) (Ptr?, UnsafePointer<CChar>?, Int32) -> Int32).self) ?? { _, _, _ in 0 },
            SSL_CTX_check_private_key: sym("SSL_CTX_check_private_key", (@convention(c) (Ptr?) -> Int32).self) ?? { _ in 0 },
            SSL_CTX_set_default_passwd_cb: sym("SSL_CTX_set_default_passwd_cb", (@convention(c) (Ptr?, (@convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32)?) -> Void).self) ?? { _, _ in },
            SSL_CTX_set_default_passwd_cb_userdata: sym("SSL_CTX_set_default_passwd_cb_userdata", (@convention(c) (Ptr?, UnsafeMutableRawPointer?) -> Void).self) ?? { _, _ in },
            SSL_CTX_set_verify: sym("SSL_CTX_set_verify", (@convention(c) (Ptr?, Int32, UnsafeRawPointer?) -> Void).self) ?? { _, _, _ in },
            SSL_new: sym("SSL_new", (@convention(c) (Ptr?) -> Ptr?).self) ?? { _ in nil },
            SSL_free: sym("SSL_free", (@convention(c) (Ptr?) -> Void).self) ?? { _ in },
            SSL_set_fd: sym("SSL_set_fd", (@convention(c) (Ptr?, Int32) -> Int32).self) ?? { _, _ in 0 },
            SSL_ctrl: sym("SSL_ctrl", (@convention(c) (Ptr?, Int32, Int, UnsafeMutableRawPointer?) -> Int).self) ?? { _, _, _, _ in 0 },
            SSL_set1_host: sym("SSL_set1_host", (@convention(c) (Ptr?, UnsafePointer<CChar>?) -> Int32).self) ?? { _, _ in 0 },
            SSL_get0_param: sym("SSL_get0_param", (@convention(c) (Ptr?) -> Ptr?).self) ?? { _ in nil },
            X509_VERIFY_PARAM_set1_ip_asc: sym("X509_VERIFY_PARAM_set1_ip_asc", (@convention(c) (Ptr?, UnsafePointer<CChar>?) -> Int32).self) ?? { _, _ in 0 },
            SSL_connect: sym("SSL_connect", (@convention(c) (Ptr?) -> Int32).self) ?? { _ in -1 },
            SSL_get_error: sym("SSL_get_error", (@convention(c) (Ptr?, Int32) -> Int32).self) ?? { _, _ in 1 },
            SSL_read: sym("SSL_read", (@convention(c) (Ptr?, UnsafeMutableRawPointer?, Int32) -> Int32).self) ?? { _, _, _ in -1 },
            SSL_write: sym("SSL_write", (@convention(c) (Ptr?, UnsafeRawPointer?, Int32) -> Int32).self) ?? { _, _, _ in -1 },
            SSL_shutdown: sym("SSL_shutdown", (@convention(c) (Ptr?) -> Int32).self) ?? { _ in 0 },
            SSL_pending: sym("SSL_pending", (@convention(c) (Ptr?) -> Int32).self) ?? { _ in 0 },
            SSL_get_verify_result: sym("SSL_get_verify_result", (@convention(c) (Ptr?) -> Int).self) ?? { _ in 0 },
            X509_verify_cert_error_string: sym("X509_verify_cert_error_string", (@convention(c) (Int) -> UnsafePointer<CChar>?).self) ?? { _ in nil },
            ERR_get_error: sym("ERR_get_error", (@convention(c) () -> UInt).self) ?? { 0 },
            ERR_error_string_n: sym("ERR_error_string_n", (@convention(c) (UInt, UnsafeMutablePointer<CChar>?, Int) -> Void).self) ?? { _, _, _ in },
            ERR_clear_error: sym("ERR_clear_error", (@convention(c) () -> Void).self) ?? {}
        )
        guard missing.isEmpty else {
            return .failure(KafkaError(.configuration, "the system OpenSSL library lacks \(missing.joined(separator: ", ")) (OpenSSL 1.1.1 or later is needed for TLS)"))
        }
        return .success(lib)
    }

    /// The oldest queued OpenSSL error as text (and clears the queue), or nil.
    func errorQueueText() -> String? {
        var first: String?
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if first == nil {
                var buf = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &buf, buf.count)
                first = buf.withUnsafeBufferPointer { Posix.cString($0.baseAddress) }
            }
        }
        return first
    }
}
