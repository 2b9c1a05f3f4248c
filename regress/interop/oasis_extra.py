# What the OASIS vectors (oasis.py) need, checked on its own edges, by
# hand-made TTLV against the real daemon (issue 10):
#
#   links	a client's own Links (Next, Previous) are taken; those
#		between the halves of a key pair are the server's: neither
#		given, changed nor deleted by a client
#   versions	Add Attribute of an attribute the request's version does
#		not define is refused (Sensitive is KMIP 1.4)
#   digest	every key has a Digest: SHA-256 of the registered value, in
#		its format; a made key's too
#   modes	AES ECB, CBC (PKCS5 or none), CTR and GCM with an 8-byte IV
#		give what OpenSSL (the cryptography module) gives
#   keyless	Hash, RNG Retrieve and RNG Seed, and Query lists them
#   opaque	an Opaque Object comes back as it was registered
#   des3	Triple DES keys are made with parity, kept, given, not used
#   usagelimits	a key with Usage Limits protects no more than they allow
#   tokenmode	a key in a pkcs11 token does AES-GCM only, ECB is refused
#
#   oasis_extra.py PORT PKI_DIR CASE
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure, text,
                     ttlv)

port, pki, case = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = connect(port, pki)

T_UID, T_PAYLOAD, T_ITEM, T_STATUS, T_REASON, T_VALUE = 0x420094, \
    0x42007c, 0x42000f, 0x42007f, 0x42007e, 0x42000b
T_ATTR, T_ATTR_NAME, T_DATA, T_IV, T_TAG, T_CP = 0x420008, 0x42000a, \
    0x4200c2, 0x42003d, 0x4200ff, 0x42002b
OP_CREATE, OP_CKP, OP_REGISTER, OP_GET, OP_GET_ATTRS, OP_ADD, OP_MODIFY, \
    OP_DELETE, OP_ACTIVATE, OP_QUERY, OP_ENCRYPT, OP_DECRYPT, OP_HASH, \
    OP_RNG_RETRIEVE, OP_RNG_SEED = 0x01, 0x02, 0x03, 0x0a, 0x0b, 0x0d, \
    0x0e, 0x0f, 0x12, 0x18, 0x1f, 0x20, 0x27, 0x25, 0x26
INVALID_FIELD, PERMISSION_DENIED = 0x07, 0x0c
LINK_PUBLIC, LINK_PRIVATE, LINK_NEXT = 0x102, 0x103, 0x10b
KEY = bytes(range(32))


def call(op, payload, minor=4):
    s.sendall(request(op, payload, minor=minor))
    it = find(parse(read_message(s))[0][2], T_ITEM)[0]
    return first(it, T_STATUS), first(it, T_REASON), first(it, T_PAYLOAD)


def ok(op, payload, what, minor=4):
    st, rr, pl = call(op, payload, minor)
    check(st == 0, "%s: status %s reason %s" % (what, st, rr))
    return pl


def refused(op, payload, reason, what, minor=4):
    st, rr, _ = call(op, payload, minor)
    check(st == 1 and rr == reason, "%s: status %s reason %s, wanted %s" %
          (what, st, rr, reason))


def uid(payload):
    return first(payload, T_UID)


def link(kind, target):
    return attribute("Link", structure(T_VALUE, enum(0x42004b, kind),
                                       text(0x42004c, target)))


def tmpl(*attrs):
    return structure(0x420091, *attrs)


def usage(mask):
    return attribute("Cryptographic Usage Mask", integer(T_VALUE, mask))


def register_aes(key=KEY, params=b""):
    kb = structure(0x420040, enum(0x420042, 1),
                   structure(0x420045, data(0x420043, key)),
                   enum(0x420028, 3), integer(0x42002a, len(key) * 8))
    u = uid(ok(OP_REGISTER, enum(0x420057, 2) + tmpl(usage(12), params) +
               structure(0x42008f, kb), "Register AES"))
    ok(OP_ACTIVATE, text(T_UID, u), "Activate")
    return u


def attr_value(pl, name):
    for a in find(pl, T_ATTR):
        if first(a, T_ATTR_NAME) == name:
            return first(a, T_VALUE)
    return None


def ckp():
    pl = ok(OP_CKP, structure(0x42001f, attribute(
        "Cryptographic Algorithm", enum(T_VALUE, 4)), attribute(
        "Cryptographic Length", integer(T_VALUE, 2048))) +
        structure(0x420065, usage(1)) + structure(0x42006e, usage(2)),
        "Create Key Pair")
    return first(pl, 0x420066), first(pl, 0x42006f)


