/*
 * Linux sandbox: no_new_privs plus a seccomp filter built with libseccomp,
 * one per process role.  Call sandbox_apply() last, after priv_drop():
 * the filters do not allow chroot or set*id.  Any failure is fatal.
 *
 * SANDBOX_FRONTEND	allow-list for the chrooted TLS server: sockets it
 *			already holds, memory, time, signals.  No files
 *			(openat kills), no new sockets, no exec, no
 *			executable memory.  RLIMIT_FSIZE is set to 0.
 * SANDBOX_ENGINE	the frontend list plus what SQLite needs on files
 *			(open, stat, pread/pwrite, fsync, locks, unlink,
 *			rename...).  No exec, no mkdir, no new sockets.
 * SANDBOX_HSM		deny-list: a vendor PKCS#11 module may start threads
 *			and open files or sockets, so only what no module
 *			needs is refused: exec, fork, ptrace, mount, set*id,
 *			module loading, namespaces, keyrings...  Threads
 *			(clone with CLONE_THREAD) stay allowed; clone3, whose
 *			flags a filter cannot see, returns ENOSYS so that
 *			glibc falls back to clone.  Signals go to this
 *			process only: kill, tgkill and the sigqueue calls
 *			to another pid (or to a group: 0, negative), tkill
 *			and the pidfd calls fail with EPERM rather than
 *			kill, so that a module probing a pid does not die.
 *
 * Debugging: with SIGNERD_SANDBOX_DEBUG set in the environment, a
 * forbidden call raises SIGSYS (SCMP_ACT_TRAP) instead of killing the
 * process, and a handler writes "sandbox violation: syscall N (name)" to
 * stderr and calls _exit(1).  Use it to find what a new code path or a
 * library needs; never in production, since the handler could be
 * replaced by the sandboxed code.
 *
 * Sanitizers: the allow-lists cover what the ASan/UBSan runtimes use at
 * steady state and to print a report (mmap, madvise, sched_yield, write).
 * priv_drop() and sandbox_apply() let the runtime cache /proc/self/maps
 * beforehand.  When a sanitizer runtime is linked in, the frontend's file
 * calls (open, openat, readlink, stat, access), and pipe and the raw fork
 * system call in every profile, fail with an error instead of killing, so
 * that a report can be printed in full; inside a chroot its frames are
 * then "(binary+offset)", for addr2line.  LeakSanitizer needs ptrace and
 * cannot work in a sandbox: run sandboxed processes with
 * ASAN_OPTIONS=detect_leaks=0.
 */
#ifdef __linux__

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "signerd.h"

#define SANDBOX_DEBUG_ENV	"SIGNERD_SANDBOX_DEBUG"
#define SANDBOX_NNAMES		512	/* names kept for the debug handler */

/* See privsep.c: a weak reference to the sanitizer runtime. */
struct __sanitizer_sandbox_arguments;
extern void __sanitizer_sandbox_on_notify(
    struct __sanitizer_sandbox_arguments *) __attribute__((__weak__));

/*
 * SCMP_SYS() names are checked at compile time; a call that does not
 * exist on this architecture (poll on arm64, say) yields a negative
 * pseudo number and is skipped.
 */

