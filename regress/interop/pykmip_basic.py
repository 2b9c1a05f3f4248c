# PyKMIP (Debian's, /usr/bin/python3) against signerd: the operations
# that need no key.  Prints failures and exits 1 on the first.
#
#   pykmip_basic.py PORT PKI_DIR
import os
import sys

from kmip.core import enums
from kmip.services.kmip_client import KMIPProxy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa: E402

port, pki = int(sys.argv[1]), sys.argv[2]



c = KMIPProxy(host="127.0.0.1", port=port, certfile=pki + "/client.crt",
              keyfile=pki + "/client.key", ca_certs=pki + "/ca.crt",
              cert_reqs="CERT_REQUIRED", ssl_version="PROTOCOL_TLS",
              do_handshake_on_connect=True, suppress_ragged_eofs=True,
              kmip_version=enums.KMIPVersion.KMIP_1_2)
c.open()

r = c.discover_versions()
check(r.result_status.value == enums.ResultStatus.SUCCESS,
      "discover versions")
check([str(v) for v in r.protocol_versions] ==
      ["1.4", "1.3", "1.2", "1.1", "1.0"], "versions offered")

r = c.query(query_functions=[enums.QueryFunction.QUERY_OPERATIONS,
                             enums.QueryFunction.QUERY_OBJECTS,
                             enums.QueryFunction.QUERY_SERVER_INFORMATION])
check(r.result_status.value == enums.ResultStatus.SUCCESS, "query")
ops = set(o for o in r.operations)
for need in (enums.Operation.CREATE_KEY_PAIR, enums.Operation.ACTIVATE,
             enums.Operation.SIGN, enums.Operation.REVOKE,
             enums.Operation.DESTROY, enums.Operation.GET,
             enums.Operation.MODIFY_ATTRIBUTE):
    check(need in ops, "query lists %s (Krill needs it)" % need.name)
check(r.vendor_identification == "signerd", "vendor identification")

r = c.get("no-such-object")
check(r.result_status.value == enums.ResultStatus.OPERATION_FAILED and
      r.result_reason.value == enums.ResultReason.ITEM_NOT_FOUND,
      "get of an unknown id is Item Not Found")

r = c.activate("no-such-object")
check(r.result_status.value == enums.ResultStatus.OPERATION_FAILED,
      "activate of an unknown id fails")
c.close()
print("ok")
