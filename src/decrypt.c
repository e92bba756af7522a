/* decrypt.c - TLS key schedules, record decryption and Finished checks
 * (see td_decrypt.h).
 *
 * One of the three files allowed to include OpenSSL headers (STYLE.md
 * rule 1). Every primitive is libcrypto's, fetched per call:
 *   - the TLS <= 1.2 PRF is EVP_KDF "TLS1-PRF" (RFC 5246 §5; for TLS
 *     1.0/1.1 the digest "MD5-SHA1" makes it the RFC 2246 §5 PRF, P_MD5
 *     xor P_SHA-1 over the two halves of the secret);
 *   - HKDF-Expand-Label is EVP_KDF "TLS13-KDF" in EXPAND_ONLY mode with
 *     the prefix "tls13 ": libcrypto builds the HkdfLabel of RFC 8446 §7.1;
 *   - HMAC is EVP_MAC "HMAC", digests EVP_MD, ciphers EVP_CIPHER.
 * Each public entry point brackets its libcrypto calls with
 * ERR_set_mark/ERR_pop_to_mark, so a failure here leaves nothing in the
 * error queue for another module to trip over.
 *
 * Records come from a capture: nothing here answers a peer, so there is no
 * padding oracle to defend and the CBC checks need not run in constant time
 * (Lucky 13). Tags and MACs are still compared with CRYPTO_memcmp.
 */
#include "td_decrypt.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#define TLS10 0x0301
#define TLS11 0x0302
#define TLS12 0x0303
#define TLS13 0x0304
#define SSL30 0x0300

/* RFC 8446 §5.3, RFC 7905 §2, RFC 5288 §3: every AEAD nonce here is 12
 * bytes. */
#define NONCE_LEN 12
/* A record's length field is 16 bits (RFC 5246 §6.2.1). */
#define MAX_RECORD 0xffff
/* Longest key block: two HMAC-SHA384 keys, two AES-256 keys, two 16-byte
 * IVs (RFC 5246 §6.3). */
#define MAX_KEY_BLOCK (2 * 48 + 2 * 32 + 2 * 16)

/* ---- the suites that can be decrypted ----------------------------------- */

/* Which suites exist and what their names say is data/tls-cipher-suites.csv
 * (td_names_cipher); this table adds only what decryption needs, and
 * test/check_decrypt.c checks every row against td_names_cipher() (bulk
 * cipher, MAC, PRF hash, key exchange). The record protection of each
 * family is written once, as a macro, and the rows name it. */

/* TLS 1.3 (RFC 8446 §5.3): 12-byte IV, XORed with the sequence number. */
#define TLS13_NONCE .tls13 = true, .iv_len = NONCE_LEN, .explicit_nonce = 0
/* TLS 1.2 GCM (RFC 5288 §3, also ARIA-GCM: RFC 6209) and CCM (RFC 6655
 * §3): 4-byte salt from the key block, 8 explicit bytes in front of each
 * record. */
#define SALT_NONCE .iv_len = 4, .explicit_nonce = 8
/* TLS 1.2 ChaCha20-Poly1305 (RFC 7905 §2): like TLS 1.3. */
#define CHACHA_NONCE .iv_len = NONCE_LEN, .explicit_nonce = 0

#define AES128_GCM .kind = TD_DEC_AEAD, .cipher = "AES-128-GCM", .key_len = 16, .tag_len = 16
#define AES256_GCM .kind = TD_DEC_AEAD, .cipher = "AES-256-GCM", .key_len = 32, .tag_len = 16
#define AES128_CCM .kind = TD_DEC_AEAD, .cipher = "AES-128-CCM", .key_len = 16, .tag_len = 16
#define AES256_CCM .kind = TD_DEC_AEAD, .cipher = "AES-256-CCM", .key_len = 32, .tag_len = 16
#define AES128_CCM8 .kind = TD_DEC_AEAD, .cipher = "AES-128-CCM", .key_len = 16, .tag_len = 8
#define AES256_CCM8 .kind = TD_DEC_AEAD, .cipher = "AES-256-CCM", .key_len = 32, .tag_len = 8
#define CHACHA20 .kind = TD_DEC_AEAD, .cipher = "ChaCha20-Poly1305", .key_len = 32, .tag_len = 16
#define ARIA128_GCM .kind = TD_DEC_AEAD, .cipher = "ARIA-128-GCM", .key_len = 16, .tag_len = 16
#define ARIA256_GCM .kind = TD_DEC_AEAD, .cipher = "ARIA-256-GCM", .key_len = 32, .tag_len = 16

/* CBC: iv_len is the block size (RFC 5246 §6.2.3.2). */
#define AES128_CBC .kind = TD_DEC_CBC, .cipher = "AES-128-CBC", .key_len = 16, .iv_len = 16
#define AES256_CBC .kind = TD_DEC_CBC, .cipher = "AES-256-CBC", .key_len = 32, .iv_len = 16
#define DES3_CBC .kind = TD_DEC_CBC, .cipher = "DES-EDE3-CBC", .key_len = 24, .iv_len = 8
#define CAMELLIA128_CBC \
	.kind = TD_DEC_CBC, .cipher = "CAMELLIA-128-CBC", .key_len = 16, .iv_len = 16
#define CAMELLIA256_CBC \
	.kind = TD_DEC_CBC, .cipher = "CAMELLIA-256-CBC", .key_len = 32, .iv_len = 16
#define ARIA128_CBC .kind = TD_DEC_CBC, .cipher = "ARIA-128-CBC", .key_len = 16, .iv_len = 16
#define ARIA256_CBC .kind = TD_DEC_CBC, .cipher = "ARIA-256-CBC", .key_len = 32, .iv_len = 16

/* NULL encryption (RFC 5246 §6.2.3.1): no key, no IV, only the MAC. */
#define NULL_CIPHER .kind = TD_DEC_NULL, .cipher = NULL, .key_len = 0, .iv_len = 0

#define HMAC_MD5 .mac = "MD5", .mac_len = 16
#define HMAC_SHA1 .mac = "SHA1", .mac_len = 20
#define HMAC_SHA256 .mac = "SHA256", .mac_len = 32
#define HMAC_SHA384 .mac = "SHA384", .mac_len = 48

/* The PRF / HKDF / transcript hash: SHA-384 for the *_SHA384 suites,
 * SHA-256 for every other (RFC 5246 §5, RFC 5289 §3.2, RFC 6655 §4; the
 * Camellia and ARIA RFCs 5932, 6367 and 6209 say the same). */
#define SHA256 .hash = "SHA256", .hash_len = 32
#define SHA384 .hash = "SHA384", .hash_len = 48

