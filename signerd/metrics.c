/*
 * The engine's counters, and signerctl show metrics: OpenMetrics text
 * (as bgpctl's show metrics) for node_exporter's textfile collector or
 * any scraper.
 *
 * Requests are counted where a request batch item ends (kmip.c calls
 * metrics_item), per operation and signer: the items, those that
 * failed by Result Reason, and their latency in fixed buckets.  The
 * connections are the frontend's: only it sees a connection open, a
 * handshake fail or a client refused over the limit, so it sends its
 * counters (IMSG_FE_STATS) a moment after they change.  The signers'
 * states are those the engine last heard, the keystore's size is asked
 * of SQLite when the metrics are.  Everything counts from the engine's
 * start (signerd_uptime_seconds): a restarted engine starts again at 0,
 * which scrapers take as a counter reset.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "keystore.h"
#include "kmip.h"
#include "kreq.h"
#include "log.h"
#include "metrics.h"

/*
 * Series are few: the operations signerd knows (any other counts as
 * "unknown") times the signers configured or named by objects.  Past
 * METRICS_SERIES_MAX, items count in one series, op "other".
 */
#define METRICS_SERIES_MAX	256
#define METRICS_REASONS_MAX	16	/* per series, "other" the last */
#define METRICS_CHUNK		8192	/* text per IMSG_CTL_METRICS */

/* Latency buckets, microseconds, and their le labels in seconds. */
static const struct {
	uint64_t	 usec;
	const char	*le;
} buckets[] = {
	{ 500, "0.0005" }, { 1000, "0.001" }, { 2500, "0.0025" },
	{ 5000, "0.005" }, { 10000, "0.01" }, { 25000, "0.025" },
	{ 50000, "0.05" }, { 100000, "0.1" }, { 250000, "0.25" },
	{ 500000, "0.5" }, { 1000000, "1.0" }, { 2500000, "2.5" },
	{ 5000000, "5.0" }, { 10000000, "10.0" }
};
#define NBUCKETS	(sizeof(buckets) / sizeof(buckets[0]))

struct mreason {
	uint32_t	 reason;	/* 0: the others */
	uint64_t	 n;
};

struct mseries {
	TAILQ_ENTRY(mseries)	 entry;
	char			 op[32];
	char			 signer[SIGNER_NAME_MAX];
	uint64_t		 requests;
	uint64_t		 bucket[NBUCKETS];	/* not cumulative */
	uint64_t		 usec_sum;
	struct mreason		 reasons[METRICS_REASONS_MAX];
	size_t			 nreasons;
};
TAILQ_HEAD(mseries_list, mseries);

static struct mseries_list	 series = TAILQ_HEAD_INITIALIZER(series);
static size_t			 nseries;
static struct fe_stats		 fe_stats;
static struct timespec		 started;

static struct mseries	*metrics_series(const char *, const char *);
static const char	*metrics_reason_name(uint32_t, char *, size_t);
static void		 metrics_label(FILE *, const char *);
static void		 metrics_labels(FILE *, const struct mseries *);
static void		 metrics_family(FILE *, const char *, const char *,
			    const char *, const char *);
static void		 metrics_requests(FILE *);
static void		 metrics_connections(FILE *);
static void		 metrics_signers(FILE *);
static int		 metrics_keystore(FILE *);

void
metrics_init(void)
{
	clock_gettime(CLOCK_MONOTONIC, &started);
}

