/*
 * What client-go's verifier (Go's crypto/x509 Certificate.Verify with the
 * default KeyUsages, ServerAuth) requires of each certificate of a chain,
 * beyond the signatures and the chaining of names that BearSSL checks: read
 * here with a small bounded DER walk of the certificate's TBS.
 */
#ifndef APPROVE_STEP_CERTNAME_H
#define APPROVE_STEP_CERTNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * True when the DER certificate's subjectAltName has, for an IP host
 * (ip_len 4 or 16), an iPAddress equal to ip (an IPv4 address equals its
 * IPv4-mapped IPv6 form, as Go's net.IP.Equal has it); for a DNS host (dns
 * non-NULL), a dNSName equal to it (any case; "*." matches one whole
 * leftmost label). A dNSName never names an IP host and the subject's
 * common name is never used, as in Go. False for anything malformed.
 */
bool certname_matches(const unsigned char *der, size_t len, const char *dns,
		      const unsigned char *ip, size_t ip_len);

/* A slice of DER. */
struct certname_der {
	const unsigned char *p;
	size_t len;
};

/* What Go's Verify reads from one certificate (pointers into its DER). */
struct certinfo {
	struct certname_der issuer, subject; /* whole Names, with header */
	int64_t not_before, not_after;	     /* seconds since the epoch */
	int version;	     /* 1, 2 or 3 */
	bool bc_present;     /* a basicConstraints extension */
	bool ca_valid;	     /* basicConstraints present with cA TRUE */
	bool ku_present;     /* a keyUsage extension with some bit set */
	bool ku_cert_sign;   /* keyCertSign among them */
	int path_len;	     /* pathLenConstraint, -1 when none */
	bool eku_forbids;    /* an EKU listing purposes, none serverAuth/any */
	bool unhandled;	     /* a critical extension Go does not handle */
	bool has_san;	     /* a subjectAltName extension */
	struct certname_der san; /* its GeneralNames */
	bool has_nc;	     /* name constraints of a form Go enforces */
	struct certname_der nc; /* the NameConstraints SEQUENCE */
	bool critical_nc_eku; /* critical nameConstraints or extKeyUsage */
	struct certname_der tbs; /* the signed bytes, with header */
	struct certname_der sig_alg; /* the signature algorithm's OID */
	struct certname_der sig; /* the signature, without the unused-bits byte */
};

/* Reads der into ci; false when it is not a certificate Go would parse. */
bool certinfo_read(const unsigned char *der, size_t len, struct certinfo *ci);

/*
 * Go's name constraint check of the CA ca against the leaf's
 * subjectAltNames (Go 1.19): every dNSName and iPAddress must be outside
 * every excluded subtree and, where subtrees of its kind are permitted,
 * inside one. A leaf without subjectAltName passes. Stricter than Go in one
 * way: a leaf's email or URI name under constraints of that kind fails.
 */
bool certname_constraints_allow(const struct certinfo *ca,
				const struct certinfo *leaf);

#endif
