#include "certname.h"

#include <string.h>

/* A slice of DER being walked. */
struct der {
	const unsigned char *p;
	size_t len;
};

/*
 * Takes the next tag-length-value off d: single-byte tags, definite
 * lengths of at most 4 bytes, all within d. False when malformed or empty.
 */
static bool der_next(struct der *d, unsigned char *tag, struct der *value)
{
	size_t i = 2, n;

	if (d->len < 2 || (d->p[0] & 0x1f) == 0x1f)
		return false;
	*tag = d->p[0];
	n = d->p[1];
	if (n & 0x80) {
		unsigned bytes = n & 0x7f;
		if (bytes == 0 || bytes > 4 || d->len < 2 + bytes)
			return false;
		n = 0;
		for (unsigned k = 0; k < bytes; k++)
			n = n << 8 | d->p[i++];
	}
	if (n > d->len - i)
		return false;
	value->p = d->p + i;
	value->len = n;
	d->p += i + n;
	d->len -= i + n;
	return true;
}

/* Descends into the one SEQUENCE that d must hold at its start. */
static bool der_sequence(struct der *d, struct der *inside)
{
	unsigned char tag;

	return der_next(d, &tag, inside) && tag == 0x30;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool same_name(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* A dNSName against a host: exact, or "*.rest" for one leftmost label. */
static bool dns_matches(const char *name, size_t n, const char *host)
{
	size_t hlen = strlen(host);
	const char *dot;

	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	if (memchr(name, '\0', n) != NULL || n == 0)
		return false;
	if (n > 2 && name[0] == '*' && name[1] == '.') {
		dot = memchr(host, '.', hlen);
		return dot != NULL && dot != host &&
		       same_name(name + 1, n - 1, dot, hlen - (size_t)(dot - host));
	}
	return same_name(name, n, host, hlen);
}

/* Walks GeneralNames for a name that fits the host. */
static bool names_match(struct der names, const char *dns,
			const unsigned char *ip, size_t ip_len)
{
	struct der seq, v;
	unsigned char tag;

	if (!der_sequence(&names, &seq) || names.len != 0)
		return false;
	while (seq.len > 0) {
		if (!der_next(&seq, &tag, &v))
			return false;
		if (tag == 0x87 && ip != NULL && v.len == ip_len &&
		    memcmp(v.p, ip, ip_len) == 0)
			return true;
		if (tag != 0x82)
			continue;
		if (dns ? dns_matches((const char *)v.p, v.len, dns)
			: same_name((const char *)v.p, v.len,
				    CERTNAME_CLUSTER_DNS,
				    strlen(CERTNAME_CLUSTER_DNS)))
			return true;
	}
	return false;
}

/* Finds the subjectAltName extension (2.5.29.17) in [3] extensions. */
static bool extensions_match(struct der exts, const char *dns,
			     const unsigned char *ip, size_t ip_len)
{
	static const unsigned char san_oid[] = {0x55, 0x1d, 0x11};
	struct der list, ext, oid, v;
	unsigned char tag;

	if (!der_sequence(&exts, &list))
		return false;
	while (list.len > 0) {
		if (!der_sequence(&list, &ext) || !der_next(&ext, &tag, &oid) ||
		    tag != 0x06)
			return false;
		if (oid.len != sizeof(san_oid) ||
		    memcmp(oid.p, san_oid, sizeof(san_oid)) != 0)
			continue;
		if (!der_next(&ext, &tag, &v))
			return false;
		if (tag == 0x01 && !der_next(&ext, &tag, &v)) /* critical */
			return false;
		if (tag == 0x04 && names_match(v, dns, ip, ip_len))
			return true;
	}
	return false;
}

bool certname_matches(const unsigned char *der, size_t len, const char *dns,
		      const unsigned char *ip, size_t ip_len)
{
	struct der d = {der, len}, cert, tbs, v;
	unsigned char tag;

	if ((dns == NULL) == (ip == NULL) ||
	    (ip != NULL && ip_len != 4 && ip_len != 16))
		return false;
	if (!der_sequence(&d, &cert) || !der_sequence(&cert, &tbs))
		return false;
	while (tbs.len > 0) {
		if (!der_next(&tbs, &tag, &v))
			return false;
		if (tag == 0xa3)
			return extensions_match(v, dns, ip, ip_len);
	}
	return false;
}
