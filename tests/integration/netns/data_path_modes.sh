#!/usr/bin/env bash
# The data path in each UDP batching mode (issue 10): a client node in a and an agent in b,
# direct UDP over a veth, `pinhole forward` to an echo in b. For PINHOLE_UDP_BATCHING single,
# mmsg and offload (sendmmsg/recvmmsg with GSO/GRO), 8 MiB echoed intact through the forward
# (sha256) and both nodes' status showing the mode they run and, for offload, GSO messages sent
# and GRO buffers received. Then the fallback: a veth MTU below a full datagram makes the kernel
# refuse GSO runs (EINVAL: a segment larger than the path); the nodes must fall back to mmsg
# by themselves and the echo still arrive whole.
set -euo pipefail
PH_NAME=data_path_modes
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
ph_require_commands forward

ph_netns_add a
ph_netns_add b
ph_veth a b
ph_addr a to-b 198.51.100.1/24
ph_addr b to-a 198.51.100.2/24
ph_wait 5 "the veth to answer ping" ph_exec a ping -n -c 1 -W 1 198.51.100.2
ip netns exec "$(ph_ns b)" socat TCP4-LISTEN:7007,bind=127.0.0.1,fork,reuseaddr EXEC:cat >"$ph_dir/echo-b.log" 2>&1 &
ph_track_pid $! "socat echo in b"
ph_wait 5 "the echo in $(ph_ns b)" ph_tcp_bound b 7007

# status_line NS TAG YAML: the node's "udp batching" status line.
status_line() { ph_cli "$1" "$2" status -c "$3" 2>&1 | grep -m 1 'udp batching' || true; }
# count_in LINE WORDS: the number right before WORDS in LINE.
count_in() { sed -n "s/.*[ (]\([0-9][0-9]*\) $2.*/\1/p" <<<"$1"; }

# run_mode MODE EXPECTED_MODE N: fresh keys, agent and client node on ports 5182N/5183N.
run_mode() {
  local mode=$1 expected=$2 n=$3 line_a line_b
  export PINHOLE_UDP_BATCHING=$mode
  ph_key "a$n"
  ph_key "b$n"
  ph_agent_yaml "$ph_dir/b$n.yaml" --key "b$n" --port "$((51820 + n))" --service echo=127.0.0.1:7007 \
    --peer client --pub "a$n" --allow echo
  ph_agent_yaml "$ph_dir/a$n.yaml" --key "a$n" --port "$((51830 + n))" --peer agent --pub "b$n" \
    --endpoint "198.51.100.2:$((51820 + n))"
  ph_agent_start b "b$n" "$ph_dir/b$n.yaml"
  ph_node_up a "a$n" "$ph_dir/a$n.yaml"
  unset PINHOLE_UDP_BATCHING
  ph_forward_start a "a$n" "echo$n" "$ph_dir/a$n.yaml" agent "$((17000 + n))" echo
  ph_expect_echo a 127.0.0.1 "$((17000 + n))" 8388608
  line_a=$(status_line a "a$n" "$ph_dir/a$n.yaml")
  line_b=$(status_line b "b$n" "$ph_dir/b$n.yaml")
  ph_log "mode $mode: client node: $line_a"
  ph_log "mode $mode: agent: $line_b"
  for line in "$line_a" "$line_b"; do
    [[ $line == *"udp batching $expected;"* ]] ||
      ph_fail "expected PINHOLE_UDP_BATCHING=$mode to run as '$expected', status says: $line"
    [ "$(count_in "$line" dropped)" = 0 ] || ph_fail "expected no datagram dropped by the kernel: $line"
  done
  if [ "$expected" = offload ]; then
    [ "$(count_in "$line_a" "GSO messages")" -gt 0 ] || ph_fail "expected the sending node to send GSO runs: $line_a"
    [ "$(count_in "$line_b" "GRO buffers")" -gt 0 ] || ph_fail "expected the agent to receive GRO runs: $line_b"
  fi
  ph_forward_stop a "echo$n" "$((17000 + n))"
  ph_cli a "a$n" down -c "$ph_dir/a$n.yaml" >/dev/null 2>&1 || true
  ph_agent_stop "b$n"
}

run_mode single single 1
run_mode mmsg mmsg 2
run_mode offload offload 3
# A path narrower than a datagram (1452 B + 28): the kernel refuses GSO, the nodes fall back.
ip -n "$(ph_ns a)" link set to-b mtu 1400
ip -n "$(ph_ns b)" link set to-a mtu 1400
run_mode offload mmsg 4
grep -q "refused a GSO run" "$ph_dir/up-a4.log" ||
  ph_fail "expected the client node to log its fallback from GSO: $(grep 'udp batching' "$ph_dir/up-a4.log")"
echo "ok: $PH_NAME (${SECONDS}s)"
