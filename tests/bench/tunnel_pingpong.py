#!/usr/bin/env python3
"""The 64-byte TCP ping-pong of `scripts/bench tunnel` (tests/bench/tunnel_bench.sh), one tool for
every transport so the rows compare.

  tunnel_pingpong.py serve PORT
      an echo server on 0.0.0.0:PORT (a thread per connection, TCP_NODELAY), until killed
  tunnel_pingpong.py ping HOST PORT COUNT WARMUP
      one connection, TCP_NODELAY; WARMUP round trips, then COUNT timed ones of 64 bytes each
      (send 64, read until 64 are back); prints "MEDIAN P99" in microseconds
  tunnel_pingpong.py hold HOST PORT N READY_FILE
      opens N connections, one 64-byte round trip on each (so every stream is open end to end),
      writes READY_FILE, then holds them idle until killed (SIGTERM closes them)
"""
import os
import signal
import socket
import sys
import threading
import time

MESSAGE = b"p" * 64


def serve(port):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(128)

    def echo(connection):
        with connection:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                try:
                    data = connection.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                try:
                    connection.sendall(data)
                except OSError:
                    return

    while True:
        connection, _ = listener.accept()
        threading.Thread(target=echo, args=(connection,), daemon=True).start()


def round_trip(sock):
    start = time.perf_counter_ns()
    sock.sendall(MESSAGE)
    got = 0
    while got < len(MESSAGE):
        chunk = sock.recv(len(MESSAGE) - got)
        if not chunk:
            sys.exit("ping: the echo closed the connection")
        got += len(chunk)
    return (time.perf_counter_ns() - start) / 1000.0


def ping(host, port, count, warmup):
    sock = socket.create_connection((host, port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for _ in range(warmup):
        round_trip(sock)
    samples = sorted(round_trip(sock) for _ in range(count))
    sock.close()
    p99 = samples[min(len(samples) - 1, len(samples) * 99 // 100)]
    print("%.1f %.1f" % (samples[len(samples) // 2], p99))


def hold(host, port, n, ready_file):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sockets = []
    for _ in range(n):
        sock = socket.create_connection((host, port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        round_trip(sock)
        sockets.append(sock)
    with open(ready_file + ".tmp", "w") as f:
        f.write("%d\n" % len(sockets))
    os.rename(ready_file + ".tmp", ready_file)
    while True:
        signal.pause()


def main(argv):
    if len(argv) == 3 and argv[1] == "serve":
        serve(int(argv[2]))
    elif len(argv) == 6 and argv[1] == "ping":
        ping(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif len(argv) == 6 and argv[1] == "hold":
        hold(argv[2], int(argv[3]), int(argv[4]), argv[5])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
