# Register and Get of every object kind, with PyKMIP (/usr/bin/python3):
# symmetric keys and secret data come back as registered; a registered
# private key signs (checked with cryptography) but is never returned;
# a registered public key verifies; certificates round trip.  Keys made
# Sensitive or not Extractable are refused by Get.
#
#   register.py PORT PKI_DIR
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from kmip import enums
from kmip.pie import objects
from kmip.pie.exceptions import KmipOperationFailure

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, fails, pykmip  # noqa: E402
from ttlvlib import (attribute, connect, enum, find, first,  # noqa: E402
                     integer, parse, read_message, request, structure,
                     text, ttlv, BOOL)

port, pki = int(sys.argv[1]), sys.argv[2]
A = enums.CryptographicAlgorithm





c = pykmip(port, pki)

raw = os.urandom(32)
uid = c.register(objects.SymmetricKey(A.AES, 256, raw))
got = c.get(uid)
check(got.value == raw and got.cryptographic_length == 256,
      "AES key: Get gives back what Register took")
check(c.get(c.create(A.AES, 128)).value.__len__() == 16,
      "a created AES-128 key is exported as 16 bytes")

secret = b"correct horse battery staple"
uid = c.register(objects.SecretData(secret, enums.SecretDataType.PASSWORD))
check(c.get(uid).value == secret, "secret data round trip")

key = rsa.generate_private_key(65537, 2048)
der = key.private_bytes(serialization.Encoding.DER,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption())
priv = c.register(objects.PrivateKey(
    A.RSA, 2048, der, enums.KeyFormatType.PKCS_8,
    masks=[enums.CryptographicUsageMask.SIGN]))
fails(lambda: c.get(priv), enums.ResultReason.PERMISSION_DENIED,
      "a registered private key is not returned")
c.activate(priv)
msg = b"signed by a registered key"
params = {"padding_method": enums.PaddingMethod.PKCS1v15,
          "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
          "cryptographic_algorithm": A.RSA}
sig = c.sign(msg, uid=priv, cryptographic_parameters=params)
key.public_key().verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())

spki = key.public_key().public_bytes(
    serialization.Encoding.DER,
    serialization.PublicFormat.SubjectPublicKeyInfo)
pub = c.register(objects.PublicKey(A.RSA, 2048, spki,
                                   enums.KeyFormatType.X_509))
check(c.signature_verify(msg, sig, uid=pub, cryptographic_parameters=params)
      == enums.ValidityIndicator.VALID, "registered public key verifies")

eck = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
now = datetime.datetime.utcnow()
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(eck.public_key()).serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(eck, hashes.SHA256()))
cder = cert.public_bytes(serialization.Encoding.DER)
uid = c.register(objects.X509Certificate(cder))
check(c.get(uid).value == cder, "certificate round trip")
try:
    c.register(objects.X509Certificate(b"not a certificate"))
    check(False, "a bad certificate was registered")
except KmipOperationFailure:
    pass
c.close()

# Sensitive, and not Extractable: refused by Get.
s = connect(port, pki)


def create_with(flag, value):
    ta = structure(0x420091,
                   attribute("Cryptographic Algorithm", enum(0x42000b, 3)),
                   attribute("Cryptographic Length", integer(0x42000b, 256)),
                   attribute(flag, ttlv(0x42000b, BOOL,
                                        bytes(7) + bytes([value]))))
    s.sendall(request(0x01, enum(0x420057, 2) + ta))
    it = find(parse(read_message(s))[0][2], 0x42000f)[0]
    check(first(it, 0x42007f) == 0, "create with " + flag)
    return first(first(it, 0x42007c), 0x420094)


# KMIP 1.4 defines those reasons; 1.0-1.2 clients get Permission Denied.
for flag, value, reason in (("Sensitive", 1, 0x16), ("Extractable", 0, 0x17)):
    uid = create_with(flag, value)
    for minor, want in ((4, reason), (2, 0x0c)):
        s.sendall(request(0x0a, text(0x420094, uid), minor=minor))
        it = find(parse(read_message(s))[0][2], 0x42000f)[0]
        check(first(it, 0x42007f) == 1 and first(it, 0x42007e) == want,
              "KMIP 1.%d Get of a key with %s %d refused with 0x%x" %
              (minor, flag, value, want))
print("ok")
