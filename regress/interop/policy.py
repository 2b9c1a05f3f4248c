# One KMIP step of a policy test (policy_test.sh), as a client with one
# of the test certificates; the shell checks what it prints and runs
# signerctl between steps.
#
#   policy.py PORT PKI CERT pair NAME [SIGNER-ID-OR-OWNER...]
#       Create Key Pair (ECDSA P-256) named NAME, its private key
#       activated; prints "PUB PRIV".  "owner=X" adds x-signerd-owner X,
#       "hsm=ID" asks for the id ID (hsm::...); "noactivate" leaves it.
#   policy.py PORT PKI CERT try OP ID [USER PASS]
#       OP one of get, attrs, sign, destroy, activate, revoke, locate-id,
#       query, pair: prints "ok" or "fail REASON MESSAGE".
#   policy.py PORT PKI CERT locate [NAME]
#       prints the ids found, sorted, one per line, then "end".
#   policy.py PORT PKI CERT auth USER PASS [COUNT]
#       COUNT (default 1) Queries and a Locate on one connection with
#       that Credential ("-" for none); prints ok or fail per request.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, structure, text)


def header(cred):
    items = [structure(0x420069, integer(0x42006a, 1),
                       integer(0x42006b, 2))]
    if cred is not None:
        user, pw = cred
        value = [text(0x420099, user)]
        if pw is not None:
            value.append(text(0x4200a1, pw))
        items.append(structure(0x42000c, structure(
            0x420023, enum(0x420024, 1), structure(0x420025, *value))))
    items.append(integer(0x42000d, 1))
    return structure(0x420077, *items)


def call(s, op, payload, cred=None):
    item = structure(0x42000f, enum(0x42005c, op),
                     structure(0x420079, payload))
    s.sendall(structure(0x420078, header(cred), item))
    msg = read_message(s)
    if msg is None:
        return None, None, None, None
    it = find(parse(msg)[0][2], 0x42000f)[0]
    return (first(it, 0x42007f), first(it, 0x42007e),
            first(it, 0x42007c), first(it, 0x42007d))


def name_attr(name):
    return attribute("Name", structure(0x42000b, text(0x420055, name),
                                       enum(0x420054, 1)))


def pair(s, name, extra, cred=None):
    attrs = [attribute("Cryptographic Algorithm", enum(0x42000b, 6)),
             attribute("Cryptographic Length", integer(0x42000b, 256)),
             name_attr(name)]
    activate = True
    for e in extra:
        if e.startswith("owner="):
            attrs.append(attribute("x-signerd-owner",
                                   text(0x42000b, e[6:])))
        elif e.startswith("hsm="):
            attrs.append(attribute("Unique Identifier",
                                   text(0x42000b, e[4:])))
        elif e == "noactivate":
            activate = False
    st, reason, p, msg = call(s, 0x02, structure(0x42001f, *attrs), cred)
    if st != 0:
        return None, "fail %s %s" % (reason, msg)
    pub, priv = first(p, 0x42006f), first(p, 0x420066)
    if activate:
        st, reason, _, msg = call(s, 0x12, text(0x420094, priv), cred)
        if st != 0:
            return None, "fail %s %s" % (reason, msg)
    return (pub, priv), None


def attempt(s, op, uid, cred=None):
    u = text(0x420094, uid)
    if op == "get":
        r = call(s, 0x0a, u, cred)
    elif op == "attrs":
        r = call(s, 0x0b, u, cred)
    elif op == "sign":
        r = call(s, 0x21, u + data(0x4200c2, b"policy test"), cred)
    elif op == "destroy":
        r = call(s, 0x14, u, cred)
    elif op == "activate":
        r = call(s, 0x12, u, cred)
    elif op == "revoke":
        r = call(s, 0x13, u + structure(0x420081, enum(0x420082, 6)),
                 cred)
    elif op == "query":
        r = call(s, 0x18, enum(0x420074, 1), cred)
    elif op == "locate-id":
        st, reason, p, msg = call(s, 0x08, b"", cred)
        if st == 0 and uid not in find(p, 0x420094):
            return "fail none not located"
        r = (st, reason, p, msg)
    elif op == "pair":
        _, err = pair(s, uid, [], cred)
        return err or "ok"
    else:
        raise SystemExit("unknown op " + op)
    st, reason, _, msg = r
    if st is None:
        return "fail closed"
    return "ok" if st == 0 else "fail %s %s" % (reason, msg)


def main():
    port, pki, cert, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3], \
        sys.argv[4]
    args = sys.argv[5:]
    s = connect(port, pki, cert)
    if cmd == "pair":
        ids, err = pair(s, args[0], args[1:])
        print(err if ids is None else "%s %s" % ids)
    elif cmd == "try":
        cred = (args[2], args[3]) if len(args) >= 4 else None
        print(attempt(s, args[0], args[1], cred))
    elif cmd == "locate":
        payload = name_attr(args[0]) if args else b""
        st, reason, p, msg = call(s, 0x08, payload)
        if st != 0:
            print("fail %s %s" % (reason, msg))
        else:
            for uid in sorted(find(p, 0x420094)):
                print(uid)
            print("end")
    elif cmd == "auth":
        user = args[0]
        pw = None if args[1] == "-" else args[1]
        cred = None if user == "-" else (user, pw)
        for _ in range(int(args[2]) if len(args) > 2 else 1):
            print(attempt(s, "query", "", cred))
        print(attempt(s, "locate-id", "", cred).replace(
            "fail none not located", "ok"))
    s.close()


main()
