# Faults injected on purpose (issue 9): signerd with the pkcs11 signer
# "s1" on regress/p11fault/p11fault.so (SoftHSM2 behind a module that
# crashes, hangs or drops sessions when its control file says so) and
# the software signer "soft".  Prints "FAIL: ..." and exits 1 on the
# first failure, "ok" at the end.
#
#   fault.py PORT PKI_DIR SIGNERCTL CONF STATEDIR MODE
#
# STATEDIR holds "control" (the module's control file) and "calls" (its
# log of calls: "PID FUNCTION" a line).  MODE:
# crash	four clients sign with an s1 key without pause; C_Sign aborts
#	once.  Every request gets a signature that verifies or a KMIP
#	error (never Item Not Found), none waits past the deadline, the
#	child is restarted once and signing resumes within 2 s.
# hang	C_Sign sleeps once: that Sign fails at the deadline, "soft" signs
#	at once meanwhile, s1 is restarted and signs again.
# dead	C_Sign finds its session closed (close, then closeall, which logs
#	out): each Sign still succeeds, on a reopened session, without a
#	restart (the client sees no error; at most one is allowed).
# keepalive	the sessions die while s1 is idle (keepalive 1): they are
#	found dead and reopened before the next Sign, which succeeds.
# reinit	C_Sign wedges the module until C_Finalize: the Sign succeeds
#	after the module is initialised again, without a restart; then
#	with C_Initialize failing too, the child is restarted, and signs.
# unsure	C_GenerateKeyPair finds its session closed: Create Key Pair
#	fails saying it may or may not have happened; the next works.
# slowgen	C_GenerateKeyPair takes longer than the signer's timeout, less
#	than a key generation's deadline (6 times it): Create Key Pair
#	succeeds, s1 signs meanwhile on its other sessions and is not
#	restarted.
# login	s1 with "login auto" signs (SoftHSM wants a login).
# hide	the module hides CKM_ECDSA: an EC key is made, its Sign is
#	refused naming CKM_ECDSA.
import os
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
CONTROL = os.path.join(state, "control")
CALLS = os.path.join(state, "calls")
TIMEOUT = 3             # the signers' "timeout" in fault_test.sh
A = enums.CryptographicAlgorithm
MSG = b"signed while the token misbehaves"
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


def control(text):
    """The module's rules, rewritten in place (it keeps the file open)."""
    with open(CONTROL, "r+") as f:
        f.truncate(0)
        f.write(text)


def fired():
    """Every "once" rule has fired (its line starts with #)."""
    with open(CONTROL) as f:
        return all(ln.startswith("#") for ln in f.read().splitlines()
                   if ln.strip())


def calls(fn, pid=None):
    """How many calls of fn the module saw (from pid only, if given)."""
    n = 0
    with open(CALLS) as f:
        for ln in f:
            p, name = ln.split()
            if name == fn and (pid is None or int(p) == pid):
                n += 1
    return n


def keypair(c):
    pub, priv = c.create_key_pair(A.ECDSA, 256)
    c.activate(priv)
    key = serialization.load_der_public_key(c.get(pub).value)
    return priv, key


def verify(key, sig, what):
    try:
        key.verify(sig, MSG, ec.ECDSA(hashes.SHA256()))
    except Exception:
        fail(what + ": signature does not verify (a wrong answer)")


def sign_ok(c, priv, key, what):
    try:
        sig = c.sign(MSG, uid=priv, cryptographic_parameters=PARAMS)
    except KmipOperationFailure as e:
        fail("%s: %s %s" % (what, e.reason, e))
    verify(key, sig, what)