/* Every allow-listed process (frontend, engine). */
static const int sandbox_base[] = {
	/* I/O on descriptors already held */
	SCMP_SYS(read),
	SCMP_SYS(readv),
	SCMP_SYS(write),
	SCMP_SYS(writev),
	SCMP_SYS(recvfrom),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg),
	SCMP_SYS(sendto),
	SCMP_SYS(accept),
	SCMP_SYS(accept4),
	SCMP_SYS(close),
	SCMP_SYS(shutdown),
	SCMP_SYS(getsockopt),
	SCMP_SYS(setsockopt),
	SCMP_SYS(getpeername),
	SCMP_SYS(getsockname),
	SCMP_SYS(fcntl),
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),	/* glibc's fstat(); cannot open anything */
	SCMP_SYS(lseek),
	/* event loop */
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_pwait2),
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	/* time */
	SCMP_SYS(clock_getres),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(nanosleep),
	SCMP_SYS(time),
	/* memory; mmap and mprotect are added without PROT_EXEC */
	SCMP_SYS(brk),
	SCMP_SYS(madvise),
	SCMP_SYS(mremap),
	SCMP_SYS(munmap),
	SCMP_SYS(futex),
	SCMP_SYS(getrandom),
	/* signals; kill and tgkill are added for this process only */
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sigaltstack),
	SCMP_SYS(restart_syscall),
	/* identity, limits (read only: see prlimit64 below) */
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(getuid),
	SCMP_SYS(geteuid),
	SCMP_SYS(getresuid),
	SCMP_SYS(getgid),
	SCMP_SYS(getegid),
	SCMP_SYS(getresgid),
	SCMP_SYS(getgroups),	/* priv_check_dropped() */
	SCMP_SYS(getrlimit),
	SCMP_SYS(sched_getaffinity),
	SCMP_SYS(sched_yield),	/* sanitizer spin locks */
	SCMP_SYS(sysinfo),	/* glibc qsort() on large arrays */
	SCMP_SYS(exit),
	SCMP_SYS(exit_group)
};

/* Added for the engine: what SQLite does with its database files. */
static const int sandbox_engine[] = {
	SCMP_SYS(open),
	SCMP_SYS(openat),
	SCMP_SYS(stat),
	SCMP_SYS(lstat),
	SCMP_SYS(statx),
	SCMP_SYS(access),
	SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2),
	SCMP_SYS(readlink),
	SCMP_SYS(readlinkat),
	SCMP_SYS(getcwd),
	SCMP_SYS(pread64),
	SCMP_SYS(pwrite64),
	SCMP_SYS(fsync),
	SCMP_SYS(fdatasync),
	SCMP_SYS(sync_file_range),	/* the audit trail's writeback */
	SCMP_SYS(ftruncate),
	SCMP_SYS(fallocate),
	SCMP_SYS(flock),
	SCMP_SYS(fchmod),
	SCMP_SYS(fchown),	/* SQLite hands journals to the db owner */
	SCMP_SYS(unlink),
	SCMP_SYS(unlinkat),
	SCMP_SYS(rename),
	SCMP_SYS(renameat),
	SCMP_SYS(renameat2)
};

/*
 * Refused with EACCES, not killed, in a sanitized frontend: the ASan and
 * UBSan runtimes re-read /proc/self/maps and open the binaries to
 * symbolize a report, and UBSan makes a pipe to test whether memory it
 * wants to print is readable.  Inside the chroot the files are absent
 * anyway; without this a report would end in SIGSYS half-way.
 */
static const int sandbox_sanitizer[] = {
	SCMP_SYS(open),
	SCMP_SYS(openat),
	SCMP_SYS(readlink),
	SCMP_SYS(readlinkat),
	SCMP_SYS(stat),
	SCMP_SYS(lstat),
	SCMP_SYS(access),
	SCMP_SYS(faccessat)
};

/*
 * Refused, not killed, in any sanitized process: clang's runtime starts
 * llvm-symbolizer with pipe and a raw fork (glibc's fork() is clone, and
 * still kills), UBSan tests memory it prints with a pipe.
 */
static const int sandbox_sanitizer_proc[] = {
	SCMP_SYS(pipe),
	SCMP_SYS(pipe2),
	SCMP_SYS(fork),
	SCMP_SYS(vfork)
};

