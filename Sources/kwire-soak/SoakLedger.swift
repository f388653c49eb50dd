import Synchronization
import KafkaClient
import KafkaTestSupport

/// What happened to each soak message, by its number `i` (the `SequencedWorkload` numbering):
/// how many delivery reports it got and with what outcome, and how many times the group
/// consumer processed it. Message ids are the producer's, which count up from the first one by
/// one (checked as messages are enqueued), so `i = id - firstId` and no per-message dictionary
/// distorts the RSS figures.
final class SoakLedger: Sendable {
    struct State {
        var firstId: UInt64?
        var enqueued = 0
        var reports: [UInt8] = []
        var failed: [UInt8] = []            // 0 none, 1 failed for sure, 2 outcome unknown
        var processed: [UInt8] = []
        var reportCount = 0
        var idsOutOfStep = 0
        var unknownIds = 0
        var firstFailure: String?
        /// Consumed records not of this workload, or beyond what was enqueued.
        var strangers = 0
        /// Per partition, the last offset the consumer processed (to count re-reads).
        var lastOffset: [Int32: Int64] = [:]
        var rereads = 0
        /// The log as the group consumer saw it, each offset counted once (a re-read after a
        /// rebalance is not a second copy): how many offsets held message i, offsets skipped,
        /// keys out of order. The soak's second view of the log, beside confluent-kafka's read-back.
        var logCopies: [UInt8] = []
        var logRecords = 0
        var logGaps = 0
        var logOrderProblems = 0
        var lastOfKey: [Int: (partition: Int32, index: Int)] = [:]
    }
    let state = Mutex(State())

    /// Notes message `i`'s id (must be the first id + i).
    func enqueued(_ id: MessageID) {
        state.withLock { s in
            let first = s.firstId ?? id.rawValue
            s.firstId = first
            if id.rawValue != first + UInt64(s.enqueued) { s.idsOutOfStep += 1 }
            s.enqueued += 1
            if s.reports.count < s.enqueued {
                let grow = max(1 << 16, s.reports.count)
                s.reports += [UInt8](repeating: 0, count: grow)
                s.failed += [UInt8](repeating: 0, count: grow)
                s.processed += [UInt8](repeating: 0, count: grow)
                s.logCopies += [UInt8](repeating: 0, count: grow)
            }
        }
    }

    func record(_ r: DeliveryReport) {
        state.withLock { s in
            guard let first = s.firstId else { s.unknownIds += r.messageIds.count; return }
            s.reportCount += r.messageIds.count
            for id in r.messageIds {
                let i = Int(id.rawValue &- first)
                guard id.rawValue >= first, i < s.enqueued else { s.unknownIds += 1; continue }
                if s.reports[i] < UInt8.max { s.reports[i] += 1 }
                if let e = r.error {
                    s.failed[i] = e.kind == .outcomeUnknown ? 2 : 1
                    if s.firstFailure == nil { s.firstFailure = "\(e)" }
                }
            }
        }
    }

    func processed(_ records: [ConsumerRecord]) {
        state.withLock { s in
            for r in records {
                let last = s.lastOffset[r.partition] ?? -1
                let firstSight = r.offset > last
                if !firstSight { s.rereads += 1 }
                if firstSight && r.offset != last + 1 { s.logGaps += 1 }
                s.lastOffset[r.partition] = max(last, r.offset)
                guard let i = r.value.flatMap({ SequencedWorkload.index(ofValue: $0) }), i < s.enqueued else { s.strangers += 1; continue }
                if s.processed[i] < UInt8.max { s.processed[i] += 1 }
                guard firstSight else { continue }
                s.logRecords += 1
                if s.logCopies[i] < UInt8.max { s.logCopies[i] += 1 }
                let k = i % SequencedWorkload.keys
                if let prev = s.lastOfKey[k], prev.partition != r.partition || prev.index >= i { s.logOrderProblems += 1 }
                s.lastOfKey[k] = (r.partition, i)
            }
        }
    }

    var enqueuedCount: Int { state.withLock { $0.enqueued } }
    var reportCount: Int { state.withLock { $0.reportCount } }
}
