# Replay the OASIS KMIP 1.4 Profiles test vectors against the real
# daemon (issue 10).  Each XML file is a sequence of Request and Response
# Messages in the KMIP XML encoding; every request is turned into TTLV,
# sent over TLS, and the answer compared with the expected response
# within the variations the Profiles specification permits (its section
# "Permitted Test Case Variations"):
#
#  - identifiers: $UNIQUE_IDENTIFIER_n is bound to what the server
#    returned first at that place, and must be the same everywhere after;
#    other $NAME placeholders (signatures, IVs, ciphertexts the vector
#    cannot know) are bound the same way and sent back in later requests;
#  - dates and times ($NOW, $NOW-3600, ...): any value of the right type;
#  - random values: the key material and Digest of an object the server
#    made, the output of RNG Retrieve (its length must match), an IV the
#    server chose; a signature that differs is verified with the public
#    key instead, a ciphertext that differs is decrypted instead;
#  - attribute order, attributes the server adds where the client did
#    not name the ones it wanted, Located Items (objects left by other
#    vectors may be found too), Result Messages;
#  - what Query lists: a server lists what it supports, which the
#    profile leaves to it; it must list every operation and object type
#    the vector lists that signerd serves (all but those of NOT_SERVED),
#    and may list more;
#  - a key Get wraps (Key Wrapping Specification) is random too: it is
#    unwrapped with the wrapping key instead, and must hold the key.
#
#   oasis.py PORT PKI_DIR [-v] [-e ENC] FILE...
#
# -v shows each response; -e ttlv|json|xml sends every vector as KMIP
# over HTTPS in that encoding (the MSGENC vectors always go the way
# their profile says: HTTPS with TTLV, JSON, XML).
#
# Prints "PASS file", "FAIL file: reason" or "SKIP file: reason" per file,
# then a summary.  Exit status 0 unless the arguments are wrong: what a
# caller expects to pass is oasis_test.sh's business.
import calendar
import copy
import os
import re
import socket
import ssl
import struct
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oasis_enums import ATTR_ENUM, ENUMS, USAGE  # noqa: E402
from oasis_tags import TAGS  # noqa: E402
from ttlvlib import connect, parse, read_message  # noqa: E402
import msgenc  # noqa: E402

TYPES = {"Integer": 2, "LongInteger": 3, "BigInteger": 4, "Enumeration": 5,
         "Boolean": 6, "TextString": 7, "ByteString": 8, "DateTime": 9,
         "Interval": 10}
NAMES = {v: k for (k, v) in TAGS.items()}

# Vectors that need what this server does not claim, and why.
NOT_CLAIMED = {}

# Vectors of the message encoding profiles: sent as KMIP over HTTPS
# (POST /kmip on the same TLS port) in their encoding.
ENCODING = {
    "MSGENC-HTTPS-M-1-14.xml": "ttlv",
    "MSGENC-JSON-M-1-14.xml": "json",
    "MSGENC-XML-M-1-14.xml": "xml",
}

# Vectors that show another server's policy where the Profiles leave it
# to the server, and signerd's differs.
POLICY = {
    # CS-RNG-O-1 to -3 show a server taking a client's seed (all of it,
    # half, none: Data Length is the server's choice); -4 one refusing
    # it.  O-1 and O-4 send the same request (RNG Seed of the same 32
    # bytes, KMIP 1.4) and want Success and Permission Denied: no
    # server passes both.  signerd takes it (mixed in, credited with no
    # entropy), so O-4 cannot pass.
    "CS-RNG-O-4-14.xml": "the request of CS-RNG-O-1, answered Permission "
                         "Denied: signerd accepts RNG Seed (O-1 passes)",
}

# Defective vectors: a response gives a literal where later requests use
# a placeholder for it.  Each placeholder here stands for what the server
# returned in place of that literal.
ALIASES = {
    # Encrypt answers Data and IV as literals, the Decrypts after it
    # send $DATA_0 and $IV_COUNTER_NONCE.
    "CS-BC-M-13-14.xml": {
        "$DATA_0": "e768203ba72b6e157daaad34b1e791d8e88457dc147942f01bfa"
                   "ff7b28a3cdde2203d4d5a4c7928ba9e9cc78b66a6546",
        "$IV_COUNTER_NONCE": "FF020304050607080910111213141516",
    },
}

