#!/usr/bin/env bash
# Rekeying under continuous traffic between wireguard-go (namespace w) and pinhole agent
# (namespace p), IPv4 underlay. wireguard-go's REKEY_AFTER_TIME is fixed at 120 s, so the node
# rekeys, with PINHOLE_TEST_REKEY_AFTER_TIME_MS=1000: the node initiates (it has wg's endpoint
# and a 1 s persistent keepalive; wg has none), so its sessions are the initiator's, which
# rekey when sending once REKEY_AFTER_TIME has passed (the echo service's replies and the ACKs
# are the node sending). REKEY_TIMEOUT (5 s) still spaces its initiations, as the kernel's do.
#   - 8 MiB stream through the echo service at a limited rate (~12 s), sha256 compared;
#   - during it the node completes at least 2 more handshakes (its log), wg receives as many
#     initiations and never sends one (its log), and its latest-handshakes advances.
set -euo pipefail
PH_NAME=wg_interop_rekey
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"

readonly chunk_bytes=65536
readonly chunks=128          # 8 MiB
readonly chunk_pause_s=0.09  # ~12 s in all: two REKEY_TIMEOUTs and some
readonly rekeys_expected=2

# The node's completed handshakes so far (one log line each).
node_handshakes() { ph_agent_log rekey | grep -c 'handshake completed' || true; }
# Lines of wg's own log matching PATTERN.
wg_log_count() { grep -c "$1" "$ph_dir/wg-w.log" || true; }

# Writes FILE to stdout in chunks, pausing between them: continuous traffic at ~700 KiB/s.
rate_limited_cat() {
  local file=$1 i
  for ((i = 0; i < chunks; i++)); do
    dd if="$file" bs="$chunk_bytes" skip="$i" count=1 status=none
    sleep "$chunk_pause_s"
  done
}

ph_scenario 4
ph_wg_peer
export PINHOLE_TEST_REKEY_AFTER_TIME_MS=1000
ph_node_start rekey --initiator
ph_agent_log rekey | grep -q 'warning: test timers in use' ||
  ph_fail "expected the node to log that test timers are in use"
ph_wait 10 "a handshake started by the node (wg show latest-handshakes)" ph_wg_has_handshake w "$PH_W_IF"
ph_wait 5 "the node to log its first completed handshake" test "$(node_handshakes)" -ge 1
ph_expect_ping w "$PH_P_V4"

handshakes_before=$(node_handshakes)
initiations_before=$(wg_log_count 'Received handshake initiation')
latest_before=$(ph_wg_latest_handshake w "$PH_W_IF")
input=$(ph_random_file stream.in $((chunk_bytes * chunks)))
output="$ph_dir/stream.out"
ph_log "streaming $((chunk_bytes * chunks)) bytes through the echo service at a limited rate"
start=$SECONDS
rate_limited_cat "$input" |
  timeout 40 ip netns exec "$(ph_ns w)" socat -t 20 -T 20 -b 65536 \
    - "$(ph_socat_addr "$PH_P_V4" 7),connect-timeout=5" >"$output" 2>"$ph_dir/socat.log" ||
  ph_fail "expected the stream through the echo service to finish: $(wc -c <"$output") bytes back: $(cat "$ph_dir/socat.log")"
ph_same_bytes "$input" "$output" "stream through $PH_P_V4:7 across rekeys"
ph_log "stream: ok, byte-identical ($((SECONDS - start)) s)"

rekeys=$(($(node_handshakes) - handshakes_before))
initiations=$(($(wg_log_count 'Received handshake initiation') - initiations_before))
wg_initiations=$(wg_log_count 'Sending handshake initiation')
latest_after=$(ph_wg_latest_handshake w "$PH_W_IF")
ph_log "during the stream: $rekeys handshakes completed by the node, $initiations initiations received by wg, wg sent $wg_initiations; wg latest-handshake $latest_before -> $latest_after"
[ "$rekeys" -ge "$rekeys_expected" ] ||
  ph_fail "expected the node to complete at least $rekeys_expected handshakes during the stream, it completed $rekeys"
[ "$initiations" -ge "$rekeys_expected" ] ||
  ph_fail "expected wg to receive at least $rekeys_expected initiations during the stream, it logged $initiations"
[ "$wg_initiations" -eq 0 ] ||
  ph_fail "expected every handshake to be the node's, but wg sent $wg_initiations initiations"
[ "$latest_after" -gt "$latest_before" ] ||
  ph_fail "expected wg's latest handshake to advance during the stream ($latest_before -> $latest_after)"
ph_expect_ping w "$PH_P_V6"
ph_agent_stop rekey
echo "ok: $PH_NAME (${SECONDS}s)"
