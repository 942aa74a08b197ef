#!/usr/bin/env bash
# Benchmark: the same MQTTClient program (bench/mqtt_bench.c, built once
# against Paho's headers and library) run through one mosquitto, first on
# Debian's Paho C, then on FerroMQ (LD_LIBRARY_PATH with Paho's file names).
# Prints messages/s and CPU time per message for QoS 0 and 1, and the ratios.
# Not a test: numbers depend on the machine. Knobs (environment):
#   QOS0_COUNT (default 50000), QOS1_COUNT (default 2000), PAYLOAD (64 bytes),
#   WINDOW (100 unacknowledged QoS 1 publishes), PROFILE (release).
set -euo pipefail

cd "$(dirname "$0")/.."
QOS0_COUNT=${QOS0_COUNT:-50000}
QOS1_COUNT=${QOS1_COUNT:-2000}
PAYLOAD=${PAYLOAD:-64}
WINDOW=${WINDOW:-100}
PROFILE=${PROFILE:-release}
LIB="$PWD/target/$PROFILE/libferromq.so"

for need in /usr/sbin/mosquitto /usr/include/MQTTClient.h; do
    [ -e "$need" ] || { echo "bench: $need is missing (apt-get install mosquitto libpaho-mqtt-dev)" >&2; exit 1; }
done
[ -e "$LIB" ] || { echo "bench: $LIB is missing (cargo build --release)" >&2; exit 1; }

work=$(mktemp -d)
broker_pid=""
cleanup() {
    if [ -n "$broker_pid" ]; then
        kill "$broker_pid" 2>/dev/null || true
        wait "$broker_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p build
${CC:-cc} -O2 -Wall -Wextra -Werror -pthread bench/mqtt_bench.c -o build/mqtt_bench -lpaho-mqtt3c

# Our library under every name Paho's programs look for.
mkdir "$work/lib"
for name in libpaho-mqtt3c.so.1 libpaho-mqtt3cs.so.1 libpaho-mqtt3a.so.1 libpaho-mqtt3as.so.1; do
    ln -s "$LIB" "$work/lib/$name"
done

# mosquitto on a free port; wait (bounded) for its "running" log line.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
CONF
mkfifo "$work/log"
/usr/sbin/mosquitto -c "$work/mosquitto.conf" 2>"$work/log" &
broker_pid=$!
exec 3<"$work/log"
if ! timeout 10 grep -q -m1 ' running' <&3; then
    echo "bench: mosquitto did not start" >&2
    exit 1
fi
# Keep draining the broker's log so it never blocks on a full pipe.
cat <&3 >/dev/null &

uri="tcp://127.0.0.1:$port"
declare -A rate cpu
run() { # label qos count [env...]
    local label=$1 qos=$2 count=$3
    shift 3
    local line
    if ! line=$(env "$@" timeout 300 build/mqtt_bench "$uri" "$qos" "$count" "$PAYLOAD" "$WINDOW"); then
        echo "$label: QoS $qos run FAILED${line:+ ($line)}"
        rate[$label.$qos]=0
        cpu[$label.$qos]=0
        return
    fi
    echo "$label: $line"
    rate[$label.$qos]=$(sed -n 's/.*msgs_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
    cpu[$label.$qos]=$(sed -n 's/.*cpu_us_per_msg=\([0-9.]*\).*/\1/p' <<<"$line")
}

echo "mosquitto on $uri; payload $PAYLOAD bytes; QoS 1 window $WINDOW"
for qos in 0 1; do
    count=$QOS0_COUNT
    [ "$qos" = 1 ] && count=$QOS1_COUNT
    run paho "$qos" "$count" -u LD_LIBRARY_PATH
    run ferromq "$qos" "$count" LD_LIBRARY_PATH="$work/lib"
done

echo
printf '%-4s %14s %14s %10s %16s %16s %10s\n' QoS "paho msg/s" "ferromq msg/s" "ratio" \
    "paho cpu us/msg" "ferromq cpu us" "ratio"
for qos in 0 1; do
    awk -v q="$qos" -v pr="${rate[paho.$qos]}" -v fr="${rate[ferromq.$qos]}" \
        -v pc="${cpu[paho.$qos]}" -v fc="${cpu[ferromq.$qos]}" 'BEGIN {
        printf "%-4s %14.0f %14.0f %9.2fx %16.2f %16.2f %9.2fx\n", q, pr, fr,
            (pr > 0 ? fr / pr : 0), pc, fc, (pc > 0 ? fc / pc : 0) }'
done
echo "(msg/s ratio = ferromq/paho, higher is better; CPU ratio = ferromq/paho, lower is better)"