if case == "links":
    priv, pub = ckp()
    ok(OP_ADD, text(T_UID, pub) + link(LINK_NEXT, priv), "Add a Next Link")
    refused(OP_ADD, text(T_UID, pub) + link(LINK_PRIVATE, pub),
            INVALID_FIELD, "Add a Private Key Link")
    refused(OP_ADD, text(T_UID, priv) + link(LINK_PUBLIC, priv),
            INVALID_FIELD, "Add a Public Key Link")
    # The server's Link is index 0 of the public key, the client's 1.
    refused(OP_DELETE, text(T_UID, pub) + text(T_ATTR_NAME, "Link"),
            PERMISSION_DENIED, "Delete the server's Link")
    refused(OP_MODIFY, text(T_UID, pub) + link(LINK_NEXT, priv),
            PERMISSION_DENIED, "Modify the server's Link")
    ok(OP_DELETE, text(T_UID, pub) + text(T_ATTR_NAME, "Link") +
       integer(0x420009, 1), "Delete the client's Link")
    refused(OP_REGISTER, enum(0x420057, 2) + tmpl(link(LINK_PRIVATE, priv)),
            INVALID_FIELD, "Register with a Private Key Link")
elif case == "versions":
    u = register_aes()
    refused(OP_ADD, text(T_UID, u) + attribute("Comment", text(
        T_VALUE, "x")), INVALID_FIELD, "Add a 1.4 attribute at 1.0",
        minor=0)
    ok(OP_ADD, text(T_UID, u) + attribute("Comment", text(T_VALUE, "x")),
       "Add a 1.4 attribute at 1.4")
    refused(OP_DELETE, text(T_UID, u) + text(T_ATTR_NAME, "Comment"),
            INVALID_FIELD, "Delete a 1.4 attribute at 1.2", minor=2)
elif case == "digest":
    key = bytes(range(100, 132))
    u = register_aes(key)
    d = attr_value(ok(OP_GET_ATTRS, text(T_UID, u) +
                      text(T_ATTR_NAME, "Digest"), "Get Digest"), "Digest")
    check(d is not None, "no Digest of a registered key")
    check(first(d, 0x420035) == hashlib.sha256(key).digest() and
          first(d, 0x420038) == 6 and first(d, 0x420042) == 1,
          "Digest of a registered key: %r" % (d,))
    u = uid(ok(OP_CREATE, enum(0x420057, 2) + tmpl(attribute(
        "Cryptographic Algorithm", enum(T_VALUE, 3)), attribute(
        "Cryptographic Length", integer(T_VALUE, 256)), usage(12)),
        "Create AES"))
    pl = ok(OP_GET_ATTRS, text(T_UID, u), "Get Attributes")
    d = attr_value(pl, "Digest")
    check(d is not None and len(first(d, 0x420035)) == 32,
          "no Digest of a made key")
    for name in ("Always Sensitive", "Never Extractable", "Sensitive",
                 "Extractable", "Fresh", "Random Number Generator"):
        check(attr_value(pl, name) is not None, "no " + name)
    # The value it digests is the one Get gives.
    km = first(first(first(first(ok(OP_GET, text(T_UID, u), "Get"),
                                 0x42008f), 0x420040), 0x420045), 0x420043)
    check(hashlib.sha256(km).digest() == first(d, 0x420035),
          "Digest of a made key is not that of its value")
    priv, pub = ckp()
    for u in (priv, pub):
        d = attr_value(ok(OP_GET_ATTRS, text(T_UID, u) + text(
            T_ATTR_NAME, "Digest"), "Get Digest"), "Digest")
        check(d is not None and first(d, 0x420042) == 3,
              "Digest of an RSA key in PKCS#1: %r" % (d,))
    pk = first(first(first(first(ok(OP_GET, text(T_UID, pub), "Get"),
                                 0x42006d), 0x420040), 0x420045), 0x420043)
    d = attr_value(ok(OP_GET_ATTRS, text(T_UID, pub) + text(
        T_ATTR_NAME, "Digest"), "Get Digest"), "Digest")
    check(first(d, 0x420035) == hashlib.sha256(pk).digest(),
          "Digest of a public key is not that of its PKCS#1 value")
