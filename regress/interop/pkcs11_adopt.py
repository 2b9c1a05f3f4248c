# Keys that were in the SoftHSM token before signerd (made by
# pkcs11-tool), adopted with signerctl, and keys of hsm::<slot>::<key id>
# ids over KMIP (issue 8).  Each adopted key signs; the signature is
# verified here with the public key from Get, or, for a key whose public
# object was deleted and that the token does not derive, with the public
# key pkcs11-tool read before the deletion, and Get of its private key
# must say why there is no public key.  Prints "FAIL: ..." and exits 1 on
# the first failure, "ok" at the end.
#
#   pkcs11_adopt.py PORT PKI_DIR SLOT ADOPTED_FILE PONLY_DER
#
# ADOPTED_FILE: one "label kind private-id public-id" a line, public-id
# "-" when there is none.
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from kmip import enums
from kmip.pie.exceptions import KmipOperationFailure

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, fails, pykmip  # noqa: E402
from ttlvlib import (attribute, connect, enum, find, first,  # noqa: E402
                     integer, parse, read_message, request, structure, text)

port, pki, slot, adopted, ponly = int(sys.argv[1]), sys.argv[2], \
    sys.argv[3], sys.argv[4], sys.argv[5]
A = enums.CryptographicAlgorithm
H = enums.HashingAlgorithm
P = enums.PaddingMethod
R = enums.ResultReason
msg = b"signed by a key the operator made before signerd"
T_UID = 0x420094
RSA_PARAMS = {"padding_method": P.PKCS1v15, "hashing_algorithm": H.SHA_256,
              "cryptographic_algorithm": A.RSA}
EC_PARAMS = {"hashing_algorithm": H.SHA_256,
             "cryptographic_algorithm": A.ECDSA}


