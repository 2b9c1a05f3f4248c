/*
 * Signer identity, the engine's side (design.md, "Signer identity").
 *
 * The first time a signer is ready, it makes an identity key in its
 * backend (a token key pair, or a key wrapped by its KEK) and the engine
 * records the public half, and the key's blob, in the keystore.  Every
 * time the signer becomes ready again, the engine sends a fresh random
 * challenge with the blob, and the signer must sign it with that key:
 * the engine verifies the signature with the public key it recorded,
 * never with one the signer sends.  Until then the signer's state is
 * "starting" and nothing is sent to it; a signer that cannot prove it
 * (another token in the slot, a token re-initialised under the same
 * label, another slot) is refused with a state of its own,
 * SSTATE_WRONG_TOKEN, and its keys are not touched.
 *
 * Keys belong to the identity, not to the name: a signer renamed in
 * signerd.conf is offered the identities recorded under names no longer
 * configured, and when it proves one, the keystore's objects of the old
 * name move to the new one, in one transaction.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "engine.h"
#include "hsmmsg.h"
#include "keystore.h"
#include "kmip.h"
#include "kreq.h"
#include "log.h"

#define IDENT_DEADLINE_S	30	/* for the signer's answer */
#define IDENT_RETRY_S		5	/* after a failure to tell */

static void	 ident_timeout(int, short, void *);
static void	 ident_retry(struct esigner *);
static int	 ident_applies(const struct esigner *);
static int	 ident_sane(const struct ks_ident *);
static void	 ident_start(struct esigner *);
static void	 ident_apply(struct esigner *);
static int	 ident_configured(const char *);
static int	 ident_verify(const struct ks_ident *, const uint8_t *,
		    const uint8_t *, size_t);
static const struct ks_ident *ident_find(const struct ks_ident *, size_t,
		    const char *);
static void	 ident_set(struct esigner *, enum ident_state, const char *,
		    ...) __attribute__((__format__ (printf, 3, 4)));

void
ident_init(struct esigner *es)
{
	evtimer_set(&es->ident_timer, ident_timeout, es);
}

/* A new channel, or none: the next ready signer proves itself again. */
void
ident_reset(struct esigner *es)
{
	evtimer_del(&es->ident_timer);
	es->ident = IDENT_NONE;
	es->ident_logged = IDENT_NONE;
	es->ident_why[0] = '\0';
	es->ident_req = 0;
	es->noffered = 0;
	memset(&es->reported, 0, sizeof(es->reported));
}

/* Ask again in a while: the signer could not tell. */
static void
ident_retry(struct esigner *es)
{
	struct timeval	 tv = { IDENT_RETRY_S, 0 };

	evtimer_del(&es->ident_timer);
	evtimer_add(&es->ident_timer, &tv);
}

/* Signers that take part: those with keys of their own. */
static int
ident_applies(const struct esigner *es)
{
	return (es->link.type == SIGNER_PKCS11 ||
	    es->link.type == SIGNER_OPENSSL);
}

static void
ident_set(struct esigner *es, enum ident_state st, const char *fmt, ...)
{
	va_list	 ap;
	char	 why[SIGNER_DETAIL_MAX];

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* Each change is logged once, not once per retry. */
	if (es->ident_logged != (int)st || strcmp(why, es->ident_why) != 0) {
		if (st == IDENT_WRONG || st == IDENT_FAILED)
			log_warnx("signer %s: %s", es->link.name, why);
		else if (st == IDENT_OK)
			log_info("signer %s: %s", es->link.name, why);
	}
	es->ident_logged = st;
	es->ident = st;
	(void)strlcpy(es->ident_why, why, sizeof(es->ident_why));
}

/*
 * IMSG_HSM_STATUS: keep what the child says, and show it as is once
 * its identity is proven; before, it shows as starting (or refused).
 * -1: a malformed message.
 */
int
ident_status(struct esigner *es, struct imsg *imsg)
{
	int32_t	 was = es->reported.state;

	if (imsg_get_data(imsg, &es->reported, sizeof(es->reported)) == -1)
		return (-1);
	strterm(es->reported.detail, sizeof(es->reported.detail));
	strterm(es->reported.tok_label, sizeof(es->reported.tok_label));
	strterm(es->reported.tok_serial, sizeof(es->reported.tok_serial));
	strterm(es->reported.tok_model, sizeof(es->reported.tok_model));
	strterm(es->reported.tok_manuf, sizeof(es->reported.tok_manuf));
	strterm(es->reported.tok_firmware,
	    sizeof(es->reported.tok_firmware));
	strterm(es->reported.last_error, sizeof(es->reported.last_error));
	/* Ready again (a token may have been swapped meanwhile): prove. */
	if (es->reported.state == SSTATE_READY && was != SSTATE_READY &&
	    es->ident != IDENT_WRONG) {
		evtimer_del(&es->ident_timer);
		es->ident = IDENT_NONE;
	}
	if (es->reported.state == SSTATE_READY && es->ident == IDENT_NONE &&
	    ident_applies(es))
		ident_start(es);
	ident_apply(es);
	return (0);
}

