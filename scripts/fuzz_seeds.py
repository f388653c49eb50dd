#!/usr/bin/env python3
"""Writes seed corpora for the libFuzzer targets (Fuzz/) from Fixtures/, in each target's input
format (see Fuzz/Sources/KafkaFuzz/*Target.swift), plus the committed regression inputs in
Fuzz/regressions/<target>/. Nothing generated here is committed.

    scripts/fuzz_seeds.py OUT_DIR        # writes OUT_DIR/<target>/seed-*
"""
import base64
import glob
import hashlib
import os
import random
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Fixtures")
TARGETS = ["frames", "records", "compression", "framedecoder", "assignors", "scram"]
API_NUMBERS = {}  # api name -> key, read from index.tsv files


def read(path):
    with open(path, "rb") as f:
        return f.read()


def captures():
    """(path, frame bytes, api key, version, is_request) for every captured frame."""
    out = []
    for idx in glob.glob(os.path.join(FIX, "captures*", "*", "index.tsv")):
        d = os.path.dirname(idx)
        with open(idx) as f:
            header = f.readline().rstrip("\n").split("\t")
            for line in f:
                row = dict(zip(header, line.rstrip("\n").split("\t")))
                try:
                    API_NUMBERS[row["api"]] = int(row["api_key"])
                except (KeyError, ValueError):
                    pass
    for path in sorted(glob.glob(os.path.join(FIX, "captures*", "*", "*.bin"))):
        m = re.match(r"\d+-(\w+)-v(\d+)\.(request|response)\.bin$", os.path.basename(path))
        if not m or m.group(1) not in API_NUMBERS:
            continue
        out.append((path, read(path), API_NUMBERS[m.group(1)], int(m.group(2)), m.group(3) == "request"))
    return out


def record_sets(frame):
    """Record batches (magic 2) found in a frame: offset(8) length(4) epoch(4) magic(1)=2."""
    out = []
    i = 0
    while i + 61 <= len(frame):
        if frame[i + 16] == 2:
            (length,) = struct.unpack(">i", frame[i + 8:i + 12])
            if 49 <= length <= len(frame) - i - 12:
                out.append(frame[i:i + 12 + length])
                i += 12 + length
                continue
        i += 1
    return out


class Writer:
    def __init__(self, out):
        self.out = out
        self.seen = set()

    def add(self, target, data):
        h = hashlib.sha1(data).hexdigest()
        if (target, h) in self.seen:
            return
        self.seen.add((target, h))
        d = os.path.join(self.out, target)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "seed-" + h[:16]), "wb") as f:
            f.write(data)


