/*
 * priv_drop() and sandbox_apply(): each case forks a child that drops
 * privileges, enters a sandbox profile and then does allowed or forbidden
 * work.  The child reports through its exit status (0 = all checks
 * passed, 2 = a check failed, with the reason on stderr) or dies with
 * SIGSYS when the filter kills it.  Needs root.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "signerd.h"

#define CHECK(c) do {							\
	if (!(c))							\
		child_fail(__LINE__, #c);				\
} while (0)

struct child {
	int	 status;
	char	 err[4096];
};

struct fdpass {
	int	 sp[2];		/* the channel */
	int	 p[2];		/* the pipe whose write end travels */
};

/* Present only in a sanitized build (see sandbox_linux.c). */
struct __sanitizer_sandbox_arguments;
extern void __sanitizer_sandbox_on_notify(
    struct __sanitizer_sandbox_arguments *) __attribute__((__weak__));
const char	*__lsan_default_options(void);
const char	*__lsan_default_suppressions(void);

static __dead void	 child_fail(int, const char *);
static int		 child_setup(void);
static const char	*test_user(void);
static int		 seccomp_mode(int);
static void		 run_child(void (*)(const void *), const void *,
			    struct child *);
static void		 expect_exit(const struct child *, int, const char *);
static void		 expect_sigsys(const struct child *);
static char		*make_dir(const char *, int);
static void		 remove_dir(const char *);
static void		 fdpass_init(struct fdpass *);
static void		 fdpass_check(struct fdpass *);
static void		*thread_main(void *);

/*
 * libatf-c leaks its test case list; LeakSanitizer would turn every run
 * of a sanitized test program into a failure.  Quietly: kyua treats any
 * output on stderr while listing test cases as breakage.
 */
const char *
__lsan_default_options(void)
{
	return ("print_suppressions=0");
}

const char *
__lsan_default_suppressions(void)
{
	return ("leak:libatf-c.so\n");
}

static __dead void
child_fail(int line, const char *what)
{
	dprintf(STDERR_FILENO, "check at line %d failed: %s (errno %d: %s)\n",
	    line, what, errno, strerror(errno));
	_exit(2);
}

/* Common start of a child: returns an fd on /proc/self/status. */
static int
child_setup(void)
{
	int	 fd;

	/* The cases below expect the default, killing, behaviour. */
	if (unsetenv("SIGNERD_SANDBOX_DEBUG") == -1)
		child_fail(__LINE__, "unsetenv");
	log_init(1, LOG_DAEMON);
	if ((fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)) == -1)
		child_fail(__LINE__, "open /proc/self/status");
	return (fd);
}

static const char *
test_user(void)
{
	if (getpwnam("_signerd") != NULL)
		return ("_signerd");
	return ("nobody");
}

/* The Seccomp: field of an fd opened on /proc/self/status, or -1. */
static int
seccomp_mode(int fd)
{
	char	 buf[4096], *p;
	ssize_t	 n;

	if (lseek(fd, 0, SEEK_SET) == -1)
		return (-1);
	if ((n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		return (-1);
	buf[n] = '\0';
	if ((p = strstr(buf, "\nSeccomp:\t")) == NULL)
		return (-1);
	return (p[10] - '0');
}

static void
run_child(void (*fn)(const void *), const void *arg, struct child *c)
{
	size_t	 off;
	ssize_t	 n;
	pid_t	 pid;
	int	 p[2];

	memset(c, 0, sizeof(*c));
	ATF_REQUIRE(pipe(p) == 0);
	/* Nothing buffered may be flushed twice. */
	fflush(stdout);
	fflush(stderr);
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], STDERR_FILENO) == -1)
			_exit(3);
		close(p[1]);
		fn(arg);
		_exit(0);
	}
	close(p[1]);
	off = 0;
	while ((n = read(p[0], c->err + off, sizeof(c->err) - 1 - off)) > 0)
		off += n;
	c->err[off] = '\0';
	/* atf wants a failure reason on one line. */
	while (off > 0)
		if (c->err[--off] == '\n')
			c->err[off] = ' ';
	close(p[0]);
	ATF_REQUIRE(waitpid(pid, &c->status, 0) == pid);
}

