# max connections 2 and idle timeout 2: a third client is turned away
# while two are connected, and an idle client is closed after about 2 s.
#
#   limits.py PORT PKI_DIR
import os
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "interop"))
from ttlvlib import connect  # noqa: E402

port, pki = int(sys.argv[1]), sys.argv[2]
a = connect(port, pki)
b = connect(port, pki)
try:
    c = connect(port, pki)
    c.settimeout(5)
    refused = c.recv(1) == b""
except (ssl.SSLError, OSError):
    refused = True
print("third refused" if refused else "third served")
b.close()
t = time.time()
a.settimeout(10)
try:
    closed = a.recv(1) == b""
except (ssl.SSLError, OSError):
    closed = True
print("idle closed after %d s" % round(time.time() - t) if closed else
      "idle not closed")
