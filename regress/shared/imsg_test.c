/*
 * Unit tests for shared/imsg.c and shared/imsg-buffer.c: framing over a
 * socketpair, descriptor passing, limits, and the bounds-checked ibuf
 * readers the TTLV codec relies on.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <atf-c.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define T_TYPE		42
#define T_ID		7

static void	chan_open(int [2], struct imsgbuf *, struct imsgbuf *);
static void	chan_close(int [2], struct imsgbuf *, struct imsgbuf *);
static int	read_one(struct imsgbuf *, struct imsg *);
static void	send_raw(int, const void *, size_t);
static void	pipe_check(int, int, const char *);
static int	fd_is_open(int);
static int	fd_count(void);
#include "../atfsan.h"

/* A blocking socketpair with an imsgbuf on each end, fd passing on. */
static void
chan_open(int sv[2], struct imsgbuf *a, struct imsgbuf *b)
{
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	ATF_REQUIRE(imsgbuf_init(a, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(b, sv[1]) == 0);
	imsgbuf_allow_fdpass(a);
	imsgbuf_allow_fdpass(b);
}

static void
chan_close(int sv[2], struct imsgbuf *a, struct imsgbuf *b)
{
	imsgbuf_clear(a);
	imsgbuf_clear(b);
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
}

/* Read until one message is complete; the caller has flushed it. */
static int
read_one(struct imsgbuf *ib, struct imsg *imsg)
{
	int	 n, r;

	for (;;) {
		if ((n = imsgbuf_get(ib, imsg)) != 0)
			return (n);
		if ((r = imsgbuf_read(ib)) != 1)
			return (r == 0 ? -2 : -1);
	}
}

static void
send_raw(int fd, const void *p, size_t len)
{
	ATF_REQUIRE_EQ(write(fd, p, len), (ssize_t)len);
}

/* Write through wfd, read back through rfd. */
static void
pipe_check(int wfd, int rfd, const char *s)
{
	char	 buf[32];
	ssize_t	 n;

	ATF_REQUIRE_EQ(write(wfd, s, strlen(s)), (ssize_t)strlen(s));
	n = read(rfd, buf, sizeof(buf) - 1);
	ATF_REQUIRE_EQ(n, (ssize_t)strlen(s));
	buf[n] = '\0';
	ATF_REQUIRE_STREQ(buf, s);
}

static int
fd_is_open(int fd)
{
	return (fcntl(fd, F_GETFD) != -1 || errno != EBADF);
}

static int
fd_count(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	ATF_REQUIRE((d = opendir("/proc/self/fd")) != NULL);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n);
}

ATF_TC_WITHOUT_HEAD(roundtrip);
ATF_TC_BODY(roundtrip, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	char		 out[6];
	int		 sv[2];

	chan_open(sv, &a, &b);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, T_ID, 0, -1, "hello", 6), 1);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE + 1, 0, 1234, -1, NULL, 0), 1);
	ATF_REQUIRE(imsgbuf_queuelen(&a) > 0);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&a), 0);

	ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
	ATF_REQUIRE_EQ(imsg_get(&b, &imsg), (ssize_t)(IMSG_HEADER_SIZE + 6));
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), T_TYPE);
	ATF_REQUIRE_EQ(imsg_get_id(&imsg), T_ID);
	ATF_REQUIRE_EQ(imsg_get_pid(&imsg), getpid());
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), 6);
	ATF_REQUIRE_EQ(imsg.hdr.len, IMSG_HEADER_SIZE + 6);
	ATF_REQUIRE_EQ(imsg_get_fd(&imsg), -1);
	ATF_REQUIRE(imsg.data != NULL && memcmp(imsg.data, "hello", 6) == 0);
	ATF_REQUIRE_EQ(imsg_get_data(&imsg, out, sizeof(out)), 0);
	ATF_REQUIRE_STREQ(out, "hello");
	imsg_free(&imsg);

	ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), T_TYPE + 1);
	ATF_REQUIRE_EQ(imsg_get_pid(&imsg), 1234);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), 0);
	ATF_REQUIRE(imsg.data == NULL);
	imsg_free(&imsg);

	ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), 0);
	chan_close(sv, &a, &b);
}

