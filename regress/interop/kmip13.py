# The KMIP 1.3 Query functions, Check, and Get with a Key Wrapping
# Specification (issue 10), by hand-made TTLV against the real daemon:
#
#   query	Query RNGs, Validations, Profiles, Capabilities and Client
#		Registration Methods answered to 1.3 and 1.4 requests, Invalid
#		Field to 1.0-1.2 requests naming them; Operations follow the
#		request's version and list Check
#   check	Check of Usage Limits Count, Cryptographic Usage Mask and
#		Lease Time: the Unique Identifier, and the failing fields with
#		Permission Denied, at every 1.x version
#   wrap	Get with a Key Wrapping Specification in the software signer:
#		AES key wrap (RFC 3394, RFC 5649), RSA OAEP, Encoding Option,
#		Attribute Names; unwrapped here and compared with a plain Get
#   wraperr	the refusals: a wrapping key that does not exist, is not
#		the client's, lacks Wrap Key, is not Active; a key that is
#		Sensitive or not Extractable; a method or mode not served; a
#		request older than the fields it uses
#   wrapp11	pkcs11 token: wrapped by C_WrapKey within the token, refused
#		across signers
#
#   kmip13.py PORT PKI_DIR CASE
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure, text,
                     ttlv)

port, pki, case = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = connect(port, pki)

T_UID, T_PAYLOAD, T_ITEM, T_STATUS, T_REASON, T_VALUE, T_MSG = 0x420094, \
    0x42007c, 0x42000f, 0x42007f, 0x42007e, 0x42000b, 0x42007d
T_OBJTYPE, T_TEMPLATE, T_OPERATION, T_QF = 0x420057, 0x420091, 0x42005c, \
    0x420074
T_ULC, T_MASK, T_LEASE = 0x420096, 0x42002c, 0x420049
OP_CREATE, OP_CKP, OP_CHECK, OP_GET, OP_ADD, OP_MODIFY, OP_QUERY, \
    OP_ACTIVATE, OP_REVOKE, OP_DESTROY, OP_ENCRYPT = 0x01, 0x02, 0x09, \
    0x0a, 0x0d, 0x0e, 0x18, 0x12, 0x13, 0x14, 0x1f
INVALID_MESSAGE, INVALID_FIELD, PERMISSION_DENIED, ITEM_NOT_FOUND, \
    MISSING_DATA = 0x04, 0x07, 0x0c, 0x01, 0x06
WRAP_KEY = 0x10


def interval(tag, v):
    return ttlv(tag, 10, struct.pack(">I", v))


def long(tag, v):
    return ttlv(tag, 3, struct.pack(">q", v))


def boolean(tag, v):
    return ttlv(tag, 6, struct.pack(">Q", 1 if v else 0))


def call(op, payload, minor=4, sock=None):
    """One item; (status, reason, payload items, message)."""
    sock = sock or s
    sock.sendall(request(op, payload, minor=minor))
    it = find(parse(read_message(sock))[0][2], T_ITEM)[0]
    return first(it, T_STATUS), first(it, T_REASON), \
        first(it, T_PAYLOAD), first(it, T_MSG)


def ok(op, payload, what, minor=4):
    st, reason, p, msg = call(op, payload, minor)
    check(st == 0, "%s: reason %s %r" % (what, reason, msg))
    return p


def refused(op, payload, reason, what, minor=4, sock=None):
    st, got, p, msg = call(op, payload, minor, sock)
    check(st != 0, what + " succeeded")
    check(got == reason, "%s: reason %s (%r), wanted %s" % (what, got, msg,
                                                           reason))
    return p, msg


def aes(mask, *attrs, bits=256, minor=4):
    """A new Active AES key with this usage mask; its id."""
    ta = structure(T_TEMPLATE,
                   attribute("Cryptographic Algorithm", enum(T_VALUE, 3)),
                   attribute("Cryptographic Length", integer(T_VALUE, bits)),
                   attribute("Cryptographic Usage Mask",
                             integer(T_VALUE, mask)), *attrs)
    uid = first(ok(OP_CREATE, enum(T_OBJTYPE, 2) + ta, "create AES key",
                   minor), T_UID)
    ok(OP_ACTIVATE, text(T_UID, uid), "activate", minor)
    return uid


