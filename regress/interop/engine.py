# Attacks on the engine's answers and stored objects, in raw TTLV over a
# real TLS connection.  Run with /usr/bin/python3.
#
#   engine.py PORT PKI_DIR CASE [ARG...]
#
# Prints "ok" and what it learnt on success, "FAIL: ..." and exits 1
# otherwise.
import os
import ssl
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ttlvlib as t  # noqa: E402
from common import check  # noqa: E402

OP_CREATE, OP_REGISTER, OP_LOCATE, OP_GET, OP_GET_ATTRIBUTES = 1, 3, 8, 10, 11
OP_CREATE_KEY_PAIR, OP_ADD_ATTRIBUTE, OP_ACTIVATE, OP_DESTROY = 2, 13, 18, 20
OP_QUERY, OP_SIGN = 24, 0x21
OP_MODIFY_ATTRIBUTE, OP_REVOKE = 14, 19
SUCCESS = 0
RESPONSE_TOO_LARGE, PERMISSION_DENIED, GENERAL_FAILURE = 0x02, 0x0c, 0x100
CONTINUE = 1

port, pki, case = int(sys.argv[1]), sys.argv[2], sys.argv[3]
args = sys.argv[4:]


def header(count, max_response=None, on_error=None):
    items = [t.structure(0x420069, t.integer(0x42006a, 1),
                         t.integer(0x42006b, 2))]
    if max_response is not None:
        items.append(t.integer(0x420050, max_response))
    if on_error is not None:
        items.append(t.enum(0x42000e, on_error))
    items.append(t.integer(0x42000d, count))
    return t.structure(0x420077, *items)


def item(op, payload=b""):
    return t.structure(0x42000f, t.enum(0x42005c, op),
                       t.structure(0x420079, payload))


def message(items, **kw):
    return t.structure(0x420078, header(len(items), **kw), *items)


def exchange(s, m):
    s.sendall(m)
    r = t.read_message(s)
    check(r is not None, "no answer (the connection closed)")
    return r


def batch_items(r):
    """(status, reason, message, payload) of each response batch item."""
    out = []
    msg = t.parse(r)[0][2]
    for it in t.find(msg, 0x42000f):
        out.append((t.first(it, 0x42007f), t.first(it, 0x42007e),
                    t.first(it, 0x42007d), t.first(it, 0x42007c)))
    return out


def register_certs(s, n):
    """Register n copies of the CA certificate: objects without a signer."""
    der = ssl.PEM_cert_to_DER_cert(open(pki + "/ca.crt").read())
    cert = t.structure(0x420013, t.enum(0x42001d, 1), t.data(0x42001e, der))
    items = [item(OP_REGISTER, t.enum(0x420057, 1) + cert)
             for _ in range(n)]
    ids = []
    for st, reason, msg, pl in batch_items(exchange(s, message(items))):
        check(st == SUCCESS, "Register: %s %s" % (reason, msg))
        ids.append(t.first(pl, 0x420094))
    return ids


def locate_flood(s):
    """~1,900 Locate items, each answering every object: over 2 MiB."""
    import time
    n = 1900
    m = message([item(OP_LOCATE)] * n)
    check(len(m) < 64 * 1024, "request of %d bytes" % len(m))
    t0 = time.time()
    r = exchange(s, m)
    took, size = time.time() - t0, len(r)
    its = batch_items(r)
    check(len(r) <= 64 * 1024, "answer of %d bytes" % len(r))
    check(len(its) > 1 and its[-1][1] == RESPONSE_TOO_LARGE,
          "not answers then Response Too Large: %r" % (its[-2:],))
    check(all(st == SUCCESS for (st, _, _, _) in its[:-1]),
          "an item before the last failed")
    # Continue on error: every item is run, and when not even an error
    # fits any more, the whole answer is one Response Too Large.
    r = exchange(s, message([item(OP_LOCATE)] * n, on_error=CONTINUE))
    its = batch_items(r)
    check(len(its) == 1 and its[0][1] == RESPONSE_TOO_LARGE,
          "continue: %d items, first %r" % (len(its), its[:1]))
    return "%d bytes, %d items, answered in %.2f s with %d bytes" % (
        len(m), n, took, size)


def max_response(s):
    """The request header's Maximum Response Size is honoured."""
    r = exchange(s, message([item(OP_LOCATE)], max_response=1000))
    its = batch_items(r)
    check(len(its) == 1 and its[0][1] == RESPONSE_TOO_LARGE,
          "Locate over 1000 bytes: %r" % (its,))
    check(len(r) <= 1000, "answer of %d bytes" % len(r))
    r = exchange(s, message([item(OP_QUERY, t.enum(0x420074, 1))],
                            max_response=1000))
    its = batch_items(r)
    check(len(its) == 1 and its[0][0] == SUCCESS,
          "Query within 1000 bytes: %r" % (its,))
    # A response that fits is still whole.
    r = exchange(s, message([item(OP_LOCATE)]))
    its = batch_items(r)
    check(len(its) == 1 and its[0][0] == SUCCESS, "Locate: %r" % (its,))
    return "%d ids" % len(t.find(its[0][3], 0x420094))


