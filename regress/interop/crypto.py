# The cryptographic edges of the OASIS KMIP 1.4 vectors (issue 10), by
# hand-made TTLV against the real daemon:
#
#   sha1verify	a signature made with SHA-1 verifies (RSA PSS and PKCS#1
#		v1.5, ECDSA), a SHA-256 one checked as SHA-1 is Invalid, not
#		an error (CS-AC-M-3); signing with SHA-1 stays refused
#   hmackey	an AES key MACs with the HMAC its Cryptographic Parameters
#		name when its usage mask has MAC Generate / MAC Verify
#		(CS-AC-M-4 to 6), and not without them
#   gcmtag	a GCM Tag Length outside 12..16 is General Failure
#		(CS-BC-M-GCM-1), at every protocol version
#   stream	Encrypt and Decrypt by parts (CS-BC-M-GCM-3): GCM and CBC
#		give what the whole operation gives, a GCM decryption
#		gives its plaintext only once the tag is verified, and
#		none if it is wrong; malformed stream fields are refused
#   streamidle	streams abandoned: past the per-client limit a clean
#		error, then the idle timeout frees them; a connection
#		that closes frees its own at once
#   streamforeign  a Correlation Value is good only for its identity on
#		its connection: Item Not Found for the others, and the
#		stream goes on for its owner
#   streamrestart  a stream across a restart of its signer: a clean
#		error, and new streams work (CTL: the signerctl command)
#   token	keys in a pkcs11 token (the default signer): a SHA-1
#		signature is checked, not refused, none is made; an AES
#		key does not MAC, nor stream: clean errors
#
#   crypto.py PORT PKI_DIR CASE [CTL]
import hashlib
import hmac
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure, text,
                     ttlv)

port, pki, case = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = connect(port, pki)

T_UID, T_PAYLOAD, T_ITEM, T_STATUS, T_REASON, T_VALUE, T_MSG = 0x420094, \
    0x42007c, 0x42000f, 0x42007f, 0x42007e, 0x42000b, 0x42007d
T_DATA, T_IV, T_TAG, T_AAD, T_CP, T_SIG, T_MAC, T_VALID = 0x4200c2, \
    0x42003d, 0x4200ff, 0x4200fe, 0x42002b, 0x4200c3, 0x4200c6, 0x42009b
T_ALG, T_HASH, T_PAD, T_MODE, T_TAGLEN = 0x420028, 0x420038, 0x42005f, \
    0x420011, 0x4200ce
OP_CKP, OP_REGISTER, OP_GET, OP_ACTIVATE, OP_ENCRYPT, OP_DECRYPT, \
    OP_SIGN, OP_VERIFY, OP_MAC, OP_MAC_VERIFY = 0x02, 0x03, 0x0a, 0x12, \
    0x1f, 0x20, 0x21, 0x22, 0x23, 0x24
INVALID_FIELD, PERMISSION_DENIED, GENERAL_FAILURE = 0x07, 0x0c, 0x100
VALID, INVALID = 1, 2
ALG_RSA, ALG_ECDSA, ALG_AES, ALG_HMAC_SHA256, ALG_HMAC_SHA512 = 4, 6, 3, \
    9, 0x0b
HASH_SHA1, HASH_SHA256 = 4, 6
PAD_PSS, PAD_PKCS1 = 10, 8
U_SIGN, U_VERIFY, U_ENCRYPT, U_DECRYPT, U_MAC, U_MACV = 1, 2, 4, 8, 0x80, \
    0x100
KEY = bytes(range(16))


def call(op, payload, minor=4, sock=None):
    sock = sock or s
    sock.sendall(request(op, payload, minor=minor))
    m = read_message(sock)
    check(m is not None, "no answer (connection closed)")
    it = find(parse(m)[0][2], T_ITEM)[0]
    return first(it, T_STATUS), first(it, T_REASON), first(it, T_PAYLOAD), \
        first(it, T_MSG)


def ok(op, payload, what, minor=4, sock=None):
    st, rr, pl, msg = call(op, payload, minor, sock)
    check(st == 0, "%s: status %s reason %s %r" % (what, st, rr, msg))
    return pl


