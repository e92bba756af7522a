/* check_rules.c - the rule language and the built-in rules.
 *
 * Parser errors are asserted to the byte: file, line, column, words.
 * Expressions are evaluated on hand-built sessions whose facts the test
 * sets, so what each operator must answer is known without tlsdiag. Each
 * built-in rule fires on one mutation of a clean baseline session (on
 * which no rule fires) and stays silent on a near miss; the sample
 * captures then show the rules on real handshakes through the binary, and
 * the man page's example policies are run with values computed by the
 * openssl CLI.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_names.h"
#include "td_decrypt.h"
#include "td_rules.h"
#include "td_starttls.h"
#include "td_test_util.h"
#include "td_x509.h"

#define T0 1800000000 /* the baseline capture's time */


/* ---- helpers ---------------------------------------------------------------- */

/* Loads text as "t.rules"; returns the ruleset (NULL on error, with the
 * error in err). */
static struct td_ruleset *load(const char *text, enum td_err *e, char *err, size_t n)
{
	struct td_ruleset *rs = td_rules_new();

	ck_assert_ptr_nonnull(rs);
	err[0] = '\0';
	*e = td_rules_load_buffer(rs, "t.rules", (const uint8_t *)text, strlen(text), err, n);
	if (*e != TD_OK) {
		ck_assert_uint_eq(td_rules_count(rs), 0);
		td_rules_free(rs);
		return NULL;
	}
	return rs;
}

static void expect_error(const char *text, enum td_err want, const char *msg)
{
	char err[1024];
	enum td_err e;
	struct td_ruleset *rs = load(text, &e, err, sizeof err);

	ck_assert_msg(rs == NULL, "loaded: %s", text);
	ck_assert_str_eq(err, msg);
	ck_assert_int_eq(e, want);
}

static struct td_cert leaf, ca;
static char *leaf_sans[] = { "DNS:server.example", "DNS:www.server.example" };

/* TLS 1.2 with ECDHE, SNI, secure renegotiation, a two-certificate chain
 * that checked out, completed: no built-in rule fires on it. */
static void baseline(struct td_session *s)
{
	td_test_session_reset(s);
	s->id = 1;
	s->is_tls = true;
	s->client.family = s->server.family = 4;
	s->client.bytes[0] = s->server.bytes[0] = 10;
	s->client.bytes[3] = 1;
	s->server.bytes[3] = 2;
	s->client_port = 40001;
	s->server_port = 443;
	s->syn_seen = true;
	s->packets[0] = s->packets[1] = 6;
	s->first_ts.sec = T0;
	s->first_frame = 1;
	s->last_frame = 20;
	td_session_ch(s)->seen = true;
	td_session_ch(s)->frame = 4;
	td_session_ch(s)->legacy_version = 0x0303;
	td_session_ch(s)->has_sni = true;
	td_session_ch(s)->sni.len = 14;
	memcpy(td_session_ch(s)->sni.bytes, "server.example", 14);
	td_session_ch(s)->n_suites = td_session_ch(s)->total_suites = 2;
	td_session_ch(s)->suites[0] = 0xc02f; /* TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
	td_session_ch(s)->suites[1] = 0x00ff; /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV */
	td_session_ch(s)->alpn.n = td_session_ch(s)->alpn.total = 2;
	td_session_ch(s)->alpn.len[0] = 2;
	memcpy(td_session_ch(s)->alpn.name[0], "h2", 2);
	td_session_ch(s)->alpn.len[1] = 8;
	memcpy(td_session_ch(s)->alpn.name[1], "http/1.1", 8);
	td_session_ch(s)->ext_flags = TD_EXT_SNI | TD_EXT_SCSV_RENEGOTIATION;
	td_session_sh(s)->seen = true;
	td_session_sh(s)->frame = 5;
	td_session_sh(s)->legacy_version = 0x0303;
	td_session_sh(s)->suite = 0xc02f;
	td_session_sh(s)->ext_flags = TD_EXT_RENEGOTIATION_INFO | TD_EXT_EMS;

	memset(&leaf, 0, sizeof leaf);
	leaf.parsed = true;
	leaf.subject = "CN=server.example,O=tlsdiag";
	leaf.issuer = "CN=Test CA";
	leaf.serial_hex = "1001";
	leaf.not_before = T0 - 86400 * 90; /* 390 days in all */
	leaf.not_after = T0 + 86400 * 300;
	leaf.sans = leaf_sans;
	leaf.n_sans = 2;
	snprintf(leaf.sig_alg, sizeof leaf.sig_alg, "sha256WithRSAEncryption");
	snprintf(leaf.key.algorithm, sizeof leaf.key.algorithm, "RSA");
	leaf.key.bits = 2048;
	memset(leaf.key.spki_sha256, 0xab, 32);
	memset(leaf.sha256, 0xcd, 32);
	ca = leaf;
	ca.subject = "CN=Test CA";
	ca.issuer = "CN=Test Root";
	ca.n_sans = 0;
	ca.key.bits = 4096;
	ca.ext.has_basic_constraints = ca.ext.is_ca = true;
	td_test_set_cert(s, 0, &leaf);
	td_test_set_cert(s, 1, &ca);
	s->n_certs = s->total_certs = 2;
	s->cert_frame = 5;
	td_session_chain(s)->checked = true;
	td_session_chain(s)->at = T0;
	td_session_chain(s)->order_ok = true;
	td_session_chain(s)->top = 1;
	td_session_chain(s)->sni_match = 1;

	s->stage = TD_STAGE_APPLICATION_DATA;
	s->outcome = TD_OUTCOME_COMPLETED;
	s->end = TD_END_FIN;
	s->end_by = TD_DIR_C2S;
	s->end_frame = 18;
}

static struct td_alert *add_alert(struct td_session *s, int dir, int level, int desc,
				  enum td_phase phase, uint32_t frame)
{
	struct td_alert *a = td_session_add_alert(s, &(struct td_alert){0});

	ck_assert_ptr_nonnull(a);
	a->dir = (uint8_t)dir;
	a->level = (uint8_t)level;
	a->desc = (uint8_t)desc;
	a->phase = (uint8_t)phase;
	a->frame = frame;
	return a;
}

/* The findings of rule id (or of every rule when id is NULL). */
static unsigned count(const struct td_findings *f, const char *id)
{
	unsigned n = 0;

	for (unsigned i = 0; i < f->n; i++)
		n += !id || strcmp(f->f[i].id, id) == 0;
	return n;
}

static const struct td_finding *first(const struct td_findings *f, const char *id)
{
	for (unsigned i = 0; i < f->n; i++)
		if (strcmp(f->f[i].id, id) == 0)
			return &f->f[i];
	return NULL;
}

/* The message a rule with this template makes on s. */
static void message(const char *when, const char *tpl, const struct td_session *s, char *out,
		    size_t n)
{
	struct td_findings f;

	td_test_rule_eval(when, tpl, s, &f);
	ck_assert_uint_ge(f.n, 1);
	snprintf(out, n, "%s", f.f[0].message);
}

/* ---- parser errors ---------------------------------------------------------- */

#define RULE(when) "rule a {\n  severity high\n  when " when "\n  message \"m\"\n}\n"

