/*
 * The HTTP answer as a server (or anyone between) could send it: the head
 * parser, the chunked decoder and the line splitter, on any bytes. The
 * decoder and the splitter must give the same result however the input
 * is cut (the first byte chooses the cuts), never write past what they
 * were given, and keep every bound.
 */
#include "http.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void head(const char *data, size_t len)
{
	struct http_head h;
	size_t used = 0;

	switch (http_head_parse(data, len, &h, &used)) {
	case HTTP_OK:
		CHECK(used >= 16 && used <= len && used <= HTTP_HEAD_MAX);
		CHECK(memcmp(data + used - 4, "\r\n\r\n", 4) == 0);
		CHECK(h.status >= 100 && h.status <= 599);
		CHECK(!h.chunked || h.content_length == -1);
		CHECK(h.content_length >= -1);
		break;
	case HTTP_TOO_BIG:
		CHECK(len >= HTTP_HEAD_MAX);
		break;
	case HTTP_MORE:
		CHECK(len < HTTP_HEAD_MAX);
		break;
	case HTTP_BAD:
		break;
	}
}

/* Decodes data in pieces of `step` bytes into out; returns the length. */
static size_t decode(const char *data, size_t len, size_t step, char *out,
		     enum chunked_state *state)
{
	struct chunked c;
	char *piece = malloc(step);
	size_t n = 0;

	chunked_init(&c);
	for (size_t off = 0; off < len; off += step) {
		size_t k = len - off < step ? len - off : step, got;
		memcpy(piece, data + off, k);
		got = chunked_decode(&c, piece, k);
		CHECK(got <= k);
		memcpy(out + n, piece, got);
		n += got;
		if (c.state == CHUNK_DONE || c.state == CHUNK_ERROR)
			break;
	}
	*state = c.state;
	free(piece);
	return n;
}

struct joined {
	char *buf;
	size_t len;
	size_t lines;
};

static bool join(void *arg, char *line, size_t len)
{
	struct joined *j = arg;

	CHECK(len <= HTTP_LINE_MAX && line[len] == '\0');
	CHECK(memchr(line, '\n', len) == NULL);
	memcpy(j->buf + j->len, line, len);
	j->len += len;
	j->buf[j->len++] = '\n';
	j->lines++;
	return true;
}

static void split_lines(const char *data, size_t len, size_t step,
			struct joined *j)
{
	struct lines l = {0};

	for (size_t off = 0; off < len; off += step) {
		size_t k = len - off < step ? len - off : step;
		CHECK(lines_feed(&l, data + off, k, join, j) == LINES_OK);
	}
	CHECK(l.len <= len);
	lines_reset(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	const char *data = (const char *)in + 1;
	size_t len = size ? size - 1 : 0, step = size ? 1 + in[0] % 64 : 1;
	char *whole = malloc(len + 1), *cut = malloc(len + 1);
	struct joined a = {malloc(2 * len + 1), 0, 0};
	struct joined b = {malloc(2 * len + 1), 0, 0};
	enum chunked_state s1, s2;
	size_t n1, n2;

	head(data, len);
	n1 = decode(data, len, len ? len : 1, whole, &s1);
	n2 = decode(data, len, step, cut, &s2);
	CHECK(n1 == n2 && s1 == s2 && memcmp(whole, cut, n1) == 0);
	CHECK(n1 <= len);
	/* The lines of the decoded stream, whole and cut. */
	split_lines(whole, n1, n1 ? n1 : 1, &a);
	split_lines(whole, n1, step, &b);
	CHECK(a.len == b.len && a.lines == b.lines &&
	      memcmp(a.buf, b.buf, a.len) == 0);
	free(whole);
	free(cut);
	free(a.buf);
	free(b.buf);
	return 0;
}
