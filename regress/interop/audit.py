# The audit trail (issue 11), for audit_test.sh:
#
#	audit.py krill FILE		the records of client_replay.py krill:
#					one per item, in order, right fields
#	audit.py refused PORT PKI FILE	bob is refused alice's key, a message
#					that is no request is refused: both
#					recorded with who and why
#	audit.py secrets PORT PKI FILE	a symmetric key's bytes (Get), a
#					Sign's key and a Credential's password
#					are nowhere in the trail
#	audit.py ops PORT PKI N		N Create + Get + Destroy, as alice
#	audit.py chain FILE...		the chain, checked here in Python
#	audit.py tamper MODE FILE OUT K	a copy with line K edited (edit),
#					removed (delete), swapped with K+1
#					(swap)
#	audit.py count FILE... OP	records of OP, answered Success
#	audit.py acked ACKED FILE...	every key pair durable.py saw made
#					has its Create Key Pair record
#	audit.py untrusted PORT PKI FILE
#					mallory (a certificate of another CA)
#					is refused in the handshake: one
#					"refused" record, its peer, claimed
#					CN, fingerprint and reason
#	audit.py nocert PORT PKI FILE	a client without a certificate: one
#					"refused" record, its peer, no CN
#	audit.py scan PORT PKI FILE	a TCP connect and close leaves no
#					record (mallory's, after it, does)
#	audit.py limit PORT PKI FILE	with max connections 1 and read
#					timeout 2: alice over the limit, and
#					a handshake never begun, recorded
#	audit.py flood PORT PKI FILE N	N of mallory's handshakes at once,
#					alice served meanwhile and after: at
#					most the rate's records, and every
#					refusal recorded or counted
#
# Prints "ok" (or the number asked for) when all is as asked, else
# "FAIL: ..." and exits 1.
import base64
import hashlib
import json
import os
import re
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, pykmip  # noqa: E402

ZERO = "0" * 64
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def lines(paths):
    out = []
    for p in paths:
        with open(p, "rb") as f:
            out += [(p, i + 1, ln.rstrip(b"\n"))
                    for i, ln in enumerate(f.read().splitlines(True))]
    return out


def records(paths):
    return [json.loads(ln) for _, _, ln in lines(paths)]


def chain(paths):
    """Each record names the SHA-256 of the line before it."""
    prev, seq = None, None
    for p, n, ln in lines(paths):
        r = json.loads(ln)
        where = "%s:%d" % (p, n)
        check(TIME.match(r["time"]), where + ": time " + r["time"])
        if prev is not None:
            check(r["prev"] == prev, where + ": prev")
            check(r["seq"] == seq + 1, where + ": seq")
        prev, seq = hashlib.sha256(ln).hexdigest(), r["seq"]
    return seq


def requests(recs, who):
    return [r for r in recs if r["event"] == "request" and
            r["identity"] == who]


def krill(path):
    """client_replay.py krill, item by item (its order)."""
    S, F = "Success", "Operation Failed"
    want = [("Create Key Pair", S, None), ("Get", S, None),
            ("Get", S, None), ("Get", S, None),
            ("Modify Attribute", S, None), ("Modify Attribute", S, None),
            ("Activate", S, None), ("Activate", F, "Permission Denied"),
            ("Destroy", F, "Permission Denied"), ("Sign", S, None),
            ("Destroy", S, None), ("Revoke", S, None),
            ("Destroy", S, None), ("Sign", F, None),
            ("Get", F, "Item Not Found")]
    recs = requests(records([path]), "alice")
    check(len(recs) == len(want), "%d records of alice, wanted %d" %
          (len(recs), len(want)))
    ids = recs[0]["ids"]
    check(len(ids) == 2, "Create Key Pair names both keys: %s" % ids)
    reqs = set()
    for r, (op, result, reason) in zip(recs, want):
        what = "%s (seq %d)" % (op, r["seq"])
        check(r["op"] == op, "%s: op %s" % (what, r["op"]))
        check(r["result"] == result, "%s: result %s" % (what, r["result"]))
        if reason is not None:
            check(r["reason"] == reason, "%s: reason %s" %
                  (what, r.get("reason")))
        if result == F:
            check(r.get("message"), what + ": a message")
        check(re.match(r"^127\.0\.0\.1:\d+$", r["peer"]),
              what + ": peer " + r["peer"])
        check(r["item"] == 0, what + ": item")
        check(len(r["ids"]) >= 1 and set(r["ids"]) <= set(ids),
              "%s: ids %s" % (what, r["ids"]))
        if result == S:
            check(r["signer"] == "soft", what + ": signer " + r["signer"])
        check(isinstance(r["us"], int) and 0 <= r["us"] < 60000000,
              what + ": us")
        check(r["request"] not in reqs, what + ": its own request")
        reqs.add(r["request"])
    print("ok")