/* The series of op and signer, made on first use. */
static struct mseries *
metrics_series(const char *op, const char *signer)
{
	struct mseries	*s;

	TAILQ_FOREACH(s, &series, entry)
		if (strcmp(s->op, op) == 0 && strcmp(s->signer, signer) == 0)
			return (s);
	if (nseries >= METRICS_SERIES_MAX) {
		op = "other";
		signer = "";
		TAILQ_FOREACH(s, &series, entry)
			if (strcmp(s->op, op) == 0 && s->signer[0] == '\0')
				return (s);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal(NULL);
	(void)strlcpy(s->op, op, sizeof(s->op));
	(void)strlcpy(s->signer, signer, sizeof(s->signer));
	TAILQ_INSERT_TAIL(&series, s, entry);
	nseries++;
	return (s);
}

/*
 * A request batch item answered: its operation, the signer that did it
 * (else that of its object, else none), its result and how long it ran
 * from its start (the time it waited behind other items of its message
 * is not counted).
 */
void
metrics_item(const struct kreq *r)
{
	struct mseries	*s;
	struct timespec	 now;
	const char	*op, *signer;
	uint64_t	 usec;
	uint32_t	 reason;
	size_t		 i;

	if (r->op == 0)
		op = "none";
	else if ((op = kmip_op_name(r->op)) == NULL)
		op = "unknown";
	signer = r->waiting_on[0] != '\0' ? r->waiting_on : r->obj.signer;
	s = metrics_series(op, signer);
	s->requests++;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec < r->started.tv_sec)
		usec = 0;
	else
		usec = (uint64_t)(now.tv_sec - r->started.tv_sec) * 1000000 +
		    (now.tv_nsec - r->started.tv_nsec) / 1000;
	s->usec_sum += usec;
	for (i = 0; i < NBUCKETS && usec > buckets[i].usec; i++)
		;
	if (i < NBUCKETS)
		s->bucket[i]++;
	if (!r->item_failed)
		return;
	/* The Result Reason the client was sent, in its version. */
	reason = kmip_reason_for_version(r->item_reason, r->major, r->minor);
	for (i = 0; i < s->nreasons; i++)
		if (s->reasons[i].reason == reason)
			break;
	if (i == s->nreasons) {
		if (s->nreasons < METRICS_REASONS_MAX - 1)
			s->reasons[s->nreasons++].reason = reason;
		else {
			/* The last slot counts every other reason. */
			i = METRICS_REASONS_MAX - 1;
			s->nreasons = METRICS_REASONS_MAX;
			s->reasons[i].reason = 0;
		}
	}
	s->reasons[i].n++;
}

/* IMSG_FE_STATS from the frontend: 0, or -1 if malformed. */
int
metrics_frontend(const void *data, size_t len)
{
	if (data == NULL || len != sizeof(fe_stats))
		return (-1);
	memcpy(&fe_stats, data, sizeof(fe_stats));
	return (0);
}

/* KMIP Result Reasons as the specification names them. */
static const char *
metrics_reason_name(uint32_t reason, char *buf, size_t len)
{
	static const char *const names[] = {
		NULL, "Item Not Found", "Response Too Large",
		"Authentication Not Successful", "Invalid Message",
		"Operation Not Supported", "Missing Data", "Invalid Field",
		"Feature Not Supported", "Operation Canceled By Requester",
		"Cryptographic Failure", "Illegal Operation",
		"Permission Denied", "Object archived", "Index Out of Bounds",
		"Application Namespace Not Supported",
		"Key Format Type Not Supported",
		"Key Compression Type Not Supported", "Encoding Option Error",
		"Key Value Not Present", "Attestation Required",
		"Attestation Failed", "Sensitive", "Not Extractable",
		"Object Already Exists"
	};

	if (reason == 0)
		return ("other");
	if (reason == KMIP_REASON_GENERAL_FAILURE)
		return ("General Failure");
	if (reason == KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE)
		return ("Wrong Key Lifecycle State");
	if (reason == KMIP_REASON_OBJECT_DESTROYED)
		return ("Object Destroyed");
	if (reason < sizeof(names) / sizeof(names[0]))
		return (names[reason]);
	(void)snprintf(buf, len, "0x%08x", reason);
	return (buf);
}

/* A label value, escaped as OpenMetrics wants: \\, \" and \n. */
static void
metrics_label(FILE *fp, const char *s)
{
	putc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(fp, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			putc(*s, fp);
	}
	putc('"', fp);
}

/* op="...",signer="..." */
static void
metrics_labels(FILE *fp, const struct mseries *s)
{
	fputs("op=", fp);
	metrics_label(fp, s->op);
	fputs(",signer=", fp);
	metrics_label(fp, s->signer);
}