START_TEST(test_errors)
{
	expect_error(RULE("cert.leaf.key.bitz < 2048"), TD_ERR_MALFORMED,
		     "t.rules:3:8: unknown field 'cert.leaf.key.bitz' (tlsdiag --list-fields lists "
		     "them)");
	expect_error(RULE("tls.dhe_bits < \"x\""), TD_ERR_MALFORMED,
		     "t.rules:3:23: type mismatch: tls.dhe_bits is a number, not a string");
	expect_error(RULE("tls.version < \"TLS9\""), TD_ERR_MALFORMED,
		     "t.rules:3:22: unknown version \"TLS9\" (SSL2, SSL3, TLS1.0, TLS1.1, TLS1.2, "
		     "TLS1.3)");
	expect_error(RULE("any alert: alert.level == fatl"), TD_ERR_MALFORMED,
		     "t.rules:3:34: unknown value 'fatl' for alert.level (warning, fatal)");
	/* enums named by the session module: its names, in the error too */
	expect_error(RULE("decrypt.status == bogus"), TD_ERR_MALFORMED,
		     "t.rules:3:26: unknown value 'bogus' for decrypt.status (off, decrypted, "
		     "no_hellos, no_secrets, dhe_needs_keylog, pms_not_decrypted, "
		     "tls13_secrets_missing, resumed_no_secret, suite_unsupported, "
		     "version_unsupported, not_reached)");
	expect_error(RULE("connection.aborted_how == reset"), TD_ERR_MALFORMED,
		     "t.rules:3:34: unknown value 'reset' for connection.aborted_how (none, alert, "
		     "rst, fin, silence)");
	expect_error(RULE("cert.subject == \"x\""), TD_ERR_MALFORMED,
		     "t.rules:3:8: cert.subject needs 'any cert:' or 'all cert:' around it (or "
		     "write cert.leaf.subject)");
	expect_error(RULE("alert.frame > 3"), TD_ERR_MALFORMED,
		     "t.rules:3:8: alert.frame needs 'any alert:' or 'all alert:' around it");
	expect_error(RULE("tls.resumed = true"), TD_ERR_MALFORMED,
		     "t.rules:3:20: '=' is not an operator (write '==')");
	expect_error(RULE("tls.resumed < true"), TD_ERR_MALFORMED,
		     "t.rules:3:20: operator '<' does not apply to tls.resumed (a bool)");
	expect_error(RULE("tls.cipher"), TD_ERR_MALFORMED,
		     "t.rules:3:8: tls.cipher is a string, not a condition (compare it with "
		     "something)");
	expect_error(RULE("tls.resumed and"), TD_ERR_MALFORMED,
		     "t.rules:4:3: expected a field, 'not', 'any', 'all' or '(', found 'message'");
	expect_error(RULE("any certs: true"), TD_ERR_MALFORMED,
		     "t.rules:3:12: expected a list after 'any' (cert, alert, suite, risk), found "
		     "'certs'");
	expect_error(RULE("cert.leaf.not_after < \"2026-13-01\""), TD_ERR_MALFORMED,
		     "t.rules:3:30: not a date: \"2026-13-01\" (YYYY-MM-DD or "
		     "YYYY-MM-DDTHH:MM:SSZ)");
	expect_error("rule a {\n  severity hgh\n}\n", TD_ERR_MALFORMED,
		     "t.rules:2:12: unknown severity 'hgh' (info, low, medium, high, critical)");
	expect_error("rule a {\n  severity low\n  when true\n  message \"abc\n}\n",
		     TD_ERR_MALFORMED, "t.rules:4:11: unterminated string");
	expect_error("rule a {\n  severity low\n  when true\n  message \"a\\q\"\n}\n",
		     TD_ERR_MALFORMED,
		     "t.rules:4:13: unknown escape in string (\\n \\t \\\\ \\\" \\{ \\} \\xHH, not "
		     "NUL)");
	expect_error("rule a {\n  severity low\n  when true\n  message \"a {tls.versio} b\"\n}\n",
		     TD_ERR_MALFORMED,
		     "t.rules:4:15: unknown field 'tls.versio' (tlsdiag --list-fields lists them)");
	expect_error("rule a {\n  severity low\n  when true\n  message \"a } b\"\n}\n",
		     TD_ERR_MALFORMED,
		     "t.rules:4:14: unmatched '}' in message (write '}}' for a brace)");
	/* a template sees the item of a top-level any, nothing deeper */
	expect_error("rule a {\n  severity low\n  when true\n  message \"{alert.from}\"\n}\n",
		     TD_ERR_MALFORMED,
		     "t.rules:4:13: alert.from needs 'any alert:' or 'all alert:' around it");
	expect_error("rule a {\n  severity low\n  when true\n}\n", TD_ERR_MALFORMED,
		     "t.rules:4:1: rule 'a' has no message");
	expect_error(RULE("true") RULE("false"), TD_ERR_MALFORMED,
		     "t.rules:6:6: duplicate rule id 'a' (first at t.rules:1)");
	expect_error("rule a {\n  severity low\n  when true\n  message \"m\"\n  frame tls.cipher\n}\n",
		     TD_ERR_MALFORMED,
		     "t.rules:5:9: frame tls.cipher: a string, not a frame number");
	expect_error("rule a {\n  severity low\n  when true\x01\n}\n", TD_ERR_MALFORMED,
		     "t.rules:3:12: unexpected character 0x01");
	expect_error("rule a {\n  severity low\n  when 99999999999999999999\n}\n",
		     TD_ERR_MALFORMED, "t.rules:3:8: number too large");
}
END_TEST

/* Caps: nesting, string length, rule count, file size. */
START_TEST(test_caps)
{
	char *text = malloc(TD_RULES_MAX_FILE + 2);
	char err[1024];
	enum td_err e;
	struct td_ruleset *rs;
	size_t n;

	ck_assert_ptr_nonnull(text);
	/* 64 levels load; the 65th '(' (column 7 + 65) is refused */
	for (int depth = 64; depth <= 65; depth++) {
		n = (size_t)sprintf(text, "rule a {\n  severity low\n  when ");
		for (int i = 0; i < depth; i++)
			text[n++] = '(';
		n += (size_t)sprintf(text + n, "true");
		for (int i = 0; i < depth; i++)
			text[n++] = ')';
		sprintf(text + n, "\n  message \"m\"\n}\n");
		rs = load(text, &e, err, sizeof err);
		if (depth == 64) {
			ck_assert_msg(rs != NULL, "%s", err);
			td_rules_free(rs);
		} else {
			ck_assert_ptr_null(rs);
			ck_assert_str_eq(err, "t.rules:3:72: expression nested too deeply (at most 64 "
					      "levels)");
			ck_assert_int_eq(e, TD_ERR_TOO_BIG);
		}
	}
	/* a million parentheses, and as many nots: an error, not a crash */
	for (int k = 0; k < 2; k++) {
		n = (size_t)sprintf(text, "rule a {\n  severity low\n  when ");
		while (n < TD_RULES_MAX_FILE - 8) {
			if (k == 0) {
				text[n++] = '(';
			} else {
				memcpy(text + n, "not ", 4);
				n += 4;
			}
		}
		text[n] = '\0';
		rs = load(text, &e, err, sizeof err);
		ck_assert_ptr_null(rs);
		ck_assert_int_eq(e, TD_ERR_TOO_BIG);
		ck_assert_ptr_nonnull(strstr(err, "nested too deeply"));
	}
	/* a string of 1024 bytes loads, 1025 do not */
	for (int len = 1024; len <= 1025; len++) {
		n = (size_t)sprintf(text, "rule a {\n  severity low\n  when true\n  message \"");
		memset(text + n, 'x', (size_t)len);
		sprintf(text + n + (size_t)len, "\"\n}\n");
		rs = load(text, &e, err, sizeof err);
		if (len == 1024) {
			ck_assert_msg(rs != NULL, "%s", err);
			td_rules_free(rs);
		} else {
			ck_assert_str_eq(err, "t.rules:4:11: string longer than 1024 bytes");
			ck_assert_int_eq(e, TD_ERR_TOO_BIG);
		}
	}
	/* 1024 rules load; the 1025th is refused where it starts */
	n = 0;
	for (int i = 0; i < 1025; i++)
		n += (size_t)sprintf(text + n, "rule r%d { severity low when true message \"m\" }\n",
				     i);
	rs = load(text, &e, err, sizeof err);
	ck_assert_str_eq(err, "t.rules:1025:1: more than 1024 rules");
	ck_assert_int_eq(e, TD_ERR_TOO_BIG);
	/* the file size */
	memset(text, ' ', TD_RULES_MAX_FILE + 1);
	rs = td_rules_new();
	e = td_rules_load_buffer(rs, "t.rules", (const uint8_t *)text, TD_RULES_MAX_FILE + 1, err,
				 sizeof err);
	ck_assert_int_eq(e, TD_ERR_TOO_BIG);
	ck_assert_str_eq(err, "t.rules: larger than 1048576 bytes");
	/* a file that is not there */
	e = td_rules_load_file(rs, "/nonexistent/x.rules", err, sizeof err);
	ck_assert_int_eq(e, TD_ERR_IO);
	ck_assert_str_eq(err, "/nonexistent/x.rules: No such file or directory");
	/* a failed load keeps the rules loaded before */
	ck_assert_int_eq(td_rules_load_buffer(rs, "a.rules", (const uint8_t *)RULE("true"),
					      strlen(RULE("true")), err, sizeof err), TD_OK);
	ck_assert_int_ne(td_rules_load_buffer(rs, "b.rules", (const uint8_t *)"rule b {",
					      8, err, sizeof err), TD_OK);
	ck_assert_uint_eq(td_rules_count(rs), 1);
	ck_assert_int_eq(td_rules_disable(rs, "zzz", err, sizeof err), TD_ERR_ARG);
	ck_assert_str_eq(err, "--disable zzz: no rule with this id (tlsdiag --list-rules)");
	td_rules_free(rs);
	free(text);
}
END_TEST

/* ---- expressions -------------------------------------------------------------- */