ATF_TC_WITHOUT_HEAD(create_add_close_forward);
ATF_TC_BODY(create_add_close_forward, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg, fwd;
	struct ibuf	*wbuf, *pbuf;
	struct iovec	 iov[2];
	uint32_t	 v32;
	uint16_t	 v16;
	char		 s[8];
	int		 sv[2];

	chan_open(sv, &a, &b);
	ATF_REQUIRE((wbuf = imsg_create(&a, 1, 2, 3, 4)) != NULL);
	ATF_REQUIRE_EQ(imsg_add(wbuf, "abcd", 4), 4);
	ATF_REQUIRE_EQ(imsg_add(wbuf, "efgh", 4), 4);	/* past the hint */
	imsg_close(&a, wbuf);

	iov[0].iov_base = "12";
	iov[0].iov_len = 2;
	iov[1].iov_base = "345";
	iov[1].iov_len = 4;
	ATF_REQUIRE_EQ(imsg_composev(&a, 2, 0, 0, -1, iov, 2), 1);

	ATF_REQUIRE((pbuf = ibuf_dynamic(0, 64)) != NULL);
	ATF_REQUIRE_EQ(ibuf_add_n32(pbuf, 0xdeadbeef), 0);
	ATF_REQUIRE_EQ(ibuf_add_n16(pbuf, 0x1234), 0);
	ATF_REQUIRE_EQ(imsg_compose_ibuf(&a, 3, 0, 0, pbuf), 1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);

	ATF_REQUIRE_EQ(read_one(&b, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_id(&imsg), 2);
	ATF_REQUIRE_EQ(imsg_get_pid(&imsg), 3);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), 8);
	ATF_REQUIRE(memcmp(imsg.data, "abcdefgh", 8) == 0);

	/* Forward it back after reading part of it: all of it goes. */
	ATF_REQUIRE_EQ(imsg_get_buf(&imsg, s, 3), 0);
	ATF_REQUIRE_EQ(imsg_forward(&b, &imsg), 1);
	imsg_free(&imsg);
	ATF_REQUIRE_EQ(imsgbuf_flush(&b), 0);
	ATF_REQUIRE_EQ(read_one(&a, &fwd), 1);
	ATF_REQUIRE_EQ(imsg_get_type(&fwd), 1);
	ATF_REQUIRE_EQ(imsg_get_pid(&fwd), 3);
	ATF_REQUIRE_EQ(imsg_get_len(&fwd), 8);
	ATF_REQUIRE(memcmp(fwd.data, "abcdefgh", 8) == 0);
	imsg_free(&fwd);

	ATF_REQUIRE_EQ(read_one(&b, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 2);
	ATF_REQUIRE_EQ(imsg_get_strbuf(&imsg, s, 6), 0);
	ATF_REQUIRE_STREQ(s, "12345");
	imsg_free(&imsg);

	ATF_REQUIRE_EQ(read_one(&b, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 3);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), 6);
	ATF_REQUIRE_EQ(ibuf_get_n32(imsg.buf, &v32), 0);
	ATF_REQUIRE_EQ(v32, 0xdeadbeef);
	ATF_REQUIRE_EQ(ibuf_get_n16(imsg.buf, &v16), 0);
	ATF_REQUIRE_EQ(v16, 0x1234);
	imsg_free(&imsg);
	chan_close(sv, &a, &b);
}

ATF_TC_WITHOUT_HEAD(many_in_one_read);
ATF_TC_BODY(many_in_one_read, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	uint32_t	 i, v;
	int		 sv[2];

	chan_open(sv, &a, &b);
	for (i = 0; i < 500; i++)
		ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, i, 0, -1, &i,
		    sizeof(i)), 1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);

	/* 500 * 20 bytes fit one 64 KiB read. */
	ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
	for (i = 0; i < 500; i++) {
		ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), 1);
		ATF_REQUIRE_EQ(imsg_get_id(&imsg), i);
		ATF_REQUIRE_EQ(imsg_get_data(&imsg, &v, sizeof(v)), 0);
		ATF_REQUIRE_EQ(v, i);
		imsg_free(&imsg);
	}
	ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), 0);
	chan_close(sv, &a, &b);
}

