#!/usr/bin/env python3
"""Produce known messages with a real peer client (confluent-kafka), for consumer interop tests.

    peer_produce.py --bootstrap HOST:PORT --topic T --count N [--compression C] [--partition P]

Message i: key "k<i>" (every 10th key null), value "v<i>-<codec>" (every 7th value null, every
11th empty), header ("i", str(i)). Flushes and exits 0 when all were delivered. Loopback only.
"""
import argparse, sys
from confluent_kafka import Producer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--compression", default="none")
    p.add_argument("--partition", type=int, default=0)
    a = p.parse_args()
    if not a.bootstrap.startswith(("127.", "localhost", "[::1]")):
        sys.exit("loopback brokers only")
    prod = Producer({"bootstrap.servers": a.bootstrap, "compression.type": a.compression, "linger.ms": 5})
    failed = []
    for i in range(a.count):
        key = None if i % 10 == 0 else f"k{i}".encode()
        value = None if i % 7 == 0 else (b"" if i % 11 == 0 else f"v{i}-{a.compression}".encode())
        prod.produce(a.topic, value=value, key=key, partition=a.partition, headers=[("i", str(i).encode())],
                     on_delivery=lambda err, msg: failed.append(err) if err else None)
        prod.poll(0)
    prod.flush(30)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
