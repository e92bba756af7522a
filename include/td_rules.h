/* td_rules.h - the rule engine: rules over the session facts, and the
 * findings they produce.
 *
 * The rules stage (DESIGN.md) sits between the session facts and the
 * report. A rule file (tlsdiag-rules(5)) holds rules such as
 *
 *	rule weak-rsa-key {
 *	    severity high
 *	    when any cert: cert.key.algorithm == "RSA" and cert.key.bits < 2048
 *	    message "certificate {cert.subject} has a {cert.key.bits}-bit RSA key"
 *	    explain "RSA keys under 2048 bits are breakable (NIST SP 800-131A)."
 *	}
 *
 * Every field a rule can name comes from one table (fields.c), which is
 * also what --list-fields prints and what the man page lists. Rule files
 * are untrusted input: they are read through the bounds-checked reader
 * (td_reader.h), with caps on their size, the number of rules, string
 * lengths and expression depth, and every error is one line
 * "FILE:LINE:COL: message" (lines and columns count from 1, columns in
 * bytes). Loading stops at the first error.
 *
 * A ruleset is built once (load, disable) and then only read: evaluating
 * it keeps no state, so the findings of a session depend on that session
 * alone. Findings borrow the rule's id and explanation from the ruleset,
 * which must outlive them.
 */
#ifndef TD_RULES_H
#define TD_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "td_error.h"
#include "td_session.h"

enum td_severity {
	TD_SEV_INFO,
	TD_SEV_LOW,
	TD_SEV_MEDIUM,
	TD_SEV_HIGH,
	TD_SEV_CRITICAL,
	TD_SEV_COUNT
};

/* "info", "low", "medium", "high", "critical"; "?" out of range. */
const char *td_severity_name(unsigned sev);
/* The severity named name (exact, lower case), or -1. */
int td_severity_parse(const char *name);

/* Caps on rule files (documented in tlsdiag-rules(5)). */
#define TD_RULES_MAX_FILE ((size_t)1 << 20) /* bytes per file */
#define TD_RULES_MAX_RULES 1024             /* rules per ruleset */
#define TD_RULES_MAX_STRING 1024            /* bytes in one string literal */
#define TD_RULES_MAX_DEPTH 64               /* nesting of one expression */
#define TD_RULES_MAX_LIST 256               /* items of one [..] list */

/* Findings kept per connection (the true count is kept beside it). */
#define TD_MAX_FINDINGS 32
#define TD_FINDING_MSG_LEN 320

struct td_finding {
	const char *id;      /* the rule's id; borrowed from the ruleset */
	const char *explain; /* the rule's explanation, "" when none; borrowed */
	uint8_t severity;    /* enum td_severity */
	/* Evidence: the frame of the item the rule matched (the alert, the
	 * Certificate message, the ClientHello), or of its `frame` field;
	 * 0 when the rule names none. */
	uint32_t frame;
	/* The message template filled in. Wire strings (SNI, certificate
	 * names) go in as they are: the report writers escape the message
	 * for where it goes. Cut at TD_FINDING_MSG_LEN - 1 bytes. */
	char message[TD_FINDING_MSG_LEN];
};

struct td_findings {
	uint16_t n, total; /* stored, and found (total > n when capped) */
	/* most severe first; rules in load order within a severity */
	struct td_finding f[TD_MAX_FINDINGS];
};

struct td_ruleset;

/* An empty ruleset; NULL when out of memory. */
struct td_ruleset *td_rules_new(void);
void td_rules_free(struct td_ruleset *rs);

/* Parses rules from data[0..len) (borrowed for the call) and adds them.
 * name is what error messages and --list-rules call the file. On error
 * err receives "NAME:LINE:COL: message" (or "NAME: message" when the
 * problem is the file as a whole), and the ruleset keeps the rules of
 * earlier calls only. TD_ERR_MALFORMED (syntax, unknown field or value,
 * type mismatch, duplicate id), TD_ERR_TOO_BIG (a cap), TD_ERR_NOMEM. */
TD_MUST_CHECK enum td_err td_rules_load_buffer(struct td_ruleset *rs, const char *name,
					       const uint8_t *data, size_t len, char *err,
					       size_t errlen);
/* Reads path (at most TD_RULES_MAX_FILE bytes) and loads it as above;
 * TD_ERR_IO when it cannot be read ("PATH: No such file or directory"). */
TD_MUST_CHECK enum td_err td_rules_load_file(struct td_ruleset *rs, const char *path, char *err,
					     size_t errlen);
/* Loads the built-in rules (rules/default.rules, compiled in), under the
 * name "default.rules". */
TD_MUST_CHECK enum td_err td_rules_load_default(struct td_ruleset *rs, char *err, size_t errlen);
/* The built-in rule file's text (NUL-terminated, static). */
const char *td_rules_default_text(void);

/* Disables the rule with this id; TD_ERR_ARG ("--disable ID: no rule with
 * this id") when none has it. */
TD_MUST_CHECK enum td_err td_rules_disable(struct td_ruleset *rs, const char *id, char *err,
					   size_t errlen);

/* Rules loaded, in load order, for --list-rules and tests. */
struct td_rule_info {
	const char *id;
	uint8_t severity;
	const char *file; /* as given to the loader */
	unsigned line;    /* of the word "rule" */
	const char *message; /* the template as written */
	const char *explain; /* "" when none */
	bool enabled;
};
size_t td_rules_count(const struct td_ruleset *rs);
/* False when i is out of range. */
bool td_rules_info(const struct td_ruleset *rs, size_t i, struct td_rule_info *out);

/* --list-rules: one line per rule, "ID  SEVERITY  FILE:LINE  MESSAGE"
 * (disabled rules marked). */
void td_rules_list(FILE *out, const struct td_ruleset *rs);
/* --list-fields: one line per field, "NAME  TYPE  MEANING", from the field
 * table, then the lists that any/all range over. */
void td_rules_list_fields(FILE *out);
/* The field table, for tests: the name of field i and its type name;
 * false when i is out of range. */
bool td_rules_field(size_t i, const char **name, const char **type);

/* Evaluates every enabled rule on s and fills out (emptied first). s is
 * read only. */
void td_rules_eval(const struct td_ruleset *rs, const struct td_session *s,
		   struct td_findings *out);

/* Removes the findings below min_severity (--min-severity). */
void td_findings_filter(struct td_findings *f, unsigned min_severity);
/* The highest severity among the findings, -1 when there is none. */
int td_findings_max(const struct td_findings *f);

#endif