/* Feed two messages one byte per read: nothing shows before it is whole. */
ATF_TC_WITHOUT_HEAD(partial_reads);
ATF_TC_BODY(partial_reads, tc)
{
	struct imsgbuf	 b;
	struct imsg	 imsg;
	struct imsg_hdr	 hdr;
	unsigned char	 wire[2 * (sizeof(hdr) + 300)], *p;
	size_t		 i, len, got = 0;
	int		 sv[2];

	p = wire;
	for (i = 0; i < 2; i++) {
		hdr.type = T_TYPE + i;
		hdr.len = sizeof(hdr) + 300;
		hdr.peerid = i;
		hdr.pid = 99;
		memcpy(p, &hdr, sizeof(hdr));
		memset(p + sizeof(hdr), 'a' + i, 300);
		p += sizeof(hdr) + 300;
	}
	len = p - wire;

	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	for (i = 0; i < len; i++) {
		send_raw(sv[0], wire + i, 1);
		ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
		if (imsgbuf_get(&b, &imsg) == 1) {
			ATF_REQUIRE_EQ(i + 1, (got + 1) * (sizeof(hdr) + 300));
			ATF_REQUIRE_EQ(imsg_get_type(&imsg), T_TYPE + got);
			ATF_REQUIRE_EQ(imsg_get_len(&imsg), 300);
			ATF_REQUIRE_EQ(((unsigned char *)imsg.data)[299],
			    'a' + got);
			imsg_free(&imsg);
			got++;
		}
	}
	ATF_REQUIRE_EQ(got, 2);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(fd_passing);
ATF_TC_BODY(fd_passing, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	int		 sv[2], p[2], fd, flags;

	chan_open(sv, &a, &b);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, 0, p[0], "x", 1), 1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);
	/* The sender's copy is closed once sent. */
	ATF_REQUIRE(!fd_is_open(p[0]));

	ATF_REQUIRE_EQ(read_one(&b, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), 1);
	ATF_REQUIRE((fd = imsg_get_fd(&imsg)) != -1);
	ATF_REQUIRE_EQ(imsg_get_fd(&imsg), -1);	/* claimed */
	flags = fcntl(fd, F_GETFD);
	ATF_REQUIRE(flags != -1 && (flags & FD_CLOEXEC));
	imsg_free(&imsg);
	ATF_REQUIRE(fd_is_open(fd));	/* claimed, so not closed */
	pipe_check(p[1], fd, "through the pipe");
	close(fd);
	close(p[1]);
	chan_close(sv, &a, &b);
}

