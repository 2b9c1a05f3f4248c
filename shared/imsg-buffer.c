/*
 * Byte buffers (struct ibuf) and the write and read queues of a channel
 * (struct msgbuf).  Our own implementation of the OpenBSD 7.7 interface.
 *
 * Writers grow a buffer up to its limit and fail with ERANGE beyond it.
 * Readers never run past the written data: a short buffer fails with
 * EBADMSG, so a parser can chain reads and check once per field.
 * Multi-byte "n" values are big-endian (network order), "h" values host
 * order.  Freed buffers are wiped: they may have carried a PIN.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define IBUF_F_VIEW	0x01	/* points into foreign memory, read-only */

struct msgbuf {
	TAILQ_HEAD(, ibuf)	 bufs;		/* to send */
	TAILQ_HEAD(, ibuf)	 rbufs;		/* received, complete */
	struct ibuf		*rbuf;		/* raw bytes from the socket */
	struct ibuf		*rpmsg;		/* message being received */
	struct ibuf		*(*readhdr)(struct ibuf *, void *, int *);
	void			*rarg;
	size_t			 hdrsize;
	uint32_t		 queued;
	int			 rfd;		/* received, not yet bound */
	int			 rerr;		/* errno of a fatal read error */
};

/* One descriptor per control message; room for more only by padding. */
union fdcmsg {
	struct cmsghdr		 hdr;
	unsigned char		 buf[CMSG_SPACE(sizeof(int))];
};

static int	ibuf_grow(struct ibuf *, size_t);
static int	ibuf_check_range(uint64_t, int);
static void	msgbuf_drain(struct msgbuf *, size_t);
static int	msgbuf_write_common(int, struct msgbuf *, int);
static int	msgbuf_read_common(int, struct msgbuf *, int);
static int	msgbuf_read_process(struct msgbuf *);
static void	msgbuf_take_fds(struct msgbuf *, struct msghdr *);

struct ibuf *
ibuf_open(size_t len)
{
	struct ibuf	*buf;

	if (len == 0) {
		errno = EINVAL;
		return (NULL);
	}
	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return (NULL);
	if ((buf->buf = calloc(len, 1)) == NULL) {
		free(buf);
		return (NULL);
	}
	buf->size = buf->max = len;
	buf->fd = -1;
	return (buf);
}

struct ibuf *
ibuf_dynamic(size_t len, size_t max)
{
	struct ibuf	*buf;

	if (max == 0 || max < len) {
		errno = EINVAL;
		return (NULL);
	}
	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return (NULL);
	/* Allocation waits for the first write if no size was hinted. */
	if (len > 0 && (buf->buf = calloc(len, 1)) == NULL) {
		free(buf);
		return (NULL);
	}
	buf->size = len;
	buf->max = max;
	buf->fd = -1;
	return (buf);
}

/* Make room for need more bytes after wpos. */
static int
ibuf_grow(struct ibuf *buf, size_t need)
{
	unsigned char	*p;
	size_t		 want;

	if (buf->flags & IBUF_F_VIEW) {
		errno = EINVAL;
		return (-1);
	}
	if (need > buf->max - buf->wpos) {
		errno = ERANGE;
		return (-1);
	}
	if (buf->buf != NULL && need <= buf->size - buf->wpos)
		return (0);
	/* Double to keep appends amortised, but never past the limit. */
	want = buf->wpos + need;
	if (buf->size <= buf->max / 2 && want < buf->size * 2)
		want = buf->size * 2;
	if (want == 0)
		want = 1;	/* even an empty reserve gets a real pointer */
	if ((p = recallocarray(buf->buf, buf->size, want, 1)) == NULL)
		return (-1);
	buf->buf = p;
	buf->size = want;
	return (0);
}

void *
ibuf_reserve(struct ibuf *buf, size_t len)
{
	void	*p;

	if (ibuf_grow(buf, len) == -1)
		return (NULL);
	p = buf->buf + buf->wpos;
	buf->wpos += len;
	return (p);
}

