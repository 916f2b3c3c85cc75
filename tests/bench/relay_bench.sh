#!/usr/bin/env bash
# `scripts/bench relay` (issue 8, item 9): throughput and RTT through `pinhole forward` over the
# gateway's relay next to the direct path, in one run on this machine.
#   sudo tests/bench/relay_bench.sh build/host-release/apps/pinhole   (a release build: never ASan)
#
# Built with the netns harness (tests/integration/netns/lib.sh), which removes every namespace
# and process on exit, failure included. Namespaces: the agent (a), the client side (c), the
# gateway (g); veths g-a (198.51.100.0/24) and g-c (203.0.113.0/24) for the relay, and c-a
# (192.0.2.0/24) for the direct path. In c, two client nodes with their own keys:
#   direct   the agent's static endpoint 192.0.2.2:51821 (WireGuard over UDP on the c-a veth)
#   relay    no endpoint, only the gateway: client -> gateway (TCP, Noise_IK) -> agent
# The agent (one node, both peers allowed the same services) has the gateway too; it answers the
# direct client on the endpoint that client's handshake came from.
# Through a `pinhole forward` of each client node, the same measurements:
#   throughput  iperf3, one TCP stream, RELAY_BENCH_SECONDS each way (client -> agent, then -R),
#               to an iperf3 server behind the agent; Gbit/s as iperf3's receiver counts it
#   RTT         a 64-byte TCP ping-pong (python3, TCP_NODELAY, one connection) to a socat echo
#               behind the agent (socat PIPE: in-process); median and 99th percentile of
#               RELAY_BENCH_PINGS round trips after 200 of warm-up, RELAY_BENCH_RTT_RUNS runs
#               alternating direct and relay; the table gives the median of the runs' figures
# Printed, never asserted; not part of the tests.
#   RELAY_BENCH_SECONDS   iperf3 duration per direction (default 10)
#   RELAY_BENCH_PINGS     round trips per RTT run (default 5000)
#   RELAY_BENCH_RTT_RUNS  RTT runs per path (default 3)
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "relay_bench: needs root (it creates network namespaces); run it as root, e.g. sudo scripts/bench relay" >&2
  exit 1
fi
PH_NAME=relay_bench
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/netns/lib.sh
source "$here/../integration/netns/lib.sh"
ph_init "$@"
command -v iperf3 >/dev/null || ph_fail "needs iperf3 (scripts/bootstrap installs it)"

seconds=${RELAY_BENCH_SECONDS:-10}
pings=${RELAY_BENCH_PINGS:-5000}
rtt_runs=${RELAY_BENCH_RTT_RUNS:-3}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || ph_fail "RELAY_BENCH_SECONDS must be a positive integer, got '$seconds'"
[[ $pings =~ ^[1-9][0-9]*$ ]] || ph_fail "RELAY_BENCH_PINGS must be a positive integer, got '$pings'"
[[ $rtt_runs =~ ^[1-9][0-9]*$ ]] || ph_fail "RELAY_BENCH_RTT_RUNS must be a positive integer, got '$rtt_runs'"
readonly gateway_port=8443 agent_port=51821
readonly -A forward_iperf=([direct]=15201 [relay]=25201) forward_echo=([direct]=17007 [relay]=27007)

# ---------------------------------------------------------------- setup

ph_netns_add g
ph_netns_add a
ph_netns_add c
ph_veth g a
ph_veth g c
ph_veth c a
ph_addr g to-a 198.51.100.1/24
ph_addr a to-g 198.51.100.2/24
ph_addr g to-c 203.0.113.1/24
ph_addr c to-g 203.0.113.2/24
ph_addr c to-a 192.0.2.1/24
ph_addr a to-c 192.0.2.2/24
ph_key a
ph_key direct
ph_key relay

ph_gateway_init g
printf '%s agent reach=relay\n%s relay reach=agent\n' "$(ph_pub a)" "$(ph_pub relay)" >"$ph_dir/gateway_keys"
ph_gateway_start g "$gateway_port" "$ph_dir/gateway_keys"

