#!/usr/bin/env bash
# `scripts/bench gateway` (issue 9, item 6): what the gateway costs per channel and how much it
# relays, measured with pinhole-load (apps/loadgen) on loopback inside a namespace of its own.
#   sudo tests/bench/gateway_bench.sh build/host-release/apps/pinhole [PINHOLE_LOAD]
# (a release build: never ASan; PINHOLE_LOAD defaults to apps/loadgen/pinhole-load next to it)
#
# Each case starts a fresh gateway (plain TCP and TLS on one port, limits.max_channels above
# what is opened), reads its RSS before any channel (RSS_0), then:
#   idle      pinhole-load opens N idle channels (each a node key doing the real Noise_IK
#             handshake; they ping every 20 s) over plain TCP, over TLS (tls://, OpenSSL on the
#             load side) or over WebSocket (ws://, as behind a TLS-terminating nginx; the node's
#             core/relay/websocket code); once establishment ends: the gateway's RSS (RSS_N) and its CPU
#             over GATEWAY_BENCH_IDLE_SECONDS of idling. Per idle channel: (RSS_N - RSS_0) / N,
#             N the channels the gateway counts as authenticated. Also: how long establishment
#             took and the gateway's CPU per handshake.
#   pairs     K active pairs (no idle channels): each side sends 1400-byte datagrams to the other
#             through the gateway as fast as it takes them, for GATEWAY_BENCH_SECONDS; what
#             arrives per second (MB = 10^6 bytes of datagram), the gateway's CPU, MB relayed per
#             second of its CPU (what does not depend on how busy the machine is), and the
#             datagrams it dropped for a full receiver buffer (limits.channel_buffer_bytes).
#             "sent" counts what the kernel took, so it includes what still sat in socket
#             buffers at the end.
# Printed, never asserted; not part of the tests.
#   GATEWAY_BENCH_IDLE          idle channel counts over TCP (default "1000 10000")
#   GATEWAY_BENCH_TLS           idle channel counts over TLS (default "1000 10000")
#   GATEWAY_BENCH_WS            idle channel counts over WebSocket (default "1000 10000")
#   GATEWAY_BENCH_PAIRS         active pair counts (default "1 10 100")
#   GATEWAY_BENCH_IDLE_SECONDS  the idle window (default 20: one ping interval)
#   GATEWAY_BENCH_SECONDS       the throughput window (default 10)
#   GATEWAY_BENCH_RATE          new connections per second (default 1000)
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "gateway_bench: needs root (it creates a network namespace); run it as root, e.g. sudo scripts/bench gateway" >&2
  exit 1
fi
PH_NAME=gateway_bench
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/netns/lib.sh
source "$here/../integration/netns/lib.sh"
load=${2:-$(dirname "${1:-.}")/loadgen/pinhole-load}
ph_init "$1"
[ -x "$load" ] || ph_fail "pinhole-load '$load' is not executable (cmake --build ... --target pinhole-load)"

idle_counts=${GATEWAY_BENCH_IDLE-1000 10000}
tls_counts=${GATEWAY_BENCH_TLS-1000 10000}
ws_counts=${GATEWAY_BENCH_WS-1000 10000}
pair_counts=${GATEWAY_BENCH_PAIRS-1 10 100}
idle_seconds=${GATEWAY_BENCH_IDLE_SECONDS:-20}
pair_seconds=${GATEWAY_BENCH_SECONDS:-10}
rate=${GATEWAY_BENCH_RATE:-1000}
for n in $idle_counts $tls_counts $ws_counts $pair_counts $idle_seconds $pair_seconds $rate; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || ph_fail "the GATEWAY_BENCH_* settings are positive integers, got '$n'"
done
readonly gateway_port=8443
max_idle=0
max_pairs=0
for n in $idle_counts $tls_counts $ws_counts; do [ "$n" -le "$max_idle" ] || max_idle=$n; done
for n in $pair_counts; do [ "$n" -le "$max_pairs" ] || max_pairs=$n; done

# Each process (the gateway, pinhole-load) needs a descriptor per channel.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
needed=$((max_idle + 2 * max_pairs + 100))
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$needed" ] ||
  ph_fail "needs $needed file descriptors per process, the hard limit is $(ulimit -Hn) (ulimit -n)"

ph_netns_add g
ph_gateway_init g
"$load" keys -n "$max_idle" --pairs "$max_pairs" --keys "$ph_dir/load.keys" \
  --authorized-keys "$ph_dir/authorized_keys" >"$ph_dir/keys.log"
PH_GATEWAY_EXTRA_YAML="tls: {cert: \"$ph_dir/gw/gateway.crt\", key: \"$ph_dir/gw/gateway.key\"}
limits: {max_channels: $((max_idle + 2 * max_pairs + 1000))}"
pin=$(sed -n 's/^certificate sha256: //p' "$ph_dir/gateway-init.log")

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

