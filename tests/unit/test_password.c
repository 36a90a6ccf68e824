/*
 * test_password.c — unit tests for the salted SHA-2 hashes of profile
 * service accounts ({SSHA256}/{SSHA512}: base64 of digest || salt).
 *
 * Reference hashes are computed here independently with OpenSSL EVP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "profile.h"

/* "{SCHEME}" + base64(md(pw || salt) || salt), computed with EVP directly. */
static void
reference_hash(const char *scheme, const EVP_MD *md, const char *pw, size_t pwlen, const unsigned char *salt,
    size_t saltlen, char *out, size_t outlen)
{
	unsigned char raw[EVP_MAX_MD_SIZE + 64];
	unsigned dlen = 0;
	assert_true(saltlen <= 64);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	assert_non_null(ctx);
	assert_int_equal(EVP_DigestInit_ex(ctx, md, NULL), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, pw, pwlen), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, salt, saltlen), 1);
	assert_int_equal(EVP_DigestFinal_ex(ctx, raw, &dlen), 1);
	EVP_MD_CTX_free(ctx);
	memcpy(raw + dlen, salt, saltlen);
	size_t pl = (size_t)snprintf(out, outlen, "{%s}", scheme);
	assert_true(pl + 4 * ((dlen + saltlen + 2) / 3) + 1 <= outlen);
	EVP_EncodeBlock((unsigned char *)out + pl, raw, (int)(dlen + saltlen));
}

static const unsigned char SALT16[16] = "0123456789abcdef";

/* ------------------------------------------------------------------ */
/* make + check                                                         */

static void
test_sha256_match(void **state)
{
	(void)state;
	char h[256];
	assert_int_equal(password_hash_make("SSHA256", "secret", 6, h, sizeof(h)), 0);
	assert_int_equal(strncmp(h, "{SSHA256}", 9), 0);
	/* 32-byte digest + 16-byte salt = 48 bytes = 64 base64 characters */
	assert_int_equal(strlen(h), 9 + 64);
	assert_int_equal(password_hash_check(h, "secret", 6), 1);
}

static void
test_sha256_mismatch(void **state)
{
	(void)state;
	char h[256];
	assert_int_equal(password_hash_make("SSHA256", "secret", 6, h, sizeof(h)), 0);
	assert_int_equal(password_hash_check(h, "Secret", 6), 0);
	assert_int_equal(password_hash_check(h, "secre", 5), 0);
	assert_int_equal(password_hash_check(h, "secret ", 7), 0);
	assert_int_equal(password_hash_check(h, "secret\0", 7), 0);
}

static void
test_sha256_empty_password_mismatch(void **state)
{
	(void)state;
	char h[256];
	assert_int_equal(password_hash_make("SSHA256", "secret", 6, h, sizeof(h)), 0);
	assert_int_equal(password_hash_check(h, "", 0), 0);
}

static void
test_sha512_match(void **state)
{
	(void)state;
	char h[256];
	assert_int_equal(password_hash_make("SSHA512", "correct horse", 13, h, sizeof(h)), 0);
	assert_int_equal(strncmp(h, "{SSHA512}", 9), 0);
	/* 64 + 16 = 80 bytes = 108 base64 characters (with one '=') */
	assert_int_equal(strlen(h), 9 + 108);
	assert_int_equal(password_hash_check(h, "correct horse", 13), 1);
}

static void
test_sha512_mismatch(void **state)
{
	(void)state;
	char h[256];
	assert_int_equal(password_hash_make("SSHA512", "correct horse", 13, h, sizeof(h)), 0);
	assert_int_equal(password_hash_check(h, "correct horsE", 13), 0);
	assert_int_equal(password_hash_check(h, "correct", 7), 0);
}

static void
test_sha512_empty_password_mismatch(void **state)
{
	(void)state;
	char h[256];
	assert_int_equal(password_hash_make("SSHA512", "x", 1, h, sizeof(h)), 0);
	assert_int_equal(password_hash_check(h, "", 0), 0);
}

static void
test_binary_password(void **state)
{
	(void)state;
	char h[256];
	assert_int_equal(password_hash_make("SSHA256", "a\0b\xff", 4, h, sizeof(h)), 0);
	assert_int_equal(password_hash_check(h, "a\0b\xff", 4), 1);
	assert_int_equal(password_hash_check(h, "a", 1), 0);
	assert_int_equal(password_hash_check(h, "a\0b", 3), 0);
}

