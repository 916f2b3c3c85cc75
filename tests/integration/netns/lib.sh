# shellcheck shell=bash
# shellcheck disable=SC2034  # variables set here are read by the test scripts that source this
#
# Network-namespace harness for pinhole's wire tests (issue 5, item 3): a stock WireGuard peer
# (wireguard-go + wg) in one namespace, a pinhole node (`pinhole agent`) in another, a veth
# between them with TEST-NET underlay addresses.
#
#   PH_NAME=my_test; source "$(dirname "$0")/lib.sh"; ph_init "$@"
#
# Everything created is named after the test and $$ and is removed by name on exit, failure
# included: processes (by pid, TERM then KILL), namespaces (which takes their veths and TUNs),
# wireguard-go's control sockets, the work directory. Not root or a tool missing: exit 77 (SKIP).
#
# Addresses (TEST-NET only):
#   underlay IPv4 198.51.100.0/24 (.1 the wg side, .2 the pinhole side, .3 the wg side roamed)
#   underlay IPv6 2001:db8::/64   (::1, ::2, ::3 likewise), nodad
#   overlay IPv4  192.0.2.1 (wg side), 192.0.2.2 (pinhole side)
#   overlay IPv6  fd7a:7069:6e68::/48 + BLAKE2s(public key), as `pinhole check` prints it
#
# PH_AGENT_IMPL=wg (used by sanity_wg_wg.sh) replaces `pinhole agent` with wireguard-go plus
# socat echo (7) and discard (9) services configured from the same parameters, so the scripts
# themselves can be checked before the agent exists. PH_KEEP=1 keeps the work directory.

PH_NAME=${PH_NAME:-$(basename "$0" .sh)}
PH_AGENT_IMPL=${PH_AGENT_IMPL:-pinhole}
# What the agent's log says when a handshake message fails (a wrong psk, a bad response).
PH_AGENT_FAIL_PATTERN=${PH_AGENT_FAIL_PATTERN:-'invalid|fail|reject|mismatch|decrypt|bad'}

ph_pinhole=""
ph_dir=""
ph_pids=()        # every process started, stopped on exit
ph_pid_names=()   # what each one is, for messages
ph_namespaces=()  # full names
ph_wg_ifs=()      # wireguard-go interface names (control sockets)
ph_made_run_sshd=""  # set when ph_sshd_start created /run/sshd (removed again on exit)
ph_start_seconds=$SECONDS
ph_err_fd=2       # where ph_fail writes: the test's stderr (a copy of it inside ph_wait)

PH_WG_PORT=51820
PH_AGENT_PORT=51821
PH_W_V4=192.0.2.1
PH_P_V4=192.0.2.2

ph_log() { printf '%s [%3ds] %s\n' "$PH_NAME" "$((SECONDS - ph_start_seconds))" "$*"; }
ph_skip() { echo "SKIP: $PH_NAME: $*"; exit 77; }
ph_fail() {
  # To the test's own stderr even inside ph_wait, which silences the command it polls.
  echo "FAIL: $PH_NAME: $*" >&"$ph_err_fd"
  ph_dump_logs >&"$ph_err_fd"
  exit 1
}

ph_dump_logs() {
  [ -n "$ph_dir" ] && [ -d "$ph_dir" ] || return 0
  local f
  for f in "$ph_dir"/*.log "$ph_dir"/ctl-*/*.log; do
    [ -e "$f" ] || continue
    echo "----- last 40 lines of $(basename "$f")"
    tail -n 40 "$f"
  done
}

# ph_init PINHOLE_BINARY: checks root and tools (skip otherwise), makes the work directory,
# installs the cleanup trap.
ph_init() {
  ph_pinhole=${1:?usage: $0 PINHOLE_BINARY}
  [ -x "$ph_pinhole" ] || ph_fail "pinhole binary '$ph_pinhole' is not executable"
  [ "$(id -u)" -eq 0 ] || ph_skip "needs root (network namespaces)"
  local tool
  for tool in wireguard-go wg ip ss ping socat sha256sum timeout pgrep; do
    command -v "$tool" >/dev/null || ph_skip "needs $tool (scripts/bootstrap installs it)"
  done
  [ -c /dev/net/tun ] || ph_skip "needs /dev/net/tun for wireguard-go"
  if [ "$PH_AGENT_IMPL" = pinhole ] && "$ph_pinhole" agent 2>&1 | grep -q "unknown command"; then
    ph_fail "expected a pinhole with an 'agent' command ($ph_pinhole has none)"
  fi
  ph_dir=$(umask 077 && mktemp -d "/tmp/pinhole-$PH_NAME.XXXXXX")
  trap ph_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# PID and its descendants (socat's forked connections and their children), deepest last.
ph_tree() {
  local child
  echo "$1"
  for child in $(pgrep -P "$1" 2>/dev/null); do ph_tree "$child"; done
}

# Stops one process we started, and what it forked: TERM, up to 3 s, then KILL. Returns the
# process's own exit status.
ph_stop_pid() {
  local pid=$1 i status=0 tree p
  tree=$(ph_tree "$pid")
  for p in $tree; do kill -TERM "$p" 2>/dev/null || true; done
  for ((i = 0; i < 30; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  for p in $tree; do kill -KILL "$p" 2>/dev/null || true; done
  wait "$pid" 2>/dev/null || status=$?
  ph_forget_pid "$pid"
  return "$status"
}

ph_forget_pid() {
  local pid=$1 i
  for i in "${!ph_pids[@]}"; do
    if [ "${ph_pids[$i]}" = "$pid" ]; then unset 'ph_pids[i]' 'ph_pid_names[i]'; fi
  done
}

ph_track_pid() { ph_pids+=("$1"); ph_pid_names+=("$2"); }

ph_cleanup() {
  local status=$? i pid ns ifname
  trap - EXIT INT TERM
  set +e
  local tree=""
  for i in "${!ph_pids[@]}"; do tree+=" $(ph_tree "${ph_pids[$i]}")"; done
  for pid in $tree; do kill -TERM "$pid" 2>/dev/null; done
  for i in "${!ph_pids[@]}"; do
    pid=${ph_pids[$i]}
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  done
  for pid in $tree; do kill -KILL "$pid" 2>/dev/null; done
  for i in "${!ph_pids[@]}"; do wait "${ph_pids[$i]}" 2>/dev/null; done
  ph_stop_namespace_pids
  for ns in "${ph_namespaces[@]}"; do
    ip netns delete "$ns" 2>/dev/null
  done
  [ -z "$ph_made_run_sshd" ] || rmdir /run/sshd 2>/dev/null
  for ifname in "${ph_wg_ifs[@]}"; do
    rm -f "/var/run/wireguard/$ifname.sock"
  done
  if [ $status -ne 0 ] && [ $status -ne 77 ] && [ -n "$ph_dir" ]; then
    echo "$PH_NAME: exit status $status; work directory $ph_dir" >&2
  fi
  if [ "${PH_KEEP:-0}" != 1 ] && [ -n "$ph_dir" ]; then rm -rf "$ph_dir"; fi
  exit "$status"
}

# ph_wait SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s; fails with WHAT after SECONDS.
ph_wait() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds)) saved
  exec {saved}>&2
  ph_err_fd=$saved  # a ph_fail in COMMAND still reaches the test's stderr
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || ph_fail "expected $what within ${seconds}s"
    sleep 0.1
  done
  ph_err_fd=2
  exec {saved}>&-
}