def creates(s):
    """A batch of Creates whose answer fits still works."""
    ta = t.structure(0x420091,
                     t.attribute("Cryptographic Algorithm",
                                 t.enum(0x42000b, 3)),
                     t.attribute("Cryptographic Length",
                                 t.integer(0x42000b, 256)),
                     t.attribute("Cryptographic Usage Mask",
                                 t.integer(0x42000b, 12)))
    items = [item(OP_CREATE, t.enum(0x420057, 2) + ta) for _ in range(8)]
    its = batch_items(exchange(s, message(items)))
    check(len(its) == 8 and all(st == SUCCESS for (st, _, _, _) in its),
          "Creates: %r" % (its,))
    return "8 created"


def fake_answers(s):
    """
    Four Creates, one at a time, on a signer that answers each with a
    malformed IMSG_HSM_RESULTS whose first record is a good answer:
    each Create gets that answer (regress/hsmproc/fakehsm.c).
    """
    ta = t.structure(0x420091,
                     t.attribute("Cryptographic Algorithm",
                                 t.enum(0x42000b, 3)),
                     t.attribute("Cryptographic Length",
                                 t.integer(0x42000b, 256)))
    for i in range(4):
        its = batch_items(exchange(s, message([item(
            OP_CREATE, t.enum(0x420057, 2) + ta)])))
        check(its[0][1] == GENERAL_FAILURE and
              its[0][2] == "fake answer %d" % i,
              "Create %d: %r" % (i, its[0]))
    return "4 answered"


def add_attribute_flood(s):
    """Add Attribute in a loop: refused at the limit, never stored."""
    oid = register_certs(s, 1)[0]
    ok = refused = 0
    for i in range(300):
        a = t.structure(0x420008, t.text(0x42000a, "x-flood"),
                        t.text(0x42000b, "value %d" % i))
        its = batch_items(exchange(s, message([item(
            OP_ADD_ATTRIBUTE, t.text(0x420094, oid) + a)])))
        if its[0][0] == SUCCESS:
            check(refused == 0, "accepted after a refusal")
            ok += 1
        else:
            check(its[0][1] == PERMISSION_DENIED,
                  "refused with %r" % (its[0],))
            refused += 1
    check(refused > 0, "all 300 Add Attribute accepted")
    its = batch_items(exchange(s, message([item(
        OP_GET_ATTRIBUTES, t.text(0x420094, oid))])))
    check(its[0][0] == SUCCESS, "Get Attributes: %r" % (its[0],))
    return "%d added, %d refused" % (ok, refused)


def poison_blob(kind):
    """Attributes the engine must not load: too many items, or garbage."""
    if kind == "garbage":
        return b"\x42\x00\x91\x01\xff\xff\xff\xf0not ttlv at all"
    a = [t.attribute("x-p", t.text(0x42000b, "v")) for _ in range(3400)]
    return t.structure(0x420091, *a)


def poison_sql(ids):
    """SQL inserting a damaged object per id (owner alice, a certificate)."""
    out = []
    for i, oid in enumerate(ids):
        blob = poison_blob("garbage" if i % 2 else "items")
        out.append("INSERT INTO objects (id, type, state, algorithm, owner,"
                   " signer, created, attributes, material) VALUES"
                   " ('%s', 1, 1, 0, 'alice', '', 1, X'%s', X'00');"
                   % (oid, blob.hex()))
    return "\n".join(out)


def damaged(s):
    """Every operation on a damaged object fails for that object alone."""
    got = []
    its = batch_items(exchange(s, message([item(OP_LOCATE)])))
    check(its[0][0] == SUCCESS, "Locate: %r" % (its[0],))
    found = t.find(its[0][3], 0x420094)
    for oid in args:
        check(oid not in found, "Locate returned damaged %s" % oid)
        for op in (OP_GET_ATTRIBUTES, OP_GET, OP_DESTROY):
            its = batch_items(exchange(s, message([item(
                op, t.text(0x420094, oid))])))
            check(its[0][1] == GENERAL_FAILURE and "damaged" in its[0][2],
                  "op %d on %s: %r" % (op, oid, its[0]))
            got.append(op)
    return "%d ids found, %d refusals" % (len(found), len(got))


