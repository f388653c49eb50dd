#!/usr/bin/env python3
"""Verify the TLS/SASL test rig (scripts/secure_rig.sh) with independent clients.

    scripts/secure_rig.sh start
    scripts/check_secure_rig.py [--env .broker/secure/env] [--only SUBSTRING] [--skip-slow]

Two kinds of checks:

* librdkafka (pip confluent-kafka, not our code): produces a few messages through each
  front end and consumes them back: SASL_PLAINTEXT with PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
  and OAUTHBEARER (fixed token from oauth_cb); SSL; SASL_SSL with SCRAM-SHA-512; mutual
  TLS; a legacy broker without SaslAuthenticate (PLAIN and SCRAM-SHA-512 over bare token
  frames); KIP-368 re-authentication on the short-session gateway; and negative cases (wrong
  password, unknown OAuth token, untrusted CA, missing / untrusted client certificate,
  plaintext client against a SASL listener) which must fail and must not deliver.
* raw wire checks (hand-written frames, stdlib + scramp): the exact gateway behaviour a
  client implementation relies on: SaslHandshake v0/v1 answers, error 33 for an unknown
  mechanism, SaslAuthenticate v0/v1/v2 (flexible) encodings, error 58 + message + close,
  close on a request before authentication, in-band re-authentication ordered behind a
  pipelined request, close after session expiry, TLS hostname verification, the legacy
  gateway's ApiVersions (no SaslAuthenticate) and bare-token SCRAM exchange.

Exit status 0 when every check passed. Needs confluent-kafka (pip) and scramp (pip; the
gateway already installed it). Loopback only.
"""
from __future__ import annotations

import argparse
import logging
import os
import socket
import ssl
import struct
import sys
import time
import uuid

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_ENV = os.path.join(REPO_ROOT, ".broker", "secure", "env")

ERR_AUTHENTICATION = -169  # librdkafka RD_KAFKA_RESP_ERR__AUTHENTICATION


def load_env(path: str) -> dict[str, str]:
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, _, v = line.partition("=")
                env[k] = v
    return env


# =============================================================================== librdkafka
def quiet_logger() -> logging.Logger:
    lg = logging.getLogger("rdkafka-quiet")
    lg.addHandler(logging.NullHandler())
    lg.propagate = False
    return lg


def sasl_conf(bootstrap: str, mechanism: str, user: str, password: str, tls_ca: str | None = None,
              token: str | None = None) -> dict:
    conf = {"bootstrap.servers": bootstrap,
            "security.protocol": "SASL_SSL" if tls_ca else "SASL_PLAINTEXT",
            "sasl.mechanism": mechanism}
    if tls_ca:
        conf["ssl.ca.location"] = tls_ca
    if mechanism == "OAUTHBEARER":
        def oauth_cb(_config_str, _tok=token):
            return _tok, time.time() + 3600, "alice", {}
        conf["oauth_cb"] = oauth_cb
    else:
        conf["sasl.username"] = user
        conf["sasl.password"] = password
    return conf


def produce_consume(conf: dict, n: int = 5, timeout: float = 30.0) -> str:
    """Produce n messages to a fresh topic (partition 0) and read them back. Returns a
    short description; raises AssertionError on failure."""
    from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING
    topic = "secure-check-" + uuid.uuid4().hex[:10]
    errors: list[str] = []
    common = dict(conf, logger=quiet_logger(), error_cb=lambda e: errors.append(str(e)))
    p = Producer(dict(common, **{"linger.ms": 5}))
    delivered, failed = [], []

    def on_delivery(err, msg):
        (failed if err else delivered).append(err or msg.offset())

    sent = [("k%d" % i, "value-%d-%s" % (i, uuid.uuid4().hex[:6])) for i in range(n)]
    for k, v in sent:
        p.produce(topic, v.encode(), k.encode(), partition=0, on_delivery=on_delivery)
    left = p.flush(timeout)
    assert left == 0 and not failed and len(delivered) == n, \
        "produce: %d delivered, %d failed %s, %d undelivered; errors %s" % (
            len(delivered), len(failed), failed[:1], left, errors[:2])
    c = Consumer(dict(common, **{"group.id": "secure-check-" + uuid.uuid4().hex[:8],
                                 "enable.auto.commit": False,
                                 "fetch.queue.backoff.ms": 10}))
    try:
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            assert not m.error(), "consume error: %s" % m.error()
            got.append((m.key().decode(), m.value().decode()))
        assert got == sent, "consumed %d/%d messages (errors %s)" % (len(got), n, errors[:2])
    finally:
        c.close()
    return "%d messages produced and consumed back (topic %s)" % (n, topic)


