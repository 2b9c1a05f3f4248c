/*
 * The pure parts of signer identity, token selection and the self-test
 * (issue 9): the token matcher with blank padding, the mechanism check
 * with lists of its own, the CKR advice table against every CKR the
 * pkcs11 signer names, the engine's parsers of a signer's identity
 * and check answers, and the pkcs11 signer's DER form of an ECDSA
 * signature against OpenSSL's.
 */
#include <sys/types.h>

#include <atf-c.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/rand.h>

#include "log.h"
#include "hsmproc.h"
#include "p11.h"
#include "p11token.h"

#include "../atfsan.h"

/* hsmproc.c is not linked: its status setter and retry timer. */
void
hsm_status_set(struct hsm *h, enum signer_state state, const char *fmt, ...)
{
	va_list	 ap;

	h->status.state = state;
	va_start(ap, fmt);
	(void)vsnprintf(h->status.detail, sizeof(h->status.detail), fmt, ap);
	va_end(ap);
}

void
hsm_retry_soon(struct hsm *h)
{
}

static struct p11_tokinfo
tok(CK_SLOT_ID slot, const char *label, const char *serial)
{
	struct p11_tokinfo	 t;

	memset(&t, 0, sizeof(t));
	t.slot = slot;
	(void)strlcpy(t.label, label, sizeof(t.label));
	(void)strlcpy(t.serial, serial, sizeof(t.serial));
	return (t);
}

ATF_TC(text);
ATF_TC_HEAD(text, tc)
{
	atf_tc_set_md_var(tc, "descr", "PKCS#11 fixed-width fields lose their "
	    "blank or NUL padding, on both sides");
}
ATF_TC_BODY(text, tc)
{
	char		 out[33];
	CK_UTF8CHAR	 label[32];

	memset(label, ' ', sizeof(label));
	memcpy(label, "signerd", 7);
	p11_text(out, sizeof(out), label, sizeof(label));
	ATF_CHECK_STREQ(out, "signerd");
	memset(label, '\0', sizeof(label));
	memcpy(label, "a b", 3);
	p11_text(out, sizeof(out), label, sizeof(label));
	ATF_CHECK_STREQ(out, "a b");
	/* A serial number some modules pad on the left. */
	p11_text(out, sizeof(out), "      12345678", 14);
	ATF_CHECK_STREQ(out, "12345678");
	memset(label, ' ', sizeof(label));
	p11_text(out, sizeof(out), label, sizeof(label));
	ATF_CHECK_STREQ(out, "");
	/* Longer than the room: cut, terminated. */
	p11_text(out, 4, "abcdefgh", 8);
	ATF_CHECK_STREQ(out, "abc");
}

ATF_TC(match);
ATF_TC_HEAD(match, tc)
{
	atf_tc_set_md_var(tc, "descr", "the token matcher: label, serial and "
	    "slot, each only if given, blanks ignored, all must match");
}
ATF_TC_BODY(match, tc)
{
	struct p11_tokinfo	 t = tok(7, "signerd", "5f3e0a1b2c3d4e5f");

	ATF_CHECK(p11_token_match(&t, "signerd", "", -1));
	ATF_CHECK(p11_token_match(&t, "signerd  ", NULL, -1));
	ATF_CHECK(p11_token_match(&t, " signerd", NULL, -1));
	ATF_CHECK(!p11_token_match(&t, "signer", NULL, -1));
	ATF_CHECK(!p11_token_match(&t, "signerd2", NULL, -1));
	ATF_CHECK(p11_token_match(&t, "", "5f3e0a1b2c3d4e5f", -1));
	ATF_CHECK(p11_token_match(&t, NULL, "5f3e0a1b2c3d4e5f ", -1));
	ATF_CHECK(!p11_token_match(&t, NULL, "5f3e0a1b2c3d4e50", -1));
	ATF_CHECK(p11_token_match(&t, NULL, NULL, 7));
	ATF_CHECK(!p11_token_match(&t, NULL, NULL, 8));
	ATF_CHECK(p11_token_match(&t, "signerd", "5f3e0a1b2c3d4e5f", 7));
	ATF_CHECK(!p11_token_match(&t, "signerd", "5f3e0a1b2c3d4e5f", 6));
	ATF_CHECK(!p11_token_match(&t, "other", "5f3e0a1b2c3d4e5f", 7));
	/* Nothing asked: any token (parse.y requires one of them). */
	ATF_CHECK(p11_token_match(&t, NULL, NULL, -1));
}