def destroyed(s):
    """After signerctl destroy: a destroyed object, readable again."""
    for oid in args:
        its = batch_items(exchange(s, message([item(
            OP_GET_ATTRIBUTES, t.text(0x420094, oid))])))
        check(its[0][0] == SUCCESS, "Get Attributes %s: %r" % (oid, its[0]))
        state = [t.first(a, 0x42000b) for a in t.find(its[0][3], 0x420008)
                 if t.first(a, 0x42000a) == "State"]
        check(state == [5], "state of %s: %r" % (oid, state))
    return "%d destroyed" % len(args)


def signing_key(s):
    """An active P-256 key pair on the default signer: its private id."""
    common = t.structure(0x42001f,
                         t.attribute("Cryptographic Algorithm",
                                     t.enum(0x42000b, 6)),
                         t.attribute("Cryptographic Length",
                                     t.integer(0x42000b, 256)))
    priv = t.structure(0x420065, t.attribute("Cryptographic Usage Mask",
                                             t.integer(0x42000b, 1)))
    pub = t.structure(0x42006e, t.attribute("Cryptographic Usage Mask",
                                            t.integer(0x42000b, 2)))
    its = batch_items(exchange(s, message([item(OP_CREATE_KEY_PAIR,
                                                common + priv + pub)])))
    check(its[0][0] == SUCCESS, "Create Key Pair: %r" % (its[0],))
    pid = t.first(its[0][3], 0x420066)
    its = batch_items(exchange(s, message([item(OP_ACTIVATE,
                                                t.text(0x420094, pid))])))
    check(its[0][0] == SUCCESS, "Activate: %r" % (its[0],))
    return pid


def sign_changes(s):
    """
    The engine keeps a key it signed with in memory: every change of it
    (Add and Modify Attribute, Revoke, Destroy), made in another message
    or earlier in the same batch, is seen by the next Sign.
    """
    key = signing_key(s)
    uid = t.text(0x420094, key)
    params = t.structure(0x42002b, t.enum(0x420038, 6), t.enum(0x420028, 6))
    sign = item(OP_SIGN, uid + params + t.data(0x4200c2, b"message"))

    def signs(*items):
        return batch_items(exchange(s, message(list(items),
                                               on_error=CONTINUE)))

    def psd(op, when):
        return item(op, uid + t.attribute("Protect Stop Date",
                                          t.ttlv(0x42000b, t.DATE,
                                                 struct.pack(">q", when))))
    its = signs(sign, sign)
    check(its[0][0] == SUCCESS and its[1][0] == SUCCESS,
          "Sign, twice: %r" % (its,))
    # In the same batch: the key read by the first Sign changes, the
    # second must see it.
    its = signs(sign, psd(OP_ADD_ATTRIBUTE, 1000000000), sign)
    check(its[0][0] == SUCCESS and its[1][0] == SUCCESS,
          "Sign, Add Attribute: %r" % (its[:2],))
    check(its[2][1] == PERMISSION_DENIED and "Protect Stop" in its[2][2],
          "Sign after Protect Stop Date in the past: %r" % (its[2],))
    its = signs(sign)
    check(its[0][1] == PERMISSION_DENIED, "Sign, next message: %r" % its)
    its = signs(psd(OP_MODIFY_ATTRIBUTE, 4000000000), sign)
    check(its[0][0] == SUCCESS and its[1][0] == SUCCESS,
          "Modify Attribute, Sign: %r" % (its,))
    rev = item(OP_REVOKE, uid + t.structure(0x420081, t.enum(0x420082, 1)))
    its = signs(sign, rev, sign)
    check(its[0][0] == SUCCESS and its[1][0] == SUCCESS,
          "Sign, Revoke: %r" % (its[:2],))
    check(its[2][0] != SUCCESS and "not active" in its[2][2],
          "Sign after Revoke: %r" % (its[2],))
    its = signs(item(OP_DESTROY, uid), sign)
    check(its[0][0] == SUCCESS, "Destroy: %r" % (its[0],))
    check(its[1][0] != SUCCESS and "not active" in its[1][2],
          "Sign after Destroy: %r" % (its[1],))
    return "changes seen by the next Sign"