/* Killed in the HSM profile; everything else is allowed there. */
static const int sandbox_hsm_kill[] = {
	SCMP_SYS(execve),
	SCMP_SYS(execveat),
	SCMP_SYS(ptrace),
	SCMP_SYS(process_vm_readv),
	SCMP_SYS(process_vm_writev),
	SCMP_SYS(personality),
	/* identity */
	SCMP_SYS(setuid),
	SCMP_SYS(setgid),
	SCMP_SYS(setreuid),
	SCMP_SYS(setregid),
	SCMP_SYS(setresuid),
	SCMP_SYS(setresgid),
	SCMP_SYS(setgroups),
	SCMP_SYS(setfsuid),
	SCMP_SYS(setfsgid),
	/* file systems and namespaces */
	SCMP_SYS(chroot),
	SCMP_SYS(pivot_root),
	SCMP_SYS(mount),
	SCMP_SYS(umount2),
	SCMP_SYS(fsopen),
	SCMP_SYS(fsconfig),
	SCMP_SYS(fsmount),
	SCMP_SYS(fspick),
	SCMP_SYS(move_mount),
	SCMP_SYS(open_tree),
	SCMP_SYS(mount_setattr),
	SCMP_SYS(unshare),
	SCMP_SYS(setns),
	SCMP_SYS(swapon),
	SCMP_SYS(swapoff),
	SCMP_SYS(quotactl),
	SCMP_SYS(acct),
	/* kernel */
	SCMP_SYS(init_module),
	SCMP_SYS(finit_module),
	SCMP_SYS(delete_module),
	SCMP_SYS(kexec_load),
	SCMP_SYS(kexec_file_load),
	SCMP_SYS(reboot),
	SCMP_SYS(bpf),
	SCMP_SYS(perf_event_open),
	SCMP_SYS(keyctl),
	SCMP_SYS(add_key),
	SCMP_SYS(request_key)
};

static char	*sandbox_names[SANDBOX_NNAMES];

static void	 sandbox_add(scmp_filter_ctx, uint32_t, int, unsigned int,
		    const struct scmp_arg_cmp *);
static void	 sandbox_add_list(scmp_filter_ctx, uint32_t, const int *,
		    size_t);
static void	 sandbox_allow_common(scmp_filter_ctx);
static void	 sandbox_deny_hsm(scmp_filter_ctx, uint32_t, int);
static void	 sandbox_debug_init(void);
static void	 sandbox_sigsys(int, siginfo_t *, void *);
static size_t	 sandbox_append(char *, size_t, size_t, const char *);

static void
sandbox_add(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned int argc,
    const struct scmp_arg_cmp *argv)
{
	char	*name;
	int	 rc;

	if (nr < 0)
		return;		/* not a system call on this architecture */
	if ((rc = seccomp_rule_add_array(ctx, action, nr, argc, argv)) < 0) {
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		fatalx("sandbox: rule for %s (%d): %s",
		    name != NULL ? name : "?", nr, strerror(-rc));
	}
}

static void
sandbox_add_list(scmp_filter_ctx ctx, uint32_t action, const int *list,
    size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		sandbox_add(ctx, action, list[i], 0, NULL);
}

/* The part of the frontend and engine lists that tests arguments. */
static void
sandbox_allow_common(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp	 cmp[2];
	pid_t			 pid;

	sandbox_add_list(ctx, SCMP_ACT_ALLOW, sandbox_base,
	    sizeof(sandbox_base) / sizeof(sandbox_base[0]));

	/* Memory, never executable: no code is loaded after the sandbox. */
	cmp[0] = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, cmp);
	sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, cmp);

	/*
	 * Signals to this process only (abort() uses tgkill).  The second
	 * datum of an SCMP_CMP_EQ is unused; given, it keeps clang quiet.
	 */
	pid = getpid();
	cmp[0] = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)pid, 0);
	sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1, cmp);
	sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, cmp);

	/* Read own limits (glibc's getrlimit), never set any. */
	cmp[0] = SCMP_A0(SCMP_CMP_EQ, 0, 0);
	cmp[1] = SCMP_A2(SCMP_CMP_EQ, 0, 0);
	sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2, cmp);

	/* Non-blocking mode and pending bytes on sockets. */
	cmp[0] = SCMP_A1(SCMP_CMP_EQ, FIONBIO, 0);
	sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, cmp);
	cmp[0] = SCMP_A1(SCMP_CMP_EQ, FIONREAD, 0);
	sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, cmp);
	/* stdio asks isatty(); say no rather than die. */
	cmp[0] = SCMP_A1(SCMP_CMP_EQ, TCGETS, 0);
	sandbox_add(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1, cmp);

	/*
	 * No new sockets.  syslog(3) reconnects when its socket broke:
	 * let that fail quietly (the log socket is outside the chroot
	 * anyway) instead of killing the process.
	 */
	sandbox_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 0, NULL);
}

