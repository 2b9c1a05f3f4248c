# KMIP over HTTPS against the real daemon: what a client of the HTTPS,
# JSON and XML profiles gets, and what a hostile one gets (issue 10).
#
#   msgenc_cases.py PORT PKI_DIR CASE
#
# Prints "ok" when the case holds; exits non-zero with the reason if not.
# Every socket has a timeout: no case can hang.
import json
import os
import socket
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure, text)
import msgenc  # noqa: E402

PORT, PKI = int(sys.argv[1]), sys.argv[2]
QUERY = request(0x18, enum(0x420074, 1))	# Query Operations


def conn(cn="client"):
    s = connect(PORT, PKI, cn)
    s.settimeout(10)
    return s


def exchange(s, raw):
    s.sendall(raw)
    return msgenc.read_response(s)


def post(s, msg, enc, extra=""):
    return exchange(s, msgenc.request("/kmip", msgenc.encode(msg, enc),
                                      msgenc.CTYPE[enc], extra))


def closed(s, within=10):
    """True if the server closes s (EOF) within the time given."""
    s.settimeout(within)
    try:
        while True:
            if not s.recv(4096):
                return True
    except socket.timeout:
        return False
    except OSError:
        return True


def status_of(raw, cn="client"):
    """The HTTP status answered to raw bytes; the connection must close."""
    s = conn(cn)
    r = exchange(s, raw)
    check(r is not None, "an HTTP answer, not a dropped connection")
    check(closed(s, 5), "the connection is closed after the error")
    s.close()
    return r[0]


def ttlv_of(r, enc):
    status, hdrs, body = r
    check(status == 200, "HTTP 200, not %d" % status)
    check(hdrs.get("content-type") == msgenc.CTYPE[enc],
          "answered in the request's encoding")
    if enc == "ttlv":
        return parse(body)
    return parse(msgenc.to_ttlv(msgenc.decode(body, enc)))


def result(items):
    it = find(items[0][2], 0x42000f)[0]
    return first(it, 0x42007f), first(it, 0x42007e), first(it, 0x42007c)


def still_serves():
    """A plain TTLV client is still served (nothing ended)."""
    s = conn()
    s.sendall(QUERY)
    r = read_message(s)
    check(r is not None and result(parse(r))[0] == 0,
          "a TTLV Query still answered")
    s.close()


def head(path="/kmip", ctype="application/json", length=None, extra=""):
    h = "POST %s HTTP/1.1\r\nHost: kmip\r\n" % path
    if ctype is not None:
        h += "Content-Type: %s\r\n" % ctype
    if length is not None:
        h += "Content-Length: %s\r\n" % length
    return (h + extra + "\r\n").encode()


def case_serve():
    # One connection, keep-alive: each encoding in turn, then two
    # requests pipelined in one write, answered in order.
    s = conn()
    for enc in ("ttlv", "json", "xml", "json"):
        st, _, _ = result(ttlv_of(post(s, QUERY, enc), enc))
        check(st == 0, "Query over HTTPS in %s" % enc)
    two = msgenc.request("/kmip", msgenc.encode(QUERY, "xml"),
                         msgenc.CTYPE["xml"]) + \
        msgenc.request("/kmip", msgenc.encode(QUERY, "json"),
                       msgenc.CTYPE["json"])
    s.sendall(two)
    check(result(ttlv_of(msgenc.read_response(s), "xml"))[0] == 0,
          "first pipelined answer, in XML")
    check(result(ttlv_of(msgenc.read_response(s), "json"))[0] == 0,
          "second pipelined answer, in JSON")
    # Connection: close is honoured after the answer.
    r = post(s, QUERY, "json", "Connection: close\r\n")
    check(r[1].get("connection") == "close", "Connection: close echoed")
    check(closed(s, 5), "closed after the last answer")
    # Names or hex: tags, enumerations, a mask given by bit names.
    body = json.dumps({"tag": "RequestMessage", "value": [
        {"tag": "RequestHeader", "value": [
            {"tag": "0x420069", "value": [
                {"tag": "ProtocolVersionMajor", "type": "Integer",
                 "value": 1},
                {"tag": "ProtocolVersionMinor", "type": "Integer",
                 "value": "0x00000004"}]},
            {"tag": "BatchCount", "type": "Integer", "value": 1}]},
        {"tag": "BatchItem", "value": [
            {"tag": "Operation", "type": "Enumeration", "value": "Create"},
            {"tag": "RequestPayload", "value": [
                {"tag": "ObjectType", "type": "Enumeration",
                 "value": "0x00000002"},
                {"tag": "TemplateAttribute", "value": [
                    {"tag": "Attribute", "value": [
                        {"tag": "AttributeName", "type": "TextString",
                         "value": "Cryptographic Algorithm"},
                        {"tag": "AttributeValue", "type": "Enumeration",
                         "value": "AES"}]},
                    {"tag": "Attribute", "value": [
                        {"tag": "AttributeName", "type": "TextString",
                         "value": "Cryptographic Length"},
                        {"tag": "AttributeValue", "type": "Integer",
                         "value": 256}]},
                    {"tag": "Attribute", "value": [
                        {"tag": "AttributeName", "type": "TextString",
                         "value": "Cryptographic Usage Mask"},
                        {"tag": "AttributeValue", "type": "Integer",
                         "value": "Encrypt|Decrypt"}]}]}]}]}]})
    s = conn()
    r = exchange(s, msgenc.request("/kmip", body.encode(),
                                   "application/json; charset=utf-8"))
    st, rr, _ = result(ttlv_of(r, "json"))
    check(st == 0, "Create by names and hex, reason %r" % rr)
    s.close()
    print("ok")


