#!/usr/bin/python3
#
# kmip-demo.py: a KMIP client session against signerd, step by step, with
# Debian's PyKMIP (python3-pykmip; run it with /usr/bin/python3, the
# interpreter that package belongs to).
#
# For each key: Create Key Pair, Sign (refused: a new key is Pre-Active),
# Activate, Sign, Get of the public key, and a check of the signature
# here, with that public key and the cryptography package, not by the
# server.  Then Revoke and Destroy, unless -K.  First a key of the default
# signer, then one made in the token of a pkcs11 signer: that one is
# created under an id hsm::<slot>::<label> (see signerd(8)), which only an
# admin may choose; the slot is what `signerctl show signers` says.
#
#	kmip-demo.py -r RUNDIR		against `make run` (state in RUNDIR)
#	kmip-demo.py -p PORT -c CERT -k KEY -C CA [-s SOCKET | --slot N]
#
# Exits 0 when every signature verified, 1 otherwise.
import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
import time

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from kmip import enums
    from kmip.core import objects as cobjects
    from kmip.core.factories import attributes as attr_factory
    from kmip.pie.client import ProxyKmipClient
    from kmip.pie.exceptions import KmipOperationFailure
except ImportError as e:
    sys.exit("kmip-demo: %s: run it with /usr/bin/python3 and the Debian "
             "package python3-pykmip (make deps installs it)" % e)

A = enums.CryptographicAlgorithm
H = enums.HashingAlgorithm
MESSAGE = b"signed by signerd, verified by the client"

# What each kind of key signs with, and how the client verifies it.
KINDS = {
    "ec": (A.ECDSA, 256, "ECDSA P-256",
           {"cryptographic_algorithm": A.ECDSA,
            "hashing_algorithm": H.SHA_256},
           lambda k, s: k.verify(s, MESSAGE, ec.ECDSA(hashes.SHA256()))),
    "rsa": (A.RSA, 2048, "RSA-2048",
            {"cryptographic_algorithm": A.RSA,
             "hashing_algorithm": H.SHA_256,
             "padding_method": enums.PaddingMethod.PKCS1v15},
            lambda k, s: k.verify(s, MESSAGE, padding.PKCS1v15(),
                                  hashes.SHA256())),
}


def step(what, result=""):
    print("  %-34s %s" % (what, result))
    sys.stdout.flush()


def config_port(conf):
    """The port of the first listener of a signerd.conf, else 5696."""
    try:
        with open(conf) as f:
            for line in f:
                m = re.match(r"\s*listen\s+on\s+\S+\s+port\s+(\d+)", line)
                if m:
                    return int(m.group(1))
    except OSError:
        pass
    return 5696


def find_signerctl():
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(here, "..", "obj", "bin", "signerctl")
    if os.access(built, os.X_OK):
        return built
    return shutil.which("signerctl") or "/usr/sbin/signerctl"


def token_slot(signerctl, socket):
    """The slot of the first ready pkcs11 signer, as signerctl shows it."""
    try:
        out = subprocess.run([signerctl, "-s", socket, "show", "signers"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        print("kmip-demo: %s: %s" % (signerctl, e))
        return None
    for line in out.stdout.splitlines()[1:]:
        f = line.split(None, 6)
        if len(f) == 7 and f[1] == "pkcs11" and f[4] == "ready":
            m = re.search(r" in slot (\d+)", f[6])
            if m:
                return f[0], m.group(1)
    print("kmip-demo: no ready pkcs11 signer in `%s -s %s show signers`%s" %
          (signerctl, socket, ": " + out.stderr.strip() if out.stderr
           else ""))
    return None


def create_in_token(c, alg, bits, uid):
    """Create Key Pair under the id uid, which picks the token."""
    af = attr_factory.AttributeFactory()
    tmpl = cobjects.TemplateAttribute(
        attributes=[
            af.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_ALGORITHM,
                                alg),
            af.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_LENGTH,
                                bits),
            af.create_attribute(enums.AttributeType.UNIQUE_IDENTIFIER, uid)],
        tag=enums.Tags.COMMON_TEMPLATE_ATTRIBUTE)
    r = c.proxy.create_key_pair(common_template_attribute=tmpl)
    if r.result_status.value != enums.ResultStatus.SUCCESS:
        raise KmipOperationFailure(r.result_status.value,
                                   r.result_reason.value,
                                   r.result_message.value)
    return r.public_key_uuid, r.private_key_uuid


