#define _GNU_SOURCE /* getrandom */
#include "tls.h"

#include "certname.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* A CA file holds a few certificates; a larger one is not ca.crt. */
#define CA_CERT_MAX (64 * 1024)

/* A growing byte buffer for one PEM object's DER, or a DN. */
struct bytes {
	unsigned char *p;
	size_t len, cap;
	bool failed;
};

static void bytes_append(void *ctx, const void *data, size_t len)
{
	struct bytes *b = ctx;
	unsigned char *p;

	if (b->failed || len > CA_CERT_MAX - b->len) {
		b->failed = true;
		return;
	}
	if (b->len + len > b->cap) {
		size_t cap = b->len + len + 1024;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static unsigned char *copy(const unsigned char *p, size_t len)
{
	unsigned char *c = malloc(len ? len : 1);

	if (c != NULL)
		memcpy(c, p, len);
	return c;
}

/* Fills ta's key with copies of the decoder's key; false on no memory. */
static bool copy_key(br_x509_trust_anchor *ta, const br_x509_pkey *pk)
{
	ta->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
		ta->pkey.key.rsa.n = copy(pk->key.rsa.n, pk->key.rsa.nlen);
		ta->pkey.key.rsa.e = copy(pk->key.rsa.e, pk->key.rsa.elen);
		return ta->pkey.key.rsa.n && ta->pkey.key.rsa.e;
	}
	ta->pkey.key.ec.curve = pk->key.ec.curve;
	ta->pkey.key.ec.qlen = pk->key.ec.qlen;
	ta->pkey.key.ec.q = copy(pk->key.ec.q, pk->key.ec.qlen);
	return ta->pkey.key.ec.q != NULL;
}

static void free_anchor(br_x509_trust_anchor *ta)
{
	free(ta->dn.data);
	if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
		free(ta->pkey.key.rsa.n);
		free(ta->pkey.key.rsa.e);
	} else {
		free(ta->pkey.key.ec.q);
	}
}

/* Turns one certificate into a trust anchor appended to ca. */
static bool add_anchor(struct tls_ca *ca, const struct bytes *der,
		       const char **problem)
{
	br_x509_decoder_context dc;
	struct bytes dn = {0};
	br_x509_trust_anchor *ta, *grown;
	struct tls_ca_der *dgrown;
	const br_x509_pkey *pk;
	struct certinfo info;

	br_x509_decoder_init(&dc, bytes_append, &dn);
	br_x509_decoder_push(&dc, der->p, der->len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (pk == NULL || dn.failed) {
		free(dn.p);
		*problem = "a certificate in it cannot be decoded";
		return false;
	}
	grown = realloc(ca->anchors, (ca->len + 1) * sizeof(*ca->anchors));
	if (grown != NULL)
		ca->anchors = grown;
	dgrown = realloc(ca->der, (ca->len + 1) * sizeof(*ca->der));
	if (dgrown != NULL)
		ca->der = dgrown;
	if (grown == NULL || dgrown == NULL) {
		free(dn.p);
		*problem = "out of memory";
		return false;
	}
	ta = &ca->anchors[ca->len];
	memset(ta, 0, sizeof(*ta));
	ta->dn.data = dn.p;
	ta->dn.len = dn.len;
	/* Go lets a v1 root (no extensions) sign, as a CA. */
	ta->flags = br_x509_decoder_isCA(&dc) ||
			    (certinfo_read(der->p, der->len, &info) &&
			     info.version < 3)
		    ? BR_X509_TA_CA
		    : 0;
	ca->der[ca->len].len = der->len;
	ca->der[ca->len].p = copy(der->p, der->len);
	ca->len++;
	if (ca->der[ca->len - 1].p == NULL || !copy_key(ta, pk)) {
		*problem = "out of memory";
		return false;
	}
	return true;
}

bool tls_ca_load(struct tls_ca *ca, const char *pem, size_t len,
		 const char **problem)
{
	br_pem_decoder_context pc;
	struct bytes der = {0};
	bool in_cert = false, ok = true;
	size_t off = 0;

	*ca = (struct tls_ca){0};
	*problem = "it holds no PEM CERTIFICATE";
	br_pem_decoder_init(&pc);
	/* The decoder needs a line end after the last line: add one. */
	while (ok && off <= len) {
		const char *src = off < len ? pem + off : "\n";
		size_t n = br_pem_decoder_push(&pc, src, off < len ? len - off : 1);
		off += off < len ? n : 1;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			in_cert = strcmp(br_pem_decoder_name(&pc), "CERTIFICATE") == 0;
			der.len = 0;
			der.failed = false;
			br_pem_decoder_setdest(&pc, in_cert ? bytes_append : NULL, &der);
			break;
		case BR_PEM_END_OBJ:
			if (in_cert && der.failed) {
				*problem = "a certificate in it is too large";
				ok = false;
			} else if (in_cert) {
				ok = add_anchor(ca, &der, problem);
			}
			in_cert = false;
			break;
		case BR_PEM_ERROR:
			*problem = "it is not valid PEM";
			ok = false;
			break;
		}
	}
	free(der.p);
	if (ok && ca->len > 0)
		return true;
	tls_ca_free(ca);
	return false;
}

