/* td_x509.h - certificate facts, and a bounded cache of them keyed by SHA-256.
 *
 * libcrypto parses the certificates (never a hand-written ASN.1 parser), but
 * no OpenSSL type appears here: callers see plain structs of facts
 * (STYLE.md rules 1 and 14). Real traffic repeats the same few certificates,
 * so each distinct DER is parsed once and its facts are shared by reference.
 *
 * Certificates come from the network: every input is untrusted, is bounded
 * by TD_X509_MAX_DER, and a bad one yields facts with parsed == false, never
 * a crash. Strings taken from a certificate are plain printable ASCII (see
 * each field) but may still contain characters that matter to a terminal,
 * JSON or Markdown; the report module escapes them for where they go.
 */
#ifndef TD_X509_H
#define TD_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_error.h"

/* Largest DER accepted as a certificate (or SubjectPublicKeyInfo); anything
 * longer is refused unparsed. Real certificates are a few KiB. */
#define TD_X509_MAX_DER ((size_t)1 << 20)

/* Facts about a public key. All zero ("" strings) when unknown. */
struct td_cert_key {
	/* "RSA", "RSA-PSS", "EC", "Ed25519", "Ed448", "DSA", or "unknown" when
	 * libcrypto does not know the algorithm; "" only in a zeroed struct. */
	char algorithm[16];
	unsigned bits;          /* EVP_PKEY_get_bits (Ed25519: 256, Ed448: 456) */
	uint64_t rsa_exponent;  /* 0 when not RSA/RSA-PSS or above 64 bits */
	char curve[32];         /* EC: OpenSSL short name ("prime256v1"); "" otherwise
				 * (also for explicit, unnamed curve parameters) */
	char curve_nist[16];    /* "P-256" when the curve has a NIST name, "" otherwise */
	/* SHA-256 of the DER SubjectPublicKeyInfo, as the certificate carries
	 * it: the value HPKP-style pins use, and what --key is matched on. */
	uint8_t spki_sha256[32];
};

struct td_cert {
	uint8_t sha256[32];  /* of the whole input: identity and cache key */
	uint8_t sha1[20];    /* of the whole input */
	/* false: the input is not a certificate (does not decode, trailing
	 * bytes, too long) or one whose names, validity times or
	 * subjectAltName extension libcrypto cannot read; error says why and
	 * every field below is empty (NULL, 0, ""). */
	bool parsed;
	char error[128];     /* "" when parsed */
	long version;        /* 1, 2 or 3 */
	/* RFC 4514 (RFC 2253) strings, byte for byte what
	 * `openssl x509 -noout -subject -nameopt RFC2253` prints after
	 * "subject=": non-ASCII and control bytes are \XX-escaped, so the
	 * string is printable ASCII. "" for an empty name. */
	char *subject;
	char *issuer;
	/* Upper-case hex as `openssl x509 -noout -serial` prints it after
	 * "serial=" (even number of digits, "-" first when negative). */
	char *serial_hex;
	int64_t not_before;  /* seconds since 1970-01-01T00:00:00Z */
	int64_t not_after;
	/* subjectAltName entries in certificate order: "DNS:name",
	 * "IP:10.0.0.2" / "IP:2001:db8::1" (inet_ntop form), "email:x",
	 * "URI:x", and for the rarer kinds "DirName:<RFC 2253>",
	 * "RID:<oid>", "othername:<oid>", "X400Name:", "EdiPartyName:".
	 * An entry with bad content stays, as "IP:<invalid>" (length not 4
	 * or 16) or "DirName:<invalid>" (name that does not print).
	 * In DNS/email/URI values a byte outside printable ASCII is written
	 * \xHH and a backslash \\, so an embedded NUL cannot hide a suffix. */
	char **sans;
	size_t n_sans;
	/* Signature algorithm long name ("sha256WithRSAEncryption",
	 * "rsassaPss", "ecdsa-with-SHA256", "ED25519"), or the dotted OID when
	 * libcrypto does not know it. */
	char sig_alg[48];
	/* subject == issuer and the signature verifies with the certificate's
	 * own public key. */
	bool self_signed;
	struct td_cert_key key;
	uint8_t *der;        /* private copy of the DER, for export */
	size_t der_len;
};

struct td_x509_cache;

/* Creates a cache holding at most max_entries distinct certificates (0 is
 * taken as 1). When it is full, the least recently used entry that nobody
 * references is dropped; when every entry is referenced, the least recently
 * used one is evicted anyway: it leaves the cache but stays valid until its
 * last reference is released. Returns NULL on out-of-memory. */
struct td_x509_cache *td_x509_cache_new(size_t max_entries);
/* Frees the cache and every certificate it made, including evicted ones
 * still referenced: release all references first, or stop using them.
 * c may be NULL. */
void td_x509_cache_free(struct td_x509_cache *c);

/* Returns the facts for this DER, parsing it only the first time its
 * SHA-256 is seen. The result carries one reference owned by the caller,
 * to be given back with td_x509_cert_release(); it stays valid (and
 * unchanged) until then, even if the cache evicts it. Input that is not a
 * certificate, has trailing bytes, or is longer than TD_X509_MAX_DER yields
 * parsed == false, and is cached too, so junk is not parsed again.
 * der is borrowed for the duration of the call only (may be NULL when len
 * is 0). Returns NULL only on out-of-memory. */
const struct td_cert *td_x509_cache_get(struct td_x509_cache *c, const uint8_t *der, size_t len);
/* Gives back one reference taken by td_x509_cache_get on the same cache.
 * cert may be NULL. */
void td_x509_cert_release(struct td_x509_cache *c, const struct td_cert *cert);

/* Statistics for the summary. */
struct td_x509_stats {
	uint64_t lookups;   /* calls to td_x509_cache_get */
	uint64_t parses;    /* lookups that had to parse (misses) */
	uint64_t hits;      /* lookups answered from the cache */
	uint64_t evictions; /* entries dropped to respect max_entries */
	uint64_t held;      /* entries in the cache now */
};
void td_x509_cache_stats(const struct td_x509_cache *c, struct td_x509_stats *out);

/* Facts about a DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), the same code
 * path that fills td_cert.key; the keys module uses it for the public half
 * of a private key. TD_ERR_TOO_BIG above TD_X509_MAX_DER, TD_ERR_MALFORMED
 * when it is not a SubjectPublicKeyInfo or has trailing bytes, TD_ERR_NOMEM.
 * On error *out is zeroed. */
TD_MUST_CHECK enum td_err td_x509_key_facts(const uint8_t *spki, size_t len, struct td_cert_key *out);

/* Writes <dir>/<sha256hex>.der and <dir>/<sha256hex>.pem. The names come
 * only from the fingerprint, never from packet data. Files are created with
 * O_CREAT|O_EXCL|O_NOFOLLOW and mode 0644 (less the umask). A file that
 * already exists with identical content is left alone (TD_OK). One that
 * exists with other content, is a symbolic link (dangling or not) or is not
 * a regular file is left untouched and the result is TD_ERR_EXISTS.
 * TD_ERR_ARG when cert was not parsed, TD_ERR_IO on other system errors,
 * TD_ERR_NOMEM. On error err receives one line naming the file; on success
 * it is set to "". err may be NULL when errlen is 0. */
TD_MUST_CHECK enum td_err td_x509_export(const struct td_cert *cert, const char *dir, char *err,
					 size_t errlen);

#endif
