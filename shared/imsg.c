/*
 * imsg channels: framing, limits and descriptor passing on top of the
 * msgbuf queues in imsg-buffer.c.  Our own implementation of the
 * OpenBSD 7.7 interface.
 *
 * A channel refuses descriptors until imsgbuf_allow_fdpass(): keep it off
 * on sockets facing less trusted peers.  A header outside the channel's
 * limits is a fatal error, since the byte stream can no longer be framed.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define IMSGF_FDPASS		0x01	/* descriptors may travel */
#define IMSGF_ERANGE		0x02	/* peer sent an oversized header */
#define IMSGF_EBADMSG		0x04	/* peer sent an undersized header */

static struct ibuf	*imsg_parse_hdr(struct ibuf *, void *, int *);

int
imsgbuf_init(struct imsgbuf *imsgbuf, int fd)
{
	memset(imsgbuf, 0, sizeof(*imsgbuf));
	imsgbuf->w = msgbuf_new_reader(IMSG_HEADER_SIZE, imsg_parse_hdr,
	    imsgbuf);
	if (imsgbuf->w == NULL)
		return (-1);
	imsgbuf->pid = getpid();
	imsgbuf->maxsize = MAX_IMSGSIZE;
	imsgbuf->fd = fd;
	return (0);
}

void
imsgbuf_allow_fdpass(struct imsgbuf *imsgbuf)
{
	imsgbuf->flags |= IMSGF_FDPASS;
}

/* max is the largest payload; the stored limit includes the header. */
int
imsgbuf_set_maxsize(struct imsgbuf *imsgbuf, uint32_t max)
{
	if (max > UINT32_MAX - IMSG_HEADER_SIZE ||
	    ((max + IMSG_HEADER_SIZE) & IMSG_FD_MARK)) {
		errno = ERANGE;
		return (-1);
	}
	imsgbuf->maxsize = max + IMSG_HEADER_SIZE;
	return (0);
}

/* Returns 1 when data was read or none was ready, 0 at EOF, -1 on error. */
int
imsgbuf_read(struct imsgbuf *imsgbuf)
{
	if (imsgbuf->flags & IMSGF_FDPASS)
		return (msgbuf_read(imsgbuf->fd, imsgbuf->w));
	return (ibuf_read(imsgbuf->fd, imsgbuf->w));
}

/* Returns 0 when sent or the socket is full, -1 on error (EPIPE: closed). */
int
imsgbuf_write(struct imsgbuf *imsgbuf)
{
	if (imsgbuf->flags & IMSGF_FDPASS)
		return (msgbuf_write(imsgbuf->fd, imsgbuf->w));
	return (ibuf_write(imsgbuf->fd, imsgbuf->w));
}

/*
 * Send everything queued.  Meant for blocking sockets; on a non-blocking
 * one it waits in poll() rather than spin.
 */
int
imsgbuf_flush(struct imsgbuf *imsgbuf)
{
	struct pollfd	 pfd;

	while (imsgbuf_queuelen(imsgbuf) > 0) {
		if (imsgbuf_write(imsgbuf) == -1)
			return (-1);
		if (imsgbuf_queuelen(imsgbuf) == 0)
			break;
		pfd.fd = imsgbuf->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return (-1);
	}
	return (0);
}

/* Free all queues; the socket itself stays open for the caller. */
void
imsgbuf_clear(struct imsgbuf *imsgbuf)
{
	msgbuf_free(imsgbuf->w);
	imsgbuf->w = NULL;
}

uint32_t
imsgbuf_queuelen(struct imsgbuf *imsgbuf)
{
	return (msgbuf_queuelen(imsgbuf->w));
}

/*
 * Called by the reader for every header.  Frames the message and binds
 * the descriptor received with it, if the sender marked one.
 */
static struct ibuf *
imsg_parse_hdr(struct ibuf *hdrbuf, void *arg, int *fd)
{
	struct imsgbuf	*imsgbuf = arg;
	struct imsg_hdr	 hdr;
	struct ibuf	*buf;
	uint32_t	 len;

	if (ibuf_get(hdrbuf, &hdr, sizeof(hdr)) == -1)
		return (NULL);
	len = hdr.len & ~IMSG_FD_MARK;
	if (len < IMSG_HEADER_SIZE) {
		imsgbuf->flags |= IMSGF_EBADMSG;
		errno = EBADMSG;
		return (NULL);
	}
	if (len > imsgbuf->maxsize) {
		imsgbuf->flags |= IMSGF_ERANGE;
		errno = ERANGE;
		return (NULL);
	}
	if ((buf = ibuf_open(len)) == NULL)
		return (NULL);
	if ((hdr.len & IMSG_FD_MARK) && *fd != -1) {
		ibuf_fd_set(buf, *fd);
		*fd = -1;
	}
	return (buf);
}

