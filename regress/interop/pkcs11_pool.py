# Several operations on one token at once (issue 8): the pkcs11 signer
# "s1", the default signer, serves its sessions with worker threads.
#
#   pkcs11_pool.py PORT PKI_DIR SIGNERCTL CTL_SOCKET MIN_PEAK
#
# Eight connections, each a thread with its own TLS connection, sign in
# a loop (RSA-2048 PKCS#1 v1.5 and ECDSA P-256 in turn), after one
# request that carries a batch of 16 Sign items; every signature is
# verified here with the public key from Get.  `signerctl show signers`
# must show at least MIN_PEAK requests running at once on the token,
# after the batch alone and at the end, and, if MIN_PEAK > 1, at least
# two sessions that did work.  Prints "FAIL: ..."
# and exits 1 on the first failure, "ok" at the end.
import os
import re
import subprocess
import sys
import threading

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure, text)

port, pki, signerctl, ctl = int(sys.argv[1]), sys.argv[2], sys.argv[3], \
    sys.argv[4]
min_peak = int(sys.argv[5])
CONNS, ROUNDS, BATCH = 8, 12, 16
T_UID = 0x420094
failed = []


def fail(what):
    print("FAIL:", what)
    sys.stdout.flush()
    os._exit(1)         # other threads may be blocked in a read


def check(cond, what):
    if not cond:
        fail(what)


def items_of(msg):
    check(msg is not None, "no answer")
    return find(parse(msg)[0][2], 0x42000f)


def call(s, op, payload):
    s.sendall(request(op, payload))
    it = items_of(read_message(s))[0]
    return first(it, 0x42007f), first(it, 0x42007c), first(it, 0x42007d)


def keypair(s, alg, bits):
    st, p, m = call(s, 0x02, structure(
        0x42001f, attribute("Cryptographic Algorithm", enum(0x42000b, alg)),
        attribute("Cryptographic Length", integer(0x42000b, bits))))
    check(st == 0, "create key pair: %s" % m)
    pub, priv = first(p, 0x42006f), first(p, 0x420066)
    check(call(s, 0x12, text(T_UID, priv))[0] == 0, "activate")
    st, p, m = call(s, 0x0a, text(T_UID, pub))
    check(st == 0, "get public key: %s" % m)
    km = first(first(first(first(p, 0x42006d), 0x420040), 0x420045),
               0x420043)
    return priv, serialization.load_der_public_key(km)


# Cryptographic Parameters: padding (PKCS#1 v1.5 = 8, none), hash
# SHA-256 (6), algorithm RSA (4) or ECDSA (6).
RSA_PARAMS = structure(0x42002b, enum(0x42005f, 8), enum(0x420038, 6),
                       enum(0x420028, 4))
EC_PARAMS = structure(0x42002b, enum(0x420038, 6), enum(0x420028, 6))


def sign_payload(priv, params, msg):
    return text(T_UID, priv) + params + data(0x4200c2, msg)


def verify(key, sig, msg, what):
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, msg, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        fail(what + ": signature does not verify")


s = connect(port, pki)
rsa = keypair(s, 4, 2048)
p256 = keypair(s, 6, 256)
keys = ((rsa, RSA_PARAMS), (p256, EC_PARAMS))


def client(n):
    try:
        c = connect(port, pki)
        for i in range(ROUNDS):
            (priv, key), params = keys[i % 2]
            msg = b"connection %d, round %d" % (n, i)
            st, p, m = call(c, 0x21, sign_payload(priv, params, msg))
            check(st == 0, "connection %d sign %d: %s" % (n, i, m))
            verify(key, first(p, 0x4200c3), msg,
                   "connection %d round %d" % (n, i))
        c.close()
    except Exception as e:      # a thread's failure is the test's
        fail("connection %d: %r" % (n, e))


# The pool's counters: "; sessions 4/4, 0 running (at most 3), 0
# queued, 210 ops: 60 50 50 50".
def counters():
    out = subprocess.run([signerctl, "-s", ctl, "show", "signers"],
                         capture_output=True, text=True, timeout=20).stdout
    print(out, end="")
    line = [x for x in out.splitlines() if x.split()[:1] == ["s1"]]
    check(len(line) == 1, "no line for s1")
    m = re.search(r"; sessions (\d+)/(\d+), (\d+) running "
                  r"\(at most (\d+)\), (\d+) queued, (\d+) ops: ([\d ]+)$",
                  line[0])
    check(m is not None, "no session counters: " + line[0])
    return (int(m.group(1)), int(m.group(2)), int(m.group(4)),
            int(m.group(6)), [int(x) for x in m.group(7).split()])


# One request, 16 Sign items: each answered, in order, each verifying.
batch, msgs = [], []
for i in range(BATCH):
    (priv, key), params = keys[i % 2]
    msgs.append(b"batch item %d" % i)
    batch.append(structure(0x42000f, enum(0x42005c, 0x21), structure(
        0x420079, sign_payload(priv, params, msgs[-1]))))
s.sendall(request(0x21, items=batch))
answers = items_of(read_message(s))
check(len(answers) == BATCH, "%d answers to %d items" % (len(answers), BATCH))
for i, it in enumerate(answers):
    check(first(it, 0x42007f) == 0, "batch item %d: %s" %
          (i, first(it, 0x42007d)))
    verify(keys[i % 2][0][1], first(first(it, 0x42007c), 0x4200c3), msgs[i],
           "batch item %d" % i)
print("a batch of %d Sign items verified" % BATCH)
# The batch alone, first: its items ran on the token together.
nopen, nconf, peak, ops, per = counters()
check(ops >= BATCH, "%d operations counted after the batch" % ops)
check(peak >= min_peak, "the batch's items: at most %d running at once" %
      peak)

threads = [threading.Thread(target=client, args=(n,)) for n in range(CONNS)]
for t in threads:
    t.start()
for t in threads:
    t.join(90)
    check(not t.is_alive(), "a connection did not finish within 90 s")
print("%d connections signed %d times each" % (CONNS, ROUNDS))

s.close()

nopen, nconf, peak, ops, per = counters()
want = CONNS * ROUNDS + BATCH
check(nopen == nconf, "%d of %d sessions open" % (nopen, nconf))
check(len(per) == nconf, "%d per-session counters" % len(per))
check(ops >= want, "%d operations counted, at least %d made" % (ops, want))
check(sum(per) == ops, "per-session counters add up to %d, not %d" %
      (sum(per), ops))
check(peak >= min_peak, "at most %d running at once" % peak)
check(peak <= nconf, "%d running at once on %d sessions" % (peak, nconf))
if min_peak > 1:
    check(len([x for x in per if x > 0]) >= 2, "one session did all")
print("ok")