void tls_ca_free(struct tls_ca *ca)
{
	for (size_t i = 0; i < ca->len; i++) {
		free_anchor(&ca->anchors[i]);
		free(ca->der[i].p);
	}
	free(ca->anchors);
	free(ca->der);
	*ca = (struct tls_ca){0};
}

/* ---- the X.509 engine: BearSSL's chain check, then Go's further checks */

static struct tls_x509 *x509_of(const br_x509_class **ctx)
{
	return (struct tls_x509 *)(void *)ctx;
}

static void x_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct tls_x509 *x = x509_of(ctx);

	(void)server_name; /* BearSSL matches DNS names only: ours does both */
	x->cert_index = 0;
	x->cert_len = x->issuer_len = 0;
	x->cert_too_big = false;
	x->top_found = false;
	x->why = NULL;
	x->sigs_ok = true;
	x->own_trusted = false;
	x->own_pk = NULL;
	x->minimal.vtable->start_chain(&x->minimal.vtable, NULL);
}

static void x_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct tls_x509 *x = x509_of(ctx);

	x->cert_index++;
	x->issuer_len = 0;
	x->minimal.vtable->start_cert(&x->minimal.vtable, length);
}

static void x_append(const br_x509_class **ctx, const unsigned char *buf,
		     size_t len)
{
	struct tls_x509 *x = x509_of(ctx);
	unsigned char *to = x->cert_index == 1 ? x->cert : x->issuer;
	size_t *to_len = x->cert_index == 1 ? &x->cert_len : &x->issuer_len;

	if (!x->top_found) {
		if (len > TLS_CERT_MAX - *to_len) {
			x->cert_too_big = true;
		} else {
			memcpy(to + *to_len, buf, len);
			*to_len += len;
		}
	}
	x->minimal.vtable->append(&x->minimal.vtable, buf, len);
}

static void fail(struct tls_x509 *x, const char *why)
{
	if (x->why == NULL)
		x->why = why;
}

/*
 * What Go's isValid and checkChainForKeyUsage require of an issuer (root
 * or intermediate) with `below` intermediates under it, and of every
 * certificate: no critical extension Go does not handle, an extended key
 * usage that allows TLS servers, the leaf's names inside its constraints.
 */
static void check_cert(struct tls_x509 *x, const struct certinfo *ci,
		       const struct certinfo *leaf, bool issuer, int below)
{
	if (ci->unhandled)
		fail(x, "a certificate of the chain has a critical extension "
			"client-go does not handle");
	if (ci->eku_forbids)
		fail(x, ci == leaf
				? "the server's certificate is not for TLS servers "
				  "(its extended key usage lacks serverAuth)"
				: "an issuer of the server's certificate is not for "
				  "TLS servers (its extended key usage lacks "
				  "serverAuth)");
	if (!issuer)
		return;
	if (ci->path_len >= 0 && below > ci->path_len)
		fail(x, "the chain is longer than an issuer's path length "
			"constraint allows");
	if (!certname_constraints_allow(ci, leaf))
		fail(x, "a name of the server's certificate is outside an "
			"issuer's name constraints");
}

