/*
 * libFuzzer target for the configuration parser: the input is written to
 * a file and parsed without looking at users, groups or files, so any
 * crash, hang or leak is the parser's.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	cleanup(void);

static char	path[] = "/tmp/fuzz_config.XXXXXX";
static int	fd = -1;

static void
cleanup(void)
{
	(void)unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Errors go to stderr; -close_fd_mask=2 silences them. */
	log_init(1, LOG_DAEMON);
	log_setverbose(0);
	if ((fd = mkstemp(path)) == -1) {
		perror("mkstemp");
		exit(1);
	}
	atexit(cleanup);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct signerd_conf	*conf;
	FILE			*null;
	size_t			 off;
	ssize_t			 n;

	if (ftruncate(fd, 0) == -1 || lseek(fd, 0, SEEK_SET) == -1)
		abort();
	for (off = 0; off < size; off += n)
		if ((n = write(fd, data + off, size - off)) <= 0)
			abort();
	if ((conf = parse_config(path, CONF_NOCHECK_FILES)) != NULL) {
		/* Exercise the printer too. */
		if ((null = fopen("/dev/null", "w")) != NULL) {
			config_print(null, conf);
			fclose(null);
		}
		config_free(conf);
	}
	return (0);
}
