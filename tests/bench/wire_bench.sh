#!/usr/bin/env bash
# The wire part of `scripts/bench wg` (issue 5, item 5): bulk TCP throughput and ping RTT through
# a WireGuard tunnel, pinhole next to wireguard-go, in one run on this machine.
#   sudo tests/bench/wire_bench.sh build/host-release/apps/pinhole   (a release build: never ASan)
#
# Two independent setups, built with the netns harness (tests/integration/netns/lib.sh), which
# removes every namespace and process on exit, failure included:
#   wireguard-go <-> wireguard-go   namespaces a and b, a veth, overlay 192.0.2.1 -> 192.0.2.2
#   wireguard-go  -> pinhole agent  namespaces w and p, a veth, overlay 192.0.2.1 -> 192.0.2.2
# In both the sender is the kernel's TCP behind wireguard-go, MTU 1420 on both ends.
#
# Same method for both, so the ratio means something (iperf3 is not used: it needs its own server
# at the far end, and pinhole's sink is the discard service): `socat -u` reads exactly BYTES from
# /dev/zero and writes them to TCP port 9 on the far side's overlay address; the clock runs from
# starting the sender until the sink has all BYTES, or until the time bound, whichever comes
# first (a bounded run counts what arrived and says so). The sink is pinhole's discard service
# (its byte counter, read from the status line SIGUSR1 makes the agent log) or, between two
# wireguard-go peers, `socat -u TCP4-LISTEN:9 OPEN:/dev/null` (done when it exits 0 after the
# sender's FIN; if bounded, the kernel's bytes_received from ss). Both are polled every 20 ms.
# Ping: `ping -c 20 -i 0.05`, the average. Each figure is the median of the runs, wireguard-go
# and pinhole runs interleaved. Printed, never asserted; not part of the test suite.
#   WIRE_BENCH_BYTES    bytes per transfer (default 536870912 = 512 MiB)
#   WIRE_BENCH_SECONDS  time bound of one transfer (default 30)
#   WIRE_BENCH_RUNS     runs per figure (default 3)
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "wire_bench: needs root (it creates network namespaces and wireguard-go TUN devices);" >&2
  echo "  run it as root, e.g. sudo scripts/bench wg-wire" >&2
  exit 1
fi
PH_NAME=wire_bench
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/netns/lib.sh
source "$here/../integration/netns/lib.sh"
ph_init "$@"

bytes=${WIRE_BENCH_BYTES:-536870912}
runs=${WIRE_BENCH_RUNS:-3}
time_bound=${WIRE_BENCH_SECONDS:-30}
sink_port=9
poll_seconds=0.02
[[ $bytes =~ ^[1-9][0-9]*$ ]] || ph_fail "WIRE_BENCH_BYTES must be a positive integer, got '$bytes'"
[[ $runs =~ ^[1-9][0-9]*$ ]] || ph_fail "WIRE_BENCH_RUNS must be a positive integer, got '$runs'"
[[ $time_bound =~ ^[1-9][0-9]*$ ]] || ph_fail "WIRE_BENCH_SECONDS must be a positive integer, got '$time_bound'"

# ---------------------------------------------------------------- helpers

