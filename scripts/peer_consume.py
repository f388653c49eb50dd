#!/usr/bin/env python3
"""Consume a topic with a real peer client and print what it read as JSON lines.

    peer_consume.py --client confluent|kafka-python --bootstrap HOST:PORT --topic T --count N [--isolation L] [--compact]

Used by KafkaWire's interop tests: our client writes (compressed) batches, a client nobody here
wrote reads them back. Each line: {"partition", "offset", "key", "value", "headers"} with keys,
values and header values as latin-1 strings (null stays null). With --compact each line is
"PARTITION OFFSET HEAD" instead, HEAD being the value up to its first "|" (how the restart tests
and the soak number their messages), so a million records fit in a few MB. With --to-end (confluent only) it reads on until every
partition has reported its end of log (the Fetch high watermark), however many that is, and
exits 1 when one did not within --timeout. Exits 1 if fewer than N records
arrive within --timeout seconds. Loopback brokers only.
"""
import argparse, json, sys, time


def as_text(b):
    return None if b is None else b.decode("latin-1")


def compact(partition, offset, value):
    """(partition, offset, value head): a tuple, not a dict, so a million records stay small."""
    return (partition, offset, (value or b"").split(b"|", 1)[0].decode("latin-1"))


def consume_confluent(args):
    from confluent_kafka import Consumer, TopicPartition
    conf = {"bootstrap.servers": args.bootstrap, "group.id": f"kw-peer-{time.time_ns()}",
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "fetch.queue.backoff.ms": 10, "enable.partition.eof": bool(args.to_end)}
    if args.isolation:
        conf["isolation.level"] = args.isolation
    c = Consumer(conf)
    md = c.list_topics(args.topic, timeout=10)
    parts = sorted(md.topics[args.topic].partitions)
    c.assign([TopicPartition(args.topic, p, 0) for p in parts])
    out, deadline, ends = [], time.time() + args.timeout, set()
    while (len(out) < args.count or (args.to_end and len(ends) < len(parts))) and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error() and m.error().code() == -191:  # _PARTITION_EOF
            ends.add(m.partition())
            continue
        if m.error():
            print(json.dumps({"error": str(m.error())}), file=sys.stderr)
            continue
        out.append(compact(m.partition(), m.offset(), m.value()) if args.compact else
                   {"partition": m.partition(), "offset": m.offset(), "key": as_text(m.key()), "value": as_text(m.value()),
                    "headers": [[k, as_text(v)] for k, v in (m.headers() or [])]})
    c.close()
    if args.to_end and len(ends) < len(parts):
        # Not every partition reached its end: the read-back is incomplete, not a short log.
        print(json.dumps({"error": "--to-end: %d of %d partitions reached their end within --timeout" % (len(ends), len(parts))}), file=sys.stderr)
        args.incomplete = True
    return out


def consume_kafka_python(args):
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=args.bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                      consumer_timeout_ms=int(args.timeout * 1000))
    parts = sorted(c.partitions_for_topic(args.topic) or [])
    c.assign([TopicPartition(args.topic, p) for p in parts])
    for p in parts:
        c.seek(TopicPartition(args.topic, p), 0)
    out = []
    for m in c:
        out.append(compact(m.partition, m.offset, m.value) if args.compact else
                   {"partition": m.partition, "offset": m.offset, "key": as_text(m.key), "value": as_text(m.value),
                    "headers": [[k, as_text(v)] for k, v in (m.headers or [])]})
        if len(out) >= args.count:
            break
    c.close()
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--client", choices=["confluent", "kafka-python"], required=True)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--isolation", choices=["read_committed", "read_uncommitted"],
                   help="confluent only: isolation.level (default: the client's own, read_committed)")
    p.add_argument("--compact", action="store_true",
                   help='one line per record, "PARTITION OFFSET HEAD" (HEAD: the value up to its first "|")')
    p.add_argument("--to-end", action="store_true",
                   help="confluent only: read until every partition reported its end of log")
    p.add_argument("--summary", action="store_true",
                   help="print one line: count and the CRC-32 (zlib) of all values (each + newline) in (partition, offset) order")
    args = p.parse_args()
    if not args.bootstrap.startswith(("127.", "localhost", "[::1]")):
        sys.exit("loopback brokers only")
    records = consume_confluent(args) if args.client == "confluent" else consume_kafka_python(args)
    if args.compact:
        records.sort()
        sys.stdout.write("".join("%d %d %s\n" % r for r in records))
        sys.exit(0 if len(records) >= args.count and not getattr(args, "incomplete", False) else 1)
    records.sort(key=lambda r: (r["partition"], r["offset"]))
    if args.summary:
        import zlib
        crc = 0
        for r in records:
            crc = zlib.crc32((r["value"] or "").encode("latin-1") + b"\n", crc)
        offsets_ok = all(b["offset"] == a["offset"] + 1 for a, b in zip(records, records[1:]) if a["partition"] == b["partition"])
        print(json.dumps({"count": len(records), "crc32": crc, "contiguous_offsets": offsets_ok}))
    else:
        for r in records:
            print(json.dumps(r))
    sys.exit(0 if len(records) >= args.count else 1)


if __name__ == "__main__":
    main()
