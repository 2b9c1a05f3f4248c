/*
 * What the engine asks of a signer child, and what comes back.
 *
 * Every request carries the engine's request id in the imsg peerid; the
 * answer (IMSG_HSM_RESULT) carries the same id.  Variable parts follow
 * the fixed record in the order of their length fields, and the lengths
 * must add up to the payload exactly: the receiver checks.
 *
 * Key material crosses this channel only wrapped (by the signer's
 * key-encryption key) or public; plaintext secrets leave the signer only
 * for HSM_OP_EXPORT of a symmetric key or secret data the engine found
 * extractable (never a private key: the signer refuses), and enter it
 * only as a Register'ed key on its way in, once, to be wrapped.  A
 * private key is parsed by the signer alone: the engine forwards the
 * client's bytes untouched (HSM_KEY_PRIVATE), wipes its copies, and
 * learns the key's algorithm and size from the public half the signer
 * answers.
 *
 * For a pkcs11 signer the "wrapped blob" is a reference to the token
 * objects, "p11" | version | CKA_ID (version 2 for an adopted key, with
 * flags and the CKA_ID's length): the key itself never leaves the token
 * (hsmproc/p11key.c).
 */
#ifndef HSMMSG_H
#define HSMMSG_H

#include <stddef.h>
#include <stdint.h>

#define HSM_ID_MAX		64	/* object id, with the NUL */
#define HSM_LABEL_MAX		256	/* a token key's CKA_LABEL, with NUL */
#define HSM_MSG_MAX		128
#define HSM_DATA_MAX		(1024 * 1024)
#define HSM_SALT_MAX		1024	/* PSS salt, bytes: RSA-8192 */

enum hsm_key_kind {
	HSM_KEY_AES = 1,
	HSM_KEY_HMAC_SHA256,
	HSM_KEY_HMAC_SHA384,
	HSM_KEY_HMAC_SHA512,
	HSM_KEY_RSA,
	HSM_KEY_EC_P256,
	HSM_KEY_EC_P384,
	HSM_KEY_EC_P521,
	HSM_KEY_ED25519,
	HSM_KEY_SECRET,		/* Secret Data: opaque, no operations */
	HSM_KEY_PRIVATE,	/* import only: a private key, the signer
				   finds out which kind */
	HSM_KEY_DES3		/* Triple DES, 24 bytes with parity: made,
				   kept and given back (the Symmetric Key
				   Foundry profile), used for nothing */
};

/* struct hsm_import format: how the key bytes are encoded. */
#define HSM_FMT_RAW		0	/* AES, HMAC, secret data */
#define HSM_FMT_PKCS8		1	/* DER PrivateKeyInfo */
#define HSM_FMT_DER		2	/* DER PKCS#8, PKCS#1 or SEC1 */

enum hsm_op_kind {
	HSM_OP_SIGN = 1,	/* private key; data = the whole message */
	HSM_OP_VERIFY,		/* public key (SPKI DER); sig */
	HSM_OP_ENCRYPT,		/* AES-GCM (secret) or RSA (public SPKI) */
	HSM_OP_DECRYPT,		/* AES-GCM (secret) or RSA (private) */
	HSM_OP_MAC,		/* HMAC: an HMAC key with its hash, or an AES
				   or Triple DES key with hash (the engine
				   found MAC in its usage mask) */
	HSM_OP_MAC_VERIFY,
	HSM_OP_EXPORT,		/* symmetric or secret data only: out1 = raw */
	HSM_OP_DESTROY,		/* a token key (key = reference): its private
				   or secret object goes from the token */
	HSM_OP_DESTROY_PUBLIC,	/* a token key pair's public object (key =
				   SubjectPublicKeyInfo) goes */
	HSM_OP_WRAP,		/* Get with a Key Wrapping Specification:
				   out1 = the key wrapped (below) */
	HSM_OP_STREAM_END	/* stream stream_id is dropped (no parts) */
};