static const struct td_dec_suite suites[] = {
	/* TLS 1.3: RFC 8446 §B.4 */
	{ .id = 0x1301, AES128_GCM, TLS13_NONCE, SHA256 },  /* TLS_AES_128_GCM_SHA256 */
	{ .id = 0x1302, AES256_GCM, TLS13_NONCE, SHA384 },  /* TLS_AES_256_GCM_SHA384 */
	{ .id = 0x1303, CHACHA20, TLS13_NONCE, SHA256 },    /* TLS_CHACHA20_POLY1305_SHA256 */
	{ .id = 0x1304, AES128_CCM, TLS13_NONCE, SHA256 },  /* TLS_AES_128_CCM_SHA256 */
	{ .id = 0x1305, AES128_CCM8, TLS13_NONCE, SHA256 }, /* TLS_AES_128_CCM_8_SHA256 */
	/* AES-CBC, 3DES-CBC: RFC 5246 §A.5 (RSA, DH, DHE), RFC 4492 §6 (ECDH,
	 * ECDHE), RFC 5289 §3.1 (ECDH, ECDHE with SHA-256/384) */
	{ .id = 0x000a, DES3_CBC, HMAC_SHA1, SHA256 },     /* RSA_WITH_3DES_EDE_CBC_SHA */
	{ .id = 0x000d, DES3_CBC, HMAC_SHA1, SHA256 },     /* DH_DSS_WITH_3DES_EDE_CBC_SHA */
	{ .id = 0x0010, DES3_CBC, HMAC_SHA1, SHA256 },     /* DH_RSA_WITH_3DES_EDE_CBC_SHA */
	{ .id = 0x0013, DES3_CBC, HMAC_SHA1, SHA256 },     /* DHE_DSS_WITH_3DES_EDE_CBC_SHA */
	{ .id = 0x0016, DES3_CBC, HMAC_SHA1, SHA256 },     /* DHE_RSA_WITH_3DES_EDE_CBC_SHA */
	{ .id = 0x002f, AES128_CBC, HMAC_SHA1, SHA256 },   /* RSA_WITH_AES_128_CBC_SHA */
	{ .id = 0x0030, AES128_CBC, HMAC_SHA1, SHA256 },   /* DH_DSS_WITH_AES_128_CBC_SHA */
	{ .id = 0x0031, AES128_CBC, HMAC_SHA1, SHA256 },   /* DH_RSA_WITH_AES_128_CBC_SHA */
	{ .id = 0x0032, AES128_CBC, HMAC_SHA1, SHA256 },   /* DHE_DSS_WITH_AES_128_CBC_SHA */
	{ .id = 0x0033, AES128_CBC, HMAC_SHA1, SHA256 },   /* DHE_RSA_WITH_AES_128_CBC_SHA */
	{ .id = 0x0035, AES256_CBC, HMAC_SHA1, SHA256 },   /* RSA_WITH_AES_256_CBC_SHA */
	{ .id = 0x0036, AES256_CBC, HMAC_SHA1, SHA256 },   /* DH_DSS_WITH_AES_256_CBC_SHA */
	{ .id = 0x0037, AES256_CBC, HMAC_SHA1, SHA256 },   /* DH_RSA_WITH_AES_256_CBC_SHA */
	{ .id = 0x0038, AES256_CBC, HMAC_SHA1, SHA256 },   /* DHE_DSS_WITH_AES_256_CBC_SHA */
	{ .id = 0x0039, AES256_CBC, HMAC_SHA1, SHA256 },   /* DHE_RSA_WITH_AES_256_CBC_SHA */
	{ .id = 0x003c, AES128_CBC, HMAC_SHA256, SHA256 }, /* RSA_WITH_AES_128_CBC_SHA256 */
	{ .id = 0x003d, AES256_CBC, HMAC_SHA256, SHA256 }, /* RSA_WITH_AES_256_CBC_SHA256 */
	{ .id = 0x003e, AES128_CBC, HMAC_SHA256, SHA256 }, /* DH_DSS_WITH_AES_128_CBC_SHA256 */
	{ .id = 0x003f, AES128_CBC, HMAC_SHA256, SHA256 }, /* DH_RSA_WITH_AES_128_CBC_SHA256 */
	{ .id = 0x0040, AES128_CBC, HMAC_SHA256, SHA256 }, /* DHE_DSS_WITH_AES_128_CBC_SHA256 */
	{ .id = 0x0067, AES128_CBC, HMAC_SHA256, SHA256 }, /* DHE_RSA_WITH_AES_128_CBC_SHA256 */
	{ .id = 0x0068, AES256_CBC, HMAC_SHA256, SHA256 }, /* DH_DSS_WITH_AES_256_CBC_SHA256 */
	{ .id = 0x0069, AES256_CBC, HMAC_SHA256, SHA256 }, /* DH_RSA_WITH_AES_256_CBC_SHA256 */
	{ .id = 0x006a, AES256_CBC, HMAC_SHA256, SHA256 }, /* DHE_DSS_WITH_AES_256_CBC_SHA256 */
	{ .id = 0x006b, AES256_CBC, HMAC_SHA256, SHA256 }, /* DHE_RSA_WITH_AES_256_CBC_SHA256 */
	{ .id = 0xc003, DES3_CBC, HMAC_SHA1, SHA256 },     /* ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA */
	{ .id = 0xc004, AES128_CBC, HMAC_SHA1, SHA256 },   /* ECDH_ECDSA_WITH_AES_128_CBC_SHA */
	{ .id = 0xc005, AES256_CBC, HMAC_SHA1, SHA256 },   /* ECDH_ECDSA_WITH_AES_256_CBC_SHA */
	{ .id = 0xc008, DES3_CBC, HMAC_SHA1, SHA256 },     /* ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA */
	{ .id = 0xc009, AES128_CBC, HMAC_SHA1, SHA256 },   /* ECDHE_ECDSA_WITH_AES_128_CBC_SHA */
	{ .id = 0xc00a, AES256_CBC, HMAC_SHA1, SHA256 },   /* ECDHE_ECDSA_WITH_AES_256_CBC_SHA */
	{ .id = 0xc00d, DES3_CBC, HMAC_SHA1, SHA256 },     /* ECDH_RSA_WITH_3DES_EDE_CBC_SHA */
	{ .id = 0xc00e, AES128_CBC, HMAC_SHA1, SHA256 },   /* ECDH_RSA_WITH_AES_128_CBC_SHA */
	{ .id = 0xc00f, AES256_CBC, HMAC_SHA1, SHA256 },   /* ECDH_RSA_WITH_AES_256_CBC_SHA */
	{ .id = 0xc012, DES3_CBC, HMAC_SHA1, SHA256 },     /* ECDHE_RSA_WITH_3DES_EDE_CBC_SHA */
	{ .id = 0xc013, AES128_CBC, HMAC_SHA1, SHA256 },   /* ECDHE_RSA_WITH_AES_128_CBC_SHA */
	{ .id = 0xc014, AES256_CBC, HMAC_SHA1, SHA256 },   /* ECDHE_RSA_WITH_AES_256_CBC_SHA */
	{ .id = 0xc023, AES128_CBC, HMAC_SHA256, SHA256 }, /* ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 */
	{ .id = 0xc024, AES256_CBC, HMAC_SHA384, SHA384 }, /* ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 */
	{ .id = 0xc025, AES128_CBC, HMAC_SHA256, SHA256 }, /* ECDH_ECDSA_WITH_AES_128_CBC_SHA256 */
	{ .id = 0xc026, AES256_CBC, HMAC_SHA384, SHA384 }, /* ECDH_ECDSA_WITH_AES_256_CBC_SHA384 */
	{ .id = 0xc027, AES128_CBC, HMAC_SHA256, SHA256 }, /* ECDHE_RSA_WITH_AES_128_CBC_SHA256 */
	{ .id = 0xc028, AES256_CBC, HMAC_SHA384, SHA384 }, /* ECDHE_RSA_WITH_AES_256_CBC_SHA384 */
	{ .id = 0xc029, AES128_CBC, HMAC_SHA256, SHA256 }, /* ECDH_RSA_WITH_AES_128_CBC_SHA256 */
	{ .id = 0xc02a, AES256_CBC, HMAC_SHA384, SHA384 }, /* ECDH_RSA_WITH_AES_256_CBC_SHA384 */
	/* AES-GCM: RFC 5288 §3 (RSA, DH, DHE), RFC 5289 §3.2 (ECDH, ECDHE) */
	{ .id = 0x009c, AES128_GCM, SALT_NONCE, SHA256 }, /* RSA_WITH_AES_128_GCM_SHA256 */
	{ .id = 0x009d, AES256_GCM, SALT_NONCE, SHA384 }, /* RSA_WITH_AES_256_GCM_SHA384 */
	{ .id = 0x009e, AES128_GCM, SALT_NONCE, SHA256 }, /* DHE_RSA_WITH_AES_128_GCM_SHA256 */
	{ .id = 0x009f, AES256_GCM, SALT_NONCE, SHA384 }, /* DHE_RSA_WITH_AES_256_GCM_SHA384 */
	{ .id = 0x00a0, AES128_GCM, SALT_NONCE, SHA256 }, /* DH_RSA_WITH_AES_128_GCM_SHA256 */
	{ .id = 0x00a1, AES256_GCM, SALT_NONCE, SHA384 }, /* DH_RSA_WITH_AES_256_GCM_SHA384 */
	{ .id = 0x00a2, AES128_GCM, SALT_NONCE, SHA256 }, /* DHE_DSS_WITH_AES_128_GCM_SHA256 */
	{ .id = 0x00a3, AES256_GCM, SALT_NONCE, SHA384 }, /* DHE_DSS_WITH_AES_256_GCM_SHA384 */
	{ .id = 0x00a4, AES128_GCM, SALT_NONCE, SHA256 }, /* DH_DSS_WITH_AES_128_GCM_SHA256 */
	{ .id = 0x00a5, AES256_GCM, SALT_NONCE, SHA384 }, /* DH_DSS_WITH_AES_256_GCM_SHA384 */
	{ .id = 0xc02b, AES128_GCM, SALT_NONCE, SHA256 }, /* ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 */
	{ .id = 0xc02c, AES256_GCM, SALT_NONCE, SHA384 }, /* ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 */
	{ .id = 0xc02d, AES128_GCM, SALT_NONCE, SHA256 }, /* ECDH_ECDSA_WITH_AES_128_GCM_SHA256 */
	{ .id = 0xc02e, AES256_GCM, SALT_NONCE, SHA384 }, /* ECDH_ECDSA_WITH_AES_256_GCM_SHA384 */
	{ .id = 0xc02f, AES128_GCM, SALT_NONCE, SHA256 }, /* ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
	{ .id = 0xc030, AES256_GCM, SALT_NONCE, SHA384 }, /* ECDHE_RSA_WITH_AES_256_GCM_SHA384 */
	{ .id = 0xc031, AES128_GCM, SALT_NONCE, SHA256 }, /* ECDH_RSA_WITH_AES_128_GCM_SHA256 */
	{ .id = 0xc032, AES256_GCM, SALT_NONCE, SHA384 }, /* ECDH_RSA_WITH_AES_256_GCM_SHA384 */
	/* AES-CCM: RFC 6655 §3 (RSA, DHE_RSA), RFC 7251 §2 (ECDHE_ECDSA) */
	{ .id = 0xc09c, AES128_CCM, SALT_NONCE, SHA256 },  /* RSA_WITH_AES_128_CCM */
	{ .id = 0xc09d, AES256_CCM, SALT_NONCE, SHA256 },  /* RSA_WITH_AES_256_CCM */
	{ .id = 0xc09e, AES128_CCM, SALT_NONCE, SHA256 },  /* DHE_RSA_WITH_AES_128_CCM */
	{ .id = 0xc09f, AES256_CCM, SALT_NONCE, SHA256 },  /* DHE_RSA_WITH_AES_256_CCM */
	{ .id = 0xc0a0, AES128_CCM8, SALT_NONCE, SHA256 }, /* RSA_WITH_AES_128_CCM_8 */
	{ .id = 0xc0a1, AES256_CCM8, SALT_NONCE, SHA256 }, /* RSA_WITH_AES_256_CCM_8 */
	{ .id = 0xc0a2, AES128_CCM8, SALT_NONCE, SHA256 }, /* DHE_RSA_WITH_AES_128_CCM_8 */
	{ .id = 0xc0a3, AES256_CCM8, SALT_NONCE, SHA256 }, /* DHE_RSA_WITH_AES_256_CCM_8 */
	{ .id = 0xc0ac, AES128_CCM, SALT_NONCE, SHA256 },  /* ECDHE_ECDSA_WITH_AES_128_CCM */
	{ .id = 0xc0ad, AES256_CCM, SALT_NONCE, SHA256 },  /* ECDHE_ECDSA_WITH_AES_256_CCM */
	{ .id = 0xc0ae, AES128_CCM8, SALT_NONCE, SHA256 }, /* ECDHE_ECDSA_WITH_AES_128_CCM_8 */
	{ .id = 0xc0af, AES256_CCM8, SALT_NONCE, SHA256 }, /* ECDHE_ECDSA_WITH_AES_256_CCM_8 */
	/* ChaCha20-Poly1305: RFC 7905 §2 (not the pre-RFC 0xCC13..0xCC15) */
	{ .id = 0xcca8, CHACHA20, CHACHA_NONCE, SHA256 }, /* ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 */
	{ .id = 0xcca9, CHACHA20, CHACHA_NONCE, SHA256 }, /* ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 */
	{ .id = 0xccaa, CHACHA20, CHACHA_NONCE, SHA256 }, /* DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 */
	/* Camellia-CBC: RFC 5932 (RSA, DH, DHE), RFC 6367 (ECDH, ECDHE). The
	 * Camellia-GCM suites of RFC 6367 (0xC07A..0xC08D) are not here: OpenSSL
	 * 3.0 has no CAMELLIA-*-GCM cipher to open them with. */
	{ .id = 0x0041, CAMELLIA128_CBC, HMAC_SHA1, SHA256 },   /* RSA_WITH_CAMELLIA_128_CBC_SHA */
	{ .id = 0x0042, CAMELLIA128_CBC, HMAC_SHA1, SHA256 },   /* DH_DSS_WITH_CAMELLIA_128_CBC_SHA */
	{ .id = 0x0043, CAMELLIA128_CBC, HMAC_SHA1, SHA256 },   /* DH_RSA_WITH_CAMELLIA_128_CBC_SHA */
	{ .id = 0x0044, CAMELLIA128_CBC, HMAC_SHA1, SHA256 },   /* DHE_DSS_WITH_CAMELLIA_128_CBC_SHA */
	{ .id = 0x0045, CAMELLIA128_CBC, HMAC_SHA1, SHA256 },   /* DHE_RSA_WITH_CAMELLIA_128_CBC_SHA */
	{ .id = 0x0084, CAMELLIA256_CBC, HMAC_SHA1, SHA256 },   /* RSA_WITH_CAMELLIA_256_CBC_SHA */
	{ .id = 0x0085, CAMELLIA256_CBC, HMAC_SHA1, SHA256 },   /* DH_DSS_WITH_CAMELLIA_256_CBC_SHA */
	{ .id = 0x0086, CAMELLIA256_CBC, HMAC_SHA1, SHA256 },   /* DH_RSA_WITH_CAMELLIA_256_CBC_SHA */
	{ .id = 0x0087, CAMELLIA256_CBC, HMAC_SHA1, SHA256 },   /* DHE_DSS_WITH_CAMELLIA_256_CBC_SHA */
	{ .id = 0x0088, CAMELLIA256_CBC, HMAC_SHA1, SHA256 },   /* DHE_RSA_WITH_CAMELLIA_256_CBC_SHA */
	{ .id = 0x00ba, CAMELLIA128_CBC, HMAC_SHA256, SHA256 }, /* RSA_WITH_CAMELLIA_128_CBC_SHA256 */
	{ .id = 0x00bb, CAMELLIA128_CBC, HMAC_SHA256, SHA256 }, /* DH_DSS_WITH_CAMELLIA_128_CBC_SHA256 */
	{ .id = 0x00bc, CAMELLIA128_CBC, HMAC_SHA256, SHA256 }, /* DH_RSA_WITH_CAMELLIA_128_CBC_SHA256 */
	{ .id = 0x00bd, CAMELLIA128_CBC, HMAC_SHA256, SHA256 }, /* DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256 */
	{ .id = 0x00be, CAMELLIA128_CBC, HMAC_SHA256, SHA256 }, /* DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256 */
	{ .id = 0x00c0, CAMELLIA256_CBC, HMAC_SHA256, SHA256 }, /* RSA_WITH_CAMELLIA_256_CBC_SHA256 */
	{ .id = 0x00c1, CAMELLIA256_CBC, HMAC_SHA256, SHA256 }, /* DH_DSS_WITH_CAMELLIA_256_CBC_SHA256 */
	{ .id = 0x00c2, CAMELLIA256_CBC, HMAC_SHA256, SHA256 }, /* DH_RSA_WITH_CAMELLIA_256_CBC_SHA256 */
	{ .id = 0x00c3, CAMELLIA256_CBC, HMAC_SHA256, SHA256 }, /* DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256 */
	{ .id = 0x00c4, CAMELLIA256_CBC, HMAC_SHA256, SHA256 }, /* DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256 */
	{ .id = 0xc072, CAMELLIA128_CBC, HMAC_SHA256, SHA256 }, /* ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256 */
	{ .id = 0xc073, CAMELLIA256_CBC, HMAC_SHA384, SHA384 }, /* ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384 */
	{ .id = 0xc074, CAMELLIA128_CBC, HMAC_SHA256, SHA256 }, /* ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256 */
	{ .id = 0xc075, CAMELLIA256_CBC, HMAC_SHA384, SHA384 }, /* ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384 */
	{ .id = 0xc076, CAMELLIA128_CBC, HMAC_SHA256, SHA256 }, /* ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256 */
	{ .id = 0xc077, CAMELLIA256_CBC, HMAC_SHA384, SHA384 }, /* ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384 */
	{ .id = 0xc078, CAMELLIA128_CBC, HMAC_SHA256, SHA256 }, /* ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256 */
	{ .id = 0xc079, CAMELLIA256_CBC, HMAC_SHA384, SHA384 }, /* ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384 */
	/* ARIA-CBC: RFC 6209 */
	{ .id = 0xc03c, ARIA128_CBC, HMAC_SHA256, SHA256 }, /* RSA_WITH_ARIA_128_CBC_SHA256 */
	{ .id = 0xc03d, ARIA256_CBC, HMAC_SHA384, SHA384 }, /* RSA_WITH_ARIA_256_CBC_SHA384 */
	{ .id = 0xc03e, ARIA128_CBC, HMAC_SHA256, SHA256 }, /* DH_DSS_WITH_ARIA_128_CBC_SHA256 */
	{ .id = 0xc03f, ARIA256_CBC, HMAC_SHA384, SHA384 }, /* DH_DSS_WITH_ARIA_256_CBC_SHA384 */
	{ .id = 0xc040, ARIA128_CBC, HMAC_SHA256, SHA256 }, /* DH_RSA_WITH_ARIA_128_CBC_SHA256 */
	{ .id = 0xc041, ARIA256_CBC, HMAC_SHA384, SHA384 }, /* DH_RSA_WITH_ARIA_256_CBC_SHA384 */
	{ .id = 0xc042, ARIA128_CBC, HMAC_SHA256, SHA256 }, /* DHE_DSS_WITH_ARIA_128_CBC_SHA256 */
	{ .id = 0xc043, ARIA256_CBC, HMAC_SHA384, SHA384 }, /* DHE_DSS_WITH_ARIA_256_CBC_SHA384 */
	{ .id = 0xc044, ARIA128_CBC, HMAC_SHA256, SHA256 }, /* DHE_RSA_WITH_ARIA_128_CBC_SHA256 */
	{ .id = 0xc045, ARIA256_CBC, HMAC_SHA384, SHA384 }, /* DHE_RSA_WITH_ARIA_256_CBC_SHA384 */
	{ .id = 0xc048, ARIA128_CBC, HMAC_SHA256, SHA256 }, /* ECDHE_ECDSA_WITH_ARIA_128_CBC_SHA256 */
	{ .id = 0xc049, ARIA256_CBC, HMAC_SHA384, SHA384 }, /* ECDHE_ECDSA_WITH_ARIA_256_CBC_SHA384 */
	{ .id = 0xc04a, ARIA128_CBC, HMAC_SHA256, SHA256 }, /* ECDH_ECDSA_WITH_ARIA_128_CBC_SHA256 */
	{ .id = 0xc04b, ARIA256_CBC, HMAC_SHA384, SHA384 }, /* ECDH_ECDSA_WITH_ARIA_256_CBC_SHA384 */
	{ .id = 0xc04c, ARIA128_CBC, HMAC_SHA256, SHA256 }, /* ECDHE_RSA_WITH_ARIA_128_CBC_SHA256 */
	{ .id = 0xc04d, ARIA256_CBC, HMAC_SHA384, SHA384 }, /* ECDHE_RSA_WITH_ARIA_256_CBC_SHA384 */
	{ .id = 0xc04e, ARIA128_CBC, HMAC_SHA256, SHA256 }, /* ECDH_RSA_WITH_ARIA_128_CBC_SHA256 */
	{ .id = 0xc04f, ARIA256_CBC, HMAC_SHA384, SHA384 }, /* ECDH_RSA_WITH_ARIA_256_CBC_SHA384 */
	/* ARIA-GCM: RFC 6209, with the nonce and AAD of AES-GCM (RFC 5288 §3) */
	{ .id = 0xc050, ARIA128_GCM, SALT_NONCE, SHA256 }, /* RSA_WITH_ARIA_128_GCM_SHA256 */
	{ .id = 0xc051, ARIA256_GCM, SALT_NONCE, SHA384 }, /* RSA_WITH_ARIA_256_GCM_SHA384 */
	{ .id = 0xc052, ARIA128_GCM, SALT_NONCE, SHA256 }, /* DHE_RSA_WITH_ARIA_128_GCM_SHA256 */
	{ .id = 0xc053, ARIA256_GCM, SALT_NONCE, SHA384 }, /* DHE_RSA_WITH_ARIA_256_GCM_SHA384 */
	{ .id = 0xc054, ARIA128_GCM, SALT_NONCE, SHA256 }, /* DH_RSA_WITH_ARIA_128_GCM_SHA256 */
	{ .id = 0xc055, ARIA256_GCM, SALT_NONCE, SHA384 }, /* DH_RSA_WITH_ARIA_256_GCM_SHA384 */
	{ .id = 0xc056, ARIA128_GCM, SALT_NONCE, SHA256 }, /* DHE_DSS_WITH_ARIA_128_GCM_SHA256 */
	{ .id = 0xc057, ARIA256_GCM, SALT_NONCE, SHA384 }, /* DHE_DSS_WITH_ARIA_256_GCM_SHA384 */
	{ .id = 0xc058, ARIA128_GCM, SALT_NONCE, SHA256 }, /* DH_DSS_WITH_ARIA_128_GCM_SHA256 */
	{ .id = 0xc059, ARIA256_GCM, SALT_NONCE, SHA384 }, /* DH_DSS_WITH_ARIA_256_GCM_SHA384 */
	{ .id = 0xc05c, ARIA128_GCM, SALT_NONCE, SHA256 }, /* ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256 */
	{ .id = 0xc05d, ARIA256_GCM, SALT_NONCE, SHA384 }, /* ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384 */
	{ .id = 0xc05e, ARIA128_GCM, SALT_NONCE, SHA256 }, /* ECDH_ECDSA_WITH_ARIA_128_GCM_SHA256 */
	{ .id = 0xc05f, ARIA256_GCM, SALT_NONCE, SHA384 }, /* ECDH_ECDSA_WITH_ARIA_256_GCM_SHA384 */
	{ .id = 0xc060, ARIA128_GCM, SALT_NONCE, SHA256 }, /* ECDHE_RSA_WITH_ARIA_128_GCM_SHA256 */
	{ .id = 0xc061, ARIA256_GCM, SALT_NONCE, SHA384 }, /* ECDHE_RSA_WITH_ARIA_256_GCM_SHA384 */
	{ .id = 0xc062, ARIA128_GCM, SALT_NONCE, SHA256 }, /* ECDH_RSA_WITH_ARIA_128_GCM_SHA256 */
	{ .id = 0xc063, ARIA256_GCM, SALT_NONCE, SHA384 }, /* ECDH_RSA_WITH_ARIA_256_GCM_SHA384 */
	/* NULL encryption, HMAC only: RFC 5246 §A.5 (RSA), RFC 4492 §6 (ECDH,
	 * ECDHE) */
	{ .id = 0x0001, NULL_CIPHER, HMAC_MD5, SHA256 },    /* RSA_WITH_NULL_MD5 */
	{ .id = 0x0002, NULL_CIPHER, HMAC_SHA1, SHA256 },   /* RSA_WITH_NULL_SHA */
	{ .id = 0x003b, NULL_CIPHER, HMAC_SHA256, SHA256 }, /* RSA_WITH_NULL_SHA256 */
	{ .id = 0xc001, NULL_CIPHER, HMAC_SHA1, SHA256 },   /* ECDH_ECDSA_WITH_NULL_SHA */
	{ .id = 0xc006, NULL_CIPHER, HMAC_SHA1, SHA256 },   /* ECDHE_ECDSA_WITH_NULL_SHA */
	{ .id = 0xc00b, NULL_CIPHER, HMAC_SHA1, SHA256 },   /* ECDH_RSA_WITH_NULL_SHA */
	{ .id = 0xc010, NULL_CIPHER, HMAC_SHA1, SHA256 },   /* ECDHE_RSA_WITH_NULL_SHA */
};

