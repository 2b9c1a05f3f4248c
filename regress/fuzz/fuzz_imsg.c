/*
 * libFuzzer target for the imsg reader: the input is what a hostile peer
 * writes on a channel.  It goes through a real socketpair in chunks, is
 * framed by imsgbuf_read()/imsgbuf_get(), and each message is picked
 * apart with the ibuf readers.  Everything must be freed and closed.
 *
 * The first input byte picks the chunk size and whether the channel
 * allows descriptor passing (no descriptor is ever sent, so the
 * recvmsg path must cope with their absence).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_message(struct imsgbuf *, struct imsg *);
static int	fuzz_drain(struct imsgbuf *, struct imsgbuf *);

/* Read everything the parsers would, in the ways they would. */
static void
fuzz_message(struct imsgbuf *fwd, struct imsg *imsg)
{
	struct ibuf	 view, sub;
	uint64_t	 v64;
	uint32_t	 v32, rec;
	uint16_t	 v16;
	uint8_t		 v8;
	char		*s, sb[16];
	int		 fd;

	(void)imsg_get_type(imsg);
	(void)imsg_get_id(imsg);
	(void)imsg_get_pid(imsg);
	if ((fd = imsg_get_fd(imsg)) != -1)
		close(fd);
	(void)imsg_get_data(imsg, &rec, sizeof(rec));

	/* A TTLV-like walk: tag, type, length, then that many bytes. */
	if (imsg_get_ibuf(imsg, &view) == 0) {
		while (ibuf_size(&view) > 0) {
			if (ibuf_get_n8(&view, &v8) == -1 ||
			    ibuf_get_n16(&view, &v16) == -1 ||
			    ibuf_get_n32(&view, &v32) == -1)
				break;
			if (ibuf_get_ibuf(&view, v32 & 0xff, &sub) == -1)
				break;
			(void)ibuf_get_n64(&sub, &v64);
			(void)ibuf_get_h16(&sub, &v16);
			(void)ibuf_get_h32(&sub, &v32);
			(void)ibuf_get_h64(&sub, &v64);
			if ((s = ibuf_get_string(&sub, v8 % 8)) != NULL)
				free(s);
			(void)ibuf_get_strbuf(&sub, sb, 1 + v8 % sizeof(sb));
			(void)ibuf_skip(&sub, v8);
		}
	}
	ibuf_rewind(imsg->buf);
	(void)imsg_get_strbuf(imsg, sb, sizeof(sb));
	(void)imsg_get_buf(imsg, sb, 3);
	/* Queued, never sent: bounded by the input, freed at the end. */
	(void)imsg_forward(fwd, imsg);
}

/* One read and the messages it completed: imsgbuf_read()'s result. */
static int
fuzz_drain(struct imsgbuf *ib, struct imsgbuf *fwd)
{
	struct imsg	 imsg;
	int		 r;

	r = imsgbuf_read(ib);
	/* Messages before a framing error are still handed out. */
	while (imsgbuf_get(ib, &imsg) == 1) {
		fuzz_message(fwd, &imsg);
		imsg_free(&imsg);
	}
	return (r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imsgbuf	 ib, fwd;
	size_t		 chunk, off = 0, n;
	ssize_t		 w;
	int		 sv[2];

	if (size < 1)
		return (0);
	chunk = 1 + (data[0] & 0x3f) * 37;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	if (imsgbuf_init(&ib, sv[1]) == -1 || imsgbuf_init(&fwd, -1) == -1)
		abort();
	if (data[0] & 0x40)
		imsgbuf_allow_fdpass(&ib);
	if (data[0] & 0x80 && imsgbuf_set_maxsize(&ib, 64 * 1024) == -1)
		abort();
	data++;
	size--;

	while (off < size) {
		n = size - off < chunk ? size - off : chunk;
		if ((w = write(sv[0], data + off, n)) == -1) {
			if (errno != EAGAIN)
				abort();
			w = 0;
		}
		off += w;
		if (fuzz_drain(&ib, &fwd) == -1)
			goto done;
	}
	/* Whatever is left, then EOF: a half message must not come out. */
	close(sv[0]);
	sv[0] = -1;
	while (fuzz_drain(&ib, &fwd) == 1)
		;

 done:
	imsgbuf_clear(&ib);
	imsgbuf_clear(&fwd);
	if (sv[0] != -1)
		close(sv[0]);
	close(sv[1]);
	return (0);
}
