#!/usr/bin/env bash
# The gateway's refusals and the relay channel under trouble (issue 8, items 2, 4, 6 and 8).
# Same topology as relay_basic: the gateway (g) with a TCP path to the agent (a) and to the
# client side (c), no route between a and c. authorized_keys: agent reach=client,third;
# client reach=agent; third reach=client.
#   (a) a node that pinned another gateway key is refused: the gateway logs "handshake failed
#       (the node pinned another gateway key?)"; the node never gets a channel and logs a relay
#       warning at every attempt;
#   (b) a node key not in authorized_keys is refused: the gateway logs "unknown node key <key>";
#       the node never gets a channel and logs a relay warning at every attempt;
#   (c) a `reach` denial: third has a channel, and the agent lists it as a peer allowed its web
#       service, but third's own reach leaves out the agent: its `pinhole forward` to the agent
#       fails (the service lookup is never answered), the gateway counts "dropped N not
#       authorized" (N > 0), the agent receives nothing from third and neither is told the other
#       is present;
#   (d) a dead channel: all traffic between the agent and the gateway dropped (nftables in g);
#       the agent logs its channel as quiet (dead) within 18 s of the drop (15 s without a frame,
#       plus the node's 1-s tick and slack; the time is printed), then reconnects once the rule
#       is gone;
#   (e) a slow receiver: the client pushes 8 MiB at full rate through a forward to a sink behind
#       the agent, and the agent is stopped (SIGSTOP) for 5 s: the gateway's RSS grows by less
#       than 4 MiB meanwhile, its status shows "N buffer full" (N > 0), and after SIGCONT the
#       transfer completes intact (TCP inside recovers). The kernel's socket buffers are capped
#       in g and a (tcp_wmem, tcp_rmem) so that 5 s of a stopped agent overflows them and
#       reaches the gateway's own bounded per-channel buffer, which is what is tested.
# Not asserted yet (product gaps, reported): the node's log does not say why it is refused in
# (a) and (b) (only "the gateway closed the channel"); nothing tells third why in (c); in (e) the
# agent's channel does not survive the gateway's drops (it is cut on "a message from the gateway
# failed authentication" and reconnects).
set -euo pipefail
PH_NAME=relay_refusals
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
command -v nft >/dev/null || ph_skip "needs nft (nftables; scripts/bootstrap installs it)"

readonly gateway_port=8443 push_bytes=$((8 * 1024 * 1024))

ph_relay_topology
ph_exec g sysctl -q -w net.ipv4.tcp_wmem='4096 16384 65536'
ph_exec a sysctl -q -w net.ipv4.tcp_rmem='4096 32768 65536'
for key in a c third stranger not_the_gateway; do ph_key "$key"; done

ph_gateway_init g
printf '%s agent reach=client,third\n%s client reach=agent\n%s third reach=client\n' \
  "$(ph_pub a)" "$(ph_pub c)" "$(ph_pub third)" >"$ph_dir/gateway_keys"
# A small per-channel buffer (the default is 512 KiB, more than the overlay's TCP window): (e)
# shows that it bounds the gateway's memory by dropping.
PH_GATEWAY_EXTRA_YAML='limits: {channel_buffer_bytes: 65536}'
ph_gateway_start g "$gateway_port" "$ph_dir/gateway_keys"

ph_http_server a web 127.0.0.1 8080
ip netns exec "$(ph_ns a)" socat -u TCP4-LISTEN:9000,bind=127.0.0.1,reuseaddr "CREATE:$ph_dir/sink.bin" \
  2>"$ph_dir/sink.err" &
ph_track_pid $! "socat sink"
ph_wait 5 "the sink on 127.0.0.1:9000 in $(ph_ns a)" ph_tcp_bound a 9000
ph_relay_node_yaml "$ph_dir/agent.yaml" a "198.51.100.1:$gateway_port" "$PH_GATEWAY_KEY" \
  'services: {web: "127.0.0.1:8080", sink: "127.0.0.1:9000"}' \
  'peers:' "$(ph_yaml_peer client c 'web, sink')" "$(ph_yaml_peer third third web)"
ph_node_up a agent "$ph_dir/agent.yaml"
ph_wait 10 "the gateway to log the agent's channel" grep -q "node agent .* up from" "$ph_dir/gateway.log"

# A node in c with key KEY, the gateway pinned as GATEWAY_KEY, the agent as its one peer.
client_yaml() { ph_relay_node_yaml "$ph_dir/$1.yaml" "$2" "203.0.113.1:$gateway_port" "$3" 'peers:' "$(ph_yaml_peer agent a)"; }
# at_least N FILE PATTERN: N lines of FILE match PATTERN (grep -E).
at_least() { [ "$(grep -cE -- "$3" "$2" || true)" -ge "$1" ]; }

