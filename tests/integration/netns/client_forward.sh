#!/usr/bin/env bash
# `pinhole forward` between two pinhole nodes (DESIGN §1): namespace c (the client node, which
# the first `pinhole forward` starts on demand) and namespace a (`pinhole agent`), IPv4
# underlay 198.51.100.0/24, and a LAN behind the agent (namespace l, 203.0.113.0/24, a web
# server on .10). The agent's services: web (a web server in a), iperf (an iperf3 server in a)
# and secret (a web server in a the client is not allowed); the client is allowed web, iperf and
# 203.0.113.10:80. The client has the IPv4 overlay address 192.0.2.21 (the agent's: 192.0.2.22).
#   - the node started on demand serves a 0600 control socket and logs next to it;
#   - curl through forwards to the service by name, by the agent's overlay addresses (IPv6,
#     IPv4) and to the LAN host: byte-identical pages;
#   - iperf3 -t 3 both ways through a forward to the iperf service;
#   - denials through a forward: the secret service by port on the agent's overlay address
#     (curl gets a reset or an empty reply in < 2 s; the agent logs why), the secret service by
#     name (not published to this client: the forward refuses, or its connections do);
#   - a forward stops on SIGTERM and its listener goes; `pinhole status` and `pinhole down`.
set -euo pipefail
PH_NAME=client_forward
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
for tool in curl iperf3; do
  command -v "$tool" >/dev/null || ph_skip "needs $tool (scripts/bootstrap installs it)"
done
ph_require_commands forward

readonly c4=192.0.2.21 a4=192.0.2.22 lan_agent=203.0.113.1 lan_host=203.0.113.10

ph_lan_topology "$lan_agent" "$lan_host"
ph_key c
ph_key a
c6=$(ph_overlay6 c)
a6=$(ph_overlay6 a)
ph_log "client $c6 $c4 (namespace c), agent $a6 $a4 (namespace a), LAN $lan_host (namespace l)"

ph_http_server a web 127.0.0.1 8080
ph_http_server a secret 127.0.0.1 8081
ph_http_server l lan "$lan_host" 80
ip netns exec "$(ph_ns a)" iperf3 -s -B 127.0.0.1 -p 5201 >"$ph_dir/iperf3-server.log" 2>&1 &
ph_track_pid $! "iperf3 server"
ph_wait 5 "the iperf3 server in $(ph_ns a)" ph_tcp_bound a 5201

ph_agent_yaml "$ph_dir/agent.yaml" --key a --port 51821 --address "$a4/32" \
  --service web=127.0.0.1:8080 --service secret=127.0.0.1:8081 --service iperf=127.0.0.1:5201 \
  --peer client --pub c --allowed "$c6/128" --allowed "$c4/32" \
  --allow web --allow iperf --allow "$lan_host:80"
ph_agent_yaml "$ph_dir/client.yaml" --key c --port 51820 --address "$c4/32" \
  --peer agent --pub a --endpoint 198.51.100.2:51821 \
  --allowed "$a6/128" --allowed "$a4/32" --allowed 203.0.113.0/24
ph_agent_start a agent "$ph_dir/agent.yaml"

