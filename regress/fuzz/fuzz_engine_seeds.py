# Seed inputs for fuzz_engine: what Krill, Cascade and PyKMIP send, as
# records of one control byte (see fuzz_engine.c) and one KMIP message.
# Identifiers are counted from 1 on each input's fresh keystore.
#
#   python3 regress/fuzz/fuzz_engine_seeds.py regress/fuzz/corpus/fuzz_engine
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "interop"))
from ttlvlib import (BOOL, attribute, data, enum, integer,  # noqa: E402
                     request, structure, text, ttlv)

OP_CREATE, OP_CKP, OP_REGISTER, OP_LOCATE, OP_GET, OP_GET_ATTRS, \
    OP_GET_ATTR_LIST, OP_ADD, OP_MODIFY, OP_DELETE, OP_ACTIVATE, \
    OP_REVOKE, OP_DESTROY, OP_QUERY, OP_DISCOVER, OP_SIGN, OP_VERIFY, \
    OP_ENCRYPT, OP_DECRYPT, OP_MAC = 0x01, 0x02, 0x03, 0x08, 0x0a, 0x0b, \
    0x0c, 0x0d, 0x0e, 0x0f, 0x12, 0x13, 0x14, 0x18, 0x1e, 0x21, 0x22, \
    0x1f, 0x20, 0x23
T_UID, T_ITEM, T_OP, T_PAYLOAD, T_UBI = 0x420094, 0x42000f, 0x42005c, \
    0x420079, 0x420093

ALICE, BOB, NOBODY, LONG = 0, 1, 2, 3
ERROR, MALFORMED, ROTATE = 1 << 2, 2 << 2, 3 << 2
SECOND, SECOND_DOWN, PIPELINED = 0x10, 0x20, 0x40


def uid(n):
    return "00000000-0000-4000-8000-%012x" % n


def item(op, payload, ubi=None):
    return structure(T_ITEM, enum(T_OP, op),
                     data(T_UBI, ubi) if ubi is not None else b"",
                     structure(T_PAYLOAD, payload))


def name(v):
    return attribute("Name", structure(0x42000b, text(0x420055, v),
                                       enum(0x420054, 1)))


def alg_len(alg, bits):
    return attribute("Cryptographic Algorithm", enum(0x42000b, alg)) + \
        attribute("Cryptographic Length", integer(0x42000b, bits))


def ckp(alg, bits, label, common_tag=0x42001f):
    return structure(common_tag, alg_len(alg, bits)) + \
        structure(0x420065, name(label + "_priv"),
                  attribute("Cryptographic Usage Mask",
                            integer(0x42000b, 1))) + \
        structure(0x42006e, name(label + "_pub"),
                  attribute("Cryptographic Usage Mask",
                            integer(0x42000b, 2)))


def aes(bits=256, mask=12, extra=b""):
    return enum(0x420057, 2) + structure(
        0x420091, alg_len(3, bits),
        attribute("Cryptographic Usage Mask", integer(0x42000b, mask)),
        extra)


def boolean(tag, v):
    return ttlv(tag, BOOL, bytes(7) + bytes([v]))


def rec(ctl, msg):
    return bytes([ctl]) + msg


seeds = {}
rsa_params = structure(0x42002b, enum(0x42005f, 8), enum(0x420038, 6),
                       enum(0x420028, 4))
ec_params = structure(0x42002b, enum(0x420038, 6), enum(0x420028, 6))
doc = b"a whole RPKI object, which the server hashes"
revoke = structure(0x420081, enum(0x420082, 6))

# Krill: RSA pair, Get in each format, Modify the Names, Activate, Sign,
# Destroy the public key, Revoke and Destroy the private key, Sign again.
seeds["krill"] = b"".join([
    rec(ALICE, request(OP_CKP, ckp(4, 2048, "krill_new_key_1700000000"),
                       minor=0)),
    rec(ALICE, request(OP_GET, text(T_UID, uid(2)), minor=0)),
    rec(ALICE, request(OP_GET, text(T_UID, uid(2)) + enum(0x420042, 11),
                       minor=0)),
    rec(ALICE, request(OP_GET, text(T_UID, uid(2)) + enum(0x420042, 5),
                       minor=0)),
    rec(ALICE, request(OP_MODIFY, text(T_UID, uid(2)) +
                       name("krill-private-key-abcdef"), minor=0)),
    rec(ALICE, request(OP_MODIFY, text(T_UID, uid(1)) +
                       name("krill-private-key-abcdef"), minor=0)),
    rec(ALICE, request(OP_ACTIVATE, text(T_UID, uid(1)), minor=0)),
    rec(ALICE, request(OP_SIGN, text(T_UID, uid(1)) + rsa_params +
                       data(0x4200c2, doc), minor=2)),
    rec(ALICE, request(OP_DESTROY, text(T_UID, uid(2)), minor=0)),
    rec(ALICE, request(OP_REVOKE, text(T_UID, uid(1)) + revoke, minor=0)),
    rec(ALICE, request(OP_DESTROY, text(T_UID, uid(1)), minor=0)),
    rec(ALICE, request(OP_SIGN, text(T_UID, uid(1)) + rsa_params +
                       data(0x4200c2, doc), minor=2)),
])