# Microseconds since the epoch, into $now_us (no subshell: polling loops call it).
now_us=0
clock() { now_us=${EPOCHREALTIME//[.,]/}; }
gbits() { awk -v b="$1" -v us="$2" 'BEGIN { printf "%.3f", b * 8 / (us / 1e6) / 1e9 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }

# Starts the sender in namespace NS: exactly $bytes bytes from /dev/zero to ADDRESS:9, kernel TCP.
# No linger=0: a reset on close would drop what is still queued in the sender's socket (over a MiB
# at these rates) and the sink would wait for bytes that never come. -t: a complete transfer still
# waits for the sink to close. A time-bounded sender is stopped; what it had queued may still
# drain, which is why each pinhole run first waits for the previous connection to close.
# `ip netns exec` directly (not ph_exec), so $! is the sender itself. Sets sender_pid.
start_sender() {
  local ns=$1 address=$2
  ip netns exec "$(ph_ns "$ns")" socat -u -t "$time_bound" -b 131072 "OPEN:/dev/zero,readbytes=$bytes" \
    "TCP4:$address:$sink_port,connect-timeout=5" 2>>"$ph_dir/sender.log" &
  sender_pid=$!
  ph_track_pid "$sender_pid" "sender in $ns"
}

# finish_sender WHAT COMPLETE: a complete transfer's sender must exit 0; a time-bounded one is
# stopped.
finish_sender() {
  local what=$1 complete=$2 status=0
  if [ "$complete" = 1 ]; then
    wait "$sender_pid" || status=$?
    ph_forget_pid "$sender_pid"
    [ "$status" -eq 0 ] || ph_fail "$what: the sender (socat -u) exited with status $status: $(tail -n 5 "$ph_dir/sender.log")"
  else
    ph_stop_pid "$sender_pid" || true
  fi
}

# ---- pinhole's discard counter, from the status lines the agent logs on SIGUSR1. The log is
# read through one descriptor kept open (bash builtins only: no process per poll).
log_fd=""
log_partial=""
discard_count=0
discard_connections=0
status_lines=0
read_agent_log() {
  local line
  while true; do
    if IFS= read -r -u "$log_fd" line; then
      line=$log_partial$line
      log_partial=""
      if [[ $line =~ discard\ ([0-9]+)\ B,\ ([0-9]+)\ connections ]]; then
        discard_count=${BASH_REMATCH[1]}
        discard_connections=${BASH_REMATCH[2]}
        status_lines=$((status_lines + 1))
      fi
    else
      log_partial+=$line  # an unfinished last line: completed by the next read
      return 0
    fi
  done
}

# The agent's discard byte count and open connections now (signals it, waits for the line).
discard_now() {
  local seen=$status_lines deadline=$((SECONDS + 5))
  kill -USR1 "$agent_pid"
  until read_agent_log && [ "$status_lines" -gt "$seen" ]; do
    [ $SECONDS -lt $deadline ] || ph_fail "expected a status line from the agent within 5 s of SIGUSR1"
    sleep 0.01
  done
}

# ---------------------------------------------------------------- the two setups

# wireguard-go <-> wireguard-go: a (sender) and b (sink), same addresses as the pinhole setup.
ph_netns_add a
ph_netns_add b
ph_veth a b
ph_addr a to-b 198.51.100.1/24
ph_addr b to-a 198.51.100.2/24
ph_key a
ph_key b
ph_wg_start a a
wg_a_if=$PH_WG_IF
ph_wg_start b b
wg_b_if=$PH_WG_IF
ph_wg_up a "$wg_a_if" 1420 "$PH_W_V4" -- "$PH_P_V4/32"
ph_wg_up b "$wg_b_if" 1420 "$PH_P_V4" -- "$PH_W_V4/32"
ph_wg_set a "$wg_a_if" private-key "$ph_dir/a.key" listen-port "$PH_WG_PORT" \
  peer "$(ph_pub b)" allowed-ips "$PH_P_V4/32" endpoint "198.51.100.2:$PH_AGENT_PORT"
ph_wg_set b "$wg_b_if" private-key "$ph_dir/b.key" listen-port "$PH_AGENT_PORT" \
  peer "$(ph_pub a)" allowed-ips "$PH_W_V4/32"
ph_expect_ping a "$PH_P_V4"

# wireguard-go -> pinhole agent (release build): w (sender) and p (the agent), the harness's
# usual scenario with the agent as responder.
ph_scenario 4
ph_wg_peer --endpoint
ph_node_start r
# shellcheck disable=SC2154  # set by ph_agent_start (through eval)
agent_pid=$PH_AGENT_PID_r
ph_expect_ping w "$PH_P_V4"
exec {log_fd}<"$ph_dir/agent-r.log"

# ---------------------------------------------------------------- one measurement each

# The transfers set `counted` (bytes the sink got), `elapsed_us` and `complete` (1: all $bytes,
# 0: stopped at the time bound). Not printed: a command substitution would run them in a
# subshell, where the harness could not track the processes they start.
counted=0
elapsed_us=0
complete=0

# One transfer a -> b. The sink is done when it exits 0 (after the sender's FIN); stopped at the
# time bound, its count is the kernel's bytes_received for the connection (ss).
transfer_wg() {
  local sink_pid start_us deadline_us status=0 info
  ip netns exec "$(ph_ns b)" socat -u -b 131072 "TCP4-LISTEN:$sink_port,bind=$PH_P_V4,reuseaddr" \
    OPEN:/dev/null 2>>"$ph_dir/sink.log" &
  sink_pid=$!
  ph_track_pid "$sink_pid" "wireguard-go side sink"
  ph_wait 5 "the sink to listen on $PH_P_V4:$sink_port in $(ph_ns b)" ph_tcp_bound b "$sink_port"
  clock
  start_us=$now_us
  deadline_us=$((start_us + time_bound * 1000000))
  start_sender a "$PH_P_V4"
  complete=1
  while kill -0 "$sink_pid" 2>/dev/null; do
    sleep "$poll_seconds"
    clock
    [ "$now_us" -lt "$deadline_us" ] || { complete=0; break; }
  done
  elapsed_us=$((now_us - start_us))
  if [ "$complete" = 1 ]; then
    wait "$sink_pid" || status=$?
    ph_forget_pid "$sink_pid"
    [ "$status" -eq 0 ] || ph_fail "the wireguard-go side sink exited with status $status: $(tail -n 5 "$ph_dir/sink.log")"
    counted=$bytes
  else
    info=$(ph_exec b ss -tinH state established "sport = :$sink_port")
    [[ $info =~ bytes_received:([0-9]+) ]] || ph_fail "expected bytes_received from ss for the sink's connection: $info"
    counted=${BASH_REMATCH[1]}
    ph_stop_pid "$sink_pid" || true
  fi
  finish_sender "wireguard-go <-> wireguard-go" "$complete"
}

# One transfer w -> the agent's discard service, its counter polled through SIGUSR1.
transfer_pinhole() {
  local baseline start_us deadline_us wait_deadline=$((SECONDS + 10))
  discard_now
  while [ "$discard_connections" -ne 0 ]; do  # the previous run's connection is gone
    [ $SECONDS -lt $wait_deadline ] || ph_fail "expected the agent's discard connections to close (still $discard_connections)"
    sleep 0.1
    discard_now
  done
  baseline=$discard_count
  clock
  start_us=$now_us
  deadline_us=$((start_us + time_bound * 1000000))
  start_sender w "$PH_P_V4"
  complete=1
  while true; do
    kill -USR1 "$agent_pid"
    sleep "$poll_seconds"
    read_agent_log
    clock
    [ $((discard_count - baseline)) -lt "$bytes" ] || break
    [ "$now_us" -lt "$deadline_us" ] || { complete=0; break; }
  done
  elapsed_us=$((now_us - start_us))
  counted=$((discard_count - baseline))
  if [ "$complete" = 1 ] && [ "$counted" -ne "$bytes" ]; then
    ph_fail "expected the discard counter to grow by $bytes, it grew by $counted"
  fi
  finish_sender "wireguard-go -> pinhole" "$complete"
}

# Prints the average RTT (ms) of 20 pings from NS to ADDRESS (a subshell is fine: no processes
# outlive it).
ping_avg() {
  local ns=$1 address=$2 out
  out=$(ph_exec "$ns" ping -n -q -c 20 -i 0.05 -W 2 "$address") ||
    ph_fail "expected 20 of 20 ping replies from $address (from $(ph_ns "$ns")): $out"
  sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p' <<<"$out"
}

# ---------------------------------------------------------------- the run

print_machine() {
  local cpu
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  echo "machine: ${cpu:-unknown CPU}, $(uname -m), $(nproc) cores; $(wireguard-go --version 2>/dev/null | head -n 1)"
}

# One line per run: Gbit/s, seconds, and which bytes (all, or what arrived within the bound).
describe_run() {
  local rate=$1
  if [ "$complete" = 1 ]; then
    printf '%s Gbit/s (%d MiB in %.2f s)' "$rate" $((counted / 1048576)) "${elapsed_us}e-6"
  else
    printf '%s Gbit/s (time-bounded: %d of %d MiB in %.2f s)' "$rate" $((counted / 1048576)) \
      $((bytes / 1048576)) "${elapsed_us}e-6"
  fi
}

echo
echo "wire: WireGuard over a veth between two namespaces; the kernel's TCP behind wireguard-go sends"
print_machine
echo "method, the same for both: socat -u of $bytes bytes ($((bytes / 1048576)) MiB) from /dev/zero, 128 KiB writes,"
echo "  into a TCP sink on port $sink_port of the far overlay address; Gbit/s = bytes the sink counted / time"
echo "  from the sender's start until the sink had them all, or until ${time_bound} s (then marked time-bounded)."
echo "  Sinks: pinhole's discard counter (SIGUSR1 status line); between wireguard-go peers a socat sink"
echo "  exiting on EOF (bytes_received from ss if bounded). Both polled every 20 ms. Not iperf3."
echo "  ping: -c 20 -i 0.05 through each tunnel, the average. Figures: median of $runs runs, interleaved."
wg_rates=()
ph_rates=()
for ((run = 1; run <= runs; run++)); do
  transfer_wg
  wg_rates+=("$(gbits "$counted" "$elapsed_us")")
  printf '  bulk run %d: wireguard-go -> wireguard-go %s\n' "$run" "$(describe_run "${wg_rates[-1]}")"
  transfer_pinhole
  ph_rates+=("$(gbits "$counted" "$elapsed_us")")
  printf '  bulk run %d: wireguard-go -> pinhole      %s\n' "$run" "$(describe_run "${ph_rates[-1]}")"
done
wg_pings=()
ph_pings=()
for ((run = 1; run <= runs; run++)); do
  wg_pings+=("$(ping_avg a "$PH_P_V4")")
  ph_pings+=("$(ping_avg w "$PH_P_V4")")
  printf '  ping run %d: wireguard-go -> wireguard-go %6s ms   wireguard-go -> pinhole %6s ms\n' \
    "$run" "${wg_pings[-1]}" "${ph_pings[-1]}"
done
wg_rate=$(median "${wg_rates[@]}")
ph_rate=$(median "${ph_rates[@]}")
wg_ping=$(median "${wg_pings[@]}")
ph_ping=$(median "${ph_pings[@]}")
echo
printf '%-34s %18s %18s %10s\n' "median of $runs" "wireguard-go peer" "pinhole agent" "pinhole/wg"
printf '%-34s %18s %18s %10s\n' "bulk TCP into port $sink_port (Gbit/s)" "$wg_rate" "$ph_rate" "$(ratio "$ph_rate" "$wg_rate")"
printf '%-34s %18s %18s %10s\n' "ping RTT, average (ms)" "$wg_ping" "$ph_ping" "$(ratio "$ph_ping" "$wg_ping")"
exec {log_fd}<&-
ph_agent_stop r
