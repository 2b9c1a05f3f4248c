/*
 * The check shared by fuzz_json and fuzz_xml (frontend/msgenc.c): a text
 * message that converts to TTLV converts back, in either encoding, to
 * text that converts to the same TTLV.
 */
static void
roundtrip(const uint8_t *ttlv, size_t len, enum msg_enc enc)
{
	uint8_t		*again;
	char		*text;
	size_t		 tlen, alen;
	const char	*err;

	if (msgenc_from_ttlv(enc, ttlv, len, &text, &tlen) == -1)
		abort();	/* it came from our own converter */
	if (msgenc_to_ttlv(enc, text, tlen, len * 8 + 64, &again, &alen,
	    &err) == -1) {
		/* XML cannot carry a NUL at all, not even as a reference. */
		if (enc == ENC_XML && memmem(text, tlen, "&#x0;", 5) != NULL) {
			free(text);
			return;
		}
		fprintf(stderr, "%.*s\n%s\n", (int)tlen, text, err);
		abort();
	}
	if (alen != len || memcmp(again, ttlv, len) != 0) {
		fprintf(stderr, "%.*s\n", (int)tlen, text);
		abort();
	}
	free(again);
	free(text);
}

static void
fuzz_text(const uint8_t *data, size_t size, enum msg_enc enc)
{
	uint8_t		*ttlv;
	size_t		 len;
	const char	*err;
	char		*copy;

	/* Exactly size bytes: a read past them is caught. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	if (msgenc_to_ttlv(enc, copy, size, 65536, &ttlv, &len, &err) == 0) {
		if (len > 65536 || len % 8 != 0)
			abort();
		roundtrip(ttlv, len, ENC_JSON);
		roundtrip(ttlv, len, ENC_XML);
		free(ttlv);
	} else if (err == NULL)
		abort();
	free(copy);
}
