/*
 * A small JSON writer for signerctl's -j output: one document per
 * command, values written as they arrive from the daemon.  Keys are
 * given inside objects and NULL inside arrays.
 */
#ifndef SIGNERCTL_JSON_H
#define SIGNERCTL_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH	16

struct json {
	FILE		*fp;
	int		 depth;
	int		 count[JSON_DEPTH];	/* members so far, per level */
};

void	 json_init(struct json *, FILE *);
void	 json_object_open(struct json *, const char *);
void	 json_object_close(struct json *);
void	 json_array_open(struct json *, const char *);
void	 json_array_close(struct json *);
void	 json_string(struct json *, const char *, const char *);
void	 json_int(struct json *, const char *, int64_t);
void	 json_uint(struct json *, const char *, uint64_t);
void	 json_bool(struct json *, const char *, int);
void	 json_null(struct json *, const char *);
void	 json_finish(struct json *);

#endif
