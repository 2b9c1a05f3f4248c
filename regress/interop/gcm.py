# AES-GCM Encrypt and Decrypt on the server, with the tag, which PyKMIP's
# client does not return.  Hand-built TTLV.
#
#   gcm.py PORT PKI_DIR
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa: E402
from ttlvlib import (attribute, connect, data, enum, find, first,  # noqa
                     integer, parse, read_message, request, structure, text)



def call(op, payload):
    s.sendall(request(op, payload))
    it = find(parse(read_message(s))[0][2], 0x42000f)[0]
    return first(it, 0x42007f), first(it, 0x42007e), first(it, 0x42007c)


s = connect(int(sys.argv[1]), sys.argv[2])
ta = structure(0x420091,
               attribute("Cryptographic Algorithm", enum(0x42000b, 3)),
               attribute("Cryptographic Length", integer(0x42000b, 256)),
               attribute("Cryptographic Usage Mask",
                         integer(0x42000b, 4 | 8)))
st, _, p = call(0x01, enum(0x420057, 2) + ta)
check(st == 0, "create AES-256")
uid = text(0x420094, first(p, 0x420094))
check(call(0x12, uid)[0] == 0, "activate")

gcm = structure(0x42002b, enum(0x420011, 9), integer(0x4200ce, 16))
aad = data(0x4200fe, b"header")
plain = b"the quick brown fox jumps over the lazy dog"
st, _, p = call(0x1f, uid + gcm + data(0x4200c2, plain) + aad)
check(st == 0, "encrypt")
ct, iv, tag = first(p, 0x4200c2), first(p, 0x42003d), first(p, 0x4200ff)
check(ct != plain and len(ct) == len(plain), "ciphertext")
check(len(iv) == 12 and len(tag) == 16, "server-made IV and 16-byte tag")

dec = uid + gcm + data(0x4200c2, ct) + data(0x42003d, iv) + aad
st, _, p = call(0x20, dec + data(0x4200ff, tag))
check(st == 0 and first(p, 0x4200c2) == plain, "decrypt")
st, reason, _ = call(0x20, dec + data(0x4200ff, tag[:-1] +
                                     bytes([tag[-1] ^ 1])))
check(st == 1 and reason == 0x0a, "a flipped tag bit: Cryptographic Failure")
st, reason, _ = call(0x20, uid + gcm + data(0x4200c2, ct) +
                     data(0x42003d, iv) + data(0x4200fe, b"other") +
                     data(0x4200ff, tag))
check(st == 1 and reason == 0x0a, "other AAD: Cryptographic Failure")
st, reason, _ = call(0x20, uid + gcm + data(0x4200c2, ct) + aad)
check(st == 1 and reason == 7, "no IV/tag: Invalid Field")
# An IV the client chose is its own: not echoed back (KMIP returns one
# only when the server made it); decryption with it works.
myiv = bytes(range(12))
st, _, p = call(0x1f, uid + gcm + data(0x4200c2, plain) +
                data(0x42003d, myiv) + aad)
check(st == 0 and first(p, 0x42003d) is None, "client IV not echoed")
st, _, p = call(0x20, uid + gcm + data(0x4200c2, first(p, 0x4200c2)) +
                data(0x42003d, myiv) + aad + data(0x4200ff, first(p, 0x4200ff)))
check(st == 0 and first(p, 0x4200c2) == plain, "decrypt with client IV")
# This key may not MAC, nor sign.
st, reason, _ = call(0x23, uid + data(0x4200c2, b"x"))
check(st == 1, "MAC with an AES key refused")
print("ok")