ATF_TC(mechs);
ATF_TC_HEAD(mechs, tc)
{
	atf_tc_set_md_var(tc, "descr", "the mechanisms a token lacks, from "
	    "given lists; the check fails only on a needed one");
}
ATF_TC_BODY(mechs, tc)
{
	CK_MECHANISM_TYPE	 have[32], miss[16];
	char			 buf[200];
	size_t			 n, i;

	static const CK_MECHANISM_TYPE need[] = { 1, 2, 3 };
	static const CK_MECHANISM_TYPE some[] = { 3, 9, 1 };

	ATF_CHECK_EQ(p11_mechs_missing(some, 3, need, 3, miss), 1);
	ATF_CHECK_EQ(miss[0], 2);
	ATF_CHECK_EQ(p11_mechs_missing(NULL, 0, need, 3, miss), 3);
	ATF_CHECK_EQ(p11_mechs_missing(some, 3, NULL, 0, miss), 0);

	/* All that signerd uses: passes, names nothing. */
	for (i = 0, n = 0; i < p11_nmechs_needed; i++)
		have[n++] = p11_mechs_needed[i];
	for (i = 0; i < p11_nmechs_optional; i++)
		have[n++] = p11_mechs_optional[i];
	ATF_CHECK_EQ(p11_mechs_report(have, n, buf, sizeof(buf)), 0);
	ATF_CHECK(strstr(buf, "without") == NULL);
	/* Without EdDSA: passes, and says so. */
	for (i = 0; i < n; i++)
		if (have[i] == CKM_EDDSA)
			have[i] = CKM_SHA256;
	ATF_CHECK_EQ(p11_mechs_report(have, n, buf, sizeof(buf)), 0);
	ATF_CHECK(strstr(buf, "without CKM_EDDSA") != NULL);
	/* Without ECDSA: fails, naming it. */
	for (i = 0; i < n; i++)
		if (have[i] == CKM_ECDSA)
			have[i] = CKM_SHA256;
	ATF_CHECK_EQ(p11_mechs_report(have, n, buf, sizeof(buf)), -1);
	ATF_CHECK_STREQ(buf, "lacks CKM_ECDSA");
}

ATF_TC(advice);
ATF_TC_HEAD(advice, tc)
{
	atf_tc_set_md_var(tc, "descr", "every CKR the pkcs11 signer can name "
	    "(p11_rv) has advice in words; the advice is found in a message");
}
ATF_TC_BODY(advice, tc)
{
	CK_RV		 rv;
	const char	*name, *a;
	char		 buf[64];
	int		 named = 0;

	/* The standard values, and the vendor range's first. */
	for (rv = 0; rv <= 0x400; rv++) {
		name = p11_rv(rv);
		if (strncmp(name, "CKR_", 4) != 0)
			continue;
		named++;
		if ((a = p11_advice_of(name)) == NULL)
			atf_tc_fail_nonfatal("no advice for %s", name);
		else
			ATF_CHECK(strlen(a) > 10);
	}
	ATF_CHECK(named >= 40);
	ATF_CHECK(strncmp(p11_rv(CKR_VENDOR_DEFINED), "CKR_", 4) != 0 ||
	    p11_advice_of(p11_rv(CKR_VENDOR_DEFINED)) != NULL);

	a = p11_advice("C_Login on token \"s1\": CKR_PIN_INCORRECT; not "
	    "retrying", buf, sizeof(buf));
	ATF_REQUIRE(a != NULL);
	ATF_CHECK_STREQ(buf, "CKR_PIN_INCORRECT");
	ATF_CHECK(strstr(a, "lock") != NULL);
	a = p11_advice("C_GetSlotList: CKR_TOKEN_NOT_PRESENT", buf,
	    sizeof(buf));
	ATF_REQUIRE(a != NULL);
	ATF_CHECK(strstr(a, "pkcs11-tool --module MODULE -L") != NULL);
	ATF_CHECK(p11_advice("no error here", buf, sizeof(buf)) == NULL);
	ATF_CHECK(p11_advice("CKR_NO_SUCH_THING", buf, sizeof(buf)) == NULL);
	ATF_CHECK(p11_advice("CKR_PIN_INCORRECT", buf, 4) == NULL);
}