static void sha256_of(struct certname_der d, unsigned char out[32])
{
	br_sha256_context h;

	br_sha256_init(&h);
	br_sha256_update(&h, d.p, d.len);
	br_sha256_out(&h, out);
}

/*
 * Keeps ci's signature (the hash of its TBS, the signature bytes) for its
 * issuer's key to verify: the algorithms BearSSL's engine takes, less
 * SHA-1 (as Go). False for any other.
 */
static bool keep_signature(struct tls_pending_sig *ps,
			   const struct certinfo *ci)
{
	static const unsigned char rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
					    0x0d, 0x01, 0x01};
	static const unsigned char ec[] = {0x2a, 0x86, 0x48, 0xce,
					   0x3d, 0x04, 0x03};
	static const unsigned char *const rsa_oids[] = {
		BR_HASH_OID_SHA256, BR_HASH_OID_SHA384, BR_HASH_OID_SHA512};
	static const br_hash_class *const hashes[] = {
		&br_sha256_vtable, &br_sha384_vtable, &br_sha512_vtable};
	const struct certname_der *a = &ci->sig_alg;
	br_hash_compat_context h;
	int which = -1;

	if (a->len == sizeof(rsa) + 1 && memcmp(a->p, rsa, sizeof(rsa)) == 0 &&
	    a->p[sizeof(rsa)] >= 11 && a->p[sizeof(rsa)] <= 13) {
		which = a->p[sizeof(rsa)] - 11;
		ps->rsa_oid = rsa_oids[which];
	} else if (a->len == sizeof(ec) + 1 &&
		   memcmp(a->p, ec, sizeof(ec)) == 0 && a->p[sizeof(ec)] >= 2 &&
		   a->p[sizeof(ec)] <= 4) {
		which = a->p[sizeof(ec)] - 2;
		ps->rsa_oid = NULL;
	}
	if (which < 0 || ci->sig.len > sizeof(ps->sig))
		return false;
	hashes[which]->init(&h.vtable);
	hashes[which]->update(&h.vtable, ci->tbs.p, ci->tbs.len);
	hashes[which]->out(&h.vtable, ps->hash);
	ps->hash_len = (hashes[which]->desc >> BR_HASHDESC_OUT_OFF) &
		       BR_HASHDESC_OUT_MASK;
	memcpy(ps->sig, ci->sig.p, ci->sig.len);
	ps->sig_len = ci->sig.len;
	sha256_of(ci->issuer, ps->issuer);
	return true;
}

/* Did the key pk make the kept signature? */
static bool signed_by(const struct tls_pending_sig *ps, const br_x509_pkey *pk)
{
	unsigned char out[64];

	if (pk == NULL)
		return false;
	if (ps->rsa_oid != NULL)
		return pk->key_type == BR_KEYTYPE_RSA &&
		       br_rsa_pkcs1_vrfy_get_default()(
			       ps->sig, ps->sig_len, ps->rsa_oid, ps->hash_len,
			       &pk->key.rsa, out) &&
		       memcmp(out, ps->hash, ps->hash_len) == 0;
	return pk->key_type == BR_KEYTYPE_EC &&
	       br_ecdsa_vrfy_asn1_get_default()(br_ec_get_default(), ps->hash,
						ps->hash_len, &pk->key.ec,
						ps->sig, ps->sig_len);
}

/*
 * The link from the last certificate kept to ci (its issuer, DER der):
 * names chained, signature verified by ci's key, ci within its dates.
 */
static void check_link(struct tls_x509 *x, const struct certinfo *ci,
		       const unsigned char *der, size_t len)
{
	br_x509_decoder_context dc;
	unsigned char subject[32];
	int64_t now = (int64_t)time(NULL);

	sha256_of(ci->subject, subject);
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, der, len);
	if (memcmp(subject, x->pending.issuer, 32) != 0 ||
	    !signed_by(&x->pending, br_x509_decoder_get_pkey(&dc)) ||
	    now < ci->not_before || now > ci->not_after)
		x->sigs_ok = false;
}