# Cascade: P-256 pair, Get, Activate, three Signs in one batch with
# Unique Batch Item IDs, then the clean-up.
seeds["cascade"] = b"".join([
    rec(BOB, request(OP_CKP, ckp(6, 256, "cascade-example.org-12345"),
                     minor=0)),
    rec(BOB, request(OP_GET, text(T_UID, uid(2)), minor=0)),
    rec(BOB, request(OP_ACTIVATE, text(T_UID, uid(1)), minor=0)),
    rec(BOB, request(OP_SIGN, minor=2, items=[
        item(OP_SIGN, text(T_UID, uid(1)) + ec_params +
             data(0x4200c2, doc + bytes([i])), ubi=bytes([i]) * 16)
        for i in range(3)])),
    rec(BOB, request(OP_DESTROY, text(T_UID, uid(2)), minor=0)),
    rec(BOB, request(OP_REVOKE, text(T_UID, uid(1)) + revoke, minor=0)),
    rec(BOB, request(OP_DESTROY, text(T_UID, uid(1)), minor=0)),
])

# PyKMIP: Create AES, Get, Locate by name, Register a secret, Encrypt,
# Decrypt, MAC with an HMAC key, Query, Discover Versions.
seeds["pykmip"] = b"".join([
    rec(ALICE, request(OP_CREATE, aes(256, 12, name("pykmip-aes")))),
    rec(ALICE, request(OP_ACTIVATE, text(T_UID, uid(1)))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(1)))),
    rec(ALICE, request(OP_LOCATE, name("pykmip-aes"))),
    rec(ALICE, request(OP_GET_ATTRS, text(T_UID, uid(1)) +
                       text(0x42000a, "Cryptographic Length"))),
    rec(ALICE, request(OP_GET_ATTR_LIST, text(T_UID, uid(1)))),
    rec(ALICE, request(OP_ENCRYPT, text(T_UID, uid(1)) +
                       structure(0x42002b, enum(0x420011, 9),
                                 enum(0x420028, 3)) +
                       data(0x4200c2, b"plain text"))),
    rec(ALICE, request(OP_DECRYPT, text(T_UID, uid(1)) +
                       structure(0x42002b, enum(0x420011, 9),
                                 enum(0x420028, 3)) +
                       data(0x4200c2, b"cipher text") +
                       data(0x42003d, b"\1" * 12) +
                       data(0x4200ff, b"\2" * 16))),
    rec(ALICE, request(OP_REGISTER, enum(0x420057, 7) +
                       structure(0x420091, name("pykmip-secret")) +
                       structure(0x420085, enum(0x420086, 2),
                                 structure(0x420040, enum(0x420042, 2),
                                           structure(0x420045, data(
                                               0x420043, b"s3cret!!")))))),
    rec(ALICE, request(OP_CREATE, enum(0x420057, 2) + structure(
        0x420091, attribute("Cryptographic Algorithm", enum(0x42000b, 9)),
        attribute("Cryptographic Usage Mask", integer(0x42000b, 128))))),
    rec(ALICE, request(OP_ACTIVATE, text(T_UID, uid(3)))),
    rec(ALICE, request(OP_MAC, text(T_UID, uid(3)) +
                       data(0x4200c2, b"mac me"))),
    rec(ALICE, request(OP_QUERY, enum(0x420074, 1) + enum(0x420074, 2) +
                       enum(0x420074, 3))),
    rec(ALICE, request(OP_DISCOVER, structure(
        0x420069, integer(0x42006a, 1), integer(0x42006b, 2)))),
])

# A batch with the ID Placeholder: Create, Activate, Get Attributes,
# Add, Modify and Delete Attribute on what the first item made.
seeds["placeholder"] = rec(ALICE, request(OP_CREATE, minor=2, items=[
    item(OP_CREATE, aes(128)),
    item(OP_ACTIVATE, b""),
    item(OP_ADD, attribute("x-purpose", text(0x42000b, "fuzz"))),
    item(OP_ADD, attribute("x-purpose", text(0x42000b, "fuzz again"))),
    item(OP_MODIFY, attribute("Comment", text(0x42000b, "one"))),
    item(OP_ADD, attribute("Comment", text(0x42000b, "two"))),
    item(OP_MODIFY, structure(0x420008, text(0x42000a, "x-purpose"),
                              integer(0x420009, 1),
                              text(0x42000b, "changed"))),
    item(OP_DELETE, text(0x42000a, "x-purpose") + integer(0x420009, 0)),
    item(OP_GET_ATTRS, b""),
    item(OP_GET_ATTR_LIST, b""),
    item(OP_GET, b""),
    item(OP_REVOKE, revoke),
    item(OP_DESTROY, b""),
]))

