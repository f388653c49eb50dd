import Testing
@testable import KafkaClient

/// `Duration.int32Milliseconds`, the one conversion of durations to Kafka `*_ms` fields.
@Suite struct DurationMillisecondsTests {
    @Test func wholeMilliseconds() {
        #expect(Duration.milliseconds(500).int32Milliseconds == 500)
        #expect(Duration.seconds(30).int32Milliseconds == 30_000)
        #expect(Duration.zero.int32Milliseconds == 0)
    }

    /// A positive partial millisecond rounds up: 0 would mean "do not wait" to the broker.
    @Test func subMillisecondRoundsUp() {
        #expect(Duration.microseconds(1).int32Milliseconds == 1)
        #expect(Duration.nanoseconds(1).int32Milliseconds == 1)
        #expect(Duration.microseconds(1500).int32Milliseconds == 2)
        #expect(Duration.microseconds(2000).int32Milliseconds == 2)
        #expect((Duration.seconds(1) + .nanoseconds(1)).int32Milliseconds == 1001)
    }

    @Test func hugeSaturates() {
        #expect(Duration.milliseconds(Int64(Int32.max)).int32Milliseconds == .max)
        #expect(Duration.milliseconds(Int64(Int32.max) + 1).int32Milliseconds == .max)
        #expect(Duration.seconds(Int64.max).int32Milliseconds == .max)
        #expect(Duration.seconds(Int64(Int32.max) / 1000 + 1).int32Milliseconds == .max)
    }

    @Test func negativeIsZero() {
        #expect(Duration.milliseconds(-5).int32Milliseconds == 0)
        #expect(Duration.nanoseconds(-1).int32Milliseconds == 0)
        #expect(Duration.seconds(Int64.min).int32Milliseconds == 0)
    }
}
