#!/usr/bin/env python3
"""Recording TCP proxy for the Kafka wire protocol (stdlib only).

    capture_proxy.py --listen 127.0.0.1:LP --upstream 127.0.0.1:BP --out DIR

Forwards bytes unchanged in both directions and records every Kafka request
frame and its matching response frame into DIR:

    NNNN-<ApiName>-v<V>.request.bin
    NNNN-<ApiName>-v<V>.response.bin

NNNN is a global sequence number (across all connections, assigned when the
request is seen, zero padded to 4 digits). Each file holds exactly one frame as
on the wire: int32 big-endian size followed by `size` payload bytes. Responses
are matched per connection by correlation id (request header: int16 api_key,
int16 api_version, int32 correlation_id; response header starts with int32
correlation_id). Produce with acks=0 normally gets no response and so only a
request file (Tansu 0.6.0 answers it anyway; that response is recorded and
marked in the index); so do requests still unanswered when the connection
closes.

DIR/index.tsv lists every recorded exchange (seq, connection, api, version,
correlation id, sizes, latency, outcome). It is rewritten, sorted, on stop.

Clients learn broker addresses from Metadata, so the broker behind the proxy
must advertise the PROXY's address (tansu --advertised-listener-url
tcp://127.0.0.1:LP while listening on BP); otherwise only the bootstrap
connection is captured.

--listen 127.0.0.1:0 picks a free port; the chosen address is printed on
stdout as `listening 127.0.0.1:PORT`. Stops on SIGINT/SIGTERM.
Importable: CaptureProxy(listen, upstream, out_dir).start() / .stop().

Limitation: after SaslHandshake v0 the SASL tokens are unframed-by-header;
such frames would be misparsed (we never use SASL v0 in captures).
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import struct
import sys
import threading
import time

API_NAMES = {
    0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 4: "LeaderAndIsr",
    5: "StopReplica", 6: "UpdateMetadata", 7: "ControlledShutdown", 8: "OffsetCommit",
    9: "OffsetFetch", 10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat",
    13: "LeaveGroup", 14: "SyncGroup", 15: "DescribeGroups", 16: "ListGroups",
    17: "SaslHandshake", 18: "ApiVersions", 19: "CreateTopics", 20: "DeleteTopics",
    21: "DeleteRecords", 22: "InitProducerId", 23: "OffsetForLeaderEpoch",
    24: "AddPartitionsToTxn", 25: "AddOffsetsToTxn", 26: "EndTxn", 27: "WriteTxnMarkers",
    28: "TxnOffsetCommit", 29: "DescribeAcls", 30: "CreateAcls", 31: "DeleteAcls",
    32: "DescribeConfigs", 33: "AlterConfigs", 34: "AlterReplicaLogDirs",
    35: "DescribeLogDirs", 36: "SaslAuthenticate", 37: "CreatePartitions",
    38: "CreateDelegationToken", 39: "RenewDelegationToken", 40: "ExpireDelegationToken",
    41: "DescribeDelegationToken", 42: "DeleteGroups", 43: "ElectLeaders",
    44: "IncrementalAlterConfigs", 45: "AlterPartitionReassignments",
    46: "ListPartitionReassignments", 47: "OffsetDelete", 48: "DescribeClientQuotas",
    49: "AlterClientQuotas", 50: "DescribeUserScramCredentials",
    51: "AlterUserScramCredentials", 52: "Vote", 53: "BeginQuorumEpoch",
    54: "EndQuorumEpoch", 55: "DescribeQuorum", 56: "AlterPartition", 57: "UpdateFeatures",
    58: "Envelope", 59: "FetchSnapshot", 60: "DescribeCluster", 61: "DescribeProducers",
    62: "BrokerRegistration", 63: "BrokerHeartbeat", 64: "UnregisterBroker",
    65: "DescribeTransactions", 66: "ListTransactions", 67: "AllocateProducerIds",
    68: "ConsumerGroupHeartbeat", 69: "ConsumerGroupDescribe", 70: "ControllerRegistration",
    71: "GetTelemetrySubscriptions", 72: "PushTelemetry", 73: "AssignReplicasToDirs",
    74: "ListConfigResources", 75: "DescribeTopicPartitions", 76: "ShareGroupHeartbeat",
    77: "ShareGroupDescribe", 78: "ShareFetch", 79: "ShareAcknowledge", 80: "AddRaftVoter",
    81: "RemoveRaftVoter", 82: "UpdateRaftVoter", 83: "InitializeShareGroupState",
    84: "ReadShareGroupState", 85: "WriteShareGroupState", 86: "DeleteShareGroupState",
    87: "ReadShareGroupStateSummary", 88: "StreamsGroupHeartbeat",
    89: "StreamsGroupDescribe", 90: "DescribeShareGroupOffsets",
    91: "AlterShareGroupOffsets", 92: "DeleteShareGroupOffsets",
}

MAX_FRAME = 256 * 1024 * 1024


def api_name(key: int) -> str:
    return API_NAMES.get(key, "ApiKey%d" % key)


def _uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
        if shift > 35:
            raise ValueError("uvarint too long")


def produce_acks(payload: bytes, version: int) -> int | None:
    """acks of a Produce request payload (without the size prefix); None if unparsable."""
    try:
        pos = 8
        (clen,) = struct.unpack_from(">h", payload, pos)  # client_id: never compact
        pos += 2 + max(clen, 0)
        if version >= 9:  # request header v2: tagged fields
            n, pos = _uvarint(payload, pos)
            for _ in range(n):
                _, pos = _uvarint(payload, pos)
                size, pos = _uvarint(payload, pos)
                pos += size
        if version >= 3:  # transactional_id
            if version >= 9:
                ln, pos = _uvarint(payload, pos)
                pos += max(ln - 1, 0)
            else:
                (ln,) = struct.unpack_from(">h", payload, pos)
                pos += 2 + max(ln, 0)
        (acks,) = struct.unpack_from(">h", payload, pos)
        return acks
    except (struct.error, IndexError, ValueError):
        return None


class FrameSplitter:
    """Accumulates a byte stream and yields complete size-prefixed frames."""

    def __init__(self):
        self.buf = bytearray()
        self.broken = False

    def feed(self, data: bytes) -> list[bytes]:
        if self.broken:
            return []
        self.buf += data
        frames = []
        while len(self.buf) >= 4:
            (size,) = struct.unpack_from(">i", self.buf, 0)
            if size < 0 or size > MAX_FRAME:
                self.broken = True
                self.buf.clear()
                break
            if len(self.buf) < 4 + size:
                break
            frames.append(bytes(self.buf[: 4 + size]))
            del self.buf[: 4 + size]
        return frames


class CaptureProxy:
    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int], out_dir: str,
                 log=None, verbose: bool = False):
        self.upstream = upstream
        self.out_dir = out_dir
        os.makedirs(out_dir, exist_ok=True)
        self.verbose = verbose
        self._log_stream = log or sys.stderr
        self._lock = threading.Lock()
        self._seq = 0
        self._conn_seq = 0
        self._index: list[tuple] = []
        self._conns: set[socket.socket] = set()
        self._pending_all: dict[int, dict] = {}  # conn id -> pending dict (for stop())
        self._stopped = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(listen)
        self._listener.listen(64)
        self.address = self._listener.getsockname()
        self.port = self.address[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, name="proxy-accept",
                                               daemon=True)
        self._index_file = open(os.path.join(out_dir, "index.tsv"), "w")
        self._write_index_header(self._index_file)

    # ------------------------------------------------------------------ public
    def start(self) -> "CaptureProxy":
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            socks = list(self._conns)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        self._accept_thread.join(timeout=2)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending_all:
                    break
            time.sleep(0.02)
        with self._lock:
            for cid, pending in list(self._pending_all.items()):
                self._flush_unanswered(cid, pending)
            self._pending_all.clear()
            self._index_file.close()
            # rewrite the index sorted by sequence number
            with open(os.path.join(self.out_dir, "index.tsv"), "w") as f:
                self._write_index_header(f)
                for row in sorted(self._index):
                    f.write("\t".join(str(x) for x in row) + "\n")

    def summary(self) -> list[tuple]:
        with self._lock:
            return sorted(self._index)

    # ---------------------------------------------------------------- internal
    def _log(self, msg: str) -> None:
        print("capture_proxy: " + msg, file=self._log_stream, flush=True)

    @staticmethod
    def _write_index_header(f) -> None:
        f.write("seq\tconn\tapi_key\tapi\tversion\tcorrelation_id\trequest_bytes\t"
                "response_bytes\tlatency_ms\toutcome\n")

    def _add_index(self, row: tuple) -> None:  # caller holds the lock
        self._index.append(row)
        self._index_file.write("\t".join(str(x) for x in row) + "\n")
        self._index_file.flush()

    def _flush_unanswered(self, cid: int, pending: dict) -> None:  # caller holds the lock
        for corr, (seq, key, ver, _t0, reqlen, acks0) in sorted(pending.items(),
                                                                key=lambda kv: kv[1][0]):
            self._add_index((seq, cid, key, api_name(key), ver, corr, reqlen, "-", "-",
                             "no-response(acks=0)" if acks0 else "unanswered"))
        pending.clear()

    def _write(self, name: str, frame: bytes) -> None:
        path = os.path.join(self.out_dir, name)
        with open(path + ".tmp", "wb") as f:
            f.write(frame)
        os.replace(path + ".tmp", path)

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, peer = self._listener.accept()
            except OSError:
                break
            try:
                up = socket.create_connection(self.upstream, timeout=5)
                up.settimeout(None)
            except OSError as e:
                self._log("upstream %s:%d unreachable: %s" % (self.upstream + (e,)))
                client.close()
                continue
            for s in (client, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._conn_seq += 1
                cid = self._conn_seq
                self._conns.update((client, up))
                pending: dict = {}
                self._pending_all[cid] = pending
            if self.verbose:
                self._log("conn %d from %s:%d" % ((cid,) + peer[:2]))
            state = {"open": 2}
            threading.Thread(target=self._pump, args=(cid, client, up, True, pending, state),
                             name="c2s-%d" % cid, daemon=True).start()
            threading.Thread(target=self._pump, args=(cid, up, client, False, pending, state),
                             name="s2c-%d" % cid, daemon=True).start()

    def _on_request(self, cid: int, frame: bytes, pending: dict) -> None:
        if len(frame) < 12:
            return
        key, ver, corr = struct.unpack_from(">hhi", frame, 4)
        with self._lock:
            self._seq += 1
            seq = self._seq
        name = "%04d-%s-v%d" % (seq, api_name(key), ver)
        self._write(name + ".request.bin", frame)
        # Produce with acks=0 expects no response. It stays pending anyway, because some
        # brokers (Tansu 0.6.0) answer it regardless; if nothing comes it is indexed as
        # no-response(acks=0) when the connection closes.
        acks0 = key == 0 and produce_acks(frame[4:], ver) == 0
        with self._lock:
            pending[corr] = (seq, key, ver, time.monotonic(), len(frame), acks0)
        if self.verbose:
            self._log("conn %d -> %s" % (cid, name))

    def _on_response(self, cid: int, frame: bytes, pending: dict) -> None:
        if len(frame) < 8:
            return
        (corr,) = struct.unpack_from(">i", frame, 4)
        with self._lock:
            entry = pending.pop(corr, None)
            if entry is None:
                self._seq += 1
                seq = self._seq
        if entry is None:
            self._log("conn %d: response with unknown correlation id %d" % (cid, corr))
            self._write("%04d-Unmatched.response.bin" % seq, frame)
            with self._lock:
                self._add_index((seq, cid, -1, "Unmatched", -1, corr, "-", len(frame), "-",
                                 "unmatched-response"))
            return
        seq, key, ver, t0, reqlen, acks0 = entry
        self._write("%04d-%s-v%d.response.bin" % (seq, api_name(key), ver), frame)
        with self._lock:
            self._add_index((seq, cid, key, api_name(key), ver, corr, reqlen, len(frame),
                             "%.1f" % ((time.monotonic() - t0) * 1000),
                             "ok(response-to-acks=0)" if acks0 else "ok"))

    def _pump(self, cid, src, dst, is_request, pending, state) -> None:
        splitter = FrameSplitter()
        try:
            while True:
                try:
                    data = src.recv(262144)
                except OSError:
                    data = b""
                if not data:
                    break
                # Record BEFORE forwarding so a request is registered before its response exists.
                for frame in splitter.feed(data):
                    try:
                        if is_request:
                            self._on_request(cid, frame, pending)
                        else:
                            self._on_response(cid, frame, pending)
                    except Exception as e:  # never let recording break forwarding
                        self._log("conn %d: record error: %r" % (cid, e))
                try:
                    dst.sendall(data)
                except OSError:
                    break
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)  # propagate half-close
            except OSError:
                pass
            with self._lock:
                state["open"] -= 1
                last = state["open"] == 0
            if last:
                for s in (src, dst):
                    try:
                        s.close()
                    except OSError:
                        pass
                with self._lock:
                    self._conns.discard(src)
                    self._conns.discard(dst)
                    if self._pending_all.pop(cid, None) is not None and not self._index_file.closed:
                        self._flush_unanswered(cid, pending)
                if self.verbose:
                    self._log("conn %d closed" % cid)


def _hostport(s: str) -> tuple[str, int]:
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, got %r" % s)
    return host, int(port)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", type=_hostport, required=True, help="HOST:PORT to accept clients on")
    ap.add_argument("--upstream", type=_hostport, required=True, help="broker HOST:PORT")
    ap.add_argument("--out", required=True, help="directory for the frame files")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    proxy = CaptureProxy(args.listen, args.upstream, args.out, verbose=args.verbose).start()
    print("listening %s:%d" % proxy.address[:2], flush=True)
    proxy._log("forwarding %s:%d -> %s:%d, recording into %s"
               % (proxy.address[:2] + args.upstream + (args.out,)))

    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(0.5):
        pass
    proxy.stop()
    rows = proxy.summary()
    proxy._log("stopped; %d exchanges recorded in %s" % (len(rows), args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