gateway_fresh() {
  if [ -n "${PH_GATEWAY_PID:-}" ]; then ph_stop_pid "$PH_GATEWAY_PID" || true; fi
  : >"$ph_dir/gateway.log"
  ph_gateway_start g "$gateway_port" "$ph_dir/authorized_keys"
  sleep 0.5
}
authenticated() {  # the gateway's count of authenticated channels
  local line
  line=$(ph_gateway_status)
  [[ $line =~ \(([0-9]+)\ authenticated\) ]] || ph_fail "expected '(N authenticated)' in the gateway's status: $line"
  printf '%s' "${BASH_REMATCH[1]}"
}
gateway_counter() {  # the number before WORDS in the gateway's latest status line
  local line
  line=$(grep 'status:' "$ph_dir/gateway.log" | tail -n 1)
  [[ $line =~ ([0-9]+)\ $1 ]] && printf '%s' "${BASH_REMATCH[1]}" || printf '?'
}

# load_start TAG ARGS...: pinhole-load in g (log load-TAG.log); sets load_pid.
load_start() {
  local tag=$1
  shift
  ip netns exec "$(ph_ns g)" "$load" --gateway-key "$ph_dir/gw/agent_key.pub" --keys "$ph_dir/load.keys" \
    --rate "$rate" --report 0 "$@" >"$ph_dir/load-$tag.log" 2>&1 &
  load_pid=$!
  ph_track_pid "$load_pid" "pinhole-load $tag"
}
load_established() { grep -q 'established:' "$ph_dir/load-$1.log" || ! kill -0 "$load_pid" 2>/dev/null; }
load_stop() {  # stops pinhole-load (after the gateway, so it does not wait on 10,000 closes)
  ph_stop_pid "$load_pid" || true
}
load_result() { sed -n 's/^pinhole-load: result //p' "$ph_dir/load-$1.log" | tail -n 1; }
result_field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

idle_rows=()
short_rows=()
idle_case() {  # TRANSPORT N
  local transport=$1 n=$2 tag="$1-$2" rss0 rss_n ticks0 ticks1 ticks2 up establish per_channel extra=() url
  gateway_fresh
  rss0=$(rss_kib "$PH_GATEWAY_PID")
  ticks0=$(cpu_ticks "$PH_GATEWAY_PID")
  # TLS handshakes cost the gateway ~15 ms each: fewer at once, so none waits out its 5 s deadline.
  [ "$transport" != tls ] || extra=(--cert-sha256 "$pin" --in-flight 32)
  ph_log "$transport: $n idle channels (RSS before: $(kib_to_mib "$rss0") MiB)"
  url="$transport://127.0.0.1:$gateway_port"
  [ "$transport" != ws ] || url+=/pinhole
  load_start "$tag" --gateway "$url" -n "$n" --pairs 0 "${extra[@]}"
  ph_wait $((120 + n / 20)) "pinhole-load to establish $n channels" load_established "$tag"
  grep -q 'established:' "$ph_dir/load-$tag.log" || ph_fail "pinhole-load exited: $(tail -n 3 "$ph_dir/load-$tag.log")"
  ticks1=$(cpu_ticks "$PH_GATEWAY_PID")
  establish=$(sed -n 's/.*channels up in \([0-9.]*\) s.*/\1/p' "$ph_dir/load-$tag.log" | tail -n 1)
  sleep "$idle_seconds"
  ticks2=$(cpu_ticks "$PH_GATEWAY_PID")
  rss_n=$(rss_kib "$PH_GATEWAY_PID")
  up=$(authenticated)
  ph_log "  $(grep 'established:' "$ph_dir/load-$tag.log" | tail -n 1 | sed 's/^pinhole-load: //')"
  ph_log "  gateway: $(grep 'status:' "$ph_dir/gateway.log" | tail -n 1 | sed 's/^pinhole gateway: //')"
  ph_log "  pinhole-load itself: RSS $(kib_to_mib "$(rss_kib "$load_pid")") MiB for $n channels"
  [ "$up" -ge "$n" ] || short_rows+=("$transport $n: the gateway kept $up")
  ph_stop_pid "$PH_GATEWAY_PID" || true
  PH_GATEWAY_PID=""
  load_stop
  per_channel=$(awk -v a="$rss0" -v b="$rss_n" -v n="$up" 'BEGIN { if (n > 0) printf "%.2f", (b - a) / n; else print "-" }')
  idle_rows+=("$(printf '| %-4s | %6s | %6s | %9s | %9s | %8s | %7s | %9s | %10s |' "$transport" "$n" "$up" \
    "$(kib_to_mib "$rss0")" "$(kib_to_mib "$rss_n")" "$per_channel" "${establish:-?}" \
    "$(awk -v t=$((ticks1 - ticks0)) -v hz="$hz" -v n="$up" 'BEGIN { if (n > 0) printf "%.2f", 1000 * t / hz / n; else print "-" }')" \
    "$(awk -v t=$((ticks2 - ticks1)) -v hz="$hz" -v s="$idle_seconds" 'BEGIN { printf "%.2f", 100 * t / hz / s }')")")
}

