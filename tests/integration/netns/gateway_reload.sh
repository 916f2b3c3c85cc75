#!/usr/bin/env bash
# The gateway's live reload and admission limits (issue 9): SIGHUP re-reads authorized_keys
# without dropping channels:
#   - a stream open through the relay goes on across a reload that keeps its keys;
#   - a `reach` taken away stops the next datagrams (the client's new connection fails) and both
#     nodes hear the peer is gone; given back, the page comes through again;
#   - a removed key's channel is cut at once, and it cannot come back;
#   - a file with an error changes nothing (the gateway says so, naming file:line:column);
#   - a flood of connections from one address is refused beyond the per-source rate while the
#     nodes' channels go on.
set -euo pipefail
PH_NAME=gateway_reload
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
command -v curl >/dev/null || ph_skip "needs curl (scripts/bootstrap installs it)"

readonly gateway_port=8443
ph_relay_topology
ph_key a
ph_key c
ph_key spare

ph_gateway_init g
keys() {  # REACH_FOR_CLIENT [EXTRA_LINE]: writes authorized_keys
  printf '%s agent reach=client\n%s client %s\n%s spare\n%s' "$(ph_pub a)" "$(ph_pub c)" "$1" "$(ph_pub spare)" \
    "${2:-}" >"$ph_dir/gateway_keys"
}
keys reach=agent
ph_gateway_start g "$gateway_port" "$ph_dir/gateway_keys"
reload() {  # WHAT: SIGHUP, then waits for the gateway to log the outcome
  local before
  before=$(grep -c "authorized_keys" "$ph_dir/gateway.log" || true)
  kill -HUP "$PH_GATEWAY_PID"
  ph_wait 5 "the gateway to re-read authorized_keys ($1)" ph_log_has_more "authorized_keys" "$ph_dir/gateway.log" "$before"
}

ph_http_server a web 127.0.0.1 8080
ip netns exec "$(ph_ns a)" socat TCP4-LISTEN:7007,bind=127.0.0.1,fork,reuseaddr EXEC:cat 2>/dev/null &
ph_track_pid $! "socat echo"
ph_relay_node_yaml "$ph_dir/agent.yaml" a "198.51.100.1:$gateway_port" "$PH_GATEWAY_KEY" \
  'services: {web: "127.0.0.1:8080", echo: "127.0.0.1:7007"}' 'peers:' "$(ph_yaml_peer client c 'web, echo')"
ph_relay_node_yaml "$ph_dir/client.yaml" c "203.0.113.1:$gateway_port" "$PH_GATEWAY_KEY" 'peers:' "$(ph_yaml_peer agent a)"
ph_relay_node_yaml "$ph_dir/spare.yaml" spare "203.0.113.1:$gateway_port" "$PH_GATEWAY_KEY" 'peers:' "$(ph_yaml_peer agent a)"
ph_node_up a agent "$ph_dir/agent.yaml"
ph_forward_start c client web "$ph_dir/client.yaml" agent 18080 web
ph_expect_page c http://127.0.0.1:18080/ "$(ph_page web)"

ph_log "a stream goes on across a reload that keeps its keys"
stream=$(ph_random_file stream 524288)
ph_rate_limited_cat "$stream" 32768 16 0.2 |
  ph_cli c client connect -c "$ph_dir/client.yaml" agent echo >"$ph_dir/stream.back" 2>"$ph_dir/connect.err" &
connect_pid=$!
ph_wait 10 "the first echoed bytes" ph_file_at_least "$ph_dir/stream.back" 32768
reload "unchanged"
grep -q "authorized_keys re-read: 3 keys" "$ph_dir/gateway.log" || ph_fail "expected the gateway to log the reload"
wait "$connect_pid" || ph_fail "expected the stream to finish across the reload: $(cat "$ph_dir/connect.err")"
ph_same_bytes "$stream" "$ph_dir/stream.back" "512 KiB echoed across a reload"
[ "$(ph_gateway_count "cut by them")" = 0 ] || ph_fail "expected no channel cut by a reload that keeps every key"

ph_log "reach taken away: the next datagrams stop, both nodes hear the other is gone"
keys ""
reload "client reaches nobody"
ph_wait 10 "the agent to hear the client is gone" grep -qF "relay: peer $(ph_pub c) is down" "$ph_dir/up-agent.log"
status=0
ph_exec c curl -gsS --max-time 8 -o /dev/null http://127.0.0.1:18080/ 2>/dev/null || status=$?
[ $status -ne 0 ] || ph_fail "expected no page while the client's reach is taken away"
ph_log "ok: curl failed (status $status) without reach"
keys reach=agent
reload "reach given back"
ph_wait 10 "the agent to hear the client is back" grep -qF "relay: peer $(ph_pub c) is up" "$ph_dir/up-agent.log"
ph_expect_page c http://127.0.0.1:18080/ "$(ph_page web)"

ph_log "a file with an error changes nothing"
printf '%s agent reach=client\n%s client reach=agent nonsense\n' "$(ph_pub a)" "$(ph_pub c)" >"$ph_dir/gateway_keys"
reload "an error"
grep -q "SIGHUP: authorized_keys not changed: .*gateway_keys:2:" "$ph_dir/gateway.log" ||
  ph_fail "expected the gateway to keep its keys and name file:line: $(tail -n 3 "$ph_dir/gateway.log")"
ph_expect_page c http://127.0.0.1:18080/ "$(ph_page web)"

ph_log "a removed key's channel is cut at once and cannot come back"
ph_node_up c spare "$ph_dir/spare.yaml"
ph_wait 10 "the spare node's channel" grep -q "node spare .* up from" "$ph_dir/gateway.log"
printf '%s agent reach=client\n%s client reach=agent\n' "$(ph_pub a)" "$(ph_pub c)" >"$ph_dir/gateway_keys"
reload "spare removed"
ph_wait 5 "the spare node's channel to be cut" \
  grep -q "node spare down: its key is no longer in authorized_keys" "$ph_dir/gateway.log"
ph_wait 10 "the spare node to be refused when it comes back" \
  grep -qF "unknown node key $(ph_pub spare)" "$ph_dir/gateway.log"
[ "$(ph_gateway_count "cut by them")" = 1 ] || ph_fail "expected one channel cut by the reloads"
ph_cli c spare down -c "$ph_dir/spare.yaml" >/dev/null

ph_log "a flood of connections from one address: refused beyond the rate, the nodes go on"
ph_exec c "$(ph_python)" - 203.0.113.1 "$gateway_port" <<'PY' || true
import socket, sys, time
held = []
for _ in range(400):  # as fast as it can: far above the per-source rate
    try:
        held.append(socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1))
    except OSError:
        pass
time.sleep(1)
PY
refused=$(ph_gateway_count "over a source's rate")
[ "$refused" -gt 0 ] || ph_fail "expected the gateway to refuse part of the flood: $(ph_gateway_status)"
ph_expect_page c http://127.0.0.1:18080/ "$(ph_page web)"
ph_log "ok: $refused connections refused over the rate; the page still comes through"
ph_cli c client down -c "$ph_dir/client.yaml" >/dev/null || true
ph_cli a agent down -c "$ph_dir/agent.yaml" >/dev/null
echo "ok: $PH_NAME (${SECONDS}s)"
