#include "certname.h"

#include <string.h>

/* struct certname_der (certname.h) is a slice of DER being walked. */

/*
 * Takes the next tag-length-value off d: single-byte tags, definite
 * lengths of at most 4 bytes, all within d. False when malformed or empty.
 */
static bool der_next(struct certname_der *d, unsigned char *tag, struct certname_der *value)
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
static bool der_sequence(struct certname_der *d, struct certname_der *inside)
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

/* Go's net.IP.Equal: equal bytes, or an IPv4 address and its ::ffff: form. */
static bool ip_equal(const unsigned char *a, size_t alen,
		     const unsigned char *b, size_t blen)
{
	static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};

	if (alen == blen)
		return memcmp(a, b, alen) == 0;
	if (alen == 16 && blen == 4)
		return memcmp(a, mapped, 12) == 0 && memcmp(a + 12, b, 4) == 0;
	if (alen == 4 && blen == 16)
		return ip_equal(b, blen, a, alen);
	return false;
}

/* Walks GeneralNames for a name that fits the host. */
static bool names_match(struct certname_der names, const char *dns,
			const unsigned char *ip, size_t ip_len)
{
	struct certname_der seq, v;
	unsigned char tag;

	if (!der_sequence(&names, &seq) || names.len != 0)
		return false;
	while (seq.len > 0) {
		if (!der_next(&seq, &tag, &v))
			return false;
		if (tag == 0x87 && ip != NULL && ip_equal(v.p, v.len, ip, ip_len))
			return true;
		if (tag == 0x82 && dns != NULL &&
		    dns_matches((const char *)v.p, v.len, dns))
			return true;
	}
	return false;
}

bool certname_matches(const unsigned char *der, size_t len, const char *dns,
		      const unsigned char *ip, size_t ip_len)
{
	struct certinfo ci;

	if ((dns == NULL) == (ip == NULL) ||
	    (ip != NULL && ip_len != 4 && ip_len != 16))
		return false;
	if (!certinfo_read(der, len, &ci) || !ci.has_san)
		return false;
	return names_match(ci.san, dns, ip, ip_len);
}

/* ---- one certificate as Go's parser reads it */

static bool oid_is(struct certname_der oid, const unsigned char *want, size_t n)
{
	return oid.len == n && memcmp(oid.p, want, n) == 0;
}

/* UTCTime or GeneralizedTime, "...Z" to the second, in seconds. */
static bool read_time(struct certname_der *d, int64_t *out)
{
	struct certname_der v;
	unsigned char tag;
	int f[6], year;
	size_t i = 0, digits;

	if (!der_next(d, &tag, &v) || (tag != 0x17 && tag != 0x18))
		return false;
	digits = tag == 0x17 ? 12 : 14;
	if (v.len != digits + 1 || v.p[digits] != 'Z')
		return false;
	for (size_t k = 0; k < digits; k++)
		if (v.p[k] < '0' || v.p[k] > '9')
			return false;
	year = tag == 0x17 ? 0 : (v.p[0] - '0') * 1000 + (v.p[1] - '0') * 100;
	i = tag == 0x17 ? 0 : 2;
	for (int k = 0; k < 6; k++, i += 2)
		f[k] = (v.p[i] - '0') * 10 + (v.p[i + 1] - '0');
	year = tag == 0x17 ? (f[0] < 50 ? 2000 + f[0] : 1900 + f[0])
			   : year + f[0];
	if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 ||
	    f[4] > 59 || f[5] > 59)
		return false;
	/* Days from the civil date (H. Hinnant's algorithm). */
	{
		int y = year - (f[1] <= 2), m = f[1];
		int era = y / 400, yoe = y - era * 400;
		int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + f[2] - 1;
		int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
		int64_t days = (int64_t)era * 146097 + doe - 719468;
		*out = days * 86400 + f[3] * 3600 + f[4] * 60 + f[5];
	}
	return true;
}

