import KafkaProtocol

/// Handing records to the application: `poll`, the `records` iterator and the wait for data.
/// The fetcher fills `State.buffer`; these take whole chunks out of it under the lock.
extension KafkaConsumer {
    // MARK: Reading

    /// Up to `max` records (default `max.poll.records`), waiting at most `timeout` for the first.
    /// A cancelled task's wait ends at once with `KafkaError(.cancelled)`; records already
    /// buffered stay for the next call.
    /// - Parameters:
    ///   - max: The most records to return; nil for `max.poll.records`.
    ///   - timeout: How long to wait for the first record.
    /// - Returns: The records, possibly none.
    /// - Throws: `KafkaError`: `.closed` after `close()`, a fatal group error, or `.cancelled` when the task is cancelled (per-partition failures go to `partitionErrors` instead).
    public func poll(max: Int? = nil, timeout: Duration) async throws -> [ConsumerRecord] {
        let limit = max ?? config.maxPollRecords
        let deadline = ContinuousClock.now + timeout
        group?.polled()
        // Whatever the previous poll returned has been processed now.
        state.withLock { s in s.processed.merge(s.delivered) { _, d in d } }
        group?.applicationProgressed()
        while true {
            var out: [ConsumerRecord] = []
            let done: Bool = try state.withLock { s in
                if let e = s.error { s.error = nil; throw e }
                if s.closed { throw KafkaError(.closed, "consumer is closed") }
                take(&s, into: &out, max: limit, markDelivered: true)
                raiseEOFs(&s)
                return !out.isEmpty
            }
            if done {
                signal.notify()
                return out
            }
            if ContinuousClock.now >= deadline { return [] }
            if Task.isCancelled { throw KafkaError(.cancelled, "poll cancelled") }
            await waitForData(until: deadline)
        }
    }

    /// Moves up to `max` records from the buffer into `out`, releasing consumed chunks.
    func take(_ s: inout State, into out: inout [ConsumerRecord], max: Int, markDelivered: Bool) {
        while out.count < max, s.bufferHead < s.buffer.count {
            let h = s.bufferHead, from = s.buffer[h].next
            let left = s.buffer[h].records.count - from
            let n = Swift.min(max - out.count, left)
            if n > 0 {
                if markDelivered { s.delivered[s.buffer[h].tp] = s.buffer[h].records[from + n - 1].offset + 1 }
                if out.isEmpty && from == 0 && n == left {
                    // A whole chunk: hand over its array instead of copying each record.
                    swap(&out, &s.buffer[h].records)
                } else {
                    out.append(contentsOf: s.buffer[h].records[from ..< from + n])
                    s.buffer[h].next += n
                    if n < left { return }
                }
            }
            releaseHead(&s)
        }
    }

    /// Drops the first buffered chunk (used up).
    func releaseHead(_ s: inout State) {
        let h = s.bufferHead
        s.bufferedBytes -= s.buffer[h].bytes
        s.buffer[h] = Chunk(tp: s.buffer[h].tp, generation: s.buffer[h].generation, records: [], bytes: 0)
        s.bufferHead += 1
        if s.bufferHead > 64 && s.bufferHead * 2 > s.buffer.count {
            s.buffer.removeFirst(s.bufferHead)
            s.bufferHead = 0
        }
    }

    /// Takes the records left in the first buffered chunk (the iterator's fast path): one
    /// partition, so the iterator's progress inside it is one offset.
    func nextChunk() async throws -> (records: [ConsumerRecord], epoch: UInt64)? {
        group?.polled()
        while true {
            // The records leave the lock as the closure's result (not through a captured
            // variable), so the array reaches the iterator uniquely referenced.
            let taken: (records: [ConsumerRecord], epoch: UInt64)?? = try state.withLock { s in
                // The chunk the iterator held is finished: all of it delivered and processed.
                if let h = s.held, s.partitions[h.tp] != nil {
                    s.delivered[h.tp] = h.end
                    s.processed[h.tp] = h.end
                }
                s.held = nil
                if let r = s.revokedHeld {
                    if s.partitions[r.tp] != nil { s.processed[r.tp] = Swift.max(s.processed[r.tp] ?? r.end, r.end) }
                    s.revokedHeld = nil
                }
                // The held chunk is done: its partition's end may be due.
                raiseEOFs(&s)
                if let e = s.error { s.error = nil; throw e }
                if s.closed { return .some(nil) }
                while s.bufferHead < s.buffer.count, s.buffer[s.bufferHead].next >= s.buffer[s.bufferHead].records.count {
                    releaseHead(&s)
                }
                guard s.bufferHead < s.buffer.count else { return nil }
                // (Fields, not a copy of the chunk: a copy would share its array.)
                let tp = s.buffer[s.bufferHead].tp, left = s.buffer[s.bufferHead].records.count - s.buffer[s.bufferHead].next
                var out: [ConsumerRecord] = []
                take(&s, into: &out, max: left, markDelivered: false)
                guard let last = out.last else { return nil }
                s.held = (tp, last.offset + 1)
                return .some((out, progress.begin()))
            }
            // The previous chunk counts as processed now (a revocation may be waiting for it).
            group?.applicationProgressed()
            switch taken {
            case .some(nil): return nil
            case let .some(.some(chunk)):
                signal.notify()
                return chunk
            case .none:
                if Task.isCancelled { throw KafkaError(.cancelled, "records iteration cancelled") }
                await waitForData(until: nil)
            }
        }
    }