/* The status the engine acts on and shows: the child's, or ours. */
static void
ident_apply(struct esigner *es)
{
	es->status = es->reported;
	if (!ident_applies(es) || es->reported.state != SSTATE_READY)
		return;
	switch (es->ident) {
	case IDENT_OK:
		break;
	case IDENT_WRONG:
		es->status.state = SSTATE_WRONG_TOKEN;
		(void)strlcpy(es->status.detail, es->ident_why,
		    sizeof(es->status.detail));
		break;
	case IDENT_FAILED:
		es->status.state = SSTATE_ERROR;
		(void)strlcpy(es->status.detail, es->ident_why,
		    sizeof(es->status.detail));
		break;
	default:
		es->status.state = SSTATE_STARTING;
		(void)strlcpy(es->status.detail, "proving its identity",
		    sizeof(es->status.detail));
		break;
	}
}

static void
ident_timeout(int fd, short event, void *arg)
{
	struct esigner	*es = arg;

	if (es->ident == IDENT_PENDING)
		ident_set(es, IDENT_FAILED, "no answer to the identity "
		    "challenge within %d s", IDENT_DEADLINE_S);
	if (es->ident == IDENT_FAILED && es->iev.active &&
	    es->reported.state == SSTATE_READY)
		ident_start(es);
	ident_apply(es);
}

/* Whether a signer of that name is in the configuration. */
static int
ident_configured(const char *name)
{
	struct esigner	*es;
	struct eproc	*ep;

	TAILQ_FOREACH(es, &engine->signers, entry)
		if (strcmp(es->link.name, name) == 0)
			return (1);
	TAILQ_FOREACH(ep, &engine->procs, entry)
		if (ep->pi.kind == PROC_HSM && strcmp(ep->pi.name, name) == 0)
			return (1);
	return (0);
}

static const struct ks_ident *
ident_find(const struct ks_ident *v, size_t n, const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].signer, name) == 0)
			return (&v[i]);
	return (NULL);
}

/* Whether a recorded identity is within the bounds it was recorded in. */
static int
ident_sane(const struct ks_ident *id)
{
	return (id->blob_len > 0 && id->blob_len <= HSM_IDENT_BLOB_MAX &&
	    id->spki_len > 0 && id->spki_len <= HSM_IDENT_SPKI_MAX);
}

/*
 * Send the challenge: with the signer's own recorded key, or, if it has
 * none yet, with those of unconfigured signers of its type (a rename)
 * and leave to make one.
 */
static void
ident_start(struct esigner *es)
{
	struct hsm_identity	 q;
	struct ks_ident		*v = NULL;
	const struct ks_ident	*own, *offer[HSM_IDENT_MAX];
	struct iovec		 iov[1 + HSM_IDENT_MAX];
	struct timeval		 tv = { IDENT_DEADLINE_S, 0 };
	size_t			 n = 0, i;
	uint32_t		 k = 0;

	evtimer_del(&es->ident_timer);
	if (engine->ks == NULL || ks_ident_list(engine->ks, &v, &n) == -1) {
		ident_set(es, IDENT_FAILED, "keystore: %s", engine->ks ==
		    NULL ? "not open" : ks_error(engine->ks));
		tv.tv_sec = IDENT_RETRY_S;
		evtimer_add(&es->ident_timer, &tv);
		return;
	}
	memset(&q, 0, sizeof(q));
	es->own = 0;
	/*
	 * What the keystore recorded goes to the signer within the bounds
	 * the signer's answer was held to when it was recorded
	 * (hsm_identity_parse): a row outside them is damaged, and is
	 * neither offered nor trusted.
	 */
	if ((own = ident_find(v, n, es->link.name)) != NULL &&
	    !ident_sane(own)) {
		ident_set(es, IDENT_FAILED, "the identity recorded for signer "
		    "\"%s\" is damaged in the keystore", es->link.name);
		ks_ident_free(v, n);
		return;
	}
	if (own != NULL) {
		offer[k++] = own;
		es->own = 1;
	} else {
		q.flags = HSM_IDENT_CREATE;
		for (i = 0; i < n && k < HSM_IDENT_MAX; i++)
			if (v[i].type == es->link.type && ident_sane(&v[i]) &&
			    !ident_configured(v[i].signer))
				offer[k++] = &v[i];
	}
	arc4random_buf(es->challenge, sizeof(es->challenge));
	memcpy(q.challenge, es->challenge, sizeof(q.challenge));
	q.n = k;
	iov[0].iov_base = &q;
	iov[0].iov_len = sizeof(q);
	for (i = 0; i < k; i++) {
		q.kind[i] = offer[i]->kind;
		q.len[i] = offer[i]->blob_len;
		iov[1 + i].iov_base = offer[i]->blob;
		iov[1 + i].iov_len = offer[i]->blob_len;
		(void)strlcpy(es->offered[i], offer[i]->signer,
		    sizeof(es->offered[i]));
	}
	es->noffered = k;
	es->ident_req = ++engine->next_id;
	es->ident = IDENT_PENDING;
	if (imsg_composev(&es->iev.ibuf, IMSG_HSM_IDENTITY, es->ident_req, 0,
	    -1, iov, 1 + k) == -1)
		ident_set(es, IDENT_FAILED, "cannot send the identity "
		    "challenge");
	else
		imsg_event_add(&es->iev);
	evtimer_add(&es->ident_timer, &tv);
	ks_ident_free(v, n);
}