elif case == "modes":
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
    from cryptography.hazmat.primitives.ciphers import modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives import padding
    u = register_aes()
    msg = b"sixteen byte blk" * 2 + b"tail"
    iv = bytes(range(16))

    def enc(mode, pad, plain, iv_=None):
        p = structure(T_CP, enum(0x420011, mode),
                      enum(0x42005f, pad) if pad else b"")
        pl = ok(OP_ENCRYPT, text(T_UID, u) + p + data(T_DATA, plain) +
                (data(T_IV, iv_) if iv_ is not None else b""),
                "Encrypt mode %d" % mode)
        return first(pl, T_DATA), first(pl, T_IV)

    def dec(mode, pad, ct, iv_=None):
        p = structure(T_CP, enum(0x420011, mode),
                      enum(0x42005f, pad) if pad else b"")
        return first(ok(OP_DECRYPT, text(T_UID, u) + p + data(T_DATA, ct) +
                        (data(T_IV, iv_) if iv_ is not None else b""),
                        "Decrypt mode %d" % mode), T_DATA)

    padder = padding.PKCS7(128).padder()
    padded = padder.update(msg) + padder.finalize()
    e = Cipher(algorithms.AES(KEY), modes.ECB()).encryptor()
    ct, _ = enc(2, 3, msg)
    check(ct == e.update(padded) + e.finalize(), "AES-ECB PKCS5")
    check(dec(2, 3, ct) == msg, "AES-ECB PKCS5 decrypt")
    e = Cipher(algorithms.AES(KEY), modes.CBC(iv)).encryptor()
    ct, back = enc(1, 3, msg, iv)
    check(ct == e.update(padded) + e.finalize() and back is None,
          "AES-CBC PKCS5 with the client's IV")
    check(dec(1, 3, ct, iv) == msg, "AES-CBC decrypt")
    ct, made = enc(1, 0, msg[:32])
    check(made is not None and len(made) == 16, "AES-CBC: an IV is made")
    e = Cipher(algorithms.AES(KEY), modes.CBC(made)).encryptor()
    check(ct == e.update(msg[:32]) + e.finalize(), "AES-CBC, no padding")
    refused(OP_ENCRYPT, text(T_UID, u) + structure(
        T_CP, enum(0x420011, 1)) + data(T_DATA, msg), INVALID_FIELD,
        "AES-CBC without padding of a partial block")
    refused(OP_DECRYPT, text(T_UID, u) + structure(
        T_CP, enum(0x420011, 1)) + data(T_DATA, ct), 0x04,
        "AES-CBC Decrypt without an IV")
    e = Cipher(algorithms.AES(KEY), modes.CTR(iv)).encryptor()
    ct, _ = enc(6, 0, msg, iv)
    check(ct == e.update(msg) + e.finalize(), "AES-CTR")
    n8 = bytes(8)
    pl = ok(OP_ENCRYPT, text(T_UID, u) + structure(T_CP, enum(
        0x420011, 9)) + data(T_DATA, msg) + data(T_IV, n8), "AES-GCM iv 8")
    check(AESGCM(KEY).encrypt(n8, msg, None) ==
          first(pl, T_DATA) + first(pl, T_TAG), "AES-GCM with an 8-byte IV")
elif case == "keyless":
    pl = ok(OP_HASH, structure(T_CP, enum(0x420038, 6)) +
            data(T_DATA, b"abc"), "Hash")
    check(first(pl, T_DATA) == hashlib.sha256(b"abc").digest(), "SHA-256")
    pl = ok(OP_RNG_RETRIEVE, integer(0x4200c4, 48), "RNG Retrieve")
    check(len(first(pl, T_DATA)) == 48, "RNG Retrieve length")
    refused(OP_RNG_RETRIEVE, integer(0x4200c4, 0), INVALID_FIELD,
            "RNG Retrieve of nothing")
    pl = ok(OP_RNG_SEED, data(T_DATA, bytes(32)), "RNG Seed")
    check(first(pl, 0x4200c4) == 32, "RNG Seed length")
    ops = find(ok(OP_QUERY, enum(0x420074, 1), "Query"), 0x42005c)
    check(all(o in ops for o in (OP_HASH, OP_RNG_RETRIEVE, OP_RNG_SEED)),
          "Query lists Hash and RNG: %r" % ops)
