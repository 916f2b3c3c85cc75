#!/usr/bin/env bash
# ssh and scp through `pinhole connect` (DESIGN §1: `ssh -o ProxyCommand="pinhole connect ..."`):
# namespace c (the client node, `pinhole up` run by the test) and namespace a (`pinhole agent`
# and an sshd of the test's own on 127.0.0.1:22 with throwaway host and user keys), IPv4
# underlay. The agent's services: ssh (127.0.0.1:22) and web (a web server in a), both allowed
# to the client. ssh, scp and curl run in namespace c.
#   - ssh runs a command on the agent's device through the ProxyCommand;
#   - scp of a 20 MB random file there and back, sha256 compared;
#   - at once through the same client node: two scp runs (one each way) and curl through a
#     `pinhole forward`; all succeed and every byte matches;
#   - `pinhole down` stops the node that `pinhole up` runs (it exits 0).
set -euo pipefail
PH_NAME=client_ssh
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
for tool in ssh scp ssh-keygen curl; do
  command -v "$tool" >/dev/null || ph_skip "needs $tool (scripts/bootstrap installs openssh-client, curl)"
done
ph_require_commands connect forward

readonly file_bytes=$((20 * 1000 * 1000))

ph_netns_add c
ph_netns_add a
ph_veth c a
ph_addr c to-a 198.51.100.1/24
ph_addr a to-c 198.51.100.2/24
ph_key c
ph_key a
c6=$(ph_overlay6 c)
a6=$(ph_overlay6 a)
ph_log "client $c6 (namespace c), agent $a6 (namespace a)"

ph_sshd_start a
ph_http_server a web 127.0.0.1 8080
ph_agent_yaml "$ph_dir/agent.yaml" --key a --port 51821 \
  --service ssh=127.0.0.1:22 --service web=127.0.0.1:8080 \
  --peer client --pub c --allowed "$c6/128" --allow ssh --allow web
ph_agent_yaml "$ph_dir/client.yaml" --key c --port 51820 \
  --peer agent --pub a --endpoint 198.51.100.2:51821 --allowed "$a6/128"
ph_agent_start a agent "$ph_dir/agent.yaml"
ph_node_up c client "$ph_dir/client.yaml"
ph_log "client node: pinhole up (pid $PH_UP_PID_client), control socket $(basename "$(ph_control_socket client)")"

proxy_command="$ph_pinhole connect -c $ph_dir/client.yaml agent ssh"
ssh_options=(-F /dev/null -i "$ph_dir/user_key" -o "ProxyCommand=$proxy_command"
  -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR
  -o ConnectTimeout=15)
# ph_in_client COMMAND...: in namespace c, attached to the client node, at most 60 s.
ph_in_client() {
  ip netns exec "$(ph_ns c)" env PINHOLE_CONTROL_DIR="$(ph_control_dir client)" timeout 60 "$@"
}

ph_log "ssh -o ProxyCommand=\"pinhole connect -c client.yaml agent ssh\" root@agent"
# shellcheck disable=SC2016  # expanded on the agent's side
ph_in_client ssh "${ssh_options[@]}" root@agent 'echo "hello from $(hostname) as $(id -un)"' \
  >"$ph_dir/ssh.out" 2>"$ph_dir/ssh.err" ||
  ph_fail "expected ssh through 'pinhole connect' to run a command: status $?: $(cat "$ph_dir/ssh.err")"
grep -q '^hello from .* as root$' "$ph_dir/ssh.out" ||
  ph_fail "expected the remote command's output, got: $(cat "$ph_dir/ssh.out")"
ph_log "ssh: ok: $(cat "$ph_dir/ssh.out")"
ph_in_client ssh "${ssh_options[@]}" root@agent true 2>"$ph_dir/ssh.err" ||
  ph_fail "expected 'ssh ... true' to exit 0: $(cat "$ph_dir/ssh.err")"

