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

/* One Extension: OID (the last byte of 2.5.29.x), criticality, value. */
static void ext(struct buf *list, unsigned char id, bool critical,
		const void *v, size_t n)
{
	unsigned char oid[] = {0x55, 0x1d, id}, t = 0xff;
	struct buf e = {0};

	tlv(&e, 0x06, oid, sizeof(oid));
	if (critical)
		tlv(&e, 0x01, &t, 1);
	tlv(&e, 0x04, v, n);
	tlv(list, 0x30, e.b, e.n);
}

/* A certificate with the extensions list (already DER) and fixed fields. */
static void cert_with(struct buf *out, const struct buf *list)
{
	struct buf exts = {0}, tbs = {0}, c = {0}, validity = {0};

	tlv(&validity, 0x17, "250101000000Z", 13);
	tlv(&validity, 0x18, "20991231235959Z", 15);
	tlv(&exts, 0x30, list->b, list->n);
	tlv(&tbs, 0xa0, "\x02\x01\x02", 3); /* version 3 */
	tlv(&tbs, 0x02, "\x01", 1);	    /* serial */
	/* ecdsa-with-SHA256, as the outer algorithm (Go: byte for byte) */
	tlv(&tbs, 0x30, "\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02", 10);
	tlv(&tbs, 0x30, "\x31\x00", 2);    /* issuer */
	tlv(&tbs, 0x30, validity.b, validity.n);
	tlv(&tbs, 0x30, "", 0); /* subject */
	tlv(&tbs, 0x30, "", 0); /* subjectPublicKeyInfo */
	tlv(&tbs, 0xa3, exts.b, exts.n);
	tlv(&c, 0x30, tbs.b, tbs.n);
	/* ecdsa-with-SHA256, and an empty signature */
	tlv(&c, 0x30, "\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02", 10);
	tlv(&c, 0x03, "\x00", 1);
	out->n = 0;
	tlv(out, 0x30, c.b, c.n);
}