def expect_failure(conf: dict, want: tuple[str, ...], timeout: float = 12.0) -> str:
    """Produce one message; the client must report an error whose text contains one of
    `want` and must not deliver. Returns the first matching error."""
    from confluent_kafka import Producer
    errors: list = []
    delivered: list = []
    p = Producer(dict(conf, logger=quiet_logger(), error_cb=lambda e: errors.append(e),
                      **{"message.timeout.ms": int(timeout * 1000)}))
    p.produce("secure-check-neg", b"must-not-arrive",
              on_delivery=lambda err, msg: delivered.append(err))
    deadline = time.monotonic() + timeout
    match = None
    while time.monotonic() < deadline and match is None:
        p.poll(0.2)
        for e in errors:
            if any(w.lower() in str(e).lower() for w in want):
                match = e
                break
    p.purge()
    p.flush(2)
    assert not any(d is None for d in delivered), "message was delivered although it must fail"
    assert match is not None, "no error matching %s; errors seen: %s" % (
        want, [str(e) for e in errors[:3]])
    return "%s: %s" % (match.name(), match.str()[:150])


def reauth_check(env: dict, state_dir: str) -> str:
    """librdkafka on the short-session gateway: produce, stay connected past the session
    lifetime, produce again; the gateway must have logged in-band re-authentications."""
    from confluent_kafka import Producer
    lifetime = int(env["KAFKA_SASL_SESSION_LIFETIME_MS"])
    log_path = os.path.join(state_dir, "reauth", "gateway.log")

    def reauths() -> int:
        try:
            with open(log_path) as f:
                return sum(1 for line in f if "re-authenticated" in line)
        except OSError:
            return 0

    before = reauths()
    errors: list[str] = []
    conf = sasl_conf(env["KAFKA_SASL_REAUTH_BOOTSTRAP"], "SCRAM-SHA-256",
                     env["KAFKA_SASL_USER"], env["KAFKA_SASL_PASSWORD"])
    p = Producer(dict(conf, logger=quiet_logger(), error_cb=lambda e: errors.append(str(e)),
                      **{"linger.ms": 0}))
    topic = "secure-check-reauth-" + uuid.uuid4().hex[:8]
    delivered = []
    t_end = time.monotonic() + 2.5 * lifetime / 1000.0
    i = 0
    while time.monotonic() < t_end:
        p.produce(topic, b"m%d" % i, partition=0, on_delivery=lambda e, m: delivered.append(e))
        i += 1
        p.flush(10)
        time.sleep(0.25)
    assert p.flush(10) == 0, "undelivered messages"
    bad = [e for e in delivered if e is not None]
    assert not bad and len(delivered) == i, "delivery errors: %s" % bad[:2]
    after = reauths()
    assert after > before, "no re-authentication in %s (errors %s)" % (log_path, errors[:2])
    assert not errors, "client errors: %s" % errors[:2]
    return "%d messages over %.1f s with session_lifetime_ms=%d; %d in-band re-authentication(s)" % (
        i, 2.5 * lifetime / 1000.0, lifetime, after - before)


# =============================================================================== raw wire
def uvarint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def read_uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    v = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        if not b & 0x80:
            return v, pos
        shift += 7


