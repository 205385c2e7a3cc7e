#!/usr/bin/env bash
# Slacker as a cluster on one machine: PostgreSQL (metadata) + Ceph RGW (S3 chunks), two stateless
# `slacker server`s sharing them, and two nodes. Run as root: ./cluster.sh
#
#   1. installs postgresql and ceph (radosgw) from apt (this host's sources), builds slacker into ./.data/bin
#   2. starts PostgreSQL and Ceph RGW under ./.cluster (throw-away; nothing of the packaged services is used)
#   3. starts server 1 and server 2 on 127.0.0.1:7081 and :7082, both with --config ./.cluster/cluster.json
#   4. node A knows only server 1, node B knows server 2 then server 1 (failover list)
#   5. imports an image and commits a change on node A (through server 1); node B runs it (through server 2)
#   6. kill -9 of server 2: node B's next cold run fails over to server 1; fsck of the shared stores is clean
# It stops everything it started (by PID), deletes ./.cluster and leaves nothing mounted, also on failure.
set -euo pipefail

cd "$(dirname "$0")"
REPO=$(pwd)
DATA="$REPO/.data"
CLUSTER="$REPO/.cluster"
BIN="$DATA/bin"
PG_PORT="${SLACKER_CLUSTER_PG_PORT:-15432}"
S3_PORT="${SLACKER_CLUSTER_S3_PORT:-17480}"
MON_PORT="${SLACKER_CLUSTER_MON_PORT:-13300}"
S1="http://127.0.0.1:7081"
S2="http://127.0.0.1:7082"
CORPUS_IMAGE="${SLACKER_CLUSTER_IMAGE:-debian}"
PIDS=()
PG_BIN=""

say() { printf '\n== %s\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run me as root: nodes mount file systems, attach loop devices and run containers."

stop_pid() { # PID: SIGTERM, then SIGKILL after 60 s; only processes this script started
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    set +e
    # Nodes first (they detach their roots in order), then servers, then the engines.
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
    [ -n "$PG_BIN" ] && [ -f "$CLUSTER/pg/data/postmaster.pid" ] &&
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$CLUSTER/pg/data" -m fast -w stop >/dev/null
    [ -d "$CLUSTER/ceph" ] && "$REPO/tools/stop-ceph-s3.sh" "$CLUSTER/ceph" --purge >/dev/null 2>&1
    local left
    left=$(awk -v d="$CLUSTER/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    if [ -n "$left" ]; then
        echo "cluster: unmounting what was left under $CLUSTER:" >&2
        echo "$left" | while read -r m; do umount -l "$m"; done
        [ $status -eq 0 ] && status=1
    fi
    rm -rf "$CLUSTER"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "1. packages and build"
need=()
for pkg in crun e2fsprogs util-linux mmdebstrap curl gcc zlib1g-dev postgresql ceph-mon ceph-osd radosgw ceph-common; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
command -v dotnet >/dev/null || die "the .NET 10 SDK is needed (dotnet not found on PATH)."
modprobe fuse 2>/dev/null || true
modprobe loop 2>/dev/null || true
if [ ! -x "$BIN/slacker/slacker" ]; then
    dotnet publish src/Slacker.Cli -c Release -o "$BIN/slacker" --artifacts-path "$DATA/artifacts" -v quiet -nologo
fi
SLACKER=("$BIN/slacker/slacker")
slacker() { "${SLACKER[@]}" "$@"; }
IMAGE_REF=$(slacker bench --build-only --images "$CORPUS_IMAGE" | grep -o 'oci:[^ ]*' | head -1)
[ -n "$IMAGE_REF" ] || die "the corpus builder printed no oci: reference for $CORPUS_IMAGE"

say "2. PostgreSQL on 127.0.0.1:$PG_PORT and Ceph RGW (S3) on 127.0.0.1:$S3_PORT, under $CLUSTER"
rm -rf "$CLUSTER" && mkdir -p "$CLUSTER/pg" && chmod 711 "$CLUSTER" && chown postgres "$CLUSTER/pg"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
runuser -u postgres -- "$PG_BIN/initdb" -D "$CLUSTER/pg/data" -U slacker --auth=trust -E UTF8 >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$CLUSTER/pg/data" -l "$CLUSTER/pg/postgres.log" -w start \
    -o "-p $PG_PORT -k $CLUSTER/pg -c listen_addresses=127.0.0.1" >/dev/null
runuser -u postgres -- "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U slacker slacker
eval "$(S3_PORT=$S3_PORT MON_PORT=$MON_PORT "$REPO/tools/start-ceph-s3.sh" "$CLUSTER/ceph")"
cat >"$CLUSTER/cluster.json" <<JSON
{
  "metadata": "postgres://slacker@127.0.0.1:$PG_PORT/slacker",
  "chunks": "s3://slacker?endpoint=$S3_ENDPOINT",
  "s3AccessKey": "$S3_ACCESS_KEY",
  "s3SecretKey": "$S3_SECRET_KEY"
}
JSON
chmod 600 "$CLUSTER/cluster.json"

say "3. two servers on the shared stores"
start_server() { # N URL
    "${SLACKER[@]}" server --data "$CLUSTER/server$1" --listen "${2#http://}" --config "$CLUSTER/cluster.json" >"$CLUSTER/server$1.log" 2>&1 &
    PIDS+=($!)
    eval "SERVER$1_PID=$!"
    for _ in $(seq 300); do curl -fsS "$2/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    curl -fsS "$2/healthz" >/dev/null || die "server $1 did not come up; see $CLUSTER/server$1.log"
    grep -m1 "serving" "$CLUSTER/server$1.log"
}
start_server 1 "$S1"
start_server 2 "$S2"

say "4. node A (server 1) and node B (server 2, then 1)"
start_node() { # NAME SERVERS
    "${SLACKER[@]}" node --data "$CLUSTER/node-$1" --socket "$CLUSTER/node-$1.sock" --server "$2" >"$CLUSTER/node-$1.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 300); do grep -q "Node ready" "$CLUSTER/node-$1.log" 2>/dev/null && break; sleep 0.1; done
    grep -q "Node ready" "$CLUSTER/node-$1.log" || die "node $1 did not come up; see $CLUSTER/node-$1.log"
    echo "node $1: --server $2"
}
start_node a "$S1"
start_node b "$S2,$S1"
on() { # NODE CLI-ARGS...: a CLI command against that node and its servers
    local node=$1 servers; shift
    [ "$node" = a ] && servers=$S1 || servers="$S2,$S1"
    SLACKER_NODE_SOCKET="$CLUSTER/node-$node.sock" SLACKER_NODE_DATA="$CLUSTER/node-$node" SLACKER_SERVER="$servers" slacker "$@"
}

say "5. import and commit on node A (server 1); run on node B (server 2)"
on a import "$IMAGE_REF" cluster/debian:1
on a run --name editor cluster/debian:1 sh -c 'echo "written on node A" > /etc/motd'
on a commit editor cluster/debian:2
on a rm editor >/dev/null
on a push cluster/debian:2
on b run --name reader cluster/debian:2 cat /etc/motd
on b stats reader
on b rm reader >/dev/null

say "6. kill -9 server 2; node B fails over to server 1"
kill -KILL "$SERVER2_PID"
on b node prune-cache
on b run --rm cluster/debian:2 cat /etc/motd
slacker fsck --data "$CLUSTER/fsck" --config "$CLUSTER/cluster.json"

echo
echo "Both servers were stateless: everything lives in PostgreSQL and the S3 bucket. Logs were in $CLUSTER."