ATF_TC_WITHOUT_HEAD(fd_back_to_back);
ATF_TC_BODY(fd_back_to_back, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	int		 sv[2], p1[2], p2[2], f1, f2;

	chan_open(sv, &a, &b);
	ATF_REQUIRE(pipe(p1) == 0);
	ATF_REQUIRE(pipe(p2) == 0);
	ATF_REQUIRE_EQ(imsg_compose(&a, 1, 0, 0, -1, "a", 1), 1);
	ATF_REQUIRE_EQ(imsg_compose(&a, 2, 0, 0, p1[0], "b", 1), 1);
	ATF_REQUIRE_EQ(imsg_compose(&a, 3, 0, 0, p2[0], "c", 1), 1);
	ATF_REQUIRE_EQ(imsg_compose(&a, 4, 0, 0, -1, "d", 1), 1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);

	ATF_REQUIRE_EQ(read_one(&b, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_fd(&imsg), -1);
	imsg_free(&imsg);
	ATF_REQUIRE_EQ(read_one(&b, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 2);
	f1 = imsg_get_fd(&imsg);
	imsg_free(&imsg);
	ATF_REQUIRE_EQ(read_one(&b, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 3);
	f2 = imsg_get_fd(&imsg);
	imsg_free(&imsg);
	ATF_REQUIRE_EQ(read_one(&b, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 4);
	ATF_REQUIRE_EQ(imsg_get_fd(&imsg), -1);
	imsg_free(&imsg);

	ATF_REQUIRE(f1 != -1 && f2 != -1 && f1 != f2);
	pipe_check(p1[1], f1, "first");
	pipe_check(p2[1], f2, "second");
	close(f1);
	close(f2);
	close(p1[1]);
	close(p2[1]);
	chan_close(sv, &a, &b);
}

/*
 * A message too big for one sendmsg: the descriptor goes with the first
 * part only, so the receiver ends up with exactly one new descriptor.
 */
ATF_TC_WITHOUT_HEAD(fd_partial_write);
ATF_TC_BODY(fd_partial_write, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	unsigned char	*big;
	size_t		 len = 512 * 1024, i;
	int		 sv[2], p[2], fd = -1, before, n = 0, writes = 0;

	ATF_REQUIRE((big = calloc(1, len)) != NULL);
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv) == 0);
	ATF_REQUIRE(imsgbuf_init(&a, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	imsgbuf_allow_fdpass(&a);
	imsgbuf_allow_fdpass(&b);
	ATF_REQUIRE_EQ(imsgbuf_set_maxsize(&a, len), 0);
	ATF_REQUIRE_EQ(imsgbuf_set_maxsize(&b, len), 0);
	ATF_REQUIRE(pipe(p) == 0);
	before = fd_count();

	ATF_REQUIRE_EQ(imsg_compose(&a, 1, 0, 0, p[0], big, len), 1);
	ATF_REQUIRE_EQ(imsg_compose(&a, 2, 0, 0, -1, "x", 1), 1);
	for (i = 0; i < 100000 && n < 2; i++) {
		if (imsgbuf_queuelen(&a) > 0) {
			ATF_REQUIRE_EQ(imsgbuf_write(&a), 0);
			writes++;
		}
		ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
		while (n < 2 && imsgbuf_get(&b, &imsg) == 1) {
			ATF_REQUIRE_EQ(imsg_get_type(&imsg), (uint32_t)n + 1);
			if (n == 0) {
				ATF_REQUIRE_EQ(imsg_get_len(&imsg), len);
				fd = imsg_get_fd(&imsg);
			} else
				ATF_REQUIRE_EQ(imsg_get_fd(&imsg), -1);
			imsg_free(&imsg);
			n++;
		}
	}
	ATF_REQUIRE_EQ(n, 2);
	ATF_REQUIRE(writes > 1);	/* it really took several sendmsg */
	ATF_REQUIRE(fd != -1);
	/* p[0] went away on our side, one descriptor came in: even. */
	ATF_REQUIRE_EQ(fd_count(), before);
	pipe_check(p[1], fd, "big");
	close(fd);
	close(p[1]);
	free(big);
	chan_close(sv, &a, &b);
}

/* An unclaimed descriptor is closed by imsg_free(). */
ATF_TC_WITHOUT_HEAD(fd_unclaimed_closed);
ATF_TC_BODY(fd_unclaimed_closed, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	int		 sv[2], p[2], fd;

	chan_open(sv, &a, &b);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, 0, p[0], NULL, 0), 1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);
	ATF_REQUIRE_EQ(read_one(&b, &imsg), 1);
	ATF_REQUIRE(ibuf_fd_avail(imsg.buf));
	fd = imsg.buf->fd;
	ATF_REQUIRE(fd_is_open(fd));
	imsg_free(&imsg);
	ATF_REQUIRE(!fd_is_open(fd));
	close(p[1]);
	chan_close(sv, &a, &b);
}

/* Without imsgbuf_allow_fdpass() no descriptor is sent or accepted. */
ATF_TC_WITHOUT_HEAD(fd_refused);
ATF_TC_BODY(fd_refused, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	int		 sv[2], p[2];

	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	ATF_REQUIRE(imsgbuf_init(&a, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	ATF_REQUIRE(pipe(p) == 0);

	errno = 0;
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, 0, p[0], NULL, 0), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	ATF_REQUIRE(fd_is_open(p[0]));	/* still the caller's */

	/* The sender may pass one; the receiver must not take it. */
	imsgbuf_allow_fdpass(&a);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, 0, p[0], NULL, 0), 1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);
	ATF_REQUIRE_EQ(read_one(&b, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), T_TYPE);
	ATF_REQUIRE_EQ(imsg_get_fd(&imsg), -1);
	imsg_free(&imsg);
	/* The kernel dropped it: the pipe has no reader left. */
	ATF_REQUIRE(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
	ATF_REQUIRE_EQ(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	ATF_REQUIRE_EQ(write(p[1], "x", 1), -1);
	ATF_REQUIRE_EQ(errno, EPIPE);
	close(p[1]);
	chan_close(sv, &a, &b);
}

ATF_TC_WITHOUT_HEAD(oversize_compose);
ATF_TC_BODY(oversize_compose, tc)
{
	struct imsgbuf	 a, b;
	struct ibuf	*wbuf;
	char		*big;
	int		 sv[2];

	chan_open(sv, &a, &b);
	ATF_REQUIRE((big = calloc(1, MAX_IMSGSIZE)) != NULL);
	errno = 0;
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, 0, -1, big,
	    MAX_IMSGSIZE - IMSG_HEADER_SIZE + 1), -1);
	ATF_REQUIRE_EQ(errno, ERANGE);
	errno = 0;
	ATF_REQUIRE(imsg_create(&a, T_TYPE, 0, 0, MAX_IMSGSIZE) == NULL);
	ATF_REQUIRE_EQ(errno, ERANGE);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&a), 0);

	/* Growing a message past the limit fails too, and frees it. */
	ATF_REQUIRE((wbuf = imsg_create(&a, T_TYPE, 0, 0, 0)) != NULL);
	errno = 0;
	ATF_REQUIRE_EQ(imsg_add(wbuf, big, MAX_IMSGSIZE), -1);
	ATF_REQUIRE_EQ(errno, ERANGE);

	/* Exactly at the limit is fine. */
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, 0, -1, big,
	    MAX_IMSGSIZE - IMSG_HEADER_SIZE), 1);

	errno = 0;
	ATF_REQUIRE_EQ(imsgbuf_set_maxsize(&a, UINT32_MAX), -1);
	ATF_REQUIRE_EQ(errno, ERANGE);
	free(big);
	chan_close(sv, &a, &b);
}

