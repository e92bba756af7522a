/* td_keylog.h - the NSS key log format (SSLKEYLOGFILE).
 *
 * What browsers, curl, OpenSSL (-keylogfile, SSL_CTX_set_keylog_callback)
 * and Wireshark read and write: one secret per line,
 *     <LABEL> <client_random hex, 64 digits> <secret hex>
 * plus "RSA <first 8 bytes of the encrypted pre-master secret, 16 hex
 * digits> <pre-master secret hex, 96 digits>", which libssl writes (beside
 * CLIENT_RANDOM) for RSA key exchange and Wireshark reads. Comments start with
 * '#'; blank lines are ignored. Labels (NSS "Key Log Format" page, and
 * draft-ietf-tls-keylogfile):
 *   CLIENT_RANDOM                     TLS <= 1.2 master secret (48 bytes)
 *   CLIENT_HANDSHAKE_TRAFFIC_SECRET   TLS 1.3
 *   SERVER_HANDSHAKE_TRAFFIC_SECRET
 *   CLIENT_TRAFFIC_SECRET_0
 *   SERVER_TRAFFIC_SECRET_0
 *   EARLY_TRAFFIC_SECRET, EXPORTER_SECRET (kept, unused)
 * Unknown labels are skipped silently (the format grows); malformed lines
 * (bad hex, wrong length, missing field, over-long line) are skipped and
 * counted, and the first few are described with their line number.
 *
 * Syntax accepted (what NSS, OpenSSL and Wireshark agree on):
 *   - lines end with "\n" or "\r\n"; a last line without one counts;
 *   - fields are separated by one or more spaces or tabs; blanks before the
 *     first field and after the last are ignored;
 *   - a label is a word of letters, digits and '_' (case matters: only the
 *     upper-case names above are known); hex digits are of either case;
 *   - the client random is 64 hex digits (32 bytes, RFC 5246 §7.4.1.2);
 *     CLIENT_RANDOM and RSA secrets are 96 (48 bytes); TLS 1.3 secrets 64
 *     or 96 (the suite's hash: SHA-256 or SHA-384);
 *   - nothing may follow the secret.
 * Warning texts, one per malformed line, first problem found:
 *   "line longer than 1024 bytes", "not a key log line" (the first field
 *   is not a word), "missing client random", "client random is not hex",
 *   "client random is not 64 hex digits", "missing secret",
 *   "secret is not hex", "secret is not 96 hex digits",
 *   "secret is not 64 or 96 hex digits", "missing encrypted pre-master
 *   secret prefix", "encrypted pre-master secret prefix is not hex",
 *   "encrypted pre-master secret prefix is not 16 hex digits",
 *   "extra field after the secret".
 *
 * The file is untrusted: it is read through the bounds-checked reader, its
 * size is capped, and every line length is capped. Memory held is bounded
 * by the file's size: an entry (82 bytes) comes from a line of at least 117
 * bytes; the entries' array is reserved from the file's size (its pages
 * are used as entries reach them) and grows by doubling past it. Every copy
 * of a secret is wiped when it is freed.
 */
#ifndef TD_KEYLOG_H
#define TD_KEYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_error.h"

/* Largest key log read (a busy browser writes a few MB a day). */
#define TD_KEYLOG_MAX_FILE ((size_t)256 << 20)
/* Longest line accepted (label + 64 + 96 hex digits + spaces, with room). */
#define TD_KEYLOG_MAX_LINE 1024
#define TD_KEYLOG_MAX_SECRET 64
/* Malformed lines described in warnings; the rest are only counted. */
#define TD_KEYLOG_MAX_WARNINGS 8

enum td_keylog_label {
	TD_KL_CLIENT_RANDOM,
	TD_KL_CLIENT_HANDSHAKE,
	TD_KL_SERVER_HANDSHAKE,
	TD_KL_CLIENT_TRAFFIC_0,
	TD_KL_SERVER_TRAFFIC_0,
	TD_KL_EARLY_TRAFFIC,
	TD_KL_EXPORTER,
	TD_KL_COUNT
};

struct td_keylog_warning {
	uint32_t line;
	char text[96]; /* what is wrong, e.g. "secret is not hex" */
};

struct td_keylog_entry; /* private */
struct td_keylog_rsa;   /* private */