/* tls.resumed true, tls.hrr false, connection.midstream true */
START_TEST(test_precedence)
{
	struct td_session s = {0};

	baseline(&s);
	s.resumed = true;
	s.midstream = true;
	/* and binds tighter than or */
	ck_assert(td_test_rule_holds("tls.resumed or tls.hrr and tls.hrr", &s));
	ck_assert(!td_test_rule_holds("(tls.resumed or tls.hrr) and tls.hrr", &s));
	/* not binds tighter than and */
	ck_assert(!td_test_rule_holds("not tls.resumed and tls.hrr", &s));
	ck_assert(td_test_rule_holds("not (tls.resumed and tls.hrr)", &s));
	/* not applies to a whole comparison, `in` included */
	ck_assert(td_test_rule_holds("not tls.cipher in [\"x\", \"y\"]", &s));
	ck_assert(td_test_rule_holds("not not tls.resumed", &s));
	ck_assert(td_test_rule_holds("tls.hrr or tls.hrr or connection.midstream", &s));
	ck_assert(!td_test_rule_holds("tls.resumed and connection.midstream and tls.hrr", &s));
	/* a quantifier's body reaches as far right as it can */
	ck_assert(!td_test_rule_holds("any cert: cert.key.bits > 3000 and cert.index == 0", &s));
	ck_assert(td_test_rule_holds("(any cert: cert.key.bits > 3000) and tls.resumed", &s));
	ck_assert(td_test_rule_holds("true", &s));
	ck_assert(!td_test_rule_holds("false", &s));
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_operators)
{
	struct td_session s = {0};

	baseline(&s);
	/* numbers */
	ck_assert(td_test_rule_holds("server.port == 443", &s));
	ck_assert(!td_test_rule_holds("server.port != 443", &s));
	ck_assert(td_test_rule_holds("server.port < 444", &s) && !td_test_rule_holds("server.port < 443", &s));
	ck_assert(td_test_rule_holds("server.port <= 443", &s) && !td_test_rule_holds("server.port <= 442", &s));
	ck_assert(td_test_rule_holds("server.port > 442", &s) && !td_test_rule_holds("server.port > 443", &s));
	ck_assert(td_test_rule_holds("server.port >= 443", &s) && !td_test_rule_holds("server.port >= 444", &s));
	ck_assert(td_test_rule_holds("server.port in [80, 443]", &s) && !td_test_rule_holds("server.port in [80]", &s));
	ck_assert(td_test_rule_holds("server.port == 0x1bb", &s));
	ck_assert(td_test_rule_holds("cert.leaf.days_left == 300", &s));
	/* strings: exact ==, case-blind glob and substring */
	ck_assert(td_test_rule_holds("server.sni == \"server.example\"", &s));
	ck_assert(!td_test_rule_holds("server.sni == \"SERVER.example\"", &s));
	ck_assert(td_test_rule_holds("server.sni != \"other\"", &s));
	ck_assert(td_test_rule_holds("server.sni ~ \"*.EXAMPLE\"", &s));
	ck_assert(td_test_rule_holds("server.sni matches \"s?rver.*\"", &s));
	ck_assert(!td_test_rule_holds("server.sni ~ \"*.example.com\"", &s));
	ck_assert(td_test_rule_holds("server.sni contains \"VER.ex\"", &s));
	ck_assert(!td_test_rule_holds("server.sni contains \"xyz\"", &s));
	ck_assert(td_test_rule_holds("server.ip == \"10.0.0.2\" and client.ip == \"10.0.0.1\"", &s));
	ck_assert(td_test_rule_holds("tls.cipher == \"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"", &s));
	ck_assert(td_test_rule_holds("tls.kx == \"ECDHE\" and tls.enc ~ \"AES*GCM\"", &s));
	/* versions compare by wire value */
	ck_assert(td_test_rule_holds("tls.version == \"TLS1.2\"", &s));
	ck_assert(td_test_rule_holds("tls.version == \"TLS 1.2\" and tls.version == \"tlsv1.2\"", &s));
	ck_assert(td_test_rule_holds("tls.version < \"TLS1.3\"", &s) && !td_test_rule_holds("tls.version < \"TLS1.2\"", &s));
	ck_assert(td_test_rule_holds("tls.version >= \"SSL3\"", &s));
	ck_assert(td_test_rule_holds("tls.version in [\"TLS1.2\", \"TLS1.3\"]", &s));
	ck_assert(td_test_rule_holds("tls.version == 0x0303", &s));
	/* times */
	ck_assert(td_test_rule_holds("cert.leaf.not_after > \"2027-01-01\"", &s));
	ck_assert(td_test_rule_holds("cert.leaf.not_after < \"2028-01-01T00:00:00Z\"", &s));
	/* enums: names, order */
	ck_assert(td_test_rule_holds("connection.outcome == completed", &s));
	ck_assert(td_test_rule_holds("connection.outcome != failed", &s));
	ck_assert(td_test_rule_holds("connection.stage > client_finished", &s));
	ck_assert(td_test_rule_holds("connection.end in [fin, rst]", &s));
	ck_assert(td_test_rule_holds("connection.end_by == client", &s));
	/* bools */
	ck_assert(td_test_rule_holds("tls.resumed == false", &s) && !td_test_rule_holds("tls.resumed", &s));
	/* lists: contains is membership */
	ck_assert(td_test_rule_holds("client_hello.alpn contains \"h2\"", &s));
	ck_assert(!td_test_rule_holds("client_hello.alpn contains \"h\"", &s));
	ck_assert(td_test_rule_holds("client_hello.suites contains \"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"",
			&s));
	ck_assert(td_test_rule_holds("cert.leaf.sans contains \"DNS:www.server.example\"", &s));
	/* field against field */
	ck_assert(td_test_rule_holds("client.port > server.port", &s));
	ck_assert(!td_test_rule_holds("client.ip == server.ip", &s));
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_quantifiers)
{
	struct td_session s = {0};

	baseline(&s);
	ck_assert(td_test_rule_holds("any cert: cert.key.bits == 4096", &s));
	ck_assert(!td_test_rule_holds("all cert: cert.key.bits == 4096", &s));
	ck_assert(td_test_rule_holds("all cert: cert.key.bits >= 2048", &s));
	ck_assert(td_test_rule_holds("any cert: cert.is_ca and cert.index == 1", &s));
	ck_assert(td_test_rule_holds("any suite: suite.kx == \"ECDHE\"", &s));
	ck_assert(td_test_rule_holds("any suite: suite.name == \"TLS_EMPTY_RENEGOTIATION_INFO_SCSV\"", &s));
	/* empty lists: any is false, all is true */
	ck_assert(!td_test_rule_holds("any alert: true", &s));
	ck_assert(td_test_rule_holds("all alert: false", &s));
	add_alert(&s, TD_DIR_S2C, 2, 40, TD_PHASE_SERVER_FLIGHT, 7);
	add_alert(&s, TD_DIR_C2S, 1, 0, TD_PHASE_APPLICATION, 9);
	ck_assert(td_test_rule_holds("any alert: alert.level == fatal and alert.from == server", &s));
	ck_assert(!td_test_rule_holds("any alert: alert.level == fatal and alert.from == client", &s));
	ck_assert(td_test_rule_holds("any alert: alert.description == handshake_failure", &s));
	ck_assert(td_test_rule_holds("any alert: alert.description == 40", &s));
	ck_assert(td_test_rule_holds("all alert: alert.phase >= server_flight", &s));
	/* nested over two lists */
	ck_assert(td_test_rule_holds("any alert: alert.level == fatal and any cert: cert.is_ca", &s));
	ck_assert(!td_test_rule_holds("any alert: alert.level == warning and all cert: cert.is_ca", &s));
	td_session_clear(&s, NULL);
}
END_TEST

/* Missing facts are unknown: neither a comparison nor its negation fires. */
START_TEST(test_missing_values)
{
	struct td_session s = {0};
	const char *pin = "server.sni == \"server.example\" and not cert.leaf.spki_sha256 in "
			  "[\"00\"]";

	baseline(&s);
	ck_assert(td_test_rule_holds(pin, &s));
	s.n_certs = 0; /* TLS 1.3: no certificate visible */
	s.certs_encrypted = true;
	ck_assert(!td_test_rule_holds(pin, &s));
	ck_assert(!td_test_rule_holds("cert.leaf.key.bits < 2048", &s));
	ck_assert(!td_test_rule_holds("not cert.leaf.key.bits < 2048", &s));
	/* or: true wins over unknown; and: false wins */
	ck_assert(td_test_rule_holds("cert.leaf.key.bits < 2048 or tls.version == \"TLS1.2\"", &s));
	ck_assert(td_test_rule_holds("not (cert.leaf.key.bits < 2048 and tls.resumed)", &s));
	td_session_ch(&s)->has_sni = false;
	ck_assert(!td_test_rule_holds("server.sni != \"x\"", &s));
	td_session_sh(&s)->seen = false;
	ck_assert(!td_test_rule_holds("tls.version < \"TLS1.2\"", &s));
	ck_assert(!td_test_rule_holds("not tls.version < \"TLS1.2\"", &s));
	ck_assert(!td_test_rule_holds("cert.leaf.key_match == false", &s)); /* no --key */
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_templates)
{
	struct td_session s = {0};
	char m[TD_FINDING_MSG_LEN];

	baseline(&s);
	message("true", "{server.sni}:{server.port} {tls.version} {{x}} {connection.outcome}", &s,
		m, sizeof m);
	ck_assert_str_eq(m, "server.example:443 TLS 1.2 {x} completed");
	message("true", "{client_hello.alpn} / {cert.leaf.sans} / {cert.leaf.key.curve}", &s, m,
		sizeof m);
	ck_assert_str_eq(m, "h2, http/1.1 / DNS:server.example, DNS:www.server.example / (none)");
	message("true", "{cert.leaf.not_after} {tls.resumed} {connection.stage}", &s, m, sizeof m);
	ck_assert_str_eq(m, "2027-11-11 08:00:00 UTC false application data");
	message("connection.end == fin and connection.aborted_how == none",
		"{connection.end} {connection.aborted_how} {decrypt.status}", &s, m, sizeof m);
	ck_assert_str_eq(m, "fin none (none)"); /* decrypt.status absent without secrets */
	s.dec.status = TD_DECRYPT_DONE;
	message("decrypt.status == decrypted", "{decrypt.status}", &s, m, sizeof m);
	ck_assert_str_eq(m, "decrypted");
	s.dec.status = TD_DECRYPT_OFF;
	message("true", "\\\"q\\\" \\x41\\tB", &s, m, sizeof m);
	ck_assert_str_eq(m, "\"q\" A\tB");
	/* wire bytes go in as they are (the reports escape them), NUL made visible */
	td_session_ch(&s)->sni.len = 5;
	memcpy(td_session_ch(&s)->sni.bytes, "a\0b\x1b[", 5);
	message("true", "<{server.sni}>", &s, m, sizeof m);
	ck_assert_str_eq(m, "<a\\x00b\x1b[>");
	/* the item of a top-level any */
	add_alert(&s, TD_DIR_S2C, 2, 20, TD_PHASE_AFTER_CLIENT_FINISHED, 9);
	message("any alert: alert.level == fatal", "{alert.from} {alert.level} "
		"{alert.description} {alert.phase} {alert.frame}", &s, m, sizeof m);
	ck_assert_str_eq(m, "server fatal bad_record_mac after client Finished 9");
	td_session_clear(&s, NULL);
}
END_TEST

/* A top-level any naming its item gives one finding per item, each with
 * the item's frame; one that does not gives one finding. */
START_TEST(test_findings_per_item)
{
	static const char text[] =
		"rule each { severity low when any alert: alert.level == fatal\n"
		"  message \"{alert.description}\" }\n"
		"rule once { severity critical when any alert: alert.level == fatal\n"
		"  message \"fatal alerts\" }\n"
		"rule framed { severity medium when tls.version == \"TLS1.2\"\n"
		"  message \"v\" frame server_hello.frame }\n";
	struct td_session s = {0};
	struct td_findings f;
	char err[1024];
	enum td_err e;
	struct td_ruleset *rs = load(text, &e, err, sizeof err);

	ck_assert_msg(rs != NULL, "%s", err);
	baseline(&s);
	add_alert(&s, TD_DIR_S2C, 2, 40, TD_PHASE_SERVER_FLIGHT, 7);
	add_alert(&s, TD_DIR_C2S, 1, 0, TD_PHASE_APPLICATION, 8);
	add_alert(&s, TD_DIR_C2S, 2, 48, TD_PHASE_AFTER_SERVER_FLIGHT, 11);
	td_rules_eval(rs, &s, &f);
	ck_assert_uint_eq(f.n, 4);
	ck_assert_uint_eq(f.total, 4);
	/* most severe first, load order within a severity */
	ck_assert_str_eq(f.f[0].id, "once");
	ck_assert_uint_eq(f.f[0].frame, 7);
	ck_assert_str_eq(f.f[1].id, "framed");
	ck_assert_uint_eq(f.f[1].frame, 5);
	ck_assert_str_eq(f.f[2].message, "handshake_failure");
	ck_assert_uint_eq(f.f[2].frame, 7);
	ck_assert_str_eq(f.f[3].message, "unknown_ca");
	ck_assert_uint_eq(f.f[3].frame, 11);
	ck_assert_int_eq(td_findings_max(&f), TD_SEV_CRITICAL);
	td_findings_filter(&f, TD_SEV_MEDIUM);
	ck_assert_uint_eq(f.n, 2);
	ck_assert_int_eq(td_rules_disable(rs, "once", err, sizeof err), TD_OK);
	td_rules_eval(rs, &s, &f);
	ck_assert_uint_eq(count(&f, "once"), 0);
	ck_assert_uint_eq(f.n, 3);
	td_rules_free(rs);
	td_session_clear(&s, NULL);
}
END_TEST

/* ---- the built-in rules ------------------------------------------------------ */

typedef void (*mutate_fn)(struct td_session *s);

#define MUT(name, body)                                                                    \
	static void name(struct td_session *s)                                            \
	{                                                                                  \
		(void)s;                                                                   \
		body;                                                                      \
	}

MUT(m_fatal, add_alert(s, TD_DIR_S2C, 2, 40, TD_PHASE_SERVER_FLIGHT, 6))
MUT(m_fatal_near, add_alert(s, TD_DIR_S2C, 1, 40, TD_PHASE_SERVER_FLIGHT, 6))
MUT(m_warning, add_alert(s, TD_DIR_S2C, 1, 112, TD_PHASE_SERVER_FLIGHT, 6))
MUT(m_warning_near, add_alert(s, TD_DIR_C2S, 1, 0, TD_PHASE_APPLICATION, 17))
MUT(m_probable, {
	struct td_alert *a = add_alert(s, TD_DIR_C2S, 0, 0, TD_PHASE_AFTER_SERVER_FLIGHT, 9);
	a->encrypted = a->probable = true;
})
MUT(m_probable_near, {
	struct td_alert *a = add_alert(s, TD_DIR_C2S, 0, 0, TD_PHASE_APPLICATION, 15);
	a->encrypted = a->probable = true;
})
MUT(m_encrypted, add_alert(s, TD_DIR_S2C, 0, 0, TD_PHASE_AFTER_CLIENT_FINISHED, 9)->encrypted =
		 true)
MUT(m_encrypted_near, add_alert(s, TD_DIR_S2C, 0, 0, TD_PHASE_APPLICATION, 19)->encrypted =
		      true)
MUT(m_stopped, {
	s->outcome = TD_OUTCOME_FAILED;
	s->stage = TD_STAGE_SERVER_HELLO_DONE;
	s->aborted_by = TD_DIR_C2S;
	s->aborted_how = TD_ABORT_RST;
	s->end = TD_END_RST;
})
MUT(m_stopped_near, {
	m_fatal(s);
	s->outcome = TD_OUTCOME_FAILED;
	s->aborted_by = TD_DIR_S2C;
	s->aborted_how = TD_ABORT_ALERT;
})
/* the server's text where its first record was due, kept by the parser */
static void plain_reply(struct td_session *s, const char *text, uint32_t frame)
{
	struct td_plain_text *pt = td_session_plain(s);
	ck_assert_ptr_nonnull(pt);
	pt->reply.frame = frame;
	pt->reply.len = (uint8_t)strlen(text);
	memcpy(pt->reply.text, text, pt->reply.len);
}
MUT(m_plain, {
	m_stopped(s);
	plain_reply(s, "HTTP/1.1 400 Bad Request", 5);
})
/* the same close without the text */
MUT(m_plain_near, m_stopped(s))
/* SMTP greeted, no STARTTLS asked, the client's hello came */
MUT(m_unasked, {
	struct td_plain_text *pt = td_session_plain(s);
	s->starttls = TD_STARTTLS_SMTP;
	pt->greeting.frame = 4;
	pt->greeting.len = 12;
	memcpy(pt->greeting.text, "220 mx ESMTP", 12);
})
/* STARTTLS asked and granted at frame 9 */
MUT(m_unasked_near, {
	s->starttls = TD_STARTTLS_SMTP;
	s->starttls_frame = 9;
})
/* a PROXY header, the ClientHello, the server's FIN */
MUT(m_proxy, {
	td_session_proxy(s)->version = 2;
	s->outcome = TD_OUTCOME_FAILED;
	s->stage = TD_STAGE_CLIENT_HELLO;
	s->aborted_by = TD_DIR_S2C;
	s->aborted_how = TD_ABORT_FIN;
	s->end = TD_END_FIN;
	s->end_by = TD_DIR_S2C;
	s->end_frame = 7;
})
/* the same, but the server answered (ServerHello) before it closed */
MUT(m_proxy_near, {
	m_proxy(s);
	s->stage = TD_STAGE_SERVER_HELLO;
})
MUT(m_key, s->keys_given = true)
MUT(m_key_near, {
	s->keys_given = true;
	td_test_set_key_match(s, 0, "server.key");
})
MUT(m_cert, {
	td_session_chain(s)->expected_checked = true;
	td_session_chain(s)->expected_path = "expected.pem";
})
MUT(m_cert_near, {
	td_session_chain(s)->expected_checked = td_session_chain(s)->expected_match = true;
	td_session_chain(s)->expected_path = "expected.pem";
})
MUT(m_expired, leaf.not_after = T0 - 86400)
MUT(m_expired_near, leaf.not_after = T0 + 86400 * 365)
MUT(m_nyv, leaf.not_before = T0 + 100)
MUT(m_nyv_near, leaf.not_before = T0 - 100)
MUT(m_expiring, leaf.not_after = T0 + 86400 * 10)
MUT(m_expiring_near, leaf.not_after = T0 + 86400 * 40)
MUT(m_validity, leaf.not_before = T0 - 86400 * 99) /* 399 days */
MUT(m_validity_near, leaf.not_before = T0 - 86400 * 98)
MUT(m_sni, td_session_chain(s)->sni_match = 0)
MUT(m_sni_near, {
	td_session_chain(s)->sni_match = -1;
	td_session_ch(s)->has_sni = false;
	td_session_ch(s)->ext_flags &= ~(uint32_t)TD_EXT_SNI;
})
MUT(m_selfsigned, td_session_chain(s)->self_signed_leaf = true)
MUT(m_selfsigned_near, {
	ca.self_signed = true; /* a root sent along is not a self-signed leaf */
	td_session_chain(s)->root_sent = true;
})
MUT(m_untrusted, {
	td_session_chain(s)->ca_checked = true;
	snprintf(td_session_chain(s)->ca_verdict, sizeof s->chain->ca_verdict, "unable to get local issuer");
})
MUT(m_untrusted_near, td_session_chain(s)->ca_checked = td_session_chain(s)->ca_ok = true)
MUT(m_order, td_session_chain(s)->order_ok = false)
MUT(m_order_near, { /* a broken chain is reported as broken, not out of order */
	td_session_chain(s)->duplicates = 1;
	td_session_chain(s)->order_ok = false;
	td_session_chain(s)->broken = true;
	td_session_chain(s)->broken_at = 1;
})
MUT(m_broken, {
	td_session_chain(s)->order_ok = false;
	td_session_chain(s)->broken = true;
	td_session_chain(s)->broken_at = 1;
})
MUT(m_broken_near, td_session_chain(s)->order_ok = false) /* out of order only */
/* What earlier connections with the SNI presented (td_sni_history). */
static void history(struct td_session *s, bool changed, bool key_changed)
{
	struct td_sni_history *h = &td_session_chain(s)->sni_history;

	h->known = true;
	h->changed = changed;
	h->key_changed = key_changed;
	h->earlier_leaves = 2;
	h->earlier_connections = 5;
	memset(h->earlier.sha256, 0x11, 32);
	memset(h->earlier.spki_sha256, 0x22, 32);
	h->earlier.connections = 3;
	h->earlier.first_connection = 2;
	h->earlier.first_frame = 17;
}
MUT(m_sni_changed, history(s, true, true))
MUT(m_sni_changed_near, history(s, true, false)) /* same key: reissued */
MUT(m_reissued, history(s, true, false))
MUT(m_reissued_near, history(s, false, false))
MUT(m_missing, td_session_chain(s)->missing_intermediate = true)
MUT(m_missing_near, td_session_chain(s)->root_sent = true)
MUT(m_weak_rsa, leaf.key.bits = 1024)
MUT(m_weak_rsa_near, leaf.key.bits = 2048)
MUT(m_weak_ec, {
	snprintf(leaf.key.algorithm, sizeof leaf.key.algorithm, "EC");
	leaf.key.bits = 192;
})
MUT(m_weak_ec_near, {
	snprintf(leaf.key.algorithm, sizeof leaf.key.algorithm, "EC");
	leaf.key.bits = 224;
})
MUT(m_weak_sig, snprintf(leaf.sig_alg, sizeof leaf.sig_alg, "sha1WithRSAEncryption"))
MUT(m_weak_sig_near, {
	snprintf(ca.sig_alg, sizeof ca.sig_alg, "md5WithRSAEncryption");
	ca.self_signed = true; /* a root's own signature is not checked */
})
MUT(m_ssl, td_session_sh(s)->legacy_version = 0x0300)
MUT(m_ssl_near, td_session_sh(s)->legacy_version = 0x0301)
MUT(m_oldtls, td_session_sh(s)->legacy_version = 0x0302)
MUT(m_oldtls_near, td_session_sh(s)->legacy_version = 0x0303)
MUT(m_cipher, td_session_sh(s)->suite = 0x0005)              /* TLS_RSA_WITH_RC4_128_SHA */
MUT(m_cipher_near, td_session_sh(s)->suite = 0xc030)         /* ECDHE_RSA AES_256_GCM */
MUT(m_offered, td_session_ch(s)->suites[1] = 0x000a)         /* TLS_RSA_WITH_3DES_EDE_CBC_SHA */
MUT(m_offered_near, td_session_ch(s)->suites[1] = 0x009c)    /* TLS_RSA_WITH_AES_128_GCM_SHA256 */
MUT(m_cbc, {
	td_session_sh(s)->legacy_version = 0x0301;
	td_session_sh(s)->suite = 0xc013; /* TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA */
})
MUT(m_cbc_near, td_session_sh(s)->suite = 0xc013)
MUT(m_nofs, td_session_sh(s)->suite = 0x009c)
MUT(m_nofs_near, td_session_sh(s)->suite = 0xc02b)
MUT(m_reneg, td_session_sh(s)->ext_flags &= ~(uint32_t)TD_EXT_RENEGOTIATION_INFO)
MUT(m_reneg_near, {
	td_session_sh(s)->ext_flags &= ~(uint32_t)TD_EXT_RENEGOTIATION_INFO;
	td_session_sh(s)->selected_version = 0x0304;
	td_session_sh(s)->suite = 0x1301;
})
MUT(m_nosni, {
	td_session_ch(s)->has_sni = false;
	td_session_chain(s)->sni_match = -1;
})
MUT(m_nosni_near, {
	td_session_ch(s)->seen = false; /* no ClientHello seen (mid-stream): nothing to say */
	td_session_chain(s)->sni_match = -1;
})
MUT(m_overlap, s->tcp.overlaps_differ = 2)
MUT(m_overlap_near, s->tcp.retransmissions[0] = 3)
MUT(m_risk, {
	s->ndpi.done = true;
	for (unsigned b = 1; b < 64; b++)
		if (td_classify_risk_name(b)) {
			s->ndpi.risks = 1ull << b;
			break;
		}
})
MUT(m_risk_near, s->ndpi.done = true)
MUT(m_pms, {
	s->dec.status = TD_DECRYPT_PMS_FAILED;
	s->dec.n_keys_tried = 2;
	s->dec.pms[0] = TD_PMS_NOT_RSA;
	s->dec.pms[1] = TD_PMS_WRONG_KEY;
})
MUT(m_pms_near, {
	s->dec.status = TD_DECRYPT_DONE;
	s->dec.n_keys_tried = 1;
	s->dec.pms[0] = TD_PMS_DECRYPTED;
	s->dec.key_index = 0;
})
MUT(m_finished, {
	s->dec.status = TD_DECRYPT_DONE;
	s->dec.finished[TD_DIR_C2S] = TD_FIN_VERIFIED;
	s->dec.finished[TD_DIR_S2C] = TD_FIN_MISMATCH;
})
MUT(m_finished_near, {
	s->dec.status = TD_DECRYPT_DONE;
	s->dec.finished[TD_DIR_C2S] = TD_FIN_VERIFIED;
	s->dec.finished[TD_DIR_S2C] = TD_FIN_UNREADABLE;
})
MUT(m_record, {
	s->dec.status = TD_DECRYPT_DONE;
	s->dec.failed = true;
	s->dec.fail_dir = TD_DIR_C2S;
	s->dec.fail_what = TD_DEC_BAD_MAC;
	s->dec.fail_frame = 9;
})
MUT(m_record_near, s->dec.status = TD_DECRYPT_NO_SECRETS)

static const struct {
	const char *id;
	mutate_fn fire, near;
	const char *words; /* in the message when it fires */
} default_cases[] = {
	{ "fatal-alert", m_fatal, m_fatal_near, "server sent fatal handshake_failure" },
	{ "warning-alert", m_warning, m_warning_near, "server sent warning unrecognized_name" },
	{ "probable-encrypted-alert", m_probable, m_probable_near, "client sent a record" },
	{ "encrypted-alert-in-handshake", m_encrypted, m_encrypted_near, "encrypted alert after" },
	{ "handshake-stopped-without-alert", m_stopped, m_stopped_near,
	  "rst from client after ServerHelloDone" },
	{ "server-not-tls", m_plain, m_plain_near,
	  "answered in plain text, not TLS: \"HTTP/1.1 400 Bad Request\"" },
	{ "tls-without-starttls", m_unasked, m_unasked_near,
	  "greeted in plain SMTP (\"220 mx ESMTP\") and the client sent a ClientHello" },
	{ "proxy-header-not-accepted", m_proxy, m_proxy_near,
	  "after a PROXY protocol v2 header and the ClientHello, without a ServerHello" },
	{ "key-mismatch", m_key, m_key_near, "abababab" },
	{ "unexpected-certificate", m_cert, m_cert_near, "not the --cert expected.pem" },
	{ "cert-expired", m_expired, m_expired_near, "expired on 2027-01-14" },
	{ "cert-not-yet-valid", m_nyv, m_nyv_near, "not valid before 2027-01-15 08:01:40 UTC" },
	{ "cert-expiring", m_expiring, m_expiring_near, "expires in 10 days" },
	{ "cert-validity-too-long", m_validity, m_validity_near, "is valid for 399 days" },
	{ "sni-not-covered", m_sni, m_sni_near, "not valid for the SNI server.example" },
	{ "self-signed-leaf", m_selfsigned, m_selfsigned_near, "is self-signed" },
	{ "untrusted-chain", m_untrusted, m_untrusted_near, "unable to get local issuer" },
	{ "chain-out-of-order", m_order, m_order_near, "out of order" },
	{ "missing-intermediate", m_missing, m_missing_near, "issued by CN=Test CA" },
	{ "chain-broken", m_broken, m_broken_near, "certificate [1] certifies none" },
	{ "sni-certificate-changed", m_sni_changed, m_sni_changed_near,
	  "another public key for server.example than earlier connections: 3 of 5 had SHA-256 "
	  "1111111111111111111111111111111111111111111111111111111111111111 (first: connection 2, "
	  "frame 17), this one cdcdcdcd" },
	{ "sni-certificate-reissued", m_reissued, m_reissued_near,
	  "same public key for server.example than earlier connections: 3 of 5 had" },
	{ "weak-rsa-key", m_weak_rsa, m_weak_rsa_near, "1024-bit RSA key" },
	{ "weak-ec-key", m_weak_ec, m_weak_ec_near, "192-bit EC key" },
	{ "weak-signature", m_weak_sig, m_weak_sig_near, "signed with sha1WithRSAEncryption" },
	{ "ssl-version", m_ssl, m_ssl_near, "SSL 3.0 negotiated" },
	{ "old-tls-version", m_oldtls, m_oldtls_near, "TLS 1.1 negotiated" },
	{ "weak-cipher-chosen", m_cipher, m_cipher_near, "TLS_RSA_WITH_RC4_128_SHA" },
	{ "weak-cipher-offered", m_offered, m_offered_near, "the client offers weak" },
	{ "cbc-with-tls10", m_cbc, m_cbc_near, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA (CBC)" },
	{ "no-forward-secrecy", m_nofs, m_nofs_near, "RSA key exchange" },
	{ "insecure-renegotiation", m_reneg, m_reneg_near, "secure renegotiation" },
	{ "missing-sni", m_nosni, m_nosni_near, "no SNI" },
	{ "tcp-overlap-differs", m_overlap, m_overlap_near, "2 overlapping TCP segments" },
	{ "ndpi-risk", m_risk, m_risk_near, "nDPI flags the flow: " },
	{ "pms-not-for-key", m_pms, m_pms_near, "does not decrypt under a --key" },
	{ "finished-mismatch", m_finished, m_finished_near, "(client verified, server mismatch)" },
	{ "record-integrity-failed", m_record, m_record_near,
	  "client's record at frame 9 failed its integrity check (bad_mac)" },
};

static struct td_ruleset *defaults(void)
{
	struct td_ruleset *rs = td_rules_new();
	char err[1024];

	ck_assert_ptr_nonnull(rs);
	ck_assert_msg(td_rules_load_default(rs, err, sizeof err) == TD_OK, "%s", err);
	return rs;
}

/* The built-in text is rules/default.rules byte for byte: the build's
 * awk script (tools/gen-embed.awk) escapes backslashes, quotes, '?' and
 * tabs the same way under mawk and gawk, and drops nothing. */
START_TEST(test_defaults_embedded_verbatim)
{
	size_t len = 0;
	uint8_t *file = td_test_read_file("rules", "default.rules", &len);
	const char *text = td_rules_default_text();

	ck_assert_ptr_nonnull(file);
	ck_assert_uint_eq(strlen(text), len);
	ck_assert(memcmp(text, file, len) == 0);
	ck_assert_ptr_nonnull(memchr(file, '\\', len)); /* the case that broke */
	free(file);
}
END_TEST

/* Every built-in rule has a case below, and the baseline is clean. */
START_TEST(test_defaults_covered)
{
	struct td_ruleset *rs = defaults();
	struct td_session s = {0};
	struct td_findings f;
	struct td_rule_info ri;
	size_t n = sizeof default_cases / sizeof default_cases[0];

	ck_assert_uint_eq(td_rules_count(rs), n);
	for (size_t i = 0; td_rules_info(rs, i, &ri); i++) {
		bool found = false;
		for (size_t k = 0; k < n; k++)
			found |= strcmp(default_cases[k].id, ri.id) == 0;
		ck_assert_msg(found, "built-in rule %s has no test case", ri.id);
		ck_assert_str_eq(ri.file, "default.rules");
		ck_assert(ri.explain[0] != '\0');
	}
	baseline(&s);
	td_rules_eval(rs, &s, &f);
	ck_assert_msg(f.n == 0, "baseline fires %s: %s", f.n ? f.f[0].id : "",
		      f.n ? f.f[0].message : "");
	td_rules_free(rs);
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_default_rule)
{
	struct td_ruleset *rs = defaults();
	struct td_session s = {0};
	struct td_findings f;
	const struct td_finding *x;

	baseline(&s);
	default_cases[_i].fire(&s);
	td_rules_eval(rs, &s, &f);
	x = first(&f, default_cases[_i].id);
	ck_assert_msg(x != NULL, "%s does not fire", default_cases[_i].id);
	ck_assert_msg(strstr(x->message, default_cases[_i].words), "%s: '%s' lacks '%s'", x->id,
		      x->message, default_cases[_i].words);
	baseline(&s);
	default_cases[_i].near(&s);
	td_rules_eval(rs, &s, &f);
	ck_assert_msg(count(&f, default_cases[_i].id) == 0, "%s fires on its near miss: %s",
		      default_cases[_i].id, first(&f, default_cases[_i].id)->message);
	td_rules_free(rs);
	td_session_clear(&s, NULL);
}
END_TEST

/* A close after the server's plain text is that text's doing: the rule
 * for a close without an alert gives way to server-not-tls. */
START_TEST(test_plain_text_explains_close)
{
	struct td_ruleset *rs = defaults();
	struct td_session s = {0};
	struct td_findings f;

	baseline(&s);
	m_plain(&s);
	td_rules_eval(rs, &s, &f);
	ck_assert_int_eq(count(&f, "server-not-tls"), 1);
	ck_assert_int_eq(count(&f, "handshake-stopped-without-alert"), 0);
	ck_assert_uint_eq(first(&f, "server-not-tls")->frame, 5);
	baseline(&s);
	m_plain_near(&s);
	td_rules_eval(rs, &s, &f);
	ck_assert_int_eq(count(&f, "handshake-stopped-without-alert"), 1);
	/* the same for a close after a PROXY header */
	baseline(&s);
	m_proxy(&s);
	td_rules_eval(rs, &s, &f);
	ck_assert_int_eq(count(&f, "proxy-header-not-accepted"), 1);
	ck_assert_int_eq(count(&f, "handshake-stopped-without-alert"), 0);
	baseline(&s);
	m_proxy_near(&s);
	td_rules_eval(rs, &s, &f);
	ck_assert_int_eq(count(&f, "handshake-stopped-without-alert"), 1);
	td_rules_free(rs);
	td_session_clear(&s, NULL);
}
END_TEST

/* Every fatal alert is named and explained; every warning but
 * close_notify is reported. */
START_TEST(test_every_alert)
{
	struct td_ruleset *rs = defaults();
	size_t n = td_names_table_size(TD_NAMES_ALERT);
	struct td_session s = {0};

	for (size_t i = 0; i < n; i++) {
		struct td_findings f;
		const struct td_finding *x;
		const char *name;
		uint16_t desc;
		char want[128];

		ck_assert(td_names_table_entry(TD_NAMES_ALERT, i, &desc, &name));
		for (int level = 1; level <= 2; level++) {
			baseline(&s);
			add_alert(&s, TD_DIR_S2C, level, desc, TD_PHASE_SERVER_FLIGHT, 6);
			td_rules_eval(rs, &s, &f);
			x = first(&f, level == 2 ? "fatal-alert" : "warning-alert");
			if (level == 1 && desc == 0) {
				ck_assert_uint_eq(f.n, 0);
				continue;
			}
			ck_assert_msg(x != NULL, "%s level %d", name, level);
			snprintf(want, sizeof want, "server sent %s %s (during the server's flight): ",
				 level == 2 ? "fatal" : "warning", name);
			ck_assert_msg(strncmp(x->message, want, strlen(want)) == 0, "%s", x->message);
			ck_assert_msg(strlen(x->message) > strlen(want) + 10, "%s", x->message);
			ck_assert_uint_eq(x->frame, 6);
		}
	}
	td_session_clear(&s, NULL);
	td_rules_free(rs);
}
END_TEST

/* ---- the binary: samples, options, exit status ------------------------------------ */

/* The findings of the first connection of `tlsdiag -r SAMPLE --json ARGS`. */
static json_t *run_findings(const char *sample, const char *args, int *status)
{
	char *out = NULL;
	json_t *lines, *f;

	*status = td_test_run(&out, NULL, "%s -r %s/%s --json %s", td_test_bin(),
			      td_test_samples(), sample, args);
	ck_assert_ptr_nonnull(out);
	lines = td_test_json_lines(out);
	free(out);
	f = json_object_get(json_array_get(lines, 0), "findings");
	ck_assert_msg(json_is_array(f), "no findings array for %s", sample);
	json_incref(f);
	json_decref(lines);
	return f;
}

static const json_t *finding(const json_t *a, const char *id)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
			return v;
	return NULL;
}

START_TEST(test_samples)
{
	int st;
	json_t *f;
	const json_t *x;

	f = run_findings("tls12-rsa-key-mismatch.pcap", "", &st);
	ck_assert_int_eq(st, 0);
	x = finding(f, "fatal-alert");
	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(json_string_value(json_object_get(x, "severity")), "high");
	ck_assert_int_eq(json_integer_value(json_object_get(x, "frame")), 9);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(x, "message")),
				     "server sent fatal bad_record_mac (after client Finished)"));
	ck_assert_ptr_nonnull(finding(f, "no-forward-secrecy"));
	ck_assert_ptr_nonnull(finding(f, "missing-intermediate"));
	ck_assert_ptr_null(finding(f, "key-mismatch")); /* no --key */
	json_decref(f);

	f = run_findings("tls12-rsa-key-mismatch.pcap", "--key samples/keys/mismatch-real.key",
			 &st);
	x = finding(f, "key-mismatch");
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(json_integer_value(json_object_get(x, "frame")), 5);
	json_decref(f);
	f = run_findings("tls12-rsa-key-mismatch.pcap", "--key samples/keys/mismatch-sent.key",
			 &st);
	ck_assert_ptr_null(finding(f, "key-mismatch"));
	json_decref(f);

	/* --cert: the server's certificate, or another one */
	f = run_findings("tls12-ecdhe-ok.pcap", "--cert samples/keys/other-ca.pem", &st);
	ck_assert_ptr_nonnull(finding(f, "unexpected-certificate"));
	json_decref(f);
	f = run_findings("tls12-ecdhe-ok.pcap", "--cert samples/keys/server.example.pem", &st);
	ck_assert_ptr_null(finding(f, "unexpected-certificate"));
	json_decref(f);

	/* --ca: the right root, or an unrelated one */
	f = run_findings("tls12-ecdhe-ok.pcap", "--ca samples/keys/other-ca.pem", &st);
	ck_assert_ptr_nonnull(finding(f, "untrusted-chain"));
	json_decref(f);
	f = run_findings("tls12-ecdhe-ok.pcap", "--ca samples/keys/root-ca.pem", &st);
	ck_assert_ptr_null(finding(f, "untrusted-chain"));
	ck_assert_ptr_null(finding(f, "fatal-alert"));
	ck_assert_ptr_null(finding(f, "missing-intermediate"));
	ck_assert_ptr_null(finding(f, "no-forward-secrecy"));
	json_decref(f);

	/* TLS 1.3: the client's encrypted alert after the server's flight, and
	 * not the close_notify-sized records after a good handshake */
	f = run_findings("tls13-unknown-ca.pcap", "", &st);
	x = finding(f, "probable-encrypted-alert");
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(json_integer_value(json_object_get(x, "frame")), 9);
	json_decref(f);
	f = run_findings("tls13-ok.pcapng", "", &st);
	ck_assert_ptr_null(finding(f, "probable-encrypted-alert"));
	json_decref(f);
	f = run_findings("tls13-unknown-ca-cleartext.pcap", "", &st);
	x = finding(f, "fatal-alert");
	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(x, "message")),
				     "client sent fatal unknown_ca"));
	json_decref(f);
	f = run_findings("link/tls12-ecdhe-ok-vlan.pcap", "--no-default-rules", &st);
	ck_assert_uint_eq(json_array_size(f), 0);
	json_decref(f);
}
END_TEST