static void
expect_exit(const struct child *c, int code, const char *text)
{
	if (!WIFEXITED(c->status)) {
		if (WIFSIGNALED(c->status))
			atf_tc_fail("child killed by signal %d, expected exit "
			    "%d; stderr: %s", WTERMSIG(c->status), code,
			    c->err);
		atf_tc_fail("child status %#x; stderr: %s", c->status, c->err);
	}
	if (WEXITSTATUS(c->status) != code)
		atf_tc_fail("child exit %d, expected %d; stderr: %s",
		    WEXITSTATUS(c->status), code, c->err);
	if (text != NULL && strstr(c->err, text) == NULL)
		atf_tc_fail("stderr lacks \"%s\": %s", text, c->err);
}

static void
expect_sigsys(const struct child *c)
{
	if (WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGSYS)
		return;
	if (WIFSIGNALED(c->status))
		atf_tc_fail("child killed by signal %d, expected SIGSYS; "
		    "stderr: %s", WTERMSIG(c->status), c->err);
	atf_tc_fail("child exited %d, expected SIGSYS; stderr: %s",
	    WEXITSTATUS(c->status), c->err);
}

/* A directory in /tmp, reachable by the test user, with a marker file. */
static char *
make_dir(const char *user, int writable)
{
	struct passwd	*pw;
	char		*dir, path[1024];
	int		 fd;

	ATF_REQUIRE((dir = strdup("/tmp/signerd-sandbox.XXXXXX")) != NULL);
	ATF_REQUIRE(mkdtemp(dir) != NULL);
	ATF_REQUIRE(chmod(dir, 0755) == 0);
	snprintf(path, sizeof(path), "%s/marker", dir);
	ATF_REQUIRE((fd = open(path, O_CREAT | O_WRONLY, 0644)) != -1);
	close(fd);
	if (writable) {
		ATF_REQUIRE((pw = getpwnam(user)) != NULL);
		ATF_REQUIRE(chown(dir, pw->pw_uid, pw->pw_gid) == 0);
	}
	return (dir);
}

static void
remove_dir(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	char		 path[1024];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Made before the sandbox: the frontend may not create descriptors. */
static void
fdpass_init(struct fdpass *f)
{
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sp) == 0);
	CHECK(pipe(f->p) == 0);
}

/*
 * Pass the write end of the pipe over the socketpair (as imsg does) and
 * write through the received copy.
 */
static void
fdpass_check(struct fdpass *f)
{
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	char		 c, buf[8];
	int		 fd;

	c = 'x';
	iov.iov_base = &c;
	iov.iov_len = 1;
	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(cm), &f->p[1], sizeof(int));
	CHECK(sendmsg(f->sp[0], &msg, 0) == 1);
	close(f->p[1]);

	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	CHECK(recvmsg(f->sp[1], &msg, MSG_CMSG_CLOEXEC) == 1);
	CHECK((cm = CMSG_FIRSTHDR(&msg)) != NULL);
	CHECK(cm->cmsg_type == SCM_RIGHTS);
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	CHECK(write(fd, "passed", 6) == 6);
	close(fd);
	CHECK(read(f->p[0], buf, sizeof(buf)) == 6);
	CHECK(memcmp(buf, "passed", 6) == 0);
	close(f->p[0]);
	close(f->sp[0]);
	close(f->sp[1]);
}

static void *
thread_main(void *arg)
{
	*(int *)arg = 42;
	return (arg);
}

/* --- priv_drop ------------------------------------------------------ */

static void
nouser_child(const void *arg)
{
	(void)child_setup();
	priv_drop("signerd-no-such-user", NULL);
	_exit(0);
}