/* Go's CheckSignatureFrom: may this certificate sign others? */
static bool may_sign(const struct certinfo *ci)
{
	if (ci->version == 3 && !ci->bc_present)
		return false;
	if (ci->bc_present && !ci->ca_valid)
		return false;
	return !ci->ku_present || ci->ku_cert_sign;
}

/*
 * The roots of ca.crt that issued the last certificate read, as Go. A
 * leaf that is itself in ca.crt is trusted as it is (Go: the pool
 * contains it), with no root above it to check.
 */
static void check_roots(struct tls_x509 *x, const struct certinfo *ci,
			const struct certinfo *leaf)
{
	int64_t now = (int64_t)time(NULL);
	const struct tls_ca *ca = x->ca;
	struct certinfo root;

	for (size_t i = 0; i < ca->len; i++) {
		if (ca->anchors[i].dn.len != ci->issuer.len ||
		    memcmp(ca->anchors[i].dn.data, ci->issuer.p,
			   ci->issuer.len) != 0)
			continue;
		/*
		 * A root of the issuer's Name that did not sign it is not the
		 * top: BearSSL (and Go) go on up the chain, and so must the
		 * checks, to the certificate the root did sign.
		 */
		if (!signed_by(&x->pending, &ca->anchors[i].pkey))
			continue;
		x->top_found = x->own_trusted = true;
		if (x->cert_index == 1 && ca->der[i].len == x->cert_len &&
		    memcmp(ca->der[i].p, x->cert, x->cert_len) == 0)
			continue;
		if (!certinfo_read(ca->der[i].p, ca->der[i].len, &root)) {
			fail(x, "a certificate of ca.crt cannot be parsed");
			continue;
		}
		if (!may_sign(&root))
			fail(x, "the certificate of ca.crt that issued the chain "
				"is not a CA (basic constraints or key usage)");
		if (now < root.not_before || now > root.not_after)
			fail(x, "the certificate of ca.crt that issued the chain "
				"has expired or is not yet valid");
		check_cert(x, &root, leaf, true, (int)x->cert_index - 1);
	}
}

static void x_end_cert(const br_x509_class **ctx)
{
	struct tls_x509 *x = x509_of(ctx);
	struct certinfo leaf, ci;

	x->minimal.vtable->end_cert(&x->minimal.vtable);
	if (x->top_found || x->cert_too_big)
		return;
	if (!certinfo_read(x->cert, x->cert_len, &leaf) ||
	    (x->cert_index > 1 &&
	     !certinfo_read(x->issuer, x->issuer_len, &ci))) {
		fail(x, "a certificate of the chain cannot be parsed");
		return;
	}
	if (x->cert_index == 1) {
		int64_t now = (int64_t)time(NULL);
		check_cert(x, &leaf, &leaf, false, 0);
		ci = leaf;
		if (now < ci.not_before || now > ci.not_after)
			x->sigs_ok = false;
	} else {
		check_link(x, &ci, x->issuer, x->issuer_len);
		if (!ci.ca_valid || !may_sign(&ci))
			fail(x, "an issuer in the server's certificate chain is "
				"not a CA");
		check_cert(x, &ci, &leaf, true, (int)x->cert_index - 2);
	}
	if (!keep_signature(&x->pending, &ci)) {
		/* nothing kept: no root verifies a stale signature */
		memset(&x->pending, 0, sizeof(x->pending));
		x->sigs_ok = false;
	}
	check_roots(x, &ci, &leaf);
}

