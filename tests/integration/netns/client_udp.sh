#!/usr/bin/env bash
# UDP through the agent (issue 7): `pinhole forward -u AGENT PORT TARGET` at the client node
# (namespace c) and the agent's UDP exit (namespace a), a LAN host behind the agent (l). socat
# UDP echo servers on the agent's loopback (service uecho) and on the LAN host:
#   - a round trip through forward -u to the service by name and to the LAN host by address;
#   - two local senders at once each get their own replies (one flow per sender);
#   - a 1360-byte datagram comes back whole (no fragmentation inside the overlay);
#   - a port the agent's access list does not allow gets nothing back, and the agent logs why;
#   - SOCKS5 UDP ASSOCIATE through `pinhole proxy` (socks5_udp_client.py): datagrams to the LAN
#     host and to the agent come back wrapped in a header naming who answered;
#   - both nodes count the flows (pinhole status).
set -euo pipefail
PH_NAME=client_udp
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
command -v socat >/dev/null || ph_skip "needs socat (scripts/bootstrap installs it)"

readonly c4=192.0.2.21 a4=192.0.2.22 lan_agent=203.0.113.1 lan_host=203.0.113.10

ph_lan_topology "$lan_agent" "$lan_host"
ph_key c
ph_key a
a6=$(ph_overlay6 a)
c6=$(ph_overlay6 c)

udp_echo() {  # NS ADDRESS PORT
  ip netns exec "$(ph_ns "$1")" socat "UDP4-RECVFROM:$3,bind=$2,fork" EXEC:cat 2>/dev/null &
  ph_track_pid $! "UDP echo $2:$3"
}
udp_echo a 127.0.0.1 7777
udp_echo a 127.0.0.1 7778
udp_echo l "$lan_host" 7777

ph_agent_yaml "$ph_dir/agent.yaml" --key a --port 51821 --address "$a4/32" \
  --service uecho=127.0.0.1:7777 --service closed=127.0.0.1:7778 \
  --peer client --pub c --allowed "$c6/128" --allowed "$c4/32" \
  --allow uecho --allow "$lan_host:7777"
ph_agent_yaml "$ph_dir/client.yaml" --key c --port 51820 --address "$c4/32" \
  --peer agent --pub a --endpoint 198.51.100.2:51821 \
  --allowed "$a6/128" --allowed "$a4/32" --allowed 203.0.113.0/24
ph_agent_start a agent "$ph_dir/agent.yaml"

# forward_udp NAME PORT TARGET: `pinhole forward -u agent PORT TARGET` in c until the port is bound.
forward_udp() {
  local name=$1 port=$2 target=$3 pid
  ip netns exec "$(ph_ns c)" env PINHOLE_CONTROL_DIR="$(ph_control_dir client)" \
    "$ph_pinhole" forward -u -c "$ph_dir/client.yaml" agent "127.0.0.1:$port" "$target" >"$ph_dir/forward-$name.log" 2>&1 &
  pid=$!
  ph_track_pid "$pid" "pinhole forward -u $name"
  ph_wait 15 "'pinhole forward -u' $name to bind UDP 127.0.0.1:$port" forward_udp_bound "$pid" "$name" "$port"
  grep -q "listening on 127.0.0.1:$port (UDP)" "$ph_dir/forward-$name.log" ||
    ph_fail "expected forward -u to say it listens on UDP: $(cat "$ph_dir/forward-$name.log")"
}
forward_udp_bound() {
  kill -0 "$1" 2>/dev/null || ph_fail "'pinhole forward -u' $2 exited early: $(cat "$ph_dir/forward-$2.log")"
  ph_exec c ss -Hlun "sport = :$3" | grep -q .
}

# round_trip PORT MESSAGE_FILE: one datagram to 127.0.0.1:PORT in c; its echo must be identical.
round_trip() {
  local port=$1 message=$2 back="$ph_dir/udp.back.$RANDOM"
  ph_exec c socat -T 3 - "UDP4:127.0.0.1:$port" <"$message" >"$back" 2>/dev/null || true
  ph_same_bytes "$message" "$back" "a UDP round trip through 127.0.0.1:$port"
}

