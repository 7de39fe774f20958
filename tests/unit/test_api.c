/* The API's pieces that need no server: URLs, credentials, JSON shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "configmap.h"
#include "kube.h"
#include "put_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void urls(void **state)
{
	static const char *const bad[] = {
		"http://10.0.0.1",	    "https://",
		"https://10.0.0.1:0",	    "https://10.0.0.1:65536",
		"https://10.0.0.1:",	    "https://10.0.0.1:44x",
		"https://10.0.0.1/api",	    "https://10.0.0.1?x=1",
		"https://u@10.0.0.1",	    "https://[::1",
		"https://[nothost]:443",    "https://10.0.0.256",
		"https://1.2.3",	    "https://-bad.example",
		"https://a_b.example",	    "HTTPS://10.0.0.1",
		"https://10.0.0.1#frag",    "https://10.0.0.1:443:1",
	};
	struct kube_url u;

	(void)state;
	assert_true(kube_url_parse("https://10.96.0.1:443", &u));
	assert_true(u.is_ip);
	assert_int_equal(u.ip_len, 4);
	assert_string_equal(u.hostport, "10.96.0.1:443");
	assert_true(kube_url_parse("https://[fd00::1]:6443/", &u));
	assert_true(u.is_ip);
	assert_int_equal(u.ip_len, 16);
	assert_string_equal(u.host, "fd00::1");
	assert_string_equal(u.hostport, "[fd00::1]:6443");
	assert_int_equal(u.port_num, 6443);
	assert_true(kube_url_parse("https://api.example.com", &u));
	assert_false(u.is_ip);
	assert_string_equal(u.port, "443");
	assert_int_equal(u.port_num, 443);
	assert_string_equal(u.hostport, "api.example.com:443");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i]);
		assert_false(kube_url_parse(bad[i], &u));
	}
}

static void url_from_environment(void **state)
{
	struct kube_url u;
	char cause[256];

	(void)state;
	unsetenv("KUBERNETES_SERVICE_HOST");
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_false(kube_url_from_env(&u, cause, sizeof(cause)));
	assert_non_null(strstr(cause, "KUBERNETES_SERVICE_HOST"));
	setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
	assert_true(kube_url_from_env(&u, cause, sizeof(cause)));
	assert_string_equal(u.hostport, "[fd00:10:96::1]:443");
	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1/x", 1);
	assert_false(kube_url_from_env(&u, cause, sizeof(cause)));
}


static void token(void **state)
{
	char dir[] = "/tmp/approve-step-api-XXXXXX", tok[64], cause[512];
	char path[300];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_false(kube_read_token(dir, tok, sizeof(tok), cause,
				     sizeof(cause)));
	assert_non_null(strstr(cause, "/token"));
	assert_non_null(strstr(cause, "No such file"));
	put_file(dir, "token", "  eyJhbGc.abc-def_1\n");
	assert_true(kube_read_token(dir, tok, sizeof(tok), cause,
				    sizeof(cause)));
	assert_string_equal(tok, "eyJhbGc.abc-def_1");
	/* Nothing that could break a header line, and the token never shown. */
	put_file(dir, "token", "abc\r\nX-Evil: 1");
	assert_false(kube_read_token(dir, tok, sizeof(tok), cause,
				     sizeof(cause)));
	assert_null(strstr(cause, "abc"));
	put_file(dir, "token", "\n");
	assert_false(kube_read_token(dir, tok, sizeof(tok), cause,
				     sizeof(cause)));
	put_file(dir, "token", "0123456789012345678901234567890123456789"
			  "0123456789012345678901234567890123456789");
	assert_false(kube_read_token(dir, tok, sizeof(tok), cause,
				     sizeof(cause)));
	assert_null(strstr(cause, "0123"));
	snprintf(path, sizeof(path), "%s/token", dir);
	unlink(path);
	rmdir(dir);
}

