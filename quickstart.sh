#!/usr/bin/env bash
# Slacker quickstart: from a fresh Debian machine to a lazily started container, a commit, and the same
# container on a second node that sees the change. Run as root: ./quickstart.sh
#
# What it does, with each step's time and the bytes the node fetched against the image's size:
#   1. installs what it needs from apt (the host's apt configuration; no mirror is named here)
#   2. builds slacker (Release) into ./.data/bin
#   3. builds a small real image (Debian minbase, 3-layer OCI layout; cached in /var/cache/slacker/corpus)
#   4. starts `slacker server` and `slacker node` on ./.data (socket ./.data/node.sock)
#   5. import + push, pull on an empty node cache, run `echo hello`
#   6. changes a file in a container, commits, pushes; pulls on a fresh node (empty cache) and runs again
# It stops everything it started (by PID) and leaves nothing mounted, also on failure or Ctrl-C.
set -euo pipefail

cd "$(dirname "$0")"
REPO=$(pwd)
DATA="$REPO/.data"
BIN="$DATA/bin"
PORT="${SLACKER_QUICKSTART_PORT:-17070}"
CORPUS_IMAGE="${SLACKER_QUICKSTART_IMAGE:-debian}"   # an entry of bench/corpus.json
SERVER="http://127.0.0.1:$PORT"
SOCK="$DATA/node.sock"
SERVER_PID=""
NODE_PID=""

say() { printf '\n== %s\n' "$*"; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    die "run me as root (./quickstart.sh as root): the node mounts file systems, attaches loop devices and runs containers."
fi

stop_pid() { # PID NAME: SIGTERM, then SIGKILL after 60 s; only the processes this script started
    local pid=$1 name=$2
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    echo "quickstart: $name ($pid) did not stop in 60 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    set +e
    stop_pid "$NODE_PID" "slacker node"
    stop_pid "$SERVER_PID" "slacker server"
    # A node stops its containers and detaches in order (ext4, loop, FUSE). Anything still mounted under
    # .data would be a bug; remove it so the machine is left clean, and say so.
    local left
    left=$(awk -v d="$DATA/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    if [ -n "$left" ]; then
        echo "quickstart: unmounting what was left under $DATA:" >&2
        echo "$left" >&2
        echo "$left" | while read -r m; do umount -l "$m"; done
        [ $status -eq 0 ] && status=1
    fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f s", b - a }'; }
# An array, not a function: "${SLACKER[@]}" ... & must give $! = the slacker process itself, which
# stop_pid signals; a backgrounded function would be a subshell whose death leaves slacker running.
SLACKER=("$BIN/slacker/slacker")
slacker() { "${SLACKER[@]}" "$@"; }

declare -a SUMMARY=()
step() { # LABEL COMMAND...: run, time, remember
    local label=$1; shift
    local t0; t0=$(now)
    "$@"
    local t; t=$(took "$t0")
    printf -- '-- %s: %s\n' "$label" "$t"
    SUMMARY+=("$(printf '%-44s %s' "$label" "$t")")
}

say "1. packages (apt, with this host's sources)"
need=()
for pkg in crun e2fsprogs util-linux mmdebstrap curl ca-certificates gcc zlib1g-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
else
    echo "all present: crun e2fsprogs util-linux mmdebstrap curl gcc zlib1g-dev"
fi
command -v dotnet >/dev/null || die "the .NET 10 SDK is needed (dotnet not found on PATH); install it, then run me again."
modprobe fuse 2>/dev/null || true
modprobe loop 2>/dev/null || true
[ -e /dev/fuse ] || die "/dev/fuse is missing: this kernel has no FUSE support."

say "2. build (Release)"
mkdir -p "$BIN"
# One native binary (Native AOT): every command starts in milliseconds, and it runs without dotnet.
step "build slacker" dotnet publish src/Slacker.Cli -c Release -o "$BIN/slacker" --artifacts-path "$DATA/artifacts" -v quiet -nologo

say "3. a small real image: $CORPUS_IMAGE from bench/corpus.json (Debian minbase based; cached after the first time)"
IMAGE_REF=""
build_image() {
    IMAGE_REF=$(slacker bench --build-only --images "$CORPUS_IMAGE" | grep -o 'oci:[^ ]*' | head -1)
    [ -n "$IMAGE_REF" ] || die "the corpus builder printed no oci: reference for the $CORPUS_IMAGE image"
}
step "build $CORPUS_IMAGE image" build_image
echo "image layout: $IMAGE_REF"

say "4. server and node on $DATA"
rm -rf "$DATA/server" "$DATA/node-a" "$DATA/node-b" "$SOCK"
if curl -fsS "$SERVER/healthz" >/dev/null 2>&1; then
    die "something already answers on 127.0.0.1:$PORT; stop it or set SLACKER_QUICKSTART_PORT"
fi
"${SLACKER[@]}" server --data "$DATA/server" --listen "127.0.0.1:$PORT" >"$DATA/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do curl -fsS "$SERVER/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$SERVER/healthz" >/dev/null || die "the server did not come up; see $DATA/server.log"
echo "server $SERVER (pid $SERVER_PID, log $DATA/server.log)"

start_node() { # DATA-DIR
    "${SLACKER[@]}" node --data "$1" --socket "$SOCK" --server "$SERVER" >"$1.log" 2>&1 &
    NODE_PID=$!
    for _ in $(seq 300); do grep -q "Node ready" "$1.log" 2>/dev/null && break; sleep 0.1; done
    grep -q "Node ready" "$1.log" || die "the node did not come up; see $1.log"
    echo "node $1 (pid $NODE_PID, log $1.log)"
}
start_node "$DATA/node-a"
export SLACKER_NODE_SOCKET="$SOCK" SLACKER_SERVER="$SERVER"

say "5. import + push, pull on an empty node cache, run"
step "import (flatten 3 layers into a snapshot)" slacker import "$IMAGE_REF" quickstart/debian:1 --node-data "$DATA/node-a"
step "push" slacker push quickstart/debian:1 --node-data "$DATA/node-a"
slacker node prune-cache
step "pull (node A, empty cache)" slacker pull quickstart/debian:1 --node-data "$DATA/node-a"
step "run echo hello (cold)" slacker run --name hello quickstart/debian:1 echo hello
slacker stats hello
slacker rm hello >/dev/null

say "6. change a file, commit, push; pull and run on a fresh node"
step "run: change /etc/motd" slacker run --name editor quickstart/debian:1 sh -c 'echo "hello from a committed container" > /etc/motd'
step "commit (uploads only changed chunks)" slacker commit editor quickstart/debian:2
slacker rm editor >/dev/null
step "push" slacker push quickstart/debian:2 --node-data "$DATA/node-a"
stop_pid "$NODE_PID" "slacker node"
NODE_PID=""
start_node "$DATA/node-b"
step "pull (node B, fresh cache)" slacker pull quickstart/debian:2 --node-data "$DATA/node-b"
step "run cat /etc/motd (cold)" slacker run --name reader quickstart/debian:2 cat /etc/motd
slacker stats reader
slacker rm reader >/dev/null

say "summary"
printf '%s\n' "${SUMMARY[@]}"
echo
echo "The node fetched only the blocks each container read; 'FETCHED' in the stats above is that amount"
echo "against 'IMAGE SIZE'. Next: .ci/run runs every test; ./cluster.sh runs a cluster."
