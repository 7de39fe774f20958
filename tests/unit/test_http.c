/* The hand-written HTTP/1.1 pieces, fed every split a socket can give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum http_parse head(const char *s, struct http_head *h, size_t *used)
{
	return http_head_parse(s, strlen(s), h, used);
}

static void status_and_headers(void **state)
{
	struct http_head h;
	size_t used;
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			 "Transfer-Encoding: chunked\r\n\r\n5\r\nhello";

	(void)state;
	assert_int_equal(head(ok, &h, &used), HTTP_OK);
	assert_int_equal(h.status, 200);
	assert_true(h.chunked);
	assert_int_equal(h.content_length, -1);
	assert_int_equal(used, strlen(ok) - strlen("5\r\nhello"));

	assert_int_equal(head("HTTP/1.1 403 Forbidden\r\nContent-Length: 12"
			      "\r\nConnection: close\r\n\r\n", &h, &used),
			 HTTP_OK);
	assert_int_equal(h.status, 403);
	assert_false(h.chunked);
	assert_true(h.close);
	assert_int_equal(h.content_length, 12);
	/* No reason phrase; header names in any case; blanks around values. */
	assert_int_equal(head("HTTP/1.0 410\r\ntransfer-ENCODING:  gzip, "
			      "Chunked \r\n\r\n", &h, &used), HTTP_OK);
	assert_int_equal(h.status, 410);
	assert_true(h.chunked);
}

static void incomplete_and_bad_heads(void **state)
{
	static const char *const bad[] = {
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"http/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA\n: folded\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\x01z\r\n\r\n",
	};
	struct http_head h;
	size_t used;
	char *big;

	(void)state;
	assert_int_equal(head("", &h, &used), HTTP_MORE);
	assert_int_equal(head("HTTP/1.1 200 OK\r\n", &h, &used), HTTP_MORE);
	assert_int_equal(head("HTTP/1.1 200 OK\r\nA: b\r\n\r", &h, &used),
			 HTTP_MORE);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i]);
		assert_int_equal(head(bad[i], &h, &used), HTTP_BAD);
	}
	/* A NUL in a header line. */
	assert_int_equal(http_head_parse("HTTP/1.1 200 OK\r\nA: \0b\r\n\r\n",
					 26, &h, &used),
			 HTTP_BAD);
	/* No end within the bound: too big, whatever follows. */
	big = malloc(HTTP_HEAD_MAX + 10);
	memset(big, 'a', HTTP_HEAD_MAX + 10);
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	assert_int_equal(http_head_parse(big, HTTP_HEAD_MAX - 1, &h, &used),
			 HTTP_MORE);
	assert_int_equal(http_head_parse(big, HTTP_HEAD_MAX + 10, &h, &used),
			 HTTP_TOO_BIG);
	free(big);
}

static void request(void **state)
{
	char out[512];
	size_t n;

	(void)state;
	n = http_request(out, sizeof(out), "10.0.0.1:443", "/api/v1/x?a=b",
			 "tok.en-1", "approve-step/1");
	assert_int_equal(n, strlen(out));
	assert_string_equal(out, "GET /api/v1/x?a=b HTTP/1.1\r\n"
				 "Host: 10.0.0.1:443\r\n"
				 "Authorization: Bearer tok.en-1\r\n"
				 "Accept: application/json\r\n"
				 "User-Agent: approve-step/1\r\n\r\n");
	/* Nothing can add a header line, and nothing is cut. */
	assert_int_equal(http_request(out, sizeof(out), "h", "/", "a\r\nX: y",
				      "u"), 0);
	assert_int_equal(http_request(out, sizeof(out), "h", "/", "", "u"), 0);
	assert_int_equal(http_request(out, sizeof(out), "h\n", "/", "t", "u"),
			 0);
	assert_int_equal(http_request(out, 40, "h", "/", "t", "u"), 0);
}

/* Decodes `in` fed in pieces of `step` bytes; returns the state. */
static enum chunked_state decode(const char *in, size_t step, char *out,
				 size_t *out_len)
{
	struct chunked c;
	char buf[256];
	size_t len = strlen(in);

	chunked_init(&c);
	*out_len = 0;
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;
		memcpy(buf, in + off, n);
		n = chunked_decode(&c, buf, n);
		memcpy(out + *out_len, buf, n);
		*out_len += n;
		if (c.state == CHUNK_DONE || c.state == CHUNK_ERROR)
			break;
	}
	out[*out_len] = '\0';
	return c.state;
}