/* An identity answer: record, blob, spki, sig. */
static size_t
ident_msg(uint8_t *buf, int32_t status, int32_t which, uint32_t kind,
    size_t lb, size_t ls, size_t lg)
{
	struct hsm_identity_result	 r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.which = which;
	r.kind = kind;
	(void)strlcpy(r.msg, "m", sizeof(r.msg));
	r.len_blob = lb;
	r.len_spki = ls;
	r.len_sig = lg;
	memcpy(buf, &r, sizeof(r));
	memset(buf + sizeof(r), 'x', lb + ls + lg);
	return (sizeof(r) + lb + ls + lg);
}

ATF_TC(identity_parse);
ATF_TC_HEAD(identity_parse, tc)
{
	atf_tc_set_md_var(tc, "descr", "the engine's parser of a signer's "
	    "answer to the identity challenge takes only well-formed ones");
}
ATF_TC_BODY(identity_parse, tc)
{
	static uint8_t			 buf[16384];
	struct hsm_identity_result	 r;
	const uint8_t			*b, *s, *g;
	size_t				 len;

	/* A new key: blob, spki, sig. */
	len = ident_msg(buf, 0, -1, HSM_KEY_EC_P256, 20, 91, 72);
	ATF_CHECK_EQ(hsm_identity_parse(buf, len, 0, &r, &b, &s, &g), 0);
	ATF_CHECK(b == buf + sizeof(r) && s == b + 20 && g == s + 91);
	/* One byte more or less. */
	ATF_CHECK_EQ(hsm_identity_parse(buf, len - 1, 0, &r, &b, &s, &g), -1);
	ATF_CHECK_EQ(hsm_identity_parse(buf, len + 1, 0, &r, &b, &s, &g), -1);
	ATF_CHECK_EQ(hsm_identity_parse(buf, 3, 0, &r, &b, &s, &g), -1);
	ATF_CHECK_EQ(hsm_identity_parse(NULL, 0, 0, &r, &b, &s, &g), -1);
	/* A new key of a kind no identity key is. */
	len = ident_msg(buf, 0, -1, HSM_KEY_AES, 20, 91, 72);
	ATF_CHECK_EQ(hsm_identity_parse(buf, len, 0, &r, &b, &s, &g), -1);
	/* A new key without its public half, or no signature. */
	len = ident_msg(buf, 0, -1, HSM_KEY_RSA, 20, 0, 72);
	ATF_CHECK_EQ(hsm_identity_parse(buf, len, 0, &r, &b, &s, &g), -1);
	len = ident_msg(buf, 0, -1, HSM_KEY_RSA, 20, 91, 0);
	ATF_CHECK_EQ(hsm_identity_parse(buf, len, 0, &r, &b, &s, &g), -1);
	/* An offered key: only a signature, and an index offered. */
	len = ident_msg(buf, 0, 1, 0, 0, 0, 72);
	ATF_CHECK_EQ(hsm_identity_parse(buf, len, 2, &r, &b, &s, &g), 0);
	ATF_CHECK(b == NULL && s == NULL && g == buf + sizeof(r));
	ATF_CHECK_EQ(hsm_identity_parse(buf, len, 1, &r, &b, &s, &g), -1);
	ATF_CHECK_EQ(hsm_identity_parse(buf, len, 99, &r, &b, &s, &g), -1);
	len = ident_msg(buf, 0, -2, 0, 0, 0, 72);
	ATF_CHECK_EQ(hsm_identity_parse(buf, len, 2, &r, &b, &s, &g), -1);
	len = ident_msg(buf, 0, 0, 0, 5, 0, 72);
	ATF_CHECK_EQ(hsm_identity_parse(buf, len, 2, &r, &b, &s, &g), 0);
	ATF_CHECK(b == buf + sizeof(r) && s == NULL && g == b + 5);
	len = ident_msg(buf, 0, 0, 0, 0, 5, 72);
	ATF_CHECK_EQ(hsm_identity_parse(buf, len, 2, &r, &b, &s, &g), -1);
	/* Over a bound. */
	len = ident_msg(buf, 0, 0, 0, 0, 0, HSM_IDENT_SIG_MAX + 1);
	ATF_CHECK_EQ(hsm_identity_parse(buf, len, 2, &r, &b, &s, &g), -1);
	/* An error has no parts; its message is terminated. */
	len = ident_msg(buf, KMIP_REASON_ITEM_NOT_FOUND, 0, 0, 0, 0, 0);
	memset(buf + offsetof(struct hsm_identity_result, msg), 'A',
	    HSM_MSG_MAX);
	ATF_CHECK_EQ(hsm_identity_parse(buf, len, 1, &r, &b, &s, &g), 0);
	ATF_CHECK_EQ(strlen(r.msg), HSM_MSG_MAX - 1);
	len = ident_msg(buf, KMIP_REASON_ITEM_NOT_FOUND, 0, 0, 0, 0, 3);
	ATF_CHECK_EQ(hsm_identity_parse(buf, len, 1, &r, &b, &s, &g), -1);
}

