# The exact message shapes Krill and Cascade send (../shared/CLIENTS.md),
# hand-built, against signerd; what they need of each answer is checked.
#
#   client_replay.py PORT PKI_DIR krill|cascade
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, first, find,  # noqa
                     integer, parse, read_message, request, structure, text)

port, pki, who = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = connect(port, pki)

OP_CKP, OP_GET, OP_MODIFY, OP_ACTIVATE, OP_REVOKE, OP_DESTROY, OP_SIGN = \
    0x02, 0x0a, 0x0e, 0x12, 0x13, 0x14, 0x21
T_UID, T_PAYLOAD, T_ITEM, T_OP, T_STATUS = 0x420094, 0x42007c, 0x42000f, \
    0x42005c, 0x42007f



def call(op, payload, minor, ubis=None):
    """Send, and return the response items (checked for success)."""
    if ubis:
        items = [structure(T_ITEM, enum(T_OP, op), data(0x420093, u),
                           structure(0x420079, p))
                 for u, p in zip(ubis, payload)]
        s.sendall(request(op, minor=minor, items=items))
    else:
        s.sendall(request(op, payload, minor=minor))
    m = read_message(s)
    check(m is not None, "answer to operation 0x%x" % op)
    msg = parse(m)[0][2]
    hdr = first(msg, 0x42007a)
    pv = first(hdr, 0x420069)
    check(first(pv, 0x42006b) == minor, "answered in the request's version")
    items = find(msg, T_ITEM)
    check(first(hdr, 0x42000d) == len(items), "batch count")
    for it in items:
        check(first(it, T_OP) == op, "the operation is echoed")
        check(first(it, T_STATUS) == 0, "operation 0x%x: %s" %
              (op, first(it, 0x42007d)))
        check(first(it, T_PAYLOAD) is not None, "a payload")
    return items


def name(v):
    return attribute("Name", structure(0x42000b, text(0x420055, v),
                                       enum(0x420054, 1)))


def ckp(alg, bits, label):
    common = structure(0x42001f,
                       attribute("Cryptographic Algorithm",
                                 enum(0x42000b, alg)),
                       attribute("Cryptographic Length",
                                 integer(0x42000b, bits)))
    priv = structure(0x420065, name(label + "_priv"),
                     attribute("Cryptographic Usage Mask",
                               integer(0x42000b, 1)))
    pub = structure(0x42006e, name(label + "_pub"),
                    attribute("Cryptographic Usage Mask",
                              integer(0x42000b, 2)))
    p = first(call(OP_CKP, common + priv + pub, 0)[0], T_PAYLOAD)
    return first(p, 0x42006f), first(p, 0x420066)


def get_public(uid):
    p = first(call(OP_GET, text(T_UID, uid), 0)[0], T_PAYLOAD)
    check(first(p, 0x420057) == 3, "Get gives a public key")
    kb = first(first(p, 0x42006d), 0x420040)
    fmt = first(kb, 0x420042)
    km = first(first(kb, 0x420045), 0x420043)
    check(fmt != 5, "no X.509 format for a key Get (Krill cannot read it)")
    return fmt, serialization.load_der_public_key(km)


def failure(op, payload, minor):
    """Send a request that must fail; its Result Reason, which must be
    one Krill's KMIP 1.0 enumeration can decode."""
    s.sendall(request(op, payload, minor=minor))
    r = parse(read_message(s))[0][2]
    it = find(r, T_ITEM)[0]
    check(first(it, T_STATUS) == 1, "operation 0x%x fails" % op)
    reason = first(it, 0x42007e)
    check(reason is not None and (1 <= reason <= 0x11 or reason == 0x100),
          "operation 0x%x: Result Reason 0x%x is not a KMIP 1.0 one" %
          (op, reason or 0))
    return reason


def uid_payload(items, uid):
    check(first(first(items[0], T_PAYLOAD), T_UID) == uid,
          "payload is the Unique Identifier")


