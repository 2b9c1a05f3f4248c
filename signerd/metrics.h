/*
 * The engine's counters for signerctl show metrics (metrics.c).
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

struct ctl_conn;
struct kreq;

void	 metrics_init(void);
void	 metrics_item(const struct kreq *);
int	 metrics_frontend(const void *, size_t);
void	 metrics_show(struct ctl_conn *);

#endif /* METRICS_H */