/* struct hsm_op flags */
#define HSM_OPF_PREHASHED	0x01	/* sign, verify: data is the digest */
#define HSM_OPF_SALT_LEN	0x02	/* PSS: salt_len is given */
#define HSM_OPF_TTLV		0x04	/* wrap: the TTLV Key Value */
#define HSM_OPF_STREAM		0x08	/* a part of stream stream_id */
#define HSM_OPF_INIT		0x10	/* its first part: opens it */
#define HSM_OPF_FINAL		0x20	/* its last part: closes it */
#define HSM_OPF_FLAGS		(HSM_OPF_PREHASHED | HSM_OPF_SALT_LEN | \
				    HSM_OPF_TTLV | HSM_OPF_STREAM | \
				    HSM_OPF_INIT | HSM_OPF_FINAL)

/*
 * Streams (KMIP 1.3 Init Indicator, Correlation Value, Final
 * Indicator): AES Encrypt or Decrypt by parts, in the software signer
 * alone, in the cipher context the stream keeps there.  The engine
 * names a stream by stream_id (never 0, never used twice by one engine)
 * and keeps the client's Correlation Value to itself.  The first part
 * (HSM_OPF_STREAM | HSM_OPF_INIT) is a whole request: key, iv, aad and
 * the parameters, which hold for the whole stream; the later parts
 * carry data only, and the last (HSM_OPF_FINAL) of a GCM decryption
 * the tag in sig.  Each answer has out1 = what the part gave; the
 * first part of an encryption out2 = the iv if the signer made it; the
 * last part of a GCM encryption out3 = the tag.  A GCM decryption
 * holds its plaintext back until the last part has verified the tag,
 * at most HSM_STREAM_HOLD bytes: nothing unauthenticated leaves the
 * signer.  A part that fails ends its stream.  HSM_OP_STREAM_END drops
 * a stream; the engine does not wait for its answer.  A signer keeps
 * at most HSM_STREAM_MAX streams and drops by itself one idle for
 * twice HSM_STREAM_IDLE seconds, in case the engine's end was lost
 * (the engine ends them after HSM_STREAM_IDLE).
 */
#define HSM_STREAM_MAX		32
#define HSM_STREAM_IDLE		20
#define HSM_STREAM_HOLD		(64 * 1024)

/* enum hsm_padding */
#define HSM_PAD_NONE		0
#define HSM_PAD_PKCS1V15	1
#define HSM_PAD_PSS		2
#define HSM_PAD_OAEP		3
#define HSM_PAD_PKCS5		4	/* AES ECB and CBC */

/*
 * struct hsm_op mode, the block cipher mode of AES encryption: GCM
 * unless told otherwise.  A pkcs11 signer does GCM only (the engine
 * sends it nothing else, hsm_gcm_check refuses the rest); the software
 * signer also ECB and CBC (padding none or PKCS5) and CTR, where the iv
 * is a 16-byte block, made by the signer on encryption when not given.
 */
#define HSM_MODE_GCM		0
#define HSM_MODE_ECB		1
#define HSM_MODE_CBC		2
#define HSM_MODE_CTR		3
#define HSM_MODE_KW		4	/* wrap: RFC 3394 (NIST Key Wrap) */
#define HSM_MODE_KWP		5	/* wrap: RFC 5649 (with padding) */

/* enum hsm_hash */
#define HSM_HASH_NONE		0
#define HSM_HASH_SHA256		1
#define HSM_HASH_SHA384		2
#define HSM_HASH_SHA512		3
#define HSM_HASH_SHA1		4	/* OAEP and its MGF1, verify */

/*
 * IMSG_HSM_GENERATE: make a key.  No variable part.  A pkcs11 signer
 * labels the private or secret key label and the public half pub_label
 * (CKA_LABEL: the KMIP Name, or the object id); empty: the id.
 */
struct hsm_generate {
	char		 id[HSM_ID_MAX];	/* the object id it gets */
	uint32_t	 kind;			/* enum hsm_key_kind */
	uint32_t	 bits;			/* AES, HMAC, RSA, secret */
	char		 label[HSM_LABEL_MAX];
	char		 pub_label[HSM_LABEL_MAX];
};