# ---------------------------------------------------------------- namespaces and links

# ph_ns SHORT: the full namespace name of SHORT (a, b, w, p...).
ph_ns() { printf 'ph-%s-%s-%s' "$PH_NAME" "$$" "$1"; }
ph_exec() { local short=$1; shift; ip netns exec "$(ph_ns "$short")" "$@"; }

ph_netns_add() {
  local ns
  ns=$(ph_ns "$1")
  ip netns add "$ns" || ph_fail "could not create namespace $ns"
  ph_namespaces+=("$ns")
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -q -w net.ipv4.conf.all.promote_secondaries=1 \
    net.ipv4.conf.default.promote_secondaries=1 >/dev/null
}

# ph_veth A B [MTU]: a veth between namespaces A and B, named `to-B` in A and `to-A` in B,
# created directly inside them (never in the host's namespace), up.
ph_veth() {
  local a=$1 b=$2 mtu=${3:-}
  ip link add "to-$b" netns "$(ph_ns "$a")" type veth peer name "to-$a" netns "$(ph_ns "$b")" ||
    ph_fail "could not create the veth between $a and $b"
  if [ -n "$mtu" ]; then
    ip -n "$(ph_ns "$a")" link set "to-$b" mtu "$mtu"
    ip -n "$(ph_ns "$b")" link set "to-$a" mtu "$mtu"
  fi
  ip -n "$(ph_ns "$a")" link set "to-$b" up
  ip -n "$(ph_ns "$b")" link set "to-$a" up
}

# ph_addr NS DEV ADDRESS/LEN: IPv6 addresses get nodad (usable at once).
ph_addr() {
  local ns=$1 dev=$2 address=$3
  if [[ $address == *:* ]]; then
    ip -n "$(ph_ns "$ns")" -6 addr add "$address" dev "$dev" nodad
  else
    ip -n "$(ph_ns "$ns")" addr add "$address" dev "$dev"
  fi
}
ph_addr_del() { ip -n "$(ph_ns "$1")" addr del "$3" dev "$2"; }

# The underlay address of host number N (1, 2, 3) in FAMILY (4 or 6), without length.
ph_underlay() { if [ "$1" = 6 ]; then printf '2001:db8::%s' "$2"; else printf '198.51.100.%s' "$2"; fi; }
ph_underlay_len() { if [ "$1" = 6 ]; then echo 64; else echo 24; fi; }
# host:port as wg and the config write it ([v6]:port).
ph_endpoint() { if [[ $1 == *:* ]]; then printf '[%s]:%s' "$1" "$2"; else printf '%s:%s' "$1" "$2"; fi; }

# ---------------------------------------------------------------- keys

# ph_key NAME: NAME.key (0600), NAME.pub in the work directory; prints nothing.
ph_key() {
  (umask 077 && wg genkey >"$ph_dir/$1.key")
  wg pubkey <"$ph_dir/$1.key" >"$ph_dir/$1.pub"
}
ph_psk() { (umask 077 && wg genpsk >"$ph_dir/$1.psk"); }
ph_pub() { cat "$ph_dir/$1.pub"; }
# The key-derived overlay IPv6 address of key NAME, from `pinhole check`.
ph_overlay6() {
  local yaml="$ph_dir/overlay-$1.yaml" address
  (umask 077 && printf 'key: {private_key: "%s"}\n' "$(cat "$ph_dir/$1.key")" >"$yaml")
  address=$("$ph_pinhole" check -c "$yaml" | sed -n 's/^overlay address: *//p')
  rm -f "$yaml"
  [[ $address == fd7a:7069:6e68:* ]] || ph_fail "expected an fd7a:7069:6e68::/48 overlay address from 'pinhole check', got '$address'"
  printf '%s' "$address"
}

# ---------------------------------------------------------------- wireguard-go

