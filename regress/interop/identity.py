# Keys of a signer through KMIP, for identity_test.sh (signer identity):
#
#	identity.py make PORT PKI N FILE	N EC P-256 key pairs, made and
#						activated; "priv pub" lines
#	identity.py sign PORT PKI FILE		each signs; the signature
#						verifies with Get's public key
#	identity.py refused PORT PKI FILE	each Sign fails, and not with
#						Item Not Found (the key is
#						there, its signer refused)
#
# Prints "ok" when all is as asked, else "FAIL: ..." and exits 1.
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from kmip import enums
from kmip.pie.exceptions import KmipOperationFailure

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, pykmip  # noqa: E402

A = enums.CryptographicAlgorithm
MSG = b"signed by a signer that proved its identity"
PARAMS = {"hashing_algorithm": enums.HashingAlgorithm.SHA_256,
          "cryptographic_algorithm": A.ECDSA}


def main():
    cmd, port, pki, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        sys.argv[-1]
    c = pykmip(port, pki)
    if cmd == "make":
        with open(path, "w") as f:
            for _ in range(int(sys.argv[4])):
                pub, priv = c.create_key_pair(A.ECDSA, 256)
                c.activate(priv)
                f.write("%s %s\n" % (priv, pub))
    else:
        with open(path) as f:
            pairs = [line.split() for line in f if line.strip()]
        check(len(pairs) > 0, "no keys in " + path)
        for priv, pub in pairs:
            if cmd == "sign":
                key = serialization.load_der_public_key(c.get(pub).value)
                sig = c.sign(MSG, uid=priv, cryptographic_parameters=PARAMS)
                try:
                    key.verify(sig, MSG, ec.ECDSA(hashes.SHA256()))
                except Exception:
                    check(False, "%s: signature does not verify" % priv)
            else:
                try:
                    c.sign(MSG, uid=priv, cryptographic_parameters=PARAMS)
                except KmipOperationFailure as e:
                    check(e.reason != enums.ResultReason.ITEM_NOT_FOUND,
                          "%s: Item Not Found from a refused signer" %
                          priv)
                    print("refused: %s" % e.message)
                    continue
                check(False, "%s: signed by a refused signer" % priv)
    c.close()
    print("ok")


main()