/* The SHA-256 of a sample's certificate file, by the CLI. */
static void cli_sha256(const char *file, char out[65])
{
	char *o = td_test_sh(NULL, "openssl x509 -in %s/%s -outform DER | openssl dgst -sha256 -r",
			     td_test_samples(), file);
	snprintf(out, 65, "%.64s", o);
	free(o);
}

/* The connections of `tlsdiag --json -r SAMPLE1 [-r SAMPLE2]`. */
static json_t *run_connections(const char *sample1, const char *sample2 /* or NULL */)
{
	char *out = NULL;
	json_t *conns;

	if (sample2)
		td_test_run(&out, NULL, "%s --json -r %s/%s -r %s/%s", td_test_bin(),
			    td_test_samples(), sample1, td_test_samples(), sample2);
	else
		td_test_run(&out, NULL, "%s --json -r %s/%s", td_test_bin(), td_test_samples(),
			    sample1);
	ck_assert_ptr_nonnull(out);
	conns = td_test_json_connections(out);
	free(out);
	return conns;
}

/* The same SNI presenting different certificates, on a capture of three
 * connections to server.example (the generator's facts say which
 * certificate each one got): flagged on the connection whose leaf no
 * earlier one presented, naming the earlier certificate by its SHA-256
 * (from openssl) and its first connection. Two captures whose connections
 * got the same certificate: nothing. */
