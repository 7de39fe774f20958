#define _GNU_SOURCE /* getrandom, TCP keepalive options */
#include "apiwatch.h"

#include "configmap.h"
#include "log.h"
#include "seen.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef APPROVE_STEP_VERSION
#define APPROVE_STEP_VERSION "unknown"
#endif

/* Time given to the last of a watch's events after its timeoutSeconds. */
#define RENEW_GRACE_MS 30000

/* xorshift64*: jitter only, seeded from getrandom. */
static uint64_t next_random(struct apiwatch *a)
{
	a->rng ^= a->rng >> 12;
	a->rng ^= a->rng << 25;
	a->rng ^= a->rng >> 27;
	return a->rng * 0x2545f4914f6cdd1dULL;
}

static void close_connection(struct apiwatch *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	a->events = 0;
	lines_reset(&a->lines);
	a->head_len = 0;
}

/* Where the next attempt lies: now, but never within a second of the last. */
static void schedule(struct apiwatch *a, int64_t now, int64_t delay)
{
	int64_t earliest = a->last_attempt + APIWATCH_ATTEMPT_MIN_MS;

	a->retry_at = now + delay > earliest ? now + delay : earliest;
	a->state = APIWATCH_IDLE;
	a->deadline = -1;
}

/* Capped exponential backoff with jitter: 1s, 2s, 4s ... 30s, each 50-100%. */
static int64_t backoff(struct apiwatch *a)
{
	unsigned shift = a->failures < 6 ? a->failures : 6;
	int64_t full = (int64_t)APIWATCH_ATTEMPT_MIN_MS << shift;

	if (full > APIWATCH_BACKOFF_MAX_MS)
		full = APIWATCH_BACKOFF_MAX_MS;
	return full / 2 + (int64_t)(next_random(a) % (uint64_t)(full / 2 + 1));
}

/*
 * A failed attempt. Before the first watch the API is unusable (the caller
 * falls back or exits); after it, log the cause once and retry later.
 */
