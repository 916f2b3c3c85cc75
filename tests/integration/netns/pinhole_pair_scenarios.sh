#!/usr/bin/env bash
# The wireguard-go interop scenarios (wg_interop_psk, _rekey, _roaming, _mtu) with pinhole nodes
# on both sides. Each case has its own namespaces: cN (the client node, `pinhole agent` with the
# agent's endpoint and a 1 s keepalive, so it initiates; `pinhole forward` attaches to it) and
# sN (the agent node, offering the service echo: a socat echo in sN on 127.0.0.1:7007), IPv4
# underlay 198.51.100.1 (client) <-> .2 (agent), overlay 192.0.2.21 <-> 192.0.2.22. Data goes
# through `pinhole forward 127.0.0.1:17007 echo` in cN, sha256 compared.
#   1. pre-shared keys (preshared_key_file, 0600): the same on both sides, 1 MiB echoes; the
#      agent's psk wrong, the agent the only initiator (it has the client's endpoint, the client
#      none; the initiator is the side that can tell a wrong psk): the agent logs rejected
#      messages (decrypt_empty), neither node receives a packet, nothing comes back through
#      the forward;
#   2. rekeying: both nodes with PINHOLE_TEST_REKEY_AFTER_TIME_MS=2000, an 8 MiB stream at a
#      limited rate (~17 s) through the forward, intact; both nodes log >= 2 completed
#      handshakes during it (REKEY_TIMEOUT, 5 s, spaces the initiations: ~3 fit);
#   3. roaming: 3 MiB at a limited rate; after 1 MiB came back the client's underlay address
#      moves (198.51.100.1 -> .3: the new address added, the old one deleted); the agent logs
#      the new endpoint and every byte comes back;
#   4. MTU: a veth with MTU 1400, both nodes `mtu: 1340` (1340 + 16 data header + 16 tag + 8 UDP
#      + 20 IPv4 = 1400): 4 MiB echo intact, and no IPv4 fragment made or reassembled in
#      either namespace (the WireGuard packets fit the link).
set -euo pipefail
PH_NAME=pinhole_pair_scenarios
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
[ "$PH_AGENT_IMPL" = pinhole ] || ph_skip "needs pinhole nodes on both sides (pinhole forward)"
ph_require_commands forward

readonly c_ul=198.51.100.1 s_ul=198.51.100.2 c_roamed=198.51.100.3
readonly c4=192.0.2.21 s4=192.0.2.22 c_port=51820 s_port=51821
readonly echo_port=7007 forward_port=17007
readonly handshake_line='handshake completed'

ph_key c
ph_key s
c6=$(ph_overlay6 c)
s6=$(ph_overlay6 s)
ph_log "client node $c6 $c4, agent node $s6 $s4"

