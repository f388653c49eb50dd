#!/usr/bin/env python3
"""Regenerates Fixtures/compression (see README.md): reference-library blobs of input.bin, and
the compressed payloads of record batches written by real Kafka clients (peer/).

    python3 Fixtures/compression/generate.py            # library blobs only (no broker needed)
    python3 Fixtures/compression/generate.py --peers    # also peer/ (starts a local Tansu)

Needs: pip install python-snappy==0.7.3 lz4==4.4.5 zstandard==0.25.0 kafka-python==3.0.12
(and confluent-kafka==2.16.1 + scripts/broker.sh's Tansu for --peers).
"""
import gzip, io, os, struct, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def make_input() -> bytes:
    """~80 KiB: log-like text (compressible, > one 64 KiB LZ4 block, > two 32 KiB xerial
    chunks) followed by 1 KiB of xorshift bytes (incompressible)."""
    lines, i = [], 0
    while sum(map(len, lines)) < 80 * 1024:
        lines.append(("2026-11-21T05:%02d:%02d.%03dZ INFO partition topic-orders-%d offset=%d key=user-%d\n"
                      % (10 + i % 50, 10 + (i * 7) % 50, i % 1000, i % 12, 1000000 + 3 * i, (i * 7919) % 10007)).encode())
        i += 1
    x, rnd = 0x9E3779B97F4A7C15, bytearray()
    M = (1 << 64) - 1
    for _ in range(1024):
        x ^= (x << 13) & M; x ^= x >> 7; x ^= (x << 17) & M
        rnd.append(x & 0xFF)
    return b"".join(lines) + bytes(rnd)


# xxHash32, only to rewrite an LZ4 header checksum the way Kafka 0.8/0.9 computed it.
def xxh32(b, seed=0):
    P1, P2, P3, P4, P5, M = 2654435761, 2246822519, 3266489917, 668265263, 374761393, 0xFFFFFFFF
    rotl = lambda x, r: ((x << r) | (x >> (32 - r))) & M
    n, i = len(b), 0
    if n >= 16:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed, (seed - P1) & M]
        while i + 16 <= n:
            for k in range(4):
                v[k] = rotl((v[k] + int.from_bytes(b[i:i + 4], "little") * P2) & M, 13) * P1 & M
                i += 4
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 4 <= n:
        h = rotl((h + int.from_bytes(b[i:i + 4], "little") * P3) & M, 17) * P4 & M
        i += 4
    while i < n:
        h = rotl((h + b[i] * P5) & M, 11) * P1 & M
        i += 1
    h ^= h >> 15; h = h * P2 & M; h ^= h >> 13; h = h * P3 & M; h ^= h >> 16
    return h


def library_blobs(data: bytes) -> dict:
    import snappy, lz4.frame as lz4f, zstandard
    from kafka.codec import snappy_encode
    half = len(data) // 2
    blobs = {
        "gzip/gzip-level9.gz": gzip.compress(data, compresslevel=9, mtime=0),
        "gzip/two-members.gz": gzip.compress(data[:half], mtime=0) + gzip.compress(data[half:], mtime=0),
        "snappy/raw.snappy": snappy.compress(data),
        "snappy/xerial-kafka-python.snappy": snappy_encode(data),
        "lz4/independent-64k.lz4": lz4f.compress(data, block_size=lz4f.BLOCKSIZE_MAX64KB, block_linked=False),
        "lz4/linked-256k-checksums-size.lz4": lz4f.compress(
            data, block_size=lz4f.BLOCKSIZE_MAX256KB, block_linked=True, block_checksum=True,
            content_checksum=True, store_size=True),
        "lz4/hc-level12-4m.lz4": lz4f.compress(data, block_size=lz4f.BLOCKSIZE_MAX4MB, compression_level=12),
        "zstd/level3-with-size.zst": zstandard.ZstdCompressor(level=3).compress(data),
        "zstd/level19-no-size-checksum.zst": zstandard.ZstdCompressor(
            level=19, write_content_size=False, write_checksum=True).compress(data),
        "zstd/two-frames.zst": zstandard.ZstdCompressor().compress(data[:half]) + zstandard.ZstdCompressor().compress(data[half:]),
    }
    # Kafka 0.8/0.9 (KAFKA-3160): header checksum over magic + descriptor instead of descriptor.
    f = bytearray(lz4f.compress(data, block_linked=False))
    n = 6 + (8 if f[4] & 8 else 0)
    f[n] = (xxh32(bytes(f[:n])) >> 8) & 0xFF
    blobs["lz4/kafka-3160-header.lz4"] = bytes(f)
    # Everything must round-trip through the reference decoders.
    assert gzip.decompress(blobs["gzip/two-members.gz"]) == data
    assert snappy.decompress(blobs["snappy/raw.snappy"]) == data
    for k, v in blobs.items():
        if k.startswith("lz4/") and "3160" not in k:
            assert lz4f.decompress(v) == data, k
        if k.startswith("zstd/"):
            r = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(v), read_across_frames=True).read()
            assert r == data, k
    return blobs