struct td_keylog {
	char *path;                       /* copy of the name as given; owned */
	struct td_keylog_entry *entries;  /* sorted by client random; owned */
	size_t n_entries;
	struct td_keylog_rsa *rsa;        /* "RSA" lines, sorted; owned */
	size_t n_rsa;
	uint32_t lines;                   /* lines read */
	uint32_t secrets;                 /* well-formed lines with a known label */
	uint32_t duplicates;              /* of those, replaced by a later line for
					   * the same client random and label (or
					   * RSA prefix): secrets - duplicates ==
					   * n_entries + n_rsa */
	uint32_t malformed;               /* lines skipped as malformed */
	uint32_t unknown_labels;          /* lines with a label not listed above */
	uint8_t n_warnings;
	struct td_keylog_warning warnings[TD_KEYLOG_MAX_WARNINGS];
};

/* Reads path into kl (zeroed first). Errors that stop the load return
 * non-TD_OK with one line in err ("<path>: <why>"; err may be NULL when
 * errlen is 0) and leave kl zeroed:
 *   TD_ERR_IO       "no such file", "not a regular file" (a directory, a
 *                   FIFO, a device), or the system's message;
 *   TD_ERR_TOO_BIG  "larger than 256 MiB" (TD_KEYLOG_MAX_FILE);
 *   TD_ERR_NOMEM    "out of memory".
 * The file is read to its end, 1 MiB at a time, and never held whole:
 * what stays in memory is the secrets (lines a browser appends meanwhile
 * are read too, up to the cap). An empty file loads (nothing in it).
 * Malformed lines do not fail the load: they are counted and described in
 * kl->warnings
 * ("<path>:<line>: <text>" is how callers print them). Later lines for the
 * same client random and label replace earlier ones, as in Wireshark.
 * Release with td_keylog_free (also after a failed load). */
TD_MUST_CHECK enum td_err td_keylog_load(struct td_keylog *kl, const char *path, char *err,
					 size_t errlen);
/* The same over bytes in memory (tests and fuzzing): kl zeroed first,
 * name copied into kl->path. TD_ERR_TOO_BIG when n > TD_KEYLOG_MAX_FILE,
 * TD_ERR_NOMEM; kl is then zeroed. p is only read, and may be NULL when n
 * is 0. */
TD_MUST_CHECK enum td_err td_keylog_parse(struct td_keylog *kl, const char *name,
					  const uint8_t *p, size_t n);
/* The same, with the bytes given piece bytes at a time (0: all at once),
 * as td_keylog_load reads a file: the result is the same whatever the
 * pieces (tests and fuzzing check it). */
TD_MUST_CHECK enum td_err td_keylog_parse_pieces(struct td_keylog *kl, const char *name,
						 const uint8_t *p, size_t n, size_t piece);
/* Frees and zeroes (secrets wiped); kl may be zeroed already. */
void td_keylog_free(struct td_keylog *kl);

/* The secret for (client_random, label): copies it into out (cap bytes at
 * least TD_KEYLOG_MAX_SECRET) and returns its length, or 0 when absent. */
size_t td_keylog_find(const struct td_keylog *kl, const uint8_t client_random[32],
		      enum td_keylog_label label, uint8_t *out);
/* The RSA lines: the pre-master secret whose encrypted form starts with
 * these 8 bytes; returns its length (48) or 0. */
size_t td_keylog_find_rsa(const struct td_keylog *kl, const uint8_t enc_prefix[8], uint8_t *out);
/* True when the key log has any secret at all for this client random. */
bool td_keylog_has(const struct td_keylog *kl, const uint8_t client_random[32]);
/* The i-th secret in (client random, label) order, i < kl->n_entries: its
 * client random, label and secret (out: TD_KEYLOG_MAX_SECRET bytes at
 * least); returns the secret's length, or 0 when i is out of range. For
 * listing what a key log holds and for the fuzz target's invariants. */
size_t td_keylog_entry_at(const struct td_keylog *kl, size_t i, uint8_t client_random[32],
			  enum td_keylog_label *label, uint8_t *out);

/* "CLIENT_RANDOM", "CLIENT_HANDSHAKE_TRAFFIC_SECRET", ...: the label as
 * written in the file; "unknown" out of range, never NULL. */
const char *td_keylog_label_name(enum td_keylog_label l);

#endif