/*
 * Returns 1 with a message in imsg, 0 if none is complete yet, -1 once
 * the peer broke the framing (errno ERANGE or EBADMSG).
 */
int
imsgbuf_get(struct imsgbuf *imsgbuf, struct imsg *imsg)
{
	struct ibuf	*buf;
	size_t		 len;

	memset(imsg, 0, sizeof(*imsg));
	if ((buf = msgbuf_get(imsgbuf->w)) == NULL) {
		if (imsgbuf->flags & IMSGF_ERANGE) {
			errno = ERANGE;
			return (-1);
		}
		if (imsgbuf->flags & IMSGF_EBADMSG) {
			errno = EBADMSG;
			return (-1);
		}
		return (0);
	}
	if (ibuf_get(buf, &imsg->hdr, sizeof(imsg->hdr)) == -1) {
		ibuf_free(buf);
		return (-1);
	}
	imsg->hdr.len &= ~IMSG_FD_MARK;

	/*
	 * Slide the payload to the front so that ibuf_rewind() on the
	 * message goes back to its first payload byte, not the header.
	 */
	len = ibuf_size(buf);
	if (len > 0)
		memmove(buf->buf, ibuf_data(buf), len);
	explicit_bzero(buf->buf + len, IMSG_HEADER_SIZE);
	buf->rpos = 0;
	buf->wpos = len;

	imsg->buf = buf;
	imsg->data = len > 0 ? ibuf_data(buf) : NULL;
	return (1);
}

/* The old interface: the message size including header, 0, or -1. */
ssize_t
imsg_get(struct imsgbuf *imsgbuf, struct imsg *imsg)
{
	int	 rv;

	if ((rv = imsgbuf_get(imsgbuf, imsg)) != 1)
		return (rv);
	return (imsg_get_len(imsg) + IMSG_HEADER_SIZE);
}

/* A read-only view of the unread payload; an empty one is an error. */
int
imsg_get_ibuf(struct imsg *imsg, struct ibuf *ibuf)
{
	if (ibuf_size(imsg->buf) == 0) {
		errno = EBADMSG;
		return (-1);
	}
	return (ibuf_get_ibuf(imsg->buf, ibuf_size(imsg->buf), ibuf));
}

/* Copy the payload of a fixed-size record: it must be exactly len bytes. */
int
imsg_get_data(struct imsg *imsg, void *data, size_t len)
{
	if (len == 0) {
		errno = EINVAL;
		return (-1);
	}
	if (ibuf_size(imsg->buf) != len) {
		errno = EBADMSG;
		return (-1);
	}
	return (ibuf_get(imsg->buf, data, len));
}

/* Consume the next len payload bytes. */
int
imsg_get_buf(struct imsg *imsg, void *data, size_t len)
{
	return (ibuf_get(imsg->buf, data, len));
}

/* Consume a len-byte string field; see ibuf_get_strbuf(). */
int
imsg_get_strbuf(struct imsg *imsg, char *str, size_t len)
{
	return (ibuf_get_strbuf(imsg->buf, str, len));
}

/* Claim the descriptor; without this imsg_free() closes it. */
int
imsg_get_fd(struct imsg *imsg)
{
	return (ibuf_fd_get(imsg->buf));
}

uint32_t
imsg_get_id(struct imsg *imsg)
{
	return (imsg->hdr.peerid);
}

/* Unread payload bytes. */
size_t
imsg_get_len(struct imsg *imsg)
{
	return (ibuf_size(imsg->buf));
}

pid_t
imsg_get_pid(struct imsg *imsg)
{
	return (imsg->hdr.pid);
}

uint32_t
imsg_get_type(struct imsg *imsg)
{
	return (imsg->hdr.type);
}

/* Queue a received message on another channel, without its descriptor. */
int
imsg_forward(struct imsgbuf *imsgbuf, struct imsg *msg)
{
	struct ibuf	*wbuf;
	size_t		 len;

	len = msg->buf->wpos;	/* the whole payload, read or not */
	if ((wbuf = imsg_create(imsgbuf, msg->hdr.type, msg->hdr.peerid,
	    msg->hdr.pid, len)) == NULL)
		return (-1);
	if (len > 0 && imsg_add(wbuf, msg->buf->buf, len) == -1)
		return (-1);
	imsg_close(imsgbuf, wbuf);
	return (1);
}

/*
 * Queue one message.  On success a descriptor passed in fd belongs to the
 * channel, which closes it once sent; on failure it is still the caller's.
 */
int
imsg_compose(struct imsgbuf *imsgbuf, uint32_t type, uint32_t id, pid_t pid,
    int fd, const void *data, size_t datalen)
{
	struct iovec	 iov;

	iov.iov_base = (void *)(uintptr_t)data;	/* only read */
	iov.iov_len = datalen;
	return (imsg_composev(imsgbuf, type, id, pid, fd, &iov,
	    datalen > 0 ? 1 : 0));
}

