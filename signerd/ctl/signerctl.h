/*
 * What signerctl's files share: the policy commands (grants.c).
 */
#ifndef SIGNERCTL_H
#define SIGNERCTL_H

#include <stdio.h>

struct imsg;
struct imsgbuf;
struct json;

int	 ctl_connect(const char *, struct imsgbuf *, const char *);
void	 ctl_read(struct imsgbuf *, struct imsg *, const char *);

/* grants.c */
int	 grants_command(int, char *[], const char *, struct json *);
void	 grants_usage(FILE *);

#endif /* SIGNERCTL_H */