ATF_TC(check_parse);
ATF_TC_HEAD(check_parse, tc)
{
	atf_tc_set_md_var(tc, "descr", "the engine's parser of a signer's "
	    "self-test answer: bounded steps, known results, clean text");
}
ATF_TC_BODY(check_parse, tc)
{
	struct ctl_check	 cc, out;

	memset(&cc, 0, sizeof(cc));
	cc.nsteps = 2;
	(void)strlcpy(cc.steps[0].name, "login", sizeof(cc.steps[0].name));
	cc.steps[0].result = CHECK_PASS;
	(void)strlcpy(cc.steps[1].name, "sign", sizeof(cc.steps[1].name));
	cc.steps[1].result = CHECK_FAIL;
	(void)strlcpy(cc.steps[1].detail, "C_Sign: CKR_DEVICE_ERROR",
	    sizeof(cc.steps[1].detail));
	/* Left over beyond the steps: cleared. */
	(void)strlcpy(cc.steps[5].detail, "junk", sizeof(cc.steps[5].detail));
	ATF_CHECK_EQ(hsm_check_parse((uint8_t *)&cc, sizeof(cc), &out), 0);
	ATF_CHECK_EQ(out.nsteps, 2);
	ATF_CHECK_STREQ(out.steps[5].detail, "");
	ATF_CHECK_EQ(hsm_check_parse((uint8_t *)&cc, sizeof(cc) - 1, &out),
	    -1);
	cc.nsteps = HSM_CHECK_STEPS + 1;
	ATF_CHECK_EQ(hsm_check_parse((uint8_t *)&cc, sizeof(cc), &out), -1);
	cc.nsteps = 2;
	cc.steps[1].result = 0;
	ATF_CHECK_EQ(hsm_check_parse((uint8_t *)&cc, sizeof(cc), &out), -1);
	cc.steps[1].result = CHECK_SKIP;
	cc.steps[1].detail[3] = '\n';
	ATF_CHECK_EQ(hsm_check_parse((uint8_t *)&cc, sizeof(cc), &out), -1);
	cc.steps[1].detail[3] = 'x';
	memset(cc.steps[0].name, 'n', sizeof(cc.steps[0].name));
	ATF_CHECK_EQ(hsm_check_parse((uint8_t *)&cc, sizeof(cc), &out), -1);
	cc.steps[0].name[0] = '\0';
	ATF_CHECK_EQ(hsm_check_parse((uint8_t *)&cc, sizeof(cc), &out), -1);
	(void)strlcpy(cc.steps[0].name, "login", sizeof(cc.steps[0].name));
	(void)strlcpy(cc.signer, "s1", sizeof(cc.signer));
	ATF_CHECK_EQ(hsm_check_parse((uint8_t *)&cc, sizeof(cc), &out), -1);
}

