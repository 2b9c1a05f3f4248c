# Attacks on the frontend over real connections; one case per run, one
# line of output.  Run with /usr/bin/python3 (PyKMIP's).
#
#   frontend.py PORT PKI_DIR CASE [ARGS]
#
#   serve CERT        a Query with pki/CERT.{crt,key} (none: no
#                     certificate): "served", or "closed"
#   slowhello         a ClientHello at one byte a second: seconds until
#                     the frontend closes it ("open" if still open at 20 s)
#   slowpool N        N such ClientHellos, then a real client: seconds
#                     until it is served, or "refused"
#   nonstruct         a top-level Text String, then a Query on the same
#                     connection: the two Result Reasons (0 for success)
#   hugelen           a header declaring 0xfffffff8 bytes: "closed"
#   pipeline N S PIDS N connections pipeline Queries for S seconds
#                     without reading; meanwhile a well-behaved client
#                     queries once a second.  Prints the largest VmHWM of
#                     each of PIDS (kB, comma separated) and the slowest
#                     answer the other client got (s).
#   secret HEX        Register Secret Data holding the marker HEX
import os
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ttlvlib import (enum, read_message, request, result_reason,  # noqa
                     ttlv, TEXT)

port, pki, case = int(sys.argv[1]), sys.argv[2], sys.argv[3]
QUERY = request(0x18, enum(0x420074, 1))


def tls_connect(cert="client", timeout=10):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki + "/ca.crt")
    if cert != "none":
        ctx.load_cert_chain(pki + "/%s.crt" % cert, pki + "/%s.key" % cert)
    ctx.check_hostname = False
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return ctx.wrap_socket(s)


def query(cert="client"):
    """A Query on a new connection: its Result Reason (0: success), or
    None if the connection was refused or closed."""
    try:
        s = tls_connect(cert)
        s.sendall(QUERY)
        r = read_message(s)
        s.close()
    except (OSError, ssl.SSLError):
        return None
    if r is None:
        return None
    return result_reason(r) or 0


def client_hello():
    """The bytes of a real TLS 1.3 ClientHello."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx.wrap_bio(inc, out)
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


class Drip(threading.Thread):
    """A ClientHello sent one byte a second until the server closes."""

    def __init__(self, stop):
        threading.Thread.__init__(self, daemon=True)
        self.stop = stop
        self.closed_after = None
        self.s = socket.create_connection(("127.0.0.1", port), timeout=1)
        self.start_t = time.time()

    def run(self):
        hello = client_hello()
        i = 0
        while not self.stop.is_set():
            try:
                self.s.send(hello[i % len(hello):i % len(hello) + 1])
                i += 1
                try:
                    if self.s.recv(1024) == b"":
                        break
                except socket.timeout:
                    pass
            except OSError:
                break
        else:
            return
        self.closed_after = time.time() - self.start_t


if case == "serve":
    print("closed" if query(sys.argv[4]) is None else "served")
elif case == "slowhello":
    stop = threading.Event()
    d = Drip(stop)
    d.start()
    d.join(20)
    stop.set()
    if d.closed_after is None:
        print("open")
    else:
        print("%.0f" % d.closed_after)
elif case == "slowpool":
    stop = threading.Event()
    drips = []
    for i in range(int(sys.argv[4])):
        drips.append(Drip(stop))
        drips[-1].start()
        time.sleep(0.05)
    time.sleep(1.5)
    t = time.time()
    r = query()
    print("refused" if r != 0 else "%.1f" % (time.time() - t))
    stop.set()
    for d in drips:
        d.s.close()
elif case == "nonstruct":
    s = tls_connect()
    # A Text String of 5 bytes: 8 of header, 5 of value, 3 of padding.
    s.sendall(ttlv(0x420094, TEXT, b"hello") + QUERY)
    got = []
    for i in range(2):
        r = read_message(s)
        got.append("none" if r is None else "%d" % (result_reason(r) or 0))
    print(" ".join(got))
elif case == "hugelen":
    s = tls_connect()
    s.sendall(b"\x42\x00\x78\x01\xff\xff\xff\xf8" + b"\0" * 64)
    print("closed" if read_message(s) is None else "response")
elif case == "pipeline":
    n, secs = int(sys.argv[4]), float(sys.argv[5])
    pids = [int(p) for p in sys.argv[6].split(",")]
    stop = threading.Event()
    batch = QUERY * 64

    def flood():
        try:
            s = tls_connect(timeout=1)
        except OSError:
            return
        while not stop.is_set():
            try:
                s.sendall(batch)
            except (socket.timeout, ssl.SSLError, OSError):
                # The frontend stopped reading: it should.
                if stop.wait(0.5):
                    break
                break
        stop.wait()
        s.close()

    def hwm(pid):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    floods = [threading.Thread(target=flood, daemon=True)
              for i in range(n)]
    for f in floods:
        f.start()
    worst = 0.0
    end = time.time() + secs
    while time.time() < end:
        t = time.time()
        r = query()
        d = time.time() - t if r == 0 else 99.0
        worst = max(worst, d)
        time.sleep(max(0, 1 - d))
    peak = [hwm(p) for p in pids]
    stop.set()
    for f in floods:
        f.join(5)
    print(",".join(str(p) for p in peak), "%.2f" % worst)
    # No interpreter teardown under threads stuck in TLS writes.
    sys.stdout.flush()
    os._exit(0)
elif case == "secret":
    from common import pykmip
    from kmip import enums
    from kmip.pie import objects
    c = pykmip(port, pki)
    marker = bytes.fromhex(sys.argv[4])
    uid = c.register(objects.SecretData(b"secret:" + marker + b":end",
                                        enums.SecretDataType.PASSWORD))
    c.close()
    print("registered" if uid else "failed")
else:
    sys.exit("unknown case " + case)