/* Whether this libcrypto has the suite's cipher and HMAC digest (a build
 * without ChaCha20, Camellia or ARIA; a FIPS-only configuration without
 * 3DES or MD5). The NULL suites have no cipher to look for. */
static bool suite_available(const struct td_dec_suite *s)
{
	EVP_CIPHER *c = NULL;
	EVP_MD *md = NULL;
	bool ok;

	ERR_set_mark();
	if (s->cipher)
		c = EVP_CIPHER_fetch(NULL, s->cipher, NULL);
	if (s->mac)
		md = EVP_MD_fetch(NULL, s->mac, NULL);
	ERR_pop_to_mark();
	ok = (!s->cipher || c) && (!s->mac || md);
	EVP_CIPHER_free(c);
	EVP_MD_free(md);
	return ok;
}

const struct td_dec_suite *td_dec_suite(uint16_t id)
{
	for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
		if (suites[i].id == id)
			return suite_available(&suites[i]) ? &suites[i] : NULL;
	}
	return NULL;
}

void td_dec_keys_wipe(struct td_dec_keys *k)
{
	if (!k)
		return;
	OPENSSL_cleanse(k, sizeof *k);
	k->suite = NULL;
	k->seq = 0;
}

const char *td_dec_result_name(enum td_dec_result r)
{
	static const char *const names[] = {
		[TD_DEC_OK] = "ok",
		[TD_DEC_BAD_TAG] = "bad_tag",
		[TD_DEC_BAD_MAC] = "bad_mac",
		[TD_DEC_BAD_PADDING] = "bad_padding",
		[TD_DEC_SHORT] = "short",
		[TD_DEC_NO_TYPE] = "no_type",
		[TD_DEC_FAILED] = "failed",
	};

	if ((unsigned)r >= sizeof names / sizeof names[0] || !names[r])
		return "?";
	return names[r];
}

