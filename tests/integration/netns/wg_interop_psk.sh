#!/usr/bin/env bash
# Pre-shared keys between wireguard-go (namespace w) and pinhole agent (namespace p), IPv4 underlay:
#   1. the same psk on both sides: ping and a 256 KiB echo work;
#   2. a wrong psk, wg initiates: no handshake ever completes (wg's latest-handshakes stays 0)
#      and no ping gets through;
#   3. a wrong psk, the node initiates: wg's latest-handshakes stays 0, and the node's log shows
#      the failed handshake (it cannot open wg's response).
set -euo pipefail
PH_NAME=wg_interop_psk
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
ph_scenario 4
ph_psk good
ph_psk wrong

ph_log "case 1: matching pre-shared keys"
ph_wg_peer --endpoint --psk "$ph_dir/good.psk"
ph_node_start good --psk "$ph_dir/good.psk"
ph_expect_ping w "$PH_P_V6"
ph_expect_echo w "$PH_P_V4" 7 262144
ph_agent_stop good

ph_log "case 2: wrong pre-shared key, wg initiates"
ph_wg_peer --endpoint --psk "$ph_dir/wrong.psk"
ph_node_start wrong1 --psk "$ph_dir/good.psk"
ph_expect_no_ping w "$PH_P_V4"
[ "$(ph_wg_latest_handshake w "$PH_W_IF")" = 0 ] ||
  ph_fail "expected no completed handshake with a wrong psk, wg show latest-handshakes says $(ph_wg_latest_handshake w "$PH_W_IF")"
ph_agent_stop wrong1

ph_log "case 3: wrong pre-shared key, the node initiates"
ph_wg_peer --psk "$ph_dir/wrong.psk"
ph_node_start wrong2 --initiator --psk "$ph_dir/good.psk"
ph_wait 8 "the node's log to show a failed handshake (/$PH_AGENT_FAIL_PATTERN/i)" ph_agent_saw_failure wrong2
[ "$(ph_wg_latest_handshake w "$PH_W_IF")" = 0 ] ||
  ph_fail "expected no completed handshake with a wrong psk, wg show latest-handshakes says $(ph_wg_latest_handshake w "$PH_W_IF")"
ph_expect_no_ping w "$PH_P_V6"
ph_agent_stop wrong2
echo "ok: $PH_NAME (${SECONDS}s)"