elif case == "opaque":
    value = b"\x00opaque value\xff" * 3
    u = uid(ok(OP_REGISTER, enum(0x420057, 8) + tmpl() + structure(
        0x42005b, enum(0x420059, 0x80000001), data(0x42005a, value)),
        "Register Opaque"))
    o = first(ok(OP_GET, text(T_UID, u), "Get Opaque"), 0x42005b)
    check(o is not None and first(o, 0x420059) == 0x80000001 and
          first(o, 0x42005a) == value, "Opaque Object back: %r" % (o,))
    objs = find(ok(OP_QUERY, enum(0x420074, 2), "Query"), 0x420057)
    check(8 in objs, "Query lists Opaque Objects")
elif case == "usagelimits":
    def limits(total, unit, count=None):
        return attribute("Usage Limits", structure(
            T_VALUE, ttlv(0x420097, 3, struct.pack(">q", total)),
            ttlv(0x420096, 3, struct.pack(">q", count))
            if count is not None else b"", enum(0x420098, unit)))
    refused(OP_REGISTER, enum(0x420057, 2) + tmpl(limits(16, 1, 99)),
            INVALID_FIELD, "Register with a Usage Limits Count")
    u = register_aes(params=limits(32, 1))
    ecb = structure(T_CP, enum(0x420011, 2))
    ok(OP_ENCRYPT, text(T_UID, u) + ecb + data(T_DATA, bytes(16)),
       "Encrypt 16 of 32 bytes")
    ok(OP_ENCRYPT, text(T_UID, u) + ecb + data(T_DATA, bytes(16)),
       "Encrypt 32 of 32 bytes")
    refused(OP_ENCRYPT, text(T_UID, u) + ecb + data(T_DATA, bytes(16)),
            PERMISSION_DENIED, "Encrypt past the Usage Limits")
    ok(OP_DECRYPT, text(T_UID, u) + ecb + data(T_DATA, bytes(16)),
       "Decrypt is not limited")
    refused(OP_MODIFY, text(T_UID, u) + limits(64, 1), PERMISSION_DENIED,
            "Modify the Usage Limits")
    u = register_aes(params=limits(1, 2))
    ok(OP_ENCRYPT, text(T_UID, u) + ecb + data(T_DATA, bytes(64)),
       "Encrypt once of once")
    refused(OP_ENCRYPT, text(T_UID, u) + ecb + data(T_DATA, bytes(16)),
            PERMISSION_DENIED, "Encrypt twice of once")
elif case == "des3":
    u = uid(ok(OP_CREATE, enum(0x420057, 2) + tmpl(attribute(
        "Cryptographic Algorithm", enum(T_VALUE, 2)), attribute(
        "Cryptographic Length", integer(T_VALUE, 168)), usage(12)),
        "Create Triple DES"))
    kb = first(first(ok(OP_GET, text(T_UID, u), "Get"), 0x42008f), 0x420040)
    km = first(first(kb, 0x420045), 0x420043)
    check(len(km) == 24 and all(bin(b).count("1") % 2 == 1 for b in km),
          "Triple DES key of 24 bytes with odd parity: %r" % km)
    check(first(kb, 0x42002a) == 168, "Cryptographic Length 168")
    ok(OP_ACTIVATE, text(T_UID, u), "Activate")
    refused(OP_ENCRYPT, text(T_UID, u) + data(T_DATA, bytes(8)),
            INVALID_FIELD, "Encrypt with Triple DES")
    refused(OP_CREATE, enum(0x420057, 2) + tmpl(attribute(
        "Cryptographic Algorithm", enum(T_VALUE, 2)), attribute(
        "Cryptographic Length", integer(T_VALUE, 112))), INVALID_FIELD,
        "Create two-key Triple DES")
elif case == "tokenmode":
    u = uid(ok(OP_CREATE, enum(0x420057, 2) + tmpl(attribute(
        "Cryptographic Algorithm", enum(T_VALUE, 3)), attribute(
        "Cryptographic Length", integer(T_VALUE, 256)), usage(12)),
        "Create AES in the token"))
    ok(OP_ACTIVATE, text(T_UID, u), "Activate")
    refused(OP_ENCRYPT, text(T_UID, u) + structure(T_CP, enum(
        0x420011, 2)) + data(T_DATA, bytes(16)), INVALID_FIELD,
        "AES-ECB with a token key")
    refused(OP_ENCRYPT, text(T_UID, u) + structure(T_CP, enum(
        0x420011, 9)) + data(T_DATA, bytes(16)) + data(T_IV, bytes(8)),
        INVALID_FIELD, "AES-GCM with an 8-byte IV and a token key")
    ok(OP_ENCRYPT, text(T_UID, u) + data(T_DATA, bytes(16)), "AES-GCM")
else:
    check(False, "unknown case " + case)
print("ok")
