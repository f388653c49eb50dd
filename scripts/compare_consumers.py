#!/usr/bin/env python3
"""Consume the SAME data with KafkaWire (kwire-bench), confluent-kafka (librdkafka) and
kafka-python against one broker, and print a comparison table.

    scripts/compare_consumers.py [--bootstrap HOST:PORT] [--messages 1000000] [--size 100]
                                 [--runs 1] [--skip-build] [--skip-kafka-python]

Starts a local Tansu with scripts/broker.sh when --bootstrap is not given. One single-partition
topic is filled once (by `kwire-bench produce`, acks=1, 1,000 messages per request batch at most
1 MB) and every client then reads the first --messages records of it from offset 0, each in its
own process, one after the other, --runs times (rows: the best run of each client).

Measured per client, from just before assigning the partition to the last record: wall time,
the client process's CPU (getrusage: user + system, every thread), and its peak RSS. Settings:
- kwire-bench consume: defaults (fetch.max.wait.ms 500, 64 MiB prefetch).
- confluent-kafka: fetch.queue.backoff.ms=10 (the default 1000 stalls ~1 s between fetches),
  records taken with consume(num_messages=10000) so the Python loop is not what is measured.
- kafka-python: defaults, records taken with poll(max_records=10000).
Each record's value is touched (its length summed) by every client.

kwire-bench is built in release mode first unless --skip-build (then build it yourself with
`swift build -c release --product kwire-bench`). Loopback only.
"""
import argparse, json, os, resource, subprocess, sys, time

from bench_report import print_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rusage_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_confluent(args):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": args.bootstrap, "group.id": f"cmp-{time.time_ns()}", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "fetch.queue.backoff.ms": 10, "enable.partition.eof": False})
    cpu0, t0 = rusage_cpu(), time.perf_counter()
    c.assign([TopicPartition(args.topic, 0, 0)])
    n = size = 0
    deadline = time.time() + args.timeout
    while n < args.messages and time.time() < deadline:
        for m in c.consume(num_messages=min(10000, args.messages - n), timeout=1.0):
            if m.error():
                continue
            n += 1
            size += len(m.value() or b"")
    secs, cpu = time.perf_counter() - t0, rusage_cpu() - cpu0
    c.close()
    return n, size, secs, cpu


def run_kafka_python(args):
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=args.bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    tp = TopicPartition(args.topic, 0)
    cpu0, t0 = rusage_cpu(), time.perf_counter()
    c.assign([tp])
    c.seek(tp, 0)
    n = size = 0
    deadline = time.time() + args.timeout
    while n < args.messages and time.time() < deadline:
        for records in c.poll(timeout_ms=1000, max_records=min(10000, args.messages - n)).values():
            for m in records:
                n += 1
                size += len(m.value or b"")
    secs, cpu = time.perf_counter() - t0, rusage_cpu() - cpu0
    c.close()
    return n, size, secs, cpu


def child(args):
    """Runs one Python client in this (child) process and prints its JSON line."""
    n, size, secs, cpu = (run_confluent if args.client == "confluent-kafka" else run_kafka_python)(args)
    print(json.dumps({"client": args.client, "messages": n, "msgs_per_s": int(n / secs), "mb_per_s": round(size / secs / 1e6, 1),
                      "cpu_us_per_msg": round(cpu / max(n, 1) * 1e6, 3),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


def version(client):
    try:
        if client == "confluent-kafka":
            import confluent_kafka
            return f"{confluent_kafka.__version__} (librdkafka {confluent_kafka.libversion()[0]})"
        import kafka
        return kafka.__version__
    except Exception:
        return "?"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap")
    p.add_argument("--messages", type=int, default=1000000)
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--timeout", type=float, default=120, help="seconds each client may take")
    p.add_argument("--skip-build", action="store_true")
    p.add_argument("--skip-kafka-python", action="store_true")
    p.add_argument("--client", help=argparse.SUPPRESS)
    p.add_argument("--topic", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.client:
        return child(args)
    if args.bootstrap and not args.bootstrap.startswith(("127.", "localhost", "[::1]")):
        sys.exit("loopback brokers only")

    started = False
    if not args.bootstrap:
        args.bootstrap = subprocess.check_output([os.path.join(ROOT, "scripts/broker.sh"), "start"], text=True).strip().splitlines()[-1]
        started = True
    try:
        if not args.skip_build:
            subprocess.check_call(["swift", "build", "-c", "release", "--product", "kwire-bench"], cwd=ROOT, stdout=subprocess.DEVNULL)
        bench = os.path.join(ROOT, ".build/release/kwire-bench")
        topic = f"cmp-consume-{time.time_ns()}"
        create_and_fill(bench, args, topic)
        rows = []
        clients = ["kafkawire", "confluent-kafka"] + ([] if args.skip_kafka_python else ["kafka-python"])
        for run in range(args.runs):
            for client in clients:
                if client == "kafkawire":
                    out = subprocess.check_output([bench, "consume", "-b", args.bootstrap, "--topic", topic, "--messages", str(args.messages),
                                                   "--size", str(args.size)], text=True, timeout=args.timeout + 30)
                else:
                    out = subprocess.check_output([sys.executable, __file__, "--client", client, "--topic", topic, "--bootstrap", args.bootstrap,
                                                   "--messages", str(args.messages), "--timeout", str(args.timeout)], text=True,
                                                  timeout=args.timeout + 30)
                r = json.loads(out.strip().splitlines()[-1])
                r["client"] = client
                if r.get("messages", args.messages) != args.messages:
                    print(f"warning: {client} read {r.get('messages')} of {args.messages}", file=sys.stderr)
                rows.append(r)
                print(json.dumps(r), file=sys.stderr)
        print_table(f"\nconsume: the same {args.messages} x {args.size} B records (one partition, topic {topic}) read by each client (best of {args.runs})", clients, rows)
        print(f"(confluent-kafka {version('confluent-kafka')}, kafka-python {version('kafka-python')})")
    finally:
        if started:
            subprocess.call([os.path.join(ROOT, "scripts/broker.sh"), "stop"], stderr=subprocess.DEVNULL)


def create_and_fill(bench, args, topic):
    """One partition, filled by kwire-bench produce (which writes one warm-up record first)."""
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient({"bootstrap.servers": args.bootstrap})
    for f in a.create_topics([NewTopic(topic, 1, 1)]).values():
        f.result()
    out = subprocess.check_output([bench, "produce", "-b", args.bootstrap, "--topic", topic, "--messages", str(args.messages),
                                   "--size", str(args.size), "--acks", "1"], text=True)
    print("fill: " + out.strip().splitlines()[-1], file=sys.stderr)


if __name__ == "__main__":
    main()