def refused(port, pki, path):
    from kmip import enums
    from kmip.pie.client import ProxyKmipClient
    from ttlvlib import connect, read_message, structure, integer
    a = pykmip(port, pki)
    uid = a.create(enums.CryptographicAlgorithm.AES, 256)
    b = ProxyKmipClient(hostname="127.0.0.1", port=port,
                        cert=pki + "/bob.crt", key=pki + "/bob.key",
                        ca=pki + "/ca.crt", ssl_version="PROTOCOL_TLS",
                        kmip_version=enums.KMIPVersion.KMIP_1_2)
    b.open()
    try:
        b.get(uid)
        check(False, "bob got alice's key")
    except Exception:
        pass
    b.close()
    # A TTLV structure that is not a Request Message.
    s = connect(port, pki)
    s.sendall(structure(0x420077, integer(0x42000d, 1)))
    check(read_message(s) is not None, "an answer to a non-request")
    s.close()
    a.close()
    recs = records([path])
    bob = requests(recs, "bob")
    check(len(bob) == 1, "one record of bob: %s" % bob)
    r = bob[0]
    check(r["op"] == "Get" and r["result"] == "Operation Failed" and
          r["ids"] == [uid] and r["reason"], "bob's Get: %s" % r)
    bad = [x for x in requests(recs, "alice") if x["item"] == -1]
    check(len(bad) == 1 and bad[0]["reason"] == "Invalid Message" and
          bad[0]["op"] == "", "the non-request: %s" % bad)
    print("ok")


def secrets(port, pki, path):
    from cryptography.hazmat.primitives import hashes
    from kmip import enums
    from kmip.pie import objects
    from ttlvlib import (connect, read_message, structure, integer, enum,
                         text)
    c = pykmip(port, pki)
    A = enums.CryptographicAlgorithm
    key = os.urandom(32)
    uid = c.register(objects.SymmetricKey(A.AES, 256, key))
    c.activate(uid)
    got = c.get(uid).value
    check(got == key, "Get gives the key back")
    pub, priv = c.create_key_pair(A.ECDSA, 256)
    c.activate(priv)
    c.sign(b"audited", uid=priv, cryptographic_parameters={
        "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
        "cryptographic_algorithm": A.ECDSA})
    c.close()
    del hashes
    # A Credential with a password, in the request header.
    pw = "audit-pw-" + os.urandom(8).hex()
    s = connect(port, pki)
    cred = structure(0x420023, enum(0x420024, 1),
                     structure(0x420025, text(0x420099, "alice"),
                               text(0x4200a1, pw)))
    hdr = structure(0x420077,
                    structure(0x420069, integer(0x42006a, 1),
                              integer(0x42006b, 2)),
                    structure(0x42000c, cred),
                    integer(0x42000d, 1))
    item = structure(0x42000f, enum(0x42005c, 0x0a),
                     structure(0x420079, text(0x420094, uid)))
    s.sendall(structure(0x420078, hdr, item))
    check(read_message(s) is not None, "an answer with a Credential")
    s.close()
    with open(path, "rb") as f:
        trail = f.read()
    for form in (key.hex(), key.hex().upper(), base64.b64encode(key),
                 base64.urlsafe_b64encode(key), key):
        if isinstance(form, str):
            form = form.encode()
        check(form not in trail, "the key is in the trail (%r)" % form[:8])
    check(pw.encode() not in trail, "the password is in the trail")
    gets = [r for r in requests(records([path]), "alice")
            if r["op"] == "Get" and r["ids"] == [uid]]
    check(len(gets) == 2, "both Gets recorded: %d" % len(gets))
    print("ok")