static void
metrics_family(FILE *fp, const char *name, const char *type,
    const char *unit, const char *help)
{
	fprintf(fp, "# TYPE %s %s\n", name, type);
	if (unit != NULL)
		fprintf(fp, "# UNIT %s %s\n", name, unit);
	fprintf(fp, "# HELP %s %s\n", name, help);
}

static void
metrics_requests(FILE *fp)
{
	struct mseries	*s;
	uint64_t	 cum;
	size_t		 i;
	char		 buf[16];

	metrics_family(fp, "signerd_requests", "counter", NULL,
	    "KMIP request batch items answered, by operation and signer.");
	TAILQ_FOREACH(s, &series, entry) {
		fputs("signerd_requests_total{", fp);
		metrics_labels(fp, s);
		fprintf(fp, "} %llu\n", (unsigned long long)s->requests);
	}
	metrics_family(fp, "signerd_request_errors", "counter", NULL,
	    "KMIP request batch items that failed, by Result Reason.");
	TAILQ_FOREACH(s, &series, entry)
		for (i = 0; i < s->nreasons; i++) {
			fputs("signerd_request_errors_total{", fp);
			metrics_labels(fp, s);
			fputs(",reason=", fp);
			metrics_label(fp, metrics_reason_name(
			    s->reasons[i].reason, buf, sizeof(buf)));
			fprintf(fp, "} %llu\n",
			    (unsigned long long)s->reasons[i].n);
		}
	metrics_family(fp, "signerd_request_duration_seconds", "histogram",
	    "seconds", "How long a KMIP request batch item ran in the "
	    "engine, signer included.");
	TAILQ_FOREACH(s, &series, entry) {
		for (i = 0, cum = 0; i < NBUCKETS; i++) {
			cum += s->bucket[i];
			fputs("signerd_request_duration_seconds_bucket{", fp);
			metrics_labels(fp, s);
			fprintf(fp, ",le=\"%s\"} %llu\n", buckets[i].le,
			    (unsigned long long)cum);
		}
		fputs("signerd_request_duration_seconds_bucket{", fp);
		metrics_labels(fp, s);
		fprintf(fp, ",le=\"+Inf\"} %llu\n",
		    (unsigned long long)s->requests);
		fputs("signerd_request_duration_seconds_sum{", fp);
		metrics_labels(fp, s);
		fprintf(fp, "} %llu.%06llu\n",
		    (unsigned long long)(s->usec_sum / 1000000),
		    (unsigned long long)(s->usec_sum % 1000000));
		fputs("signerd_request_duration_seconds_count{", fp);
		metrics_labels(fp, s);
		fprintf(fp, "} %llu\n", (unsigned long long)s->requests);
	}
}

static void
metrics_connections(FILE *fp)
{
	metrics_family(fp, "signerd_connections", "gauge", NULL,
	    "Client connections open and admitted.");
	fprintf(fp, "signerd_connections %u\n", fe_stats.open);
	metrics_family(fp, "signerd_handshakes", "gauge", NULL,
	    "Client connections in the TLS handshake.");
	fprintf(fp, "signerd_handshakes %u\n", fe_stats.handshakes);
	metrics_family(fp, "signerd_connections_accepted", "counter", NULL,
	    "TCP connections accepted by the frontend since it started.");
	fprintf(fp, "signerd_connections_accepted_total %llu\n",
	    (unsigned long long)fe_stats.accepted);
	metrics_family(fp, "signerd_connections_admitted", "counter", NULL,
	    "Connections admitted after the TLS handshake.");
	fprintf(fp, "signerd_connections_admitted_total %llu\n",
	    (unsigned long long)fe_stats.admitted);
	metrics_family(fp, "signerd_connections_refused", "counter", NULL,
	    "Connections closed before they were admitted, by why.");
	fprintf(fp, "signerd_connections_refused_total{reason=\"limit\"} "
	    "%llu\n", (unsigned long long)fe_stats.refused_limit);
	fprintf(fp, "signerd_connections_refused_total"
	    "{reason=\"certificate\"} %llu\n",
	    (unsigned long long)fe_stats.refused_cert);
	fprintf(fp, "signerd_connections_refused_total{reason=\"handshake\"} "
	    "%llu\n", (unsigned long long)fe_stats.failed);
}