static void
sandbox_deny_hsm(scmp_filter_ctx ctx, uint32_t kill, int sanitized)
{
	struct scmp_arg_cmp	 cmp[1];
	pid_t			 pid;

	sandbox_add_list(ctx, kill, sandbox_hsm_kill,
	    sizeof(sandbox_hsm_kill) / sizeof(sandbox_hsm_kill[0]));
	sandbox_add(ctx, sanitized ? SCMP_ACT_ERRNO(EPERM) : kill,
	    SCMP_SYS(fork), 0, NULL);
	sandbox_add(ctx, sanitized ? SCMP_ACT_ERRNO(EPERM) : kill,
	    SCMP_SYS(vfork), 0, NULL);

	/*
	 * clone: threads yes, processes no.  The flags are the first
	 * argument everywhere but s390, which we do not support here.
	 */
	cmp[0] = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0);
	sandbox_add(ctx, kill, SCMP_SYS(clone), 1, cmp);
	/* clone3 passes its flags in memory: make glibc use clone. */
	sandbox_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
	/* io_uring would run operations the filter never sees. */
	sandbox_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_setup), 0,
	    NULL);

	/*
	 * Signals to this process only: a signer must not stop or kill
	 * the engine, or another signer of the same user.  The pid is the
	 * first argument of each; tkill takes a bare thread id, which
	 * may be anyone's, and glibc does not use it.  A pidfd could be
	 * signalled, or its descriptors taken (pidfd_getfd).
	 */
	pid = getpid();
	cmp[0] = SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)pid, 0);
	sandbox_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(kill), 1, cmp);
	sandbox_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(tgkill), 1, cmp);
	sandbox_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(rt_sigqueueinfo), 1,
	    cmp);
	sandbox_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(rt_tgsigqueueinfo),
	    1, cmp);
	sandbox_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(tkill), 0, NULL);
	sandbox_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pidfd_open), 0,
	    NULL);
	sandbox_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pidfd_send_signal),
	    0, NULL);
	sandbox_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pidfd_getfd), 0,
	    NULL);
}

/* Resolve names now: the SIGSYS handler cannot allocate. */
static void
sandbox_debug_init(void)
{
	struct sigaction	 sa;
	int			 i;

	for (i = 0; i < SANDBOX_NNAMES; i++)
		if (sandbox_names[i] == NULL)
			sandbox_names[i] = seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, i);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		fatal("sandbox: sigaction SIGSYS");
	if (sigemptyset(&sa.sa_mask) == -1 ||
	    sigaddset(&sa.sa_mask, SIGSYS) == -1 ||
	    sigprocmask(SIG_UNBLOCK, &sa.sa_mask, NULL) == -1)
		fatal("sandbox: unblock SIGSYS");
}

static size_t
sandbox_append(char *buf, size_t len, size_t off, const char *s)
{
	while (*s != '\0' && off < len - 1)
		buf[off++] = *s++;
	buf[off] = '\0';
	return (off);
}

/* Async-signal-safe: no stdio, no allocation. */
static void
sandbox_sigsys(int sig, siginfo_t *si, void *uctx)
{
	char		 buf[128], num[16];
	const char	*name;
	size_t		 off;
	ssize_t		 w;
	unsigned int	 nr;
	int		 i;

	nr = (unsigned int)si->si_syscall;
	i = sizeof(num) - 1;
	num[i] = '\0';
	do {
		num[--i] = '0' + nr % 10;
		nr /= 10;
	} while (nr != 0 && i > 0);
	nr = (unsigned int)si->si_syscall;
	name = nr < SANDBOX_NNAMES && sandbox_names[nr] != NULL ?
	    sandbox_names[nr] : "unknown";

	off = sandbox_append(buf, sizeof(buf), 0,
	    "sandbox violation: syscall ");
	off = sandbox_append(buf, sizeof(buf), off, num + i);
	off = sandbox_append(buf, sizeof(buf), off, " (");
	off = sandbox_append(buf, sizeof(buf), off, name);
	off = sandbox_append(buf, sizeof(buf), off, ")\n");
	w = write(STDERR_FILENO, buf, off);
	(void)w;		/* nothing to do if stderr is gone */
	_exit(1);
}