def case_head():
    # A head over 8 KiB, too many fields, a line with a NUL.
    big = head(length=2, extra="X-Pad: %s\r\n" % ("a" * 9000)) + b"{}"
    check(status_of(big) == 431, "431 for a head over 8 KiB")
    many = head(length=2, extra="".join("X-F%d: 1\r\n" % i
                                        for i in range(40))) + b"{}"
    check(status_of(many) == 431, "431 for 40 fields")
    check(status_of(b"POST /kmip HTTP/1.1\r\nHost: a\0b\r\n\r\n") == 400,
          "400 for a NUL in the head")
    check(status_of(b"GET /kmip HTTP/1.1\r\nHost: kmip\r\n\r\n") == 405,
          "405 for GET")
    check(status_of(head(path="/other", length=2) + b"{}") == 404,
          "404 for another path")
    check(status_of(b"POST /kmip HTTP/2.0\r\nHost: kmip\r\n\r\n") == 505,
          "505 for HTTP/2.0")
    check(status_of(b"POST /kmip HTTP/1.1\r\nContent-Type: text/xml\r\n"
                    b"Content-Length: 2\r\n\r\n<a/>") == 400,
          "400 without Host")
    still_serves()
    print("ok")


def case_length():
    check(status_of(head()) == 411, "411 without Content-Length")
    check(status_of(head(extra="Transfer-Encoding: chunked\r\n") +
                    b"2\r\n{}\r\n0\r\n\r\n") == 411, "411 for chunked")
    check(status_of(head(length=2, extra="Transfer-Encoding: chunked\r\n")
                    + b"{}") == 400, "400 for a length and chunked")
    check(status_of(head(length="2, 2") + b"{}") == 400,
          "400 for a list as the length")
    check(status_of(head(length=2, extra="Content-Length: 3\r\n") +
                    b"{}") == 400, "400 for two lengths")
    check(status_of(head(length="9" * 40)) == 413,
          "413 for a length that overflows")
    check(status_of(head(length=20000)) == 413,
          "413 for a length over max message (16384)")
    still_serves()
    print("ok")


def case_ctype():
    check(status_of(head(ctype="text/plain", length=2) + b"{}") == 415,
          "415 for text/plain")
    check(status_of(head(ctype=None, length=2) + b"{}") == 415,
          "415 without Content-Type")
    # A body that is not a message of its encoding.
    check(status_of(head(length=5) + b"{\"a\":") == 400, "400, bad JSON")
    check(status_of(head(ctype="text/xml", length=4) + b"<a>x") == 400,
          "400, bad XML")
    q = QUERY + b"\0" * 8
    check(status_of(head(ctype="application/octet-stream",
                         length=len(q)) + q) == 400,
          "400, TTLV with bytes after the message")
    still_serves()
    print("ok")