msg = b"a whole RPKI object, which the server hashes"
if who == "krill":
    pub, priv = ckp(4, 2048, "krill_new_key_1700000000")
    check(":" not in pub and ":" not in priv, "ids free of ':'")
    fmt, key = get_public(pub)
    check(fmt in (3, 11), "RSA public key as PKCS#1 or Transparent RSA")
    # The other formats a client may ask for give the same key.
    nums = key.public_numbers()
    p = first(call(OP_GET, text(T_UID, pub) + enum(0x420042, 11), 0)[0],
              T_PAYLOAD)
    km = first(first(first(first(p, 0x42006d), 0x420040), 0x420045),
               0x420043)
    n = int.from_bytes(first(km, 0x420052), "big", signed=True)
    e = int.from_bytes(first(km, 0x42006c), "big", signed=True)
    check((n, e) == (nums.n, nums.e), "Transparent RSA Public Key")
    p = first(call(OP_GET, text(T_UID, pub) + enum(0x420042, 5), 0)[0],
              T_PAYLOAD)
    km = first(first(first(first(p, 0x42006d), 0x420040), 0x420045),
               0x420043)
    check(serialization.load_der_public_key(km).public_numbers() == nums,
          "X.509 SubjectPublicKeyInfo when asked for")
    for uid in (pub, priv):
        items = call(OP_MODIFY, text(T_UID, uid) +
                     name("krill-private-key-abcdef"), 0)
        p = first(items[0], T_PAYLOAD)
        check(first(p, T_UID) == uid, "Modify Attribute echoes the id")
        check(first(p, 0x420008) is not None,
              "Modify Attribute echoes the Attribute")
    uid_payload(call(OP_ACTIVATE, text(T_UID, priv), 0), priv)
    # A wrong lifecycle state is Permission Denied in KMIP 1.x.
    check(failure(OP_ACTIVATE, text(T_UID, priv), 0) == 0x0c,
          "Activate of an active key: Permission Denied")
    check(failure(OP_DESTROY, text(T_UID, priv), 0) == 0x0c,
          "Destroy of an active key: Permission Denied")
    params = structure(0x42002b, enum(0x42005f, 8), enum(0x420038, 6),
                       enum(0x420028, 4))
    p = first(call(OP_SIGN, text(T_UID, priv) + params +
                   data(0x4200c2, msg), 2)[0], T_PAYLOAD)
    sig = first(p, 0x4200c3)
    check(len(sig) == 256, "RSA signature of modulus length")
    key.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
    uid_payload(call(OP_DESTROY, text(T_UID, pub), 0), pub)
    uid_payload(call(OP_REVOKE, text(T_UID, priv) +
                     structure(0x420081, enum(0x420082, 6)), 0), priv)
    uid_payload(call(OP_DESTROY, text(T_UID, priv), 0), priv)
    # A destroyed key is gone for Krill: Item Not Found or destroyed.
    failure(OP_SIGN, text(T_UID, priv) + params + data(0x4200c2, msg), 2)
    check(failure(OP_GET, text(T_UID, pub), 0) == 0x01,
          "Get of a destroyed key: Item Not Found")
else:
    pub, priv = ckp(6, 256, "cascade-example.org-12345")
    fmt, key = get_public(pub)
    check(fmt == 1, "EC public key as Raw")
    check(isinstance(key, ec.EllipticCurvePublicKey) and
          key.curve.name == "secp256r1", "ECDSA + 256 means P-256")
    uid_payload(call(OP_ACTIVATE, text(T_UID, priv), 0), priv)
    params = structure(0x42002b, enum(0x420038, 6), enum(0x420028, 6))
    # domain-kmip batches Sign items, each with a Unique Batch Item ID.
    ubis = [os.urandom(16) for i in range(3)]
    msgs = [msg + bytes([i]) for i in range(3)]
    items = call(OP_SIGN, [text(T_UID, priv) + params + data(0x4200c2, m)
                           for m in msgs], 2, ubis=ubis)
    check(len(items) == 3, "three batch items answered")
    for it, u, m in zip(items, ubis, msgs):
        check(first(it, 0x420093) == u, "Unique Batch Item ID echoed")
        sig = first(first(it, T_PAYLOAD), 0x4200c3)
        check(sig[0] == 0x30, "ECDSA signature in DER")
        key.verify(sig, m, ec.ECDSA(hashes.SHA256()))
    uid_payload(call(OP_DESTROY, text(T_UID, pub), 0), pub)
    uid_payload(call(OP_REVOKE, text(T_UID, priv) +
                     structure(0x420081, enum(0x420082, 6)), 0), priv)
    uid_payload(call(OP_DESTROY, text(T_UID, priv), 0), priv)
s.close()
print("ok")
