# A signer child that stops answering (SIGSTOP; a PKCS#11 module hung in
# C_Sign looks the same) or dies (kill -9), against signerd with two
# software signers "soft" and "other", each with "timeout 2".  Prints
# "FAIL: ..." and exits 1 on the first failure, "ok" at the end.
#
#   signer_hung.py PORT PKI_DIR SIGNERCTL CONF STATEDIR stall|kill
#
# stall: SIGSTOP soft while a client signs with its key: the client gets
#	a KMIP error (never Item Not Found) within timeout + 1 s, "other"
#	answers at once meanwhile, show signers says "hung", the parent
#	kills and restarts soft (new pid, one more restart) and the next
#	Sign succeeds.  Three times; the recovery times (SIGSTOP to the
#	first successful Sign) are printed, with their median.
# kill:	kill -9 soft and sign at once: the Sign is held until soft is
#	back and succeeds.
# Every pid stopped is written to STATEDIR/stopped first, for cleanup.
import os
import signal
import subprocess
import sys
import threading
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from kmip import enums
from kmip.pie.exceptions import KmipOperationFailure

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, pykmip  # noqa: E402

port, pki, ctl, conf, state, mode = (int(sys.argv[1]), sys.argv[2],
                                     sys.argv[3].split(), sys.argv[4],
                                     sys.argv[5], sys.argv[6])
TIMEOUT = 2
A = enums.CryptographicAlgorithm
MSG = b"signed while a signer hangs"
# EC keys: an RSA key generation may outlast "timeout 2" in a sanitized
# build on a busy machine.
PARAMS = {"hashing_algorithm": enums.HashingAlgorithm.SHA_256,
          "cryptographic_algorithm": A.ECDSA}


def fail(what):
    print("FAIL:", what)
    sys.stdout.flush()
    os._exit(1)     # a client thread may still be blocked


def signers():
    """show signers: name -> (pid, signer state, restarts)."""
    out = subprocess.run(ctl + ["show", "signers"], capture_output=True,
                         text=True, timeout=10).stdout
    res = {}
    for line in out.splitlines()[1:]:
        f = line.split()
        if len(f) >= 6:
            res[f[0]] = (int(f[2]), f[4], int(f[5]))
    return res


def keypair(c):
    pub, priv = c.create_key_pair(A.ECDSA, 256)
    c.activate(priv)
    key = serialization.load_der_public_key(c.get(pub).value)
    return priv, key


def sign_ok(c, priv, key, what):
    sig = c.sign(MSG, uid=priv, cryptographic_parameters=PARAMS)
    try:
        key.verify(sig, MSG, ec.ECDSA(hashes.SHA256()))
    except Exception:
        fail(what + ": signature does not verify")


def sign_timed(c, priv, out):
    """Sign in a thread: out gets (seconds, reason or None)."""
    t0 = time.monotonic()
    try:
        c.sign(MSG, uid=priv, cryptographic_parameters=PARAMS)
        out.append((time.monotonic() - t0, None, ""))
    except KmipOperationFailure as e:
        out.append((time.monotonic() - t0, e.reason, str(e)))
    except Exception as e:
        out.append((time.monotonic() - t0, "exception", str(e)))


def wait_ready(name, oldpid, limit):
    """Wait for name to be ready under a new pid; the states seen."""
    seen = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        s = signers().get(name)
        if s is not None:
            if not seen or seen[-1] != s[1]:
                seen.append(s[1])
            if s[1] == "ready" and s[0] not in (0, oldpid):
                return s, seen
        time.sleep(0.05)
    fail("%s not ready again within %d s (states %s)" % (name, limit, seen))


c = pykmip(port, pki)
soft_priv, soft_key = keypair(c)        # the default signer: soft
# The next keys go to "other": make it the default signer and reload.
with open(conf) as f:
    text = f.read()
with open(conf, "w") as f:
    f.write(text.replace('default signer "soft"', 'default signer "other"'))
