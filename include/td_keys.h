/* td_keys.h - private keys given with --key, matched against certificates.
 *
 * The usual cause of bad_record_mac at Finished is a server whose private
 * key is not the one its certificate names (DESIGN.md). A loaded key keeps
 * facts about its public half, and the private key itself (opaque, behind
 * priv) so that td_keys_rsa_decrypt can test whether an RSA-encrypted
 * pre-master secret was made for it ([decrypt]). The private key stays in
 * memory until td_key_clear, which frees it (libcrypto wipes it).
 */
#ifndef TD_KEYS_H
#define TD_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_error.h"
#include "td_x509.h"

/* Largest key file read; larger ones are refused before parsing. */
#define TD_KEYS_MAX_FILE ((size_t)1 << 20)

struct td_key {
	char *path;              /* copy of the file name as given; owned */
	char algorithm[16];      /* as in td_cert_key */
	unsigned bits;
	uint8_t spki_sha256[32]; /* SHA-256 of the DER SubjectPublicKeyInfo of the public half */
	char spki_sha256_b64[45]; /* the same, base64 (pin-sha256), as in td_cert_key */
	bool has_modulus;         /* RSA: rsa_modulus_sha256 as in td_cert_key */
	uint8_t rsa_modulus_sha256[32];
	/* the private key; owned, freed by td_key_clear. A struct td_key may
	 * be moved but not copied: two copies would free it twice. */
	struct td_key_private *priv;
};

/* Loads a PEM or DER private key: RSA, EC, Ed25519 (any type libcrypto
 * decodes), as PKCS#1, SEC1 or PKCS#8, unencrypted. A PEM file may hold other
 * blocks too (EC PARAMETERS, certificates): the first private key block is
 * used. The file is untrusted and never prompts for a password.
 *
 * On success *out is filled (release with td_key_clear). On failure *out is
 * zeroed and err receives one line that starts with the path as given:
 *   "<path>: no such file"                                    TD_ERR_IO
 *   "<path>: <strerror>" (other open/read errors)              TD_ERR_IO
 *   "<path>: not a regular file"                               TD_ERR_IO
 *   "<path>: larger than 1 MiB"                                TD_ERR_TOO_BIG
 *   "<path>: not a private key (PEM or DER)", possibly followed by
 *       ": the PEM block is a <NAME>" or
 *       ": the <NAME> block does not decode"                   TD_ERR_MALFORMED
 *   "<path>: encrypted key: give its password with --key-password-file FILE"
 *                                                              TD_ERR_UNSUPPORTED
 *   "<path>: private and public halves do not match"           TD_ERR_CRYPTO
 *   "<path>: public half does not encode"                      TD_ERR_MALFORMED
 *   "<path>: out of memory"                                    TD_ERR_NOMEM
 * err may be NULL when errlen is 0. */
TD_MUST_CHECK enum td_err td_keys_load(const char *path, struct td_key *out, char *err,
				       size_t errlen);
/* The same, with the password of an encrypted key (PEM PKCS#8, PEM with
 * Proc-Type: ENCRYPTED, or DER EncryptedPrivateKeyInfo); password NULL
 * behaves as td_keys_load(). A wrong password: TD_ERR_CRYPTO and
 * "<path>: encrypted key: the password from --key-password-file does not
 * decrypt it". The password is never printed. */
TD_MUST_CHECK enum td_err td_keys_load_password(const char *path, const char *password,
						struct td_key *out, char *err, size_t errlen);
/* Frees what k owns and zeroes it; k may be zeroed already. */
void td_key_clear(struct td_key *k);
/* True when the key's public half is the certificate's public key, compared
 * by SPKI SHA-256. False when either side is empty (an unloaded key, or the
 * key of a certificate that did not parse). */
bool td_keys_match(const struct td_key *k, const struct td_cert_key *ck);

/* RSA PKCS#1 v1.5 decryption (RFC 8017 §7.2.2) of in (n bytes, e.g. the
 * EncryptedPreMasterSecret of an RSA ClientKeyExchange, RFC 5246 §7.4.7.1)
 * with k's private key, into out (cap bytes); *out_len receives the
 * plaintext length (0 on failure).
 *   TD_OK               the padding checks out: in was encrypted to this key
 *   TD_ERR_CRYPTO       it does not (made with another public key, or not
 *                       the modulus length); never random bytes instead
 *                       (implicit rejection is off on OpenSSL >= 3.2)
 *   TD_ERR_UNSUPPORTED  k is not an RSA key
 *   TD_ERR_TOO_BIG      the plaintext is longer than cap
 *   TD_ERR_ARG          k holds no key, or a NULL pointer
 * Checking the plaintext as a pre-master secret is td_dec_check_pms. */
TD_MUST_CHECK enum td_err td_keys_rsa_decrypt(const struct td_key *k, const uint8_t *in, size_t n,
					      uint8_t *out, size_t cap, size_t *out_len);

#endif