int
imsg_composev(struct imsgbuf *imsgbuf, uint32_t type, uint32_t id, pid_t pid,
    int fd, const struct iovec *iov, int iovcnt)
{
	struct ibuf	*wbuf;
	size_t		 datalen = 0;
	int		 i;

	if (iovcnt < 0) {
		errno = EINVAL;
		return (-1);
	}
	/* Sending a descriptor on a channel not set up for it is a bug. */
	if (fd != -1 && !(imsgbuf->flags & IMSGF_FDPASS)) {
		errno = EINVAL;
		return (-1);
	}
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > imsgbuf->maxsize - datalen) {
			errno = ERANGE;
			return (-1);
		}
		datalen += iov[i].iov_len;
	}
	if ((wbuf = imsg_create(imsgbuf, type, id, pid, datalen)) == NULL)
		return (-1);
	for (i = 0; i < iovcnt; i++)
		if (imsg_add(wbuf, iov[i].iov_base, iov[i].iov_len) == -1)
			return (-1);
	if (fd != -1)
		ibuf_fd_set(wbuf, fd);
	imsg_close(imsgbuf, wbuf);
	return (1);
}

/*
 * Queue a header and buf as one message, without copying buf.  buf is
 * consumed whether this succeeds or not, and must not hold a descriptor.
 */
int
imsg_compose_ibuf(struct imsgbuf *imsgbuf, uint32_t type, uint32_t id,
    pid_t pid, struct ibuf *buf)
{
	struct ibuf	*hdrbuf;
	struct imsg_hdr	 hdr;
	size_t		 len;

	if (ibuf_fd_avail(buf)) {
		ibuf_free(buf);
		errno = EINVAL;
		return (-1);
	}
	len = ibuf_size(buf);
	if (len > imsgbuf->maxsize - IMSG_HEADER_SIZE) {
		ibuf_free(buf);
		errno = ERANGE;
		return (-1);
	}
	if ((hdrbuf = ibuf_open(IMSG_HEADER_SIZE)) == NULL) {
		ibuf_free(buf);
		return (-1);
	}
	hdr.type = type;
	hdr.len = len + IMSG_HEADER_SIZE;
	hdr.peerid = id;
	hdr.pid = pid != 0 ? (uint32_t)pid : (uint32_t)imsgbuf->pid;
	if (ibuf_add(hdrbuf, &hdr, sizeof(hdr)) == -1) {
		ibuf_free(hdrbuf);
		ibuf_free(buf);
		return (-1);
	}
	ibuf_close(imsgbuf->w, hdrbuf);
	if (len > 0)
		ibuf_close(imsgbuf->w, buf);
	else
		ibuf_free(buf);
	return (1);
}

/*
 * Start a message; datalen is a size hint, the channel limit is the cap.
 * pid 0 stands for the pid recorded at imsgbuf_init().
 */
struct ibuf *
imsg_create(struct imsgbuf *imsgbuf, uint32_t type, uint32_t id, pid_t pid,
    size_t datalen)
{
	struct ibuf	*wbuf;
	struct imsg_hdr	 hdr;

	if (datalen > imsgbuf->maxsize - IMSG_HEADER_SIZE) {
		errno = ERANGE;
		return (NULL);
	}
	datalen += IMSG_HEADER_SIZE;
	if ((wbuf = ibuf_dynamic(datalen, imsgbuf->maxsize)) == NULL)
		return (NULL);
	hdr.type = type;
	hdr.len = 0;		/* stamped by imsg_close() */
	hdr.peerid = id;
	hdr.pid = pid != 0 ? (uint32_t)pid : (uint32_t)imsgbuf->pid;
	if (ibuf_add(wbuf, &hdr, sizeof(hdr)) == -1) {
		ibuf_free(wbuf);
		return (NULL);
	}
	return (wbuf);
}

/* Append to a message; on failure the message is freed. */
int
imsg_add(struct ibuf *msg, const void *data, size_t datalen)
{
	if (datalen > 0 && ibuf_add(msg, data, datalen) == -1) {
		ibuf_free(msg);
		return (-1);
	}
	return ((int)datalen);
}

/* Stamp the final length and descriptor mark, and queue the message. */
void
imsg_close(struct imsgbuf *imsgbuf, struct ibuf *msg)
{
	uint32_t	 len;

	len = ibuf_size(msg);
	if (ibuf_fd_avail(msg))
		len |= IMSG_FD_MARK;
	(void)ibuf_set_h32(msg, offsetof(struct imsg_hdr, len), len);
	ibuf_close(imsgbuf->w, msg);
}

/* Release a received message, closing its descriptor if not claimed. */
void
imsg_free(struct imsg *imsg)
{
	ibuf_free(imsg->buf);
	memset(imsg, 0, sizeof(*imsg));
}
