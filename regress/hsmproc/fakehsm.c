/*
 * A signer child that answers every request from the engine with an
 * IMSG_HSM_RESULTS whose first record answers it (an error, "fake
 * answer N") and whose rest is malformed, a different way each time, as
 * a compromised signer could send: a record cut short, a length beyond
 * the message, a record of another type, more records than
 * HSM_MULTI_MAX.  The engine must answer the request, refuse the rest
 * and keep running (regress/interop/signer_test.sh:malformed_results).
 * Started by signerd in place of signerd-hsm (SIGNERD_LIBEXEC); it keeps
 * the parent's liveness check answered, says it is ready, and proves
 * its identity with a P-256 key of its own (made at start, its "blob"
 * a placeholder), as the engine asks of every signer.
 */
#include <sys/types.h>

#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "hsmmsg.h"
#include "imsgev.h"
#include "kmip.h"
#include "log.h"
#include "signerd.h"

static void	 fake_parent(int, short, void *);
static void	 fake_engine(int, short, void *);
static void	 fake_answer(uint32_t);
static void	 fake_status(uint32_t);
static void	 fake_record(struct ibuf *, uint32_t, uint32_t);
static void	 fake_identity(struct imsg *);

static struct imsgev	 parent, engine;
static unsigned int	 nanswers;
static EVP_PKEY		*ident_key;

/*
 * IMSG_HSM_IDENTITY: sign the engine's challenge.  Offered a recorded
 * key (ours: this process lives as long as the test), sign with it;
 * else answer with a new key, its public half and the signature.
 */
static void
fake_identity(struct imsg *imsg)
{
	struct hsm_identity		 q;
	struct hsm_identity_result	 r;
	struct ibuf			 ib, *b;
	EVP_MD_CTX			*ctx;
	uint8_t				 data[sizeof(HSM_IDENT_DOMAIN) - 1 +
					    HSM_IDENT_CHALLENGE];
	uint8_t				 sig[256], *spki = NULL;
	static const char		 blob[] = "fake";
	size_t				 siglen = sizeof(sig);
	int				 spkilen = 0;

	if (imsg_get_ibuf(imsg, &ib) == -1 || ibuf_size(&ib) < sizeof(q))
		fatalx("short IMSG_HSM_IDENTITY");
	memcpy(&q, ibuf_data(&ib), sizeof(q));
	memcpy(data, HSM_IDENT_DOMAIN, sizeof(HSM_IDENT_DOMAIN) - 1);
	memcpy(data + sizeof(HSM_IDENT_DOMAIN) - 1, q.challenge,
	    HSM_IDENT_CHALLENGE);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
	    ident_key) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, data, sizeof(data)) != 1)
		fatalx("identity signature");
	EVP_MD_CTX_free(ctx);
	memset(&r, 0, sizeof(r));
	r.which = q.n > 0 ? 0 : -1;
	r.len_sig = siglen;
	if (r.which == -1) {
		if ((spkilen = i2d_PUBKEY(ident_key, &spki)) <= 0)
			fatalx("i2d_PUBKEY");
		r.kind = HSM_KEY_EC_P256;
		r.len_blob = sizeof(blob) - 1;
		r.len_spki = spkilen;
	}
	if ((b = imsg_create(&engine.ibuf, IMSG_HSM_IDENTITY,
	    imsg_get_id(imsg), 0, sizeof(r) + r.len_blob + r.len_spki +
	    r.len_sig)) == NULL ||
	    imsg_add(b, &r, sizeof(r)) == -1 ||
	    (r.len_blob > 0 && imsg_add(b, blob, r.len_blob) == -1) ||
	    (r.len_spki > 0 && imsg_add(b, spki, r.len_spki) == -1) ||
	    imsg_add(b, sig, r.len_sig) == -1)
		fatalx("IMSG_HSM_IDENTITY answer");
	imsg_close(&engine.ibuf, b);
	OPENSSL_free(spki);
}

static void
fake_status(uint32_t id)
{
	struct signer_status	 st;

	memset(&st, 0, sizeof(st));
	st.state = SSTATE_READY;
	(void)strlcpy(st.detail, "fake signer", sizeof(st.detail));
	imsg_compose_event(&engine, IMSG_HSM_STATUS, id, 0, -1, &st,
	    sizeof(st));
}