static unsigned x_end_chain(const br_x509_class **ctx)
{
	struct tls_x509 *x = x509_of(ctx);
	unsigned err = x->minimal.vtable->end_chain(&x->minimal.vtable);

	/*
	 * BearSSL's engine refuses a critical nameConstraints or
	 * extendedKeyUsage, which Go handles: then the signatures, names and
	 * dates checked above stand in for its verdict, and Go's checks below
	 * decide as for any chain.
	 */
	if (err == BR_ERR_X509_CRITICAL_EXTENSION && x->sigs_ok &&
	    x->own_trusted && !x->cert_too_big) {
		br_x509_decoder_init(&x->leaf_key, NULL, NULL);
		br_x509_decoder_push(&x->leaf_key, x->cert, x->cert_len);
		x->own_pk = br_x509_decoder_get_pkey(&x->leaf_key);
		if (x->own_pk != NULL)
			err = BR_ERR_OK;
	} else if (err == BR_ERR_X509_CRITICAL_EXTENSION) {
		/* Say what failed rather than the extension BearSSL met. */
		fail(x, "its signatures, names or dates do not verify up to a "
			"certificate of ca.crt");
		return BR_ERR_X509_NOT_TRUSTED;
	}
	if (err != BR_ERR_OK) {
		x->why = NULL; /* BearSSL's reason comes first */
		return err;
	}
	if (x->cert_too_big)
		fail(x, "a certificate of the chain is larger than 16 KiB");
	if (!x->top_found)
		fail(x, "the server's certificate is not signed by ca.crt");
	if (x->why != NULL)
		return BR_ERR_X509_NOT_TRUSTED;
	if (!certname_matches(x->cert, x->cert_len, x->dns,
			      x->dns ? NULL : x->ip, x->ip_len))
		return BR_ERR_X509_BAD_SERVER_NAME;
	return BR_ERR_OK;
}

static const br_x509_pkey *x_get_pkey(const br_x509_class *const *ctx,
				      unsigned *usages)
{
	const struct tls_x509 *x = (const void *)ctx;
	const br_x509_pkey *pk =
		x->own_pk ? x->own_pk
			  : x->minimal.vtable->get_pkey(&x->minimal.vtable,
							usages);

	/*
	 * Go's crypto/tls ignores the server certificate's keyUsage, and so
	 * does client-go: any key may sign the key exchange.
	 */
	if (usages != NULL)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return pk;
}

static const br_x509_class x509_vtable = {
	sizeof(struct tls_x509), x_start_chain, x_start_cert, x_append,
	x_end_cert,		 x_end_chain,	x_get_pkey,
};

/* ---- the engine: TLS 1.2, ECDHE with AEAD suites only */

