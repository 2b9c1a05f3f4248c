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
#   sockopt PID       a Query on a connection kept open, then that
#                     connection's socket in process PID (the frontend)
#                     is borrowed with pidfd_getfd(2): "nodelay N
#                     tickets M", TCP_NODELAY there and the number of
#                     TLS 1.3 session tickets the client got
#   stalled N S HSM PIDS
#                     the signer HSM is stopped; N connections pipeline
#                     60 KB Sign requests for S seconds; then the signer
#                     goes on.  Prints the largest VmHWM of PIDS (kB) and
#                     the seconds until a new client is served after that
import os
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ttlvlib import (attribute, data, enum, find, first, parse,  # noqa
                     read_message, request, result_reason, structure,
                     text, ttlv, TEXT)

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


def hwm(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def call(s, op, payload):
    """One operation: its Result Status and response payload."""
    s.sendall(request(op, payload))
    it = first(parse(read_message(s))[0][2], 0x42000f)
    return first(it, 0x42007f), first(it, 0x42007c)


def flood(stop, msg):
    """Send msg over and over on a new connection until the frontend
    stops reading (or stop is set); keep the connection until stop."""
    try:
        s = tls_connect(timeout=1)
    except OSError:
        return
    while not stop.is_set():
        try:
            s.sendall(msg)
        except (socket.timeout, ssl.SSLError, OSError):
            break		# the frontend stopped reading: it should
    stop.wait()
    s.close()


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


def peer_socket(pid, port):
    """The descriptor number in process pid of its TCP socket whose peer
    is 127.0.0.1:port."""
    inodes = set()
    with open("/proc/%d/net/tcp" % pid) as f:
        for line in f.readlines()[1:]:
            w = line.split()
            if w[2] == "0100007F:%04X" % port:
                inodes.add("socket:[%s]" % w[9])
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) in inodes:
                return int(fd)
        except OSError:
            pass
    return None


def borrow_fd(pid, fd):
    """A copy of descriptor fd of process pid (pidfd_getfd, Linux 5.6)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        r = libc.syscall(438, pidfd, fd, 0)     # SYS_pidfd_getfd
        if r < 0:
            raise OSError(ctypes.get_errno(), "pidfd_getfd")
        return r
    finally:
        os.close(pidfd)


def sockopt(pid):
    tickets = []
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki + "/ca.crt")
    ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")
    ctx.check_hostname = False
    ctx._msg_callback = lambda conn, direction, v, ct, mt, d: \
        tickets.append(1) if (direction == "read" and
                              mt == ssl._TLSMessageType.NEWSESSION_TICKET) \
        else None
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port),
                                                 timeout=10))
    s.sendall(QUERY)
    read_message(s)
    fd = peer_socket(pid, s.getsockname()[1])
    if fd is None:
        return "no socket"
    dup = borrow_fd(pid, fd)
    try:
        x = socket.socket(fileno=dup)
        nd = x.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        x.close()
    except OSError:
        os.close(dup)
        raise
    s.close()
    return "nodelay %d tickets %d" % (1 if nd else 0, len(tickets))


if case == "serve":
    print("closed" if query(sys.argv[4]) is None else "served")
elif case == "sockopt":
    print(sockopt(int(sys.argv[4])))
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
    floods = [threading.Thread(target=flood, args=(stop, QUERY * 64),
                               daemon=True) for i in range(n)]
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
elif case == "stalled":
    import signal
    n, secs, hsm = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
    pids = [int(p) for p in sys.argv[7].split(",")]
    s = tls_connect()
    st, p = call(s, 0x02, structure(0x42001f, attribute(
        "Cryptographic Algorithm", enum(0x42000b, 0x37))))
    priv = first(p, 0x420066)
    if st != 0 or call(s, 0x12, text(0x420094, priv))[0] != 0:
        sys.exit("cannot make an Ed25519 key")
    s.close()
    sign = request(0x21, text(0x420094, priv) + data(0x4200c2,
                                                      b"x" * 60000))
    os.kill(hsm, signal.SIGSTOP)
    stop = threading.Event()
    floods = [threading.Thread(target=flood, args=(stop, sign),
                               daemon=True) for i in range(n)]
    try:
        for f in floods:
            f.start()
        time.sleep(secs)
        peak = [hwm(p) for p in pids]
    finally:
        os.kill(hsm, signal.SIGCONT)
    t = time.time()
    r = None
    while r != 0 and time.time() - t < 30:
        r = query()
    took = time.time() - t if r == 0 else 99.0
    stop.set()
    for f in floods:
        f.join(5)
    print(",".join(str(p) for p in peak), "%.2f" % took)
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