/* Bad headers kill the channel, after the good messages before them. */
ATF_TC_WITHOUT_HEAD(bad_header);
ATF_TC_BODY(bad_header, tc)
{
	struct imsgbuf	 b;
	struct imsg	 imsg;
	struct imsg_hdr	 hdr[2];
	uint32_t	 lens[2] = { MAX_IMSGSIZE + 1, IMSG_HEADER_SIZE - 1 };
	int		 errs[2] = { ERANGE, EBADMSG };
	int		 sv[2], i;

	for (i = 0; i < 2; i++) {
		memset(hdr, 0, sizeof(hdr));
		hdr[0].type = T_TYPE;
		hdr[0].len = sizeof(hdr[0]);
		hdr[1].type = T_TYPE + 1;
		hdr[1].len = lens[i];
		ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
		ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
		send_raw(sv[0], hdr, sizeof(hdr));

		errno = 0;
		ATF_REQUIRE_EQ(imsgbuf_read(&b), -1);
		ATF_REQUIRE_EQ(errno, errs[i]);
		ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), 1);
		ATF_REQUIRE_EQ(imsg_get_type(&imsg), T_TYPE);
		imsg_free(&imsg);
		errno = 0;
		ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), -1);
		ATF_REQUIRE_EQ(errno, errs[i]);
		/* And it stays dead. */
		ATF_REQUIRE_EQ(imsgbuf_read(&b), -1);
		imsgbuf_clear(&b);
		close(sv[0]);
		close(sv[1]);
	}
}

ATF_TC_WITHOUT_HEAD(truncated_at_eof);
ATF_TC_BODY(truncated_at_eof, tc)
{
	struct imsgbuf	 b;
	struct imsg	 imsg;
	struct imsg_hdr	 hdr;
	unsigned char	 wire[sizeof(hdr) + 50];
	int		 sv[2], r;

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = T_TYPE;
	hdr.len = sizeof(hdr) + 100;	/* promises 100, sends 50 */
	memcpy(wire, &hdr, sizeof(hdr));
	memset(wire + sizeof(hdr), 'z', 50);

	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	send_raw(sv[0], wire, sizeof(wire));
	close(sv[0]);
	sv[0] = -1;

	while ((r = imsgbuf_read(&b)) == 1)
		ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), 0);
	ATF_REQUIRE_EQ(r, -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), 0);
	imsgbuf_clear(&b);
	close(sv[1]);

	/* A clean close after whole messages is a plain EOF. */
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	hdr.len = sizeof(hdr);
	send_raw(sv[0], &hdr, sizeof(hdr));
	close(sv[0]);
	ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
	ATF_REQUIRE_EQ(imsgbuf_read(&b), 0);
	ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), 1);
	imsg_free(&imsg);
	imsgbuf_clear(&b);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(get_data_exact);