# pair_start N [--veth-mtu N] [--mtu N] [--client-psk FILE] [--agent-psk FILE]
#   [--agent-initiates]: namespaces cN and sN, the echo in sN, both nodes started (logs
#   agent-cN.log and agent-sN.log). No forward yet.
pair_start() {
  local n=$1
  shift
  local veth_mtu="" client_args=() agent_args=() client_endpoint=(--endpoint "$s_ul:$s_port" --keepalive 1)
  while [ $# -gt 0 ]; do
    case $1 in
      --veth-mtu) veth_mtu=$2; shift 2 ;;
      --mtu) client_args+=(--mtu "$2"); agent_args+=(--mtu "$2"); shift 2 ;;
      --client-psk) client_args+=(--psk "$2"); shift 2 ;;
      --agent-psk) agent_args+=(--psk "$2"); shift 2 ;;
      --agent-initiates) agent_args+=(--endpoint "$c_ul:$c_port" --keepalive 1); client_endpoint=(); shift ;;
      *) ph_fail "pair_start: unknown option $1" ;;
    esac
  done
  ph_netns_add "c$n"
  ph_netns_add "s$n"
  ph_veth "c$n" "s$n" "$veth_mtu"
  ph_addr "c$n" "to-s$n" "$c_ul/24"
  ph_addr "s$n" "to-c$n" "$s_ul/24"
  ph_wait 5 "the underlay to answer ping ($s_ul from c$n)" ph_exec "c$n" ping -n -c 1 -W 1 "$s_ul"
  ip netns exec "$(ph_ns "s$n")" socat "TCP4-LISTEN:$echo_port,bind=127.0.0.1,fork,reuseaddr" EXEC:cat \
    >"$ph_dir/echo-s$n.log" 2>&1 &
  ph_track_pid $! "socat echo in s$n"
  eval "echo_pid_$n=$!"
  ph_wait 5 "the echo in $(ph_ns "s$n")" ph_tcp_bound "s$n" "$echo_port"
  ph_agent_yaml "$ph_dir/client-$n.yaml" --key c --port "$c_port" --address "$c4/32" \
    --peer agent --pub s "${client_endpoint[@]}" \
    --allowed "$s6/128" --allowed "$s4/32" "${client_args[@]}"
  ph_agent_yaml "$ph_dir/agent-$n.yaml" --key s --port "$s_port" --address "$s4/32" \
    --service "echo=127.0.0.1:$echo_port" \
    --peer client --pub c --allowed "$c6/128" --allowed "$c4/32" --allow echo "${agent_args[@]}"
  ph_agent_start "s$n" "s$n" "$ph_dir/agent-$n.yaml"
  ph_agent_start "c$n" "c$n" "$ph_dir/client-$n.yaml"
}

# Completed handshakes node TAG logged so far.
handshakes() { ph_agent_log "$1" | grep -c "$handshake_line" || true; }
has_handshake() { [ "$(handshakes "$1")" -ge 1 ]; }

pair_wait_handshake() {
  local n=$1
  ph_wait 10 "the client node c$n to log a completed handshake" has_handshake "c$n"
  ph_wait 5 "the agent node s$n to log a completed handshake" has_handshake "s$n"
  ph_wait 5 "the agent node s$n to know the client's endpoint $c_ul:$c_port" \
    ph_agent_knows_endpoint "s$n" "$c_ul:$c_port"
}

# The forward 127.0.0.1:17007 -> echo in cN, through the client node (PH_FORWARD_PID_fN).
pair_forward() { ph_forward_start "c$1" "c$1" "f$1" "$ph_dir/client-$1.yaml" agent "$forward_port" echo; }

# pair_stop N: the forward (if any), both nodes (each must exit 0 on SIGTERM), the echo, the
# namespaces.
pair_stop() {
  local n=$1 var
  var="PH_FORWARD_PID_f$n"
  [ -z "${!var:-}" ] || ph_forward_stop "c$n" "f$n" "$forward_port"
  ph_agent_stop "c$n"
  ph_agent_stop "s$n"
  var="echo_pid_$n"
  ph_stop_pid "${!var}" || true
  ph_netns_del "c$n"
  ph_netns_del "s$n"
}

# stream N NAME BYTES PAUSE_S: BYTES random bytes (64 KiB chunks, PAUSE_S after each) through
# the forward of case N, in the background; the echo goes to $ph_dir/NAME.out. Sets stream_pid
# and stream_in.
stream() {
  local n=$1 name=$2 bytes=$3 pause=$4
  stream_in=$(ph_random_file "$name.in" "$bytes")
  ph_rate_limited_cat "$stream_in" 65536 $((bytes / 65536)) "$pause" |
    timeout 40 ip netns exec "$(ph_ns "c$n")" socat -t 20 -T 20 -b 65536 \
      - "TCP4:127.0.0.1:$forward_port,connect-timeout=5" >"$ph_dir/$name.out" 2>"$ph_dir/$name.socat.log" &
  stream_pid=$!
  ph_track_pid "$stream_pid" "stream $name"
}

