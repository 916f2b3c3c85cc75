#!/usr/bin/env python3
"""A SOCKS5 UDP ASSOCIATE client (RFC 1928 section 7) for the tests: through the proxy at
PROXY_HOST:PROXY_PORT, sends each MESSAGE to TARGET_HOST:TARGET_PORT (an IP address) and prints
what comes back, one line per reply, with the address the reply header names. Exit status 0 when
every message came back, 1 otherwise."""
import ipaddress
import socket
import struct
import sys


def socks_address(host, port):
    address = ipaddress.ip_address(host)
    kind = 1 if address.version == 4 else 4
    return bytes([kind]) + address.packed + struct.pack(">H", port)


def read_exact(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise SystemExit("the proxy closed the connection")
        data += chunk
    return data


def associate(proxy_host, proxy_port):
    control = socket.create_connection((proxy_host, proxy_port), timeout=5)
    control.sendall(b"\x05\x01\x00")
    if read_exact(control, 2) != b"\x05\x00":
        raise SystemExit("the proxy wants authentication")
    control.sendall(b"\x05\x03\x00" + socks_address("0.0.0.0", 0))
    head = read_exact(control, 4)
    if head[1] != 0:
        raise SystemExit(f"UDP ASSOCIATE refused with reply code {head[1]}")
    length = {1: 4, 4: 16}[head[3]]
    bound = read_exact(control, length + 2)
    host = str(ipaddress.ip_address(bound[:length]))
    port = struct.unpack(">H", bound[length:])[0]
    if host in ("0.0.0.0", "::"):
        host = proxy_host
    return control, (host, port)


def main():
    proxy_host, proxy_port, target_host, target_port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    messages = [m.encode() for m in sys.argv[5:]]
    control, relay = associate(proxy_host, proxy_port)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.settimeout(3)
    header = b"\x00\x00\x00" + socks_address(target_host, target_port)
    missing = 0
    for message in messages:
        for _attempt in range(3):  # UDP: the first datagram may race the flow's setup
            udp.sendto(header + message, relay)
            try:
                reply, _ = udp.recvfrom(65535)
                break
            except socket.timeout:
                reply = None
        if reply is None or reply[3] not in (1, 4):
            missing += 1
            continue
        length = 4 if reply[3] == 1 else 16
        source = str(ipaddress.ip_address(reply[4:4 + length]))
        source_port = struct.unpack(">H", reply[4 + length:6 + length])[0]
        print(f"{source}:{source_port} {reply[6 + length:].decode(errors='replace')}")
        missing += reply[6 + length:] != message
    control.close()
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
