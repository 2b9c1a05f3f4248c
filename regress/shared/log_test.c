/*
 * log.c in the foreground: lines held by log_hold go out at log_release,
 * in one write(2), in the order they were made; an error or a full
 * buffer sends what is held first.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <atf-c.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#include "../atfsan.h"

static int	 log_fd = -1;
static int	 getpid_calls;

/* Counted: log.c's calls land here (the executable's symbol first). */
pid_t
getpid(void)
{
	getpid_calls++;
	return ((pid_t)syscall(SYS_getpid));
}

/* stderr into a file of the work directory, the log in the foreground. */
static void
log_to_file(void)
{
	log_fd = open("log", O_RDWR | O_CREAT | O_TRUNC, 0600);
	ATF_REQUIRE(log_fd != -1);
	ATF_REQUIRE(dup2(log_fd, STDERR_FILENO) != -1);
	log_init(1, LOG_DAEMON);
	log_procinit("test");
}

/* What the log holds so far, with "test[PID]: " taken off each line. */
static char *
log_read(void)
{
	static char	 buf[65536], out[65536];
	char		 prefix[32], *p, *nl;
	size_t		 plen, o = 0;
	ssize_t		 n;

	n = pread(log_fd, buf, sizeof(buf) - 1, 0);
	ATF_REQUIRE(n >= 0);
	buf[n] = '\0';
	(void)snprintf(prefix, sizeof(prefix), "test[%d]: ", (int)getpid());
	plen = strlen(prefix);
	for (p = buf; *p != '\0'; p = nl + 1) {
		ATF_REQUIRE_MSG(strncmp(p, prefix, plen) == 0,
		    "line without its prefix: %s", p);
		nl = strchr(p, '\n');
		ATF_REQUIRE(nl != NULL);
		memcpy(out + o, p + plen, nl + 1 - (p + plen));
		o += nl + 1 - (p + plen);
	}
	out[o] = '\0';
	return (out);
}

ATF_TC_WITHOUT_HEAD(held);
ATF_TC_BODY(held, tc)
{
	log_to_file();
	log_info("before");
	log_hold();
	log_info("one %d", 1);
	log_line(LOG_INFO, "rec: ", "{\"a\":1}", 7);
	log_hold();		/* nested: only the outer release writes */
	log_info("two");
	log_release();
	ATF_CHECK_STREQ(log_read(), "before\n");
	log_release();
	ATF_CHECK_STREQ(log_read(),
	    "before\none 1\nrec: {\"a\":1}\ntwo\n");
	/* Not held: at once. */
	log_line(LOG_INFO, "", "after", 5);
	ATF_CHECK_STREQ(log_read(),
	    "before\none 1\nrec: {\"a\":1}\ntwo\nafter\n");
	/* A release without a hold changes nothing. */
	log_release();
	log_info("last");
	ATF_CHECK_STREQ(log_read(),
	    "before\none 1\nrec: {\"a\":1}\ntwo\nafter\nlast\n");
}

/*
 * A hold with no line makes no system call: the engine holds around
 * every callback, and getpid(2) for the lines' tag was one per callback
 * (about one per answer under load) for nothing.
 */
ATF_TC_WITHOUT_HEAD(empty_hold);
ATF_TC_BODY(empty_hold, tc)
{
	int	 i, n;

	log_to_file();
	n = getpid_calls;
	for (i = 0; i < 100; i++) {
		log_hold();
		log_release();
	}
	ATF_CHECK_EQ(getpid_calls, n);
	/* A line held still carries its tag (log_read checks it). */
	log_hold();
	log_info("held");
	log_release();
	log_hold();
	log_info("again");
	log_release();
	ATF_CHECK_STREQ(log_read(), "held\nagain\n");
}

/* An error is not held, and what is held goes out before it. */
ATF_TC_WITHOUT_HEAD(error_first);
ATF_TC_BODY(error_first, tc)
{
	log_to_file();
	log_hold();
	log_info("a");
	log_warnx("an error");
	ATF_CHECK_STREQ(log_read(), "a\nan error\n");
	log_info("b");
	ATF_CHECK_STREQ(log_read(), "a\nan error\n");
	log_release();
	ATF_CHECK_STREQ(log_read(), "a\nan error\nb\n");
}

/* A held line is one line: its newlines become spaces. */
ATF_TC_WITHOUT_HEAD(one_line);
ATF_TC_BODY(one_line, tc)
{
	log_to_file();
	log_hold();
	log_line(LOG_INFO, "x: ", "a\nb\n", 4);
	log_info("c\nd");
	log_release();
	ATF_CHECK_STREQ(log_read(), "x: a b \nc d\n");
}

/* More than the buffer holds: written early, nothing lost or reordered. */
ATF_TC_WITHOUT_HEAD(full);
ATF_TC_BODY(full, tc)
{
	static char	 want[65536];
	char		 rec[1000];
	size_t		 o = 0;
	int		 i;

	log_to_file();
	memset(rec, 'r', sizeof(rec));
	log_hold();
	for (i = 0; i < 50; i++) {
		rec[0] = '0' + i % 10;
		log_line(LOG_INFO, "", rec, sizeof(rec));
		memcpy(want + o, rec, sizeof(rec));
		o += sizeof(rec);
		want[o++] = '\n';
	}
	ATF_CHECK(strlen(log_read()) > 0);	/* some went early */
	ATF_CHECK(strlen(log_read()) < o);	/* not all */
	log_release();
	want[o] = '\0';
	ATF_CHECK_STREQ(log_read(), want);
	/* A line over the limit is cut to it. */
	{
		static char	 big[LOG_LINE_MAX + 100];

		memset(big, 'b', sizeof(big));
		ATF_REQUIRE(ftruncate(log_fd, 0) == 0);
		ATF_REQUIRE(lseek(log_fd, 0, SEEK_SET) == 0);
		log_hold();
		log_line(LOG_INFO, "", big, sizeof(big));
		log_release();
		ATF_CHECK_EQ(strlen(log_read()), LOG_LINE_MAX + 1);
	}
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, held);
	ATF_TP_ADD_TC(tp, empty_hold);
	ATF_TP_ADD_TC(tp, error_first);
	ATF_TP_ADD_TC(tp, one_line);
	ATF_TP_ADD_TC(tp, full);
	return (atf_no_error());
}
