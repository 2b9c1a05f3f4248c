/*
 * hopbench: what one round trip between two processes costs on this
 * machine, the floor under signerd's latency at c=1.  A Sign request
 * crosses three such round trips (client-frontend over TCP,
 * frontend-engine and engine-signer over socketpairs), each a wake-up
 * of a blocked process on each side.
 *
 * A child echoes what it reads; the parent writes 64 bytes and waits in
 * epoll for the answer, as signerd's processes do, N times.  The chain
 * of P processes (-p, default 2) passes each message along and back:
 * with -p 4 one message makes the trips of a request through client,
 * frontend, engine and signer, without any work.  After a warm-up, R
 * runs (-r) of -n round trips; prints each run and the medians in
 * kmipbench's format (round trips per second, p50 and p99 in us).
 *
 * Not part of the test suite: `make bench` runs it through etc/bench.sh.
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HOP_MSG		64
#define HOP_MAXPROCS	8
#define HOP_MAXRUNS	99

static void	 relay(int, int);
static int	 xread(int, int, char *, size_t);
static int	 xwrite(int, const char *, size_t);
static double	 now_us(void);
static int	 dcmp(const void *, const void *);
static void	 usage(void) __attribute__((__noreturn__));

static void
usage(void)
{
	fprintf(stderr, "usage: hopbench [-n trips] [-p procs] [-r runs]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	static double	 lat[100000];
	double		 rate[HOP_MAXRUNS], p50[HOP_MAXRUNS], p99[HOP_MAXRUNS];
	double		 t0, t, start;
	pid_t		 pids[HOP_MAXPROCS];
	char		 msg[HOP_MSG];
	int		 sv[HOP_MAXPROCS][2], ep, ch, i, k, run;
	int		 n = 20000, procs = 2, runs = 3;
	const char	*e;

	while ((ch = getopt(argc, argv, "n:p:r:")) != -1) {
		switch (ch) {
		case 'n':
			n = strtonum(optarg, 100, 100000, &e);
			if (e != NULL)
				errx(1, "-n %s: %s", optarg, e);
			break;
		case 'p':
			procs = strtonum(optarg, 2, HOP_MAXPROCS, &e);
			if (e != NULL)
				errx(1, "-p %s: %s", optarg, e);
			break;
		case 'r':
			runs = strtonum(optarg, 1, HOP_MAXRUNS, &e);
			if (e != NULL)
				errx(1, "-r %s: %s", optarg, e);
			break;
		default:
			usage();
		}
	}
	/* Process i talks to process i + 1 over sv[i]. */
	for (i = 0; i < procs - 1; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]) == -1)
			err(1, "socketpair");
	for (i = 1; i < procs; i++) {
		if ((pids[i] = fork()) == -1)
			err(1, "fork");
		if (pids[i] == 0) {
			for (k = 0; k < procs - 1; k++) {
				if (k != i - 1)
					close(sv[k][1]);
				if (k != i)
					close(sv[k][0]);
			}
			relay(sv[i - 1][1], i < procs - 1 ? sv[i][0] : -1);
			_exit(0);
		}
	}
	for (k = 0; k < procs - 1; k++) {
		close(sv[k][1]);
		if (k != 0)
			close(sv[k][0]);
	}
	if ((ep = epoll_create1(0)) == -1)
		err(1, "epoll_create1");
	memset(msg, 'm', sizeof(msg));
	for (run = -1; run < runs; run++) {
		start = now_us();
		for (i = 0; i < n; i++) {
			t0 = now_us();
			if (xwrite(sv[0][0], msg, sizeof(msg)) == -1 ||
			    xread(ep, sv[0][0], msg, sizeof(msg)) == -1)
				err(1, "round trip");
			lat[i] = now_us() - t0;
		}
		t = now_us() - start;
		if (run < 0)
			continue;	/* the warm-up */
		qsort(lat, n, sizeof(lat[0]), dcmp);
		rate[run] = n / (t / 1e6);
		p50[run] = lat[n / 2];
		p99[run] = lat[n * 99 / 100];
		printf("  hops p=%d run %d/%d: %.0f trips/s p50 %.1f us "
		    "p99 %.1f us\n", procs, run + 1, runs, rate[run],
		    p50[run], p99[run]);
	}
	qsort(rate, runs, sizeof(rate[0]), dcmp);
	qsort(p50, runs, sizeof(p50[0]), dcmp);
	qsort(p99, runs, sizeof(p99[0]), dcmp);
	printf("hops p=%d: %.0f trips/s (median of %d) p50 %.1f us p99 %.1f us\n",
	    procs, rate[runs / 2], runs, p50[runs / 2], p99[runs / 2]);
	close(sv[0][0]);
	for (i = 1; i < procs; i++)
		(void)waitpid(pids[i], NULL, 0);
	return (0);
}

/* Pass what comes from up to down and back; no down: echo. */
static void
relay(int up, int down)
{
	char	 msg[HOP_MSG];
	int	 ep;

	if ((ep = epoll_create1(0)) == -1)
		_exit(1);
	for (;;) {
		if (xread(ep, up, msg, sizeof(msg)) == -1)
			_exit(0);
		if (down != -1 && (xwrite(down, msg, sizeof(msg)) == -1 ||
		    xread(ep, down, msg, sizeof(msg)) == -1))
			_exit(0);
		if (xwrite(up, msg, sizeof(msg)) == -1)
			_exit(0);
	}
}

/* Wait in epoll as an event loop would, then read all of it. */
static int
xread(int ep, int fd, char *buf, size_t len)
{
	struct epoll_event	 ev;
	size_t			 off = 0;
	ssize_t			 r;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1 && errno != EEXIST)
		return (-1);
	while (off < len) {
		if (epoll_wait(ep, &ev, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if ((r = read(fd, buf + off, len - off)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return (-1);
		}
		off += r;
	}
	return (0);
}

static int
xwrite(int fd, const char *buf, size_t len)
{
	size_t	 off = 0;
	ssize_t	 w;

	while (off < len) {
		if ((w = write(fd, buf + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		off += w;
	}
	return (0);
}

static double
now_us(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e6 + ts.tv_nsec / 1e3);
}

static int
dcmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}
