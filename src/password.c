/*
 * password.c — password hashes for service accounts kept in profiles.
 *
 *   {PBKDF2-SHA512}ITER$SALT$KEY   PBKDF2-HMAC-SHA512 (RFC 8018), SALT and
 *                                  KEY in base64; the default of
 *                                  `aldproxyctl hash-password`, 100000
 *                                  iterations (about 60 ms on one core)
 *   {SSHA256}, {SSHA512}           one salted SHA-2 (base64 of digest ||
 *                                  salt, the format slappasswd and 389-ds
 *                                  use): accepted, but fast to guess
 *
 * Comparison is constant-time.  A slow hash would stall the event loop at
 * every bind of a product that connects per login, so the caller keeps a
 * keyed digest of the last password that matched (password_memo_*): the
 * right password costs one HMAC after the first time, a wrong one the full
 * hash — and failed binds are throttled (peers.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "profile.h"

#define SALT_LEN 16
#define PBKDF2_PREFIX "{PBKDF2-SHA512}"
#define PBKDF2_ITER 100000
#define PBKDF2_KEY 64

/* base64 of n bytes into out (NUL-terminated); its length. */
static size_t
b64(const unsigned char *in, size_t n, char *out)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* base64 text[0..len) into out (at most cap); the byte count or -1. */
static int
unb64(const char *text, size_t len, unsigned char *out, size_t cap)
{
	if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap)
		return -1;
	int n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);
	if (n < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as zero bytes */
	if (text[len - 1] == '=')
		n--;
	if (len >= 2 && text[len - 2] == '=')
		n--;
	return n;
}

static int
pbkdf2_make(const char *pw, size_t pwlen, char *out, size_t outlen)
{
	unsigned char salt[SALT_LEN], key[PBKDF2_KEY];
	char s64[64], k64[128];
	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    PKCS5_PBKDF2_HMAC(pw, (int)pwlen, salt, sizeof(salt), PBKDF2_ITER, EVP_sha512(), sizeof(key), key) != 1)
		return -1;
	b64(salt, sizeof(salt), s64);
	b64(key, sizeof(key), k64);
	OPENSSL_cleanse(key, sizeof(key));
	int n = snprintf(out, outlen, "%s%d$%s$%s", PBKDF2_PREFIX, PBKDF2_ITER, s64, k64);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

static int
pbkdf2_check(const char *hash, const char *pw, size_t pwlen, int parse_only)
{
	const char *p = hash + strlen(PBKDF2_PREFIX), *d1 = strchr(p, '$'), *d2 = d1 ? strchr(d1 + 1, '$') : NULL;
	char *end;
	long iter = strtol(p, &end, 10);
	unsigned char salt[128], key[256], calc[256];
	if (d1 == NULL || d2 == NULL || end != d1 || iter < 1000 || iter > 10000000)
		return -1;
	int sl = unb64(d1 + 1, (size_t)(d2 - d1 - 1), salt, sizeof(salt)), kl = unb64(d2 + 1, strlen(d2 + 1), key, sizeof(key));
	if (sl < 8 || kl < 16 || (size_t)kl > sizeof(calc))
		return -1;
	if (parse_only)
		return 0;
	if (PKCS5_PBKDF2_HMAC(pw, (int)pwlen, salt, sl, (int)iter, EVP_sha512(), kl, calc) != 1)
		return -1;
	int match = CRYPTO_memcmp(calc, key, (size_t)kl) == 0;
	OPENSSL_cleanse(calc, sizeof(calc));
	return match;
}

static const EVP_MD *
scheme_md(const char *hash, size_t *prefix)
{
	if (strncasecmp(hash, "{SSHA256}", 9) == 0) {
		*prefix = 9;
		return EVP_sha256();
	}
	if (strncasecmp(hash, "{SSHA512}", 9) == 0) {
		*prefix = 9;
		return EVP_sha512();
	}
	return NULL;
}