static void
test_salts_differ(void **state)
{
	(void)state;
	char h1[256], h2[256], h3[256];
	assert_int_equal(password_hash_make("SSHA256", "secret", 6, h1, sizeof(h1)), 0);
	assert_int_equal(password_hash_make("SSHA256", "secret", 6, h2, sizeof(h2)), 0);
	assert_int_equal(password_hash_make("SSHA256", "secret", 6, h3, sizeof(h3)), 0);
	assert_string_not_equal(h1, h2);
	assert_string_not_equal(h1, h3);
	assert_string_not_equal(h2, h3);
	assert_int_equal(password_hash_check(h1, "secret", 6), 1);
	assert_int_equal(password_hash_check(h2, "secret", 6), 1);
	assert_int_equal(password_hash_check(h3, "secret", 6), 1);
}

static void
test_salts_differ_sha512(void **state)
{
	(void)state;
	char h1[256], h2[256];
	assert_int_equal(password_hash_make("SSHA512", "secret", 6, h1, sizeof(h1)), 0);
	assert_int_equal(password_hash_make("SSHA512", "secret", 6, h2, sizeof(h2)), 0);
	assert_string_not_equal(h1, h2);
	/* the salt is the tail: the digests differ too */
	assert_memory_not_equal(h1 + 9, h2 + 9, 80);
}

static void
test_unknown_scheme(void **state)
{
	(void)state;
	char h[256];
	assert_int_equal(password_hash_make("SSHA", "secret", 6, h, sizeof(h)), -1);
	assert_int_equal(password_hash_make("MD5", "secret", 6, h, sizeof(h)), -1);
	assert_int_equal(password_hash_make("SSHA2560", "secret", 6, h, sizeof(h)), -1);
	assert_int_equal(password_hash_make("", "secret", 6, h, sizeof(h)), -1);
}

static void
test_make_output_too_small(void **state)
{
	(void)state;
	char h[256];
	/* 9 + 64 characters and the NUL */
	assert_int_equal(password_hash_make("SSHA256", "secret", 6, h, 73), -1);
	assert_int_equal(password_hash_make("SSHA256", "secret", 6, h, 74), 0);
	assert_int_equal(strlen(h), 73);
	assert_int_equal(password_hash_make("SSHA512", "secret", 6, h, 117), -1);
	assert_int_equal(password_hash_make("SSHA512", "secret", 6, h, 118), 0);
	assert_int_equal(strlen(h), 117);
}

/* ------------------------------------------------------------------ */
/* independent vectors                                                  */

static void
test_known_ssha256_vector(void **state)
{
	(void)state;
	char h[256];
	reference_hash("SSHA256", EVP_sha256(), "secret", 6, SALT16, sizeof(SALT16), h, sizeof(h));
	assert_int_equal(strlen(h), 9 + 64);
	assert_int_equal(password_hash_check(h, "secret", 6), 1);
	assert_int_equal(password_hash_check(h, "secreT", 6), 0);
	assert_int_equal(password_hash_check(h, "", 0), 0);
}

static void
test_known_ssha512_vector(void **state)
{
	(void)state;
	char h[256];
	reference_hash("SSHA512", EVP_sha512(), "p\xc3\xa4ssw\xc3\xb6rd", 10, SALT16, sizeof(SALT16), h, sizeof(h));
	assert_int_equal(password_hash_check(h, "p\xc3\xa4ssw\xc3\xb6rd", 10), 1);
	assert_int_equal(password_hash_check(h, "passw\xc3\xb6rd", 9), 0);
}

/* Salts of any length (slappasswd uses 4 or 8 bytes): every base64 padding case. */
static void
test_vector_any_salt_length(void **state)
{
	(void)state;
	unsigned char salt[33];
	for (size_t i = 0; i < sizeof(salt); i++)
		salt[i] = (unsigned char)(i * 37 + 11);
	for (size_t sl = 1; sl <= sizeof(salt); sl++) {
		char h[256];
		reference_hash("SSHA256", EVP_sha256(), "secret", 6, salt, sl, h, sizeof(h));
		if (password_hash_check(h, "secret", 6) != 1)
			fail_msg("SSHA256 with a %zu-byte salt did not verify: %s", sl, h);
		assert_int_equal(password_hash_check(h, "secreu", 6), 0);
		reference_hash("SSHA512", EVP_sha512(), "secret", 6, salt, sl, h, sizeof(h));
		if (password_hash_check(h, "secret", 6) != 1)
			fail_msg("SSHA512 with a %zu-byte salt did not verify: %s", sl, h);
		assert_int_equal(password_hash_check(h, "secreu", 6), 0);
	}
}

