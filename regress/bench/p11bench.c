/*
 * p11bench: the raw PKCS#11 signature rate of a token, the yardstick for
 * signerd's pkcs11 signer.  T threads, each with its own session on the
 * token, run C_SignInit and C_Sign for a time; after a warm-up, R runs
 * are measured and each run and the medians printed in kmipbench's
 * format: signatures per second and latency per signature (p50, p99).
 *
 * The signature is the one signerd's signer makes for a KMIP Sign of the
 * same 64-byte message (hsmproc/p11key.c, p11_sign): RSA
 * CKM_SHA256_RSA_PKCS over the message, ECDSA CKM_ECDSA over its SHA-256
 * digest (hashed in software for each signature, as the signer does),
 * Ed25519 CKM_EDDSA over the message.  The key is the private key with
 * the label given (-l: e.g. a key signerd made, labelled with its KMIP
 * identifier), or else a session key pair made here (CKA_TOKEN false:
 * gone when the program ends).  Every signature's length is checked.
 *
 * Not part of the test suite: `make bench` runs it through etc/bench.sh.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <dlfcn.h>
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <p11-kit/pkcs11.h>

#define BENCH_MSGLEN		64	/* as kmipbench */
#define BENCH_MAXTHREADS	256
#define BENCH_MAXRUNS		99
#define BENCH_SIGMAX		1024	/* as large as any signature of ours */
#define BENCH_PINMAX		256

struct bench_op {
	const char		*name;
	CK_KEY_TYPE		 kt;
	CK_MECHANISM_TYPE	 gen;
	CK_MECHANISM_TYPE	 sign;
	CK_ULONG		 siglen;	/* bytes of each signature */
	const uint8_t		*params;	/* CKA_EC_PARAMS */
	size_t			 paramslen;
};

static const uint8_t	 oid_p256[] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
};
static const uint8_t	 oid_ed25519[] = {
	0x06, 0x03, 0x2b, 0x65, 0x70
};

static const struct bench_op bench_ops[] = {
	{ "sign-rsa2048", CKK_RSA, CKM_RSA_PKCS_KEY_PAIR_GEN,
	    CKM_SHA256_RSA_PKCS, 256, NULL, 0 },
	{ "sign-p256", CKK_EC, CKM_EC_KEY_PAIR_GEN, CKM_ECDSA, 64,
	    oid_p256, sizeof(oid_p256) },
	{ "sign-ed25519", CKK_EC_EDWARDS, CKM_EC_EDWARDS_KEY_PAIR_GEN,
	    CKM_EDDSA, 64, oid_ed25519, sizeof(oid_ed25519) }
};

struct worker {
	pthread_t		 thread;
	int			 id;
	CK_SESSION_HANDLE	 session;
	double			*lat;		/* ms, this phase */
	size_t			 nlat;
	size_t			 latcap;
	uint64_t		 ops;
	char			 error[256];	/* the first failure */
};

struct run {
	double		 rate;		/* signatures per second */
	double		 p50;		/* ms per signature */
	double		 p99;
	double		 cpu;		/* our CPU, us per signature */
};

/* Options and what the set-up made; read-only once threads run. */
static struct {
	const struct bench_op	*op;
	const char		*module;
	const char		*token;
	const char		*label;
	const char		*pinfile;
	int			 threads;
	int			 runs;
	double			 seconds;
	double			 warmup;
	void			*dl;
	CK_FUNCTION_LIST_PTR	 f;
	CK_SLOT_ID		 slot;
	CK_SESSION_HANDLE	 setup;		/* holds the session keys */
	CK_OBJECT_HANDLE	 key;
	uint8_t			 msg[BENCH_MSGLEN];
} bench;

/* A phase: its end and whether to keep latencies. */
static struct {
	struct timespec		 end;
	int			 record;
} phase;

static void		 usage(void) __attribute__((__noreturn__));
static void		 p11_fatalx(const char *, CK_RV)
			    __attribute__((__noreturn__));
static double		 ts_ms(const struct timespec *,
			    const struct timespec *);
static void		 ts_add(struct timespec *, double);
static int		 ts_before(const struct timespec *,
			    const struct timespec *);
static void		 token_open(void);
static void		 token_login(void);
static void		 key_find(void);
static void		 key_make(void);
static void		 worker_fail(struct worker *, const char *, CK_RV);
static int		 sign_once(struct worker *, uint8_t *);
static void		*worker_main(void *);
static void		 run_phase(struct worker *, double, int,
			    struct run *);
static double		 tv_us(const struct timeval *, const struct timeval *);
static int		 dbl_cmp(const void *, const void *);
static double		 percentile(double *, size_t, double);
static double		 median(double *, int);

