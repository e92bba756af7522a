/* digest.c - SHA-256, SHA-1, MD5 and hex (see td_digest.h). */
#include "td_digest.h"

#include <string.h>

#include <openssl/evp.h>

/* One-shot digest; on a libcrypto failure the output is zeroed rather than
 * left undefined, since the callers have no error path for a hash. */
static void digest(const EVP_MD *md, const void *data, size_t len, uint8_t *out,
		   size_t outlen)
{
	static const uint8_t empty[1];
	unsigned int n = 0;

	if (!data)
		data = empty;
	if (!md || EVP_Digest(data, len, out, &n, md, NULL) != 1 || n != outlen)
		memset(out, 0, outlen);
}

void td_sha256(const void *data, size_t len, uint8_t out[TD_SHA256_LEN])
{
	digest(EVP_sha256(), data, len, out, TD_SHA256_LEN);
}

void td_sha1(const void *data, size_t len, uint8_t out[TD_SHA1_LEN])
{
	digest(EVP_sha1(), data, len, out, TD_SHA1_LEN);
}

void td_md5(const void *data, size_t len, uint8_t out[TD_MD5_LEN])
{
	digest(EVP_md5(), data, len, out, TD_MD5_LEN);
}

char *td_hex(const uint8_t *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0x0f];
	}
	out[2 * len] = '\0';
	return out;
}