# The owners kept apart: bob asks for alice's key, and the empty identity
# and a 256-byte one make keys.  Issue 7 item 4: Extractable false made
# true by Delete then Add Attribute, and Get returns the key (reported
# once FUZZ_ENGINE_KNOWN_BUGS is gone).
seeds["owners"] = b"".join([
    rec(ALICE, request(OP_CREATE, aes(256, 12, attribute(
        "Extractable", boolean(0x42000b, 0))))),
    rec(BOB, request(OP_GET, text(T_UID, uid(1)))),
    rec(BOB, request(OP_DESTROY, text(T_UID, uid(1)))),
    rec(NOBODY, request(OP_CREATE, aes(128))),
    rec(LONG, request(OP_CREATE, aes(128))),
    rec(NOBODY, request(OP_LOCATE, b"")),
    rec(LONG, request(OP_LOCATE, b"")),
    rec(ALICE, request(OP_DELETE, text(T_UID, uid(1)) +
                       text(0x42000a, "Extractable"))),
    rec(ALICE, request(OP_ADD, text(T_UID, uid(1)) + attribute(
        "Extractable", boolean(0x42000b, 1)))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(1)))),
])

# Signers that fail, answer nonsense, vanish, or are down.
seeds["signers"] = b"".join([
    rec(ALICE | ERROR, request(OP_CKP, ckp(6, 256, "err"))),
    rec(ALICE | MALFORMED, request(OP_CKP, ckp(6, 384, "bad"))),
    rec(ALICE | ROTATE, structure(0x420078, structure(
        0x420077, structure(0x420069, integer(0x42006a, 1),
                            integer(0x42006b, 4)),
        enum(0x42000e, 1), integer(0x42000d, 5)), *[
        item(OP_CKP, ckp(i, b, "r%d" % b)) for i, b in
        ((4, 2048), (6, 521), (0x37, 256), (6, 256), (4, 3072))])),
    rec(ALICE | SECOND | SECOND_DOWN, request(OP_CREATE, aes(192))),
    rec(ALICE | SECOND, request(OP_CREATE, aes(192))),
    rec(ALICE | PIPELINED, request(OP_CREATE, aes(128))),
    rec(BOB | PIPELINED | ERROR, request(OP_CREATE, aes(256))),
])



def openssl(*args):
    return subprocess.run(("openssl",) + args, check=True,
                          stdout=subprocess.PIPE).stdout


# Register: a P-256 private key (PKCS#8), its public key (X.509), a
# certificate, an AES key as Transparent Symmetric Key, a private key
# that does not parse; then Get and Sign with what was registered.
with tempfile.TemporaryDirectory() as tmp:
    key = os.path.join(tmp, "key.pem")
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-out", key)
    pkcs8 = openssl("pkey", "-in", key, "-outform", "DER")
    spki = openssl("pkey", "-in", key, "-pubout", "-outform", "DER")
    cert = openssl("req", "-new", "-x509", "-key", key, "-subj", "/CN=fuzz",
                   "-days", "1", "-outform", "DER")


def key_block(fmt, material, alg):
    return structure(0x420040, enum(0x420042, fmt),
                     structure(0x420045, material), enum(0x420028, alg))


seeds["register"] = b"".join([
    rec(ALICE, request(OP_REGISTER, enum(0x420057, 4) + structure(
        0x420091, name("reg-priv"),
        attribute("Cryptographic Usage Mask", integer(0x42000b, 1))) +
        structure(0x420064, key_block(4, data(0x420043, pkcs8), 6)))),
    rec(ALICE, request(OP_REGISTER, enum(0x420057, 3) + structure(
        0x420091, name("reg-pub")) +
        structure(0x42006d, key_block(5, data(0x420043, spki), 6)))),
    rec(ALICE, request(OP_REGISTER, enum(0x420057, 1) + structure(
        0x420091) + structure(0x420013, enum(0x42001d, 1),
                              data(0x42001e, cert)))),
    rec(ALICE, request(OP_REGISTER, enum(0x420057, 2) + structure(
        0x420091, alg_len(3, 128)) + structure(0x42008f, key_block(
            7, structure(0x420043, data(0x42003f, b"k" * 16)), 3)))),
    rec(ALICE, request(OP_REGISTER, enum(0x420057, 4) + structure(
        0x420091) + structure(0x420064, key_block(
            8, data(0x420043, b"\x30\x03\x02\x01\x00"), 4)))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(2)))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(3)))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(4)) + enum(0x420042, 7))),
    rec(ALICE, request(OP_ACTIVATE, text(T_UID, uid(1)))),
    rec(ALICE, request(OP_SIGN, text(T_UID, uid(1)) + ec_params +
                       data(0x4200c2, doc))),
    rec(ALICE, request(OP_VERIFY, text(T_UID, uid(2)) + ec_params +
                       data(0x4200c2, doc) + data(0x4200c3, b"sig"))),
])

