/* td_names.h - names of TLS code points, from the IANA registries.
 *
 * Every name comes from one data file per registry (data/tls-*.csv, STYLE.md
 * rule 8), turned into sorted static tables by tools/gen-names.awk; nothing
 * here is a switch over numbers. Lookups are binary searches and never
 * allocate.
 *
 * Lifetime: every string and struct pointer returned here points into
 * read-only static tables. It is valid for the whole run of the program and
 * must not be freed or written. Nothing here keeps state, so every function
 * is safe to call from any thread.
 *
 * Unknown values are not errors: a parser that meets a code point missing
 * from the tables gets NULL and reports the number (td_names_fmt16 does it
 * for display).
 */
#ifndef TD_NAMES_H
#define TD_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_error.h" /* TD_MUST_CHECK */

/* One cipher suite. kx, auth, enc and mac are derived from the IANA name
 * (see the header of data/tls-cipher-suites.csv for the vocabulary):
 * TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 -> "ECDHE", "RSA", "AES_128_GCM",
 * "SHA256". TLS 1.3 suites have kx and auth "any"; the signalling values
 * TLS_EMPTY_RENEGOTIATION_INFO_SCSV and TLS_FALLBACK_SCSV have "SCSV" in
 * all four. No field is ever NULL. */
struct td_cipher_info {
	uint16_t id;
	const char *name;
	const char *kx;
	const char *auth;
	const char *enc;
	const char *mac;
};

/* Cipher suite by its two-byte value; NULL when unknown (GREASE values are
 * unknown here: test them with td_names_is_grease). */
const struct td_cipher_info *td_names_cipher(uint16_t id);
/* The IANA name of a cipher suite, or NULL; the shape td_names_fmt16
 * wants. */
const char *td_names_cipher_name(uint16_t id);

/* AlertDescription (RFC 8446 §6); NULL when unknown. */
const char *td_names_alert(uint8_t desc);
/* NamedGroup (RFC 8446 §4.2.7); NULL when unknown. */
const char *td_names_group(uint16_t id);
/* SignatureScheme (RFC 8446 §4.2.3), including the TLS 1.2
 * {hash, signature} pairs peers still offer; NULL when unknown. */
const char *td_names_sigscheme(uint16_t id);
/* ExtensionType (RFC 8446 §4.2); NULL when unknown. */
const char *td_names_extension(uint16_t id);
/* HandshakeType (RFC 8446 §4); NULL when unknown. */
const char *td_names_handshake(uint8_t type);
/* ProtocolVersion, as "TLS 1.2", "DTLS 1.3", "TLS 1.3 draft 23"; NULL when
 * unknown. */
const char *td_names_version(uint16_t v);
/* ContentType of the record layer (RFC 8446 §5.1); NULL when unknown. */
const char *td_names_content_type(uint8_t t);

/* True for the 16 GREASE values of RFC 8701 §2 (0x0A0A, 0x1A1A, ...,
 * 0xFAFA), which clients put in cipher suite, extension, group, signature
 * scheme and version lists to keep servers tolerant. */
bool td_names_is_grease(uint16_t v);

/* Room that td_names_fmt16 needs for any name in the tables or either
 * fallback text, terminating NUL included. */
#define TD_NAMES_FMT_LEN 64

/* Writes into buf (n bytes, truncated like snprintf) the name lookup(v)
 * gives, or "GREASE (0x1a1a)" for a GREASE value, or "unknown (0x1234)"
 * when lookup is NULL or returns NULL. Returns buf. With n == 0 nothing is
 * written. Example:
 *	char b[TD_NAMES_FMT_LEN];
 *	td_names_fmt16(b, sizeof b, td_names_group, 0x11ec) -> "X25519MLKEM768"
 */
const char *td_names_fmt16(char *buf, size_t n,
			   const char *(*lookup)(uint16_t), uint16_t v);
/* The same text without the copy: a name the table has comes back as the
 * table's own string (static, buf untouched, never cut), the fallback
 * texts are written into buf and buf is returned. For writers that copy
 * the name on anyway (the JSON report). */
const char *td_names_str16(char *buf, size_t n,
			   const char *(*lookup)(uint16_t), uint16_t v);

/* Reverse lookups, for the rule engine: the value whose name is name,
 * compared without regard to ASCII case; -1 when no entry has that name or
 * name is NULL. */
TD_MUST_CHECK long td_names_cipher_by_name(const char *name);
TD_MUST_CHECK long td_names_alert_by_name(const char *name);

/* Whole tables, for listing known names and for tests. Entries come in
 * strictly ascending value order. */
enum td_names_table {
	TD_NAMES_CIPHER,
	TD_NAMES_ALERT,
	TD_NAMES_GROUP,
	TD_NAMES_SIGSCHEME,
	TD_NAMES_EXTENSION,
	TD_NAMES_HANDSHAKE,
	TD_NAMES_VERSION,
	TD_NAMES_CONTENT_TYPE,
	TD_NAMES_TABLE_COUNT
};

/* Number of entries in table t; 0 for a t out of range. */
size_t td_names_table_size(enum td_names_table t);
/* The i-th entry of table t: stores its value and name and returns true,
 * or returns false (storing nothing) when t or i is out of range. id and
 * name may each be NULL when not wanted. */
TD_MUST_CHECK bool td_names_table_entry(enum td_names_table t, size_t i,
					uint16_t *id, const char **name);

#endif
