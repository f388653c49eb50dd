import Foundation
import KafkaClient

/// `kwire copy SRC DST`: an exactly-once copy through `TransactionalPipeline`.
enum CopyCommand {
    static let help = """
    usage: kwire copy SRC DST --group G --transactional-id T [--transform upper|none]
                      [--exit-at-end] [--transaction-size N] [--transaction-ms MS] [options]

    Copies every record of topic SRC to topic DST exactly once: SRC is read read_committed as a
    member of consumer group G, and each transaction writes a batch of records to DST together
    with G's offsets for them (transactional.id T). Killed at any moment (even SIGKILL) and
    started again with the same G and T, it goes on where the last commit left off: a
    read_committed reader of DST sees every SRC record once. Keys, headers and timestamps are
    kept; so is each record's partition when DST has at least as many partitions as SRC
    (else DST's partitioner places it by key). --transform upper upper-cases ASCII letters of
    values. A transaction commits after --transaction-size records (default 10000) or
    --transaction-ms (default 100) after it began. --exit-at-end stops once every partition
    this member owns is copied to its end; SIGINT/SIGTERM stop after the open transaction.
    \(Common.help)
    """

    static func run(_ argv: [String]) async throws {
        let args = try Arguments(argv, valued: Common.valued.union(CopyOptions.valued), flags: Common.flags.union(CopyOptions.flags))
        if args.flag("-h", "--help") { print(help); return }
        let o = try CopyOptions.parse(args)
        let client = try Common.config(args, applyX: false)
        var input = ConsumerConfig()
        input.client = client
        input.groupId = o.group
        input.autoOffsetReset = .earliest
        input.fetchMaxWait = .milliseconds(100)
        var output = ProducerConfig()
        output.client = client
        // -X applies to both sides where the property exists (bootstrap, security, timeouts).
        for x in args.values("-X") {
            let (key, value) = try Common.property(x)
            var applied = false
            var failure: (any Error)?
            do { try input.set(key, value); applied = true } catch { failure = error }
            do { try output.set(key, value); applied = true } catch { failure = failure ?? error }
            if !applied, let failure { throw failure }
        }
        output.transactionalId = o.transactionalId
        var settings = TransactionalPipeline.Settings()
        settings.maxRecords = o.transactionSize
        settings.maxDuration = o.transactionTime

        let admin = try KafkaAdminClient(config: client)
        let topics = try await admin.describeTopics([o.source, o.destination])
        await admin.close()
        let keepPartition = topics[1].partitions.count >= topics[0].partitions.count

        let stop = StopSignal()
        let pipeline = try TransactionalPipeline(consumer: input, producer: output, settings: settings) { event in
            switch event {
            case let .assigned(p): printError("kwire: assigned \(p.map(\.description).joined(separator: " "))")
            case let .revoked(p): printError("kwire: revoked \(p.map(\.description).joined(separator: " "))")
            case let .lost(p): printError("kwire: lost \(p.map(\.description).joined(separator: " "))")
            }
        }
        let start = ContinuousClock.now
        let exitAtEnd = o.exitAtEnd
        let progress: TransactionalPipeline.Progress
        do {
            progress = try await pipeline.run(topics: [o.source], until: { p in
                if stop.requested { return true }
                guard exitAtEnd else { return false }
                let owned = p.consumer.assignment
                return !owned.isEmpty && owned.allSatisfy { ConsumeCommand.atEnd(p.consumer, $0, .readCommitted) }
            }) { r in
                [ProducerRecord(topic: o.destination, partition: keepPartition ? r.partition : nil, key: r.key.map(Array.init),
                                value: o.transform.apply(r.value), headers: r.headers, timestamp: r.timestamp)]
            }
        } catch {
            await pipeline.close()
            throw error
        }
        await pipeline.close()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        printError("copied \(progress.consumedRecords) records in \(progress.committedTransactions) transactions (\(progress.abortedTransactions) aborted), \(String(format: "%.3f", seconds)) s")
    }
}
