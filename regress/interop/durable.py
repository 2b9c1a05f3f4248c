# Create key pairs as fast as one connection can, writing each pair to
# a file (and fsync'ing it) as soon as its success response arrives,
# until the daemon dies.  Then, with "check", verify every pair listed
# is there and signs.
#
#   durable.py PORT PKI_DIR create FILE
#   durable.py PORT PKI_DIR check FILE
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure, text)

port, pki, mode, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], \
    sys.argv[4]
common = structure(0x42001f,
                   attribute("Cryptographic Algorithm", enum(0x42000b, 6)),
                   attribute("Cryptographic Length", integer(0x42000b, 256)))


def call(s, op, payload):
    s.sendall(request(op, payload))
    m = read_message(s)
    if m is None:
        return None, None
    it = find(parse(m)[0][2], 0x42000f)[0]
    return first(it, 0x42007f), first(it, 0x42007c)


s = connect(port, pki)
if mode == "create":
    f = open(path, "a")
    try:
        while True:
            st, p = call(s, 0x02, common)
            if st != 0:
                break
            f.write("%s %s\n" % (first(p, 0x42006f), first(p, 0x420066)))
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        pass
    sys.exit(0)

n = 0
for line in open(path):
    pub, priv = line.split()
    st, p = call(s, 0x0a, text(0x420094, pub))
    if st != 0:
        print("FAIL: acknowledged key %s lost" % pub)
        sys.exit(1)
    km = first(first(first(first(p, 0x42006d), 0x420040), 0x420045),
               0x420043)
    key = serialization.load_der_public_key(km)
    st, _ = call(s, 0x12, text(0x420094, priv))
    st, p = call(s, 0x21, text(0x420094, priv) + data(0x4200c2, b"m"))
    if st != 0:
        print("FAIL: acknowledged key %s cannot sign" % priv)
        sys.exit(1)
    key.verify(first(p, 0x4200c3), b"m", ec.ECDSA(hashes.SHA256()))
    n += 1
print("ok %d" % n)