const char *td_dec_result_words(enum td_dec_result r)
{
	static const char *const words[] = {
		[TD_DEC_OK] = "opened",
		[TD_DEC_BAD_TAG] = "AEAD authentication tag check failed",
		[TD_DEC_BAD_MAC] = "HMAC check failed",
		[TD_DEC_BAD_PADDING] = "CBC padding check failed",
		[TD_DEC_SHORT] = "record too short for its cipher",
		[TD_DEC_NO_TYPE] = "no content type inside (all padding)",
		[TD_DEC_FAILED] = "decryption failed",
	};

	if ((unsigned)r >= sizeof words / sizeof words[0] || !words[r])
		return "decryption failed";
	return words[r];
}

/* ---- primitives --------------------------------------------------------- */

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* One piece of the input of a MAC. */
struct chunk {
	const uint8_t *p;
	size_t n;
};

/* HMAC(key, parts[0] + parts[1] + ...) with digest (RFC 2104), into out
 * (cap bytes); *out_len receives the MAC length. */
static enum td_err hmac(const char *digest, const uint8_t *key, size_t key_len,
			const struct chunk *parts, size_t n_parts, uint8_t *out, size_t cap,
			size_t *out_len)
{
	enum td_err ret = TD_ERR_CRYPTO;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
		OSSL_PARAM_construct_end(),
	};

	*out_len = 0;
	if (!ctx || EVP_MAC_init(ctx, key, key_len, params) != 1)
		goto out;
	for (size_t i = 0; i < n_parts; i++) {
		if (parts[i].n && EVP_MAC_update(ctx, parts[i].p, parts[i].n) != 1)
			goto out;
	}
	if (EVP_MAC_final(ctx, out, out_len, cap) != 1)
		goto out;
	ret = TD_OK;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ret;
}