/* i2d_ECDSA_SIG of r || s, the reference the hand-made form must equal. */
static int
der_ref(const uint8_t *rs, size_t len, uint8_t *out)
{
	ECDSA_SIG	*es;
	BIGNUM		*r, *s;
	unsigned char	*q = out;
	int		 n;

	ATF_REQUIRE((es = ECDSA_SIG_new()) != NULL);
	ATF_REQUIRE((r = BN_bin2bn(rs, len / 2, NULL)) != NULL);
	ATF_REQUIRE((s = BN_bin2bn(rs + len / 2, len / 2, NULL)) != NULL);
	ATF_REQUIRE(ECDSA_SIG_set0(es, r, s) == 1);
	ATF_REQUIRE((n = i2d_ECDSA_SIG(es, NULL)) > 0 &&
	    n <= P11_ECDSA_DER_MAX);
	ATF_REQUIRE(i2d_ECDSA_SIG(es, &q) == n);
	ECDSA_SIG_free(es);
	return (n);
}

ATF_TC_WITHOUT_HEAD(ecdsa_der);
ATF_TC_BODY(ecdsa_der, tc)
{
	static const size_t	 halves[] = { 32, 48, 66, 1 };
	uint8_t			 rs[2 * P11_ECDSA_HALF_MAX];
	uint8_t			 got[P11_ECDSA_DER_MAX + 16];
	uint8_t			 want[P11_ECDSA_DER_MAX];
	size_t			 h, n, len, i, k;
	int			 round;

	for (k = 0; k < sizeof(halves) / sizeof(halves[0]); k++) {
		h = halves[k];
		len = 2 * h;
		for (round = 0; round < 200; round++) {
			ATF_REQUIRE(RAND_bytes(rs, len) == 1);
			/* Leading zeros, a high first bit, a zero half. */
			switch (round % 5) {
			case 1:
				memset(rs, 0, round % h + 1);
				break;
			case 2:
				rs[0] |= 0x80;
				rs[h] |= 0x80;
				break;
			case 3:
				memset(rs + h, 0, h);
				break;
			case 4:
				memset(rs, 0, h - 1);
				rs[h - 1] = 0x80;
				break;
			}
			memset(got, 0xa5, sizeof(got));
			n = p11_ecdsa_der_encode(rs, len, got);
			ATF_REQUIRE_EQ(n, (size_t)der_ref(rs, len, want));
			ATF_REQUIRE(memcmp(got, want, n) == 0);
			for (i = n; i < sizeof(got); i++)
				ATF_REQUIRE_EQ(got[i], 0xa5);
		}
	}
	/* P-521's longest form takes the long length. */
	memset(rs, 0xff, sizeof(rs));
	n = p11_ecdsa_der_encode(rs, sizeof(rs), got);
	ATF_REQUIRE_EQ(n, (size_t)P11_ECDSA_DER_MAX);
	ATF_REQUIRE(got[1] == 0x81 && got[2] == P11_ECDSA_DER_MAX - 3);
	/* Not two halves, or longer than P-521's. */
	ATF_REQUIRE_EQ(p11_ecdsa_der_encode(rs, 0, got), 0);
	ATF_REQUIRE_EQ(p11_ecdsa_der_encode(rs, 63, got), 0);
	ATF_REQUIRE_EQ(p11_ecdsa_der_encode(rs, sizeof(rs) + 2, got), 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, text);
	ATF_TP_ADD_TC(tp, match);
	ATF_TP_ADD_TC(tp, mechs);
	ATF_TP_ADD_TC(tp, advice);
	ATF_TP_ADD_TC(tp, identity_parse);
	ATF_TP_ADD_TC(tp, check_parse);
	ATF_TP_ADD_TC(tp, ecdsa_der);
	return (atf_no_error());
}
