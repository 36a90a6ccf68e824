/*
 * test_audit.c — audit records as JSON and CEF in a file (audit.c, json.c):
 * the fixed fields, escaping of hostile values, absent fields left out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "audit.h"
#include "config.h"

static char path[64];

static void
open_trail(int cef)
{
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(path, sizeof(path), "/tmp/aldproxy-audit-test.%d", (int)getpid());
	unlink(path);
	cfg.path = "test.yaml";
	cfg.audit_target = AUDIT_TO_FILE;
	cfg.audit_file = path;
	cfg.audit_cef = cef;
	char err[256];
	assert_int_equal(audit_open(&cfg, err, sizeof(err)), 0);
}

static char *
slurp(void)
{
	audit_close();
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	return buf;
}

static void
emit_hostile(void)
{
	struct audit_rec r;
	audit_begin(&r, "bind_failure", AUDIT_FAILURE);
	audit_num(&r, AK_CONN, 7);
	audit_str(&r, AK_USER, "uid=a\"b\\c,\ndc=x|y");
	audit_str(&r, AK_USER_DN, NULL);           /* left out */
	audit_bool(&r, AK_TLS, 1);
	audit_num(&r, AK_RESULT, 49);
	audit_str(&r, AK_REASON, "invalid_credentials");
	audit_emit(&r);
}

static void
test_json(void **state)
{
	(void)state;
	open_trail(0);
	emit_hostile();
	char *s = slurp();
	assert_true(strncmp(s, "{\"time\":\"", 9) == 0);
	assert_non_null(strstr(s, "\"product\":\"aldproxy\""));
	assert_non_null(strstr(s, "\"event\":\"bind_failure\",\"outcome\":\"failure\",\"conn\":7,"));
	assert_non_null(strstr(s, "\"user\":\"uid=a\\\"b\\\\c,\\u000adc=x|y\""));
	assert_null(strstr(s, "user_dn"));
	assert_non_null(strstr(s, "\"tls\":true,\"result\":49,\"reason\":\"invalid_credentials\"}\n"));
	assert_int_equal(strchr(s, '\n') - s + 1, (long)strlen(s));     /* exactly one line */
}

static void
test_cef(void **state)
{
	(void)state;
	open_trail(1);
	emit_hostile();
	char *s = slurp();
	assert_true(strncmp(s, "CEF:0|ALD|aldproxy|", 19) == 0);
	assert_non_null(strstr(s, "|bind_failure|bind_failure failure|5|rt="));
	assert_non_null(strstr(s, " outcome=failure cn1Label=conn cn1=7 "));
	assert_non_null(strstr(s, " suser=uid\\=a\"b\\\\c,\\ndc\\=x|y "));
	assert_non_null(strstr(s, " cs6Label=tls cs6=true cn3Label=ldapResult cn3=49 reason=invalid_credentials\n"));
	assert_int_equal(strchr(s, '\n') - s + 1, (long)strlen(s));
}

/* Cyrillic passes as UTF-8; bytes that are not UTF-8 become U+FFFD, so the record stays valid JSON */
static void
test_json_utf8(void **state)
{
	(void)state;
	open_trail(0);
	struct audit_rec r;
	audit_begin(&r, "bind_failure", AUDIT_FAILURE);
	audit_str(&r, AK_USER, "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\xff\xfe@\xc0\xaf\xed\xa0\x80\xe2\x82");
	audit_emit(&r);
	char *s = slurp();
	assert_non_null(strstr(s, "\"user\":\"\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\\ufffd\\ufffd@\\ufffd\\ufffd"
	    "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"}"));
}

/* CEF: a tab or ESC in a value becomes a space */
static void
test_cef_control(void **state)
{
	(void)state;
	open_trail(1);
	struct audit_rec r;
	audit_begin(&r, "bind_failure", AUDIT_FAILURE);
	audit_str(&r, AK_USER, "a\tb\x1b[31mc");
	audit_emit(&r);
	char *s = slurp();
	assert_non_null(strstr(s, " suser=a b [31mc\n"));
}

static void
test_off_writes_nothing(void **state)
{
	(void)state;
	open_trail(0);
	audit_close();
	assert_false(audit_enabled());
	emit_hostile();                             /* no target: nothing, no crash */
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fgetc(f), EOF);
	fclose(f);
	unlink(path);
}

static void
test_unopenable_file(void **state)
{
	(void)state;
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = "test.yaml";
	cfg.audit_target = AUDIT_TO_FILE;
	cfg.audit_file = "/nonexistent/dir/audit.log";
	cfg.audit_file_line = 7;
	char err[256];
	assert_int_equal(audit_open(&cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "test.yaml:7: key 'audit.file': cannot open /nonexistent/dir/audit.log"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_cef),
		cmocka_unit_test(test_json_utf8),
		cmocka_unit_test(test_cef_control),
		cmocka_unit_test(test_off_writes_nothing),
		cmocka_unit_test(test_unopenable_file),
	};
	int rc = cmocka_run_group_tests_name("audit", tests, NULL, NULL);
	audit_free();
	return rc;
}