/* A DER BOOLEAN's value, as Go's parser reads it: 00 or ff only. */
static bool read_boolean(struct certname_der x, bool *out)
{
	if (x.len != 1 || (x.p[0] != 0 && x.p[0] != 0xff))
		return false;
	*out = x.p[0] != 0;
	return true;
}

/* basicConstraints: SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLen INTEGER } */
static bool read_basic_constraints(struct certname_der v, struct certinfo *ci)
{
	struct certname_der seq, x;
	unsigned char tag;

	if (!der_sequence(&v, &seq))
		return false;
	ci->bc_present = true;
	ci->path_len = -1;
	if (seq.len > 0 && seq.p[0] == 0x01) {
		if (!der_next(&seq, &tag, &x) || !read_boolean(x, &ci->ca_valid))
			return false;
	}
	if (seq.len > 0) {
		if (!der_next(&seq, &tag, &x) || tag != 0x02 || x.len == 0 ||
		    x.len > 8 ||
		    (x.len > 1 && ((x.p[0] == 0 && !(x.p[1] & 0x80)) ||
				   (x.p[0] == 0xff && (x.p[1] & 0x80)))))
			return false; /* Go: minimal, in an int64 */
		/* a negative one constrains nothing (Go's MaxPathLen < 0) */
		if (!(x.p[0] & 0x80)) {
			ci->path_len = 0;
			for (size_t k = 0; k < x.len; k++)
				ci->path_len = ci->path_len > 0xffffff
						       ? 0x7fffffff
						       : ci->path_len << 8 | x.p[k];
		}
	}
	/* Go keeps MaxPathLen -1 for a non-CA whatever it says. */
	if (!ci->ca_valid)
		ci->path_len = -1;
	return seq.len == 0;
}

/* keyUsage: a BIT STRING; keyCertSign is bit 5. */
static bool read_key_usage(struct certname_der v, struct certinfo *ci)
{
	struct certname_der bits;
	unsigned char tag;

	if (!der_next(&v, &tag, &bits) || tag != 0x03 || bits.len < 1)
		return false;
	for (size_t i = 1; i < bits.len; i++)
		ci->ku_present = ci->ku_present || bits.p[i] != 0;
	ci->ku_cert_sign = bits.len > 1 && (bits.p[1] & 0x04);
	return true;
}

/* extKeyUsage: any listed purpose, and is serverAuth or any among them? */
static bool read_eku(struct certname_der v, struct certinfo *ci)
{
	static const unsigned char server[] = {0x2b, 6, 1, 5, 5, 7, 3, 1};
	static const unsigned char any[] = {0x55, 0x1d, 0x25, 0x00};
	struct certname_der seq, oid;
	unsigned char tag;
	bool listed = false, allows = false;

	if (!der_sequence(&v, &seq))
		return false;
	while (seq.len > 0) {
		if (!der_next(&seq, &tag, &oid) || tag != 0x06)
			return false;
		listed = true;
		allows = allows || oid_is(oid, server, sizeof(server)) ||
			 oid_is(oid, any, sizeof(any));
	}
	ci->eku_forbids = listed && !allows;
	return true;
}

/* Go marks a SAN naming nothing it parses unhandled (then critical fails). */
static bool san_names_something(struct certname_der names)
{
	struct certname_der seq, v;
	unsigned char tag;

	if (!der_sequence(&names, &seq))
		return false;
	while (seq.len > 0 && der_next(&seq, &tag, &v))
		if (tag == 0x81 || tag == 0x82 || tag == 0x86 || tag == 0x87)
			return true;
	return false;
}

/* Go's parser refuses a SAN with an iPAddress not of 4 or 16 bytes, or
 * an rfc822Name, dNSName or URI that is not ASCII (IA5). */
static bool san_parses(struct certname_der names)
{
	struct certname_der seq, v;
	unsigned char tag;

	if (!der_sequence(&names, &seq))
		return false;
	while (seq.len > 0) {
		if (!der_next(&seq, &tag, &v))
			return false;
		if (tag == 0x87 && v.len != 4 && v.len != 16)
			return false;
		if (tag == 0x81 || tag == 0x82 || tag == 0x86)
			for (size_t i = 0; i < v.len; i++)
				if (v.p[i] >= 0x80)
					return false;
	}
	return true;
}