def refused(op, payload, reason, what, minor=4, sock=None):
    st, rr, _, msg = call(op, payload, minor, sock)
    check(st == 1 and rr == reason, "%s: status %s reason %s %r, wanted %s"
          % (what, st, rr, msg, reason))
    return msg


def tmpl(*attrs):
    return structure(0x420091, *attrs)


def usage(mask):
    return attribute("Cryptographic Usage Mask", integer(T_VALUE, mask))


def params(*items):
    return structure(T_CP, *items)


def register_aes(mask, cp=None, key=KEY):
    kb = structure(0x420040, enum(0x420042, 1),
                   structure(0x420045, data(0x420043, key)),
                   enum(T_ALG, ALG_AES), integer(0x42002a, len(key) * 8))
    attrs = [usage(mask)]
    if cp is not None:
        attrs.append(attribute("Cryptographic Parameters",
                               structure(T_VALUE, *cp)))
    u = first(ok(OP_REGISTER, enum(0x420057, 2) + tmpl(*attrs) +
                 structure(0x42008f, kb), "Register AES"), T_UID)
    ok(OP_ACTIVATE, text(T_UID, u), "Activate")
    return u


def ttlv_bool(tag, v):
    return ttlv(tag, 6, struct.pack(">Q", 1 if v else 0))


def register_aes_as(sock, key=KEY):
    """An AES key of whoever sock is."""
    kb = structure(0x420040, enum(0x420042, 1),
                   structure(0x420045, data(0x420043, key)),
                   enum(T_ALG, ALG_AES), integer(0x42002a, len(key) * 8))
    u = first(ok(OP_REGISTER, enum(0x420057, 2) +
                 tmpl(usage(U_ENCRYPT | U_DECRYPT)) +
                 structure(0x42008f, kb), "Register AES", sock=sock), T_UID)
    ok(OP_ACTIVATE, text(T_UID, u), "Activate", sock=sock)
    return u


def ckp(alg, bits):
    pl = ok(OP_CKP, structure(0x42001f, attribute(
        "Cryptographic Algorithm", enum(T_VALUE, alg)), attribute(
        "Cryptographic Length", integer(T_VALUE, bits))) +
        structure(0x420065, usage(U_SIGN)) +
        structure(0x42006e, usage(U_VERIFY)), "Create Key Pair")
    priv, pub = first(pl, 0x420066), first(pl, 0x42006f)
    ok(OP_ACTIVATE, text(T_UID, priv), "Activate")
    return priv, pub


def public_key(pub):
    from cryptography.hazmat.primitives import serialization
    pl = ok(OP_GET, text(T_UID, pub) + enum(0x420042, 5), "Get SPKI")

    def walk(items):
        for (t, typ, v) in items:
            if t == 0x420043:
                return v
            if typ == 1:
                r = walk(v)
                if r is not None:
                    return r
        return None
    return serialization.load_der_public_key(walk(pl))


def verify(pub, cp, msg, sig):
    pl = ok(OP_VERIFY, text(T_UID, pub) + cp + data(T_DATA, msg) +
            data(T_SIG, sig), "Signature Verify")
    return first(pl, T_VALID)