def wait_ready(name, oldpid, limit):
    """Wait for name to be ready under a new pid."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        s = signers().get(name)
        if s is not None and s[1] == "ready" and s[0] not in (0, oldpid):
            return s
        time.sleep(0.05)
    fail("%s not ready again within %d s: %s" % (name, limit, signers()))


def wait_fired(limit):
    t0 = time.monotonic()
    while not fired():
        if time.monotonic() - t0 > limit:
            fail("the fault did not fire within %d s" % limit)
        time.sleep(0.005)
    return time.monotonic()


def soft_key(c):
    """A key on "soft": made the default signer by a reload."""
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(text.replace('default signer "s1"', 'default signer "soft"'))
    r = subprocess.run(ctl + ["reload"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 0, "reload: " + r.stdout + r.stderr)
    return keypair(c)


c = pykmip(port, pki)
if mode == "hide":
    s0 = signers()["s1"]
    try:
        priv, key = keypair(c)
        c.sign(MSG, uid=priv, cryptographic_parameters=PARAMS)
        fail("%s: succeeded" % mode)
    except KmipOperationFailure as e:
        check("CKM_ECDSA" in str(e), "%s: %s" % (mode, e))
        print("%s: %s" % (mode, e))
    s = signers()["s1"]
    check(s[:3] == s0[:3] and s[1] == "ready", "s1: before %s, now %s" %
          (s0, s))
    print("ok")
    sys.exit(0)
priv, key = keypair(c)                  # on s1, the default signer
sign_ok(c, priv, key, "s1 before the fault")
s0 = signers()["s1"]
check(s0[1] == "ready", "s1 not ready: %s" % (s0,))

if mode == "crash":
    results = []            # (start, end, reason or None)
    stop = threading.Event()
    lock = threading.Lock()

    def client():
        cc = pykmip(port, pki)
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                sig = cc.sign(MSG, uid=priv, cryptographic_parameters=PARAMS)
                verify(key, sig, "Sign during the crash")
                r = None
            except KmipOperationFailure as e:
                r = e.reason
            except Exception as e:
                fail("Sign during the crash: %r" % e)
            with lock:
                results.append((t0, time.monotonic(), r))
        cc.close()

    threads = [threading.Thread(target=client, daemon=True)
               for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    control("C_Sign abort once\n")
    t_crash = wait_fired(10)
    # Long enough for the restart and a good run of signatures after it.
    time.sleep(3.0)
    stop.set()
    for t in threads:
        t.join(TIMEOUT + 2)
        if t.is_alive():
            fail("a client got no answer within %d s" % (TIMEOUT + 2))
    s = signers()["s1"]
    check(s[0] != s0[0] and s[2] == s0[2] + 1,
          "s1 not restarted once: before %s, now %s" % (s0, s))
    errs = [r for r in results if r[2] is not None]
    for t0, t1, r in results:
        check(r != enums.ResultReason.ITEM_NOT_FOUND,
              "Item Not Found during the crash")
        check(t1 - t0 <= TIMEOUT + 1,
              "an answer after %.2f s, past the deadline" % (t1 - t0))
    after = [t1 for t0, t1, r in results if r is None and t0 > t_crash]
    check(after, "no signature after the crash")
    resumed = min(after) - t_crash
    # Not a performance assertion: issue 9 asks that signing resumes
    # within 2 s of a crash (the parent restarts a child after 200 ms;
    # the new one loads the module and logs in).
    check(resumed <= 2.0, "signing resumed %.2f s after the crash" % resumed)
    print("crash: %d requests, %d errors, signing resumed %.2f s after "
          "the crash; s1 pid %d -> %d" % (len(results), len(errs), resumed,
                                          s0[0], s[0]))

elif mode == "hang":
    spriv, skey = soft_key(c)
    other = pykmip(port, pki)
    control("C_Sign hang once\n")
    out = []

    def hung():
        t0 = time.monotonic()
        try:
            c.sign(MSG, uid=priv, cryptographic_parameters=PARAMS)
            out.append((time.monotonic() - t0, None))
        except KmipOperationFailure as e:
            out.append((time.monotonic() - t0, e.reason))

    th = threading.Thread(target=hung, daemon=True)
    th.start()
    wait_fired(5)
    # Meanwhile the other signer answers at once.
    for n in range(3):
        t1 = time.monotonic()
        sign_ok(other, spriv, skey, "soft during the hang")
        dt = time.monotonic() - t1
        check(dt < 1.0, "soft delayed %.2f s by the hang" % dt)
    th.join(TIMEOUT + 2)
    if th.is_alive():
        fail("the hung Sign got no answer within %d s" % (TIMEOUT + 2))
    dt, reason = out[0]
    check(reason is not None and reason != enums.ResultReason.ITEM_NOT_FOUND,
          "the hung Sign: %s" % reason)
    check(dt <= TIMEOUT + 1, "the hung Sign answered after %.2f s" % dt)
    s = wait_ready("s1", s0[0], 10)
    check(s[2] == s0[2] + 1, "s1 restarts %d, wanted %d" % (s[2], s0[2] + 1))
    sign_ok(c, priv, key, "s1 after the restart")
    print("hang: error after %.2f s (%s), s1 pid %d -> %d" %
          (dt, reason, s0[0], s[0]))

elif mode == "dead":
    for rule in ("close", "closeall"):
        logins = calls("C_Login", s0[0])
        control("C_Sign %s once\n" % rule)
        sign_ok(c, priv, key, "Sign on a %s session" % rule)
        check(fired(), "the %s rule did not fire" % rule)
        s = signers()["s1"]
        check(s[:3] == s0[:3] and s[1] == "ready",
              "s1 restarted or not ready: before %s, now %s" % (s0, s))
        # closeall logs the application out: one login again.
        want = logins + (1 if rule == "closeall" else 0)
        check(calls("C_Login", s0[0]) == want, "%d C_Login after %s, "
              "wanted %d" % (calls("C_Login", s0[0]), rule, want))
        print("dead (%s): Sign succeeded on a reopened session, no "
              "restart" % rule)

elif mode == "keepalive":
    opens = calls("C_OpenSession", s0[0])
    control("C_GetSessionInfo closeall once\n")
    wait_fired(5)
    # keepalive 1: every session idle for 1 s is checked each second.
    t0 = time.monotonic()
    while calls("C_OpenSession", s0[0]) < opens + 4:
        if time.monotonic() - t0 > 5:
            fail("sessions not reopened by the keep-alive: %d opens, "
                 "wanted %d" % (calls("C_OpenSession", s0[0]), opens + 4))
        time.sleep(0.05)
    sign_ok(c, priv, key, "Sign after the keep-alive")
    s = signers()["s1"]
    check(s[:3] == s0[:3], "s1 restarted: %s, %s" % (s0, s))
    print("keepalive: 4 dead sessions reopened while idle")

elif mode == "reinit":
    control("C_Sign wedge once\n")
    sign_ok(c, priv, key, "Sign on a wedged module")
    check(fired(), "the wedge did not fire")
    check(calls("C_Finalize", s0[0]) == 1,
          "%d C_Finalize, wanted 1" % calls("C_Finalize", s0[0]))
    s = signers()["s1"]
    check(s[:3] == s0[:3] and s[1] == "ready",
          "s1 restarted or not ready: before %s, now %s" % (s0, s))
    sign_ok(c, priv, key, "Sign after the reinit")
    print("reinit: Sign succeeded after C_Finalize and C_Initialize, "
          "no restart")
    # The module does not come back: the child is restarted.
    control("C_Sign wedge once\nC_Initialize rv CKR_DEVICE_ERROR once\n")
    try:
        c.sign(MSG, uid=priv, cryptographic_parameters=PARAMS)
    except KmipOperationFailure as e:
        check(e.reason != enums.ResultReason.ITEM_NOT_FOUND,
              "Item Not Found from a wedged module")
    s = wait_ready("s1", s0[0], 10)
    check(s[2] == s0[2] + 1, "s1 restarts %d, wanted %d" % (s[2], s0[2] + 1))
    sign_ok(c, priv, key, "Sign after the restart")
    print("reinit failed: s1 restarted (pid %d -> %d), signs" %
          (s0[0], s[0]))

elif mode == "unsure":
    control("C_GenerateKeyPair close once\n")
    try:
        c.create_key_pair(A.ECDSA, 256)
        fail("Create Key Pair on a dying session succeeded")
    except KmipOperationFailure as e:
        check("may or may not" in str(e), "Create Key Pair: %s" % e)
        print("unsure: %s" % e)
    keypair(c)
    s = signers()["s1"]
    check(s[:3] == s0[:3], "s1 restarted: %s, %s" % (s0, s))

elif mode == "slowgen":
    control("C_GenerateKeyPair hang %d once\n" % (TIMEOUT + 2))
    made = []

    def slow():
        t0 = time.monotonic()
        made.append(keypair(pykmip(port, pki)))
        made.append(time.monotonic() - t0)
    t = threading.Thread(target=slow, daemon=True)
    t.start()
    wait_fired(10)
    sign_ok(c, priv, key, "s1 while a key is being made")
    t.join(6 * TIMEOUT + 10)
    check(len(made) == 2, "Create Key Pair did not answer: %s" % signers())
    check(made[1] > TIMEOUT, "the generation took %.1f s only" % made[1])
    sign_ok(c, made[0][0], made[0][1], "the slowly made key")
    s = signers()["s1"]
    check(s[:3] == s0[:3], "s1 restarted: %s, %s" % (s0, s))
    print("slowgen: a key made in %.1f s, timeout %d s" % (made[1], TIMEOUT))

elif mode != "login":
    fail("unknown mode " + mode)
print("ok")