static void
usage(void)
{
	size_t	 i;

	fprintf(stderr, "usage: p11bench [-l label] [-m module] "
	    "[-P pinfile] [-r runs] [-T threads]\n"
	    "\t[-t seconds] [-w warmup] -k token -o operation\n");
	fprintf(stderr, "operations:");
	for (i = 0; i < sizeof(bench_ops) / sizeof(bench_ops[0]); i++)
		fprintf(stderr, " %s", bench_ops[i].name);
	fprintf(stderr, "\n");
	exit(2);
}

static void
p11_fatalx(const char *what, CK_RV rv)
{
	errx(1, "%s: CKR 0x%lx", what, (unsigned long)rv);
}

static double
ts_ms(const struct timespec *a, const struct timespec *b)
{
	return ((b->tv_sec - a->tv_sec) * 1e3 +
	    (b->tv_nsec - a->tv_nsec) / 1e6);
}

static void
ts_add(struct timespec *t, double secs)
{
	long long	 ns;

	ns = t->tv_nsec + (long long)(secs * 1e9);
	t->tv_sec += ns / 1000000000;
	t->tv_nsec = ns % 1000000000;
}

/* Microseconds from a to b. */
static double
tv_us(const struct timeval *a, const struct timeval *b)
{
	return ((b->tv_sec - a->tv_sec) * 1e6 + (b->tv_usec - a->tv_usec));
}

static int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec));
}

/*
 * Load the module, initialize it for threads (its own locking, as the
 * signer does) and find the slot whose token has the label.
 */
