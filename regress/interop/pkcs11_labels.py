# CKA_LABEL of keys made in a SoftHSM token through KMIP follows their
# Name, and Destroy takes their objects out of the token (issue 8).  Two
# phases, for pkcs11-tool to look at the token in between:
#
#   make: key pairs and secret keys with and without Names (each half of
#	a pair its own), Names changed by Modify, Add and Delete Attribute,
#	a Name too long for a label refused (nothing changes).  Writes to
#	OUT one "CLASS|LABEL" line per object the token must now hold, the
#	ids to STATE.
#   destroy: revokes and destroys them (pair halves one by one); writes
#	to OUT the labels that must be gone.
#
#   pkcs11_labels.py PORT PKI_DIR make|destroy STATE OUT
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure, text)

port, pki, phase, state, outfile = int(sys.argv[1]), sys.argv[2], \
    sys.argv[3], sys.argv[4], sys.argv[5]
s = connect(port, pki)
out = open(outfile, "w")

T_UID, T_VALUE = 0x420094, 0x42000b
PRIV, PUB, SECRET = "Private Key Object", "Public Key Object", \
    "Secret Key Object"
INVALID_FIELD = 0x07


def call(op, payload):
    s.sendall(request(op, payload, minor=4))
    it = find(parse(read_message(s))[0][2], 0x42000f)[0]
    return first(it, 0x42007f), first(it, 0x42007e), first(it, 0x42007c), \
        first(it, 0x42007d)


def ok(op, payload, what):
    st, reason, p, m = call(op, payload)
    check(st == 0, "%s: reason %s: %s" % (what, reason, m))
    return p


def name(v):
    return attribute("Name", structure(T_VALUE, text(0x420055, v),
                                       enum(0x420054, 1)))


def names(uid):
    p = ok(0x0b, text(T_UID, uid) + text(0x42000a, "Name"), "get Name")
    return [first(v, 0x420055) for v in
            (first(a, T_VALUE) for a in find(p, 0x420008))]


def pair(alg, bits, privname=None, pubname=None):
    common = attribute("Cryptographic Algorithm", enum(T_VALUE, alg))
    if bits:
        common += attribute("Cryptographic Length", integer(T_VALUE, bits))
    body = structure(0x42001f, common)
    if privname:
        body += structure(0x420065, name(privname))
    if pubname:
        body += structure(0x42006e, name(pubname))
    p = ok(0x02, body, "create key pair")
    return first(p, 0x420066), first(p, 0x42006f)


def aes(aesname=None):
    ta = attribute("Cryptographic Algorithm", enum(T_VALUE, 3)) + \
        attribute("Cryptographic Length", integer(T_VALUE, 256)) + \
        attribute("Cryptographic Usage Mask", integer(T_VALUE, 4 | 8))
    if aesname:
        ta += name(aesname)
    return first(ok(0x01, enum(0x420057, 2) + structure(0x420091, ta),
                    "create AES"), T_UID)


if phase == "make":
    # Each half of a pair its own Name; unnamed halves their own id.
    rpriv, rpub = pair(4, 2048, "rsa signing key", "rsa signing key, pub")
    epriv, epub = pair(6, 256)
    dpriv, dpub = pair(0x37, 0, "ed key")
    a1 = aes("an aes key")
    a2 = aes()
    # Modify Attribute(Name): the token's label follows.
    ok(0x0e, text(T_UID, rpriv) + name("rsa key, renamed"), "modify Name")
    check(names(rpriv) == ["rsa key, renamed"], "keystore has the new Name")
    # Add Attribute(Name) to an unnamed key: its label was its id.
    ok(0x0d, text(T_UID, epriv) + name("ec key, named later"), "add Name")
    # A second Name does not change the label (the first one is it).
    ok(0x0d, text(T_UID, epriv) + name("ec key, second name"), "add 2nd")
    # Delete Attribute(Name): back to the object id.
    ok(0x0f, text(T_UID, a1) + text(0x42000a, "Name"), "delete Name")
    # Too long for a label: refused, the keystore and the token unchanged.
    long = "x" * 256
    st, reason, _, m = call(0x0e, text(T_UID, dpriv) + name(long))
    check(st == 1 and reason == INVALID_FIELD and "255 bytes" in m,
          "a Name of 256 bytes for a token key: %s %s" % (reason, m))
    check(names(dpriv) == ["ed key"], "refused Name change left the Name")
    st, reason, _, m = call(0x01, enum(0x420057, 2) + structure(
        0x420091, attribute("Cryptographic Algorithm", enum(T_VALUE, 3)),
        attribute("Cryptographic Length", integer(T_VALUE, 128)),
        name(long)))
    check(st == 1 and reason == INVALID_FIELD and "255 bytes" in m,
          "Create with a Name of 256 bytes: %s %s" % (reason, m))
    ok(0x0d, text(T_UID, dpub) + name("y" * 255), "a Name of 255 bytes")
    # The same public key registered: its Name and its Destroy are no
    # business of the token's public object, which only looks alike.
    from kmip import enums
    from kmip.pie import objects
    from common import pykmip
    c = pykmip(port, pki)
    from cryptography.hazmat.primitives import serialization as ser
    spki = ser.load_der_public_key(c.get(rpub).value).public_bytes(
        ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo)
    reg = c.register(objects.PublicKey(
        enums.CryptographicAlgorithm.RSA, 2048, spki,
        enums.KeyFormatType.X_509))
    ok(0x0d, text(T_UID, reg) + name("registered copy"), "add Name")
    ok(0x14, text(T_UID, reg), "destroy the registered copy")
    c.close()
    # The keys still work under their new labels.
    ok(0x12, text(T_UID, rpriv), "activate")
    ok(0x21, text(T_UID, rpriv) + data(0x4200c2, b"still signs"), "sign")
    for cls, label in ((PRIV, "rsa key, renamed"),
                       (PUB, "rsa signing key, pub"),
                       (PRIV, "ec key, named later"), (PUB, epub),
                       (PRIV, "ed key"), (PUB, "y" * 255),
                       (SECRET, a1), (SECRET, a2)):
        out.write("%s|%s\n" % (cls, label))
    with open(state, "w") as f:
        f.write(" ".join([rpriv, rpub, epriv, epub, dpriv, dpub, a1, a2]))
else:
    rpriv, rpub, epriv, epub, dpriv, dpub, a1, a2 = open(state).read().split()
    # Active keys are revoked first; each half goes on its own.
    ok(0x13, text(T_UID, rpriv) + structure(0x420081, enum(0x420082, 1)),
       "revoke")
    for uid, label in ((rpriv, "rsa key, renamed"),
                       (rpub, "rsa signing key, pub"),
                       (epub, epub), (dpriv, "ed key"), (a2, a2)):
        ok(0x14, text(T_UID, uid), "destroy " + label)
        st, reason, _, _ = call(0x0a, text(T_UID, uid))
        check(st == 1, "Get of destroyed %s" % uid)
        out.write("%s\n" % label)
    # What stays: the other halves, the other AES key.
    st, reason, _, m = call(0x14, text(T_UID, rpriv))
    check(st == 1 and "destroyed already" in m, "destroyed twice: %s %s" %
          (reason, m))
out.close()
s.close()
print("ok")
