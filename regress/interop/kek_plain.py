# kek_plain.py KEK_FILE BLOB_HEX_FILE ID: the private scalar (hex) of the
# EC P-256 key in a version 1 blob (hsmproc/softkey.h) of object ID,
# unwrapped here with the kek file, for memscan.py to look for.
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import \
    load_der_private_key

kek = open(sys.argv[1], "rb").read()
blob = bytes.fromhex(open(sys.argv[2]).read().strip())
oid = sys.argv[3].encode()
HSM_KEY_EC_P256 = 6
if len(kek) != 32 or blob[0] != 1:
    sys.exit("not a raw kek or not a version 1 blob")
aad = bytes([1]) + HSM_KEY_EC_P256.to_bytes(4, "big") + oid
pt = AESGCM(kek).decrypt(blob[1:13], blob[13:], aad)
key = load_der_private_key(pt, None)
print(key.private_numbers().private_value.to_bytes(32, "big").hex())