/*
 * IMSG_HSM_IMPORT: wrap a key given in the clear (Register).  Followed by
 * the key: raw bytes for AES, HMAC and secret data, DER for a private
 * key (format).  A private key is sent as kind HSM_KEY_PRIVATE: the
 * signer parses it, checks it is a kind it supports, and wraps it under
 * that kind; the answer has the SubjectPublicKeyInfo in out2.
 */
struct hsm_import {
	char		 id[HSM_ID_MAX];
	uint32_t	 kind;
	uint32_t	 format;		/* HSM_FMT_* */
	uint32_t	 len_key;
};

/*
 * IMSG_HSM_OP: one operation.  Followed by key, data, iv, aad, sig,
 * label, in that order.  key is the wrapped blob for secret and private
 * keys, the DER SubjectPublicKeyInfo for public-key operations (verify,
 * RSA encrypt).  For AES-GCM, iv empty on encrypt means "make one"; sig
 * is the tag on decrypt.  For verify and MAC verify, sig is what to
 * check.  label is the OAEP label (KMIP 1.4 P Source), empty for none.
 *
 * With HSM_OPF_PREHASHED (KMIP 1.4 Digested Data) data is the digest of
 * the message under hash, and must be as long as that hash; Ed25519 has
 * no such form.  salt_len is the PSS salt if HSM_OPF_SALT_LEN is set
 * (else: as long as the hash), mgf_hash the MGF1 hash of PSS and OAEP
 * (HSM_HASH_NONE: the same as hash).
 *
 * HSM_OP_WRAP (Get with a Key Wrapping Specification) wraps the key
 * whose blob is key (kind: a symmetric key or secret data, never a
 * private key) under the key of object wrap_id in the same signer, in
 * data: its blob if wrap_kind is HSM_KEY_AES (mode HSM_MODE_KW or
 * HSM_MODE_KWP), its SubjectPublicKeyInfo if HSM_KEY_RSA (padding
 * HSM_PAD_OAEP, hash, mgf_hash, label).  What is wrapped is the key's
 * bytes, or with HSM_OPF_TTLV the TTLV Key Value structure holding them
 * as Key Material followed by aad, the TTLV Attribute items the client
 * asked for (a multiple of 8 bytes, made by the engine).
 */
struct hsm_op {
	char		 id[HSM_ID_MAX];	/* the key's object id (cache) */
	uint32_t	 op;			/* enum hsm_op_kind */
	uint32_t	 kind;			/* enum hsm_key_kind */
	uint32_t	 padding;		/* HSM_PAD_* */
	uint32_t	 hash;			/* HSM_HASH_*; PSS/OAEP too */
	uint32_t	 tag_len;		/* AES-GCM tag, 12..16 */
	uint32_t	 flags;			/* HSM_OPF_* */
	uint32_t	 salt_len;		/* PSS, HSM_OPF_SALT_LEN */
	uint32_t	 mgf_hash;		/* HSM_HASH_*: PSS, OAEP MGF1 */
	uint32_t	 len_key;
	uint32_t	 len_data;
	uint32_t	 len_iv;
	uint32_t	 len_aad;
	uint32_t	 len_sig;
	uint32_t	 len_label;
	uint32_t	 mode;			/* HSM_MODE_*: AES */
	uint32_t	 wrap_kind;		/* HSM_OP_WRAP: enum */
	char		 wrap_id[HSM_ID_MAX];	/* hsm_key_kind, object */
	uint32_t	 stream_id;		/* streams (above) */
};

/* struct hsm_label key_class */
#define HSM_CLASS_PRIVATE	1	/* or secret: key = reference */
#define HSM_CLASS_PUBLIC	2	/* key = SubjectPublicKeyInfo */

/*
 * IMSG_HSM_LABEL: a token key's CKA_LABEL becomes label (its KMIP Name
 * changed), a metadata change the token makes on sensitive and
 * non-extractable keys too.  Followed by the key: the reference of a
 * private or secret key, the SubjectPublicKeyInfo of a public one.  The
 * answer has no out parts.
 */
struct hsm_label {
	char		 id[HSM_ID_MAX];
	uint32_t	 kind;			/* enum hsm_key_kind */
	uint32_t	 key_class;		/* HSM_CLASS_* */
	char		 label[HSM_LABEL_MAX];	/* NUL-terminated, not empty */
	uint32_t	 len_key;
};