ph_log "forward -u to the service uecho by name (the client node starts on demand)"
forward_udp uecho 17777 uecho
printf 'hello over UDP %s\n' "$RANDOM" >"$ph_dir/hello"
ph_wait 10 "the first UDP round trip" round_trip 17777 "$ph_dir/hello"
ph_log "ok: a datagram to the service came back"

ph_log "forward -u to the LAN host, a full-size datagram, two senders at once"
forward_udp lan 17778 "$lan_host:7777"
head -c 1300 /dev/urandom | base64 -w 0 | head -c 1360 >"$ph_dir/big"
round_trip 17778 "$ph_dir/big"
for i in 1 2 3 4; do printf 'sender %s %s\n' "$i" "$RANDOM" >"$ph_dir/sender$i"; done
senders=()
for i in 1 2 3 4; do
  (round_trip 17778 "$ph_dir/sender$i") &
  senders+=($!)
done
wait_status=0
for pid in "${senders[@]}"; do wait "$pid" || wait_status=1; done
[ $wait_status -eq 0 ] || ph_fail "expected four concurrent senders to each get their own echo"
ph_log "ok: 1360 bytes whole (at the 1420-byte overlay MTU an IPv4 datagram holds at most 1392), four senders each got their own reply"

ph_log "a port the access list does not allow: no answer, and the agent says why"
forward_udp closed 17779 "$a4:7778"
out=$(printf 'nobody\n' | ph_exec c socat -T 2 - UDP4:127.0.0.1:17779 2>/dev/null || true)
[ -z "$out" ] || ph_fail "expected no reply from a port the agent does not allow, got '$out'"
ph_wait 5 "the agent to log the refused UDP flow" grep -q "refused UDP .*7778" "$ph_dir/agent-agent.log"

ph_log "SOCKS5 UDP ASSOCIATE through pinhole proxy"
ip netns exec "$(ph_ns c)" env PINHOLE_CONTROL_DIR="$(ph_control_dir client)" \
  "$ph_pinhole" proxy -c "$ph_dir/client.yaml" agent 127.0.0.1:1080 >"$ph_dir/proxy.log" 2>&1 &
ph_track_pid $! "pinhole proxy"
ph_wait 10 "the proxy to listen on 127.0.0.1:1080" ph_tcp_bound c 1080
client="$(dirname "$0")/socks5_udp_client.py"
ph_exec c "$(ph_python)" "$client" 127.0.0.1 1080 "$lan_host" 7777 "one $RANDOM" "two $RANDOM" >"$ph_dir/socks-udp.out" 2>&1 ||
  ph_fail "expected both datagrams back through SOCKS5 UDP: $(cat "$ph_dir/socks-udp.out")"
grep -c "^$lan_host:7777 " "$ph_dir/socks-udp.out" | grep -qx 2 ||
  ph_fail "expected two replies naming $lan_host:7777: $(cat "$ph_dir/socks-udp.out")"
ph_exec c "$(ph_python)" "$client" 127.0.0.1 1080 "$a4" 7777 "to the agent" >"$ph_dir/socks-udp-agent.out" 2>&1 ||
  ph_fail "expected a datagram to the agent's $a4:7777 back through SOCKS5 UDP: $(cat "$ph_dir/socks-udp-agent.out")"
ph_log "ok: $(tr '\n' ';' <"$ph_dir/socks-udp.out") $(cat "$ph_dir/socks-udp-agent.out")"

status=$(ph_cli c client status -c "$ph_dir/client.yaml")
grep -q "udp flows [1-9][0-9]* opened" <<<"$status" || ph_fail "expected the client to count its UDP flows: $status"
kill -USR1 "$PH_AGENT_PID_agent"
ph_wait 5 "the agent's UDP counters" grep -q "udp exit .* [1-9][0-9]* opened, [1-9][0-9]* refused" "$ph_dir/agent-agent.log"
ph_log "$(grep -o 'udp exit .*' "$ph_dir/agent-agent.log" | tail -n 1)"
ph_cli c client down -c "$ph_dir/client.yaml" >/dev/null
echo "ok: $PH_NAME (${SECONDS}s)"