# Locate: a 2 KiB batch of Locate items over a few keys, with filters.
locates = [item(OP_LOCATE, b""),
           item(OP_LOCATE, attribute("Object Type", enum(0x42000b, 3))),
           item(OP_LOCATE, name("loc_pub")),
           item(OP_LOCATE, integer(0x42004f, 1) + integer(0x4200d3, 1)),
           item(OP_LOCATE, attribute("State", enum(0x42000b, 1)))]
batch = []
while len(b"".join(batch)) < 2048:
    batch.append(locates[len(batch) % len(locates)])
seeds["locate"] = b"".join([
    rec(ALICE, request(OP_CKP, ckp(0x37, 256, "loc"))),
    rec(ALICE, request(OP_CREATE, aes(256))),
    rec(ALICE, request(OP_LOCATE, minor=1, items=batch)),
])

# The header: every version, a bad Batch Count, Maximum Response Size,
# Batch Error Continuation Option Continue with a failing item.
hdr_items = [item(OP_QUERY, enum(0x420074, 1)), item(0x7f, b""),
             item(OP_DISCOVER, b"")]
seeds["header"] = b"".join(
    [rec(ALICE, request(OP_DISCOVER, b"", minor=m)) for m in range(6)] +
    [rec(ALICE, structure(0x420078, structure(
        0x420077, structure(0x420069, integer(0x42006a, 1),
                            integer(0x42006b, 4)),
        integer(0x420050, 200), enum(0x42000e, 2),
        integer(0x42000d, 3)), *hdr_items)),
     rec(ALICE, structure(0x420078, structure(
         0x420077, structure(0x420069, integer(0x42006a, 1),
                             integer(0x42006b, 4)),
         integer(0x42000d, 2)), *hdr_items)),
     rec(ALICE, b"\x42\x00\x78\x01\xff\xff\xff\xf8")])

# Less travelled paths: an Activation Date in the past, a curve named by
# Domain Parameters, Get in formats a key cannot take or with wrapping,
# RSA with PSS and OAEP, Ed25519, HMAC-SHA512, a wrapped Register, a
# sensitive key, a compromised and destroyed key, no default signer, a
# signer that answers with nothing.
DATE = 9
ct = ttlv(0x42000b, DATE, (1).to_bytes(8, "big"))
seeds["paths"] = b"".join([
    rec(ALICE, request(OP_CKP, structure(0x42001f, alg_len(4, 3072),
                                         attribute("Activation Date", ct)),
                       minor=4)),
    rec(ALICE, request(OP_CKP, structure(0x42001f, attribute(
        "Cryptographic Algorithm", enum(0x42000b, 6)), attribute(
        "Cryptographic Domain Parameters", structure(
            0x42000b, enum(0x420075, 0x0a)))))),
    rec(ALICE, request(OP_CKP, ckp(0x37, 256, "ed"))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(4)) + enum(0x420042, 3))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(2)) +
                       structure(0x420047, enum(0x42009e, 1)))),
    rec(ALICE, request(OP_SIGN, text(T_UID, uid(1)) + structure(
        0x42002b, enum(0x4200ae, 8)) + data(0x4200c2, doc))),
    rec(ALICE, request(OP_SIGN, text(T_UID, uid(1)) + structure(
        0x42002b, enum(0x42005f, 0x0a), enum(0x420038, 7)) +
        data(0x4200c2, doc))),
    rec(ALICE, request(OP_ENCRYPT, text(T_UID, uid(2)) + structure(
        0x42002b, enum(0x42005f, 2)) + data(0x4200c2, b"secret"))),
    rec(ALICE, request(OP_ACTIVATE, text(T_UID, uid(5)))),
    rec(ALICE, request(OP_SIGN, text(T_UID, uid(5)) + data(0x4200c2, doc))),
    rec(ALICE, request(OP_CREATE, enum(0x420057, 2) + structure(
        0x420091, alg_len(0x0b, 512), attribute(
            "Cryptographic Usage Mask", integer(0x42000b, 128)),
        attribute("Activation Date", ct)))),
    rec(ALICE, request(OP_MAC, text(T_UID, uid(7)) + structure(
        0x42002b, enum(0x420038, 8)) + data(0x4200c2, b"mac me"))),
    rec(ALICE, request(OP_CREATE, aes(128, 12, attribute(
        "Sensitive", boolean(0x42000b, 1))))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(8)))),
    rec(ALICE, request(OP_REVOKE, text(T_UID, uid(8)) + structure(
        0x420081, enum(0x420082, 2)) + ttlv(0x420021, DATE,
                                            (2).to_bytes(8, "big")))),
    rec(ALICE, request(OP_DESTROY, text(T_UID, uid(8)))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(8)))),
    rec(ALICE, request(OP_REGISTER, enum(0x420057, 2) + structure(
        0x420091) + structure(0x42008f, structure(
            0x420040, enum(0x420042, 1), structure(
                0x420045, data(0x420043, b"w" * 24)),
            structure(0x420046, enum(0x42009e, 1)))))),
    rec(ALICE | 0x80, request(OP_CREATE, aes(128))),
    rec(ALICE | ROTATE, request(OP_CREATE, minor=3, items=[
        item(OP_CREATE, aes(128))] * 5)),
])

