#!/usr/bin/python3
"""Answer every DNS query with NXDOMAIN, at once.

Each lab host's engine uses this as its only upstream resolver: Docker
20.10's embedded DNS waits 10-20 s for an upstream that never replies, which
turns every lookup of a vanished task into a long stall. Nothing is ever
forwarded: the lab must not send traffic off the machine.
"""
import argparse
import socket
import struct
import sys
import time


def question_end(msg):
    """Offset just past the first question, or None when it cannot be parsed."""
    pos = 12
    while pos < len(msg):
        length = msg[pos]
        if length == 0:
            pos += 1
            return pos + 4 if pos + 4 <= len(msg) else None
        if length & 0xC0:
            return None
        pos += 1 + length
    return None


def nxdomain(query):
    if len(query) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", query[:6])
    if flags & 0x8000:
        return None  # a response, not a query
    opcode = flags & 0x7800
    rd = flags & 0x0100
    end = question_end(query) if qdcount >= 1 else None
    if end is None:
        # FORMERR without a question section
        return struct.pack("!HHHHHH", ident, 0x8000 | opcode | rd | 0x0080 | 1, 0, 0, 0, 0)
    return struct.pack("!HHHHHH", ident, 0x8000 | opcode | rd | 0x0080 | 3, 1, 0, 0, 0) + query[12:end]


def serve(addr, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((addr, port))
    while True:
        try:
            data, peer = sock.recvfrom(4096)
            reply = nxdomain(data)
            if reply:
                sock.sendto(reply, peer)
        except OSError:
            continue


def probe(addr, port):
    """Exit 0 when the responder answers NXDOMAIN within one second."""
    query = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    query += b"\x05probe\x0apilothouse\x03lab\x00" + struct.pack("!HH", 1, 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(1.0)
    start = time.monotonic()
    try:
        sock.sendto(query, (addr, port))
        data, _ = sock.recvfrom(4096)
    except OSError as exc:
        print(f"nxdns probe {addr}:{port}: {exc}", file=sys.stderr)
        return 1
    ok = len(data) >= 12 and data[:2] == b"\x42\x42" and (data[3] & 0x0F) == 3
    print(f"nxdns probe {addr}:{port}: {'NXDOMAIN' if ok else 'bad answer'} in {1000 * (time.monotonic() - start):.1f} ms")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--tag", default="", help="lab host name, to recognise the process")
    ap.add_argument("--probe", action="store_true")
    args = ap.parse_args()
    if args.probe:
        return probe(args.listen, args.port)
    serve(args.listen, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