ATF_TC_BODY(get_data_exact, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	struct ibuf	 view;
	uint64_t	 v = 0x0102030405060708ULL, out;
	uint32_t	 small;
	unsigned char	 large[16];
	int		 sv[2];

	chan_open(sv, &a, &b);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, 0, -1, &v, sizeof(v)), 1);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, 0, -1, NULL, 0), 1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);
	ATF_REQUIRE_EQ(read_one(&b, &imsg), 1);

	errno = 0;
	ATF_REQUIRE_EQ(imsg_get_data(&imsg, &small, sizeof(small)), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	errno = 0;
	ATF_REQUIRE_EQ(imsg_get_data(&imsg, large, sizeof(large)), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	errno = 0;
	ATF_REQUIRE_EQ(imsg_get_data(&imsg, &out, 0), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	ATF_REQUIRE_EQ(imsg_get_data(&imsg, &out, sizeof(out)), 0);
	ATF_REQUIRE_EQ(out, v);
	ibuf_rewind(imsg.buf);	/* back to the first payload byte */
	ATF_REQUIRE_EQ(imsg_get_ibuf(&imsg, &view), 0);
	ATF_REQUIRE_EQ(ibuf_size(&view), sizeof(v));
	ATF_REQUIRE_EQ(ibuf_get_h64(&view, &out), 0);
	ATF_REQUIRE_EQ(out, v);
	imsg_free(&imsg);

	ATF_REQUIRE_EQ(read_one(&b, &imsg), 1);
	errno = 0;
	ATF_REQUIRE_EQ(imsg_get_data(&imsg, &out, sizeof(out)), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	errno = 0;
	ATF_REQUIRE_EQ(imsg_get_ibuf(&imsg, &view), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	imsg_free(&imsg);
	chan_close(sv, &a, &b);
}

ATF_TC_WITHOUT_HEAD(ibuf_readers);
ATF_TC_BODY(ibuf_readers, tc)
{
	unsigned char	 data[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
			    0x07, 0x08, 0x09, 0x0a, 0x0b, 'h', 'i', '\0', 'x' };
	struct ibuf	 b, sub;
	uint64_t	 v64;
	uint32_t	 v32;
	uint16_t	 v16;
	uint8_t		 v8;
	char		*s, sb[4];

	ibuf_from_buffer(&b, data, sizeof(data));
	ATF_REQUIRE_EQ(ibuf_size(&b), sizeof(data));
	ATF_REQUIRE_EQ(ibuf_left(&b), 0);
	ATF_REQUIRE_EQ(ibuf_get_n64(&b, &v64), 0);
	ATF_REQUIRE_EQ(v64, 0x0102030405060708ULL);
	ATF_REQUIRE_EQ(ibuf_get_n16(&b, &v16), 0);
	ATF_REQUIRE_EQ(v16, 0x090a);
	ATF_REQUIRE_EQ(ibuf_get_n8(&b, &v8), 0);
	ATF_REQUIRE_EQ(v8, 0x0b);
	ATF_REQUIRE_EQ(ibuf_size(&b), 4);

	/* Four bytes left: every longer read fails and consumes nothing. */
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_get_n64(&b, &v64), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_get_h64(&b, &v64), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_skip(&b, 5), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_get_ibuf(&b, 5, &sub), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	errno = 0;
	ATF_REQUIRE(ibuf_get_string(&b, 5) == NULL);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_get(&b, sb, 5), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	ATF_REQUIRE_EQ(ibuf_size(&b), 4);

	/* Views are read-only. */
	ATF_REQUIRE_EQ(ibuf_add(&b, "x", 1), -1);
	ATF_REQUIRE_EQ(ibuf_set_n8(&b, 0, 1), -1);
	ATF_REQUIRE_EQ(data[11], 'h');

	ATF_REQUIRE_EQ(ibuf_get_ibuf(&b, 3, &sub), 0);
	ATF_REQUIRE((s = ibuf_get_string(&sub, 3)) != NULL);
	ATF_REQUIRE_STREQ(s, "hi");
	free(s);
	ATF_REQUIRE_EQ(ibuf_size(&sub), 0);
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_get_n8(&sub, &v8), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);

	/* An unterminated fixed string is refused but still terminated. */
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_get_strbuf(&b, sb, 1), -1);
	ATF_REQUIRE_EQ(errno, EOVERFLOW);
	ATF_REQUIRE_EQ(sb[0], '\0');
	ATF_REQUIRE_EQ(ibuf_size(&b), 0);

	ibuf_rewind(&b);
	ATF_REQUIRE_EQ(ibuf_get_n32(&b, &v32), 0);
	ATF_REQUIRE_EQ(v32, 0x01020304);
	ATF_REQUIRE_EQ(ibuf_skip(&b, 7), 0);
	ATF_REQUIRE_EQ(ibuf_get_strbuf(&b, sb, 3), 0);
	ATF_REQUIRE_STREQ(sb, "hi");
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_get_n16(&b, &v16), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_get_n32(&b, &v32), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);

	ibuf_from_buffer(&b, NULL, 0);
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_get_n8(&b, &v8), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
}

ATF_TC_WITHOUT_HEAD(ibuf_writers);
ATF_TC_BODY(ibuf_writers, tc)
{
	const unsigned char want[] = { 0x12, 0x34, 0xab, 0xcd, 0x00, 0x00,
			    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			    0x00, 0x02, 0x00, 0x00 };
	struct ibuf	*b;
	uint32_t	 v32;
	uint16_t	 v16;
	unsigned char	*p;

	ATF_REQUIRE((b = ibuf_dynamic(0, sizeof(want))) != NULL);
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_add_n16(b, 70000), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_add_n8(b, 256), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_add_n32(b, 0x100000000ULL), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_add_h16(b, 70000), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	ATF_REQUIRE_EQ(ibuf_size(b), 0);

	ATF_REQUIRE_EQ(ibuf_add_n16(b, 0x1234), 0);
	ATF_REQUIRE_EQ(ibuf_add_n16(b, 0), 0);		/* patched below */
	ATF_REQUIRE_EQ(ibuf_add_n32(b, 1), 0);
	ATF_REQUIRE_EQ(ibuf_add_n64(b, 2), 0);
	ATF_REQUIRE((p = ibuf_reserve(b, 2)) != NULL);
	ATF_REQUIRE_EQ(ibuf_left(b), 0);
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_add_zero(b, 1), -1);
	ATF_REQUIRE_EQ(errno, ERANGE);
	ATF_REQUIRE_EQ(ibuf_set_n16(b, 2, 0xabcd), 0);
	errno = 0;
	ATF_REQUIRE_EQ(ibuf_set_n16(b, 17, 1), -1);
	ATF_REQUIRE_EQ(errno, ERANGE);
	ATF_REQUIRE_EQ(ibuf_size(b), sizeof(want));
	ATF_REQUIRE(memcmp(ibuf_data(b), want, sizeof(want)) == 0);

	ATF_REQUIRE_EQ(ibuf_get_n16(b, &v16), 0);
	ATF_REQUIRE_EQ(v16, 0x1234);
	ATF_REQUIRE_EQ(ibuf_get_n16(b, &v16), 0);
	ATF_REQUIRE_EQ(v16, 0xabcd);
	ATF_REQUIRE_EQ(ibuf_truncate(b, 4), 0);
	ATF_REQUIRE_EQ(ibuf_get_n32(b, &v32), 0);
	ATF_REQUIRE_EQ(v32, 1);
	ATF_REQUIRE_EQ(ibuf_size(b), 0);
	ibuf_free(b);

	ATF_REQUIRE(ibuf_open(0) == NULL);
	ATF_REQUIRE(ibuf_dynamic(10, 5) == NULL);
	ATF_REQUIRE((b = ibuf_open(4)) != NULL);
	ATF_REQUIRE_EQ(ibuf_add_h32(b, 0x01020304), 0);
	ATF_REQUIRE_EQ(ibuf_add_n8(b, 1), -1);
	ATF_REQUIRE_EQ(ibuf_get_h32(b, &v32), 0);
	ATF_REQUIRE_EQ(v32, 0x01020304);
	ibuf_free(b);
}