/* Subtrees of NameConstraints: sets has_nc / *unhandled by the forms. */
static bool scan_subtrees(struct certname_der trees, struct certinfo *ci,
			  bool *unhandled)
{
	struct certname_der sub, base;
	unsigned char tag;

	while (trees.len > 0) {
		if (!der_sequence(&trees, &sub) || !der_next(&sub, &tag, &base))
			return false;
		if (tag == 0x81 || tag == 0x82 || tag == 0x86 || tag == 0x87)
			ci->has_nc = true;
		else
			*unhandled = true;
		if (tag == 0x87 && base.len != 8 && base.len != 32)
			return false;
	}
	return true;
}

static bool read_name_constraints(struct certname_der v, struct certinfo *ci,
				  bool *unhandled)
{
	struct certname_der seq, trees;
	unsigned char tag;

	ci->nc = v;
	if (!der_sequence(&v, &seq) || v.len != 0)
		return false;
	/* Go: an optional [0], an optional [1], nothing else, not empty */
	bool some = false;
	unsigned char next = 0xa0;
	while (seq.len > 0) {
		if (!der_next(&seq, &tag, &trees) || (tag != 0xa0 && tag != 0xa1) ||
		    tag < next)
			return false;
		next = tag + 1;
		some = some || trees.len > 0;
		if (!scan_subtrees(trees, ci, unhandled))
			return false;
	}
	return some;
}

/* One Extension: the ones Go's parser handles, and criticality. */
static bool read_extension(struct certname_der ext, struct certinfo *ci)
{
	static const unsigned char aia[] = {0x2b, 6, 1, 5, 5, 7, 1, 1};
	struct certname_der oid, v;
	unsigned char tag;
	bool critical = false, unhandled = false, ok = true;

	if (!der_next(&ext, &tag, &oid) || tag != 0x06 ||
	    !der_next(&ext, &tag, &v))
		return false;
	if (tag == 0x01) {
		if (!read_boolean(v, &critical) || !der_next(&ext, &tag, &v))
			return false;
	}
	if (tag != 0x04 || ext.len != 0)
		return false;
	if (oid.len == 3 && oid.p[0] == 0x55 && oid.p[1] == 0x1d) {
		switch (oid.p[2]) {
		case 19: ok = read_basic_constraints(v, ci); break;
		case 37: ok = read_eku(v, ci); break;
		case 17:
			ci->has_san = true;
			ci->san = v;
			unhandled = !san_names_something(v);
			ok = san_parses(v);
			break;
		case 30: ok = read_name_constraints(v, ci, &unhandled); break;
		case 15: ok = read_key_usage(v, ci); break;
		case 14: case 31: case 32: case 35: break;
		default: unhandled = true;
		}
	} else if (!oid_is(oid, aia, sizeof(aia))) {
		unhandled = true;
	}
	if (unhandled && critical)
		ci->unhandled = true;
	if (critical && oid.len == 3 && oid.p[0] == 0x55 && oid.p[1] == 0x1d &&
	    (oid.p[2] == 30 || oid.p[2] == 37))
		ci->critical_nc_eku = true;
	return ok;
}

static bool read_extensions(struct certname_der exts, struct certinfo *ci)
{
	struct certname_der list, ext;

	if (!der_sequence(&exts, &list) || exts.len != 0)
		return false;
	while (list.len > 0) {
		struct certname_der rest, other, oid, o2;
		unsigned char tag;

		if (!der_sequence(&list, &ext) || !read_extension(ext, ci))
			return false;
		/* Go refuses a certificate with an extension twice. */
		if (!der_next(&ext, &tag, &oid))
			return false;
		rest = list;
		while (rest.len > 0) {
			if (!der_sequence(&rest, &other))
				return false;
			if (der_next(&other, &tag, &o2) && oid_is(o2, oid.p, oid.len))
				return false;
		}
	}
	return true;
}

