/*
 * The least possible API watcher: the floor approve-step --api is measured
 * against. It opens one TLS connection with BearSSL (the library
 * approve-step uses, so the figures compare its own code, not two TLS
 * stacks), verifies the chain against CAFILE, sends one watch request and
 * exits the moment NEEDLE appears in the decrypted bytes: no chunked
 * decoding, no JSON, no decision rules, no signals, no deadline.
 *
 *   api-floor HOST-IPV4 PORT CAFILE TOKENFILE PATH NEEDLE
 *
 * Exit: 0 NEEDLE seen; 1 the stream ended first; 2 a setup error.
 */
#define _GNU_SOURCE /* memmem */

#include <arpa/inet.h>
#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ANCHORS 8

struct buf {
	unsigned char *p;
	size_t n, cap;
};

static void die(const char *what)
{
	fprintf(stderr, "api-floor: %s\n", what);
	exit(2);
}

static void append(void *ctx, const void *data, size_t len)
{
	struct buf *b = ctx;

	if (b->n + len > b->cap) {
		b->cap = (b->n + len) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			die("out of memory");
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
}

static struct buf read_file(const char *path)
{
	struct buf b = {0};
	unsigned char tmp[4096];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("cannot open a file given");
	while ((r = read(fd, tmp, sizeof(tmp))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("cannot read a file given");
		append(&b, tmp, (size_t)r);
	}
	close(fd);
	return b;
}

static void *copy(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);

	if (q == NULL)
		die("out of memory");
	memcpy(q, p, n);
	return q;
}

/* One DER certificate -> a trust anchor (its name and public key). */
static void add_anchor(br_x509_trust_anchor *ta, const struct buf *der)
{
	br_x509_decoder_context dc;
	struct buf dn = {0};
	const br_x509_pkey *pk;

	br_x509_decoder_init(&dc, append, &dn);
	br_x509_decoder_push(&dc, der->p, der->n);
	pk = br_x509_decoder_get_pkey(&dc);
	if (pk == NULL)
		die("a certificate in CAFILE cannot be decoded");
	ta->dn.data = dn.p;
	ta->dn.len = dn.n;
	ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	ta->pkey = *pk;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = copy(pk->key.rsa.n, pk->key.rsa.nlen);
		ta->pkey.key.rsa.e = copy(pk->key.rsa.e, pk->key.rsa.elen);
	} else {
		ta->pkey.key.ec.q = copy(pk->key.ec.q, pk->key.ec.qlen);
	}
}

static size_t load_anchors(const char *path, br_x509_trust_anchor *tas)
{
	struct buf pem = read_file(path), der = {0};
	br_pem_decoder_context pc;
	size_t off = 0, n = 0;
	int in_cert = 0;

	br_pem_decoder_init(&pc);
	while (off < pem.n) {
		off += br_pem_decoder_push(&pc, pem.p + off, pem.n - off);
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			in_cert = strcmp(br_pem_decoder_name(&pc),
					 "CERTIFICATE") == 0;
			der.n = 0;
			br_pem_decoder_setdest(&pc, in_cert ? append : NULL,
					       &der);
			break;
		case BR_PEM_END_OBJ:
			if (in_cert && n < MAX_ANCHORS)
				add_anchor(&tas[n++], &der);
			break;
		case BR_PEM_ERROR:
			die("CAFILE is not PEM");
		}
	}
	if (n == 0)
		die("no certificate in CAFILE");
	return n;
}

static int sock_read(void *ctx, unsigned char *p, size_t len)
{
	for (;;) {
		ssize_t r = read(*(int *)ctx, p, len);

		if (r > 0)
			return (int)r;
		if (r < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

static int sock_write(void *ctx, const unsigned char *p, size_t len)
{
	for (;;) {
		ssize_t r = write(*(int *)ctx, p, len);

		if (r > 0)
			return (int)r;
		if (r < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

static int connect_to(const char *host, const char *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char *end;
	long p = strtol(port, &end, 10);
	int one = 1, fd;

	if (*end != '\0' || p <= 0 || p > 65535 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("HOST must be an IPv4 address and PORT a port number");
	sa.sin_port = htons((unsigned short)p);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("cannot connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int main(int argc, char **argv)
{
	static br_ssl_client_context sc;
	static br_x509_minimal_context xc;
	static unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
	static br_x509_trust_anchor tas[MAX_ANCHORS];
	static unsigned char window[65536];
	br_sslio_context io;
	struct buf token, req = {0};
	size_t have = 0, nlen, n;
	int fd;

	if (argc != 7)
		die("usage: api-floor HOST PORT CAFILE TOKENFILE PATH NEEDLE");
	nlen = strlen(argv[6]);
	if (nlen == 0 || nlen > sizeof(window) / 2)
		die("NEEDLE must be 1 to 32768 bytes");
	n = load_anchors(argv[3], tas);
	token = read_file(argv[4]);
	fd = connect_to(argv[1], argv[2]);

	br_ssl_client_init_full(&sc, &xc, tas, n);
	br_ssl_engine_set_buffer(&sc.eng, iobuf, sizeof(iobuf), 1);
	/* No server name: the chain is checked, the name is not (the floor
	 * times reading, not naming). */
	br_ssl_client_reset(&sc, NULL, 0);
	br_sslio_init(&io, &sc.eng, sock_read, &fd, sock_write, &fd);

	append(&req, "GET ", 4);
	append(&req, argv[5], strlen(argv[5]));
	append(&req, " HTTP/1.1\r\nHost: ", 17);
	append(&req, argv[1], strlen(argv[1]));
	append(&req, "\r\nAuthorization: Bearer ", 24);
	append(&req, token.p, token.n);
	append(&req, "\r\nAccept: application/json\r\n\r\n", 30);
	if (br_sslio_write_all(&io, req.p, req.n) != 0 ||
	    br_sslio_flush(&io) != 0)
		die("TLS handshake or request failed");

	/* Keep the last NEEDLE-1 bytes so a needle cut between two reads is
	 * still found. */
	for (;;) {
		int r = br_sslio_read(&io, window + have, sizeof(window) - have);

		if (r <= 0)
			return 1;
		have += (size_t)r;
		if (memmem(window, have, argv[6], nlen) != NULL)
			_exit(0);
		if (have >= nlen) {
			memmove(window, window + have - (nlen - 1), nlen - 1);
			have = nlen - 1;
		}
	}
}