/* A raised limit carries a 1 MiB message; the default refuses it. */
ATF_TC_WITHOUT_HEAD(maxsize_1mib);
ATF_TC_BODY(maxsize_1mib, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	unsigned char	*big;
	size_t		 len = 1024 * 1024, i;
	int		 sv[2], n, r;

	ATF_REQUIRE((big = malloc(len)) != NULL);
	for (i = 0; i < len; i++)
		big[i] = i % 251;
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv) == 0);
	ATF_REQUIRE(imsgbuf_init(&a, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);

	errno = 0;
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, 0, -1, big, len), -1);
	ATF_REQUIRE_EQ(errno, ERANGE);
	ATF_REQUIRE_EQ(imsgbuf_set_maxsize(&a, len), 0);
	ATF_REQUIRE_EQ(imsgbuf_set_maxsize(&b, len), 0);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, 0, -1, big, len), 1);
	errno = 0;
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, 0, -1, big, len + 1), -1);
	ATF_REQUIRE_EQ(errno, ERANGE);

	/* More than the socket holds: take turns writing and reading. */
	for (i = 0; i < 100000; i++) {
		ATF_REQUIRE_EQ(imsgbuf_write(&a), 0);
		ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
		if ((n = imsgbuf_get(&b, &imsg)) != 0)
			break;
	}
	ATF_REQUIRE_EQ(n, 1);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&a), 0);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), len);
	ATF_REQUIRE(memcmp(imsg.data, big, len) == 0);
	imsg_free(&imsg);
	imsgbuf_clear(&b);

	/* A receiver on the default limit rejects the same message. */
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, 0, -1, big, len), 1);
	ATF_REQUIRE_EQ(imsgbuf_write(&a), 0);
	errno = 0;
	r = imsgbuf_read(&b);	/* the header comes first */
	ATF_REQUIRE_EQ(r, -1);
	ATF_REQUIRE_EQ(errno, ERANGE);
	ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), -1);

	free(big);
	chan_close(sv, &a, &b);
}

