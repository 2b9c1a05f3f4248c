# Batch items run together in the engine (issues 8 and 13): consecutive
# read-only items that name their object go to their signers at once, the
# answers come back in request order, and Stop, Continue and Undo keep
# their meaning.  Hand-built TTLV over a real TLS connection; signatures
# are verified here with the cryptography package and the public key from
# Get.  Run with /usr/bin/python3.
#
#   batch.py PORT PKI_DIR CASE [ARG...]
#
# key:		make an active P-256 key pair, print "ok PRIVATE_ID"
# sign16 ID:	16 Sign items in one message: all answered, in order, each
#		verifying; then Get, Signature Verify, Get Attributes and
#		Sign mixed in one message
# placeholder ID: Sign, Create Key Pair, Activate and Sign by the ID
#		Placeholder, Sign, Activate of a named key then Sign with it
# stop ID:	a failing item in the middle or at the head of a run of
#		Sign items, failing in the signer or at once, under Stop,
#		Continue and Undo
# close ID:	connections closed with batches in flight (the signer is
#		stopped by the caller)
# removed ID:	8 Sign items under Stop and 8 under Continue on two
#		connections, the signer stopped then removed by the caller:
#		Stop answers the first item, Continue all 8, each failing
#		because the signer was removed
# wait ID:	one batch of 16 Sign items, all of which must succeed (the
#		caller kills the signer meanwhile)
#
# Prints "ok" and what it learnt on success, "FAIL: ..." and exits 1
# otherwise.
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ttlvlib as t  # noqa: E402
from common import check  # noqa: E402

OP_CREATE, OP_CREATE_KEY_PAIR, OP_GET, OP_GET_ATTRIBUTES = 1, 2, 10, 11
OP_ACTIVATE, OP_ENCRYPT, OP_DECRYPT, OP_SIGN, OP_VERIFY = 18, 0x1f, 0x20, \
    0x21, 0x22
SUCCESS, FAILED = 0, 1
ITEM_NOT_FOUND, CRYPTO_FAILURE = 0x01, 0x0a
CONTINUE, STOP, UNDO = 1, 2, 3
T_UID, T_DATA, T_SIG = 0x420094, 0x4200c2, 0x4200c3

port, pki, case = int(sys.argv[1]), sys.argv[2], sys.argv[3]
args = sys.argv[4:]
PARAMS = t.structure(0x42002b, t.enum(0x420038, 6), t.enum(0x420028, 6))


def header(count, on_error=None):
    items = [t.structure(0x420069, t.integer(0x42006a, 1),
                         t.integer(0x42006b, 2))]
    if on_error is not None:
        items.append(t.enum(0x42000e, on_error))
    items.append(t.integer(0x42000d, count))
    return t.structure(0x420077, *items)


def item(op, payload=b"", ubi=None):
    parts = [t.enum(0x42005c, op)]
    if ubi is not None:
        parts.append(t.data(0x420093, ubi))
    parts.append(t.structure(0x420079, payload))
    return t.structure(0x42000f, *parts)


def message(items, on_error=None):
    return t.structure(0x420078, header(len(items), on_error), *items)


def exchange(s, m):
    s.sendall(m)
    r = t.read_message(s)
    check(r is not None, "no answer (the connection closed)")
    return r


def batch_items(r):
    """(operation, ubi, status, reason, message, payload) of each item."""
    msg = t.parse(r)[0][2]
    hdr = t.first(msg, 0x42007a)
    its = t.find(msg, 0x42000f)
    check(t.first(hdr, 0x42000d) == len(its), "Batch Count is not the "
          "number of items")
    return [(t.first(it, 0x42005c), t.first(it, 0x420093),
             t.first(it, 0x42007f), t.first(it, 0x42007e),
             t.first(it, 0x42007d), t.first(it, 0x42007c)) for it in its]


def uid(oid):
    return t.text(T_UID, oid)


