# KMIP 1.x conformance of small things (issue 10), by hand-made TTLV
# against the real daemon:
#
#   versions	Get Attributes / Get Attribute List carry only attributes
#		the request's protocol version (1.0 to 1.4) defines
#   locate	one object found sets the ID Placeholder; a date attribute
#		given twice selects the range between the values
#   activation	Activation Date is fixed once the object is Active
#   dates	Protect Stop Date and Process Start Date are enforced
#   query FUNCS	Query Operations: FUNCS is "+op,-op,..." (KMIP numbers);
#		+ must be listed, - must not
#
#   conform.py PORT PKI_DIR CASE [ARG]
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure, text,
                     ttlv)

port, pki, case = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = connect(port, pki)

T_UID, T_PAYLOAD, T_ITEM, T_STATUS, T_REASON, T_VALUE = 0x420094, \
    0x42007c, 0x42000f, 0x42007f, 0x42007e, 0x42000b
T_ATTR, T_ATTR_NAME, T_DATA, T_IV, T_TAG = 0x420008, 0x42000a, 0x4200c2, \
    0x42003d, 0x4200ff
OP_CREATE, OP_LOCATE, OP_GET_ATTRS, OP_GET_LIST, OP_ADD, OP_MODIFY, \
    OP_DELETE, OP_ACTIVATE, OP_QUERY, OP_ENCRYPT, OP_DECRYPT = \
    0x01, 0x08, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x12, 0x18, 0x1f, 0x20
INVALID_FIELD, PERMISSION_DENIED = 0x07, 0x0c

# The attributes each KMIP 1.x version adds (its specification's
# section 3), written out here apart from the server's own table.
ADDED = {
    0: {"Unique Identifier", "Name", "Object Type",
        "Cryptographic Algorithm", "Cryptographic Length",
        "Cryptographic Parameters", "Cryptographic Domain Parameters",
        "Certificate Type", "Certificate Identifier", "Certificate Subject",
        "Certificate Issuer", "Digest", "Operation Policy Name",
        "Cryptographic Usage Mask", "Lease Time", "Usage Limits", "State",
        "Initial Date", "Activation Date", "Process Start Date",
        "Protect Stop Date", "Deactivation Date", "Destroy Date",
        "Compromise Occurrence Date", "Compromise Date",
        "Revocation Reason", "Archive Date", "Object Group", "Link",
        "Application Specific Information", "Contact Information",
        "Last Change Date"},
    1: {"Certificate Length", "X.509 Certificate Identifier",
        "X.509 Certificate Subject", "X.509 Certificate Issuer",
        "Digital Signature Algorithm", "Fresh"},
    2: {"Alternative Name", "Key Value Present", "Key Value Location",
        "Original Creation Date"},
    3: {"Random Number Generator"},
    4: {"PKCS#12 Friendly Name", "Description", "Comment", "Sensitive",
        "Always Sensitive", "Extractable", "Never Extractable"},
}


def known(minor):
    return set().union(*(ADDED[m] for m in range(minor + 1)))


def date(tag, t):
    return ttlv(tag, 9, struct.pack(">q", t))


def items(msg):
    return find(parse(msg)[0][2], T_ITEM)


def call(op, payload, minor=2):
    """One item; (status, reason, payload items)."""
    s.sendall(request(op, payload, minor=minor))
    it = items(read_message(s))[0]
    return first(it, T_STATUS), first(it, T_REASON), first(it, T_PAYLOAD)


def ok(op, payload, what, minor=2):
    st, reason, p = call(op, payload, minor)
    check(st == 0, "%s: reason %s" % (what, reason))
    return p


def refused(op, payload, reason, what, minor=2):
    st, got, _ = call(op, payload, minor)
    check(st != 0, what + " succeeded")
    check(got == reason, "%s: reason %s, wanted %s" % (what, got, reason))


def aes(*attrs, minor=2):
    """A new AES-256 key with these attributes; its id."""
    ta = structure(0x420091,
                   attribute("Cryptographic Algorithm", enum(T_VALUE, 3)),
                   attribute("Cryptographic Length", integer(T_VALUE, 256)),
                   attribute("Cryptographic Usage Mask",
                             integer(T_VALUE, 4 | 8)), *attrs)
    return first(ok(OP_CREATE, enum(0x420057, 2) + ta, "create AES key",
                    minor), T_UID)


