# A client that completes its TLS handshake, then resets the connection
# (SO_LINGER 0: a RST instead of a close_notify and a FIN), as a client
# killed or a load balancer's health check does.
#
#   reset.py PORT PKI_DIR
import socket
import ssl
import struct
import sys
import time

port, pki = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(pki + "/ca.crt")
ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")
s = socket.create_connection(("127.0.0.1", port), timeout=10)
t = ctx.wrap_socket(s, server_hostname="localhost")
print(t.getsockname()[1])
sys.stdout.flush()
# Let the server finish its side of the handshake first.
time.sleep(0.3)
t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
t.close()