# ---------------------------------------------------------------------------------- peers

def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


def batches_in(frame):
    """(attributes, compressed records) of every CRC-valid v2 record batch in a Produce frame."""
    i = 0
    while i + 61 <= len(frame):
        if frame[i + 16] == 2:
            blen = struct.unpack_from(">i", frame, i + 8)[0]
            end = i + 12 + blen
            if 49 <= blen and end <= len(frame) and crc32c(frame[i + 21:end]) == struct.unpack_from(">I", frame, i + 17)[0]:
                yield struct.unpack_from(">h", frame, i + 21)[0], bytes(frame[i + 61:end])
                i = end
                continue
        i += 1


def peer_blobs() -> dict:
    sys.path.insert(0, os.path.join(REPO, "scripts"))
    import tempfile, confluent_kafka, kafka, lz4.frame, zstandard
    from capture_proxy import CaptureProxy
    from kafka.codec import snappy_decode
    codecs = ["gzip", "snappy", "lz4", "zstd"]
    cap, state = tempfile.mkdtemp(), tempfile.mkdtemp()

    def broker(args):
        env = dict(os.environ, KWIRE_BROKER_DIR=state, PYTHON=sys.executable)
        return subprocess.run(["bash", os.path.join(REPO, "scripts/broker.sh")] + args, env=env,
                              stdout=subprocess.PIPE, text=True, check=True).stdout.strip()

    proxy = CaptureProxy(("127.0.0.1", 0), ("127.0.0.1", 1), cap)
    bp = broker(["start", "--advertised-port", str(proxy.port)])
    try:
        proxy.upstream = ("127.0.0.1", int(bp.rsplit(":", 1)[1]))
        proxy.start()
        boot = "127.0.0.1:%d" % proxy.port
        value = lambda c, codec, k: ("%s %s record %d: " % (c, codec, k)).encode() + b"kafkawire-compression " * 8
        for codec in codecs:
            p = confluent_kafka.Producer({"bootstrap.servers": boot, "compression.type": codec, "linger.ms": 50})
            for k in range(5):
                p.produce("kwcomp-librdkafka-" + codec, value("librdkafka", codec, k), key=b"k")
            assert p.flush(15) == 0
        for codec in codecs:
            p = kafka.KafkaProducer(bootstrap_servers=boot, compression_type=codec, linger_ms=50)
            for k in range(5):
                p.send("kwcomp-kafka-python-" + codec, value("kafka-python", codec, k), key=b"k")
            p.flush(15)
            p.close()
        time.sleep(0.3)
    finally:
        proxy.stop()
        broker(["stop"])
    decode = {1: gzip.decompress, 2: snappy_decode, 3: lz4.frame.decompress,
              4: lambda d: zstandard.ZstdDecompressor().stream_reader(io.BytesIO(d), read_across_frames=True).read()}
    names = {"librdkafka": "librdkafka-%s" % confluent_kafka.libversion()[0], "kafka-python": "kafka-python-%s" % kafka.__version__}
    blobs = {}
    for f in sorted(os.listdir(cap)):
        if "-Produce-" in f and f.endswith(".request.bin"):
            frame = open(os.path.join(cap, f), "rb").read()
            client = "librdkafka" if b"rdkafka" in frame else "kafka-python"
            for attrs, payload in batches_in(frame):
                codec = attrs & 7
                if codec in decode:
                    base = "peer/%s-%s" % (names[client], codecs[codec - 1])
                    blobs[base + ".bin"] = payload
                    blobs[base + ".records"] = decode[codec](payload)
    return blobs


def main():
    data = make_input()
    blobs = {"input.bin": data}
    blobs.update(library_blobs(data))
    if "--peers" in sys.argv:
        blobs.update(peer_blobs())
    for name, b in sorted(blobs.items()):
        path = os.path.join(HERE, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(b)
        print("%7d  %s" % (len(b), name))


if __name__ == "__main__":
    main()