/* Add one IMSG_HSM_RESULT record answering id with an error. */
static void
fake_record(struct ibuf *b, uint32_t type, uint32_t id)
{
	struct hsm_rec		 rec;
	struct hsm_result	 res;

	memset(&res, 0, sizeof(res));
	res.status = KMIP_REASON_GENERAL_FAILURE;
	(void)snprintf(res.msg, sizeof(res.msg), "fake answer %u", nanswers);
	rec.type = type;
	rec.id = id;
	rec.len = sizeof(res);
	if (imsg_add(b, &rec, sizeof(rec)) == -1 ||
	    imsg_add(b, &res, sizeof(res)) == -1)
		fatal("imsg_add");
}

static void
fake_answer(uint32_t id)
{
	struct ibuf	*b;
	struct hsm_rec	 rec;
	int		 i;

	if ((b = imsg_create(&engine.ibuf, IMSG_HSM_RESULTS, 0, 0,
	    64 * 1024)) == NULL)
		fatal("imsg_create");
	fake_record(b, IMSG_HSM_RESULT, id);
	switch (nanswers++ % 4) {
	case 0:		/* a record header cut short */
		if (imsg_add(b, "\1\2\3\4\5", 5) == -1)
			fatal("imsg_add");
		break;
	case 1:		/* a length beyond the message */
		rec.type = IMSG_HSM_RESULT;
		rec.id = id + 1000;
		rec.len = 0xffffffff;
		if (imsg_add(b, &rec, sizeof(rec)) == -1 ||
		    imsg_add(b, "0123456789abcdef", 16) == -1)
			fatal("imsg_add");
		break;
	case 2:		/* a record that is not an answer */
		fake_record(b, IMSG_HSM_OP, id + 1000);
		break;
	case 3:		/* more records than one message may hold */
		for (i = 0; i < HSM_MULTI_MAX; i++)
			fake_record(b, IMSG_HSM_RESULT, 0xfffff000 + i);
		break;
	}
	imsg_close(&engine.ibuf, b);
	imsg_event_add(&engine);
}

static void
fake_engine(int fd, short event, void *arg)
{
	struct imsg	 imsg;
	struct ibuf	 ib;
	struct hsm_rec	 rec;
	const uint8_t	*p, *data;
	size_t		 left;
	ssize_t		 n;

	if (imsgev_io(&engine, event) == -1) {
		imsgev_clear(&engine);
		return;
	}
	for (;;) {
		if ((n = imsg_get(&engine.ibuf, &imsg)) == -1)
			fatal("imsg_get");
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_HSM_STATUS_REQ:
			fake_status(imsg_get_id(&imsg));
			break;
		case IMSG_HSM_IDENTITY:
			fake_identity(&imsg);
			break;
		case IMSG_HSM_OPS:
			if (imsg_get_ibuf(&imsg, &ib) == -1)
				fatalx("empty IMSG_HSM_OPS");
			p = ibuf_data(&ib);
			left = ibuf_size(&ib);
			while (hsm_multi_next(&p, &left, &rec, &data) == 1)
				fake_answer(rec.id);
			break;
		default:
			fake_answer(imsg_get_id(&imsg));
			break;
		}
		imsg_free(&imsg);
	}
	imsg_event_add(&engine);
}

static void
fake_parent(int fd, short event, void *arg)
{
	struct imsg	 imsg;
	ssize_t		 n;

	if (imsgev_io(&parent, event) == -1) {
		event_loopexit(NULL);
		return;
	}
	for (;;) {
		if ((n = imsg_get(&parent.ibuf, &imsg)) == -1)
			fatal("imsg_get");
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_SOCKET_ENGINE:
			child_link(&engine, &imsg, fake_engine, NULL);
			fake_status(0);
			break;
		case IMSG_HSM_PING:
			imsg_compose_event(&parent, IMSG_HSM_PONG,
			    imsg_get_id(&imsg), 0, -1, NULL, 0);
			break;
		default:
			break;
		}
		imsg_free(&imsg);
	}
	imsg_event_add(&parent);
}

int
main(int argc, char *argv[])
{
	log_init(1, LOG_DAEMON);
	log_procinit("fakehsm");
	if ((ident_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		fatalx("EVP_PKEY_Q_keygen");
	event_init();
	child_signals();
	if (imsgev_init(&parent, PARENT_SOCK_FILENO, fake_parent, NULL,
	    IMSG_MAX_INTERNAL, 1) == -1)
		fatal("parent channel");
	event_dispatch();
	return (0);
}
