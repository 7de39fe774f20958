#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive: does s[0..n) equal the lower-case word? */
static bool same_word(const char *s, size_t n, const char *word)
{
	if (strlen(word) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != word[i])
			return false;
	return true;
}

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Finds the CRLFCRLF ending the head; returns the head's length or 0. */
static size_t head_end(const char *buf, size_t len)
{
	if (len > HTTP_HEAD_MAX)
		len = HTTP_HEAD_MAX;
	for (size_t i = 0; i + 4 <= len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	return 0;
}

/* "HTTP/1.x NNN[ reason]" */
static bool parse_status_line(const char *s, size_t n, int *status)
{
	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' ||
	    s[7] > '9' || s[8] != ' ')
		return false;
	for (int i = 9; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	if (n > 12 && s[12] != ' ')
		return false;
	*status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	return *status >= 100 && *status <= 599;
}

/* The last comma-separated element of a header value, trimmed. */
static void last_element(const char *v, size_t n, const char **e, size_t *en)
{
	size_t start = n;

	while (start > 0 && v[start - 1] != ',')
		start--;
	while (start < n && (v[start] == ' ' || v[start] == '\t'))
		start++;
	*e = v + start;
	*en = n - start;
}

static bool parse_length(const char *v, size_t n, int64_t *out)
{
	char digits[20];
	char *end;
	long long x;

	if (n == 0 || n >= sizeof(digits))
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	memcpy(digits, v, n);
	digits[n] = '\0';
	errno = 0;
	x = strtoll(digits, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	if (*out >= 0 && *out != x)
		return false; /* two different lengths: smuggling, refuse */
	*out = x;
	return true;
}

/* One "Name: value" line; false if malformed. */
static bool parse_header(const char *s, size_t n, struct http_head *h)
{
	size_t name_len = 0, v0, v1;
	const char *e;
	size_t en;

	while (name_len < n && is_tchar(s[name_len]))
		name_len++;
	if (name_len == 0 || name_len == n || s[name_len] != ':')
		return false;
	for (v0 = name_len + 1; v0 < n && (s[v0] == ' ' || s[v0] == '\t');)
		v0++;
	for (v1 = n; v1 > v0 && (s[v1 - 1] == ' ' || s[v1 - 1] == '\t');)
		v1--;
	for (size_t i = v0; i < v1; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return false;
	if (same_word(s, name_len, "transfer-encoding")) {
		last_element(s + v0, v1 - v0, &e, &en);
		h->chunked = same_word(e, en, "chunked");
		/* Any other coding we could not undo. */
		return h->chunked;
	}
	if (same_word(s, name_len, "content-length"))
		return parse_length(s + v0, v1 - v0, &h->content_length);
	if (same_word(s, name_len, "connection")) {
		last_element(s + v0, v1 - v0, &e, &en);
		h->close = h->close || same_word(e, en, "close");
	}
	return true;
}

enum http_parse http_head_parse(const char *buf, size_t len,
				struct http_head *head, size_t *used)
{
	size_t end = head_end(buf, len), pos, eol;
	bool first = true;

	if (end == 0)
		return len >= HTTP_HEAD_MAX ? HTTP_TOO_BIG : HTTP_MORE;
	*head = (struct http_head){.content_length = -1};
	for (pos = 0; pos < end - 2; pos = eol + 2) {
		const char *nl = memchr(buf + pos, '\n', end - pos);
		if (nl == NULL || nl == buf + pos || nl[-1] != '\r')
			return HTTP_BAD; /* a bare LF */
		eol = (size_t)(nl - buf) - 1; /* the CR before it */
		if (memchr(buf + pos, '\0', eol - pos) != NULL)
			return HTTP_BAD;
		if (first ? !parse_status_line(buf + pos, eol - pos,
					       &head->status)
			  : !parse_header(buf + pos, eol - pos, head))
			return HTTP_BAD;
		first = false;
	}
	if (head->chunked)
		head->content_length = -1; /* chunked wins (RFC 9112 6.3) */
	*used = end;
	return HTTP_OK;
}

static bool visible_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

size_t http_request(char *out, size_t outsz, const char *host,
		    const char *path, const char *token, const char *agent)
{
	int n;

	if (!visible_ascii(host) || !visible_ascii(path) ||
	    !visible_ascii(token) || !visible_ascii(agent) || *token == '\0')
		return 0;
	n = snprintf(out, outsz,
		     "GET %s HTTP/1.1\r\n"
		     "Host: %s\r\n"
		     "Authorization: Bearer %s\r\n"
		     "Accept: application/json\r\n"
		     "User-Agent: %s\r\n"
		     "\r\n",
		     path, host, token, agent);
	return n > 0 && (size_t)n < outsz ? (size_t)n : 0;
}

void chunked_init(struct chunked *c)
{
	*c = (struct chunked){.state = CHUNK_SIZE};
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One byte of framing (anything but chunk data). */
static void chunked_byte(struct chunked *c, char b)
{
	int x;

	switch (c->state) {
	case CHUNK_SIZE:
		x = hex_value(b);
		if (x >= 0 && c->digits < 8) {
			c->left = c->left * 16 + (uint64_t)x;
			c->digits++;
		} else if (c->digits > 0 && (b == ';' || b == ' ' || b == '\t')) {
			c->state = CHUNK_EXT;
		} else if (c->digits > 0 && b == '\r') {
			c->state = CHUNK_SIZE_LF;
		} else {
			c->state = CHUNK_ERROR; /* no digits, or 4 GiB and more */
		}
		return;
	case CHUNK_EXT:
		if (b == '\r')
			c->state = CHUNK_SIZE_LF;
		else if (b == '\n' || ++c->trailer > HTTP_HEAD_MAX)
			c->state = CHUNK_ERROR;
		return;
	case CHUNK_SIZE_LF:
		c->trailer = 0;
		c->state = b != '\n' ? CHUNK_ERROR
			   : c->left ? CHUNK_DATA
				     : CHUNK_TRAILER;
		return;
	case CHUNK_DATA_CR:
		c->state = b == '\r' ? CHUNK_DATA_LF : CHUNK_ERROR;
		return;
	case CHUNK_DATA_LF:
		c->state = b == '\n' ? CHUNK_SIZE : CHUNK_ERROR;
		c->digits = 0;
		c->left = 0;
		return;
	case CHUNK_TRAILER:
		c->state = b == '\r' ? CHUNK_FINAL_LF : CHUNK_TRAILER_LINE;
		break;
	case CHUNK_TRAILER_LINE:
		if (b == '\n')
			c->state = CHUNK_TRAILER;
		break;
	case CHUNK_FINAL_LF:
		c->state = b == '\n' ? CHUNK_DONE : CHUNK_ERROR;
		return;
	case CHUNK_DATA:
	case CHUNK_DONE:
	case CHUNK_ERROR:
		return;
	}
	if (++c->trailer > HTTP_HEAD_MAX)
		c->state = CHUNK_ERROR;
}

size_t chunked_decode(struct chunked *c, char *buf, size_t len)
{
	size_t in = 0, out = 0;

	while (in < len && c->state != CHUNK_DONE && c->state != CHUNK_ERROR) {
		if (c->state == CHUNK_DATA) {
			size_t n = len - in;
			if (n > c->left)
				n = (size_t)c->left;
			memmove(buf + out, buf + in, n);
			out += n;
			in += n;
			c->left -= n;
			if (c->left == 0)
				c->state = CHUNK_DATA_CR;
			continue;
		}
		chunked_byte(c, buf[in++]);
	}
	return out;
}

void lines_reset(struct lines *l)
{
	free(l->buf);
	*l = (struct lines){0};
}

/* Appends to the unfinished line, growing the buffer within the bound. */
static enum lines_result grow_append(struct lines *l, const char *data,
				     size_t len)
{
	if (len > HTTP_LINE_MAX - l->len)
		return LINES_TOO_LONG;
	if (l->len + len + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 4096;
		char *p;
		while (cap < l->len + len + 1)
			cap *= 2;
		if (cap > HTTP_LINE_MAX + 1)
			cap = HTTP_LINE_MAX + 1;
		p = realloc(l->buf, cap);
		if (p == NULL)
			return LINES_NOMEM;
		l->buf = p;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, data, len);
	l->len += len;
	l->buf[l->len] = '\0';
	return LINES_OK;
}

enum lines_result lines_append(struct lines *l, const char *data, size_t len)
{
	return grow_append(l, data, len);
}

/* Hands the buffered line over and empties the buffer. */
static bool emit(struct lines *l, lines_fn *fn, void *arg)
{
	size_t n = l->len;
	bool go_on;

	if (n > 0 && l->buf[n - 1] == '\r')
		l->buf[--n] = '\0';
	go_on = fn(arg, l->buf, n);
	l->len = 0;
	/* Between events nothing is buffered: give a big line's memory back. */
	if (l->cap > 64 * 1024) {
		free(l->buf);
		l->buf = NULL;
		l->cap = 0;
	}
	return go_on;
}

enum lines_result lines_feed(struct lines *l, const char *data, size_t len,
			     lines_fn *fn, void *arg)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;
		enum lines_result r = grow_append(l, data, n);

		if (r != LINES_OK)
			return r;
		if (nl == NULL)
			return LINES_OK;
		data += n + 1;
		len -= n + 1;
		if (!emit(l, fn, arg))
			return LINES_STOP;
	}
	return LINES_OK;
}
