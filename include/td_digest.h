/* td_digest.h - message digests and hex, for fingerprints.
 *
 * Thin wrappers over libcrypto's EVP_Digest so that no other module needs an
 * OpenSSL header (STYLE.md rule 14). The digests cannot fail on valid
 * arguments; if libcrypto ever reports a failure (out of memory inside the
 * provider), out is filled with zeros so the caller never reads
 * uninitialised bytes.
 */
#ifndef TD_DIGEST_H
#define TD_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define TD_SHA256_LEN 32
#define TD_SHA1_LEN 20
#define TD_MD5_LEN 16

/* data may be NULL when len is 0. */
void td_sha256(const void *data, size_t len, uint8_t out[TD_SHA256_LEN]);
void td_sha1(const void *data, size_t len, uint8_t out[TD_SHA1_LEN]);
/* MD5 is broken; it is here only because JA3/JA3S are defined with it. */
void td_md5(const void *data, size_t len, uint8_t out[TD_MD5_LEN]);

/* Writes the lower-case hex of data[0..len) and a NUL into out, which must
 * hold 2 * len + 1 bytes. Returns out. */
char *td_hex(const uint8_t *data, size_t len, char *out);

#endif