def subscription(version, topics, owned=(), generation=-1, rack=None, user_data=None):
    def string(s):
        b = s.encode()
        return struct.pack(">h", len(b)) + b
    b = struct.pack(">h", version) + struct.pack(">i", len(topics)) + b"".join(string(t) for t in topics)
    b += struct.pack(">i", -1) if user_data is None else struct.pack(">i", len(user_data)) + user_data
    if version >= 1:
        b += struct.pack(">i", len(owned))
        for t, parts in owned:
            b += string(t) + struct.pack(">i", len(parts)) + b"".join(struct.pack(">i", p) for p in parts)
    if version >= 2:
        b += struct.pack(">i", generation)
    if version >= 3:
        b += struct.pack(">h", -1) if rack is None else string(rack)
    return b


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    w = Writer(sys.argv[1])
    rng = random.Random(7)
    frames = captures()
    for _, frame, key, version, is_request in frames:
        payload = frame[4:]
        if is_request:
            w.add("frames", b"\x00" + payload)
        else:
            w.add("frames", b"\x01" + struct.pack(">hh", key, version) + payload)
        for rs in record_sets(frame):
            w.add("records", rs)
    # Several batches in one record set, and a partial trailing one.
    batches = [rs for _, f, *_ in frames for rs in record_sets(f)]
    for n in range(0, len(batches), 5):
        group = b"".join(batches[n:n + 3])
        w.add("records", group)
        w.add("records", group + batches[n][:30])
    # FrameDecoder: a few captured frames, cut at random points (length byte + piece).
    sample = [f for _, f, *_ in frames[:40]]
    for k in range(20):
        stream = b"".join(rng.sample(sample, 3))
        pieces, i = [], 0
        while i < len(stream):
            n = min(rng.choice([1, 2, 3, 5, 50, 255]), len(stream) - i)
            pieces.append(bytes([n]) + stream[i:i + n])
            i += n
        w.add("framedecoder", bytes([128 + 127]) + b"".join(pieces))
    w.add("framedecoder", bytes([16]) + bytes([8]) + b"\x00\x00\x00\x02ab\x00\x00")
    # Compression: each blob under its decompressor (ops 0-5), and round trips (6-11).
    blobs = {0: glob.glob(os.path.join(FIX, "compression", "gzip", "*")) + glob.glob(os.path.join(FIX, "compression", "peer", "*-gzip.bin")),
             1: [os.path.join(FIX, "compression", "snappy", "raw.snappy")] + glob.glob(os.path.join(FIX, "compression", "peer", "librdkafka*-snappy.bin")),
             2: [os.path.join(FIX, "compression", "snappy", "xerial-kafka-python.snappy")] + glob.glob(os.path.join(FIX, "compression", "peer", "kafka-python*-snappy.bin")),
             3: glob.glob(os.path.join(FIX, "compression", "lz4", "*")) + glob.glob(os.path.join(FIX, "compression", "peer", "*-lz4.bin")),
             4: glob.glob(os.path.join(FIX, "compression", "zstd", "*")) + glob.glob(os.path.join(FIX, "compression", "peer", "*-zstd.bin"))}
    for op, paths in blobs.items():
        for p in paths:
            data = read(p)
            if len(data) <= 64 * 1024:
                w.add("compression", bytes([op]) + data)
                if op in (1, 2):
                    w.add("compression", bytes([5]) + data)
    plain = read(os.path.join(FIX, "compression", "input.bin"))[:4096]
    for op in range(6, 12):
        w.add("compression", bytes([op, 3]) + plain)
        w.add("compression", bytes([op, 0]) + b"kafkawire " * 30)
    # Assignors: members with subscriptions of every version.
    subs = [subscription(0, ["t1", "t2"]),
            subscription(1, ["t1"], owned=[("t1", [0, 1])]),
            subscription(2, ["t2", "t1"], owned=[("t2", [0])], generation=3),
            subscription(3, ["t1", "t3"], owned=[("t3", [1, 2])], generation=5, rack="r1", user_data=b"\x00\x01"),
            subscription(3, ["t1", "t1"], owned=[("t1", [0, 0])], generation=-1)]
    for k in range(12):
        chosen = rng.sample(subs, rng.randint(1, len(subs)))
        b = bytes([len(chosen) - 1])
        for j, s in enumerate(chosen):
            b += bytes([j if k % 3 else rng.randrange(256)]) + struct.pack(">H", len(s)) + s
        b += bytes(rng.randrange(1, 9) for _ in range(3))
        w.add("assignors", b)
    # SCRAM: RFC 7677's exchange with this harness's client nonce.
    nonce = "fyko+d2lbbFgONRv9qkxdawL"
    first = ("r=%s%%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096" % nonce).encode()
    for hashsel in (0, 1):
        w.add("scram", bytes([hashsel]) + first + b"\x00v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        w.add("scram", bytes([hashsel]) + first + b"\x00e=invalid-proof")
        w.add("scram", bytes([hashsel]) + first)
        w.add("scram", bytes([hashsel]) + b"e=other-error")
    # Committed regression inputs (Fuzz/regressions/<target>/*; raw bytes, or *.b64).
    for t in TARGETS:
        for p in glob.glob(os.path.join(ROOT, "Fuzz", "regressions", t, "*")):
            data = read(p)
            if p.endswith(".b64"):
                data = base64.b64decode(data)
            w.add(t, data)
    for t in TARGETS:
        d = os.path.join(sys.argv[1], t)
        n = len(os.listdir(d)) if os.path.isdir(d) else 0
        print("%s: %d seeds" % (t, n), file=sys.stderr)


if __name__ == "__main__":
    main()
