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
	/* The same hash in base64, the "pin-sha256" form of RFC 7469 §2.4
	 * (44 characters). "" in a zeroed struct. */
	char spki_sha256_b64[45];
	/* RSA and RSA-PSS: SHA-256 of the text `openssl x509 -noout -modulus`
	 * (or `openssl rsa -noout -modulus`) prints, "Modulus=<HEX>\n", so
	 * the value equals `... -modulus | openssl sha256`, the usual way to
	 * compare a certificate with a key by hand. has_modulus false (and
	 * the hash zero) for other key types. */
	bool has_modulus;
	uint8_t rsa_modulus_sha256[32];
};

/* keyUsage bits (RFC 5280 §4.2.1.3), bit n of the BIT STRING as 1u << n. */
enum td_x509_key_usage {
	TD_KU_DIGITAL_SIGNATURE = 1u << 0,
	TD_KU_NON_REPUDIATION = 1u << 1, /* contentCommitment */
	TD_KU_KEY_ENCIPHERMENT = 1u << 2,
	TD_KU_DATA_ENCIPHERMENT = 1u << 3,
	TD_KU_KEY_AGREEMENT = 1u << 4,
	TD_KU_KEY_CERT_SIGN = 1u << 5,
	TD_KU_CRL_SIGN = 1u << 6,
	TD_KU_ENCIPHER_ONLY = 1u << 7,
	TD_KU_DECIPHER_ONLY = 1u << 8,
};
#define TD_KU_COUNT 9

/* The RFC 5280 name of keyUsage bit n ("digitalSignature",
 * "keyEncipherment", ...); NULL when n >= TD_KU_COUNT. */
const char *td_x509_key_usage_name(unsigned n);

/* Certificate extensions that matter for diagnosis (RFC 5280 §4.2). An
 * extension that is absent leaves its "has_" flag false; one that is
 * present but does not decode is counted in bad_extensions and otherwise
 * treated as absent (the certificate still parses: a client may reject
 * it, and that is what the report is for). */
struct td_cert_ext {
	bool has_key_usage;
	unsigned key_usage;    /* TD_KU_* bits */
	/* extendedKeyUsage purposes in certificate order, libcrypto short
	 * names ("serverAuth", "clientAuth", "codeSigning", "OCSPSigning",
	 * "anyExtendedKeyUsage") or the dotted OID when it has none. */
	char **eku;
	size_t n_eku;
	bool has_basic_constraints;
	bool is_ca;            /* basicConstraints cA */
	long path_len;         /* pathLenConstraint, -1 when absent */
	/* keyIdentifier of subjectKeyIdentifier / authorityKeyIdentifier as
	 * lower-case hex without separators; NULL when absent. */
	char *subject_key_id;
	char *authority_key_id;
	/* URIs of cRLDistributionPoints (fullName entries) and the OCSP
	 * responders of authorityInfoAccess, in certificate order, escaped
	 * as SAN values are (\xHH outside printable ASCII). */
	char **crl_urls;
	size_t n_crl_urls;
	char **ocsp_urls;
	size_t n_ocsp_urls;
	/* Signed Certificate Timestamps embedded in the certificate
	 * (1.3.6.1.4.1.11129.2.4.2, RFC 6962 §3.3): how many; 0 when the
	 * extension is absent. */
	bool has_scts;
	unsigned n_scts;
	unsigned bad_extensions; /* of the above, present but not decodable */
};

