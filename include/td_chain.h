/* td_chain.h - facts about the server's certificate chain of one connection,
 * and the consistency of certificates across the connections of a capture.
 *
 * The chain stage sits after the TLS parser: the caller (main.c, where the
 * engine hands over finished sessions) runs td_chain_check() on each
 * session and stores the result in the session facts (td_session.h), which
 * the diagnosis and the reports read. Signatures, host names and trust are
 * checked by the x509 module (libcrypto); this module only decides what
 * the answers mean for a chain, so it holds no OpenSSL type.
 *
 * Every time-dependent check uses the capture's time (the connection's
 * first packet), never the wall clock: a capture analysed next year says
 * what the peers saw on the day.
 */
#ifndef TD_CHAIN_H
#define TD_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct td_cert;       /* td_x509.h */
struct td_x509_store; /* td_x509.h */
struct td_session;    /* td_session.h */

/* Certificates per chain looked at; equal to TD_MAX_CHAIN (checked at
 * build time in chain.c). */
#define TD_CHAIN_MAX_CERTS 10
/* "Expiring": notAfter less than this many days after the capture. */
#define TD_CHAIN_EXPIRING_DAYS 30
/* Weak keys: RSA (and RSA-PSS) below 2048 bits, EC below 256 bits. */
#define TD_CHAIN_MIN_RSA_BITS 2048
#define TD_CHAIN_MIN_EC_BITS 256

/* Checks on one certificate (bits of td_chain_facts.checks[i]). */
enum td_cert_check {
	TD_CHK_EXPIRED = 1u << 0,       /* notAfter before the capture */
	TD_CHK_NOT_YET_VALID = 1u << 1, /* notBefore after the capture */
	TD_CHK_EXPIRING = 1u << 2,      /* valid, but notAfter within 30 days */
	TD_CHK_WEAK_RSA = 1u << 3,      /* RSA key below 2048 bits */
	TD_CHK_WEAK_EC = 1u << 4,       /* EC key below 256 bits */
	TD_CHK_DSA = 1u << 5,           /* DSA key */
	TD_CHK_MD5 = 1u << 6,           /* MD5 signature (not looked at on a self-signed CA,
					 * whose signature nobody checks) */
	TD_CHK_SHA1 = 1u << 7,          /* SHA-1 signature (same exception) */
};
#define TD_CHK_COUNT 8

/* Problems of the chain as a whole (bits of td_chain_facts.problems). */
enum td_chain_problem {
	TD_CHAIN_WRONG_ORDER = 1u << 0,
	TD_CHAIN_MISSING_INTERMEDIATE = 1u << 1,
	TD_CHAIN_ROOT_SENT = 1u << 2,
	TD_CHAIN_DUPLICATES = 1u << 3,
	TD_CHAIN_SELF_SIGNED_LEAF = 1u << 4,
	TD_CHAIN_LEAF_IS_CA = 1u << 5,
	TD_CHAIN_SNI_MISMATCH = 1u << 6,
	TD_CHAIN_CA_FAILED = 1u << 7,         /* --ca given and the chain does not verify */
	TD_CHAIN_UNEXPECTED_CERT = 1u << 8,   /* --cert given and the leaf is none of them */
	TD_CHAIN_BROKEN = 1u << 9,            /* a certificate sent that certifies none of the chain */
	TD_CHAIN_SNI_CERT_CHANGED = 1u << 10, /* earlier connections with the SNI had another leaf */
};
#define TD_CHAIN_PROBLEM_COUNT 11

/* Stable identifiers (the JSON "problems" and "checks" strings):
 * td_chain_check_id: "expired", "not-yet-valid", "expiring",
 * "weak-rsa-key", "weak-ec-key", "dsa-key", "md5-signature",
 * "sha1-signature"; td_chain_problem_id: "wrong-order",
 * "missing-intermediate", "root-sent", "duplicates", "self-signed-leaf",
 * "leaf-is-ca", "sni-mismatch", "ca-verify-failed",
 * "unexpected-certificate", "broken", "sni-certificate-changed". n is the bit's index; NULL beyond the count. */
