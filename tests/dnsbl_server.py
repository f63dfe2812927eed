#!/usr/bin/python3
"""dnsbl_server.py — a real DNS server for the blocklist e2e tests (Debian's
python3-dnslib encodes and decodes the packets), serving a test zone that
the test changes while the daemon runs.

Usage: dnsbl_server.py PORT ZONEFILE
Answers UDP queries on 127.0.0.1:PORT from ZONEFILE, read again at every
query (the test rewrites it through a rename). Each line is
    NAME A ADDRESS        e.g. 10.2.0.192.bl.test A 127.0.0.2
    NAME TXT TEXT...      e.g. 10.2.0.192.bl.test TXT listed for testing
    NAME RCODE CODE       e.g. 10.2.0.192.bl.test RCODE SERVFAIL
A name without lines is NXDOMAIN; a name with lines but none of the
asked type is NOERROR without answers. Runs until SIGTERM. Exits 2 with a
message when dnslib is missing.
"""
import signal
import socket
import sys

try:
    from dnslib import A, QTYPE, RCODE, RR, TXT, DNSRecord
except ImportError:
    sys.stderr.write("dnsbl_server: python3-dnslib is missing (bash scripts/deps.sh)\n")
    sys.exit(2)


def load(path):
    zone = {}
    try:
        with open(path) as f:
            for line in f:
                parts = line.split(None, 2)
                if len(parts) == 3:
                    zone.setdefault(parts[0].rstrip(".").lower(), []).append(
                        (parts[1].upper(), parts[2].strip()))
    except FileNotFoundError:
        pass
    return zone


def answer(data, path):
    q = DNSRecord.parse(data)
    r = q.reply()
    name = str(q.q.qname).rstrip(".").lower()
    rows = load(path).get(name)
    if rows is None:
        r.header.rcode = RCODE.NXDOMAIN
        return r.pack()
    for kind, value in rows:
        if kind == "RCODE":
            r.header.rcode = getattr(RCODE, value)
            return r.pack()
        if kind == "A" and q.q.qtype == QTYPE.A:
            r.add_answer(RR(q.q.qname, QTYPE.A, rdata=A(value), ttl=0))
        if kind == "TXT" and q.q.qtype == QTYPE.TXT:
            r.add_answer(RR(q.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=0))
    return r.pack()


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    print("dnsbl_server: listening on 127.0.0.1:%d" % port, flush=True)
    while True:
        data, peer = s.recvfrom(4096)
        try:
            s.sendto(answer(data, path), peer)
        except Exception as e:  # a packet dnslib cannot read: no answer, as a lost one
            sys.stderr.write("dnsbl_server: %s\n" % e)


if __name__ == "__main__":
    main()
