# Software keys of an openssl signer (the default signer) through KMIP,
# for the tests of its key-encryption key (kek_test.sh).
#
#   kek_sign.py PORT PKI_DIR create IDS_FILE
#	make an ECDSA P-256 pair and an AES-256 key, sign and verify with
#	the pair; write "PRIVATE_ID PUBLIC_ID AES_ID" to IDS_FILE
#   kek_sign.py PORT PKI_DIR sign IDS_FILE
#	sign again with the pair of IDS_FILE, verify with the public key
#	from Get, and Get the AES key (unwrapped by the signer)
#   kek_sign.py PORT PKI_DIR fails IDS_FILE WORDS
#	signing with that pair must fail, the message holding WORDS
#
# Prints "FAIL: ..." and exits 1 on the first failure, "ok" at the end.
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from kmip import enums
from kmip.pie.exceptions import KmipOperationFailure

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, pykmip  # noqa: E402

port, pki, mode, idsfile = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                            sys.argv[4])
A = enums.CryptographicAlgorithm
H = enums.HashingAlgorithm
params = {"hashing_algorithm": H.SHA_256, "cryptographic_algorithm": A.ECDSA}
msg = b"signed by a software key wrapped by a token"

c = pykmip(port, pki)


def sign_verify(priv, pub):
    sig = c.sign(msg, uid=priv, cryptographic_parameters=params)
    key = serialization.load_der_public_key(c.get(pub).value)
    try:
        key.verify(sig, msg, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        check(False, "signature does not verify")


if mode == "create":
    pub, priv = c.create_key_pair(A.ECDSA, 256)
    c.activate(priv)
    c.activate(pub)
    sign_verify(priv, pub)
    aes = c.create(A.AES, 256)
    with open(idsfile, "w") as f:
        f.write("%s %s %s\n" % (priv, pub, aes))
elif mode == "sign":
    priv, pub, aes = open(idsfile).read().split()
    sign_verify(priv, pub)
    check(len(c.get(aes).value) == 32, "AES key of 32 bytes")
elif mode == "fails":
    priv, pub, aes = open(idsfile).read().split()
    try:
        c.sign(msg, uid=priv, cryptographic_parameters=params)
        check(False, "signing worked")
    except KmipOperationFailure as e:
        for w in sys.argv[5:]:
            check(w in str(e), "message without %r: %s" % (w, e))
else:
    check(False, "mode " + mode)
c.close()
print("ok")
