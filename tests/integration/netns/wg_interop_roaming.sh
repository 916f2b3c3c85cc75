#!/usr/bin/env bash
# Roaming: wireguard-go (namespace w) sends 2 MiB through pinhole's echo service, slowly (64 KiB
# every 80 ms). After 512 KiB came back, wg moves to a new listen port (`wg set listen-port`);
# after 1.25 MiB, to a new underlay address (198.51.100.1 -> .3). The node (responder, no
# static endpoint) must follow: every byte comes back, and it knows the new endpoint.
set -euo pipefail
PH_NAME=wg_interop_roaming
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
ph_scenario 4
ph_wg_peer --endpoint
ph_node_start r
ph_expect_ping w "$PH_P_V4"

chunks=32
input=$(ph_random_file roam.in $((chunks * 65536)))
output="$ph_dir/roam.out"
{
  for ((i = 0; i < chunks; i++)); do
    dd if="$input" bs=65536 skip=$i count=1 status=none
    sleep 0.08
  done
} | timeout 25 ip netns exec "$(ph_ns w)" socat -t 20 -T 20 -b 65536 \
  - "$(ph_socat_addr "$PH_P_V4" 7),connect-timeout=5" >"$output" 2>"$ph_dir/socat.log" &
client=$!
ph_track_pid "$client" "roaming transfer"

ph_wait 10 "512 KiB echoed before the first move" ph_file_at_least "$output" 524288
new_port=51830
ph_wg_set w "$PH_W_IF" listen-port "$new_port"
ph_log "moved: wg listens on $new_port (after $(ph_file_size "$output") bytes)"
ph_wait 10 "1.25 MiB echoed after the port move (the node must send to the new port)" \
  ph_file_at_least "$output" 1310720
new_address=$(ph_underlay 4 3)
ph_addr w to-p "$new_address/24"
ph_addr_del w to-p "$PH_W_UL/24"
# wireguard-go pins its endpoint's source address (sticky sockets) and drops it only on EINVAL,
# not on the ENETUNREACH a vanished address gives: re-setting the endpoint clears it, as a
# roaming client does when its network changes. The node learns the new address from the data.
ph_wg_set w "$PH_W_IF" peer "$(ph_pub p)" endpoint "$(ph_endpoint "$PH_P_UL" "$PH_AGENT_PORT")"
ph_log "moved: wg's underlay address $PH_W_UL -> $new_address (after $(ph_file_size "$output") bytes)"

ph_wait 20 "the roaming transfer to finish" eval '! kill -0 '"$client"
status=0
wait "$client" || status=$?
ph_forget_pid "$client"
[ $status -eq 0 ] || ph_fail "expected the transfer to end cleanly, socat status $status: $(cat "$ph_dir/socat.log")"
ph_same_bytes "$input" "$output" "echo across two moves"
ph_wait 5 "the node to know the new endpoint $new_address:$new_port" \
  ph_agent_knows_endpoint r "$(ph_endpoint "$new_address" "$new_port")"
ph_expect_ping w "$PH_P_V6"
ph_agent_stop r
echo "ok: $PH_NAME (${SECONDS}s)"