/* Whether sig is the recorded key's signature of the challenge. */
static int
ident_verify(const struct ks_ident *id, const uint8_t *challenge,
    const uint8_t *sig, size_t siglen)
{
	EVP_PKEY	*pk;
	EVP_MD_CTX	*ctx;
	const uint8_t	*p = id->spki;
	uint8_t		 data[sizeof(HSM_IDENT_DOMAIN) - 1 +
			    HSM_IDENT_CHALLENGE];
	int		 ok = 0;

	memcpy(data, HSM_IDENT_DOMAIN, sizeof(HSM_IDENT_DOMAIN) - 1);
	memcpy(data + sizeof(HSM_IDENT_DOMAIN) - 1, challenge,
	    HSM_IDENT_CHALLENGE);
	if ((pk = d2i_PUBKEY(NULL, &p, id->spki_len)) == NULL ||
	    p != id->spki + id->spki_len) {
		EVP_PKEY_free(pk);
		ERR_clear_error();
		return (0);
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		fatal(NULL);
	/* RSA: PKCS#1 v1.5, the default; EC: DER ECDSA-Sig-Value. */
	if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, data, sizeof(data)) == 1)
		ok = 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return (ok);
}

/*
 * IMSG_HSM_IDENTITY from a signer: the answer to the challenge.  A
 * stale answer (of a challenge since replaced) is ignored.  -1: a
 * malformed message; the channel is closed.
 */
