#!/usr/bin/env python3
"""Write transactions with a real transactional producer (confluent-kafka), for consumer tests.

    peer_produce_txn.py --bootstrap HOST:PORT --topic T --transactions N --size K [--abort-every M]

Transaction i (0-based) writes K records "t<i>-<j>" to partition 0 and is aborted when
i % M == M - 1 (default M = 3), committed otherwise. Prints one JSON line:
{"committed": [values in order], "aborted": [values]}. Exits 1 on any failure. Loopback only.
"""
import argparse, json, sys, time
from confluent_kafka import Producer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--transactions", type=int, required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--abort-every", type=int, default=3)
    a = p.parse_args()
    if not a.bootstrap.startswith(("127.", "localhost", "[::1]")):
        sys.exit("loopback brokers only")
    prod = Producer({"bootstrap.servers": a.bootstrap, "transactional.id": f"kw-txn-{time.time_ns()}", "linger.ms": 5})
    prod.init_transactions(30)
    committed, aborted = [], []
    for i in range(a.transactions):
        prod.begin_transaction()
        values = [f"t{i}-{j}" for j in range(a.size)]
        for v in values:
            prod.produce(a.topic, value=v.encode(), partition=0)
        prod.flush(30)
        if i % a.abort_every == a.abort_every - 1:
            prod.abort_transaction(30)
            aborted += values
        else:
            prod.commit_transaction(30)
            committed += values
    print(json.dumps({"committed": committed, "aborted": aborted}))


if __name__ == "__main__":
    main()
