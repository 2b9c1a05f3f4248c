# A token key deleted behind signerd's back (issue 8, the handle
# cache): the pkcs11 signer "s1", the default signer, has signed with a
# key, so its object handle is cached; pkcs11-tool then deletes the
# private key object.  The next Sign must be Item Not Found naming the
# token, not a signature, a crash or a General Failure; the signer
# stays ready and signs with another key.
#
#   pkcs11_gone.py PORT PKI_DIR PIN_FILE
import os
import subprocess
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure, text)

port, pki, pinfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
MODULE = "/usr/lib/softhsm/libsofthsm2.so"
T_UID = 0x420094
PARAMS = structure(0x42002b, enum(0x420038, 6), enum(0x420028, 6))
s = connect(port, pki)


def call(op, payload):
    s.sendall(request(op, payload))
    it = find(parse(read_message(s))[0][2], 0x42000f)[0]
    return first(it, 0x42007f), first(it, 0x42007e), first(it, 0x42007c), \
        first(it, 0x42007d)


def keypair():
    st, _, p, m = call(0x02, structure(
        0x42001f, attribute("Cryptographic Algorithm", enum(0x42000b, 6)),
        attribute("Cryptographic Length", integer(0x42000b, 256))))
    check(st == 0, "create key pair: %s" % m)
    pub, priv = first(p, 0x42006f), first(p, 0x420066)
    check(call(0x12, text(T_UID, priv))[0] == 0, "activate")
    st, _, p, m = call(0x0a, text(T_UID, pub))
    check(st == 0, "get: %s" % m)
    km = first(first(first(first(p, 0x42006d), 0x420040), 0x420045),
               0x420043)
    return priv, serialization.load_der_public_key(km)


def sign(priv, key, msg):
    st, reason, p, m = call(0x21, text(T_UID, priv) + PARAMS +
                            data(0x4200c2, msg))
    if st != 0:
        return reason, m
    try:
        key.verify(first(p, 0x4200c3), msg, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        check(False, "signature does not verify")
    return 0, None


priv, key = keypair()
for i in range(3):
    check(sign(priv, key, b"before %d" % i) == (0, None), "sign before")

pin = open(pinfile).read().strip()
r = subprocess.run(["pkcs11-tool", "--module", MODULE, "--token-label", "s1",
                    "--login", "--pin", pin, "--delete-object", "--type",
                    "privkey", "--label", priv], capture_output=True,
                   text=True, timeout=60)
check(r.returncode == 0, "pkcs11-tool --delete-object: %s" % r.stderr)
print("deleted the private key object of", priv)

# Item Not Found (1), every time, whichever session serves it.
for i in range(4):
    reason, m = sign(priv, key, b"after %d" % i)
    check(reason == 1, "sign with a deleted key: reason %s: %s" % (reason, m))
    check("is not in token \"s1\"" in m, "message: %s" % m)
print("refused:", m)

other, okey = keypair()
check(sign(other, okey, b"another key") == (0, None), "another key signs")
s.close()
print("ok")