/* A certificate whose SAN holds names (already DER), and some other fields. */
static void cert(struct buf *out, const struct buf *names, bool critical)
{
	struct buf gn = {0}, list = {0};

	tlv(&gn, 0x30, names->b, names->n);
	ext(&list, 0x13, false, "\x30\x00", 2);
	ext(&list, 0x11, critical, gn.b, gn.n);
	cert_with(out, &list);
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
	/* Nor does the cluster's service name (Go: IP SANs only). */
	tlv(&names, 0x82, "KUBERNETES.default.svc", 22);
	cert(&c, &names, true);
	assert_false(ip_ok(&c, ip4, 4));
	assert_false(ip_ok(&c, ip6, 16));
	/* An IPv4 address equals its IPv4-mapped form (net.IP.Equal). */
	names.n = 0;
	tlv(&names, 0x87, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x60\x00\x01", 16);
	cert(&c, &names, false);
	assert_true(ip_ok(&c, ip4, 4));
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
	/* A name not in the SAN never matches, whatever it is. */
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

/* EKU (2.5.29.37): serverAuth or any allows a TLS server; none: all. */
static void extended_key_usage(void **state)
{
	static const unsigned char server[] = {0x30, 0x0a, 0x06, 0x08, 0x2b, 6,
					       1, 5, 5, 7, 3, 1};
	static const unsigned char client[] = {0x30, 0x0a, 0x06, 0x08, 0x2b, 6,
					       1, 5, 5, 7, 3, 2};
	static const unsigned char any[] = {0x30, 0x06, 0x06, 0x04,
					    0x55, 0x1d, 0x25, 0x00};
	struct buf list = {0}, c;
	struct certinfo ci;

	(void)state;
	cert_with(&c, &list);
	assert_true(certinfo_read(c.b, c.n, &ci));
	assert_false(ci.eku_forbids);
	assert_int_equal(ci.not_after - ci.not_before, 4102444799 - 1735689600);
	/* What the signature check takes: the signed bytes, OID, signature. */
	assert_int_equal(ci.sig_alg.len, 8);
	assert_int_equal(ci.sig.len, 0);
	assert_ptr_equal(ci.tbs.p, c.b + 2);
	assert_int_equal(ci.tbs.len, c.n - 2 - 12 - 3);
	ext(&list, 0x25, false, client, sizeof(client));
	cert_with(&c, &list);
	assert_true(certinfo_read(c.b, c.n, &ci));
	assert_true(ci.eku_forbids);
	list.n = 0;
	ext(&list, 0x25, true, any, sizeof(any));
	cert_with(&c, &list);
	assert_true(certinfo_read(c.b, c.n, &ci));
	assert_false(ci.eku_forbids);
	assert_false(ci.unhandled);
	list.n = 0;
	ext(&list, 0x25, false, server, sizeof(server));
	cert_with(&c, &list);
	assert_true(certinfo_read(c.b, c.n, &ci));
	assert_false(ci.eku_forbids);
}

/* basicConstraints, keyUsage and critical extensions Go does not handle. */
static void constraints_and_criticality(void **state)
{
	struct buf list = {0}, c;
	struct certinfo ci;

	(void)state;
	ext(&list, 0x13, true, "\x30\x06\x01\x01\xff\x02\x01\x01", 8);
	ext(&list, 0x0f, true, "\x03\x02\x01\x06", 4); /* certSign, cRLSign */
	cert_with(&c, &list);
	assert_true(certinfo_read(c.b, c.n, &ci));
	assert_true(ci.ca_valid && ci.bc_present && ci.ku_cert_sign);
	assert_int_equal(ci.path_len, 1);
	assert_int_equal(ci.version, 3);
	assert_false(ci.unhandled);
	/* A critical policyConstraints (2.5.29.36): Go refuses the chain. */
	ext(&list, 0x24, true, "\x30\x00", 2);
	cert_with(&c, &list);
	assert_true(certinfo_read(c.b, c.n, &ci));
	assert_true(ci.unhandled);
	/* The same, not critical: ignored. */
	list.n = 0;
	ext(&list, 0x24, false, "\x30\x00", 2);
	ext(&list, 0x0f, false, "\x03\x02\x07\x80", 4); /* digitalSignature */
	cert_with(&c, &list);
	assert_true(certinfo_read(c.b, c.n, &ci));
	assert_false(ci.unhandled);
	assert_true(ci.ku_present);
	assert_false(ci.ku_cert_sign);
}

/* A CA with nameConstraints (permitted, excluded) over a leaf's SAN. */
static bool constrained(const struct buf *nc, const struct buf *names)
{
	struct buf list = {0}, gn = {0}, ca, leaf;
	struct certinfo ca_i, leaf_i;

	ext(&list, 0x1e, true, nc->b, nc->n);
	cert_with(&ca, &list);
	tlv(&gn, 0x30, names->b, names->n);
	list.n = 0;
	ext(&list, 0x11, false, gn.b, gn.n);
	cert_with(&leaf, &list);
	assert_true(certinfo_read(ca.b, ca.n, &ca_i));
	assert_true(certinfo_read(leaf.b, leaf.n, &leaf_i));
	assert_true(ca_i.has_nc);
	return certname_constraints_allow(&ca_i, &leaf_i);
}

/* NameConstraints { [tag] { GeneralSubtree { base } } } for one name. */
static void subtree(struct buf *nc, unsigned char which, unsigned char form,
		    const void *v, size_t n)
{
	struct buf base = {0}, sub = {0}, trees = {0}, inner = {0};

	tlv(&base, form, v, n);
	tlv(&sub, 0x30, base.b, base.n);
	tlv(&trees, which, sub.b, sub.n);
	tlv(&inner, 0x30, trees.b, trees.n);
	*nc = inner;
}

/*
 * Go 1.19 refuses a certificate with an extension twice (two SANs: which
 * names it?), and a list with a malformed entry after a good one is
 * refused, not walked forever (the duplicate check once looped there).
 */
static void duplicate_extensions(void **state)
{
	struct buf list = {0}, c = {0}, good = {0}, bad = {0};
	struct certinfo ci;

	(void)state;
	tlv(&good, 0x30, "\x82\x09localhost", 11);
	tlv(&bad, 0x30, "\x82\x05other", 7);
	ext(&list, 0x11, false, bad.b, bad.n);
	ext(&list, 0x11, false, good.b, good.n);
	cert_with(&c, &list);
	assert_false(certinfo_read(c.b, c.n, &ci));
	assert_false(certname_matches(c.b, c.n, "localhost", NULL, 0));

	list.n = 0;
	ext(&list, 0x11, false, good.b, good.n);
	cert_with(&c, &list);
	assert_true(certname_matches(c.b, c.n, "localhost", NULL, 0));
	list.n = 0;
	ext(&list, 0x11, false, good.b, good.n);
	memcpy(list.b + list.n, "\x30\x05\x06", 3); /* an entry cut short */
	list.n += 3;
	cert_with(&c, &list);
	assert_false(certinfo_read(c.b, c.n, &ci));
}

static void name_constraints(void **state)
{
	struct buf nc, names = {0};

	(void)state;
	tlv(&names, 0x82, "api.k8s.example.com", 19);
	tlv(&names, 0x87, ip4, 4);
	subtree(&nc, 0xa0, 0x82, "example.com", 11);
	assert_true(constrained(&nc, &names));
	subtree(&nc, 0xa0, 0x82, ".k8s.example.com", 16);
	assert_true(constrained(&nc, &names));
	subtree(&nc, 0xa0, 0x82, "ple.com", 7); /* labels, not characters */
	assert_false(constrained(&nc, &names));
	subtree(&nc, 0xa1, 0x82, "K8S.example.com", 15);
	assert_false(constrained(&nc, &names));
	subtree(&nc, 0xa0, 0x87, "\x0a\x00\x00\x00\xff\x00\x00\x00", 8);
	assert_true(constrained(&nc, &names));
	subtree(&nc, 0xa0, 0x87, "\x0b\x00\x00\x00\xff\x00\x00\x00", 8);
	assert_false(constrained(&nc, &names));
	subtree(&nc, 0xa1, 0x87, "\x0a\x60\x00\x00\xff\xff\x00\x00", 8);
	assert_false(constrained(&nc, &names));
	/* A mask that is not ones then zeros: Go cannot parse the CA. */
	subtree(&nc, 0xa0, 0x87, "\x0a\x00\x00\x00\xff\x00\xff\x00", 8);
	assert_false(constrained(&nc, &names));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ip_hosts),
		cmocka_unit_test(dns_hosts),
		cmocka_unit_test(malformed),
		cmocka_unit_test(extended_key_usage),
		cmocka_unit_test(constraints_and_criticality),
		cmocka_unit_test(name_constraints),
		cmocka_unit_test(duplicate_extensions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
