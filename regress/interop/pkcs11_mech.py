# Mechanisms the token does not offer (SoftHSM configured without
# CKM_SHA384_RSA_PKCS_PSS and CKM_EC_EDWARDS_KEY_PAIR_GEN): refused with
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
from ttlvlib import (attribute, connect, enum, find, first,  # noqa
                     parse, read_message, request, structure)

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

s = connect(port, pki)
s.sendall(request(0x02, structure(
    0x42001f, attribute("Cryptographic Algorithm", enum(0x42000b, 0x37)))))
it = find(parse(read_message(s))[0][2], 0x42000f)[0]
m = first(it, 0x42007d) or ""
check(first(it, 0x42007f) == 1 and first(it, 0x42007e) == 5,
      "Ed25519 key pair refused, Operation Not Supported: %s" % m)
check("does not offer CKM_EC_EDWARDS_KEY_PAIR_GEN" in m, "message %r" % m)
print("ok")