# Batch items run together (issues 8, 13): Sign, Get, Signature Verify
# and a failing Sign side by side, a write among them, under Stop and
# Continue, with the signers answering in turn well, with an error,
# malformed, empty; then with the second signer not ready.
batch = [item(OP_SIGN, text(T_UID, uid(1)) + ec_params +
              data(0x4200c2, doc + bytes([i])), ubi=bytes([i]))
         for i in range(4)] + [
    item(OP_GET, text(T_UID, uid(2))),
    item(OP_VERIFY, text(T_UID, uid(2)) + ec_params + data(0x4200c2, doc) +
         data(0x4200c3, b"0" * 70)),
    item(OP_SIGN, text(T_UID, uid(9)) + ec_params + data(0x4200c2, doc)),
    item(OP_ACTIVATE, text(T_UID, uid(3))),
    item(OP_SIGN, text(T_UID, uid(3)) + ec_params + data(0x4200c2, doc))]
continue_hdr = structure(0x420077, structure(0x420069, integer(0x42006a, 1),
                                             integer(0x42006b, 2)),
                         enum(0x42000e, 1), integer(0x42000d, len(batch)))
seeds["batch"] = b"".join([
    rec(ALICE, request(OP_CKP, ckp(6, 256, "batch-a"))),
    rec(ALICE, request(OP_CKP, ckp(6, 256, "batch-b"))),
    rec(ALICE, request(OP_ACTIVATE, text(T_UID, uid(1)))),
    rec(ALICE, request(OP_SIGN, items=batch)),
    rec(ALICE | ROTATE, structure(0x420078, continue_hdr, *batch)),
    rec(ALICE | ROTATE | PIPELINED, request(OP_SIGN, items=batch)),
    rec(ALICE | ERROR | PIPELINED, structure(0x420078, continue_hdr,
                                             *batch)),
    rec(ALICE | SECOND_DOWN, request(OP_SIGN, items=batch[:4])),
])

# Issue 7 item 1: 40 keys, then 1,300 Locate items in one message: an
# answer of 2.5 MB, over the 2 MiB the engine may send the frontend.
# fuzz_engine skips it while FUZZ_ENGINE_KNOWN_BUGS is set.
seeds["item1-locate"] = b"".join([
    rec(ALICE, request(OP_CREATE, items=[item(OP_CREATE, aes(128))] * 40)),
    rec(ALICE, request(OP_LOCATE, items=[item(OP_LOCATE, b"")] * 1300)),
])

# Issue 7 item 2: one key with 2,600 attributes, stored as more than the
# 10,000 items the engine reads back.  Over 64 KiB: skipped while
# FUZZ_ENGINE_KNOWN_BUGS is set.
seeds["item2-attributes"] = rec(ALICE, request(OP_CREATE, aes(128, 12, b"".join(
    attribute("x-", data(0x42000b, b"")) for i in range(2600)))))

# Issue 7 item 9: an attribute name that is not UTF-8, echoed in the
# Result Message.  Not checked while FUZZ_ENGINE_KNOWN_BUGS is set.
seeds["item9-utf8"] = rec(ALICE, request(OP_CREATE, enum(0x420057, 2) +
                                         structure(0x420091, structure(
                                             0x420008,
                                             ttlv(0x42000a, 7, b"x\xffy"),
                                             integer(0x42000b, 1)))))

