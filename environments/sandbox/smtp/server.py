"""The sandbox's SMTP server: Debian's aiosmtpd, discarding every message.

Run by tools/sandbox/smtp.cpp as `/usr/bin/python3 server.py PORT [CERT KEY]`. With a
certificate it offers STARTTLS (RFC 3207) with a modern policy (TLS 1.2+, AEAD suites with
forward secrecy only): aiosmtpd's command line would use Python's default server ciphers, which
still include CBC suites. Without one it offers no STARTTLS at all.
"""
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink


def main():
    port = int(sys.argv[1])
    tls_context = None
    if len(sys.argv) == 4:
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.minimum_version = ssl.TLSVersion.TLSv1_2
        tls_context.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
        tls_context.load_cert_chain(sys.argv[2], sys.argv[3])
    controller = Controller(Sink(), hostname="127.0.0.1", port=port, tls_context=tls_context,
                            require_starttls=tls_context is not None)
    controller.start()  # raises (address in use) before we report readiness by accepting
    print(f"listening on 127.0.0.1:{port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
