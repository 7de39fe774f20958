/*
 * TLS 1.2 client over a nonblocking socket with BearSSL: no threads, no
 * malloc in the engine, driven one step at a time from the poll() loop.
 * A server certificate is accepted as client-go accepts it (Go's
 * crypto/x509 Verify with ca.crt as the roots and the host as the name):
 * BearSSL checks the signatures, the chaining of names and the validity
 * of what the server sends; certname.h adds what Go checks beyond that
 * (extended key usage for TLS servers, path length, name constraints,
 * critical extensions, the roots' own validity, the subjectAltName naming
 * the host). There is no way around any check.
 */
#ifndef APPROVE_STEP_TLS_H
#define APPROVE_STEP_TLS_H

#include <bearssl.h>
#include <stdbool.h>
#include <stddef.h>

/* The trust anchors read from ca.crt, with each certificate's DER. */
struct tls_ca {
	br_x509_trust_anchor *anchors;
	struct tls_ca_der {
		unsigned char *p;
		size_t len;
	} *der;
	size_t len;
};

/* Reads every CERTIFICATE in a PEM text; false (and *problem) if none. */
bool tls_ca_load(struct tls_ca *ca, const char *pem, size_t len,
		 const char **problem);
void tls_ca_free(struct tls_ca *ca);

/* A certificate kept for the checks; API servers' are ~2 KiB. */
#define TLS_CERT_MAX (16 * 1024)
/* A signature: RSA up to 8192 bits, ECDSA in DER. */
#define TLS_SIG_MAX 1024
/* A request (with its bearer token) must fit in this. */
#define TLS_OUT_MAX 8192

/* Wraps BearSSL's minimal X.509 engine with the checks of certname.h. */
struct tls_x509 {
	const br_x509_class *vtable;
	br_x509_minimal_context minimal;
	const struct tls_ca *ca;
	const char *dns; /* NULL for an IP host */
	unsigned char ip[16];
	size_t ip_len;
	unsigned cert_index;
	unsigned char cert[TLS_CERT_MAX]; /* the end-entity certificate */
	size_t cert_len;
	unsigned char issuer[TLS_CERT_MAX]; /* the issuer being read */
	size_t issuer_len;
	bool cert_too_big;
	bool top_found;	 /* an anchor issued the last certificate read */
	const char *why; /* the first check that failed, for tls_error */
	/*
	 * The chain's signatures checked again here (with BearSSL's hashes and
	 * verifiers), used only when BearSSL's engine refuses a critical
	 * nameConstraints or extendedKeyUsage that Go handles.
	 */
	struct tls_pending_sig {
		unsigned char hash[64];
		size_t hash_len;
		const unsigned char *rsa_oid; /* NULL: ECDSA */
		unsigned char sig[TLS_SIG_MAX];
		size_t sig_len;
		unsigned char issuer[32]; /* SHA-256 of the issuer's Name */
	} pending;
	bool sigs_ok;	  /* every link so far verified */
	bool own_trusted; /* and the last by a root of ca.crt */
	const br_x509_pkey *own_pk; /* get_pkey's answer then, in leaf_key */
	br_x509_decoder_context leaf_key;
};

struct tls {
	br_ssl_client_context client;
	struct tls_x509 x509;
	unsigned char iobuf[BR_SSL_BUFSIZE_MONO]; /* half duplex is enough */
	char out[TLS_OUT_MAX];
	size_t out_len, out_sent;
	bool established; /* the handshake completed */
	int sys_errno;	  /* a failed read or write */
};

/*
 * Resets t for a new connection to host: dns is the name (also sent as
 * SNI) or NULL, and then ip (4 or 16 bytes) is the address.
 */
void tls_start(struct tls *t, const struct tls_ca *ca, const char *dns,
	       const unsigned char *ip, size_t ip_len);

/* Queues application bytes to send once the handshake is done. */
bool tls_queue(struct tls *t, const char *data, size_t len);

enum tls_io {
	TLS_WAIT,   /* poll fd for *events and call again */
	TLS_DATA,   /* application data: tls_data, tls_consume */
	TLS_EOF,    /* the server closed the connection */
	TLS_FAILED, /* see tls_error */
};

/* Does every read and write possible now without blocking. */
enum tls_io tls_pump(struct tls *t, int fd, short *events);

const unsigned char *tls_data(struct tls *t, size_t *len);
void tls_consume(struct tls *t, size_t len);

/*
 * Why the connection failed, for a log line: the system error, or what
 * BearSSL found ("certificate ..." for every verification failure).
 */
void tls_error(const struct tls *t, char *out, size_t outsz);

#endif