class Raw:
    """Minimal Kafka connection speaking hand-encoded frames."""

    def __init__(self, hostport: str, tls_ca: str | None = None, server_name: str | None = None):
        host, _, port = hostport.rpartition(":")
        sock = socket.create_connection((host, int(port)), timeout=10)
        if tls_ca:
            ctx = ssl.create_default_context(cafile=tls_ca)
            sock = ctx.wrap_socket(sock, server_hostname=server_name or host)
        self.sock = sock
        self.corr = 0

    def close(self):
        self.sock.close()

    def send(self, key: int, ver: int, body: bytes, flexible: bool = False, corr: int | None = None) -> int:
        if corr is None:
            self.corr += 1
            corr = self.corr
        cid = b"kwire-check"
        hdr = struct.pack(">hhih", key, ver, corr, len(cid)) + cid
        if flexible:
            hdr += b"\x00"
        payload = hdr + body
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)
        return corr

    def send_raw_token(self, token: bytes) -> None:
        self.sock.sendall(struct.pack(">i", len(token)) + token)

    def _exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed by peer")
            buf += chunk
        return bytes(buf)

    def recv(self) -> bytes:
        (n,) = struct.unpack(">i", self._exact(4))
        return self._exact(n)

    def closed_by_peer(self, timeout: float = 3.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1)
            return data == b""
        except (ConnectionError, ssl.SSLError, OSError) as e:
            return not isinstance(e, socket.timeout)

    # ---- requests
    def api_versions(self) -> dict[int, tuple[int, int]]:
        corr = self.send(18, 0, b"")
        r = self.recv()
        assert struct.unpack_from(">i", r)[0] == corr
        err, n = struct.unpack_from(">hi", r, 4)
        assert err == 0, "ApiVersions error %d" % err
        return {k: (lo, hi) for k, lo, hi in (struct.unpack_from(">hhh", r, 10 + 6 * i) for i in range(n))}

    def handshake(self, mech: str, ver: int = 1) -> tuple[int, list[str]]:
        m = mech.encode()
        corr = self.send(17, ver, struct.pack(">h", len(m)) + m)
        r = self.recv()
        rc, err, n = struct.unpack_from(">ihi", r)
        assert rc == corr, "handshake correlation id %d != %d" % (rc, corr)
        pos, mechs = 10, []
        for _ in range(n):
            (ln,) = struct.unpack_from(">h", r, pos)
            mechs.append(r[pos + 2: pos + 2 + ln].decode())
            pos += 2 + ln
        return err, mechs

    def authenticate(self, token: bytes, ver: int) -> tuple[int, str | None, bytes, int | None]:
        if ver >= 2:
            corr = self.send(36, ver, uvarint(len(token) + 1) + token + b"\x00", flexible=True)
        else:
            corr = self.send(36, ver, struct.pack(">i", len(token)) + token)
        return self.read_authenticate(corr, ver)

    def read_authenticate(self, corr: int, ver: int):
        r = self.recv()
        assert struct.unpack_from(">i", r)[0] == corr, "authenticate correlation id mismatch"
        if ver >= 2:
            assert r[4] == 0, "response header v1 tagged fields"
            pos = 5
            (err,) = struct.unpack_from(">h", r, pos)
            pos += 2
            n, pos = read_uvarint(r, pos)
            msg = None if n == 0 else r[pos: pos + n - 1].decode()
            pos += max(n - 1, 0)
            n, pos = read_uvarint(r, pos)
            data = r[pos: pos + n - 1]
            pos += n - 1
            (life,) = struct.unpack_from(">q", r, pos)
            pos += 8
            assert r[pos:] == b"\x00", "trailing tagged fields"
            return err, msg, data, life
        err, ln = struct.unpack_from(">hh", r, 4)
        pos = 8
        msg = None if ln < 0 else r[pos: pos + ln].decode()
        pos += max(ln, 0)
        (n,) = struct.unpack_from(">i", r, pos)
        data = r[pos + 4: pos + 4 + n]
        pos += 4 + n
        life = None
        if ver >= 1:
            (life,) = struct.unpack_from(">q", r, pos)
            pos += 8
        assert pos == len(r), "unexpected trailing bytes"
        return err, msg, data, life

    def metadata(self) -> int:
        corr = self.send(3, 1, struct.pack(">i", -1))  # Metadata v1, all topics
        r = self.recv()
        assert struct.unpack_from(">i", r)[0] == corr
        (nbrokers,) = struct.unpack_from(">i", r, 4)
        return nbrokers


def plain_token(user: str, password: str) -> bytes:
    return b"\x00" + user.encode() + b"\x00" + password.encode()


