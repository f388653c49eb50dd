#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
internal import CKafkaCompressionShims

/// The system libzstd, loaded at run time with dlopen.
///
/// Not linked, and no zstd header is needed: the package builds where only the runtime library
/// (`libzstd1`) is installed, or none. Without it, zstd fails with `.unavailable(.zstd, …)` and
/// every other codec works. The library is loaded once per process (`system`) and never
/// unloaded. Only stable (non-experimental) functions of zstd ≥ 1.4 are bound.
///
/// Decompression is streaming (`ZSTD_decompressStream`), so frames without a content size
/// (librdkafka writes those) work and the output grows only as far as `maxOutput`; the window
/// buffer a frame may ask for is capped at 2^27 bytes (`ZSTD_d_windowLogMax`, libzstd's
/// default, set explicitly so a build with another default changes nothing).
struct ZstdLibrary: Sendable {
    let ZSTD_versionNumber: @convention(c) () -> UInt32
    let ZSTD_compressBound: @convention(c) (Int) -> Int
    let ZSTD_compress: @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeRawPointer?, Int, Int32) -> Int
    let ZSTD_isError: @convention(c) (Int) -> UInt32
    let ZSTD_getErrorName: @convention(c) (Int) -> UnsafePointer<CChar>?
    let ZSTD_minCLevel: @convention(c) () -> Int32
    let ZSTD_maxCLevel: @convention(c) () -> Int32
    let ZSTD_getFrameContentSize: @convention(c) (UnsafeRawPointer?, Int) -> UInt64
    let ZSTD_createDStream: @convention(c) () -> OpaquePointer?
    let ZSTD_freeDStream: @convention(c) (OpaquePointer?) -> Int
    let ZSTD_initDStream: @convention(c) (OpaquePointer?) -> Int
    let ZSTD_DCtx_setParameter: @convention(c) (OpaquePointer?, Int32, Int32) -> Int
    let ZSTD_decompressStream: @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<kwire_zstd_out_buffer>?, UnsafeMutablePointer<kwire_zstd_in_buffer>?
    ) -> Int

    /// zstd.h: ZSTD_d_windowLogMax, and the largest window a frame may need without asking.
    static let windowLogMaxParameter: Int32 = 100
    static let windowLogMax: Int32 = 27
    static let contentSizeUnknown = UInt64.max
    static let contentSizeError = UInt64.max - 1
    static let defaultLevel = 3

    /// Names tried, in order, by `system`.
    static let defaultNames = ["libzstd.so.1", "libzstd.so", "libzstd.1.dylib", "libzstd.dylib"]

    /// The process's libzstd, loaded on first use.
    static let system: Result<ZstdLibrary, CompressionError> = load(names: defaultNames)

    /// Loads the first of `names` that dlopen finds and binds its functions. Tests pass names
    /// that do not exist, or a library that is not libzstd, to reach the unavailable path.
    static func load(names: [String]) -> Result<ZstdLibrary, CompressionError> {
        var tried: [String] = []
        for name in names {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
                tried.append(dlerror().map { String(cString: $0) } ?? "\(name): not found")
                continue
            }
            do {
                return .success(try bind(handle, name: name))
            } catch {
                dlclose(handle)
                return .failure(error)
            }
        }
        return .failure(.unavailable(.zstd, reason: "cannot load libzstd (\(tried.joined(separator: "; ")))"))
    }

    private static func bind(_ handle: UnsafeMutableRawPointer, name: String) throws(CompressionError) -> ZstdLibrary {
        func symbol<T>(_ symbol: String, as: T.Type) throws(CompressionError) -> T {
            guard let p = dlsym(handle, symbol) else {
                throw .unavailable(.zstd, reason: "\(name) has no \(symbol) (not libzstd, or older than 1.4)")
            }
            return unsafeBitCast(p, to: T.self)
        }
        let library = ZstdLibrary(
            ZSTD_versionNumber: try symbol("ZSTD_versionNumber", as: (@convention(c) () -> UInt32).self),
            ZSTD_compressBound: try symbol("ZSTD_compressBound", as: (@convention(c) (Int) -> Int).self),
            ZSTD_compress: try symbol(
                "ZSTD_compress", as: (@convention(c) (UnsafeMutableRawPointer?, Int, UnsafeRawPointer?, Int, Int32) -> Int).self),
            ZSTD_isError: try symbol("ZSTD_isError", as: (@convention(c) (Int) -> UInt32).self),
            ZSTD_getErrorName: try symbol("ZSTD_getErrorName", as: (@convention(c) (Int) -> UnsafePointer<CChar>?).self),
            ZSTD_minCLevel: try symbol("ZSTD_minCLevel", as: (@convention(c) () -> Int32).self),
            ZSTD_maxCLevel: try symbol("ZSTD_maxCLevel", as: (@convention(c) () -> Int32).self),
            ZSTD_getFrameContentSize: try symbol(
                "ZSTD_getFrameContentSize", as: (@convention(c) (UnsafeRawPointer?, Int) -> UInt64).self),
            ZSTD_createDStream: try symbol("ZSTD_createDStream", as: (@convention(c) () -> OpaquePointer?).self),
            ZSTD_freeDStream: try symbol("ZSTD_freeDStream", as: (@convention(c) (OpaquePointer?) -> Int).self),
            ZSTD_initDStream: try symbol("ZSTD_initDStream", as: (@convention(c) (OpaquePointer?) -> Int).self),
            ZSTD_DCtx_setParameter: try symbol(
                "ZSTD_DCtx_setParameter", as: (@convention(c) (OpaquePointer?, Int32, Int32) -> Int).self),
            ZSTD_decompressStream: try symbol(
                "ZSTD_decompressStream",
                as: (@convention(c) (
                    OpaquePointer?, UnsafeMutablePointer<kwire_zstd_out_buffer>?, UnsafeMutablePointer<kwire_zstd_in_buffer>?
                ) -> Int).self)
        )
        // ZSTD_DCtx_setParameter and ZSTD_d_windowLogMax became stable in 1.4.0.
        guard library.ZSTD_versionNumber() >= 10400 else {
            throw .unavailable(.zstd, reason: "\(name) is zstd \(library.version), 1.4.0 or newer is needed")
        }
        return library
    }

    /// "1.5.4"
    var version: String {
        let v = ZSTD_versionNumber()
        return "\(v / 10000).\(v / 100 % 100).\(v % 100)"
    }

    private func errorName(_ code: Int) -> String {
        ZSTD_getErrorName(code).map { String(cString: $0) } ?? "error \(code)"
    }

    // MARK: - Compression

    var levels: ClosedRange<Int> { Int(ZSTD_minCLevel()) ... Int(ZSTD_maxCLevel()) }

    func compress(_ input: [UInt8], level: Int?) throws(CompressionError) -> [UInt8] {
        let level = level ?? Self.defaultLevel
        guard levels.contains(level) else { throw .invalidLevel(.zstd, level: level, valid: levels) }
        let bound = ZSTD_compressBound(input.count)
        guard ZSTD_isError(bound) == 0 else { throw .failed(.zstd, detail: "input of \(input.count) bytes is too large") }
        var result = 0
        let out = input.withUnsafeBytes { src in
            [UInt8](unsafeUninitializedCapacity: bound) { dst, written in
                result = ZSTD_compress(dst.baseAddress, dst.count, src.baseAddress, src.count, Int32(level))
                written = ZSTD_isError(result) == 0 ? result : 0
            }
        }
        guard ZSTD_isError(result) == 0 else { throw .failed(.zstd, detail: errorName(result)) }
        return out
    }

    // MARK: - Decompression

    func decompress(_ input: UnsafeRawBufferPointer, maxOutput: Int) throws(CompressionError) -> [UInt8] {
        guard let base = input.baseAddress, input.count > 0 else { throw .corrupt(.zstd, detail: "empty input") }
        // The first frame's declared size, when there is one, sizes the first allocation and
        // rejects an oversized frame before any work.
        var expected = input.count * 4
        let declared = ZSTD_getFrameContentSize(base, input.count)
        if declared != Self.contentSizeUnknown && declared != Self.contentSizeError {
            guard declared <= UInt64(maxOutput) else { throw .outputTooLarge(.zstd, limit: maxOutput) }
            // Trusted for the first allocation only up to a plausible ratio; beyond that the
            // buffer grows as output actually appears.
            expected = min(Int(declared), input.count * 1024 + (1 << 20))
        }

        guard let stream = ZSTD_createDStream() else { throw .failed(.zstd, detail: "ZSTD_createDStream failed (out of memory?)") }
        defer { _ = ZSTD_freeDStream(stream) }
        let initialized = ZSTD_initDStream(stream)
        guard ZSTD_isError(initialized) == 0 else { throw .failed(.zstd, detail: errorName(initialized)) }
        let limited = ZSTD_DCtx_setParameter(stream, Self.windowLogMaxParameter, Self.windowLogMax)
        guard ZSTD_isError(limited) == 0 else { throw .failed(.zstd, detail: errorName(limited)) }

        var out = OutputBuffer(limit: maxOutput, expected: expected)
        var inBuffer = kwire_zstd_in_buffer(src: base, size: input.count, pos: 0)
        var stalled = 0
        while true {
            out.reserve(max(expected - out.count, 32 * 1024))
            if out.free == 0 { throw .outputTooLarge(.zstd, limit: maxOutput) }
            let inBefore = inBuffer.pos
            let (status, produced, full): (Int, Int, Bool) = out.withFreeSpace { p, free in
                var outBuffer = kwire_zstd_out_buffer(dst: p, size: free, pos: 0)
                let status = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
                return (status, outBuffer.pos, outBuffer.pos == outBuffer.size)
            }
            if ZSTD_isError(status) != 0 {
                throw .corrupt(.zstd, detail: "\(errorName(status)) (near input byte \(inBuffer.pos))")
            }
            out.count += produced
            if out.overLimit { throw .outputTooLarge(.zstd, limit: maxOutput) }
            let inputDone = inBuffer.pos == inBuffer.size
            // 0: a frame ended and everything is flushed. With input left, another frame follows.
            if status == 0 && inputDone { return out.take() }
            if inputDone && !full {
                throw .corrupt(.zstd, detail: "truncated: input ended inside a frame after \(input.count) bytes")
            }
            // zstd always makes progress when it has room and input; guard against a loop anyway.
            stalled = (produced == 0 && inBuffer.pos == inBefore) ? stalled + 1 : 0
            if stalled > 2 { throw .corrupt(.zstd, detail: "decoder made no progress at input byte \(inBuffer.pos)") }
        }
    }
}
