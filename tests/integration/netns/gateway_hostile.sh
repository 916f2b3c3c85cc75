#!/usr/bin/env bash
# Hostile input at the gateway (issue 9, item 4) while a legitimate node keeps transferring:
# from a third namespace, a python3 attacker sends garbage, truncated messages, oversized length
# prefixes, random "handshakes" in bulk, TLS garbage, HTTP garbage, and slowloris connections
# (a byte every 0.3 s). Meanwhile 2 MiB are echoed between a client and an agent through the
# relay. Asserts: the echo comes back intact, the gateway is alive and still relays, every
# attack was refused or cut (its status counters and log say so), and its RSS grew by less than
# 8 MiB.
set -euo pipefail
PH_NAME=gateway_hostile
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"

readonly gateway_port=8443
ph_relay_topology
ph_netns_add x  # the attacker
ph_veth g x
ph_addr g to-x 192.0.2.1/24
ph_addr x to-g 192.0.2.2/24
ph_key a
ph_key c

ph_gateway_init g
printf '%s agent reach=client\n%s client reach=agent\n' "$(ph_pub a)" "$(ph_pub c)" >"$ph_dir/gateway_keys"
PH_GATEWAY_EXTRA_YAML="tls: {cert: \"$ph_dir/gw/gateway.crt\", key: \"$ph_dir/gw/gateway.key\"}"
# Under ASan, freed memory sits in a quarantine that would read as growth: keep it small.
ph_gateway_start g "$gateway_port" "$ph_dir/gateway_keys" \
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:thread_local_quarantine_size_kb=64"
ip netns exec "$(ph_ns a)" socat TCP4-LISTEN:7007,bind=127.0.0.1,fork,reuseaddr EXEC:cat 2>/dev/null &
ph_track_pid $! "socat echo"
ph_relay_node_yaml "$ph_dir/agent.yaml" a "198.51.100.1:$gateway_port" "$PH_GATEWAY_KEY" \
  'services: {echo: "127.0.0.1:7007"}' 'peers:' "$(ph_yaml_peer client c echo)"
ph_relay_node_yaml "$ph_dir/client.yaml" c "203.0.113.1:$gateway_port" "$PH_GATEWAY_KEY" 'peers:' "$(ph_yaml_peer agent a)"
ph_node_up a agent "$ph_dir/agent.yaml"
ph_wait 10 "the agent's channel" grep -q "node agent .* up from" "$ph_dir/gateway.log"
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PH_GATEWAY_PID/status"; }
rss_before=$(rss)

ph_log "2 MiB echoed through the relay while an attacker goes at the gateway"
stream=$(ph_random_file stream 2097152)
ph_rate_limited_cat "$stream" 65536 32 0.25 |
  ph_cli c client connect -c "$ph_dir/client.yaml" agent echo >"$ph_dir/stream.back" 2>"$ph_dir/connect.err" &
connect_pid=$!
ph_wait 15 "the first echoed bytes" ph_file_at_least "$ph_dir/stream.back" 65536

ph_exec x "$(ph_python)" - 192.0.2.1 "$gateway_port" >"$ph_dir/attacker.log" 2>&1 <<'PY' &
import os, socket, struct, sys, threading, time
host, port = sys.argv[1], int(sys.argv[2])

def connection():
    s = socket.create_connection((host, port), timeout=3)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return s

def attack(name, payload, rounds):
    done = 0
    for _ in range(rounds):
        try:
            s = connection()
            s.sendall(payload() if callable(payload) else payload)
            time.sleep(0.01)  # let the gateway read it before our reset
            s.close()
            done += 1
        except OSError:
            pass
        time.sleep(0.02)  # below the per-source rate: these must reach the parsers
    print(f"{name}: {done} connections", flush=True)

def slowloris(count, seconds):
    held = []
    for _ in range(count):
        try:
            held.append(connection())
        except OSError:
            pass
    end = time.time() + seconds
    first = True
    while time.time() < end:
        for s in list(held):
            try:  # a plausible length (108: an initiation), then its bytes one at a time
                s.send(struct.pack(">H", 108) if first else b"\x00")
            except OSError:
                held.remove(s)
        first = False
        time.sleep(0.3)
    print(f"slowloris: {count} opened, {len(held)} still open after {seconds} s", flush=True)

threads = [threading.Thread(target=slowloris, args=(40, 7))]
for t in threads: t.start()
attack("garbage", lambda: os.urandom(2048), 30)
attack("oversized length", b"\xff\xff" + os.urandom(64), 30)
attack("truncated initiation", struct.pack(">H", 108) + os.urandom(50), 30)
attack("random initiations", lambda: struct.pack(">H", 108) + os.urandom(108), 150)
attack("TLS garbage", lambda: b"\x16\x03\x01\x02\x00" + os.urandom(512), 30)
attack("HTTP garbage", b"GET /nonsense HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"a" * 6000 + b"\r\n\r\n", 20)
for t in threads: t.join()
PY
attacker_pid=$!
ph_track_pid "$attacker_pid" "attacker"
wait "$attacker_pid" || true
ph_log "attacker: $(tr '\n' ';' <"$ph_dir/attacker.log")"

wait "$connect_pid" || ph_fail "expected the echo through the relay to finish under attack: $(cat "$ph_dir/connect.err")"
ph_same_bytes "$stream" "$ph_dir/stream.back" "2 MiB echoed through the relay under attack"
kill -0 "$PH_GATEWAY_PID" || ph_fail "expected the gateway to survive the attack: $(tail -n 20 "$ph_dir/gateway.log")"
status=$(ph_gateway_status)
ph_log "$status"
[ "$(ph_gateway_count "failed handshakes")" -ge 150 ] ||
  ph_fail "expected the random initiations to be refused as failed handshakes: $status"
grep -q "malformed message length" "$ph_dir/gateway.log" || ph_fail "expected oversized lengths to be refused as malformed"
ph_wait 10 "the slowloris connections to be cut at the handshake deadline" \
  sh -c "[ \$(grep -c 'no handshake within 5 s' '$ph_dir/gateway.log') -ge 20 ]"
rss_after=$(rss)
[ $((rss_after - rss_before)) -lt 8192 ] ||
  ph_fail "expected the gateway's RSS to grow by less than 8 MiB under attack: $rss_before -> $rss_after KiB"
ph_log "ok: the echo is intact; gateway RSS $rss_before -> $rss_after KiB"
ph_cli c client down -c "$ph_dir/client.yaml" >/dev/null || true
ph_cli a agent down -c "$ph_dir/agent.yaml" >/dev/null
echo "ok: $PH_NAME (${SECONDS}s)"
