/*
 * Where the Kubernetes API is and who we are to it: the server URL and
 * the pod's ServiceAccount files (token, ca.crt, namespace).
 */
#ifndef APPROVE_STEP_KUBE_H
#define APPROVE_STEP_KUBE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define KUBE_CREDENTIALS_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* Bound ServiceAccount tokens are ~1 KiB; OIDC ones a few. */
#define KUBE_TOKEN_MAX 6144
#define KUBE_CA_MAX (256 * 1024)

struct kube_url {
	char host[254];	    /* a DNS name, or an address without brackets */
	char port[6];	    /* for getaddrinfo and hostport */
	uint16_t port_num;
	char hostport[264]; /* for Host: and logs, IPv6 in brackets */
	bool is_ip;
	int family;	    /* AF_INET or AF_INET6 when is_ip */
	unsigned char ip[16];
	size_t ip_len;
};

/*
 * https://HOST[:PORT] (port default 443), HOST an IPv4 address, an IPv6
 * address in brackets or a DNS name; no userinfo, path, query or fragment.
 */
bool kube_url_parse(const char *url, struct kube_url *u);

/*
 * https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT; false with
 * the reason in cause when the variables are missing or bad.
 */
bool kube_url_from_env(struct kube_url *u, char *cause, size_t causesz);

/*
 * Reads DIR/NAME whole (at most max bytes) into a malloc'ed,
 * NUL-terminated buffer; false with the reason (naming the path) in cause.
 */
bool kube_read_file(const char *dir, const char *name, size_t max,
		    char **data, size_t *len, char *cause, size_t causesz);

/* Reads DIR/token, trimmed of white space; false with the reason. */
bool kube_read_token(const char *dir, char *out, size_t outsz, char *cause,
		     size_t causesz);

#endif