static void chunked(void **state)
{
	const char *in = "4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\n"
			 "chunks.\r\n0\r\nTrailer: x\r\n\r\n";
	char out[256];
	size_t n;

	(void)state;
	for (size_t step = 1; step <= strlen(in); step++) {
		assert_int_equal(decode(in, step, out, &n), CHUNK_DONE);
		assert_string_equal(out, "Wikipedia in \r\n\r\nchunks.");
	}
	assert_int_equal(decode("3\r\nabc\r\n", 1, out, &n), CHUNK_SIZE);
	assert_string_equal(out, "abc");
	assert_int_equal(decode("0\r\n\r\n", 2, out, &n), CHUNK_DONE);
	assert_int_equal(n, 0);
}

static void chunked_errors(void **state)
{
	static const char *const bad[] = {
		"x\r\n",	     /* not hex */
		"\r\n",		     /* no digits */
		"3\nabc\r\n",	     /* bare LF */
		"3\r\nabcd\r\n",     /* data longer than the size */
		"3\r\nabc\n",	     /* no CR after the data */
		"100000000\r\n",     /* 4 GiB */
		"0\r\n\rx",	     /* bad final CRLF */
	};
	char out[256];
	size_t n;
	struct chunked c;
	char *big = malloc(HTTP_HEAD_MAX + 10);

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i]);
		assert_int_equal(decode(bad[i], 1, out, &n), CHUNK_ERROR);
	}
	/* An endless trailer or extension is cut off. */
	memset(big, 'a', HTTP_HEAD_MAX + 10);
	memcpy(big, "0\r\n", 3);
	chunked_init(&c);
	chunked_decode(&c, big, HTTP_HEAD_MAX + 10);
	assert_int_equal(c.state, CHUNK_ERROR);
	memcpy(big, "1;", 2);
	chunked_init(&c);
	chunked_decode(&c, big, HTTP_HEAD_MAX + 10);
	assert_int_equal(c.state, CHUNK_ERROR);
	free(big);
}

struct seen {
	char lines[8][64];
	int n, stop_after;
};

static bool collect(void *arg, char *line, size_t len)
{
	struct seen *s = arg;

	assert_int_equal(strlen(line), len);
	snprintf(s->lines[s->n++], 64, "%s", line);
	return s->n != s->stop_after;
}

static void lines(void **state)
{
	const char *in = "{\"a\":1}\n\r\n{\"b\":2}\r\n{\"c\"";
	struct lines l = {0};
	struct seen s;

	(void)state;
	for (size_t step = 1; step <= strlen(in); step++) {
		memset(&s, 0, sizeof(s));
		for (size_t off = 0; off < strlen(in); off += step) {
			size_t n = strlen(in) - off < step ? strlen(in) - off
							    : step;
			assert_int_equal(lines_feed(&l, in + off, n, collect,
						    &s),
					 LINES_OK);
		}
		assert_int_equal(s.n, 3);
		assert_string_equal(s.lines[0], "{\"a\":1}");
		assert_string_equal(s.lines[1], "");
		assert_string_equal(s.lines[2], "{\"b\":2}");
		assert_int_equal(l.len, 4); /* {"c" waits for its end */
		lines_reset(&l);
	}
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(lines_feed(&l, "a\nb\n", 4, collect, &s), LINES_STOP);
	assert_int_equal(s.n, 1);
	lines_reset(&l);
}

static void line_bound(void **state)
{
	struct lines l = {0};
	struct seen s = {0};
	char *big = malloc(HTTP_LINE_MAX + 2);

	(void)state;
	memset(big, 'x', HTTP_LINE_MAX + 2);
	big[HTTP_LINE_MAX] = '\n';
	/* Exactly the bound fits, in any number of pieces. */
	assert_int_equal(lines_feed(&l, big, 1000, collect, &s), LINES_OK);
	assert_int_equal(lines_feed(&l, big + 1000, HTTP_LINE_MAX + 1 - 1000,
				    collect, &s),
			 LINES_OK);
	assert_int_equal(s.n, 1);
	assert_null(l.buf); /* a big line's memory is given back */
	/* One byte more is refused. */
	big[HTTP_LINE_MAX] = 'x';
	assert_int_equal(lines_feed(&l, big, HTTP_LINE_MAX + 2, collect, &s),
			 LINES_TOO_LONG);
	lines_reset(&l);
	assert_int_equal(lines_append(&l, big, HTTP_LINE_MAX), LINES_OK);
	assert_int_equal(lines_append(&l, big, 1), LINES_TOO_LONG);
	lines_reset(&l);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status_and_headers),
		cmocka_unit_test(incomplete_and_bad_heads),
		cmocka_unit_test(request),
		cmocka_unit_test(chunked),
		cmocka_unit_test(chunked_errors),
		cmocka_unit_test(lines),
		cmocka_unit_test(line_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