int
ident_answer(struct esigner *es, struct imsg *imsg)
{
	struct hsm_identity_result	 r;
	struct ks_ident			*v = NULL, rec;
	const struct ks_ident		*id;
	struct ibuf			 ib;
	const uint8_t			*blob, *spki, *sig;
	const char			*name;
	size_t				 n = 0;
	int64_t				 moved = 0;
	int				 rv, renamed;

	if (imsg_get_ibuf(imsg, &ib) == -1 ||
	    hsm_identity_parse(ibuf_data(&ib), ibuf_size(&ib), es->noffered,
	    &r, &blob, &spki, &sig) == -1)
		return (-1);
	if (es->ident != IDENT_PENDING || imsg_get_id(imsg) != es->ident_req)
		return (0);
	evtimer_del(&es->ident_timer);
	if (r.status != 0) {
		if (r.status == KMIP_REASON_ITEM_NOT_FOUND && es->own)
			ident_set(es, IDENT_WRONG, "not the token of this "
			    "signer: it lacks the identity key recorded (%s); "
			    "another token, a re-initialised one or another "
			    "slot? keys untouched; point token, serial or "
			    "slot at the right one and reload", r.msg);
		else {
			ident_set(es, IDENT_FAILED, "identity: %s", r.msg);
			ident_retry(es);
		}
		goto done;
	}
	if (r.which == -1 && es->own)
		return (-1);	/* it was not asked to make one */

	if (engine->ks == NULL || ks_ident_list(engine->ks, &v, &n) == -1) {
		ident_set(es, IDENT_FAILED, "keystore: %s", engine->ks ==
		    NULL ? "not open" : ks_error(engine->ks));
		ident_retry(es);
		goto done;
	}
	if (r.which == -1) {
		/* The first connection: the new key, proven by its own. */
		memset(&rec, 0, sizeof(rec));
		(void)strlcpy(rec.signer, es->link.name, sizeof(rec.signer));
		rec.type = es->link.type;
		rec.kind = r.kind;
		rec.blob = (uint8_t *)(uintptr_t)blob;
		rec.blob_len = r.len_blob;
		rec.spki = (uint8_t *)(uintptr_t)spki;
		rec.spki_len = r.len_spki;
		rec.created = time(NULL);
		if (!ident_verify(&rec, es->challenge, sig, r.len_sig)) {
			ident_set(es, IDENT_FAILED, "identity: the new key's "
			    "signature does not verify");
			goto done;
		}
		kmip_flush();
		if ((rv = ks_begin(engine->ks)) == 0 &&
		    (rv = ks_ident_put(engine->ks, &rec)) == 0)
			rv = ks_commit(engine->ks);
		else
			(void)ks_rollback(engine->ks);
		if (rv == -1) {
			ident_set(es, IDENT_FAILED, "keystore: %s",
			    ks_error(engine->ks));
			ident_retry(es);
			goto done;
		}
		ident_set(es, IDENT_OK, "recorded its identity key (%s)",
		    hsm_kind_name(r.kind));
		goto done;
	}

	name = es->offered[r.which];
	if ((id = ident_find(v, n, name)) == NULL) {
		ident_set(es, IDENT_FAILED, "identity of \"%s\" no longer "
		    "recorded", name);
		ident_retry(es);
		goto done;
	}
	if (!ident_verify(id, es->challenge, sig, r.len_sig)) {
		ident_set(es, IDENT_WRONG, "not the token of this signer: its "
		    "signature does not verify with the identity key "
		    "recorded; keys untouched; point token, serial or slot at "
		    "the right one and reload");
		goto done;
	}
	renamed = strcmp(name, es->link.name) != 0;
	if (!renamed && r.len_blob == 0) {
		ident_set(es, IDENT_OK, "identity proven");
		goto done;
	}
	/* A rename: the keys of the old name are this signer's. */
	if (renamed && ident_configured(name)) {
		ident_set(es, IDENT_WRONG, "this token is signer \"%s\"'s "
		    "already: two signers cannot share one", name);
		goto done;
	}
	kmip_flush();
	if ((rv = ks_begin(engine->ks)) == 0 && renamed)
		rv = ks_ident_rename(engine->ks, name, es->link.name, &moved);
	if (rv == 0 && r.len_blob > 0)
		rv = ks_ident_set_blob(engine->ks, es->link.name, blob,
		    r.len_blob);
	if (rv == 0)
		rv = ks_commit(engine->ks);
	else
		(void)ks_rollback(engine->ks);
	if (rv == -1) {
		ident_set(es, IDENT_FAILED, "keystore: %s",
		    ks_error(engine->ks));
		ident_retry(es);
		goto done;
	}
	if (r.len_blob > 0)
		log_info("signer %s: its identity key, wrapped anew, "
		    "recorded", es->link.name);
	if (!renamed) {
		ident_set(es, IDENT_OK, "identity proven");
		goto done;
	}
	log_warnx("signer %s proves the identity of signer %s, no longer "
	    "configured: renamed, %lld keystore objects move to %s",
	    es->link.name, name, (long long)moved, es->link.name);
	ident_set(es, IDENT_OK, "identity proven (was signer \"%s\")", name);
 done:
	ks_ident_free(v, n);
	ident_apply(es);
	if (esigner_ready(es))
		kmip_signer_ready(es);
	else if (es->status.state == SSTATE_WRONG_TOKEN)
		kmip_signer_lost(es, es->status.detail);
	return (0);
}

/* The engine's step of signerctl check: the identity proof. */
void
ident_check_step(const struct esigner *es, struct ctl_check *cc)
{
	struct check_step	*s;

	if (!ident_applies(es) || cc->nsteps >= CHECK_STEPS_MAX)
		return;
	s = &cc->steps[cc->nsteps++];
	memset(s, 0, sizeof(*s));
	(void)strlcpy(s->name, "identity", sizeof(s->name));
	switch (es->ident) {
	case IDENT_OK:
		s->result = CHECK_PASS;
		break;
	case IDENT_WRONG:
	case IDENT_FAILED:
		s->result = CHECK_FAIL;
		break;
	default:
		s->result = CHECK_SKIP;
		(void)strlcpy(s->detail, "not proven yet", sizeof(s->detail));
		return;
	}
	(void)strlcpy(s->detail, es->ident_why, sizeof(s->detail));
}