ip netns exec "$(ph_ns a)" iperf3 -s -B 127.0.0.1 -p 5201 >"$ph_dir/iperf3-server.log" 2>&1 &
ph_track_pid $! "iperf3 server"
ip netns exec "$(ph_ns a)" socat TCP4-LISTEN:7007,bind=127.0.0.1,fork,reuseaddr,nodelay PIPE 2>/dev/null &
ph_track_pid $! "socat echo"
ph_wait 5 "the iperf3 server in $(ph_ns a)" ph_tcp_bound a 5201
ph_wait 5 "the echo server in $(ph_ns a)" ph_tcp_bound a 7007
agent_services='services: {iperf: "127.0.0.1:5201", echo: "127.0.0.1:7007"}'
ph_relay_node_yaml "$ph_dir/agent.yaml" a "198.51.100.1:$gateway_port" "$PH_GATEWAY_KEY" "$agent_services" \
  'peers:' "$(ph_yaml_peer direct direct 'iperf, echo')" "$(ph_yaml_peer relay relay 'iperf, echo')"
sed -i "s/^listen_port: 0$/listen_port: $agent_port/" "$ph_dir/agent.yaml"
ph_node_up a agent "$ph_dir/agent.yaml"
ph_wait 10 "the agent's channel at the gateway" grep -q "node agent .* up from" "$ph_dir/gateway.log"

ph_agent_yaml "$ph_dir/direct.yaml" --key direct --port 51820 --peer agent --pub a --endpoint "192.0.2.2:$agent_port"
ph_relay_node_yaml "$ph_dir/relay.yaml" relay "203.0.113.1:$gateway_port" "$PH_GATEWAY_KEY" 'peers:' "$(ph_yaml_peer agent a)"
for path in direct relay; do
  ph_node_up c "$path" "$ph_dir/$path.yaml"
  ph_forward_start c "$path" "iperf_$path" "$ph_dir/$path.yaml" agent "${forward_iperf[$path]}" iperf
  ph_forward_start c "$path" "echo_$path" "$ph_dir/$path.yaml" agent "${forward_echo[$path]}" echo
done

# ---------------------------------------------------------------- measurements

# iperf3_gbits PATH [-R]: one stream for $seconds through PATH's forward; prints the receiver's Gbit/s.
iperf3_gbits() {
  local path=$1
  shift
  timeout $((seconds + 30)) ip netns exec "$(ph_ns c)" iperf3 -J -c 127.0.0.1 -p "${forward_iperf[$path]}" \
    -t "$seconds" "$@" >"$ph_dir/iperf3-$path.json" 2>&1 ||
    ph_fail "iperf3 through the $path path failed: $(tail -n 5 "$ph_dir/iperf3-$path.json")"
  "$(ph_python)" -c 'import json, sys; print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' \
    "$ph_dir/iperf3-$path.json"
}