# Issue 8: hsm::<slot>::<key id> ids and adoption by Locate, on the
# second signer (a pkcs11 signer in slot 7); alice is an admin, bob not.
def hsm_ckp(uid_, where=0x42001f):
    u = attribute("Unique Identifier", text(0x42000b, uid_))
    if where == 0x42001f:
        return structure(0x42001f, alg_len(4, 2048), u)
    return structure(0x42001f, alg_len(4, 2048)) + structure(where, u)


def hsm_locate(uid_):
    return attribute("Unique Identifier", text(0x42000b, uid_))


seeds["hsm-ids"] = b"".join([
    rec(ALICE | SECOND, request(OP_CKP, hsm_ckp("hsm::7::mykey"))),
    rec(ALICE, request(OP_ACTIVATE, text(T_UID, "hsm::7::mykey"))),
    rec(ALICE, request(OP_SIGN, text(T_UID, "hsm::7::mykey") + rsa_params +
                       data(0x4200c2, doc))),
    rec(ALICE, request(OP_GET, text(T_UID, "hsm::7::mykey_pk"))),
    rec(ALICE, request(OP_GET, text(T_UID, "hsm::7::mykey"))),
    rec(BOB, request(OP_CKP, hsm_ckp("hsm::7::bobs"))),
    rec(ALICE, request(OP_CKP, hsm_ckp("hsm::8::x"))),
    rec(ALICE, request(OP_CKP, hsm_ckp("hsm::7::a:b"))),
    rec(ALICE, request(OP_CKP, hsm_ckp("hsm::7::y", 0x42006e))),
    rec(ALICE, request(OP_CREATE, aes(256, 12, attribute(
        "Unique Identifier", text(0x42000b, "hsm::7::aes"))))),
])
seeds["hsm-adopt"] = b"".join([
    rec(BOB, request(OP_LOCATE, hsm_locate("hsm::7::opendnssec"))),
    rec(ALICE, request(OP_LOCATE, hsm_locate("hsm::7::opendnssec"))),
    rec(ALICE, request(OP_LOCATE, hsm_locate("hsm::7::opendnssec"))),
    rec(ALICE, request(OP_SIGN, text(T_UID, "hsm::7::opendnssec") +
                       rsa_params + data(0x4200c2, doc))),
    rec(ALICE, request(OP_LOCATE, hsm_locate("hsm::7::other") +
                       attribute("Object Type", enum(0x42000b, 4)))),
    rec(ALICE | ERROR, request(OP_LOCATE, hsm_locate("hsm::7::err"))),
    rec(ALICE | MALFORMED, request(OP_LOCATE, hsm_locate("hsm::7::bad"))),
])

# Issue 10, the OASIS profiles: operations without a key, block cipher
# modes, Opaque Objects, client Links and attributes of newer versions.
OP_MAC_VERIFY, OP_RNG_RETRIEVE, OP_RNG_SEED, OP_HASH = 0x24, 0x25, 0x26, \
    0x27


def cparams(*items):
    return structure(0x42002b, *items)


def link(kind, target):
    return attribute("Link", structure(0x42000b, enum(0x42004b, kind),
                                       text(0x42004c, target)))