ATF_TC(priv_drop_nouser);
ATF_TC_HEAD(priv_drop_nouser, tc)
{
	atf_tc_set_md_var(tc, "descr", "priv_drop with an unknown user "
	    "is fatal");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(priv_drop_nouser, tc)
{
	struct child	 c;

	run_child(nouser_child, NULL, &c);
	expect_exit(&c, 1, "unknown user signerd-no-such-user");
}

static void
order_child(const void *arg)
{
	uid_t	 r, e, s;
	gid_t	 g, groups[4];

	(void)child_setup();
	CHECK(priv_check_dropped() == 0);	/* still root */
	priv_drop(test_user(), NULL);
	CHECK(priv_check_dropped() == 1);
	CHECK(getresuid(&r, &e, &s) == 0 && r != 0 && e != 0 && s != 0);
	CHECK(getresgid(&g, &g, &g) == 0 && g != 0);
	CHECK(getgroups(4, groups) == 1 && groups[0] != 0);
	/* Groups can no longer change, neither can the ids go back. */
	g = 0;
	CHECK(setgroups(1, &g) == -1 && errno == EPERM);
	CHECK(setgroups(0, NULL) == -1 && errno == EPERM);
	CHECK(setresgid(0, 0, 0) == -1);
	CHECK(setresuid(0, 0, 0) == -1);
	CHECK(priv_check_dropped() == 1);
	_exit(0);
}

ATF_TC(priv_drop_order);
ATF_TC_HEAD(priv_drop_order, tc)
{
	atf_tc_set_md_var(tc, "descr", "after priv_drop no id is 0 and "
	    "groups, gid and uid cannot change back");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(priv_drop_order, tc)
{
	struct child	 c;

	run_child(order_child, NULL, &c);
	expect_exit(&c, 0, NULL);
}

static void
chroot_child(const void *arg)
{
	struct dirent	*de;
	DIR		*d;
	int		 found = 0;

	(void)child_setup();
	priv_drop(test_user(), arg);
	CHECK(priv_check_dropped() == 1);
	CHECK((d = opendir("/")) != NULL);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, "marker") == 0)
			found = 1;
	closedir(d);
	CHECK(found);
	CHECK(access("/marker", F_OK) == 0);
	CHECK(access("/etc/passwd", F_OK) == -1);
	CHECK(chroot("/") == -1);		/* no longer root */
	_exit(0);
}