/* PRF(secret, label, a + b) (RFC 5246 §5; RFC 2246 §5 with "MD5-SHA1").
 * The label and seed go to TLS1-PRF as one OSSL_KDF_PARAM_SEED, which is
 * label + seed exactly as P_hash takes it. */
static enum td_err prf(const char *digest, const uint8_t *secret, size_t secret_len,
		       const char *label, const uint8_t *a, size_t a_len, const uint8_t *b,
		       size_t b_len, uint8_t *out, size_t out_len)
{
	enum td_err ret = TD_ERR_CRYPTO;
	uint8_t seed[32 + 64 + 64];
	size_t label_len = strlen(label), n = 0;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[4];

	if (label_len > sizeof seed || a_len > sizeof seed - label_len ||
	    b_len > sizeof seed - label_len - a_len)
		return TD_ERR_ARG;
	memcpy(seed, label, label_len);
	n = label_len;
	if (a_len) {
		memcpy(seed + n, a, a_len);
		n += a_len;
	}
	if (b_len) {
		memcpy(seed + n, b, b_len);
		n += b_len;
	}
	kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	if (!ctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret,
						      secret_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, n);
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, out_len, params) != 1)
		goto out;
	ret = TD_OK;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	OPENSSL_cleanse(seed, sizeof seed);
	return ret;
}

/* HKDF-Expand-Label(secret, label, "", out_len) (RFC 8446 §7.1), through
 * TLS13-KDF: it prepends the "tls13 " prefix and builds the HkdfLabel
 * struct; the context is empty for every label used here. */
static enum td_err expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
				const char *label, uint8_t *out, size_t out_len)
{
	static const char prefix[] = "tls13 ";
	enum td_err ret = TD_ERR_CRYPTO;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS13-KDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)prefix,
						  sizeof prefix - 1),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label,
						  strlen(label)),
		OSSL_PARAM_construct_end(),
	};

	if (ctx && EVP_KDF_derive(ctx, out, out_len, params) == 1)
		ret = TD_OK;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ret;
}

static enum td_err digest(const char *name, const uint8_t *p, size_t n,
			  uint8_t out[TD_DEC_MAX_HASH], size_t *out_len)
{
	enum td_err ret = TD_ERR_UNSUPPORTED;
	EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
	unsigned int len = 0;

	*out_len = 0;
	if (!md || EVP_MD_get_size(md) <= 0 || EVP_MD_get_size(md) > TD_DEC_MAX_HASH)
		goto out;
	ret = TD_ERR_CRYPTO;
	if (EVP_Digest(n ? p : (const uint8_t *)"", n, out, &len, md, NULL) != 1)
		goto out;
	*out_len = len;
	ret = TD_OK;
out:
	EVP_MD_free(md);
	return ret;
}

enum td_err td_dec_hash(const char *hash, const uint8_t *p, size_t n,
			uint8_t out[TD_DEC_MAX_HASH], size_t *out_len)
{
	enum td_err ret;

	if (out_len)
		*out_len = 0;
	if (!hash || (!p && n) || !out || !out_len)
		return TD_ERR_ARG;
	ERR_set_mark();
	ret = digest(hash, p, n, out, out_len);
	ERR_pop_to_mark();
	return ret;
}

/* ---- TLS <= 1.2 ---------------------------------------------------------- */