START_TEST(test_sni_history_sample)
{
	char path[512], want[65], earlier[65], msg[1024];
	json_error_t jerr;
	json_t *facts, *conns;
	size_t i;
	json_t *fc;

	snprintf(path, sizeof path, "%s/tls12-sni-cert-change.facts.json", td_test_samples());
	facts = json_load_file(path, 0, &jerr);
	ck_assert_msg(facts != NULL, "%s: %s", path, jerr.text);
	conns = run_connections("tls12-sni-cert-change.pcap", NULL);
	ck_assert_uint_eq(json_array_size(conns),
			  json_array_size(json_object_get(facts, "connections")));
	cli_sha256(json_string_value(json_array_get(
			   json_object_get(json_array_get(json_object_get(facts, "connections"), 0),
					   "cert_files"),
			   0)),
		   earlier);
	unsigned fired = 0;
	json_array_foreach(json_object_get(facts, "connections"), i, fc) {
		const char *leaf_file =
			json_string_value(json_array_get(json_object_get(fc, "cert_files"), 0));
		bool seen_before = false;
		for (size_t k = 0; k < i; k++) {
			const json_t *prev = json_array_get(json_object_get(facts, "connections"), k);
			seen_before |= strcmp(json_string_value(json_array_get(
						      json_object_get(prev, "cert_files"), 0)),
					      leaf_file) == 0;
		}
		json_t *findings = json_object_get(json_array_get(conns, i), "findings");
		const json_t *x = finding(findings, "sni-certificate-changed");
		ck_assert_ptr_null(finding(findings, "sni-certificate-reissued")); /* new keys */
		if (i == 0 || seen_before) {
			ck_assert_msg(x == NULL, "connection %zu flagged", i + 1);
			continue;
		}
		fired++;
		ck_assert_msg(x != NULL, "connection %zu not flagged", i + 1);
		cli_sha256(leaf_file, want);
		snprintf(msg, sizeof msg,
			 "for server.example than earlier connections: 1 of %zu had SHA-256 %s "
			 "(first: connection 1, frame %lld), this one %s",
			 i, earlier,
			 (long long)json_integer_value(json_object_get(
				 json_array_get(json_object_get(facts, "connections"), 0),
				 "server_hello_frame")),
			 want);
		ck_assert_msg(strstr(json_string_value(json_object_get(x, "message")), msg),
			      "'%s' lacks '%s'", json_string_value(json_object_get(x, "message")),
			      msg);
	}
	ck_assert_uint_eq(fired, 1);
	json_decref(conns);
	json_decref(facts);

	/* the same certificate twice (per their facts files): no finding */
	const char *same[] = { "tls12-ecdhe-ok", "tls12-cbc-etm" };
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s.facts.json", td_test_samples(), same[i]);
		facts = json_load_file(path, 0, &jerr);
		ck_assert_ptr_nonnull(facts);
		ck_assert_str_eq(json_string_value(json_array_get(
					 json_object_get(json_array_get(json_object_get(facts, "connections"), 0),
							 "cert_files"),
					 0)),
				 "keys/server.example.pem");
		json_decref(facts);
	}
	conns = run_connections("tls12-ecdhe-ok.pcap", "tls12-cbc-etm.pcap");
	ck_assert_uint_eq(json_array_size(conns), 2);
	for (i = 0; i < 2; i++) {
		json_t *findings = json_object_get(json_array_get(conns, i), "findings");
		ck_assert_ptr_null(finding(findings, "sni-certificate-changed"));
		ck_assert_ptr_null(finding(findings, "sni-certificate-reissued"));
	}
	/* the second was compared with the first */
	json_t *h = json_object_get(json_object_get(json_array_get(conns, 1), "chain"), "sni_history");
	ck_assert(json_is_object(h));
	ck_assert(json_is_false(json_object_get(h, "changed")));
	ck_assert(json_is_null(
		json_object_get(json_object_get(json_array_get(conns, 0), "chain"), "sni_history")));
	json_decref(conns);
}
END_TEST

