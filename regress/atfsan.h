/*
 * For every atf-c test program, included once by its source: libatf-c
 * leaks its test case list when asked for it (-l, as kyua does first),
 * which fails the whole program under LeakSanitizer.  Name only the atf
 * functions involved, so that a leak in our code still shows; and say
 * nothing of the suppressions, since kyua rejects a test case list with
 * anything on stderr.  A program whose libraries keep memory of their
 * own defines ATFSAN_MORE (more "leak:" lines) before including this.
 */
#ifndef ATFSAN_H
#define ATFSAN_H

#ifndef ATFSAN_MORE
#define ATFSAN_MORE	""
#endif

const char	*__lsan_default_suppressions(void);
const char	*__lsan_default_options(void);

const char *
__lsan_default_suppressions(void)
{
	return ("leak:atf_tp_get_tcs\n"
	    "leak:atf_map_init_charpp\n"
	    "leak:atf_list_init\n"
	    "leak:atf_list_append\n"
	    "leak:atf_map_insert\n"
	    ATFSAN_MORE);
}

const char *
__lsan_default_options(void)
{
	return ("print_suppressions=0");
}

#endif /* ATFSAN_H */
