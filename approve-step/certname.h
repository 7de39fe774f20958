/*
 * Does a server certificate name the host we connected to? BearSSL's
 * X.509 engine matches DNS names only, and the in-cluster API server is
 * reached by IP, so the subjectAltName extension is read here with a
 * small bounded DER walk (the chain itself is verified by BearSSL).
 */
#ifndef APPROVE_STEP_CERTNAME_H
#define APPROVE_STEP_CERTNAME_H

#include <stdbool.h>
#include <stddef.h>

/* Every conformant cluster's API server certificate carries this name. */
#define CERTNAME_CLUSTER_DNS "kubernetes.default.svc"

/*
 * True when the DER certificate's subjectAltName has, for an IP host
 * (ip_len 4 or 16), an iPAddress equal to ip or the dNSName
 * CERTNAME_CLUSTER_DNS; for a DNS host (dns non-NULL), a dNSName equal to
 * it (any case; "*." matches one whole leftmost label). The subject's
 * common name is never used. False for anything malformed.
 */
bool certname_matches(const unsigned char *der, size_t len, const char *dns,
		      const unsigned char *ip, size_t ip_len);

#endif
