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
#   wrapp11	a key in a pkcs11 token is never wrapped out
#   profiles	Query Profiles claims a profile only if every mandatory
#		vector of it is in oasis.expected, and every optional one
#		too or in oasis.py's POLICY
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
        # Streamed Encrypt and Decrypt are served (crypto_test.sh).
        check(first(cap, 0x4200ef) in (1, True, b"\0" * 7 + b"\1"),
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


# -- Get with a Key Wrapping Specification ---------------------------------

T_KWS, T_WMETHOD, T_EKI, T_MSKI, T_CPARAMS, T_ENC, T_ATTR_NAME = \
    0x420047, 0x42009e, 0x420036, 0x42004e, 0x42002b, 0x4200a3, 0x42000a
T_KEYBLOCK, T_KEYVALUE, T_KEYMAT, T_KWD, T_SYMKEY, T_ATTR = 0x420040, \
    0x420045, 0x420043, 0x420046, 0x42008f, 0x420008
NIST_KW, AES_KWP, GCM = 0x0d, 0x0c, 0x09
ENCRYPT_METHOD, MAC_SIGN_METHOD = 1, 2
NO_ENCODING, TTLV_ENCODING = 1, 2
NOT_EXTRACTABLE, SENSITIVE, FEATURE_NOT_SUPPORTED, ENCODING_OPTION_ERROR, \
    ILLEGAL_OPERATION = 0x17, 0x16, 0x08, 0x12, 0x0b


def kws(wid, params=b"", method=ENCRYPT_METHOD, enc=None, names=(),
        extra=b""):
    body = enum(T_WMETHOD, method) + structure(
        T_EKI, text(T_UID, wid),
        structure(T_CPARAMS, params) if params is not None else b"")
    body += b"".join(text(T_ATTR_NAME, n) for n in names)
    if enc is not None:
        body += enum(T_ENC, enc)
    return structure(T_KWS, body + extra)


def mode(m):
    return enum(0x420011, m)


def plain(uid, minor=4):
    p = ok(OP_GET, text(T_UID, uid), "get " + uid, minor)
    kb = first(first(p, T_SYMKEY), T_KEYBLOCK)
    return first(first(kb, T_KEYVALUE), T_KEYMAT)


def wrapped(uid, spec, what, minor=4):
    """The Key Value bytes and the Key Wrapping Data of a wrapped Get."""
    p = ok(OP_GET, text(T_UID, uid) + spec, what, minor)
    kb = first(first(p, T_SYMKEY), T_KEYBLOCK)
    kv = first(kb, T_KEYVALUE)
    check(isinstance(kv, bytes), "%s: Key Value is not a Byte String: %r" %
          (what, kv))
    return kv, first(kb, T_KWD)


def key_value(b):
    """A TTLV Key Value: (key material, [attributes])."""
    items = parse(b)
    check(len(items) == 1 and items[0][0] == T_KEYVALUE, "not a Key Value")
    kv = items[0][2]
    return first(kv, T_KEYMAT), find(kv, T_ATTR)


def wrap():
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.keywrap import (
        aes_key_unwrap, aes_key_unwrap_with_padding)
    kek = aes(WRAP_KEY)
    kek_raw = plain(kek)
    key = aes(4 | 8, bits=128)
    key_raw = plain(key)
    # NIST Key Wrap (RFC 3394) of the TTLV Key Value, the default.
    for minor in (0, 2, 4):
        b, kwd = wrapped(key, kws(kek, mode(NIST_KW)), "1.%d KW" % minor,
                         minor)
        km, attrs = key_value(aes_key_unwrap(kek_raw, b))
        check(km == key_raw and not attrs, "1.%d KW: %r" % (minor, km))
        check(first(kwd, T_WMETHOD) == ENCRYPT_METHOD and
              first(first(kwd, T_EKI), T_UID) == kek, "Key Wrapping Data "
              "%r" % (kwd,))
    # The wrapping key's own Cryptographic Parameters: AES Key Wrap
    # Padding (RFC 5649), its bare bytes.
    kekp = aes(WRAP_KEY, attribute("Cryptographic Parameters", structure(
        T_VALUE, mode(AES_KWP))))
    kekp_raw = plain(kekp)
    b, kwd = wrapped(key, kws(kekp, None, enc=NO_ENCODING), "KWP")
    check(aes_key_unwrap_with_padding(kekp_raw, b) == key_raw, "KWP")
    check(first(first(first(kwd, T_EKI), T_CPARAMS), 0x420011) == AES_KWP,
          "the parameters used are said: %r" % (kwd,))
    check(first(kwd, T_ENC) == NO_ENCODING, "Encoding Option echoed")
    # Attributes named go into the Key Value.
    b, _ = wrapped(key, kws(kek, mode(NIST_KW), enc=TTLV_ENCODING,
                            names=("Cryptographic Algorithm",
                                   "Cryptographic Length", "Comment")),
                   "with attributes")
    km, attrs = key_value(aes_key_unwrap(kek_raw, b))
    got = {first(a, T_ATTR_NAME): first(a, T_VALUE) for a in attrs}
    check(km == key_raw and got == {"Cryptographic Algorithm": 3,
                                    "Cryptographic Length": 128},
          "wrapped attributes %r" % (got,))
    # A Sensitive key leaves wrapped, never in the clear.
    sens = aes(4 | 8, attribute("Sensitive", boolean(T_VALUE, True)))
    refused(OP_GET, text(T_UID, sens), SENSITIVE, "plain Get of a "
            "Sensitive key")
    b, _ = wrapped(sens, kws(kek, mode(NIST_KW)), "Sensitive key wrapped")
    check(len(key_value(aes_key_unwrap(kek_raw, b))[0]) == 32, "sensitive")
    # RSA OAEP under a public key the client registered.
    priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = priv.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    ta = structure(T_TEMPLATE, attribute("Cryptographic Usage Mask",
                                         integer(T_VALUE, WRAP_KEY)))
    pub = first(ok(0x03, enum(T_OBJTYPE, 3) + ta + structure(
        0x42006d, structure(T_KEYBLOCK, enum(0x420042, 5),
                            structure(T_KEYVALUE, data(T_KEYMAT, der)),
                            enum(0x420028, 4), integer(0x42002a, 2048))),
        "register the public key"), T_UID)
    ok(OP_ACTIVATE, text(T_UID, pub), "activate the public key")
    for h, hh in ((6, hashes.SHA256()), (8, hashes.SHA512())):
        b, _ = wrapped(key, kws(pub, enum(0x42005f, 2) + enum(0x420038, h) +
                                enum(0x420102, h)), "OAEP")
        pt = priv.decrypt(b, padding.OAEP(padding.MGF1(hh), hh, None))
        check(key_value(pt)[0] == key_raw, "OAEP")
    print("wrapped", flush=True)


def wraperr():
    kek = aes(WRAP_KEY)
    key = aes(4 | 8)
    for minor in (2, 4):
        refused(OP_GET, text(T_UID, key) + kws("nosuch"), ITEM_NOT_FOUND,
                "1.%d no wrapping key" % minor, minor)
        # No Wrap Key in its usage mask.
        refused(OP_GET, text(T_UID, key) + kws(key), PERMISSION_DENIED,
                "1.%d wrapping key without Wrap Key" % minor, minor)
        # Not Extractable: never, not even wrapped.
        ne = aes(4 | 8, attribute("Extractable", boolean(T_VALUE, False)))
        refused(OP_GET, text(T_UID, ne) + kws(kek), NOT_EXTRACTABLE
                if minor == 4 else PERMISSION_DENIED,
                "1.%d not extractable" % minor, minor)
    # Another client's wrapping key does not exist for this one.
    bob = connect(port, pki, "bob")
    refused(OP_GET, text(T_UID, key) + kws(kek), ITEM_NOT_FOUND,
            "bob's Get of alice's key", sock=bob)
    # A wrapping key not Active.
    ta = structure(T_TEMPLATE,
                   attribute("Cryptographic Algorithm", enum(T_VALUE, 3)),
                   attribute("Cryptographic Length", integer(T_VALUE, 256)),
                   attribute("Cryptographic Usage Mask",
                             integer(T_VALUE, WRAP_KEY)))
    pre = first(ok(OP_CREATE, enum(T_OBJTYPE, 2) + ta, "pre-active key"),
                T_UID)
    refused(OP_GET, text(T_UID, key) + kws(pre), PERMISSION_DENIED,
            "Pre-Active wrapping key")
    # What is not served is refused, never done otherwise.
    refused(OP_GET, text(T_UID, key) + kws(kek, mode(GCM)), INVALID_FIELD,
            "AES-GCM wrapping")
    refused(OP_GET, text(T_UID, key) + kws(kek, method=MAC_SIGN_METHOD),
            FEATURE_NOT_SUPPORTED, "MAC/sign wrapping")
    refused(OP_GET, text(T_UID, key) + structure(T_KWS, enum(T_WMETHOD, 1)),
            MISSING_DATA, "no Encryption Key Information")
    refused(OP_GET, text(T_UID, key) + kws(kek, enc=NO_ENCODING,
                                           names=("Name",)),
            ENCODING_OPTION_ERROR, "attributes without TTLV encoding")
    refused(OP_GET, text(T_UID, key) + kws(kek, enc=NO_ENCODING),
            INVALID_FIELD, "Encoding Option in a 1.0 request", 0)
    refused(OP_GET, text(T_UID, key) + kws(kek, enc=7), INVALID_FIELD,
            "unknown Encoding Option in a 1.2 request", 2)
    refused(OP_GET, text(T_UID, key) + kws(kek, names=("x",) * 33),
            INVALID_FIELD, "too many Attribute Names")
    refused(OP_GET, text(T_UID, key) + kws(kek, names=("",)),
            INVALID_FIELD, "empty Attribute Name")
    # A private key is never wrapped out, nor wrapped under.
    common = structure(0x42001f,
                       attribute("Cryptographic Algorithm", enum(T_VALUE, 6)),
                       attribute("Cryptographic Length", integer(T_VALUE,
                                                                 256)))
    p = ok(OP_CKP, common +
           structure(0x420065, attribute("Cryptographic Usage Mask",
                                         integer(T_VALUE, 1))) +
           structure(0x42006e, attribute("Cryptographic Usage Mask",
                                         integer(T_VALUE, 2 | WRAP_KEY))),
           "key pair")
    priv, pub = first(p, 0x420066), first(p, 0x42006f)
    ok(OP_ACTIVATE, text(T_UID, pub), "activate the public key")
    refused(OP_GET, text(T_UID, priv) + kws(kek), PERMISSION_DENIED,
            "private key wrapped")
    refused(OP_GET, text(T_UID, key) + kws(priv), PERMISSION_DENIED,
            "wrapped under a private key (no Wrap Key)")
    refused(OP_GET, text(T_UID, key) + kws(pub), INVALID_FIELD,
            "wrapped under an EC public key")
    refused(OP_GET, text(T_UID, pub) + kws(kek), ILLEGAL_OPERATION,
            "public key wrapped")
    print("refused", flush=True)


def wrapp11():
    # Keys in a token are made not extractable: never wrapped out.
    kek = aes(WRAP_KEY)
    key = aes(4 | 8)
    for minor in (2, 4):
        refused(OP_GET, text(T_UID, key) + kws(kek), NOT_EXTRACTABLE
                if minor == 4 else PERMISSION_DENIED,
                "1.%d token key wrapped" % minor, minor)


# -- The profiles claimed --------------------------------------------------

# Server profiles (KMIP 1.4 Profile Name) by the file name prefixes of
# their vectors (regress/kmip-testcases/README).
PROFILE_VECTORS = {
    0x80: ("TL-",), 0x82: ("SKLC-",), 0x84: ("AKLC-", "AX-"),
    0x86: ("CS-BC-",), 0x88: ("CS-AC-",), 0x8a: ("CS-RNG-",),
    0x8e: ("SKFF-",), 0x90: ("OMOS-",), 0x92: ("SUITEB_128-",),
    0x94: ("SUITEB_192-",), 0x96: ("SASED-",), 0x98: ("MSGENC-HTTPS-",),
    0x9a: ("MSGENC-JSON-",), 0x9c: ("MSGENC-XML-",),
}


def profiles():
    here = os.path.dirname(os.path.abspath(__file__))
    import oasis
    with open(os.path.join(here, "oasis.expected")) as f:
        passing = {ln.strip() for ln in f
                   if ln.strip() and not ln.startswith("#")}
    vdir = os.path.join(here, "..", "kmip-testcases", "v1.4")
    files = {}
    for sub in ("mandatory", "optional"):
        for n in os.listdir(os.path.join(vdir, sub)):
            files[n] = sub
    p = ok(OP_QUERY, enum(T_QF, 10), "Query Profiles")
    claimed = [first(x, 0x4200ec) for x in find(p, 0x4200eb)]
    check(claimed, "no profile claimed")
    for prof in claimed:
        check(prof in PROFILE_VECTORS, "unknown profile 0x%x" % prof)
        mine = [n for n in files
                if n.startswith(PROFILE_VECTORS[prof])]
        check(mine, "profile 0x%x has no vectors" % prof)
        for n in mine:
            check(n in passing or (files[n] == "optional" and
                                   n in oasis.POLICY),
                  "profile 0x%x claimed, but %s is not in oasis.expected" %
                  (prof, n))


if case == "query":
    query()
elif case == "check":
    check_case()
elif case == "wrap":
    wrap()
elif case == "wraperr":
    wraperr()
elif case == "wrapp11":
    wrapp11()
elif case == "profiles":
    profiles()
else:
    check(False, "no case " + case)
print("ok")