/*
 * IMSG_HSM_RESULT.  status 0 on success, else a KMIP Result Reason
 * (e.g. Cryptographic Failure, Invalid Field) with a message.  Followed
 * by out1, out2:
 *   generate, import: out1 = wrapped blob (empty for public keys),
 *	out2 = public key DER (SubjectPublicKeyInfo) for key pairs,
 *	out3 = the SHA-256 of the key in the clear (raw, or the private
 *	key's DER: PKCS#1 for RSA, SEC1 for EC, PKCS#8 for Ed25519) when
 *	the signer can tell, for the Digest attribute;
 *   sign, mac, decrypt, export, wrap: out1 = result;
 *   encrypt: out1 = ciphertext, out2 = the iv it used, out3 = GCM tag;
 *   verify, mac verify: status 0 and valid says whether it matched.
 */
struct hsm_result {
	int32_t		 status;
	int32_t		 valid;
	char		 msg[HSM_MSG_MAX];
	uint32_t	 len_out1;
	uint32_t	 len_out2;
	uint32_t	 len_out3;
};

/*
 * IMSG_HSM_FIND (pkcs11 signers): the keys already in the token whose
 * CKA_LABEL (by HSM_FIND_LABEL) or CKA_ID (HSM_FIND_ID) is value, to be
 * adopted.  No variable part.  Nothing in the token is changed.
 *
 * The answer (IMSG_HSM_RESULT, status 0 even if nothing matched) has
 * out1 = n struct hsm_found, one per private or secret key object that
 * matched (a public object is folded into the private key with its
 * CKA_ID), n <= HSM_FIND_MAX, and out2 = their SubjectPublicKeyInfos
 * one after the other, at spki_off/spki_len of each record.  The engine
 * checks all of it (hsm_found_parse) and decides: one usable match is
 * adopted, several are an error listing them, never a guess.
 */
#define HSM_FIND_LABEL		1
#define HSM_FIND_ID		2
#define HSM_FIND_VALUE_MAX	128	/* a label or CKA_ID we look for */
#define HSM_FIND_MAX		16	/* matches answered */
#define HSM_CKID_MAX		64
#define HSM_REF_MAX		(6 + HSM_CKID_MAX)
#define HSM_REF_VERSION2	2	/* "p11" | 2 | flags | n | CKA_ID */
#define HSM_REF_ADOPTED		0x01	/* flag: found in the token */

struct hsm_find {
	char		 id[HSM_ID_MAX];	/* "hsm::<slot>::<label>": the
						   token must be in that slot;
						   else empty */
	uint32_t	 by;			/* HSM_FIND_* */
	uint32_t	 len;			/* of value */
	uint8_t		 value[HSM_FIND_VALUE_MAX];
};

/* struct hsm_found flags */
#define HSM_FOUND_PUBOBJ	0x01	/* a public key object exists */
#define HSM_FOUND_SIGN		0x02	/* CKA_SIGN */
#define HSM_FOUND_DECRYPT	0x04	/* CKA_DECRYPT */
#define HSM_FOUND_ENCRYPT	0x08	/* CKA_ENCRYPT (secret keys) */
#define HSM_FOUND_VERIFY	0x10	/* CKA_VERIFY (secret keys) */
#define HSM_FOUND_MORE		0x20	/* more matches than answered */

/* struct hsm_found class */
#define HSM_CLASS_PRIVATE	1
#define HSM_CLASS_SECRET	2

struct hsm_found {
	uint32_t	 class;			/* HSM_CLASS_* */
	uint32_t	 kind;			/* enum hsm_key_kind; 0: none */
	uint32_t	 bits;			/* RSA modulus, curve, AES */
	uint32_t	 key_type;		/* CKK_*, for the listing */
	uint32_t	 flags;			/* HSM_FOUND_* */
	uint32_t	 len_ckid;		/* 0: the object has none */
	uint8_t		 ckid[HSM_CKID_MAX];
	uint32_t	 len_label;
	char		 label[HSM_FIND_VALUE_MAX];	/* not terminated */
	uint32_t	 len_ref;		/* 0: cannot be adopted */
	uint8_t		 ref[HSM_REF_MAX];	/* the key reference */
	uint32_t	 spki_off;		/* in out2 */
	uint32_t	 spki_len;		/* 0: no public key to give */
	char		 why[96];		/* why not, if len_ref or
						   spki_len is 0 */
};

