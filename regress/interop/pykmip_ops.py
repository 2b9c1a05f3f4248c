# PyKMIP (Debian's, /usr/bin/python3) drives the key operations against
# signerd; every signature is verified here with the cryptography package
# and the public key from Get.  Prints "FAIL: ..." and exits 1 on the
# first failure, "ok" at the end.
#
#   pykmip_ops.py PORT PKI_DIR
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from kmip import enums
from kmip.core.factories import attributes as attr_factory

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, fails, pykmip  # noqa: E402

port, pki = int(sys.argv[1]), sys.argv[2]
A = enums.CryptographicAlgorithm





def public_key(c, uid):
    key = c.get(uid)
    check(key.object_type == enums.ObjectType.PUBLIC_KEY, "get: public key")
    return serialization.load_der_public_key(key.value)


c = pykmip(port, pki)
msg = b"the whole message, hashed by the server"

# AES: create, attributes, lifecycle.
aes = c.create(A.AES, 256, name="aes-one")
check(":" not in aes, "ids have no ':'")
attrs = c.get_attributes(aes, ["Cryptographic Length", "State", "Name"])[1]
vals = {a.attribute_name.value: a.attribute_value for a in attrs}
check(vals["Cryptographic Length"].value == 256, "AES length 256")
check(vals["State"].value == enums.State.PRE_ACTIVE, "new key pre-active")
check(c.locate(attributes=[attr_factory.AttributeFactory().create_attribute(
    enums.AttributeType.NAME, "aes-one")]) == [aes], "locate by name")
c.activate(aes)
fails(lambda: c.activate(aes), enums.ResultReason.PERMISSION_DENIED,
      "activate twice")
fails(lambda: c.destroy(aes), enums.ResultReason.PERMISSION_DENIED,
      "destroy an active key")
c.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, aes)
c.destroy(aes)
fails(lambda: c.get(aes), enums.ResultReason.ITEM_NOT_FOUND,
      "get a destroyed key")
check(c.locate(attributes=[attr_factory.AttributeFactory().create_attribute(
    enums.AttributeType.NAME, "aes-one")]) == [],
    "a destroyed key is not located by name")
check(aes in c.locate(attributes=[
    attr_factory.AttributeFactory().create_attribute(
        enums.AttributeType.STATE, enums.State.DESTROYED)]),
    "a destroyed key is located when asked for by State")
for bad in (100, 512):
    fails(lambda: c.create(A.AES, bad), enums.ResultReason.INVALID_FIELD,
          "AES-%d refused" % bad)

# Key pairs: sign here, verify there.
cases = [
    (A.RSA, 2048, {"padding_method": enums.PaddingMethod.PKCS1v15,
                   "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
                   "cryptographic_algorithm": A.RSA},
     lambda k, s: k.verify(s, msg, padding.PKCS1v15(), hashes.SHA256())),
    (A.RSA, 3072, {"padding_method": enums.PaddingMethod.PSS,
                   "hashing_algorithm": enums.HashingAlgorithm.SHA_384,
                   "cryptographic_algorithm": A.RSA},
     lambda k, s: k.verify(s, msg, padding.PSS(
         mgf=padding.MGF1(hashes.SHA384()),
         salt_length=48), hashes.SHA384())),
    (A.ECDSA, 256, {"hashing_algorithm": enums.HashingAlgorithm.SHA_256,
                    "cryptographic_algorithm": A.ECDSA},
     lambda k, s: k.verify(s, msg, ec.ECDSA(hashes.SHA256()))),
    (A.ECDSA, 384, {"hashing_algorithm": enums.HashingAlgorithm.SHA_384,
                    "cryptographic_algorithm": A.ECDSA},
     lambda k, s: k.verify(s, msg, ec.ECDSA(hashes.SHA384()))),
    (A.ECDSA, 521, {"hashing_algorithm": enums.HashingAlgorithm.SHA_512,
                    "cryptographic_algorithm": A.ECDSA},
     lambda k, s: k.verify(s, msg, ec.ECDSA(hashes.SHA512()))),
]
for alg, bits, params, verify in cases:
    what = "%s-%d" % (alg.name, bits)
    pub, priv = c.create_key_pair(alg, bits, public_name=what + "-pub",
                                  private_name=what + "-priv")
    check(pub != priv and ":" not in pub, what + ": two ids")
    fails(lambda: c.sign(msg, uid=priv, cryptographic_parameters=params),
          enums.ResultReason.PERMISSION_DENIED,
          what + ": sign before activation")
    fails(lambda: c.get(priv), enums.ResultReason.PERMISSION_DENIED,
          what + ": private key not exported")
    c.activate(priv)
    sig = c.sign(msg, uid=priv, cryptographic_parameters=params)
    key = public_key(c, pub)
    try:
        verify(key, sig)
    except InvalidSignature:
        check(False, what + ": signature does not verify")
    try:
        verify(key, sig[:-1] + bytes([sig[-1] ^ 1]))
        check(False, what + ": a bad signature verified")
    except InvalidSignature:
        pass
    c.revoke(enums.RevocationReasonCode.KEY_COMPROMISE, priv)
    fails(lambda: c.sign(msg, uid=priv, cryptographic_parameters=params),
          enums.ResultReason.PERMISSION_DENIED,
          what + ": sign after revocation")
    c.destroy(priv)
    c.destroy(pub)