/* A broken chain on the wire: the leaf with the intermediate from before
 * a key rollover (same name, per openssl; openssl verify fails with it and
 * succeeds with the right one). chain-broken fires, out-of-order and
 * missing-intermediate do not; a good chain fires none. */
START_TEST(test_chain_broken_sample)
{
	int st;
	json_t *f;
	const json_t *x;
	char *v;

	v = td_test_sh(NULL, "cd %s/keys && openssl verify -CAfile root-ca.pem -untrusted "
			     "old-intermediate-ca.pem server.example.pem 2>&1; "
			     "openssl verify -CAfile root-ca.pem -untrusted intermediate-ca.pem "
			     "server.example.pem 2>&1",
		       td_test_samples());
	ck_assert_ptr_nonnull(strstr(v, "verification failed"));
	ck_assert_ptr_nonnull(strstr(v, "server.example.pem: OK"));
	free(v);
	f = run_findings("tls12-chain-broken.pcap", "", &st);
	x = finding(f, "chain-broken");
	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(
		strstr(json_string_value(json_object_get(x, "message")), "certificate [1] certifies"));
	ck_assert_ptr_null(finding(f, "chain-out-of-order"));
	ck_assert_ptr_null(finding(f, "missing-intermediate"));
	json_decref(f);
	f = run_findings("tls12-ecdhe-ok.pcap", "", &st);
	ck_assert_ptr_null(finding(f, "chain-broken"));
	json_decref(f);
}
END_TEST