bool certinfo_read(const unsigned char *der, size_t len, struct certinfo *ci)
{
	struct certname_der d = {der, len}, cert, tbs, v, validity, outer_alg;
	unsigned char tag;

	memset(ci, 0, sizeof(*ci));
	ci->path_len = -1;
	ci->version = 1;
	if (!der_sequence(&d, &cert))
		return false;
	ci->tbs.p = cert.p;
	if (!der_sequence(&cert, &tbs))
		return false;
	ci->tbs.len = (size_t)(cert.p - ci->tbs.p);
	outer_alg.p = cert.p;
	if (!der_sequence(&cert, &v) || !der_next(&v, &tag, &ci->sig_alg) ||
	    tag != 0x06 || !der_next(&cert, &tag, &ci->sig) || tag != 0x03 ||
	    ci->sig.len < 1 || ci->sig.p[0] != 0 || cert.len != 0)
		return false;
	outer_alg.len = (size_t)(v.p + v.len - outer_alg.p);
	ci->sig.p++;
	ci->sig.len--;
	if (tbs.len > 0 && tbs.p[0] == 0xa0) {
		struct certname_der n;
		if (!der_next(&tbs, &tag, &v) || !der_next(&v, &tag, &n) ||
		    tag != 0x02 || n.len != 1 || n.p[0] > 2)
			return false;
		ci->version = n.p[0] + 1;
	}
	/* serial, signature algorithm (Go: the outer one, byte for byte) */
	{
		const unsigned char *alg = NULL;
		size_t alg_len = 0;
		if (!der_next(&tbs, &tag, &v) || tag != 0x02)
			return false;
		alg = tbs.p;
		if (!der_sequence(&tbs, &v))
			return false;
		alg_len = (size_t)(tbs.p - alg);
		if (alg_len != outer_alg.len ||
		    memcmp(alg, outer_alg.p, alg_len) != 0)
			return false;
	}
	ci->issuer.p = tbs.p;
	if (!der_sequence(&tbs, &v))
		return false;
	ci->issuer.len = (size_t)(tbs.p - ci->issuer.p);
	if (!der_sequence(&tbs, &validity) ||
	    !read_time(&validity, &ci->not_before) ||
	    !read_time(&validity, &ci->not_after) || validity.len != 0)
		return false;
	ci->subject.p = tbs.p;
	if (!der_sequence(&tbs, &v))
		return false;
	ci->subject.len = (size_t)(tbs.p - ci->subject.p);
	if (!der_sequence(&tbs, &v)) /* subjectPublicKeyInfo */
		return false;
	while (tbs.len > 0) {
		if (!der_next(&tbs, &tag, &v))
			return false;
		if (tag == 0xa3)
			return read_extensions(v, ci);
	}
	return true;
}

/* ---- name constraints, as Go 1.19's verify.go applies them */

/* Go's domainToReverseLabels: labels of printable ASCII, none empty. */
static bool domain_ok(const char *s, size_t n)
{
	size_t label = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (s[i] < 33 || s[i] > 126) {
			return false;
		} else {
			label++;
		}
	}
	return n == 0 || label > 0;
}

/* Go's matchDomainConstraint: the constraint's labels end the domain's. */
static bool domain_within(const char *dom, size_t dn, const char *c, size_t cn)
{
	bool subdomains_only = cn > 0 && c[0] == '.';

	if (subdomains_only) {
		c++;
		cn--;
	}
	if (cn == 0)
		return !subdomains_only || dn > 0;
	if (dn < cn || !same_name(dom + dn - cn, cn, c, cn))
		return false;
	if (dn == cn)
		return !subdomains_only;
	return dom[dn - cn - 1] == '.';
}

