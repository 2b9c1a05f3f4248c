# What KMIP 1.4 adds to a key operation's parameters, on the default
# signer (openssl or a SoftHSM token): Sign and Signature Verify of
# Digested Data (the client's digest, as a CA's Sign(digest) hands it
# over), the PSS Salt Length (default: the hash length), the MGF1 hash,
# and OAEP decryption with SHA-1, SHA-256 and a label (P Source).  Every
# signature is verified here with the cryptography package (Prehashed)
# and the public key from Get.  Prints "FAIL: ..." and exits 1 on the
# first failure, "ok" at the end.
#
#   prehash.py PORT PKI_DIR soft|token
import hashlib
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure, text)

port, pki, where = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = connect(port, pki)

T_UID, T_VALUE, T_CP = 0x420094, 0x42000b, 0x42002b
T_PAD, T_HASH, T_SALT, T_MGF, T_MGFHASH, T_PSOURCE, T_DIGESTED = \
    0x42005f, 0x420038, 0x420100, 0x420101, 0x420102, 0x420103, 0x420107
T_DATA, T_SIG, T_VALIDITY = 0x4200c2, 0x4200c3, 0x42009b
PAD_OAEP, PAD_PKCS1, PAD_PSS = 0x02, 0x08, 0x0a
SHA1, SHA256, SHA384 = 4, 6, 7
INVALID_FIELD = 0x07
msg = b"a certificate's to-be-signed bytes, hashed by the CA"


def call(op, payload, minor=4):
    """One item; (status, reason, payload items, message)."""
    s.sendall(request(op, payload, minor=minor))
    it = find(parse(read_message(s))[0][2], 0x42000f)[0]
    return first(it, 0x42007f), first(it, 0x42007e), first(it, 0x42007c), \
        first(it, 0x42007d)


def ok(op, payload, what, minor=4):
    st, reason, p, m = call(op, payload, minor)
    check(st == 0, "%s: reason %s: %s" % (what, reason, m))
    return p


def refused(op, payload, reason, words, what, minor=4):
    st, r, _, m = call(op, payload, minor)
    check(st == 1 and r == reason and words in (m or ""),
          "%s: status %s reason %s (wanted %s, '%s'): %s" %
          (what, st, r, reason, words, m))


def cp(*items):
    return structure(T_CP, *items)


def pair(alg, bits):
    p = ok(0x02, structure(0x42001f, attribute(
        "Cryptographic Algorithm", enum(T_VALUE, alg)), attribute(
        "Cryptographic Length", integer(T_VALUE, bits))),
        "create key pair %d/%d" % (alg, bits))
    priv, pub = first(p, 0x420066), first(p, 0x42006f)
    ok(0x12, text(T_UID, priv), "activate")
    p = ok(0x0a, text(T_UID, pub) + enum(0x420042, 5), "get public key")
    km = first(first(first(first(p, 0x42006d), 0x420040), 0x420045),
               0x420043)
    return priv, pub, serialization.load_der_public_key(km)


def sign(priv, params, digest=None, message=None, what="sign"):
    body = text(T_UID, priv) + params
    body += data(T_DIGESTED, digest) if digest is not None else \
        data(T_DATA, message)
    return first(ok(0x21, body, what), T_SIG)


def verifies(fn, what):
    try:
        fn()
    except InvalidSignature:
        check(False, what + ": signature does not verify")


def server_verify(pub, params, digest, sig, what):
    p = ok(0x22, text(T_UID, pub) + params + data(T_DIGESTED, digest) +
           data(T_SIG, sig), what)
    return first(p, T_VALIDITY) == 1


d256 = hashlib.sha256(msg).digest()
d384 = hashlib.sha384(msg).digest()

# RSA: PKCS#1 v1.5 and PSS over the client's digest.
priv, pub, key = pair(4, 2048)
v15 = cp(enum(T_PAD, PAD_PKCS1), enum(T_HASH, SHA256))
sig = sign(priv, v15, digest=d256, what="RSA PKCS#1 v1.5 digest")
verifies(lambda: key.verify(sig, d256, padding.PKCS1v15(),
                            utils.Prehashed(hashes.SHA256())),
         "RSA PKCS#1 v1.5 digest")
check(sig == sign(priv, v15, message=msg), "pre-hashed and whole-message "
      "PKCS#1 v1.5 signatures are the same")
pss = cp(enum(T_PAD, PAD_PSS), enum(T_HASH, SHA256))
sig = sign(priv, pss, digest=d256, what="RSA PSS digest")
verifies(lambda: key.verify(sig, d256, padding.PSS(
    padding.MGF1(hashes.SHA256()), 32), utils.Prehashed(hashes.SHA256())),
    "RSA PSS digest, salt of the hash length")