def oauth_token(token: str) -> bytes:
    return b"n,,\x01auth=Bearer " + token.encode() + b"\x01\x01"


def scram_login_raw(conn: Raw, mech: str, user: str, password: str) -> None:
    """SCRAM as bare token frames after SaslHandshake v0 (legacy flow); raises on failure."""
    from scramp import ScramClient
    c = ScramClient([mech], user, password)
    conn.send_raw_token(c.get_client_first().encode())
    c.set_server_first(conn.recv().decode())
    conn.send_raw_token(c.get_client_final().encode())
    c.set_server_final(conn.recv().decode())  # verifies the server signature


def scram_login(conn: Raw, mech: str, user: str, password: str, ver: int) -> tuple[int, str | None, int | None]:
    from scramp import ScramClient
    c = ScramClient([mech], user, password)
    err, msg, data, life = conn.authenticate(c.get_client_first().encode(), ver)
    if err:
        return err, msg, life
    c.set_server_first(data.decode())
    err, msg, data, life = conn.authenticate(c.get_client_final().encode(), ver)
    if err:
        return err, msg, life
    c.set_server_final(data.decode())  # verifies the server signature
    return 0, None, life


AUTH_MSG = "Authentication failed: Invalid username or password"


def raw_checks(env: dict, skip_slow: bool):
    sasl = env["KAFKA_SASL_BOOTSTRAP"]
    user, pw = env["KAFKA_SASL_USER"], env["KAFKA_SASL_PASSWORD"]
    tok = env["KAFKA_OAUTH_TOKEN"]
    mechs_enabled = env["KAFKA_SASL_MECHANISMS"].split(",")

    def api_versions_advertised():
        c = Raw(sasl)
        try:
            t = c.api_versions()
        finally:
            c.close()
        assert t.get(17) == (0, 1) and t.get(36) == (0, 2), "17=%s 36=%s" % (t.get(17), t.get(36))
        return "pre-auth ApiVersions relayed: SaslHandshake 0-1, SaslAuthenticate 0-2 (%d APIs)" % len(t)

    def unknown_mechanism():
        c = Raw(sasl)
        err, mechs = c.handshake("GSSAPI")
        assert err == 33 and mechs == mechs_enabled, (err, mechs)
        assert c.closed_by_peer(), "connection not closed"
        return "error 33, mechanisms %s, then closed" % ",".join(mechs)

    def request_before_auth():
        c = Raw(sasl)
        c.send(3, 1, struct.pack(">i", -1))
        assert c.closed_by_peer(), "Metadata before authentication was not refused"
        c = Raw(sasl)
        c.handshake("PLAIN")
        c.send(3, 1, struct.pack(">i", -1))
        assert c.closed_by_peer(), "Metadata between handshake and authenticate was not refused"
        return "Metadata before / during authentication: connection closed, no response"

    def plain_versions():
        out = []
        for ver in (0, 1, 2):
            c = Raw(sasl)
            err, _ = c.handshake("PLAIN")
            assert err == 0
            err, msg, data, life = c.authenticate(plain_token(user, pw), ver)
            assert (err, msg, data) == (0, None, b""), (err, msg, data)
            assert life == (None if ver == 0 else 0), life
            assert c.metadata() == 1, "Metadata after auth"
            c.close()
            out.append("v%d" % ver)
        return "PLAIN via SaslAuthenticate %s ok, then Metadata relayed" % "/".join(out)

    def plain_bad():
        out = []
        for ver in (1, 2):
            c = Raw(sasl)
            c.handshake("PLAIN")
            err, msg, data, life = c.authenticate(plain_token(user, pw + "x"), ver)
            assert err == 58 and msg == AUTH_MSG and pw not in (msg or ""), (err, msg)
            assert c.closed_by_peer(), "not closed after failure"
            out.append("v%d" % ver)
        return "error 58 %r then close (%s)" % (AUTH_MSG, "/".join(out))

    def scram_versions():
        out = []
        for mech in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
            for ver in (0, 2):
                c = Raw(sasl)
                assert c.handshake(mech)[0] == 0
                err, msg, life = scram_login(c, mech, user, pw, ver)
                assert err == 0, (err, msg)
                assert c.metadata() == 1
                c.close()
            c = Raw(sasl)
            c.handshake(mech)
            err, msg, _ = scram_login(c, mech, user, "wrong", 2)
            assert err == 58 and msg == AUTH_MSG and c.closed_by_peer(), (err, msg)
            c = Raw(sasl)
            c.handshake(mech)
            err, msg, _ = scram_login(c, mech, "mallory", pw, 1)
            assert err == 58 and c.closed_by_peer(), (err, msg)
            out.append(mech)
        return "%s: v0+v2 login with server-signature check; wrong password / unknown user -> 58 + close" % " & ".join(out)

    def oauth():
        c = Raw(sasl)
        c.handshake("OAUTHBEARER")
        err, msg, data, life = c.authenticate(oauth_token(tok), 2)
        assert err == 0, (err, msg)
        assert c.metadata() == 1
        c.close()
        c = Raw(sasl)
        c.handshake("OAUTHBEARER")
        err, msg, _, _ = c.authenticate(oauth_token("not-a-token"), 1)
        assert err == 58 and c.closed_by_peer(), (err, msg)
        c = Raw(sasl)
        c.handshake("OAUTHBEARER")
        err, msg, _, _ = c.authenticate(b"auth=Bearer " + tok.encode(), 1)  # no GS2 header
        assert err == 58 and c.closed_by_peer(), (err, msg)
        return "valid token accepted (v2); unknown token and malformed response -> 58 + close"

    def handshake_v0_legacy():
        c = Raw(sasl)
        err, _ = c.handshake("PLAIN", ver=0)
        assert err == 0
        c.send_raw_token(plain_token(user, pw))
        assert c.recv() == b"", "expected an empty token frame"
        assert c.metadata() == 1
        c.close()
        c = Raw(sasl)
        c.handshake("PLAIN", ver=0)
        c.send_raw_token(plain_token(user, "bad"))
        assert c.closed_by_peer()
        return "SaslHandshake v0 + bare PLAIN token: empty frame then relayed; bad password -> closed"

    def legacy_broker():
        legacy = env["KAFKA_SASL_LEGACY_BOOTSTRAP"]
        c = Raw(legacy)
        t = c.api_versions()
        assert t.get(17) == (0, 0) and 36 not in t, "17=%s 36=%s" % (t.get(17), t.get(36))
        err, mechs = c.handshake("SCRAM-SHA-512", ver=0)
        assert err == 0 and mechs == env["KAFKA_SASL_LEGACY_MECHANISMS"].split(","), (err, mechs)
        scram_login_raw(c, "SCRAM-SHA-512", user, pw)
        assert c.metadata() == 1
        c.close()
        c = Raw(legacy)
        c.handshake("SCRAM-SHA-256", ver=0)
        try:
            scram_login_raw(c, "SCRAM-SHA-256", user, "bad")
            raise AssertionError("wrong SCRAM password accepted")
        except (ConnectionError, OSError):
            pass
        c.close()
        c = Raw(legacy)
        c.send(17, 1, struct.pack(">h", 5) + b"PLAIN")
        assert c.closed_by_peer(), "SaslHandshake v1 answered by a legacy broker"
        err, mechs = Raw(legacy).handshake("OAUTHBEARER", ver=0)
        assert err == 33, err
        return ("ApiVersions: SaslHandshake 0-0, no SaslAuthenticate; bare-token SCRAM-SHA-512 ok; "
                "bad password -> closed; handshake v1 -> closed; OAUTHBEARER -> 33")

    def wrong_name_raw():
        ca = env["KAFKA_TLS_CA"]
        try:
            Raw(env["KAFKA_SSL_WRONG_NAME_BOOTSTRAP"], tls_ca=ca)
            raise AssertionError("a certificate for another name was accepted")
        except ssl.SSLCertVerificationError as e:
            assert "mismatch" in str(e).lower() or "doesn't match" in str(e), e
        c = Raw(env["KAFKA_SSL_WRONG_NAME_BOOTSTRAP"], tls_ca=ca, server_name="wrong-host.invalid")
        c.api_versions()
        c.close()
        return "localhost rejected (hostname mismatch); the certificate's own name verifies"

    def reauth_inband():
        c = Raw(env["KAFKA_SASL_REAUTH_BOOTSTRAP"])
        life_cfg = int(env["KAFKA_SASL_SESSION_LIFETIME_MS"])
        c.handshake("SCRAM-SHA-256")
        err, msg, life = scram_login(c, "SCRAM-SHA-256", user, pw, 1)
        assert err == 0 and life == life_cfg, (err, life)
        # Pipeline: Metadata (relayed) then SaslHandshake (gateway) without waiting; the
        # gateway's answer must come after the broker's.
        m = c.send(3, 1, struct.pack(">i", -1))
        mech = b"SCRAM-SHA-256"
        h = c.send(17, 1, struct.pack(">h", len(mech)) + mech)
        first, second = c.recv(), c.recv()
        got = [struct.unpack_from(">i", first)[0], struct.unpack_from(">i", second)[0]]
        assert got == [m, h], "responses out of order: %s (expected %s)" % (got, [m, h])
        err, msg, life = scram_login(c, "SCRAM-SHA-256", user, pw, 2)
        assert err == 0 and life == life_cfg, (err, msg, life)
        assert c.metadata() == 1
        # Re-authentication may not switch mechanism.
        err, _ = c.handshake("PLAIN")
        assert err == 33 and c.closed_by_peer(), err
        return "session_lifetime_ms=%d; pipelined Metadata+SaslHandshake answered in order; " \
               "re-auth v2 ok; mechanism change -> 33 + close" % life_cfg

    def session_expiry():
        c = Raw(env["KAFKA_SASL_REAUTH_BOOTSTRAP"])
        c.handshake("PLAIN")
        err, _, _, life = c.authenticate(plain_token(user, pw), 1)
        assert err == 0
        assert c.metadata() == 1
        time.sleep(life / 1000.0 + 0.5)
        c.send(3, 1, struct.pack(">i", -1))
        assert c.closed_by_peer(), "request after session expiry was answered"
        return "request %.1f s after authentication (lifetime %d ms): connection closed" % (
            life / 1000.0 + 0.5, life)

    def tls_raw():
        ca, name = env["KAFKA_TLS_CA"], env["KAFKA_TLS_SERVER_NAME"]
        c = Raw(env["KAFKA_SSL_BOOTSTRAP"], tls_ca=ca, server_name=name)
        version = c.sock.version()
        assert c.metadata() == 1
        c.close()
        c = Raw(env["KAFKA_SSL_BOOTSTRAP"].replace("localhost", "127.0.0.1"), tls_ca=ca)
        c.api_versions()
        c.close()
        try:
            Raw(env["KAFKA_SSL_BOOTSTRAP"], tls_ca=ca, server_name="broker.example.com")
            raise AssertionError("hostname mismatch was accepted")
        except ssl.SSLCertVerificationError:
            pass
        return "%s; name localhost and IP 127.0.0.1 verify; other name rejected" % version

    def mtls_raw():
        ctx = ssl.create_default_context(cafile=env["KAFKA_TLS_CA"])
        ctx.load_cert_chain(env["KAFKA_TLS_CLIENT_CERT"], env["KAFKA_TLS_CLIENT_KEY"])
        host, _, port = env["KAFKA_MTLS_BOOTSTRAP"].rpartition(":")
        c = Raw.__new__(Raw)
        c.sock = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=10),
                                 server_hostname=host)
        c.corr = 0
        assert c.metadata() == 1
        c.close()
        ctx2 = ssl.create_default_context(cafile=env["KAFKA_TLS_CA"])
        c = Raw.__new__(Raw)
        c.sock = ctx2.wrap_socket(socket.create_connection((host, int(port)), timeout=10),
                                  server_hostname=host)
        c.corr = 0
        try:
            c.api_versions()
            raise AssertionError("no client certificate but the request was answered")
        except (ssl.SSLError, ConnectionError, OSError):
            pass
        return "with client cert: Metadata ok; without: TLS alert / closed"

    checks = [
        ("raw: pre-auth ApiVersions", api_versions_advertised),
        ("raw: SaslHandshake unknown mechanism", unknown_mechanism),
        ("raw: request before authentication", request_before_auth),
        ("raw: PLAIN SaslAuthenticate v0/v1/v2", plain_versions),
        ("raw: PLAIN wrong password", plain_bad),
        ("raw: SCRAM-SHA-256/512", scram_versions),
        ("raw: OAUTHBEARER", oauth),
        ("raw: SaslHandshake v0 legacy flow", handshake_v0_legacy),
        ("raw: in-band re-authentication", reauth_inband),
        ("raw: TLS hostname verification", tls_raw),
        ("raw: mutual TLS", mtls_raw),
        ("raw: legacy broker (no SaslAuthenticate)", legacy_broker),
        ("raw: TLS certificate for another host name", wrong_name_raw),
    ]
    if not skip_slow:
        checks.append(("raw: session expiry", session_expiry))
    return checks