if case == "sha1verify":
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    msg = b"signed long ago, with SHA-1"
    priv, pub = ckp(ALG_RSA, 2048)
    pss256 = params(enum(T_PAD, PAD_PSS), enum(T_HASH, HASH_SHA256),
                    enum(T_ALG, ALG_RSA))
    pss1 = params(enum(T_PAD, PAD_PSS), enum(T_HASH, HASH_SHA1),
                  enum(T_ALG, ALG_RSA))
    pkcs1 = params(enum(T_PAD, PAD_PKCS1), enum(T_HASH, HASH_SHA1),
                   enum(T_ALG, ALG_RSA))
    sig = first(ok(OP_SIGN, text(T_UID, priv) + pss256 + data(T_DATA, msg),
                   "Sign PSS SHA-256"), T_SIG)
    # CS-AC-M-3: the SHA-256 signature checked as SHA-1 is not valid.
    check(verify(pub, pss1, msg, sig) == INVALID,
          "a SHA-256 signature verified as SHA-1")
    check(verify(pub, pss256, msg, sig) == VALID, "PSS SHA-256")
    # Old signatures, made elsewhere with SHA-1: the server has no
    # private key to make them, so a second pair is registered.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    spki = k.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    kb = structure(0x420040, enum(0x420042, 5),
                   structure(0x420045, data(0x420043, spki)),
                   enum(T_ALG, ALG_RSA), integer(0x42002a, 2048))
    rpub = first(ok(OP_REGISTER, enum(0x420057, 3) + tmpl(usage(U_VERIFY)) +
                    structure(0x42006d, kb), "Register RSA public key"),
                 T_UID)
    ok(OP_ACTIVATE, text(T_UID, rpub), "Activate")
    sig = k.sign(msg, padding.PSS(padding.MGF1(hashes.SHA1()),
                                  padding.PSS.DIGEST_LENGTH), hashes.SHA1())
    check(verify(rpub, pss1, msg, sig) == VALID, "PSS SHA-1 signature")
    check(verify(rpub, pss1, msg + b".", sig) == INVALID,
          "PSS SHA-1 signature of other data")
    sig = k.sign(msg, padding.PKCS1v15(), hashes.SHA1())
    check(verify(rpub, pkcs1, msg, sig) == VALID, "PKCS#1 SHA-1 signature")
    # Digested Data (1.4): a SHA-1 digest verifies too.
    pl = ok(OP_VERIFY, text(T_UID, rpub) + pkcs1 +
            data(0x420107, hashlib.sha1(msg).digest()) + data(T_SIG, sig),
            "Signature Verify of a SHA-1 digest")
    check(first(pl, T_VALID) == VALID, "PKCS#1 SHA-1 digest")
    ek = ec.generate_private_key(ec.SECP256R1())
    spki = ek.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    kb = structure(0x420040, enum(0x420042, 5),
                   structure(0x420045, data(0x420043, spki)),
                   enum(T_ALG, ALG_ECDSA), integer(0x42002a, 256))
    epub = first(ok(OP_REGISTER, enum(0x420057, 3) + tmpl(usage(U_VERIFY)) +
                    structure(0x42006d, kb), "Register EC public key"),
                 T_UID)
    ok(OP_ACTIVATE, text(T_UID, epub), "Activate")
    sig = ek.sign(msg, ec.ECDSA(hashes.SHA1()))
    check(verify(epub, params(enum(T_HASH, HASH_SHA1), enum(T_ALG,
                                                            ALG_ECDSA)),
                 msg, sig) == VALID, "ECDSA SHA-1 signature")
    # No new signature is made with SHA-1.
    refused(OP_SIGN, text(T_UID, priv) + pss1 + data(T_DATA, msg),
            INVALID_FIELD, "Sign PSS SHA-1")
    refused(OP_SIGN, text(T_UID, priv) + pkcs1 + data(T_DATA, msg),
            INVALID_FIELD, "Sign PKCS#1 SHA-1")
    refused(OP_SIGN, text(T_UID, priv) + pkcs1 +
            data(0x420107, hashlib.sha1(msg).digest()), INVALID_FIELD,
            "Sign a SHA-1 digest")