seeds["oasis"] = b"".join([
    rec(ALICE, request(OP_HASH, cparams(enum(0x420038, 6)) +
                       data(0x4200c2, doc))),
    rec(ALICE, request(OP_HASH, cparams(enum(0x420038, 99)) +
                       data(0x4200c2, doc))),
    rec(ALICE, request(OP_HASH, cparams(enum(0x420038, 8)) +
                       data(0x4200c2, doc) + boolean(0x4200d7, 1))),
    rec(ALICE, request(OP_RNG_RETRIEVE, integer(0x4200c4, 32))),
    rec(ALICE, request(OP_RNG_RETRIEVE, integer(0x4200c4, -1))),
    rec(ALICE, request(OP_RNG_SEED, data(0x4200c2, bytes(32)))),
    rec(ALICE, request(OP_CREATE, aes(128, 12, attribute(
        "Cryptographic Parameters", cparams(enum(0x420011, 2)))))),
    rec(ALICE, request(OP_ACTIVATE, text(T_UID, uid(1)))),
    rec(ALICE, request(OP_ENCRYPT, text(T_UID, uid(1)) +
                       data(0x4200c2, bytes(16)))),
    rec(ALICE, request(OP_ENCRYPT, text(T_UID, uid(1)) +
                       cparams(enum(0x420011, 1), enum(0x42005f, 3)) +
                       data(0x4200c2, bytes(17)) +
                       data(0x42003d, bytes(16)))),
    rec(ALICE, request(OP_DECRYPT, text(T_UID, uid(1)) +
                       cparams(enum(0x420011, 1)) +
                       data(0x4200c2, bytes(32)))),
    rec(ALICE, request(OP_ENCRYPT, text(T_UID, uid(1)) +
                       cparams(enum(0x420011, 6)) +
                       data(0x4200c2, bytes(5)))),
    rec(ALICE, request(OP_ENCRYPT, text(T_UID, uid(1)) +
                       cparams(enum(0x420011, 9)) +
                       data(0x4200c2, bytes(5)) + data(0x42003d, bytes(8)))),
    rec(ALICE, request(OP_CREATE, enum(0x420057, 2) + structure(
        0x420091, alg_len(9, 256), attribute(
            "Cryptographic Usage Mask", integer(0x42000b, 0x180))))),
    rec(ALICE, request(OP_MAC_VERIFY, text(T_UID, uid(2)) +
                       data(0x4200c2, doc) + data(0x4200c6, bytes(32)))),
    rec(ALICE, request(OP_REGISTER, enum(0x420057, 8) + structure(
        0x420091, name("opaque")) + structure(
            0x42005b, enum(0x420059, 0x80000001),
            data(0x42005a, b"SecretPassword")))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(3)))),
    rec(ALICE, request(OP_REGISTER, enum(0x420057, 8) + structure(
        0x42005b, enum(0x420059, 1)))),
    rec(ALICE, request(OP_ADD, text(T_UID, uid(1)) + link(0x10b, uid(3)))),
    rec(ALICE, request(OP_ADD, text(T_UID, uid(1)) + link(0x102, uid(3)))),
    rec(ALICE, request(OP_ADD, text(T_UID, uid(1)) + attribute(
        "Alternative Name", structure(0x42000b, text(0x4200c0, "XXA012"),
                                      enum(0x4200c1, 1))))),
    rec(ALICE, request(OP_ADD, text(T_UID, uid(1)) + attribute(
        "Sensitive", boolean(0x42000b, 1)), minor=0)),
    rec(ALICE, request(OP_DELETE, text(T_UID, uid(1)) +
                       text(0x42000a, "Link"))),
])

# Issue 10: the Query functions of KMIP 1.3 at each version, Check, and
# Get with a Key Wrapping Specification (AES key wrap, OAEP under a
# public key, Encoding Option, Attribute Names) and its refusals.
OP_CHECK = 0x09


def kws(wid, params=b"", method=1, enc=None, names=()):
    return structure(0x420047, enum(0x42009e, method), structure(
        0x420036, text(T_UID, wid), cparams(params) if params is not None
        else b""), *[text(0x42000a, n) for n in names],
        enum(0x4200a3, enc) if enc is not None else b"")


def ival(tag, v):
    return ttlv(tag, 10, v.to_bytes(4, "big"))


def long_(tag, v):
    return ttlv(tag, 3, v.to_bytes(8, "big", signed=True))


seeds["kmip13"] = b"".join([
    rec(ALICE, request(OP_QUERY, b"".join(enum(0x420074, f)
                                          for f in range(1, 15)),
                       minor=minor)) for minor in (0, 2, 3, 4)
] + [
    rec(NOBODY, request(OP_QUERY, enum(0x420074, 10) +
                        enum(0x420074, 11), minor=4)),
    rec(ALICE, request(OP_CREATE, aes(256, 0x10))),
    rec(ALICE, request(OP_ACTIVATE, text(T_UID, uid(1)))),
    rec(ALICE, request(OP_CREATE, aes(128, 12, attribute(
        "Usage Limits", structure(0x42000b, long_(0x420097, 10),
                                  enum(0x420098, 2))) + attribute(
        "Lease Time", ival(0x42000b, 3600))))),
    rec(ALICE, request(OP_CHECK, text(T_UID, uid(2)) +
                       long_(0x420096, 5) + integer(0x42002c, 4) +
                       ival(0x420049, 60))),
    rec(ALICE, request(OP_CHECK, text(T_UID, uid(2)) +
                       long_(0x420096, 11) + integer(0x42002c, 0x10) +
                       ival(0x420049, 7200), minor=0)),
    rec(ALICE, request(OP_CHECK, text(T_UID, uid(2)) +
                       integer(0x420096, 1) + integer(0x42002c, 4) +
                       integer(0x42002c, 4))),
    rec(BOB, request(OP_CHECK, text(T_UID, uid(2)))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(2)) +
                       kws(uid(1), enum(0x420011, 0x0d)))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(2)) +
                       kws(uid(1), enum(0x420011, 0x0c), enc=1))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(2)) +
                       kws(uid(1), None, enc=2,
                           names=("Cryptographic Length", "Name", "")))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(2)) +
                       kws(uid(1), enc=1, names=("Name",)))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(2)) +
                       kws(uid(1), enc=1), minor=0)),
    rec(ALICE, request(OP_GET, text(T_UID, uid(2)) +
                       kws(uid(1), enum(0x420011, 9), method=2))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(2)) + kws(uid(2)))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(2)) + kws("nosuch"))),
    rec(BOB, request(OP_GET, text(T_UID, uid(2)) + kws(uid(1)))),
    rec(ALICE, request(OP_CKP, ckp(4, 2048, "wrap"))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(2)) + kws(
        uid(4), enum(0x42005f, 2) + enum(0x420038, 6) +
        enum(0x420102, 8) + data(0x420103, b"label")))),
    rec(ALICE, request(OP_GET, text(T_UID, uid(3)) + kws(uid(1)))),
    rec(ALICE | ERROR, request(OP_GET, text(T_UID, uid(2)) +
                               kws(uid(1)))),
    rec(ALICE | MALFORMED, request(OP_GET, text(T_UID, uid(2)) +
                                   kws(uid(1)))),