ph_log "(a) another gateway key pinned, (b) a key not in authorized_keys"
client_yaml wrong_gateway c "$(ph_pub not_the_gateway)"
client_yaml stranger stranger "$PH_GATEWAY_KEY"
ph_node_up c wrong_gateway "$ph_dir/wrong_gateway.yaml"
ph_node_up c stranger "$ph_dir/stranger.yaml"
ph_wait 10 "the gateway to refuse the node that pinned another key" \
  grep -q "refused 203\.0\.113\.2:[0-9]*: handshake failed (the node pinned another gateway key?)" "$ph_dir/gateway.log"
ph_wait 10 "the gateway to refuse the unknown key" \
  grep -qF "unknown node key $(ph_pub stranger) (not in authorized_keys)" "$ph_dir/gateway.log"
for tag in wrong_gateway stranger; do
  ph_wait 10 "node $tag to log two failed relay attempts" at_least 2 "$ph_dir/up-$tag.log" '^warning: relay: '
  ! grep -q "channel to the gateway up" "$ph_dir/up-$tag.log" || ph_fail "expected node $tag never to get a relay channel"
  grep -q "closed the channel during the handshake (its key is not gateway.public_key, or this node's key is not in its authorized_keys" \
    "$ph_dir/up-$tag.log" || ph_fail "expected node $tag to name the likely reasons: $(cat "$ph_dir/up-$tag.log")"
  ph_log "node $tag: $(grep -m 1 '^warning: relay: ' "$ph_dir/up-$tag.log")"
  ph_cli c "$tag" down -c "$ph_dir/$tag.yaml" >/dev/null
done
ph_log "$(grep -m 1 'handshake failed' "$ph_dir/gateway.log")"
ph_log "$(grep -m 1 'unknown node key' "$ph_dir/gateway.log")"

ph_log "(c) third may not reach the agent: its forward fails, the gateway drops its datagrams"
client_yaml third third "$PH_GATEWAY_KEY"
ph_node_up c third "$ph_dir/third.yaml"
ph_wait 10 "the gateway to log third's channel" grep -q "node third .* up from" "$ph_dir/gateway.log"
start=$SECONDS
status=0
ip netns exec "$(ph_ns c)" env PINHOLE_CONTROL_DIR="$(ph_control_dir third)" timeout 30 \
  "$ph_pinhole" forward -c "$ph_dir/third.yaml" agent 127.0.0.1:18080 web >"$ph_dir/forward-third.log" 2>&1 || status=$?
if [ $status -eq 0 ] || [ $status -eq 124 ]; then
  ph_fail "expected third's 'pinhole forward agent ... web' to fail by itself, got status $status: $(cat "$ph_dir/forward-third.log")"
fi
ph_log "third's forward failed in $((SECONDS - start)) s (status $status): $(cat "$ph_dir/forward-third.log")"
dropped=$(ph_gateway_count "not authorized")
[ "$dropped" -gt 0 ] || ph_fail "expected the gateway to count third's datagrams as 'not authorized': $(ph_gateway_status)"
ph_cli a agent status -c "$ph_dir/agent.yaml" >"$ph_dir/agent-status.out"
grep -q "peer third: endpoint relay, [0-9]* packets sent, 0 received" "$ph_dir/agent-status.out" ||
  ph_fail "expected the agent to receive nothing from third: $(grep 'peer third' "$ph_dir/agent-status.out")"
! grep -qF "relay: peer $(ph_pub a) is up" "$ph_dir/up-third.log" || ph_fail "expected third not to be told the agent is present"
! grep -qF "relay: peer $(ph_pub third) is up" "$ph_dir/up-agent.log" || ph_fail "expected the agent not to be told third is present"
grep -qF "node third: a datagram for $(ph_pub a) not in reach (authorized_keys)" "$ph_dir/gateway.log" ||
  ph_fail "expected the gateway to log the reach denial: $(cat "$ph_dir/gateway.log")"
grep -qF "relay: the gateway says: peer not reachable: $(ph_pub a) not in reach (authorized_keys)" "$ph_dir/up-third.log" ||
  ph_fail "expected third to hear from the gateway that the agent is not in its reach: $(cat "$ph_dir/up-third.log")"
ph_log "gateway: dropped $dropped not authorized; the agent received nothing from third; third was told why"
ph_cli c third down -c "$ph_dir/third.yaml" >/dev/null

