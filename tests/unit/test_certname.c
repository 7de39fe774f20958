/* The subjectAltName check on certificates built here, DER by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "certname.h"

#include <string.h>

/* A tiny DER writer: tag, length (short or long form), value. */
struct buf {
	unsigned char b[4096];
	size_t n;
};

static void tlv(struct buf *out, unsigned char tag, const void *v, size_t n)
{
	out->b[out->n++] = tag;
	if (n < 128) {
		out->b[out->n++] = (unsigned char)n;
	} else {
		out->b[out->n++] = 0x82;
		out->b[out->n++] = (unsigned char)(n >> 8);
		out->b[out->n++] = (unsigned char)n;
	}
	memcpy(out->b + out->n, v, n);
	out->n += n;
}

static const unsigned char ip4[] = {10, 96, 0, 1};
static const unsigned char ip6[] = {0, 0, 0, 0, 0, 0, 0, 0,
				    0, 0, 0, 0, 0, 0, 0, 1};

/* A certificate whose SAN holds names (already DER), and some other fields. */
static void cert(struct buf *out, const struct buf *names, bool critical)
{
	static const unsigned char san_oid[] = {0x55, 0x1d, 0x11};
	static const unsigned char bc_oid[] = {0x55, 0x1d, 0x13};
	struct buf gn = {0}, san = {0}, bc = {0}, exts = {0}, list = {0},
		   tbs = {0}, c = {0};
	unsigned char t = 0xff;

	tlv(&gn, 0x30, names->b, names->n);
	tlv(&san, 0x06, san_oid, sizeof(san_oid));
	if (critical)
		tlv(&san, 0x01, &t, 1);
	tlv(&san, 0x04, gn.b, gn.n);
	tlv(&bc, 0x06, bc_oid, sizeof(bc_oid));
	tlv(&bc, 0x04, "\x30\x00", 2);
	tlv(&list, 0x30, bc.b, bc.n);
	tlv(&list, 0x30, san.b, san.n);
	tlv(&exts, 0x30, list.b, list.n);
	tlv(&tbs, 0xa0, "\x02\x01\x02", 3); /* version 3 */
	tlv(&tbs, 0x02, "\x01", 1);	    /* serial */
	tlv(&tbs, 0x30, "", 0);		    /* algorithm, issuer ... */
	tlv(&tbs, 0x30, "", 0);
	tlv(&tbs, 0xa3, exts.b, exts.n);
	tlv(&c, 0x30, tbs.b, tbs.n);
	tlv(&c, 0x30, "", 0);
	tlv(&c, 0x03, "\x00", 1);
	out->n = 0;
	tlv(out, 0x30, c.b, c.n);
}

static bool ip_ok(const struct buf *c, const unsigned char *ip, size_t n)
{
	return certname_matches(c->b, c->n, NULL, ip, n);
}

static bool dns_ok(const struct buf *c, const char *host)
{
	return certname_matches(c->b, c->n, host, NULL, 0);
}

static void ip_hosts(void **state)
{
	struct buf names = {0}, c;

	(void)state;
	tlv(&names, 0x82, "kubernetes", 10);
	tlv(&names, 0x87, ip4, 4);
	cert(&c, &names, false);
	assert_true(ip_ok(&c, ip4, 4));
	assert_false(ip_ok(&c, (const unsigned char *)"\x0a\x60\x00\x02", 4));
	assert_false(ip_ok(&c, ip6, 16));
	/* An IP written as a DNS name does not count. */
	names.n = 0;
	tlv(&names, 0x82, "10.96.0.1", 9);
	cert(&c, &names, true);
	assert_false(ip_ok(&c, ip4, 4));
	/* ... but the cluster's service name does, for an IP host. */
	tlv(&names, 0x82, "KUBERNETES.default.svc", 22);
	cert(&c, &names, true);
	assert_true(ip_ok(&c, ip4, 4));
	assert_true(ip_ok(&c, ip6, 16));
	names.n = 0;
	tlv(&names, 0x87, ip6, 16);
	cert(&c, &names, false);
	assert_true(ip_ok(&c, ip6, 16));
	assert_false(ip_ok(&c, ip4, 4));
}

static void dns_hosts(void **state)
{
	struct buf names = {0}, c;

	(void)state;
	tlv(&names, 0x87, ip4, 4);
	tlv(&names, 0x82, "api.example.com", 15);
	tlv(&names, 0x82, "*.k8s.example.com", 17);
	cert(&c, &names, false);
	assert_true(dns_ok(&c, "api.example.com"));
	assert_true(dns_ok(&c, "API.Example.com."));
	assert_true(dns_ok(&c, "a.k8s.example.com"));
	assert_false(dns_ok(&c, "k8s.example.com"));
	assert_false(dns_ok(&c, "a.b.k8s.example.com"));
	assert_false(dns_ok(&c, "example.com"));
	assert_false(dns_ok(&c, "10.96.0.1"));
	/* kubernetes.default.svc is for IP hosts only. */
	assert_false(dns_ok(&c, "kubernetes.default.svc"));
	/* A NUL inside a name never matches a prefix. */
	names.n = 0;
	tlv(&names, 0x82, "api.example.com\0.evil", 21);
	cert(&c, &names, false);
	assert_false(dns_ok(&c, "api.example.com"));
}

static void malformed(void **state)
{
	struct buf names = {0}, c;

	(void)state;
	tlv(&names, 0x87, ip4, 4);
	cert(&c, &names, false);
	assert_true(ip_ok(&c, ip4, 4));
	/* Every truncation fails, never reads past the end. */
	for (size_t n = 0; n < c.n; n++)
		assert_false(certname_matches(c.b, n, NULL, ip4, 4));
	/* Lengths that claim more than is there. */
	for (size_t i = 0; i < c.n; i++) {
		struct buf d = c;
		d.b[i] = 0xff;
		/* Any result is fine; the walk must stay in bounds (ASan). */
		(void)certname_matches(d.b, d.n, NULL, ip4, 4);
	}
	/* No extensions, no SAN: no match (the CN is never used). */
	assert_false(certname_matches((const unsigned char *)"\x30\x02\x30\x00",
				      4, NULL, ip4, 4));
	/* Neither or both of a name and an address: no match. */
	assert_false(certname_matches(c.b, c.n, NULL, NULL, 0));
	assert_false(certname_matches(c.b, c.n, "a", ip4, 4));
	assert_false(certname_matches(c.b, c.n, NULL, ip4, 5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ip_hosts),
		cmocka_unit_test(dns_hosts),
		cmocka_unit_test(malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
