# Keys made and used inside a SoftHSM token through KMIP (issue 8, first
# increment): the pkcs11 signer is the default signer.  PyKMIP drives
# Create Key Pair, Sign, Decrypt, MAC and Get; hand-built TTLV drives
# Ed25519 and AES-GCM (PyKMIP returns no tag).  Every signature is
# verified here with the cryptography package and the public key from
# Get.  The ids of the private and secret keys made go to IDS_FILE, one
# "id kind" a line, for pkcs11-tool to look at.  Prints "FAIL: ..." and
# exits 1 on the first failure, "ok" at the end.
#
#   pkcs11_ops.py PORT PKI_DIR IDS_FILE
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from kmip import enums
from kmip.pie.exceptions import KmipOperationFailure

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, fails, pykmip  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure, text)

port, pki, idsfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
A = enums.CryptographicAlgorithm
H = enums.HashingAlgorithm
P = enums.PaddingMethod
R = enums.ResultReason
ids = open(idsfile, "w")
msg = b"the whole message, signed inside the token"


def public_key(c, uid):
    key = c.get(uid)
    check(key.object_type == enums.ObjectType.PUBLIC_KEY, "get: public key")
    return serialization.load_der_public_key(key.value)


def verifies(fn, what):
    try:
        fn()
    except InvalidSignature:
        check(False, what + ": signature does not verify")


c = pykmip(port, pki)