# Defective vectors: a MAC answered as a literal that the MAC Verify
# after it sends back as $MAC_DATA.
ALIASES["CS-AC-M-6-14.xml"] = {
    "$MAC_DATA": "c911e78196d64c30f631bb079ea37b97a95936d4da764d6a171d"
                 "f030c895ecf9",
}

# Defective vectors: a response in another protocol version than its
# request (a server answers in the request's version).
WRONG_VERSION = {
    "OMOS-O-1-14.xml",	# the Destroy of a 1.4 request answers 1.3
}

# What the Query of a vector lists that signerd does not serve, and why:
# these need not be in its answer.
NOT_SERVED = {
    # Operations: leases, usage allocation, archives, certificates,
    # re-keying, split keys and the server-to-client ones are not
    # implemented; asynchronous operations are refused (no Poll, Cancel).
    "Operation": {"Poll", "Cancel", "GetUsageAllocation", "ReKey",
                  "Archive", "Recover", "ObtainLease", "ReKeyKeyPair",
                  "Certify", "ReCertify", "Notify", "Put",
                  "CreateSplitKey", "JoinSplitKey", "DeriveKey",
                  "Validate", "Import", "Export"},
    # Templates are deprecated since KMIP 1.3 and refused; no split or
    # PGP keys.
    "ObjectType": {"Template", "SplitKey", "PGPKey"},
}

# Tags whose value is random when the object was made by the server.
SERVER_RANDOM = {"KeyMaterial", "DigestValue", "MACData", "KeyValue",
                 "Modulus", "PrivateExponent", "PublicExponent", "P", "Q",
                 "PrimeExponentP", "PrimeExponentQ", "CRTCoefficient"}


# Attributes a server sets by its own policy, if at all: a Get Attribute
# List of the vectors that shows one does not oblige every server to.
SERVER_POLICY = {"Lease Time"}


VERBOSE = False
# Identifiers of the objects the server made, in any file: a vector may
# use what an earlier one made (TL-M-3 Gets the key TL-M-2 created).
SERVER_MADE = set()


class Mismatch(Exception):
    pass