# Streams (CS-BC-M-GCM-3): an AES key, a GCM Encrypt by parts, a
# Decrypt by parts ended with its tag, and the faults: a Correlation
# Value of another identity, a made-up one, a stream fields of the
# wrong type, a part with an IV.  The fake arc4random_buf makes the
# Correlation Values 0..0N, N counted from 1 with the identifiers.
T_CV, T_INIT, T_FINAL = 0x4200d6, 0x4200d7, 0x4200d8
gcm = structure(0x42002b, enum(0x420011, 9), integer(0x4200ce, 16))


def cv(n):
    return data(T_CV, bytes(12) + n.to_bytes(4, "big"))


seeds["streams"] = b"".join([
    rec(ALICE, request(OP_CREATE, aes(128), minor=4)),
    rec(ALICE, request(OP_ACTIVATE, text(T_UID, uid(1)), minor=4)),
    rec(ALICE, request(OP_ENCRYPT, text(T_UID, uid(1)) + gcm +
                       data(0x4200c2, bytes(32)) + data(0x42003d, bytes(8)) +
                       data(0x4200fe, bytes(20)) + boolean(T_INIT, 1), minor=4)),
    rec(BOB, request(OP_ENCRYPT, gcm + data(0x4200c2, bytes(16)) + cv(2), minor=4)),
    rec(ALICE, request(OP_ENCRYPT, text(T_UID, uid(1)) + gcm +
                       data(0x4200c2, bytes(16)) + cv(2), minor=4)),
    rec(ALICE, request(OP_ENCRYPT, text(T_UID, uid(1)) + gcm +
                       data(0x4200c2, bytes(12)) + cv(2) +
                       boolean(T_FINAL, 1), minor=4)),
    rec(ALICE, request(OP_DECRYPT, text(T_UID, uid(1)) + gcm +
                       data(0x4200c2, bytes(32)) + data(0x42003d, bytes(12)) +
                       boolean(T_INIT, 1), minor=4)),
    rec(ALICE, request(OP_DECRYPT, text(T_UID, uid(1)) +
                       data(0x4200c2, bytes(32)) + cv(3) +
                       data(0x42003d, bytes(12)), minor=4)),
    rec(ALICE, request(OP_DECRYPT, text(T_UID, uid(1)) +
                       data(0x4200c2, bytes(32)) + cv(3) +
                       data(0x4200ff, bytes(16)) + boolean(T_FINAL, 1), minor=4)),
    rec(ALICE, request(OP_ENCRYPT, text(T_UID, uid(1)) + gcm +
                       data(0x4200c2, bytes(32)) + integer(T_INIT, 1), minor=4)),
    rec(ALICE, request(OP_ENCRYPT, text(T_UID, uid(1)) +
                       data(0x4200c2, bytes(32)) + cv(0x7fffffff), minor=4)),
    rec(ALICE, request(OP_ENCRYPT, data(0x4200c2, bytes(32)) +
                       boolean(T_FINAL, 1), minor=2)),
    rec(ALICE | PIPELINED, request(OP_ENCRYPT, text(T_UID, uid(1)) + gcm +
                                   data(0x4200c2, bytes(32)) +
                                   boolean(T_INIT, 1), minor=4)),
    rec(ALICE | PIPELINED, request(OP_ENCRYPT, text(T_UID, uid(1)) +
                                   data(0x4200c2, bytes(32)) + cv(4), minor=4)),
    rec(ALICE | SECOND, request(OP_CREATE, aes(128), minor=4)),
    rec(ALICE, request(OP_ACTIVATE, text(T_UID, uid(5)), minor=4)),
    rec(ALICE, request(OP_ENCRYPT, text(T_UID, uid(5)) + gcm +
                       data(0x4200c2, bytes(32)) + boolean(T_INIT, 1), minor=4)),
])

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for k, v in seeds.items():
    with open(os.path.join(out, k), "wb") as f:
        f.write(v)