void
sandbox_apply(enum sandbox_profile profile)
{
	struct rlimit	 rl;
	struct stat	 sb;
	scmp_filter_ctx	 ctx;
	uint32_t	 deny, dflt;
	int		 debug, rc, sanitized;

	debug = getenv(SANDBOX_DEBUG_ENV) != NULL;
	if (debug)
		deny = SCMP_ACT_TRAP;
	else if (seccomp_api_get() >= 3)
		deny = SCMP_ACT_KILL_PROCESS;
	else
		deny = SCMP_ACT_KILL;	/* kernel < 4.14: the thread only */

	switch (profile) {
	case SANDBOX_FRONTEND:
	case SANDBOX_ENGINE:
		dflt = deny;
		break;
	case SANDBOX_HSM:
		dflt = SCMP_ACT_ALLOW;
		break;
	default:
		fatalx("sandbox_apply: unknown profile %d", (int)profile);
	}

	sanitized = __sanitizer_sandbox_on_notify != NULL;
	if (sanitized)
		__sanitizer_sandbox_on_notify(NULL);

	if (profile == SANDBOX_FRONTEND) {
		/*
		 * The frontend writes no files.  A foreground run with
		 * stderr redirected to a file is the exception: a zero
		 * limit would kill it at its first log line.
		 */
		if (fstat(STDERR_FILENO, &sb) == -1 || !S_ISREG(sb.st_mode)) {
			rl.rlim_cur = rl.rlim_max = 0;
			if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
				fatal("sandbox: setrlimit RLIMIT_FSIZE");
		} else
			log_debug("sandbox: stderr is a file, "
			    "RLIMIT_FSIZE left alone");
	}

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("sandbox: prctl PR_SET_NO_NEW_PRIVS");

	if ((ctx = seccomp_init(dflt)) == NULL)
		fatalx("sandbox: seccomp_init failed");
	/* Other architectures' system calls (int 0x80) are refused. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, deny)) < 0)
		fatalx("sandbox: bad arch action: %s", strerror(-rc));
	/* Threads a PKCS#11 module already started get the filter too. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		fatalx("sandbox: tsync: %s", strerror(-rc));

	switch (profile) {
	case SANDBOX_ENGINE:
		sandbox_add_list(ctx, SCMP_ACT_ALLOW, sandbox_engine,
		    sizeof(sandbox_engine) / sizeof(sandbox_engine[0]));
		/* FALLTHROUGH */
	case SANDBOX_FRONTEND:
		sandbox_allow_common(ctx);
		if (!sanitized)
			break;
		sandbox_add_list(ctx, SCMP_ACT_ERRNO(EACCES),
		    sandbox_sanitizer_proc, sizeof(sandbox_sanitizer_proc) /
		    sizeof(sandbox_sanitizer_proc[0]));
		if (profile == SANDBOX_FRONTEND)
			sandbox_add_list(ctx, SCMP_ACT_ERRNO(EACCES),
			    sandbox_sanitizer, sizeof(sandbox_sanitizer) /
			    sizeof(sandbox_sanitizer[0]));
		break;
	case SANDBOX_HSM:
		sandbox_deny_hsm(ctx, deny, sanitized);
		break;
	}

	if (debug)
		sandbox_debug_init();

	if ((rc = seccomp_load(ctx)) < 0)
		fatalx("sandbox: seccomp_load: %s", strerror(-rc));
	seccomp_release(ctx);
	log_debug("sandbox: %s profile active%s",
	    profile == SANDBOX_FRONTEND ? "frontend" :
	    profile == SANDBOX_ENGINE ? "engine" : "hsm",
	    debug ? " (debug: violations trap)" : "");
}

#endif /* __linux__ */
