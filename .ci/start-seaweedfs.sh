#!/usr/bin/env bash
# start-seaweedfs.sh [PORT] [ACCESS] [SECRET] [DATADIR]
# SeaweedFS (Apache-2.0) `weed mini` (master+volume+filer+S3 in one process),
# S3 on 127.0.0.1:PORT; master PORT+1, volume PORT+2, filer PORT+3, admin PORT+4
# (gRPC ports are each +10000, so PORT must be <= 55530). WebDAV, admin UI,
# Iceberg/Lance endpoints and telemetry are switched off.
#
# Install: `go install github.com/seaweedfs/seaweedfs/weed@...` is refused (its go.mod
# has a replace directive) and the module has no semver tags (pseudo-versions only),
# so this builds it from a wrapper module that repeats the replace:
# ~2.5 min `go mod tidy` + ~9 min build on 2 cores, 233 MB binary, ~440 MB RSS idle.
# S3_TLS=1: also serve HTTPS on PORT+5 (self-signed) and print that endpoint.
# Storage classes are stored and returned (HEAD and ListObjectsV2); no RestoreObject (405).
here=$(cd "$(dirname "$0")" && pwd); source "$here/_s3common.sh"
PORT=${1:-8433}; ACCESS=${2:-testkey}; SECRET=${3:-testsecret}; DATA=${4:-$(mktemp -d -t seaweedfs-$PORT-XXXX)}
WEED_VERSION=${WEED_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}   # `weed version` -> 4.53
BIN=${WEED_BIN:-$(gobin)/weed}
if [[ ! -x $BIN ]]; then
  B=${WEED_BUILD_DIR:-$(mktemp -d -t weedbuild-XXXX)}
  echo "building seaweedfs $WEED_VERSION in $B (slow: ~12 min) ..." >&2
  mkdir -p "$B"
  cat > "$B/go.mod" <<MOD
module weedbuild

go 1.26

require github.com/seaweedfs/seaweedfs $WEED_VERSION

replace github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0
MOD
  printf '//go:build tools\n\npackage weedbuild\n\nimport _ "github.com/seaweedfs/seaweedfs/weed"\n' > "$B/tools.go"
  (cd "$B" && GOFLAGS=-mod=mod go mod tidy >&2 && GOFLAGS=-mod=mod go build -o "$BIN" github.com/seaweedfs/seaweedfs/weed >&2)
fi
for p in "$PORT" $((PORT+1)) $((PORT+2)) $((PORT+3)) $((PORT+4)); do port_free "$p"; done
mkdir -p "$DATA/data"
tlsargs=(); scheme=http; sport=$PORT
if [[ ${S3_TLS:-0} == 1 ]]; then   # HTTPS on PORT+5, plain HTTP stays on PORT
  make_cert "$DATA"; sport=$((PORT+5)); scheme=https; port_free "$sport"
  tlsargs=(-s3.port.https="$sport" -s3.cert.file="$DATA/cert.pem" -s3.key.file="$DATA/key.pem")
fi
cat > "$DATA/s3.json" <<JSON
{"identities":[{"name":"admin","credentials":[{"accessKey":"$ACCESS","secretKey":"$SECRET"}],"actions":["Admin","Read","List","Tagging","Write"]}]}
JSON
nohup "$BIN" mini -dir="$DATA/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
  -s3.port="$PORT" -master.port=$((PORT+1)) -volume.port=$((PORT+2)) -filer.port=$((PORT+3)) \
  -admin.port=$((PORT+4)) -admin.port.legacy=0 -admin.ui=false -webdav=false \
  -s3.port.iceberg=0 -s3.port.lance=0 -master.telemetry=false \
  -s3.config="$DATA/s3.json" "${tlsargs[@]}" > "$DATA/server.log" 2>&1 &
pid=$!; echo "$pid" > "$DATA/server.pid"
wait_http "$PORT" "$pid" 120
# S3 answers before the filer finished wiring buckets; wait for the banner.
for _ in $(seq 100); do grep -q "Press Ctrl+C" "$DATA/server.log" && break; sleep 0.1; done
print_env "$sport" "$ACCESS" "$SECRET" "$pid" "$DATA/server.pid" "$scheme"