# RSA OAEP: encrypted by the client with the public key from Get, and
# by the server; decrypted by the server with the private key.
from cryptography.hazmat.primitives.asymmetric import padding as apad  # noqa
pub, priv = c.create_key_pair(A.RSA, 2048)
c.activate(priv)
oaep = {"padding_method": enums.PaddingMethod.OAEP,
        "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
        "cryptographic_algorithm": A.RSA}
secret = b"a session key, say"
ct = public_key(c, pub).encrypt(secret, apad.OAEP(
    mgf=apad.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
check(c.decrypt(ct, uid=priv, cryptographic_parameters=oaep) == secret,
      "server decrypts what the client encrypted (OAEP)")
fails(lambda: c.encrypt(secret, uid=pub, cryptographic_parameters=oaep),
      enums.ResultReason.PERMISSION_DENIED,
      "only Active keys encrypt")
c.activate(pub)
ct, _ = c.encrypt(secret, uid=pub, cryptographic_parameters=oaep)
check(c.decrypt(ct, uid=priv, cryptographic_parameters=oaep) == secret,
      "server round trip (OAEP)")
fails(lambda: c.decrypt(ct[:-1] + bytes([ct[-1] ^ 1]), uid=priv,
                        cryptographic_parameters=oaep),
      enums.ResultReason.CRYPTOGRAPHIC_FAILURE, "tampered ciphertext")

# Signature Verify on the server.
pub, priv = c.create_key_pair(A.ECDSA, 256)
c.activate(priv)
params = {"hashing_algorithm": enums.HashingAlgorithm.SHA_256,
          "cryptographic_algorithm": A.ECDSA}
sig = c.sign(msg, uid=priv, cryptographic_parameters=params)
check(c.signature_verify(msg, sig, uid=pub, cryptographic_parameters=params)
      == enums.ValidityIndicator.VALID, "signature verify: valid")
check(c.signature_verify(msg + b"!", sig, uid=pub,
                         cryptographic_parameters=params)
      == enums.ValidityIndicator.INVALID, "signature verify: invalid")
fails(lambda: c.signature_verify(msg, sig, uid=priv,
                                 cryptographic_parameters=params),
      enums.ResultReason.INVALID_FIELD, "verify with the private key")

# MAC: HMAC-SHA256, deterministic, per key.
# PyKMIP's default usage mask (Encrypt, Decrypt) rightly forbids MAC.
h0 = c.create(A.HMAC_SHA256, 256)
c.activate(h0)
fails(lambda: c.mac(b"data", uid=h0, algorithm=A.HMAC_SHA256),
      enums.ResultReason.PERMISSION_DENIED,
      "MAC refused by the usage mask")
macmask = [enums.CryptographicUsageMask.MAC_GENERATE]
h1 = c.create(A.HMAC_SHA256, 256, cryptographic_usage_mask=macmask)
h2 = c.create(A.HMAC_SHA256, 256, cryptographic_usage_mask=macmask)
fails(lambda: c.mac(b"data", uid=h1, algorithm=A.HMAC_SHA256),
      enums.ResultReason.PERMISSION_DENIED, "MAC before activation")
c.activate(h1)
c.activate(h2)
m1 = c.mac(b"data", uid=h1, algorithm=A.HMAC_SHA256)[1]
check(len(m1) == 32, "HMAC-SHA256 is 32 bytes")
check(c.mac(b"data", uid=h1, algorithm=A.HMAC_SHA256)[1] == m1,
      "MAC is deterministic")
check(c.mac(b"data", uid=h2, algorithm=A.HMAC_SHA256)[1] != m1,
      "another key, another MAC")

fails(lambda: c.create_key_pair(A.RSA, 1024),
      enums.ResultReason.INVALID_FIELD, "RSA-1024 refused")
c.close()
print("ok")
