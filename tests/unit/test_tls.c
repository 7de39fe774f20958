/* ca.crt as the kubelet mounts it: one or several PEM certificates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[] = "/tmp/approve-step-tls-XXXXXX";
static char pem[3][8192];
static size_t pem_len[3];

static int make_cert(int i, const char *key)
{
	char cmd[1024], path[128];
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey %s -nodes -days 1 -subj /CN=ca%d "
		 "-addext basicConstraints=critical,CA:TRUE -keyout %s/k%d "
		 "-out %s/c%d.pem >/dev/null 2>&1",
		 key, i, dir, i, dir, i);
	if (system(cmd) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/c%d.pem", dir, i);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	pem_len[i] = fread(pem[i], 1, sizeof(pem[i]) - 1, f);
	fclose(f);
	return pem_len[i] > 0 ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	return make_cert(0, "ec -pkeyopt ec_paramgen_curve:P-256") ||
	       make_cert(1, "rsa:2048") ||
	       make_cert(2, "ec -pkeyopt ec_paramgen_curve:P-384");
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static bool load(const char *text, size_t len, size_t *anchors,
		 const char **problem)
{
	struct tls_ca ca;
	bool ok = tls_ca_load(&ca, text, len, problem);

	*anchors = ca.len;
	tls_ca_free(&ca);
	return ok;
}

static void one_or_several(void **state)
{
	char bundle[3 * 8192 + 64];
	const char *problem;
	size_t n, len;

	(void)state;
	assert_true(load(pem[0], pem_len[0], &n, &problem));
	assert_int_equal(n, 1);
	/* RSA and EC, with text between them, no newline at the end. */
	len = (size_t)snprintf(bundle, sizeof(bundle), "%s\nsome text\n%s%s",
			       pem[0], pem[1], pem[2]);
	while (bundle[len - 1] == '\n')
		bundle[--len] = '\0';
	assert_true(load(bundle, len, &n, &problem));
	assert_int_equal(n, 3);
}

static void not_a_ca_file(void **state)
{
	static const char key[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n"
				   "-----END PRIVATE KEY-----\n";
	char broken[8192];
	const char *problem;
	size_t n;

	(void)state;
	assert_false(load("", 0, &n, &problem));
	assert_non_null(strstr(problem, "no PEM CERTIFICATE"));
	assert_false(load(key, sizeof(key) - 1, &n, &problem));
	assert_non_null(strstr(problem, "no PEM CERTIFICATE"));
	/* A certificate whose base64 is cut in the middle. */
	memcpy(broken, pem[0], pem_len[0]);
	memcpy(broken + pem_len[0] / 2, "\n-----END CERTIFICATE-----\n", 27);
	assert_false(load(broken, pem_len[0] / 2 + 27, &n, &problem));
	assert_int_equal(n, 0);
	assert_non_null(problem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_or_several),
		cmocka_unit_test(not_a_ca_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
