# KMIP over HTTPS with the TTLV, JSON and XML encodings (the HTTPS, JSON
# and XML profiles of KMIP Profiles 1.4), client side, for oasis.py and
# msgenc_test.sh: TTLV to JSON or XML text, text back to an XML element
# the replayer encodes, and one HTTP/1.1 exchange on a TLS socket.
import calendar
import json
import struct
import time
import xml.etree.ElementTree as ET

from oasis_enums import ATTR_ENUM, ENUMS, USAGE
from oasis_tags import TAGS

NAMES = {v: k for (k, v) in TAGS.items()}
TYPES = {1: "Structure", 2: "Integer", 3: "LongInteger", 4: "BigInteger",
         5: "Enumeration", 6: "Boolean", 7: "TextString", 8: "ByteString",
         9: "DateTime", 10: "Interval"}
CTYPE = {"ttlv": "application/octet-stream", "json": "application/json",
         "xml": "text/xml"}


def items(b):
    """TTLV bytes into (tag, type, raw value or items) tuples."""
    out = []
    while b:
        tag = struct.unpack(">I", b"\0" + b[:3])[0]
        typ, n = b[3], struct.unpack(">I", b[4:8])[0]
        v = b[8:8 + n]
        out.append((tag, typ, items(v) if typ == 1 else v))
        b = b[8 + n + (8 - n % 8) % 8:]
    return out


def enum_name(tag, attr, v):
    fam = ATTR_ENUM.get(attr) if tag == TAGS["AttributeValue"] else \
        NAMES.get(tag)
    for k, x in ENUMS.get(fam, {}).items():
        if x == v:
            return k
    return "0x%08x" % v


def value_text(tag, typ, v, attr, sep):
    """The value of a scalar item as the encodings write it."""
    if typ == 2:
        i = struct.unpack(">i", v)[0]
        if tag == TAGS["CryptographicUsageMask"] and i > 0:
            names = [k for (k, b) in USAGE.items() if i & b]
            if sum(USAGE[k] for k in names) == i:
                return sep.join(names)	# bit names, as a client may
        return i
    if typ == 3:
        return struct.unpack(">q", v)[0]
    if typ == 4:
        return "0x" + v.hex()
    if typ == 5:
        return enum_name(tag, attr, struct.unpack(">I", v)[0])
    if typ == 6:
        return struct.unpack(">Q", v)[0] == 1
    if typ == 7:
        return v.decode()
    if typ == 8:
        return v.hex()
    if typ == 9:
        t = struct.unpack(">q", v)[0]
        return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(t))
    if typ == 10:
        return struct.unpack(">I", v)[0]
    raise ValueError("type %d" % typ)


def to_json(it, attr=None):
    tag, typ, v = it
    o = {"tag": NAMES.get(tag, "0x%06x" % tag)}
    if typ == 1:
        o["value"], an = [], None
        for c in v:
            o["value"].append(to_json(c, an))
            an = c[2].decode() if c[0] == TAGS["AttributeName"] else an
        return o
    o["type"] = TYPES[typ]
    o["value"] = value_text(tag, typ, v, attr, "|")
    return o


def to_xml(it, attr=None):
    tag, typ, v = it
    name = NAMES.get(tag)
    e = ET.Element(name or "TTLV")
    if name is None:
        e.set("tag", "0x%06x" % tag)
    if typ == 1:
        an = None
        for c in v:
            e.append(to_xml(c, an))
            an = c[2].decode() if c[0] == TAGS["AttributeName"] else an
        return e
    e.set("type", TYPES[typ])
    x = value_text(tag, typ, v, attr, " ")
    e.set("value", ("true" if x else "false") if isinstance(x, bool)
          else str(x))
    return e


def encode(msg, enc):
    """A TTLV message as the body of a request in encoding enc."""
    if enc == "ttlv":
        return msg
    it = items(msg)[0]
    if enc == "json":
        return json.dumps(to_json(it)).encode()
    return ET.tostring(to_xml(it))