static int
digest(const EVP_MD *md, const char *pw, size_t pwlen, const unsigned char *salt, size_t saltlen,
    unsigned char *out, unsigned *outlen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, pw, pwlen) == 1 &&
	    EVP_DigestUpdate(ctx, salt, saltlen) == 1 && EVP_DigestFinal_ex(ctx, out, outlen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

int
password_hash_make(const char *scheme, const char *pw, size_t pwlen, char *out, size_t outlen)
{
	size_t prefix;
	char tag[16];
	if (strcmp(scheme, "PBKDF2-SHA512") == 0)
		return pbkdf2_make(pw, pwlen, out, outlen);
	snprintf(tag, sizeof(tag), "{%s}", scheme);
	const EVP_MD *md = scheme_md(tag, &prefix);
	unsigned char buf[EVP_MAX_MD_SIZE + SALT_LEN];
	unsigned dlen;
	if (md == NULL || RAND_bytes(buf + EVP_MAX_MD_SIZE, SALT_LEN) != 1)
		return -1;
	if (digest(md, pw, pwlen, buf + EVP_MAX_MD_SIZE, SALT_LEN, buf, &dlen) < 0)
		return -1;
	memmove(buf + dlen, buf + EVP_MAX_MD_SIZE, SALT_LEN);
	size_t need = 9 + 4 * ((dlen + SALT_LEN + 2) / 3) + 1;
	if (outlen < need)
		return -1;
	memcpy(out, tag, 9);
	EVP_EncodeBlock((unsigned char *)out + 9, buf, (int)(dlen + SALT_LEN));
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

int
password_hash_check(const char *hash, const char *pw, size_t pwlen)
{
	size_t prefix;
	if (strncasecmp(hash, PBKDF2_PREFIX, strlen(PBKDF2_PREFIX)) == 0)
		return pbkdf2_check(hash, pw, pwlen, 0);
	const EVP_MD *md = scheme_md(hash, &prefix);
	if (md == NULL)
		return -1;
	const char *b64 = hash + prefix;
	size_t blen = strlen(b64);
	unsigned char raw[512], calc[EVP_MAX_MD_SIZE];
	if (blen == 0 || blen % 4 != 0 || blen / 4 * 3 > sizeof(raw))
		return -1;
	int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)blen);
	if (n < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as zero bytes */
	if (blen >= 1 && b64[blen - 1] == '=')
		n--;
	if (blen >= 2 && b64[blen - 2] == '=')
		n--;
	size_t dlen = (size_t)EVP_MD_get_size(md);
	if ((size_t)n <= dlen)
		return -1;
	unsigned clen;
	if (digest(md, pw, pwlen, raw + dlen, (size_t)n - dlen, calc, &clen) < 0)
		return -1;
	int match = CRYPTO_memcmp(calc, raw, dlen) == 0;
	OPENSSL_cleanse(calc, sizeof(calc));
	return match;
}

int
password_hash_valid(const char *hash)
{
	if (strncasecmp(hash, PBKDF2_PREFIX, strlen(PBKDF2_PREFIX)) == 0)
		return pbkdf2_check(hash, "", 0, 1) == 0;
	return password_hash_check(hash, "", 0) >= 0;  /* one SHA-2: cheap */
}

/* ---- the last password that matched, as a keyed digest ------------------------------ */

static unsigned char memo_key[32];
static int memo_key_set;

static int
memo_digest(const char *pw, size_t pwlen, unsigned char out[32])
{
	unsigned len = 32;
	if (!memo_key_set) {
		if (RAND_bytes(memo_key, sizeof(memo_key)) != 1)
			return -1;
		memo_key_set = 1;
	}
	return HMAC(EVP_sha256(), memo_key, sizeof(memo_key), (const unsigned char *)pw, pwlen, out, &len) ? 0 : -1;
}

int
password_memo_match(const struct password_memo *m, const char *pw, size_t pwlen)
{
	unsigned char d[32];
	if (!m->valid || memo_digest(pw, pwlen, d) < 0)
		return 0;
	int match = CRYPTO_memcmp(d, m->digest, sizeof(d)) == 0;
	OPENSSL_cleanse(d, sizeof(d));
	return match;
}

void
password_memo_set(struct password_memo *m, const char *pw, size_t pwlen)
{
	m->valid = memo_digest(pw, pwlen, m->digest) == 0;
}
