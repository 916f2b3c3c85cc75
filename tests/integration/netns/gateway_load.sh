#!/usr/bin/env bash
# The gateway under load (issue 9, item 5): pinhole-load (apps/loadgen, built next to pinhole)
# opens 1,000 idle authenticated relay channels and 4 active pairs to a gateway, every one a node
# key running the node's own Noise_IK handshake, from eight loopback source addresses inside a
# namespace of the test's own (the host's loopback is never used). All 1,008 come up and the
# gateway's status says so; then for longer than the gateway's 30 s idle cut the idle channels
# only ping (every 10 s) while the pairs keep sending 1400-byte datagrams to each other through
# the gateway: datagrams keep arriving, no channel is lost, the gateway's RSS stays bounded.
set -euo pipefail
PH_NAME=gateway_load
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
load="$(dirname "$ph_pinhole")/loadgen/pinhole-load"
[ -x "$load" ] || ph_fail "expected pinhole-load next to pinhole, at $load (it is built with pinhole: apps/loadgen)"

readonly idle=1000 pairs=4 pair_rate=100 sit_seconds=31 gateway_port=8443
readonly total=$((idle + 2 * pairs))
# A descriptor per channel in the gateway and in pinhole-load.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((total + 100)) ] ||
  ph_skip "needs $((total + 100)) file descriptors per process; the hard limit is $(ulimit -Hn)"

rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

ph_netns_add g
ph_gateway_init g
"$load" keys -n "$idle" --pairs "$pairs" --keys "$ph_dir/load.keys" --authorized-keys "$ph_dir/authorized_keys" \
  >"$ph_dir/keys.log" || ph_fail "expected 'pinhole-load keys' to write the keys: $(cat "$ph_dir/keys.log")"
[ "$(grep -c ' reach=' "$ph_dir/authorized_keys")" -eq $((2 * pairs)) ] ||
  ph_fail "expected $((2 * pairs)) reach= lines in the generated authorized_keys"
[ "$(stat -c %a "$ph_dir/load.keys")" = 600 ] || ph_fail "expected the load keys (private keys) to be mode 0600"

# Under ASan, a small quarantine so RSS shows the gateway's memory, not freed blocks kept aside.
PH_GATEWAY_EXTRA_YAML="limits: {max_channels: $((total + 500))}"
ph_gateway_start g "$gateway_port" "$ph_dir/authorized_keys" \
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
rss_start=$(rss_kib "$PH_GATEWAY_PID")

ph_log "pinhole-load: $idle idle channels (ping every 10 s) and $pairs pairs ($pair_rate datagrams/s each way)"
ip netns exec "$(ph_ns g)" "$load" --gateway "tcp://127.0.0.1:$gateway_port" --gateway-key "$ph_dir/gw/agent_key.pub" \
  --keys "$ph_dir/load.keys" -n "$idle" --pairs "$pairs" --pair-rate "$pair_rate" --source 127.0.0.2-127.0.0.9 \
  --rate 250 --in-flight 32 --ping-interval 10 --report 5 >"$ph_dir/load.log" 2>&1 &
load_pid=$!
ph_track_pid "$load_pid" "pinhole-load"
load_settled() {
  kill -0 "$load_pid" 2>/dev/null || ph_fail "pinhole-load exited early: $(tail -n 5 "$ph_dir/load.log")"
  grep -q 'established:' "$ph_dir/load.log"
}
ph_wait 90 "pinhole-load to finish opening its channels" load_settled
established=$(grep 'established:' "$ph_dir/load.log" | sed 's/^pinhole-load: //')
ph_log "$established"
grep -q "all $total channels up" "$ph_dir/load.log" || ph_fail "expected all $total channels up: $established"

status=$(ph_gateway_status)
ph_log "${status#pinhole gateway: }"
[[ $status == *"status: $total channels ($total authenticated)"* ]] ||
  ph_fail "expected the gateway to count $total channels, all authenticated: $status"
rss_up=$(rss_kib "$PH_GATEWAY_PID")
relayed_before=$(ph_gateway_count datagrams)

ph_log "idle for ${sit_seconds} s (the gateway cuts a channel after 30 s without a message); the pairs keep sending"
for ((i = 0; i < sit_seconds; i++)); do
  kill -0 "$load_pid" 2>/dev/null || ph_fail "pinhole-load exited: $(tail -n 5 "$ph_dir/load.log")"
  sleep 1
done
status=$(ph_gateway_status)
ph_log "${status#pinhole gateway: }"
[[ $status == *"status: $total channels ($total authenticated)"* ]] ||
  ph_fail "expected every channel still up at the gateway after ${sit_seconds} s: $status"
relayed_after=$(ph_gateway_count datagrams)
expected=$((2 * pairs * pair_rate * sit_seconds))
relayed=$((relayed_after - relayed_before))
ph_log "relayed $relayed datagrams in ${sit_seconds} s for the pairs (they sent about $expected)"
[ "$relayed" -ge $((expected / 2)) ] ||
  ph_fail "expected the gateway to keep relaying for the pairs (at least $((expected / 2)) datagrams in ${sit_seconds} s), got $relayed"
report=$(grep '\[.*up [0-9]*/' "$ph_dir/load.log" | tail -n 1 | sed 's/^pinhole-load: //')
ph_log "pinhole-load: $report"
[[ $report == *"up $total/$total, in handshake 0, failures 0;"* ]] ||
  ph_fail "expected pinhole-load to report all $total up and no failure: $report"
if ! [[ $report =~ received\ [0-9.]+\ MB/s,\ ([0-9]+)\ datagrams/s ]] || [ "${BASH_REMATCH[1]}" -eq 0 ]; then
  ph_fail "expected the pairs to be receiving datagrams: $report"
fi

rss_end=$(rss_kib "$PH_GATEWAY_PID")
load_rss=$(rss_kib "$load_pid")
ph_log "gateway RSS: $(mib "$rss_start") before any channel, $(mib "$rss_up") with $total up," \
  "$(mib "$rss_end") after ${sit_seconds} s ($(awk -v d=$((rss_up - rss_start)) -v n=$total 'BEGIN { printf "%.1f", d / n }') KiB" \
  "per channel); pinhole-load RSS $(mib "$load_rss")"
# Bounded: what the channels cost (generous for ASan builds), and no growth while they sit.
[ $((rss_up - rss_start)) -le $((total * 64)) ] ||
  ph_fail "expected the gateway to need at most 64 KiB per channel, it grew by $(((rss_up - rss_start) / total)) KiB per channel"
[ "$rss_end" -le $((rss_up + 16384)) ] ||
  ph_fail "expected the gateway's RSS to stay put while the channels sit (at most +16 MiB), it went from $(mib "$rss_up") to $(mib "$rss_end")"

status=0
ph_stop_pid "$load_pid" || status=$?
[ "$status" -eq 0 ] || ph_fail "expected pinhole-load to exit 0 on SIGTERM with every channel up, got $status: $(tail -n 5 "$ph_dir/load.log")"
result=$(sed -n 's/^pinhole-load: result //p' "$ph_dir/load.log")
ph_log "pinhole-load: $result"
[[ $result == *" failed=0 "* && $result == *" errors=0 "* && $result == *" unexpected=0"* ]] ||
  ph_fail "expected no failure, error frame or unexpected frame at pinhole-load: $result"
echo "ok: $PH_NAME (${SECONDS}s)"
