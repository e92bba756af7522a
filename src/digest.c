/* digest.c - SHA-256, SHA-1, MD5 and hex (see td_digest.h). */
#include "td_digest.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

/* The three algorithms, fetched from the default provider once (an
 * EVP_sha256()-style handle makes every EVP_Digest fetch it again: about a
 * third of the cost of a JA3 hash), and one context per thread reused by
 * every call (-j: the analysis and reporting threads hash too). The
 * algorithms and the main thread's context stay until exit (reachable,
 * never leaked); another thread's context is freed when it ends (ctx_key's
 * destructor). */
enum { MD_SHA256, MD_SHA1, MD_MD5, MD_COUNT };

static EVP_MD *mds[MD_COUNT];
static pthread_once_t mds_once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;
static bool have_key;
static _Thread_local EVP_MD_CTX *this_ctx;

static void ctx_free(void *p)
{
	EVP_MD_CTX_free(p);
}

static void fetch_mds(void)
{
	mds[MD_SHA256] = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	mds[MD_SHA1] = EVP_MD_fetch(NULL, "SHA1", NULL);
	mds[MD_MD5] = EVP_MD_fetch(NULL, "MD5", NULL);
	have_key = pthread_key_create(&ctx_key, ctx_free) == 0;
}

/* This thread's context, made on its first hash. */
static EVP_MD_CTX *thread_ctx(void)
{
	if (!this_ctx && (this_ctx = EVP_MD_CTX_new()) != NULL && have_key)
		pthread_setspecific(ctx_key, this_ctx);
	return this_ctx;
}

/* One-shot digest; on a libcrypto failure the output is zeroed rather than
 * left undefined, since the callers have no error path for a hash. */
static void digest(int which, const void *data, size_t len, uint8_t *out, size_t outlen)
{
	static const uint8_t empty[1];
	unsigned int n = 0;
	const EVP_MD *md;
	EVP_MD_CTX *ctx;

	pthread_once(&mds_once, fetch_mds);
	md = mds[which];
	ctx = thread_ctx();
	if (!data)
		data = empty;
	if (!md || !ctx || EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, data, len) != 1 || EVP_DigestFinal_ex(ctx, out, &n) != 1 ||
	    n != outlen)
		memset(out, 0, outlen);
}

void td_sha256(const void *data, size_t len, uint8_t out[TD_SHA256_LEN])
{
	digest(MD_SHA256, data, len, out, TD_SHA256_LEN);
}

void td_sha1(const void *data, size_t len, uint8_t out[TD_SHA1_LEN])
{
	digest(MD_SHA1, data, len, out, TD_SHA1_LEN);
}

void td_md5(const void *data, size_t len, uint8_t out[TD_MD5_LEN])
{
	digest(MD_MD5, data, len, out, TD_MD5_LEN);
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