static void
test_scheme_case_insensitive(void **state)
{
	(void)state;
	char h[256];
	reference_hash("ssha256", EVP_sha256(), "secret", 6, SALT16, sizeof(SALT16), h, sizeof(h));
	assert_int_equal(password_hash_check(h, "secret", 6), 1);
	reference_hash("SSha512", EVP_sha512(), "secret", 6, SALT16, sizeof(SALT16), h, sizeof(h));
	assert_int_equal(password_hash_check(h, "secret", 6), 1);
}

/* The scheme decides the digest: a SHA-512 hash under an {SSHA256} tag does not verify. */
static void
test_scheme_mismatch(void **state)
{
	(void)state;
	char h[256];
	reference_hash("SSHA256", EVP_sha512(), "secret", 6, SALT16, sizeof(SALT16), h, sizeof(h));
	assert_int_equal(password_hash_check(h, "secret", 6), 0);
}

/* What make writes, check reads; and check accepts only what EVP computes. */
static void
test_make_matches_reference(void **state)
{
	(void)state;
	char h[256], r[256];
	unsigned char raw[128];
	assert_int_equal(password_hash_make("SSHA256", "secret", 6, h, sizeof(h)), 0);
	int n = EVP_DecodeBlock(raw, (const unsigned char *)h + 9, (int)strlen(h + 9));
	assert_int_equal(n, 48);
	/* the salt is the last 16 bytes: recomputing with it gives the same string */
	reference_hash("SSHA256", EVP_sha256(), "secret", 6, raw + 32, 16, r, sizeof(r));
	assert_string_equal(h, r);
}

/* ------------------------------------------------------------------ */
/* malformed hashes                                                     */

static void
test_bad_no_scheme(void **state)
{
	(void)state;
	char h[256];
	reference_hash("SSHA256", EVP_sha256(), "secret", 6, SALT16, sizeof(SALT16), h, sizeof(h));
	assert_int_equal(password_hash_check(h + 9, "secret", 6), -1);
}

static void
test_bad_clear_text(void **state)
{
	(void)state;
	assert_int_equal(password_hash_check("secret", "secret", 6), -1);
	assert_int_equal(password_hash_check("", "", 0), -1);
}

