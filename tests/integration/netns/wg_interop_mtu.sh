#!/usr/bin/env bash
# A veth with MTU 1400 between wireguard-go (namespace w) and pinhole agent (namespace p), IPv4
# underlay; the node's overlay MTU is 1320 in its config and the wg interface's too. Full-size
# don't-fragment pings (1320-byte packets) pass both ways, and 1 MiB echoes over the IPv6 and
# IPv4 overlay come back intact.
set -euo pipefail
PH_NAME=wg_interop_mtu
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
ph_scenario 4 1400 1320
# The underlay really is 1400: a 1401-byte don't-fragment packet cannot leave.
if ph_exec w ping -n -c 1 -W 1 -Mdo -s 1373 "$PH_P_UL" >/dev/null 2>&1; then
  ph_fail "expected a 1401-byte DF ping to fail on the 1400-byte veth"
fi
ph_wg_peer --endpoint
ph_node_start m --mtu 1320
ph_expect_ping w "$PH_P_V4" -Mdo -s 1292
ph_expect_ping w "$PH_P_V6" -Mdo -s 1272
ph_expect_echo w "$PH_P_V6" 7 1048576
ph_expect_echo w "$PH_P_V4" 7 1048576
ph_agent_stop m
echo "ok: $PH_NAME (${SECONDS}s)"
