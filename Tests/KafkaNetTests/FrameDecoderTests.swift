import Testing
@testable import KafkaNet
import KafkaProtocol

@Suite struct FrameDecoderTests {
    func frame(_ payload: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.writeInt32(Int32(payload.count))
        w.writeBytes(payload)
        return w.take()
    }

    @Test func dripFedOneByteAtATime() throws {
        let payloads: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 7, count: 300), [9]]
        let stream = payloads.flatMap(frame)
        var d = FrameDecoder()
        var got: [[UInt8]] = []
        for b in stream { try d.feed([b]) { got.append($0) } }
        #expect(got == payloads)
        #expect(d.isIdle)
    }

    @Test func allAtOnce() throws {
        let payloads: [[UInt8]] = (0 ..< 50).map { i in Array(repeating: UInt8(i), count: i * 3) }
        var d = FrameDecoder()
        var got: [[UInt8]] = []
        try d.feed(payloads.flatMap(frame)) { got.append($0) }
        #expect(got == payloads)
    }

    @Test func splitsAtEveryPosition() throws {
        let payloads: [[UInt8]] = [[1, 2, 3, 4, 5], [6, 7]]
        let stream = payloads.flatMap(frame)
        for cut in 0 ... stream.count {
            var d = FrameDecoder()
            var got: [[UInt8]] = []
            try d.feed(Array(stream[..<cut])) { got.append($0) }
            try d.feed(Array(stream[cut...])) { got.append($0) }
            #expect(got == payloads, "cut at \(cut)")
        }
    }

    @Test func partialFrameIsNotDelivered() throws {
        var d = FrameDecoder()
        var got = 0
        try d.feed(Array(frame([1, 2, 3, 4]).dropLast())) { _ in got += 1 }
        #expect(got == 0)
        #expect(!d.isIdle)
    }

    @Test func oversizedFrameIsRejectedBeforeAllocating() {
        var d = FrameDecoder(maxFrameSize: 1024)
        #expect(throws: KafkaError.self) { try d.feed([0x7F, 0xFF, 0xFF, 0xFF]) { _ in } }
    }

    @Test func negativeSizeIsRejected() {
        var d = FrameDecoder()
        do {
            try d.feed([0xFF, 0xFF, 0xFF, 0xFE]) { _ in }
            Issue.record("expected an error")
        } catch let e as KafkaError {
            #expect(e.kind == .decoding)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func anAnnouncedSizeDoesNotReserveMemoryBeforeTheBytesArrive() throws {
        // 100 MB announced, 10 bytes sent: a peer's claim must not cost 100 MB.
        var d = FrameDecoder()
        try d.feed([0x05, 0xF5, 0xE1, 0x00] + [UInt8](repeating: 1, count: 10)) { _ in Issue.record("no frame yet") }
        #expect(d.reservedBytes <= FrameDecoder.initialReservation + 8192) // + allocator rounding
        // As bytes arrive the buffer grows, never past the announced size, and the frame is exact.
        var d2 = FrameDecoder()
        let size = 3 * 1024 * 1024 + 17
        let payload = (0 ..< size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let framed = [UInt8(size >> 24), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)] + payload
        var got: [[UInt8]] = []
        var i = 0
        var maxReserved = 0
        while i < framed.count {
            let n = min(64 * 1024 + 3, framed.count - i)
            try d2.feed(Array(framed[i ..< i + n])) { got.append($0) }
            maxReserved = max(maxReserved, d2.reservedBytes)
            #expect(d2.reservedBytes <= max(FrameDecoder.initialReservation, 4 * (i + n)) + 8192)
            i += n
        }
        #expect(got == [payload])
        #expect(maxReserved <= size + 8192)
    }
}
