#!/usr/bin/env python3
"""Transactions end to end with confluent-kafka (librdkafka), to validate a broker (FakeCluster).

    peer_txn_roundtrip.py --bootstrap HOST:PORT --topic T --source S --group G [--debug]
    peer_txn_roundtrip.py --scenario fencing --bootstrap HOST:PORT --topic T [--debug]

Writes three transactions with a transactional producer: #0 committed (values c0-<p>-<j> to
partitions 0 and 1 of T, plus the offset 5 of S-0 for group G through
send_offsets_to_transaction with a consumer's group metadata — the consumer never joins, so
generation -1 and no member id), #1 aborted (a1-<p>-<j>), #2 committed (c2-<p>-<j>). Then reads
T from the beginning with a read_committed and a read_uncommitted consumer (assign, not
subscribe) to the end of each partition, and asks G's committed offset for S-0.

Prints one JSON line: {"committed": {partition: [values]}, "aborted": {...},
"read_committed": {...}, "read_uncommitted": {...}, "group_offset": N}. With --debug,
librdkafka's protocol/eos/broker debug goes to stderr. Exits 1 on any failure. Loopback only.

Scenario fencing: producer A (transactional id X) writes z-<j> to T-0 and flushes; producer B
with the same id initializes (fencing A, whose open transaction the broker aborts) and commits
w-<j>; A's commit must then fail. Prints {"zombie": [...], "winner": [...], "error": name,
"fatal": bool, "read_committed": {...}, "read_uncommitted": {...}}.
"""
import argparse, json, sys, time
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition, OFFSET_BEGINNING


def read_all(bootstrap, topic, isolation, debug):
    conf = {"bootstrap.servers": bootstrap, "group.id": f"kw-reader-{isolation}", "isolation.level": isolation,
            "enable.auto.commit": False, "enable.partition.eof": True, "fetch.wait.max.ms": 50}
    if debug:
        conf["debug"] = "protocol,consumer,fetch"
    c = Consumer(conf)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in (0, 1)])
    seen, at_end = {"0": [], "1": []}, set()
    deadline = time.time() + 30
    while len(at_end) < 2 and time.time() < deadline:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                at_end.add(m.partition())
                continue
            raise KafkaException(m.error())
        seen[str(m.partition())].append(m.value().decode())
    c.close()
    if len(at_end) < 2:
        sys.exit(f"{isolation}: did not reach the end of both partitions: {seen}")
    return seen


def fencing(a):
    def producer():
        conf = {"bootstrap.servers": a.bootstrap, "transactional.id": a.transactional_id, "linger.ms": 5}
        if a.debug:
            conf["debug"] = "protocol,eos"
        return Producer(conf)
    zombie, winner = [f"z-{j}" for j in range(3)], [f"w-{j}" for j in range(2)]
    first = producer()
    first.init_transactions(20)
    first.begin_transaction()
    for v in zombie:
        first.produce(a.topic, value=v.encode(), partition=0)
    first.flush(20)
    second = producer()
    second.init_transactions(20)
    second.begin_transaction()
    for v in winner:
        second.produce(a.topic, value=v.encode(), partition=0)
    second.commit_transaction(20)
    error, fatal = None, None
    try:
        first.commit_transaction(20)
    except KafkaException as e:
        error, fatal = e.args[0].name(), e.args[0].fatal()
    print(json.dumps({"zombie": zombie, "winner": winner, "error": error, "fatal": fatal,
                      "read_committed": read_all(a.bootstrap, a.topic, "read_committed", a.debug),
                      "read_uncommitted": read_all(a.bootstrap, a.topic, "read_uncommitted", a.debug)}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scenario", choices=["roundtrip", "fencing"], default="roundtrip")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--source")
    p.add_argument("--group")
    p.add_argument("--transactional-id", default="kw-fake-txn")
    p.add_argument("--debug", action="store_true")
    a = p.parse_args()
    if not a.bootstrap.startswith(("127.", "localhost", "[::1]")):
        sys.exit("loopback brokers only")
    if a.scenario == "fencing":
        return fencing(a)
    conf = {"bootstrap.servers": a.bootstrap, "transactional.id": a.transactional_id, "linger.ms": 5}
    if a.debug:
        conf["debug"] = "protocol,eos,broker,msg"
    prod = Producer(conf)
    prod.init_transactions(20)
    group_conf = {"bootstrap.servers": a.bootstrap, "group.id": a.group, "enable.auto.commit": False,
                  "isolation.level": "read_committed"}
    if a.debug:
        group_conf["debug"] = "protocol,cgrp"
    member = Consumer(group_conf)

    committed, aborted = {"0": [], "1": []}, {"0": [], "1": []}
    for i, commit in enumerate([True, False, True]):
        prod.begin_transaction()
        for part in (0, 1):
            values = [f"{'c' if commit else 'a'}{i}-{part}-{j}" for j in range(3 + part)]
            for v in values:
                prod.produce(a.topic, value=v.encode(), partition=part)
            (committed if commit else aborted)[str(part)] += values
        if i == 0:
            prod.send_offsets_to_transaction([TopicPartition(a.source, 0, 5)], member.consumer_group_metadata(), 20)
        prod.flush(20)
        if commit:
            prod.commit_transaction(20)
        else:
            prod.abort_transaction(20)

    offsets = member.committed([TopicPartition(a.source, 0)], timeout=20)
    member.close()
    out = {
        "committed": committed, "aborted": aborted,
        "read_committed": read_all(a.bootstrap, a.topic, "read_committed", a.debug),
        "read_uncommitted": read_all(a.bootstrap, a.topic, "read_uncommitted", a.debug),
        "group_offset": offsets[0].offset,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except KafkaException as e:
        sys.exit(f"failed: {e}")
