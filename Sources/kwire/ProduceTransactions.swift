import Foundation
import KafkaClient

/// `kwire produce --transactional-id ID`: the lines in transactions of `--transaction-size` lines
/// (the last one ends at EOF), each committed — or with `--abort`, aborted.
extension ProduceCommand {
    static func runTransactional(topic: String, config: ProducerConfig, options: ProduceTransactionOptions,
                                 partition: Int32?, delimiter: [UInt8]?) async throws {
        let tally = ProduceTally()
        let producer = try KafkaProducer(config: config) { tally.count($0) }
        let start = ContinuousClock.now
        var count = 0, bytes = 0, transactions = 0, inTransaction = 0
        do {
            try await resuming { try await producer.initTransactions() }
            let input = BlockingLineReader.standardInput()
            while let line = await input.next() {
                let (key, value) = keyAndValue(line, delimiter: delimiter)
                if inTransaction == 0 { try producer.beginTransaction() }
                let record = ProducerRecord(topic: topic, partition: partition, key: key, value: value)
                do {
                    try producer.enqueue(record)
                } catch let e as KafkaError where e.kind == .queueFull {
                    do { tally.count(.success(try await producer.send(record))) } catch { tally.count(.failure(error)) }
                }
                count += 1
                bytes += line.utf8.count
                inTransaction += 1
                if let size = options.size, inTransaction >= size {
                    try await end(producer, abort: options.abort, number: transactions + 1)
                    transactions += 1
                    inTransaction = 0
                }
            }
            if inTransaction > 0 {
                try await end(producer, abort: options.abort, number: transactions + 1)
                transactions += 1
            }
        } catch {
            await producer.close()
            throw error
        }
        await producer.close()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        printError("produced \(count) messages in \(transactions) \(options.abort ? "aborted" : "committed") transaction\(transactions == 1 ? "" : "s"), \(bytes) bytes, \(String(format: "%.3f", seconds)) s")
    }

    /// Commits (or aborts) transaction `number`. A failed commit is aborted and reported.
    private static func end(_ producer: KafkaProducer, abort: Bool, number: Int) async throws {
        if abort {
            // Written first, then aborted: the log holds the records and the ABORT marker
            // (an abort alone would drop what was not sent yet).
            try await producer.flush()
            return try await resuming { try await producer.abortTransaction() }
        }
        do {
            try await resuming { try await producer.commitTransaction() }
        } catch {
            try? await producer.abortTransaction()
            throw CLIError.failure("transaction \(number) failed and was aborted: \(error)")
        }
    }

    /// Calls a resumable transaction operation again while it times out (at most 5 times).
    private static func resuming(_ call: () async throws -> Void) async throws {
        var attempt = 0
        while true {
            do { return try await call() } catch let e as KafkaError where e.kind == .timeout && attempt < 5 { attempt += 1 }
        }
    }
}