# ph_wg_start NS TAG: starts wireguard-go in NS; the interface is named wg<pid><TAG> (unique
# across namespaces, as /var/run/wireguard is shared). Sets PH_WG_IF. Log: wg-TAG.log.
ph_wg_start() {
  local ns=$1 tag=$2 ifname pid
  ifname="wg$$$tag"
  [ ${#ifname} -le 15 ] || ph_fail "interface name $ifname is longer than 15 characters"
  ph_wg_ifs+=("$ifname")
  ph_exec "$ns" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 LOG_LEVEL=verbose \
    wireguard-go -f "$ifname" >"$ph_dir/wg-$tag.log" 2>&1 &
  pid=$!
  ph_track_pid "$pid" "wireguard-go $ifname"
  ph_wait 10 "wireguard-go's control socket /var/run/wireguard/$ifname.sock" \
    test -S "/var/run/wireguard/$ifname.sock"
  ph_wait 5 "wireguard-go's TUN $ifname in $(ph_ns "$ns")" ip -n "$(ph_ns "$ns")" link show "$ifname"
  PH_WG_IF=$ifname
  eval "PH_WG_PID_$tag=$pid"
}

# ph_wg_set NS IF ARGS...: `wg set IF ARGS...` (private-key FILE, listen-port N, peer ...).
ph_wg_set() { local ns=$1; shift; ph_exec "$ns" wg set "$@" || ph_fail "wg set $* failed"; }

# ph_wg_up NS IF MTU LOCAL_ADDRESS... -- ROUTE...: MTU, addresses (no length: host), routes, up.
ph_wg_up() {
  local ns=$1 ifname=$2 mtu=$3 address
  shift 3
  local nsname
  nsname=$(ph_ns "$ns")
  ip -n "$nsname" link set "$ifname" mtu "$mtu"
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    address=$1
    shift
    if [[ $address == *:* ]]; then
      ip -n "$nsname" -6 addr add "$address/128" dev "$ifname" nodad
    else
      ip -n "$nsname" addr add "$address/32" dev "$ifname"
    fi
  done
  [ $# -gt 0 ] && shift
  ip -n "$nsname" link set "$ifname" up
  for address in "$@"; do
    if [[ $address == *:* ]]; then
      ip -n "$nsname" -6 route add "$address" dev "$ifname"
    else
      ip -n "$nsname" route add "$address" dev "$ifname"
    fi
  done
}

# The peer's latest handshake (seconds since the epoch, 0 = never) on a wireguard-go interface.
ph_wg_latest_handshake() {
  local ns=$1 ifname=$2
  ph_exec "$ns" wg show "$ifname" latest-handshakes | awk '{ print $2; exit }'
}
ph_wg_has_handshake() { [ "$(ph_wg_latest_handshake "$1" "$2")" != 0 ] && [ -n "$(ph_wg_latest_handshake "$1" "$2")" ]; }
ph_wg_endpoint() { ph_exec "$1" wg show "$2" endpoints | awk '{ print $2; exit }'; }

# ---------------------------------------------------------------- the node under test

# ph_agent_yaml FILE --key NAME [--port N] [--mtu N] [--address A]...
#   and its one peer: --peer NAME --pub KEYNAME [--endpoint HOST:PORT] [--allowed NET]...
#   [--keepalive N] [--psk FILE] [--allow RULE]...
# and its services: [--service NAME=TARGET]... (TARGET as the config writes it, 127.0.0.1:22)
# Writes a node config (0600: it holds the private key).
ph_agent_yaml() {
  local file=$1
  shift
  local key="" port=$PH_AGENT_PORT mtu="" addresses=() peer="" pub="" endpoint="" allowed=()
  local keepalive="" psk="" services=() allows=() service
  while [ $# -gt 0 ]; do
    case $1 in
      --key) key=$2 ;;
      --service) services+=("$2") ;;
      --allow) allows+=("\"$2\"") ;;
      --port) port=$2 ;;
      --mtu) mtu=$2 ;;
      --address) addresses+=("\"$2\"") ;;
      --peer) peer=$2 ;;
      --pub) pub=$(ph_pub "$2") ;;
      --endpoint) endpoint=$2 ;;
      --allowed) allowed+=("\"$2\"") ;;
      --keepalive) keepalive=$2 ;;
      --psk) psk=$2 ;;
      *) ph_fail "ph_agent_yaml: unknown option $1" ;;
    esac
    shift 2
  done
  (
    umask 077
    local IFS=,
    echo "# generated by $PH_NAME (tests/integration/netns/lib.sh)"
    echo "key: {private_key: \"$(cat "$ph_dir/$key.key")\"}"
    echo "listen_port: $port"
    [ -z "$mtu" ] || echo "mtu: $mtu"
    [ ${#addresses[@]} -eq 0 ] || echo "address: [${addresses[*]}]"
    if [ ${#services[@]} -gt 0 ]; then
      echo "services:"
      for service in "${services[@]}"; do echo "  ${service%%=*}: \"${service#*=}\""; done
    fi
    if [ -n "$peer" ]; then
      echo "peers:"
      echo "  - name: $peer"
      echo "    public_key: \"$pub\""
      [ -z "$endpoint" ] || echo "    endpoint: \"$endpoint\""
      [ ${#allowed[@]} -eq 0 ] || echo "    allowed_ips: [${allowed[*]}]"
      [ -z "$keepalive" ] || echo "    persistent_keepalive: $keepalive"
      [ -z "$psk" ] || echo "    preshared_key_file: \"$psk\""
      [ ${#allows[@]} -eq 0 ] || echo "    allow: [${allows[*]}]"
    fi
  ) >"$file"
}

# ph_agent_start NS TAG YAML: runs the node in NS (log: agent-TAG.log) and waits until its UDP
# port is bound. Its control socket goes in $(ph_control_dir TAG) (PINHOLE_CONTROL_DIR), where
# ph_cli TAG finds it. Sets PH_AGENT_PID_<TAG>.
ph_agent_start() {
  local ns=$1 tag=$2 yaml=$3 port pid
  port=$(sed -n 's/^listen_port: *//p' "$yaml")
  if [ "$PH_AGENT_IMPL" = wg ]; then
    ph_fake_agent_start "$ns" "$tag" "$yaml"
    return
  fi
  "$ph_pinhole" check -c "$yaml" >"$ph_dir/check-$tag.log" 2>&1 ||
    ph_fail "expected 'pinhole check' to accept the generated $yaml: $(cat "$ph_dir/check-$tag.log")"
  # `ip netns exec` directly, not through the ph_exec function: a backgrounded function runs
  # in a subshell, and $! would be that shell, which SIGTERM kills instead of the agent.
  ip netns exec "$(ph_ns "$ns")" env PINHOLE_CONTROL_DIR="$(ph_control_dir "$tag")" \
    "$ph_pinhole" agent -c "$yaml" >"$ph_dir/agent-$tag.log" 2>&1 &
  pid=$!
  ph_track_pid "$pid" "pinhole agent $tag"
  eval "PH_AGENT_PID_$tag=$pid"
  ph_wait 10 "pinhole agent $tag to listen on UDP port $port in $(ph_ns "$ns")" ph_udp_bound "$ns" "$port" "$pid"
}

ph_udp_bound() {
  kill -0 "$3" 2>/dev/null || ph_fail "the agent (pid $3) exited early"
  ph_exec "$1" ss -Hlun "sport = :$2" | grep -q .
}

# ph_agent_stop TAG: SIGTERM; expects a clean exit (status 0) within 3 s.
ph_agent_stop() {
  local tag=$1 var pid status=0
  var="PH_AGENT_PID_$tag"
  pid=${!var}
  if [ "$PH_AGENT_IMPL" = wg ]; then
    ph_fake_agent_stop "$tag"
    return
  fi
  ph_stop_pid "$pid" || status=$?
  [ $status -eq 0 ] || ph_fail "expected pinhole agent $tag to exit 0 on SIGTERM, got status $status"
}

ph_agent_log() {
  if [ "$PH_AGENT_IMPL" = wg ]; then cat "$ph_dir/wg-f$1.log"; else cat "$ph_dir/agent-$1.log"; fi 2>/dev/null
}

# Did the node under test log (or, for the fake, show) a handshake failure?
ph_agent_saw_failure() { ph_agent_log "$1" | grep -qiE "$PH_AGENT_FAIL_PATTERN"; }
# Does the node under test know ENDPOINT for its peer (logs endpoint changes; fake: wg show)?
ph_agent_knows_endpoint() {
  local tag=$1 endpoint=$2
  if [ "$PH_AGENT_IMPL" = wg ]; then
    local var="PH_FAKE_IF_$tag"
    [ "$(ph_exec "$(ph_fake_ns "$tag")" wg show "${!var}" endpoints | awk '{ print $2; exit }')" = "$endpoint" ]
  else
    ph_agent_log "$tag" | grep -qF "$endpoint"
  fi
}

# ---- the fake node (PH_AGENT_IMPL=wg): wireguard-go + socat echo/discard, same config
ph_fake_ns() { local var="PH_FAKE_NS_$1"; printf '%s' "${!var}"; }

ph_fake_agent_start() {
  local ns=$1 tag=$2 yaml=$3 key port mtu peer_pub endpoint keepalive psk
  local addresses=() allowed=() routes=() a
  key=$(sed -n 's/^key: {private_key: "\(.*\)"}$/\1/p' "$yaml")
  port=$(sed -n 's/^listen_port: *//p' "$yaml")
  mtu=$(sed -n 's/^mtu: *//p' "$yaml")
  for a in $(sed -n 's/^address: \[\(.*\)\]$/\1/p' "$yaml" | tr -d '"' | tr , ' '); do
    addresses+=("${a%/*}")
  done
  for a in $(sed -n 's/^    allowed_ips: \[\(.*\)\]$/\1/p' "$yaml" | tr -d '"' | tr , ' '); do
    allowed+=("$a")
    routes+=("$a")
  done
  peer_pub=$(sed -n 's/^    public_key: "\(.*\)"$/\1/p' "$yaml")
  endpoint=$(sed -n 's/^    endpoint: "\(.*\)"$/\1/p' "$yaml")
  keepalive=$(sed -n 's/^    persistent_keepalive: *//p' "$yaml")
  psk=$(sed -n 's/^    preshared_key_file: "\(.*\)"$/\1/p' "$yaml")
  (umask 077 && printf '%s\n' "$key" >"$ph_dir/fake-$tag.key")
  local self6
  self6=$(ph_overlay6 "fake-$tag")
  ph_wg_start "$ns" "f$tag"
  eval "PH_FAKE_IF_$tag=$PH_WG_IF PH_FAKE_NS_$tag=$ns"
  local args=(private-key "$ph_dir/fake-$tag.key" listen-port "$port" peer "$peer_pub")
  if [ ${#allowed[@]} -gt 0 ]; then
    local IFS=,
    args+=(allowed-ips "${allowed[*]}")
    IFS=$' \t\n'
  fi
  [ -z "$endpoint" ] || args+=(endpoint "$endpoint")
  [ -z "$psk" ] || args+=(preshared-key "$psk")
  [ -z "$keepalive" ] || args+=(persistent-keepalive "$keepalive")
  ph_wg_up "$ns" "$PH_WG_IF" "${mtu:-1420}" "$self6" "${addresses[@]}" -- "${routes[@]}"
  ph_wg_set "$ns" "$PH_WG_IF" "${args[@]}"
  ph_exec "$ns" socat TCP6-LISTEN:7,fork,reuseaddr,ipv6only=0 EXEC:cat >"$ph_dir/agent-$tag.log" 2>&1 &
  ph_track_pid $! "fake echo $tag"
  eval "PH_FAKE_ECHO_$tag=$!"
  ph_exec "$ns" socat -u TCP6-LISTEN:9,fork,reuseaddr,ipv6only=0 OPEN:/dev/null >>"$ph_dir/agent-$tag.log" 2>&1 &
  ph_track_pid $! "fake discard $tag"
  eval "PH_FAKE_DISCARD_$tag=$!"
  eval "PH_AGENT_PID_$tag=\$PH_WG_PID_f$tag"
  ph_wait 5 "the fake echo service in $(ph_ns "$ns")" ph_tcp_bound "$ns" 7
}

ph_tcp_bound() { ph_exec "$1" ss -Hltn "sport = :$2" | grep -q .; }

ph_fake_agent_stop() {
  local tag=$1 var
  for var in "PH_FAKE_ECHO_$tag" "PH_FAKE_DISCARD_$tag"; do
    ph_stop_pid "${!var}" || true
  done
  var="PH_AGENT_PID_$tag"
  ph_stop_pid "${!var}" || true
  var="PH_FAKE_IF_$tag"
  rm -f "/var/run/wireguard/${!var}.sock"
}

# ---------------------------------------------------------------- checks

# ph_expect_ping NS ADDRESS [PING ARGS...]: the first echo within 10 s (a handshake may be
# needed), then 5 in a row without loss.
ph_expect_ping() {
  local ns=$1 address=$2
  shift 2
  ph_wait 10 "a ping reply from $address (from $(ph_ns "$ns"))" ph_exec "$ns" ping -n -c 1 -W 1 "$@" "$address"
  ph_exec "$ns" ping -n -q -c 5 -i 0.1 -W 2 "$@" "$address" >"$ph_dir/ping.out" 2>&1 ||
    ph_fail "expected 5 of 5 ping replies from $address: $(cat "$ph_dir/ping.out")"
  ph_log "ping ${*:+$* }$address: ok ($(sed -n 's/.*= \([0-9.]*\)\/\([0-9.]*\)\/.*/avg \2 ms/p' "$ph_dir/ping.out"))"
}

ph_expect_no_ping() {
  local ns=$1 address=$2
  if ph_exec "$ns" ping -n -c 3 -i 0.3 -W 1 "$address" >/dev/null 2>&1; then
    ph_fail "expected no ping reply from $address, got one"
  fi
}

ph_socat_addr() { if [[ $1 == *:* ]]; then printf 'TCP6:[%s]:%s' "$1" "$2"; else printf 'TCP4:%s:%s' "$1" "$2"; fi; }

# ph_random_file NAME BYTES: random content in the work directory; prints its path.
ph_random_file() { head -c "$2" /dev/urandom >"$ph_dir/$1"; printf '%s' "$ph_dir/$1"; }

# ph_expect_echo NS ADDRESS PORT BYTES: sends BYTES random bytes with the kernel's TCP from NS
# to ADDRESS:PORT (the echo service) and expects the same bytes back (sha256), within 20 s.
ph_expect_echo() {
  local ns=$1 address=$2 port=$3 bytes=$4 input output start
  input=$(ph_random_file echo.in "$bytes")
  output="$ph_dir/echo.out"
  start=$SECONDS
  timeout 25 ip netns exec "$(ph_ns "$ns")" socat -t 20 -T 20 -b 65536 \
    - "$(ph_socat_addr "$address" "$port"),connect-timeout=5" <"$input" >"$output" 2>"$ph_dir/socat.log" ||
    ph_fail "expected the echo of $bytes bytes through $address:$port to finish in 20 s: socat status $?, $(wc -c <"$output") bytes back: $(cat "$ph_dir/socat.log")"
  ph_same_bytes "$input" "$output" "echo through $address:$port"
  ph_log "echo of $bytes bytes through $address:$port: ok ($((SECONDS - start)) s)"
}

ph_same_bytes() {
  local a b
  a=$(sha256sum <"$1" | cut -d' ' -f1)
  b=$(sha256sum <"$2" | cut -d' ' -f1)
  [ "$a" = "$b" ] ||
    ph_fail "$3: expected the $(wc -c <"$1") bytes sent (sha256 $a) back, got $(wc -c <"$2") bytes (sha256 $b)"
}

ph_file_size() { if [ -e "$1" ]; then wc -c <"$1"; else echo 0; fi; }
ph_file_at_least() { [ "$(ph_file_size "$1")" -ge "$2" ]; }

# ---------------------------------------------------------------- the usual scenario

# ph_scenario FAMILY [VETH_MTU] [WG_MTU]: namespace w (wireguard-go + wg, the kernel's TCP) and
# namespace p (the node under test), a veth between them, underlay host 1 (w) and 2 (p) in
# FAMILY (4 or 6); keys w and p; wireguard-go started in w with overlay addresses PH_W_V6 and
# PH_W_V4 and routes to the node's PH_P_V6 and PH_P_V4 (no peer yet: see ph_wg_peer).
# Sets PH_FAMILY PH_W_UL PH_P_UL PH_W_IF PH_W_V6 PH_P_V6.
ph_scenario() {
  PH_FAMILY=$1
  local veth_mtu=${2:-} wg_mtu=${3:-1420} len
  len=$(ph_underlay_len "$PH_FAMILY")
  ph_netns_add w
  ph_netns_add p
  ph_veth w p "$veth_mtu"
  PH_W_UL=$(ph_underlay "$PH_FAMILY" 1)
  PH_P_UL=$(ph_underlay "$PH_FAMILY" 2)
  ph_addr w to-p "$PH_W_UL/$len"
  ph_addr p to-w "$PH_P_UL/$len"
  ph_key w
  ph_key p
  PH_W_V6=$(ph_overlay6 w)
  PH_P_V6=$(ph_overlay6 p)
  ph_wg_start w w
  PH_W_IF=$PH_WG_IF
  ph_wg_set w "$PH_W_IF" private-key "$ph_dir/w.key" listen-port "$PH_WG_PORT"
  ph_wg_up w "$PH_W_IF" "$wg_mtu" "$PH_W_V6" "$PH_W_V4" -- "$PH_P_V6/128" "$PH_P_V4/32"
  ph_wait 5 "the underlay to answer ping ($PH_P_UL from w)" ph_exec w ping -n -c 1 -W 1 "$PH_P_UL"
  ph_log "scenario: IPv$PH_FAMILY underlay $PH_W_UL <-> $PH_P_UL${veth_mtu:+ (MTU $veth_mtu)}, wg $PH_W_IF $PH_W_V6 $PH_W_V4, node $PH_P_V6 $PH_P_V4"
}

# ph_wg_peer [--endpoint] [--psk FILE] [--keepalive N] [--allowed NET]...: replaces the wg
# side's one peer (the node's key p) with these settings; --endpoint points it at the node's
# underlay address; --allowed adds networks reached through the node (routes are the caller's).
ph_wg_peer() {
  local allowed_ips="$PH_P_V6/128,$PH_P_V4/32"
  local args=(peer "$(ph_pub p)")
  while [ $# -gt 0 ]; do
    case $1 in
      --allowed) allowed_ips+=",$2"; shift 2 ;;
      --endpoint) args+=(endpoint "$(ph_endpoint "$PH_P_UL" "$PH_AGENT_PORT")"); shift ;;
      --psk) args+=(preshared-key "$2"); shift 2 ;;
      --keepalive) args+=(persistent-keepalive "$2"); shift 2 ;;
      *) ph_fail "ph_wg_peer: unknown option $1" ;;
    esac
  done
  args+=(allowed-ips "$allowed_ips")
  ph_wg_set w "$PH_W_IF" peer "$(ph_pub p)" remove
  ph_wg_set w "$PH_W_IF" "${args[@]}"
}

# ph_node_start TAG [--initiator] [--psk FILE] [--mtu N]: the node in p with key p, overlay
# IPv4 PH_P_V4, its peer the wg side (key w, sources PH_W_V6 and PH_W_V4). --initiator gives
# it the wg side's endpoint and a 1 s persistent keepalive, so it starts the handshake.
ph_node_start() {
  local tag=$1
  shift
  local args=(--key p --address "$PH_P_V4/32" --peer wg --pub w --allowed "$PH_W_V6/128" --allowed "$PH_W_V4/32")
  while [ $# -gt 0 ]; do
    case $1 in
      --initiator) args+=(--endpoint "$(ph_endpoint "$PH_W_UL" "$PH_WG_PORT")" --keepalive 1); shift ;;
      --psk) args+=(--psk "$2"); shift 2 ;;
      --mtu) args+=(--mtu "$2"); shift 2 ;;
      *) ph_fail "ph_node_start: unknown option $1" ;;
    esac
  done
  ph_agent_yaml "$ph_dir/node-$tag.yaml" "${args[@]}"
  ph_agent_start p "$tag" "$ph_dir/node-$tag.yaml"
}

# ph_interop FAMILY: the node as responder (wg has its endpoint), then as initiator (it has
# the wg side's endpoint, wg has none): ping both overlay addresses, 1 MiB through echo (v6
# and v4 overlay).
ph_interop() {
  ph_scenario "$1"
  ph_log "case 1: the node responds, wg initiates"
  ph_wg_peer --endpoint
  ph_node_start r
  ph_expect_ping w "$PH_P_V6"
  ph_expect_ping w "$PH_P_V4"
  ph_expect_echo w "$PH_P_V6" 7 1048576
  ph_expect_echo w "$PH_P_V4" 7 1048576
  ph_agent_stop r

  ph_log "case 2: the node initiates, wg has no endpoint"
  ph_wg_peer
  [ "$(ph_wg_endpoint w "$PH_W_IF")" = "(none)" ] || ph_fail "expected the wg side's peer to have no endpoint"
  ph_node_start i --initiator
  ph_wait 10 "a handshake started by the node (wg show latest-handshakes)" ph_wg_has_handshake w "$PH_W_IF"
  [ "$(ph_wg_endpoint w "$PH_W_IF")" = "$(ph_endpoint "$PH_P_UL" "$PH_AGENT_PORT")" ] ||
    ph_fail "expected the wg side to learn the node's endpoint $(ph_endpoint "$PH_P_UL" "$PH_AGENT_PORT"), got $(ph_wg_endpoint w "$PH_W_IF")"
  ph_expect_ping w "$PH_P_V6"
  ph_expect_ping w "$PH_P_V4"
  ph_expect_echo w "$PH_P_V6" 7 1048576
  ph_expect_echo w "$PH_P_V4" 7 1048576
  ph_agent_stop i
}

# ---------------------------------------------------------------- client commands and services
# (issue: the access proxy and the client commands; DESIGN §1)

# ph_require_commands CMD...: fails (not skips: the feature is expected) unless pinhole knows
# each command. Only for commands that do nothing without arguments (forward, connect).
ph_require_commands() {
  local command output
  for command in "$@"; do
    output=$("$ph_pinhole" "$command" 2>&1 || true)
    if [[ $output == *"unknown command"* ]]; then
      ph_fail "expected a pinhole with a '$command' command ($ph_pinhole has none)"
    fi
  done
}

# The control socket directory of node TAG (its PINHOLE_CONTROL_DIR), made on first use.
ph_control_dir() {
  local dir="$ph_dir/ctl-$1"
  [ -d "$dir" ] || (umask 077 && mkdir -p "$dir")
  printf '%s' "$dir"
}
# The control socket node TAG serves (the one *.sock in its directory), or nothing yet.
ph_control_socket() {
  local socket
  for socket in "$(ph_control_dir "$1")"/*.sock; do
    [ -S "$socket" ] && { printf '%s' "$socket"; return 0; }
  done
  return 1
}

# ph_cli NS TAG ARGS...: `pinhole ARGS` in namespace NS, attached to node TAG's control dir.
ph_cli() {
  local ns=$1 tag=$2
  shift 2
  ip netns exec "$(ph_ns "$ns")" env PINHOLE_CONTROL_DIR="$(ph_control_dir "$tag")" "$ph_pinhole" "$@"
}

# ph_node_up NS TAG YAML: `pinhole up -c YAML` in the foreground of a background job (log:
# up-TAG.log), until its control socket is there. Sets PH_UP_PID_<TAG>.
ph_node_up() {
  local ns=$1 tag=$2 yaml=$3 pid
  ip netns exec "$(ph_ns "$ns")" env PINHOLE_CONTROL_DIR="$(ph_control_dir "$tag")" \
    "$ph_pinhole" up -c "$yaml" >"$ph_dir/up-$tag.log" 2>&1 &
  pid=$!
  ph_track_pid "$pid" "pinhole up $tag"
  eval "PH_UP_PID_$tag=$pid"
  ph_wait 10 "pinhole up $tag to serve a control socket in $(ph_control_dir "$tag")" ph_node_serving "$tag" "$pid"
}
ph_node_serving() {
  kill -0 "$2" 2>/dev/null || ph_fail "pinhole up $1 (pid $2) exited early: $(tail -n 5 "$ph_dir/up-$1.log")"
  ph_control_socket "$1" >/dev/null
}

# ph_forward_start NS TAG NAME YAML AGENT LISTEN_PORT TARGET: `pinhole forward -c YAML AGENT
# 127.0.0.1:LISTEN_PORT TARGET` in NS through node TAG (started on demand if none runs), in the
# background (log: forward-NAME.log), until the port listens in NS. Sets PH_FORWARD_PID_<NAME>.
ph_forward_start() {
  local ns=$1 tag=$2 name=$3 yaml=$4 agent=$5 port=$6 target=$7 pid
  ip netns exec "$(ph_ns "$ns")" env PINHOLE_CONTROL_DIR="$(ph_control_dir "$tag")" \
    "$ph_pinhole" forward -c "$yaml" "$agent" "127.0.0.1:$port" "$target" >"$ph_dir/forward-$name.log" 2>&1 &
  pid=$!
  ph_track_pid "$pid" "pinhole forward $name"
  eval "PH_FORWARD_PID_$name=$pid"
  ph_wait 15 "'pinhole forward $agent 127.0.0.1:$port $target' to listen in $(ph_ns "$ns")" \
    ph_forward_listening "$ns" "$name" "$pid" "$port"
  ph_log "forward $name: 127.0.0.1:$port -> $agent $target (pid $pid)"
}
ph_forward_listening() {
  kill -0 "$3" 2>/dev/null ||
    ph_fail "'pinhole forward' $2 (pid $3) exited early: $(cat "$ph_dir/forward-$2.log")"
  ph_tcp_bound "$1" "$4"
}

# ph_forward_stop NS NAME PORT: SIGTERM to the forward; it must exit within 3 s and its
# listener (in the node) must close within 5 s.
ph_forward_stop() {
  local ns=$1 name=$2 port=$3 var pid
  var="PH_FORWARD_PID_$name"
  pid=${!var}
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 3))
  while kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || ph_fail "expected 'pinhole forward' $name to exit on SIGTERM within 3 s"
    sleep 0.1
  done
  wait "$pid" 2>/dev/null || true
  ph_forget_pid "$pid"
  ph_wait 5 "the forward's listener 127.0.0.1:$port to close after the forward stopped" \
    ph_not ph_tcp_bound "$ns" "$port"
}
ph_not() { ! "$@"; }

# The Python that serves test pages (Debian's, as scripts/bootstrap installs it).
ph_python() { if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3; else command -v python3; fi; }

# ph_http_server NS TAG ADDRESS PORT: a static HTTP server in NS on ADDRESS:PORT serving
# www-TAG/index.html, whose content names TAG and a random token. Prints nothing; the page is
# $ph_dir/www-TAG/index.html.
ph_http_server() {
  local ns=$1 tag=$2 address=$3 port=$4 www="$ph_dir/www-$2"
  mkdir -p "$www"
  printf '<html><body>pinhole test page %s %s</body></html>\n' "$tag" "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$www/index.html"
  ip netns exec "$(ph_ns "$ns")" "$(ph_python)" -u -m http.server --bind "$address" --directory "$www" "$port" \
    >"$ph_dir/http-$tag.log" 2>&1 &
  ph_track_pid $! "http server $tag"
  ph_wait 10 "the HTTP server $tag on $address:$port in $(ph_ns "$ns")" ph_tcp_bound "$ns" "$port"
}
ph_page() { printf '%s' "$ph_dir/www-$1/index.html"; }

# ph_expect_page NS URL PAGE: curl in NS fetches URL within 15 s and gets exactly PAGE's bytes.
ph_expect_page() {
  local ns=$1 url=$2 page=$3 out="$ph_dir/curl.out" status=0
  ph_exec "$ns" curl -gsS --connect-timeout 10 --max-time 15 -o "$out" "$url" 2>"$ph_dir/curl.err" || status=$?
  [ $status -eq 0 ] || ph_fail "expected curl $url (from $(ph_ns "$ns")) to fetch the page, got curl status $status: $(cat "$ph_dir/curl.err")"
  ph_same_bytes "$page" "$out" "curl $url"
  ph_log "curl $url: ok, the page ($(wc -c <"$out") bytes) matches"
}

# ph_now_ms: a clock in milliseconds.
ph_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ph_expect_refused NS URL WITHIN_S WHAT: curl in NS to URL must fail, by a refusal or a reset
# (connection refused, reset, empty reply), not a timeout, and within WITHIN_S seconds. Sets
# PH_REFUSED_MS (how long it took) and PH_REFUSED_ERR (curl's message).
ph_expect_refused() {
  local ns=$1 url=$2 within=$3 what=$4 start status=0 max_time
  max_time=$((within + 10))
  start=$(ph_now_ms)
  ph_exec "$ns" curl -gsS --connect-timeout "$max_time" --max-time "$max_time" -o "$ph_dir/refused.out" "$url" \
    2>"$ph_dir/curl.err" || status=$?
  PH_REFUSED_MS=$(($(ph_now_ms) - start))
  PH_REFUSED_ERR=$(tr '\n' ' ' <"$ph_dir/curl.err")
  [ $status -ne 0 ] ||
    ph_fail "$what: expected curl $url to be refused, but it got $(wc -c <"$ph_dir/refused.out") bytes: $(head -c 200 "$ph_dir/refused.out")"
  [ $status -ne 28 ] ||
    ph_fail "$what: expected curl $url to be refused or reset, but it timed out after ${PH_REFUSED_MS} ms: $PH_REFUSED_ERR"
  [ "$PH_REFUSED_MS" -le $((within * 1000)) ] ||
    ph_fail "$what: expected curl $url to fail within ${within} s, it took ${PH_REFUSED_MS} ms (curl status $status: $PH_REFUSED_ERR)"
  ph_log "$what: curl $url failed in ${PH_REFUSED_MS} ms (curl status $status: $PH_REFUSED_ERR)"
}

# ph_expect_log_line TAG WHAT PATTERN...: within 5 s, one line of node TAG's log matches every
# extended regular expression PATTERN (in any order). Prints that line into the test's output.
ph_expect_log_line() {
  local tag=$1 what=$2
  shift 2
  local deadline=$((SECONDS + 5)) line
  while :; do
    line=$(ph_agent_log "$tag" | ph_grep_all "$@" | tail -n 1 || true)
    [ -z "$line" ] || break
    [ $SECONDS -lt $deadline ] || ph_fail "expected node $tag to log $what (a line matching: $*)"
    sleep 0.1
  done
  ph_log "node $tag logged $what: $line"
}
ph_grep_all() {
  if [ $# -eq 0 ]; then cat; return; fi
  local pattern=$1
  shift
  grep -E -- "$pattern" | ph_grep_all "$@"
}

# ph_stop_namespace_pids: TERM, then KILL, whatever still runs in our namespaces (a node that
# a client command started on demand, which the test never had the pid of).
ph_stop_namespace_pids() {
  local ns pids=() pid i
  for ns in "${ph_namespaces[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do pids+=("$pid"); done
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for ((i = 0; i < 20; i++)); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 1 ] || return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  return 0
}
# The pids still running in namespace SHORT.
ph_ns_pids() { ip netns pids "$(ph_ns "$1")" 2>/dev/null; }
ph_ns_empty() { [ -z "$(ph_ns_pids "$1")" ]; }

# ph_sshd_start NS: an sshd of the test's own in NS on 127.0.0.1:22 (throwaway host key,
# root login with the throwaway user key $ph_dir/user_key, configuration and log in the work
# directory). /run/sshd (sshd's privilege-separation directory) is made if missing.
ph_sshd_start() {
  local ns=$1 sshd
  sshd=$(command -v sshd || echo /usr/sbin/sshd)
  [ -x "$sshd" ] || ph_skip "needs sshd (openssh-server; scripts/bootstrap installs it)"
  ssh-keygen -q -t ed25519 -N '' -C "pinhole-test-host" -f "$ph_dir/ssh_host_ed25519_key"
  ssh-keygen -q -t ed25519 -N '' -C "pinhole-test-user" -f "$ph_dir/user_key"
  cp "$ph_dir/user_key.pub" "$ph_dir/authorized_keys"
  cat >"$ph_dir/sshd_config" <<SSHD
# generated by $PH_NAME (tests/integration/netns/lib.sh): a throwaway sshd in $(ph_ns "$ns")
ListenAddress 127.0.0.1:22
HostKey $ph_dir/ssh_host_ed25519_key
PidFile $ph_dir/sshd.pid
AuthorizedKeysFile $ph_dir/authorized_keys
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
LogLevel VERBOSE
SSHD
  if [ ! -d /run/sshd ]; then
    mkdir -m 0755 /run/sshd
    ph_made_run_sshd=1
  fi
  "$sshd" -t -f "$ph_dir/sshd_config" 2>"$ph_dir/sshd-check.log" ||
    ph_fail "expected sshd to accept the generated sshd_config: $(cat "$ph_dir/sshd-check.log")"
  ip netns exec "$(ph_ns "$ns")" "$sshd" -D -e -f "$ph_dir/sshd_config" >"$ph_dir/sshd.log" 2>&1 &
  ph_track_pid $! "sshd"
  ph_wait 10 "sshd on 127.0.0.1:22 in $(ph_ns "$ns")" ph_tcp_bound "$ns" 22
}

# ---------------------------------------------------------------- per-case namespaces
# (pinhole_pair_scenarios.sh: several cases in one script, each with its own namespaces)

# ph_netns_del SHORT: stops whatever still runs in namespace SHORT (TERM, then KILL), deletes
# it (with its veths) and forgets it, so a case can clean up before the next one starts.
ph_netns_del() {
  local ns i pid alive
  ns=$(ph_ns "$1")
  local pids
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 30; i++)); do
    alive=0
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 1 ] || break
    sleep 0.1
  done
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  ip netns delete "$ns" 2>/dev/null || true
  for i in "${!ph_namespaces[@]}"; do
    if [ "${ph_namespaces[$i]}" = "$ns" ]; then unset 'ph_namespaces[i]'; fi
  done
}

# ph_rate_limited_cat FILE CHUNK_BYTES CHUNKS PAUSE_S: FILE to stdout in CHUNKS chunks of
# CHUNK_BYTES, sleeping PAUSE_S after each: continuous traffic for about CHUNKS * PAUSE_S.
ph_rate_limited_cat() {
  local file=$1 chunk_bytes=$2 chunks=$3 pause=$4 i
  for ((i = 0; i < chunks; i++)); do
    dd if="$file" bs="$chunk_bytes" skip="$i" count=1 status=none
    sleep "$pause"
  done
}

# ---------------------------------------------------------------- the gateway and relayed nodes
# (issue 8: relay_modes.sh, relay_refusals.sh, tests/bench/relay_bench.sh)

# ph_lan_topology LAN_AGENT LAN_HOST: the client tests' namespaces: c (a client node) and a (an
# agent) on 198.51.100.0/24 (c .1, a .2), and l, a LAN behind the agent (a at LAN_AGENT, l at
# LAN_HOST, both /24).
ph_lan_topology() {
  local ns
  for ns in c a l; do ph_netns_add "$ns"; done
  ph_veth c a
  ph_veth a l
  ph_addr c to-a 198.51.100.1/24
  ph_addr a to-c 198.51.100.2/24
  ph_addr a to-l "$1/24"
  ph_addr l to-a "$2/24"
}

# ph_relay_topology: the gateway tests' namespaces: g (the gateway), a (an agent), c (a client);
# g-a on 198.51.100.0/24 (g .1, a .2), g-c on 203.0.113.0/24 (g .1, c .2), no route between a
# and c, so everything between them goes through the gateway.
ph_relay_topology() {
  local ns
  for ns in g a c; do ph_netns_add "$ns"; done
  ph_veth g a
  ph_veth g c
  ph_addr g to-a 198.51.100.1/24
  ph_addr a to-g 198.51.100.2/24
  ph_addr g to-c 203.0.113.1/24
  ph_addr c to-g 203.0.113.2/24
}

# ph_gateway_init NS: the gateway's key in $ph_dir/gw (`pinhole gateway init -d`, run in NS).
# Sets PH_GATEWAY_KEY (its public key).
ph_gateway_init() {
  ph_exec "$1" "$ph_pinhole" gateway init -d "$ph_dir/gw" >"$ph_dir/gateway-init.log" 2>&1 ||
    ph_fail "expected 'pinhole gateway init' to succeed: $(cat "$ph_dir/gateway-init.log")"
  PH_GATEWAY_KEY=$(sed -n 's/^public key: //p' "$ph_dir/gateway-init.log")
  [ -n "$PH_GATEWAY_KEY" ] || ph_fail "expected 'pinhole gateway init' to print the public key: $(cat "$ph_dir/gateway-init.log")"
}

# ph_gateway_start NS PORT AUTHORIZED_KEYS [ENV=VALUE...]: `pinhole gateway` in NS on TCP
# 0.0.0.0:PORT with the key of ph_gateway_init and AUTHORIZED_KEYS (a file), its environment
# extended by ENV=VALUE...; log appended to gateway.log. Waits for the port. Sets PH_GATEWAY_PID.
ph_gateway_start() {
  local ns=$1 port=$2 authorized=$3
  shift 3
  printf 'key: {data_dir: "%s"}\nlisten: ["0.0.0.0:%s"]\nauthorized_keys: "%s"\n%s\n' \
    "$ph_dir/gw" "$port" "$authorized" "${PH_GATEWAY_EXTRA_YAML:-}" >"$ph_dir/gateway.yaml"
  ip netns exec "$(ph_ns "$ns")" env "$@" "$ph_pinhole" gateway -c "$ph_dir/gateway.yaml" \
    >>"$ph_dir/gateway.log" 2>&1 &
  PH_GATEWAY_PID=$!
  ph_track_pid "$PH_GATEWAY_PID" "pinhole gateway"
  ph_wait 5 "the gateway to listen on TCP $port in $(ph_ns "$ns")" ph_tcp_bound "$ns" "$port"
}

# ph_gateway_status: SIGUSR1 to the gateway; prints the status line it then logs.
ph_gateway_status() {
  local before
  before=$(grep -c 'status:' "$ph_dir/gateway.log" || true)
  kill -USR1 "$PH_GATEWAY_PID"
  ph_wait 5 "a status line from the gateway after SIGUSR1" ph_log_has_more 'status:' "$ph_dir/gateway.log" "$before"
  grep 'status:' "$ph_dir/gateway.log" | tail -n 1
}
ph_log_has_more() { [ "$(grep -c "$1" "$2" || true)" -gt "$3" ]; }

# ph_gateway_count WHAT: a counter from the gateway's latest status line, by the words after the
# number ("datagrams", "not authorized", "buffer full"...).
ph_gateway_count() {
  local line
  line=$(ph_gateway_status)
  [[ $line =~ ([0-9]+)\ $1 ]] || ph_fail "expected '<N> $1' in the gateway's status line: $line"
  printf '%s' "${BASH_REMATCH[1]}"
}

# ph_relay_node_yaml FILE KEY GATEWAY_HOST:PORT GATEWAY_PUBLIC_KEY [LINE...]: a node config
# (0600: it holds KEY's private key) with listen_port 0 and the gateway at tcp://HOST:PORT,
# then each LINE verbatim (services:, peers: and ph_yaml_peer's blocks...).
ph_relay_node_yaml() {
  local file=$1 key=$2 gateway=$3 gateway_key=$4
  shift 4
  (
    umask 077
    echo "# generated by $PH_NAME (tests/integration/netns/lib.sh)"
    printf 'key: {private_key: "%s"}\nlisten_port: 0\n' "$(cat "$ph_dir/$key.key")"
    printf 'gateway: {url: "tcp://%s", public_key: "%s"}\n' "$gateway" "$gateway_key"
    printf '%s\n' "$@"
  ) >"$file"
}

# ph_yaml_peer NAME KEY [ALLOW]: a `peers:` list item for key KEY (no endpoint: through the
# gateway), with `allow: [ALLOW]` when given.
ph_yaml_peer() {
  printf '  - name: %s\n    public_key: "%s"' "$1" "$(ph_pub "$2")"
  [ -z "${3:-}" ] || printf '\n    allow: [%s]' "$3"
}