/* A suite and version a TLS <= 1.2 peer can have negotiated. */
static enum td_err check_tls12(const struct td_dec_suite *s, uint16_t version)
{
	if (!s || s->tls13)
		return TD_ERR_ARG;
	/* SSL 3.0 has its own MD5/SHA-1 key derivation and MAC (RFC 6101
	 * §6.1, §5.2.3.1), which libcrypto no longer offers */
	if (version == SSL30)
		return TD_ERR_UNSUPPORTED;
	if (version < TLS10 || version > TLS12)
		return TD_ERR_ARG;
	/* AEAD suites (RFC 5288 §4, RFC 6655 §3, RFC 7905 §2) and the SHA-256
	 * and SHA-384 HMAC suites (RFC 5246 §A.5, RFC 5289 §3.2) exist only
	 * from TLS 1.2 on */
	if (version < TLS12 && (s->kind == TD_DEC_AEAD || s->mac_len > 20))
		return TD_ERR_ARG;
	return TD_OK;
}

/* TLS 1.2 runs the PRF on the suite's hash; TLS 1.0/1.1 on MD5 and SHA-1. */
static const char *prf_digest(const struct td_dec_suite *s, uint16_t version)
{
	return version >= TLS12 ? s->hash : "MD5-SHA1";
}

enum td_err td_dec_master_secret(const struct td_dec_suite *s, uint16_t version,
				 const uint8_t *pms, size_t pms_len,
				 const uint8_t client_random[32], const uint8_t server_random[32],
				 const uint8_t *session_hash, size_t session_hash_len,
				 uint8_t ms[TD_DEC_MASTER_LEN])
{
	enum td_err ret = check_tls12(s, version);

	if (ret != TD_OK)
		return ret;
	if (!pms || pms_len == 0 || !ms)
		return TD_ERR_ARG;
	if (session_hash ? session_hash_len == 0 || session_hash_len > 64
			 : !client_random || !server_random)
		return TD_ERR_ARG;
	ERR_set_mark();
	if (session_hash) /* RFC 7627 §4 */
		ret = prf(prf_digest(s, version), pms, pms_len, "extended master secret",
			  session_hash, session_hash_len, NULL, 0, ms, TD_DEC_MASTER_LEN);
	else /* RFC 5246 §8.1 */
		ret = prf(prf_digest(s, version), pms, pms_len, "master secret", client_random,
			  32, server_random, 32, ms, TD_DEC_MASTER_LEN);
	ERR_pop_to_mark();
	if (ret != TD_OK)
		OPENSSL_cleanse(ms, TD_DEC_MASTER_LEN);
	return ret;
}

/* Takes the next len bytes of the key block. */
static void take(uint8_t *dst, const uint8_t *kb, size_t *off, size_t len)
{
	memcpy(dst, kb + *off, len);
	*off += len;
}

enum td_err td_dec_tls12_keys(const struct td_dec_suite *s, uint16_t version, bool etm,
			      const uint8_t ms[TD_DEC_MASTER_LEN],
			      const uint8_t client_random[32], const uint8_t server_random[32],
			      struct td_dec_keys *client, struct td_dec_keys *server)
{
	enum td_err ret = check_tls12(s, version);
	uint8_t kb[MAX_KEY_BLOCK];
	size_t mac_len, iv_len, off = 0;

	if (ret != TD_OK)
		return ret;
	if (!ms || !client_random || !server_random || !client || !server || client == server)
		return TD_ERR_ARG;
	/* RFC 5246 §6.3: AEAD suites have no MAC keys; only implicit nonces
	 * (AEAD) and TLS 1.0 CBC (RFC 2246 §6.3) take IVs from the key block,
	 * TLS 1.1+ CBC sends an explicit IV with every record (RFC 4346
	 * §6.2.3.2); NULL suites take only MAC keys (their key and IV lengths
	 * are 0) */
	mac_len = s->kind == TD_DEC_AEAD ? 0 : s->mac_len;
	iv_len = s->kind == TD_DEC_AEAD || version == TLS10 ? s->iv_len : 0;
	if (mac_len > sizeof client->mac_key || s->key_len > sizeof client->key ||
	    iv_len > sizeof client->iv)
		return TD_ERR_ARG;
	td_dec_keys_wipe(client);
	td_dec_keys_wipe(server);
	ERR_set_mark();
	ret = prf(prf_digest(s, version), ms, TD_DEC_MASTER_LEN, "key expansion", server_random,
		  32, client_random, 32, kb, 2 * (mac_len + s->key_len + iv_len));
	ERR_pop_to_mark();
	if (ret != TD_OK)
		goto out;
	take(client->mac_key, kb, &off, mac_len);
	take(server->mac_key, kb, &off, mac_len);
	take(client->key, kb, &off, s->key_len);
	take(server->key, kb, &off, s->key_len);
	take(client->iv, kb, &off, iv_len);
	take(server->iv, kb, &off, iv_len);
	client->suite = server->suite = s;
	client->version = server->version = version;
	client->etm = server->etm = etm && s->kind == TD_DEC_CBC; /* RFC 7366 §2 */
out:
	OPENSSL_cleanse(kb, sizeof kb);
	return ret;
}

enum td_err td_dec_tls12_finished(const struct td_dec_suite *s, uint16_t version,
				  const uint8_t ms[TD_DEC_MASTER_LEN], bool client,
				  const uint8_t *transcript, size_t n,
				  uint8_t out[TD_DEC_VERIFY_LEN])
{
	enum td_err ret = check_tls12(s, version);
	uint8_t h[TD_DEC_MAX_HASH];
	size_t h_len = 0;

	if (ret != TD_OK)
		return ret;
	if (!ms || (!transcript && n) || !out)
		return TD_ERR_ARG;
	ERR_set_mark();
	/* TLS 1.2: Hash(handshake_messages) (RFC 5246 §7.4.9); TLS 1.0/1.1:
	 * MD5(handshake_messages) + SHA-1(handshake_messages), which is what
	 * the "MD5-SHA1" digest gives (RFC 2246 §7.4.9) */
	ret = digest(prf_digest(s, version), transcript, n, h, &h_len);
	if (ret == TD_OK)
		ret = prf(prf_digest(s, version), ms, TD_DEC_MASTER_LEN,
			  client ? "client finished" : "server finished", h, h_len, NULL, 0, out,
			  TD_DEC_VERIFY_LEN);
	ERR_pop_to_mark();
	return ret;
}

enum td_dec_pms_check td_dec_check_pms(const uint8_t *pms, size_t n, uint16_t client_version)
{
	/* RFC 5246 §7.4.7.1: struct { ProtocolVersion client_version;
	 * opaque random[46]; } PreMasterSecret; */
	if (!pms || n != TD_DEC_PMS_LEN)
		return TD_PMS_BAD_LENGTH;
	if (pms[0] != (uint8_t)(client_version >> 8) || pms[1] != (uint8_t)client_version)
		return TD_PMS_BAD_VERSION;
	return TD_PMS_OK;
}

/* ---- TLS 1.3 ------------------------------------------------------------- */

enum td_err td_dec_tls13_keys(const struct td_dec_suite *s, const uint8_t *secret,
			      size_t secret_len, struct td_dec_keys *k)
{
	enum td_err ret;

	if (!s || !s->tls13 || !secret || secret_len != s->hash_len || !k ||
	    s->key_len > sizeof k->key || s->iv_len > sizeof k->iv)
		return TD_ERR_ARG;
	td_dec_keys_wipe(k);
	ERR_set_mark();
	/* RFC 8446 §7.3 */
	ret = expand_label(s->hash, secret, secret_len, "key", k->key, s->key_len);
	if (ret == TD_OK)
		ret = expand_label(s->hash, secret, secret_len, "iv", k->iv, s->iv_len);
	ERR_pop_to_mark();
	if (ret != TD_OK) {
		td_dec_keys_wipe(k);
		return ret;
	}
	k->suite = s;
	k->version = TLS13;
	return TD_OK;
}