def busy(s):
    """
    With its signer stopped, 128 connections of 32 Sign requests each
    fill the engine (4,096 requests, the frontend's bound per connection
    times 128): a further request is answered "server busy" at once
    rather than held.
    """
    import time
    key = args[0]
    params = t.structure(0x42002b, t.enum(0x420038, 6), t.enum(0x420028, 6))
    sign = message([item(OP_SIGN, t.text(0x420094, key) + params +
                         t.data(0x4200c2, b"message"))])
    conns = []
    for i in range(128):
        c = t.connect(port, pki)
        c.sendall(sign * 32)
        conns.append(c)
    probe = message([item(OP_QUERY, t.enum(0x420074, 1))])
    deadline = time.time() + 15
    while True:
        its = batch_items(exchange(s, probe))
        if its[0][0] != SUCCESS:
            break
        check(time.time() < deadline, "no \"server busy\" within 15 s")
        time.sleep(0.2)
    check(its[0][1] == GENERAL_FAILURE and its[0][2] == "server busy",
          "probe: %r" % (its[0],))
    for c in conns:
        c.close()
    return "busy after 4096 requests"


def locate_big(s):
    """
    Locate over more objects than one step looks at.  An attribute the
    keystore does not index (Contact Information) is checked on every
    candidate: the one object that has it, registered last after 1,100
    others, is found (the engine once looked at the oldest 1,024 only,
    and said nothing).  A long Locate yields to other clients: a Query on
    another connection, sent while it runs, is answered before it.
    """
    import select
    import time
    ids = []
    for _ in range(11):
        ids += register_certs(s, 100)
    der = ssl.PEM_cert_to_DER_cert(open(pki + "/ca.crt").read())
    cert = t.structure(0x420013, t.enum(0x42001d, 1), t.data(0x42001e, der))
    needle = t.attribute("Contact Information", t.text(0x42000b, "needle"))
    its = batch_items(exchange(s, message([item(
        OP_REGISTER, t.enum(0x420057, 1) + t.structure(0x420091, needle) +
        cert)])))
    check(its[0][0] == SUCCESS, "Register: %r" % (its[0],))
    want = t.first(its[0][3], 0x420094)
    its = batch_items(exchange(s, message([item(OP_LOCATE, needle)])))
    check(its[0][0] == SUCCESS, "Locate: %r" % (its[0],))
    found = t.find(its[0][3], 0x420094)
    check(found == [want], "Locate by Contact Information: %r, not %r" % (
        found, want))
    # By Name: the index (Names are indexed).
    name = t.attribute("Name", t.structure(
        0x42000b, t.text(0x420055, "big-one"), t.enum(0x420054, 1)))
    its = batch_items(exchange(s, message([item(
        OP_ADD_ATTRIBUTE, t.text(0x420094, ids[1050]) + name)])))
    check(its[0][0] == SUCCESS, "Add Attribute: %r" % (its[0],))
    its = batch_items(exchange(s, message([item(OP_LOCATE, name)])))
    check(t.find(its[0][3], 0x420094) == [ids[1050]],
          "Locate by Name: %r" % (its[0],))
    # Fairness: 55 Locates of a value nobody has, each looking at 1,101
    # objects (60,555, within the 65,536 one request may), against one
    # Query from another connection sent once they have started.
    other = t.connect(port, pki)
    miss = t.attribute("Contact Information", t.text(0x42000b, "nobody"))
    s.sendall(message([item(OP_LOCATE, miss)] * 55))
    time.sleep(0.02)
    t0 = time.time()
    its = batch_items(exchange(other, message([item(
        OP_QUERY, t.enum(0x420074, 1))])))
    took = time.time() - t0
    check(its[0][0] == SUCCESS, "Query: %r" % (its[0],))
    r, _, _ = select.select([s], [], [], 0)
    check(not r, "the Locates were answered before the Query of another "
          "client (%.2f s)" % took)
    its = batch_items(t.read_message(s))
    check(len(its) == 55 and all(st == SUCCESS and
                                 t.find(pl, 0x420094) == []
                                 for (st, _, _, pl) in its),
          "Locates: %r" % (its[:1],))
    other.close()
    return "found the last of 1,101; Query answered in %.3f s during " \
        "the Locates" % took


if case == "sql":
    print(poison_sql(args))
    sys.exit(0)
s = t.connect(port, pki)
if case == "setup":
    ids = register_certs(s, int(args[0]))
    print("ok", " ".join(ids))
    sys.exit(0)
if case == "key":
    print("ok", signing_key(s))
    sys.exit(0)
if case == "busy":
    print("ok", busy(s))
    sys.exit(0)
what = {"locate_flood": locate_flood, "max_response": max_response,
        "creates": creates, "add_attribute_flood": add_attribute_flood,
        "damaged": damaged, "destroyed": destroyed,
        "locate_big": locate_big, "sign_changes": sign_changes,
        "fake_answers": fake_answers}[case](s)
# The connection still serves.
its = batch_items(exchange(s, message([item(OP_QUERY,
                                             t.enum(0x420074, 1))])))
check(its[0][0] == SUCCESS, "Query after: %r" % (its[0],))
print("ok", what)