# -- Query -----------------------------------------------------------------

QUERY_13 = {8: 0x4200d9, 9: 0x4200df, 10: 0x4200eb, 11: 0x4200f7,
            12: 0x4200f6}


def query():
    # Older versions do not know the functions of 1.3.
    for minor in (0, 1, 2):
        for fn in QUERY_13:
            refused(OP_QUERY, enum(T_QF, fn), INVALID_FIELD,
                    "1.%d Query function %d" % (minor, fn), minor)
        # What they do know is answered.
        ok(OP_QUERY, enum(T_QF, 1) + enum(T_QF, 2) + enum(T_QF, 3),
           "1.%d Query" % minor, minor)
    refused(OP_QUERY, enum(T_QF, 5), INVALID_FIELD, "1.0 Extension List",
            0)
    refused(OP_QUERY, enum(T_QF, 7), INVALID_FIELD, "1.1 Attestation "
            "Types", 1)
    # Functions of KMIP 2.0 are not 1.x ones.
    refused(OP_QUERY, enum(T_QF, 13), INVALID_FIELD, "1.4 Query Defaults "
            "Information", 4)
    for minor in (3, 4):
        p = ok(OP_QUERY, b"".join(enum(T_QF, f) for f in QUERY_13),
               "1.%d Query of the 1.3 functions" % minor, minor)
        rng = find(p, 0x4200d9)
        check(rng and first(rng[0], 0x4200da) == 3, "RNG Parameters: %r" %
              (rng,))
        check(not find(p, 0x4200df), "Validation Information: signerd "
              "claims none")
        profs = [first(x, 0x4200ec) for x in find(p, 0x4200eb)]
        # Named in the request's version: 1.4 names are 0x79-0x9c, 1.3
        # ones 0x55-0x78.
        lo, hi = (0x79, 0x9c) if minor == 4 else (0x55, 0x78)
        check(profs and all(lo <= x <= hi for x in profs),
              "1.%d Profile Names %r" % (minor, profs))
        cap = find(p, 0x4200f7)
        check(len(cap) == 1, "one Capability Information")
        cap = cap[0]
        check(first(cap, 0x4200ef) == 0 or
              first(cap, 0x4200ef) == b"\0" * 8,
              "Streaming Capability: %r" % (cap,))
        has14 = first(cap, 0x4200f9) is not None
        check(has14 == (minor == 4), "1.%d: Batch Undo Capability is a "
              "field of 1.4" % minor)
        check(find(p, 0x4200f6), "Client Registration Method")
        # Nothing else.
        extra = [hex(t) for (t, _, _) in p if t not in QUERY_13.values()]
        check(not extra, "1.%d: unexpected %s" % (minor, extra))
    # Operations follow the request's version, and Check is one.
    for minor in range(5):
        p = ok(OP_QUERY, enum(T_QF, 1), "1.%d Query Operations" % minor,
               minor)
        ops = set(find(p, T_OPERATION))
        check(OP_CHECK in ops, "Query lacks Check")
        check((0x1e in ops) == (minor >= 1), "1.%d: Discover Versions "
              "is 1.1" % minor)
        check((0x21 in ops) == (minor >= 2), "1.%d: Sign is 1.2" % minor)


# -- Check -----------------------------------------------------------------