/* A completed handshake with a high finding gets a diagnosis in text,
 * JSON and Markdown: tls12-ecdhe-ok (completed, per its facts) with the
 * key of another certificate (--key mismatch-real.key) says the key file
 * is not the server's, with the SPKI openssl computes for the certificate
 * the server sent; with the server's own key there is nothing to diagnose. */
START_TEST(test_diagnosis_completed_sample)
{
	char path[512], *out = NULL, *spki, dir[] = "/tmp/td_rules_md_XXXXXX";
	json_error_t jerr;
	json_t *facts, *conns, *diag;

	snprintf(path, sizeof path, "%s/tls12-ecdhe-ok.facts.json", td_test_samples());
	facts = json_load_file(path, 0, &jerr);
	ck_assert_ptr_nonnull(facts);
	ck_assert(json_is_true(json_object_get(
		json_array_get(json_object_get(facts, "connections"), 0), "handshake_completed")));
	json_decref(facts);
	spki = td_test_sh(NULL, "openssl x509 -in %s/keys/server.example.pem -pubkey -noout | "
				"openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -c1-64",
			  td_test_samples());
	spki[strcspn(spki, "\n")] = '\0';
	ck_assert_uint_eq(strlen(spki), 64);

	/* JSON */
	char args[600];
	snprintf(args, sizeof args, "tls12-ecdhe-ok.pcap --key %s/keys/mismatch-real.key",
		 td_test_samples());
	conns = run_connections(args, NULL);
	diag = json_object_get(json_array_get(conns, 0), "diagnosis");
	ck_assert(json_is_object(diag));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(diag, "problem")),
				     "completed, but rule key-mismatch (critical)"));
	json_t *c0 = json_array_get(json_object_get(diag, "causes"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(c0, "id")), "key-file-not-the-servers");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(c0, "next_step")), spki));
	json_decref(conns);

	/* text */
	td_test_run(&out, NULL, "%s -r %s/tls12-ecdhe-ok.pcap --key %s/keys/mismatch-real.key",
		    td_test_bin(), td_test_samples(), td_test_samples());
	ck_assert_ptr_nonnull(strstr(out, "  Diagnosis\n"));
	ck_assert_ptr_nonnull(strstr(out, "The --key file is not the key this server runs with"));
	free(out);

	/* Markdown (--report) */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	td_test_run(NULL, NULL, "%s -r %s/tls12-ecdhe-ok.pcap --key %s/keys/mismatch-real.key "
				"--report %s/r.md",
		    td_test_bin(), td_test_samples(), td_test_samples(), dir);
	size_t len;
	char *md = (char *)td_test_read_file(dir, "r.md", &len);
	ck_assert_ptr_nonnull(md);
	ck_assert_ptr_nonnull(strstr(md, "not the key this server runs with"));
	ck_assert_ptr_nonnull(strstr(md, spki));
	free(md);
	td_test_run(NULL, NULL, "rm -rf %s", dir);

	/* the server's own key: no finding of high severity, no diagnosis */
	snprintf(args, sizeof args, "tls12-ecdhe-ok.pcap --key %s/keys/server.example.key",
		 td_test_samples());
	conns = run_connections(args, NULL);
	ck_assert(json_is_null(json_object_get(json_array_get(conns, 0), "diagnosis")));
	ck_assert_ptr_null(finding(json_object_get(json_array_get(conns, 0), "findings"),
				   "key-mismatch"));
	json_decref(conns);
	free(spki);
}
END_TEST

