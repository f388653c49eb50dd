import Synchronization
import Testing
@testable import KafkaClient
import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// Idempotence edge cases the real broker will not produce on demand, scripted on the fake broker.
@Suite struct ProducerIdempotenceTests {
    /// A fake broker that hands out producer ids (epoch = number of earlier InitProducerId calls)
    /// and answers Produce through `produce`, which sees the decoded request and a call counter.
    static func broker(
        produce: @escaping @Sendable (ProduceRequest, Int) -> [Int32: (KafkaErrorCode, Int64)]
    ) throws -> (FakeBroker, Recorded<InitProducerIdRequest>, Recorded<ProduceRequest>) {
        let inits = Recorded<InitProducerIdRequest>()
        let produced = Recorded<ProduceRequest>()
        let b = try FakeBroker { req, b in
            switch req.header.apiKey {
            case .initProducerId:
                guard let r = try? req.decode(InitProducerIdRequest.self) else { return .disconnect }
                let n = inits.append(r)
                var resp = InitProducerIdResponse()
                resp.producerId = 1000
                resp.producerEpoch = Int16(n - 1)
                return .respond(b.body(resp, for: req))
            case .produce:
                guard let r = try? req.decode(ProduceRequest.self) else { return .disconnect }
                let n = produced.append(r)
                let answers = produce(r, n)
                var resp = ProduceResponse()
                resp.responses = r.topicData.map { t in
                    var out = ProduceResponse.Topic()
                    out.name = t.name
                    out.partitionResponses = t.partitionData.map { p in
                        var pr = ProduceResponse.Partition()
                        pr.index = p.index
                        let (code, offset) = answers[p.index] ?? (.noError, 0)
                        pr.errorCode = code.rawValue
                        pr.baseOffset = offset
                        return pr
                    }
                    return out
                }
                return .respond(b.body(resp, for: req))
            default:
                return b.defaultAction(req)
            }
        }
        b.addTopic("t", partitions: 1)
        return (b, inits, produced)
    }

    static func batches(_ r: ProduceRequest) throws -> [RecordBatch] {
        try r.topicData.flatMap { t in try t.partitionData.map { p in try RecordBatch(p.records ?? []) } }
    }

    @Test func unknownProducerIdBumpsTheEpochAndResendsFromSequenceZero() async throws {
        let (broker, inits, produced) = try Self.broker { _, call in
            call == 1 ? [0: (.unknownProducerId, -1)] : [0: (.noError, 41)]
        }
        defer { broker.stop() }
        var config = ProducerConfig(bootstrapServers: [broker.address])
        config.client.retryBackoff = .milliseconds(5)
        let producer = try KafkaProducer(config: config)
        let meta = try await producer.send(ProducerRecord(topic: "t", key: "k", value: "v"))
        #expect(meta.offset == 41)
        await producer.close()
        let i = inits.all
        #expect(i.count == 2)
        // KIP-360: the second InitProducerId names the current id and epoch to bump.
        #expect(i[1].producerId == 1000 && i[1].producerEpoch == 0)
        let p = produced.all
        #expect(p.count == 2)
        let first = try Self.batches(p[0])[0], second = try Self.batches(p[1])[0]
        #expect(first.producerEpoch == 0 && first.baseSequence == 0)
        #expect(second.producerEpoch == 1 && second.baseSequence == 0)
        #expect(second.producerId == 1000)
    }

    @Test func duplicateSequenceIsSuccessWithUnknownOffset() async throws {
        let (broker, _, produced) = try Self.broker { _, _ in [0: (.duplicateSequenceNumber, -1)] }
        defer { broker.stop() }
        let producer = try KafkaProducer(config: ProducerConfig(bootstrapServers: [broker.address]))
        let meta = try await producer.send(ProducerRecord(topic: "t", key: nil, value: "again"))
        #expect(meta.offset == nil)
        #expect(produced.all.count == 1, "not resent")
        await producer.close()
    }

    @Test func sequencesAdvanceByRecordCountAcrossBatches() async throws {
        let next = Mutex<Int64>(0)
        let (broker, _, produced) = try Self.broker { r, _ in
            let n = Int64((try? Self.batches(r).first?.recordCount) ?? 0)
            let base = next.withLock { v -> Int64 in defer { v += n }; return v }
            return [0: (.noError, base)]
        }
        defer { broker.stop() }
        var config = ProducerConfig(bootstrapServers: [broker.address])
        config.linger = .milliseconds(1)
        let producer = try KafkaProducer(config: config)
        for round in 0 ..< 3 {
            for i in 0 ..< 10 { try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "r\(round)-\(i)")) }
            try await producer.flush()
        }
        await producer.close()
        let batches = try produced.all.flatMap(Self.batches)
        var expected: Int32 = 0
        for b in batches {
            #expect(b.baseSequence == expected)
            expected += Int32(b.recordCount)
        }
        #expect(expected == 30)
    }

    @Test func nonRetriableErrorFailsOnlyThatBatch() async throws {
        let (broker, _, _) = try Self.broker { _, _ in [0: (.recordListTooLarge, -1)] }
        defer { broker.stop() }
        let producer = try KafkaProducer(config: ProducerConfig(bootstrapServers: [broker.address]))
        do {
            _ = try await producer.send(ProducerRecord(topic: "t", key: nil, value: "x"))
            Issue.record("expected a broker error")
        } catch let e as KafkaError {
            #expect(e.code == .recordListTooLarge)
            #expect(e.context.topic == "t" && e.context.partition == 0)
        }
        await producer.close()
    }
}

/// A thread-safe list of what a fake broker received.
final class Recorded<T: Sendable>: Sendable {
    private let items = Mutex<[T]>([])
    /// Appends and returns the new count.
    func append(_ x: T) -> Int { items.withLock { $0.append(x); return $0.count } }
    var all: [T] { items.withLock { $0 } }
}