static enum apiwatch_event fail(struct apiwatch *a, int64_t now,
				const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum apiwatch_event fail(struct apiwatch *a, int64_t now,
				const char *fix, const char *fmt, ...)
{
	va_list ap;
	int64_t delay;
	uint64_t cause;

	va_start(ap, fmt);
	vsnprintf(a->cause, sizeof(a->cause), fmt, ap);
	va_end(ap);
	snprintf(a->fix, sizeof(a->fix), "%s", fix);
	close_connection(a);
	if (!a->started) {
		a->unusable = true;
		a->state = APIWATCH_IDLE;
		a->retry_at = a->deadline = -1;
		return APIWATCH_UNUSABLE;
	}
	delay = backoff(a);
	a->failures++;
	schedule(a, now, delay);
	cause = seen_fingerprint(0, a->cause, strlen(a->cause));
	if (cause != a->logged_cause) {
		a->logged_cause = cause;
		log_warn("lost the watch of configmap %s/%s through the API "
			 "(%s); retrying, at most once a second",
			 a->ns, a->name, a->cause);
	}
	a->retrying = true;
	return APIWATCH_NOTHING;
}

static const char *http_fix(const struct apiwatch *a, int status, char *buf,
			    size_t bufsz)
{
	if (status == 401)
		snprintf(buf, bufsz, "check that the pod's ServiceAccount "
			 "token in %s/token is mounted and current",
			 a->credentials);
	else if (status == 403)
		snprintf(buf, bufsz, "grant get, list and watch on configmaps "
			 "named %s in %s (see examples/api-watch/)",
			 a->name, a->ns);
	else
		snprintf(buf, bufsz, "check --api-server (%s)", a->url.hostport);
	return buf;
}

static const char *status_text(int status)
{
	switch (status) {
	case 401:
		return "401 Unauthorized";
	case 403:
		return "403 Forbidden";
	case 404:
		return "404 not found";
	}
	return status >= 300 && status < 400 ? "a redirect, not followed"
					      : "an unexpected answer";
}

/* The request path: list, or watch from the last resourceVersion. */
static bool request_path(struct apiwatch *a, char *out, size_t outsz)
{
	int n;

	if (!a->watching)
		n = snprintf(out, outsz, "/api/v1/namespaces/%s/configmaps?"
			     "fieldSelector=metadata.name%%3D%s",
			     a->ns, a->name);
	else
		n = snprintf(out, outsz, "/api/v1/namespaces/%s/configmaps?"
			     "fieldSelector=metadata.name%%3D%s&watch=1&"
			     "resourceVersion=%s&allowWatchBookmarks=true&"
			     "timeoutSeconds=%u",
			     a->ns, a->name, a->rv, a->timeout_s);
	return n > 0 && (size_t)n < outsz;
}

/* The server's address: the URL's IP, or its DNS name resolved. */
static bool server_address(const struct apiwatch *a,
			   struct sockaddr_storage *ss, socklen_t *len,
			   char *err, size_t errsz)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	uint16_t port = a->url.port_num;
	int rc;

	memset(ss, 0, sizeof(*ss));
	if (a->url.is_ip && a->url.family == AF_INET) {
		struct sockaddr_in *in4 = (void *)ss;
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		memcpy(&in4->sin_addr, a->url.ip, 4);
		*len = sizeof(*in4);
		return true;
	}
	if (a->url.is_ip) {
		struct sockaddr_in6 *in6 = (void *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, a->url.ip, 16);
		*len = sizeof(*in6);
		return true;
	}
	/* A name: the resolver blocks; in a pod the server is an IP. */
	rc = getaddrinfo(a->url.host, a->url.port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errsz, "cannot resolve %s: %s", a->url.host,
			 gai_strerror(rc));
		return false;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

/* Opens a nonblocking socket and starts connecting to the server. */
static bool start_connect(struct apiwatch *a, char *err, size_t errsz)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int one = 1, idle = 120, intvl = 30, cnt = 4;

	if (!server_address(a, &ss, &sslen, err, errsz))
		return false;
	a->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (a->fd < 0) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return false;
	}
	/* A server gone without a word is noticed by the kernel, not a timer. */
	setsockopt(a->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(a->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(a->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(a->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(a->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(a->fd, (struct sockaddr *)&ss, sslen) < 0 &&
	    errno != EINPROGRESS && errno != EINTR) {
		snprintf(err, errsz, "connect to %s: %s", a->url.hostport,
			 strerror(errno));
		return false;
	}
	return true;
}

/* One connection: the token (re-read every time), a request, a connect. */
static enum apiwatch_event attempt(struct apiwatch *a, int64_t now)
{
	char token[KUBE_TOKEN_MAX + 1], path[1024], err[APIWATCH_CAUSE_MAX];
	char request[TLS_OUT_MAX];
	size_t len;

	a->last_attempt = now;
	if (a->watching)
		a->timeout_s = APIWATCH_RENEW_MIN_S +
			       (unsigned)(next_random(a) %
					  (APIWATCH_RENEW_MAX_S -
					   APIWATCH_RENEW_MIN_S + 1));
	if (!kube_read_token(a->credentials, token, sizeof(token), err,
			     sizeof(err)))
		return fail(a, now, "mount the pod's ServiceAccount token "
			    "(automountServiceAccountToken: true) or give "
			    "--api-credentials", "%s", err);
	len = request_path(a, path, sizeof(path))
		      ? http_request(request, sizeof(request),
				     a->url.hostport, path, token,
				     "approve-step/" APPROVE_STEP_VERSION)
		      : 0;
	explicit_bzero(token, sizeof(token));
	if (len == 0)
		return fail(a, now, "check the token file", "the request "
			    "does not fit in %d bytes", TLS_OUT_MAX);
	tls_start(&a->tls, &a->ca, a->url.is_ip ? NULL : a->url.host,
		  a->url.ip, a->url.ip_len);
	tls_queue(&a->tls, request, len);
	explicit_bzero(request, sizeof(request));
	chunked_init(&a->chunked);
	a->head_len = 0;
	if (!start_connect(a, err, sizeof(err)))
		return fail(a, now, "check --api-server and the network "
			    "policy", "%s", err);
	a->state = APIWATCH_CONNECT;
	a->events = POLLOUT;
	a->deadline = now + APIWATCH_CONNECT_MS;
	return APIWATCH_NOTHING;
}

/* Hands a new state of the object (NULL: deleted) to the caller. */
static bool changed(struct apiwatch *a, const cJSON *object,
		    const cJSON *shadow)
{
	struct configmap cm = {object, object ? shadow : NULL};

	return a->on_change(a->arg, &cm);
}

static bool copy_rv(struct apiwatch *a, const cJSON *object)
{
	const char *rv = configmap_resource_version(object);

	if (rv == NULL || strlen(rv) >= sizeof(a->rv) ||
	    strspn(rv, "0123456789") != strlen(rv) || *rv == '\0')
		return false;
	strcpy(a->rv, rv);
	return true;
}

/* The list's answer: the object (or none) and the version to watch from. */
static enum apiwatch_event on_list(struct apiwatch *a, int64_t now)
{
	struct configmap_json j = {0};
	const cJSON *object = NULL;
	enum apiwatch_event ev = APIWATCH_NOTHING;

	if (a->lines.buf != NULL &&
	    configmap_parse(&j, a->lines.buf, a->lines.len))
		object = configmap_list_item(j.root, a->name);
	if (j.root == NULL || !copy_rv(a, j.root) ||
	    !configmap_is_list(j.root)) {
		configmap_free(&j);
		return fail(a, now, "check --api-server: is it a Kubernetes "
			    "API server?", "the list of configmaps is not "
			    "a ConfigMapList");
	}
	if (object == NULL && !a->started) {
		configmap_free(&j);
		return fail(a, now, "create it, or check --configmap and "
			    "--namespace", "configmap %s/%s not found",
			    a->ns, a->name);
	}
	if (object == NULL)
		log_info("configmap %s/%s does not exist: pending (through "
			 "the API)", a->ns, a->name);
	if (changed(a, object, configmap_list_item(j.shadow, a->name)))
		ev = APIWATCH_DECIDED;
	configmap_free(&j);
	close_connection(a);
	if (ev == APIWATCH_NOTHING) {
		a->watching = true;
		return attempt(a, now);
	}
	return ev;
}

struct event_ctx {
	struct apiwatch *a;
	bool decided, relist, broken;
};

/* One line of the watch stream: {"type": ..., "object": {...}}. */
static bool on_event_line(void *arg, char *line, size_t len)
{
	struct event_ctx *c = arg;
	struct apiwatch *a = c->a;
	struct configmap_json j;
	const cJSON *object = NULL, *shadow = NULL;
	const char *type = NULL;

	if (len == 0)
		return true;
	if (configmap_parse(&j, line, len)) {
		type = configmap_event(j.root, &object);
		configmap_event(j.shadow, &shadow);
	}
	if (type == NULL) {
		if (!a->warned_bad_event)
			log_warn("skipped a malformed watch event for "
				 "configmap %s/%s", a->ns, a->name);
		a->warned_bad_event = true;
	} else if (strcmp(type, "ERROR") == 0) {
		c->relist = configmap_status_code(object) == 410;
		c->broken = !c->relist;
	} else if (strcmp(type, "BOOKMARK") == 0) {
		copy_rv(a, object);
	} else if (strcmp(type, "DELETED") == 0) {
		copy_rv(a, object);
		log_info("configmap %s/%s was deleted: pending (through the "
			 "API)", a->ns, a->name);
		c->decided = changed(a, NULL, NULL);
	} else if ((strcmp(type, "ADDED") == 0 ||
		    strcmp(type, "MODIFIED") == 0) &&
		   configmap_is_named(object, a->name)) {
		copy_rv(a, object);
		c->decided = changed(a, object, shadow);
	}
	configmap_free(&j);
	return !c->decided && !c->relist && !c->broken;
}

/* Bytes of the answer's body. */
static enum apiwatch_event on_body(struct apiwatch *a, char *data, size_t n,
				   int64_t now)
{
	struct event_ctx c = {.a = a};
	enum lines_result r;
	bool done = false;

	if (a->answer.chunked) {
		n = chunked_decode(&a->chunked, data, n);
		if (a->chunked.state == CHUNK_ERROR)
			return fail(a, now, "check --api-server",
				    "malformed chunked encoding");
		done = a->chunked.state == CHUNK_DONE;
	} else if (a->body_left >= 0) {
		if ((int64_t)n > a->body_left)
			n = (size_t)a->body_left;
		a->body_left -= (int64_t)n;
		done = a->body_left == 0;
	}
	if (!a->watching) {
		r = lines_append(&a->lines, data, n);
		if (r == LINES_OK)
			return done ? on_list(a, now) : APIWATCH_NOTHING;
	} else {
		r = lines_feed(&a->lines, data, n, on_event_line, &c);
	}
	if (r == LINES_TOO_LONG || r == LINES_NOMEM)
		return fail(a, now,
			    "no ConfigMap the API server stores is that large: "
			    "check --api-server",
			    "an event larger than %d bytes", HTTP_LINE_MAX);
	if (c.decided)
		return APIWATCH_DECIDED;
	if (c.relist || c.broken || done) {
		/* 410 Gone: history expired, list again. Else: watch again. */
		close_connection(a);
		if (c.broken)
			return fail(a, now, "", "the watch reported an error");
		a->watching = !c.relist;
		schedule(a, now, 0);
	}
	return APIWATCH_NOTHING;
}

/* The answer's head has arrived: what does its status say? */
static enum apiwatch_event on_head(struct apiwatch *a, int64_t now)
{
	int status = a->answer.status;
	char fix[APIWATCH_CAUSE_MAX];

	if (status == 410 && a->watching) {
		close_connection(a);
		a->watching = false;
		schedule(a, now, 0);
		return APIWATCH_NOTHING;
	}
	if (status != 200)
		return fail(a, now, http_fix(a, status, fix, sizeof(fix)),
			    "%s (HTTP %d)", status_text(status), status);
	a->state = APIWATCH_BODY;
	a->body_left = a->answer.content_length;
	if (a->watching) {
		a->deadline = now + (int64_t)a->timeout_s * 1000 + RENEW_GRACE_MS;
		a->failures = 0;
		if (!a->started || a->retrying)
			log_info("watching configmap %s/%s through the API at "
				 "https://%s%s",
				 a->ns, a->name, a->url.hostport,
				 a->started ? " again" : "");
		a->started = true;
		a->retrying = false;
		a->logged_cause = 0;
	}
	return APIWATCH_NOTHING;
}

/* Application bytes from the server: the head first, then the body. */
static enum apiwatch_event on_data(struct apiwatch *a, int64_t now)
{
	size_t len, used, take;
	char *data = (char *)tls_data(&a->tls, &len);
	enum apiwatch_event ev;

	if (a->state == APIWATCH_BODY) {
		/* Decoding works in place, in the engine's own buffer. */
		tls_consume(&a->tls, len);
		return on_body(a, data, len, now);
	}
	take = len < sizeof(a->head) - a->head_len ? len
						   : sizeof(a->head) - a->head_len;
	memcpy(a->head + a->head_len, data, take);
	a->head_len += take;
	tls_consume(&a->tls, take);
	switch (http_head_parse(a->head, a->head_len, &a->answer, &used)) {
	case HTTP_MORE:
		return APIWATCH_NOTHING;
	case HTTP_BAD:
		return fail(a, now, "check --api-server: is it a Kubernetes "
			    "API server?", "not an HTTP/1.1 answer");
	case HTTP_TOO_BIG:
		return fail(a, now, "check --api-server", "an answer head "
			    "larger than %d bytes", HTTP_HEAD_MAX);
	case HTTP_OK:
		break;
	}
	ev = on_head(a, now);
	if (ev != APIWATCH_NOTHING || a->state != APIWATCH_BODY)
		return ev;
	/* Body bytes that came with the head, if any (none ends "length 0"). */
	memmove(a->head, a->head + used, a->head_len - used);
	len = a->head_len - used;
	a->head_len = 0;
	return on_body(a, a->head, len, now);
}

/* The end of the stream (the server closed the connection). */
static enum apiwatch_event on_eof(struct apiwatch *a, int64_t now)
{
	if (a->state == APIWATCH_BODY && !a->watching &&
	    !a->answer.chunked && a->answer.content_length < 0)
		return on_list(a, now); /* a body delimited by the close */
	if (a->state == APIWATCH_BODY && a->watching && !a->answer.chunked) {
		close_connection(a);
		schedule(a, now, 0); /* ended: watch again from a->rv */
		return APIWATCH_NOTHING;
	}
	return fail(a, now, "check --api-server", "the server closed the "
		    "connection %s", a->state == APIWATCH_BODY
		    ? "in the middle of its answer" : "before answering");
}

/* Moves the TLS connection on as far as it goes without blocking. */
static enum apiwatch_event pump(struct apiwatch *a, int64_t now)
{
	char err[APIWATCH_CAUSE_MAX];

	for (;;) {
		enum apiwatch_event ev;
		switch (tls_pump(&a->tls, a->fd, &a->events)) {
		case TLS_WAIT:
			return APIWATCH_NOTHING;
		case TLS_EOF:
			return on_eof(a, now);
		case TLS_FAILED:
			tls_error(&a->tls, err, sizeof(err));
			return fail(a, now, strstr(err, "certificate")
				    ? "check ca.crt in --api-credentials and "
				      "the server's certificate"
				    : "check --api-server", "%s", err);
		case TLS_DATA:
			break;
		}
		ev = on_data(a, now);
		/* Decided, failed, or on to another connection. */
		if (ev != APIWATCH_NOTHING || a->fd < 0 ||
		    a->state == APIWATCH_CONNECT)
			return ev;
	}
}

static enum apiwatch_event connected(struct apiwatch *a, int64_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0)
		return fail(a, now, "check --api-server and that the API "
			    "server is reachable from the pod", "connect to "
			    "%s: %s", a->url.hostport, strerror(err));
	a->state = APIWATCH_HEAD;
	return pump(a, now);
}

static enum apiwatch_event timed_out(struct apiwatch *a, int64_t now)
{
	const char *what = a->state == APIWATCH_CONNECT ? "connecting"
			   : a->tls.established		? "waiting for the answer"
							: "in the TLS handshake";

	if (a->state == APIWATCH_BODY && a->watching) {
		/* The server did not end its watch when it said it would. */
		close_connection(a);
		schedule(a, now, 0);
		return APIWATCH_NOTHING;
	}
	return fail(a, now, "check --api-server and that the API server is "
		    "reachable from the pod", "timed out %s to %s after %ds",
		    what, a->url.hostport, APIWATCH_CONNECT_MS / 1000);
}

enum apiwatch_event apiwatch_step(struct apiwatch *a, short revents,
				  int64_t now)
{
	if (a->unusable)
		return APIWATCH_NOTHING;
	if (a->state == APIWATCH_IDLE) {
		if (a->retry_at >= 0 && now >= a->retry_at)
			return attempt(a, now);
		return APIWATCH_NOTHING;
	}
	if (revents == 0) {
		if (a->deadline >= 0 && now >= a->deadline)
			return timed_out(a, now);
		return APIWATCH_NOTHING;
	}
	if (a->state == APIWATCH_CONNECT)
		return connected(a, now);
	return pump(a, now);
}

int apiwatch_fd(const struct apiwatch *a, short *events)
{
	*events = a->events;
	return a->state == APIWATCH_IDLE || a->unusable ? -1 : a->fd;
}

int64_t apiwatch_wake_at(const struct apiwatch *a)
{
	if (a->unusable)
		return -1;
	return a->state == APIWATCH_IDLE ? a->retry_at : a->deadline;
}

/* The namespace file, checked as a namespace name. */
static bool read_namespace(struct apiwatch *a)
{
	char *data;
	size_t len;

	if (!kube_read_file(a->credentials, "namespace", 253, &data, &len,
			    a->cause, sizeof(a->cause)))
		return false;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
		data[--len] = '\0';
	if (len == 0 || len >= sizeof(a->ns_file) ||
	    strspn(data, "abcdefghijklmnopqrstuvwxyz0123456789-") != len) {
		snprintf(a->cause, sizeof(a->cause), "%s/namespace holds no "
			 "namespace name", a->credentials);
		free(data);
		return false;
	}
	memcpy(a->ns_file, data, len + 1);
	free(data);
	a->ns = a->ns_file;
	return true;
}

static bool unusable(struct apiwatch *a, const char *fix)
{
	snprintf(a->fix, sizeof(a->fix), "%s", fix);
	a->unusable = true;
	return false;
}

bool apiwatch_prepare(struct apiwatch *a, const char *server,
		      const char *credentials, const char *ns,
		      const char *name)
{
	static const char mount_fix[] =
		"mount the pod's ServiceAccount token "
		"(automountServiceAccountToken: true) or give --api-credentials";
	char *pem;
	size_t len;
	const char *problem;

	a->fd = -1;
	a->credentials = credentials;
	a->ns = ns;
	a->name = name;
	a->deadline = a->retry_at = -1;
	if (getrandom(&a->rng, sizeof(a->rng), GRND_NONBLOCK) < 0 || !a->rng)
		a->rng = (uint64_t)(uintptr_t)a | 1;
	if (name == NULL) {
		snprintf(a->cause, sizeof(a->cause),
			 "no --configmap: no ConfigMap to watch");
		return unusable(a, "give --configmap NAME (the Task's "
				"configmap param)");
	}
	if (server ? !kube_url_parse(server, &a->url)
		   : !kube_url_from_env(&a->url, a->cause, sizeof(a->cause)))
		return unusable(a, "give --api-server https://HOST:PORT");
	if (ns == NULL && !read_namespace(a))
		return unusable(a, "give --namespace, or " "mount the pod's "
				"ServiceAccount token (automountServiceAccountToken: "
				"true)");
	if (!kube_read_file(credentials, "ca.crt", KUBE_CA_MAX, &pem, &len,
			    a->cause, sizeof(a->cause)))
		return unusable(a, mount_fix);
	if (!tls_ca_load(&a->ca, pem, len, &problem)) {
		snprintf(a->cause, sizeof(a->cause), "%s/ca.crt: %s",
			 credentials, problem);
		free(pem);
		return unusable(a, "give --api-credentials a directory whose "
				"ca.crt holds the cluster's CA certificate");
	}
	free(pem);
	return true;
}

bool apiwatch_start(struct apiwatch *a, int64_t now)
{
	a->last_attempt = now - APIWATCH_ATTEMPT_MIN_MS;
	return attempt(a, now) != APIWATCH_UNUSABLE;
}

void apiwatch_close(struct apiwatch *a)
{
	close_connection(a);
	tls_ca_free(&a->ca);
}
