/*
 * libFuzzer target for the control socket: the input is what a client of
 * the control socket (root or the control group, but a program that may
 * be anything) writes.  It goes to the engine's real control code over a
 * socketpair, with an in-memory keystore holding one healthy and one
 * damaged object, and the libevent loop runs until the engine has closed
 * the connection.  Checked:
 *  - the engine never hangs on it (bounded loop turns) nor exits;
 *  - every answer is a known record of its exact size, strings ended
 *    (show metrics: chunks of text of at most 8 KiB);
 *  - control_check accepts a message only with its exact payload, a
 *    Unique Identifier to destroy only as signerd makes or takes them
 *    (hsm::<slot>::<key id>), an adoption only with its strings ended;
 *  - the keystore still holds both objects, each either as it was or
 *    destroyed (never removed, never changed otherwise);
 *  - grants (signerctl grant, revoke, show grants, show keys): what is
 *    in memory is what the keystore holds, after every input; entries
 *    answered are whole, with a valid scope and operations.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "attrs.h"
#include "audit.h"
#include "engine.h"
#include "keystore.h"
#include "kmip.h"
#include "kreq.h"
#include "log.h"
#include "policy.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_parent(int, short, void *);
static void	fuzz_objects(void);
static void	fuzz_drain(int);
static void	fuzz_replies(struct imsgbuf *);
static void	fuzz_check_one(const uint8_t *, size_t);
static void	fuzz_check_store(void);
static int	fuzz_grant_seen(const char *, int, const char *, uint64_t,
		    void *);

#define HEALTHY		"00000000-0000-4000-8000-000000000001"
#define DAMAGED		"00000000-0000-4000-8000-000000000002"
#define LOOP_MAX	200
#define GRANTS_MAX	4096	/* more than 64 KiB of input can make */

struct engine	*engine;
static int	 parent_peer = -1;
static struct ctl_grant mem[GRANTS_MAX];
static size_t	 nmem;

/* What control.c needs of the rest of the engine. */
struct esigner *
esigner_find(uint32_t id)
{
	return (NULL);
}

void
engine_status_request(uint32_t id)
{
}

int
esigner_ready(const struct esigner *es)
{
	return (0);
}

void
kmip_flush(void)
{
}

/* Adoption: answered at once, as a failed KMIP item. */
void
kmip_adopt(const struct ctl_adopt *ca, kreq_done done, uint32_t arg)
{
	struct ttlv	*m, *it;

	if (memchr(ca->signer, '\0', sizeof(ca->signer)) == NULL ||
	    memchr(ca->owner, '\0', sizeof(ca->owner)) == NULL ||
	    memchr(ca->name, '\0', sizeof(ca->name)) == NULL)
		abort();
	m = ttlv_new_structure(KMIP_TAG_RESPONSE_MESSAGE);
	it = ttlv_add_structure(m, KMIP_TAG_BATCH_ITEM);
	ttlv_add_enum(it, KMIP_TAG_RESULT_STATUS,
	    KMIP_STATUS_OPERATION_FAILED);
	ttlv_add_enum(it, KMIP_TAG_RESULT_REASON, KMIP_REASON_ITEM_NOT_FOUND);
	ttlv_add_string(it, KMIP_TAG_RESULT_MESSAGE, "no such key");
	done(arg, m);
	ttlv_free(m);
}

/* No signer is ever linked here: each shows as not running. */
void
esigner_view(const struct esigner *es, const struct proc_info *pi,
    uint32_t req, struct signer_status *st)
{
	memset(st, 0, sizeof(*st));
	st->state = SSTATE_UNKNOWN;
	(void)strlcpy(st->detail, "not running", sizeof(st->detail));
}

/* No admin: control.c's grants are not a KMIP client's. */
int
engine_admin(const char *identity)
{
	return (0);
}

/* identity.c is not linked: no signer proves anything here. */
void
ident_check_step(const struct esigner *es, struct ctl_check *cc)
{
}

static void
fuzz_parent(int fd, short event, void *arg)
{
	if (imsgev_io(&engine->parent, event) == -1)
		abort();
	imsg_event_add(&engine->parent);
}