pair_rows=()
pair_case() {  # K
  local k=$1 tag="pairs-$1" ticks0 ticks1 result window
  gateway_fresh
  ph_log "tcp: $k active pairs for ${pair_seconds} s"
  load_start "$tag" --gateway "tcp://127.0.0.1:$gateway_port" -n 0 --pairs "$k" --duration "$pair_seconds"
  ph_wait 60 "pinhole-load to establish $k pairs" load_established "$tag"
  grep -q 'established:' "$ph_dir/load-$tag.log" || ph_fail "pinhole-load exited: $(tail -n 3 "$ph_dir/load-$tag.log")"
  ticks0=$(cpu_ticks "$PH_GATEWAY_PID")
  wait "$load_pid" || true
  ph_forget_pid "$load_pid"
  ticks1=$(cpu_ticks "$PH_GATEWAY_PID")
  ph_gateway_status >/dev/null
  result=$(load_result "$tag")
  [ -n "$result" ] || ph_fail "expected a result line from pinhole-load: $(tail -n 5 "$ph_dir/load-$tag.log")"
  window=$(result_field "$result" window_s)
  ph_log "  $(grep 'summary: over' "$ph_dir/load-$tag.log" | sed 's/^pinhole-load: summary: //')"
  local cpu_seconds mb
  cpu_seconds=$(awk -v t=$((ticks1 - ticks0)) -v hz="$hz" 'BEGIN { printf "%.3f", t / hz }')
  mb=$(awk -v r="$(result_field "$result" rx_MBps)" -v s="$window" 'BEGIN { printf "%.3f", r * s }')
  pair_rows+=("$(printf '| %5s | %9s | %10.1f | %12s | %12s | %17s | %13s | %12s |' "$k" \
    "$(result_field "$result" up)/$((2 * k))" "$(result_field "$result" rx_MBps)" "$(result_field "$result" rx_dps)" \
    "$(result_field "$result" tx_dps)" "$(gateway_counter 'buffer full')" \
    "$(awk -v c="$cpu_seconds" -v s="$window" 'BEGIN { if (s > 0) printf "%.0f", 100 * c / s; else print "-" }')" \
    "$(awk -v c="$cpu_seconds" -v m="$mb" 'BEGIN { if (c > 0) printf "%.0f", m / c; else print "-" }')")")
  ph_stop_pid "$PH_GATEWAY_PID" || true
  PH_GATEWAY_PID=""
}

PH_GATEWAY_PID=""
for n in $idle_counts; do idle_case tcp "$n"; done
for n in $tls_counts; do idle_case tls "$n"; done
for n in $ws_counts; do idle_case ws "$n"; done
for k in $pair_counts; do pair_case "$k"; done

echo
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "gateway: pinhole-load against a fresh gateway per row, loopback in one namespace; $(nproc) cores (${cpu:-unknown CPU}), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "idle channels (KiB per channel = (RSS_N - RSS_0) / N, N = the gateway's authenticated channels; goal <= 10 KiB over TCP):"
echo "| wire | opened |      N | RSS_0 MiB | RSS_N MiB | KiB/chan | setup s | CPU ms/hs | idle CPU % |"
echo "|------|--------|--------|-----------|-----------|----------|---------|-----------|------------|"
for row in "${idle_rows[@]}"; do echo "$row"; done
echo "(setup s: first connect to last channel up, at most $rate new connections/s; CPU ms/hs: gateway CPU during setup per channel; idle CPU %: of one core over ${idle_seconds} s, pings every 20 s)"
if [ ${#short_rows[@]} -gt 0 ]; then
  echo "NOTE: fewer channels than opened ($(IFS=';'; echo "${short_rows[*]}")): pinhole-load's 'established:' lines above give the reasons, the gateway's status line its refusals"
fi
echo
echo "active pairs over TCP, 1400-byte datagrams each way as fast as the gateway takes them, ${pair_seconds} s:"
echo "| pairs |  channels | recv MB/s  | recv dgram/s | sent dgram/s | buffer-full drops | gateway CPU % | MB per CPU-s |"
echo "|-------|-----------|------------|--------------|--------------|-------------------|---------------|--------------|"
for row in "${pair_rows[@]}"; do echo "$row"; done