int
ibuf_add(struct ibuf *buf, const void *data, size_t len)
{
	void	*p;

	if ((p = ibuf_reserve(buf, len)) == NULL)
		return (-1);
	if (len > 0)
		memcpy(p, data, len);
	return (0);
}

int
ibuf_add_ibuf(struct ibuf *buf, const struct ibuf *from)
{
	return (ibuf_add(buf, ibuf_data(from), ibuf_size(from)));
}

int
ibuf_add_zero(struct ibuf *buf, size_t len)
{
	void	*p;

	if ((p = ibuf_reserve(buf, len)) == NULL)
		return (-1);
	/* Room may be reused after ibuf_truncate(), so clear it. */
	if (len > 0)
		memset(p, 0, len);
	return (0);
}

/* A value must fit the field it is written to, or the caller has a bug. */
static int
ibuf_check_range(uint64_t value, int bytes)
{
	if (bytes < 8 && value >> (bytes * 8) != 0) {
		errno = EINVAL;
		return (-1);
	}
	return (0);
}

int
ibuf_add_n8(struct ibuf *buf, uint64_t value)
{
	uint8_t	 v;

	if (ibuf_check_range(value, 1) == -1)
		return (-1);
	v = value;
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_n16(struct ibuf *buf, uint64_t value)
{
	uint16_t v;

	if (ibuf_check_range(value, 2) == -1)
		return (-1);
	v = htobe16(value);
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_n32(struct ibuf *buf, uint64_t value)
{
	uint32_t v;

	if (ibuf_check_range(value, 4) == -1)
		return (-1);
	v = htobe32(value);
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_n64(struct ibuf *buf, uint64_t value)
{
	uint64_t v;

	v = htobe64(value);
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_h16(struct ibuf *buf, uint64_t value)
{
	uint16_t v;

	if (ibuf_check_range(value, 2) == -1)
		return (-1);
	v = value;
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_h32(struct ibuf *buf, uint64_t value)
{
	uint32_t v;

	if (ibuf_check_range(value, 4) == -1)
		return (-1);
	v = value;
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_h64(struct ibuf *buf, uint64_t value)
{
	return (ibuf_add(buf, &value, sizeof(value)));
}

/* Offsets count from the read position, like every other accessor. */
void *
ibuf_seek(struct ibuf *buf, size_t pos, size_t len)
{
	if (pos > ibuf_size(buf) || len > ibuf_size(buf) - pos) {
		errno = ERANGE;
		return (NULL);
	}
	if (buf->buf == NULL) {
		/* Nothing written yet, so the only valid range is empty. */
		errno = ERANGE;
		return (NULL);
	}
	return (buf->buf + buf->rpos + pos);
}

int
ibuf_set(struct ibuf *buf, size_t pos, const void *data, size_t len)
{
	void	*p;

	if (buf->flags & IBUF_F_VIEW) {
		errno = EINVAL;
		return (-1);
	}
	if ((p = ibuf_seek(buf, pos, len)) == NULL)
		return (-1);
	if (len > 0)
		memcpy(p, data, len);
	return (0);
}

int
ibuf_set_n8(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint8_t	 v;

	if (ibuf_check_range(value, 1) == -1)
		return (-1);
	v = value;
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_n16(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint16_t v;

	if (ibuf_check_range(value, 2) == -1)
		return (-1);
	v = htobe16(value);
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_n32(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint32_t v;

	if (ibuf_check_range(value, 4) == -1)
		return (-1);
	v = htobe32(value);
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_n64(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint64_t v;

	v = htobe64(value);
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_h16(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint16_t v;

	if (ibuf_check_range(value, 2) == -1)
		return (-1);
	v = value;
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_h32(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint32_t v;

	if (ibuf_check_range(value, 4) == -1)
		return (-1);
	v = value;
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_h64(struct ibuf *buf, size_t pos, uint64_t value)
{
	return (ibuf_set(buf, pos, &value, sizeof(value)));
}

void *
ibuf_data(const struct ibuf *buf)
{
	/* An empty dynamic buffer has no memory yet: no pointer games. */
	if (buf->buf == NULL)
		return (NULL);
	return (buf->buf + buf->rpos);
}

size_t
ibuf_size(const struct ibuf *buf)
{
	return (buf->wpos - buf->rpos);
}

size_t
ibuf_left(const struct ibuf *buf)
{
	if (buf->flags & IBUF_F_VIEW)
		return (0);
	return (buf->max - buf->wpos);
}

/* Cut or zero-extend the unread data to len bytes. */
int
ibuf_truncate(struct ibuf *buf, size_t len)
{
	if (len > ibuf_size(buf))
		return (ibuf_add_zero(buf, len - ibuf_size(buf)));
	buf->wpos = buf->rpos + len;
	return (0);
}

void
ibuf_rewind(struct ibuf *buf)
{
	buf->rpos = 0;
}

void
ibuf_from_buffer(struct ibuf *buf, void *data, size_t len)
{
	memset(buf, 0, sizeof(*buf));
	buf->buf = data;
	buf->size = buf->max = buf->wpos = len;
	buf->fd = -1;
	buf->flags = IBUF_F_VIEW;
}

void
ibuf_from_ibuf(struct ibuf *buf, const struct ibuf *from)
{
	ibuf_from_buffer(buf, ibuf_data(from), ibuf_size(from));
}

int
ibuf_get(struct ibuf *buf, void *data, size_t len)
{
	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return (-1);
	}
	if (len == 0)
		return (0);
	memcpy(data, ibuf_data(buf), len);
	buf->rpos += len;
	return (0);
}

int
ibuf_get_ibuf(struct ibuf *buf, size_t len, struct ibuf *new)
{
	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return (-1);
	}
	ibuf_from_buffer(new, ibuf_data(buf), len);
	buf->rpos += len;
	return (0);
}

int
ibuf_get_n8(struct ibuf *buf, uint8_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

int
ibuf_get_n16(struct ibuf *buf, uint16_t *value)
{
	uint16_t v;

	if (ibuf_get(buf, &v, sizeof(v)) == -1)
		return (-1);
	*value = be16toh(v);
	return (0);
}

int
ibuf_get_n32(struct ibuf *buf, uint32_t *value)
{
	uint32_t v;

	if (ibuf_get(buf, &v, sizeof(v)) == -1)
		return (-1);
	*value = be32toh(v);
	return (0);
}

int
ibuf_get_n64(struct ibuf *buf, uint64_t *value)
{
	uint64_t v;

	if (ibuf_get(buf, &v, sizeof(v)) == -1)
		return (-1);
	*value = be64toh(v);
	return (0);
}

int
ibuf_get_h16(struct ibuf *buf, uint16_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

int
ibuf_get_h32(struct ibuf *buf, uint32_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

int
ibuf_get_h64(struct ibuf *buf, uint64_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

/*
 * Consume len bytes and return them as a malloc'd C string.  An embedded
 * NUL ends the string early; the bytes are consumed all the same.
 */
char *
ibuf_get_string(struct ibuf *buf, size_t len)
{
	char	*str;

	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return (NULL);
	}
	if (len == 0)
		return (strdup(""));
	if ((str = strndup(ibuf_data(buf), len)) == NULL)
		return (NULL);
	buf->rpos += len;
	return (str);
}

/*
 * Consume a fixed len-byte string field into str.  A field without a NUL
 * fails with EOVERFLOW; str is terminated whatever happens.
 */
int
ibuf_get_strbuf(struct ibuf *buf, char *str, size_t len)
{
	if (len == 0) {
		errno = EINVAL;
		return (-1);
	}
	if (ibuf_get(buf, str, len) == -1) {
		str[0] = '\0';
		return (-1);
	}
	if (memchr(str, '\0', len) == NULL) {
		str[len - 1] = '\0';
		errno = EOVERFLOW;
		return (-1);
	}
	return (0);
}

int
ibuf_skip(struct ibuf *buf, size_t len)
{
	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return (-1);
	}
	buf->rpos += len;
	return (0);
}

void
ibuf_free(struct ibuf *buf)
{
	int	 saved_errno;

	if (buf == NULL || buf->flags & IBUF_F_VIEW)
		return;
	saved_errno = errno;
	if (buf->fd != -1)
		close(buf->fd);
	freezero(buf->buf, buf->size);
	free(buf);
	/* Callers free on error paths and report errno afterwards. */
	errno = saved_errno;
}

int
ibuf_fd_avail(struct ibuf *buf)
{
	return (buf->fd != -1);
}

/* Hand the descriptor over: the buffer no longer closes it. */
int
ibuf_fd_get(struct ibuf *buf)
{
	int	 fd;

	fd = buf->fd;
	buf->fd = -1;
	return (fd);
}

void
ibuf_fd_set(struct ibuf *buf, int fd)
{
	if (buf->fd != -1)
		close(buf->fd);
	buf->fd = fd;
}

/* Queue a finished buffer for sending; the queue owns it from now on. */
void
ibuf_close(struct msgbuf *msgbuf, struct ibuf *buf)
{
	TAILQ_INSERT_TAIL(&msgbuf->bufs, buf, entry);
	msgbuf->queued++;
}

struct msgbuf *
msgbuf_new(void)
{
	struct msgbuf	*msgbuf;

	if ((msgbuf = calloc(1, sizeof(*msgbuf))) == NULL)
		return (NULL);
	TAILQ_INIT(&msgbuf->bufs);
	TAILQ_INIT(&msgbuf->rbufs);
	msgbuf->rfd = -1;
	return (msgbuf);
}

/*
 * A queue that also reads.  readhdr sees the first hdrsize bytes of each
 * message and returns a buffer with room (ibuf_left) for exactly the whole
 * message, header included, or NULL and errno for a fatal framing error.
 * It may take the received descriptor from *fd (setting it to -1).
 */
struct msgbuf *
msgbuf_new_reader(size_t hdrsize,
    struct ibuf *(*readhdr)(struct ibuf *, void *, int *), void *arg)
{
	struct msgbuf	*msgbuf;

	if (hdrsize == 0 || hdrsize > IBUF_READ_SIZE / 2 || readhdr == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	if ((msgbuf = msgbuf_new()) == NULL)
		return (NULL);
	if ((msgbuf->rbuf = ibuf_open(IBUF_READ_SIZE)) == NULL) {
		free(msgbuf);
		return (NULL);
	}
	msgbuf->readhdr = readhdr;
	msgbuf->rarg = arg;
	msgbuf->hdrsize = hdrsize;
	return (msgbuf);
}

/* Drop everything queued or half received; descriptors are closed. */
void
msgbuf_clear(struct msgbuf *msgbuf)
{
	struct ibuf	*buf;

	while ((buf = TAILQ_FIRST(&msgbuf->bufs)) != NULL) {
		TAILQ_REMOVE(&msgbuf->bufs, buf, entry);
		ibuf_free(buf);
	}
	msgbuf->queued = 0;
	while ((buf = TAILQ_FIRST(&msgbuf->rbufs)) != NULL) {
		TAILQ_REMOVE(&msgbuf->rbufs, buf, entry);
		ibuf_free(buf);
	}
	ibuf_free(msgbuf->rpmsg);
	msgbuf->rpmsg = NULL;
	if (msgbuf->rfd != -1) {
		close(msgbuf->rfd);
		msgbuf->rfd = -1;
	}
	if (msgbuf->rbuf != NULL) {
		explicit_bzero(msgbuf->rbuf->buf, msgbuf->rbuf->wpos);
		msgbuf->rbuf->rpos = msgbuf->rbuf->wpos = 0;
	}
	msgbuf->rerr = 0;
}

void
msgbuf_free(struct msgbuf *msgbuf)
{
	if (msgbuf == NULL)
		return;
	msgbuf_clear(msgbuf);
	ibuf_free(msgbuf->rbuf);
	free(msgbuf);
}

uint32_t
msgbuf_queuelen(struct msgbuf *msgbuf)
{
	return (msgbuf->queued);
}

/* Forget n bytes that the kernel accepted. */
static void
msgbuf_drain(struct msgbuf *msgbuf, size_t n)
{
	struct ibuf	*buf;

	/* Empty buffers at the head go too, or a flush would never end. */
	while ((buf = TAILQ_FIRST(&msgbuf->bufs)) != NULL &&
	    n >= ibuf_size(buf)) {
		n -= ibuf_size(buf);
		TAILQ_REMOVE(&msgbuf->bufs, buf, entry);
		msgbuf->queued--;
		ibuf_free(buf);
	}
	if (buf != NULL)
		buf->rpos += n;
}

/*
 * Send as much as one system call takes.  With passfd, a buffer holding
 * a descriptor must start its own sendmsg: the receiver binds a
 * descriptor to a message by the bytes it arrives with.
 */
static int
msgbuf_write_common(int fd, struct msgbuf *msgbuf, int passfd)
{
	struct iovec	 iov[IOV_MAX];
	union fdcmsg	 cmsgbuf;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct ibuf	*buf;
	ssize_t		 n;
	int		 i = 0, sendfd = -1;

	TAILQ_FOREACH(buf, &msgbuf->bufs, entry) {
		if (i >= IOV_MAX)
			break;
		if (passfd && buf->fd != -1) {
			if (i > 0)
				break;
			sendfd = buf->fd;
		}
		iov[i].iov_base = ibuf_data(buf);
		iov[i].iov_len = ibuf_size(buf);
		i++;
	}
	if (i == 0)
		return (0);

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = i;
	if (sendfd != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &sendfd, sizeof(int));
	}

 again:
	/* MSG_NOSIGNAL: a dead peer is an EPIPE to handle, not a SIGPIPE. */
	n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	if (n == -1 && errno == ENOTSOCK && sendfd == -1)
		n = writev(fd, iov, i);
	if (n == -1) {
		if (errno == EINTR)
			goto again;
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS)
			return (0);
		return (-1);
	}

	/* The peer holds its own copy now. */
	if (sendfd != -1 && n > 0) {
		buf = TAILQ_FIRST(&msgbuf->bufs);
		close(buf->fd);
		buf->fd = -1;
	}
	msgbuf_drain(msgbuf, n);
	return (0);
}

/* Plain write: descriptors are never sent. */
int
ibuf_write(int fd, struct msgbuf *msgbuf)
{
	return (msgbuf_write_common(fd, msgbuf, 0));
}

int
msgbuf_write(int fd, struct msgbuf *msgbuf)
{
	return (msgbuf_write_common(fd, msgbuf, 1));
}

/*
 * Keep the first descriptor of a control message and close the others:
 * one message carries at most one.  A descriptor still unbound from an
 * earlier read is stale by now.
 */
static void
msgbuf_take_fds(struct msgbuf *msgbuf, struct msghdr *msg)
{
	struct cmsghdr	*cmsg;
	size_t		 i, nfds;
	int		 fd;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (i == 0) {
				if (msgbuf->rfd != -1)
					close(msgbuf->rfd);
				msgbuf->rfd = fd;
			} else
				close(fd);
		}
	}
}

/*
 * Move complete messages from the read buffer to the received queue.
 * A message larger than the read buffer collects in its own buffer over
 * as many reads as it takes.
 */
static int
msgbuf_read_process(struct msgbuf *msgbuf)
{
	struct ibuf	 hdr;
	struct ibuf	*rbuf = msgbuf->rbuf;
	size_t		 n;

	for (;;) {
		if (msgbuf->rpmsg == NULL) {
			if (ibuf_size(rbuf) < msgbuf->hdrsize)
				break;
			ibuf_from_buffer(&hdr, ibuf_data(rbuf),
			    msgbuf->hdrsize);
			msgbuf->rpmsg = msgbuf->readhdr(&hdr, msgbuf->rarg,
			    &msgbuf->rfd);
			if (msgbuf->rpmsg == NULL) {
				msgbuf->rerr = errno;
				return (-1);
			}
			if (ibuf_left(msgbuf->rpmsg) < msgbuf->hdrsize) {
				ibuf_free(msgbuf->rpmsg);
				msgbuf->rpmsg = NULL;
				msgbuf->rerr = errno = EBADMSG;
				return (-1);
			}
		}
		n = ibuf_left(msgbuf->rpmsg);
		if (n > ibuf_size(rbuf))
			n = ibuf_size(rbuf);
		if (ibuf_add(msgbuf->rpmsg, ibuf_data(rbuf), n) == -1) {
			msgbuf->rerr = errno;
			return (-1);
		}
		rbuf->rpos += n;
		if (ibuf_left(msgbuf->rpmsg) > 0)
			break;
		TAILQ_INSERT_TAIL(&msgbuf->rbufs, msgbuf->rpmsg, entry);
		msgbuf->rpmsg = NULL;
	}

	/* Keep the partial header at the front, wipe what was copied out. */
	n = ibuf_size(rbuf);
	if (n > 0)
		memmove(rbuf->buf, ibuf_data(rbuf), n);
	explicit_bzero(rbuf->buf + n, rbuf->wpos - n);
	rbuf->rpos = 0;
	rbuf->wpos = n;
	return (0);
}

/* Returns 1 when data was read or none was ready, 0 at EOF, -1 on error. */
static int
msgbuf_read_common(int fd, struct msgbuf *msgbuf, int passfd)
{
	union fdcmsg	 cmsgbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct ibuf	*rbuf = msgbuf->rbuf;
	ssize_t		 n;

	if (msgbuf->readhdr == NULL) {
		errno = EINVAL;
		return (-1);
	}
	/* After a framing error the stream cannot be trusted again. */
	if (msgbuf->rerr != 0) {
		errno = msgbuf->rerr;
		return (-1);
	}
	iov.iov_base = rbuf->buf + rbuf->wpos;
	iov.iov_len = rbuf->size - rbuf->wpos;

 again:
	if (passfd) {
		memset(&msg, 0, sizeof(msg));
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	} else
		n = read(fd, iov.iov_base, iov.iov_len);
	if (n == -1) {
		if (errno == EINTR)
			goto again;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return (1);
		return (-1);
	}
	if (passfd)
		msgbuf_take_fds(msgbuf, &msg);

	if (n == 0) {
		/* The peer died in the middle of a message. */
		if (msgbuf->rpmsg != NULL || ibuf_size(rbuf) > 0) {
			errno = EBADMSG;
			return (-1);
		}
		return (0);
	}
	rbuf->wpos += n;
	if (msgbuf_read_process(msgbuf) == -1)
		return (-1);
	return (1);
}

/* Plain read: a descriptor sent to us is dropped by the kernel. */
int
ibuf_read(int fd, struct msgbuf *msgbuf)
{
	return (msgbuf_read_common(fd, msgbuf, 0));
}

int
msgbuf_read(int fd, struct msgbuf *msgbuf)
{
	return (msgbuf_read_common(fd, msgbuf, 1));
}

/* The next complete message, or NULL. */
struct ibuf *
msgbuf_get(struct msgbuf *msgbuf)
{
	struct ibuf	*buf;

	if ((buf = TAILQ_FIRST(&msgbuf->rbufs)) != NULL)
		TAILQ_REMOVE(&msgbuf->rbufs, buf, entry);
	return (buf);
}
