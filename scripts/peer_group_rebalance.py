#!/usr/bin/env python3
"""Two confluent-kafka (librdkafka) members of one classic group, to validate a broker's group
coordinator (FakeCluster's JoinGroup/SyncGroup/Heartbeat/LeaveGroup).

    peer_group_rebalance.py --bootstrap HOST:PORT --topic T --partitions N --group G [--debug]

Members a and b subscribe to T (both polled from this one thread). Once both hold a non-empty
assignment (together every partition, none twice), b closes (LeaveGroup) and a is polled until
it holds all N partitions. Prints one JSON line:
    {"a": [partitions], "b": [partitions], "after": [partitions], "member_ids": [a, b]}
Exits 1 (with what it saw) if a stage does not happen within 40 s. Loopback brokers only.
"""
import argparse, json, sys, time
from confluent_kafka import Consumer


def member(a, name):
    conf = {"bootstrap.servers": a.bootstrap, "group.id": a.group, "client.id": f"kw-peer-{name}",
            "session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "enable.auto.commit": False,
            "auto.offset.reset": "earliest"}
    if a.debug:
        conf["debug"] = "cgrp,protocol"
    c = Consumer(conf)
    c.subscribe([a.topic])
    return c


def parts(c):
    return sorted(tp.partition for tp in c.assignment())


def until(consumers, done, what):
    deadline = time.time() + 40
    while time.time() < deadline:
        for c in consumers:
            c.poll(0.05)
        if done():
            return
    sys.exit(f"timed out waiting for {what}: " + json.dumps([parts(c) for c in consumers]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--partitions", type=int, required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--debug", action="store_true")
    a = p.parse_args()
    if not a.bootstrap.startswith(("127.", "localhost", "[::1]")):
        sys.exit("loopback brokers only")
    ca, cb = member(a, "a"), member(a, "b")
    everything = list(range(a.partitions))
    until([ca, cb], lambda: parts(ca) and parts(cb) and sorted(parts(ca) + parts(cb)) == everything, "both members assigned")
    both, ids = {"a": parts(ca), "b": parts(cb)}, [ca.memberid(), cb.memberid()]
    cb.close()
    until([ca], lambda: parts(ca) == everything, "a to take every partition")
    print(json.dumps({**both, "after": parts(ca), "member_ids": ids}), flush=True)
    ca.close()


if __name__ == "__main__":
    main()