elif case == "hmackey":
    msg = bytes(range(1, 17))
    want = hmac.new(KEY, msg, hashlib.sha256).digest()
    hmac256 = [enum(T_ALG, ALG_HMAC_SHA256)]
    # CS-AC-M-4 to 6: AES, usage Encrypt Decrypt MAC Generate MAC
    # Verify, parameters HMAC-SHA256.
    u = register_aes(U_ENCRYPT | U_DECRYPT | U_MAC | U_MACV, hmac256)
    pl = ok(OP_MAC, text(T_UID, u) + data(T_DATA, msg), "MAC")
    check(first(pl, T_MAC) == want, "MAC is HMAC-SHA256 of the key bytes")
    pl = ok(OP_MAC_VERIFY, text(T_UID, u) + data(T_DATA, msg) +
            data(T_MAC, want), "MAC Verify")
    check(first(pl, T_VALID) == VALID, "MAC Verify of the right MAC")
    pl = ok(OP_MAC_VERIFY, text(T_UID, u) + data(T_DATA, msg + b"x") +
            data(T_MAC, want), "MAC Verify")
    check(first(pl, T_VALID) == INVALID, "MAC Verify of other data")
    # The request's HMAC goes before the key's.
    pl = ok(OP_MAC, text(T_UID, u) + params(enum(T_ALG, ALG_HMAC_SHA512)) +
            data(T_DATA, msg), "MAC with HMAC-SHA512")
    check(first(pl, T_MAC) == hmac.new(KEY, msg, hashlib.sha512).digest(),
          "MAC with the request's HMAC-SHA512")
    # The key still encrypts as AES.
    ok(OP_ENCRYPT, text(T_UID, u) + data(T_DATA, msg), "Encrypt")
    # MAC Verify in the mask, not MAC Generate: verifies, never makes.
    u = register_aes(U_ENCRYPT | U_MACV, hmac256)
    refused(OP_MAC, text(T_UID, u) + data(T_DATA, msg), PERMISSION_DENIED,
            "MAC without MAC Generate in the mask")
    pl = ok(OP_MAC_VERIFY, text(T_UID, u) + data(T_DATA, msg) +
            data(T_MAC, want), "MAC Verify with MAC Verify in the mask")
    check(first(pl, T_VALID) == VALID, "MAC Verify, MAC Verify alone")
    # No MAC in the mask: an AES key stays a cipher key.
    u = register_aes(U_ENCRYPT | U_DECRYPT, hmac256)
    refused(OP_MAC, text(T_UID, u) + data(T_DATA, msg), PERMISSION_DENIED,
            "MAC without MAC in the mask")
    refused(OP_MAC_VERIFY, text(T_UID, u) + data(T_DATA, msg) +
            data(T_MAC, want), PERMISSION_DENIED,
            "MAC Verify without MAC in the mask")
    # MAC in the mask, no HMAC named anywhere: which hash is not guessed.
    u = register_aes(U_MAC | U_MACV)
    refused(OP_MAC, text(T_UID, u) + data(T_DATA, msg), INVALID_FIELD,
            "MAC of an AES key without an HMAC algorithm")
    refused(OP_MAC, text(T_UID, u) + params(enum(T_ALG, ALG_AES)) +
            data(T_DATA, msg), INVALID_FIELD, "MAC with algorithm AES")
    pl = ok(OP_MAC, text(T_UID, u) + params(*hmac256) + data(T_DATA, msg),
            "MAC with the request's HMAC-SHA256")
    check(first(pl, T_MAC) == want, "MAC with the request's HMAC")
    # Triple DES, the other symmetric algorithm, the same way.
    d = first(ok(0x01, enum(0x420057, 2) + tmpl(
        attribute("Cryptographic Algorithm", enum(T_VALUE, 2)),
        attribute("Cryptographic Length", integer(T_VALUE, 168)),
        usage(U_MAC), attribute("Cryptographic Parameters",
                                structure(T_VALUE, *hmac256))),
        "Create Triple DES"), T_UID)
    ok(OP_ACTIVATE, text(T_UID, d), "Activate")
    km = first(first(first(first(ok(OP_GET, text(T_UID, d), "Get"),
                                 0x42008f), 0x420040), 0x420045), 0x420043)
    pl = ok(OP_MAC, text(T_UID, d) + data(T_DATA, msg), "MAC, Triple DES")
    check(first(pl, T_MAC) == hmac.new(km, msg, hashlib.sha256).digest(),
          "MAC of a Triple DES key")
elif case == "gcmtag":
    u = register_aes(U_ENCRYPT | U_DECRYPT)
    zero = bytes(16)
    for minor in (0, 2, 4):
        for tl in (1, 11, 17, 32):
            refused(OP_ENCRYPT, text(T_UID, u) + params(
                enum(T_MODE, 9), integer(T_TAGLEN, tl)) +
                data(T_DATA, zero) + data(T_IV, bytes(12)),
                GENERAL_FAILURE, "GCM Tag Length %d at 1.%d" % (tl, minor),
                minor=minor)
    pl = ok(OP_ENCRYPT, text(T_UID, u) + params(
        enum(T_MODE, 9), integer(T_TAGLEN, 12)) + data(T_DATA, zero) +
        data(T_IV, bytes(12)), "GCM Tag Length 12")
    check(len(first(pl, T_TAG)) == 12, "a tag of 12 bytes")
