# A key's own Cryptographic Parameters are used when a request gives none
# (KMIP 1.x, Sign/Encrypt/...): a key made for RSA-PSS signs with PSS, and
# a mode the server cannot do is refused rather than replaced by another.
#
#   keyparams.py PORT PKI_DIR
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure, text)

port, pki = int(sys.argv[1]), sys.argv[2]
s = connect(port, pki)

T_UID, T_PAYLOAD, T_ITEM, T_STATUS, T_VALUE = 0x420094, 0x42007c, \
    0x42000f, 0x42007f, 0x42000b
PAD_PSS, PAD_PKCS1, HASH_SHA256, MODE_CBC, MODE_GCM = 0x0a, 0x08, 6, 1, 9
MODE_XTS = 11


def call(op, payload):
    """One item; (status, reason, payload items)."""
    s.sendall(request(op, payload, minor=2))
    it = find(parse(read_message(s))[0][2], T_ITEM)[0]
    return first(it, T_STATUS), first(it, 0x42007e), first(it, T_PAYLOAD)


def ok(op, payload, what):
    st, reason, p = call(op, payload)
    check(st == 0, "%s: reason %s" % (what, reason))
    return p


def params(*items):
    return structure(0x42002b, *items)


def alg_len(alg, bits):
    return attribute("Cryptographic Algorithm", enum(T_VALUE, alg)) + \
        attribute("Cryptographic Length", integer(T_VALUE, bits))


# RSA key pair whose private key says PSS with SHA-256.
p = ok(0x02, structure(0x42001f, alg_len(4, 2048)) +
       structure(0x420065, attribute("Cryptographic Parameters",
                 structure(T_VALUE, enum(0x42005f, PAD_PSS),
                           enum(0x420038, HASH_SHA256)))), "create RSA pair")
priv, pub = first(p, 0x420066), first(p, 0x42006f)
ok(0x12, text(T_UID, priv), "activate")
p = ok(0x0a, text(T_UID, pub) + enum(0x420042, 5), "get public key")
key = serialization.load_der_public_key(
    first(first(first(first(p, 0x42006d), 0x420040), 0x420045), 0x420043))
msg = b"signed with the key's own parameters"
sig = first(ok(0x21, text(T_UID, priv) + data(0x4200c2, msg), "sign"),
            0x4200c3)
key.verify(sig, msg, padding.PSS(padding.MGF1(hashes.SHA256()),
                                 padding.PSS.AUTO), hashes.SHA256())
try:
    key.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
    check(False, "a PSS key signed with PKCS#1 v1.5")
except InvalidSignature:
    pass
# The request's own parameters still win.
sig = first(ok(0x21, text(T_UID, priv) + params(enum(0x42005f, PAD_PKCS1),
                                                 enum(0x420038, HASH_SHA256)) +
               data(0x4200c2, msg), "sign with PKCS#1 v1.5 asked for"),
            0x4200c3)
key.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())

# AES keys made for a mode we cannot serve (XTS): refused, not encrypted
# with GCM; a CBC key encrypts in CBC (an IV back, no GCM tag).
for mode, want in ((MODE_XTS, False), (MODE_GCM, True), (MODE_CBC, True)):
    uid = first(ok(0x01, enum(0x420057, 2) + structure(
        0x420091, alg_len(3, 256),
        attribute("Cryptographic Usage Mask", integer(T_VALUE, 4 | 8)),
        attribute("Cryptographic Parameters",
                  structure(T_VALUE, enum(0x420011, mode)))),
        "create AES"), T_UID)
    ok(0x12, text(T_UID, uid), "activate AES")
    st, reason, p = call(0x1f, text(T_UID, uid) + data(0x4200c2, b"x" * 32))
    if want:
        check(st == 0, "GCM key encrypts: reason %s" % reason)
        check((first(p, 0x4200ff) is None) == (mode == MODE_CBC),
              "a GCM tag only in GCM mode")
    else:
        check(st == 1 and reason == 0x07,
              "XTS key: Invalid Field, got status %s reason %s" %
              (st, reason))
s.close()
print("ok")
