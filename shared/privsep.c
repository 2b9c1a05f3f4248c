/*
 * Dropping privileges in a child: chroot, then groups, then gid, then uid,
 * the order every OpenBSD daemon uses.  Groups go first because they can
 * no longer change once the uid is gone.  Every step is checked and any
 * failure is fatal: a child that runs with more privileges than it
 * believes it has is worse than no child.
 */
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "signerd.h"

/*
 * Provided by the ASan/UBSan runtime when the build is sanitized; a weak
 * reference is NULL otherwise.  The argument is the runtime's
 * __sanitizer_sandbox_arguments, of which we pass none.
 */
struct __sanitizer_sandbox_arguments;
extern void __sanitizer_sandbox_on_notify(
    struct __sanitizer_sandbox_arguments *) __attribute__((__weak__));

static void	priv_sanitizer_prepare(void);

/*
 * Under -fsanitize the runtime reads /proc/self/maps and the binary only
 * when it prints a report.  After a chroot neither can be opened, and
 * under seccomp the open itself may kill the process, so let the runtime
 * cache what it needs now.
 */
static void
priv_sanitizer_prepare(void)
{
	if (__sanitizer_sandbox_on_notify != NULL)
		__sanitizer_sandbox_on_notify(NULL);
}

void
priv_drop(const char *user, const char *root)
{
	struct passwd	*pw;
	uid_t		 uid, ruid, euid, suid;
	gid_t		 gid, rgid, egid, sgid, groups[2];
	int		 n;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		if (errno != 0)
			fatal("getpwnam %s", user);
		fatalx("unknown user %s: create it or change the "
		    "configuration", user);
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0 || gid == 0)
		fatalx("user %s has uid or gid 0: refusing to run as it", user);

	priv_sanitizer_prepare();

	if (root != NULL) {
		if (chroot(root) == -1)
			fatal("chroot %s", root);
		if (chdir("/") == -1)
			fatal("chdir /");
	}

	if (setgroups(1, &gid) == -1)
		fatal("setgroups");
	if (setresgid(gid, gid, gid) == -1)
		fatal("setresgid %u", (unsigned int)gid);
	if (setresuid(uid, uid, uid) == -1)
		fatal("setresuid %u", (unsigned int)uid);

	/* Trust nothing: read everything back. */
	if (getresuid(&ruid, &euid, &suid) == -1)
		fatal("getresuid");
	if (ruid != uid || euid != uid || suid != uid)
		fatalx("uid not dropped to %u", (unsigned int)uid);
	if (getresgid(&rgid, &egid, &sgid) == -1)
		fatal("getresgid");
	if (rgid != gid || egid != gid || sgid != gid)
		fatalx("gid not dropped to %u", (unsigned int)gid);
	if ((n = getgroups(2, groups)) == -1)
		fatal("getgroups");
	if (n != 1 || groups[0] != gid)
		fatalx("supplementary groups not dropped");
	if (setgid(0) != -1 || setegid(0) != -1)
		fatalx("could regain gid 0 after dropping privileges");
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("could regain uid 0 after dropping privileges");
}

/* Returns 1 if no uid or gid of the process is 0, else 0. */
int
priv_check_dropped(void)
{
	uid_t	 ruid, euid, suid;
	gid_t	 rgid, egid, sgid;
	gid_t	*groups;
	int	 i, n, ok;

	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1)
		return (0);
	if (ruid == 0 || euid == 0 || suid == 0 ||
	    rgid == 0 || egid == 0 || sgid == 0)
		return (0);
	if ((n = getgroups(0, NULL)) == -1)
		return (0);
	if (n == 0)
		return (1);
	if ((groups = reallocarray(NULL, n, sizeof(*groups))) == NULL)
		return (0);
	ok = 1;
	if ((n = getgroups(n, groups)) == -1)
		ok = 0;
	for (i = 0; ok && i < n; i++)
		if (groups[i] == 0)
			ok = 0;
	free(groups);
	return (ok);
}
