# Objects belong to the identity that made them: another client cannot
# see them (Locate), read them (Get, Get Attributes) or use them.
#
#   owners.py PORT PKI_DIR
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure, text)



def call(s, op, payload):
    s.sendall(request(op, payload))
    it = find(parse(read_message(s))[0][2], 0x42000f)[0]
    return first(it, 0x42007f), first(it, 0x42007e), first(it, 0x42007c)


def ckp(s, label):
    common = structure(0x42001f,
                       attribute("Cryptographic Algorithm",
                                 enum(0x42000b, 6)),
                       attribute("Cryptographic Length",
                                 integer(0x42000b, 256)),
                       attribute("Name", structure(
                           0x42000b, text(0x420055, label),
                           enum(0x420054, 1))))
    st, _, p = call(s, 0x02, common)
    check(st == 0, "create key pair")
    return first(p, 0x42006f), first(p, 0x420066)


alice = connect(int(sys.argv[1]), sys.argv[2], "client")
bob = connect(int(sys.argv[1]), sys.argv[2], "bob")
pub, priv = ckp(alice, "shared-label")
check(call(alice, 0x12, text(0x420094, priv))[0] == 0, "alice activates")
sign = text(0x420094, priv) + data(0x4200c2, b"x")
check(call(alice, 0x21, sign)[0] == 0, "alice signs")

# Bob: Item Not Found (1) for everything, and Locate shows nothing.
for op, payload, what in ((0x0a, text(0x420094, pub), "get"),
                          (0x0b, text(0x420094, pub), "get attributes"),
                          (0x21, sign, "sign"),
                          (0x13, text(0x420094, priv) + structure(
                              0x420081, enum(0x420082, 6)), "revoke"),
                          (0x14, text(0x420094, pub), "destroy")):
    st, reason, _ = call(bob, op, payload)
    check(st == 1 and reason == 1, "bob's %s: Item Not Found" % what)
name = attribute("Name", structure(0x42000b, text(0x420055, "shared-label"),
                                   enum(0x420054, 1)))
st, _, p = call(bob, 0x08, name)
check(st == 0 and find(p, 0x420094) == [], "bob's Locate finds nothing")
# Bob's own key of the same name is his alone.
bpub, bpriv = ckp(bob, "shared-label")
st, _, p = call(bob, 0x08, name)
check(sorted(find(p, 0x420094)) == sorted([bpub, bpriv]), "bob sees his")
st, _, p = call(alice, 0x08, name)
check(sorted(find(p, 0x420094)) == sorted([pub, priv]), "alice sees hers")
print("ok")
