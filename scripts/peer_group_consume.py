#!/usr/bin/env python3
"""A consumer-group member made by a client nobody here wrote, for mixed-group tests.

    peer_group_consume.py --client confluent|kafka-python --bootstrap HOST:PORT --topic T
                          --group G [--assignor range] [--idle 8] [--timeout 90]

Joins group G (session.timeout.ms 6000, auto-commit on), prints each message value on its own
line (stdout, flushed per message) and "assigned: ..." lines on stderr. Exits cleanly (commit,
leave) once it has read something and then nothing arrives for --idle seconds, or at --timeout.
kafka-python also says "truncation reset: P" on stderr when it moved partition P back to
auto_offset_reset because the broker answered its OffsetForLeaderEpoch check (KIP-320) with an
undefined epoch/offset (it then reads P again from the start). Loopback brokers only.
"""
import argparse, logging, sys, time


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run_confluent(args):
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.group, "session.timeout.ms": 6000,
                  "heartbeat.interval.ms": 1000, "auto.offset.reset": "earliest", "enable.auto.commit": True,
                  "auto.commit.interval.ms": 500, "partition.assignment.strategy": args.assignor,
                  "fetch.queue.backoff.ms": 10})
    c.subscribe([args.topic], on_assign=lambda _c, ps: log("assigned:", [p.partition for p in ps]),
                on_revoke=lambda _c, ps: log("revoked:", [p.partition for p in ps]))
    loop(args, lambda: c.poll(0.2), lambda m: m.value(), lambda m: m.error())
    c.close()


class TruncationResets(logging.Handler):
    """Reports kafka-python's position resets after an undefined OffsetForLeaderEpoch answer
    (its fetcher logs them; the first argument is the TopicPartition)."""

    def emit(self, record):
        if "UNDEFINED end_offset/leader_epoch" in str(record.msg) and record.args:
            log("truncation reset:", getattr(record.args[0], "partition", "?"))


def run_kafka_python(args):
    fetcher_log = logging.getLogger("kafka.consumer.fetcher")
    fetcher_log.setLevel(logging.INFO)
    fetcher_log.addHandler(TruncationResets())
    from kafka import KafkaConsumer
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    assignors = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}
    from kafka import ConsumerRebalanceListener

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            log("revoked:", sorted(p.partition for p in revoked))

        def on_partitions_assigned(self, assigned):
            log("assigned:", sorted(p.partition for p in assigned))
    c = KafkaConsumer(bootstrap_servers=args.bootstrap, group_id=args.group, session_timeout_ms=6000,
                      heartbeat_interval_ms=1000, auto_offset_reset="earliest", enable_auto_commit=True,
                      auto_commit_interval_ms=500,
                      partition_assignment_strategy=[assignors[a] for a in args.assignor.split(",")])
    c.subscribe([args.topic], listener=Listener())
    pending = []

    def poll():
        if not pending:
            for recs in c.poll(timeout_ms=200).values():
                pending.extend(recs)
        return pending.pop(0) if pending else None
    loop(args, poll, lambda m: m.value, lambda m: None)
    c.close()


def loop(args, poll, value, error):
    start = time.time()
    last = None
    while time.time() - start < args.timeout:
        m = poll()
        if m is None:
            if last is not None and time.time() - last > args.idle:
                break
            continue
        if error(m):
            log("error:", error(m))
            continue
        last = time.time()
        v = value(m)
        sys.stdout.write(("" if v is None else v.decode("latin-1")) + "\n")
        sys.stdout.flush()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--client", choices=["confluent", "kafka-python"], required=True)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--assignor", default="range")
    p.add_argument("--idle", type=float, default=8)
    p.add_argument("--timeout", type=float, default=90)
    args = p.parse_args()
    host = args.bootstrap.rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
        sys.exit("peer_group_consume.py: loopback brokers only")
    (run_confluent if args.client == "confluent" else run_kafka_python)(args)


if __name__ == "__main__":
    main()
