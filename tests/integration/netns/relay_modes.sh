#!/usr/bin/env bash
# Every client mode through the gateway's relay, and the gateway sees only ciphertext (issue 8,
# item 8). Three namespaces: the gateway (g) with a TCP path to the agent (a) and to the client
# node (c); a and c have no route to each other, so everything goes client -> gateway -> agent.
#   - `pinhole forward` + curl of a page;
#   - `pinhole connect` as ssh's ProxyCommand to a throwaway sshd behind the agent: a command,
#     then scp of a few MB there and back (sha256);
#   - `pinhole connect` to an echo service (a stream echoed back);
#   - iperf3 both ways through a forward (3 s each; rates printed, not asserted).
# A random marker travels through the page, the ssh session, the scp'd file and the echo stream:
# the client gets it every time, yet it is in neither what the gateway decrypted (its test-only
# dump of every relay frame, PINHOLE_GATEWAY_FRAME_DUMP) nor a capture of its sockets (tcpdump
# in g), while both of those did see the traffic.
set -euo pipefail
PH_NAME=relay_modes
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
for tool in curl iperf3 ssh scp ssh-keygen tcpdump; do
  command -v "$tool" >/dev/null || ph_skip "needs $tool (scripts/bootstrap installs it)"
done

readonly gateway_port=8443 file_bytes=$((4 * 1000 * 1000))
marker=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
readonly marker

ph_relay_topology
ph_key a
ph_key c
ph_exec c ip route get 198.51.100.2 >/dev/null 2>&1 && ph_fail "expected no route from the client's namespace to the agent's"

ph_log "capture on the gateway's sockets (tcpdump -i any in g), the gateway with its frame dump"
ip netns exec "$(ph_ns g)" tcpdump -i any -U -s 0 -w "$ph_dir/gateway.pcap" "tcp port $gateway_port" \
  2>"$ph_dir/tcpdump.log" &
tcpdump_pid=$!
ph_track_pid "$tcpdump_pid" tcpdump
ph_wait 10 "tcpdump to start capturing in $(ph_ns g)" grep -q "listening on" "$ph_dir/tcpdump.log"
ph_gateway_init g
printf '%s agent reach=client\n%s client reach=agent\n' "$(ph_pub a)" "$(ph_pub c)" >"$ph_dir/gateway_keys"
ph_gateway_start g "$gateway_port" "$ph_dir/gateway_keys" PINHOLE_GATEWAY_FRAME_DUMP="$ph_dir/frames.bin"

ph_log "agent: services web (a page holding the marker), ssh, echo and iperf; no endpoint for its peer"
ph_http_server a web 127.0.0.1 8080
printf '<p>marker %s</p>\n' "$marker" >>"$(ph_page web)"
ph_sshd_start a
ip netns exec "$(ph_ns a)" socat TCP4-LISTEN:7007,bind=127.0.0.1,fork,reuseaddr EXEC:cat 2>/dev/null &
ph_track_pid $! "socat echo"
ip netns exec "$(ph_ns a)" iperf3 -s -B 127.0.0.1 -p 5201 >"$ph_dir/iperf3-server.log" 2>&1 &
ph_track_pid $! "iperf3 server"
ph_wait 5 "the echo and iperf3 servers in $(ph_ns a)" sh -c \
  "ip netns exec '$(ph_ns a)' ss -Hltn 'sport = :7007' | grep -q . && ip netns exec '$(ph_ns a)' ss -Hltn 'sport = :5201' | grep -q ."
ph_relay_node_yaml "$ph_dir/agent.yaml" a "198.51.100.1:$gateway_port" "$PH_GATEWAY_KEY" \
  'services: {web: "127.0.0.1:8080", ssh: "127.0.0.1:22", echo: "127.0.0.1:7007", iperf: "127.0.0.1:5201"}' \
  'peers:' "$(ph_yaml_peer client c 'web, ssh, echo, iperf')"
ph_relay_node_yaml "$ph_dir/client.yaml" c "203.0.113.1:$gateway_port" "$PH_GATEWAY_KEY" \
  'peers:' "$(ph_yaml_peer agent a)"
ph_node_up a agent "$ph_dir/agent.yaml"
ph_wait 10 "the gateway to log the agent's channel" grep -q "node agent .* up from" "$ph_dir/gateway.log"

ph_log "forward + curl: the page with the marker"
ph_forward_start c client web "$ph_dir/client.yaml" agent 18080 web
ph_expect_page c http://127.0.0.1:18080/ "$(ph_page web)"
grep -qF "$marker" "$ph_dir/curl.out" || ph_fail "expected the page fetched through the relay to hold the marker"
ph_forward_stop c web 18080

