# What the other scripts leave out, in hand-built TTLV: ID Placeholder
# batches, Batch Error Continuation, Add/Delete Attribute and Get
# Attribute List, Locate with Maximum and Offset Items, Ed25519, and RSA
# PKCS#1 v1.5 encryption.
#
#   coverage.py PORT PKI_DIR
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure,
                     text)

s = connect(int(sys.argv[1]), sys.argv[2])
T_UID, T_ITEM, T_PAYLOAD = 0x420094, 0x42000f, 0x42007c



def item(op, payload):
    return structure(T_ITEM, enum(0x42005c, op), structure(0x420079, payload))


def batch(items, stop=True):
    """Send items in one message; return the response items."""
    m = request(0, items=items)
    s.sendall(m)
    return find(parse(read_message(s))[0][2], T_ITEM)


def call(op, payload):
    it = batch([item(op, payload)])[0]
    return first(it, 0x42007f), first(it, 0x42007e), first(it, T_PAYLOAD)


def name(v):
    return attribute("Name", structure(0x42000b, text(0x420055, v),
                                       enum(0x420054, 1)))


def aes(label):
    return enum(0x420057, 2) + structure(
        0x420091, attribute("Cryptographic Algorithm", enum(0x42000b, 3)),
        attribute("Cryptographic Length", integer(0x42000b, 128)),
        name(label))


def attrs_of(payload):
    out = {}
    for a in find(payload, 0x420008):
        out.setdefault(first(a, 0x42000a), []).append(
            (first(a, 0x420009) or 0, first(a, 0x42000b)))
    return out


# Create, Activate and Get Attributes in one batch: the last two use the
# ID Placeholder the first left.
its = batch([item(0x01, aes("placeholder")), item(0x12, b""),
             item(0x0b, text(0x42000a, "State"))])
check(len(its) == 3 and all(first(i, 0x42007f) == 0 for i in its),
      "batch with ID Placeholder")
uid = first(first(its[0], T_PAYLOAD), T_UID)
check(first(first(its[1], T_PAYLOAD), T_UID) == uid, "activate by placeholder")
check(attrs_of(first(its[2], T_PAYLOAD))["State"][0][1] == 2,
      "state Active after the batch")

# Stop (the default): after a failing item, the rest is not run.
its = batch([item(0x12, text(T_UID, "no-such")), item(0x01, aes("never"))])
check(len(its) == 1 and first(its[0], 0x42007f) == 1,
      "batch stops at the first failure")
st, _, p = call(0x08, name("never"))
check(find(p, T_UID) == [], "the item after the failure did not run")

# Attributes: add (multi-valued gets indices), custom, list, delete.
uid = first(call(0x01, aes("attrs"))[2], T_UID)
for g in ("group-a", "group-b"):
    st, _, p = call(0x0d, text(T_UID, uid) + attribute(
        "Object Group", text(0x42000b, g)))
    check(st == 0, "add Object Group " + g)
check(first(first(p, 0x420008), 0x420009) == 1, "second value has index 1")
check(call(0x0d, text(T_UID, uid) + attribute(
    "x-app", text(0x42000b, "v1")))[0] == 0, "add a custom attribute")
st, reason, _ = call(0x0d, text(T_UID, uid) + attribute(
    "State", enum(0x42000b, 2)))
check(st == 1 and reason == 0x0c, "the server's attributes are not added")
st, reason, _ = call(0x0d, text(T_UID, uid) + attribute(
    "Cryptographic Usage Mask", integer(0x42000b, 4)))
check(st == 1, "a fixed attribute cannot be added later")
st, _, p = call(0x0c, text(T_UID, uid))
names = find(p, 0x42000a)
for n in ("Unique Identifier", "Object Type", "State", "Name",
          "Object Group", "x-app", "Cryptographic Algorithm"):
    check(n in names, "Get Attribute List has " + n)
check(len(names) == len(set(names)), "each name once in the list")
st, _, p = call(0x0f, text(T_UID, uid) + text(0x42000a, "Object Group") +
                integer(0x420009, 0))
check(st == 0, "delete Object Group 0")
groups = attrs_of(call(0x0b, text(T_UID, uid) +
                       text(0x42000a, "Object Group"))[2])["Object Group"]
check(groups == [(0, "group-b")], "the other value is now index 0")
st, reason, _ = call(0x0f, text(T_UID, uid) + text(0x42000a, "Object Group") +
                     integer(0x420009, 5))
check(st == 1, "delete of a missing index fails")

# Locate: Maximum Items and Offset Items.
ids = [first(call(0x01, aes("many"))[2], T_UID) for i in range(3)]
st, _, p = call(0x08, integer(0x42004f, 2) + name("many"))
check(find(p, T_UID) == ids[:2], "Maximum Items 2")
st, _, p = call(0x08, integer(0x4200d4, 2) + name("many"))
check(find(p, T_UID) == ids[2:], "Offset Items 2")

# Ed25519: Create Key Pair, Sign (no hash), verify with cryptography.
st, _, p = call(0x02, structure(
    0x42001f, attribute("Cryptographic Algorithm", enum(0x42000b, 0x37))))
check(st == 0, "Ed25519 key pair")
pub, priv = first(p, 0x42006f), first(p, 0x420066)
check(call(0x12, text(T_UID, priv))[0] == 0, "activate Ed25519")
st, _, p = call(0x21, text(T_UID, priv) + data(0x4200c2, b"ed message"))
check(st == 0, "Ed25519 sign")
sig = first(p, 0x4200c3)
st, _, p = call(0x0a, text(T_UID, pub))
km = first(first(first(first(p, 0x42006d), 0x420040), 0x420045), 0x420043)
serialization.load_der_public_key(km).verify(sig, b"ed message")
check(len(sig) == 64, "Ed25519 signature of 64 bytes")

# RSA PKCS#1 v1.5 encryption, both ways.
st, _, p = call(0x02, structure(
    0x42001f, attribute("Cryptographic Algorithm", enum(0x42000b, 4)),
    attribute("Cryptographic Length", integer(0x42000b, 2048))))
pub, priv = first(p, 0x42006f), first(p, 0x420066)
call(0x12, text(T_UID, priv))
call(0x12, text(T_UID, pub))
v15 = structure(0x42002b, enum(0x42005f, 8), enum(0x420028, 4))
st, _, p = call(0x1f, text(T_UID, pub) + v15 + data(0x4200c2, b"secret"))
check(st == 0, "RSA PKCS#1 v1.5 encrypt")
st, _, p = call(0x20, text(T_UID, priv) + v15 +
                data(0x4200c2, first(p, 0x4200c2)))
check(st == 0 and first(p, 0x4200c2) == b"secret", "and decrypt")
st, _, p = call(0x0a, text(T_UID, pub) + enum(0x420042, 5))
key = serialization.load_der_public_key(first(first(first(first(
    p, 0x42006d), 0x420040), 0x420045), 0x420043))
st, _, p = call(0x20, text(T_UID, priv) + v15 + data(
    0x4200c2, key.encrypt(b"from outside", padding.PKCS1v15())))
check(st == 0 and first(p, 0x4200c2) == b"from outside",
      "decrypt what cryptography encrypted")
print("ok")
