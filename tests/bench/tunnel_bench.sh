#!/usr/bin/env bash
# `scripts/bench tunnel` (issue 7, item 7): one TCP stream and a 64-byte ping-pong through each
# way users would reach a service on another machine, in one run on this machine:
#   bare veth        no tunnel (the ceiling)
#   socat relay      socat in b forwarding to the servers (no crypto)
#   ssh -L           OpenSSH, -c chacha20-poly1305@openssh.com: the ssh client in a, a throwaway
#                    sshd in b (its own host key and authorized key, started here)
#   wireguard-go     wireguard-go <-> wireguard-go (MTU 1420), kernel TCP on both TUNs
#   pinhole forward  a client node in a (`pinhole up`, static endpoint, direct UDP path) and
#                    `pinhole agent` in b with the services iperf and echo on 127.0.0.1; one
#                    row per variant: the AEAD backend (which binary: `pinhole version` names
#                    it) and the UDP batching (PINHOLE_UDP_BATCHING: offload = sendmmsg/recvmmsg
#                    with GSO/GRO, mmsg = without offload, single = one system call a datagram)
#   sudo tests/bench/tunnel_bench.sh PINHOLE [PINHOLE...]   (release builds, never ASan; e.g. one
#                    built with each ChaCha20-Poly1305 backend: scripts/bench tunnel does that)
#   A PINHOLE may be a wrapper that execs qemu-user (scripts/bench tunnel-aarch64 does that with
#   aarch64 builds): the pinhole rows then check correctness only; their throughput, RTT, CPU and
#   RSS are qemu's (the tunnel processes are qemu), not meaningful as figures.
#
# Built with the netns harness (tests/integration/netns/lib.sh), which removes every namespace
# and process on exit, failure included. Two namespaces, a (clients) and b (servers), one veth
# (198.51.100.1 in a, .2 in b); wireguard-go's overlay 192.0.2.1 (a) -> 192.0.2.2 (b). In b, one
# iperf3 server (port 5201, all addresses) and one echo server (7007, tests/bench/tunnel_pingpong.py)
# serve every row; each client runs in a.
#
# Per row, the same tests:
#   throughput  iperf3 -c, one TCP stream, PINHOLE_BENCH_SECONDS, a -> b; Gbit/s and bytes are
#               iperf3's receiver figures
#   CPU         utime+stime (+ reaped children's: socat forks a child per connection) of the
#               tunnel processes, from /proc/PID/stat, the delta over the iperf3 run; CPU % is
#               of one core (2 processes can exceed 100); CPU s/GB = that delta / GB received
#   peak RSS    the sum of the tunnel processes' VmHWM (reset through /proc/PID/clear_refs before
#               the run; read mid-run and after it, so socat's per-connection children count)
#   RTT         64-byte TCP ping-pong (python3, TCP_NODELAY both ends, one connection):
#               PINHOLE_BENCH_PINGS round trips after 200 of warm-up, the median (and p99)
# Tunnel processes: socat (both relays); ssh + sshd (listener and its session processes);
# both wireguard-go; pinhole's agent and client node (`pinhole forward` only asks the node to
# listen: no byte passes through it).
#
# Memory per stream (pinhole only, after the rows): VmRSS of the agent and of the client node
# fresh (before the rows), with no stream (the baseline: after the rows, so one stream has run
# through them), with PINHOLE_BENCH_STREAMS idle streams held open through the
# echo forward (one 64-byte round trip on each first), and the peak (sampled every 0.2 s) while
# as many streams are busy (iperf3 -P, one of them its control connection; 3 s a -> b, then 3 s
# b -> a), and again once they are closed. The Linux board caps streams at
# PINHOLE_BUDGET_MAX_STREAMS (32), so at most 30 are measured.
#
# Printed, never asserted; not part of the tests.
#   PINHOLE_BENCH_BASELINE another pinhole binary (e.g. an older release) for one more row,
#                          "pinhole baseline", in the same run: before/after figures
#   PINHOLE_BENCH_VARIANTS pinhole rows as BACKEND:BATCHING (default: openssl:offload openssl:mmsg
#                          openssl:single mbedtls:offload mbedtls:single); a backend no given
#                          binary has is skipped. The first variant also serves the memory
#                          figures and the profile.
#   PINHOLE_BENCH_SECONDS  iperf3 duration per row (default 10)
#   PINHOLE_BENCH_PINGS    timed round trips per row (default 2000)
#   PINHOLE_BENCH_STREAMS  streams for the memory figures, 2..30 (default 30)
#   PINHOLE_BENCH_PERF=1   afterwards, if perf is installed: one more pinhole iperf3 run under
#                          `perf record` of both pinhole processes, and their top symbols
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "tunnel_bench: needs root (it creates network namespaces); run it as root, e.g. sudo scripts/bench tunnel" >&2
  exit 1