const char *td_chain_check_id(unsigned n);
const char *td_chain_problem_id(unsigned n);

/* One leaf certificate remembered for a name or an endpoint. */
struct td_consist_leaf {
	uint8_t sha256[32];
	uint8_t spki_sha256[32];
	uint64_t connections;
	uint64_t first_connection; /* td_session.id of the first connection that presented it */
	uint32_t first_frame;      /* and the frame of its Certificate message */
};

/* What the earlier connections with the same SNI presented, as the
 * consistency table knew it when this connection ended (filled by
 * td_consistency_add). Connections are reported as they end, so the
 * first connection of a name is never flagged: only the ones after it. */
struct td_sni_history {
	/* The SNI had earlier connections with a leaf, and the table held
	 * it: every field below is set. False for the first connection of a
	 * name, without SNI or leaf, or when the table was full. */
	bool known;
	bool changed;     /* this leaf is none of the earlier connections' leaves */
	bool key_changed; /* nor is its public key any of theirs */
	/* more distinct leaves were seen than the table remembers: changed
	 * then means "none of those remembered" */
	bool at_least;
	uint8_t earlier_leaves;       /* distinct leaves before this connection */
	uint64_t earlier_connections; /* earlier connections with the SNI and a leaf */
	/* the leaf most earlier connections presented (the first seen on a tie) */
	struct td_consist_leaf earlier;
};

struct td_chain_facts {
	/* A chain was visible (at least one certificate): every field below
	 * is set. False for TLS 1.3 (encrypted) or no Certificate message. */
	bool checked;
	int64_t at;        /* the capture time the checks used (seconds) */
	unsigned problems; /* TD_CHAIN_* bits, from the facts below */

	/* Each certificate is signed by the next one (a real signature
	 * check). When false, unchained_at is the first position i whose
	 * certificate is not signed by certificate i + 1. */
	bool order_ok;
	uint8_t unchained_at;
	/* Following issuers from the leaf through the certificates sent
	 * (in any order, by signature) leads to the certificate at position
	 * top. missing_intermediate: that top is neither self-signed nor a
	 * CA certificate (basicConstraints cA), typically a leaf sent alone,
	 * so the intermediate that issued it was not sent. A top that is a
	 * CA certificate is taken as issued by a root the client holds
	 * (--ca tells whether it is). */
	bool missing_intermediate;
	uint8_t top;
	/* broken: a certificate after the leaf, neither self-signed nor a
	 * copy of one on the leaf's issuer path, is not on that path (a wrong
	 * intermediate, e.g. one with the right name and another key); the
	 * first such position is broken_at. A broken chain is not also
	 * reported as missing an intermediate or out of order (problems). A
	 * self-signed certificate off the path is a root sent along
	 * (root_sent), not a break. */
	bool broken;
	uint8_t broken_at;
	bool root_sent;          /* a self-signed certificate after the leaf */
	uint8_t duplicates;      /* certificates sent again (0: none) */
	bool self_signed_leaf;
	bool leaf_is_ca;         /* basicConstraints cA TRUE on the leaf */
	/* The SNI against the leaf (td_x509_check_host): 1 valid for it, 0
	 * not, -1 not checked (no SNI, or the leaf did not parse). */
	int8_t sni_match;
	uint16_t checks[TD_CHAIN_MAX_CERTS]; /* TD_CHK_* per position */

	/* --ca: the chain verified against the trust anchors at `at`. */
	bool ca_checked;
	bool ca_ok;
	int8_t ca_depth;         /* position of the error, -1 when ok */
	char ca_verdict[96];     /* "ok" or libcrypto's words for the error */

	/* --cert: the leaf compared with the expected certificates. */
	bool expected_checked;
	bool expected_match;     /* the leaf is one of them (same SHA-256) */
	/* the --cert file matched, or when none matched the closest one (same
	 * key, else one valid for the SNI, else the first); borrowed from
	 * the configuration, lives as long as it */
	const char *expected_path;
	uint8_t expected_sha256[32];
	uint8_t expected_spki_sha256[32];
	bool expected_same_key;  /* not the same certificate, but the same public key */