# stream_finish NAME SECONDS WHAT: waits for the stream, expects a clean end and the same bytes.
stream_finish() {
  local name=$1 seconds=$2 what=$3 status=0
  ph_wait "$seconds" "the stream $name to finish ($what)" eval '! kill -0 '"$stream_pid"
  wait "$stream_pid" || status=$?
  ph_forget_pid "$stream_pid"
  [ $status -eq 0 ] ||
    ph_fail "$what: expected the stream to end cleanly, status $status, $(ph_file_size "$ph_dir/$name.out") bytes back: $(cat "$ph_dir/$name.socat.log")"
  ph_same_bytes "$stream_in" "$ph_dir/$name.out" "$what"
}

# IPv4 fragments made and reassembled in namespace SHORT (FragCreates + ReasmReqds).
fragments() {
  ph_exec "$1" cat /proc/net/snmp | awk '
    $1 == "Ip:" && !header { for (i = 2; i <= NF; i++) name[i] = $i; header = 1; next }
    $1 == "Ip:" { for (i = 2; i <= NF; i++) if (name[i] == "FragCreates" || name[i] == "ReasmReqds") sum += $i; print sum + 0 }'
}

# ---------------------------------------------------------------- 1. pre-shared keys
ph_psk good
ph_psk wrong
for psk in good wrong; do
  mode=$(stat -c %a "$ph_dir/$psk.psk")
  [ "$mode" = 600 ] || ph_fail "expected the psk file $psk.psk to be 0600, it is $mode"
done

ph_log "case 1a: the same pre-shared key on both nodes"
pair_start 1 --client-psk "$ph_dir/good.psk" --agent-psk "$ph_dir/good.psk"
for yaml in client-1 agent-1; do
  grep -q 'preshared_key_file' "$ph_dir/$yaml.yaml" || ph_fail "expected $yaml.yaml to name a preshared_key_file"
done
pair_wait_handshake 1
pair_forward 1
ph_expect_echo c1 127.0.0.1 "$forward_port" 1048576
pair_stop 1

ph_log "case 1b: a wrong pre-shared key on the agent (which initiates; the client has no endpoint)"
pair_start 2 --client-psk "$ph_dir/good.psk" --agent-psk "$ph_dir/wrong.psk" --agent-initiates
ph_wait 8 "the agent node to log rejected messages (decrypt_empty)" \
  eval 'ph_agent_log s2 | grep -qE "rejected messages: .*decrypt_empty"'
ph_log "agent node: $(ph_agent_log s2 | grep 'rejected messages' | tail -n 1)"
ph_forward_start c2 c2 f2 "$ph_dir/client-2.yaml" agent "$forward_port" "$s4:$echo_port"
input=$(ph_random_file nothing.in 65536)
timeout 5 ip netns exec "$(ph_ns c2)" socat -t 3 -T 3 -b 65536 - "TCP4:127.0.0.1:$forward_port,connect-timeout=2" \
  <"$input" >"$ph_dir/nothing.out" 2>"$ph_dir/nothing.socat.log" || true
[ "$(ph_file_size "$ph_dir/nothing.out")" -eq 0 ] ||
  ph_fail "expected nothing back through the forward with a wrong psk, got $(ph_file_size "$ph_dir/nothing.out") bytes"
# No session was ever confirmed: neither node delivered a single packet from the other. (Not
# the "handshake completed" lines: they count sessions derived in either role, and a responder
# derives one from an initiation, which carries no psk, before the initiator rejects its reply.)
for tag in c2 s2; do
  ph_cli "$tag" "$tag" status -c "$ph_dir/$([ "$tag" = c2 ] && echo client || echo agent)-2.yaml" \
    >"$ph_dir/status-$tag.out" 2>&1 || ph_fail "expected 'pinhole status' of node $tag to succeed: $(cat "$ph_dir/status-$tag.out")"
  received=$(sed -n 's/.*status: peer [a-z]*: .* \([0-9][0-9]*\) received,.*/\1/p' "$ph_dir/status-$tag.out")
  [ "$received" = 0 ] ||
    ph_fail "expected node $tag to receive no packet from its peer with a wrong psk, its status says: $(cat "$ph_dir/status-$tag.out")"
  ph_log "node $tag: $(grep 'status: peer' "$ph_dir/status-$tag.out")"
