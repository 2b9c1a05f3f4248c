# What the PyKMIP test scripts share: assertions and the client.
import sys


def check(cond, what):
    """Print FAIL and exit 1 unless cond holds."""
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def fails(fn, reason, what):
    """fn must fail with the KMIP Result Reason given."""
    from kmip.pie.exceptions import KmipOperationFailure
    try:
        fn()
    except KmipOperationFailure as e:
        check(e.reason == reason, "%s: reason %s, wanted %s" %
              (what, e.reason, reason))
        return
    check(False, what + " succeeded")


def pykmip(port, pki):
    """An open PyKMIP client for alice, speaking KMIP 1.2."""
    from kmip import enums
    from kmip.pie.client import ProxyKmipClient
    c = ProxyKmipClient(hostname="127.0.0.1", port=port,
                        cert=pki + "/client.crt", key=pki + "/client.key",
                        ca=pki + "/ca.crt", ssl_version="PROTOCOL_TLS",
                        kmip_version=enums.KMIPVersion.KMIP_1_2)
    c.open()
    return c