fi
PH_NAME=tunnel_bench
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/netns/lib.sh
source "$here/../integration/netns/lib.sh"
ph_init "$1"
# Each binary's ChaCha20-Poly1305 backend, from `pinhole version`.
declare -A binary_of
for binary in "$@"; do
  [ -x "$binary" ] || ph_fail "pinhole binary '$binary' is not executable"
  backend=$("$binary" version | sed -n 's/.*ChaCha20-Poly1305 from \([a-z0-9]*\).*/\1/p')
  [ -n "$backend" ] || backend=mbedtls  # a build from before the version line named it
  [ -n "${binary_of[$backend]:-}" ] || binary_of[$backend]=$binary
done
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
for tool in iperf3 ssh ssh-keygen; do
  command -v "$tool" >/dev/null || ph_fail "needs $tool (scripts/bootstrap installs it)"
done
sshd_bin=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$sshd_bin" ] || ph_fail "needs sshd (openssh-server; scripts/bootstrap installs it)"

seconds=${PINHOLE_BENCH_SECONDS:-10}
pings=${PINHOLE_BENCH_PINGS:-2000}
streams=${PINHOLE_BENCH_STREAMS:-30}
perf_wanted=${PINHOLE_BENCH_PERF:-0}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || ph_fail "PINHOLE_BENCH_SECONDS must be a positive integer, got '$seconds'"
[[ $pings =~ ^[1-9][0-9]*$ ]] || ph_fail "PINHOLE_BENCH_PINGS must be a positive integer, got '$pings'"
if ! [[ $streams =~ ^[0-9]+$ ]] || [ "$streams" -lt 2 ] || [ "$streams" -gt 30 ]; then
  ph_fail "PINHOLE_BENCH_STREAMS must be 2..30 (the Linux board allows 32 streams), got '$streams'"
fi
readonly warmup=200 a_ul=198.51.100.1 b_ul=198.51.100.2 a_wg=192.0.2.1 b_wg=192.0.2.2
readonly iperf_port=5201 echo_port=7007 pinhole_port=52100 wg_a_port=51830 wg_b_port=51831
python=$(ph_python)
pingpong="$here/tunnel_pingpong.py"
[ -r "$pingpong" ] || ph_fail "expected the ping-pong tool at $pingpong"

rows=(bare socat ssh wg)
declare -A label=([bare]="bare veth" [socat]="socat relay" [ssh]="ssh -L chacha20-poly1305"
  [wg]="wireguard-go <-> wireguard-go")
# Where the client in a connects, per row: iperf3 and the echo.
declare -A iperf_at=([bare]="$b_ul:$iperf_port" [socat]="$b_ul:15201" [ssh]="127.0.0.1:25201"
  [wg]="$b_wg:$iperf_port")
declare -A echo_at=([bare]="$b_ul:$echo_port" [socat]="$b_ul:17007" [ssh]="127.0.0.1:27007"
  [wg]="$b_wg:$echo_port")