ph_log "forward to the service web by name (starts the client node on demand)"
ph_forward_start c client web "$ph_dir/client.yaml" agent 18080 web
socket=$(ph_control_socket client) || ph_fail "expected the client node started on demand to serve a control socket in $(ph_control_dir client)"
mode=$(stat -c %a "$socket")
# Only its owner may use it (0600 by the design; what matters is no group or other bits).
[ $((8#$mode & 8#077)) -eq 0 ] || ph_fail "expected the control socket $socket to be the owner's only (0600), it is $mode"
[ -e "$socket.log" ] || ph_fail "expected the node started on demand to log to $socket.log"
ph_log "client node: control socket $(basename "$socket") (mode $mode), log $(basename "$socket").log"
ph_expect_page c "http://127.0.0.1:18080/" "$(ph_page web)"
ph_expect_page c "http://127.0.0.1:18080/" "$(ph_page web)"

ph_log "forwards by the agent's overlay addresses and to the LAN behind it"
ph_forward_start c client web6 "$ph_dir/client.yaml" agent 18086 "[$a6]:8080"
ph_expect_page c "http://127.0.0.1:18086/" "$(ph_page web)"
ph_forward_start c client web4 "$ph_dir/client.yaml" agent 18084 "$a4:8080"
ph_expect_page c "http://127.0.0.1:18084/" "$(ph_page web)"
ph_forward_start c client lan "$ph_dir/client.yaml" agent 18010 "$lan_host:80"
ph_expect_page c "http://127.0.0.1:18010/" "$(ph_page lan)"

ph_log "iperf3 through a forward to the service iperf"
ph_forward_start c client iperf "$ph_dir/client.yaml" agent 15201 iperf
for direction in send receive; do
  args=()
  [ $direction = send ] || args=(-R)
  timeout 30 ip netns exec "$(ph_ns c)" iperf3 -c 127.0.0.1 -p 15201 -t 3 -f m "${args[@]}" \
    >"$ph_dir/iperf3-$direction.out" 2>&1 ||
    ph_fail "expected iperf3 ($direction) through the forward to finish: $(tail -n 5 "$ph_dir/iperf3-$direction.out")"
  ph_log "iperf3 $direction: $(grep -E 'receiver$' "$ph_dir/iperf3-$direction.out" | awk '{ print $7, $8 }')"
done

ph_log "denied: the secret service by port on the agent's overlay address"
ph_forward_start c client secret6 "$ph_dir/client.yaml" agent 18081 "[$a6]:8081"
ph_expect_refused c "http://127.0.0.1:18081/" 2 "secret by address"
ph_expect_log_line agent "the refusal of port 8081" 'exit: refused' ':8081' 'not allowed that service'
ph_log "denied: the secret service by name (not in the agent's list for this client)"
status=0
ip netns exec "$(ph_ns c)" env PINHOLE_CONTROL_DIR="$(ph_control_dir client)" timeout 15 \
  "$ph_pinhole" forward -c "$ph_dir/client.yaml" agent 127.0.0.1:18082 secret \
  >"$ph_dir/forward-secret.log" 2>&1 &
secret_pid=$!
ph_track_pid "$secret_pid" "pinhole forward secret"
ph_wait 12 "the forward to 'secret' to exit or to listen" \
  sh -c "! kill -0 $secret_pid || ip netns exec '$(ph_ns c)' ss -Hltn 'sport = :18082' | grep -q ."
if kill -0 "$secret_pid" 2>/dev/null; then
  ph_expect_refused c "http://127.0.0.1:18082/" 2 "secret by name (the forward listens)"
  ph_stop_pid "$secret_pid" || true
else
  wait "$secret_pid" && status=0 || status=$?
  ph_forget_pid "$secret_pid"
  if [ $status -eq 0 ] || [ $status -eq 124 ]; then
    ph_fail "expected 'pinhole forward ... secret' to fail (status $status): $(cat "$ph_dir/forward-secret.log")"
  fi
  ph_log "secret by name: the forward refused (status $status): $(tr '\n' ' ' <"$ph_dir/forward-secret.log")"
fi

ph_log "the allowed forwards still serve"
ph_expect_page c "http://127.0.0.1:18080/" "$(ph_page web)"
ph_expect_page c "http://127.0.0.1:18010/" "$(ph_page lan)"

ph_log "stopping a forward closes its listener; the others stay"
ph_forward_stop c web6 18086
ph_expect_page c "http://127.0.0.1:18084/" "$(ph_page web)"

ph_log "pinhole status (client node):"
ph_cli c client status -c "$ph_dir/client.yaml" >"$ph_dir/status-client.out" 2>&1 ||
  ph_fail "expected 'pinhole status' to succeed: $(cat "$ph_dir/status-client.out")"
sed 's/^/    /' "$ph_dir/status-client.out"
grep -q agent "$ph_dir/status-client.out" || ph_fail "expected 'pinhole status' to name the peer 'agent'"
ph_log "pinhole status (agent node):"
ph_cli a agent status -c "$ph_dir/agent.yaml" >"$ph_dir/status-agent.out" 2>&1 ||
  ph_fail "expected 'pinhole status' of the agent to succeed: $(cat "$ph_dir/status-agent.out")"
sed 's/^/    /' "$ph_dir/status-agent.out"

for name in web web4 lan iperf secret6; do
  var="PH_FORWARD_PID_$name"
  ph_stop_pid "${!var}" || true
done
ph_cli c client down -c "$ph_dir/client.yaml" >"$ph_dir/down.out" 2>&1 ||
  ph_fail "expected 'pinhole down' to succeed: $(cat "$ph_dir/down.out")"
ph_wait 5 "the client node to stop after 'pinhole down' (nothing left in $(ph_ns c))" \
  ph_ns_empty c
[ ! -S "$socket" ] || ph_fail "expected the control socket $socket to be removed when the node stopped"
ph_log "pinhole down: the client node stopped, its socket is gone"
ph_agent_stop agent
echo "ok: $PH_NAME (${SECONDS}s)"