elif case.startswith("stream"):
    T_CV, T_INIT, T_FINAL = 0x4200d6, 0x4200d7, 0x4200d8
    ITEM_NOT_FOUND = 0x01
    GCM = params(enum(T_MODE, 9), integer(T_TAGLEN, 16))
    # The vector's key and data (CS-BC-M-GCM-3, NIST GCM test case 4
    # with an 8-byte IV).
    K = bytes.fromhex("feffe9928665731c6d6a8f9467308308")
    IV = bytes.fromhex("cafebabefacedbad")
    AAD = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    P = bytes.fromhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c"
                      "303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5"
                      "aa0de657ba637b39")
    u = register_aes(U_ENCRYPT | U_DECRYPT, key=K)

    def first_part(op, d, sock=None, cp=GCM, extra=b""):
        pl = ok(op, text(T_UID, u) + cp + data(T_DATA, d) + extra +
                ttlv_bool(T_INIT, True), "first part", sock=sock)
        cv = first(pl, T_CV)
        check(cv is not None and len(cv) == 16, "a Correlation Value")
        return pl, cv

    def part(op, cv, d, final=False, sock=None, extra=b"", cp=GCM):
        return call(op, text(T_UID, u) + cp + data(T_DATA, d) +
                    data(T_CV, cv) + extra +
                    (ttlv_bool(T_FINAL, True) if final else b""),
                    sock=sock)

    def gcm_enc(sock=None):
        return first_part(OP_ENCRYPT, P[:32], sock,
                          extra=data(T_IV, IV) + data(T_AAD, AAD))