class Replay:
    """The state of one file: bound placeholders and what we know of the
    objects it made."""

    def __init__(self, port, pki, name, enc=None):
        self.port, self.pki, self.name = port, pki, name
        self.enc = enc		# None: TTLV on the stream, no HTTP
        self.bound = {}		# "$UNIQUE_IDENTIFIER_0" -> value
        self.server_made = SERVER_MADE	# ids the server generated
        self.pubkey_of = {}	# private key id -> public key id
        self.sock = None

    # -- XML to TTLV ------------------------------------------------------

    def subst(self, v):
        if v.startswith("$") and not v.startswith("$NOW"):
            alias = ALIASES.get(self.name, {}).get(v)
            if v not in self.bound and alias is not None:
                return self.bound.get(alias, alias)
            if v not in self.bound:
                raise Mismatch("request uses %s before any response bound "
                               "it" % v)
            return self.bound[v]
        return v

    def encode(self, e, attr=None):
        tag = TAGS.get(e.tag)
        if tag is None:
            raise Mismatch("unknown tag %s" % e.tag)
        typ = e.get("type", "Structure")
        v = e.get("value")
        if typ == "Structure":
            body, name = b"", attr
            for c in e:
                if c.tag == "AttributeName":
                    name = c.get("value")
                body += self.encode(c, name)
            return self.item(tag, 1, body)
        if typ == "Integer":
            return self.item(tag, 2, struct.pack(">i", self.integer(v)))
        if typ == "Interval":
            return self.item(tag, 10, struct.pack(">I", int(v)))
        if typ == "LongInteger":
            return self.item(tag, 3, struct.pack(">q", int(v)))
        if typ == "BigInteger":
            b = bytes.fromhex(v)
            b = b"\0" * ((8 - len(b) % 8) % 8) + b
            return self.item(tag, 4, b)
        if typ == "Enumeration":
            return self.item(tag, 5, struct.pack(">I",
                                                 self.enumval(e.tag, v,
                                                              attr)))
        if typ == "Boolean":
            return self.item(tag, 6, struct.pack(">Q", v == "true"))
        if typ == "TextString":
            return self.item(tag, 7, self.subst(v).encode())
        if typ == "ByteString":
            # A random value of an earlier response, sent back.
            v = self.bound.get(v, v) if not v.startswith("$") else \
                self.subst(v)
            return self.item(tag, 8, v if isinstance(v, bytes) else
                             bytes.fromhex(v))
        if typ == "DateTime":
            return self.item(tag, 9, struct.pack(">q", self.date(v)))
        raise Mismatch("unknown type %s" % typ)

    @staticmethod
    def item(tag, typ, value):
        pad = (8 - len(value) % 8) % 8
        return struct.pack(">I", tag)[1:] + bytes([typ]) + \
            struct.pack(">I", len(value)) + value + b"\0" * pad

    @staticmethod
    def integer(v):
        if re.fullmatch(r"-?[0-9]+", v):
            return int(v)
        if v.startswith("0x"):
            return int(v, 16)
        m = 0
        for w in v.split():
            if w not in USAGE:
                raise Mismatch("unknown mask bit %s" % w)
            m |= USAGE[w]
        return m

    @staticmethod
    def enumval(tag, v, attr):
        if v.startswith("0x"):
            return int(v, 16)
        fam = ATTR_ENUM.get(attr) if tag == "AttributeValue" else tag
        if fam not in ENUMS or v not in ENUMS[fam]:
            raise Mismatch("unknown enumeration %s %s" % (fam or tag, v))
        return ENUMS[fam][v]

    @staticmethod
    def date(v):
        m = re.fullmatch(r"\$NOW([+-][0-9]+)?", v)
        if m:
            return int(time.time()) + int(m.group(1) or 0)
        return calendar.timegm(time.strptime(v[:19], "%Y-%m-%dT%H:%M:%S"))

    # -- the conversation -------------------------------------------------

    def send(self, msg):
        for attempt in range(2):
            if self.sock is None:
                self.sock = connect(self.port, self.pki)
            try:
                if self.enc is not None:
                    r = self.post(msg)
                else:
                    self.sock.sendall(msg)
                    r = read_message(self.sock)
            except (OSError, ssl.SSLError):
                r = None
            if r is not None:
                return r
            self.close()
        raise Mismatch("no response (connection closed)")

    def post(self, msg):
        """One request as KMIP over HTTPS in self.enc; its answer as
        TTLV, or None if the connection closed."""
        self.sock.sendall(msgenc.request("/kmip",
                                         msgenc.encode(msg, self.enc),
                                         msgenc.CTYPE[self.enc]))
        r = msgenc.read_response(self.sock)
        if r is None:
            return None
        status, hdrs, body = r
        if status != 200:
            raise Mismatch("HTTP %d" % status)
        if hdrs.get("content-type") != msgenc.CTYPE[self.enc]:
            raise Mismatch("answered as %s" % hdrs.get("content-type"))
        if self.enc == "ttlv":
            return body
        try:
            return msgenc.to_ttlv(msgenc.decode(body, self.enc))
        except (ValueError, KeyError, ET.ParseError) as e:
            raise Mismatch("cannot read the %s answer: %r" %
                           (self.enc, e))

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def call(self, op, payload):
        """An extra request of the replayer's own (to verify a value)."""
        e = ET.fromstring(
            '<RequestMessage><RequestHeader><ProtocolVersion>'
            '<ProtocolVersionMajor type="Integer" value="1"/>'
            '<ProtocolVersionMinor type="Integer" value="4"/>'
            '</ProtocolVersion><BatchCount type="Integer" value="1"/>'
            '</RequestHeader><BatchItem><Operation type="Enumeration" '
            'value="%s"/><RequestPayload/></BatchItem></RequestMessage>' %
            op)
        hdr = self.encode(e.find("RequestHeader"))
        bi = self.item(TAGS["BatchItem"], 1,
                       self.encode(e.find("BatchItem/Operation")) +
                       self.item(TAGS["RequestPayload"], 1, payload))
        r = parse(self.send(self.item(TAGS["RequestMessage"], 1,
                                      hdr + bi)))
        it = [v for (t, _, v) in r[0][2] if t == TAGS["BatchItem"]][0]
        st = [v for (t, _, v) in it if t == TAGS["ResultStatus"]]
        pl = [v for (t, _, v) in it if t == TAGS["ResponsePayload"]]
        return (st[0] if st else None), (pl[0] if pl else [])

    # -- comparison -------------------------------------------------------

    def bind(self, name, value, where):
        if name in self.bound:
            if self.bound[name] != value:
                raise Mismatch("%s: %s is %r here, %r before" %
                               (where, name, value, self.bound[name]))
        else:
            self.bound[name] = value

    def compare(self, exp, act, ctx, where):
        """Compare XML element exp with the TTLV item act."""
        tag, typ, val = act
        if TAGS[exp.tag] != tag:
            raise Mismatch("%s: %s where %s was expected" %
                           (where, NAMES.get(tag, hex(tag)), exp.tag))
        where = where + "/" + exp.tag
        et = exp.get("type", "Structure")
        if TYPES.get(et, 1) != typ:
            raise Mismatch("%s: type %d, expected %s" % (where, typ, et))
        v = exp.get("value")
        if et == "Structure":
            if exp.tag == "AttributeValue" and \
                    ctx.get("attr") == "Random Number Generator":
                # Which RNG made the key is the server's own (the
                # vectors show the reference server's ANSI X9.31).
                if TAGS["RNGAlgorithm"] not in [i[0] for i in val]:
                    raise Mismatch("%s: no RNG Algorithm" % where)
                return
            return self.compare_struct(exp, val, ctx, where)
        if et == "DateTime":
            if not v.startswith("$NOW") and self.date(v) != val:
                raise Mismatch("%s: %d, expected %s" % (where, val, v))
            return
        if et == "TextString":
            if v.startswith("$"):
                self.bind(v, val, where)
            elif v != val and exp.tag not in ("ResultMessage",
                                              "VendorIdentification"):
                raise Mismatch("%s: %r, expected %r" % (where, val, v))
            return
        if et == "ByteString":
            if v.startswith("$"):
                self.bind(v, val, where)
                return self.verify_random(exp.tag, val, ctx, where)
            if bytes.fromhex(v) == val:
                return
            if self.random_ok(exp.tag, bytes.fromhex(v), val, ctx):
                self.bound[v] = val
                return
            raise Mismatch("%s: %s, expected %s" % (where, val.hex(), v))
        if et == "Integer" and exp.tag == "DataLength" and \
                ctx.get("op") == "RNGSeed":
            # How much of a seed it takes is the server's choice.
            seed = ctx["request"].find(".//Data").get("value")
            if not 0 <= val <= len(seed) // 2:
                raise Mismatch("%s: %d of %d bytes" %
                               (where, val, len(seed) // 2))
            return
        if et == "Enumeration":
            want = self.enumval(exp.tag, v, ctx.get("attr"))
        elif et == "Integer":
            want = self.integer(v)
        elif et == "Boolean":
            want = v == "true"
            val = bool(struct.unpack(">Q", val)[0]) if isinstance(
                val, bytes) else bool(val)
        elif et in ("Interval", "LongInteger"):
            want = int(v)
            if isinstance(val, bytes):
                val = int.from_bytes(val, "big")
        else:
            want = bytes.fromhex(v)
        if want != val:
            raise Mismatch("%s: %r, expected %s" % (where, val, v))

    def compare_struct(self, exp, items, ctx, where):
        kids = list(exp)
        ctx = dict(ctx)
        name = [c.get("value") for c in kids if c.tag == "AttributeName"]
        if exp.tag == "Attribute" and name:
            ctx["attr"] = name[0]
        if exp.tag == "ResponsePayload":
            uid = [c.get("value") for c in kids
                   if c.tag == "UniqueIdentifier"]
            if uid:
                ctx["uid_name"] = uid[0]
        if exp.tag in ("ResponseHeader",):
            kids = [c for c in kids if c.tag != "TimeStamp"]
            items = [i for i in items if i[0] != TAGS["TimeStamp"]]
        if exp.tag == "BatchItem":
            # Result Message is free text: its presence varies too.
            kids = [c for c in kids if c.tag != "ResultMessage"]
            items = [i for i in items if i[0] != TAGS["ResultMessage"]]
        if exp.tag == "ResponsePayload" and ctx.get("op") == "Query":
            return self.compare_query(kids, items, where)
        unordered = {"Attribute", "AttributeName"}
        if exp.tag == "ResponsePayload" and ctx.get("op") == "Locate":
            unordered.add("UniqueIdentifier")
        ia = 0
        rest = list(items)
        for c in kids:
            if c.tag in unordered:
                continue
            if ia >= len(rest):
                raise Mismatch("%s: missing %s" % (where, c.tag))
            # Skip what we match unordered.
            while ia < len(rest) and NAMES.get(rest[ia][0]) in unordered:
                ia += 1
            if ia >= len(rest):
                raise Mismatch("%s: missing %s" % (where, c.tag))
            self.compare(c, rest[ia], ctx, where)
            ia += 1
        extra = [NAMES.get(i[0], hex(i[0])) for i in rest[ia:]
                 if NAMES.get(i[0]) not in unordered]
        if extra:
            raise Mismatch("%s: unexpected %s" % (where, ", ".join(extra)))
        for tagname in unordered:
            ek = [c for c in kids if c.tag == tagname]
            ak = [i for i in items if i[0] == TAGS[tagname]]
            self.match_set(ek, ak, ctx, where, tagname)

    def compare_query(self, kids, items, where):
        """What a server supports is its own: it may list more than the
        vector, and less only by what NOT_SERVED says."""
        for tagname in ("Operation", "ObjectType"):
            have = {v for (t, _, v) in items if t == TAGS[tagname]}
            for c in kids:
                if c.tag != tagname or \
                        c.get("value") in NOT_SERVED[tagname]:
                    continue
                if self.enumval(tagname, c.get("value"), None) not in have:
                    raise Mismatch("%s: Query does not list %s %s" %
                                   (where, tagname, c.get("value")))
        if [c for c in kids if c.tag == "VendorIdentification"] and \
                TAGS["VendorIdentification"] not in [t for (t, _, _) in
                                                     items]:
            raise Mismatch("%s: no Vendor Identification" % where)

    def match_set(self, ek, ak, ctx, where, tagname):
        left = list(ak)
        for c in ek:
            for i, a in enumerate(left):
                saved = dict(self.bound)
                try:
                    self.compare(c, a, ctx, where)
                except Mismatch:
                    self.bound = saved
                    continue
                del left[i]
                break
            else:
                if tagname == "AttributeName" and \
                        c.get("value") in SERVER_POLICY:
                    continue
                if tagname == "Attribute" and c.find("AttributeName").get(
                        "value") in SERVER_POLICY:
                    continue
                desc = c.get("value") or "".join(
                    x.get("value") or "" for x in c
                    if x.tag == "AttributeName")
                # Try once more to say why, against a same-named one.
                for a in left:
                    if tagname == "Attribute" and a[2] and \
                            a[2][0][2] == desc:
                        try:
                            self.compare(c, a, ctx, where)
                        except Mismatch as m:
                            raise Mismatch(str(m))
                raise Mismatch("%s: no %s %s" % (where, tagname, desc))
        if left and not ctx.get("extra_ok", False):
            if tagname == "UniqueIdentifier" and ctx.get("op") == "Locate":
                return		# objects of other vectors
            raise Mismatch("%s: %d unexpected %s: %s" % (
                where, len(left), tagname,
                ", ".join(str(a[2][0][2]) if a[1] == 1 else str(a[2])
                          for a in left)))

    def uid(self, ctx):
        n = ctx.get("uid_name")
        return self.bound.get(n) if n else None

    def random_ok(self, tag, want, got, ctx):
        """A byte string differs: is it one a server may choose?"""
        op = ctx.get("op")
        if op == "RNGRetrieve" and tag == "Data":
            return len(want) == len(got)
        if tag == "IVCounterNonce":
            return True
        if tag in SERVER_RANDOM and self.uid(ctx) in self.server_made:
            return True
        if op == "Sign" and tag == "SignatureData":
            return self.verify_random(tag, got, ctx, "") is None
        if op == "Encrypt" and tag in ("Data", "AuthenticatedEncryptionTag"):
            return ctx.get("iv_random", False) or \
                self.uid(ctx) in self.server_made
        return False

    def verify_random(self, tag, got, ctx, where):
        """A random value the vector could not know: check what can be
        checked of it."""
        op, req = ctx.get("op"), ctx.get("request")
        if op == "Sign" and tag == "SignatureData":
            self.verify_signature(got, req, ctx, where)
        if op == "Get" and tag == "KeyValue" and \
                req.find(".//KeyWrappingSpecification") is not None:
            self.verify_wrapped(got, req, where)
        return None

    def verify_wrapped(self, wrapped, req, where):
        """A key wrapped under an AES key of the client's: unwrap it
        with that key (Get of it in the clear) and find a Key Value of
        Key Material as long as the key."""
        from cryptography.hazmat.primitives.keywrap import (
            InvalidUnwrap, aes_key_unwrap, aes_key_unwrap_with_padding)
        kws = req.find(".//KeyWrappingSpecification")
        wid = self.subst(kws.find("EncryptionKeyInformation/"
                                  "UniqueIdentifier").get("value"))
        mode = kws.find(".//BlockCipherMode")
        st, pl = self.call("Get", self.item(TAGS["UniqueIdentifier"], 7,
                                            wid.encode()))
        kek = find_bytes(pl, TAGS["KeyMaterial"]) if st == 0 else None
        if not isinstance(kek, bytes):
            raise Mismatch("%s: the wrapping key %s cannot be read to "
                           "check the wrapped key" % (where, wid))
        try:
            if mode is not None and mode.get("value") == \
                    "AESKeyWrapPadding":
                pt = aes_key_unwrap_with_padding(kek, wrapped)
            else:
                pt = aes_key_unwrap(kek, wrapped)
        except InvalidUnwrap:
            raise Mismatch("%s: the wrapped key does not unwrap" % where)
        try:
            kv = parse(pt)
        except (IndexError, struct.error, UnicodeDecodeError):
            kv = None
        km = find_bytes(kv, TAGS["KeyMaterial"]) if kv and \
            kv[0][0] == TAGS["KeyValue"] else None
        if not isinstance(km, bytes) or len(km) not in (16, 24, 32):
            raise Mismatch("%s: the wrapped data is no Key Value of an "
                           "AES key" % where)

    def verify_signature(self, sig, req, ctx, where):
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, padding
        from cryptography.exceptions import InvalidSignature
        priv = self.uid(ctx)
        pub = self.pubkey_of.get(priv)
        if pub is None:
            return	# nothing to check with; the vector goes on
        st, pl = self.call("Get", self.item(TAGS["UniqueIdentifier"], 7,
                                            pub.encode()) +
                           self.item(TAGS["KeyFormatType"], 5,
                                     struct.pack(">I", 5)))
        if st != 0:
            raise Mismatch("%s: Get of the public key %s failed" %
                           (where, pub))
        der = find_bytes(pl, TAGS["KeyMaterial"])
        key = serialization.load_der_public_key(der)
        p = req.find(".//CryptographicParameters")
        hname = (p.find("HashingAlgorithm").get("value")
                 if p is not None and p.find("HashingAlgorithm") is not None
                 else "SHA_256")
        pad = (p.find("PaddingMethod").get("value")
               if p is not None and p.find("PaddingMethod") is not None
               else "PKCS1_V1_5")
        h = {"SHA_1": hashes.SHA1(), "SHA_224": hashes.SHA224(),
             "SHA_256": hashes.SHA256(), "SHA_384": hashes.SHA384(),
             "SHA_512": hashes.SHA512()}[hname]
        data = bytes.fromhex(self.subst(req.find(".//Data").get("value")))
        try:
            if isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(sig, data, ec.ECDSA(h))
            elif pad == "PSS":
                key.verify(sig, data, padding.PSS(padding.MGF1(h),
                                                  padding.PSS.AUTO), h)
            else:
                key.verify(sig, data, padding.PKCS1v15(), h)
        except InvalidSignature:
            raise Mismatch("%s: the signature does not verify with the "
                           "public key" % where)

    def learn(self, req, resp_items):
        """Note what the server made, and which keys go together."""
        for bi in find_all(resp_items, TAGS["BatchItem"]):
            op = find_int(bi, TAGS["Operation"])
            pl = find_all(bi, TAGS["ResponsePayload"])
            if not pl:
                continue
            pl = pl[0]
            if op in (1, 4, 5):		# Create, Re-key, Derive Key
                u = find_text(pl, TAGS["UniqueIdentifier"])
                if u:
                    self.server_made.add(u)
            elif op in (2, 29):		# Create Key Pair, Re-key Key Pair
                a = find_text(pl, TAGS["PrivateKeyUniqueIdentifier"])
                b = find_text(pl, TAGS["PublicKeyUniqueIdentifier"])
                self.server_made.update((a, b))
                self.pubkey_of[a] = b

    def run(self, path):
        root = ET.parse(path).getroot()
        msgs = list(root)
        n = 0
        for i in range(0, len(msgs) - 1, 2):
            req, exp = msgs[i], msgs[i + 1]
            if req.tag != "RequestMessage" or exp.tag != "ResponseMessage":
                raise Mismatch("message %d: not a request/response pair" %
                               (i // 2))
            n += 1
            self.reencrypt(req, exp)
            items = parse(self.send(self.encode(req)))
            if VERBOSE:
                print("request %d -> %r" % (n, items), flush=True)
            if not items or items[0][0] != TAGS["ResponseMessage"]:
                raise Mismatch("request %d: not a Response Message" % n)
            self.learn(req, items[0][2])
            ebi = [c for c in exp if c.tag == "BatchItem"]
            rbi = [c for c in req if c.tag == "BatchItem"]
            abi = [a for a in items[0][2] if a[0] == TAGS["BatchItem"]]
            if len(ebi) != len(abi):
                raise Mismatch("request %d: %d batch items, expected %d"
                               "%s" % (n, len(abi), len(ebi),
                                       reason_of(abi)))
            self.compare_header(exp, items[0][2], n)
            for k, (e, a) in enumerate(zip(ebi, abi)):
                r = rbi[k] if k < len(rbi) else rbi[0]
                op = r.find("Operation").get("value")
                ctx = {"op": op, "request": r,
                       "iv_random": r.find(".//IVCounterNonce") is None,
                       "extra_ok": op == "GetAttributeList" or (
                           op == "GetAttributes" and
                           r.find("RequestPayload/AttributeName") is None)}
                try:
                    self.compare(e, a, ctx, "request %d %s" % (n, op))
                except Mismatch as m:
                    raise Mismatch(str(m) + reason_of([a]))
        return n

    def reencrypt(self, req, exp):
        """Defective vectors: several Decrypt with a key the server made
        (Create) a ciphertext the reference server made with its own key
        (CS-BC-M-2, -3, ...): no other server can give the plaintext the
        vector expects.  Encrypt that plaintext first with the same key,
        parameters and IV, and send what it gives instead."""
        for bi, ebi in zip(req.findall("BatchItem"),
                           exp.findall("BatchItem")):
            pl = bi.find("RequestPayload")
            if bi.find("Operation").get("value") != "Decrypt" or \
                    pl is None or ebi.find("ResultStatus") is None or \
                    ebi.find("ResultStatus").get("value") != "Success":
                continue
            uid = pl.find("UniqueIdentifier")
            data = pl.find("Data")
            want = ebi.find("ResponsePayload/Data")
            if uid is None or data is None or want is None or \
                    self.bound.get(uid.get("value")) not in \
                    self.server_made or data.get("value") in self.bound \
                    or data.get("value").startswith("$"):
                continue
            body = b""
            for c in pl:
                if c.tag == "Data":
                    c = copy.deepcopy(c)
                    c.set("value", want.get("value"))
                elif c.tag == "AuthenticatedEncryptionTag":
                    continue
                body += self.encode(c)
            st, out = self.call("Encrypt", body)
            ct = find_bytes(out, TAGS["Data"])
            if st != 0 or ct is None:
                raise Mismatch("re-encryption for a Decrypt failed")
            self.bound[data.get("value")] = ct
            tag = pl.find("AuthenticatedEncryptionTag")
            if tag is not None:
                self.bound[tag.get("value")] = find_bytes(
                    out, TAGS["AuthenticatedEncryptionTag"])

    def compare_header(self, exp, items, n):
        h = [a for a in items if a[0] == TAGS["ResponseHeader"]]
        eh = exp.find("ResponseHeader")
        if self.name in WRONG_VERSION:
            eh = copy.deepcopy(eh)
            eh.remove(eh.find("ProtocolVersion"))
            h = [(h[0][0], h[0][1], [i for i in h[0][2]
                                     if i[0] != TAGS["ProtocolVersion"]])]
        if not h:
            raise Mismatch("request %d: no Response Header" % n)
        self.compare(eh, h[0], {}, "request %d" % n)


def find_all(items, tag):
    return [v for (t, _, v) in items if t == tag]


def find_int(items, tag):
    v = find_all(items, tag)
    return v[0] if v else None


find_text = find_int


def find_bytes(items, tag):
    for (t, typ, v) in items:
        if t == tag:
            return v
        if typ == 1:
            r = find_bytes(v, tag)
            if r is not None:
                return r
    return None


def reason_of(abi):
    """Result Reason and Message of a failed item, to say why."""
    for a in abi:
        st = find_int(a[2], TAGS["ResultStatus"])
        if st:
            rr = find_int(a[2], TAGS["ResultReason"])
            rn = [k for (k, v) in ENUMS["ResultReason"].items() if v == rr]
            return " (server: %s %r)" % (rn[0] if rn else rr,
                                         find_text(a[2],
                                                   TAGS["ResultMessage"]))
    return ""


def main():
    if len(sys.argv) < 4:
        print("usage: oasis.py port pki_dir file ...", file=sys.stderr)
        return 2
    global VERBOSE
    port, pki = int(sys.argv[1]), sys.argv[2]
    files = sys.argv[3:]
    enc = None
    if files and files[0] == "-v":
        VERBOSE = True
        files = files[1:]
    if len(files) > 1 and files[0] == "-e":
        enc = files[1]
        files = files[2:]
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for path in files:
        name = os.path.basename(path)
        if name in NOT_CLAIMED:
            res, why = "SKIP", NOT_CLAIMED[name]
        elif name in POLICY:
            res, why = "SKIP", POLICY[name]
        else:
            r = Replay(port, pki, name, ENCODING.get(name, enc))
            try:
                n = r.run(path)
                res, why = "PASS", "%d requests" % n
            except Mismatch as m:
                res, why = "FAIL", str(m)
            except (OSError, ssl.SSLError, socket.timeout) as e:
                res, why = "FAIL", "connection: %s" % e
            finally:
                r.close()
        counts[res] += 1
        print("%s %s: %s" % (res, name, why), flush=True)
    print("summary: %d PASS, %d FAIL, %d SKIP" %
          (counts["PASS"], counts["FAIL"], counts["SKIP"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