def ops(port, pki, n):
    from kmip import enums
    c = pykmip(port, pki)
    for _ in range(n):
        uid = c.create(enums.CryptographicAlgorithm.AES, 128)
        c.get(uid)
        c.destroy(uid)
    c.close()
    print("ok")


def handshake(port, pki, who):
    """A handshake as who (None: no certificate) that the server refuses;
    this end's address:port, once the server said no or hung up."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki + "/ca.crt")
    ctx.check_hostname = False
    if who is not None:
        ctx.load_cert_chain(pki + "/%s.crt" % who, pki + "/%s.key" % who)
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    me = "127.0.0.1:%d" % s.getsockname()[1]
    try:
        t = ctx.wrap_socket(s)
        # TLS 1.3: the client is done first; the server's alert follows.
        t.recv(1)
        t.close()
    except (ssl.SSLError, OSError):
        pass
    s.close()
    return me


def refusals(path, until, wait=10):
    """The "refused" records, once until(them) holds or wait s passed."""
    end = time.time() + wait
    while True:
        recs = []
        if os.path.exists(path):
            recs = [r for r in records([path]) if r["event"] == "refused"]
        if until(recs) or time.time() > end:
            return recs
        time.sleep(0.1)


def fingerprint(path):
    with open(path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def untrusted(port, pki, path):
    me = handshake(port, pki, "mallory")
    recs = refusals(path, lambda rs: any(r.get("peer") == me for r in rs))
    mine = [r for r in recs if r.get("peer") == me]
    check(len(mine) == 1, "one record of %s: %s" % (me, recs))
    r = mine[0]
    check(r.get("claimed") == "mallory", "claimed: %s" % r)
    check("identity" not in r, "an identity, unverified: %s" % r)
    check(r.get("cert_sha256") == fingerprint(pki + "/mallory.crt"),
          "cert_sha256: %s" % r)
    check("certificate verify failed" in r.get("reason", ""),
          "reason: %s" % r)
    check("suppressed" not in r, "suppressed: %s" % r)
    check(TIME.match(r["time"]), "time: %s" % r)
    print(json.dumps(r))
    print("ok")


def nocert(port, pki, path):
    me = handshake(port, pki, None)
    recs = refusals(path, lambda rs: any(r.get("peer") == me for r in rs))
    mine = [r for r in recs if r.get("peer") == me]
    check(len(mine) == 1, "one record of %s: %s" % (me, recs))
    r = mine[0]
    check("claimed" not in r and "cert_sha256" not in r,
          "a certificate named: %s" % r)
    check("certificate" in r.get("reason", ""), "reason: %s" % r)
    print(json.dumps(r))
    print("ok")


def scan(port, pki, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    scanner = "127.0.0.1:%d" % s.getsockname()[1]
    s.close()
    # Closed before any byte, and reset: neither is a refusal.
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    reset = "127.0.0.1:%d" % s.getsockname()[1]
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                 b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    time.sleep(0.5)
    me = handshake(port, pki, "mallory")
    recs = refusals(path, lambda rs: any(r.get("peer") == me for r in rs))
    check(any(r.get("peer") == me for r in recs), "no record of mallory")
    check(not [r for r in recs if r.get("peer") in (scanner, reset)],
          "a record of a scan: %s" % recs)
    check(len(recs) == 1, "records: %s" % recs)
    print("ok")


def limit(port, pki, path):
    from kmip import enums
    a = pykmip(port, pki)
    a.destroy(a.create(enums.CryptographicAlgorithm.AES, 128))
    # alice has the one connection: her second is refused once admitted.
    me = handshake(port, pki, "client")
    # A connection that never begins its handshake runs out of time.
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    slow = "127.0.0.1:%d" % s.getsockname()[1]
    recs = refusals(path, lambda rs: {me, slow} <= {r.get("peer")
                                                   for r in rs})
    s.close()
    a.close()
    over = [r for r in recs if r.get("peer") == me]
    check(len(over) == 1, "one record of %s: %s" % (me, recs))
    r = over[0]
    check(r.get("claimed") == "alice" and "identity" not in r and
          r.get("cert_sha256") == fingerprint(pki + "/client.crt") and
          "1 connections already" in r.get("reason", ""),
          "over the limit: %s" % r)
    late = [r for r in recs if r.get("peer") == slow]
    check(len(late) == 1 and "claimed" not in late[0] and
          "no TLS handshake within 2 s" in late[0].get("reason", ""),
          "the handshake never begun: %s" % late)
    print("ok")


def flood(port, pki, path, n):
    done, served, errors = threading.Event(), [0], []
    made, lock = [0], threading.Lock()

    def attacker(k):
        # k each, and on until alice was served once meanwhile (60 s).
        i, end = 0, time.time() + 60
        while i < k or (served[0] == 0 and not errors and
                        time.time() < end):
            handshake(port, pki, "mallory")
            i += 1
        with lock:
            made[0] += i

    def alice():
        from kmip import enums
        try:
            while not done.is_set():
                c = pykmip(port, pki)
                c.destroy(c.create(enums.CryptographicAlgorithm.AES, 128))
                c.close()
                served[0] += 1
        except Exception as e:
            errors.append(repr(e))

    good = threading.Thread(target=alice)
    good.start()
    start = time.time()
    threads = [threading.Thread(target=attacker, args=(n // 4,))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.time() - start
    during = served[0]
    done.set()
    good.join()
    check(not errors, "alice failed during the flood: %s" % errors)
    check(during > 0, "alice not served during the flood")
    pykmip(port, pki).close()
    total = made[0]

    def counted(rs):
        return len([r for r in rs if "peer" in r]) + \
            sum(r.get("suppressed", 0) for r in rs)
    recs = refusals(path, lambda rs: counted(rs) >= total)
    ones = [r for r in recs if "peer" in r]
    alone = [r for r in recs if "peer" not in r]
    print("%d handshakes in %.1f s: %d records, %d of counts alone, %d "
          "suppressed; alice served %d times during" %
          (total, took, len(recs), len(alone),
           sum(r.get("suppressed", 0) for r in recs), during))
    check(counted(recs) == total, "%d refusals recorded or counted, not %d"
          % (counted(recs), total))
    # A burst of 100, 20 a second, and a count a second.
    check(len(ones) <= 100 + 20 * (took + 2), "%d records in %.1f s" %
          (len(ones), took))
    check(len(alone) <= took + 3, "%d counts in %.1f s" % (len(alone), took))
    check(len(ones) < total, "nothing suppressed")
    for r in alone:
        check(r["suppressed"] > 0 and "claimed" not in r and
              r.get("reason"), "a count: %s" % r)
    print("ok")


def tamper(mode, path, out, k):
    with open(path, "rb") as f:
        ls = f.read().splitlines(True)
    i = k - 1
    if mode == "edit":
        r = json.loads(ls[i])
        ls[i] = ls[i].replace(b'"identity":"%s"' % r["identity"].encode(),
                              b'"identity":"mallory"')
        check(b"mallory" in ls[i], "line %d has an identity" % k)
    elif mode == "delete":
        del ls[i]
    elif mode == "swap":
        ls[i], ls[i + 1] = ls[i + 1], ls[i]
    with open(out, "wb") as f:
        f.write(b"".join(ls))
    print("ok")


def main():
    cmd = sys.argv[1]
    if cmd == "krill":
        krill(sys.argv[2])
    elif cmd == "refused":
        refused(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif cmd == "secrets":
        secrets(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif cmd == "ops":
        ops(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    elif cmd == "chain":
        chain(sys.argv[2:])
        print("ok")
    elif cmd == "tamper":
        tamper(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd in ("untrusted", "nocert", "scan", "limit"):
        globals()[cmd](int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif cmd == "flood":
        flood(int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "acked":
        made = set()
        for r in records(sys.argv[3:]):
            if r["event"] == "request" and r["op"] == "Create Key Pair" \
                    and r["result"] == "Success":
                made.add(tuple(sorted(r["ids"])))
        n = 0
        for ln in open(sys.argv[2]):
            pub, priv = ln.split()
            check(tuple(sorted((pub, priv))) in made,
                  "no record of acknowledged %s %s" % (pub, priv))
            n += 1
        print("ok %d" % n)
    elif cmd == "count":
        print(len([r for r in records(sys.argv[2:-1])
                   if r["event"] == "request" and r["op"] == sys.argv[-1]
                   and r["result"] == "Success"]))
    else:
        check(False, "unknown command " + cmd)


main()
