/*
 * Which token a pkcs11 signer uses, and what the self-test asks of it.
 *
 * A signer names its token by `token "LABEL"`, `serial "S"` and `slot
 * N` (signerd.conf(5)); every one given must match, and exactly one
 * token must.  PKCS#11 pads labels, serial numbers and models with
 * blanks to their fixed width (some modules with NULs, or a serial
 * number on the left): those are not part of the name, on either side.
 * When nothing matches, or more than one token does, the error lists
 * the tokens present, so that the operator can pick one without
 * reaching for pkcs11-tool first.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "hsmproc.h"
#include "p11.h"
#include "p11token.h"

#define P11_LIST_MAX	16	/* tokens named in an error */

static void	 p11_token_info(struct p11_tokinfo *, CK_SLOT_ID,
		    const CK_TOKEN_INFO *);
static void	 p11_token_list(char *, size_t, const struct p11_tokinfo *,
		    size_t, size_t);

/*
 * The mechanisms signerd cannot do without (its identity key, and the
 * keys Krill and Cascade make: RSA and ECDSA P-256), and those it uses
 * for other requests, which a token may lack: those requests are then
 * refused by name.
 */
const CK_MECHANISM_TYPE p11_mechs_needed[] = {
	CKM_RSA_PKCS_KEY_PAIR_GEN,
	CKM_RSA_PKCS,
	CKM_EC_KEY_PAIR_GEN,
	CKM_ECDSA,
};
const size_t p11_nmechs_needed = sizeof(p11_mechs_needed) /
    sizeof(p11_mechs_needed[0]);

const CK_MECHANISM_TYPE p11_mechs_optional[] = {
	CKM_RSA_PKCS_PSS,
	CKM_RSA_PKCS_OAEP,
	CKM_EC_EDWARDS_KEY_PAIR_GEN,
	CKM_EDDSA,
	CKM_AES_KEY_GEN,
	CKM_AES_GCM,
	CKM_GENERIC_SECRET_KEY_GEN,
	CKM_SHA256_HMAC,
	CKM_SHA384_HMAC,
	CKM_SHA512_HMAC,
};
const size_t p11_nmechs_optional = sizeof(p11_mechs_optional) /
    sizeof(p11_mechs_optional[0]);

/*
 * A fixed-width PKCS#11 text field (blank or NUL padded, not
 * terminated) into dst, a C string without the padding on either side.
 */