# =============================================================================== main
def librdkafka_checks(env: dict, state_dir: str, skip_slow: bool):
    user, pw, tok = env["KAFKA_SASL_USER"], env["KAFKA_SASL_PASSWORD"], env["KAFKA_OAUTH_TOKEN"]
    sasl, ca = env["KAFKA_SASL_BOOTSTRAP"], env["KAFKA_TLS_CA"]
    ssl_conf = {"bootstrap.servers": env["KAFKA_SSL_BOOTSTRAP"], "security.protocol": "SSL",
                "ssl.ca.location": ca}
    mtls_conf = {"bootstrap.servers": env["KAFKA_MTLS_BOOTSTRAP"], "security.protocol": "SSL",
                 "ssl.ca.location": ca, "ssl.certificate.location": env["KAFKA_TLS_CLIENT_CERT"],
                 "ssl.key.location": env["KAFKA_TLS_CLIENT_KEY"]}
    auth_err = ("Authentication failed", "SASL authentication error")
    tls_err = ("certificate verify failed", "SSL handshake failed", "ssl")
    checks = [
        ("librdkafka: SASL_PLAINTEXT PLAIN",
         lambda: produce_consume(sasl_conf(sasl, "PLAIN", user, pw))),
        ("librdkafka: SASL_PLAINTEXT SCRAM-SHA-256",
         lambda: produce_consume(sasl_conf(sasl, "SCRAM-SHA-256", user, pw))),
        ("librdkafka: SASL_PLAINTEXT SCRAM-SHA-512",
         lambda: produce_consume(sasl_conf(sasl, "SCRAM-SHA-512", user, pw))),
        ("librdkafka: SASL_PLAINTEXT OAUTHBEARER (oauth_cb)",
         lambda: produce_consume(sasl_conf(sasl, "OAUTHBEARER", user, pw, token=tok))),
        ("librdkafka: SSL (ssl.ca.location)", lambda: produce_consume(ssl_conf)),
        ("librdkafka: SASL_SSL SCRAM-SHA-512",
         lambda: produce_consume(sasl_conf(env["KAFKA_SASL_SSL_BOOTSTRAP"], "SCRAM-SHA-512",
                                           user, pw, tls_ca=ca))),
        ("librdkafka: SASL_SSL PLAIN",
         lambda: produce_consume(sasl_conf(env["KAFKA_SASL_SSL_BOOTSTRAP"], "PLAIN",
                                           user, pw, tls_ca=ca))),
        ("librdkafka: mutual TLS (client cert/key)", lambda: produce_consume(mtls_conf)),
        ("librdkafka: legacy broker (no SaslAuthenticate) PLAIN",
         lambda: produce_consume(sasl_conf(env["KAFKA_SASL_LEGACY_BOOTSTRAP"], "PLAIN", user, pw))),
        ("librdkafka: legacy broker (no SaslAuthenticate) SCRAM-SHA-512",
         lambda: produce_consume(sasl_conf(env["KAFKA_SASL_LEGACY_BOOTSTRAP"], "SCRAM-SHA-512",
                                           user, pw))),
        ("librdkafka NEG: legacy broker, SCRAM-SHA-256 wrong password",
         lambda: expect_failure(sasl_conf(env["KAFKA_SASL_LEGACY_BOOTSTRAP"], "SCRAM-SHA-256",
                                          user, "wrong"),
                                auth_err + ("Disconnected", "brokers are down"))),
        ("librdkafka NEG: SSL, certificate for another host name",
         lambda: expect_failure(dict(ssl_conf, **{
             "bootstrap.servers": env["KAFKA_SSL_WRONG_NAME_BOOTSTRAP"]}), tls_err)),
        ("librdkafka NEG: PLAIN wrong password",
         lambda: expect_failure(sasl_conf(sasl, "PLAIN", user, "wrong"), auth_err)),
        ("librdkafka NEG: SCRAM-SHA-256 wrong password",
         lambda: expect_failure(sasl_conf(sasl, "SCRAM-SHA-256", user, "wrong"), auth_err)),
        ("librdkafka NEG: SASL_SSL SCRAM-SHA-512 wrong password",
         lambda: expect_failure(sasl_conf(env["KAFKA_SASL_SSL_BOOTSTRAP"], "SCRAM-SHA-512",
                                          user, "wrong", tls_ca=ca), auth_err)),
        ("librdkafka NEG: OAUTHBEARER unknown token",
         lambda: expect_failure(sasl_conf(sasl, "OAUTHBEARER", user, pw, token="tok-bogus"),
                                auth_err)),
        ("librdkafka NEG: SSL with the wrong CA",
         lambda: expect_failure(dict(ssl_conf, **{"ssl.ca.location": env["KAFKA_TLS_UNTRUSTED_CA"]}),
                                tls_err)),
        ("librdkafka NEG: mTLS without client certificate",
         lambda: expect_failure({k: v for k, v in mtls_conf.items()
                                 if k not in ("ssl.certificate.location", "ssl.key.location")},
                                tls_err + ("Disconnected", "Connection reset", "brokers are down"))),
        ("librdkafka NEG: mTLS with untrusted client certificate",
         lambda: expect_failure(dict(mtls_conf, **{
             "ssl.certificate.location": env["KAFKA_TLS_UNTRUSTED_CLIENT_CERT"],
             "ssl.key.location": env["KAFKA_TLS_UNTRUSTED_CLIENT_KEY"]}),
             tls_err + ("Disconnected", "Connection reset", "brokers are down"))),
        ("librdkafka NEG: PLAINTEXT client on the SASL listener",
         lambda: expect_failure({"bootstrap.servers": sasl},
                                ("Disconnected", "brokers are down", "Connection reset"))),
    ]
    if not skip_slow:
        checks.append(("librdkafka: KIP-368 re-authentication (SCRAM-SHA-256)",
                       lambda: reauth_check(env, state_dir)))
    return checks


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", default=DEFAULT_ENV, help="env file from secure_rig.sh start")
    ap.add_argument("--only", default="", help="run only checks whose name contains this")
    ap.add_argument("--skip-slow", action="store_true", help="skip the session-lifetime checks")
    args = ap.parse_args(argv)
    if not os.path.exists(args.env):
        print("no env file %s: run scripts/secure_rig.sh start first" % args.env, file=sys.stderr)
        return 2
    env = load_env(args.env)
    try:
        import confluent_kafka
        v = confluent_kafka.version()
        print("confluent-kafka %s, librdkafka %s" % (v[0] if isinstance(v, tuple) else v,
                                                     confluent_kafka.libversion()[0]))
    except ImportError:
        print("pip install confluent-kafka first", file=sys.stderr)
        return 2
    state_dir = os.path.dirname(os.path.abspath(args.env))
    checks = librdkafka_checks(env, state_dir, args.skip_slow) + raw_checks(env, args.skip_slow)
    failed = 0
    for name, fn in checks:
        if args.only and args.only.lower() not in name.lower():
            continue
        t0 = time.monotonic()
        try:
            detail = fn()
            status = "PASS"
        except Exception as e:  # report and continue
            detail = "%s: %s" % (type(e).__name__, e)
            status = "FAIL"
            failed += 1
        print("%s  %-55s %5.1fs  %s" % (status, name, time.monotonic() - t0, detail), flush=True)
    print("%d check(s) failed" % failed if failed else "all checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