/* Put both objects back as they were: destroy may have changed them. */
static void
fuzz_objects(void)
{
	static const uint8_t	 garbage[] = "\x42\x00\x91\x01not ttlv";
	struct ks_object	 o;
	struct ttlv		*a;
	int			 i, rv;

	if (ks_begin(engine->ks) == -1)
		abort();
	for (i = 0; i < 2; i++) {
		memset(&o, 0, sizeof(o));
		(void)strlcpy(o.id, i == 0 ? HEALTHY : DAMAGED, sizeof(o.id));
		o.type = KMIP_OBJ_SYMMETRIC_KEY;
		o.state = KMIP_STATE_ACTIVE;
		(void)strlcpy(o.owner, "alice", sizeof(o.owner));
		(void)strlcpy(o.signer, "soft", sizeof(o.signer));
		o.created = 1;
		if (i == 0) {
			a = ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE);
			attr_set_integer(a, "Cryptographic Length", 256);
			attrs_store(&o, a);
			ttlv_free(a);
		} else {
			if ((o.attrs = malloc(sizeof(garbage))) == NULL)
				abort();
			memcpy(o.attrs, garbage, sizeof(garbage));
			o.attrs_len = sizeof(garbage);
		}
		if ((o.material = malloc(16)) == NULL)
			abort();
		memset(o.material, 0xa5, 16);
		o.material_len = 16;
		rv = ks_update(engine->ks, &o, NULL, 0);
		if (rv == -1 && ks_insert(engine->ks, &o, NULL, 0) == -1)
			abort();
		ks_object_clear(&o);
	}
	if (ks_commit(engine->ks) == -1)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int	 sv[2];
	char	 err[256];

	log_init(1, LOG_DAEMON);
	log_setverbose(0);
	event_init();
	if ((engine = calloc(1, sizeof(*engine))) == NULL)
		abort();
	TAILQ_INIT(&engine->signers);
	TAILQ_INIT(&engine->procs);
	TAILQ_INIT(&engine->conns);
	engine->control_fd = -1;
	engine->conf.control_gid = -1;
	if (ks_open(":memory:", &engine->ks, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	/* The parent's end: what control.c sends it is read and dropped. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1 ||
	    imsgev_init(&engine->parent, sv[0], fuzz_parent, NULL,
	    IMSG_MAX_CONTROL - IMSG_HEADER_SIZE, 0) == -1)
		abort();
	parent_peer = sv[1];
	return (0);
}

static void
fuzz_drain(int fd)
{
	char	 buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Each answer: a known type, of its record's exact size, strings ended. */
static void
fuzz_replies(struct imsgbuf *ib)
{
	struct imsg		 imsg;
	struct ctl_result	 res;
	struct ctl_object	 co;
	struct ctl_signer	 cs;
	struct proc_info	 pi;
	struct ctl_grant	 g;
	struct ctl_audit	 ca;
	struct ctl_key		 k;
	ssize_t			 n;

	while ((n = imsg_get(ib, &imsg)) > 0) {
		switch (imsg_get_type(&imsg)) {
		case IMSG_CTL_GRANT_ENTRY:
			if (imsg_get_data(&imsg, &g, sizeof(g)) == -1 ||
			    memchr(g.holder, '\0', sizeof(g.holder)) == NULL ||
			    memchr(g.target, '\0', sizeof(g.target)) == NULL ||
			    g.scope < GRANT_OBJECT || g.scope > GRANT_SIGNER ||
			    g.ops == 0)
				abort();
			break;
		case IMSG_CTL_KEY_ENTRY:
			if (imsg_get_data(&imsg, &k, sizeof(k)) == -1 ||
			    memchr(k.id, '\0', sizeof(k.id)) == NULL ||
			    memchr(k.name, '\0', sizeof(k.name)) == NULL ||
			    memchr(k.owner, '\0', sizeof(k.owner)) == NULL ||
			    memchr(k.signer, '\0', sizeof(k.signer)) == NULL ||
			    (strcmp(k.id, HEALTHY) != 0 &&
			    strcmp(k.id, DAMAGED) != 0))
				abort();
			break;
		case IMSG_CTL_RESULT:
			if (imsg_get_data(&imsg, &res, sizeof(res)) == -1 ||
			    memchr(res.msg, '\0', sizeof(res.msg)) == NULL ||
			    res.code < CTL_OK || res.code > CTL_BADVERSION)
				abort();
			break;
		case IMSG_CTL_OBJECT:
			if (imsg_get_data(&imsg, &co, sizeof(co)) == -1 ||
			    memchr(co.id, '\0', sizeof(co.id)) == NULL ||
			    memchr(co.owner, '\0', sizeof(co.owner)) == NULL ||
			    memchr(co.why, '\0', sizeof(co.why)) == NULL ||
			    strcmp(co.id, DAMAGED) != 0)
				abort();
			break;
		case IMSG_CTL_SIGNER:
			if (imsg_get_data(&imsg, &cs, sizeof(cs)) == -1)
				abort();
			break;
		case IMSG_CTL_PROC:
			if (imsg_get_data(&imsg, &pi, sizeof(pi)) == -1)
				abort();
			break;
		case IMSG_CTL_END:
			if (imsg_get_len(&imsg) != 0)
				abort();
			break;
		case IMSG_CTL_AUDIT:
			/* The trail's head: strings terminated. */
			if (imsg_get_data(&imsg, &ca, sizeof(ca)) == -1 ||
			    memchr(ca.dir, '\0', sizeof(ca.dir)) == NULL ||
			    memchr(ca.file, '\0', sizeof(ca.file)) == NULL ||
			    memchr(ca.head, '\0', sizeof(ca.head)) == NULL)
				abort();
			break;
		case IMSG_CTL_METRICS:
			/* show metrics: text, in chunks of at most 8 KiB. */
			if (imsg_get_len(&imsg) == 0 ||
			    imsg_get_len(&imsg) > 8192)
				abort();
			break;
		default:
			abort();
		}
		imsg_free(&imsg);
	}
	if (n == -1)
		abort();
}

/*
 * The input read as one message, type and peer id first: what
 * control_check accepts must have exactly its record's size.
 */
static void
fuzz_check_one(const uint8_t *data, size_t size)
{
	struct ctl_msg	 m;
	uint32_t	 type, peerid;
	size_t		 len, i;

	if (size < 8)
		return;
	memcpy(&type, data, 4);
	memcpy(&peerid, data + 4, 4);
	len = size - 8;
	switch (control_check(type, peerid, data + 8, len, &m)) {
	case CTL_MSG_OK:
		if (peerid != IMSG_VERSION || m.type != type)
			abort();
		switch (type) {
		case IMSG_CTL_RESTART:
		case IMSG_CTL_REWRAP:
		case IMSG_CTL_CHECK:
			if (len != sizeof(m.name) ||
			    memchr(m.name, '\0', sizeof(m.name)) == NULL)
				abort();
			break;
		case IMSG_CTL_LOG:
			if (len != sizeof(m.verbose) ||
			    (m.verbose != 0 && m.verbose != 1))
				abort();
			break;
		case IMSG_CTL_DESTROY:
			if (len != sizeof(m.id) || m.id[0] == '\0' ||
			    memchr(m.id, '\0', sizeof(m.id)) == NULL)
				abort();
			if (strncmp(m.id, "hsm::", 5) == 0) {
				if (strstr(m.id + 5, "::") == NULL)
					abort();
				break;
			}
			for (i = 0; m.id[i] != '\0'; i++)
				if (strchr("abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
				    m.id[i]) == NULL)
					abort();
			break;
		case IMSG_CTL_ADOPT:
			if (len != sizeof(m.adopt) ||
			    memchr(m.adopt.signer, '\0',
			    sizeof(m.adopt.signer)) == NULL ||
			    memchr(m.adopt.owner, '\0',
			    sizeof(m.adopt.owner)) == NULL ||
			    memchr(m.adopt.name, '\0',
			    sizeof(m.adopt.name)) == NULL ||
			    m.adopt.owner[0] == '\0' ||
			    (m.adopt.by != 1 && m.adopt.by != 2) ||
			    m.adopt.len == 0 ||
			    m.adopt.len > sizeof(m.adopt.value))
				abort();
			break;
		case IMSG_CTL_SHOW_STATUS:
		case IMSG_CTL_SHOW_SIGNERS:
		case IMSG_CTL_SHOW_DAMAGED:
		case IMSG_CTL_SHOW_METRICS:
		case IMSG_CTL_RELOAD:
		case IMSG_CTL_AUDIT:
			if (len != 0)
				abort();
			break;
		case IMSG_CTL_GRANT:
		case IMSG_CTL_REVOKE:
			if (len != sizeof(m.grant) ||
			    memchr(m.grant.holder, '\0',
			    sizeof(m.grant.holder)) == NULL ||
			    memchr(m.grant.target, '\0',
			    sizeof(m.grant.target)) == NULL ||
			    m.grant.holder[0] == '\0' ||
			    m.grant.target[0] == '\0' || m.grant.ops == 0 ||
			    m.grant.scope < GRANT_OBJECT ||
			    m.grant.scope > GRANT_SIGNER ||
			    (m.grant.scope == GRANT_OBJECT &&
			    !ks_id_valid(m.grant.target)))
				abort();
			break;
		case IMSG_CTL_SHOW_GRANTS:
		case IMSG_CTL_SHOW_KEYS:
			if (len != sizeof(m.show) ||
			    memchr(m.show.name, '\0', sizeof(m.show.name)) ==
			    NULL)
				abort();
			break;
		default:
			abort();
		}
		break;
	case CTL_MSG_VERSION:
		if (peerid == IMSG_VERSION)
			abort();
		break;
	case CTL_MSG_BAD:
		break;
	default:
		abort();
	}
}

/* Both objects are there; each as it was, or destroyed. */
static void
fuzz_check_store(void)
{
	struct ks_object	 o;
	size_t			 seen;
	int			 i;

	for (i = 0; i < 2; i++) {
		if (ks_get(engine->ks, i == 0 ? HEALTHY : DAMAGED, &o) != 0)
			abort();
		if (strcmp(o.owner, "alice") != 0 ||
		    (o.state == KMIP_STATE_DESTROYED) != (o.material == NULL) ||
		    (o.state != KMIP_STATE_ACTIVE &&
		    o.state != KMIP_STATE_DESTROYED) ||
		    (o.state == KMIP_STATE_DESTROYED &&
		    attrs_damaged(&o, NULL, 0)))
			abort();
		ks_object_clear(&o);
	}
	/* Every grant of the keystore is in memory, and no other. */
	(void)policy_grant_list("", NULL, mem, GRANTS_MAX, &nmem);
	if (nmem != policy_ngrants())
		abort();
	seen = 0;
	if (ks_grant_scan(engine->ks, fuzz_grant_seen, &seen) == -1 ||
	    seen != nmem)
		abort();
	/* The next input starts without any. */
	if (ks_begin(engine->ks) == -1)
		abort();
	for (i = 0; i < (int)nmem; i++)
		if (ks_grant_set(engine->ks, mem[i].holder, mem[i].scope,
		    mem[i].target, 0) == -1)
			abort();
	if (ks_commit(engine->ks) == -1)
		abort();
	policy_free();
}

/* A keystore grant: the same in memory. */
static int
fuzz_grant_seen(const char *holder, int scope, const char *target,
    uint64_t ops, void *arg)
{
	size_t	*seen = arg, i;

	for (i = 0; i < nmem; i++)
		if (strcmp(mem[i].holder, holder) == 0 &&
		    mem[i].scope == scope &&
		    strcmp(mem[i].target, target) == 0)
			break;
	if (i == nmem || mem[i].ops != ops || ops == 0)
		abort();
	(*seen)++;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imsgbuf	 ib;
	size_t		 off;
	ssize_t		 n;
	int		 sv[2], turns, rv;

	if (size > 64 * 1024)
		return (0);
	fuzz_check_one(data, size);
	fuzz_objects();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	(void)control_add(sv[0], 0, 1);
	if (imsgbuf_init(&ib, sv[1]) == -1)
		abort();
	/* Fed and answered in turns, as a client that also reads would. */
	off = 0;
	for (turns = 0; engine->nconns > 0; turns++) {
		if (turns == LOOP_MAX)
			abort();	/* a hang */
		if (off < size) {
			n = write(sv[1], data + off, size - off);
			if (n > 0)
				off += n;
			else if (n == -1 && errno != EAGAIN)
				abort();
			if (off == size)
				(void)shutdown(sv[1], SHUT_WR);
		} else if (size == 0 && turns == 0)
			(void)shutdown(sv[1], SHUT_WR);
		(void)event_loop(EVLOOP_NONBLOCK);
		fuzz_drain(parent_peer);
		if (imsgbuf_read(&ib) == -1)
			abort();
		fuzz_replies(&ib);
	}
	/* The engine closed its end: read what it sent up to the EOF. */
	for (turns = 0; (rv = imsgbuf_read(&ib)) == 1; turns++) {
		if (turns == LOOP_MAX)
			abort();
		fuzz_replies(&ib);
	}
	if (rv == -1)
		abort();
	fuzz_replies(&ib);
	imsgbuf_clear(&ib);
	close(sv[1]);
	fuzz_check_store();
	return (0);
}