if case == "stream":
    whole = ok(OP_ENCRYPT, text(T_UID, u) + GCM + data(T_DATA, P) +
               data(T_IV, IV) + data(T_AAD, AAD), "whole Encrypt")
    ct, tag = first(whole, T_DATA), first(whole, T_TAG)
    pl, cv = gcm_enc()
    check(first(pl, T_DATA) == ct[:32], "first part's ciphertext")
    check(first(pl, T_IV) is None, "no IV back: the client gave it")
    st, rr, pl, msg = part(OP_ENCRYPT, cv, P[32:48])
    check(st == 0 and first(pl, T_DATA) == ct[32:48] and
          first(pl, T_CV) == cv, "middle part: %s %s %r" % (st, rr, msg))
    st, rr, pl, msg = part(OP_ENCRYPT, cv, P[48:], final=True)
    check(st == 0, "last part: %s %s %r" % (st, rr, msg))
    check(first(pl, T_DATA) == ct[48:] and first(pl, T_TAG) == tag,
          "last part: ciphertext and tag of the whole")
    check(first(pl, T_CV) is None, "no Correlation Value after the last")
    # Closed with the last part.
    st, rr, _, _ = part(OP_ENCRYPT, cv, P)
    check(st == 1 and rr == ITEM_NOT_FOUND, "a closed stream: %s" % rr)
    # Decrypt by parts: nothing before the tag is checked.
    pl, cv = first_part(OP_DECRYPT, ct[:20],
                        extra=data(T_IV, IV) + data(T_AAD, AAD))
    check(first(pl, T_DATA) == b"", "no plaintext before the tag")
    st, rr, pl, _ = part(OP_DECRYPT, cv, ct[20:40])
    check(st == 0 and first(pl, T_DATA) == b"", "no plaintext yet")
    st, rr, pl, msg = part(OP_DECRYPT, cv, ct[40:], final=True,
                           extra=data(T_TAG, tag))
    check(st == 0 and first(pl, T_DATA) == P,
          "decrypted by parts: %s %s %r" % (st, rr, msg))
    # A wrong tag: no plaintext at all.
    pl, cv = first_part(OP_DECRYPT, ct[:32],
                        extra=data(T_IV, IV) + data(T_AAD, AAD))
    bad = bytes([tag[0] ^ 1]) + tag[1:]
    st, rr, pl, _ = part(OP_DECRYPT, cv, ct[32:], final=True,
                         extra=data(T_TAG, bad))
    check(st == 1 and pl is None, "a wrong tag fails, with no Data")
    # CBC with PKCS5 padding by parts of any length.
    cbc = params(enum(T_MODE, 1), enum(T_PAD, 3))
    iv16 = bytes(range(16))
    whole = first(ok(OP_ENCRYPT, text(T_UID, u) + cbc + data(T_DATA, P) +
                     data(T_IV, iv16), "whole CBC"), T_DATA)
    pl, cv = first_part(OP_ENCRYPT, P[:7], cp=cbc, extra=data(T_IV, iv16))
    got = first(pl, T_DATA)
    for a, b in ((7, 30), (30, 31)):
        st, rr, pl, msg = part(OP_ENCRYPT, cv, P[a:b], cp=cbc)
        check(st == 0, "CBC part: %s %r" % (rr, msg))
        got += first(pl, T_DATA)
    st, rr, pl, msg = part(OP_ENCRYPT, cv, P[31:], final=True, cp=cbc)
    check(st == 0, "CBC last part: %s %r" % (rr, msg))
    check(got + first(pl, T_DATA) == whole, "CBC by parts is CBC")
    # Malformed or out of place stream fields.
    refused(OP_ENCRYPT, text(T_UID, u) + GCM + data(T_DATA, P) +
            data(T_IV, IV) + ttlv_bool(T_INIT, True), INVALID_FIELD,
            "streams are KMIP 1.3", minor=2)
    refused(OP_ENCRYPT, text(T_UID, u) + GCM + data(T_DATA, P) +
            data(T_IV, IV) + integer(T_INIT, 1), INVALID_FIELD,
            "an Integer Init Indicator")
    refused(OP_ENCRYPT, text(T_UID, u) + GCM + data(T_DATA, P) +
            text(T_CV, "x"), INVALID_FIELD, "a Text Correlation Value")
    refused(OP_ENCRYPT, text(T_UID, u) + GCM + data(T_DATA, P) +
            ttlv_bool(T_FINAL, True), INVALID_FIELD,
            "a Final Indicator alone")
    refused(OP_ENCRYPT, text(T_UID, u) + GCM + data(T_DATA, P) +
            data(T_CV, bytes(16)) + ttlv_bool(T_INIT, True), INVALID_FIELD,
            "an Init Indicator with a Correlation Value")
    for cv in (b"", bytes(16), bytes(17), os.urandom(4096)):
        refused(OP_ENCRYPT, text(T_UID, u) + GCM + data(T_DATA, P) +
                data(T_CV, cv), ITEM_NOT_FOUND,
                "a made-up Correlation Value of %d bytes" % len(cv))
    # A part its owner gets wrong ends the stream: none is skipped.
    pl, cv = gcm_enc()
    st, rr, _, _ = part(OP_DECRYPT, cv, P)
    check(st == 1 and rr == INVALID_FIELD, "a Decrypt part of an Encrypt")
    st, rr, _, _ = part(OP_ENCRYPT, cv, P)
    check(st == 1 and rr == ITEM_NOT_FOUND, "a wrong part ends it")
    pl, cv = gcm_enc()
    st, rr, _, _ = part(OP_ENCRYPT, cv, P, extra=data(T_IV, IV))
    check(st == 1 and rr == INVALID_FIELD, "an IV in a later part")
    st, rr, _, _ = part(OP_ENCRYPT, cv, P)
    check(st == 1 and rr == ITEM_NOT_FOUND, "a failed part ends it")
    u2 = register_aes(U_ENCRYPT | U_DECRYPT)
    pl, cv = gcm_enc()
    st, rr, _, _ = call(OP_ENCRYPT, text(T_UID, u2) + GCM + data(T_DATA, P) +
                        data(T_CV, cv))
    check(st == 1 and rr == INVALID_FIELD, "a part with another key")
    st, rr, _, _ = part(OP_ENCRYPT, cv, P, final=True)
    check(st == 1 and rr == ITEM_NOT_FOUND, "a part with another key "
          "ends it")
    # Pipelined parts: the second comes while the first runs.
    pl, cv = gcm_enc()
    s.sendall(request(OP_ENCRYPT, text(T_UID, u) + GCM + data(T_DATA, P) +
                      data(T_CV, cv), minor=4) +
              request(OP_ENCRYPT, text(T_UID, u) + GCM + data(T_DATA, P) +
                      data(T_CV, cv), minor=4))
    sts = []
    for i in range(2):
        m = read_message(s)
        check(m is not None, "answers to pipelined parts")
        sts.append(first(find(parse(m)[0][2], T_ITEM)[0], T_STATUS))
    check(sts != [0, 0] or True, "pipelined parts")
    st, rr, _, _ = part(OP_ENCRYPT, cv, P, final=True)
    check(sts == [0, 0] and st == 0 or st == 1 and rr == ITEM_NOT_FOUND,
          "after pipelined parts: %s %s" % (sts, rr))
    # Sign and MAC do not stream.
    refused(OP_MAC, text(T_UID, u) + data(T_DATA, P) +
            ttlv_bool(T_INIT, True), 0x08, "a streamed MAC")
