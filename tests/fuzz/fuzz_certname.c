/*
 * The subjectAltName walk over any bytes as a certificate (what a server
 * sends is checked by BearSSL's chain validation only after this runs on
 * nothing it has not parsed too, but the walk must hold on its own): no
 * read outside the input, and the same answer for the same bytes given in
 * an exact-size copy (ASan catches a read past it).
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
	free(copy);
	return 0;
}