static void
token_open(void)
{
	CK_C_GetFunctionList	 getfl;
	CK_C_INITIALIZE_ARGS	 args;
	CK_TOKEN_INFO		 ti;
	CK_SLOT_ID		*slots;
	CK_ULONG		 n = 0, i;
	size_t			 len;
	CK_RV			 rv;

	if ((bench.dl = dlopen(bench.module, RTLD_NOW | RTLD_LOCAL)) == NULL)
		errx(1, "cannot load %s: %s", bench.module, dlerror());
	if ((getfl = (CK_C_GetFunctionList)dlsym(bench.dl,
	    "C_GetFunctionList")) == NULL)
		errx(1, "%s: no C_GetFunctionList", bench.module);
	if ((rv = getfl(&bench.f)) != CKR_OK || bench.f == NULL)
		p11_fatalx("C_GetFunctionList", rv);
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	if ((rv = bench.f->C_Initialize(&args)) != CKR_OK)
		p11_fatalx("C_Initialize", rv);
	if ((rv = bench.f->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK)
		p11_fatalx("C_GetSlotList", rv);
	if (n == 0)
		errx(1, "no token present");
	if ((slots = calloc(n, sizeof(*slots))) == NULL)
		err(1, NULL);
	if ((rv = bench.f->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK)
		p11_fatalx("C_GetSlotList", rv);
	len = strlen(bench.token);
	for (i = 0; i < n; i++) {
		if (bench.f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		/* The label is blank-padded to 32 bytes, not terminated. */
		if (len <= sizeof(ti.label) &&
		    memcmp(ti.label, bench.token, len) == 0 &&
		    (len == sizeof(ti.label) || ti.label[len] == ' '))
			break;
	}
	if (i == n)
		errx(1, "token \"%s\" not found (%lu tokens present)",
		    bench.token, (unsigned long)n);
	bench.slot = slots[i];
	free(slots);
}

/* The set-up session, logged in with the PIN from the file (if any). */
static void
token_login(void)
{
	FILE	*fp;
	char	 pin[BENCH_PINMAX];
	size_t	 len;
	CK_RV	 rv;

	if ((rv = bench.f->C_OpenSession(bench.slot, CKF_SERIAL_SESSION |
	    CKF_RW_SESSION, NULL, NULL, &bench.setup)) != CKR_OK)
		p11_fatalx("C_OpenSession", rv);
	if (bench.pinfile == NULL)
		return;
	if ((fp = fopen(bench.pinfile, "r")) == NULL)
		err(1, "%s", bench.pinfile);
	if (fgets(pin, sizeof(pin), fp) == NULL)
		errx(1, "%s: no PIN", bench.pinfile);
	fclose(fp);
	len = strcspn(pin, "\r\n");
	rv = bench.f->C_Login(bench.setup, CKU_USER, (CK_UTF8CHAR_PTR)pin,
	    len);
	explicit_bzero(pin, sizeof(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		p11_fatalx("C_Login", rv);
}

/* The one private key of the operation's type with the label. */
static void
key_find(void)
{
	CK_OBJECT_CLASS		 cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE		 kt = bench.op->kt;
	CK_ATTRIBUTE		 t[3];
	CK_OBJECT_HANDLE	 found[2];
	CK_ULONG		 n = 0;
	CK_RV			 rv;

	t[0].type = CKA_CLASS;
	t[0].pValue = &cls;
	t[0].ulValueLen = sizeof(cls);
	t[1].type = CKA_KEY_TYPE;
	t[1].pValue = &kt;
	t[1].ulValueLen = sizeof(kt);
	t[2].type = CKA_LABEL;
	t[2].pValue = (void *)(uintptr_t)bench.label;
	t[2].ulValueLen = strlen(bench.label);
	if ((rv = bench.f->C_FindObjectsInit(bench.setup, t, 3)) != CKR_OK)
		p11_fatalx("C_FindObjectsInit", rv);
	rv = bench.f->C_FindObjects(bench.setup, found, 2, &n);
	(void)bench.f->C_FindObjectsFinal(bench.setup);
	if (rv != CKR_OK)
		p11_fatalx("C_FindObjects", rv);
	if (n != 1)
		errx(1, "%s private keys labelled \"%s\" in token \"%s\"",
		    n == 0 ? "no" : "several", bench.label, bench.token);
	bench.key = found[0];
}

/* A session key pair of the operation's kind, in the set-up session. */
static void
key_make(void)
{
	static CK_BBOOL		 yes = CK_TRUE, no = CK_FALSE;
	static CK_BYTE		 e65537[] = { 0x01, 0x00, 0x01 };
	CK_MECHANISM		 mech = { bench.op->gen, NULL, 0 };
	CK_ATTRIBUTE		 pt[4], vt[4];
	CK_ULONG		 bits = 2048, npt = 0, nvt = 0;
	CK_OBJECT_HANDLE	 pub;
	CK_RV			 rv;

#define ADD(t, n, a, v, l) do {			\
	(t)[(n)].type = (a);				\
	(t)[(n)].pValue = (void *)(uintptr_t)(v);	\
	(t)[(n)].ulValueLen = (l);			\
	(n)++;						\
} while (0)
	ADD(pt, npt, CKA_TOKEN, &no, sizeof(no));
	ADD(pt, npt, CKA_VERIFY, &yes, sizeof(yes));
	if (bench.op->kt == CKK_RSA) {
		ADD(pt, npt, CKA_MODULUS_BITS, &bits, sizeof(bits));
		ADD(pt, npt, CKA_PUBLIC_EXPONENT, e65537, sizeof(e65537));
	} else
		ADD(pt, npt, CKA_EC_PARAMS, bench.op->params,
		    bench.op->paramslen);
	ADD(vt, nvt, CKA_TOKEN, &no, sizeof(no));
	ADD(vt, nvt, CKA_PRIVATE, &yes, sizeof(yes));
	ADD(vt, nvt, CKA_SENSITIVE, &yes, sizeof(yes));
	ADD(vt, nvt, CKA_SIGN, &yes, sizeof(yes));
#undef ADD
	if ((rv = bench.f->C_GenerateKeyPair(bench.setup, &mech, pt, npt,
	    vt, nvt, &pub, &bench.key)) != CKR_OK)
		p11_fatalx("C_GenerateKeyPair", rv);
}

static void
worker_fail(struct worker *w, const char *what, CK_RV rv)
{
	if (w->error[0] == '\0')
		(void)snprintf(w->error, sizeof(w->error), "%s: CKR 0x%lx",
		    what, (unsigned long)rv);
}

/* One signature as the signer makes it; 0, or -1 with w->error. */
static int
sign_once(struct worker *w, uint8_t *sig)
{
	CK_MECHANISM	 mech = { bench.op->sign, NULL, 0 };
	uint8_t		 digest[EVP_MAX_MD_SIZE];
	const uint8_t	*in = bench.msg;
	unsigned int	 dlen;
	CK_ULONG	 inlen = sizeof(bench.msg), siglen;
	CK_RV		 rv;

	if (bench.op->sign == CKM_ECDSA) {
		if (EVP_Digest(bench.msg, sizeof(bench.msg), digest, &dlen,
		    EVP_sha256(), NULL) != 1) {
			worker_fail(w, "EVP_Digest", 0);
			return (-1);
		}
		in = digest;
		inlen = dlen;
	}
	if ((rv = bench.f->C_SignInit(w->session, &mech, bench.key)) !=
	    CKR_OK) {
		worker_fail(w, "C_SignInit", rv);
		return (-1);
	}
	siglen = BENCH_SIGMAX;
	if ((rv = bench.f->C_Sign(w->session, (CK_BYTE_PTR)(uintptr_t)in,
	    inlen, sig, &siglen)) != CKR_OK) {
		worker_fail(w, "C_Sign", rv);
		return (-1);
	}
	if (siglen != bench.op->siglen) {
		if (w->error[0] == '\0')
			(void)snprintf(w->error, sizeof(w->error),
			    "C_Sign: %lu bytes, not %lu",
			    (unsigned long)siglen,
			    (unsigned long)bench.op->siglen);
		return (-1);
	}
	return (0);
}

/* Sign until the phase ends or a signature fails. */
static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	struct timespec	 start, now;
	uint8_t		 sig[BENCH_SIGMAX];
	double		*p;

	w->nlat = 0;
	w->ops = 0;
	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		err(1, "clock_gettime");
	while (ts_before(&now, &phase.end)) {
		start = now;
		if (sign_once(w, sig) == -1)
			break;
		if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
			err(1, "clock_gettime");
		w->ops++;
		if (!phase.record)
			continue;
		if (w->nlat == w->latcap) {
			w->latcap = w->latcap == 0 ? 4096 : w->latcap * 2;
			if ((p = reallocarray(w->lat, w->latcap,
			    sizeof(*p))) == NULL)
				err(1, NULL);
			w->lat = p;
		}
		w->lat[w->nlat++] = ts_ms(&start, &now);
	}
	return (NULL);
}

/*
 * One phase on every thread; with record, the rate and latencies in *r.
 * The rate counts the signatures over the time until the last thread
 * ended.  A failed signature ends the program.
 */
static void
run_phase(struct worker *wk, double secs, int record, struct run *r)
{
	struct timespec	 start, end;
	struct rusage	 ru0, ru1;
	uint64_t	 ops = 0;
	double		*all;
	size_t		 n = 0, k;
	int		 i, e, failed = 0;

	if (getrusage(RUSAGE_SELF, &ru0) == -1)
		err(1, "getrusage");
	if (clock_gettime(CLOCK_MONOTONIC, &start) == -1)
		err(1, "clock_gettime");
	phase.end = start;
	ts_add(&phase.end, secs);
	phase.record = record;
	for (i = 0; i < bench.threads; i++)
		if ((e = pthread_create(&wk[i].thread, NULL, worker_main,
		    &wk[i])) != 0)
			errc(1, e, "pthread_create");
	for (i = 0; i < bench.threads; i++)
		if ((e = pthread_join(wk[i].thread, NULL)) != 0)
			errc(1, e, "pthread_join");
	if (clock_gettime(CLOCK_MONOTONIC, &end) == -1)
		err(1, "clock_gettime");
	if (getrusage(RUSAGE_SELF, &ru1) == -1)
		err(1, "getrusage");
	for (i = 0; i < bench.threads; i++) {
		ops += wk[i].ops;
		n += wk[i].nlat;
		if (wk[i].error[0] != '\0') {
			fprintf(stderr, "p11bench: %s thread %d: %s\n",
			    bench.op->name, i, wk[i].error);
			failed = 1;
		}
	}
	if (failed) {
		printf("%s ERROR: a signature failed%s\n", bench.op->name,
		    record ? "" : " (warm-up)");
		fflush(stdout);
		exit(1);
	}
	if (!record)
		return;
	if ((all = calloc(n > 0 ? n : 1, sizeof(*all))) == NULL)
		err(1, NULL);
	for (i = 0, k = 0; i < bench.threads; i++) {
		memcpy(all + k, wk[i].lat, wk[i].nlat * sizeof(*all));
		k += wk[i].nlat;
	}
	qsort(all, n, sizeof(*all), dbl_cmp);
	r->rate = ops / (ts_ms(&start, &end) / 1e3);
	r->p50 = percentile(all, n, 0.50);
	r->p99 = percentile(all, n, 0.99);
	/* All threads' user and system time: what the token takes. */
	r->cpu = ops == 0 ? 0 : (tv_us(&ru0.ru_utime, &ru1.ru_utime) +
	    tv_us(&ru0.ru_stime, &ru1.ru_stime)) / ops;
	free(all);
}

static int
dbl_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* The nearest-rank percentile of n sorted values. */
static double
percentile(double *v, size_t n, double q)
{
	size_t	 k;

	if (n == 0)
		return (0);
	k = (size_t)(q * n + 0.999999);
	if (k < 1)
		k = 1;
	return (v[(k > n ? n : k) - 1]);
}

static double
median(double *v, int n)
{
	qsort(v, n, sizeof(*v), dbl_cmp);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

int
main(int argc, char *argv[])
{
	struct worker	*wk;
	struct run	 runs[BENCH_MAXRUNS];
	double		 v[BENCH_MAXRUNS], rate, p50, p99, cpu;
	const char	*errstr;
	size_t		 i;
	CK_RV		 rv;
	int		 ch;

	bench.module = "/usr/lib/softhsm/libsofthsm2.so";
	bench.threads = 1;
	bench.runs = 3;
	bench.seconds = 3;
	bench.warmup = 1;
	while ((ch = getopt(argc, argv, "k:l:m:o:P:r:T:t:w:")) != -1) {
		switch (ch) {
		case 'k':
			bench.token = optarg;
			break;
		case 'l':
			bench.label = optarg;
			break;
		case 'm':
			bench.module = optarg;
			break;
		case 'o':
			for (i = 0; i < sizeof(bench_ops) /
			    sizeof(bench_ops[0]); i++)
				if (strcmp(optarg, bench_ops[i].name) == 0)
					bench.op = &bench_ops[i];
			if (bench.op == NULL)
				usage();
			break;
		case 'P':
			bench.pinfile = optarg;
			break;
		case 'r':
			bench.runs = strtonum(optarg, 1, BENCH_MAXRUNS,
			    &errstr);
			if (errstr != NULL)
				errx(2, "runs %s: %s", optarg, errstr);
			break;
		case 'T':
			bench.threads = strtonum(optarg, 1, BENCH_MAXTHREADS,
			    &errstr);
			if (errstr != NULL)
				errx(2, "threads %s: %s", optarg, errstr);
			break;
		case 't':
			bench.seconds = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(2, "seconds %s: %s", optarg, errstr);
			break;
		case 'w':
			bench.warmup = strtonum(optarg, 0, 3600, &errstr);
			if (errstr != NULL)
				errx(2, "warm-up %s: %s", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	if (argc != 0 || bench.op == NULL || bench.token == NULL)
		usage();

	/* The same 64 bytes as kmipbench signs. */
	for (i = 0; i < sizeof(bench.msg); i++)
		bench.msg[i] = (uint8_t)(i * 7 + 1);
	token_open();
	token_login();
	if (bench.label != NULL)
		key_find();
	else
		key_make();
	if ((wk = calloc(bench.threads, sizeof(*wk))) == NULL)
		err(1, NULL);
	for (ch = 0; ch < bench.threads; ch++) {
		wk[ch].id = ch;
		if ((rv = bench.f->C_OpenSession(bench.slot,
		    CKF_SERIAL_SESSION, NULL, NULL, &wk[ch].session)) !=
		    CKR_OK)
			p11_fatalx("C_OpenSession", rv);
	}

	if (bench.warmup > 0)
		run_phase(wk, bench.warmup, 0, NULL);
	for (ch = 0; ch < bench.runs; ch++) {
		run_phase(wk, bench.seconds, 1, &runs[ch]);
		printf("  %s t=%d run %d/%d: %.0f ops/s p50 %.2f ms "
		    "p99 %.2f ms CPU %.1f us/op\n", bench.op->name,
		    bench.threads, ch + 1, bench.runs, runs[ch].rate,
		    runs[ch].p50, runs[ch].p99, runs[ch].cpu);
		fflush(stdout);
	}
	for (ch = 0; ch < bench.runs; ch++)
		v[ch] = runs[ch].rate;
	rate = median(v, bench.runs);
	for (ch = 0; ch < bench.runs; ch++)
		v[ch] = runs[ch].p50;
	p50 = median(v, bench.runs);
	for (ch = 0; ch < bench.runs; ch++)
		v[ch] = runs[ch].p99;
	p99 = median(v, bench.runs);
	for (ch = 0; ch < bench.runs; ch++)
		v[ch] = runs[ch].cpu;
	cpu = median(v, bench.runs);
	printf("%s t=%d: %.0f ops/s (median of %d) p50 %.2f ms p99 %.2f ms "
	    "CPU %.1f us/op\n", bench.op->name, bench.threads, rate,
	    bench.runs, p50, p99, cpu);

	for (ch = 0; ch < bench.threads; ch++) {
		(void)bench.f->C_CloseSession(wk[ch].session);
		free(wk[ch].lat);
	}
	free(wk);
	/* Closing the set-up session destroys the session keys. */
	(void)bench.f->C_CloseSession(bench.setup);
	(void)bench.f->C_Finalize(NULL);
	dlclose(bench.dl);
	return (0);
}
