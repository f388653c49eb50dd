#!/usr/bin/env python3
"""Wait until a Kafka-compatible broker answers an ApiVersions request.

Usage:
    wait_for_kafka.py HOST:PORT [TIMEOUT_SECONDS] [--print-versions] [--quiet]

Sends a raw ApiVersions v0 request (api_key 18, version 0, request header v1)
over a plain TCP socket and waits for a well-formed response carrying the same
correlation id. Stdlib only: no Kafka client library is needed.

Exit status: 0 when the broker answered, 1 on timeout, 2 on bad usage.
With --print-versions the advertised (api_key, min, max) table is printed to
stdout once the broker answers.

Importable: ``probe(host, port, timeout)`` returns the version table or raises.
"""
from __future__ import annotations

import socket
import struct
import sys
import time

API_VERSIONS = 18
CLIENT_ID = b"kwire-wait"


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def build_request(correlation_id: int) -> bytes:
    # request header v1: api_key int16, api_version int16, correlation_id int32,
    # client_id nullable string (int16 length + bytes); ApiVersions v0 has no body.
    payload = struct.pack(">hhih", API_VERSIONS, 0, correlation_id, len(CLIENT_ID)) + CLIENT_ID
    return struct.pack(">i", len(payload)) + payload


def parse_response(payload: bytes, correlation_id: int) -> list[tuple[int, int, int]]:
    # response header v0: correlation_id int32
    # ApiVersions v0 body: error_code int16, api_keys [api_key int16, min int16, max int16]
    if len(payload) < 10:
        raise ValueError("short ApiVersions response (%d bytes)" % len(payload))
    cid, err, n = struct.unpack_from(">ihi", payload, 0)
    if cid != correlation_id:
        raise ValueError("correlation id mismatch: sent %d got %d" % (correlation_id, cid))
    if err != 0:
        raise ValueError("ApiVersions error_code %d" % err)
    if n < 0 or len(payload) < 10 + 6 * n:
        raise ValueError("malformed api_keys array (n=%d, %d bytes)" % (n, len(payload)))
    return [struct.unpack_from(">hhh", payload, 10 + 6 * i) for i in range(n)]


def probe(host: str, port: int, timeout: float = 2.0) -> list[tuple[int, int, int]]:
    """One ApiVersions v0 round trip; returns [(api_key, min, max), ...]."""
    cid = int(time.time() * 1000) & 0x7FFFFFFF
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(timeout)
        s.sendall(build_request(cid))
        (size,) = struct.unpack(">i", _recv_exact(s, 4))
        if size < 4 or size > 1 << 20:
            raise ValueError("implausible response size %d" % size)
        return parse_response(_recv_exact(s, size), cid)


def wait(host: str, port: int, timeout: float = 15.0, quiet: bool = False):
    deadline = time.monotonic() + timeout
    last_err: Exception | None = None
    while True:
        try:
            return probe(host, port, timeout=min(2.0, max(0.2, deadline - time.monotonic())))
        except (OSError, ValueError) as e:  # ConnectionError is an OSError
            last_err = e
        if time.monotonic() >= deadline:
            if not quiet:
                print("wait_for_kafka: %s:%d not ready after %.1fs: %s" % (host, port, timeout, last_err),
                      file=sys.stderr)
            return None
        time.sleep(0.1)


def main(argv: list[str]) -> int:
    flags = {a for a in argv if a.startswith("--")}
    args = [a for a in argv if not a.startswith("--")]
    if not args or len(args) > 2 or flags - {"--print-versions", "--quiet"}:
        print(__doc__, file=sys.stderr)
        return 2
    host, _, port_s = args[0].rpartition(":")
    if not host or not port_s.isdigit():
        print("wait_for_kafka: expected HOST:PORT, got %r" % args[0], file=sys.stderr)
        return 2
    timeout = float(args[1]) if len(args) > 1 else 15.0
    t0 = time.monotonic()
    versions = wait(host, int(port_s), timeout, quiet="--quiet" in flags)
    if versions is None:
        return 1
    if "--quiet" not in flags:
        print("wait_for_kafka: %s:%s answered ApiVersions (%d APIs) after %.2fs"
              % (host, port_s, len(versions), time.monotonic() - t0), file=sys.stderr)
    if "--print-versions" in flags:
        for key, lo, hi in sorted(versions):
            print("%d %d %d" % (key, lo, hi))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