# Key pairs of every size and curve; each signature checked here.
cases = [
    (A.RSA, 2048, {"padding_method": P.PKCS1v15,
                   "hashing_algorithm": H.SHA_256,
                   "cryptographic_algorithm": A.RSA},
     lambda k, s, m: k.verify(s, m, padding.PKCS1v15(), hashes.SHA256())),
    (A.RSA, 3072, {"padding_method": P.PSS,
                   "hashing_algorithm": H.SHA_384,
                   "cryptographic_algorithm": A.RSA},
     lambda k, s, m: k.verify(s, m, padding.PSS(
         mgf=padding.MGF1(hashes.SHA384()), salt_length=48),
         hashes.SHA384())),
    (A.RSA, 4096, {"padding_method": P.PSS,
                   "hashing_algorithm": H.SHA_256,
                   "cryptographic_algorithm": A.RSA},
     lambda k, s, m: k.verify(s, m, padding.PSS(
         mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
         hashes.SHA256())),
    (A.ECDSA, 256, {"hashing_algorithm": H.SHA_256,
                    "cryptographic_algorithm": A.ECDSA},
     lambda k, s, m: k.verify(s, m, ec.ECDSA(hashes.SHA256()))),
    (A.ECDSA, 384, {"hashing_algorithm": H.SHA_384,
                    "cryptographic_algorithm": A.ECDSA},
     lambda k, s, m: k.verify(s, m, ec.ECDSA(hashes.SHA384()))),
    (A.ECDSA, 521, {"hashing_algorithm": H.SHA_512,
                    "cryptographic_algorithm": A.ECDSA},
     lambda k, s, m: k.verify(s, m, ec.ECDSA(hashes.SHA512()))),
]
for alg, bits, params, verify in cases:
    what = "%s-%d" % (alg.name, bits)
    pub, priv = c.create_key_pair(alg, bits)
    ids.write("%s %s %s\n" % (priv, what, pub))
    fails(lambda: c.get(priv), R.PERMISSION_DENIED,
          what + ": private key not exported")
    c.activate(priv)
    key = public_key(c, pub)
    for m in (msg, b""):
        sig = c.sign(m, uid=priv, cryptographic_parameters=params)
        verifies(lambda: verify(key, sig, m), what)
    try:
        verify(key, sig[:-1] + bytes([sig[-1] ^ 1]), b"")
        check(False, what + ": a bad signature verified")
    except InvalidSignature:
        pass
    # Signature Verify on the server, in software with the public key.
    c.activate(pub)
    check(c.signature_verify(msg, c.sign(msg, uid=priv,
                                         cryptographic_parameters=params),
                             uid=pub, cryptographic_parameters=params) ==
          enums.ValidityIndicator.VALID, what + ": server verify, valid")
    check(c.signature_verify(msg + b"!", c.sign(
        msg, uid=priv, cryptographic_parameters=params), uid=pub,
        cryptographic_parameters=params) ==
        enums.ValidityIndicator.INVALID, what + ": server verify, invalid")

# RSA decryption in the token: PKCS#1 v1.5 and OAEP SHA-256, of what
# the client encrypted with the public key from Get.
pub, priv = c.create_key_pair(A.RSA, 2048)
ids.write("%s RSA-2048-crypt %s\n" % (priv, pub))
c.activate(priv)
c.activate(pub)
key = public_key(c, pub)
secret = b"a session key, say"
v15 = {"padding_method": P.PKCS1v15, "cryptographic_algorithm": A.RSA}
ct = key.encrypt(secret, padding.PKCS1v15())
check(c.decrypt(ct, uid=priv, cryptographic_parameters=v15) == secret,
      "token decrypts PKCS#1 v1.5")
oaep = {"padding_method": P.OAEP, "hashing_algorithm": H.SHA_256,
        "cryptographic_algorithm": A.RSA}
ct = key.encrypt(secret, padding.OAEP(
    mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
    label=None))
# SoftHSM 2.6 lists CKM_RSA_PKCS_OAEP but takes SHA-1 only: refused, by
# the mechanism's name; a token that can does it.
try:
    check(c.decrypt(ct, uid=priv, cryptographic_parameters=oaep) == secret,
          "token decrypts OAEP SHA-256")
    ct, _ = c.encrypt(secret, uid=pub, cryptographic_parameters=oaep)
    check(c.decrypt(ct, uid=priv, cryptographic_parameters=oaep) == secret,
          "server round trip (OAEP)")
    print("OAEP SHA-256 decrypted in the token")
except KmipOperationFailure as e:
    check(e.reason == R.OPERATION_NOT_SUPPORTED and
          "does not offer CKM_RSA_PKCS_OAEP with SHA-256" in e.message,
          "OAEP SHA-256 refused by name: %s %s" % (e.reason, e.message))
    print("OAEP SHA-256 refused:", e.message)
fails(lambda: c.decrypt(ct[:-1] + bytes([ct[-1] ^ 1]), uid=priv,
                        cryptographic_parameters=v15),
      R.CRYPTOGRAPHIC_FAILURE, "tampered ciphertext")

# HMAC in the token: deterministic, per key, per message.
macmask = [enums.CryptographicUsageMask.MAC_GENERATE]
h1 = c.create(A.HMAC_SHA256, 256, cryptographic_usage_mask=macmask)
h2 = c.create(A.HMAC_SHA256, 256, cryptographic_usage_mask=macmask)
h3 = c.create(A.HMAC_SHA512, 512, cryptographic_usage_mask=macmask)
for h, what in ((h1, "HMAC-SHA256"), (h2, "HMAC-SHA256"),
                (h3, "HMAC-SHA512")):
    ids.write("%s %s\n" % (h, what))
    c.activate(h)
m1 = c.mac(b"data", uid=h1, algorithm=A.HMAC_SHA256)[1]
check(len(m1) == 32, "HMAC-SHA256 is 32 bytes")
check(c.mac(b"data", uid=h1, algorithm=A.HMAC_SHA256)[1] == m1,
      "MAC is deterministic")
check(c.mac(b"datb", uid=h1, algorithm=A.HMAC_SHA256)[1] != m1,
      "other data, other MAC")
check(c.mac(b"data", uid=h2, algorithm=A.HMAC_SHA256)[1] != m1,
      "another key, another MAC")
check(len(c.mac(b"data", uid=h3, algorithm=A.HMAC_SHA512)[1]) == 64,
      "HMAC-SHA512 is 64 bytes")
fails(lambda: c.get(h1), R.PERMISSION_DENIED, "HMAC key not exported")
c.close()

# Hand-built TTLV: Ed25519, AES-GCM, Get of a token AES key.
s = connect(port, pki)


def call(op, payload):
    s.sendall(request(op, payload))
    it = find(parse(read_message(s))[0][2], 0x42000f)[0]
    return first(it, 0x42007f), first(it, 0x42007e), first(it, 0x42007c), \
        first(it, 0x42007d)


T_UID = 0x420094
st, _, p, m = call(0x02, structure(
    0x42001f, attribute("Cryptographic Algorithm", enum(0x42000b, 0x37))))
check(st == 0, "Ed25519 key pair: %s" % m)
pub, priv = first(p, 0x42006f), first(p, 0x420066)
ids.write("%s Ed25519 %s\n" % (priv, pub))
check(call(0x12, text(T_UID, priv))[0] == 0, "activate Ed25519")
st, _, p, m = call(0x21, text(T_UID, priv) + data(0x4200c2, msg))
check(st == 0, "Ed25519 sign: %s" % m)
sig = first(p, 0x4200c3)
st, _, p, _ = call(0x0a, text(T_UID, pub))
km = first(first(first(first(p, 0x42006d), 0x420040), 0x420045), 0x420043)
verifies(lambda: serialization.load_der_public_key(km).verify(sig, msg),
         "Ed25519")
check(len(sig) == 64, "Ed25519 signature of 64 bytes")

for bits in (128, 256):
    ta = structure(0x420091,
                   attribute("Cryptographic Algorithm", enum(0x42000b, 3)),
                   attribute("Cryptographic Length", integer(0x42000b, bits)),
                   attribute("Cryptographic Usage Mask",
                             integer(0x42000b, 4 | 8)))
    st, _, p, m = call(0x01, enum(0x420057, 2) + ta)
    check(st == 0, "create AES-%d: %s" % (bits, m))
    aesid = first(p, T_UID)
    ids.write("%s AES-%d\n" % (aesid, bits))
    uid = text(T_UID, aesid)
    check(call(0x12, uid)[0] == 0, "activate")
    st, reason, _, m = call(0x0a, uid)
    check(st == 1 and reason == 0x0c,
          "Get of a token AES key refused: %s %s" % (reason, m))
    gcm = structure(0x42002b, enum(0x420011, 9), integer(0x4200ce, 16))
    aad = data(0x4200fe, b"header")
    plain = b"the quick brown fox jumps over the lazy dog"
    st, _, p, m = call(0x1f, uid + gcm + data(0x4200c2, plain) + aad)
    check(st == 0, "GCM encrypt: %s" % m)
    ct, iv, tag = first(p, 0x4200c2), first(p, 0x42003d), first(p, 0x4200ff)
    check(ct != plain and len(ct) == len(plain), "ciphertext")
    check(len(iv) == 12 and len(tag) == 16, "signer-made IV, 16-byte tag")
    dec = uid + gcm + data(0x4200c2, ct) + data(0x42003d, iv) + aad
    st, _, p, m = call(0x20, dec + data(0x4200ff, tag))
    check(st == 0 and first(p, 0x4200c2) == plain, "GCM decrypt: %s" % m)
    st, reason, _, _ = call(0x20, dec + data(0x4200ff, tag[:-1] +
                                             bytes([tag[-1] ^ 1])))
    check(st == 1 and reason == 0x0a,
          "a flipped tag bit: Cryptographic Failure")
    myiv = bytes(range(12))
    st, _, p, _ = call(0x1f, uid + gcm + data(0x4200c2, b"") +
                       data(0x42003d, myiv))
    check(st == 0, "GCM encrypt of nothing, client IV")
    st, _, p, m = call(0x20, uid + gcm + data(0x4200c2, b"") +
                       data(0x42003d, myiv) +
                       data(0x4200ff, first(p, 0x4200ff)))
    check(st == 0 and not first(p, 0x4200c2), "GCM decrypt of nothing: %s"
          % m)
ids.close()
print("ok")
