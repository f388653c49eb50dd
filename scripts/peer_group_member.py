#!/usr/bin/env python3
"""Be one member of a consumer group with a real peer client (confluent-kafka), for admin tests.

    peer_group_member.py --bootstrap HOST:PORT --topic T --group G --commit-at K
                         [--client-id ID] [--session-timeout-ms 6000] [--timeout 60]

Subscribes to T in group G, reads every assigned partition up to offset K-1, commits offset K
for each (exactly K, whatever was fetched beyond), pauses, and prints one JSON line:
    {"event": "committed", "member_id": ..., "assignment": [[topic, partition], ...],
     "committed": {"<partition>": K, ...}}
It stays in the group (librdkafka heartbeats in the background) until standard input is closed
or a line is written to it, then closes the consumer (LeaveGroup), prints {"event": "left"} and
exits 0. Exits 1 if it cannot read up to K within --timeout seconds. Loopback brokers only.

Tansu holds each JoinGroup for half the session timeout, so the short session timeout keeps the
first join at ~3 s.
"""
import argparse, json, select, sys, time
from confluent_kafka import Consumer, TopicPartition


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--commit-at", type=int, required=True)
    p.add_argument("--client-id", default="kw-peer-member")
    p.add_argument("--session-timeout-ms", type=int, default=6000)
    p.add_argument("--timeout", type=float, default=60)
    a = p.parse_args()
    if not a.bootstrap.startswith(("127.", "localhost", "[::1]")):
        sys.exit("loopback brokers only")
    c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.group, "client.id": a.client_id,
                  "session.timeout.ms": a.session_timeout_ms, "heartbeat.interval.ms": 1000,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "fetch.queue.backoff.ms": 10, "enable.partition.eof": False})
    c.subscribe([a.topic])
    deadline = time.time() + a.timeout
    seen = {}  # partition -> highest offset delivered
    while time.time() < deadline:
        m = c.poll(0.2)
        assignment = c.assignment()
        if m is not None and not m.error():
            seen[m.partition()] = max(seen.get(m.partition(), -1), m.offset())
        if assignment and all(seen.get(tp.partition, -1) >= a.commit_at - 1 for tp in assignment):
            break
    else:
        print(json.dumps({"event": "timeout", "seen": seen}), flush=True)
        c.close()
        sys.exit(1)
    assignment = c.assignment()
    c.commit(offsets=[TopicPartition(a.topic, tp.partition, a.commit_at) for tp in assignment], asynchronous=False)
    c.pause(assignment)
    print(json.dumps({"event": "committed", "member_id": c.memberid(),
                      "assignment": sorted([tp.topic, tp.partition] for tp in assignment),
                      "committed": {str(tp.partition): a.commit_at for tp in assignment}}), flush=True)
    # Serve the consumer (rebalance events) while waiting for the word to leave.
    while True:
        c.poll(0.1)
        ready, _, _ = select.select([sys.stdin], [], [], 0.1)
        if ready:
            sys.stdin.readline()
            break
    c.close()
    print(json.dumps({"event": "left"}), flush=True)


if __name__ == "__main__":
    main()