for salt in (0, 20, 64):
    ps = cp(enum(T_PAD, PAD_PSS), enum(T_HASH, SHA256),
            integer(T_SALT, salt))
    for pre in (True, False):
        what = "RSA PSS salt %d%s" % (salt, " digest" if pre else "")
        sig = sign(priv, ps, digest=d256 if pre else None,
                   message=None if pre else msg, what=what)
        verifies(lambda: key.verify(sig, msg, padding.PSS(
            padding.MGF1(hashes.SHA256()), salt), hashes.SHA256()), what)
        if salt != 32:
            try:
                key.verify(sig, msg, padding.PSS(
                    padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
                check(False, what + ": signed with the default salt")
            except InvalidSignature:
                pass
# MGF1 with another hash than the message's.
ps = cp(enum(T_PAD, PAD_PSS), enum(T_HASH, SHA256), enum(T_MGF, 1),
        enum(T_MGFHASH, SHA384))
st, r, p, m = call(0x21, text(T_UID, priv) + ps + data(T_DIGESTED, d256))
if st == 0:
    verifies(lambda: key.verify(first(p, T_SIG), msg, padding.PSS(
        padding.MGF1(hashes.SHA384()), 32), hashes.SHA256()),
        "PSS with MGF1 SHA-384")
else:
    check(where == "token" and "CKM_RSA_PKCS_PSS" in m,
          "MGF1 SHA-384 refused without naming the mechanism: %s" % m)
# Signature Verify of Digested Data, on the server.
ok(0x12, text(T_UID, pub), "activate public key")
sig = sign(priv, pss, digest=d256)
check(server_verify(pub, pss, d256, sig, "verify digest"),
      "server verify of a digest: valid")
check(not server_verify(pub, pss, hashlib.sha256(b"other").digest(), sig,
                        "verify other digest"),
      "server verify of another digest: invalid")
check(server_verify(pub, v15, d256, sign(priv, v15, message=msg),
                    "verify v1.5 digest"),
      "server verify of a whole-message signature by its digest")

# What is refused: a digest of the wrong length, Digested Data before
# KMIP 1.4, both Data and Digested Data, 1.4 fields in a 1.2 request.
refused(0x21, text(T_UID, priv) + v15 + data(T_DIGESTED, d256[:31]),
        INVALID_FIELD, "a SHA-256 digest is 32", "short digest")
refused(0x21, text(T_UID, priv) + v15 + data(T_DIGESTED, d384),
        INVALID_FIELD, "a SHA-256 digest is 32", "SHA-384 digest as SHA-256")
refused(0x21, text(T_UID, priv) + v15 + data(T_DIGESTED, d256),
        INVALID_FIELD, "KMIP 1.4", "Digested Data in KMIP 1.2", minor=2)
refused(0x21, text(T_UID, priv) + v15 + data(T_DIGESTED, d256) +
        data(T_DATA, msg), INVALID_FIELD, "instead of Data",
        "Data and Digested Data")
refused(0x21, text(T_UID, priv) + cp(enum(T_PAD, PAD_PSS),
                                     enum(T_HASH, SHA256),
                                     integer(T_SALT, 20)) +
        data(T_DATA, msg), INVALID_FIELD, "KMIP 1.4",
        "Salt Length in KMIP 1.2", minor=2)
refused(0x21, text(T_UID, priv) + cp(enum(T_PAD, PAD_PSS),
                                     enum(T_HASH, SHA256),
                                     integer(T_SALT, -1)) +
        data(T_DATA, msg), INVALID_FIELD, "Salt Length", "negative salt")

# ECDSA over the client's digest.
for bits, h, d, hh in ((256, SHA256, d256, hashes.SHA256()),
                       (384, SHA384, d384, hashes.SHA384())):
    epriv, _, ekey = pair(6, bits)
    sig = sign(epriv, cp(enum(T_HASH, h)), digest=d,
               what="ECDSA P-%d digest" % bits)
    verifies(lambda: ekey.verify(sig, d, ec.ECDSA(utils.Prehashed(hh))),
             "ECDSA P-%d digest" % bits)
    verifies(lambda: ekey.verify(sig, msg, ec.ECDSA(hh)),
             "ECDSA P-%d digest, as a message signature" % bits)
    refused(0x21, text(T_UID, epriv) + cp(enum(T_HASH, h)) +
            data(T_DIGESTED, d + b"x"), INVALID_FIELD, "digest is",
            "ECDSA P-%d long digest" % bits)

# Ed25519 has no pre-hashed form here: refused by name.
p = ok(0x02, structure(0x42001f, attribute("Cryptographic Algorithm",
                                           enum(T_VALUE, 0x37))), "Ed25519")
edpriv = first(p, 0x420066)
ok(0x12, text(T_UID, edpriv), "activate Ed25519")
refused(0x21, text(T_UID, edpriv) + data(T_DIGESTED, d256),
        INVALID_FIELD, "Ed25519", "Ed25519 digest")

# OAEP: SHA-1, SHA-256, with a label (P Source).
secret = b"a session key"
for h, hh in ((SHA1, hashes.SHA1()), (SHA256, hashes.SHA256())):
    for label in (None, b"a label"):
        what = "OAEP %s%s" % (hh.name, " with a label" if label else "")
        ct = key.encrypt(secret, padding.OAEP(padding.MGF1(hh), hh, label))
        params = cp(enum(T_PAD, PAD_OAEP), enum(T_HASH, h)) if not label \
            else cp(enum(T_PAD, PAD_OAEP), enum(T_HASH, h),
                    data(T_PSOURCE, label))
        st, r, p, m = call(0x20, text(T_UID, priv) + params +
                           data(T_DATA, ct))
        if st == 0:
            check(first(p, T_DATA) == secret, what + ": wrong plaintext")
            print(what + ": decrypted")
            if label:
                st, r, _, _ = call(0x20, text(T_UID, priv) + cp(
                    enum(T_PAD, PAD_OAEP), enum(T_HASH, h),
                    data(T_PSOURCE, b"another label")) + data(T_DATA, ct))
                check(st == 1 and r == 0x0a,
                      what + ": another label must not decrypt")
            continue
        # SoftHSM 2.6.1 has OAEP with SHA-1 only; a token is never
        # given a label (modules may ignore it).
        check(where == "token" and r == 0x05 and
              "does not offer CKM_RSA_PKCS_OAEP with" in m,
              "%s refused without naming the mechanism: %s %s" %
              (what, r, m))
        check(where == "soft" or h != SHA1 or label,
              "token refuses plain OAEP SHA-1: %s" % m)
        print(what + ": refused: " + m)
s.close()
print("ok")