ph_log "ssh through 'pinhole connect' (ProxyCommand): a command echoing the marker"
ssh_options=(-F /dev/null -i "$ph_dir/user_key" -o "ProxyCommand=$ph_pinhole connect -c $ph_dir/client.yaml agent ssh"
  -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR
  -o ConnectTimeout=15)
in_client() { ip netns exec "$(ph_ns c)" env PINHOLE_CONTROL_DIR="$(ph_control_dir client)" timeout 60 "$@"; }
in_client ssh "${ssh_options[@]}" root@agent "echo marker $marker from \$(id -un)" >"$ph_dir/ssh.out" 2>"$ph_dir/ssh.err" ||
  ph_fail "expected ssh through the relay to run a command: $(cat "$ph_dir/ssh.err")"
grep -qx "marker $marker from root" "$ph_dir/ssh.out" || ph_fail "expected the remote command's output with the marker, got: $(cat "$ph_dir/ssh.out")"
ph_log "ssh: ok: $(cat "$ph_dir/ssh.out")"

ph_log "scp of $file_bytes bytes (the marker inside) to the agent's device and back"
up=$(ph_random_file up.bin "$file_bytes")
printf '%s' "$marker" | dd of="$up" bs=1 seek=$((file_bytes / 2)) conv=notrunc status=none
in_client scp -q "${ssh_options[@]}" "$up" "root@agent:$ph_dir/up.remote" 2>"$ph_dir/scp.err" ||
  ph_fail "expected scp to the agent through the relay to succeed: $(cat "$ph_dir/scp.err")"
ph_same_bytes "$up" "$ph_dir/up.remote" "scp to the agent"
in_client scp -q "${ssh_options[@]}" "root@agent:$ph_dir/up.remote" "$ph_dir/up.back" 2>"$ph_dir/scp.err" ||
  ph_fail "expected scp from the agent through the relay to succeed: $(cat "$ph_dir/scp.err")"
ph_same_bytes "$up" "$ph_dir/up.back" "scp from the agent"
grep -qaF "$marker" "$ph_dir/up.back" || ph_fail "expected the file scp'd back to hold the marker"
ph_log "scp both ways: byte-identical"

ph_log "connect to the echo service: the marker echoed back"
printf 'marker %s\n' "$marker" | in_client "$ph_pinhole" connect -c "$ph_dir/client.yaml" agent echo \
  >"$ph_dir/echo.out" 2>"$ph_dir/echo.err" || ph_fail "expected 'pinhole connect agent echo' to finish: $(cat "$ph_dir/echo.err")"
grep -qx "marker $marker" "$ph_dir/echo.out" || ph_fail "expected the marker echoed back, got: $(head -c 200 "$ph_dir/echo.out")"
ph_log "echo: ok: the marker came back"

ph_log "the gateway saw only ciphertext"
ph_stop_pid "$tcpdump_pid" || true
packets=$(tcpdump -nr "$ph_dir/gateway.pcap" 2>/dev/null | wc -l)
[ "$packets" -ge 100 ] || ph_fail "expected the capture in g to hold the relayed traffic, it has $packets packets"
[ -s "$ph_dir/frames.bin" ] || ph_fail "expected the gateway's frame dump $ph_dir/frames.bin to hold the frames it decrypted"
for file in frames.bin gateway.pcap; do
  count=$(grep -acF "$marker" "$ph_dir/$file" || true)
  [ "$count" -eq 0 ] || ph_fail "the marker is in $file ($count lines): the gateway saw plaintext"
done
ph_log "ok: the marker is in neither the gateway's decrypted frames ($(wc -c <"$ph_dir/frames.bin") bytes) nor its capture ($packets packets, $(wc -c <"$ph_dir/gateway.pcap") bytes)"

ph_log "iperf3 through a forward to the service iperf, 3 s each way"
ph_forward_start c client iperf "$ph_dir/client.yaml" agent 15201 iperf
for direction in send receive; do
  args=()
  [ $direction = send ] || args=(-R)
  timeout 30 ip netns exec "$(ph_ns c)" iperf3 -c 127.0.0.1 -p 15201 -t 3 -f m "${args[@]}" \
    >"$ph_dir/iperf3-$direction.out" 2>&1 ||
    ph_fail "expected iperf3 ($direction) through the relay to finish: $(tail -n 5 "$ph_dir/iperf3-$direction.out")"
  ph_log "iperf3 $direction: $(grep -E 'receiver$' "$ph_dir/iperf3-$direction.out" | awk '{ print $7, $8 }')"
done
ph_forward_stop c iperf 15201
ph_log "$(ph_gateway_status)"

ph_cli c client down -c "$ph_dir/client.yaml" >/dev/null
ph_cli a agent down -c "$ph_dir/agent.yaml" >/dev/null
echo "ok: $PH_NAME (${SECONDS}s)"