def names_in(p):
    out = []
    for a in find(p, T_ATTR):
        out.append(first(a, T_ATTR_NAME))
    return out


def versions():
    uid = aes(minor=0)
    for minor in range(5):
        p = ok(OP_GET_ATTRS, text(T_UID, uid), "get attributes 1.%d" %
               minor, minor)
        got = set(names_in(p))
        check(got <= known(minor), "1.%d Get Attributes returned %s" %
              (minor, sorted(got - known(minor))))
        check("Initial Date" in got, "1.%d: no Initial Date" % minor)
        check(("Original Creation Date" in got) == (minor >= 2),
              "1.%d: Original Creation Date %s" % (minor, got))
        p = ok(OP_GET_LIST, text(T_UID, uid), "get attribute list 1.%d" %
               minor, minor)
        got = set(find(p, T_ATTR_NAME))
        check(got <= known(minor), "1.%d Get Attribute List returned %s" %
              (minor, sorted(got - known(minor))))
        check(("Original Creation Date" in got) == (minor >= 2),
              "1.%d list: Original Creation Date %s" % (minor, got))
        # Asked for by name, still not in that version.
        p = ok(OP_GET_ATTRS, text(T_UID, uid) +
               text(T_ATTR_NAME, "Original Creation Date") +
               text(T_ATTR_NAME, "Initial Date"), "get by name", minor)
        got = sorted(names_in(p))
        want = ["Initial Date"] + (["Original Creation Date"]
                                   if minor >= 2 else [])
        check(got == want,
              "1.%d by name: %s" % (minor, got))


def locate():
    # Exactly one found: the next item of the batch works on it.
    name = "conform-one-%d" % os.getpid()
    uid = aes(attribute("Name", structure(T_VALUE, text(0x420055, name),
                                          enum(0x420054, 1))))
    loc = structure(T_ITEM, enum(0x42005c, OP_LOCATE), structure(
        0x420079, attribute("Name", structure(
            T_VALUE, text(0x420055, name), enum(0x420054, 1)))))
    ga = structure(T_ITEM, enum(0x42005c, OP_GET_ATTRS),
                   structure(0x420079, text(T_ATTR_NAME, "State")))
    s.sendall(request(0, items=[loc, ga]))
    its = items(read_message(s))
    check(len(its) == 2, "two items")
    check(first(its[0], T_STATUS) == 0, "locate by name")
    check(first(its[1], T_STATUS) == 0, "Get Attributes after a Locate "
          "that found one object: reason %s" % first(its[1], T_REASON))
    check(first(first(its[1], T_PAYLOAD), T_UID) == uid,
          "the placeholder is the object found")

    # Date ranges, bounds included, in either order.
    now = int(time.time())
    group = attribute("Object Group", text(T_VALUE, "conform-%d" %
                                                    os.getpid()))
    keys = [aes(group, attribute("Deactivation Date",
                                 date(T_VALUE, now + 1000 * i)))
            for i in (1, 2, 3)]

    def between(lo, hi):
        p = ok(OP_LOCATE, group +
               attribute("Deactivation Date", date(T_VALUE, lo)) +
               attribute("Deactivation Date", date(T_VALUE, hi)),
               "locate in a range")
        return sorted(find(p, T_UID))

    check(between(now + 1500, now + 3000) == sorted(keys[1:]),
          "range [+1500, +3000]")
    check(between(now + 3000, now + 1000) == sorted(keys),
          "range given high first")
    check(between(now + 1001, now + 1999) == [], "empty range")
    # One value alone still means that value.
    p = ok(OP_LOCATE, group + attribute("Deactivation Date",
                                        date(T_VALUE, now + 2000)),
           "locate one date")
    check(find(p, T_UID) == [keys[1]], "one date, one key")
    # Without the group: a Deactivation Date range (the keystore's date
    # index) and a Last Change Date range (not indexed, since every
    # change rewrites it: checked object by object) find them too.
    p = ok(OP_LOCATE, attribute("Deactivation Date", date(T_VALUE, now + 1000))
           + attribute("Deactivation Date", date(T_VALUE, now + 3000)),
           "locate by a range alone")
    check(set(keys) <= set(find(p, T_UID)), "Deactivation Date range alone")
    p = ok(OP_LOCATE, attribute("Last Change Date", date(T_VALUE, now - 600))
           + attribute("Last Change Date", date(T_VALUE, now + 600)),
           "locate by Last Change Date")
    check(set(keys) <= set(find(p, T_UID)), "Last Change Date range")
    refused(OP_LOCATE, group + b"".join(
        attribute("Deactivation Date", date(T_VALUE, now + i))
        for i in (1, 2, 3)), INVALID_FIELD, "a date given three times")
    # Pairing dates is square in the attributes: bounded.
    refused(OP_LOCATE, b"".join(
        attribute("x-conform-%d" % i, date(T_VALUE, now)) for i in
        range(400)), INVALID_FIELD, "a Locate with 400 attributes")