	/* Across connections: set by td_consistency_add(), after
	 * td_chain_check(); sni_history.known is false until then. */
	struct td_sni_history sni_history;
};

/* td_x509_check_host()'s answers by leaf certificate and SNI, kept for
 * td_chain_check(): connection after connection to one server asks the
 * same question, and libcrypto decodes the certificate's subjectAltName
 * extension each time. 64 slots, direct-mapped on the name; a hit needs
 * the name and the certificate's SHA-256 equal, so it only repeats an
 * answer libcrypto gave. Used by one thread at a time. */
struct td_chain_memo;

/* NULL when out of memory (td_chain_check() then asks libcrypto each
 * time). */
struct td_chain_memo *td_chain_memo_new(void);
void td_chain_memo_free(struct td_chain_memo *m);

struct td_chain_config {
	const struct td_x509_store *ca; /* --ca, or NULL */
	/* --cert: parsed certificates and their file names (borrowed) */
	const struct td_cert *const *expected;
	const char *const *expected_paths;
	size_t n_expected;
	struct td_chain_memo *memo; /* borrowed, or NULL */
};

/* Fills out from the session's chain, ClientHello SNI and first packet
 * time. cfg may be NULL (no --ca, no --cert, no memo). */
void td_chain_check(struct td_chain_facts *out, const struct td_session *s,
		    const struct td_chain_config *cfg);

/* ---- consistency across connections ----------------------------------
 * Per SNI and per server address:port, the distinct leaf certificates
 * (and public keys) seen. The table is bounded: at most max_keys names
 * and endpoints; a connection whose name or endpoint finds no room is
 * counted in `untracked`, never dropped silently. */

#define TD_CONSIST_MAX_SEEN 8 /* distinct leaves remembered per key */
#define TD_CONSIST_KEY_LEN 256

enum td_consist_kind { TD_CONSIST_SNI, TD_CONSIST_SERVER };

struct td_consist_entry {
	uint8_t kind;                     /* enum td_consist_kind */
	uint16_t key_len;
	uint8_t key[TD_CONSIST_KEY_LEN];  /* raw SNI bytes, or "ip:port" ("[v6]:port") */
	uint64_t connections;             /* with a visible leaf */
	uint8_t n_leaves;                 /* distinct leaves, up to TD_CONSIST_MAX_SEEN */
	uint8_t distinct_keys;            /* distinct public keys among them */
	/* more distinct leaves were seen than stored: both counts are then
	 * lower bounds, and their connections are counted in connections
	 * only */
	bool overflow;
	struct td_consist_leaf leaves[TD_CONSIST_MAX_SEEN];
};

struct td_consistency;

/* NULL on out-of-memory. max_keys 0 is taken as 1. Entries are allocated
 * as names arrive (doubling), so a small capture holds little. */
struct td_consistency *td_consistency_new(size_t max_keys);
void td_consistency_free(struct td_consistency *c);
/* Records the session's leaf under its SNI and its server endpoint;
 * sessions without a parsed leaf are ignored. When facts is not NULL (the
 * session's own chain facts, after td_chain_check) its sni_history
 * receives what earlier connections with the same SNI presented, before
 * this one is counted, and TD_CHAIN_SNI_CERT_CHANGED is added to its
 * problems when the leaf is new for the name. An allocation failure while
 * growing counts the connection as untracked. */
void td_consistency_add(struct td_consistency *c, const struct td_session *s,
			struct td_chain_facts *facts);
/* Bytes the table holds (entries allocated and the slot array), for the
 * summary's memory figures. */
size_t td_consistency_bytes(const struct td_consistency *c);
/* The entries, in order of first appearance; *n receives their count. */
const struct td_consist_entry *td_consistency_entries(const struct td_consistency *c, size_t *n);
/* Connections whose SNI or endpoint did not fit in the table. */
uint64_t td_consistency_untracked(const struct td_consistency *c);

#endif
