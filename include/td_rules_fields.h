/* td_rules_fields.h - the field table of the rule language.
 *
 * Internal to the rules module (rules.c, fields.c and their tests). One
 * table (fields.c) names every field a rule can use, with its type, its
 * meaning and the function that reads it from the session facts: the
 * parser checks names and types against it, the evaluator calls its
 * accessors, and --list-fields and the man page's list come from it.
 *
 * A field belongs to a scope: the session itself, or one item of a list
 * (a certificate of the chain, an alert, an offered cipher suite, an nDPI
 * risk) that a quantifier ("any cert: ...") or the leaf form
 * ("cert.leaf.subject") picks.
 */
#ifndef TD_RULES_FIELDS_H
#define TD_RULES_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_session.h"

enum rf_type {
	RF_BOOL,
	RF_NUM,
	RF_STR,
	RF_VERSION,  /* ProtocolVersion: compares by wire value */
	RF_TIME,     /* seconds since 1970 (UTC) */
	RF_ENUM,     /* a code with names (struct rf_enum) */
	RF_LIST_STR, /* a list of strings */
	RF_LIST_VERSION,
	RF_TYPE_COUNT
};

enum rf_scope { RF_SESSION, RF_CERT, RF_ALERT, RF_SUITE, RF_RISK, RF_SCOPE_COUNT };

/* Names of an enumeration, from one of three places: ids[code] (NULL
 * holes allowed); or name(code) for 0 <= code < count, the session
 * module's own name function (one list of names, the JSON schema's); or
 * lookup/display for the big IANA tables. */
struct rf_enum {
	const char *const *ids;
	size_t n_ids;
	const char *(*name)(long code);      /* when ids is NULL; "?" out of range */
	long count;
	long (*lookup)(const char *name);    /* -1 unknown; NULL: ids or name */
	const char *(*display)(long code);   /* for messages; NULL: ids or name */
};

/* A value read from the session. */
struct rf_value {
	bool present;  /* false: not known for this session (see the field) */
	int64_t n;     /* BOOL, NUM, VERSION, TIME, ENUM; list length */
	const uint8_t *s; /* STR (and ENUM display): bytes, not NUL-terminated */
	size_t slen;
	char buf[200]; /* storage for strings made on the fly */
};

/* Where the evaluation is: the session and the item of each list scope. */
struct rf_ctx {
	const struct td_session *s;
	unsigned idx[RF_SCOPE_COUNT];
};

struct rf_field {
	const char *name;
	uint8_t type;  /* enum rf_type */
	uint8_t scope; /* enum rf_scope */
	const struct rf_enum *en; /* RF_ENUM */
	const char *meaning;
	void (*get)(const struct rf_ctx *c, struct rf_value *v);
	/* lists: element i (0 <= i < get()'s n), as an RF_STR or RF_VERSION */
	void (*elem)(const struct rf_ctx *c, size_t i, struct rf_value *v);
};

/* A list that any/all range over. */
struct rf_domain {
	const char *name; /* "cert" */
	uint8_t scope;
	const char *meaning;
	size_t (*count)(const struct td_session *s);
	uint32_t (*frame)(const struct td_session *s, size_t i); /* evidence */
};

size_t rf_field_count(void);
const struct rf_field *rf_field_at(size_t i);
const struct rf_field *rf_field_find(const char *name);
const struct rf_domain *rf_domain_find(const char *name);
const struct rf_domain *rf_domain_at(size_t i); /* NULL past the end */
const struct rf_domain *rf_domain_of(unsigned scope);
const char *rf_type_name(unsigned type);

/* An enum literal: its code, -1 when name is not one of its values. */
long rf_enum_lookup(const struct rf_enum *e, const char *name);
/* The names of an enum's values, comma separated, into buf. */
void rf_enum_names(const struct rf_enum *e, char *buf, size_t n);
/* An enum code as a message shows it. */
const char *rf_enum_display(const struct rf_enum *e, long code);

/* "TLS1.2", "TLS 1.2", "TLSv1.2", "SSL3", "SSL3.0", "SSLv2" (any case)
 * -> wire value; -1 when not a version name. */
long rf_version_parse(const char *s);
/* "2026-01-31" or "2026-01-31T12:00:00Z" -> seconds; false if not one. */
bool rf_time_parse(const char *s, int64_t *out);

#endif
