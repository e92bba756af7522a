/* td_decrypt.h - TLS key schedules, record decryption and Finished checks.
 *
 * The crypto half of [decrypt] (DESIGN.md): given secrets (from a key log,
 * or a pre-master secret recovered with the server's RSA key), derive the
 * record protection keys of each direction, open handshake and alert
 * records, and compute the Finished verify_data a transcript should carry.
 * Everything goes through libcrypto's EVP interfaces (EVP_KDF "TLS1-PRF",
 * "TLS13-KDF", EVP_CIPHER, EVP_MAC HMAC); nothing is hand-rolled.
 *
 * This module keeps no state of its own: the caller owns every struct and
 * decides which record goes where (the tls module). No OpenSSL type
 * appears here (STYLE.md rule 1); contexts are made per call, which costs
 * little because only handshake and alert records are opened.
 *
 * Secrets are wiped (OPENSSL_cleanse) from every temporary buffer here;
 * the caller wipes what it keeps with td_dec_keys_wipe().
 */
#ifndef TD_DECRYPT_H
#define TD_DECRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_error.h"

#define TD_DEC_MAX_HASH 48   /* SHA-384 */
#define TD_DEC_MAX_SECRET 48 /* TLS 1.3 traffic secret, TLS 1.2 master secret */
#define TD_DEC_MASTER_LEN 48 /* RFC 5246 §8.1 */
#define TD_DEC_PMS_LEN 48    /* RFC 5246 §7.4.7.1 */
#define TD_DEC_VERIFY_LEN 12 /* RFC 5246 §7.4.9 (TLS <= 1.2) */

enum td_dec_kind {
	TD_DEC_AEAD, /* GCM, CCM, ChaCha20-Poly1305 */
	TD_DEC_CBC,  /* block cipher with HMAC (RFC 5246 §6.2.3.2; RFC 7366) */
	TD_DEC_NULL, /* no encryption, HMAC only (RFC 5246 §6.2.3.1, null cipher) */
};

/* What decryption needs of a cipher suite. */
struct td_dec_suite {
	uint16_t id;
	bool tls13;
	uint8_t kind;       /* enum td_dec_kind */
	const char *cipher; /* EVP cipher name: "AES-128-GCM", "ChaCha20-Poly1305", ...;
			     * NULL for TD_DEC_NULL */
	uint8_t key_len;
	/* AEAD: the implicit IV (4 bytes, RFC 5288 §3 / RFC 6655, in TLS 1.2
	 * GCM/CCM; 12 for ChaCha20 (RFC 7905) and all of TLS 1.3).
	 * CBC: the block size (16 for AES, Camellia, ARIA; 8 for 3DES).
	 * NULL: 0. */
	uint8_t iv_len;
	uint8_t explicit_nonce; /* TLS 1.2 GCM/CCM: 8 bytes before the ciphertext */
	uint8_t tag_len;        /* 16, or 8 for the CCM_8 suites */
	const char *mac;        /* CBC, NULL: HMAC digest ("MD5", "SHA1", "SHA256", "SHA384");
				 * AEAD: NULL */
	uint8_t mac_len;        /* CBC, NULL: HMAC output length; AEAD: 0 */
	const char *hash;       /* PRF (TLS 1.2) or HKDF/transcript hash: "SHA256", "SHA384" */
	uint8_t hash_len;
};

/* The suite's parameters; NULL when it cannot be decrypted here: unknown;
 * a key exchange without a certificate (anon, PSK, SRP, KRB5) or an export
 * one; RC4, DES, SEED, IDEA, GOST; the TLS 1.3 integrity-only suites (RFC
 * 9150); the Camellia-GCM suites (OpenSSL 3.0 has no such cipher); or a
 * cipher or MAC digest this libcrypto lacks (each lookup checks them with
 * EVP_CIPHER_fetch / EVP_MD_fetch). */
const struct td_dec_suite *td_dec_suite(uint16_t id);

/* One direction's record protection (RFC 5246 §6.1 security parameters /
 * RFC 8446 §7.3 traffic keys). Plain data owned by the caller. */
struct td_dec_keys {
	const struct td_dec_suite *suite; /* NULL: not set */
	uint16_t version;                 /* 0x0300..0x0304 */
	bool etm;                         /* RFC 7366 encrypt_then_mac negotiated (CBC) */
	uint8_t key[32];
	uint8_t iv[16]; /* AEAD: implicit IV; CBC TLS 1.0/SSL 3: the running IV */
	uint8_t mac_key[48];
	uint64_t seq; /* record sequence number (RFC 5246 §6.1) */
};

void td_dec_keys_wipe(struct td_dec_keys *k);

/* ---- TLS <= 1.2 (RFC 5246 §5, §6.3, §8.1; RFC 2246 §5; RFC 7627) ------ */

/* master_secret = PRF(pms, "master secret", client_random + server_random)
 * or, when session_hash is not NULL (extended master secret, RFC 7627 §4),
 * PRF(pms, "extended master secret", session_hash). TLS 1.0/1.1 use the
 * MD5/SHA-1 PRF, TLS 1.2 the suite's hash. SSL 3.0: TD_ERR_UNSUPPORTED. */
TD_MUST_CHECK enum td_err td_dec_master_secret(const struct td_dec_suite *s, uint16_t version,
					       const uint8_t *pms, size_t pms_len,
					       const uint8_t client_random[32],
					       const uint8_t server_random[32],
					       const uint8_t *session_hash, size_t session_hash_len,
					       uint8_t ms[TD_DEC_MASTER_LEN]);