static void configure(struct tls *t, const struct tls_ca *ca)
{
	static const uint16_t suites[] = {
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	};
	static const struct {
		int id;
		const br_hash_class *hc;
	} hashes[] = {
		{br_sha1_ID, &br_sha1_vtable},
		{br_sha224_ID, &br_sha224_vtable},
		{br_sha256_ID, &br_sha256_vtable},
		{br_sha384_ID, &br_sha384_vtable},
		{br_sha512_ID, &br_sha512_vtable},
	};
	br_ssl_client_context *cc = &t->client;
	br_x509_minimal_context *xc = &t->x509.minimal;

	br_ssl_client_zero(cc);
	br_ssl_engine_set_versions(&cc->eng, BR_TLS12, BR_TLS12);
	br_x509_minimal_init(xc, &br_sha256_vtable, ca->anchors, ca->len);
	br_ssl_engine_set_suites(&cc->eng, suites,
				 sizeof(suites) / sizeof(suites[0]));
	br_ssl_engine_set_default_rsavrfy(&cc->eng);
	br_ssl_engine_set_default_ecdsa(&cc->eng);
	br_x509_minimal_set_rsa(xc, br_ssl_engine_get_rsavrfy(&cc->eng));
	br_x509_minimal_set_ecdsa(xc, br_ssl_engine_get_ec(&cc->eng),
				  br_ssl_engine_get_ecdsa(&cc->eng));
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
		br_ssl_engine_set_hash(&cc->eng, hashes[i].id, hashes[i].hc);
		/* Go 1.18+ refuses certificates signed with SHA-1. */
		if (hashes[i].id != br_sha1_ID)
			br_x509_minimal_set_hash(xc, hashes[i].id, hashes[i].hc);
	}
	t->x509.vtable = &x509_vtable;
	t->x509.ca = ca;
	br_ssl_engine_set_x509(&cc->eng, &t->x509.vtable);
	br_ssl_engine_set_prf_sha256(&cc->eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(&cc->eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(&cc->eng);
	br_ssl_engine_set_default_chapol(&cc->eng);
	br_ssl_engine_set_buffer(&cc->eng, t->iobuf, sizeof(t->iobuf), 0);
}

void tls_start(struct tls *t, const struct tls_ca *ca, const char *dns,
	       const unsigned char *ip, size_t ip_len)
{
	unsigned char seed[32];

	configure(t, ca);
	t->x509.dns = dns;
	t->x509.ip_len = dns ? 0 : ip_len;
	if (!dns)
		memcpy(t->x509.ip, ip, ip_len);
	t->out_len = t->out_sent = 0;
	t->established = false;
	t->sys_errno = 0;
	/* BearSSL seeds itself too (rdrand, /dev/urandom); this needs no file. */
	if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		br_ssl_engine_inject_entropy(&t->client.eng, seed, sizeof(seed));
	/* The name is only SNI: the X.509 wrapper above checks the name. */
	br_ssl_client_reset(&t->client, dns, 0);
}

bool tls_queue(struct tls *t, const char *data, size_t len)
{
	if (len > sizeof(t->out) - t->out_len)
		return false;
	memcpy(t->out + t->out_len, data, len);
	t->out_len += len;
	return true;
}

enum io_step {
	IO_PROGRESS, /* bytes moved, or interrupted: go on */
	IO_BLOCKED,  /* *events says what to wait for */
	IO_EOF,
	IO_ERROR,    /* t->sys_errno */
};

/* The outcome of one read or write on the socket. */
static enum io_step io_result(struct tls *t, ssize_t n, short want,
			      short *events)
{
	if (n > 0)
		return IO_PROGRESS;
	if (n == 0)
		return IO_EOF;
	if (errno == EINTR)
		return IO_PROGRESS;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		*events = want;
		return IO_BLOCKED;
	}
	t->sys_errno = errno;
	return IO_ERROR;
}

/* One write of pending records. */
static enum io_step send_records(struct tls *t, int fd, short *events)
{
	br_ssl_engine_context *eng = &t->client.eng;
	size_t len;
	unsigned char *buf = br_ssl_engine_sendrec_buf(eng, &len);
	ssize_t n = write(fd, buf, len);
	enum io_step r = io_result(t, n, POLLOUT, events);

	if (n > 0)
		br_ssl_engine_sendrec_ack(eng, (size_t)n);
	if (r == IO_EOF) {
		t->sys_errno = EPIPE;
		r = IO_ERROR;
	}
	return r;
}

/* One read of incoming records. */
static enum io_step recv_records(struct tls *t, int fd, short *events)
{
	br_ssl_engine_context *eng = &t->client.eng;
	size_t len;
	unsigned char *buf = br_ssl_engine_recvrec_buf(eng, &len);
	ssize_t n = read(fd, buf, len);
	enum io_step r = io_result(t, n, POLLIN, events);

	if (n > 0)
		br_ssl_engine_recvrec_ack(eng, (size_t)n);
	return r;
}

/* Hands queued application bytes to the engine once it takes them. */
static void send_app(struct tls *t)
{
	br_ssl_engine_context *eng = &t->client.eng;
	size_t len, n = t->out_len - t->out_sent;
	unsigned char *buf = br_ssl_engine_sendapp_buf(eng, &len);

	if (n > len)
		n = len;
	memcpy(buf, t->out + t->out_sent, n);
	br_ssl_engine_sendapp_ack(eng, n);
	t->out_sent += n;
	if (t->out_sent == t->out_len) {
		br_ssl_engine_flush(eng, 0);
		/* The request holds the token: keep no copy of it. */
		explicit_bzero(t->out, t->out_len);
	}
}

