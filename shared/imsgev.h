/*
 * An imsg channel driven by libevent: the imsgbuf, its event and the
 * dispatch function of the peer it talks to.
 */
#ifndef IMSGEV_H
#define IMSGEV_H

#include <sys/types.h>

#include <event.h>
#include <stdint.h>

#include "imsg.h"

struct imsgev {
	struct imsgbuf	 ibuf;
	struct event	 ev;
	struct event	 flush;		/* writes the queue, end of turn */
	void		(*handler)(int, short, void *);
	void		*data;
	short		 events;
	int		 active;
	int		 flush_on;	/* flush is active */
	int		 blocked;	/* the socket took not all: EV_WRITE */
};

int	imsgev_init(struct imsgev *, int, void (*)(int, short, void *),
	    void *, size_t, int);
void	imsgev_clear(struct imsgev *);
void	imsg_event_add(struct imsgev *);
int	imsg_compose_event(struct imsgev *, uint32_t, uint32_t, pid_t, int,
	    const void *, size_t);
int	imsgev_io(struct imsgev *, short);

#endif /* IMSGEV_H */