enum td_err td_dec_tls13_finished(const struct td_dec_suite *s, const uint8_t *base_key,
				  size_t base_key_len, const uint8_t *transcript_hash,
				  size_t hash_len, uint8_t out[TD_DEC_MAX_HASH])
{
	enum td_err ret;
	uint8_t finished_key[TD_DEC_MAX_HASH];
	size_t len = 0;

	if (!s || !s->tls13 || !base_key || base_key_len != s->hash_len || !transcript_hash ||
	    hash_len != s->hash_len || !out)
		return TD_ERR_ARG;
	ERR_set_mark();
	/* RFC 8446 §4.4.4 */
	ret = expand_label(s->hash, base_key, base_key_len, "finished", finished_key,
			   s->hash_len);
	if (ret == TD_OK) {
		struct chunk th = { transcript_hash, hash_len };

		ret = hmac(s->hash, finished_key, s->hash_len, &th, 1, out, TD_DEC_MAX_HASH, &len);
		if (ret == TD_OK && len != s->hash_len)
			ret = TD_ERR_CRYPTO;
	}
	ERR_pop_to_mark();
	OPENSSL_cleanse(finished_key, sizeof finished_key);
	return ret;
}

/* ---- records ------------------------------------------------------------- */

/* iv XOR the sequence number, left-padded to the IV's 12 bytes (RFC 8446
 * §5.3; RFC 7905 §2 for TLS 1.2 ChaCha20-Poly1305). */
static void xor_nonce(uint8_t nonce[NONCE_LEN], const uint8_t iv[NONCE_LEN], uint64_t seq)
{
	uint8_t s[8];

	put_u64(s, seq);
	memcpy(nonce, iv, NONCE_LEN);
	for (size_t i = 0; i < 8; i++)
		nonce[NONCE_LEN - 8 + i] ^= s[i];
}

/* AEAD-Decrypt(key, nonce, aad, ct || tag) into out (ct_len bytes):
 * TD_DEC_OK, TD_DEC_BAD_TAG, or TD_DEC_FAILED when libcrypto refuses
 * before the tag is checked. CCM (RFC 3610) wants the tag and the message
 * length before the data; GCM and ChaCha20-Poly1305 check the tag at the
 * end. */
static enum td_dec_result aead_open(const struct td_dec_suite *s, const uint8_t *key,
				    const uint8_t nonce[NONCE_LEN], const uint8_t *aad,
				    size_t aad_len, const uint8_t *ct, size_t ct_len,
				    const uint8_t *tag, uint8_t *out)
{
	enum td_dec_result r = TD_DEC_FAILED;
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, s->cipher, NULL);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	bool ccm = c && EVP_CIPHER_get_mode(c) == EVP_CIPH_CCM_MODE;
	int len = 0;

	if (!c || !ctx || EVP_DecryptInit_ex2(ctx, c, NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_LEN, NULL) != 1)
		goto out;
	if (ccm && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, s->tag_len, (void *)tag) != 1)
		goto out;
	if (EVP_DecryptInit_ex2(ctx, NULL, key, nonce, NULL) != 1)
		goto out;
	if (ccm && EVP_DecryptUpdate(ctx, NULL, &len, NULL, (int)ct_len) != 1)
		goto out;
	if (EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aad_len) != 1)
		goto out;
	if (ccm) {
		/* the tag is checked by this one call */
		r = EVP_DecryptUpdate(ctx, out, &len, ct, (int)ct_len) == 1 ? TD_DEC_OK
									    : TD_DEC_BAD_TAG;
		goto out;
	}
	if (ct_len && EVP_DecryptUpdate(ctx, out, &len, ct, (int)ct_len) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, s->tag_len, (void *)tag) != 1)
		goto out;
	r = EVP_DecryptFinal_ex(ctx, out + ct_len, &len) == 1 ? TD_DEC_OK : TD_DEC_BAD_TAG;
out:
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(c);
	return r;
}

/* TLS 1.2 AEAD (RFC 5246 §6.2.3.3):
 *   struct { opaque nonce_explicit[record_iv_length];
 *            aead-ciphered struct { opaque content[TLSCompressed.length]; }; }
 * additional_data = seq_num + type + version + length (of the plaintext). */
static enum td_dec_result open_aead12(const struct td_dec_keys *k, const uint8_t hdr[5],
				      const uint8_t *body, size_t n, uint8_t *out,
				      size_t *out_len, uint8_t *inner_type)
{
	const struct td_dec_suite *s = k->suite;
	uint8_t nonce[NONCE_LEN], aad[13];
	size_t ct_len;
	enum td_dec_result r;

	if (n < (size_t)s->explicit_nonce + s->tag_len)
		return TD_DEC_SHORT;
	ct_len = n - s->explicit_nonce - s->tag_len;
	if (s->explicit_nonce) {
		/* GCM (RFC 5288 §3), CCM (RFC 6655 §3): salt + nonce_explicit */
		if ((size_t)s->iv_len + s->explicit_nonce != NONCE_LEN)
			return TD_DEC_FAILED;
		memcpy(nonce, k->iv, s->iv_len);
		memcpy(nonce + s->iv_len, body, s->explicit_nonce);
	} else {
		xor_nonce(nonce, k->iv, k->seq); /* RFC 7905 §2 */
	}
	put_u64(aad, k->seq);
	memcpy(aad + 8, hdr, 3);
	aad[11] = (uint8_t)(ct_len >> 8);
	aad[12] = (uint8_t)ct_len;
	r = aead_open(s, k->key, nonce, aad, sizeof aad, body + s->explicit_nonce, ct_len,
		      body + n - s->tag_len, out);
	if (r == TD_DEC_OK) {
		*out_len = ct_len;
		*inner_type = hdr[0];
	}
	return r;
}

/* TLS 1.3 (RFC 8446 §5.2): the AAD is the record header; the inner
 * plaintext is content + ContentType type + zeros (RFC 8446 §5.4). */
static enum td_dec_result open_tls13(const struct td_dec_keys *k, const uint8_t hdr[5],
				     const uint8_t *body, size_t n, uint8_t *out,
				     size_t *out_len, uint8_t *inner_type)
{
	const struct td_dec_suite *s = k->suite;
	uint8_t nonce[NONCE_LEN];
	size_t ct_len;
	enum td_dec_result r;

	if (s->iv_len != NONCE_LEN)
		return TD_DEC_FAILED;
	if (n < s->tag_len)
		return TD_DEC_SHORT;
	ct_len = n - s->tag_len;
	xor_nonce(nonce, k->iv, k->seq);
	r = aead_open(s, k->key, nonce, hdr, 5, body, ct_len, body + ct_len, out);
	if (r != TD_DEC_OK)
		return r;
	/* the content type is the last non-zero byte */
	while (ct_len > 0 && out[ct_len - 1] == 0)
		ct_len--;
	if (ct_len == 0)
		return TD_DEC_NO_TYPE;
	*inner_type = out[ct_len - 1];
	*out_len = ct_len - 1;
	return TD_DEC_OK;
}

/* The record MAC of RFC 5246 §6.2.3.1 (stream and null ciphers), §6.2.3.2
 * (CBC) and RFC 7366 §3 (encrypt-then-MAC):
 * HMAC(mac_key, seq_num + type + version + length + data), length being
 * len, compared with the mac_len bytes at mac. */
static enum td_dec_result mac_check(const struct td_dec_keys *k, const uint8_t hdr[5],
				    const uint8_t *data, size_t len, const uint8_t *mac)
{
	const struct td_dec_suite *s = k->suite;
	uint8_t pre[13], calc[EVP_MAX_MD_SIZE];
	size_t calc_len = 0;
	struct chunk parts[2] = { { pre, sizeof pre }, { data, len } };

	put_u64(pre, k->seq);
	memcpy(pre + 8, hdr, 3);
	pre[11] = (uint8_t)(len >> 8);
	pre[12] = (uint8_t)len;
	if (hmac(s->mac, k->mac_key, s->mac_len, parts, 2, calc, sizeof calc, &calc_len) !=
		    TD_OK ||
	    calc_len != s->mac_len)
		return TD_DEC_FAILED;
	return CRYPTO_memcmp(calc, mac, s->mac_len) == 0 ? TD_DEC_OK : TD_DEC_BAD_MAC;
}