declare -A procs  # the tunnel processes' pids (roots: their children count too)
# The pinhole rows: one agent + client node pair per variant, each with its own keys and ports.
declare -A variant_backend variant_batching
skipped=()
n=0
read -r -a wanted_variants <<<"${PINHOLE_BENCH_VARIANTS:-openssl:offload openssl:mmsg openssl:single mbedtls:offload mbedtls:single}"
if [ -n "${PINHOLE_BENCH_BASELINE:-}" ]; then
  [ -x "$PINHOLE_BENCH_BASELINE" ] || ph_fail "PINHOLE_BENCH_BASELINE '$PINHOLE_BENCH_BASELINE' is not executable"
  binary_of[baseline]=$PINHOLE_BENCH_BASELINE
  wanted_variants+=(baseline:single)
fi
for variant in "${wanted_variants[@]}"; do
  backend=${variant%%:*} batching=${variant#*:}
  [[ $batching =~ ^(offload|mmsg|single)$ ]] ||
    ph_fail "PINHOLE_BENCH_VARIANTS: '$variant' is not BACKEND:offload|mmsg|single"
  if [ -z "${binary_of[$backend]:-}" ]; then
    skipped+=("$variant")
    continue
  fi
  row="pinhole$n"
  rows+=("$row")
  variant_backend[$row]=$backend variant_batching[$row]=$batching
  label[$row]="pinhole $backend $batching"
  [ "$backend" != baseline ] || label[$row]="pinhole baseline"
  iperf_at[$row]="127.0.0.1:$((35201 + 10 * n))"
  echo_at[$row]="127.0.0.1:$((37007 + 10 * n))"
  n=$((n + 1))
done
[ -n "${variant_backend[pinhole0]:-}" ] || ph_fail "no pinhole variant to run (binaries' backends: ${!binary_of[*]})"

# ---------------------------------------------------------------- setup

ph_netns_add a
ph_netns_add b
ph_veth a b
ph_addr a to-b "$a_ul/24"
ph_addr b to-a "$b_ul/24"
ph_wait 5 "the veth to answer ping ($b_ul from a)" ph_exec a ping -n -c 1 -W 1 "$b_ul"

# The servers every row reaches.
ip netns exec "$(ph_ns b)" iperf3 -s -p "$iperf_port" >"$ph_dir/iperf3-server.log" 2>&1 &
ph_track_pid $! "iperf3 server"
ip netns exec "$(ph_ns b)" "$python" "$pingpong" serve "$echo_port" >"$ph_dir/echo-server.log" 2>&1 &
ph_track_pid $! "echo server"
ph_wait 5 "the iperf3 server in $(ph_ns b)" ph_tcp_bound b "$iperf_port"
ph_wait 5 "the echo server in $(ph_ns b)" ph_tcp_bound b "$echo_port"

# socat: one relay per server, in b, on the veth address.
for pair in "15201 $iperf_port" "17007 $echo_port"; do
  ip netns exec "$(ph_ns b)" socat "TCP4-LISTEN:${pair% *},bind=$b_ul,fork,reuseaddr,nodelay" \
    "TCP4:127.0.0.1:${pair#* },nodelay" 2>>"$ph_dir/socat.log" &
  ph_track_pid $! "socat relay ${pair% *}"
  procs[socat]+="$! "
  ph_wait 5 "the socat relay on ${pair% *} in $(ph_ns b)" ph_tcp_bound b "${pair% *}"
done

# ssh -L: a throwaway sshd in b on the veth address, the ssh client in a.
ssh-keygen -q -t ed25519 -N '' -C tunnel-bench-host -f "$ph_dir/ssh_host_ed25519_key"
ssh-keygen -q -t ed25519 -N '' -C tunnel-bench-user -f "$ph_dir/user_key"
cp "$ph_dir/user_key.pub" "$ph_dir/authorized_keys"
cat >"$ph_dir/sshd_config" <<SSHD
# generated by $PH_NAME: a throwaway sshd in $(ph_ns b)
ListenAddress $b_ul:22
HostKey $ph_dir/ssh_host_ed25519_key
PidFile $ph_dir/sshd.pid
AuthorizedKeysFile $ph_dir/authorized_keys
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
AllowTcpForwarding yes
Ciphers chacha20-poly1305@openssh.com
LogLevel VERBOSE
SSHD
if [ ! -d /run/sshd ]; then
  mkdir -m 0755 /run/sshd
  ph_made_run_sshd=1  # lib.sh's cleanup removes it again
fi
"$sshd_bin" -t -f "$ph_dir/sshd_config" 2>"$ph_dir/sshd-check.log" ||
  ph_fail "expected sshd to accept the generated sshd_config: $(cat "$ph_dir/sshd-check.log")"
ip netns exec "$(ph_ns b)" "$sshd_bin" -D -e -f "$ph_dir/sshd_config" >"$ph_dir/sshd.log" 2>&1 &
ph_track_pid $! "sshd"
procs[ssh]+="$! "
ph_wait 10 "sshd on $b_ul:22 in $(ph_ns b)" ph_tcp_bound b 22
ip netns exec "$(ph_ns a)" ssh -N -F /dev/null -i "$ph_dir/user_key" -c chacha20-poly1305@openssh.com \
  -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
  -o GlobalKnownHostsFile=/dev/null -o ExitOnForwardFailure=yes -o LogLevel=ERROR \
  -L "127.0.0.1:25201:127.0.0.1:$iperf_port" -L "127.0.0.1:27007:127.0.0.1:$echo_port" \
  "root@$b_ul" >"$ph_dir/ssh.log" 2>&1 &
ph_track_pid $! "ssh -L"
procs[ssh]+="$! "
ph_wait 15 "ssh -L to listen on 127.0.0.1:25201 and 27007 in $(ph_ns a)" \
  eval "ph_tcp_bound a 25201 && ph_tcp_bound a 27007"

# wireguard-go <-> wireguard-go.
ph_key wga
ph_key wgb
ph_wg_start a a
wg_a_if=$PH_WG_IF
ph_wg_start b b
wg_b_if=$PH_WG_IF
# shellcheck disable=SC2154  # set by ph_wg_start (through eval)
procs[wg]="$PH_WG_PID_a $PH_WG_PID_b"
ph_wg_up a "$wg_a_if" 1420 "$a_wg" -- "$b_wg/32"
ph_wg_up b "$wg_b_if" 1420 "$b_wg" -- "$a_wg/32"
ph_wg_set a "$wg_a_if" private-key "$ph_dir/wga.key" listen-port "$wg_a_port" \
  peer "$(ph_pub wgb)" allowed-ips "$b_wg/32" endpoint "$b_ul:$wg_b_port"
ph_wg_set b "$wg_b_if" private-key "$ph_dir/wgb.key" listen-port "$wg_b_port" \
  peer "$(ph_pub wga)" allowed-ips "$a_wg/32"
ph_expect_ping a "$b_wg"

# pinhole, per variant: the agent in b, a client node in a with the agent's static endpoint,
# two forwards; the variant's binary and PINHOLE_UDP_BATCHING for both nodes.
for row in "${rows[@]}"; do
  [ -n "${variant_backend[$row]:-}" ] || continue
  n=${row#pinhole}
  ph_pinhole=${binary_of[${variant_backend[$row]}]}
  export PINHOLE_UDP_BATCHING=${variant_batching[$row]}
  ph_key "pha$n"
  ph_key "phb$n"
  ph_agent_yaml "$ph_dir/agent$n.yaml" --key "phb$n" --port "$((pinhole_port + 2 * n))" \
    --service "iperf=127.0.0.1:$iperf_port" --service "echo=127.0.0.1:$echo_port" \
    --peer client --pub "pha$n" --allow iperf --allow echo
  ph_agent_yaml "$ph_dir/client$n.yaml" --key "pha$n" --port "$((pinhole_port + 2 * n + 1))" \
    --peer agent --pub "phb$n" --endpoint "$b_ul:$((pinhole_port + 2 * n))"
  ph_agent_start b "agent$n" "$ph_dir/agent$n.yaml"
  ph_node_up a "client$n" "$ph_dir/client$n.yaml"
  # shellcheck disable=SC2154  # set by ph_agent_start and ph_node_up (through eval)
  eval "procs[$row]=\"\$PH_AGENT_PID_agent$n \$PH_UP_PID_client$n\""
  ph_forward_start a "client$n" "iperf$n" "$ph_dir/client$n.yaml" agent "${iperf_at[$row]##*:}" iperf
  ph_forward_start a "client$n" "echo$n" "$ph_dir/client$n.yaml" agent "${echo_at[$row]##*:}" echo
  grep -h "udp batching" "$ph_dir/agent-agent$n.log" 2>/dev/null | head -n 1 | sed "s/^/  agent$n: /" >&2 || true
done
unset PINHOLE_UDP_BATCHING
ph_pinhole=${binary_of[${variant_backend[pinhole0]}]}
read -r agent_pid client_pid <<<"${procs[pinhole0]}"

# ---------------------------------------------------------------- helpers

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b != "-" && b > 0) printf "%.2f", a / b; else print "-" }'; }
now_s() { printf '%s' "$EPOCHREALTIME"; }
# The pids of the trees rooted at PIDS (a process and what it forked), without the shells that
# started them (ph_wg_start's pid is a subshell whose child is wireguard-go).
tree_pids() {
  local root pid comm
  for root in "$@"; do
    for pid in $(ph_tree "$root"); do
      comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
      [ "$comm" = bash ] || echo "$pid"
    done
  done
}
# Clock ticks (user + system, with reaped children) of the trees rooted at PIDS.
tree_ticks() {
  local pid total=0 fields
  for pid in $(tree_pids "$@"); do
    fields=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
    # After "pid (comm) ": state is field 1, utime 12, stime 13, cutime 14, cstime 15.
    total=$((total + $(awk '{ print $12 + $13 + $14 + $15 }' <<<"$fields")))
  done
  echo "$total"
}
# VmHWM (kB) and VmRSS (kB) of one process, or nothing if it is gone.
status_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status" 2>/dev/null; }
# Resets the peak RSS of the trees rooted at PIDS (Linux: 5 > clear_refs).
reset_hwm() { local pid; for pid in $(tree_pids "$@"); do echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true; done; }
# Appends "pid VmHWM" of the trees rooted at PIDS to FILE.
sample_hwm() {
  local file=$1 pid kb
  shift
  for pid in $(tree_pids "$@"); do
    kb=$(status_kb "$pid" VmHWM)
    [ -z "$kb" ] || echo "$pid $kb" >>"$file"
  done
}
# The sum over pids of each one's largest VmHWM in FILE, in MiB.
sum_hwm_mib() { awk '{ if ($2 > m[$1]) m[$1] = $2 } END { for (p in m) s += m[p]; printf "%.1f", s / 1024 }' "$1"; }
json_field() { "$python" -c 'import json, sys
d = json.load(open(sys.argv[1]))["end"]
print(eval(sys.argv[2], {}, {"d": d}))' "$1" "$2"; }

# VmRSS (kB) of the agent and of the client node; the client node's stream counters.
rss_pair() { printf '%s %s' "$(status_kb "$agent_pid" VmRSS)" "$(status_kb "$client_pid" VmRSS)"; }
streams_line() { ph_cli a client0 status -c "$ph_dir/client0.yaml" 2>&1 | grep -m 1 'streams' | sed 's/^status: //' || true; }

sleep 1
read -r agent_rss_fresh client_rss_fresh <<<"$(rss_pair)"

# ---------------------------------------------------------------- the rows

declare -A gbits bytes cpu_s cpu_pct hwm rtt p99 retrans
hz=$(getconf CLK_TCK)
for row in "${rows[@]}"; do
  read -r -a roots <<<"${procs[$row]:-}"
  hwm_file="$ph_dir/hwm-$row"
  : >"$hwm_file"
  [ ${#roots[@]} -eq 0 ] || reset_hwm "${roots[@]}"
  ticks_before=0
  [ ${#roots[@]} -eq 0 ] || ticks_before=$(tree_ticks "${roots[@]}")
  start=$(now_s)
  ip netns exec "$(ph_ns a)" timeout $((seconds + 30)) iperf3 -J -c "${iperf_at[$row]%:*}" -p "${iperf_at[$row]##*:}" \
    -t "$seconds" >"$ph_dir/iperf3-$row.json" 2>&1 &
  client=$!
  ph_track_pid "$client" "iperf3 $row"
  sleep "$(awk -v s="$seconds" 'BEGIN { print s / 2 }')"
  [ ${#roots[@]} -eq 0 ] || sample_hwm "$hwm_file" "${roots[@]}"
  status=0
  wait "$client" || status=$?
  ph_forget_pid "$client"
  end=$(now_s)
  [ "$status" -eq 0 ] || ph_fail "iperf3 through ${label[$row]} failed: $(tail -n 5 "$ph_dir/iperf3-$row.json")"
  if [ ${#roots[@]} -gt 0 ]; then
    sample_hwm "$hwm_file" "${roots[@]}"
    # socat's per-connection children: reaped (their time in the parent's) before counting.
    if [ "$row" = socat ]; then
      for _ in $(seq 30); do
        [ "$(tree_pids "${roots[@]}" | wc -l)" -gt ${#roots[@]} ] || break
        sleep 0.1
      done
    fi
    ticks=$(($(tree_ticks "${roots[@]}") - ticks_before))
  fi
  gbits[$row]=$(json_field "$ph_dir/iperf3-$row.json" '"%.2f" % (d["sum_received"]["bits_per_second"] / 1e9)')
  bytes[$row]=$(json_field "$ph_dir/iperf3-$row.json" 'd["sum_received"]["bytes"]')
  retrans[$row]=$(json_field "$ph_dir/iperf3-$row.json" 'd["sum_sent"].get("retransmits", "-")')
  if [ ${#roots[@]} -gt 0 ]; then
    cpu_s[$row]=$(awk -v t="$ticks" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
    cpu_pct[$row]=$(awk -v c="${cpu_s[$row]}" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", 100 * c / (b - a) }')
    hwm[$row]=$(sum_hwm_mib "$hwm_file")
  else
    cpu_s[$row]=- cpu_pct[$row]=- hwm[$row]=-
  fi
  result=$(ip netns exec "$(ph_ns a)" timeout 120 "$python" "$pingpong" ping "${echo_at[$row]%:*}" \
    "${echo_at[$row]##*:}" "$pings" "$warmup") || ph_fail "the ping-pong through ${label[$row]} failed"
  rtt[$row]=${result% *}
  p99[$row]=${result#* }
  printf '  %-30s %7s Gbit/s (%s retransmits), %s CPU s, RTT median %s µs, p99 %s µs\n' "${label[$row]}" \
    "${gbits[$row]}" "${retrans[$row]}" "${cpu_s[$row]}" "${rtt[$row]}" "${p99[$row]}" >&2
done

# ---------------------------------------------------------------- memory per stream (pinhole)
# After the rows: the baseline is the nodes with no stream once one stream has run through them.

read -r agent_rss0 client_rss0 <<<"$(rss_pair)"
ready="$ph_dir/hold.ready"
ip netns exec "$(ph_ns a)" "$python" "$pingpong" hold 127.0.0.1 37007 "$streams" "$ready" >"$ph_dir/hold.log" 2>&1 &
hold_pid=$!
ph_track_pid "$hold_pid" "idle streams"
ph_wait 30 "$streams idle streams open through the echo forward" test -e "$ready"
sleep 1
read -r agent_rss_idle client_rss_idle <<<"$(rss_pair)"
idle_status=$(streams_line)
ph_stop_pid "$hold_pid" || true
sleep 2  # the streams close (FIN both ways) before the busy ones open

busy_data=$((streams - 1))  # iperf3's control connection is a stream too
agent_rss_busy=0 client_rss_busy=0
declare -A busy_gbits
# busy_run NAME [IPERF3 ARGS]: iperf3 -P $busy_data for 3 s through the iperf forward, VmRSS of
# both nodes sampled every 0.2 s (the peaks kept in agent_rss_busy, client_rss_busy).
busy_run() {
  local name=$1 pid status=0 a_kb c_kb
  shift
  ip netns exec "$(ph_ns a)" timeout 60 iperf3 -J -c 127.0.0.1 -p 35201 -P "$busy_data" -t 3 "$@" \
    >"$ph_dir/iperf3-busy-$name.json" 2>&1 &
  pid=$!
  ph_track_pid "$pid" "iperf3 busy streams $name"
  while kill -0 "$pid" 2>/dev/null; do
    read -r a_kb c_kb <<<"$(rss_pair)"
    [ "${a_kb:-0}" -le "$agent_rss_busy" ] || agent_rss_busy=$a_kb
    [ "${c_kb:-0}" -le "$client_rss_busy" ] || client_rss_busy=$c_kb
    sleep 0.2
  done
  wait "$pid" || status=$?
  ph_forget_pid "$pid"
  [ "$status" -eq 0 ] || ph_fail "iperf3 -P $busy_data $* through the pinhole forward failed: $(tail -n 5 "$ph_dir/iperf3-busy-$name.json")"
  busy_gbits[$name]=$(json_field "$ph_dir/iperf3-busy-$name.json" '"%.2f" % (d["sum_received"]["bits_per_second"] / 1e9)')
}
busy_run up
sleep 2
busy_run down -R
sleep 2
read -r agent_rss_after client_rss_after <<<"$(rss_pair)"

# ---------------------------------------------------------------- the table

print_machine() {
  local cpu
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  echo "machine: ${cpu:-unknown CPU}, $(uname -m), $(nproc) cores, kernel $(uname -r); load average at start $load_at_start"
  echo "  $(iperf3 --version | head -n 1); $(ssh -V 2>&1); wireguard-go $(wireguard-go --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -n 1)"
}
echo
echo "tunnel: one TCP stream and a 64-byte ping-pong through each transport, namespaces a -> b over a veth"
print_machine
echo "method: iperf3 -c, one stream, ${seconds} s, a -> b (receiver's Gbit/s); RTT: 64-byte TCP ping-pong"
echo "  (python3, TCP_NODELAY), median of $pings round trips after $warmup; CPU: utime+stime of the tunnel"
echo "  processes over the iperf3 run (% of one core); peak RSS: sum of their VmHWM over the run"
echo
printf '%-30s %8s %9s %7s %10s %9s %8s %8s %8s\n' transport Gbit/s "RTT µs" "CPU %" "peak RSS" "CPU s/GB" "thr/wg" "RTT/wg" "thr/ssh"
for row in "${rows[@]}"; do
  per_gb=-
  [ "${cpu_s[$row]}" = - ] || per_gb=$(awk -v c="${cpu_s[$row]}" -v b="${bytes[$row]}" 'BEGIN { printf "%.2f", c / (b / 1e9) }')
  rss=${hwm[$row]}
  [ "$rss" = - ] || rss="$rss MiB"
  printf '%-30s %8s %9s %7s %10s %9s %8s %8s %8s\n' "${label[$row]}" "${gbits[$row]}" "${rtt[$row]}" \
    "${cpu_pct[$row]}" "$rss" "$per_gb" "$(ratio "${gbits[$row]}" "${gbits[wg]}")" \
    "$(ratio "${rtt[$row]}" "${rtt[wg]}")" "$(ratio "${gbits[$row]}" "${gbits[ssh]}")"
done
echo "(tunnel processes: socat; ssh + sshd; both wireguard-go; pinhole agent + client node."
echo " thr/wg, RTT/wg, thr/ssh: the row's figure over wireguard-go's or ssh -L's. Goals for pinhole:"
echo " mbedtls thr/wg >= 1.5; openssl thr/ssh >= 1.0 and <= 2 CPU s/GB; RTT no worse than before)"
[ ${#skipped[@]} -eq 0 ] || echo "(skipped, no binary with that backend: ${skipped[*]})"

kib() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (a - b) / n }'; }
echo
echo "pinhole memory per stream (${label[pinhole0]}; VmRSS, KiB, after the rows; the Linux board allows"
echo "  PINHOLE_BUDGET_MAX_STREAMS = 32 streams, so $streams are measured):"
printf '  %-44s %10s %12s\n' "" agent "client node"
printf '  %-44s %10s %12s\n' "fresh nodes, before the rows" "$agent_rss_fresh" "$client_rss_fresh"
printf '  %-44s %10s %12s\n' "no stream, after the rows (the baseline)" "$agent_rss0" "$client_rss0"
printf '  %-44s %10s %12s\n' "$streams idle streams (echo forward)" "$agent_rss_idle" "$client_rss_idle"
printf '  %-44s %10s %12s\n' "$streams busy streams (iperf3 -P $busy_data), peak" "$agent_rss_busy" "$client_rss_busy"
printf '  %-44s %10s %12s\n' "no stream again, after them" "$agent_rss_after" "$client_rss_after"
printf '  %-44s %10s %12s\n' "per idle stream" "$(kib "$agent_rss_idle" "$agent_rss0" "$streams")" \
  "$(kib "$client_rss_idle" "$client_rss0" "$streams")"
printf '  %-44s %10s %12s\n' "per busy stream" "$(kib "$agent_rss_busy" "$agent_rss0" "$streams")" \
  "$(kib "$client_rss_busy" "$client_rss0" "$streams")"
bss_kib=$(size "$ph_pinhole" 2>/dev/null | awk 'NR == 2 { printf "%d", $3 / 1024 }') || bss_kib=""
echo "  (lwIP's heap and pools are static, sized from the board budget${bss_kib:+: $bss_kib KiB of bss in this binary};"
echo "  RSS grows as their pages are first used and stays after the streams close; they never grow)"
echo "  busy: 3 s a -> b at ${busy_gbits[up]} Gbit/s, then 3 s b -> a at ${busy_gbits[down]} Gbit/s (all streams together)"
[ -z "$idle_status" ] || echo "  client node's status with the idle streams: $idle_status"

# ---------------------------------------------------------------- optional profile

if [ "$perf_wanted" = 1 ]; then
  if ! command -v perf >/dev/null; then
    echo
    echo "PINHOLE_BENCH_PERF=1: perf is not installed (linux-perf); no profile"
  else
    echo
    echo "profile: perf record -g of the agent and the client node during one more ${seconds} s iperf3 run"
    for who in agent client; do
      pid=$agent_pid
      [ "$who" = agent ] || pid=$client_pid
      perf record -q -g -F 999 -p "$pid" -o "$ph_dir/perf-$who.data" -- sleep "$((seconds + 1))" \
        >"$ph_dir/perf-$who.log" 2>&1 &
      ph_track_pid $! "perf record $who"
      eval "perf_pid_$who=$!"
    done
    ip netns exec "$(ph_ns a)" timeout $((seconds + 30)) iperf3 -c 127.0.0.1 -p 35201 -t "$seconds" \
      >"$ph_dir/iperf3-perf.log" 2>&1 || ph_fail "iperf3 under perf failed: $(tail -n 5 "$ph_dir/iperf3-perf.log")"
    echo "  $(grep -E 'receiver' "$ph_dir/iperf3-perf.log" | tr -s ' ' | head -n 1)"
    for who in agent client; do
      var="perf_pid_$who"
      wait "${!var}" || true
      ph_forget_pid "${!var}"
      echo "  $who (pinhole agent in b)" | sed 's/client (pinhole agent in b)/client (the client node in a)/'
      echo "    by object: $(perf report -i "$ph_dir/perf-$who.data" --no-children --sort dso --stdio 2>/dev/null |
        awk '/^ +[0-9.]+%/ { printf "%s%s %s", sep, $2, $1; sep = ", " }')"
      perf report -i "$ph_dir/perf-$who.data" --no-children --sort dso,sym --percent-limit 1 --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+%' | head -n 20 | sed 's/^/    /'
    done
  fi
fi

for row in "${rows[@]}"; do
  [ -n "${variant_backend[$row]:-}" ] || continue
  ph_cli a "client${row#pinhole}" down -c "$ph_dir/client${row#pinhole}.yaml" >/dev/null 2>&1 || true
  ph_agent_stop "agent${row#pinhole}"
done
