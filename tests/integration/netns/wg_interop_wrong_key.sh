#!/usr/bin/env bash
# A wrong public key between wireguard-go (namespace w) and pinhole agent (namespace p), IPv4
# underlay. wg initiates (it has the node's endpoint) in cases 1 and 2:
#   1. wg has a wrong key for the node: its initiations are MACed for another key, so the node
#      rejects them as bad_mac1;
#   2. the node has a wrong key for wg: wg's initiations carry a key the node does not know,
#      so it rejects them as unknown_peer;
#   3. the node initiates, with a wrong key for wg: wg drops its initiations (invalid mac1).
# Each time no handshake ever completes (wg's latest-handshakes stays 0, the node logs none), no
# ping gets through, and the rejections are counted: by reason in the node's log (1, 2), in
# wg's log (3).
set -euo pipefail
PH_NAME=wg_interop_wrong_key
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"

# rejected REASON TAG: the node's log has a "rejected messages: ... N REASON" line.
rejected() { ph_agent_log "$2" | grep -qE "rejected messages: (.*, )?[0-9]+ $1"; }

# expect_never_completes TAG [REASON]: pings fail, the node counts REASON (if given), nothing
# completes.
expect_never_completes() {
  local tag=$1 reason=$2
  ph_expect_no_ping w "$PH_P_V4"
  if [ -n "$reason" ]; then
    ph_wait 5 "the node's log to count the rejected initiations as $reason" rejected "$reason" "$tag"
    ph_log "$(ph_agent_log "$tag" | grep 'rejected messages' | tail -n 1)"
  fi
  [ "$(ph_wg_latest_handshake w "$PH_W_IF")" = 0 ] ||
    ph_fail "expected no completed handshake with a wrong key, wg show latest-handshakes says $(ph_wg_latest_handshake w "$PH_W_IF")"
  if ph_agent_log "$tag" | grep -q 'handshake completed'; then
    ph_fail "expected the node to complete no handshake with a wrong key"
  fi
}

ph_scenario 4
ph_key stranger

ph_log "case 1: wg has a wrong public key for the node"
ph_wg_set w "$PH_W_IF" peer "$(ph_pub stranger)" allowed-ips "$PH_P_V6/128,$PH_P_V4/32" \
  endpoint "$(ph_endpoint "$PH_P_UL" "$PH_AGENT_PORT")"
ph_node_start wrong_node_key
expect_never_completes wrong_node_key bad_mac1
ph_agent_stop wrong_node_key
ph_wg_set w "$PH_W_IF" peer "$(ph_pub stranger)" remove

ph_log "case 2: the node has a wrong public key for wg"
ph_wg_peer --endpoint
ph_agent_yaml "$ph_dir/node-wrong_wg_key.yaml" --key p --address "$PH_P_V4/32" --peer wg \
  --pub stranger --allowed "$PH_W_V6/128" --allowed "$PH_W_V4/32"
ph_agent_start p wrong_wg_key "$ph_dir/node-wrong_wg_key.yaml"
expect_never_completes wrong_wg_key unknown_peer
ph_agent_stop wrong_wg_key

ph_log "case 3: the node initiates, with a wrong public key for wg"
ph_wg_peer
ph_agent_yaml "$ph_dir/node-initiator.yaml" --key p --address "$PH_P_V4/32" --peer wg \
  --pub stranger --allowed "$PH_W_V6/128" --allowed "$PH_W_V4/32" \
  --endpoint "$(ph_endpoint "$PH_W_UL" "$PH_WG_PORT")" --keepalive 1
ph_agent_start p initiator "$ph_dir/node-initiator.yaml"
ph_wait 5 "wg's log to show the node's initiation dropped (invalid mac1)" \
  grep -q 'Received packet with invalid mac1' "$ph_dir/wg-w.log"
expect_never_completes initiator ""
ph_agent_stop initiator
echo "ok: $PH_NAME (${SECONDS}s)"