def check_case():
    limits = attribute("Usage Limits", structure(
        T_VALUE, long(0x420097, 10), enum(0x420098, 2)))
    lease = attribute("Lease Time", interval(T_VALUE, 3600))
    uid = aes(4 | 8, limits, lease)
    for minor in range(5):
        # Within the object's: the Unique Identifier alone.
        p = ok(OP_CHECK, text(T_UID, uid) + long(T_ULC, 10) +
               integer(T_MASK, 4) + interval(T_LEASE, 3600),
               "1.%d Check within" % minor, minor)
        check([t for (t, _, _) in p] == [T_UID] and first(p, T_UID) == uid,
              "1.%d Check answer %r" % (minor, p))
        # Beyond: Permission Denied, the id and the failing fields only.
        p, msg = refused(OP_CHECK, text(T_UID, uid) + long(T_ULC, 11) +
                         integer(T_MASK, 4 | WRAP_KEY) +
                         interval(T_LEASE, 60), PERMISSION_DENIED,
                         "1.%d Check beyond" % minor, minor)
        check(p is not None and first(p, T_UID) == uid and
              first(p, T_ULC) == 11 and first(p, T_MASK) == 4 | WRAP_KEY and
              first(p, T_LEASE) is None, "1.%d Check failed fields %r" %
              (minor, p))
        p, _ = refused(OP_CHECK, text(T_UID, uid) + interval(T_LEASE, 7200),
                       PERMISSION_DENIED, "lease", minor)
        check([t for (t, _, _) in p] == [T_UID, T_LEASE], "lease: %r" % p)
    # A use counts down what a Check allows.
    ok(OP_ENCRYPT, text(T_UID, uid) + structure(0x42002b,
       enum(0x420011, 2), enum(0x42005f, 1)) + data(0x4200c2, b"x" * 16),
       "encrypt")
    refused(OP_CHECK, text(T_UID, uid) + long(T_ULC, 10), PERMISSION_DENIED,
            "count after a use")
    ok(OP_CHECK, text(T_UID, uid) + long(T_ULC, 9), "count left")
    # No limits, no lease: any count and lease pass; the mask still holds.
    free = aes(4)
    ok(OP_CHECK, text(T_UID, free) + long(T_ULC, 1 << 40) +
       interval(T_LEASE, 1 << 30), "no limits")
    refused(OP_CHECK, text(T_UID, free) + integer(T_MASK, 8),
            PERMISSION_DENIED, "mask")
    # The ID Placeholder: set by Create, used by Check, emptied when it
    # fails, so that the Get after it has no object.
    ta = structure(T_TEMPLATE,
                   attribute("Cryptographic Algorithm", enum(T_VALUE, 3)),
                   attribute("Cryptographic Length", integer(T_VALUE, 128)),
                   attribute("Cryptographic Usage Mask", integer(T_VALUE,
                                                                 4)))
    items = [structure(T_ITEM, enum(T_OPERATION, OP_CREATE),
                       structure(0x420079, enum(T_OBJTYPE, 2) + ta)),
             structure(T_ITEM, enum(T_OPERATION, OP_CHECK),
                       structure(0x420079, integer(T_MASK, 8))),
             structure(T_ITEM, enum(T_OPERATION, OP_GET),
                       structure(0x420079))]
    hdr = structure(0x420077, structure(0x420069, integer(0x42006a, 1),
                                        integer(0x42006b, 4)),
                    enum(0x42000e, 1), integer(0x42000d, 3))
    s.sendall(structure(0x420078, hdr, *items))
    its = find(parse(read_message(s))[0][2], T_ITEM)
    check([first(i, T_STATUS) for i in its] == [0, 1, 1] and
          first(its[1], T_REASON) == PERMISSION_DENIED and
          first(its[2], T_REASON) == MISSING_DATA,
          "batch Create, Check, Get: %r" % (its,))
    # The reasons of the request's version, and bad fields.
    refused(OP_CHECK, text(T_UID, "nosuch") + integer(T_MASK, 4),
            ITEM_NOT_FOUND, "no object")
    refused(OP_CHECK, text(T_UID, uid) + integer(T_ULC, 1), INVALID_FIELD,
            "Usage Limits Count as an Integer")
    refused(OP_CHECK, text(T_UID, uid) + long(T_ULC, -1), INVALID_FIELD,
            "negative count")
    refused(OP_CHECK, text(T_UID, uid) + integer(T_MASK, 4) +
            integer(T_MASK, 4), INVALID_MESSAGE, "two masks")
    ok(OP_REVOKE, text(T_UID, free) + structure(0x420081, enum(0x420082, 1)),
       "revoke")
    ok(OP_DESTROY, text(T_UID, free), "destroy")
    for minor in range(5):
        refused(OP_CHECK, text(T_UID, free) + integer(T_MASK, 4),
                ITEM_NOT_FOUND, "1.%d Check destroyed" % minor, minor)


if case == "query":
    query()
elif case == "check":
    check_case()
else:
    check(False, "no case " + case)
print("ok")