def demo(c, kind, uid=None, keep=False):
    alg, bits, label, params, verify = KINDS[kind]
    if uid is None:
        name = "demo-%d" % time.time()
        pub, priv = c.create_key_pair(alg, bits, public_name=name + "-pub",
                                      private_name=name)
    else:
        pub, priv = create_in_token(c, alg, bits, uid)
    step("Create Key Pair " + label, "private " + priv)
    step("", "public  " + pub)
    try:
        c.sign(MESSAGE, uid=priv, cryptographic_parameters=params)
        step("Sign before Activate", "signed?!")
        return False
    except KmipOperationFailure as e:
        step("Sign before Activate", "refused, %s: the key is Pre-Active"
             % e.reason.name)
    c.activate(priv)
    step("Activate", "private key Active")
    sig = c.sign(MESSAGE, uid=priv, cryptographic_parameters=params)
    step("Sign %d bytes (SHA-256)" % len(MESSAGE), "%d-byte signature"
         % len(sig))
    key = c.get(pub)
    pk = serialization.load_der_public_key(key.value)
    step("Get public key", "%s, %d bytes" % (key.key_format_type.name,
                                             len(key.value)))
    try:
        verify(pk, sig)
        ok = True
        step("Verify here with that key", "signature OK")
    except InvalidSignature:
        ok = False
        step("Verify here with that key", "BAD SIGNATURE")
    if not keep:
        c.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, priv)
        c.destroy(priv)
        c.destroy(pub)
        step("Revoke, Destroy", "done")
    return ok


def main():
    ap = argparse.ArgumentParser(description="Create, activate, sign and "
                                 "verify through signerd over KMIP.")
    ap.add_argument("-r", metavar="RUNDIR",
                    help="state directory of `make run` (sets -p, -c, -k, "
                    "-C and -s)")
    ap.add_argument("-H", default="127.0.0.1", metavar="HOST")
    ap.add_argument("-p", type=int, metavar="PORT")
    ap.add_argument("-c", metavar="CERT", help="client certificate")
    ap.add_argument("-k", metavar="KEY", help="its private key")
    ap.add_argument("-C", metavar="CA", help="CA of the server certificate")
    ap.add_argument("-s", metavar="SOCKET",
                    help="control socket, to find the token's slot")
    ap.add_argument("--signerctl", default=None)
    ap.add_argument("--slot", help="slot of the token (no signerctl)")
    ap.add_argument("--no-hsm", action="store_true",
                    help="only a key of the default signer")
    ap.add_argument("-K", action="store_true",
                    help="keep the keys (no Revoke, Destroy)")
    a = ap.parse_args()
    if a.r:
        pki = os.path.join(a.r, "pki")
        a.p = a.p or config_port(os.path.join(a.r, "signerd.conf"))
        a.c = a.c or os.path.join(pki, "client.crt")
        a.k = a.k or os.path.join(pki, "client.key")
        a.C = a.C or os.path.join(pki, "ca.crt")
        a.s = a.s or os.path.join(a.r, "signerd.sock")
    if not (a.c and a.k and a.C):
        ap.error("give -r RUNDIR, or -c, -k and -C")
    a.p = a.p or 5696

    # PyKMIP warns that it has no configuration file: it needs none.
    logging.getLogger("kmip.core.config_helper").setLevel(logging.ERROR)
    print("KMIP 1.2 over TLS to %s:%d, client certificate %s"
          % (a.H, a.p, a.c))
    c = ProxyKmipClient(hostname=a.H, port=a.p, cert=a.c, key=a.k, ca=a.C,
                        ssl_version="PROTOCOL_TLS",
                        kmip_version=enums.KMIPVersion.KMIP_1_2)
    ok = True
    try:
        c.open()
        print("A key of the default signer:")
        ok = demo(c, "ec", keep=a.K) and ok
        if not a.no_hsm:
            where = None
            if a.slot:
                where = ("slot", a.slot)
            elif a.s:
                where = token_slot(a.signerctl or find_signerctl(), a.s)
            if where is None:
                print("No token found: give --slot N or -s SOCKET, or "
                      "--no-hsm.")
                ok = False
            else:
                uid = "hsm::%s::demo-%d" % (where[1], time.time())
                print("A key made in the token of signer %s (slot %s):"
                      % where)
                ok = demo(c, "rsa", uid=uid, keep=a.K) and ok
    except KmipOperationFailure as e:
        print("kmip-demo: %s: %s" % (e.reason.name, e.message))
        ok = False
    except Exception as e:
        print("kmip-demo: %s: %s" % (type(e).__name__, e))
        ok = False
    finally:
        c.close()
    print("all signatures verified" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
