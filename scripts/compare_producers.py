#!/usr/bin/env python3
"""Run the same produce workload with KafkaWire (kwire-bench), confluent-kafka (librdkafka) and
kafka-python against one broker, and print a comparison table.

    scripts/compare_producers.py [--bootstrap HOST:PORT] [--messages 1000000] [--size 100]
                                 [--acks 1] [--compression none] [--linger-ms 5] [--runs 1]

Starts a local Tansu with scripts/broker.sh when --bootstrap is not given. Each client writes to
its own fresh single-partition topic; client CPU is measured with getrusage of the process doing
the producing (the broker is another process). kwire-bench is built in release mode first.
Loopback only.
"""
import argparse, json, os, resource, subprocess, sys, time

from bench_report import print_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rusage_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_confluent(args, topic):
    from confluent_kafka import Producer
    conf = {"bootstrap.servers": args.bootstrap, "linger.ms": args.linger_ms, "acks": args.acks,
            "compression.type": args.compression, "enable.idempotence": args.acks == "all",
            "queue.buffering.max.messages": 1000000, "batch.size": 1000000}
    p = Producer(conf)
    value = b"a" * args.size
    p.produce(topic, value)
    p.flush()
    cpu0, t0 = rusage_cpu(), time.perf_counter()
    n = 0
    while n < args.messages:
        try:
            p.produce(topic, value)
            n += 1
        except BufferError:
            p.poll(0.001)
    p.flush()
    return time.perf_counter() - t0, rusage_cpu() - cpu0


def run_kafka_python(args, topic):
    from kafka import KafkaProducer
    acks = {"all": "all", "1": 1, "0": 0}[args.acks]
    p = KafkaProducer(bootstrap_servers=args.bootstrap, linger_ms=int(args.linger_ms), acks=acks,
                      compression_type=None if args.compression == "none" else args.compression,
                      batch_size=1000000, enable_idempotence=args.acks == "all")
    value = b"a" * args.size
    p.send(topic, value).get(timeout=30)
    cpu0, t0 = rusage_cpu(), time.perf_counter()
    for _ in range(args.messages):
        p.send(topic, value)
    p.flush()
    return time.perf_counter() - t0, rusage_cpu() - cpu0


def child(args):
    """Runs one Python client in this (child) process and prints its JSON line."""
    topic = args.topic
    secs, cpu = (run_confluent if args.client == "confluent-kafka" else run_kafka_python)(args, topic)
    print(json.dumps({"client": args.client, "msgs_per_s": int(args.messages / secs),
                      "mb_per_s": round(args.messages * args.size / secs / 1e6, 1),
                      "cpu_us_per_msg": round(cpu / args.messages * 1e6, 3),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


def create_topic(bootstrap, topic):
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient({"bootstrap.servers": bootstrap})
    for f in a.create_topics([NewTopic(topic, 1, 1)]).values():
        f.result()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap")
    p.add_argument("--messages", type=int, default=1000000)
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--acks", default="1", choices=["0", "1", "all"])
    p.add_argument("--compression", default="none")
    p.add_argument("--linger-ms", default="5")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--skip-kafka-python", action="store_true")
    p.add_argument("--client", help=argparse.SUPPRESS)
    p.add_argument("--topic", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.client:
        return child(args)

    started = False
    if not args.bootstrap:
        args.bootstrap = subprocess.check_output([os.path.join(ROOT, "scripts/broker.sh"), "start"], text=True).strip().splitlines()[-1]
        started = True
    try:
        subprocess.check_call(["swift", "build", "-c", "release", "--product", "kwire-bench"], cwd=ROOT, stdout=subprocess.DEVNULL)
        bench = os.path.join(ROOT, ".build/release/kwire-bench")
        rows = []
        clients = ["kafkawire", "confluent-kafka"] + ([] if args.skip_kafka_python else ["kafka-python"])
        for run in range(args.runs):
            for client in clients:
                topic = f"cmp-{client}-{run}-{time.time_ns()}"
                create_topic(args.bootstrap, topic)
                if client == "kafkawire":
                    out = subprocess.check_output([bench, "produce", "-b", args.bootstrap, "--topic", topic, "--messages", str(args.messages),
                                                   "--size", str(args.size), "--acks", args.acks, "--compression", args.compression,
                                                   "--linger-ms", args.linger_ms], text=True)
                    r = json.loads(out.strip().splitlines()[-1])
                else:
                    n = args.messages if client != "kafka-python" else min(args.messages, 300000)
                    out = subprocess.check_output([sys.executable, __file__, "--client", client, "--topic", topic, "--bootstrap", args.bootstrap,
                                                   "--messages", str(n), "--size", str(args.size), "--acks", args.acks,
                                                   "--compression", args.compression, "--linger-ms", args.linger_ms], text=True)
                    r = json.loads(out.strip().splitlines()[-1])
                r["client"] = client
                rows.append(r)
                print(json.dumps(r), file=sys.stderr)
        print_table(f"\nproduce: {args.messages} x {args.size} B, acks={args.acks}, compression={args.compression}, linger.ms={args.linger_ms} (best of {args.runs})", clients, rows)
    finally:
        if started:
            subprocess.call([os.path.join(ROOT, "scripts/broker.sh"), "stop"], stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