def sign_item(oid, n, ubi=None):
    return item(OP_SIGN, (uid(oid) if oid is not None else b"") + PARAMS +
                t.data(T_DATA, b"message %d" % n), ubi)


def public_key(s, pub):
    its = batch_items(exchange(s, message([item(OP_GET, uid(pub))])))
    check(its[0][2] == SUCCESS, "Get %s: %r" % (pub, its[0]))
    kb = t.first(t.first(its[0][5], 0x42006d), 0x420040)
    der = t.first(t.first(kb, 0x420045), 0x420043)
    return serialization.load_der_public_key(der)


def verifies(key, sig, n):
    try:
        key.verify(sig, b"message %d" % n, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        check(False, "signature %d does not verify" % n)


def key_pair():
    """A P-256 key pair, not active: (private id, public id)."""
    common = t.structure(0x42001f,
                         t.attribute("Cryptographic Algorithm",
                                     t.enum(0x42000b, 6)),
                         t.attribute("Cryptographic Length",
                                     t.integer(0x42000b, 256)))
    priv = t.structure(0x420065, t.attribute("Cryptographic Usage Mask",
                                             t.integer(0x42000b, 1)))
    pub = t.structure(0x42006e, t.attribute("Cryptographic Usage Mask",
                                            t.integer(0x42000b, 2)))
    return item(OP_CREATE_KEY_PAIR, common + priv + pub)


def pair_ids(payload):
    return t.first(payload, 0x420066), t.first(payload, 0x42006f)


def signing_key(s):
    its = batch_items(exchange(s, message([key_pair()])))
    check(its[0][2] == SUCCESS, "Create Key Pair: %r" % (its[0],))
    priv, pub = pair_ids(its[0][5])
    its = batch_items(exchange(s, message([item(OP_ACTIVATE, uid(priv))])))
    check(its[0][2] == SUCCESS, "Activate: %r" % (its[0],))
    return priv, pub


def pub_of(s, priv):
    """The public key linked to a private key, from its attributes."""
    its = batch_items(exchange(s, message([item(OP_GET_ATTRIBUTES,
                                                uid(priv))])))
    check(its[0][2] == SUCCESS, "Get Attributes: %r" % (its[0],))
    for a in t.find(its[0][5], 0x420008):
        if t.first(a, 0x42000a) == "Link":
            return t.first(t.first(a, 0x42000b), 0x42004c)
    check(False, "no Link on %s" % priv)


def check_signs(its, key, first_n, what):
    """Successful Sign answers, in order by their batch ids."""
    for i, (op, ubi, st, reason, msg, pl) in enumerate(its):
        n = first_n + i
        check(st == SUCCESS and op == OP_SIGN,
              "%s: item %d: %r" % (what, n, (op, st, reason, msg)))
        check(ubi == bytes([n]), "%s: item %d answered in place of %r" %
              (what, n, ubi))
        verifies(key, t.first(pl, T_SIG), n)


def sign16(s):
    priv = args[0]
    pub = pub_of(s, priv)
    key = public_key(s, pub)
    its = batch_items(exchange(s, message([sign_item(priv, n, bytes([n]))
                                           for n in range(16)])))
    check(len(its) == 16, "%d answers to 16 Sign items" % len(its))
    check_signs(its, key, 0, "sign16")
    sig = t.first(its[3][5], T_SIG)
    # Read-only items of several kinds together, answered in order.
    verify = PARAMS + t.data(T_DATA, b"message 3")
    m = message([item(OP_GET, uid(pub), b"g"),
                 item(OP_VERIFY, uid(pub) + verify + t.data(T_SIG, sig),
                      b"v"),
                 item(OP_VERIFY, uid(pub) + verify + t.data(T_SIG, sig[:-2]
                                                            + b"\0\0"),
                      b"x"),
                 item(OP_GET_ATTRIBUTES, uid(priv), b"a"),
                 sign_item(priv, 7, b"s")])
    its = batch_items(exchange(s, m))
    check([i[1] for i in its] == [b"g", b"v", b"x", b"a", b"s"],
          "mixed: answered as %r" % ([i[1] for i in its],))
    check(all(i[2] == SUCCESS for i in its), "mixed: %r" % (its,))
    check(t.first(its[1][5], 0x42009b) == 1, "good signature: not valid")
    check(t.first(its[2][5], 0x42009b) == 2, "bad signature: not invalid")
    verifies(key, t.first(its[4][5], T_SIG), 7)
    return "16 signatures in order, and a mixed batch"


def placeholder(s):
    priv = args[0]
    key = public_key(s, pub_of(s, priv))
    m = message([sign_item(priv, 0, b"\0"), sign_item(priv, 1, b"\1"),
                 key_pair(),
                 item(OP_ACTIVATE, b"", b"A"),
                 sign_item(None, 4, b"\4"),
                 sign_item(priv, 5, b"\5"), sign_item(priv, 6, b"\6")])
    its = batch_items(exchange(s, m))
    check(len(its) == 7, "placeholder: %d answers: %r" % (len(its), its))
    check(all(i[2] == SUCCESS for i in its), "placeholder: %r" % (its,))
    check_signs(its[0:2], key, 0, "placeholder")
    check_signs(its[5:7], key, 5, "placeholder")
    new_priv, new_pub = pair_ids(its[2][5])
    check(t.first(its[3][5], T_UID) == new_priv, "Activate of %r" %
          (t.first(its[3][5], T_UID),))
    check(t.first(its[4][5], T_UID) == new_priv, "Sign by placeholder "
          "used %r" % (t.first(its[4][5], T_UID),))
    verifies(public_key(s, new_pub), t.first(its[4][5], T_SIG), 4)
    # A write waits for the reads before it, and the reads after it
    # see it: Sign with a key activated by the item before.
    its = batch_items(exchange(s, message([key_pair()])))
    pre, pre_pub = pair_ids(its[0][5])
    m = message([sign_item(priv, 0, b"\0"),
                 sign_item(pre, 1, b"\1"),
                 item(OP_ACTIVATE, uid(pre), b"A"),
                 sign_item(pre, 3, b"\3"), sign_item(priv, 4, b"\4")],
                on_error=CONTINUE)
    its = batch_items(exchange(s, m))
    check(len(its) == 5, "activate: %d answers" % len(its))
    check(its[0][2] == SUCCESS and its[1][2] == FAILED and
          its[2][2] == SUCCESS and its[3][2] == SUCCESS and
          its[4][2] == SUCCESS, "activate: %r" % (its,))
    verifies(public_key(s, pre_pub), t.first(its[3][5], T_SIG), 3)
    return "placeholder and writes in order"


def gcm_key(s):
    """An active AES-256 key, and a Decrypt payload whose tag is wrong."""
    ta = t.structure(0x420091,
                     t.attribute("Cryptographic Algorithm",
                                 t.enum(0x42000b, 3)),
                     t.attribute("Cryptographic Length",
                                 t.integer(0x42000b, 256)),
                     t.attribute("Cryptographic Usage Mask",
                                 t.integer(0x42000b, 4 | 8)))
    its = batch_items(exchange(s, message([item(OP_CREATE,
                                                t.enum(0x420057, 2) + ta),
                                           item(OP_ACTIVATE)])))
    check(all(i[2] == SUCCESS for i in its), "AES key: %r" % (its,))
    aes = t.first(its[0][5], T_UID)
    gcm = t.structure(0x42002b, t.enum(0x420011, 9), t.integer(0x4200ce, 16))
    its = batch_items(exchange(s, message([item(
        OP_ENCRYPT, uid(aes) + gcm + t.data(T_DATA, b"plain text"))])))
    check(its[0][2] == SUCCESS, "Encrypt: %r" % (its[0],))
    ct, iv = t.first(its[0][5], T_DATA), t.first(its[0][5], 0x42003d)
    tag = t.first(its[0][5], 0x4200ff)
    return (uid(aes) + gcm + t.data(T_DATA, ct) + t.data(0x42003d, iv) +
            t.data(0x4200ff, tag[:-1] + bytes([tag[-1] ^ 1])))


def stop(s):
    priv = args[0]
    key = public_key(s, pub_of(s, priv))
    bad_decrypt = gcm_key(s)
    got = []
    # The failing item fails in the signer (a wrong GCM tag) or at once
    # (no such key), in the middle of a run of Sign items or at its head.
    for fail, reason in ((item(OP_DECRYPT, bad_decrypt, b"\4"),
                          CRYPTO_FAILURE),
                         (sign_item("no-such-key", 4, b"\4"),
                          ITEM_NOT_FOUND)):
        for on_error in (None, STOP, CONTINUE, UNDO):
            m = message([sign_item(priv, n, bytes([n])) for n in range(4)] +
                        [fail] + [sign_item(priv, n, bytes([n]))
                                  for n in range(5, 9)], on_error)
            its = batch_items(exchange(s, m))
            what = "on_error %r, reason %d" % (on_error, reason)
            want = 5 if on_error in (None, STOP) else 9
            check(len(its) == want, "%s: %d answers, not %d: %r" %
                  (what, len(its), want, its))
            check_signs(its[0:4], key, 0, what)
            check(its[4][1] == b"\4" and its[4][2] == FAILED and
                  its[4][3] == reason, "%s: item 4: %r" % (what, its[4]))
            check_signs(its[5:], key, 5, what)
            got.append(len(its))
        # At the head: under Stop the items run beside it are dropped.
        m = message([fail] + [sign_item(priv, n, bytes([n]))
                              for n in range(5, 13)])
        its = batch_items(exchange(s, m))
        check(len(its) == 1 and its[0][2] == FAILED and its[0][3] == reason,
              "failure at the head under Stop: %r" % (its,))
        m = message([fail] + [sign_item(priv, n, bytes([n]))
                              for n in range(5, 13)], CONTINUE)
        its = batch_items(exchange(s, m))
        check(len(its) == 9 and its[0][3] == reason,
              "failure at the head under Continue: %r" % (its,))
        check_signs(its[1:], key, 5, "head, Continue")
    return "answers %r" % (got,)


def close(s):
    """Batches sent, connections closed before the answers."""
    priv = args[0]
    m = message([sign_item(priv, n, bytes([n])) for n in range(16)])
    for i in range(8):
        c = t.connect(port, pki)
        c.sendall(m + m)
        c.close()
    return "8 connections closed"


def removed(s):
    priv = args[0]
    c = t.connect(port, pki)
    s.sendall(message([sign_item(priv, n, bytes([n])) for n in range(8)]))
    c.sendall(message([sign_item(priv, n, bytes([n])) for n in range(8)],
                      CONTINUE))
    for conn, want in ((s, 1), (c, 8)):
        r = t.read_message(conn)
        check(r is not None, "no answer within the socket's timeout")
        its = batch_items(r)
        check(len(its) == want, "%d answers, not %d: %r" %
              (len(its), want, its))
        for n, (op, ubi, st, reason, msg, pl) in enumerate(its):
            check(ubi == bytes([n]) and st == FAILED and
                  reason != ITEM_NOT_FOUND and "removed" in msg,
                  "item %d: %r" % (n, (ubi, st, reason, msg)))
    c.close()
    return "Stop: 1 failure, Continue: 8, in order"


def wait(s):
    priv = args[0]
    key = public_key(s, pub_of(s, priv))
    its = batch_items(exchange(s, message([sign_item(priv, n, bytes([n]))
                                           for n in range(16)])))
    check(len(its) == 16, "%d answers to 16 Sign items" % len(its))
    check_signs(its, key, 0, "wait")
    return "16 signatures in order"


s = t.connect(port, pki)
if case == "key":
    print("ok", signing_key(s)[0])
    sys.exit(0)
what = {"sign16": sign16, "placeholder": placeholder, "stop": stop,
        "close": close, "removed": removed, "wait": wait}[case](s)
print("ok", what)
