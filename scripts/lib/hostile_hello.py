#!/usr/bin/env python3
"""Raw TLS ClientHellos for scripts/bench-hostile-hello.sh (not a TLS client: nothing after the hello).

  hostile_hello.py backend PORT            accept on 127.0.0.1:PORT, read and discard, hold every
                                           connection until it closes; prints "listening"
  hostile_hello.py client PORT KIND N HOLD open N connections to 127.0.0.1:PORT, send one hello
                                           of KIND on each, print "opened N", then (HOLD=1) keep
                                           them open until stdin closes, or (HOLD=0) close them
  hostile_hello.py size KIND               print the hello's size in bytes (records included)

KIND: normal  a browser-like hello (SNI, h2/http1.1, 16 suites, 4 groups, 9 signature algorithms)
      alpn2   16 KiB of 2-byte ALPN names (5461 names)
      alpn1   16 KiB of 1-byte ALPN names (8192 names)
      kitchen everything at once: 253-character SNI, 16 KiB of 1-byte ALPN names, 2000 cipher
              suites, 2000 groups, 2000 signature algorithms, 1000 empty extensions (32.9 KB,
              three records)
Env HELLO_PACE_MS: pause between new connections (default 0).
Bounded: N connections, each sends one hello; nothing loops without a count.
"""
import asyncio
import os
import socket
import struct
import sys
import time


def vec16(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


def ext(kind: int, data: bytes) -> bytes:
    return struct.pack("!HH", kind, len(data)) + data


def u16s(values) -> bytes:
    return b"".join(struct.pack("!H", v) for v in values)


def long_host() -> str:
    labels, length = [], -1
    while length + 1 + 63 <= 253:
        labels.append("a" * 63)
        length += 64
    rest = 253 - length - 1
    if rest > 0:
        labels.append("b" * rest)
    return ".".join(labels)


def hello(kind: str) -> bytes:
    sni = "bench.test"
    suites = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013,
              0xC014, 0x009C, 0x009D, 0x002F, 0x0035, 0x00FF]
    groups = [29, 23, 24, 25]
    sigalgs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201]
    alpn = [b"h2", b"http/1.1"]
    extra = []
    if kind == "alpn2":
        alpn = [bytes([0x61 + i % 26, 0x61 + i // 26 % 26]) for i in range(16384 // 3)]
    elif kind == "alpn1":
        alpn = [bytes([0x21 + i % 94]) for i in range(16384 // 2)]
    elif kind == "kitchen":
        sni = long_host()
        alpn = [bytes([0x21 + i % 94]) for i in range(16384 // 2)]
        suites = [0x0a00 + i for i in range(2000)] + suites
        groups = [0x0200 + i for i in range(2000)] + groups
        sigalgs = [0x0a00 + i for i in range(2000)] + sigalgs
        extra = [0x4000 + i for i in range(1000)]
    elif kind != "normal":
        raise SystemExit("unknown hello kind: " + kind)
    exts = ext(0, vec16(b"\x00" + vec16(sni.encode("ascii"))))
    exts += ext(10, vec16(u16s(groups)))
    exts += ext(11, b"\x01\x00")
    exts += ext(13, vec16(u16s(sigalgs)))
    exts += ext(16, vec16(b"".join(bytes([len(n)]) + n for n in alpn)))
    exts += ext(43, bytes([4]) + u16s([0x0304, 0x0303]))
    exts += ext(45, b"\x01\x01")
    exts += ext(51, vec16(struct.pack("!HH", 29, 32) + os.urandom(32)))
    for kind_number in extra:
        exts += ext(kind_number, b"")
    body = (struct.pack("!H", 0x0303) + os.urandom(32) + bytes([32]) + os.urandom(32)
            + vec16(u16s(suites)) + b"\x01\x00" + vec16(exts))
    message = b"\x01" + len(body).to_bytes(3, "big") + body
    records = b""
    for i in range(0, len(message), 16384):
        chunk = message[i:i + 16384]
        records += b"\x16\x03\x01" + struct.pack("!H", len(chunk)) + chunk
    return records


async def backend(port: int) -> None:
    async def handle(reader, writer):
        try:
            while await reader.read(65536):
                pass
        except ConnectionError:
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


def client(port: int, kind: str, count: int, hold: bool) -> None:
    data = hello(kind)
    pace = float(os.environ.get("HELLO_PACE_MS", "0")) / 1000
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(data)
        sockets.append(s)
        if pace > 0:
            time.sleep(pace)
    print("opened", len(sockets), flush=True)
    if hold:
        sys.stdin.read()  # until the script closes our stdin
    for s in sockets:
        s.close()


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["backend"] and len(args) == 2:
        asyncio.run(backend(int(args[1])))
    elif args[:1] == ["client"] and len(args) == 5:
        client(int(args[1]), args[2], int(args[3]), args[4] == "1")
    elif args[:1] == ["size"] and len(args) == 2:
        print(len(hello(args[1])))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