static void
test_bad_other_scheme(void **state)
{
	(void)state;
	assert_int_equal(password_hash_check("{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "password", 8), -1);
	assert_int_equal(password_hash_check("{CRYPT}$6$abc$def", "x", 1), -1);
	assert_int_equal(password_hash_check("{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=", "secret", 6),
	    -1);
}

static void
test_bad_unclosed_scheme(void **state)
{
	(void)state;
	assert_int_equal(password_hash_check("{SSHA256", "secret", 6), -1);
	assert_int_equal(password_hash_check("{SSHA25", "secret", 6), -1);
}

static void
test_bad_empty_after_scheme(void **state)
{
	(void)state;
	assert_int_equal(password_hash_check("{SSHA256}", "", 0), -1);
	assert_int_equal(password_hash_check("{SSHA512}", "secret", 6), -1);
}

static void
test_bad_base64_chars(void **state)
{
	(void)state;
	char h[256];
	reference_hash("SSHA256", EVP_sha256(), "secret", 6, SALT16, sizeof(SALT16), h, sizeof(h));
	h[20] = '!';
	assert_int_equal(password_hash_check(h, "secret", 6), -1);
	assert_int_equal(password_hash_check("{SSHA256}!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
	    "secret", 6), -1);
}

static void
test_bad_base64_length(void **state)
{
	(void)state;
	char h[256];
	reference_hash("SSHA256", EVP_sha256(), "secret", 6, SALT16, sizeof(SALT16), h, sizeof(h));
	h[strlen(h) - 1] = '\0';       /* 63 characters: not a multiple of 4 */
	assert_int_equal(password_hash_check(h, "secret", 6), -1);
}

static void
test_bad_too_short_no_salt(void **state)
{
	(void)state;
	/* a digest alone (no salt) is not a salted hash */
	char h[256];
	reference_hash("SSHA256", EVP_sha256(), "secret", 6, SALT16, 0, h, sizeof(h));
	assert_int_equal(strlen(h), 9 + 44);
	assert_int_equal(password_hash_check(h, "secret", 6), -1);
	reference_hash("SSHA512", EVP_sha512(), "secret", 6, SALT16, 0, h, sizeof(h));
	assert_int_equal(password_hash_check(h, "secret", 6), -1);
}

static void
test_bad_too_short_truncated_digest(void **state)
{
	(void)state;
	assert_int_equal(password_hash_check("{SSHA256}AAAA", "secret", 6), -1);
	assert_int_equal(password_hash_check("{SSHA512}c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "secret", 6), -1);
}

static void
test_bad_too_long(void **state)
{
	(void)state;
	char h[1024];
	memcpy(h, "{SSHA256}", 9);
	memset(h + 9, 'A', 800);
	h[809] = '\0';
	assert_int_equal(password_hash_check(h, "secret", 6), -1);
}

/* PBKDF2-HMAC-SHA512, the default: round trip, wrong password, tampered and malformed hashes. */
static void
test_pbkdf2(void **state)
{
	(void)state;
	char h[256];
	assert_int_equal(password_hash_make("PBKDF2-SHA512", "S3cret-pass", 11, h, sizeof(h)), 0);
	assert_non_null(strstr(h, "{PBKDF2-SHA512}100000$"));
	assert_true(password_hash_valid(h));
	assert_int_equal(password_hash_check(h, "S3cret-pass", 11), 1);
	assert_int_equal(password_hash_check(h, "S3cret-pasS", 11), 0);
	assert_int_equal(password_hash_check(h, "", 0), 0);
	char t[256];
	snprintf(t, sizeof(t), "%s", h);
	/* another key: a character well inside the key's base64 (the last ones hold padding bits) */
	t[strlen(t) - 10] = t[strlen(t) - 10] == 'A' ? 'g' : 'A';
	assert_int_equal(password_hash_check(t, "S3cret-pass", 11), 0);
	static const char *const bad[] = { "{PBKDF2-SHA512}", "{PBKDF2-SHA512}100000$", "{PBKDF2-SHA512}10$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5",
		"{PBKDF2-SHA512}x$c2FsdHNhbHQ=$a2V5", "{PBKDF2-SHA512}100000$!!!!$a2V5", NULL };
	for (const char *const *b = bad; *b; b++) {
		if (password_hash_valid(*b))
			fail_msg("%s should not be a valid hash", *b);
		assert_int_equal(password_hash_check(*b, "x", 1), -1);
	}
}

/* The last matching password is remembered as a keyed digest, and only that one. */
static void
test_memo(void **state)
{
	(void)state;
	struct password_memo m = { { 0 }, 0 };
	assert_false(password_memo_match(&m, "pw", 2));
	password_memo_set(&m, "pw", 2);
	assert_true(password_memo_match(&m, "pw", 2));
	assert_false(password_memo_match(&m, "pW", 2));
	assert_false(password_memo_match(&m, "pw1", 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pbkdf2),
		cmocka_unit_test(test_memo),
		cmocka_unit_test(test_sha256_match),
		cmocka_unit_test(test_sha256_mismatch),
		cmocka_unit_test(test_sha256_empty_password_mismatch),
		cmocka_unit_test(test_sha512_match),
		cmocka_unit_test(test_sha512_mismatch),
		cmocka_unit_test(test_sha512_empty_password_mismatch),
		cmocka_unit_test(test_binary_password),
		cmocka_unit_test(test_salts_differ),
		cmocka_unit_test(test_salts_differ_sha512),
		cmocka_unit_test(test_unknown_scheme),
		cmocka_unit_test(test_make_output_too_small),
		cmocka_unit_test(test_known_ssha256_vector),
		cmocka_unit_test(test_known_ssha512_vector),
		cmocka_unit_test(test_vector_any_salt_length),
		cmocka_unit_test(test_scheme_case_insensitive),
		cmocka_unit_test(test_scheme_mismatch),
		cmocka_unit_test(test_make_matches_reference),
		cmocka_unit_test(test_bad_no_scheme),
		cmocka_unit_test(test_bad_clear_text),
		cmocka_unit_test(test_bad_other_scheme),
		cmocka_unit_test(test_bad_unclosed_scheme),
		cmocka_unit_test(test_bad_empty_after_scheme),
		cmocka_unit_test(test_bad_base64_chars),
		cmocka_unit_test(test_bad_base64_length),
		cmocka_unit_test(test_bad_too_short_no_salt),
		cmocka_unit_test(test_bad_too_short_truncated_digest),
		cmocka_unit_test(test_bad_too_long),
	};
	return cmocka_run_group_tests_name("password", tests, NULL, NULL);
}
