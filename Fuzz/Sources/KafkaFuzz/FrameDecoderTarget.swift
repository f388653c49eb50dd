import KafkaNet

/// `FrameDecoder` fed a byte stream in fuzzer-chosen pieces, through its public `feed` only.
///
/// Input: byte 0 picks `maxFrameSize` (b < 128: b bytes; else (b - 128) × 64, up to 8128); then
/// pieces, each a length byte and that many bytes. Property: the frames delivered (and the
/// error, if any) are exactly those of a reference reading of the concatenated stream —
/// however it is cut — and `isIdle` at the end says whether a partial frame is left.
enum FrameDecoderTarget {
    @Sendable static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let sel = input.byte()
        let maxFrameSize = sel < 128 ? Int(sel) : Int(sel - 128) * 64
        var pieces: [[UInt8]] = []
        while !input.isAtEnd {
            pieces.append(input.take(Int(input.byte())))
        }
        let stream = pieces.flatMap { $0 }
        let (expected, expectError, expectIdle) = reference(stream, maxFrameSize: maxFrameSize)

        var decoder = FrameDecoder(maxFrameSize: maxFrameSize)
        var got: [[UInt8]] = []
        var threw = false
        for piece in pieces {
            do {
                try decoder.feed(piece) { got.append($0) }
            } catch {
                threw = true
                break
            }
        }
        if threw != expectError { finding("FrameDecoder threw: \(threw), reference: \(expectError) (max \(maxFrameSize))") }
        if got != expected { finding("FrameDecoder delivered \(got.map(\.count)) but the stream holds frames \(expected.map(\.count)) (max \(maxFrameSize))") }
        if !threw, decoder.isIdle != expectIdle { finding("FrameDecoder isIdle \(decoder.isIdle), reference \(expectIdle)") }
    }

    /// Frames of `stream` read in one go; whether a size prefix is out of range; whether the
    /// stream ends between frames.
    static func reference(_ stream: [UInt8], maxFrameSize: Int) -> ([[UInt8]], Bool, Bool) {
        var frames: [[UInt8]] = []
        var i = 0
        while true {
            if i == stream.count { return (frames, false, true) }
            guard stream.count - i >= 4 else { return (frames, false, false) }
            let size = Int(Int32(bitPattern: UInt32(stream[i]) << 24 | UInt32(stream[i + 1]) << 16 | UInt32(stream[i + 2]) << 8 | UInt32(stream[i + 3])))
            guard size >= 0, size <= maxFrameSize else { return (frames, true, false) }
            guard stream.count - i - 4 >= size else { return (frames, false, false) }
            frames.append(Array(stream[i + 4 ..< i + 4 + size]))
            i += 4 + size
        }
    }
}
