/*
 * nosandbox.so: for profiling only, never in production.  Valgrind
 * cannot run a process that loads a seccomp filter with TSYNC (it does
 * not know the seccomp system call), so etc/bench.sh's profile part
 * preloads this into signerd under valgrind: libseccomp's calls that set
 * the filter's attributes and load it succeed without doing anything.
 * The processes still drop privileges and the frontend still chroots;
 * only the system call filter is missing.
 */

#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int	seccomp_attr_set(scmp_filter_ctx, enum scmp_filter_attr, uint32_t);
int	seccomp_load(const scmp_filter_ctx);

int
seccomp_attr_set(scmp_filter_ctx ctx, enum scmp_filter_attr attr,
    uint32_t value)
{
	return (0);
}

int
seccomp_load(const scmp_filter_ctx ctx)
{
	static const char	 msg[] = "nosandbox: no seccomp filter "
	    "loaded (profiling)\n";
	ssize_t			 w;

	w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)w;
	return (0);
}