struct td_cert {
	uint8_t sha256[32];  /* of the whole input: identity and cache key */
	uint8_t sha1[20];    /* of the whole input */
	/* false: the input is not a certificate (does not decode, trailing
	 * bytes, too long) or one whose names, validity times or
	 * subjectAltName extension libcrypto cannot read; error says why and
	 * every field below is empty (NULL, 0, "", ext.path_len -1). */
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
	struct td_cert_ext ext;
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
/* -j: gives back the reference as td_x509_cert_release does (the cache's
 * lookups, hits and evictions go on exactly as if it were released now),
 * but the certificate stays readable until td_x509_cert_unpin(): the
 * thread that analyses connections releases, the one that reports them
 * reads the facts later. cert may be NULL. */
void td_x509_cert_release_pinned(struct td_x509_cache *c, const struct td_cert *cert);
void td_x509_cert_unpin(struct td_x509_cache *c, const struct td_cert *cert);

/* The cache's functions may be called from several threads (a mutex);
 * the facts of a certificate are never written after td_x509_cache_get
 * returned them, except td_x509_issued_by()'s memo, which only the
 * reporting thread uses. */

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

/* A DER Name (RFC 5280 §4.1.2.4: a CertificateRequest's acceptable CA) in
 * the RFC 4514 form the certificates' subjects use, into *out (to be
 * freed). TD_ERR_MALFORMED when it is not exactly one Name or does not
 * print, TD_ERR_NOMEM. */
TD_MUST_CHECK enum td_err td_x509_name_string(const uint8_t *der, size_t len, char **out);

/* Reads a DER OCSPResponse (RFC 6960 §4.2.1) into out: response status,
 * and for a successful basic response its production time and the first
 * SingleResponse's status, times and revocation reason. The signature is
 * not checked (no trust anchors here). out->parsed stays false when the
 * response does not decode or has trailing bytes; the other fields of out
 * (seen, frame, length) are left alone. */
struct td_ocsp_facts;
void td_x509_ocsp_facts(const uint8_t *der, size_t len, struct td_ocsp_facts *out);

/* ---- chains and names ----------------------------------------------------
 * The functions below decode nothing from the network again: the cache
 * keeps libcrypto's form of every certificate it parsed. They take
 * certificates from a cache (td_x509_cache_get or td_x509_cert_load) and
 * are false / refuse for certificates that did not parse. */

/* True when issuer's subject is child's issuer name and child's signature
 * verifies with issuer's public key (a real signature check, not a name
 * comparison). The last answer per child is remembered, so a chain seen
 * again costs no new signature check. */
bool td_x509_issued_by(const struct td_cert *child, const struct td_cert *issuer);

/* Whether the certificate is valid for host name name[0..len), by
 * X509_check_host with default flags, the rules `openssl x509 -checkhost`
 * applies: subjectAltName DNS entries (the subject CN only when there are
 * none), a wildcard as the whole left-most label or part of it, case
 * insensitive. 1 match, 0 no match, -1 the name is not a host name (an
 * embedded NUL, empty) or the certificate did not parse. */
int td_x509_check_host(const struct td_cert *cert, const uint8_t *name, size_t len);

/* Trust anchors for --ca: a PEM file of one or more certificates, or a
 * directory of certificates named by subject hash (`openssl rehash`, as
 * /etc/ssl/certs is). NULL on failure, with err naming the path:
 *   "<path>: no such file or directory", "<path>: no certificate in it",
 *   "<path>: out of memory". */
struct td_x509_store;
struct td_x509_store *td_x509_store_load(const char *path, char *err, size_t errlen);
void td_x509_store_free(struct td_x509_store *st);

/* Verifies chain[0] (the leaf) with chain[1..n) as untrusted
 * intermediates against the store, at time `at` (seconds since the epoch:
 * the capture's time, never the clock), as `openssl verify -CAfile FILE
 * -untrusted REST -attime AT LEAF` does (no purpose, no host name).
 * Returns true when it verifies. verdict receives "ok" or libcrypto's
 * words for the first error (X509_verify_cert_error_string: "unable to get
 * local issuer certificate", "certificate has expired", ...), and *depth
 * the chain position of the error (-1 when ok). A chain with a
 * certificate that did not parse gives false, "certificate [i] did not
 * parse", depth i. */
bool td_x509_verify(const struct td_x509_store *st, const struct td_cert *const *chain, size_t n,
		    int64_t at, char *verdict, size_t vlen, int *depth);

/* Reads the first certificate of a PEM or DER file (at most
 * TD_X509_MAX_DER bytes) into the cache; *out gets a reference to release
 * with td_x509_cert_release. Errors (err names the path):
 *   "<path>: no such file" / "<path>: <strerror>"           TD_ERR_IO
 *   "<path>: larger than 1 MiB"                             TD_ERR_TOO_BIG
 *   "<path>: not a certificate (PEM or DER)"                TD_ERR_MALFORMED
 *   "<path>: out of memory"                                 TD_ERR_NOMEM */
TD_MUST_CHECK enum td_err td_x509_cert_load(struct td_x509_cache *c, const char *path,
					    const struct td_cert **out, char *err, size_t errlen);

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
