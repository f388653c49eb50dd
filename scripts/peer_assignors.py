#!/usr/bin/env python3
"""Run kafka-python's own assignors and payload codecs on cases KafkaWire sends on stdin.

    peer_assignors.py < cases.json > results.json

An oracle for KafkaWire's assignor tests: code nobody here wrote decides the expected answer.
Input: {"cases": [{"assignor": "range"|"roundrobin",
                   "members": [{"id": M, "instance": I|null, "subscription": HEX}],
                   "partitions": {"topic": count}}],
        "subscriptions": [HEX], "assignments": [HEX]}
Each member's subscription is KafkaWire's ConsumerProtocolSubscription bytes, decoded here by
kafka-python (so the payload encoder is checked too). Output: {"cases": [{member: [[topic, p]]}],
"subscriptions": [{version, topics, user_data, owned_partitions, generation_id, rack_id}],
"assignments": [{version, partitions, user_data}]} (bytes as hex). Pure computation: no broker.
"""
import json
import sys

from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment, ConsumerProtocolSubscription

ASSIGNORS = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}


class Cluster:
    def __init__(self, counts):
        self.counts = counts

    def partitions_for_topic(self, topic):
        return set(range(self.counts[topic])) if topic in self.counts else None


class Member:
    def __init__(self, member_id, instance, metadata):
        self.member_id = member_id
        self.group_instance_id = instance
        self.metadata = metadata


def hexed(b):
    return None if b is None else bytes(b).hex()


def run_case(case):
    members = [Member(m["id"], m["instance"], ConsumerProtocolSubscription.decode(bytes.fromhex(m["subscription"])))
               for m in case["members"]]
    out = ASSIGNORS[case["assignor"]].assign(Cluster(case["partitions"]), members)
    return {mid: [[t, p] for t, ps in a.assigned_partitions for p in ps] for mid, a in out.items()}


def subscription(h):
    s = ConsumerProtocolSubscription.decode(bytes.fromhex(h))
    return {"version": s.version, "topics": list(s.topics), "user_data": hexed(s.user_data),
            "owned_partitions": [[tp.topic, list(tp.partitions)] for tp in (s.owned_partitions or [])],
            "generation_id": s.generation_id, "rack_id": s.rack_id}


def assignment(h):
    a = ConsumerProtocolAssignment.decode(bytes.fromhex(h))
    return {"version": a.version, "partitions": [[t, list(ps)] for t, ps in a.assigned_partitions],
            "user_data": hexed(a.user_data)}


def main():
    req = json.load(sys.stdin)
    json.dump({"cases": [run_case(c) for c in req.get("cases", [])],
               "subscriptions": [subscription(h) for h in req.get("subscriptions", [])],
               "assignments": [assignment(h) for h in req.get("assignments", [])]}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