static void list_and_events(void **state)
{
	cJSON *list = cJSON_Parse(
		"{\"kind\":\"ConfigMapList\",\"metadata\":{\"resourceVersion\":"
		"\"1234\"},\"items\":[{\"metadata\":{\"name\":\"other\"}},"
		"{\"metadata\":{\"name\":\"cm\",\"resourceVersion\":\"1200\"},"
		"\"data\":{\"k\":\"approved\",\"k.alice\":\"refused\"}}]}");
	cJSON *ev = cJSON_Parse("{\"type\":\"ERROR\",\"object\":{\"kind\":"
				"\"Status\",\"code\":410}}");
	const cJSON *item, *object, *key;
	size_t len;

	(void)state;
	assert_true(configmap_is_list(list));
	assert_string_equal(configmap_resource_version(list), "1234");
	item = configmap_list_item(list, "cm");
	assert_non_null(item);
	assert_null(configmap_list_item(list, "none"));
	assert_string_equal(configmap_resource_version(item), "1200");
	assert_string_equal(configmap_value(item, "k", &len), "approved");
	assert_int_equal(len, 8);
	assert_null(configmap_value(item, "K", &len));
	assert_null(configmap_value(NULL, "k", &len));
	key = configmap_next_key(item, NULL);
	assert_string_equal(key->string, "k");
	key = configmap_next_key(item, key);
	assert_string_equal(key->string, "k.alice");
	assert_null(configmap_next_key(item, key));
	assert_string_equal(configmap_event(ev, &object), "ERROR");
	assert_int_equal(configmap_status_code(object), 410);
	assert_false(configmap_is_list(ev));
	cJSON_Delete(ev);
	ev = cJSON_Parse("{\"type\":\"ADDED\",\"object\":[]}");
	assert_null(configmap_event(ev, &object));
	cJSON_Delete(ev);
	assert_null(configmap_event(NULL, &object));
	cJSON_Delete(list);
}

/* data[key] of an object parsed from text, as content. */
static void content_of(const char *text, const char *key, char *out,
		       size_t *len, enum content_status *status)
{
	struct configmap_json j;
	char buf[256], *owned;
	struct configmap cm;
	struct content c;

	snprintf(buf, sizeof(buf), "%s", text);
	assert_true(configmap_parse(&j, buf, strlen(buf)));
	cm.object = j.root;
	cm.shadow = j.shadow;
	configmap_content(&cm, key, &c, &owned);
	*status = c.status;
	*len = c.len;
	if (c.status == CONTENT_OK) {
		assert_int_equal(c.data[c.len], '\0');
		memcpy(out, c.data, c.len);
	}
	free(owned);
	configmap_free(&j);
}

static void escaped_nul(void **state)
{
	enum content_status st;
	char out[64];
	size_t len;
	char raw[] = "{\"data\":{\"a\":\"x\0y\"}}";
	struct configmap_json j;

	(void)state;
	/* A NUL keeps its place: never a word cut short. */
	content_of("{\"data\":{\"a\":\"approved\\u0000x\"}}", "a", out, &len,
		   &st);
	assert_int_equal(st, CONTENT_OK);
	assert_int_equal(len, 10);
	assert_memory_equal(out, "approved\0x", 10);
	/* \u0001 and \u0002 stay what they are beside an escaped NUL. */
	content_of("{\"data\":{\"a\":\"\\u0001\\u0000\\u0002\",\"b\":\"ok\"}}",
		   "a", out, &len, &st);
	assert_int_equal(len, 3);
	assert_memory_equal(out, "\x01\0\x02", 3);
	content_of("{\"data\":{\"a\":\"\\u0000\",\"b\":\"ok\"}}", "b", out,
		   &len, &st);
	assert_int_equal(len, 2);
	assert_memory_equal(out, "ok", 2);
	/* An escaped backslash before "u0000" is text, not an escape. */
	content_of("{\"data\":{\"a\":\"\\\\u0000\"}}", "a", out, &len, &st);
	assert_int_equal(len, 6);
	assert_memory_equal(out, "\\u0000", 6);
	content_of("{\"data\":{}}", "a", out, &len, &st);
	assert_int_equal(st, CONTENT_MISSING);
	/* A raw NUL byte is no JSON. */
	assert_false(configmap_parse(&j, raw, sizeof(raw) - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(urls),
		cmocka_unit_test(url_from_environment),
		cmocka_unit_test(token),
		cmocka_unit_test(list_and_events),
		cmocka_unit_test(escaped_nul),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