# ph_scp NAME FROM TO: scp in namespace c (FROM or TO is root@agent:PATH); status in scp-NAME.status.
ph_scp() {
  local name=$1 from=$2 to=$3 status=0
  ph_in_client scp -q "${ssh_options[@]}" "$from" "$to" 2>"$ph_dir/scp-$name.err" || status=$?
  echo "$status" >"$ph_dir/scp-$name.status"
  return "$status"
}
ph_expect_scp() {
  local name=$1 start=$SECONDS
  ph_scp "$@" || ph_fail "expected scp $name ($2 -> $3) to succeed: status $(cat "$ph_dir/scp-$name.status"): $(cat "$ph_dir/scp-$name.err")"
  ph_log "scp $name: ok ($((SECONDS - start)) s)"
}

ph_log "scp $file_bytes random bytes to the agent's device and back"
up=$(ph_random_file up.bin "$file_bytes")
ph_expect_scp up "$up" "root@agent:$ph_dir/up.remote"
ph_same_bytes "$up" "$ph_dir/up.remote" "scp to the agent"
ph_expect_scp down "root@agent:$ph_dir/up.remote" "$ph_dir/up.back"
ph_same_bytes "$up" "$ph_dir/up.back" "scp from the agent"
ph_log "scp both ways: byte-identical"

ph_log "at once through the same client node: scp up, scp down and curl through a forward"
ph_forward_start c client web "$ph_dir/client.yaml" agent 18080 web
up2=$(ph_random_file up2.bin "$file_bytes")
down2=$(ph_random_file down2.remote "$file_bytes")
ph_scp up2 "$up2" "root@agent:$ph_dir/up2.remote" &
scp_up_pid=$!
ph_scp down2 "root@agent:$down2" "$ph_dir/down2.back" &
scp_down_pid=$!
curl_failures=0
for i in 1 2 3 4 5 6 7 8 9 10; do
  if ! ip netns exec "$(ph_ns c)" curl -sS --max-time 15 -o "$ph_dir/curl-$i.out" http://127.0.0.1:18080/ \
    2>"$ph_dir/curl-$i.err" || ! cmp -s "$(ph_page web)" "$ph_dir/curl-$i.out"; then
    curl_failures=$((curl_failures + 1))
    ph_log "curl $i during the transfers failed: $(cat "$ph_dir/curl-$i.err")"
  fi
  sleep 0.1
done
wait "$scp_up_pid" || true
wait "$scp_down_pid" || true
for name in up2 down2; do
  [ "$(cat "$ph_dir/scp-$name.status")" = 0 ] ||
    ph_fail "expected the concurrent scp $name to succeed: status $(cat "$ph_dir/scp-$name.status"): $(cat "$ph_dir/scp-$name.err")"
done
ph_same_bytes "$up2" "$ph_dir/up2.remote" "concurrent scp to the agent"
ph_same_bytes "$down2" "$ph_dir/down2.back" "concurrent scp from the agent"
[ $curl_failures -eq 0 ] || ph_fail "expected every curl through the forward during the transfers to fetch the page; $curl_failures of 10 did not"
ph_log "concurrent: both scp byte-identical, 10 of 10 pages through the forward"

ph_forward_stop c web 18080
ph_cli c client status -c "$ph_dir/client.yaml" >"$ph_dir/status.out" 2>&1 ||
  ph_fail "expected 'pinhole status' to succeed: $(cat "$ph_dir/status.out")"
ph_log "pinhole status:"
sed 's/^/    /' "$ph_dir/status.out"
ph_cli c client down -c "$ph_dir/client.yaml" >"$ph_dir/down.out" 2>&1 ||
  ph_fail "expected 'pinhole down' to succeed: $(cat "$ph_dir/down.out")"
ph_wait 5 "'pinhole up' to exit after 'pinhole down'" ph_not kill -0 "$PH_UP_PID_client"
status=0
wait "$PH_UP_PID_client" || status=$?
ph_forget_pid "$PH_UP_PID_client"
[ $status -eq 0 ] || ph_fail "expected 'pinhole up' to exit 0 after 'pinhole down', got status $status"
ph_log "pinhole down: 'pinhole up' exited 0"
ph_agent_stop agent
echo "ok: $PH_NAME (${SECONDS}s)"
