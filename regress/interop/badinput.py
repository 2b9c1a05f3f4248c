# Bad input over a real TLS connection, then proof that a fresh
# connection is still served.  Run with /usr/bin/python3 (PyKMIP's).
#
#   badinput.py PORT PKI_DIR CASE
#
# Prints one line: what happened ("closed", "error REASON", "response").
import os
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ttlvlib  # noqa: E402

port, pki, case = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def connect():
    return ttlvlib.connect(port, pki)


read_response = ttlvlib.read_message
result_reason = ttlvlib.result_reason
ttlv, structure, integer, enum = ttlvlib.ttlv, ttlvlib.structure, \
    ttlvlib.integer, ttlvlib.enum
request = ttlvlib.request


s = connect()
if case == "truncated":
    # A valid header that promises more than comes, then a stall: the
    # read timeout closes it.
    m = request(0x18, enum(0x420074, 1))
    s.sendall(m[:len(m) // 2])
    t = time.time()
    r = read_response(s)
    print("closed" if r is None else "response",
          "after %.0f s" % (time.time() - t), file=sys.stderr)
    print("closed" if r is None else "response")
elif case == "huge":
    # Declared length 2^31: refused at once, nothing waited for.
    s.sendall(b"\x42\x00\x78\x01\x80\x00\x00\x00" + b"\0" * 64)
    print("closed" if read_response(s) is None else "response")
elif case == "garbage":
    # 1 MiB of noise after a plausible header.
    s.sendall(b"\x42\x00\x78\x01\x00\x00\x00\x10")
    try:
        s.sendall(bytes(range(256)) * 4096)
    except OSError:
        pass
    r = read_response(s)
    print("closed" if r is None else "error %d" % result_reason(r))
elif case == "wrongtype":
    # A Request Message whose Batch Count is a text string.
    hdr = structure(0x420077,
                    structure(0x420069, integer(0x42006a, 1),
                              integer(0x42006b, 2)),
                    ttlv(0x42000d, 7, b"one"))
    s.sendall(structure(0x420078, hdr))
    r = read_response(s)
    print("closed" if r is None else "error %d" % result_reason(r))
elif case == "badpadding":
    m = bytearray(request(0x18, enum(0x420074, 1)))
    m[-1] = 0xff
    s.sendall(bytes(m))
    r = read_response(s)
    print("closed" if r is None else "error %d" % result_reason(r))
elif case == "unsupported":
    s.sendall(request(0x28))	# an operation we do not serve
    r = read_response(s)
    print("closed" if r is None else "error %d" % result_reason(r))
elif case == "pipelined":
    # Three requests in one write: three responses, in order.
    s.sendall(request(0x1e) + request(0x18, enum(0x420074, 3)) +
              request(0x0a, ttlv(0x420094, 7, b"nope")))
    got = []
    for i in range(3):
        r = read_response(s)
        got.append("none" if r is None else "%d" % (result_reason(r) or 0))
    print(" ".join(got))
s.close()

# Whatever happened, the next client is served.
s = connect()
s.sendall(request(0x1e))
r = read_response(s)
if r is None or result_reason(r) is not None:
    print("not served afterwards")
    sys.exit(1)