elif case == "streamidle":
    PER_ID, IDLE = 4, 20
    cvs = [gcm_enc()[1] for i in range(PER_ID)]
    msg = refused(OP_ENCRYPT, text(T_UID, u) + GCM + data(T_DATA, P) +
                  data(T_IV, IV) + ttlv_bool(T_INIT, True),
                  GENERAL_FAILURE, "a stream past the limit")
    check("at most 4 per client" in msg, "the limit is said: %r" % msg)
    # Another identity is not held back by alice's.
    b = connect(port, pki, "bob")
    ok(OP_ENCRYPT, text(T_UID, register_aes_as(b)) + GCM +
       data(T_DATA, P) + data(T_IV, IV) + ttlv_bool(T_INIT, True),
       "bob opens a stream", sock=b)
    b.close()
    # Closing its connection frees a client's streams at once.
    c = connect(port, pki)
    s, c = c, s
    c.close()
    for i in range(20):
        st, rr, pl, msg = call(OP_ENCRYPT, text(T_UID, u) + GCM +
                               data(T_DATA, P) + data(T_IV, IV) +
                               ttlv_bool(T_INIT, True))
        if st == 0:
            break
        time.sleep(0.1)
    check(st == 0, "streams of a closed connection still held: %r" % msg)
    cvs = [first(pl, T_CV)] + [gcm_enc()[1] for i in range(PER_ID - 1)]
    refused(OP_ENCRYPT, text(T_UID, u) + GCM + data(T_DATA, P) +
            data(T_IV, IV) + ttlv_bool(T_INIT, True),
            GENERAL_FAILURE, "the limit again")
    # Opened and dropped at once, more than the signer keeps: each
    # connection's end must reach the signer after its first part.
    for i in range(40):
        c = connect(port, pki, "bob")
        c.sendall(request(OP_ENCRYPT, text(T_UID, "nothing") + GCM +
                          data(T_DATA, P) + ttlv_bool(T_INIT, True),
                          minor=4))
        c.close()
    bu = None
    for i in range(12):
        c = connect(port, pki, "bob")
        if bu is None:
            bu = register_aes_as(c)
        c.sendall(b"".join(request(OP_ENCRYPT, text(T_UID, bu) + GCM +
                                   data(T_DATA, P) + data(T_IV, IV) +
                                   ttlv_bool(T_INIT, True), minor=4)
                           for j in range(PER_ID)))
        c.close()
    time.sleep(1)
    c = connect(port, pki, "bob")
    st, rr, pl, msg = call(OP_ENCRYPT, text(T_UID, bu) + GCM +
                           data(T_DATA, P) + data(T_IV, IV) +
                           ttlv_bool(T_INIT, True), sock=c)
    check(st == 0, "a stream after many dropped ones: %s %r" % (rr, msg))
    c.close()
    # Abandoned: gone after the idle time (and the timer's step).
    time.sleep(IDLE + IDLE / 4 + 2)
    st, rr, _, _ = part(OP_ENCRYPT, cvs[0], P)
    check(st == 1 and rr == ITEM_NOT_FOUND, "an idle stream is closed")
    for i in range(PER_ID):
        gcm_enc()
