#!/usr/bin/python3
"""smtp_sink.py — a real SMTP server for the e2e tests (Debian's
python3-aiosmtpd), so the email receiver is tested against an SMTP
implementation nobody here wrote.

Usage: smtp_sink.py PORT DIR
Listens on 127.0.0.1:PORT; every message accepted is written whole (the
bytes as received after DATA) to DIR/<n>.eml and its envelope to
DIR/<n>.env ("MAIL FROM" line, then one "RCPT TO" line per recipient),
each through a rename so a reader never sees half a file. Runs until
SIGTERM. Exits 2 with a message when aiosmtpd is missing.
"""
import os
import signal
import sys
import threading

try:
    from aiosmtpd.controller import Controller
except ImportError:
    sys.stderr.write("smtp_sink: python3-aiosmtpd is missing (bash scripts/deps.sh)\n")
    sys.exit(2)


class Sink:
    def __init__(self, directory):
        self.dir = directory
        self.n = 0
        self.lock = threading.Lock()

    def _put(self, name, data):
        tmp = os.path.join(self.dir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.dir, name))

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
            n = self.n
        env = "MAIL FROM " + envelope.mail_from + "\n"
        env += "".join("RCPT TO " + r + "\n" for r in envelope.rcpt_tos)
        self._put("%d.env" % n, env.encode())
        self._put("%d.eml" % n, envelope.original_content or envelope.content)
        return "250 OK queued as %d" % n


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: smtp_sink.py PORT DIR\n")
        return 2
    ctl = Controller(Sink(sys.argv[2]), hostname="127.0.0.1", port=int(sys.argv[1]))
    ctl.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print("smtp_sink ready on 127.0.0.1:%s" % sys.argv[1], flush=True)
    done.wait()
    ctl.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