r = subprocess.run(ctl + ["reload"], capture_output=True, text=True,
                   timeout=10)
check(r.returncode == 0, "reload: " + r.stdout + r.stderr)
other_priv, other_key = keypair(c)
sign_ok(c, soft_priv, soft_key, "soft before")
sign_ok(c, other_priv, other_key, "other before")
s0 = signers()
check(s0["soft"][1] == "ready" and s0["other"][1] == "ready",
      "both ready: %s" % s0)

if mode == "kill":
    pid, _, restarts = s0["soft"]
    os.kill(pid, signal.SIGKILL)
    t0 = time.monotonic()
    out = []
    th = threading.Thread(target=sign_timed, args=(c, soft_priv, out),
                          daemon=True)
    th.start()
    th.join(TIMEOUT + 3)
    if th.is_alive():
        fail("Sign after kill -9 got no answer within %d s" % (TIMEOUT + 3))
    dt, reason, text = out[0]
    check(reason is None, "Sign after kill -9 failed: %s %s" % (reason, text))
    s = signers()["soft"]
    check(s[0] != pid and s[2] == restarts + 1,
          "soft restarted once: %s" % (s,))
    print("kill -9: Sign held %.2f s, then answered" % dt)
    print("ok")
    sys.exit(0)

# stall
other = pykmip(port, pki)
times = []
for n in range(3):
    pid, _, restarts = signers()["soft"]
    with open(os.path.join(state, "stopped"), "a") as f:
        f.write("%d\n" % pid)
    os.kill(pid, signal.SIGSTOP)
    t0 = time.monotonic()
    out = []
    th = threading.Thread(target=sign_timed, args=(c, soft_priv, out),
                          daemon=True)
    th.start()
    # Meanwhile the other signer answers at once.
    t1 = time.monotonic()
    sign_ok(other, other_priv, other_key, "other during the stall")
    dt = time.monotonic() - t1
    check(dt < 1.0, "other signer delayed %.2f s by the stall" % dt)
    if n == 0:
        st = signers()
    th.join(max(0.1, TIMEOUT + 1 - (time.monotonic() - t0) + 0.2))
    if th.is_alive():
        fail("no answer within timeout + 1 s (%d s) of SIGSTOP" %
             (TIMEOUT + 1))
    if n == 0:
        check(st["soft"][1] in ("hung", "restarting"),
              "soft shown as %s during the stall" % st["soft"][1])
        check(st["other"][1] == "ready", "other shown as %s" %
              st["other"][1])
        print("during the stall: soft %s, other %s" %
              (st["soft"][1], st["other"][1]))
    dt, reason, text = out[0]
    check(reason != enums.ResultReason.ITEM_NOT_FOUND,
          "Item Not Found for a key whose signer hangs")
    check(dt <= TIMEOUT + 1, "answer after %.2f s" % dt)
    # Normally the deadline fails it; should the parent's liveness check
    # have killed the signer first, it was held and served by the new one.
    check(reason in (None, enums.ResultReason.GENERAL_FAILURE),
          "Sign during the stall: %s %s" % (reason, text))
    print("stall %d: %s after %.2f s: %s" %
          (n + 1, "error" if reason else "answer", dt, text))
    s, seen = wait_ready("soft", pid, 10)
    check(s[2] == restarts + 1, "restarts %d, wanted %d" %
          (s[2], restarts + 1))
    # What was held or sent now is served: the first Sign succeeds.
    sign_ok(c, soft_priv, soft_key, "soft after the restart")
    times.append(time.monotonic() - t0)
    print("stall %d: states %s, new pid %d, restarts %d, recovered in "
          "%.2f s" % (n + 1, " -> ".join(seen), s[0], s[2], times[-1]))
times.sort()
print("recovery (SIGSTOP to a successful Sign): %s; median %.2f s" %
      (", ".join("%.2f" % t for t in times), times[1]))
print("ok")