/* key_block = PRF(ms, "key expansion", server_random + client_random),
 * cut into client/server MAC keys, keys and IVs (RFC 5246 §6.3); both
 * sequence numbers start at 0. */
TD_MUST_CHECK enum td_err td_dec_tls12_keys(const struct td_dec_suite *s, uint16_t version,
					    bool etm, const uint8_t ms[TD_DEC_MASTER_LEN],
					    const uint8_t client_random[32],
					    const uint8_t server_random[32],
					    struct td_dec_keys *client, struct td_dec_keys *server);

/* verify_data = PRF(ms, "client finished" | "server finished",
 * Hash(handshake_messages))[0..11] (RFC 5246 §7.4.9; TLS 1.0/1.1:
 * MD5(msgs) + SHA1(msgs), RFC 2246 §7.4.9). transcript is every handshake
 * message (with its 4-byte header) before the Finished being checked. */
TD_MUST_CHECK enum td_err td_dec_tls12_finished(const struct td_dec_suite *s, uint16_t version,
						const uint8_t ms[TD_DEC_MASTER_LEN], bool client,
						const uint8_t *transcript, size_t n,
						uint8_t out[TD_DEC_VERIFY_LEN]);

/* The pre-master secret an RSA ClientKeyExchange carried, once decrypted
 * with PKCS#1 v1.5 padding (td_keys_rsa_decrypt): RFC 5246 §7.4.7.1 wants
 * 48 bytes starting with the client_version of the ClientHello. */
enum td_dec_pms_check {
	TD_PMS_OK,
	TD_PMS_BAD_LENGTH,  /* padding fine, but not 48 bytes */
	TD_PMS_BAD_VERSION, /* 48 bytes, first two are not client_version */
};
enum td_dec_pms_check td_dec_check_pms(const uint8_t *pms, size_t n, uint16_t client_version);

/* ---- TLS 1.3 (RFC 8446 §7.1, §7.3, §4.4.4) ---------------------------- */

/* key = HKDF-Expand-Label(secret, "key", "", key_length),
 * iv = HKDF-Expand-Label(secret, "iv", "", iv_length); seq = 0.
 * secret is a traffic secret from the key log (hash_len bytes). */
TD_MUST_CHECK enum td_err td_dec_tls13_keys(const struct td_dec_suite *s, const uint8_t *secret,
					    size_t secret_len, struct td_dec_keys *k);

/* finished_key = HKDF-Expand-Label(base_key, "finished", "", Hash.length);
 * verify_data = HMAC(finished_key, transcript_hash). base_key is the
 * sender's handshake traffic secret; transcript_hash is the hash of every
 * message before this Finished (see td_dec_transcript_hash). out receives
 * hash_len bytes. */
TD_MUST_CHECK enum td_err td_dec_tls13_finished(const struct td_dec_suite *s,
						const uint8_t *base_key, size_t base_key_len,
						const uint8_t *transcript_hash, size_t hash_len,
						uint8_t out[TD_DEC_MAX_HASH]);

/* Hash(transcript) with the suite's hash. For TLS 1.3 with a
 * HelloRetryRequest, the caller first replaces ClientHello1 with the
 * synthetic message_hash message (RFC 8446 §4.4.1) built from
 * td_dec_hash of it. *out_len receives the hash length. */
TD_MUST_CHECK enum td_err td_dec_hash(const char *hash, const uint8_t *p, size_t n,
				      uint8_t out[TD_DEC_MAX_HASH], size_t *out_len);

/* ---- records ----------------------------------------------------------- */

enum td_dec_result {
	TD_DEC_OK,
	TD_DEC_BAD_TAG,     /* AEAD authentication failed */
	TD_DEC_BAD_MAC,     /* CBC: HMAC does not match */
	TD_DEC_BAD_PADDING, /* CBC: padding bytes or length wrong */
	TD_DEC_SHORT,       /* record too short for nonce/IV + tag/MAC */
	TD_DEC_NO_TYPE,     /* TLS 1.3: inner plaintext all zeros (RFC 8446 §5.4) */
	TD_DEC_FAILED,      /* libcrypto refused (unsupported, out of memory) */
};
/* "bad_tag", "bad_mac", ... (the JSON schema's values) */
const char *td_dec_result_name(enum td_dec_result r);
/* The same in words, for reports: "AEAD authentication tag check failed" */
const char *td_dec_result_words(enum td_dec_result r);

/* Opens one protected record. hdr is its 5-byte header as on the wire
 * (type, version, length = n; the AAD of RFC 5246 §6.2.3.3 and RFC 8446
 * §5.2 is built from it and k->seq). out must hold n bytes and must not
 * overlap body; on any result but TD_DEC_OK it is wiped. On TD_DEC_OK
 * out[0..*out_len) is the plaintext (TLS 1.3: content without the type and
 * padding) and *inner_type its content type (TLS 1.3: from the inner
 * plaintext; else hdr[0]). k->seq advances on every call, whatever the
 * result, because the peer's counter advanced too. For TLS 1.0 CBC, the
 * last ciphertext block becomes the next record's IV. */
TD_MUST_CHECK enum td_dec_result td_dec_record(struct td_dec_keys *k, const uint8_t hdr[5],
					       const uint8_t *body, size_t n, uint8_t *out,
					       size_t *out_len, uint8_t *inner_type);

/* A record that is not opened (application data): its sequence number
 * counts all the same, and with TLS 1.0 CBC its last ciphertext block is
 * the next record's IV (RFC 2246 §6.2.3.2), taken without decrypting.
 * body may be NULL when it was not kept (any version but TLS 1.0 CBC). */
void td_dec_skip(struct td_dec_keys *k, const uint8_t *body, size_t n);

#endif