done
ph_log "wrong psk: no session on either node, nothing came back through the forward"
pair_stop 2

# ---------------------------------------------------------------- 2. rekeying
ph_log "case 2: rekeying under continuous traffic (PINHOLE_TEST_REKEY_AFTER_TIME_MS=2000 on both nodes)"
export PINHOLE_TEST_REKEY_AFTER_TIME_MS=2000
pair_start 3
unset PINHOLE_TEST_REKEY_AFTER_TIME_MS
for tag in c3 s3; do
  ph_agent_log "$tag" | grep -q 'warning: test timers in use' ||
    ph_fail "expected node $tag to log that test timers are in use"
done
pair_wait_handshake 3
pair_forward 3
client_before=$(handshakes c3)
agent_before=$(handshakes s3)
start=$SECONDS
stream 3 rekey $((8 * 1048576)) 0.13
stream_finish rekey 40 "8 MiB through the forward across rekeys"
client_rekeys=$(($(handshakes c3) - client_before))
agent_rekeys=$(($(handshakes s3) - agent_before))
ph_log "stream: 8 MiB byte-identical in $((SECONDS - start)) s; handshakes completed during it: client $client_rekeys, agent $agent_rekeys"
if [ "$client_rekeys" -lt 2 ] || [ "$agent_rekeys" -lt 2 ]; then
  ph_fail "expected both nodes to complete at least 2 handshakes during the stream (client $client_rekeys, agent $agent_rekeys)"
fi
pair_stop 3

# ---------------------------------------------------------------- 3. roaming
ph_log "case 3: the client node's underlay address moves mid-transfer"
pair_start 4
pair_wait_handshake 4
pair_forward 4
stream 4 roam $((3 * 1048576)) 0.05
ph_wait 15 "1 MiB echoed before the move" ph_file_at_least "$ph_dir/roam.out" 1048576
ph_addr c4 to-s4 "$c_roamed/24"
ph_addr_del c4 to-s4 "$c_ul/24"
ph_log "moved: the client's underlay address $c_ul -> $c_roamed (after $(ph_file_size "$ph_dir/roam.out") bytes)"
stream_finish roam 25 "3 MiB through the forward across the move"
ph_wait 5 "the agent node to log the client's new endpoint $c_roamed:$c_port" \
  ph_agent_knows_endpoint s4 "$c_roamed:$c_port"
ph_log "roaming: 3 MiB byte-identical; agent node: $(ph_agent_log s4 | grep -F "$c_roamed:$c_port" | head -n 1)"
pair_stop 4

# ---------------------------------------------------------------- 4. MTU
ph_log "case 4: veth MTU 1400, both nodes mtu 1340"
pair_start 5 --veth-mtu 1400 --mtu 1340
# The underlay really is 1400: a 1401-byte don't-fragment packet cannot leave.
if ph_exec c5 ping -n -c 1 -W 1 -Mdo -s 1373 "$s_ul" >/dev/null 2>&1; then
  ph_fail "expected a 1401-byte DF ping to fail on the 1400-byte veth"
fi
pair_wait_handshake 5
pair_forward 5
ph_expect_echo c5 127.0.0.1 "$forward_port" 4194304
for short in c5 s5; do
  count=$(fragments "$short")
  [ "$count" -eq 0 ] ||
    ph_fail "expected the WireGuard packets to fit the 1400-byte link, but $(ph_ns "$short") made or reassembled $count IPv4 fragments"
done
ph_log "mtu: 4 MiB byte-identical, no IPv4 fragments in either namespace"
pair_stop 5
echo "ok: $PH_NAME (${SECONDS}s)"
