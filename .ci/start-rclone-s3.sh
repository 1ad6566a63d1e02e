#!/usr/bin/env bash
# start-rclone-s3.sh [PORT] [ACCESS] [SECRET] [DATADIR]
# `rclone serve s3` (MIT) over a local directory, on 127.0.0.1:PORT.
# Installs github.com/rclone/rclone@$RCLONE_VERSION with `go install` if missing
# (about 6.5 min on 2 cores). Debian's rclone 1.60.1 has no `serve s3`.
# rclone's S3 server is built on its own fork of gofakes3 (so it shares code
# lineage with gofakes3), but it checks SigV4, Content-MD5, x-amz-checksum-*
# and aws-chunked bodies. Storage class is remembered in memory only; no RestoreObject.
here=$(cd "$(dirname "$0")" && pwd); source "$here/_s3common.sh"
PORT=${1:-8333}; ACCESS=${2:-testkey}; SECRET=${3:-testsecret}; DATA=${4:-$(mktemp -d -t rclone-s3-$PORT-XXXX)}
RCLONE_VERSION=${RCLONE_VERSION:-v1.76.0}
# rclone reads every RCLONE_<FLAG> variable as a flag, and RCLONE_VERSION would
# set --version (and fail to parse), so rclone runs without it in its environment.
rclone() { env -u RCLONE_VERSION "$BIN" "$@"; }
BIN=${RCLONE_BIN:-$(gobin)/rclone}
if [[ ! -x $BIN ]] || ! rclone serve s3 --help >/dev/null 2>&1; then
  echo "installing rclone $RCLONE_VERSION ..." >&2
  go install "github.com/rclone/rclone@$RCLONE_VERSION" >&2
  BIN=$(gobin)/rclone
fi
port_free "$PORT"
mkdir -p "$DATA/root"
tlsargs=(); scheme=http
if [[ ${S3_TLS:-0} == 1 ]]; then make_cert "$DATA"; tlsargs=(--cert "$DATA/cert.pem" --key "$DATA/key.pem"); scheme=https; fi
RCLONE_CONFIG=/dev/null nohup env -u RCLONE_VERSION "$BIN" serve s3 --addr "127.0.0.1:$PORT" --auth-key "$ACCESS,$SECRET" \
  "${tlsargs[@]}" "$DATA/root" > "$DATA/server.log" 2>&1 &
pid=$!; echo "$pid" > "$DATA/server.pid"
wait_http "$PORT" "$pid" 60 "$scheme"
print_env "$PORT" "$ACCESS" "$SECRET" "$pid" "$DATA/server.pid" "$scheme"