/*
 * A gauge per signer and state, 1 for the state it is in: as the engine
 * last heard from the signer, hung if it missed a deadline, restarting
 * while its process is not running.
 */
static void
metrics_signers(FILE *fp)
{
	struct eproc	*ep;
	struct esigner	*es;
	int		 st, s;

	metrics_family(fp, "signerd_signer_state", "gauge", NULL,
	    "1 for the state each signer is in, else 0.");
	TAILQ_FOREACH(ep, &engine->procs, entry) {
		if (ep->pi.kind != PROC_HSM)
			continue;
		es = esigner_find(ep->pi.signer_id);
		if (es != NULL && es->hung)
			st = SSTATE_HUNG;
		else if (ep->pi.state == PSTATE_BACKOFF ||
		    ep->pi.state == PSTATE_STOPPING ||
		    (ep->pi.state == PSTATE_RUNNING &&
		    (es == NULL || !es->iev.active)))
			st = SSTATE_RESTARTING;
		else if (es == NULL || ep->pi.state != PSTATE_RUNNING)
			st = SSTATE_UNKNOWN;
		else
			st = es->status.state;
		strterm(ep->pi.name, sizeof(ep->pi.name));
		for (s = SSTATE_UNKNOWN; s <= SSTATE_WRONG_TOKEN; s++) {
			fputs("signerd_signer_state{signer=", fp);
			metrics_label(fp, ep->pi.name);
			fprintf(fp, ",state=\"%s\"} %d\n",
			    signer_state_name(s), s == st);
		}
	}
}

/* The keystore's size; -1 if it cannot be read (logged). */
static int
metrics_keystore(FILE *fp)
{
	int64_t	 objects, bytes;

	if (engine->ks == NULL)
		return (0);
	if (ks_size(engine->ks, &objects, &bytes) == -1) {
		log_warnx("show metrics: keystore: %s", ks_error(engine->ks));
		return (-1);
	}
	metrics_family(fp, "signerd_keystore_objects", "gauge", NULL,
	    "Objects in the keystore, Destroyed ones included.");
	fprintf(fp, "signerd_keystore_objects %lld\n", (long long)objects);
	metrics_family(fp, "signerd_keystore_size_bytes", "gauge", "bytes",
	    "Size of the keystore's database file.");
	fprintf(fp, "signerd_keystore_size_bytes %lld\n", (long long)bytes);
	return (0);
}

/*
 * signerctl show metrics: the text, built in memory, sent in chunks of
 * IMSG_CTL_METRICS (each well under the control socket's imsg size),
 * then IMSG_CTL_END.
 */
void
metrics_show(struct ctl_conn *c)
{
	struct timespec	 now;
	struct ctl_result res;
	FILE		*fp;
	char		*buf = NULL;
	size_t		 len = 0, off, n;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		fatal("open_memstream");
	metrics_requests(fp);
	metrics_connections(fp);
	metrics_signers(fp);
	if (metrics_keystore(fp) == -1) {
		fclose(fp);
		free(buf);
		ctl_result_set(&res, CTL_FAILED, "keystore not readable");
		imsg_compose_event(&c->iev, IMSG_CTL_RESULT, 0, 0, -1, &res,
		    sizeof(res));
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	metrics_family(fp, "signerd_uptime_seconds", "gauge", "seconds",
	    "Seconds since the engine started, and its counters with it.");
	fprintf(fp, "signerd_uptime_seconds %lld\n",
	    (long long)(now.tv_sec - started.tv_sec));
	fputs("# EOF\n", fp);
	if (fclose(fp) == EOF)
		fatal("show metrics");
	for (off = 0; off < len; off += n) {
		n = len - off < METRICS_CHUNK ? len - off : METRICS_CHUNK;
		imsg_compose_event(&c->iev, IMSG_CTL_METRICS, 0, 0, -1,
		    buf + off, n);
	}
	free(buf);
	imsg_compose_event(&c->iev, IMSG_CTL_END, 0, 0, -1, NULL, 0);
}