elif case == "streamforeign":
    pl, cv = gcm_enc()
    # The same identity on another connection.
    c = connect(port, pki)
    refused(OP_ENCRYPT, text(T_UID, u) + GCM + data(T_DATA, P[32:]) +
            data(T_CV, cv), ITEM_NOT_FOUND, "alice on another connection",
            sock=c)
    # Another identity: the same answer as for a made-up value.
    b = connect(port, pki, "bob")
    refused(OP_ENCRYPT, GCM + data(T_DATA, P[32:]) + data(T_CV, cv),
            ITEM_NOT_FOUND, "bob with alice's Correlation Value", sock=b)
    refused(OP_ENCRYPT, text(T_UID, u) + GCM + data(T_DATA, P[32:]) +
            data(T_CV, cv) + ttlv_bool(T_FINAL, True), ITEM_NOT_FOUND,
            "bob with alice's key and Correlation Value", sock=b)
    # Nothing of it reached the stream: it goes on for alice.
    whole = ok(OP_ENCRYPT, text(T_UID, u) + GCM + data(T_DATA, P) +
               data(T_IV, IV) + data(T_AAD, AAD), "whole Encrypt")
    st, rr, pl, msg = part(OP_ENCRYPT, cv, P[32:], final=True)
    check(st == 0 and first(pl, T_TAG) == first(whole, T_TAG),
          "alice ends her stream: %s %r" % (rr, msg))
elif case == "streamrestart":
    ctl = sys.argv[4].split()
    pl, cv = gcm_enc()
    subprocess.run(ctl + ["restart", "signer", "soft"], check=True,
                   stdout=subprocess.DEVNULL, timeout=20)
    for i in range(100):
        out = subprocess.run(ctl + ["show", "signers"], timeout=20,
                             stdout=subprocess.PIPE).stdout.decode()
        if any(ln.split()[0] == "soft" and "ready" in ln.split()
               for ln in out.splitlines()[1:] if ln.split()):
            break
        time.sleep(0.1)
    st, rr, pl, msg = part(OP_ENCRYPT, cv, P[32:], final=True)
    check(st == 1 and pl is None, "a stream across a restart: %s %r" %
          (rr, msg))
    print("after restart:", rr, msg, file=sys.stderr)
    # Gone in the engine too, and the server goes on.
    st, rr, _, _ = part(OP_ENCRYPT, cv, P[32:], final=True)
    check(st == 1 and rr == ITEM_NOT_FOUND, "the lost stream is gone")
    pl, cv = gcm_enc()
    st, rr, pl, msg = part(OP_ENCRYPT, cv, P[32:], final=True)
    check(st == 0 and first(pl, T_TAG) is not None, "a new stream works")
elif case == "token":
    msg = b"in a token"
    priv, pub = ckp(ALG_RSA, 2048)
    pss256 = params(enum(T_PAD, PAD_PSS), enum(T_HASH, HASH_SHA256),
                    enum(T_ALG, ALG_RSA))
    pss1 = params(enum(T_PAD, PAD_PSS), enum(T_HASH, HASH_SHA1),
                  enum(T_ALG, ALG_RSA))
    sig = first(ok(OP_SIGN, text(T_UID, priv) + pss256 + data(T_DATA, msg),
                   "Sign PSS SHA-256 in the token"), T_SIG)
    check(verify(pub, pss1, msg, sig) == INVALID,
          "a token key's SHA-256 signature verified as SHA-1")
    check(verify(pub, pss256, msg, sig) == VALID, "token PSS SHA-256")
    refused(OP_SIGN, text(T_UID, priv) + pss1 + data(T_DATA, msg),
            INVALID_FIELD, "Sign PSS SHA-1 in the token")
    u = first(ok(0x01, enum(0x420057, 2) + tmpl(
        attribute("Cryptographic Algorithm", enum(T_VALUE, ALG_AES)),
        attribute("Cryptographic Length", integer(T_VALUE, 256)),
        usage(U_ENCRYPT | U_DECRYPT | U_MAC | U_MACV),
        attribute("Cryptographic Parameters", structure(
            T_VALUE, enum(T_ALG, ALG_HMAC_SHA256)))),
        "Create AES in the token"), T_UID)
    ok(OP_ACTIVATE, text(T_UID, u), "Activate")
    refused(OP_MAC, text(T_UID, u) + data(T_DATA, msg), INVALID_FIELD,
            "MAC with a token AES key")
    refused(OP_ENCRYPT, text(T_UID, u) + data(T_DATA, msg) +
            ttlv(0x4200d7, 6, struct.pack(">Q", 1)), 0x08,
            "a stream with a token key")
    ok(OP_ENCRYPT, text(T_UID, u) + data(T_DATA, msg), "Encrypt")
elif case not in ("sha1verify", "hmackey", "gcmtag"):
    print("unknown case", case)
    sys.exit(2)
print("ok")
