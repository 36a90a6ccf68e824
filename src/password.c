/*
 * password.c — salted SHA-2 password hashes for service accounts kept in
 * profiles ({SSHA256} / {SSHA512}: base64 of digest || salt, the format
 * slappasswd and 389-ds use).  Comparison is constant-time.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "profile.h"

#define SALT_LEN 16

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
