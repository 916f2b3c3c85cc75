#!/usr/bin/env bash
# The gateway's relay (issue 8, first part): an agent and a client node in two namespaces with no
# route between them, each with a TCP path to a gateway in a third. Everything goes through the
# relay channel (Noise_IK to the gateway's pinned key): the client fetches a page from the
# agent's service through `pinhole forward`; the gateway saw only ciphertext. A node whose key is
# not in authorized_keys is refused and the gateway says why. A stream through the relay (1 MiB
# echoed at a limited rate) survives a gateway restart: the nodes reconnect, TCP inside waits.
set -euo pipefail
PH_NAME=relay_basic
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"

ph_relay_topology
ph_key a
ph_key c
ph_key stranger

ph_log "gateway: key, authorized_keys (agent <-> client), listening on TCP 8443"
ph_exec g "$ph_pinhole" gateway init -d "$ph_dir/gw" >"$ph_dir/gateway-init.log"
gateway_key=$(sed -n 's/^public key: //p' "$ph_dir/gateway-init.log")
[ -n "$gateway_key" ] || ph_fail "expected 'pinhole gateway init' to print the public key: $(cat "$ph_dir/gateway-init.log")"
printf '%s agent reach=client\n%s client reach=agent\n' "$(ph_pub a)" "$(ph_pub c)" >"$ph_dir/authorized_keys"
printf 'key: {data_dir: "%s"}\nlisten: ["0.0.0.0:8443"]\nauthorized_keys: "%s"\n' \
  "$ph_dir/gw" "$ph_dir/authorized_keys" >"$ph_dir/gateway.yaml"
ip netns exec "$(ph_ns g)" "$ph_pinhole" gateway -c "$ph_dir/gateway.yaml" >"$ph_dir/gateway.log" 2>&1 &
gateway_pid=$!
ph_track_pid "$gateway_pid" "pinhole gateway"
ph_wait 5 "the gateway to listen on TCP 8443" ph_tcp_bound g 8443

node_yaml() {  # FILE KEY GATEWAY_ADDRESS PEER_NAME PEER_KEY [EXTRA...]
  local file=$1 key=$2 address=$3 peer=$4 peer_key=$5
  shift 5
  (
    umask 077
    printf 'key: {private_key: "%s"}\nlisten_port: 0\n' "$(cat "$ph_dir/$key.key")"
    printf 'gateway: {url: "tcp://%s:8443", public_key: "%s"}\n' "$address" "$gateway_key"
    for line in "$@"; do printf '%s\n' "$line"; done
    printf 'peers:\n  - name: %s\n    public_key: "%s"\n' "$peer" "$(ph_pub "$peer_key")"
  ) >"$file"
}

ph_http_server a web 127.0.0.1 8080
ip netns exec "$(ph_ns a)" socat TCP4-LISTEN:7007,bind=127.0.0.1,fork,reuseaddr EXEC:cat 2>/dev/null &
ph_track_pid $! "socat echo"
node_yaml "$ph_dir/agent.yaml" a 198.51.100.1 client c 'services: {web: "127.0.0.1:8080", echo: "127.0.0.1:7007"}'
printf '    allow: [web, echo]\n' >>"$ph_dir/agent.yaml"
node_yaml "$ph_dir/client.yaml" c 203.0.113.1 agent a

ph_log "agent up (no endpoint for its peer: relay), client through forward"
ph_node_up a agent "$ph_dir/agent.yaml"
ph_wait 10 "the gateway to log the agent's channel" grep -q "node agent .* up from" "$ph_dir/gateway.log"
ph_forward_start c client web "$ph_dir/client.yaml" agent 18080 web
ph_expect_page c http://127.0.0.1:18080/ "$(ph_page web)"
ph_expect_page c http://127.0.0.1:18080/ "$(ph_page web)"
grep -q "node client .* up from" "$ph_dir/gateway.log" || ph_fail "expected the gateway to log the client's channel: $(cat "$ph_dir/gateway.log")"
status=$(ph_cli c client status -c "$ph_dir/client.yaml")
grep -q "status: relay up; [1-9][0-9]* connects, [1-9][0-9]* up, .* [1-9][0-9]* datagrams sent" <<<"$status" ||
  ph_fail "expected the client's status to show its relay channel up and in use: $status"
kill -USR1 "$gateway_pid"
ph_wait 5 "the gateway's status line" grep -q "relayed [1-9][0-9]* datagrams" "$ph_dir/gateway.log"
ph_log "$(grep 'status:' "$ph_dir/gateway.log" | tail -n 1)"
ph_forward_stop c web 18080

ph_log "a stream through the relay survives a gateway restart (TCP inside waits, the nodes reconnect)"
start_gateway() {
  ip netns exec "$(ph_ns g)" "$ph_pinhole" gateway -c "$ph_dir/gateway.yaml" >>"$ph_dir/gateway.log" 2>&1 &
  gateway_pid=$!
  ph_track_pid "$gateway_pid" "pinhole gateway"
  ph_wait 5 "the gateway to listen on TCP 8443" ph_tcp_bound g 8443
}
stream=$(ph_random_file stream 1048576)
ph_rate_limited_cat "$stream" 65536 16 0.25 |
  ph_cli c client connect -c "$ph_dir/client.yaml" agent echo >"$ph_dir/stream.back" 2>"$ph_dir/connect.err" &
connect_pid=$!
ph_wait 10 "the first echoed bytes" ph_file_at_least "$ph_dir/stream.back" 65536
ph_stop_pid "$gateway_pid"
sleep 1
start_gateway
channels_up_at_least() { [ "$(grep -c "node .* up from" "$ph_dir/gateway.log")" -ge "$1" ]; }
ph_wait 20 "both nodes back on the restarted gateway" channels_up_at_least 4
wait "$connect_pid" || ph_fail "expected 'pinhole connect' through the restarted gateway to finish: $(cat "$ph_dir/connect.err")"
ph_same_bytes "$stream" "$ph_dir/stream.back" "1 MiB echoed across a gateway restart"
ph_log "ok: 1 MiB echoed intact across the restart"

ph_log "a key the gateway does not know is refused, and the gateway says why"
node_yaml "$ph_dir/stranger.yaml" stranger 203.0.113.1 agent a
ph_node_up c stranger "$ph_dir/stranger.yaml"
ph_wait 10 "the gateway to refuse the stranger's key" grep -q "refused .*unknown node key $(ph_pub stranger)" "$ph_dir/gateway.log"
ph_cli c stranger down -c "$ph_dir/stranger.yaml" >/dev/null
ph_cli c client down -c "$ph_dir/client.yaml" >/dev/null || true
ph_cli a agent down -c "$ph_dir/agent.yaml" >/dev/null
echo "ok: $PH_NAME (${SECONDS}s)"
