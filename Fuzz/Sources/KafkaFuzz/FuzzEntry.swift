import Foundation

/// libFuzzer's per-input callback (main.swift hands it to `LLVMFuzzerRunDriver`). One
/// executable holds every target; `KWIRE_FUZZ_TARGET` names the one this process runs
/// (scripts/fuzz.sh sets it). A finding is a trap (`finding(_:)`), which libFuzzer reports as a
/// crash and saves as `crash-<sha1>`.
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selectedTarget.run(bytes)
    return 0
}

/// Every target, by the name `KWIRE_FUZZ_TARGET` uses.
let fuzzTargets: [String: @Sendable ([UInt8]) -> Void] = [
    "frames": FrameTarget.run,
    "records": RecordTarget.run,
    "compression": CompressionTarget.run,
    "framedecoder": FrameDecoderTarget.run,
    "assignors": AssignorTarget.run,
    "scram": ScramTarget.run,
]

struct SelectedTarget: Sendable {
    let run: @Sendable ([UInt8]) -> Void
}

let selectedTarget: SelectedTarget = {
    let name = ProcessInfo.processInfo.environment["KWIRE_FUZZ_TARGET"] ?? ""
    guard let run = fuzzTargets[name] else {
        FileHandle.standardError.write(Data("KWIRE_FUZZ_TARGET must be one of \(fuzzTargets.keys.sorted().joined(separator: ", ")); got '\(name)'\n".utf8))
        exit(2)
    }
    return SelectedTarget(run: run)
}()

/// A harness-detected bug: print why and trap, so libFuzzer keeps the input.
func finding(_ why: @autoclosure () -> String) -> Never {
    FileHandle.standardError.write(Data("FINDING: \(why())\n".utf8))
    abort()
}

/// Reads fuzzer bytes as structured choices; past the end every read yields zeros.
struct FuzzInput {
    let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { position >= bytes.count }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func uint16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    mutating func take(_ n: Int) -> [UInt8] {
        let end = min(bytes.count, position + max(0, n))
        defer { position = end }
        return Array(bytes[min(position, end) ..< end])
    }

    mutating func rest() -> [UInt8] { take(bytes.count - position) }
}

func hexPrefix(_ b: [UInt8], _ n: Int = 64) -> String {
    b.prefix(n).map { String(format: "%02x", $0) }.joined()
}
