/*
 * Logging for every signerd process.
 *
 * In the foreground (-d) messages go to stderr, otherwise to syslog, which
 * is opened with LOG_NDELAY so that the socket survives a chroot.  Never
 * pass a PIN or key material to these functions.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int	 log_debug_mode;
static int	 log_verbose;
static char	 log_procname[64] = "signerd";

/*
 * Lines held by log_hold until log_release: a callback that logs a line
 * per item (the audit trail's) pays one write(2) for all of them in the
 * foreground.  To syslog each is still its own message, sent at the
 * release.  An error, a full buffer or fatal sends what is held first,
 * so the order of the lines is never changed.
 */
#define LOG_HELD_MAX	(4 * LOG_LINE_MAX)
static char	 log_held[LOG_HELD_MAX];
static size_t	 log_heldlen;
static int	 log_holding;
static char	 log_heldtag[96];	/* "name[pid]: " in the foreground */
static size_t	 log_heldtaglen;
static int	 log_heldtagok;		/* made for this hold */

static void	 log_hold_line(int, const char *, const char *, size_t);
static void	 log_flush(void);

void
log_init(int n_debug, int facility)
{
	extern char	*__progname;

	log_debug_mode = n_debug;
	log_verbose = n_debug;
	log_procinit(__progname);
	if (!log_debug_mode)
		openlog(__progname, LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_procinit(const char *name)
{
	if (name != NULL)
		(void)strlcpy(log_procname, name, sizeof(log_procname));
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 buf[1024];
	int	 saved_errno = errno, len;

	if (log_holding && pri > LOG_ERR) {
		if ((len = vsnprintf(buf, sizeof(buf), fmt, ap)) < 0)
			len = 0;
		log_hold_line(pri, "", buf,
		    (size_t)len < sizeof(buf) ? (size_t)len : sizeof(buf) - 1);
		errno = saved_errno;
		return;
	}
	log_flush();
	if (log_debug_mode) {
		(void)vsnprintf(buf, sizeof(buf), fmt, ap);
		(void)fprintf(stderr, "%s[%d]: %s\n", log_procname,
		    (int)getpid(), buf);
		(void)fflush(stderr);
	} else
		vsyslog(pri, fmt, ap);
	errno = saved_errno;
}

/*
 * A line made by the caller, after prefix: no format to parse, and no
 * copy when it is held.  At most LOG_LINE_MAX bytes of it are kept.
 */
void
log_line(int pri, const char *prefix, const char *s, size_t len)
{
	int	 saved_errno = errno;

	if (len > LOG_LINE_MAX)
		len = LOG_LINE_MAX;
	if (log_holding && pri > LOG_ERR) {
		log_hold_line(pri, prefix, s, len);
		errno = saved_errno;
		return;
	}
	log_flush();
	if (log_debug_mode) {
		(void)fprintf(stderr, "%s[%d]: %s%.*s\n", log_procname,
		    (int)getpid(), prefix, (int)len, s);
		(void)fflush(stderr);
	} else
		syslog(pri, "%s%.*s", prefix, (int)len, s);
	errno = saved_errno;
}

/* Held: the line as it will be written; for syslog its priority first. */
static void
log_hold_line(int pri, const char *prefix, const char *s, size_t len)
{
	char	*p;
	size_t	 plen = strlen(prefix);
	int	 n;

	if (log_heldlen + plen + len + sizeof(log_heldtag) + 1 >
	    sizeof(log_held))
		log_flush();
	if (log_debug_mode) {
		/*
		 * Made at the hold's first line, not at log_hold: most holds
		 * (one per engine callback) hold nothing, and getpid(2) is a
		 * system call.
		 */
		if (!log_heldtagok) {
			n = snprintf(log_heldtag, sizeof(log_heldtag),
			    "%s[%d]: ", log_procname, (int)getpid());
			log_heldtaglen = n > 0 &&
			    (size_t)n < sizeof(log_heldtag) ? n : 0;
			log_heldtagok = 1;
		}
		memcpy(log_held + log_heldlen, log_heldtag, log_heldtaglen);
		log_heldlen += log_heldtaglen;
	} else if ((n = snprintf(log_held + log_heldlen,
	    sizeof(log_held) - log_heldlen, "%d ", pri)) > 0)
		log_heldlen += n;
	memcpy(log_held + log_heldlen, prefix, plen);
	memcpy(log_held + log_heldlen + plen, s, len);
	/* A held line is one line. */
	for (p = log_held + log_heldlen;
	    (p = memchr(p, '\n', log_held + log_heldlen + plen + len - p)) !=
	    NULL; )
		*p = ' ';
	log_heldlen += plen + len;
	log_held[log_heldlen++] = '\n';
}

void
log_hold(void)
{
	if (log_holding++ == 0)
		log_heldtagok = 0;
}

void
log_release(void)
{
	int	 saved_errno = errno;

	if (log_holding > 0 && --log_holding == 0)
		log_flush();
	errno = saved_errno;
}

/* What is held goes out: one write(2) to stderr, or a message each. */
static void
log_flush(void)
{
	char	*p, *end, *nl;
	ssize_t	 n;
	size_t	 off;
	int	 pri;

	if (log_heldlen == 0)
		return;
	if (log_debug_mode) {
		(void)fflush(stderr);
		off = 0;
		while (off < log_heldlen) {
			n = write(STDERR_FILENO, log_held + off,
			    log_heldlen - off);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += n;
		}
	} else {
		end = log_held + log_heldlen;
		for (p = log_held; p < end; p = nl + 1) {
			if ((nl = memchr(p, '\n', end - p)) == NULL)
				break;
			*nl = '\0';
			pri = (int)strtol(p, &p, 10);
			syslog(pri, "%s", p + 1);
		}
	}
	log_heldlen = 0;
}

static void
logit(int pri, const char *fmt, ...)
    __attribute__((__format__ (printf, 2, 3)));

static void
logit(int pri, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

static void
vwarn_errno(int, const char *, va_list)
    __attribute__((__format__ (printf, 2, 0)));
static __dead void
vfatalc(int, const char *, va_list)
    __attribute__((__format__ (printf, 2, 0)));

static void
vwarn_errno(int pri, const char *emsg, va_list ap)
{
	char	 buf[1024];
	int	 saved_errno = errno;

	if (emsg == NULL)
		logit(pri, "%s", strerror(saved_errno));
	else {
		(void)vsnprintf(buf, sizeof(buf), emsg, ap);
		logit(pri, "%s: %s", buf, strerror(saved_errno));
	}
	errno = saved_errno;
}

void
log_warn(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vwarn_errno(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_warnx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list	 ap;

	if (log_verbose) {
		va_start(ap, emsg);
		vlog(LOG_DEBUG, emsg, ap);
		va_end(ap);
	}
}

static __dead void
vfatalc(int code, const char *emsg, va_list ap)
{
	char	 buf[1024];

	if (emsg != NULL)
		(void)vsnprintf(buf, sizeof(buf), emsg, ap);
	else
		buf[0] = '\0';
	if (code)
		logit(LOG_CRIT, "fatal in %s: %s%s%s", log_procname, buf,
		    buf[0] != '\0' ? ": " : "", strerror(code));
	else
		logit(LOG_CRIT, "fatal in %s: %s", log_procname, buf);
	log_holding = 0;
	exit(1);
}

void
fatal(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vfatalc(errno, emsg, ap);
	va_end(ap);
}

void
fatalx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
	va_end(ap);
}