void
p11_text(char *dst, size_t size, const void *src, size_t len)
{
	const char	*s = src;

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\0'))
		len--;
	while (len > 0 && *s == ' ') {
		s++;
		len--;
	}
	if (len >= size)
		len = size - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/*
 * Whether a token matches what the configuration asks for: label and
 * serial ("" or NULL: any) compared without blank padding, slot (-1:
 * any).  Pure: the regress tests call it.
 */
int
p11_token_match(const struct p11_tokinfo *t, const char *label,
    const char *serial, long long slot)
{
	char	 want[65];

	if (slot >= 0 && (CK_SLOT_ID)slot != t->slot)
		return (0);
	if (label != NULL && label[0] != '\0') {
		p11_text(want, sizeof(want), label, strlen(label));
		if (strcmp(want, t->label) != 0)
			return (0);
	}
	if (serial != NULL && serial[0] != '\0') {
		p11_text(want, sizeof(want), serial, strlen(serial));
		if (strcmp(want, t->serial) != 0)
			return (0);
	}
	return (1);
}

static void
p11_token_info(struct p11_tokinfo *t, CK_SLOT_ID slot, const CK_TOKEN_INFO *ti)
{
	memset(t, 0, sizeof(*t));
	t->slot = slot;
	p11_text(t->label, sizeof(t->label), ti->label, sizeof(ti->label));
	p11_text(t->serial, sizeof(t->serial), ti->serialNumber,
	    sizeof(ti->serialNumber));
	p11_text(t->model, sizeof(t->model), ti->model, sizeof(ti->model));
	p11_text(t->manuf, sizeof(t->manuf), ti->manufacturerID,
	    sizeof(ti->manufacturerID));
	(void)snprintf(t->firmware, sizeof(t->firmware), "%u.%u",
	    ti->firmwareVersion.major, ti->firmwareVersion.minor);
}

/* "slot 1 "a" serial 5f3e..., slot 2 ..." of n tokens (of total). */
static void
p11_token_list(char *buf, size_t size, const struct p11_tokinfo *t, size_t n,
    size_t total)
{
	size_t	 i, off;
	int	 w;

	buf[0] = '\0';
	for (i = 0, off = 0; i < n && off < size; i++) {
		w = snprintf(buf + off, size - off, "%sslot %lu \"%s\" serial "
		    "%s", i > 0 ? ", " : "", (unsigned long)t[i].slot,
		    t[i].label, t[i].serial[0] != '\0' ? t[i].serial : "-");
		if (w < 0)
			break;
		off += w;
	}
	if (total > n && off < size)
		(void)snprintf(buf + off, size - off, ", and %zu more",
		    total - n);
	if (n == 0)
		(void)strlcpy(buf, "none", size);
}

/*
 * Find the signer's token: p->slot and p->label, and what C_GetTokenInfo
 * says of it in h->status.  0, or -1 with the state set (the error
 * lists the tokens present).  Main thread, before the workers start.
 */
int
p11_token_find(struct hsm *h, struct p11 *p)
{
	struct p11_tokinfo	 list[P11_LIST_MAX], t, found;
	CK_SLOT_ID		*slots = NULL;
	CK_TOKEN_INFO		 ti;
	CK_ULONG		 n = 0, i;
	CK_RV			 rv;
	size_t			 nlist = 0, nmatch = 0;
	char			 want[200], have[SIGNER_DETAIL_MAX];

	if ((rv = p->f->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK) {
		hsm_status_set(h, SSTATE_ERROR, "C_GetSlotList: %s",
		    p11_rv(rv));
		return (-1);
	}
	if (n > 0 && (slots = calloc(n, sizeof(*slots))) == NULL)
		fatal(NULL);
	if (n > 0 && (rv = p->f->C_GetSlotList(CK_TRUE, slots, &n)) !=
	    CKR_OK) {
		free(slots);
		hsm_status_set(h, SSTATE_ERROR, "C_GetSlotList: %s",
		    p11_rv(rv));
		return (-1);
	}
	memset(&found, 0, sizeof(found));
	for (i = 0; i < n; i++) {
		if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		p11_token_info(&t, slots[i], &ti);
		if (nlist < P11_LIST_MAX)
			list[nlist++] = t;
		if (p11_token_match(&t, h->setup.token, h->setup.serial,
		    h->setup.slot)) {
			if (nmatch++ == 0)
				found = t;
		}
	}
	free(slots);
	if (nmatch == 1) {
		p->slot = found.slot;
		(void)strlcpy(p->label, found.label, sizeof(p->label));
		h->status.slot = found.slot;
		(void)strlcpy(h->status.tok_label, found.label,
		    sizeof(h->status.tok_label));
		(void)strlcpy(h->status.tok_serial, found.serial,
		    sizeof(h->status.tok_serial));
		(void)strlcpy(h->status.tok_model, found.model,
		    sizeof(h->status.tok_model));
		(void)strlcpy(h->status.tok_manuf, found.manuf,
		    sizeof(h->status.tok_manuf));
		(void)strlcpy(h->status.tok_firmware, found.firmware,
		    sizeof(h->status.tok_firmware));
		return (0);
	}

	/* What was asked for, in the words of signerd.conf. */
	want[0] = '\0';
	if (h->setup.token[0] != '\0')
		(void)snprintf(want, sizeof(want), "token \"%s\"",
		    h->setup.token);
	if (h->setup.serial[0] != '\0')
		(void)snprintf(want + strlen(want), sizeof(want) -
		    strlen(want), "%sserial \"%s\"", want[0] ? " " : "",
		    h->setup.serial);
	if (h->setup.slot >= 0)
		(void)snprintf(want + strlen(want), sizeof(want) -
		    strlen(want), "%sslot %lld", want[0] ? " " : "",
		    (long long)h->setup.slot);
	p11_token_list(have, sizeof(have), list, nlist, (size_t)n);
	if (nmatch == 0)
		hsm_status_set(h, SSTATE_ERROR, "%s not found; tokens "
		    "present: %s", want, have);
	else
		hsm_status_set(h, SSTATE_ERROR, "%s: %zu tokens match, name "
		    "one by serial or slot; tokens present: %s", want, nmatch,
		    have);
	return (-1);
}

/*
 * Which of need[] are not in have[]: into missing (room for nneed), the
 * count returned.  Pure: the regress tests call it with lists of their
 * own.
 */
size_t
p11_mechs_missing(const CK_MECHANISM_TYPE *have, size_t nhave,
    const CK_MECHANISM_TYPE *need, size_t nneed, CK_MECHANISM_TYPE *missing)
{
	size_t	 i, j, n = 0;

	for (i = 0; i < nneed; i++) {
		for (j = 0; j < nhave; j++)
			if (have[j] == need[i])
				break;
		if (j == nhave)
			missing[n++] = need[i];
	}
	return (n);
}

/*
 * The self-test's mechanism step: the needed mechanisms the token
 * lacks fail it, the optional ones are only named.  0 pass, -1 fail;
 * what it found in buf.
 */
int
p11_mechs_report(const CK_MECHANISM_TYPE *have, size_t nhave, char *buf,
    size_t size)
{
	CK_MECHANISM_TYPE	 miss[16];
	size_t			 i, n, m;

	n = p11_mechs_missing(have, nhave, p11_mechs_needed,
	    p11_nmechs_needed, miss);
	if (n > 0) {
		(void)strlcpy(buf, "lacks", size);
		for (i = 0; i < n; i++) {
			(void)strlcat(buf, " ", size);
			(void)strlcat(buf, p11_mech_name(miss[i]), size);
		}
		return (-1);
	}
	(void)snprintf(buf, size, "all %zu needed", p11_nmechs_needed);
	m = p11_mechs_missing(have, nhave, p11_mechs_optional,
	    p11_nmechs_optional, miss);
	if (m > 0) {
		(void)strlcat(buf, "; without", size);
		for (i = 0; i < m; i++) {
			(void)strlcat(buf, " ", size);
			(void)strlcat(buf, p11_mech_name(miss[i]), size);
		}
	}
	return (0);
}
