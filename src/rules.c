/* rules.c - the rule language: lexer, parser, type checks, evaluator,
 * message templates (td_rules.h; the language is tlsdiag-rules(5)).
 *
 * The rule file is untrusted input like a capture: it is read byte by byte
 * through the bounds-checked reader, every string and list has a cap, and
 * expression nesting is counted so that "((((..." stops with an error
 * instead of the stack. Names and types are resolved while parsing, against
 * the field table (fields.c), so evaluation never meets an unknown field or
 * a type it cannot compare.
 *
 * Evaluation uses three-valued logic (true, false, unknown): a comparison
 * with a fact the session does not have is unknown, `not` keeps it
 * unknown, `and`/`or` follow Kleene's tables, and only a rule whose
 * condition is true makes a finding. So `not cert.leaf.spki_sha256 in
 * [...]` does not fire on a TLS 1.3 connection whose certificate is not
 * visible.
 */
#include "td_rules.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "td_names.h"
#include "td_reader.h"
#include "td_rules_fields.h"

/* The built-in rules: rules/default.rules as a C string (Makefile). */
#include "default_rules.c"

#define MAX_NAME 128   /* bytes in a name (rule id, field) */
#define MAX_TERMS 256  /* operands of one and/or chain */

/* ---- arena: every piece of a ruleset, freed at once ------------------- */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

