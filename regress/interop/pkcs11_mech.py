# Mechanisms the token does not offer (SoftHSM configured without
# CKM_SHA384_RSA_PKCS_PSS, CKM_RSA_PKCS_PSS, which a PSS signature of a
# digest needs, and CKM_EC_EDWARDS_KEY_PAIR_GEN): refused with
# Operation Not Supported naming the mechanism, never a raw CKR; what the
# token does offer still works.  Prints "FAIL: ..." and exits 1 on the
# first failure, "ok" at the end.
#
#   pkcs11_mech.py PORT PKI_DIR
import os
import sys

from kmip import enums
from kmip.pie.exceptions import KmipOperationFailure

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, pykmip  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     parse, read_message, request, structure, text)

port, pki = int(sys.argv[1]), sys.argv[2]
A = enums.CryptographicAlgorithm
H = enums.HashingAlgorithm


def refused(fn, mech, what):
    try:
        fn()
    except KmipOperationFailure as e:
        check(e.reason == enums.ResultReason.OPERATION_NOT_SUPPORTED,
              "%s: reason %s" % (what, e.reason))
        check("does not offer " + mech in e.message and "CKR" not in
              e.message, "%s: message %r" % (what, e.message))
        return
    check(False, what + " succeeded")


c = pykmip(port, pki)
pub, priv = c.create_key_pair(A.RSA, 2048)
c.activate(priv)
pss = {"padding_method": enums.PaddingMethod.PSS,
       "cryptographic_algorithm": A.RSA}
c.sign(b"m", uid=priv, cryptographic_parameters=dict(
    pss, hashing_algorithm=H.SHA_256))
refused(lambda: c.sign(b"m", uid=priv, cryptographic_parameters=dict(
    pss, hashing_algorithm=H.SHA_384)), "CKM_SHA384_RSA_PKCS_PSS",
    "PSS with SHA-384")
c.close()

# PSS over a digest (KMIP 1.4 Digested Data): CKM_RSA_PKCS_PSS; PKCS#1
# v1.5 over a digest (CKM_RSA_PKCS) is still there.
s = connect(port, pki)
for pad, mech in ((0x0a, "CKM_RSA_PKCS_PSS"), (0x08, None)):
    s.sendall(request(0x21, text(0x420094, priv) + structure(
        0x42002b, enum(0x42005f, pad), enum(0x420038, 6)) +
        data(0x420107, bytes(32)), minor=4))
    it = find(parse(read_message(s))[0][2], 0x42000f)[0]
    m = first(it, 0x42007d) or ""
    if mech is None:
        check(first(it, 0x42007f) == 0, "PKCS#1 v1.5 of a digest: %s" % m)
        continue
    check(first(it, 0x42007f) == 1 and first(it, 0x42007e) == 5 and
          "does not offer " + mech in m and "CKR" not in m,
          "PSS of a digest without %s: %s" % (mech, m))
s.close()

s = connect(port, pki)
s.sendall(request(0x02, structure(
    0x42001f, attribute("Cryptographic Algorithm", enum(0x42000b, 0x37)))))
it = find(parse(read_message(s))[0][2], 0x42000f)[0]
m = first(it, 0x42007d) or ""
check(first(it, 0x42007f) == 1 and first(it, 0x42007e) == 5,
      "Ed25519 key pair refused, Operation Not Supported: %s" % m)
check("does not offer CKM_EC_EDWARDS_KEY_PAIR_GEN" in m, "message %r" % m)
print("ok")
