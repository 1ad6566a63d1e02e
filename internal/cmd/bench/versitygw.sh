#!/usr/bin/env bash
# versitygw.sh [-tls] [BENCH FLAGS...]: run the bench against versitygw on
# loopback, started for the run with the project's own scripts
# (.ci/start-versitygw.sh, installed on first use) on a free port, and
# stopped after it, by its PID.
#
#   bash internal/cmd/bench/versitygw.sh -rounds 5            # plain HTTP
#   bash internal/cmd/bench/versitygw.sh -tls -rounds 5       # TLS
#
# -tls: the bench writes a CA of its own and a server certificate it signed
# for 127.0.0.1 (go run . -gencert DIR) where start-versitygw.sh with
# S3_TLS=1 looks for cert.pem and key.pem (it then makes no self-signed
# one); the bench trusts that CA only (-cacert), whatever AWS_CA_BUNDLE says.
#
# Keep-alive: versitygw closes every connection after one answer unless
# started with --keep-alive, so that every request would pay a new TCP (and
# TLS) connection; S3 keeps connections open, so this script turns it on
# (VGW_KEEP_ALIVE=true, which versitygw reads). VGW_KEEP_ALIVE=false
# measures the other case.
#
# The server's PID goes to the bench as -server-pid, so that the small
# phases report the server's CPU time per object beside the client's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ci=$(cd "$here/../../../.ci" && pwd)
tls=0
if [[ ${1:-} == -tls ]]; then tls=1; shift; fi
export VGW_KEEP_ALIVE=${VGW_KEEP_ALIVE:-true}
port=${BENCH_PORT:-7070}
while ! bash -c "source '$ci/_s3common.sh'; port_free $port" 2>/dev/null; do port=$((port + 1)); done
data=$(mktemp -d -t s3dest-bench-vgw-XXXX)
trap 'bash "$ci/stop-s3.sh" "$data" >/dev/null 2>&1 || true; rm -rf "$data"' EXIT
(cd "$here" && go build -o "$data/bench" .)
if ((tls)); then "$data/bench" -gencert "$data"; fi
S3_TLS=$tls bash "$ci/start-versitygw.sh" "$port" s3dest-bench-key s3dest-bench-secret "$data" > "$data/env"
# shellcheck disable=SC1091
source "$data/env"
echo "versitygw ${VERSITYGW_VERSION:-v1.8.0} at $S3_ENDPOINT (keep-alive $VGW_KEEP_ALIVE), data in $data" >&2
args=(-endpoint "$S3_ENDPOINT" -access "$S3_ACCESS_KEY" -secret "$S3_SECRET_KEY" -region "$S3_REGION" -server-pid "$S3_PID")
if ((tls)); then args+=(-cacert "$data/ca.pem"); fi
"$data/bench" "${args[@]}" "$@"