ph_log "(d) all traffic between the agent and the gateway dropped (nftables in g)"
client_yaml client c "$PH_GATEWAY_KEY"
ph_node_up c client "$ph_dir/client.yaml"
ph_wait 10 "the gateway to log the client's channel" grep -q "node client .* up from" "$ph_dir/gateway.log"
ph_exec g nft -f - <<'NFT'
table inet pinhole_test_drop {
  chain input { type filter hook input priority 0; iifname "to-a" drop; }
  chain output { type filter hook output priority 0; oifname "to-a" drop; }
}
NFT
dropped_at=$(ph_now_ms)
ph_wait 18 "the agent to log its relay channel as dead (quiet)" grep -q "^warning: relay: the channel went quiet" "$ph_dir/up-agent.log"
ph_log "the agent found its channel dead $(($(ph_now_ms) - dropped_at)) ms after the drop: $(grep -m 1 'channel went quiet' "$ph_dir/up-agent.log")"
ph_exec g nft delete table inet pinhole_test_drop
restored_at=$(ph_now_ms)
ph_wait 30 "the agent to reconnect once the traffic flows again" \
  at_least 2 "$ph_dir/up-agent.log" "relay: channel to the gateway up"
ph_wait 5 "the gateway to log the agent's new channel" at_least 2 "$ph_dir/gateway.log" "node agent .* up from"
ph_log "the agent reconnected $(($(ph_now_ms) - restored_at)) ms after the rule was removed"

ph_log "(e) a slow receiver: the agent stopped for 5 s while the client pushes $push_bytes bytes"
ph_forward_start c client sink "$ph_dir/client.yaml" agent 19000 sink
ip netns exec "$(ph_ns c)" env PINHOLE_CONTROL_DIR="$(ph_control_dir client)" \
  "$ph_pinhole" forward -u -c "$ph_dir/client.yaml" agent 127.0.0.1:19001 sink >"$ph_dir/forward-udp.log" 2>&1 &
ph_track_pid $! "pinhole forward -u"
ph_wait 10 "the UDP forward" sh -c "ip netns exec '$(ph_ns c)' ss -Hlun 'sport = :19001' | grep -q ."
data=$(ph_random_file push.bin "$push_bytes")
gateway_rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$PH_GATEWAY_PID/status"; }
full_before=$(ph_gateway_count "buffer full")
ip netns exec "$(ph_ns c)" socat -u "OPEN:$data" TCP4:127.0.0.1:19000 2>"$ph_dir/push.err" &
push_pid=$!
ph_track_pid "$push_pid" "socat push"
ph_wait 30 "the first MiB at the sink" ph_file_at_least "$ph_dir/sink.bin" 1048576
rss_before=$(gateway_rss_kib)
rss_max=$rss_before
# shellcheck disable=SC2154  # set by ph_node_up (through eval)
kill -STOP "$PH_UP_PID_agent"
# UDP datagrams through the agent too (4 MB in 2 s): unlike the TCP push, whose window may
# stay small on a slow machine, they pile up at the gateway whatever the pace.
ph_exec c "$(ph_python)" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3200):
    s.sendto(b"x" * 1200, ("127.0.0.1", 19001))
    time.sleep(0.0006)
' 2>/dev/null || true
for _ in $(seq 10); do
  sleep 0.5
  rss=$(gateway_rss_kib)
  [ "$rss" -le "$rss_max" ] || rss_max=$rss
done
at_stop=$(ph_file_size "$ph_dir/sink.bin")
kill -CONT "$PH_UP_PID_agent"
full=$(($(ph_gateway_count "buffer full") - full_before))
ph_log "agent stopped 5 s at $at_stop bytes: gateway RSS $rss_before -> at most $rss_max KiB, $full datagrams dropped (buffer full)"
[ $((rss_max - rss_before)) -le 4096 ] ||
  ph_fail "expected the gateway's RSS to grow by less than 4 MiB while the agent was stopped, it grew by $((rss_max - rss_before)) KiB"
[ "$full" -gt 0 ] || ph_fail "expected the gateway to drop datagrams for the stopped agent (buffer full), it dropped none"
resumed=$SECONDS
wait "$push_pid" || ph_fail "expected the push through the forward to finish: $(cat "$ph_dir/push.err")"
ph_forget_pid "$push_pid"
ph_wait 60 "all $push_bytes bytes at the sink after SIGCONT" ph_file_at_least "$ph_dir/sink.bin" "$push_bytes"
ph_same_bytes "$data" "$ph_dir/sink.bin" "the push across the agent's stop"
ph_log "ok: $push_bytes bytes intact at the sink, $((SECONDS - resumed)) s after SIGCONT"
ph_log "$(ph_gateway_status)"

ph_forward_stop c sink 19000
ph_cli c client down -c "$ph_dir/client.yaml" >/dev/null
ph_cli a agent down -c "$ph_dir/agent.yaml" >/dev/null
echo "ok: $PH_NAME (${SECONDS}s)"
