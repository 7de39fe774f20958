/*
 * The little of HTTP/1.1 a watch needs, hand-written because no TLS
 * library does it: the request, the response head, chunked decoding and
 * the split of a watch stream into JSON lines. Pure functions over
 * buffers, bounded, so they can be unit-tested and fuzzed alone.
 */
#ifndef APPROVE_STEP_HTTP_H
#define APPROVE_STEP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A response head (status line and headers) larger than this is refused. */
#define HTTP_HEAD_MAX (16 * 1024)
/*
 * One watch event: the largest ConfigMap the API server stores, written as
 * Go's encoding/json writes it (`<` `>` `&`, U+2028/9, control bytes and
 * bytes that are not UTF-8 become six bytes: \u003c, \ufffd).
 * - data (keys and values at most 1,048,576 raw bytes; keys [-._a-zA-Z0-9]
 *   are never escaped): an entry "K":"V", is L + 6V + 6 bytes and its
 *   managedFields line "f:K":{}, is L + 8, so 6(L+V) + 14 - 4L. Summed:
 *   6 * 1,048,576 + 10 * 65 (1-byte keys) + 6 * 4,225 (2-byte keys)
 *   + 2 * 274,625 (3-byte keys) = 6,866,706 bytes.
 * - annotations (at most 262,144 raw bytes, 66 key characters), alike:
 *   6 * 262,144 + 10 * 66 + 6 * 4,356 + 2 * 87,381 = 1,774,422 bytes.
 * - labels, names, finalizers, other managers' managedFields: characters
 *   that are never escaped, bounded only by what etcd stores per object
 *   (1.5 MiB by default), at most twice that as JSON: 3,145,728 bytes.
 * - the event's envelope and fixed fields: under 4 KiB.
 * That is under 11.8 MiB; 16 MiB leaves room. The line buffer grows only as
 * a line needs it and is given back after a large one, so an ordinary gate
 * never holds more than its own event.
 */
#define HTTP_LINE_MAX (16 * 1024 * 1024)

struct http_head {
	int status;		/* 100..599 */
	bool chunked;		/* Transfer-Encoding: chunked */
	bool close;		/* Connection: close */
	int64_t content_length; /* -1: not given */
};

enum http_parse {
	HTTP_MORE,    /* not a whole head yet */
	HTTP_OK,      /* *head filled, *used = bytes of the head */
	HTTP_BAD,     /* not an HTTP/1.x response head */
	HTTP_TOO_BIG, /* no end of the head within HTTP_HEAD_MAX */
};

/* Parses the head at the start of buf[0..len). */
enum http_parse http_head_parse(const char *buf, size_t len,
				struct http_head *head, size_t *used);

/*
 * Writes a GET request for path to out. Returns its length, or 0 if it
 * does not fit or a value could break the request (a token or host with
 * bytes outside visible ASCII).
 */
size_t http_request(char *out, size_t outsz, const char *host,
		    const char *path, const char *token, const char *agent);

/* Chunked transfer decoding, fed any split of the stream. */
struct chunked {
	enum chunked_state {
		CHUNK_SIZE,	  /* hex digits of the next chunk's size */
		CHUNK_EXT,	  /* ";ext" up to the CR: ignored */
		CHUNK_SIZE_LF,	  /* the LF after the size line */
		CHUNK_DATA,	  /* `left` bytes of data */
		CHUNK_DATA_CR,	  /* the CRLF after the data */
		CHUNK_DATA_LF,
		CHUNK_TRAILER,	  /* start of a trailer line, or the final CRLF */
		CHUNK_TRAILER_LINE,
		CHUNK_FINAL_LF,
		CHUNK_DONE,	  /* the last chunk and its trailer were read */
		CHUNK_ERROR,	  /* malformed: drop the connection */
	} state;
	uint64_t left;
	unsigned digits;
	size_t trailer; /* trailer bytes seen, bounded by HTTP_HEAD_MAX */
};

void chunked_init(struct chunked *c);

/*
 * Decodes buf[0..len) in place: the data bytes are moved to the front of
 * buf and their count returned. Check c->state for CHUNK_DONE or
 * CHUNK_ERROR afterwards; bytes after the end are not consumed.
 */
size_t chunked_decode(struct chunked *c, char *buf, size_t len);

/* Splits a byte stream into lines of at most HTTP_LINE_MAX bytes. */
struct lines {
	char *buf; /* the unfinished line; malloc'ed, freed when empty */
	size_t len, cap;
};

enum lines_result {
	LINES_OK,	/* every whole line was handed over */
	LINES_STOP,	/* the callback asked to stop */
	LINES_TOO_LONG, /* a line exceeds HTTP_LINE_MAX */
	LINES_NOMEM,
};

/*
 * A whole line without its "\n" (nor a "\r" before it), NUL-terminated;
 * writable until the callback returns. Return false to stop.
 */
typedef bool lines_fn(void *arg, char *line, size_t len);

enum lines_result lines_feed(struct lines *l, const char *data, size_t len,
			     lines_fn *fn, void *arg);

/* Appends data without splitting (a whole body); same bound. */
enum lines_result lines_append(struct lines *l, const char *data,
			       size_t len);

void lines_reset(struct lines *l);

#endif