ATF_TC(priv_drop_chroot);
ATF_TC_HEAD(priv_drop_chroot, tc)
{
	atf_tc_set_md_var(tc, "descr", "priv_drop with a root directory "
	    "chroots into it");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(priv_drop_chroot, tc)
{
	struct child	 c;
	char		*dir;

	dir = make_dir(test_user(), 0);
	run_child(chroot_child, dir, &c);
	remove_dir(dir);
	free(dir);
	expect_exit(&c, 0, NULL);
}

/* --- frontend ------------------------------------------------------- */

/* What a forbidden-call child does once sandboxed. */
enum bad_call {
	BAD_EXECVE,
	BAD_OPENAT,
	BAD_MMAP_EXEC,
	BAD_FORK,
	BAD_SETUID,
	BAD_PTRACE
};

struct sb_arg {
	enum sandbox_profile	 profile;
	const char		*root;
	enum bad_call		 bad;
};

static void
bad_call(enum bad_call bad)
{
	char	*argv[] = { "true", NULL };
	char	*envp[] = { NULL };
	long	 rv = 0;

	errno = 0;
	switch (bad) {
	case BAD_EXECVE:
		rv = execve("/bin/true", argv, envp);
		break;
	case BAD_OPENAT:
		rv = syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY);
		break;
	case BAD_MMAP_EXEC:
		if (mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
			rv = -1;
		break;
	case BAD_FORK:
		if ((rv = fork()) == 0)
			_exit(0);
		break;
	case BAD_SETUID:
		rv = setuid(getuid());
		break;
	case BAD_PTRACE:
		rv = syscall(SYS_ptrace, 0, 0, 0, 0);
		break;
	}
	dprintf(STDERR_FILENO, "forbidden call %d returned %ld, errno %d\n",
	    (int)bad, rv, errno);
	_exit(4);
}

static void
bad_child(const void *varg)
{
	const struct sb_arg	*arg = varg;
	pthread_t		 t;
	int			 v = 0;

	(void)child_setup();
	priv_drop(test_user(), arg->root);
	sandbox_apply(arg->profile);
	if (arg->profile == SANDBOX_HSM) {
		/* Threads work right up to the forbidden call. */
		CHECK(pthread_create(&t, NULL, thread_main, &v) == 0);
		CHECK(pthread_join(t, NULL) == 0);
		CHECK(v == 42);
	}
	bad_call(arg->bad);
}

static void
frontend_child(const void *arg)
{
	struct fdpass	 f;
	struct rlimit	 rl;
	void		*p;
	char		*m;
	int		 fd;

	fd = child_setup();
	CHECK(seccomp_mode(fd) == 0);
	fdpass_init(&f);
	priv_drop(test_user(), arg);
	sandbox_apply(SANDBOX_FRONTEND);
	CHECK(seccomp_mode(fd) == 2);
	CHECK(priv_check_dropped() == 1);
	CHECK(getuid() != 0 && geteuid() != 0);
	CHECK(getgid() != 0 && getegid() != 0);
	CHECK(getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_max == 0);

	fdpass_check(&f);
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 1, 1 << 20);
	CHECK(mprotect(p, 4096, PROT_READ) == 0);
	CHECK(munmap(p, 1 << 20) == 0);
	CHECK((m = malloc(8 << 20)) != NULL);
	memset(m, 2, 8 << 20);
	free(m);
	/* No new sockets, but no death either (syslog reconnect). */
	CHECK(socket(AF_UNIX, SOCK_DGRAM, 0) == -1 && errno == EACCES);
	_exit(0);
}