def case_slowloris():
    # The head one byte at a time: the deadline (read timeout, 3 s) runs
    # from the first byte; more bytes do not move it.
    s = conn()
    check(result(ttlv_of(post(s, QUERY, "json"), "json"))[0] == 0,
          "a first request served on the connection")
    raw = head(length=2) + b"{}"
    t0 = time.time()
    gone = False
    for b in raw:
        try:
            s.sendall(bytes([b]))
        except OSError:
            gone = True
            break
        if time.time() - t0 > 8:
            break
        time.sleep(0.25)
    check(gone or closed(s, 3), "closed while the head trickles in")
    took = time.time() - t0
    check(took < 7, "closed within the read timeout (%.1f s)" % took)
    s.close()
    still_serves()
    print("ok")


def case_nesting():
    deep = b"[" * 8000 + b"]" * 8000
    check(status_of(head(length=len(deep)) + deep) == 400,
          "JSON nested 8000 deep refused")
    n = 1000
    body = ("<a>" * n + "</a>" * n).encode()
    check(status_of(head(ctype="text/xml", length=len(body)) + body) ==
          400, "XML nested 1000 deep refused")
    # Well-formed KMIP, nested deeper than a message can be.
    e = {"tag": "Attribute", "value": []}
    for _ in range(30):
        e = {"tag": "Attribute", "value": [e]}
    body = json.dumps({"tag": "RequestMessage", "value": [e]}).encode()
    check(status_of(head(length=len(body)) + body) == 400,
          "KMIP structures 30 deep refused")
    still_serves()
    print("ok")


def case_laughs():
    lol = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n'
           '<!ENTITY lol "lol">\n' +
           "".join('<!ENTITY lol%d "%s">\n' %
                   (i, ("&lol%s;" % ("" if i == 1 else i - 1)) * 10)
                   for i in range(1, 10)) +
           ']>\n<RequestMessage><RequestHeader><BatchCount '
           'type="Integer" value="&lol9;"/></RequestHeader>'
           '</RequestMessage>').encode()
    check(status_of(head(ctype="text/xml", length=len(lol)) + lol) == 400,
          "billion laughs refused (no DTD)")
    ext = ('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           '<RequestMessage/>').encode()
    check(status_of(head(ctype="text/xml", length=len(ext)) + ext) == 400,
          "external entity refused")
    und = b'<RequestMessage><X type="TextString" value="&x;"/>' \
        b'</RequestMessage>'
    check(status_of(head(ctype="text/xml", length=len(und)) + und) == 400,
          "undeclared entity refused")
    still_serves()
    print("ok")


def case_owner():
    # An object of client's is not bob's, whatever the encoding.
    a = conn("client")
    create = request(0x01, enum(0x420057, 2) + structure(
        0x420091, attribute("Cryptographic Algorithm", enum(0x42000b, 3)),
        attribute("Cryptographic Length", integer(0x42000b, 256)),
        attribute("Cryptographic Usage Mask", integer(0x42000b, 12))))
    st, _, p = result(ttlv_of(post(a, create, "json"), "json"))
    check(st == 0, "client creates a key over JSON")
    uid = first(p, 0x420094)
    get = request(0x0a, text(0x420094, uid))
    st, _, _ = result(ttlv_of(post(a, get, "xml"), "xml"))
    check(st == 0, "client gets its key over XML")
    b = conn("bob")
    for enc in ("json", "xml", "ttlv"):
        st, rr, _ = result(ttlv_of(post(b, get, enc), enc))
        check(st == 1 and rr == 1,
              "bob's Get over %s: Item Not Found, not %r/%r" %
              (enc, st, rr))
    print("ok")


def case_nohttp():
    # A listener with "no http": HTTP is closed unanswered, TTLV served.
    s = conn()
    s.sendall(msgenc.request("/kmip", msgenc.encode(QUERY, "json"),
                             msgenc.CTYPE["json"]))
    try:
        r = msgenc.read_response(s)
    except OSError:
        r = None
    check(r is None, "no HTTP answer on a listener with no http")
    still_serves()
    print("ok")


CASES = {"nohttp": case_nohttp, "serve": case_serve, "head": case_head, "length": case_length,
         "ctype": case_ctype, "slowloris": case_slowloris,
         "nesting": case_nesting, "laughs": case_laughs,
         "owner": case_owner}

if __name__ == "__main__":
    CASES[sys.argv[3]]()