/*
 * The KEK channel (IMSG_SOCKET_KEK): an openssl signer with `wrap with`
 * asks the pkcs11 signer it names to wrap and unwrap its keys under an
 * AES-256 key that never leaves the token.  Each side learns from the
 * parent, never from the other, which signer is at the far end.
 *
 * IMSG_KEK_WRAP and IMSG_KEK_UNWRAP carry struct hsm_kek and len_data
 * bytes: the key in the clear to wrap, or iv | ciphertext | tag to
 * unwrap.  With HSM_KEK_CHECK (IMSG_KEK_WRAP only, no data) the token
 * makes its key if it has none and answers the check value instead.
 * The answer, IMSG_KEK_RESULT with the same peerid, is struct
 * hsm_kek_result and len_out bytes: iv | ciphertext | tag, the key in
 * the clear, or the check value.
 */
#define HSM_KEK_CHECK		0x1
#define HSM_KEK_IV_LEN		12
#define HSM_KEK_TAG_LEN		16
#define HSM_KEK_CV_LEN		8
#define HSM_KEK_CV_AAD		"signerd KEK check value"

struct hsm_kek {
	char		 id[HSM_ID_MAX];	/* the object the key is of */
	uint32_t	 kind;			/* enum hsm_key_kind */
	uint32_t	 flags;			/* HSM_KEK_CHECK */
	uint32_t	 len_data;
};

struct hsm_kek_result {
	int32_t		 status;		/* 0 or a KMIP Result Reason */
	char		 msg[HSM_MSG_MAX];
	uint32_t	 len_out;
};

/*
 * IMSG_KEK_CHECK, openssl hsm <-> engine: the check values of the
 * signer's key-encryption keys (never the keys), HSM_KEK_CV_LEN bytes
 * each, for the engine to compare with those the keystore recorded
 * the first time; the engine answers with the same record, status 0
 * (recorded or equal) or -1 and msg saying what differs.
 */
#define KEK_CHECK_FILE		0x1	/* file_cv is set */
#define KEK_CHECK_HSM		0x2	/* hsm_cv is set */

struct kek_check {
	uint32_t	 flags;
	uint8_t		 file_cv[HSM_KEK_CV_LEN];
	uint8_t		 hsm_cv[HSM_KEK_CV_LEN];
	int32_t		 status;
	char		 msg[256];
};

/*
 * IMSG_HSM_REWRAP, engine -> openssl hsm: struct hsm_kek (id, kind,
 * len_data) and a version 1 blob; answered with IMSG_HSM_RESULT, out1
 * the same key wrapped under the HSM key (version 2).
 */

/*
 * IMSG_HSM_IDENTITY, engine -> hsm: prove the signer's identity (see
 * design.md, "Signer identity").  The engine sends a fresh random
 * challenge and the identity keys it recorded that this signer may
 * hold (its own, or an unconfigured signer's, for a rename), n blobs
 * one after the other; the signer signs HSM_IDENT_DOMAIN | challenge
 * with the first that works (SHA-256; ECDSA, or RSA PKCS#1 v1.5).
 * If none does and HSM_IDENT_CREATE is set, it makes a key for the
 * purpose (never extractable) and signs with that.
 *
 * The answer, IMSG_HSM_IDENTITY with the same peerid, is struct
 * hsm_identity_result and blob, spki, sig: which is the index of the
 * blob that signed, or -1 for a new key, whose kind, blob (wrapped or
 * a token reference) and SubjectPublicKeyInfo come with it.  With an
 * offered key, a blob is that key wrapped anew (an openssl signer that
 * moved from a kek file to `wrap with'), to be recorded instead.  The
 * engine checks it all (hsm_identity_parse) and verifies the signature
 * with the public key it recorded: it never trusts the answer's.
 */