def verify(key, kind, sig, what):
    try:
        if kind == "rsa":
            key.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
        else:
            key.verify(sig, msg, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        check(False, what + ": signature does not verify")


def public_key(c, uid):
    key = c.get(uid)
    check(key.object_type == enums.ObjectType.PUBLIC_KEY, "get: public key")
    return serialization.load_der_public_key(key.value)


def sign(c, kind, uid):
    return c.sign(msg, uid=uid, cryptographic_parameters=RSA_PARAMS
                  if kind == "rsa" else EC_PARAMS)


c = pykmip(port, pki)

# Adopted with signerctl: Active at once, sign, public key from Get.
for line in open(adopted):
    label, kind, priv, pub = line.split()
    sig = sign(c, kind, priv)
    if pub != "-":
        verify(public_key(c, pub), kind, sig, label)
        try:
            c.get(priv)
            check(False, label + ": private key given")
        except KmipOperationFailure as e:
            check(e.reason == R.PERMISSION_DENIED and pub in e.message,
                  "%s: Get of the private key names the public key: %s" %
                  (label, e.message))
        continue
    # No public object and none derived: the key signs all the same.
    with open(ponly, "rb") as f:
        verify(serialization.load_der_public_key(f.read()), kind, sig, label)
    try:
        c.get(priv)
        check(False, label + ": private key given")
    except KmipOperationFailure as e:
        check(e.reason == R.PERMISSION_DENIED and
              "has no public key" in e.message and "Register" in
              e.message, "%s: Get says why there is no public key: %s" %
              (label, e.message))
c.close()


def call(s, op, payload):
    s.sendall(request(op, payload))
    it = find(parse(read_message(s))[0][2], 0x42000f)[0]
    return first(it, 0x42007f), first(it, 0x42007e), first(it, 0x42007c), \
        first(it, 0x42007d)


def locate_hsm(s, uid):
    return call(s, 0x08, attribute("Unique Identifier", text(0x42000b, uid)))


def ckp(s, uid, alg=4, bits=2048, where=0x42001f):
    # Common (or Private, Public) template with the Unique Identifier.
    tmpl = [attribute("Cryptographic Algorithm", enum(0x42000b, alg)),
            attribute("Cryptographic Length", integer(0x42000b, bits))]
    uida = attribute("Unique Identifier", text(0x42000b, uid))
    if where == 0x42001f:
        return call(s, 0x02, structure(0x42001f, *(tmpl + [uida])))
    return call(s, 0x02, structure(0x42001f, *tmpl) +
                structure(where, uida))


hsm = "hsm::%s::" % slot
alice, bob = connect(port, pki), connect(port, pki, "bob")

# Locate of hsm::<slot>::<label> adopts, for an admin only.
st, reason, _, m = locate_hsm(bob, hsm + "lk")
check(st == 1 and reason == R.PERMISSION_DENIED.value,
      "bob (no admin) adopts by Locate: %s" % m)
for i in range(2):
    st, _, p, m = locate_hsm(alice, hsm + "lk")
    check(st == 0, "Locate %slk: %s" % (hsm, m))
    check(find(p, T_UID) == [hsm + "lk", hsm + "lk_pk"],
          "Locate %slk found %s" % (hsm, find(p, T_UID)))
st, reason, _, m = locate_hsm(alice, hsm + "dup")
check(st == 1 and "2 keys match" in m, "Locate of a duplicate label: %s" % m)
st, reason, _, m = locate_hsm(alice, hsm + "nothere")
check(st == 1 and reason == R.ITEM_NOT_FOUND.value,
      "Locate of a label not in the token: %s" % m)

# Create Key Pair under hsm::<slot>::<key id>, and <id>_pk.
made = [("mykey", "rsa", 4, 2048), ("myec", "ec", 6, 256)]
for name, kind, alg, bits in made:
    st, _, p, m = ckp(alice, hsm + name, alg, bits)
    check(st == 0, "Create Key Pair %s%s: %s" % (hsm, name, m))
    check(first(p, 0x420066) == hsm + name and
          first(p, 0x42006f) == hsm + name + "_pk",
          "ids %s %s" % (first(p, 0x420066), first(p, 0x42006f)))
c = pykmip(port, pki)
for name, kind, _, _ in made + [("lk", "ec", 0, 0)]:
    if name != "lk":
        c.activate(hsm + name)
    verify(public_key(c, hsm + name + "_pk"), kind,
           sign(c, kind, hsm + name), hsm + name)
    if name == "lk":
        attrs = c.get_attributes(hsm + name, ["Name"])[1]
        check([a.attribute_value.name_value.value for a in attrs] ==
              ["lk"], "%slk has its label as Name" % hsm)
c.close()

st, reason, _, m = ckp(bob, hsm + "bobkey")
check(st == 1 and reason == R.PERMISSION_DENIED.value,
      "bob (no admin) chooses an hsm:: id: %s" % m)
st, reason, _, m = ckp(alice, "hsm::99999999999::x")
check(st == 1 and reason == R.ITEM_NOT_FOUND.value,
      "no signer in that slot: %s" % m)
for bad in ("mine:1", "hsm::%s::a:b" % slot, "hsm::x::y", hsm):
    st, reason, _, m = ckp(alice, bad)
    check(st == 1 and reason == R.INVALID_FIELD.value,
          "id %s refused: %s" % (bad, m))
st, _, _, m = ckp(alice, hsm + "mykey")
check(st == 1, "an id taken already: %s" % m)
st, reason, _, m = ckp(alice, hsm + "other", where=0x42006e)
check(st == 1 and reason == R.INVALID_FIELD.value,
      "the public template names its own id: %s" % m)
# A label that is in the token already (pkcs11-tool's "rk").
st, _, _, m = ckp(alice, hsm + "rk")
check(st == 1 and "already" in m, "a label the token has: %s" % m)

# Create of an AES key under an hsm:: id.
st, _, p, m = call(alice, 0x01, enum(0x420057, 2) + structure(
    0x420091, attribute("Cryptographic Algorithm", enum(0x42000b, 3)),
    attribute("Cryptographic Length", integer(0x42000b, 256)),
    attribute("Unique Identifier", text(0x42000b, hsm + "myaes"))))
check(st == 0 and first(p, T_UID) == hsm + "myaes", "Create AES: %s" % m)
alice.close()
bob.close()
print("ok")
