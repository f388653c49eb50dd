#!/usr/bin/env python3
"""SASL gateway in front of a Kafka-compatible broker (test rig only; loopback only).

    sasl_gateway.py --listen 127.0.0.1:G --upstream 127.0.0.1:B \\
        --user alice:alice-secret [--user bob:bob-secret ...] \\
        [--mechanisms PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER] \\
        [--oauth-token tok-123[=PRINCIPAL] ...] [--session-lifetime-ms N] [--allow-reauth] \\
        [--oauth-kafka-failure] [--legacy-broker] [-v]

Tansu 0.6.0 advertises SaslHandshake/SaslAuthenticate but cannot authenticate anybody,
so this gateway runs the server side of SASL itself and then relays bytes to Tansu.
For each client connection it opens one connection to the upstream broker and:

  * ApiVersions (18) before authentication: relayed to the broker and back. The response
    is checked to advertise SaslHandshake 0-1 and SaslAuthenticate 0-2 (what this gateway
    implements) and patched when it does not (Tansu 0.6.0 already does).
  * SaslHandshake (17, v0/v1): answered by the gateway: error 0 and the enabled mechanisms,
    or error 33 UNSUPPORTED_SASL_MECHANISM (then the connection is closed, as Kafka does).
    After a v0 handshake the SASL tokens travel as bare size-prefixed frames (legacy
    Kafka 0.10 flow): supported too.
  * SaslAuthenticate (36, v0-v2; v2 is flexible: request header v2, compact bytes,
    tagged fields, response header v1): PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (PyPI `scramp`,
    credentials derived from --user with 4096 iterations) and OAUTHBEARER (RFC 7628 client
    response `n,[a=authzid],\\x01auth=Bearer TOKEN\\x01[k=v\\x01...]\\x01`; TOKEN must be one of
    --oauth-token). Failure: error 58 SASL_AUTHENTICATION_FAILED with error_message
    "Authentication failed: Invalid username or password" (secrets are never echoed), then
    the connection is closed once the response is sent.
  * Any other request before authentication completes: the connection is closed without a
    response (Kafka: IllegalSaslStateException).
  * After authentication: byte pass-through both ways (frames are not even parsed), unless
    --session-lifetime-ms > 0 or --allow-reauth, see below.

Re-authentication (KIP-368): with --session-lifetime-ms N (> 0) SaslAuthenticate v1+
responses carry session_lifetime_ms = N and the gateway keeps parsing frames after
authentication: a SaslHandshake + SaslAuthenticate arriving later on the connection is
answered by the gateway, in order with the broker's responses to earlier requests (the
answer waits until every earlier relayed request has been answered). The mechanism and the
principal must not change. A request other than SaslHandshake arriving after the session
expired closes the connection (as Kafka does). --allow-reauth enables the same in-band
re-authentication with session_lifetime_ms = 0 (no expiry).

--legacy-broker: behave like a Kafka 0.10/0.11 broker, which has no SaslAuthenticate (API
key 36, added in 1.0 by KIP-152): the ApiVersions answer lists SaslHandshake v0 only and no
SaslAuthenticate; SaslHandshake v1+ and SaslAuthenticate requests close the connection
(unknown to such a broker); after the v0 handshake the tokens must come as bare
size-prefixed frames and are answered the same way, still checked with scramp. A failed
exchange closes the connection without an answer, as those brokers did.

--oauth-kafka-failure: reject a bad OAUTHBEARER token like Kafka does (first an error-free
response carrying the JSON challenge {"status":"invalid_token"}; the client answers with
%x01; then error 58). Default: reject at once with error 58.

--listen 127.0.0.1:0 picks a free port. The first line on stdout is always the actual
listening address `127.0.0.1:PORT` (flushed) so a wrapper can read it; logs go to stderr.
Stops on SIGINT/SIGTERM.

Requires PyPI `scramp` for SCRAM: if it is missing the gateway installs it with
`python3 -m pip install scramp` on start-up (only when a SCRAM mechanism is enabled).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import hmac
import itertools
import re
import signal
import socket
import struct
import subprocess
import sys
import time

API_PRODUCE = 0
API_SASL_HANDSHAKE = 17
API_API_VERSIONS = 18
API_SASL_AUTHENTICATE = 36

ERR_NONE = 0
ERR_UNSUPPORTED_SASL_MECHANISM = 33
ERR_SASL_AUTHENTICATION_FAILED = 58

AUTH_FAILED_MESSAGE = "Authentication failed: Invalid username or password"
DEFAULT_MECHANISMS = "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER"
KNOWN_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
SCRAM_ITERATIONS = 4096
# Versions the gateway implements (and makes sure ApiVersions advertises); None = not
# advertised at all.
GATEWAY_VERSIONS = {API_SASL_HANDSHAKE: (0, 1), API_SASL_AUTHENTICATE: (0, 2)}
# --legacy-broker: a Kafka 0.10/0.11 broker (before KIP-152).
LEGACY_VERSIONS = {API_SASL_HANDSHAKE: (0, 0), API_SASL_AUTHENTICATE: None}
MAX_PREAUTH_FRAME = 524288  # Kafka's SaslServerAuthenticator.MAX_RECEIVE_SIZE
MAX_FRAME = 256 * 1024 * 1024
RELAY_CHUNK = 262144


def log(msg: str) -> None:
    print("sasl_gateway: " + msg, file=sys.stderr, flush=True)


class ProtocolError(Exception):
    """Close the connection (no response)."""


class AuthFailed(Exception):
    """Answer SASL_AUTHENTICATION_FAILED, then close. The text is only logged."""


# --------------------------------------------------------------------------- encoding
def uvarint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtocolError("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
        if shift > 35:
            raise ProtocolError("varint too long")


def skip_tagged_fields(buf: bytes, pos: int) -> int:
    n, pos = read_uvarint(buf, pos)
    for _ in range(n):
        _tag, pos = read_uvarint(buf, pos)
        size, pos = read_uvarint(buf, pos)
        pos += size
    if pos > len(buf):
        raise ProtocolError("truncated tagged fields")
    return pos


def frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def parse_request_header(payload: bytes) -> tuple[int, int, int, int]:
    """(api_key, api_version, correlation_id, body_offset). Header v1, or v2 for flexible
    versions of the APIs the gateway itself has to parse."""
    if len(payload) < 10:
        raise ProtocolError("request shorter than a request header")
    key, ver, corr, clen = struct.unpack_from(">hhih", payload, 0)
    pos = 10 + max(clen, 0)
    if pos > len(payload):
        raise ProtocolError("truncated client_id")
    flexible = (key == API_SASL_AUTHENTICATE and ver >= 2) or (key == API_API_VERSIONS and ver >= 3)
    if flexible:
        pos = skip_tagged_fields(payload, pos)
    return key, ver, corr, pos


def encode_handshake_response(corr: int, error: int, mechanisms: list[str]) -> bytes:
    out = bytearray(struct.pack(">ihi", corr, error, len(mechanisms)))
    for m in mechanisms:
        b = m.encode()
        out += struct.pack(">h", len(b)) + b
    return frame(bytes(out))


def encode_authenticate_response(corr: int, version: int, error: int, message: str | None,
                                 auth_bytes: bytes, lifetime_ms: int) -> bytes:
    if version >= 2:  # flexible: response header v1, compact types, tagged fields
        out = bytearray(struct.pack(">i", corr) + b"\x00")
        out += struct.pack(">h", error)
        if message is None:
            out += uvarint(0)
        else:
            m = message.encode()
            out += uvarint(len(m) + 1) + m
        out += uvarint(len(auth_bytes) + 1) + auth_bytes
        out += struct.pack(">q", lifetime_ms)
        out += b"\x00"
        return frame(bytes(out))
    out = bytearray(struct.pack(">ih", corr, error))
    if message is None:
        out += struct.pack(">h", -1)
    else:
        m = message.encode()
        out += struct.pack(">h", len(m)) + m
    out += struct.pack(">i", len(auth_bytes)) + auth_bytes
    if version >= 1:
        out += struct.pack(">q", lifetime_ms)
    return frame(bytes(out))


def parse_handshake_request(payload: bytes, pos: int) -> str:
    if pos + 2 > len(payload):
        raise ProtocolError("truncated SaslHandshake")
    (n,) = struct.unpack_from(">h", payload, pos)
    if n < 0 or pos + 2 + n > len(payload):
        raise ProtocolError("bad SaslHandshake mechanism")
    return payload[pos + 2: pos + 2 + n].decode("utf-8", "replace")


def parse_authenticate_request(payload: bytes, pos: int, version: int) -> bytes:
    if version >= 2:
        n, pos = read_uvarint(payload, pos)
        if n == 0:
            raise ProtocolError("null auth_bytes")
        data = payload[pos: pos + n - 1]
        if len(data) != n - 1:
            raise ProtocolError("truncated auth_bytes")
        skip_tagged_fields(payload, pos + n - 1)
        return data
    if pos + 4 > len(payload):
        raise ProtocolError("truncated SaslAuthenticate")
    (n,) = struct.unpack_from(">i", payload, pos)
    data = payload[pos + 4: pos + 4 + max(n, 0)]
    if n < 0 or len(data) != n:
        raise ProtocolError("bad auth_bytes")
    return data


def produce_acks(payload: bytes, version: int) -> int | None:
    """acks of a Produce request payload; None if unparsable (copied from capture_proxy)."""
    try:
        pos = 8
        (clen,) = struct.unpack_from(">h", payload, pos)
        pos += 2 + max(clen, 0)
        if version >= 9:
            pos = skip_tagged_fields(payload, pos)
        if version >= 3:
            if version >= 9:
                ln, pos = read_uvarint(payload, pos)
                pos += max(ln - 1, 0)
            else:
                (ln,) = struct.unpack_from(">h", payload, pos)
                pos += 2 + max(ln, 0)
        (acks,) = struct.unpack_from(">h", payload, pos)
        return acks
    except (struct.error, ProtocolError):
        return None


def patch_api_versions_response(payload: bytes, version: int,
                                 wanted: dict = GATEWAY_VERSIONS) -> bytes | None:
    """Return a patched ApiVersions response payload advertising `wanted` (a range per API
    key, None = leave the key out), or None when the broker's answer already does (or cannot
    be parsed / carries an error)."""
    try:
        pos = 4  # correlation id; ApiVersions responses always use response header v0
        (error,) = struct.unpack_from(">h", payload, pos)
        pos += 2
        if error != 0:
            return None
        entries = []  # (key, min, max, raw tagged-field bytes)
        if version >= 3:
            n, pos = read_uvarint(payload, pos)
            n -= 1
            for _ in range(max(n, 0)):
                key, lo, hi = struct.unpack_from(">hhh", payload, pos)
                pos += 6
                end = skip_tagged_fields(payload, pos)
                entries.append((key, lo, hi, payload[pos:end]))
                pos = end
        else:
            (n,) = struct.unpack_from(">i", payload, pos)
            pos += 4
            for _ in range(max(n, 0)):
                key, lo, hi = struct.unpack_from(">hhh", payload, pos)
                pos += 6
                entries.append((key, lo, hi, b""))
        rest = payload[pos:]
    except (struct.error, ProtocolError):
        return None
    table = {e[0]: e for e in entries}
    if all((k not in table) if v is None else (k in table and table[k][1:3] == v)
           for k, v in wanted.items()):
        return None
    for k, v in wanted.items():
        if v is None:
            table.pop(k, None)
            continue
        lo, hi = v
        table[k] = (k, lo, hi, table[k][3] if k in table else (b"\x00" if version >= 3 else b""))
    out = bytearray(payload[:6])
    ordered = [table[k] for k in sorted(table)]
    out += uvarint(len(ordered) + 1) if version >= 3 else struct.pack(">i", len(ordered))
    for key, lo, hi, tags in ordered:
        out += struct.pack(">hhh", key, lo, hi) + tags
    out += rest
    return bytes(out)


# --------------------------------------------------------------------------- SASL servers
class Config:
    def __init__(self, users: dict[str, str], mechanisms: list[str], oauth: dict[str, str],
                 lifetime_ms: int, allow_reauth: bool, oauth_kafka_failure: bool, verbose: bool,
                 legacy: bool = False):
        self.users = users
        self.mechanisms = mechanisms
        self.oauth = oauth
        self.lifetime_ms = lifetime_ms
        self.framed_after_auth = allow_reauth or lifetime_ms > 0
        self.oauth_kafka_failure = oauth_kafka_failure
        self.legacy = legacy
        self.versions = LEGACY_VERSIONS if legacy else GATEWAY_VERSIONS
        self.verbose = verbose
        self.scram: dict[str, object] = {}
        self.scram_creds: dict[tuple[str, str], tuple] = {}
        scram_mechs = [m for m in mechanisms if m.startswith("SCRAM-")]
        if scram_mechs:
            ScramMechanism = import_scramp()
            for m in scram_mechs:
                mech = ScramMechanism(m)
                self.scram[m] = mech
                for user, password in users.items():
                    self.scram_creds[(m, user)] = mech.make_auth_info(
                        password, iteration_count=SCRAM_ITERATIONS)


def import_scramp():
    try:
        from scramp import ScramMechanism
    except ImportError:
        log("PyPI package scramp is missing; installing it with pip")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "scramp"],
                       check=True, stdout=sys.stderr)
        from scramp import ScramMechanism
    return ScramMechanism


def scram_unescape(name: str) -> str:
    return name.replace("=2C", ",").replace("=3D", "=")


class SaslExchange:
    """Server side of one SASL authentication. step(token) -> (response bytes, done)."""

    def __init__(self, cfg: Config, mechanism: str):
        self.cfg = cfg
        self.mechanism = mechanism
        self.principal: str | None = None
        self.stage = 0
        self.scram_server = None

    def step(self, token: bytes) -> tuple[bytes, bool]:
        m = self.mechanism
        if m == "PLAIN":
            return self._plain(token)
        if m.startswith("SCRAM-"):
            return self._scram(token)
        if m == "OAUTHBEARER":
            return self._oauth(token)
        raise AuthFailed("mechanism %s not implemented" % m)

    def _plain(self, token: bytes) -> tuple[bytes, bool]:
        parts = token.split(b"\x00")
        if len(parts) != 3:
            raise AuthFailed("malformed PLAIN token")
        authzid, user, password = (p.decode("utf-8", "replace") for p in parts)
        expected = self.cfg.users.get(user)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            raise AuthFailed("PLAIN: bad credentials for user %r" % user)
        if authzid and authzid != user:
            raise AuthFailed("PLAIN: authorization id differs from user %r" % user)
        self.principal = user
        return b"", True

    def _scram(self, token: bytes) -> tuple[bytes, bool]:
        mech = self.cfg.scram[self.mechanism]
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError:
            raise AuthFailed("%s: token is not UTF-8" % self.mechanism)
        if self.stage == 0:
            self.stage = 1
            user_box = []

            def auth_fn(name):
                user = scram_unescape(name)
                user_box.append(user)
                creds = self.cfg.scram_creds.get((self.mechanism, user))
                if creds is None:
                    raise KeyError(user)
                return creds

            self.scram_server = mech.make_server(auth_fn)
            try:
                self.scram_server.set_client_first(text)
                first = self.scram_server.get_server_first()
            except Exception as e:  # unknown user, malformed message, channel binding...
                raise AuthFailed("%s client-first rejected (user %r): %s"
                                 % (self.mechanism, user_box[0] if user_box else None,
                                    type(e).__name__))
            self.principal = user_box[0]
            return first.encode(), False
        if self.stage == 1:
            self.stage = 2
            try:
                self.scram_server.set_client_final(text)
                final = self.scram_server.get_server_final()
            except Exception as e:
                raise AuthFailed("%s client-final rejected (user %r): %s"
                                 % (self.mechanism, self.principal, e))
            return final.encode(), True
        raise AuthFailed("%s: unexpected extra token" % self.mechanism)

    _OAUTH_RE = re.compile(rb"^([ny]),(?:a=([^,]*))?,\x01((?:[A-Za-z]+=[\x21-\x7E \t\r\n]*\x01)*)\x01$")

    def _oauth(self, token: bytes) -> tuple[bytes, bool]:
        if self.stage == 1:  # answer to our JSON error challenge (--oauth-kafka-failure)
            raise AuthFailed("OAUTHBEARER: invalid token (after error challenge)")
        mt = self._OAUTH_RE.match(token)
        reason = None
        principal = None
        if not mt:
            reason = "malformed client response"
        else:
            kv = {}
            for item in mt.group(3).split(b"\x01")[:-1]:
                k, _, v = item.partition(b"=")
                kv[k.decode()] = v.decode("utf-8", "replace")
            auth = kv.get("auth", "")
            scheme, _, tok = auth.partition(" ")
            tok = tok.strip()
            if scheme.lower() != "bearer" or not tok:
                reason = "no auth=Bearer token"
            elif tok not in self.cfg.oauth:
                reason = "unknown token"
            else:
                principal = self.cfg.oauth[tok]
                authzid = mt.group(2)
                if authzid and authzid.decode("utf-8", "replace") != principal:
                    reason = "authorization id differs from the token's principal"
        if reason is None:
            self.principal = principal
            return b"", True
        if self.cfg.oauth_kafka_failure and mt:
            self.stage = 1
            log("OAUTHBEARER rejected (%s); sending the invalid_token challenge" % reason)
            return b'{"status":"invalid_token"}', False
        raise AuthFailed("OAUTHBEARER: " + reason)


# --------------------------------------------------------------------------- connection
class Connection:
    ids = itertools.count(1)

    def __init__(self, gw: "Gateway", creader, cwriter):
        self.gw = gw
        self.cfg = gw.cfg
        self.cid = next(Connection.ids)
        self.cr, self.cw = creader, cwriter
        self.ur = self.uw = None
        self.authenticated = False
        self.raw = False          # relay bytes without parsing (auth done, no re-auth)
        self.handshake_mech: str | None = None  # mechanism chosen by the last handshake
        self.handshake_v0 = False
        self.exchange: SaslExchange | None = None
        self.principal: str | None = None
        self.auth_mech: str | None = None
        self.expiry: float | None = None
        self.reauthenticating = False
        # Responses in request order: ["up", corr] waits for the broker; ["local", bytes,
        # close_after] is written once every earlier "up" entry has been answered.
        self.queue: collections.deque = collections.deque()
        self.api_versions_corrs: dict[int, int] = {}
        self.closing = False

    def vlog(self, msg: str) -> None:
        if self.cfg.verbose:
            log("conn %d: %s" % (self.cid, msg))

    async def run(self) -> None:
        peer = self.cw.get_extra_info("peername")
        self.vlog("accepted from %s:%s" % tuple(peer[:2]) if peer else "accepted")
        try:
            self.ur, self.uw = await asyncio.wait_for(
                asyncio.open_connection(*self.gw.upstream), timeout=5)
        except (OSError, asyncio.TimeoutError) as e:
            log("conn %d: upstream %s:%d unreachable: %s" % ((self.cid,) + self.gw.upstream + (e,)))
            self.cw.close()
            return
        tasks = [asyncio.ensure_future(self.client_to_upstream()),
                 asyncio.ensure_future(self.upstream_to_client())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for w in (self.cw, self.uw):
                try:
                    w.close()
                except Exception:
                    pass
            self.vlog("closed")

    # ---------------------------------------------------------------- output ordering
    def enqueue_local(self, data: bytes, close_after: bool = False) -> None:
        self.queue.append(["local", data, close_after])
        self.flush_local()

    def flush_local(self) -> None:
        while self.queue and self.queue[0][0] == "local":
            _, data, close_after = self.queue.popleft()
            if not self.closing:
                self.cw.write(data)
            if close_after:
                self.closing = True
                self.cw.close()  # flushes what was written, then closes

    # ---------------------------------------------------------------- client -> broker
    async def read_frame(self, reader, limit: int) -> bytes | None:
        try:
            head = await reader.readexactly(4)
        except asyncio.IncompleteReadError:
            return None
        (size,) = struct.unpack(">i", head)
        if size < 0 or size > limit:
            raise ProtocolError("frame size %d out of range (limit %d)" % (size, limit))
        try:
            return await reader.readexactly(size)
        except asyncio.IncompleteReadError:
            return None

    async def client_to_upstream(self) -> None:
        try:
            while not self.closing:
                if self.raw:
                    data = await self.cr.read(RELAY_CHUNK)
                    if not data:
                        return
                    self.uw.write(data)
                    await self.uw.drain()
                    continue
                limit = MAX_FRAME if self.authenticated else MAX_PREAUTH_FRAME
                payload = await self.read_frame(self.cr, limit)
                if payload is None:
                    return
                await self.on_client_frame(payload)
                await self.cw.drain()
        except ProtocolError as e:
            log("conn %d: closing: %s" % (self.cid, e))
        except (ConnectionError, OSError):
            pass
        finally:
            if self.closing:
                try:
                    await asyncio.wait_for(self.cw.wait_closed(), timeout=2)
                except Exception:
                    pass

    async def forward(self, payload: bytes, key: int, ver: int, corr: int) -> None:
        if not (key == API_PRODUCE and produce_acks(payload, ver) == 0):
            self.queue.append(["up", corr])
        if key == API_API_VERSIONS:
            self.api_versions_corrs[corr] = ver
        self.uw.write(frame(payload))
        await self.uw.drain()

    async def on_client_frame(self, payload: bytes) -> None:
        if self.handshake_v0 and self.exchange is not None:
            # Legacy flow: bare SASL tokens after a v0 handshake (no request header).
            self.run_exchange(payload, None, None)
            return
        key, ver, corr, pos = parse_request_header(payload)
        if self.authenticated and not self.reauthenticating:
            if key == API_SASL_HANDSHAKE:
                self.handle_handshake(payload, pos, ver, corr, reauth=True)
                return
            if self.expiry is not None and time.monotonic() > self.expiry:
                raise ProtocolError("session expired (api %d without re-authentication)" % key)
            if key == API_SASL_AUTHENTICATE:
                raise ProtocolError("SaslAuthenticate without SaslHandshake after authentication")
            await self.forward(payload, key, ver, corr)
            return
        # Not (or being re-) authenticated.
        if key == API_API_VERSIONS and self.handshake_mech is None and not self.authenticated:
            await self.forward(payload, key, ver, corr)
        elif key == API_SASL_HANDSHAKE and self.handshake_mech is None:
            self.handle_handshake(payload, pos, ver, corr, reauth=False)
        elif key == API_SASL_AUTHENTICATE and self.exchange is not None and not self.handshake_v0:
            if self.cfg.versions[API_SASL_AUTHENTICATE] is None:
                raise ProtocolError("SaslAuthenticate sent to a legacy broker that lacks it")
            if ver > self.cfg.versions[API_SASL_AUTHENTICATE][1]:
                raise ProtocolError("SaslAuthenticate v%d unsupported" % ver)
            token = parse_authenticate_request(payload, pos, ver)
            self.run_exchange(token, ver, corr)
        else:
            raise ProtocolError("illegal SASL state: api_key %d v%d before authentication" % (key, ver))

    def handle_handshake(self, payload: bytes, pos: int, ver: int, corr: int, reauth: bool) -> None:
        if ver > self.cfg.versions[API_SASL_HANDSHAKE][1]:
            raise ProtocolError("SaslHandshake v%d unsupported" % ver)
        if reauth and ver < 1:
            raise ProtocolError("re-authentication needs SaslHandshake v1")
        mech = parse_handshake_request(payload, pos)
        allowed = self.cfg.mechanisms
        if mech not in allowed or (reauth and mech != self.auth_mech):
            log("conn %d: SaslHandshake for unsupported mechanism %r%s"
                % (self.cid, mech, " (re-authentication must keep %s)" % self.auth_mech if reauth else ""))
            self.enqueue_local(encode_handshake_response(corr, ERR_UNSUPPORTED_SASL_MECHANISM, allowed),
                               close_after=True)
            return
        self.vlog("SaslHandshake v%d %s%s" % (ver, mech, " (re-authentication)" if reauth else ""))
        self.handshake_mech = mech
        self.handshake_v0 = ver == 0
        self.exchange = SaslExchange(self.cfg, mech)
        self.reauthenticating = reauth
        self.enqueue_local(encode_handshake_response(corr, ERR_NONE, allowed))

    def run_exchange(self, token: bytes, ver: int | None, corr: int | None) -> None:
        ex = self.exchange
        try:
            response, done = ex.step(token)
            if done and self.reauthenticating and ex.principal != self.principal:
                raise AuthFailed("re-authentication changed the principal from %r to %r"
                                 % (self.principal, ex.principal))
        except AuthFailed as e:
            log("conn %d: authentication failed: %s" % (self.cid, e))
            if ver is None:  # v0 handshake flow: Kafka just closes the connection
                self.enqueue_local(b"", close_after=True)
            else:
                self.enqueue_local(encode_authenticate_response(
                    corr, ver, ERR_SASL_AUTHENTICATION_FAILED, AUTH_FAILED_MESSAGE, b"", 0),
                    close_after=True)
            return
        lifetime = self.cfg.lifetime_ms if done else 0
        if ver is None:
            self.enqueue_local(frame(response))
        else:
            self.enqueue_local(encode_authenticate_response(corr, ver, ERR_NONE, None, response,
                                                            lifetime))
        if not done:
            return
        log("conn %d: %s %s as %r" % (self.cid, "re-authenticated" if self.reauthenticating
                                      else "authenticated", ex.mechanism, ex.principal))
        self.authenticated = True
        self.reauthenticating = False
        self.principal = ex.principal
        self.auth_mech = ex.mechanism
        self.exchange = None
        self.handshake_mech = None
        self.handshake_v0 = False
        self.expiry = (time.monotonic() + self.cfg.lifetime_ms / 1000.0
                       if self.cfg.lifetime_ms > 0 else None)
        if not self.cfg.framed_after_auth:
            self.raw = True

    # ---------------------------------------------------------------- broker -> client
    async def upstream_to_client(self) -> None:
        try:
            while True:
                if self.raw and not any(e[0] == "up" for e in self.queue):
                    data = await self.ur.read(RELAY_CHUNK)
                    if not data:
                        return
                    if self.closing:
                        return
                    self.cw.write(data)
                    await self.cw.drain()
                    continue
                payload = await self.read_frame(self.ur, MAX_FRAME)
                if payload is None or self.closing:
                    return
                if len(payload) < 4:
                    raise ProtocolError("broker sent a frame without correlation id")
                (corr,) = struct.unpack_from(">i", payload, 0)
                ver = self.api_versions_corrs.pop(corr, None)
                if ver is not None:
                    patched = patch_api_versions_response(payload, ver, self.cfg.versions)
                    if patched is not None:
                        log("conn %d: patched ApiVersions v%d response to advertise %s" % (self.cid, ver, (
                            "SaslHandshake 0 only, no SaslAuthenticate (legacy broker)"
                            if self.cfg.legacy else "SaslHandshake 0-1 / SaslAuthenticate 0-2")))
                        payload = patched
                self.cw.write(frame(payload))
                for i, e in enumerate(self.queue):
                    if e[0] == "up" and e[1] == corr:
                        del self.queue[i]
                        break
                self.flush_local()
                await self.cw.drain()
        except ProtocolError as e:
            log("conn %d: closing: %s" % (self.cid, e))
        except (ConnectionError, OSError):
            pass


class Gateway:
    def __init__(self, cfg: Config, listen: tuple[str, int], upstream: tuple[str, int]):
        self.cfg = cfg
        self.listen = listen
        self.upstream = upstream
        self.server = None
        self.tasks: set[asyncio.Task] = set()

    async def handle(self, reader, writer) -> None:
        task = asyncio.current_task()
        self.tasks.add(task)
        try:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await Connection(self, reader, writer).run()
        except Exception as e:  # never kill the server on one bad connection
            log("connection error: %r" % (e,))
            writer.close()
        finally:
            self.tasks.discard(task)

    async def run(self) -> None:
        self.server = await asyncio.start_server(self.handle, self.listen[0], self.listen[1],
                                                 reuse_address=True, limit=RELAY_CHUNK * 4)
        host, port = self.server.sockets[0].getsockname()[:2]
        print("%s:%d" % (host, port), flush=True)
        log("listening on %s:%d -> upstream %s:%d; mechanisms %s; users %s; %d OAuth token(s); "
            "session_lifetime_ms %d%s" % (host, port, self.upstream[0], self.upstream[1],
                                          ",".join(self.cfg.mechanisms),
                                          ",".join(sorted(self.cfg.users)), len(self.cfg.oauth),
                                          self.cfg.lifetime_ms,
                                          "; in-band re-authentication on" if self.cfg.framed_after_auth else "")
            + ("; legacy broker (no SaslAuthenticate)" if self.cfg.legacy else ""))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        self.server.close()
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        log("stopped")


def hostport(s: str) -> tuple[str, int]:
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, got %r" % s)
    if host not in ("127.0.0.1", "localhost"):
        raise argparse.ArgumentTypeError("loopback only (127.0.0.1 / localhost), got %r" % host)
    return host, int(port)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 2)[2])
    ap.add_argument("--listen", type=hostport, required=True, help="HOST:PORT (port 0 = free port)")
    ap.add_argument("--upstream", type=hostport, required=True, help="broker HOST:PORT")
    ap.add_argument("--user", action="append", default=[], metavar="USER:PASSWORD",
                    help="credentials for PLAIN and SCRAM (repeatable)")
    ap.add_argument("--mechanisms", default=DEFAULT_MECHANISMS,
                    help="comma-separated enabled mechanisms (default %(default)s)")
    ap.add_argument("--oauth-token", action="append", default=[], metavar="TOKEN[=PRINCIPAL]",
                    help="accepted OAUTHBEARER token (repeatable); principal defaults to 'oauth'")
    ap.add_argument("--session-lifetime-ms", type=int, default=0,
                    help="session_lifetime_ms to announce and enforce (0 = none; >0 implies "
                         "--allow-reauth)")
    ap.add_argument("--allow-reauth", action="store_true",
                    help="keep parsing frames after authentication to answer in-band "
                         "re-authentication")
    ap.add_argument("--oauth-kafka-failure", action="store_true",
                    help="reject bad OAUTHBEARER tokens with Kafka's JSON challenge first")
    ap.add_argument("--legacy-broker", action="store_true",
                    help="emulate a Kafka 0.10/0.11 broker: no SaslAuthenticate, SaslHandshake v0 "
                         "and bare token frames only")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    users = {}
    for u in args.user:
        name, sep, password = u.partition(":")
        if not sep or not name:
            ap.error("--user expects USER:PASSWORD")
        users[name] = password
    mechanisms = [m.strip() for m in args.mechanisms.split(",") if m.strip()]
    for m in mechanisms:
        if m not in KNOWN_MECHANISMS:
            ap.error("unknown mechanism %r (known: %s)" % (m, ", ".join(KNOWN_MECHANISMS)))
    oauth = {}
    for t in args.oauth_token:
        tok, _, principal = t.partition("=")
        oauth[tok] = principal or "oauth"
    if args.session_lifetime_ms < 0:
        ap.error("--session-lifetime-ms must be >= 0")
    if args.legacy_broker and (args.session_lifetime_ms or args.allow_reauth):
        ap.error("--legacy-broker cannot re-authenticate (KIP-368 needs SaslAuthenticate)")
    cfg = Config(users, mechanisms, oauth, args.session_lifetime_ms, args.allow_reauth,
                 args.oauth_kafka_failure, args.verbose, args.legacy_broker)
    try:
        asyncio.run(Gateway(cfg, args.listen, args.upstream).run())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
