import KafkaProtocol

/// How the machine settles a request: an answer per partition, or no usable answer.
extension ProducerMachine {
    /// The broker answered request `id`: complete, retry (same bytes and sequence, after a
    /// backoff) or fail each batch by its partition's error code.
    mutating func answered(_ id: ProduceRequestID, _ response: ProduceResponse, now: ContinuousClock.Instant, _ actions: inout [ProducerAction]) {
        guard let carried = sinks[id.broker]?.inFlight[id.serial] else { return }
        // A response that answers for a partition this request did not carry, or for one
        // partition twice, is broken: acting on it could complete another request's batch or
        // one batch twice. None of it is trusted; the request's batches are treated as
        // unanswered (retried with their sequence numbers, so with idempotence a batch that
        // did get written is recognised as a duplicate).
        let sent = Set(carried.partitions)
        var seen = Set<TopicPartition>()
        for t in response.responses {
            for p in t.partitionResponses {
                let tp = TopicPartition(topic: t.name, partition: p.index)
                guard sent.contains(tp), seen.insert(tp).inserted else {
                    let why = sent.contains(tp) ? "answered twice for \(tp)" : "answered for \(tp), which the request did not carry"
                    let e = KafkaError(.decoding, "broken Produce response: it \(why)", context: .init(apiKey: .produce, topic: tp.topic, partition: tp.partition))
                    failed(id, e, written: true, retriable: true, now: now, &actions)
                    return
                }
            }
        }
        let settled = sinks[id.broker]?.settle(id.serial)
        sinks[id.broker]?.window.requestAnswered(bytes: settled?.bytes ?? 0)
        applyWindow(of: id.broker)
        var refresh = false
        for t in response.responses {
            for p in t.partitionResponses {
                let tp = TopicPartition(topic: t.name, partition: p.index)
                let code = KafkaErrorCode(rawValue: p.errorCode)
                switch code {
                case .noError:
                    if let b = accumulator.complete(tp, request: id) { complete(b, .success((p.baseOffset, p.logAppendTimeMs)), &actions) }
                case .duplicateSequenceNumber:
                    // Already written by an earlier attempt: success, offset unknown.
                    if let b = accumulator.complete(tp, request: id) { complete(b, .success((-1, -1)), &actions) }
                case _ where transaction != nil && [.outOfOrderSequenceNumber, .unknownProducerId, .invalidProducerEpoch].contains(code):
                    // Inside a transaction the batch fails: the transaction aborts (or, fenced,
                    // the producer stops); the abort bumps the epoch, not a silent retry.
                    if let b = accumulator.fail(tp, request: id) {
                        complete(b, .failure(KafkaError.broker(code, p.errorMessage, context: .init(apiKey: .produce))), &actions)
                    }
                case .outOfOrderSequenceNumber, .unknownProducerId, .invalidProducerEpoch:
                    // The broker lost our sequence state: bump the epoch and resend (KIP-360).
                    epochBumpNeeded = true
                    retry(tp, id, KafkaError.broker(code, p.errorMessage), written: false, now: now, &actions)
                default:
                    if code.isRetriable {
                        // A partition a KIP-951 hint moved is already routed to its new leader.
                        if routes.routingErrorNeedsRefresh(tp) { refresh = true }
                        // These two mean the leader appended the batch but replication did not
                        // confirm it in time: it may be in the log.
                        let written = code == .requestTimedOut || code == .notEnoughReplicasAfterAppend
                        retry(tp, id, KafkaError.broker(code, p.errorMessage), written: written, now: now, &actions)
                    } else if let b = accumulator.fail(tp, request: id) {
                        complete(b, .failure(KafkaError.broker(code, p.errorMessage, context: .init(apiKey: .produce))), &actions)
                    }
                }
            }
        }
        // A partition the broker did not mention is retried (defensive; Kafka answers all).
        for tp in carried.partitions where !seen.contains(tp) {
            retry(tp, id, KafkaError(.decoding, "broker did not answer for \(tp)"), written: true, now: now, &actions)
        }
        if refresh { for tp in carried.partitions { routes.want(tp.topic) } }
        // Settling the request may have made the producer idle even with nothing completed
        // (its batch expired while in flight).
        actions.append(.wakeSender)
        actions.append(.wakeWaiters)
    }

    /// Request `id` got no usable answer. `retriable` overrides the error's own retriability (a
    /// broken response is retried like a lost one).
    mutating func failed(_ id: ProduceRequestID, _ e: KafkaError, written: Bool, retriable: Bool?, now: ContinuousClock.Instant, _ actions: inout [ProducerAction]) {
        guard let carried = sinks[id.broker]?.settle(id.serial) else { return }
        // A broken answer (`retriable` given) came over a working link: not a connection loss.
        if written && retriable == nil {
            let lastSent = lastSerialSent
            sinks[id.broker]?.window.connectionLost(serial: id.serial, lastSent: lastSent)
            applyWindow(of: id.broker)
        }
        // A request cut short before its last byte went out never reached the broker's handler
        // (Kafka reads whole frames): its batches are not in the log, so they stay `sealed`
        // and may be re-split to fit the shrunken window (`ProducerBatch.splitForWindow`).
        let mayBeInLog = written && !e.requestNotWritten
        for tp in carried.partitions {
            if retriable ?? e.isRetriable {
                retry(tp, id, e, written: mayBeInLog, now: now, &actions)
            } else if let b = accumulator.fail(tp, request: id) {
                complete(b, .failure(e), &actions)
            }
            routes.want(tp.topic)
        }
        actions.append(.wakeSender)
        actions.append(.wakeWaiters)
    }

    /// Puts `tp`'s batch back for another attempt, or — out of retries or time — fails it with
    /// `e`, or with `.outcomeUnknown` when some attempt may have been written.
    private mutating func retry(_ tp: TopicPartition, _ id: ProduceRequestID, _ e: KafkaError, written: Bool, now: ContinuousClock.Instant, _ actions: inout [ProducerAction]) {
        guard let b = accumulator.retry(tp, now: now, written: written, request: id) else { return }
        complete(b, .failure(b.mayBeWritten
            ? KafkaError(.outcomeUnknown, "delivery not confirmed: \(e.message)", context: e.context, underlying: e)
            : e), &actions)
    }
}
