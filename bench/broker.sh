#!/usr/bin/env bash
# Broker benchmark (issue 3): the same load generator (`ferromq bench`)
# against mosquitto and `ferromq broker` in one run, each broker pinned to
# core 1 and the generator to core 0. Prints messages/s for fan-in (8 → 1)
# and fan-out (1 → 50) at QoS 0 and 1 with 64-byte payloads, the RSS of each
# broker holding 5,000 idle connections, and the ferromq/mosquitto ratios.
#
# Usage: bench/broker.sh            (env: FANIN_MSGS, FANOUT_MSGS, IDLE_CONNS)
set -euo pipefail
cd "$(dirname "$0")/.."

FANIN_MSGS=${FANIN_MSGS:-200000}
FANOUT_MSGS=${FANOUT_MSGS:-20000}
IDLE_CONNS=${IDLE_CONNS:-5000}
# Per-session queue limit on both brokers: large enough that a QoS 1
# subscriber which falls behind is queued for, not dropped (both brokers
# default to 1000 and drop beyond it, which would measure the drop policy).
QUEUE=${QUEUE:-1000000}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
BROKER_CORE=1
GEN_CORE=0

command -v taskset >/dev/null || { echo "taskset (util-linux) is needed" >&2; exit 1; }
[ -x "$MOSQUITTO" ] || { echo "mosquitto not found at $MOSQUITTO" >&2; exit 1; }
if [ "$(nproc)" -lt 2 ]; then
    echo "warning: fewer than 2 cores; broker and generator share one" >&2
    BROKER_CORE=0
fi
# Every idle connection is a descriptor in the generator and in the broker.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ulimit -n $((IDLE_CONNS * 2 + 1024)) 2>/dev/null || true
echo "open files limit: $(ulimit -n)" >&2

cargo build --release --quiet --bin ferromq
FERROMQ=target/release/ferromq

WORK=$(mktemp -d)
BROKER_PID=""
stop_broker() {
    if [ -n "$BROKER_PID" ]; then
        kill "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
        BROKER_PID=""
    fi
}
cleanup() { stop_broker; rm -rf "$WORK"; }
trap cleanup EXIT

# Wait (bounded) until a line matching $2 appears in file $1.
wait_line() {
    local file=$1 pattern=$2 i
    for i in $(seq 1 200); do
        grep -q -- "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "timed out waiting for '$pattern' in $file:" >&2
    cat "$file" >&2
    return 1
}

start_mosquitto() {
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat >"$WORK/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_connections -1
max_queued_messages $QUEUE
max_inflight_messages 32
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
EOF
    taskset -c $BROKER_CORE "$MOSQUITTO" -c "$WORK/mosquitto.conf" 2>"$WORK/broker.log" &
    BROKER_PID=$!
    wait_line "$WORK/broker.log" "running"
    PORT=$port
}

start_ferromq() {
    printf 'max_queued %s\nmax_inflight 32\n' "$QUEUE" >"$WORK/ferromq.conf"
    taskset -c $BROKER_CORE "$FERROMQ" broker --config "$WORK/ferromq.conf" \
        --listen 127.0.0.1:0 2>"$WORK/broker.log" &
    BROKER_PID=$!
    wait_line "$WORK/broker.log" "listening on"
    PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$WORK/broker.log" | head -1 | sed 's/.*://')
}

# One throughput run; prints msgs_per_sec (and logs the full line).
throughput() {
    local mode=$1 qos=$2 msgs=$3 line
    line=$(taskset -c $GEN_CORE "$FERROMQ" bench --port "$PORT" --mode "$mode" --qos "$qos" \
        --messages "$msgs" --payload 64 --publishers 8 --subscribers 50)
    echo "  $line" >&2
    echo "$line" | sed -n 's/.*msgs_per_sec=\([0-9]*\).*/\1/p'
}

# RSS (kB) of the broker while the generator holds IDLE_CONNS connections.
idle_rss() {
    local fifo=$WORK/idle.fifo out=$WORK/idle.out rss
    rm -f "$fifo"
    mkfifo "$fifo"
    taskset -c $GEN_CORE "$FERROMQ" bench --port "$PORT" --mode idle \
        --connections "$IDLE_CONNS" <"$fifo" >"$out" &
    local gen=$!
    exec 9>"$fifo" # hold stdin open until the measurement is taken
    if ! wait_line_long "$out" "ready connections=$IDLE_CONNS"; then
        exec 9>&-; wait "$gen" || true; return 1
    fi
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$BROKER_PID/status")
    exec 9>&-
    wait "$gen" || true
    echo "$rss"
}

wait_line_long() {
    local file=$1 pattern=$2 i
    for i in $(seq 1 1200); do
        grep -q -- "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "timed out waiting for '$pattern'" >&2
    return 1
}

declare -A R
for broker in mosquitto ferromq; do
    echo "== $broker" >&2
    "start_$broker"
    echo "  port $PORT, pid $BROKER_PID, pinned to core $BROKER_CORE" >&2
    R[$broker,rss0]=$(awk '/^VmRSS:/ {print $2}' "/proc/$BROKER_PID/status")
    R[$broker,fanin0]=$(throughput fanin 0 "$FANIN_MSGS")
    R[$broker,fanin1]=$(throughput fanin 1 "$FANIN_MSGS")
    R[$broker,fanout0]=$(throughput fanout 0 "$FANOUT_MSGS")
    R[$broker,fanout1]=$(throughput fanout 1 "$FANOUT_MSGS")
    stop_broker
    # A fresh broker for the memory figure, so it is not inflated by the
    # buffers the throughput runs grew.
    "start_$broker"
    R[$broker,rss]=$(idle_rss)
    stop_broker
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

printf '\n%-34s %14s %14s %10s\n' "metric" "mosquitto" "ferromq" "ferro/mosq"
for row in "fanin0:fan-in 8->1 QoS 0 (msg/s)" "fanin1:fan-in 8->1 QoS 1 (msg/s)" \
    "fanout0:fan-out 1->50 QoS 0 (msg/s)" "fanout1:fan-out 1->50 QoS 1 (msg/s)" \
    "rss0:RSS at start (kB)" "rss:RSS with $IDLE_CONNS idle conns (kB)"; do
    key=${row%%:*}
    name=${row#*:}
    m=${R[mosquitto,$key]}
    f=${R[ferromq,$key]}
    printf '%-34s %14s %14s %10s\n' "$name" "$m" "$f" "$(ratio "$f" "$m")"
done