# rtt_us PATH: "median p99" in µs of $pings 64-byte round trips through PATH's echo forward.
rtt_us() {
  ip netns exec "$(ph_ns c)" timeout 120 "$(ph_python)" - "${forward_echo[$1]}" "$pings" <<'PY' ||
import socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
message = b"p" * 64
def round_trip():
    start = time.perf_counter_ns()
    s.sendall(message)
    got = 0
    while got < len(message):
        chunk = s.recv(len(message) - got)
        if not chunk:
            sys.exit("the echo closed the connection")
        got += len(chunk)
    return (time.perf_counter_ns() - start) / 1000
for _ in range(200):
    round_trip()
samples = sorted(round_trip() for _ in range(count))
print("%.1f %.1f" % (samples[len(samples) // 2], samples[min(len(samples) - 1, len(samples) * 99 // 100)]))
PY
    ph_fail "the ping-pong through the $1 path failed"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# CPU seconds (user + system) the process PID has used.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }

print_machine() {
  local cpu
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  echo "machine: ${cpu:-unknown CPU}, $(uname -m), $(nproc) cores; $(iperf3 --version | head -n 1)"
}

echo
echo "relay: pinhole forward through the gateway next to the direct path (static endpoint), same machine, same run"
print_machine
echo "method: iperf3, one TCP stream, ${seconds} s each way, through each client node's forward to an iperf3"
echo "  server behind the agent; RTT: 64-byte TCP ping-pong (python3, TCP_NODELAY) to a socat echo"
echo "  behind the agent, $pings round trips after 200 of warm-up, $rtt_runs runs alternating direct and relay"
echo "  (the table: the median of the runs). Throughput: direct, then relay."
declare -A up down rtt
gateway_cpu=0
for path in direct relay; do ph_cli c "$path" status -c "$ph_dir/$path.yaml" | grep 'peer agent' | sed "s/^/  $path node: /"; done
for path in direct relay; do
  before=$(cpu_seconds "$PH_GATEWAY_PID")
  up[$path]=$(iperf3_gbits "$path")
  printf '  %-6s client -> agent %8s Gbit/s\n' "$path" "${up[$path]}"
  down[$path]=$(iperf3_gbits "$path" -R)
  printf '  %-6s agent -> client %8s Gbit/s\n' "$path" "${down[$path]}"
  [ "$path" = direct ] || gateway_cpu=$(awk -v a="$before" -v b="$(cpu_seconds "$PH_GATEWAY_PID")" 'BEGIN { printf "%.2f", b - a }')
done
declare -A medians p99s
for ((run = 1; run <= rtt_runs; run++)); do
  for path in direct relay; do
    result=$(rtt_us "$path")
    medians[$path]+="${result% *} "
    p99s[$path]+="${result#* } "
    printf '  %-6s RTT run %d, median / p99 %s µs\n' "$path" "$run" "${result/ / \/ }"
  done
done
for path in direct relay; do
  # shellcheck disable=SC2086  # the runs' figures, one word each
  rtt[$path]="$(median ${medians[$path]}) $(median ${p99s[$path]})"
done
for path in direct relay; do ph_cli c "$path" status -c "$ph_dir/$path.yaml" | grep 'peer agent' | sed "s/^/  $path node: /"; done
gateway_status=$(ph_gateway_status)
relayed=$(ph_gateway_count "datagrams")

echo
printf '%-34s %12s %12s %14s\n' "" direct relay "relay/direct"
printf '%-34s %12s %12s %14s\n' "iperf3 client -> agent (Gbit/s)" "${up[direct]}" "${up[relay]}" "$(ratio "${up[relay]}" "${up[direct]}")"
printf '%-34s %12s %12s %14s\n' "iperf3 agent -> client (Gbit/s)" "${down[direct]}" "${down[relay]}" "$(ratio "${down[relay]}" "${down[direct]}")"
printf '%-34s %12s %12s %14s\n' "64-byte RTT, median (µs)" "${rtt[direct]% *}" "${rtt[relay]% *}" "$(ratio "${rtt[relay]% *}" "${rtt[direct]% *}")"
printf '%-34s %12s %12s %14s\n' "64-byte RTT, p99 (µs)" "${rtt[direct]#* }" "${rtt[relay]#* }" "$(ratio "${rtt[relay]#* }" "${rtt[direct]#* }")"
echo "(goal: relay throughput >= 0.7x direct)"
printf 'gateway: %s s of CPU during the relay iperf3 runs (%s s), %s datagrams relayed in all; RSS %s, peak %s\n' \
  "$gateway_cpu" $((2 * seconds)) "$relayed" \
  "$(sed -n 's/^VmRSS:[[:space:]]*//p' "/proc/$PH_GATEWAY_PID/status")" \
  "$(sed -n 's/^VmHWM:[[:space:]]*//p' "/proc/$PH_GATEWAY_PID/status")"
echo "${gateway_status#pinhole gateway: }"
echo "(2 channels opened means none was cut; more: a channel was cut and reconnected during the runs)"
for path in direct relay; do ph_cli c "$path" down -c "$ph_dir/$path.yaml" >/dev/null; done
ph_cli a agent down -c "$ph_dir/agent.yaml" >/dev/null