/* The man page's example policies, with the values computed by openssl. */
START_TEST(test_policies)
{
	char *pin = td_test_sh(NULL, "openssl x509 -in %s/keys/server.example.pem -pubkey -noout "
				     "| openssl pkey -pubin -outform der | openssl dgst -sha256 -r "
				     "| cut -d' ' -f1", td_test_samples());
	char *issuer = td_test_sh(NULL, "openssl x509 -in %s/keys/server.example.pem -noout "
					"-issuer -nameopt RFC2253 | sed 's/^issuer=//'", td_test_samples());
	char dir[] = "/tmp/td-rules-XXXXXX", text[2048], args[1200];
	int st;
	json_t *f;

	pin[strcspn(pin, "\n")] = '\0';
	issuer[strcspn(issuer, "\n")] = '\0';
	ck_assert_uint_eq(strlen(pin), 64);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (int good = 0; good < 2; good++) {
		snprintf(text, sizeof text,
			 "rule pin {\n severity critical\n"
			 " when server.sni == \"server.example\" and not cert.leaf.spki_sha256 in "
			 "[\"%s\"]\n message \"{server.sni}: unpinned key {cert.leaf.spki_sha256}\"\n}\n"
			 "rule issuer {\n severity high\n when cert.leaf.issuer != \"%s\"\n"
			 " message \"issued by {cert.leaf.issuer}\"\n}\n"
			 "rule versions {\n severity high\n when tls.version < \"TLS1.3\"\n"
			 " message \"{tls.version}\"\n}\n",
			 good ? pin : "0000000000000000000000000000000000000000000000000000000000000000",
			 good ? issuer : "CN=Some Other CA");
		td_test_write_file(dir, "site.rules", text, strlen(text));
		snprintf(args, sizeof args, "--no-default-rules --rules %s/site.rules", dir);
		f = run_findings("tls12-ecdhe-ok.pcap", args, &st);
		ck_assert_int_eq(st, 0);
		ck_assert_int_eq(finding(f, "pin") != NULL, !good);
		ck_assert_int_eq(finding(f, "issuer") != NULL, !good);
		ck_assert_ptr_nonnull(finding(f, "versions")); /* TLS 1.2 */
		json_decref(f);
		f = run_findings("tls13-ok.pcapng", args, &st);
		/* TLS 1.3 hides the certificate: the pin cannot be checked */
		ck_assert_ptr_null(finding(f, "pin"));
		ck_assert_ptr_null(finding(f, "issuer"));
		ck_assert_ptr_null(finding(f, "versions"));
		json_decref(f);
	}
	free(td_test_sh(NULL, "rm -rf %s", dir));
	free(pin);
	free(issuer);
}
END_TEST

START_TEST(test_options)
{
	char dir[] = "/tmp/td-rules-XXXXXX";
	char *out = NULL;
	int st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* --fail-on: 7 after the full report when a finding reaches it */
	st = td_test_run(&out, NULL, "%s -r %s/tls12-rsa-key-mismatch.pcap --fail-on high", td_test_bin(),
			 td_test_samples());
	ck_assert_int_eq(st, 7);
	ck_assert_ptr_nonnull(strstr(out, "  Findings\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nSummary\n"));
	free(out);
	st = td_test_run(&out, NULL,
			 "%s -r %s/tls12-rsa-key-mismatch.pcap --disable ndpi-risk "
			 "--disable cert-validity-too-long",
			 td_test_bin(), td_test_samples());
	ck_assert_int_eq(st, 0);
	ck_assert_ptr_nonnull(strstr(out, "\n  findings "));
	ck_assert_ptr_nonnull(strstr(out, " 3: 1 high, 2 medium\n"));
	free(out);
	st = td_test_run(&out, NULL, "%s -r %s/tls12-rsa-key-mismatch.pcap --fail-on critical",
			 td_test_bin(), td_test_samples());
	ck_assert_int_eq(st, 0);
	free(out);
	/* --min-severity hides, --fail-on still sees */
	st = td_test_run(&out, NULL, "%s -r %s/tls12-rsa-key-mismatch.pcap --fail-on medium "
				     "--min-severity critical", td_test_bin(), td_test_samples());
	ck_assert_int_eq(st, 7);
	ck_assert_ptr_null(strstr(out, "Findings"));
	free(out);
	st = td_test_run(&out, NULL, "%s -r %s/tls12-rsa-key-mismatch.pcap --fail-on high "
				     "--disable fatal-alert", td_test_bin(), td_test_samples());
	ck_assert_int_eq(st, 0);
	free(out);
	/* usage errors: 2, one line on stderr */
	st = td_test_run(&out, NULL, "%s -r %s/tls12-ecdhe-ok.pcap --disable nope 2>&1", td_test_bin(),
			 td_test_samples());
	ck_assert_int_eq(st, 2);
	ck_assert_ptr_nonnull(strstr(out, "tlsdiag: --disable nope: no rule with this id"));
	free(out);
	st = td_test_run(&out, NULL, "%s -r %s/tls12-ecdhe-ok.pcap --fail-on severe 2>&1", td_test_bin(),
			 td_test_samples());
	ck_assert_int_eq(st, 2);
	free(out);
	static const char bad[] = "rule x {\n  severity high\n  when tls.verson\n}\n";
	td_test_write_file(dir, "bad.rules", bad, strlen(bad));
	st = td_test_run(&out, NULL, "%s -r %s/tls12-ecdhe-ok.pcap --rules %s/bad.rules 2>&1",
			 td_test_bin(), td_test_samples(), dir);
	ck_assert_int_eq(st, 2);
	ck_assert_ptr_nonnull(strstr(out, "/bad.rules:3:8: unknown field 'tls.verson'"));
	free(out);
	/* --list-rules: every rule, with where it was defined; no input needed */
	char *line = td_test_sh(NULL, "grep -n '^rule fatal-alert ' rules/default.rules | "
				      "cut -d: -f1");
	char where[64];
	line[strcspn(line, "\n")] = '\0';
	snprintf(where, sizeof where, " default.rules:%s ", line);
	free(line);
	st = td_test_run(&out, NULL, "%s --list-rules --disable missing-sni", td_test_bin());
	ck_assert_int_eq(st, 0);
	ck_assert_ptr_nonnull(strstr(out, "fatal-alert "));
	ck_assert_ptr_nonnull(strstr(out, where));
	ck_assert_ptr_nonnull(strstr(out, "(disabled)"));
	free(out);
	free(td_test_sh(NULL, "rm -rf %s", dir));
}
END_TEST

/* --list-fields prints the table; the man page lists every field. */
START_TEST(test_fields_documented)
{
	char *out = NULL;
	size_t len;
	char *man = (char *)td_test_read_file(NULL, "man/tlsdiag-rules.5", &len);
	const char *name, *type;
	char line[160];

	ck_assert_int_eq(td_test_run(&out, NULL, "%s --list-fields", td_test_bin()), 0);
	for (size_t i = 0; td_rules_field(i, &name, &type); i++) {
		snprintf(line, sizeof line, "\n%s ", name);
		ck_assert_msg(strstr(out, line) || strncmp(out, line + 1, strlen(line + 1)) == 0,
			      "--list-fields lacks %s", name);
		/* in the man page as .B name (dashes of troff escaped) */
		char esc[120];
		size_t k = 0;
		for (const char *p = name; *p && k < sizeof esc - 2; p++) {
			if (*p == '-')
				esc[k++] = '\\';
			esc[k++] = *p;
		}
		esc[k] = '\0';
		snprintf(line, sizeof line, "\n.B %s\n", esc);
		ck_assert_msg(strstr(man, line) != NULL, "man/tlsdiag-rules.5 lacks %s", name);
		ck_assert(type[0] != '\0');
	}
	free(out);
	free(man);
}
END_TEST

Suite *td_rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *lang = tcase_create("language");
	TCase *defs = tcase_create("defaults");
	TCase *cli = tcase_create("cli");

	tcase_add_test(lang, test_errors);
	tcase_add_test(lang, test_caps);
	tcase_add_test(lang, test_precedence);
	tcase_add_test(lang, test_operators);
	tcase_add_test(lang, test_quantifiers);
	tcase_add_test(lang, test_missing_values);
	tcase_add_test(lang, test_templates);
	tcase_add_test(lang, test_findings_per_item);
	suite_add_tcase(s, lang);
	tcase_add_test(defs, test_defaults_embedded_verbatim);
	tcase_add_test(defs, test_defaults_covered);
	tcase_add_loop_test(defs, test_default_rule, 0,
			    (int)(sizeof default_cases / sizeof default_cases[0]));
	tcase_add_test(defs, test_every_alert);
	tcase_add_test(defs, test_plain_text_explains_close);
	suite_add_tcase(s, defs);
	tcase_set_timeout(cli, 60);
	tcase_add_test(cli, test_samples);
	tcase_add_test(cli, test_sni_history_sample);
	tcase_add_test(cli, test_chain_broken_sample);
	tcase_add_test(cli, test_diagnosis_completed_sample);
	tcase_add_test(cli, test_policies);
	tcase_add_test(cli, test_options);
	tcase_add_test(cli, test_fields_documented);
	suite_add_tcase(s, cli);
	return s;
}
