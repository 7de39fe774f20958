/*
 * The certificate walk over any bytes as a certificate: the
 * subjectAltName match, and what Go's Verify reads (certinfo_read: EKU,
 * basic constraints, key usage, name constraints, criticality, the signed
 * bytes) with the name constraint check. What a server sends reaches it
 * before or without BearSSL's own parse, so the walk must hold on its
 * own: no read outside the input, every slice it returns inside it, and
 * the same answer for the same bytes given in an exact-size copy (ASan
 * catches a read past it).
 */
#include "certname.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char ip4[] = {127, 0, 0, 1};
	static const unsigned char ip6[16] = {[15] = 1};
	unsigned char *copy = malloc(size ? size : 1);
	bool a, b, c;

	memcpy(copy, data, size);
	a = certname_matches(copy, size, NULL, ip4, 4);
	b = certname_matches(copy, size, NULL, ip6, 16);
	c = certname_matches(copy, size, "api.example.com", NULL, 0);
	CHECK(a == certname_matches(copy, size, NULL, ip4, 4));
	CHECK(b == certname_matches(copy, size, NULL, ip6, 16));
	CHECK(c == certname_matches(copy, size, "api.example.com", NULL, 0));
	/* Nothing matches a bad request, whatever the certificate. */
	CHECK(!certname_matches(copy, size, NULL, ip4, 5));
	CHECK(!certname_matches(copy, size, "x", ip4, 4));
	/* The walk Go's checks stand on: its slices lie inside the input,
	 * and the bytes as CA and as leaf of the name constraint check. */
	{
		struct certinfo ci, again;
		if (certinfo_read(copy, size, &ci)) {
			const struct certname_der *s[] = {&ci.issuer, &ci.subject,
							  &ci.san, &ci.nc};
			CHECK(certinfo_read(copy, size, &again));
			CHECK(again.eku_forbids == ci.eku_forbids &&
			      again.unhandled == ci.unhandled &&
			      again.path_len == ci.path_len);
			for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
				CHECK(s[i]->len == 0 ||
				      (s[i]->p >= copy &&
				       s[i]->len <= size - (size_t)(s[i]->p - copy)));
			CHECK(certname_constraints_allow(&ci, &ci) ==
			      certname_constraints_allow(&ci, &again));
			CHECK(ci.version >= 1 && ci.version <= 3);
		}
	}
	free(copy);
	return 0;
}
