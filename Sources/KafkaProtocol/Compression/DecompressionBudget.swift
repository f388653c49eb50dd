import Synchronization

/// A total of decompressed bytes that several batches share — e.g. every batch of one Fetch
/// response.
///
/// A fetch is bounded in wire bytes (`fetch.max.bytes`), but a 1000:1 batch turns 50 MB on the
/// wire into 50 GB in memory. Each batch is bounded on its own (`maxPerBatch`), and the budget
/// bounds them together: a decompressor made by `decompressor(maxPerBatch:)` lets a batch inflate
/// to at most what is left, charges what it produced, and once the budget is spent throws
/// `DecompressionBudgetExhausted` — which the record layer reports as
/// `RecordDecodingError.Reason.decompressionBudgetExhausted`, so a caller can keep the batches
/// decoded so far and fetch the rest later.
///
/// Pure bookkeeping (no I/O); thread-safe so the decompressor closure may be called from any task.
public final class DecompressionBudget: Sendable {
    private let left: Atomic<Int>
    /// The budget it started with.
    public let total: Int

    /// A budget of `bytes` decompressed bytes (negative counts as zero).
    /// - Parameter bytes: The total, shared by every batch decompressed through it.
    public init(bytes: Int) {
        total = max(0, bytes)
        left = Atomic(total)
    }

    /// Bytes still available.
    public var remaining: Int { left.load(ordering: .relaxed) }

    /// Bytes charged so far.
    public var used: Int { total - remaining }

    /// Charges `bytes` (what a batch produced). Saturates at zero.
    /// - Parameter bytes: Decompressed bytes to subtract.
    public func charge(_ bytes: Int) {
        var current = left.load(ordering: .relaxed)
        while true {
            let next = current - min(current, max(0, bytes))
            let (exchanged, original) = left.compareExchange(expected: current, desired: next, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    /// A decompressor for `RecordBatch.records(decompress:)` that gives each batch at most
    /// `min(maxPerBatch, remaining)` bytes and charges its output to this budget.
    /// - Parameter maxPerBatch: The most bytes one batch may inflate to.
    /// - Returns: The decompressor; it throws `DecompressionBudgetExhausted` past the budget.
    public func decompressor(maxPerBatch: Int) -> RecordCodecFunction {
        { [self] codec, input in
            let room = min(max(0, maxPerBatch), remaining)
            let out: [UInt8]
            do {
                out = try Compression.decompress(codec, input, maxOutput: room)
            } catch let error {
                // Too large for what is left of the shared budget (not for a batch on its own).
                if case let CompressionError.outputTooLarge(_, limit)? = error as? CompressionError, room < maxPerBatch {
                    throw DecompressionBudgetExhausted(remaining: limit, total: total)
                }
                throw error
            }
            charge(out.count)
            return out
        }
    }
}

/// Thrown by a `DecompressionBudget` decompressor when a batch would inflate past what is left.
public struct DecompressionBudgetExhausted: Error, Sendable, Equatable, CustomStringConvertible {
    /// Bytes that were left when the batch was tried.
    public let remaining: Int
    /// The budget's total.
    public let total: Int

    public var description: String {
        "the decompression budget of \(total) bytes for this fetch is spent (\(remaining) left)"
    }
}