/* CBC-decrypts len bytes (a whole number of blocks) with padding off. */
static bool cbc_decrypt(const struct td_dec_suite *s, const uint8_t *key, const uint8_t *iv,
			const uint8_t *in, size_t len, uint8_t *out)
{
	bool ok = false;
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, s->cipher, NULL);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int l1 = 0, l2 = 0;

	if (!c || !ctx || EVP_DecryptInit_ex2(ctx, c, key, iv, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &l1, in, (int)len) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + l1, &l2) != 1)
		goto out;
	ok = (size_t)l1 + (size_t)l2 == len;
out:
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(c);
	return ok;
}

/* The padding at the end of a decrypted GenericBlockCipher (RFC 5246
 * §6.2.3.2): padding_length bytes, each holding padding_length, then
 * padding_length itself; at least room bytes must stay before it. Returns
 * the length without the padding, or -1. */
static long strip_padding(const uint8_t *pt, size_t len, size_t room)
{
	size_t pad;

	if (len < room + 1)
		return -1;
	pad = pt[len - 1];
	if (pad > len - 1 - room)
		return -1;
	for (size_t i = len - 1 - pad; i < len - 1; i++) {
		if (pt[i] != pad)
			return -1;
	}
	return (long)(len - 1 - pad);
}

/* GenericBlockCipher, MAC then encrypt (RFC 5246 §6.2.3.2):
 *   struct { opaque IV[SecurityParameters.record_iv_length];   (TLS 1.1+)
 *            block-ciphered struct { opaque content[TLSCompressed.length];
 *                                    opaque MAC[mac_length];
 *                                    uint8 padding[padding_length];
 *                                    uint8 padding_length; }; } */
static enum td_dec_result open_cbc_mte(const struct td_dec_keys *k, const uint8_t hdr[5],
				       const uint8_t *body, size_t n, uint8_t *out,
				       size_t *out_len, uint8_t *inner_type)
{
	const struct td_dec_suite *s = k->suite;
	size_t bs = s->iv_len, iv_len = k->version >= TLS11 ? bs : 0, ct_len;
	long content;
	enum td_dec_result r;

	/* the IV, then at least the blocks that hold MAC and padding_length */
	if (n < iv_len || n - iv_len < (s->mac_len + 1 + bs - 1) / bs * bs)
		return TD_DEC_SHORT;
	ct_len = n - iv_len;
	if (ct_len % bs != 0)
		return TD_DEC_BAD_PADDING;
	if (!cbc_decrypt(s, k->key, iv_len ? body : k->iv, body + iv_len, ct_len, out))
		return TD_DEC_FAILED;
	content = strip_padding(out, ct_len, s->mac_len);
	if (content < 0)
		return TD_DEC_BAD_PADDING;
	content -= s->mac_len;
	r = mac_check(k, hdr, out, (size_t)content, out + content);
	if (r == TD_DEC_OK) {
		*out_len = (size_t)content;
		*inner_type = hdr[0];
	}
	return r;
}

/* Encrypt-then-MAC (RFC 7366 §3): the MAC follows the ciphertext and
 * covers IV + ciphertext, with their length in the MAC input; it is
 * checked before anything is decrypted. */
static enum td_dec_result open_cbc_etm(const struct td_dec_keys *k, const uint8_t hdr[5],
				       const uint8_t *body, size_t n, uint8_t *out,
				       size_t *out_len, uint8_t *inner_type)
{
	const struct td_dec_suite *s = k->suite;
	size_t bs = s->iv_len, iv_len = k->version >= TLS11 ? bs : 0, c_len, ct_len;
	long content;
	enum td_dec_result r;

	if (n < s->mac_len || n - s->mac_len < iv_len + bs)
		return TD_DEC_SHORT;
	c_len = n - s->mac_len;
	r = mac_check(k, hdr, body, c_len, body + c_len);
	if (r != TD_DEC_OK)
		return r;
	ct_len = c_len - iv_len;
	if (ct_len % bs != 0)
		return TD_DEC_BAD_PADDING;
	if (!cbc_decrypt(s, k->key, iv_len ? body : k->iv, body + iv_len, ct_len, out))
		return TD_DEC_FAILED;
	content = strip_padding(out, ct_len, 0);
	if (content < 0)
		return TD_DEC_BAD_PADDING;
	*out_len = (size_t)content;
	*inner_type = hdr[0];
	return TD_DEC_OK;
}

/* GenericStreamCipher with the null cipher (RFC 5246 §6.2.3.1):
 *   stream-ciphered struct { opaque content[TLSCompressed.length];
 *                            opaque MAC[SecurityParameters.mac_length]; }
 * where encryption is the identity: the content is in the clear, and
 * only the MAC says whether it is what the sender sent. */
static enum td_dec_result open_null(const struct td_dec_keys *k, const uint8_t hdr[5],
				    const uint8_t *body, size_t n, uint8_t *out, size_t *out_len,
				    uint8_t *inner_type)
{
	const struct td_dec_suite *s = k->suite;
	size_t len;
	enum td_dec_result r;

	if (n < s->mac_len)
		return TD_DEC_SHORT;
	len = n - s->mac_len;
	r = mac_check(k, hdr, body, len, body + len);
	if (r != TD_DEC_OK)
		return r;
	if (len)
		memcpy(out, body, len);
	*out_len = len;
	*inner_type = hdr[0];
	return TD_DEC_OK;
}

/* TLS 1.0 CBC chains the IV across records (RFC 2246 §6.2.3.2): the next
 * record's IV is this record's last ciphertext block, whatever became of
 * this record, because the sender's state moved on too. Stays put when the
 * record has no whole last block to take. */
static void chain_iv(struct td_dec_keys *k, const uint8_t *body, size_t n)
{
	const struct td_dec_suite *s = k->suite;
	size_t bs = s->iv_len, end = n;

	if (k->etm) {
		if (n < s->mac_len)
			return;
		end = n - s->mac_len;
	}
	if (end < bs || end % bs != 0)
		return;
	memcpy(k->iv, body + end - bs, bs);
}

void td_dec_skip(struct td_dec_keys *k, const uint8_t *body, size_t n)
{
	if (!k || !k->suite)
		return;
	if (!k->suite->tls13 && k->suite->kind == TD_DEC_CBC && k->version == TLS10 && body)
		chain_iv(k, body, n);
	k->seq++;
}

enum td_dec_result td_dec_record(struct td_dec_keys *k, const uint8_t hdr[5], const uint8_t *body,
				 size_t n, uint8_t *out, size_t *out_len, uint8_t *inner_type)
{
	const struct td_dec_suite *s;
	enum td_dec_result r = TD_DEC_FAILED;

	if (!k)
		return TD_DEC_FAILED;
	if (out_len)
		*out_len = 0;
	s = k->suite;
	if (!s || !hdr || (!body && n) || !out || !out_len || !inner_type || n > MAX_RECORD)
		goto out;
	ERR_set_mark();
	if (s->tls13)
		r = open_tls13(k, hdr, body, n, out, out_len, inner_type);
	else if (k->version < TLS10 || k->version > TLS12)
		r = TD_DEC_FAILED; /* SSL 3.0: see check_tls12 */
	else if (s->kind == TD_DEC_AEAD)
		r = open_aead12(k, hdr, body, n, out, out_len, inner_type);
	else if (s->kind == TD_DEC_NULL)
		r = open_null(k, hdr, body, n, out, out_len, inner_type);
	else if (k->etm)
		r = open_cbc_etm(k, hdr, body, n, out, out_len, inner_type);
	else
		r = open_cbc_mte(k, hdr, body, n, out, out_len, inner_type);
	ERR_pop_to_mark();
	if (!s->tls13 && s->kind == TD_DEC_CBC && k->version == TLS10)
		chain_iv(k, body, n);
	if (r != TD_DEC_OK) {
		/* nothing unauthenticated leaves this function */
		OPENSSL_cleanse(out, n);
		*out_len = 0;
	}
out:
	k->seq++;
	return r;
}