/* A closed peer is EPIPE, not SIGPIPE. */
ATF_TC_WITHOUT_HEAD(write_epipe);
ATF_TC_BODY(write_epipe, tc)
{
	struct imsgbuf	 a;
	int		 sv[2];

	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	ATF_REQUIRE(imsgbuf_init(&a, sv[0]) == 0);
	close(sv[1]);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, 0, -1, "x", 1), 1);
	errno = 0;
	ATF_REQUIRE_EQ(imsgbuf_write(&a), -1);
	ATF_REQUIRE_EQ(errno, EPIPE);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&a), 1);
	imsgbuf_clear(&a);
	close(sv[0]);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, roundtrip);
	ATF_TP_ADD_TC(tp, create_add_close_forward);
	ATF_TP_ADD_TC(tp, many_in_one_read);
	ATF_TP_ADD_TC(tp, partial_reads);
	ATF_TP_ADD_TC(tp, fd_passing);
	ATF_TP_ADD_TC(tp, fd_back_to_back);
	ATF_TP_ADD_TC(tp, fd_partial_write);
	ATF_TP_ADD_TC(tp, fd_unclaimed_closed);
	ATF_TP_ADD_TC(tp, fd_refused);
	ATF_TP_ADD_TC(tp, oversize_compose);
	ATF_TP_ADD_TC(tp, bad_header);
	ATF_TP_ADD_TC(tp, truncated_at_eof);
	ATF_TP_ADD_TC(tp, get_data_exact);
	ATF_TP_ADD_TC(tp, ibuf_readers);
	ATF_TP_ADD_TC(tp, ibuf_writers);
	ATF_TP_ADD_TC(tp, maxsize_1mib);
	ATF_TP_ADD_TC(tp, write_epipe);
	return (atf_no_error());
}
