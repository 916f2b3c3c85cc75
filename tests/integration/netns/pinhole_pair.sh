#!/usr/bin/env bash
# Two pinhole agents, namespaces a and b, IPv4 underlay: a has b's endpoint and a 1 s
# keepalive, b has none; both must complete a handshake (b learns a's endpoint). Then data:
# b offers the service echo (a socat echo in b, 127.0.0.1:7007) to a, and `pinhole forward`
# through node a (attached to `pinhole agent` over its control socket) carries 1 MiB there and
# back, sha256 compared. (Only the handshake with PH_AGENT_IMPL=wg, which has no forward.)
# PH_AGENT_HANDSHAKE_PATTERN: what the agent logs when a handshake completes.
set -euo pipefail
PH_NAME=pinhole_pair
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
handshake_pattern=${PH_AGENT_HANDSHAKE_PATTERN:-'handshake (complete|done|established)|session (established|started)|keypair'}

ph_netns_add a
ph_netns_add b
ph_veth a b
ph_addr a to-b 198.51.100.1/24
ph_addr b to-a 198.51.100.2/24
ph_key a
ph_key b
a6=$(ph_overlay6 a)
b6=$(ph_overlay6 b)
ph_agent_yaml "$ph_dir/a.yaml" --key a --port 51820 --address 192.0.2.11/32 \
  --peer node-b --pub b --allowed "$b6/128" --allowed 192.0.2.12/32 --endpoint 198.51.100.2:51821 --keepalive 1
ph_agent_yaml "$ph_dir/b.yaml" --key b --port 51821 --address 192.0.2.12/32 \
  --service echo=127.0.0.1:7007 \
  --peer node-a --pub a --allowed "$a6/128" --allowed 192.0.2.11/32 --allow echo
ph_agent_start b b "$ph_dir/b.yaml"
ph_agent_start a a "$ph_dir/a.yaml"

handshake_done() {
  local tag=$1
  if [ "$PH_AGENT_IMPL" = wg ]; then
    local var="PH_FAKE_IF_$tag"
    ph_wg_has_handshake "$tag" "${!var}"
  else
    ph_agent_log "$tag" | grep -qiE "$handshake_pattern"
  fi
}
ph_wait 10 "agent a to log a completed handshake (/$handshake_pattern/i)" handshake_done a
ph_wait 10 "agent b to log a completed handshake (/$handshake_pattern/i)" handshake_done b
ph_wait 5 "agent b to know a's endpoint 198.51.100.1:51820" ph_agent_knows_endpoint b 198.51.100.1:51820
ph_log "handshake: ok, both ways"
if [ "$PH_AGENT_IMPL" = wg ]; then
  ph_agent_stop a
  ph_agent_stop b
  echo "ok: $PH_NAME: handshake only with PH_AGENT_IMPL=wg (${SECONDS}s)"
  exit 0
fi

ph_require_commands forward
ip netns exec "$(ph_ns b)" socat TCP4-LISTEN:7007,bind=127.0.0.1,fork,reuseaddr EXEC:cat >"$ph_dir/echo-b.log" 2>&1 &
ph_track_pid $! "socat echo in b"
ph_wait 5 "the echo in $(ph_ns b)" ph_tcp_bound b 7007
ph_forward_start a a echo "$ph_dir/a.yaml" node-b 17007 echo
ph_expect_echo a 127.0.0.1 17007 1048576
ph_forward_stop a echo 17007
ph_agent_stop a
ph_agent_stop b
echo "ok: $PH_NAME (${SECONDS}s)"