#define HSM_IDENT_CREATE	0x1
#define HSM_IDENT_MAX		4		/* keys tried per request */
#define HSM_IDENT_CHALLENGE	32
#define HSM_IDENT_DOMAIN	"signerd signer identity v1"
#define HSM_IDENT_ID		"signerd-identity"	/* id and label */
#define HSM_IDENT_BLOB_MAX	4096
#define HSM_IDENT_SPKI_MAX	4096
#define HSM_IDENT_SIG_MAX	1024

struct hsm_identity {
	uint32_t	 flags;			/* HSM_IDENT_CREATE */
	uint8_t		 challenge[HSM_IDENT_CHALLENGE];
	uint32_t	 n;			/* <= HSM_IDENT_MAX */
	uint32_t	 kind[HSM_IDENT_MAX];	/* enum hsm_key_kind */
	uint32_t	 len[HSM_IDENT_MAX];
};

struct hsm_identity_result {
	int32_t		 status;		/* 0 or a KMIP reason */
	int32_t		 which;			/* -1: a new key */
	uint32_t	 kind;			/* of a new key */
	char		 msg[HSM_MSG_MAX];
	uint32_t	 len_blob;
	uint32_t	 len_spki;
	uint32_t	 len_sig;
};

/*
 * IMSG_HSM_CHECK, engine -> hsm, no payload: the self-test (signerctl
 * check).  The answer, IMSG_HSM_CHECK with the same peerid, is a
 * struct ctl_check (signerd.h) with signer "" and at most
 * HSM_CHECK_STEPS steps: the engine adds one of its own (identity).
 */
#define HSM_CHECK_STEPS		(CHECK_STEPS_MAX - 1)

/*
 * IMSG_HSM_OPS, engine -> hsm: requests the engine made ready in one
 * turn for one signer, up to HSM_MULTI_MAX of them, in one message: one
 * wakeup and one read instead of one each.  The payload is records one
 * after the other, each a struct hsm_rec (type: IMSG_HSM_OP, _GENERATE,
 * _IMPORT, _FIND or _LABEL, hsm_multi_type_ok; any other type goes
 * alone; id: what would have been the imsg's peerid;
 * len) and the len bytes the message of that type would have carried.
 * IMSG_HSM_RESULTS, hsm -> engine: the answers the signer made together,
 * the same way, each record's type IMSG_HSM_RESULT and its bytes those
 * of one IMSG_HSM_RESULT.  Either is taken apart by hsm_multi_next with
 * every length checked against what is left; nothing after a malformed
 * record is trusted.
 */
#define HSM_MULTI_MAX		64

struct hsm_rec {
	uint32_t	 type;
	uint32_t	 id;
	uint32_t	 len;
};

/* kmip_names.c */
const char	*hsm_kind_name(uint32_t);
int	 hsm_kind_of(uint32_t, int32_t, uint32_t *);

/* hsmmsg.c */
int	hsm_result_parse(const uint8_t *, size_t, struct hsm_result *,
	    const uint8_t **, const uint8_t **, const uint8_t **);
int	hsm_found_parse(const uint8_t *, size_t, const uint8_t *, size_t,
	    struct hsm_found *, size_t, size_t *);
int	hsm_kek_parse(const uint8_t *, size_t, struct hsm_kek *,
	    const uint8_t **);
int	hsm_kek_result_parse(const uint8_t *, size_t,
	    struct hsm_kek_result *, const uint8_t **);
int	hsm_identity_parse(const uint8_t *, size_t, uint32_t,
	    struct hsm_identity_result *, const uint8_t **,
	    const uint8_t **, const uint8_t **);
struct ctl_check;
int	hsm_check_parse(const uint8_t *, size_t, struct ctl_check *);
int	hsm_multi_next(const uint8_t **, size_t *, struct hsm_rec *,
	    const uint8_t **);
int	hsm_multi_type_ok(uint32_t);
int	hsm_op_stream_ok(uint32_t, uint32_t, uint32_t, size_t);

#endif /* HSMMSG_H */