static void *arena_alloc(struct chunk **head, size_t n)
{
	struct chunk *c = *head;
	size_t align = sizeof(max_align_t);

	n = (n + align - 1) / align * align;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > 65536 ? n : 65536;
		c = calloc(1, sizeof *c + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->next = *head;
		*head = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static char *arena_strndup(struct chunk **head, const char *s, size_t n)
{
	char *p = arena_alloc(head, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* ---- the syntax tree ----------------------------------------------------- */

enum nkind { N_AND, N_OR, N_NOT, N_ANY, N_ALL, N_CMP, N_TEST, N_CONST };
enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_GLOB, OP_CONTAINS, OP_COUNT };

static const char *const op_names[OP_COUNT] = {
	[OP_EQ] = "==", [OP_NE] = "!=", [OP_LT] = "<",   [OP_LE] = "<=",       [OP_GT] = ">",
	[OP_GE] = ">=", [OP_IN] = "in", [OP_GLOB] = "~", [OP_CONTAINS] = "contains",
};

#define OPS_ORDER ((1u << OP_EQ) | (1u << OP_NE) | (1u << OP_LT) | (1u << OP_LE) | \
		   (1u << OP_GT) | (1u << OP_GE))
/* Which operators apply to which type (tlsdiag-rules(5), "Operators"). */
static const unsigned ops_of_type[RF_TYPE_COUNT] = {
	[RF_BOOL] = (1u << OP_EQ) | (1u << OP_NE),
	[RF_NUM] = OPS_ORDER | (1u << OP_IN),
	[RF_STR] = (1u << OP_EQ) | (1u << OP_NE) | (1u << OP_IN) | (1u << OP_GLOB) |
		   (1u << OP_CONTAINS),
	[RF_VERSION] = OPS_ORDER | (1u << OP_IN),
	[RF_TIME] = OPS_ORDER,
	[RF_ENUM] = OPS_ORDER | (1u << OP_IN),
	[RF_LIST_STR] = 1u << OP_CONTAINS,
	[RF_LIST_VERSION] = 1u << OP_CONTAINS,
};

struct fref {
	const struct rf_field *f;
	bool leaf; /* cert.leaf.X: the cert field X of the first certificate */
};

struct lit {
	int64_t n;
	const char *s;
	size_t slen;
};

struct node {
	uint8_t kind, op;
	bool value;                 /* N_CONST */
	struct node **kids;         /* N_AND, N_OR: n_kids; N_NOT, N_ANY, N_ALL: 1 */
	size_t n_kids;
	const struct rf_domain *dom; /* N_ANY, N_ALL */
	struct fref lhs, rhs;       /* N_CMP, N_TEST (lhs) */
	bool rhs_field;
	struct lit *lits;           /* N_CMP against literals (several for `in`) */
	size_t n_lits;
};

/* A message template: literal text and fields, in order. */
struct tpart {
	const char *text;
	size_t len;
	struct fref f; /* f.f NULL: literal text */
};

struct rule {
	const char *id;
	uint8_t severity;
	const char *file;
	unsigned line;
	const char *message;
	const char *explain;
	struct node *when;
	struct tpart *parts;
	size_t n_parts;
	struct fref frame; /* frame.f NULL: none */
	/* top-level any whose message or frame names the item: one finding
	 * per matching item (else one finding, at the first) */
	bool per_item;
	bool enabled;
};

struct td_ruleset {
	struct chunk *arena;
	struct rule *rules; /* TD_RULES_MAX_RULES of them */
	size_t n;
};

/* ---- severities ------------------------------------------------------------ */

static const char *const sev_names[TD_SEV_COUNT] = { "info", "low", "medium", "high",
						     "critical" };

const char *td_severity_name(unsigned sev)
{
	return sev < TD_SEV_COUNT ? sev_names[sev] : "?";
}

int td_severity_parse(const char *name)
{
	for (int i = 0; i < TD_SEV_COUNT; i++)
		if (name && strcmp(name, sev_names[i]) == 0)
			return i;
	return -1;
}

/* ---- lexer --------------------------------------------------------------- */

enum tok_kind { T_EOF, T_NAME, T_STRING, T_NUMBER, T_PUNCT };

struct token {
	uint8_t kind;
	unsigned line, col;
	size_t len;
	int64_t num;
	char text[TD_RULES_MAX_STRING + 1];
	/* T_STRING: the source column of each byte, so an error inside a
	 * message template points at the right place */
	unsigned cols[TD_RULES_MAX_STRING + 1];
};

struct parser {
	struct td_reader r;
	unsigned line, col;
	const char *file;
	struct token tok;
	struct td_ruleset *rs;
	int depth;
	unsigned bound; /* scopes bound by the enclosing quantifiers (bits) */
	char *err;
	size_t errlen;
};

static enum td_err fail_at(struct parser *p, unsigned line, unsigned col, enum td_err e,
			   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static enum td_err fail_at(struct parser *p, unsigned line, unsigned col, enum td_err e,
			   const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	td_err_format(p->err, p->errlen, "%s:%u:%u: %s", p->file, line, col, msg);
	return e;
}

#define FAIL(p, ...) fail_at((p), (p)->tok.line, (p)->tok.col, TD_ERR_MALFORMED, __VA_ARGS__)

static int peek(const struct parser *p, size_t at)
{
	uint8_t b;
	return td_peek_u8(&p->r, at, &b) == TD_OK ? b : -1;
}

static void advance(struct parser *p)
{
	uint8_t b;

	if (td_read_u8(&p->r, &b) != TD_OK)
		return;
	if (b == '\n') {
		p->line++;
		p->col = 1;
	} else {
		p->col++;
	}
}

static bool name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(int c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A printable rendering of byte c for an error message. */
static const char *show_char(int c, char buf[8])
{
	if (c >= 0x21 && c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02x", (unsigned)c & 0xff);
	return buf;
}

static enum td_err lex_string(struct parser *p)
{
	struct token *t = &p->tok;
	char cb[8];

	t->kind = T_STRING;
	advance(p); /* the opening quote */
	for (;;) {
		int c = peek(p, 0);
		unsigned col = p->col;

		if (c < 0 || c == '\n' || c == '\r')
			return fail_at(p, t->line, t->col, TD_ERR_MALFORMED, "unterminated string");
		if (c == '"') {
			advance(p);
			break;
		}
		if (c == '\\') {
			int e = peek(p, 1), h1, h2;
			static const char from[] = "nt\\\"{}", to[] = "\n\t\\\"{}";
			const char *k = e > 0 ? strchr(from, e) : NULL;

			if (k && *k) {
				c = to[k - from];
				advance(p);
				advance(p);
			} else if (e == 'x' && (h1 = hexval(peek(p, 2))) >= 0 &&
				   (h2 = hexval(peek(p, 3))) >= 0 && (h1 || h2)) {
				c = h1 * 16 + h2;
				for (int i = 0; i < 4; i++)
					advance(p);
			} else {
				return fail_at(p, p->line, col, TD_ERR_MALFORMED,
					       "unknown escape in string (\\n \\t \\\\ \\\" \\{ \\} "
					       "\\xHH, not NUL)");
			}
		} else if (c < 0x20 && c != '\t') {
			return fail_at(p, p->line, col, TD_ERR_MALFORMED,
				       "control character %s in string", show_char(c, cb));
		} else {
			advance(p);
		}
		if (t->len == TD_RULES_MAX_STRING)
			return fail_at(p, t->line, t->col, TD_ERR_TOO_BIG,
				       "string longer than %d bytes", TD_RULES_MAX_STRING);
		t->cols[t->len] = col;
		t->text[t->len++] = (char)c;
	}
	t->text[t->len] = '\0';
	return TD_OK;
}

static enum td_err lex_number(struct parser *p)
{
	struct token *t = &p->tok;
	bool neg = peek(p, 0) == '-';
	int base = 10;
	int64_t n = 0;
	bool any = false;

	t->kind = T_NUMBER;
	if (neg)
		advance(p);
	if (peek(p, 0) == '0' && (peek(p, 1) == 'x' || peek(p, 1) == 'X')) {
		base = 16;
		advance(p);
		advance(p);
	}
	for (;;) {
		int d = hexval(peek(p, 0));
		if (d < 0 || d >= base)
			break;
		if (n > (INT64_MAX - d) / base)
			return FAIL(p, "number too large");
		n = n * base + d;
		any = true;
		advance(p);
	}
	if (!any || name_char(peek(p, 0)))
		return FAIL(p, "malformed number");
	t->num = neg ? -n : n;
	return TD_OK;
}

/* Reads the next token into p->tok. */
static TD_MUST_CHECK enum td_err next(struct parser *p)
{
	struct token *t = &p->tok;
	static const char *const punct2[] = { "==", "!=", "<=", ">=" };
	char cb[8];
	int c;

	for (;;) { /* blanks and comments */
		c = peek(p, 0);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			advance(p);
		} else if (c == '#') {
			while ((c = peek(p, 0)) >= 0 && c != '\n')
				advance(p);
		} else {
			break;
		}
	}
	t->line = p->line;
	t->col = p->col;
	t->len = 0;
	t->text[0] = '\0';
	if (c < 0) {
		t->kind = T_EOF;
		return TD_OK;
	}
	if (name_start(c)) {
		t->kind = T_NAME;
		while (name_char(peek(p, 0))) {
			if (t->len == MAX_NAME)
				return FAIL(p, "name longer than %d characters", MAX_NAME);
			t->text[t->len++] = (char)peek(p, 0);
			advance(p);
		}
		t->text[t->len] = '\0';
		return TD_OK;
	}
	if ((c >= '0' && c <= '9') || (c == '-' && peek(p, 1) >= '0' && peek(p, 1) <= '9'))
		return lex_number(p);
	if (c == '"')
		return lex_string(p);
	t->kind = T_PUNCT;
	for (size_t i = 0; i < sizeof punct2 / sizeof punct2[0]; i++) {
		if (c == punct2[i][0] && peek(p, 1) == punct2[i][1]) {
			memcpy(t->text, punct2[i], 3);
			t->len = 2;
			advance(p);
			advance(p);
			return TD_OK;
		}
	}
	if (c == '=')
		return FAIL(p, "'=' is not an operator (write '==')");
	if (c == '!')
		return FAIL(p, "'!' is not an operator (write 'not' or '!=')");
	if (!strchr("<>~()[]{},:", c))
		return FAIL(p, "unexpected character %s", show_char(c, cb));
	t->text[0] = (char)c;
	t->text[1] = '\0';
	t->len = 1;
	advance(p);
	return TD_OK;
}

static bool is_punct(const struct parser *p, const char *s)
{
	return p->tok.kind == T_PUNCT && strcmp(p->tok.text, s) == 0;
}

static bool is_word(const struct parser *p, const char *s)
{
	return p->tok.kind == T_NAME && strcmp(p->tok.text, s) == 0;
}

/* What the current token is, for "expected X, found Y". */
static const char *found(const struct parser *p, char *buf, size_t n)
{
	switch (p->tok.kind) {
	case T_EOF:
		return "the end of the file";
	case T_STRING:
		return "a string";
	case T_NUMBER:
		return "a number";
	default:
		snprintf(buf, n, "'%.128s'", p->tok.text);
		return buf;
	}
}

static TD_MUST_CHECK enum td_err expect(struct parser *p, const char *punct)
{
	char b[MAX_NAME + 4];

	if (!is_punct(p, punct))
		return FAIL(p, "expected '%s', found %s", punct, found(p, b, sizeof b));
	return next(p);
}

/* ---- parser: fields --------------------------------------------------- */

static const char *scope_word(unsigned scope)
{
	const struct rf_domain *d = rf_domain_of(scope);
	return d ? d->name : "?";
}

/* Resolves a field name at line:col. bound: the scopes its position can
 * see (quantifiers around it). */
static enum td_err resolve(struct parser *p, const char *name, unsigned line, unsigned col,
			   unsigned bound, struct fref *out)
{
	static const char leaf[] = "cert.leaf.";
	char full[MAX_NAME + 8];

	out->leaf = false;
	out->f = rf_field_find(name);
	if (!out->f && strncmp(name, leaf, sizeof leaf - 1) == 0) {
		snprintf(full, sizeof full, "cert.%s", name + sizeof leaf - 1);
		out->f = rf_field_find(full);
		if (out->f && out->f->scope == RF_CERT) {
			out->leaf = true;
			return TD_OK;
		}
		out->f = NULL;
	}
	if (!out->f)
		return fail_at(p, line, col, TD_ERR_MALFORMED,
			       "unknown field '%s' (tlsdiag --list-fields lists them)", name);
	if (out->f->scope != RF_SESSION && !(bound & (1u << out->f->scope))) {
		const char *w = scope_word(out->f->scope);
		if (out->f->scope == RF_CERT)
			return fail_at(p, line, col, TD_ERR_MALFORMED,
				       "%s needs 'any cert:' or 'all cert:' around it (or write "
				       "cert.leaf.%s)", name, name + 5);
		return fail_at(p, line, col, TD_ERR_MALFORMED,
			       "%s needs 'any %s:' or 'all %s:' around it", name, w, w);
	}
	return TD_OK;
}

static const char *type_of(const struct fref *r)
{
	return rf_type_name(r->f->type);
}

/* ---- parser: expressions ------------------------------------------------- */

static struct node *new_node(struct parser *p, uint8_t kind)
{
	struct node *n = arena_alloc(&p->rs->arena, sizeof *n);
	if (n)
		n->kind = kind;
	return n;
}

static enum td_err parse_or(struct parser *p, struct node **out);

static const char *literal_kind(const struct token *t)
{
	return t->kind == T_STRING ? "a string" : t->kind == T_NUMBER ? "a number" : "a name";
}

/* The current token as a literal for a field of type `type` (the element
 * type for lists). */
static enum td_err parse_literal(struct parser *p, const struct fref *lhs, unsigned type,
				 struct lit *out)
{
	const struct token *t = &p->tok;
	const char *fname = lhs->f->name;
	char names[512];
	long v;

	memset(out, 0, sizeof *out);
	if (t->kind != T_STRING && t->kind != T_NUMBER && t->kind != T_NAME)
		return FAIL(p, "expected a value to compare %s with, found '%s'", fname, t->text);
	switch (type) {
	case RF_BOOL:
		if (t->kind == T_NAME && (is_word(p, "true") || is_word(p, "false"))) {
			out->n = is_word(p, "true");
			return next(p);
		}
		break;
	case RF_NUM:
		if (t->kind == T_NUMBER) {
			out->n = t->num;
			return next(p);
		}
		break;
	case RF_STR:
	case RF_LIST_STR:
		if (t->kind == T_STRING) {
			out->s = arena_strndup(&p->rs->arena, t->text, t->len);
			out->slen = t->len;
			if (!out->s)
				return TD_ERR_NOMEM;
			return next(p);
		}
		break;
	case RF_VERSION:
	case RF_LIST_VERSION:
		if (t->kind == T_NUMBER && t->num >= 0 && t->num <= 0xffff) {
			out->n = t->num;
			return next(p);
		}
		if (t->kind == T_STRING) {
			v = rf_version_parse(t->text);
			if (v < 0)
				return FAIL(p, "unknown version \"%s\" (SSL2, SSL3, TLS1.0, TLS1.1, "
					       "TLS1.2, TLS1.3)", t->text);
			out->n = v;
			return next(p);
		}
		break;
	case RF_TIME:
		if (t->kind == T_NUMBER) {
			out->n = t->num;
			return next(p);
		}
		if (t->kind == T_STRING) {
			if (!rf_time_parse(t->text, &out->n))
				return FAIL(p, "not a date: \"%s\" (YYYY-MM-DD or "
					       "YYYY-MM-DDTHH:MM:SSZ)", t->text);
			return next(p);
		}
		break;
	case RF_ENUM:
		if (t->kind == T_NUMBER) {
			out->n = t->num;
			return next(p);
		}
		v = rf_enum_lookup(lhs->f->en, t->text);
		if (v < 0) {
			rf_enum_names(lhs->f->en, names, sizeof names);
			return FAIL(p, "unknown value '%s' for %s (%s)", t->text, fname, names);
		}
		out->n = v;
		return next(p);
	default:
		break;
	}
	return FAIL(p, "type mismatch: %s is a %s, not %s", fname, type_of(lhs), literal_kind(t));
}

static enum td_err parse_op(struct parser *p, uint8_t *op)
{
	static const struct {
		const char *word;
		bool punct;
		uint8_t op;
	} ops[] = {
		{ "==", true, OP_EQ },	    { "!=", true, OP_NE },	    { "<", true, OP_LT },
		{ "<=", true, OP_LE },	    { ">", true, OP_GT },	    { ">=", true, OP_GE },
		{ "~", true, OP_GLOB },	    { "matches", false, OP_GLOB }, { "in", false, OP_IN },
		{ "contains", false, OP_CONTAINS },
	};

	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		if (ops[i].punct ? is_punct(p, ops[i].word) : is_word(p, ops[i].word)) {
			*op = ops[i].op;
			return TD_OK;
		}
	}
	return TD_ERR_ARG; /* not an operator: the caller decides */
}

static unsigned elem_type(unsigned type)
{
	return type == RF_LIST_STR ? RF_STR : type == RF_LIST_VERSION ? RF_VERSION : type;
}

/* field [op value] */
static enum td_err parse_cmp(struct parser *p, struct node **out)
{
	struct node *n;
	unsigned line = p->tok.line, col = p->tok.col;
	char b[MAX_NAME + 4];
	uint8_t op;

	if (is_word(p, "true") || is_word(p, "false")) {
		n = new_node(p, N_CONST);
		if (!n)
			return TD_ERR_NOMEM;
		n->value = is_word(p, "true");
		*out = n;
		return next(p);
	}
	if (p->tok.kind != T_NAME || !strchr(p->tok.text, '.'))
		return FAIL(p, "expected a field, 'not', 'any', 'all' or '(', found %s",
			    found(p, b, sizeof b));
	n = new_node(p, N_CMP);
	if (!n)
		return TD_ERR_NOMEM;
	TD_TRY(resolve(p, p->tok.text, line, col, p->bound, &n->lhs));
	TD_TRY(next(p));
	*out = n;
	if (parse_op(p, &op) != TD_OK) {
		if (n->lhs.f->type != RF_BOOL)
			return fail_at(p, line, col, TD_ERR_MALFORMED,
				       "%s is a %s, not a condition (compare it with something)",
				       n->lhs.f->name, type_of(&n->lhs));
		n->kind = N_TEST;
		return TD_OK;
	}
	n->op = op;
	if (!(ops_of_type[n->lhs.f->type] & (1u << op)))
		return FAIL(p, "operator '%s' does not apply to %s (a %s)", op_names[op],
			    n->lhs.f->name, type_of(&n->lhs));
	TD_TRY(next(p));
	if (op == OP_IN) {
		struct lit items[TD_RULES_MAX_LIST];
		size_t k = 0;

		TD_TRY(expect(p, "["));
		for (;;) {
			if (k == TD_RULES_MAX_LIST)
				return fail_at(p, p->tok.line, p->tok.col, TD_ERR_TOO_BIG,
					       "list longer than %d items", TD_RULES_MAX_LIST);
			TD_TRY(parse_literal(p, &n->lhs, n->lhs.f->type, &items[k++]));
			if (!is_punct(p, ","))
				break;
			TD_TRY(next(p));
		}
		TD_TRY(expect(p, "]"));
		n->lits = arena_alloc(&p->rs->arena, k * sizeof *n->lits);
		if (!n->lits)
			return TD_ERR_NOMEM;
		memcpy(n->lits, items, k * sizeof *items);
		n->n_lits = k;
		return TD_OK;
	}
	if (p->tok.kind == T_NAME && strchr(p->tok.text, '.') && op != OP_GLOB) {
		/* field against field: same type, same enum */
		TD_TRY(resolve(p, p->tok.text, p->tok.line, p->tok.col, p->bound, &n->rhs));
		if (n->rhs.f->type != n->lhs.f->type || n->rhs.f->en != n->lhs.f->en ||
		    n->lhs.f->type >= RF_LIST_STR)
			return FAIL(p, "type mismatch: %s is a %s, %s is a %s", n->lhs.f->name,
				    type_of(&n->lhs), n->rhs.f->name, type_of(&n->rhs));
		n->rhs_field = true;
		return next(p);
	}
	n->lits = arena_alloc(&p->rs->arena, sizeof *n->lits);
	if (!n->lits)
		return TD_ERR_NOMEM;
	n->n_lits = 1;
	return parse_literal(p, &n->lhs, elem_type(n->lhs.f->type), n->lits);
}

/* any|all LIST: expr  (the body reaches as far right as it can) */
static enum td_err parse_quant(struct parser *p, struct node **out)
{
	struct node *n = new_node(p, is_word(p, "any") ? N_ANY : N_ALL);
	unsigned saved = p->bound;
	char b[MAX_NAME + 4];
	enum td_err e;

	if (!n)
		return TD_ERR_NOMEM;
	TD_TRY(next(p));
	if (p->tok.kind != T_NAME || !(n->dom = rf_domain_find(p->tok.text)))
		return FAIL(p, "expected a list after '%s' (cert, alert, suite, risk), found %s",
			    n->kind == N_ANY ? "any" : "all", found(p, b, sizeof b));
	if (p->bound & (1u << n->dom->scope))
		return FAIL(p, "'%s' is already the item of an enclosing any/all", n->dom->name);
	TD_TRY(next(p));
	TD_TRY(expect(p, ":"));
	n->kids = arena_alloc(&p->rs->arena, sizeof *n->kids);
	if (!n->kids)
		return TD_ERR_NOMEM;
	n->n_kids = 1;
	p->bound |= 1u << n->dom->scope;
	e = parse_or(p, &n->kids[0]);
	p->bound = saved;
	*out = n;
	return e;
}

static enum td_err parse_unary(struct parser *p, struct node **out)
{
	enum td_err e;
	bool nests = is_word(p, "not") || is_word(p, "any") || is_word(p, "all") ||
		     is_punct(p, "(");

	if (!nests)
		return parse_cmp(p, out);
	if (++p->depth > TD_RULES_MAX_DEPTH)
		return fail_at(p, p->tok.line, p->tok.col, TD_ERR_TOO_BIG,
			       "expression nested too deeply (at most %d levels)",
			       TD_RULES_MAX_DEPTH);
	if (is_word(p, "not")) {
		struct node *n = new_node(p, N_NOT);
		if (!n || !(n->kids = arena_alloc(&p->rs->arena, sizeof *n->kids)))
			return TD_ERR_NOMEM;
		n->n_kids = 1;
		TD_TRY(next(p));
		e = parse_unary(p, &n->kids[0]);
		*out = n;
	} else if (is_word(p, "any") || is_word(p, "all")) {
		e = parse_quant(p, out);
	} else {
		TD_TRY(next(p));
		e = parse_or(p, out);
		if (e == TD_OK)
			e = expect(p, ")");
	}
	p->depth--;
	return e;
}

/* and/or chains become one node with every operand (no deep trees). */
static enum td_err parse_chain(struct parser *p, const char *word, uint8_t kind,
			       enum td_err (*operand)(struct parser *, struct node **),
			       struct node **out)
{
	struct node *terms[MAX_TERMS], *n;
	size_t k = 0;

	TD_TRY(operand(p, &terms[k++]));
	while (is_word(p, word)) {
		if (k == MAX_TERMS)
			return fail_at(p, p->tok.line, p->tok.col, TD_ERR_TOO_BIG,
				       "more than %d operands of '%s'", MAX_TERMS, word);
		TD_TRY(next(p));
		TD_TRY(operand(p, &terms[k++]));
	}
	if (k == 1) {
		*out = terms[0];
		return TD_OK;
	}
	n = new_node(p, kind);
	if (!n || !(n->kids = arena_alloc(&p->rs->arena, k * sizeof *n->kids)))
		return TD_ERR_NOMEM;
	memcpy(n->kids, terms, k * sizeof *terms);
	n->n_kids = k;
	*out = n;
	return TD_OK;
}

static enum td_err parse_and(struct parser *p, struct node **out)
{
	return parse_chain(p, "and", N_AND, parse_unary, out);
}

/* Nesting is counted in parse_unary (each '(', 'not', 'any', 'all'):
 * every level costs a bounded number of stack frames. */
static enum td_err parse_or(struct parser *p, struct node **out)
{
	return parse_chain(p, "or", N_OR, parse_and, out);
}

/* ---- parser: rules --------------------------------------------------------- */

/* A string clause kept with its position, for templates resolved once the
 * rule's `when` is known. */
struct pending {
	bool set;
	unsigned line, col;
	char *text;
	size_t len;
	unsigned *cols;
};

static enum td_err take_string(struct parser *p, const char *clause, struct pending *out)
{
	char b[MAX_NAME + 4];

	if (out->set)
		return FAIL(p, "'%s' given twice in one rule", clause);
	TD_TRY(next(p));
	if (p->tok.kind != T_STRING)
		return FAIL(p, "expected a string after '%s', found %s", clause,
			    found(p, b, sizeof b));
	out->set = true;
	out->line = p->tok.line;
	out->col = p->tok.col;
	out->len = p->tok.len;
	out->text = arena_strndup(&p->rs->arena, p->tok.text, p->tok.len);
	out->cols = arena_alloc(&p->rs->arena, (p->tok.len + 1) * sizeof *out->cols);
	if (!out->text || !out->cols)
		return TD_ERR_NOMEM;
	memcpy(out->cols, p->tok.cols, p->tok.len * sizeof *out->cols);
	return next(p);
}

/* The scopes a rule's message and frame can see: the session, and the
 * item of a top-level any. */
static unsigned rule_bound(const struct rule *r)
{
	return r->when->kind == N_ANY ? 1u << r->when->dom->scope : 0;
}

static enum td_err parse_template(struct parser *p, struct rule *r, const struct pending *m)
{
	struct tpart parts[256];
	size_t k = 0, i = 0;
	char lit[TD_RULES_MAX_STRING + 1];
	size_t lit_len = 0;

#define FLUSH_LIT()                                                                          \
	do {                                                                                 \
		if (lit_len) {                                                               \
			parts[k].text = arena_strndup(&p->rs->arena, lit, lit_len);         \
			if (!parts[k].text)                                                  \
				return TD_ERR_NOMEM;                                         \
			parts[k].len = lit_len;                                              \
			parts[k++].f.f = NULL;                                               \
			lit_len = 0;                                                         \
		}                                                                            \
	} while (0)

	while (i < m->len) {
		char c = m->text[i];
		if (k >= sizeof parts / sizeof parts[0] - 2)
			return fail_at(p, m->line, m->cols[i], TD_ERR_TOO_BIG,
				       "message has too many parts");
		if ((c == '{' || c == '}') && i + 1 < m->len && m->text[i + 1] == c) {
			lit[lit_len++] = c;
			i += 2;
			continue;
		}
		if (c == '}')
			return fail_at(p, m->line, m->cols[i], TD_ERR_MALFORMED,
				       "unmatched '}' in message (write '}}' for a brace)");
		if (c != '{') {
			lit[lit_len++] = c;
			i++;
			continue;
		}
		const char *end = memchr(m->text + i, '}', m->len - i);
		if (!end)
			return fail_at(p, m->line, m->cols[i], TD_ERR_MALFORMED,
				       "unterminated '{' in message (write '{{' for a brace)");
		size_t nlen = (size_t)(end - (m->text + i + 1));
		char name[MAX_NAME + 1];
		if (nlen == 0 || nlen > MAX_NAME)
			return fail_at(p, m->line, m->cols[i], TD_ERR_MALFORMED,
				       "'{...}' in message must hold a field name");
		memcpy(name, m->text + i + 1, nlen);
		name[nlen] = '\0';
		FLUSH_LIT();
		TD_TRY(resolve(p, name, m->line, m->cols[i + 1], rule_bound(r), &parts[k].f));
		parts[k].text = NULL;
		parts[k++].len = 0;
		i += nlen + 2;
	}
	FLUSH_LIT();
#undef FLUSH_LIT
	r->parts = arena_alloc(&p->rs->arena, (k ? k : 1) * sizeof *parts);
	if (!r->parts)
		return TD_ERR_NOMEM;
	memcpy(r->parts, parts, k * sizeof *parts);
	r->n_parts = k;
	return TD_OK;
}

static const struct rule *find_rule(const struct td_ruleset *rs, const char *id)
{
	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->rules[i].id, id) == 0)
			return &rs->rules[i];
	return NULL;
}

static enum td_err parse_rule(struct parser *p)
{
	struct rule r;
	struct pending msg = { 0 }, expl = { 0 };
	unsigned line = p->tok.line, col = p->tok.col, fline = 0, fcol = 0;
	char b[MAX_NAME + 4], frame_name[MAX_NAME + 1] = "";
	bool have_sev = false;
	const struct rule *dup;

	memset(&r, 0, sizeof r);
	if (!is_word(p, "rule"))
		return FAIL(p, "expected 'rule', found %s", found(p, b, sizeof b));
	if (p->rs->n == TD_RULES_MAX_RULES)
		return fail_at(p, line, col, TD_ERR_TOO_BIG, "more than %d rules",
			       TD_RULES_MAX_RULES);
	TD_TRY(next(p));
	if (p->tok.kind != T_NAME)
		return FAIL(p, "expected a rule id after 'rule', found %s", found(p, b, sizeof b));
	if ((dup = find_rule(p->rs, p->tok.text)) != NULL)
		return FAIL(p, "duplicate rule id '%s' (first at %s:%u)", p->tok.text, dup->file,
			    dup->line);
	r.id = arena_strndup(&p->rs->arena, p->tok.text, p->tok.len);
	if (!r.id)
		return TD_ERR_NOMEM;
	r.file = p->file;
	r.line = line;
	r.enabled = true;
	TD_TRY(next(p));
	TD_TRY(expect(p, "{"));
	while (!is_punct(p, "}")) {
		if (is_word(p, "severity")) {
			if (have_sev)
				return FAIL(p, "'severity' given twice in one rule");
			TD_TRY(next(p));
			int sev = p->tok.kind == T_NAME ? td_severity_parse(p->tok.text) : -1;
			if (sev < 0)
				return FAIL(p, "unknown severity %s (info, low, medium, high, "
					       "critical)", found(p, b, sizeof b));
			r.severity = (uint8_t)sev;
			have_sev = true;
			TD_TRY(next(p));
		} else if (is_word(p, "when")) {
			if (r.when)
				return FAIL(p, "'when' given twice in one rule");
			TD_TRY(next(p));
			p->depth = 0;
			p->bound = 0;
			TD_TRY(parse_or(p, &r.when));
		} else if (is_word(p, "message")) {
			TD_TRY(take_string(p, "message", &msg));
		} else if (is_word(p, "explain")) {
			TD_TRY(take_string(p, "explain", &expl));
		} else if (is_word(p, "frame")) {
			if (frame_name[0])
				return FAIL(p, "'frame' given twice in one rule");
			TD_TRY(next(p));
			if (p->tok.kind != T_NAME)
				return FAIL(p, "expected a field after 'frame', found %s",
					    found(p, b, sizeof b));
			snprintf(frame_name, sizeof frame_name, "%.128s", p->tok.text);
			fline = p->tok.line;
			fcol = p->tok.col;
			TD_TRY(next(p));
		} else {
			return FAIL(p, "expected 'severity', 'when', 'message', 'explain', 'frame' "
				       "or '}', found %s", found(p, b, sizeof b));
		}
	}
	if (!have_sev || !r.when || !msg.set)
		return FAIL(p, "rule '%s' has no %s", r.id,
			    !have_sev ? "severity" : !r.when ? "'when'" : "message");
	TD_TRY(parse_template(p, &r, &msg));
	r.message = msg.text;
	r.explain = expl.set ? expl.text : "";
	if (frame_name[0]) {
		TD_TRY(resolve(p, frame_name, fline, fcol, rule_bound(&r), &r.frame));
		if (r.frame.f->type != RF_NUM)
			return fail_at(p, fline, fcol, TD_ERR_MALFORMED,
				       "frame %s: a %s, not a frame number", frame_name,
				       type_of(&r.frame));
	}
	if (r.when->kind == N_ANY) {
		unsigned scope = r.when->dom->scope;
		r.per_item = r.frame.f && r.frame.f->scope == scope && !r.frame.leaf;
		for (size_t i = 0; i < r.n_parts; i++)
			if (r.parts[i].f.f && r.parts[i].f.f->scope == scope && !r.parts[i].f.leaf)
				r.per_item = true;
	}
	p->rs->rules[p->rs->n++] = r;
	return next(p); /* past '}' */
}

/* ---- loading ------------------------------------------------------------------ */

struct td_ruleset *td_rules_new(void)
{
	struct td_ruleset *rs = calloc(1, sizeof *rs);

	if (!rs)
		return NULL;
	rs->rules = calloc(TD_RULES_MAX_RULES, sizeof *rs->rules);
	if (!rs->rules) {
		free(rs);
		return NULL;
	}
	return rs;
}

void td_rules_free(struct td_ruleset *rs)
{
	if (!rs)
		return;
	while (rs->arena) {
		struct chunk *c = rs->arena;
		rs->arena = c->next;
		free(c);
	}
	free(rs->rules);
	free(rs);
}

enum td_err td_rules_load_buffer(struct td_ruleset *rs, const char *name, const uint8_t *data,
				 size_t len, char *err, size_t errlen)
{
	struct parser *p;
	size_t before = rs->n;
	enum td_err e;

	if (len > TD_RULES_MAX_FILE) {
		td_err_format(err, errlen, "%s: larger than %zu bytes", name, TD_RULES_MAX_FILE);
		return TD_ERR_TOO_BIG;
	}
	p = calloc(1, sizeof *p); /* the token is a few KiB: not on the stack */
	if (!p) {
		td_err_format(err, errlen, "%s: out of memory", name);
		return TD_ERR_NOMEM;
	}
	td_reader_init(&p->r, data, len);
	p->line = p->col = 1;
	p->rs = rs;
	p->err = err;
	p->errlen = errlen;
	p->file = arena_strndup(&rs->arena, name, strlen(name));
	e = p->file ? next(p) : TD_ERR_NOMEM;
	while (e == TD_OK && p->tok.kind != T_EOF)
		e = parse_rule(p);
	if (e == TD_ERR_NOMEM)
		td_err_format(err, errlen, "%s: out of memory", name);
	if (e != TD_OK)
		rs->n = before;
	free(p);
	return e;
}

enum td_err td_rules_load_file(struct td_ruleset *rs, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t len;
	enum td_err e;

	if (!f) {
		td_err_format(err, errlen, "%s: %s", path, strerror(errno));
		return TD_ERR_IO;
	}
	buf = malloc(TD_RULES_MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		td_err_format(err, errlen, "%s: out of memory", path);
		return TD_ERR_NOMEM;
	}
	len = fread(buf, 1, TD_RULES_MAX_FILE + 1, f);
	if (ferror(f)) {
		td_err_format(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
		e = TD_ERR_IO;
	} else {
		e = td_rules_load_buffer(rs, path, buf, len, err, errlen);
	}
	fclose(f);
	free(buf);
	return e;
}

const char *td_rules_default_text(void)
{
	return default_rules_text;
}

enum td_err td_rules_load_default(struct td_ruleset *rs, char *err, size_t errlen)
{
	return td_rules_load_buffer(rs, "default.rules", (const uint8_t *)default_rules_text,
				    strlen(default_rules_text), err, errlen);
}

enum td_err td_rules_disable(struct td_ruleset *rs, const char *id, char *err, size_t errlen)
{
	for (size_t i = 0; i < rs->n; i++) {
		if (strcmp(rs->rules[i].id, id) == 0) {
			rs->rules[i].enabled = false;
			return TD_OK;
		}
	}
	td_err_format(err, errlen, "--disable %s: no rule with this id (tlsdiag --list-rules)",
		      id);
	return TD_ERR_ARG;
}

size_t td_rules_count(const struct td_ruleset *rs)
{
	return rs->n;
}

bool td_rules_info(const struct td_ruleset *rs, size_t i, struct td_rule_info *out)
{
	const struct rule *r;

	if (i >= rs->n)
		return false;
	r = &rs->rules[i];
	*out = (struct td_rule_info){ r->id,   r->severity, r->file,   r->line,
				      r->message, r->explain, r->enabled };
	return true;
}

/* ---- evaluation ------------------------------------------------------------- */

enum tv { TV_FALSE, TV_TRUE, TV_UNKNOWN };

static void fetch(const struct fref *r, struct rf_ctx *c, struct rf_value *v)
{
	unsigned saved = c->idx[RF_CERT];

	v->present = false;
	v->n = 0;
	v->s = NULL;
	v->slen = 0;
	if (r->leaf)
		c->idx[RF_CERT] = 0;
	r->f->get(c, v);
	c->idx[RF_CERT] = saved;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Glob: * any run, ? any one byte; ASCII case ignored. Iterative, with the
 * one backtrack point a glob needs (no exponential cases). */
static bool glob(const uint8_t *pat, size_t plen, const uint8_t *s, size_t slen)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

	while (si < slen) {
		if (pi < plen && (pat[pi] == '?' || lower(pat[pi]) == lower(s[si]))) {
			pi++;
			si++;
		} else if (pi < plen && pat[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}

static bool contains(const uint8_t *s, size_t slen, const uint8_t *sub, size_t n)
{
	for (size_t i = 0; n <= slen && i <= slen - n; i++) {
		size_t k = 0;
		while (k < n && lower(s[i + k]) == lower(sub[k]))
			k++;
		if (k == n)
			return true;
	}
	return false;
}

static bool bytes_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static bool cmp_num(uint8_t op, int64_t a, int64_t b)
{
	switch (op) {
	case OP_EQ:
	case OP_IN:
		return a == b;
	case OP_NE:
		return a != b;
	case OP_LT:
		return a < b;
	case OP_LE:
		return a <= b;
	case OP_GT:
		return a > b;
	default:
		return a >= b;
	}
}

/* One value (not a list) against one literal or value. */
static bool cmp_one(uint8_t op, unsigned type, const struct rf_value *v, int64_t n,
		    const uint8_t *s, size_t slen)
{
	if (type != RF_STR)
		return cmp_num(op, v->n, n);
	switch (op) {
	case OP_EQ:
	case OP_IN:
		return bytes_eq(v->s, v->slen, s, slen);
	case OP_NE:
		return !bytes_eq(v->s, v->slen, s, slen);
	case OP_GLOB:
		return glob(s, slen, v->s, v->slen);
	default:
		return contains(v->s, v->slen, s, slen);
	}
}

static enum tv eval_cmp(const struct node *n, struct rf_ctx *c)
{
	struct rf_value v, w;
	unsigned type = n->lhs.f->type;

	fetch(&n->lhs, c, &v);
	if (!v.present)
		return TV_UNKNOWN;
	if (n->rhs_field) {
		fetch(&n->rhs, c, &w);
		if (!w.present)
			return TV_UNKNOWN;
		return cmp_one(n->op, type, &v, w.n, w.s, w.slen) ? TV_TRUE : TV_FALSE;
	}
	if (type == RF_LIST_STR || type == RF_LIST_VERSION) {
		for (int64_t i = 0; i < v.n; i++) {
			struct rf_value e = { 0 };
			n->lhs.f->elem(c, (size_t)i, &e);
			if (e.present && cmp_one(OP_EQ, elem_type(type), &e, n->lits[0].n,
						 (const uint8_t *)n->lits[0].s, n->lits[0].slen))
				return TV_TRUE;
		}
		return TV_FALSE;
	}
	for (size_t i = 0; i < n->n_lits; i++)
		if (cmp_one(n->op, type, &v, n->lits[i].n, (const uint8_t *)n->lits[i].s,
			    n->lits[i].slen))
			return TV_TRUE;
	return TV_FALSE;
}

static enum tv eval(const struct node *n, struct rf_ctx *c)
{
	enum tv r, acc;
	struct rf_value v;

	switch (n->kind) {
	case N_CONST:
		return n->value ? TV_TRUE : TV_FALSE;
	case N_TEST:
		fetch(&n->lhs, c, &v);
		return !v.present ? TV_UNKNOWN : v.n ? TV_TRUE : TV_FALSE;
	case N_CMP:
		return eval_cmp(n, c);
	case N_NOT:
		r = eval(n->kids[0], c);
		return r == TV_UNKNOWN ? r : r == TV_TRUE ? TV_FALSE : TV_TRUE;
	case N_AND:
	case N_OR: {
		enum tv stop = n->kind == N_AND ? TV_FALSE : TV_TRUE;
		acc = n->kind == N_AND ? TV_TRUE : TV_FALSE;
		for (size_t i = 0; i < n->n_kids; i++) {
			r = eval(n->kids[i], c);
			if (r == stop)
				return stop;
			if (r == TV_UNKNOWN)
				acc = TV_UNKNOWN;
		}
		return acc;
	}
	default: { /* N_ANY, N_ALL */
		unsigned scope = n->dom->scope, saved = c->idx[scope];
		size_t count = n->dom->count(c->s);
		enum tv stop = n->kind == N_ANY ? TV_TRUE : TV_FALSE;

		acc = n->kind == N_ANY ? TV_FALSE : TV_TRUE;
		for (size_t i = 0; i < count; i++) {
			c->idx[scope] = (unsigned)i;
			r = eval(n->kids[0], c);
			if (r == stop) {
				acc = stop;
				break;
			}
			if (r == TV_UNKNOWN)
				acc = TV_UNKNOWN;
		}
		c->idx[scope] = saved;
		return acc;
	}
	}
}

/* ---- messages ------------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t n, len;
};

static void put(struct sbuf *b, const void *data, size_t n)
{
	const uint8_t *d = data;

	while (n > 0 && b->len + 1 < b->n) {
		/* the bytes up to the next NUL (or the end), as many as fit,
		 * in one copy: messages are mostly names and numbers */
		const uint8_t *nul = memchr(d, '\0', n);
		size_t run = nul ? (size_t)(nul - d) : n, room = b->n - 1 - b->len;

		if (run > room)
			run = room;
		memcpy(b->p + b->len, d, run);
		b->len += run;
		d += run;
		n -= run;
		if (n > 0 && *d == '\0' && b->len + 1 < b->n) {
			/* a NUL from the wire cannot end the message early */
			put(b, "\\x00", 4);
			d++;
			n--;
		}
	}
	b->p[b->len] = '\0';
}

static void put_str(struct sbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* One value as a message shows it. */
static void put_value(struct sbuf *b, const struct rf_field *f, unsigned type,
		      const struct rf_value *v)
{
	char tmp[64];
	const char *name;
	struct tm tm;
	time_t t;

	switch (type) {
	case RF_BOOL:
		put_str(b, v->n ? "true" : "false");
		break;
	case RF_STR:
		put(b, v->s, v->slen);
		break;
	case RF_VERSION:
		name = v->n >= 0 && v->n <= 0xffff ? td_names_version((uint16_t)v->n) : NULL;
		if (!name) {
			snprintf(tmp, sizeof tmp, "0x%04llx", (unsigned long long)v->n);
			name = tmp;
		}
		put_str(b, name);
		break;
	case RF_TIME:
		t = (time_t)v->n;
		if (gmtime_r(&t, &tm) && strftime(tmp, sizeof tmp, "%Y-%m-%d %H:%M:%S UTC", &tm))
			put_str(b, tmp);
		else
			put_str(b, "?");
		break;
	case RF_ENUM:
		name = rf_enum_display(f->en, (long)v->n);
		if (!name) {
			snprintf(tmp, sizeof tmp, "unknown (%lld)", (long long)v->n);
			name = tmp;
		}
		put_str(b, name);
		break;
	default:
		snprintf(tmp, sizeof tmp, "%lld", (long long)v->n);
		put_str(b, tmp);
		break;
	}
}

static void render(const struct rule *r, struct rf_ctx *c, char *out, size_t n)
{
	struct sbuf b = { out, n, 0 };
	struct rf_value v, e;

	out[0] = '\0';
	for (size_t i = 0; i < r->n_parts; i++) {
		const struct tpart *tp = &r->parts[i];
		if (!tp->f.f) {
			put(&b, tp->text, tp->len);
			continue;
		}
		fetch(&tp->f, c, &v);
		if (!v.present) {
			put_str(&b, "(none)");
		} else if (tp->f.f->type == RF_LIST_STR || tp->f.f->type == RF_LIST_VERSION) {
			for (int64_t k = 0; k < v.n; k++) {
				memset(&e, 0, offsetof(struct rf_value, buf));
				tp->f.f->elem(c, (size_t)k, &e);
				if (k)
					put_str(&b, ", ");
				if (e.present)
					put_value(&b, tp->f.f, elem_type(tp->f.f->type), &e);
			}
		} else {
			put_value(&b, tp->f.f, tp->f.f->type, &v);
		}
	}
}

/* Adds a finding; when the list is full, a finding pushes out a less
 * severe one (the last of the lowest severity), so the most severe are
 * the ones kept. */
static void emit(struct td_findings *out, const struct rule *r, struct rf_ctx *c, uint32_t frame)
{
	struct td_finding *f = NULL;
	struct rf_value v;

	out->total++;
	if (out->n < TD_MAX_FINDINGS) {
		f = &out->f[out->n++];
	} else {
		for (size_t i = 0; i < out->n; i++)
			if (out->f[i].severity < r->severity &&
			    (!f || out->f[i].severity <= f->severity))
				f = &out->f[i];
		if (!f)
			return;
	}
	if (r->frame.f) {
		fetch(&r->frame, c, &v);
		frame = v.present && v.n > 0 && v.n <= UINT32_MAX ? (uint32_t)v.n : 0;
	}
	f->id = r->id;
	f->explain = r->explain;
	f->severity = r->severity;
	f->frame = frame;
	render(r, c, f->message, sizeof f->message);
}

void td_rules_eval(const struct td_ruleset *rs, const struct td_session *s,
		   struct td_findings *out)
{
	out->n = out->total = 0;
	for (size_t i = 0; rs && i < rs->n; i++) {
		const struct rule *r = &rs->rules[i];
		struct rf_ctx c;

		if (!r->enabled)
			continue;
		memset(&c, 0, sizeof c);
		c.s = s;
		if (r->when->kind == N_ANY) {
			/* a top-level any: its item is the evidence */
			const struct rf_domain *d = r->when->dom;
			size_t count = d->count(s);
			for (size_t k = 0; k < count; k++) {
				c.idx[d->scope] = (unsigned)k;
				if (eval(r->when->kids[0], &c) != TV_TRUE)
					continue;
				emit(out, r, &c, d->frame(s, k));
				if (!r->per_item)
					break;
			}
		} else if (eval(r->when, &c) == TV_TRUE) {
			emit(out, r, &c, 0);
		}
	}
	/* most severe first, load order kept within a severity (insertion sort) */
	for (size_t i = 1; i < out->n; i++) {
		struct td_finding f = out->f[i];
		size_t j = i;
		for (; j > 0 && out->f[j - 1].severity < f.severity; j--)
			out->f[j] = out->f[j - 1];
		out->f[j] = f;
	}
}

void td_findings_filter(struct td_findings *f, unsigned min_severity)
{
	size_t k = 0;

	for (size_t i = 0; i < f->n; i++)
		if (f->f[i].severity >= min_severity)
			f->f[k++] = f->f[i];
	f->n = (uint16_t)k;
}

int td_findings_max(const struct td_findings *f)
{
	int m = -1;

	for (size_t i = 0; i < f->n; i++)
		if (f->f[i].severity > m)
			m = f->f[i].severity;
	return m;
}

/* ---- listings ------------------------------------------------------------------ */

/* Rule files are the user's, but their strings can hold escapes: keep
 * control bytes off the terminal. */
static void put_safe(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

void td_rules_list(FILE *out, const struct td_ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->rules[i];
		char where[600];

		snprintf(where, sizeof where, "%s:%u", r->file, r->line);
		put_safe(out, r->id);
		fprintf(out, "%*s %-8s ", (int)(strlen(r->id) < 32 ? 32 - strlen(r->id) : 0), "",
			td_severity_name(r->severity));
		put_safe(out, where);
		fprintf(out, "%*s ", (int)(strlen(where) < 24 ? 24 - strlen(where) : 0), "");
		put_safe(out, r->message);
		fputs(r->enabled ? "\n" : "  (disabled)\n", out);
	}
}

void td_rules_list_fields(FILE *out)
{
	for (size_t i = 0; i < rf_field_count(); i++) {
		const struct rf_field *f = rf_field_at(i);
		fprintf(out, "%-34s %-17s %s\n", f->name, rf_type_name(f->type), f->meaning);
	}
	fprintf(out, "%-34s %-17s %s\n", "cert.leaf.*", "(as cert.*)",
		"the cert.* fields of the leaf, outside any/all cert");
	fputs("\nLists for 'any LIST: ...' and 'all LIST: ...':\n", out);
	for (size_t i = 0; rf_domain_at(i); i++)
		fprintf(out, "%-34s %s (fields %s.*)\n", rf_domain_at(i)->name,
			rf_domain_at(i)->meaning, rf_domain_at(i)->name);
}

bool td_rules_field(size_t i, const char **name, const char **type)
{
	const struct rf_field *f = rf_field_at(i);

	if (!f)
		return false;
	if (name)
		*name = f->name;
	if (type)
		*type = rf_type_name(f->type);
	return true;
}
