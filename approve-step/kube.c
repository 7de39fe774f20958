#define _DEFAULT_SOURCE /* explicit_bzero: a wipe the compiler keeps */
#include "kube.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static bool dns_host(const char *s, size_t n)
{
	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static bool parse_port(const char *s, size_t n, struct kube_url *u)
{
	long v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	u->port_num = (uint16_t)v;
	snprintf(u->port, sizeof(u->port), "%ld", v);
	return true;
}

/* Sets the host and, for an address, its bytes. */
static bool set_host(struct kube_url *u, const char *s, size_t n, bool v6)
{
	if (n >= sizeof(u->host))
		return false;
	memcpy(u->host, s, n);
	u->host[n] = '\0';
	if (v6) {
		u->is_ip = inet_pton(AF_INET6, u->host, u->ip) == 1;
		u->family = AF_INET6;
		u->ip_len = 16;
		return u->is_ip;
	}
	if (inet_pton(AF_INET, u->host, u->ip) == 1) {
		u->is_ip = true;
		u->family = AF_INET;
		u->ip_len = 4;
		return true;
	}
	/* All digits and dots but no address: a typo, not a name. */
	if (strspn(u->host, "0123456789.") == n)
		return false;
	return dns_host(s, n);
}

bool kube_url_parse(const char *url, struct kube_url *u)
{
	const char *p = url, *host, *end;
	size_t hlen;
	bool v6 = false;

	memset(u, 0, sizeof(*u));
	if (strncmp(p, "https://", 8) != 0)
		return false;
	host = p += 8;
	if (*p == '[') {
		end = strchr(p, ']');
		if (end == NULL)
			return false;
		host = p + 1;
		hlen = (size_t)(end - host);
		p = end + 1;
		v6 = true;
	} else {
		hlen = strcspn(p, ":/?#@");
		p += hlen;
	}
	if (!set_host(u, host, hlen, v6))
		return false;
	if (*p == ':') {
		size_t n = strcspn(++p, "/?#@");
		if (!parse_port(p, n, u))
			return false;
		p += n;
	} else {
		strcpy(u->port, "443");
		u->port_num = 443;
	}
	if (strcmp(p, "") != 0 && strcmp(p, "/") != 0)
		return false; /* a path, query, fragment or userinfo */
	snprintf(u->hostport, sizeof(u->hostport), "%s%s%s:%s", v6 ? "[" : "",
		 u->host, v6 ? "]" : "", u->port);
	return true;
}

bool kube_url_from_env(struct kube_url *u, char *cause, size_t causesz)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char url[320];

	if (host == NULL || *host == '\0' || port == NULL || *port == '\0') {
		snprintf(cause, causesz, "KUBERNETES_SERVICE_HOST and "
			 "KUBERNETES_SERVICE_PORT are not set: not in a pod");
		return false;
	}
	/* The variable holds a bare IPv6 address: bracket it. */
	snprintf(url, sizeof(url), strchr(host, ':') ? "https://[%s]:%s"
						      : "https://%s:%s",
		 host, port);
	if (strlen(host) > 253 || strlen(port) > 5 || !kube_url_parse(url, u)) {
		snprintf(cause, causesz, "KUBERNETES_SERVICE_HOST and "
			 "KUBERNETES_SERVICE_PORT do not make a valid "
			 "https://HOST:PORT");
		return false;
	}
	return true;
}

static bool read_fd(int fd, char *buf, size_t max, size_t *len)
{
	*len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + *len, max + 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		if (n == 0)
			return true;
		*len += (size_t)n;
		if (*len > max) {
			errno = EFBIG;
			return false;
		}
	}
}

bool kube_read_file(const char *dir, const char *name, size_t max,
		    char **data, size_t *len, char *cause, size_t causesz)
{
	char path[4096];
	struct stat st;
	int fd;
	char *buf;

	*data = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(cause, causesz, "cannot read %s: %s", path,
			 strerror(errno));
		return false;
	}
	buf = malloc(max + 2);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || buf == NULL ||
	    !read_fd(fd, buf, max, len)) {
		snprintf(cause, causesz, "cannot read %s: %s", path,
			 buf == NULL		    ? "out of memory"
			 : errno == EFBIG	    ? "too large"
			 : S_ISREG(st.st_mode) ? strerror(errno)
					       : "not a regular file");
		free(buf);
		close(fd);
		return false;
	}
	close(fd);
	buf[*len] = '\0';
	*data = buf;
	return true;
}

bool kube_read_token(const char *dir, char *out, size_t outsz, char *cause,
		     size_t causesz)
{
	char *data, *s, *e;
	size_t len, read_len;

	if (!kube_read_file(dir, "token", KUBE_TOKEN_MAX, &data, &len, cause,
			    causesz))
		return false;
	read_len = len;
	for (s = data; *s == ' ' || *s == '\n' || *s == '\r' || *s == '\t';)
		s++;
	for (e = data + len; e > s && (e[-1] == ' ' || e[-1] == '\n' ||
				       e[-1] == '\r' || e[-1] == '\t');)
		e--;
	len = (size_t)(e - s);
	/* What goes into a header line: visible ASCII only, and something. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			len = 0;
	if (len == 0 || len >= outsz) {
		snprintf(cause, causesz, "%s/token is %s", dir,
			 len == 0 ? "empty or not a token" : "too long");
		explicit_bzero(data, read_len);
		free(data);
		return false;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	explicit_bzero(data, read_len); /* no copy of the token left in the heap */
	free(data);
	return true;
}
