# Identity and key protection, with hand-made TTLV against the real
# daemon.  Run with /usr/bin/python3 (PyKMIP's, for `cryptography`).
#
#   protect.py PORT PKI_DIR CASE [ARGS]
#
# Prints "ok" and exits 0, or prints FAIL and why and exits 1.
#   unauth		a client without a certificate: Query only
#   sticky		Sensitive and Extractable only ever tighten
#   utf8		bad UTF-8 refused, Result Messages clean UTF-8
#   register_private K	Register a private key; print a hex marker of it
import os
import socket
import ssl
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ttlvlib as t  # noqa: E402
from common import check  # noqa: E402

port, pki, case = int(sys.argv[1]), sys.argv[2], sys.argv[3]

OP_CREATE, OP_REGISTER, OP_LOCATE, OP_GET = 0x01, 0x03, 0x08, 0x0a
OP_ADD, OP_MODIFY, OP_DELETE = 0x0d, 0x0e, 0x0f
OP_QUERY, OP_DISCOVER, OP_SIGN = 0x18, 0x1e, 0x21
AUTH_NOT_SUCCESSFUL, INVALID_MESSAGE, INVALID_FIELD = 0x03, 0x04, 0x07
ITEM_NOT_FOUND, PERMISSION_DENIED = 0x01, 0x0c
# These requests speak KMIP 1.2, which has no Sensitive (0x16) or Not
# Extractable (0x17) reason: Permission Denied stands for both.
SENSITIVE = NOT_EXTRACTABLE = PERMISSION_DENIED
UID, ATTR_NAME = 0x420094, 0x42000a