def activation():
    now = int(time.time())
    # Pre-Active: the date may still move.
    uid = aes(attribute("Activation Date", date(T_VALUE, now + 10000)))
    ok(OP_MODIFY, text(T_UID, uid) +
       attribute("Activation Date", date(T_VALUE, now + 20000)),
       "modify the Activation Date of a Pre-Active key")
    ok(OP_DELETE, text(T_UID, uid) +
       attribute("Activation Date", date(T_VALUE, now + 20000)),
       "delete the Activation Date of a Pre-Active key")
    # Active: it is history.
    uid = aes()
    ok(OP_ACTIVATE, text(T_UID, uid), "activate")
    for minor in (0, 2, 4):
        refused(OP_MODIFY, text(T_UID, uid) +
                attribute("Activation Date", date(T_VALUE, now + 50000)),
                PERMISSION_DENIED, "modify Activation Date when Active",
                minor)
        refused(OP_DELETE, text(T_UID, uid) +
                text(T_ATTR_NAME, "Activation Date"),
                PERMISSION_DENIED, "delete Activation Date when Active",
                minor)
        refused(OP_ADD, text(T_UID, uid) +
                attribute("Activation Date", date(T_VALUE, now + 50000)),
                PERMISSION_DENIED, "add Activation Date when Active",
                minor)


def dates():
    now = int(time.time())
    plain = b"protect and process"
    # Past its Protect Stop Date: no more encryption.
    uid = aes(attribute("Protect Stop Date", date(T_VALUE, now - 60)))
    ok(OP_ACTIVATE, text(T_UID, uid), "activate")
    for minor in (0, 2, 4):
        refused(OP_ENCRYPT, text(T_UID, uid) + data(T_DATA, plain),
                PERMISSION_DENIED, "encrypt after Protect Stop Date",
                minor)
    # Before its Process Start Date: encrypts, does not decrypt yet.
    uid = aes(attribute("Process Start Date", date(T_VALUE, now + 3600)),
              attribute("Protect Stop Date", date(T_VALUE, now + 7200)))
    ok(OP_ACTIVATE, text(T_UID, uid), "activate")
    p = ok(OP_ENCRYPT, text(T_UID, uid) + data(T_DATA, plain),
           "encrypt before Protect Stop Date")
    ct, iv, tag = first(p, T_DATA), first(p, T_IV), first(p, T_TAG)
    refused(OP_DECRYPT, text(T_UID, uid) + data(T_DATA, ct) +
            data(T_IV, iv) + data(T_TAG, tag), PERMISSION_DENIED,
            "decrypt before Process Start Date")
    # Once the date has come, it does.
    ok(OP_MODIFY, text(T_UID, uid) +
       attribute("Process Start Date", date(T_VALUE, now - 1)),
       "move Process Start Date")
    p = ok(OP_DECRYPT, text(T_UID, uid) + data(T_DATA, ct) +
           data(T_IV, iv) + data(T_TAG, tag), "decrypt")
    check(first(p, T_DATA) == plain, "decrypted")


def query(spec):
    p = ok(OP_QUERY, enum(0x420074, 1) + enum(0x420074, 2), "query")
    have = set(find(p, 0x42005c))
    for w in spec.split(","):
        op = int(w[1:], 0)
        if w[0] == "+":
            check(op in have, "Query lacks operation 0x%02x" % op)
        else:
            check(op not in have, "Query lists operation 0x%02x" % op)


if case == "versions":
    versions()
elif case == "locate":
    locate()
elif case == "activation":
    activation()
elif case == "dates":
    dates()
elif case == "query":
    query(sys.argv[4])
else:
    check(False, "no case " + case)
print("ok")