enum tls_io tls_pump(struct tls *t, int fd, short *events)
{
	br_ssl_engine_context *eng = &t->client.eng;

	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);
		enum io_step r;

		if (st & BR_SSL_CLOSED)
			return br_ssl_engine_last_error(eng) == BR_ERR_OK
				       ? TLS_EOF
				       : TLS_FAILED;
		/* Application data flows only after the handshake. */
		if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))
			t->established = true;
		if (st & BR_SSL_SENDREC) {
			r = send_records(t, fd, events);
		} else if (st & BR_SSL_RECVAPP) {
			return TLS_DATA;
		} else if ((st & BR_SSL_SENDAPP) && t->out_sent < t->out_len) {
			send_app(t);
			continue;
		} else if (st & BR_SSL_RECVREC) {
			r = recv_records(t, fd, events);
		} else {
			*events = POLLIN;
			return TLS_WAIT;
		}
		if (r == IO_BLOCKED)
			return TLS_WAIT;
		if (r == IO_EOF)
			return TLS_EOF;
		if (r == IO_ERROR)
			return TLS_FAILED;
	}
}

const unsigned char *tls_data(struct tls *t, size_t *len)
{
	return br_ssl_engine_recvapp_buf(&t->client.eng, len);
}

void tls_consume(struct tls *t, size_t len)
{
	br_ssl_engine_recvapp_ack(&t->client.eng, len);
}

static const char *x509_problem(int err)
{
	switch (err) {
	case BR_ERR_X509_NOT_TRUSTED:
		return "the server's certificate is not signed by ca.crt";
	case BR_ERR_X509_BAD_SERVER_NAME:
		return "the server's certificate does not name this host";
	case BR_ERR_X509_BAD_SIGNATURE:
		return "a signature in the server's certificate chain does not "
		       "verify (a forged or altered certificate)";
	case BR_ERR_X509_EXPIRED:
		return "the server's certificate has expired or is not yet "
		       "valid";
	case BR_ERR_X509_NOT_CA:
		return "an issuer in the server's certificate chain is not a CA, "
		       "or the chain is longer than its path length constraint "
		       "allows";
	case BR_ERR_X509_UNSUPPORTED:
		return "the server's certificate chain uses an algorithm we do "
		       "not accept (client-go refuses SHA-1 signatures too)";
	case BR_ERR_X509_CRITICAL_EXTENSION:
		/* Stricter than Go: BearSSL's engine refuses these two. */
		return "the server's certificate chain has a critical extension "
		       "this client does not handle (critical nameConstraints "
		       "or extendedKeyUsage are refused on the certificates the "
		       "server sends, though client-go accepts them: mark them "
		       "non-critical, or put name constraints on the root in "
		       "ca.crt)";
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE:
		return "an issuer's key usage does not allow signing "
		       "certificates";
	}
	return "the server's certificate cannot be verified";
}

void tls_error(const struct tls *t, char *out, size_t outsz)
{
	int err = br_ssl_engine_last_error(&t->client.eng);

	if (t->sys_errno)
		snprintf(out, outsz, "%s", strerror(t->sys_errno));
	else if (err == BR_ERR_X509_NOT_TRUSTED && t->x509.why != NULL)
		snprintf(out, outsz, "TLS: the server's certificate is refused: "
			 "%s", t->x509.why);
	else if (err >= BR_ERR_X509_OK && err < BR_ERR_X509_OK + 32)
		snprintf(out, outsz, "TLS: %s (BearSSL error %d)",
			 x509_problem(err), err);
	else if (err & BR_ERR_RECV_FATAL_ALERT)
		snprintf(out, outsz, "TLS: the server sent alert %d",
			 err & 0xff);
	else if (err == BR_ERR_BAD_CIPHER_SUITE ||
		 err == BR_ERR_UNSUPPORTED_VERSION || err == BR_ERR_BAD_VERSION)
		snprintf(out, outsz, "TLS: the server offers no TLS 1.2 ECDHE "
			 "AEAD suite we accept (BearSSL error %d)", err);
	else
		snprintf(out, outsz, "TLS handshake failed (BearSSL error %d)",
			 err);
}