def connect_anon():
    """TLS without a client certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki + "/ca.crt")
    ctx.check_hostname = False
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return ctx.wrap_socket(s)


def call(s, op, payload=b""):
    """One request, one answer: (reason or None, message, raw, items)."""
    # Sensitive and Extractable are KMIP 1.4 attributes: Add, Modify and
    # Delete Attribute take them in 1.4 requests only.
    s.sendall(t.request(op, payload, minor=4 if op in (
        OP_ADD, OP_MODIFY, OP_DELETE) else 2))
    raw = t.read_message(s)
    check(raw is not None, "op 0x%x: connection closed" % op)
    items = t.parse(raw)[0][2]
    bi = t.first(items, 0x42000f)
    msg = None
    i = raw.find(b"\x42\x00\x7d\x07")
    if i >= 0:
        n = struct.unpack(">I", raw[i + 4:i + 8])[0]
        msg = raw[i + 8:i + 8 + n]
    return t.result_reason(raw), msg, raw, bi


def ok(s, op, payload=b"", what=""):
    reason, msg, raw, bi = call(s, op, payload)
    check(reason is None, "%s: refused, reason %s: %r" % (what, reason, msg))
    return bi


def refused(s, op, payload, want, what):
    reason, msg, raw, bi = call(s, op, payload)
    check(reason == want, "%s: reason %s (%r), wanted %d" % (what, reason,
                                                             msg, want))
    return msg, raw


def uid_of(bi):
    pl = t.first(bi, 0x42007c)
    return t.first(pl, UID)


def aes_register(*attrs):
    key = t.structure(0x42008f, t.structure(
        0x420040, t.enum(0x420042, 1),
        t.structure(0x420045, t.data(0x420043, os.urandom(32))),
        t.enum(0x420028, 3), t.integer(0x42002a, 256)))
    tmpl = t.structure(0x420091, t.attribute("Cryptographic Algorithm",
                                             t.enum(0x42000b, 3)), *attrs)
    return t.enum(0x420057, 2) + tmpl + key


def boolean(v):
    return t.ttlv(0x42000b, t.BOOL, struct.pack(">Q", 1 if v else 0))


def uidp(uid):
    return t.text(UID, uid)


def add(uid, name, value):
    return uidp(uid) + t.attribute(name, value)


def delete(uid, name):
    return uidp(uid) + t.text(ATTR_NAME, name)


def create_aes():
    tmpl = t.structure(0x420091,
                       t.attribute("Cryptographic Algorithm",
                                   t.enum(0x42000b, 3)),
                       t.attribute("Cryptographic Length",
                                   t.integer(0x42000b, 128)))
    return t.enum(0x420057, 2) + tmpl


if case == "unauth":
    # An object of alice's, then two clients without certificates.
    s = t.connect(port, pki)
    alice_key = uid_of(ok(s, OP_CREATE, create_aes(), "alice's Create"))
    s.close()
    a, b = connect_anon(), connect_anon()
    ok(a, OP_QUERY, t.enum(0x420074, 1), "Query")
    ok(a, OP_DISCOVER, b"", "Discover Versions")
    msg, _ = refused(a, OP_CREATE, create_aes(), AUTH_NOT_SUCCESSFUL,
                     "anonymous Create")
    check(b"certificate" in msg, "message says why: %r" % msg)
    refused(b, OP_LOCATE, b"", AUTH_NOT_SUCCESSFUL, "anonymous Locate")
    for op in (OP_GET, OP_SIGN, OP_ADD):
        refused(b, op, uidp(alice_key) + t.data(0x4200c2, b"x"),
                AUTH_NOT_SUCCESSFUL, "anonymous op 0x%x" % op)
    refused(b, OP_REGISTER, aes_register(), AUTH_NOT_SUCCESSFUL,
            "anonymous Register")
    a.close()
    b.close()
elif case == "sticky":
    s = t.connect(port, pki)
    for name, tight, loose, reason in (
            ("Extractable", False, True, NOT_EXTRACTABLE),
            ("Sensitive", True, False, SENSITIVE)):
        uid = uid_of(ok(s, OP_REGISTER, aes_register(
            t.attribute(name, boolean(tight))), "Register " + name))
        refused(s, OP_DELETE, delete(uid, name), PERMISSION_DENIED,
                "Delete Attribute " + name)
        refused(s, OP_DELETE, uidp(uid) + t.structure(
            0x420008, t.text(ATTR_NAME, name)), PERMISSION_DENIED,
            "Delete Attribute " + name + " (Attribute form)")
        refused(s, OP_ADD, add(uid, name, boolean(loose)),
                INVALID_FIELD, "Add Attribute " + name + " again")
        refused(s, OP_MODIFY, add(uid, name, boolean(loose)),
                PERMISSION_DENIED, "Modify Attribute " + name)
        refused(s, OP_GET, uidp(uid), reason, "Get after the attempts")
        # A value that is not a Boolean is refused, not read as default.
        refused(s, OP_REGISTER, aes_register(
            t.attribute(name, t.integer(0x42000b, 0))), INVALID_FIELD,
            "Register with a non-Boolean " + name)
        # Tightening stays allowed.  Both always have a value (KMIP 1.4:
        # the defaults), so a plain key's is modified, not added.
        uid = uid_of(ok(s, OP_REGISTER, aes_register(), "plain Register"))
        ok(s, OP_GET, uidp(uid), "Get of a plain key")
        ok(s, OP_MODIFY, add(uid, name, boolean(tight)),
           "Modify a default to tight " + name)
        refused(s, OP_GET, uidp(uid), reason, "Get after tightening")
        uid = uid_of(ok(s, OP_REGISTER, aes_register(
            t.attribute(name, boolean(loose))), "Register loose " + name))
        ok(s, OP_MODIFY, add(uid, name, boolean(tight)),
           "Modify to tight " + name)
        refused(s, OP_MODIFY, add(uid, name, boolean(loose)),
                PERMISSION_DENIED, "Modify back to loose " + name)
        refused(s, OP_GET, uidp(uid), reason, "Get after Modify")
    # A plain key has the lax default: Modify to it changes nothing.
    uid = uid_of(ok(s, OP_REGISTER, aes_register(), "plain Register"))
    ok(s, OP_MODIFY, add(uid, "Extractable", boolean(True)),
       "Modify Extractable=true of a key that is extractable")
    refused(s, OP_DELETE, delete(uid, "Extractable"), PERMISSION_DENIED,
            "Delete of Extractable=true")
    s.close()
elif case == "utf8":
    s = t.connect(port, pki)
    bad = (b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
           b"ab\xe2\x82")
    for b in bad:
        reason, msg, raw, bi = call(s, OP_GET, t.ttlv(UID, t.TEXT, b))
        check(reason == INVALID_MESSAGE, "Get %r: reason %s, %r" %
              (b, reason, msg))
        check(b not in raw, "the answer echoes %r" % b)
        # The connection goes on.
        ok(s, OP_QUERY, t.enum(0x420074, 3), "Query after %r" % b)
    # Valid multi-byte text in ids and names: answers decode as UTF-8.
    for uid in ("\u20ac" * 21, "\u00e9" * 31 + "x", "\U0001f511" * 15,
                "a\x01b\x7fc\u0085d"):
        reason, msg, raw, bi = call(s, OP_GET, uidp(uid))
        check(reason == ITEM_NOT_FOUND, "Get %r: reason %s" % (uid, reason))
        text = msg.decode("utf-8")
        check(not any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0
                      for c in text), "control character in %r" % text)
    # A long multi-byte attribute name in the message.
    name = "\u20ac" * 42
    reason, msg, raw, bi = call(s, OP_CREATE, t.enum(0x420057, 2) +
                                t.structure(0x420091, t.attribute(
                                    name, t.integer(0x42000b, 1))))
    check(reason == INVALID_FIELD, "odd attribute: reason %s" % reason)
    msg.decode("utf-8")
    s.close()
elif case == "register_private":
    # A key whose secret we know, given as ARGS (ec-p8, ec-sec1 or
    # rsa-p8).  The marker is 32 bytes of the secret as they stand in
    # the DER the client sends: the P-256 scalar, or the end of the RSA
    # key (its CRT coefficient).  Printed in hex for memscan.py.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    which = sys.argv[4]
    if which.startswith("ec"):
        key, alg, bits = ec.generate_private_key(ec.SECP256R1()), 6, 256
        m = key.private_numbers().private_value.to_bytes(32, "big")
    else:
        key, alg, bits = rsa.generate_private_key(65537, 2048), 4, 2048
        m = key.private_numbers().iqmp.to_bytes(128, "big")[-32:]
    if which.endswith("p8"):
        fmt, kfmt = serialization.PrivateFormat.PKCS8, 4
    else:
        fmt, kfmt = serialization.PrivateFormat.TraditionalOpenSSL, 3
    der = key.private_bytes(serialization.Encoding.DER, fmt,
                            serialization.NoEncryption())
    check(m in der, "marker in the DER")
    body = t.enum(0x420057, 4) + t.structure(0x420091) + t.structure(
        0x420064, t.structure(
            0x420040, t.enum(0x420042, kfmt),
            t.structure(0x420045, t.data(0x420043, der)),
            t.enum(0x420028, alg), t.integer(0x42002a, bits)))
    s = t.connect(port, pki)
    uid = uid_of(ok(s, OP_REGISTER, body, "Register of a private key"))
    check(uid, "an id")
    # The key works: it signs (the signer parsed it, the engine knows
    # its algorithm and length from the public half).
    ok(s, 0x12, uidp(uid), "Activate")
    ok(s, OP_SIGN, uidp(uid) + t.data(0x4200c2, b"signed"), "Sign")
    s.close()
    print(m.hex())
    sys.exit(0)
else:
    check(False, "no case " + case)
print("ok")
