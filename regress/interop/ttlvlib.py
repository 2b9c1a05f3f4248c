# Hand-built KMIP TTLV for the interop scripts: exact message shapes of
# real clients, and a small parser for the answers.
import socket
import ssl
import struct

STRUCT, INT, LONG, BIGINT, ENUM, BOOL, TEXT, BYTES, DATE = 1, 2, 3, 4, 5, 6, \
    7, 8, 9


def ttlv(tag, typ, value):
    pad = (8 - len(value) % 8) % 8
    return struct.pack(">I", tag)[1:] + bytes([typ]) + \
        struct.pack(">I", len(value)) + value + b"\0" * pad


def structure(tag, *items):
    return ttlv(tag, STRUCT, b"".join(items))


def integer(tag, v):
    return ttlv(tag, INT, struct.pack(">i", v))


def enum(tag, v):
    return ttlv(tag, ENUM, struct.pack(">I", v))


def text(tag, s):
    return ttlv(tag, TEXT, s.encode())


def data(tag, b):
    return ttlv(tag, BYTES, b)


def attribute(name, value):
    return structure(0x420008, text(0x42000a, name), value)


def request(op, payload=b"", minor=2, items=None):
    """A Request Message with one item, or with the given items."""
    if items is None:
        items = [structure(0x42000f, enum(0x42005c, op),
                           structure(0x420079, payload))]
    hdr = structure(0x420077,
                    structure(0x420069, integer(0x42006a, 1),
                              integer(0x42006b, minor)),
                    integer(0x42000d, len(items)))
    return structure(0x420078, hdr, *items)


def parse(b):
    """TTLV bytes into nested (tag, type, value) tuples."""
    out = []
    while b:
        tag = struct.unpack(">I", b"\0" + b[:3])[0]
        typ, n = b[3], struct.unpack(">I", b[4:8])[0]
        v = b[8:8 + n]
        if typ == STRUCT:
            v = parse(v)
        elif typ in (INT, ENUM):
            v = struct.unpack(">I" if typ == ENUM else ">i", v)[0]
        elif typ in (LONG, DATE):
            v = struct.unpack(">q", v)[0]
        elif typ == TEXT:
            v = v.decode()
        out.append((tag, typ, v))
        b = b[8 + n + (8 - n % 8) % 8:]
    return out


def find(items, tag):
    return [v for (t, _, v) in items if t == tag]


def first(items, tag):
    v = find(items, tag)
    return v[0] if v else None


def connect(port, pki, cn="client"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki + "/ca.crt")
    ctx.load_cert_chain(pki + "/%s.crt" % cn, pki + "/%s.key" % cn)
    ctx.check_hostname = False
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return ctx.wrap_socket(s)


def read_message(s):
    """One TTLV item as bytes, or None if the server closed."""
    hdr = b""
    try:
        while len(hdr) < 8:
            b = s.recv(8 - len(hdr))
            if not b:
                return None
            hdr += b
        n = struct.unpack(">I", hdr[4:8])[0]
        body = b""
        while len(body) < n:
            b = s.recv(n - len(body))
            if not b:
                return None
            body += b
    except (ConnectionResetError, ssl.SSLError, socket.timeout):
        return None
    return hdr + body


def result_reason(msg):
    """The first Result Reason in a response, found by scanning."""
    i = msg.find(b"\x42\x00\x7e\x05")
    if i < 0:
        return None
    return struct.unpack(">I", msg[i + 8:i + 12])[0]