static bool ip_within(struct certname_der ip, struct certname_der net)
{
	if (ip.len * 2 != net.len)
		return false;
	/* Go's matchIPConstraint masks both: the constraint's address may
	 * have bits outside its mask (127.0.0.1/8 holds 127.5.5.5). */
	for (size_t i = 0; i < ip.len; i++)
		if ((ip.p[i] & net.p[ip.len + i]) !=
		    (net.p[i] & net.p[ip.len + i]))
			return false;
	return true;
}

/* Go rejects a mask that is not ones then zeros. */
static bool mask_ok(struct certname_der net)
{
	bool zero = false;

	for (size_t i = net.len / 2; i < net.len; i++)
		for (int b = 7; b >= 0; b--) {
			bool one = net.p[i] >> b & 1;
			if (one && zero)
				return false;
			zero = zero || !one;
		}
	return true;
}

/*
 * One leaf name (tag 0x82 or 0x87) against one subtree list: *kind set
 * when the list holds subtrees of that kind, *hit when one holds the
 * name. False when a constraint is one Go refuses to parse.
 */
static bool subtrees_hold(struct certname_der trees, unsigned char want,
			  struct certname_der name, bool *kind, bool *hit)
{
	struct certname_der sub, base;
	unsigned char tag;

	*kind = *hit = false;
	while (trees.len > 0) {
		if (!der_sequence(&trees, &sub) || !der_next(&sub, &tag, &base))
			return false;
		if (tag == 0x82) {
			size_t n = base.len;
			const char *s = (const char *)base.p;
			if (!domain_ok(n && s[0] == '.' ? s + 1 : s,
				       n && s[0] == '.' ? n - 1 : n))
				return false;
		}
		if (tag == 0x87 && !mask_ok(base))
			return false;
		if (tag != want)
			continue;
		*kind = true;
		if (want == 0x82 ? domain_within((const char *)name.p, name.len,
						 (const char *)base.p, base.len)
				 : ip_within(name, base))
			*hit = true;
	}
	return true;
}

/* One leaf name against the CA's permitted [0] and excluded [1] lists. */
static bool name_allowed(struct certname_der nc, unsigned char want, struct certname_der name)
{
	struct certname_der seq, trees;
	unsigned char tag;
	bool permitted_kind = false, permitted_hit = false, kind, hit;

	if (!der_sequence(&nc, &seq))
		return false;
	while (seq.len > 0) {
		if (!der_next(&seq, &tag, &trees) ||
		    !subtrees_hold(trees, want, name, &kind, &hit))
			return false;
		if (tag == 0xa1 && hit)
			return false;
		if (tag == 0xa0) {
			permitted_kind = permitted_kind || kind;
			permitted_hit = permitted_hit || hit;
		}
	}
	return !permitted_kind || permitted_hit;
}

/* Does the CA constrain names of this form (email 0x81, URI 0x86)? */
static bool constrains(struct certname_der nc, unsigned char form)
{
	struct certname_der seq, trees, sub, base;
	unsigned char tag;

	if (!der_sequence(&nc, &seq))
		return true;
	while (seq.len > 0 && der_next(&seq, &tag, &trees))
		while (trees.len > 0 && der_sequence(&trees, &sub) &&
		       der_next(&sub, &tag, &base))
			if (tag == form)
				return true;
	return false;
}

bool certname_constraints_allow(const struct certinfo *ca,
				const struct certinfo *leaf)
{
	struct certname_der names, seq, v;
	unsigned char tag;

	/* Go checks the names under any NameConstraints (bad dNSNames fail) */
	if (ca->nc.p == NULL || !leaf->has_san)
		return true;
	names = leaf->san;
	if (!der_sequence(&names, &seq))
		return false;
	while (seq.len > 0) {
		if (!der_next(&seq, &tag, &v))
			return false;
		if (tag == 0x82 && !domain_ok((const char *)v.p, v.len))
			return false;
		if (tag == 0x87 && v.len != 4 && v.len != 16)
			return false;
		if ((tag == 0x82 || tag == 0x87) && !name_allowed(ca->nc, tag, v))
			return false;
		if ((tag == 0x81 || tag == 0x86) && constrains(ca->nc, tag))
			return false;
	}
	return true;
}