ATF_TC(frontend_allowed);
ATF_TC_HEAD(frontend_allowed, tc)
{
	atf_tc_set_md_var(tc, "descr", "frontend profile: seccomp on, "
	    "ids dropped, fd passing and memory work");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(frontend_allowed, tc)
{
	struct child	 c;
	char		*dir;

	dir = make_dir(test_user(), 0);
	run_child(frontend_child, dir, &c);
	remove_dir(dir);
	free(dir);
	expect_exit(&c, 0, NULL);
}

static void
frontend_bad(enum bad_call bad)
{
	struct sb_arg	 arg;
	struct child	 c;
	char		*dir;

	dir = make_dir(test_user(), 0);
	arg.profile = SANDBOX_FRONTEND;
	arg.root = dir;
	arg.bad = bad;
	run_child(bad_child, &arg, &c);
	remove_dir(dir);
	free(dir);
	expect_sigsys(&c);
}

ATF_TC(frontend_execve);
ATF_TC_HEAD(frontend_execve, tc)
{
	atf_tc_set_md_var(tc, "descr", "frontend profile: execve kills");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(frontend_execve, tc)
{
	frontend_bad(BAD_EXECVE);
}

ATF_TC(frontend_openat);
ATF_TC_HEAD(frontend_openat, tc)
{
	atf_tc_set_md_var(tc, "descr", "frontend profile: openat kills");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(frontend_openat, tc)
{
	struct sb_arg	 arg;
	struct child	 c;
	char		*dir, want[64];

	if (__sanitizer_sandbox_on_notify == NULL) {
		frontend_bad(BAD_OPENAT);
		return;
	}
	/* Sanitized: refused, but not fatal (the runtime's reports). */
	dir = make_dir(test_user(), 0);
	arg.profile = SANDBOX_FRONTEND;
	arg.root = dir;
	arg.bad = BAD_OPENAT;
	run_child(bad_child, &arg, &c);
	remove_dir(dir);
	free(dir);
	snprintf(want, sizeof(want), "returned -1, errno %d", EACCES);
	expect_exit(&c, 4, want);
}

ATF_TC(frontend_mmap_exec);
ATF_TC_HEAD(frontend_mmap_exec, tc)
{
	atf_tc_set_md_var(tc, "descr", "frontend profile: executable "
	    "mmap kills");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(frontend_mmap_exec, tc)
{
	frontend_bad(BAD_MMAP_EXEC);
}

static void
asan_child(const void *arg)
{
	volatile char	*p;
	volatile int	 i = 16;

	(void)child_setup();
	priv_drop(test_user(), arg);
	sandbox_apply(SANDBOX_FRONTEND);
	CHECK((p = malloc(16)) != NULL);
	p[i] = 1;
	dprintf(STDERR_FILENO, "overflow not detected\n");
	_exit(5);
}

ATF_TC(frontend_sanitizer_report);
ATF_TC_HEAD(frontend_sanitizer_report, tc)
{
	atf_tc_set_md_var(tc, "descr", "sanitized, a sandboxed and chrooted "
	    "frontend prints a full report instead of dying of SIGSYS");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(frontend_sanitizer_report, tc)
{
	struct child	 c;
	char		*dir;

	if (__sanitizer_sandbox_on_notify == NULL)
		atf_tc_skip("not built with -fsanitize");
	dir = make_dir(test_user(), 0);
	run_child(asan_child, dir, &c);
	remove_dir(dir);
	free(dir);
	if (WIFSIGNALED(c.status))
		atf_tc_fail("child killed by signal %d; stderr: %s",
		    WTERMSIG(c.status), c.err);
	if (WIFEXITED(c.status) && WEXITSTATUS(c.status) == 5)
		atf_tc_fail("overflow not reported; stderr: %s", c.err);
	/* UBSan's object-size check may see it before ASan does. */
	if (strstr(c.err, "runtime error: store to address") == NULL &&
	    (strstr(c.err, "AddressSanitizer: heap-buffer-overflow") == NULL ||
	    strstr(c.err, "SUMMARY:") == NULL))
		atf_tc_fail("no complete report; stderr: %s", c.err);
	if (strstr(c.err, "sandbox_test") == NULL)
		atf_tc_fail("report lacks the binary's name; stderr: %s",
		    c.err);
}

static void
debug_child(const void *arg)
{
	(void)child_setup();
	CHECK(setenv("SIGNERD_SANDBOX_DEBUG", "1", 1) == 0);
	priv_drop(test_user(), NULL);
	sandbox_apply(SANDBOX_FRONTEND);
	bad_call(BAD_EXECVE);
}

ATF_TC(frontend_debug);
ATF_TC_HEAD(frontend_debug, tc)
{
	atf_tc_set_md_var(tc, "descr", "SIGNERD_SANDBOX_DEBUG names the "
	    "forbidden call and exits 1");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(frontend_debug, tc)
{
	struct child	 c;
	char		 want[64];

	run_child(debug_child, NULL, &c);
	snprintf(want, sizeof(want), "sandbox violation: syscall %d (execve)",
	    (int)SYS_execve);
	expect_exit(&c, 1, want);
}

/* --- engine --------------------------------------------------------- */

static void
engine_child(const void *arg)
{
	struct fdpass		 f;
	struct sockaddr_un	 sun;
	char			 path[1024], path2[1024], buf[8];
	int			 fd, status, ls, cs, as;

	status = child_setup();
	/* A listening control socket and a client, made before the drop. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
	    "signerd-sandbox-test-%d", (int)getpid());
	CHECK((ls = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	CHECK(bind(ls, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	CHECK(listen(ls, 1) == 0);
	CHECK((cs = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	CHECK(connect(cs, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	fdpass_init(&f);

	priv_drop(test_user(), NULL);
	sandbox_apply(SANDBOX_ENGINE);
	CHECK(seccomp_mode(status) == 2);
	CHECK(priv_check_dropped() == 1);

	CHECK((as = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) != -1);
	CHECK(write(cs, "ctl", 3) == 3);
	CHECK(read(as, buf, sizeof(buf)) == 3);
	fdpass_check(&f);

	/* What SQLite does with a database and its journal. */
	snprintf(path, sizeof(path), "%s/db", (const char *)arg);
	snprintf(path2, sizeof(path2), "%s/db-journal", (const char *)arg);
	CHECK((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) != -1);
	CHECK(pwrite(fd, "keystore", 8, 0) == 8);
	CHECK(fdatasync(fd) == 0 && fsync(fd) == 0);
	CHECK(ftruncate(fd, 4) == 0);
	CHECK(pread(fd, buf, 8, 0) == 4);
	CHECK(fchmod(fd, 0600) == 0);
	CHECK(access(path, R_OK | W_OK) == 0);
	CHECK(rename(path, path2) == 0);
	CHECK(unlink(path2) == 0);
	close(fd);
	CHECK(socket(AF_INET, SOCK_STREAM, 0) == -1 && errno == EACCES);
	_exit(0);
}

ATF_TC(engine_allowed);
ATF_TC_HEAD(engine_allowed, tc)
{
	atf_tc_set_md_var(tc, "descr", "engine profile: seccomp on, "
	    "accept, fd passing and database file work");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(engine_allowed, tc)
{
	struct child	 c;
	char		*dir;

	dir = make_dir(test_user(), 1);
	run_child(engine_child, dir, &c);
	remove_dir(dir);
	free(dir);
	expect_exit(&c, 0, NULL);
}

ATF_TC(engine_execve);
ATF_TC_HEAD(engine_execve, tc)
{
	atf_tc_set_md_var(tc, "descr", "engine profile: execve kills");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(engine_execve, tc)
{
	struct sb_arg	 arg;
	struct child	 c;

	arg.profile = SANDBOX_ENGINE;
	arg.root = NULL;
	arg.bad = BAD_EXECVE;
	run_child(bad_child, &arg, &c);
	expect_sigsys(&c);
}

/* --- hsm ------------------------------------------------------------ */

static void
hsm_child(const void *arg)
{
	struct fdpass	 f;
	pthread_t	 t[4];
	void		*p;
	int		 i, fd, v[4], status, sp[2];

	status = child_setup();
	priv_drop(test_user(), NULL);
	sandbox_apply(SANDBOX_HSM);
	CHECK(seccomp_mode(status) == 2);
	CHECK(priv_check_dropped() == 1);

	for (i = 0; i < 4; i++) {
		v[i] = 0;
		CHECK(pthread_create(&t[i], NULL, thread_main, &v[i]) == 0);
	}
	for (i = 0; i < 4; i++) {
		CHECK(pthread_join(t[i], NULL) == 0);
		CHECK(v[i] == 42);
	}
	/* A module may open files and sockets and map code. */
	CHECK((fd = open("/dev/null", O_RDWR)) != -1);
	CHECK(write(fd, "x", 1) == 1);
	close(fd);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	close(sp[0]);
	close(sp[1]);
	fdpass_init(&f);
	fdpass_check(&f);
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	_exit(0);
}

ATF_TC(hsm_allowed);
ATF_TC_HEAD(hsm_allowed, tc)
{
	atf_tc_set_md_var(tc, "descr", "hsm profile: seccomp on, threads, "
	    "files and sockets work");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(hsm_allowed, tc)
{
	struct child	 c;

	run_child(hsm_child, NULL, &c);
	expect_exit(&c, 0, NULL);
}

static void
hsm_bad(enum bad_call bad)
{
	struct sb_arg	 arg;
	struct child	 c;

	arg.profile = SANDBOX_HSM;
	arg.root = NULL;
	arg.bad = bad;
	run_child(bad_child, &arg, &c);
	expect_sigsys(&c);
}

/*
 * Signals only to itself.  Run as root, without priv_drop(): only the
 * filter can refuse a signal to the parent then.
 */
static void
hsm_kill_child(const void *arg)
{
	siginfo_t	 si;
	int		 status;

	status = child_setup();
	sandbox_apply(SANDBOX_HSM);
	CHECK(seccomp_mode(status) == 2);

	CHECK(kill(getpid(), 0) == 0);
	CHECK(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0) == 0);
	CHECK(kill(getppid(), 0) == -1 && errno == EPERM);
	CHECK(kill(0, 0) == -1 && errno == EPERM);
	CHECK(kill(-1, 0) == -1 && errno == EPERM);
	CHECK(kill(-getpgrp(), 0) == -1 && errno == EPERM);
	CHECK(syscall(SYS_tgkill, getppid(), getppid(), 0) == -1 &&
	    errno == EPERM);
	CHECK(syscall(SYS_tkill, getppid(), 0) == -1 && errno == EPERM);
	memset(&si, 0, sizeof(si));
	si.si_code = SI_QUEUE;
	CHECK(syscall(SYS_rt_sigqueueinfo, getppid(), SIGUSR1, &si) == -1 &&
	    errno == EPERM);
	CHECK(syscall(SYS_rt_tgsigqueueinfo, getppid(), getppid(), SIGUSR1,
	    &si) == -1 && errno == EPERM);
	CHECK(syscall(SYS_pidfd_open, getppid(), 0) == -1 && errno == EPERM);
	CHECK(syscall(SYS_pidfd_send_signal, 0, SIGKILL, NULL, 0) == -1 &&
	    errno == EPERM);
	_exit(0);
}

ATF_TC(hsm_kill);
ATF_TC_HEAD(hsm_kill, tc)
{
	atf_tc_set_md_var(tc, "descr", "hsm profile: signals to itself "
	    "only; to others (kill 0, -1, the parent, pidfd) EPERM");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(hsm_kill, tc)
{
	struct child	 c;

	run_child(hsm_kill_child, NULL, &c);
	expect_exit(&c, 0, NULL);
}

ATF_TC(hsm_execve);
ATF_TC_HEAD(hsm_execve, tc)
{
	atf_tc_set_md_var(tc, "descr", "hsm profile: execve kills");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(hsm_execve, tc)
{
	hsm_bad(BAD_EXECVE);
}

ATF_TC(hsm_fork);
ATF_TC_HEAD(hsm_fork, tc)
{
	atf_tc_set_md_var(tc, "descr", "hsm profile: threads work, fork "
	    "kills");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(hsm_fork, tc)
{
	hsm_bad(BAD_FORK);
}

ATF_TC(hsm_setuid);
ATF_TC_HEAD(hsm_setuid, tc)
{
	atf_tc_set_md_var(tc, "descr", "hsm profile: setuid kills");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(hsm_setuid, tc)
{
	hsm_bad(BAD_SETUID);
}

ATF_TC(hsm_ptrace);
ATF_TC_HEAD(hsm_ptrace, tc)
{
	atf_tc_set_md_var(tc, "descr", "hsm profile: ptrace kills");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(hsm_ptrace, tc)
{
	hsm_bad(BAD_PTRACE);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, priv_drop_nouser);
	ATF_TP_ADD_TC(tp, priv_drop_order);
	ATF_TP_ADD_TC(tp, priv_drop_chroot);
	ATF_TP_ADD_TC(tp, frontend_allowed);
	ATF_TP_ADD_TC(tp, frontend_execve);
	ATF_TP_ADD_TC(tp, frontend_openat);
	ATF_TP_ADD_TC(tp, frontend_mmap_exec);
	ATF_TP_ADD_TC(tp, frontend_sanitizer_report);
	ATF_TP_ADD_TC(tp, frontend_debug);
	ATF_TP_ADD_TC(tp, engine_allowed);
	ATF_TP_ADD_TC(tp, engine_execve);
	ATF_TP_ADD_TC(tp, hsm_allowed);
	ATF_TP_ADD_TC(tp, hsm_kill);
	ATF_TP_ADD_TC(tp, hsm_execve);
	ATF_TP_ADD_TC(tp, hsm_fork);
	ATF_TP_ADD_TC(tp, hsm_setuid);
	ATF_TP_ADD_TC(tp, hsm_ptrace);

	return (atf_no_error());
}