    func waitForData(until deadline: ContinuousClock.Instant?) async {
        let timer: Task<Void, Never>? = deadline.map { d in
            Task { [weak self] in
                try? await Task.sleep(until: d, clock: .continuous)
                self?.wakeReader()
            }
        }
        // Cancellation wakes the reader; the caller then sees `Task.isCancelled`. The check
        // below runs under the lock the handler takes, so a cancel cannot slip in between.
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now: Bool = state.withLock { s in
                    if s.bufferHead < s.buffer.count || s.closed || s.error != nil || Task.isCancelled { return true }
                    s.waiter?.resume()
                    s.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            wakeReader()
        }
        timer?.cancel()
    }

    func wakeReader() {
        let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
            defer { s.waiter = nil }
            return s.waiter
        }
        w?.resume()
    }

    /// Every record, in order per partition, as it arrives. Suspends only when nothing is buffered;
    /// a cancelled task's wait throws `KafkaError(.cancelled)`. Per-partition failures do not end
    /// it (see `partitionErrors`).
    public var records: Records { Records(consumer: self) }

    /// `AsyncSequence` of records; see `KafkaConsumer.records`.
    public struct Records: AsyncSequence, Sendable {
        public typealias Element = ConsumerRecord
        let consumer: KafkaConsumer
        public func makeAsyncIterator() -> Iterator { Iterator(consumer: consumer) }

        /// Hands out the buffered records one by one; use it from one task at a time.
        public struct Iterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer
            /// The held chunk's records not yet handed out, in reverse order: `removeLast` moves
            /// each one out instead of copying it (a copy costs a retain and a release per
            /// reference in the record).
            var pending: [ConsumerRecord] = []
            /// Offset after the record handed out last from the held chunk (-1: none yet).
            var after: Int64 = -1
            var epoch: UInt64 = 0

            public mutating func next() async throws -> ConsumerRecord? {
                try await next(isolation: nil)
            }

            /// Runs on the caller's actor (SE-0421); suspends only when nothing is buffered.
            /// - Parameter actor: The caller's actor, which the iterator runs on.
            /// - Returns: The next record; nil once the consumer is closed.
            /// - Throws: `KafkaError`: a fatal group error, or `.cancelled` when the task is cancelled.
            public mutating func next(isolation actor: isolated (any Actor)?) async throws -> ConsumerRecord? {
                let progress = consumer.progress
                // A seek or revocation since the chunk was taken makes the rest of it stale.
                let current = progress.epoch.load(ordering: .relaxed) == epoch
                // Asking for the next record means the previous one is processed.
                if current && after >= 0 { progress.processed.store(after, ordering: .relaxed) }
                if current && !pending.isEmpty {
                    let r = pending.removeLast()
                    after = r.offset + 1
                    progress.delivered.store(after, ordering: .relaxed)
                    return r
                }
                pending = []
                after = -1
                guard case (var records, let e)? = try await consumer.nextChunk() else { return nil }
                Self.reverseByMoving(&records)
                pending = consume records
                epoch = e
                let r = pending.removeLast()
                after = r.offset + 1
                progress.delivered.store(after, ordering: .relaxed)
                return r
            }

            /// Reverses in place with moves only (`reverse()` swaps through copies).
            static func reverseByMoving(_ a: inout [ConsumerRecord]) {
                a.withUnsafeMutableBufferPointer { b in
                    guard var i = b.baseAddress, b.count > 1 else { return }
                    var j = i + (b.count - 1)
                    while i < j {
                        let t = i.move()
                        i.moveInitialize(from: j, count: 1)
                        j.initialize(to: t)
                        i += 1
                        j -= 1
                    }
                }
            }
        }
    }
}
