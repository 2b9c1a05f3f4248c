/*
 * What every child process (engine, frontend, signer) does the same way.
 */
#include <sys/types.h>

#include <event.h>
#include <signal.h>
#include <stddef.h>

#include "imsgev.h"
#include "log.h"
#include "signerd.h"

static struct event	 ev_sigterm, ev_sigint, ev_sighup;

static void
child_sig(int sig, short event, void *arg)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		event_loopexit(NULL);
		break;
	case SIGHUP:
		/* The parent reloads and tells us; a HUP to the group is not. */
		break;
	}
}

/* SIGTERM and SIGINT end the event loop; SIGHUP and SIGPIPE are ignored. */
void
child_signals(void)
{
	signal_set(&ev_sigterm, SIGTERM, child_sig, NULL);
	signal_set(&ev_sigint, SIGINT, child_sig, NULL);
	signal_set(&ev_sighup, SIGHUP, child_sig, NULL);
	signal_add(&ev_sigterm, NULL);
	signal_add(&ev_sigint, NULL);
	signal_add(&ev_sighup, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * A new channel from the parent (IMSG_SOCKET_*): it replaces the old one,
 * whose peer was restarted.
 */
void
child_link(struct imsgev *iev, struct imsg *imsg,
    void (*handler)(int, short, void *), void *data)
{
	int	 fd;

	if ((fd = imsg_get_fd(imsg)) == -1)
		fatalx("imsg %u without its socket", imsg_get_type(imsg));
	imsgev_clear(iev);
	if (imsgev_init(iev, fd, handler, data, IMSG_MAX_INTERNAL, 0) == -1)
		fatal("imsgev_init");
}

void
child_verbose(struct imsg *imsg)
{
	int	 verbose;

	if (imsg_get_data(imsg, &verbose, sizeof(verbose)) == -1)
		fatalx("bad IMSG_CTL_VERBOSE");
	log_setverbose(verbose);
}
