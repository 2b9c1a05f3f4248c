/*
 * libevent glue for imsg channels.  EV_READ is always armed.  What is
 * queued is written once the callbacks of the loop turn are done (the
 * flush event, made active): every message of the turn in one write,
 * without arming EV_WRITE; only if the socket does not take it all is
 * EV_WRITE armed until it has.  The handler is called with iev->data.
 */
#include <sys/types.h>

#include <errno.h>
#include <event.h>
#include <string.h>
#include <unistd.h>

#include "imsgev.h"
#include "log.h"

static void	imsgev_flush(int, short, void *);

int
imsgev_init(struct imsgev *iev, int fd, void (*handler)(int, short, void *),
    void *data, size_t maxsize, int fdpass)
{
	memset(iev, 0, sizeof(*iev));
	if (imsgbuf_init(&iev->ibuf, fd) == -1)
		return (-1);
	if (imsgbuf_set_maxsize(&iev->ibuf, maxsize) == -1) {
		imsgbuf_clear(&iev->ibuf);
		return (-1);
	}
	if (fdpass)
		imsgbuf_allow_fdpass(&iev->ibuf);
	iev->handler = handler;
	iev->data = data;
	iev->active = 1;
	evtimer_set(&iev->flush, imsgev_flush, iev);
	imsg_event_add(iev);
	return (0);
}

/* Stop the channel: drop the event and the queue, close the socket. */
void
imsgev_clear(struct imsgev *iev)
{
	if (!iev->active)
		return;
	if (event_initialized(&iev->ev))
		event_del(&iev->ev);
	if (iev->flush_on) {
		event_del(&iev->flush);
		iev->flush_on = 0;
	}
	imsgbuf_clear(&iev->ibuf);
	close(iev->ibuf.fd);
	iev->ibuf.fd = -1;
	iev->active = 0;
}

/*
 * Watch the channel for what it needs: reading always, and what is
 * queued written at the end of the turn (imsgev_flush), or when the
 * socket takes it if it was full.  The event persists: only a change
 * (or a new socket) touches the kernel's set, not every message.
 */
void
imsg_event_add(struct imsgev *iev)
{
	short	 events = EV_READ | EV_PERSIST;

	if (!iev->active)
		return;
	if (imsgbuf_queuelen(&iev->ibuf) == 0)
		iev->blocked = 0;
	else if (iev->blocked)
		events |= EV_WRITE;
	else if (!iev->flush_on) {
		iev->flush_on = 1;
		event_active(&iev->flush, EV_TIMEOUT, 1);
	}
	if (event_initialized(&iev->ev)) {
		if (events == iev->events &&
		    event_get_fd(&iev->ev) == iev->ibuf.fd &&
		    event_pending(&iev->ev, EV_READ, NULL))
			return;
		event_del(&iev->ev);
	}
	iev->events = events;
	event_set(&iev->ev, iev->ibuf.fd, iev->events, iev->handler,
	    iev->data);
	event_add(&iev->ev, NULL);
}

/*
 * The end of a turn: write what is queued.  What the socket did not
 * take, or an error, is left to EV_WRITE: the handler writes the rest,
 * or sees the error, as it did before.
 */
static void
imsgev_flush(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;

	iev->flush_on = 0;
	if (!iev->active)
		return;
	if (imsgbuf_queuelen(&iev->ibuf) > 0 &&
	    (imsgbuf_write(&iev->ibuf) == -1 ||
	    imsgbuf_queuelen(&iev->ibuf) > 0))
		iev->blocked = 1;
	imsg_event_add(iev);
}

int
imsg_compose_event(struct imsgev *iev, uint32_t type, uint32_t peerid,
    pid_t pid, int fd, const void *data, size_t datalen)
{
	int	 ret;

	if (!iev->active) {
		if (fd != -1)
			close(fd);
		errno = EPIPE;
		return (-1);
	}
	if ((ret = imsg_compose(&iev->ibuf, type, peerid, pid, fd, data,
	    datalen)) == -1)
		log_warn("imsg_compose type %u", type);
	else
		imsg_event_add(iev);
	return (ret);
}

/*
 * The I/O half of every dispatch function.  Returns 0 while the channel
 * lives, -1 once the peer is gone (EOF, EPIPE, or a broken stream).
 */
int
imsgev_io(struct imsgev *iev, short event)
{
	struct imsgbuf	*ibuf = &iev->ibuf;

	if (event & EV_READ) {
		switch (imsgbuf_read(ibuf)) {
		case -1:
			/*
			 * A peer that exits with our messages unread resets
			 * the socketpair: it is gone, as at EOF, and its end
			 * is logged by whoever reaps it.
			 */
			if (errno != ECONNRESET)
				log_warn("imsgbuf_read");
			return (-1);
		case 0:
			return (-1);
		}
	}
	if (event & EV_WRITE) {
		if (imsgbuf_write(ibuf) == -1) {
			if (errno != EPIPE)
				log_warn("imsgbuf_write");
			return (-1);
		}
	}
	return (0);
}