def from_json(o):
    """A JSON item as the XML element the replayer reads."""
    tag = o["tag"]
    e = ET.Element("TTLV" if tag.startswith("0x") else tag)
    if tag.startswith("0x"):
        e.set("tag", tag)
    typ = o.get("type", "Structure")
    if typ == "Structure":
        for c in o.get("value", []):
            e.append(from_json(c))
        return e
    e.set("type", typ)
    v = o["value"]
    e.set("value", ("true" if v else "false") if isinstance(v, bool)
          else str(v))
    return e


def decode(body, enc):
    """The body of an answer as an XML element (None for TTLV)."""
    if enc == "json":
        return from_json(json.loads(body))
    if enc == "xml":
        return ET.fromstring(body)
    return None


def date(v):
    return calendar.timegm(time.strptime(v[:19], "%Y-%m-%dT%H:%M:%S"))


def request(path, body, ctype, extra=""):
    return ("POST %s HTTP/1.1\r\nHost: kmip\r\nContent-Type: %s\r\n"
            "Content-Length: %d\r\n%s\r\n" % (path, ctype, len(body),
                                             extra)).encode() + body


def read_response(s):
    """(status, headers, body) of one HTTP response, None if closed."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = s.recv(4096)
        if not b:
            return None
        buf += b
        if len(buf) > 65536:
            raise ValueError("response head too long")
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        b = s.recv(n - len(rest))
        if not b:
            return None
        rest += b
    return status, hdrs, rest[:n]


def _item(tag, typ, value):
    pad = (8 - len(value) % 8) % 8
    return struct.pack(">I", tag)[1:] + bytes([typ]) + \
        struct.pack(">I", len(value)) + value + b"\0" * pad


def to_ttlv(e, attr=None):
    """An XML element of an answer (the XML encoding, or JSON made
    into one) as TTLV: the server's text, read without the replayer's
    placeholders."""
    tag = int(e.get("tag"), 16) if e.tag == "TTLV" else TAGS[e.tag]
    typ = e.get("type", "Structure")
    v = e.get("value")
    if typ == "Structure":
        body, an = b"", None
        for c in e:
            body += to_ttlv(c, an)
            if c.tag == "AttributeName":
                an = c.get("value")
        return _item(tag, 1, body)
    if typ in ("Integer", "Interval", "LongInteger", "Enumeration"):
        if v.startswith("0x"):
            n = int(v, 16)
        elif typ == "Enumeration":
            fam = ATTR_ENUM.get(attr) if e.tag == "AttributeValue" else e.tag
            n = ENUMS[fam][v]
        elif typ == "Integer" and not v.lstrip("-").isdigit():
            n = 0
            for w in v.replace("|", " ").split():
                n |= USAGE[w]
        else:
            n = int(v)
        fmt = {"Integer": ">i" if n < 2**31 else ">I", "Interval": ">I",
               "LongInteger": ">q" if n < 2**63 else ">Q",
               "Enumeration": ">I"}[typ]
        return _item(tag, {"Integer": 2, "Interval": 10, "LongInteger": 3,
                           "Enumeration": 5}[typ], struct.pack(fmt, n))
    if typ == "BigInteger":
        b = bytes.fromhex(v[2:] if v.startswith("0x") else v)
        return _item(tag, 4, b"\0" * ((8 - len(b) % 8) % 8) + b)
    if typ == "Boolean":
        return _item(tag, 6, struct.pack(">Q", v == "true"))
    if typ == "TextString":
        return _item(tag, 7, v.encode())
    if typ == "ByteString":
        return _item(tag, 8, bytes.fromhex(v))
    if typ == "DateTime":
        t = int(v, 16) if v.startswith("0x") else date(v)
        return _item(tag, 9, struct.pack(">q", t))
    raise ValueError("type %s" % typ)
