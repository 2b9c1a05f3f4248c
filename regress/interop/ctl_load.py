# Known requests for signerctl show metrics (ctl_test.sh): an ECDSA key
# pair on the default signer, activated, N signatures, one Sign before
# activation (Permission Denied) and one Get of no object (Item Not
# Found).  Prints "ok PRIVATE-ID".
#
#   ctl_load.py PORT PKI_DIR N
import os
import sys

from kmip import enums

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, fails, pykmip  # noqa: E402

port, pki, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
A = enums.CryptographicAlgorithm
params = {"hashing_algorithm": enums.HashingAlgorithm.SHA_256,
          "cryptographic_algorithm": A.ECDSA}

c = pykmip(port, pki)
pub, priv = c.create_key_pair(A.ECDSA, 256)
fails(lambda: c.sign(b"x", uid=priv, cryptographic_parameters=params),
      enums.ResultReason.PERMISSION_DENIED, "sign before activation")
c.activate(priv)
for i in range(n):
    check(len(c.sign(b"m%d" % i, uid=priv,
                     cryptographic_parameters=params)) > 0, "sign")
fails(lambda: c.get("00000000-0000-4000-8000-000000000000"),
      enums.ResultReason.ITEM_NOT_FOUND, "get of no object")
c.close()
print("ok", priv)
