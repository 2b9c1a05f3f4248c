/*
 * What signerctl's files share: the policy commands (grants.c).
 */
#ifndef SIGNERCTL_H
#define SIGNERCTL_H

#include <stdio.h>

struct json;

/* grants.c */
int	 grants_command(int, char *[], const char *, struct json *);
void	 grants_usage(FILE *);

#endif /* SIGNERCTL_H */
