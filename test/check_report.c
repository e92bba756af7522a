/* check_report.c - tests of the report module: JSON schema fields, text
 * layout, escaping of wire strings, timestamps.
 *
 * Sessions are built by hand (no capture), certificates are plain struct
 * td_cert values with their fields set. Run with TZ=UTC (the test sets it
 * too) so local times are predictable.
 */
#include <arpa/inet.h>
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <wchar.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "td_capture.h"
#include "td_chain.h"
#include "td_diagnose.h"
#include "td_engine.h"
#include "td_report.h"
#include "td_rules.h"
#include "td_report_util.h"
#include "td_test_util.h"
#include "td_x509.h"

/* ---- helpers ---------------------------------------------------------- */

static void use_utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

/* Runs a writer into a memory buffer; the caller frees the result. */
struct capture {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *cap_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	ck_assert_ptr_nonnull(c->f);
	return c->f;
}

static char *cap_close(struct capture *c)
{
	fclose(c->f);
	return c->buf;
}

/* The --json line of s (the text backend of report_json.c) is what
 * jansson's own json_dumps() writes for the tree td_report_session_json()
 * builds (the tree backend), byte for byte, and one newline. what names
 * s in a failure. */
static void assert_line_is_tree(const struct td_session *s, const char *what)
{
	struct td_report_opts o = { .json = true };
	struct capture cap;
	json_t *tree = td_report_session_json(s);
	char *want, *got;
	size_t n, at = 0;

	ck_assert_msg(tree != NULL, "%s: no tree", what);
	want = json_dumps(tree, TD_REPORT_JSON_FLAGS);
	ck_assert_ptr_nonnull(want);
	td_report_session(cap_open(&cap), &o, s);
	got = cap_close(&cap);
	n = strlen(want);
	while (got[at] && got[at] == want[at])
		at++;
	ck_assert_msg(strlen(got) == n + 1 && at == n && got[n] == '\n',
		      "%s: from byte %zu: want %.120s\n got %.120s", what, at, want + at, got + at);
	free(got);
	free(want);
	json_decref(tree);
}

static void set_addr4(struct td_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	memset(a, 0, sizeof *a);
	a->family = 4;
	a->bytes[0] = x;
	a->bytes[1] = y;
	a->bytes[2] = z;
	a->bytes[3] = w;
}

static struct td_time T(int64_t sec, int32_t usec)
{
	return (struct td_time){ sec, usec };
}

static void add_ev(struct td_session *s, uint8_t kind, uint8_t dir, uint8_t type, uint32_t len,
		   uint32_t frame, int32_t usec)
{
	struct td_event ev = { .kind = kind, .dir = dir, .type = type, .count = 1, .len = len,
			       .frame = frame, .ts_sec = 1700000000, .ts_usec = usec };

	td_session_add_event(s, &ev);
}

static char *sans_rsa[] = { "DNS:server.example", "DNS:www.server.example", "IP:10.0.0.2" };

/* A parsed RSA leaf certificate with known fingerprints. */
static void fake_rsa_cert(struct td_cert *c)
{
	memset(c, 0, sizeof *c);
	for (int i = 0; i < 32; i++)
		c->sha256[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 20; i++)
		c->sha1[i] = (uint8_t)i;
	c->parsed = true;
	c->version = 3;
	c->subject = "CN=server.example,O=Example";
	c->issuer = "CN=Example CA";
	c->serial_hex = "0A1B2C";
	c->not_before = 1700000000;
	c->not_after = 1731536000;
	c->sans = sans_rsa;
	c->n_sans = 3;
	strcpy(c->sig_alg, "sha256WithRSAEncryption");
	strcpy(c->key.algorithm, "RSA");
	c->key.bits = 2048;
	c->key.rsa_exponent = 65537;
	for (int i = 0; i < 32; i++)
		c->key.spki_sha256[i] = (uint8_t)(0x10 + i);
}

/* TLS 1.2, RSA key exchange, the server answers the client's Finished with
 * a fatal bad_record_mac: the case tlsdiag exists for. */
static void tls12_failed(struct td_session *s, const struct td_cert *cert)
{
	static const uint16_t suites[] = { 0x1a1a, 0x009c, 0xc02f, 0x1301, 0x7777 };
	static const uint16_t exts[] = { 0x0000, 0x000a, 0x000d, 0x0010, 0xff01 };

	td_test_session_reset(s);
	s->id = 1;
	set_addr4(&s->client, 10, 0, 0, 1);
	set_addr4(&s->server, 10, 0, 0, 2);
	s->client_port = 40004;
	s->server_port = 443;
	s->syn_seen = true;
	s->first_frame = 1;
	s->last_frame = 17;
	s->first_ts = T(1700000000, 123);
	s->last_ts = T(1700000000, 456789);
	s->packets[0] = 8;
	s->packets[1] = 9;
	s->payload_bytes[0] = 517;
	s->payload_bytes[1] = 4410;
	s->tcp.retransmissions[1] = 2;
	s->tcp.largest_segment[0] = 517;
	s->tcp.largest_segment[1] = 1448;
	s->is_tls = true;

	td_session_ch(s)->seen = true;
	td_session_ch(s)->frame = 4;
	td_session_ch(s)->ts = T(1700000000, 10123);
	td_session_ch(s)->record_version = 0x0301;
	td_session_ch(s)->legacy_version = 0x0303;
	memcpy(td_session_ch(s)->suites, suites, sizeof suites);
	td_session_ch(s)->n_suites = td_session_ch(s)->total_suites = 5;
	td_session_ch(s)->n_compression = 1;
	memcpy(td_session_ch(s)->exts, exts, sizeof exts);
	td_session_ch(s)->n_exts = td_session_ch(s)->total_exts = 5;
	td_session_ch(s)->groups[0] = 0x001d;
	td_session_ch(s)->groups[1] = 0x0017;
	td_session_ch(s)->n_groups = td_session_ch(s)->total_groups = 2;
	td_session_ch(s)->sigalgs[0] = 0x0401;
	td_session_ch(s)->sigalgs[1] = 0x0804;
	td_session_ch(s)->n_sigalgs = td_session_ch(s)->total_sigalgs = 2;
	td_session_ch(s)->point_formats[0] = 0;
	td_session_ch(s)->n_point_formats = 1;
	td_session_ch(s)->has_sni = true;
	memcpy(td_session_ch(s)->sni.bytes, "server.example", 14);
	td_session_ch(s)->sni.len = 14;
	td_session_ch(s)->alpn.n = td_session_ch(s)->alpn.total = 2;
	memcpy(td_session_ch(s)->alpn.name[0], "h2", 2);
	td_session_ch(s)->alpn.len[0] = 2;
	memcpy(td_session_ch(s)->alpn.name[1], "http/1.1", 8);
	td_session_ch(s)->alpn.len[1] = 8;
	td_session_ch(s)->session_id_len = 0;

	td_session_sh(s)->seen = true;
	td_session_sh(s)->frame = 6;
	td_session_sh(s)->ts = T(1700000000, 20123);
	td_session_sh(s)->record_version = 0x0303;
	td_session_sh(s)->legacy_version = 0x0303;
	td_session_sh(s)->suite = 0x009c;
	td_session_sh(s)->session_id_len = 32;
	td_session_sh(s)->exts[0] = 0xff01;
	td_session_sh(s)->n_exts = td_session_sh(s)->total_exts = 1;
	td_session_sh(s)->has_alpn = true;
	memcpy(td_session_sh(s)->alpn, "h2", 2);
	td_session_sh(s)->alpn_len = 2;
	s->version = 0x0303;

	td_test_set_cert(s, 0, cert);
	s->n_certs = 1;
	s->total_certs = 1;
	s->cert_frame = 7;

	ck_assert_ptr_nonnull(td_session_add_alert(
		s, &(struct td_alert){ .dir = TD_DIR_S2C, .level = 2, .desc = 20,
				       .phase = TD_PHASE_AFTER_CLIENT_FINISHED, .record_len = 7,
				       .frame = 12, .ts = T(1700000000, 345123) }));

	add_ev(s, TD_EV_HANDSHAKE, 0, 1, 512, 4, 10123);
	add_ev(s, TD_EV_HANDSHAKE, 1, 2, 81, 6, 20123);
	add_ev(s, TD_EV_HANDSHAKE, 1, 11, 1200, 7, 20200);
	add_ev(s, TD_EV_HANDSHAKE, 1, 14, 4, 7, 20200);
	add_ev(s, TD_EV_HANDSHAKE, 0, 16, 262, 9, 30123);
	add_ev(s, TD_EV_CCS, 0, 0, 1, 9, 30123);
	add_ev(s, TD_EV_ENCRYPTED_HANDSHAKE, 0, 0, 40, 9, 30123);
	add_ev(s, TD_EV_ALERT, 1, 0, 7, 12, 345123);
	add_ev(s, TD_EV_TCP_RST, 1, 0, 0, 13, 345200);

	s->records[0] = 3;
	s->records[1] = 3;
	s->ccs_seen[0] = true;
	s->encrypted[0] = true;
	s->encrypted_frame[0] = 9;
	s->finished_seen[0] = true;
	s->stage = TD_STAGE_CLIENT_FINISHED;
	s->end = TD_END_RST;
	s->end_by = TD_DIR_S2C;
	s->end_frame = 13;
	td_session_finish(s);
}

/* TLS 1.3 with compatibility-mode CCS, certificate encrypted, the server
 * ends with an encrypted alert and the client with a probable one. */
static void tls13_session(struct td_session *s)
{
	td_test_session_reset(s);
	s->id = 2;
	set_addr4(&s->client, 192, 168, 1, 10);
	set_addr4(&s->server, 192, 168, 1, 20);
	s->client_port = 51000;
	s->server_port = 8443;
	s->encap = TD_ENCAP_VLAN | TD_ENCAP_GRE | TD_ENCAP_ERSPAN;
	s->vlan_id = 100;
	s->first_frame = 3;
	s->last_frame = 30;
	s->first_ts = T(1700000000, 0);
	s->last_ts = T(1700000001, 0);
	s->is_tls = true;
	td_session_ch(s)->seen = true;
	td_session_ch(s)->frame = 3;
	td_session_ch(s)->ts = T(1700000000, 0);
	td_session_ch(s)->record_version = 0x0301;
	td_session_ch(s)->legacy_version = 0x0303;
	td_session_ch(s)->versions[0] = 0x0304;
	td_session_ch(s)->versions[1] = 0x0303;
	td_session_ch(s)->n_versions = td_session_ch(s)->total_versions = 2;
	td_session_ch(s)->suites[0] = 0x1301;
	td_session_ch(s)->n_suites = td_session_ch(s)->total_suites = 1;
	td_session_ch(s)->n_compression = 1;
	td_session_ch(s)->session_id_len = 32;
	td_session_sh(s)->seen = true;
	td_session_sh(s)->frame = 5;
	td_session_sh(s)->ts = T(1700000000, 5000);
	td_session_sh(s)->legacy_version = 0x0303;
	td_session_sh(s)->selected_version = 0x0304;
	td_session_sh(s)->suite = 0x1301;
	td_session_sh(s)->session_id_len = 32;
	td_session_sh(s)->session_id_echoed = true;
	s->certs_encrypted = true;
	ck_assert_ptr_nonnull(td_session_add_alert(
		s, &(struct td_alert){ .dir = TD_DIR_S2C, .encrypted = true,
				       .phase = TD_PHASE_AFTER_CLIENT_FINISHED, .record_len = 19,
				       .frame = 9, .ts = T(1700000000, 9000) }));
	ck_assert_ptr_nonnull(td_session_add_alert(
		s, &(struct td_alert){ .dir = TD_DIR_C2S, .encrypted = true, .probable = true,
				       .phase = TD_PHASE_AFTER_CLIENT_FINISHED, .record_len = 19,
				       .frame = 10, .ts = T(1700000000, 9500) }));
	add_ev(s, TD_EV_HANDSHAKE, 0, 1, 300, 3, 0);
	add_ev(s, TD_EV_HANDSHAKE, 1, 2, 90, 5, 5000);
	add_ev(s, TD_EV_CCS, 1, 0, 1, 5, 5000);
	add_ev(s, TD_EV_ENCRYPTED_HANDSHAKE, 1, 0, 2000, 5, 5000);
	add_ev(s, TD_EV_APPDATA, 0, 0, 100, 7, 7000);
	add_ev(s, TD_EV_APPDATA, 0, 0, 50, 8, 8000);
	add_ev(s, TD_EV_ALERT, 1, 0, 19, 9, 9000);
	add_ev(s, TD_EV_ALERT, 0, 1, 19, 10, 9500);
	add_ev(s, TD_EV_GAP, 1, 0, 120, 11, 9600);
	s->encrypted[0] = s->encrypted[1] = true;
	s->encrypted_frame[0] = 7;
	s->encrypted_frame[1] = 5;
	s->appdata_records[0] = 2;
	s->appdata_bytes[0] = 150;
	s->stage = TD_STAGE_CLIENT_FINISHED;
	s->end = TD_END_FIN;
	s->end_by = TD_DIR_C2S;
	s->end_frame = 30;
	s->desync[1] = TD_ERR_MALFORMED;
	s->desync_frame[1] = 11;
	td_session_finish(s);
}

/* Dumps v as the writer does, loads it back with default flags: the loaded
 * value is what a consumer sees. */
static json_t *roundtrip(json_t *v)
{
	char *text;
	json_t *back;
	json_error_t err;

	ck_assert_ptr_nonnull(v);
	text = json_dumps(v, TD_REPORT_JSON_FLAGS);
	ck_assert_ptr_nonnull(text);
	back = json_loads(text, 0, &err);
	ck_assert_msg(back != NULL, "json_loads: %s in %s", err.text, text);
	free(text);
	json_decref(v);
	return back;
}

static const char *jstr(json_t *o, const char *path)
{
	json_t *v = o;
	char key[64];
	const char *p = path;

	/* "a.b.c" or "a.0.b" (array index) */
	while (v && *p) {
		size_t n = strcspn(p, ".");

		ck_assert_uint_lt(n, sizeof key);
		memcpy(key, p, n);
		key[n] = '\0';
		if (json_is_array(v))
			v = json_array_get(v, (size_t)strtoul(key, NULL, 10));
		else
			v = json_object_get(v, key);
		p += n;
		if (*p == '.')
			p++;
	}
	ck_assert_msg(v != NULL, "no %s", path);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *jget(json_t *o, const char *path)
{
	json_t *v = o;
	char key[64];
	const char *p = path;

	while (v && *p) {
		size_t n = strcspn(p, ".");

		memcpy(key, p, n);
		key[n] = '\0';
		if (json_is_array(v))
			v = json_array_get(v, (size_t)strtoul(key, NULL, 10));
		else
			v = json_object_get(v, key);
		p += n;
		if (*p == '.')
			p++;
	}
	return v;
}

static long long jint(json_t *o, const char *path)
{
	json_t *v = jget(o, path);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", path);
	return json_integer_value(v);
}

static void assert_jnull(json_t *o, const char *path)
{
	json_t *v = jget(o, path);

	ck_assert_msg(v != NULL && json_is_null(v), "%s is not null", path);
}

static void assert_jstr(json_t *o, const char *path, const char *want)
{
	const char *got = jstr(o, path);

	ck_assert_msg(got != NULL, "%s is not a string", path);
	ck_assert_str_eq(got, want);
}

static void assert_has_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return;
		p++;
	}
	ck_abort_msg("missing line \"%s\" in:\n%s", line, text);
}

static void assert_before(const char *text, const char *a, const char *b)
{
	ck_assert_msg(a != NULL && b != NULL && a < b, "sections out of order in:\n%s", text);
}

/* Every line of a JSON Lines text loads with default flags and is an
 * object with a type. Returns the number of lines. */
static int assert_json_lines(const char *text)
{
	int lines = 0;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		json_error_t err;
		json_t *v;

		ck_assert_msg(nl != NULL, "last line without newline");
		v = json_loadb(p, (size_t)(nl - p), 0, &err);
		ck_assert_msg(v != NULL, "line %d: %s", lines + 1, err.text);
		ck_assert(json_is_string(json_object_get(v, "type")));
		json_decref(v);
		lines++;
		p = nl + 1;
	}
	return lines;
}

/* ---- util: UTF-8, escapes, time --------------------------------------- */

START_TEST(test_utf8_seq)
{
	static const struct {
		const char *b;
		size_t n, want;
	} cases[] = {
		{ "a", 1, 1 },
		{ "\xc3\xa9", 2, 2 },            /* é */
		{ "\xe2\x82\xac", 3, 3 },        /* € */
		{ "\xf0\x9f\x94\x92", 4, 4 },    /* 🔒 */
		{ "\xc0\x80", 2, 0 },            /* overlong NUL */
		{ "\xe0\x80\xaf", 3, 0 },        /* overlong / */
		{ "\xed\xa0\x80", 3, 0 },        /* surrogate */
		{ "\xf4\x90\x80\x80", 4, 0 },    /* above U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xe2\x82", 2, 0 },            /* cut */
		{ "\x80", 1, 0 },                /* lone continuation */
		{ "\xff", 1, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(td_report_utf8_seq((const uint8_t *)cases[i].b, cases[i].n) == cases[i].want,
			      "case %zu", i);
}
END_TEST

/* ESC [ 3 1 m, NUL, 0xff 0xff, backslash: the SNI of the escaping tests. */
static const uint8_t nasty[] = { 'e', 'v', 'i', 'l', 0x1b, '[', '3', '1', 'm', 0x00,
				 0xff, 0xff, '\\', '.', 'c', 'o', 'm' };

START_TEST(test_escape_term)
{
	char buf[128];
	size_t need;
	const char *want = "evil\\x1b[31m\\x00\\xff\\xff\\\\.com";

	need = td_report_escape_term(buf, sizeof buf, nasty, sizeof nasty);
	ck_assert_str_eq(buf, want);
	ck_assert_uint_eq(need, strlen(want));

	/* Valid UTF-8 passes; C1 controls, DEL and bidi overrides do not. */
	td_report_escape_term(buf, sizeof buf, (const uint8_t *)"caf\xc3\xa9", 5);
	ck_assert_str_eq(buf, "caf\xc3\xa9");
	td_report_escape_term(buf, sizeof buf, (const uint8_t *)"a\xc2\x9b" "b\x7f", 5);
	ck_assert_str_eq(buf, "a\\xc2\\x9bb\\x7f");
	td_report_escape_term(buf, sizeof buf, (const uint8_t *)"x\xe2\x80\xaey", 5);
	ck_assert_str_eq(buf, "x\\xe2\\x80\\xaey");

	/* Cut short: never half an escape, always terminated, true length. */
	for (size_t n = 1; n <= strlen(want) + 1; n++) {
		memset(buf, 'Z', sizeof buf);
		need = td_report_escape_term(buf, n, nasty, sizeof nasty);
		ck_assert_uint_eq(need, strlen(want));
		ck_assert_uint_lt(strlen(buf), n);
		ck_assert(strncmp(buf, want, strlen(buf)) == 0);
		/* A cut point is a boundary of the escaped form. */
		ck_assert(strlen(buf) == strlen(want) || want[strlen(buf)] != 'x');
	}
	td_report_escape_term(buf, 7, nasty, sizeof nasty); /* "evil\x1b" needs 8 */
	ck_assert_str_eq(buf, "evil");
	/* Plain characters fill the buffer to its last byte. */
	for (size_t n = 1; n <= 5; n++) {
		td_report_escape_term(buf, n, nasty, sizeof nasty);
		ck_assert_uint_eq(strlen(buf), n - 1);
	}
	td_report_escape_term(buf, 24, nasty, sizeof nasty);
	ck_assert_str_eq(buf, "evil\\x1b[31m\\x00\\xff");
}
END_TEST

START_TEST(test_json_wire)
{
	json_t *v = td_report_json_wire(nasty, sizeof nasty);
	json_t *back;
	const char *s;

	ck_assert_ptr_nonnull(v);
	back = roundtrip(json_pack("{so}", "v", v));
	s = json_string_value(json_object_get(back, "v"));
	ck_assert_ptr_nonnull(s);
	/* ESC is valid UTF-8 and passes (jansson writes it as \u001b); NUL and
	 * the invalid bytes become the text \u00XX; the backslash passes. */
	ck_assert_str_eq(s, "evil\x1b[31m\\u0000\\u00ff\\u00ff\\.com");
	json_decref(back);

	v = td_report_json_wire((const uint8_t *)"Z\xc3\xbcrich \xe2\x82\xac", 11);
	ck_assert_str_eq(json_string_value(v), "Z\xc3\xbcrich \xe2\x82\xac");
	json_decref(v);
	v = td_report_json_wire(NULL, 0);
	ck_assert_str_eq(json_string_value(v), "");
	json_decref(v);
	v = td_report_json_cstr(NULL);
	ck_assert(json_is_null(v));
}
END_TEST

START_TEST(test_time_format)
{
	char buf[TD_REPORT_TIME_LEN];

	use_utc();
	ck_assert_str_eq(td_report_time_utc(T(1700000000, 123), buf), "2023-11-14T22:13:20.000123Z");
	ck_assert_str_eq(td_report_time_local(T(1700000000, 123), buf), "2023-11-14 22:13:20.000123");
	ck_assert_str_eq(td_report_time_utc(T(0, 0), buf), "1970-01-01T00:00:00.000000Z");
	/* Out-of-range microseconds are carried into the seconds. */
	ck_assert_str_eq(td_report_time_utc(T(1700000000, -1), buf), "2023-11-14T22:13:19.999999Z");
	ck_assert_str_eq(td_report_time_utc(T(1700000000, 1000001), buf),
			 "2023-11-14T22:13:21.000001Z");
	ck_assert_str_eq(td_report_zone_local(T(1700000000, 0), buf), "UTC");
	/* A time the C library cannot convert still prints something. */
	ck_assert_str_eq(td_report_time_utc(T(INT64_MAX, 5), buf), "@9223372036854775807.000005");

	setenv("TZ", "CET-1", 1);
	tzset();
	ck_assert_str_eq(td_report_time_local(T(1700000000, 123), buf), "2023-11-14 23:13:20.000123");
	use_utc();

	/* The UTC writer computes the date itself: the C library's
	 * gmtime_r() and strftime() are the reference, at the edges of its
	 * range (1970, leap days, centuries, 9999, and the first second past
	 * it) and at 20000 spread-out seconds. */
	{
		static const int64_t edges[] = {0, 59, 86399, 86400, 951782400, 951868799,
						4107542400, 4107456000, 4102444800, 253402300799,
						253402300800, -1};
		uint64_t r = 1;

		for (unsigned i = 0; i < 20000 + sizeof edges / sizeof edges[0]; i++) {
			int64_t sec;
			int32_t usec;
			char want[TD_REPORT_TIME_LEN];
			struct tm tm;
			time_t tt;
			size_t len;

			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			if (i < sizeof edges / sizeof edges[0]) {
				sec = edges[i];
			} else {
				sec = (int64_t)((r >> 11) % 253402300800ULL);
			}
			usec = (int32_t)((r >> 40) % 1000000);
			tt = (time_t)sec;
			ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
			len = strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
			ck_assert_uint_gt(len, 0);
			snprintf(want + len, sizeof want - len, ".%06dZ", (int)usec);
			ck_assert_str_eq(td_report_time_utc(T(sec, usec), buf), want);
		}
	}
}
END_TEST

/* The ladder writes its "+T ms" column and the endpoints without printf:
 * each offset is what printf("%+.3f") gives for td_report_ms() (random
 * microsecond timestamps, up to days apart, and before the first packet),
 * and the endpoints what printf("%s:%u") / ("[%s]:%u") give, cut like
 * snprintf in a small buffer. */
/* td_report_dec_at against printf's "%llu" and td_addr_str (IPv4 by hand)
 * against inet_ntop(), on the edges (each power of ten and its neighbours) and on
 * pseudo-random values. */
START_TEST(test_dec_at_and_ip)
{
	char got[TD_REPORT_DEC_MAX + 1], want[32], ip[64], ref[64];
	uint64_t r = 7;

	for (unsigned long long p = 1, i = 0; i < 20; i++, p *= 10)
		for (int d = -1; d <= 1; d++) {
			unsigned long long v = p + (unsigned long long)d;

			*td_report_dec_at(got, v, false) = '\0';
			snprintf(want, sizeof want, "%llu", v);
			ck_assert_str_eq(got, want);
			*td_report_dec_at(got, v, true) = '\0';
			snprintf(want, sizeof want, "-%llu", v);
			ck_assert_str_eq(got, want);
		}
	*td_report_dec_at(got, ULLONG_MAX, true) = '\0';
	snprintf(want, sizeof want, "-%llu", ULLONG_MAX);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(strlen(got), TD_REPORT_DEC_MAX);
	for (int i = 0; i < 10000; i++) {
		struct td_addr a = { .family = 4 };
		unsigned long long v;

		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		v = r >> (r & 63);
		*td_report_dec_at(got, v, false) = '\0';
		snprintf(want, sizeof want, "%llu", v);
		ck_assert_str_eq(got, want);
		memcpy(a.bytes, &r, 4);
		if (i < 256)
			memset(a.bytes, i, 4); /* 0.0.0.0 ... 255.255.255.255 */
		ck_assert_ptr_nonnull(inet_ntop(AF_INET, a.bytes, ref, sizeof ref));
		ck_assert_str_eq(td_addr_str(&a, ip, sizeof ip), ref);
		ck_assert_str_eq(td_addr_str(&a, ip, strlen(ref) + 1), ref); /* room for just it */
	}
}
END_TEST

/* td_report_time_utc_cached gives td_report_time_utc's text for any
 * sequence of times: runs in one second, seconds that change, times out
 * of the fast range (before 1970, after 9999) and unnormalised ones. */
START_TEST(test_time_cached)
{
	struct td_report_time_cache c = { 0 };
	char got[TD_REPORT_TIME_LEN], want[TD_REPORT_TIME_LEN];
	uint64_t r = 11;

	for (int i = 0; i < 20000; i++) {
		struct td_time t;

		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		switch (r >> 61) {
		case 0:
			t = T(-(int64_t)(r >> 40), (int32_t)(r >> 8 & 0xfffff));
			break;
		case 1:
			t = T(INT64_C(253402300800) + (int64_t)(r >> 50) - 512, 999999);
			break;
		case 2:
			t = T(1700000000, (int32_t)(r >> 20 & 0x3fffffff) - 500000000);
			break;
		default:
			t = T(1700000000 + (int64_t)(r >> 62), (int32_t)(r >> 12 & 0xfffff) % 1000000);
		}
		td_report_time_utc(t, want);
		ck_assert_str_eq(td_report_time_utc_cached(&c, t, got), want);
	}
}
END_TEST

START_TEST(test_ladder_offsets_and_addr)
{
	static struct td_session s;
	struct capture cap;
	char *text, *line, want[64], buf[96];
	uint64_t r = 3;
	unsigned seen = 0;

	static struct td_event ev[TD_MAX_EVENTS];

	for (unsigned round = 0; round < 50; round++) {
		td_session_init(&s);
		s.events = ev; /* the test's own array: not the session's to free */
		s.cap_events = TD_MAX_EVENTS;
		s.client.family = 4;
		s.client.bytes[0] = 192;
		s.client.bytes[3] = 1;
		s.server.family = 6;
		s.server.bytes[0] = 0x20;
		s.server.bytes[15] = 1;
		s.client_port = 40000 + round;
		s.server_port = 443;
		s.first_ts = T(1700000000 + (int64_t)round, (int32_t)(round * 12345 % 1000000));
		s.n_events = TD_MAX_EVENTS;
		for (unsigned i = 0; i < TD_MAX_EVENTS; i++) {
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			s.events[i].kind = TD_EV_HANDSHAKE;
			s.events[i].type = 1;
			s.events[i].dir = (uint8_t)(i % 2);
			s.events[i].frame = i + 1;
			s.events[i].ts_sec =
				1700000000 + (int64_t)((r >> 20) % (round % 2 ? 400000 : 5)) - 1;
			s.events[i].ts_usec = (int32_t)((r >> 40) % 1000000);
		}
		td_report_ladder(cap_open(&cap), &s, 4, false);
		text = cap_close(&cap);
		line = text;
		for (unsigned i = 0; i < TD_MAX_EVENTS; i++) {
			char *ms;
			size_t len;

			line = strstr(line, "frame ");
			ck_assert_ptr_nonnull(line);
			ms = strstr(line, " ms  ");
			ck_assert_ptr_nonnull(ms);
			snprintf(want, sizeof want, "%+.3f",
				 td_report_ms(s.first_ts, td_event_ts(&s.events[i])));
			len = strlen(want);
			ck_assert_uint_ge((size_t)(ms - line), len);
			ck_assert_msg(memcmp(ms - len, want, len) == 0 && ms[-(long)len - 1] == ' ',
				      "event %u: want %s in %.60s", i, want, line);
			line = ms;
			seen++;
		}
		snprintf(want, sizeof want, "client 192.0.0.1:%u", 40000 + round);
		ck_assert_ptr_nonnull(strstr(text, want));
		ck_assert_ptr_nonnull(strstr(text, "server [2000::1]:443\n"));
		free(text);
	}
	ck_assert_uint_eq(seen, 50 * TD_MAX_EVENTS);
	for (size_t n = 1; n < 24; n++) {
		snprintf(want, n, "[%s]:%u", "2000::1", 65535u);
		ck_assert_str_eq(td_addr_port_str(&s.server, 65535, buf, n), want);
		snprintf(want, n, "%s:%u", "192.0.0.1", 0u);
		ck_assert_str_eq(td_addr_port_str(&s.client, 0, buf, n), want);
	}
}
END_TEST

/* td_report_buf: the bytes are those stdio writes for the same calls
 * (fputs, fputc, printf of numbers and "%s", padding), whatever the size
 * of the caller's storage: none (written through), smaller than one
 * write, or room for all. */
static void buf_script(struct td_report_buf *b, FILE *ref)
{
	static const char long_s[] = "a string longer than the small buffers, 0123456789";
	const char *null_s = getenv("TD_TEST_UNSET_VARIABLE"); /* NULL, opaque to -Wformat */

	for (int i = 0; i < 40; i++) {
		long long v = i % 3 ? (long long)i * -987654321LL : INT64_MIN + i;

		if (b) {
			td_report_buf_puts(b, long_s + i);
			td_report_buf_putc(b, '|');
			td_report_buf_fill(b, i % 2 ? ' ' : '-', i * 3 - 10);
			td_report_buf_printf(b, "%llu %lld", UINT64_MAX - (unsigned long long)i * 1000003ULL,
					     v);
			td_report_buf_printf(b, " %s|%s|%0*d|%.3f\n", long_s + i % 7, null_s, i, i,
					     i / 7.0);
			td_report_buf_printf(b, "%s", long_s + i);
			td_report_buf_printf(b, "%s", null_s);
			td_report_buf_term(b, (const uint8_t *)"\x1b[1m\\ok\xe2\x82\xac\xff", 11);
		} else {
			fputs(long_s + i, ref);
			fputc('|', ref);
			fprintf(ref, "%s", "");
			for (int k = 0; k < i * 3 - 10; k++)
				fputc(i % 2 ? ' ' : '-', ref);
			fprintf(ref, "%llu %lld", UINT64_MAX - (unsigned long long)i * 1000003ULL, v);
			fprintf(ref, " %s|%s|%0*d|%.3f\n", long_s + i % 7, "(null)", i, i, i / 7.0);
			fputs(long_s + i, ref);
			fputs("(null)", ref);
			fputs("\\x1b[1m\\\\ok\xe2\x82\xac\\xff", ref);
		}
	}
}

START_TEST(test_report_buf)
{
	static const size_t sizes[] = {0, 1, 7, 64, TD_REPORT_BUF_LEN};
	struct capture cap;
	char *want, *got;

	buf_script(NULL, cap_open(&cap));
	want = cap_close(&cap);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char *mem = sizes[i] ? malloc(sizes[i]) : NULL;
		struct td_report_buf b;

		td_report_buf_init(&b, cap_open(&cap), mem, sizes[i]);
		buf_script(&b, NULL);
		ck_assert_int_eq(td_report_buf_end(&b), 0);
		got = cap_close(&cap);
		ck_assert_msg(strcmp(got, want) == 0, "storage %zu:\n%s\nwant\n%s", sizes[i], got,
			      want);
		free(got);
		free(mem);
	}
	free(want);
}
END_TEST

/* fmt and its arguments through td_report_buf_vprintf() and through the
 * C library's vsnprintf(): the same bytes (a %c of 0 included), whatever
 * the storage (0: written through; 1 and 7: smaller than one number, so
 * it spills) and wherever in it the text starts (0 to 4 bytes already
 * held). line names the caller in a failure. */
static void same_as_printf(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void same_as_printf(int line, const char *fmt, ...)
{
	static const size_t sizes[] = {0, 1, 7, 40, TD_REPORT_BUF_LEN};
	va_list ap, again;
	char *want;
	int len;

	va_start(ap, fmt);
	va_copy(again, ap);
	len = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	ck_assert_int_ge(len, 0);
	want = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(want);
	va_copy(again, ap);
	vsnprintf(want, (size_t)len + 1, fmt, again);
	va_end(again);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		for (size_t pre = 0; pre < 5; pre++) {
			char *mem = malloc(sizes[i] + 1);
			struct td_report_buf b;
			struct capture cap;
			char *got;

			ck_assert_ptr_nonnull(mem);
			td_report_buf_init(&b, cap_open(&cap), sizes[i] ? mem : NULL, sizes[i]);
			td_report_buf_put(&b, "<<<<", pre);
			va_copy(again, ap);
			td_report_buf_vprintf(&b, fmt, again);
			va_end(again);
			td_report_buf_putc(&b, '>');
			ck_assert_int_eq(td_report_buf_end(&b), 0);
			got = cap_close(&cap);
			ck_assert_msg(cap.len == pre + (size_t)len + 1 &&
					      memcmp(got, "<<<<", pre) == 0 &&
					      memcmp(got + pre, want, (size_t)len) == 0 &&
					      got[pre + (size_t)len] == '>',
				      "line %d, storage %zu + %zu: format \"%s\": got \"%.*s\", "
				      "want \"%s\"",
				      line, sizes[i], pre, fmt, (int)cap.len, got, want);
			free(got);
			free(mem);
		}
	}
	/* td_report_vsnprintf(): snprintf's return value and cut, and not a
	 * byte past n (the '#' after it stay) */
	for (size_t k = 0; k < 8; k++) {
		size_t lens[] = {0, 1, 2, 3, (size_t)len / 2, (size_t)len, (size_t)len + 1,
				 (size_t)len + 9};
		size_t n = lens[k];
		char *out = malloc(n + 8), *ref = malloc(n + 8);
		int got;

		ck_assert(out && ref);
		memset(out, '#', n + 8);
		memset(ref, '#', n + 8);
		va_copy(again, ap);
		vsnprintf(ref, n, fmt, again);
		va_end(again);
		va_copy(again, ap);
		got = td_report_vsnprintf(out, n, fmt, again);
		va_end(again);
		ck_assert_msg(got == len && memcmp(out, ref, n + 8) == 0,
			      "line %d, td_report_vsnprintf(%zu): format \"%s\": returned %d, "
			      "want %d",
			      line, n, fmt, got, len);
		free(out);
		free(ref);
	}
	free(want);
	va_end(ap);
}

#define SAME(...) same_as_printf(__LINE__, __VA_ARGS__)

/* The directives td_report_buf_vprintf() writes itself (%s %c %% and %d
 * %i %u with no length, l, ll, z) against vsnprintf on edge values (each
 * power of ten and its neighbours, the types' extremes) and pseudo-random
 * ones; and formats it hands to vsnprintf (flags, widths, precisions,
 * other conversions and lengths), which must come out the same too. */
START_TEST(test_buf_printf_conversions)
{
	const char *null_s = getenv("TD_TEST_UNSET_VARIABLE"); /* NULL, opaque to -Wformat */
	char big[5000];
	uint64_t r = 11;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (unsigned long long p = 1, i = 0; i < 20; i++, p *= 10)
		for (int d = -1; d <= 1; d++) {
			unsigned long long v = p + (unsigned long long)d;

			SAME("%llu|%lld|%lli|%zu", v, (long long)v, -(long long)v, (size_t)v);
			SAME("%lu|%ld|%li|%ld", (unsigned long)v, (long)v, (long)v, -(long)v);
			SAME("%u|%d|%i|%d", (unsigned)v, (int)v, (int)v, -(int)v);
		}
	SAME("%d %d %d %d %d", INT_MIN, INT_MIN + 1, -1, 0, INT_MAX);
	SAME("%i %i", INT_MIN, INT_MAX);
	SAME("%u %u %u", 0u, 1u, UINT_MAX);
	SAME("%ld %ld %ld %li", LONG_MIN, LONG_MIN + 1, LONG_MAX, LONG_MIN);
	SAME("%lu %lu", 0UL, ULONG_MAX);
	SAME("%lld %lld %lld %lli", LLONG_MIN, LLONG_MIN + 1, LLONG_MAX, LLONG_MIN);
	SAME("%llu %llu", 0ULL, ULLONG_MAX);
	SAME("%zu %zu", (size_t)0, SIZE_MAX);
	for (int c = 0; c < 256; c++)
		SAME("[%c]%c", c, c - 256); /* 0 too: a NUL byte in the text */
	SAME("%s|%s|%s|%s", "", "abc", null_s, "100%");
	SAME("%s%s", big, big + 4000);
	SAME("%%");
	SAME("%%%s%%%%%d%%", "a", 5);
	SAME("plain text without a directive");
	SAME("%s#%llu %s -> %s%s", "", 42ULL, "192.0.2.1:443", "[2001:db8::1]:443", "");
	SAME("client %lu, server %lu", 0UL, 18446744073709551615UL);
	SAME("%u bytes at frame %lu, response %s", 300u, 7UL, "successful");
	for (int i = 0; i < TD_TEST_N(5000, 500); i++) {
		unsigned long long v;

		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		v = r >> (r & 63);
		SAME("a%db%uc%ldd%lue%lldf%llug%zuh%ci%sj%%", (int)v, (unsigned)v, (long)v,
		     (unsigned long)v, (long long)v, v, (size_t)v, (int)(v & 0xff),
		     big + sizeof big - 1 - (v % 64));
	}
	/* what vsnprintf writes for them: each alone (the others in the same
	 * format must not hide one the writer would take wrongly) */
	SAME("%5u", 42u);
	SAME("%-5u|", 42u);
	SAME("%05d", -42);
	SAME("%+d", 42);
	SAME("% d", 42);
	SAME("%-8s|", "ab");
	SAME("%8s", "ab");
	SAME("%.2s", "abc");
	SAME("%*s|", 6, "");
	SAME("%-*lu|", 4, 7UL);
	SAME("%*d", -3, 9);
	SAME("%.3f", 1.0005);
	SAME("%+.3f", -2.5);
	SAME("%.0f", 2.5);
	SAME("%.*f", 1, 0.05);
	SAME("%e", 1e300);
	SAME("%g", 1e-7);
	SAME("%x", 255u);
	SAME("%X", 255u);
	SAME("%04x", 0x2au);
	SAME("%#x", 255u);
	SAME("%o", 8u);
	SAME("%lx", ULONG_MAX);
	SAME("%llx", ULLONG_MAX);
	SAME("%zx", SIZE_MAX);
	SAME("%hu", 70000);
	SAME("%hhu", 300);
	SAME("%hd", -40000);
	SAME("%hhd", -200);
	SAME("%zd", (ssize_t)-5);
	SAME("%jd", (intmax_t)-6);
	SAME("%td", (ptrdiff_t)-7);
	SAME("%lc", (wint_t)'A');
	SAME("%p", (void *)big);
	SAME("%s then %5u", "simple", 3u); /* one it does not take: all by vsnprintf */
	/* 16 directives: written by the buffer; 17: more than it splits, so
	 * by vsnprintf */
	SAME("%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d|", 1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13,
	     -14, 15, -16);
	SAME("%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%s|", 1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13,
	     -14, 15, -16, "seventeen");
}
END_TEST

/* The local time as the C library writes it: localtime_r(), strftime()
 * and snprintf() (what td_report_time_local() did before it wrote the
 * digits itself), "@sec.usec" when the library cannot convert it. */
static void local_ref(int64_t sec, int32_t usec, char want[TD_REPORT_TIME_LEN])
{
	time_t tt = (time_t)sec;
	struct tm tm;
	size_t len;

	if (!localtime_r(&tt, &tm) ||
	    (len = strftime(want, TD_REPORT_TIME_LEN, "%Y-%m-%d %H:%M:%S", &tm)) == 0) {
		snprintf(want, TD_REPORT_TIME_LEN, "@%lld.%06d", (long long)sec, (int)usec);
		return;
	}
	snprintf(want + len, TD_REPORT_TIME_LEN - len, ".%06d", (int)usec);
}

/* The text writers' helpers without printf: the local time (in time
 * zones east and west of UTC, with and without summer time, over years 1
 * to 12000 and at the edges of the 4-digit years it writes itself) as
 * localtime_r() and strftime() give it; "%.3f" and "%+.3f" as printf
 * gives them; and td_report_term_plain() is true exactly for printable
 * ASCII without '\\' (every byte value at every place of strings up to
 * 40 bytes: the 16-byte blocks and the tail), where
 * td_report_escape_term() gives back its input. */
START_TEST(test_text_helpers)
{
	static const char *const zones[] = {"UTC0", "CET-1CEST,M3.5.0,M10.5.0/3",
					    "EST5EDT,M3.2.0,M11.1.0", "<+0530>-5:30",
					    "<-0330>3:30<-0230>,M3.2.0,M11.1.0"};
	static const int64_t edges[] = {-62135596800, -30610224001, -30610224000, -30610137600,
					0, 1700000000, 253402300799, 253402300800,
					253402387200, 253402214400, 315537897599};
	char got[TD_REPORT_TIME_LEN], want[TD_REPORT_TIME_LEN], f[48], g[48];
	uint64_t r = 5;

	for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
		setenv("TZ", zones[z], 1);
		tzset();
		for (unsigned i = 0; i < 4000 + sizeof edges / sizeof edges[0]; i++) {
			int64_t sec;
			int32_t usec;

			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			if (i < sizeof edges / sizeof edges[0])
				sec = edges[i] + (int64_t)(r % 3) - 1;
			else
				sec = (int64_t)((r >> 11) % 378691200000ULL) - 62135596800;
			usec = (int32_t)((r >> 40) % 1000000);
			local_ref(sec, usec, want);
			ck_assert_msg(strcmp(td_report_time_local(T(sec, usec), got), want) == 0,
				      "TZ=%s %lld: got %s, want %s", zones[z], (long long)sec, got,
				      want);
		}
	}
	use_utc();

	for (int i = 0; i < 20000; i++) {
		double v;

		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		if (i % 4 == 3) /* any double: snprintf's own way */
			v = (double)(int64_t)r / (double)(1ULL << (r & 63));
		else /* a whole number of thousandths, as td_report_ms() makes them */
			v = td_report_ms(T(0, 0), T((int64_t)(r >> 40) - (1 << 23),
						    (int32_t)((r >> 8) % 2000000) - 1000000));
		snprintf(want, sizeof want, "%.3f", v);
		snprintf(g, sizeof g, "%+.3f", v);
		ck_assert_int_eq(td_report_fixed3(v, false, f), (int)strlen(want));
		ck_assert_str_eq(f, want);
		ck_assert_int_eq(td_report_fixed3(v, true, f), (int)strlen(g));
		ck_assert_str_eq(f, g);
	}
	ck_assert_int_eq(td_report_fixed3(-0.0, false, f), 6);
	ck_assert_str_eq(f, "-0.000");
	ck_assert_int_eq(td_report_fixed3(-0.0004, true, f), 6);
	ck_assert_str_eq(f, "-0.000");

	for (unsigned c = 0; c < 256; c++)
		for (size_t len = 1; len <= 40; len++)
			for (size_t at = 0; at < len; at++) {
				char str[40], esc[200];

				memset(str, 'a' + (int)(len % 26), len);
				str[at] = (char)c;
				bool plain = c >= 0x20 && c < 0x7f && c != '\\';

				ck_assert_int_eq(td_report_term_plain(str, len), plain);
				td_report_escape_term(esc, sizeof esc, (const uint8_t *)str, len);
				if (plain)
					ck_assert(strlen(esc) == len && memcmp(esc, str, len) == 0);
			}
	ck_assert(td_report_term_plain("", 0));
}
END_TEST

START_TEST(test_hex_colon)
{
	static const uint8_t d[] = { 0x00, 0xab, 0x7f };
	char out[3 * sizeof d];

	ck_assert_str_eq(td_report_hex_colon(d, sizeof d, out), "00:AB:7F");
}
END_TEST

START_TEST(test_handshake_names)
{
	char buf[32];

	ck_assert_str_eq(td_report_handshake_name(1, buf, sizeof buf), "ClientHello");
	ck_assert_str_eq(td_report_handshake_name(12, buf, sizeof buf), "ServerKeyExchange");
	ck_assert_str_eq(td_report_handshake_name(14, buf, sizeof buf), "ServerHelloDone");
	ck_assert_str_eq(td_report_handshake_name(8, buf, sizeof buf), "EncryptedExtensions");
	ck_assert_str_eq(td_report_handshake_name(99, buf, sizeof buf), "handshake type 99");
}
END_TEST

/* ---- connection JSON ------------------------------------------------- */

START_TEST(test_json_tls12_failed)
{
	struct td_session s = {0};
	struct td_cert c;
	json_t *j;

	use_utc();
	fake_rsa_cert(&c);
	tls12_failed(&s, &c);
	j = roundtrip(td_report_session_json(&s));

	assert_jstr(j, "type", "connection");
	ck_assert_int_eq(jint(j, "schema_version"), 1);
	ck_assert_int_eq(jint(j, "id"), 1);
	assert_jstr(j, "client.ip", "10.0.0.1");
	ck_assert_int_eq(jint(j, "client.port"), 40004);
	assert_jstr(j, "server.ip", "10.0.0.2");
	ck_assert_int_eq(jint(j, "server.port"), 443);
	ck_assert_int_eq(jint(j, "ip_version"), 4);
	ck_assert_ptr_null(json_object_get(j, "vlan"));
	assert_jstr(j, "roles", "syn");
	assert_jstr(j, "first_ts", "2023-11-14T22:13:20.000123Z");
	assert_jstr(j, "last_ts", "2023-11-14T22:13:20.456789Z");
	ck_assert_int_eq(jint(j, "first_frame"), 1);
	ck_assert_int_eq(jint(j, "last_frame"), 17);
	ck_assert_int_eq(jint(j, "packets.server"), 9);
	ck_assert_int_eq(jint(j, "payload_bytes.client"), 517);
	ck_assert_int_eq(jint(j, "tcp.retransmissions.server"), 2);
	ck_assert_int_eq(jint(j, "tcp.overlaps_differ"), 0);
	ck_assert_int_eq(jint(j, "tcp.largest_segment.server"), 1448);

	assert_jstr(j, "tls.version", "TLS 1.2");
	ck_assert_int_eq(jint(j, "tls.version_code"), 771);
	assert_jstr(j, "tls.cipher_suite", "TLS_RSA_WITH_AES_128_GCM_SHA256");
	ck_assert_int_eq(jint(j, "tls.cipher_suite_code"), 156);
	assert_jstr(j, "tls.key_exchange", "RSA");

	ck_assert_int_eq(jint(j, "tls.client_hello.frame"), 4);
	assert_jstr(j, "tls.client_hello.time", "2023-11-14T22:13:20.010123Z");
	assert_jstr(j, "tls.client_hello.record_version", "TLS 1.0");
	assert_jstr(j, "tls.client_hello.legacy_version", "TLS 1.2");
	ck_assert_uint_eq(json_array_size(jget(j, "tls.client_hello.supported_versions")), 0);
	assert_jstr(j, "tls.client_hello.cipher_suites.0", "GREASE (0x1a1a)");
	assert_jstr(j, "tls.client_hello.cipher_suites.1", "TLS_RSA_WITH_AES_128_GCM_SHA256");
	assert_jstr(j, "tls.client_hello.cipher_suites.4", "unknown (0x7777)");
	ck_assert_int_eq(jint(j, "tls.client_hello.cipher_suites_total"), 5);
	ck_assert_int_eq(jint(j, "tls.client_hello.compression_methods"), 1);
	assert_jstr(j, "tls.client_hello.extensions.0", "server_name");
	assert_jstr(j, "tls.client_hello.sni", "server.example");
	assert_jstr(j, "tls.client_hello.alpn.1", "http/1.1");
	assert_jstr(j, "tls.client_hello.supported_groups.0", "x25519");
	ck_assert_uint_eq(json_array_size(jget(j, "tls.client_hello.signature_algorithms")), 2);
	ck_assert_int_eq(jint(j, "tls.client_hello.ec_point_formats.0"), 0);
	ck_assert_int_eq(jint(j, "tls.client_hello.session_id_length"), 0);

	ck_assert_int_eq(jint(j, "tls.server_hello.frame"), 6);
	assert_jstr(j, "tls.server_hello.legacy_version", "TLS 1.2");
	assert_jnull(j, "tls.server_hello.selected_version");
	assert_jstr(j, "tls.server_hello.cipher_suite", "TLS_RSA_WITH_AES_128_GCM_SHA256");
	ck_assert_int_eq(jint(j, "tls.server_hello.compression_method"), 0);
	assert_jstr(j, "tls.server_hello.alpn", "h2");
	ck_assert(json_is_false(jget(j, "tls.server_hello.session_id_echoed")));
	ck_assert(json_is_false(jget(j, "tls.server_hello.hello_retry_request")));

	ck_assert(json_is_true(jget(j, "tls.certificates_visible")));
	assert_jnull(j, "tls.certificates_note");
	ck_assert_int_eq(jint(j, "tls.certificate_frame"), 7);
	ck_assert_int_eq(jint(j, "tls.certificates_total"), 1);
	ck_assert_int_eq(jint(j, "tls.encryption_started.client"), 9);
	assert_jnull(j, "tls.encryption_started.server");
	ck_assert_int_eq(jint(j, "tls.records.client"), 3);
	ck_assert_int_eq(jint(j, "tls.application_data.server.bytes"), 0);
	assert_jstr(j, "tls.stage", "client Finished");
	assert_jstr(j, "tls.outcome", "failed");
	ck_assert(json_is_false(jget(j, "tls.handshake_completed")));
	assert_jstr(j, "tls.aborted_by", "server");
	assert_jstr(j, "tls.aborted_how", "alert");

	ck_assert_int_eq(jint(j, "certificates.0.position"), 0);
	assert_jstr(j, "certificates.0.sha256",
		    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
	assert_jstr(j, "certificates.0.sha1", "000102030405060708090a0b0c0d0e0f10111213");
	ck_assert(json_is_true(jget(j, "certificates.0.parsed")));
	assert_jnull(j, "certificates.0.error");
	ck_assert_int_eq(jint(j, "certificates.0.version"), 3);
	assert_jstr(j, "certificates.0.subject", "CN=server.example,O=Example");
	assert_jstr(j, "certificates.0.issuer", "CN=Example CA");
	assert_jstr(j, "certificates.0.serial", "0A1B2C");
	assert_jstr(j, "certificates.0.not_before", "2023-11-14T22:13:20.000000Z");
	assert_jstr(j, "certificates.0.san.2", "IP:10.0.0.2");
	assert_jstr(j, "certificates.0.signature_algorithm", "sha256WithRSAEncryption");
	ck_assert(json_is_false(jget(j, "certificates.0.self_signed")));
	assert_jstr(j, "certificates.0.public_key.algorithm", "RSA");
	ck_assert_int_eq(jint(j, "certificates.0.public_key.bits"), 2048);
	ck_assert_int_eq(jint(j, "certificates.0.public_key.rsa_exponent"), 65537);
	assert_jnull(j, "certificates.0.public_key.curve");
	assert_jnull(j, "certificates.0.public_key.curve_nist");
	assert_jstr(j, "certificates.0.public_key.spki_sha256",
		    "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f");

	ck_assert_int_eq(jint(j, "alerts.0.frame"), 12);
	assert_jstr(j, "alerts.0.time", "2023-11-14T22:13:20.345123Z");
	assert_jstr(j, "alerts.0.from", "server");
	assert_jstr(j, "alerts.0.level", "fatal");
	assert_jstr(j, "alerts.0.description", "bad_record_mac");
	ck_assert_int_eq(jint(j, "alerts.0.code"), 20);
	ck_assert(json_is_false(jget(j, "alerts.0.encrypted")));
	ck_assert(json_is_false(jget(j, "alerts.0.probable")));
	assert_jstr(j, "alerts.0.phase", "after client Finished");
	ck_assert_int_eq(jint(j, "alerts.0.record_length"), 7);
	ck_assert_int_eq(jint(j, "alerts_total"), 1);

	ck_assert_int_eq(jint(j, "timeline_total"), 9);
	assert_jstr(j, "timeline.0.what", "ClientHello");
	assert_jstr(j, "timeline.0.from", "client");
	ck_assert_int_eq(jint(j, "timeline.0.length"), 512);
	ck_assert(json_real_value(jget(j, "timeline.0.offset_ms")) == 10.0);
	ck_assert_ptr_null(jget(j, "timeline.0.count"));
	assert_jstr(j, "timeline.2.what", "Certificate");
	assert_jstr(j, "timeline.3.what", "ServerHelloDone");
	assert_jstr(j, "timeline.4.what", "ClientKeyExchange");
	assert_jstr(j, "timeline.5.what", "ChangeCipherSpec");
	assert_jstr(j, "timeline.6.what", "encrypted handshake (Finished)");
	assert_jstr(j, "timeline.7.what", "Alert fatal bad_record_mac");
	assert_jstr(j, "timeline.7.time", "2023-11-14T22:13:20.345123Z");
	ck_assert(json_real_value(jget(j, "timeline.7.offset_ms")) == 345.0);
	assert_jstr(j, "timeline.8.what", "RST");

	assert_jstr(j, "end", "rst");
	assert_jstr(j, "end_by", "server");
	ck_assert_int_eq(jint(j, "end_frame"), 13);
	ck_assert_int_eq(jint(j, "anomalies.client"), 0);
	assert_jnull(j, "desync.client");
	assert_jnull(j, "desync.server");
	ck_assert_int_eq(jint(j, "handshake_too_big.server"), 0);
	json_decref(j);
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_json_tls13_hidden)
{
	struct td_session s = {0};
	json_t *j;

	use_utc();
	tls13_session(&s);
	j = roundtrip(td_report_session_json(&s));
	ck_assert_int_eq(jint(j, "vlan"), 100);
	assert_jstr(j, "encapsulation.0", "vlan");
	assert_jstr(j, "encapsulation.1", "gre");
	assert_jstr(j, "encapsulation.2", "erspan");
	ck_assert_uint_eq(json_array_size(json_object_get(j, "encapsulation")), 3);
	assert_jstr(j, "roles", "tls");
	assert_jstr(j, "tls.version", "TLS 1.3");
	ck_assert_int_eq(jint(j, "tls.version_code"), 0x0304);
	assert_jstr(j, "tls.cipher_suite", "TLS_AES_128_GCM_SHA256");
	assert_jstr(j, "tls.client_hello.supported_versions.0", "TLS 1.3");
	assert_jnull(j, "tls.client_hello.sni");
	assert_jstr(j, "tls.server_hello.selected_version", "TLS 1.3");
	assert_jnull(j, "tls.server_hello.alpn");
	ck_assert(json_is_true(jget(j, "tls.server_hello.session_id_echoed")));
	ck_assert(json_is_false(jget(j, "tls.certificates_visible")));
	assert_jstr(j, "tls.certificates_note", "certificate not visible without keys");
	assert_jnull(j, "tls.certificate_frame");
	ck_assert_uint_eq(json_array_size(jget(j, "certificates")), 0);
	ck_assert_int_eq(jint(j, "tls.encryption_started.server"), 5);
	ck_assert_int_eq(jint(j, "tls.application_data.client.records"), 2);
	ck_assert_int_eq(jint(j, "tls.application_data.client.bytes"), 150);
	assert_jstr(j, "tls.outcome", "failed");
	assert_jstr(j, "tls.aborted_by", "server");

	assert_jnull(j, "alerts.0.level");
	assert_jnull(j, "alerts.0.description");
	assert_jnull(j, "alerts.0.code");
	ck_assert(json_is_true(jget(j, "alerts.0.encrypted")));
	ck_assert(json_is_false(jget(j, "alerts.0.probable")));
	ck_assert(json_is_true(jget(j, "alerts.1.probable")));
	assert_jstr(j, "alerts.1.from", "client");

	/* CCS in TLS 1.3 is camouflage: the next message is not Finished. */
	assert_jstr(j, "timeline.2.what", "ChangeCipherSpec");
	assert_jstr(j, "timeline.3.what", "encrypted handshake message");
	assert_jstr(j, "timeline.4.what", "application data");
	ck_assert_int_eq(jint(j, "timeline.4.count"), 2);
	ck_assert_int_eq(jint(j, "timeline.4.length"), 150);
	assert_jstr(j, "timeline.5.what", "encrypted Alert");
	assert_jstr(j, "timeline.6.what", "probable encrypted Alert");
	assert_jstr(j, "timeline.7.what", "gap: 120 bytes missing");
	ck_assert_int_eq(jint(j, "timeline_total"), 8);

	assert_jstr(j, "end", "fin");
	assert_jstr(j, "end_by", "client");
	ck_assert_int_eq(jint(j, "end_frame"), 30);
	assert_jstr(j, "desync.server.error", "TD_ERR_MALFORMED");
	ck_assert_int_eq(jint(j, "desync.server.frame"), 11);
	assert_jnull(j, "desync.client");
	json_decref(j);
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_json_no_server_hello)
{
	struct td_session s = {0};
	json_t *j;

	td_test_session_reset(&s);
	s.id = 7;
	set_addr4(&s.client, 10, 0, 0, 1);
	set_addr4(&s.server, 10, 0, 0, 2);
	s.roles_guessed = true;
	s.first_frame = s.last_frame = 1;
	s.end = TD_END_IDLE;
	td_session_finish(&s);
	j = roundtrip(td_report_session_json(&s));
	assert_jstr(j, "roles", "ports");
	assert_jnull(j, "tls.version");
	assert_jnull(j, "tls.version_code");
	assert_jnull(j, "tls.cipher_suite");
	assert_jnull(j, "tls.cipher_suite_code");
	assert_jnull(j, "tls.key_exchange");
	assert_jnull(j, "tls.client_hello");
	assert_jnull(j, "tls.server_hello");
	assert_jnull(j, "tls.aborted_by");
	assert_jnull(j, "tls.aborted_how");
	assert_jnull(j, "tls.encryption_started.client");
	assert_jstr(j, "end", "idle");
	assert_jnull(j, "end_by");
	assert_jnull(j, "end_frame");
	ck_assert_uint_eq(json_array_size(jget(j, "timeline")), 0);
	json_decref(j);
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_json_ipv6_ec_unparsed)
{
	struct td_session s = {0};
	struct td_cert ec, bad;
	json_t *j;

	tls12_failed(&s, NULL);
	s.client.family = s.server.family = 6;
	memset(s.client.bytes, 0, 16);
	memset(s.server.bytes, 0, 16);
	s.client.bytes[0] = 0x20;
	s.client.bytes[1] = 0x01;
	s.client.bytes[15] = 1;
	s.server.bytes[15] = 1;
	fake_rsa_cert(&ec);
	strcpy(ec.key.algorithm, "EC");
	ec.key.bits = 256;
	ec.key.rsa_exponent = 0;
	strcpy(ec.key.curve, "prime256v1");
	strcpy(ec.key.curve_nist, "P-256");
	memset(&bad, 0, sizeof bad);
	strcpy(bad.error, "not a certificate: asn1 header too long");
	td_test_set_cert(&s, 0, &ec);
	td_test_set_cert(&s, 1, &bad);
	s.n_certs = s.total_certs = 2;
	j = roundtrip(td_report_session_json(&s));
	assert_jstr(j, "client.ip", "2001::1");
	assert_jstr(j, "server.ip", "::1");
	ck_assert_int_eq(jint(j, "ip_version"), 6);
	assert_jstr(j, "certificates.0.public_key.curve", "prime256v1");
	assert_jstr(j, "certificates.0.public_key.curve_nist", "P-256");
	assert_jnull(j, "certificates.0.public_key.rsa_exponent");
	ck_assert(json_is_false(jget(j, "certificates.1.parsed")));
	assert_jstr(j, "certificates.1.error", "not a certificate: asn1 header too long");
	ck_assert_int_eq(jint(j, "certificates.1.position"), 1);
	json_decref(j);
	td_session_clear(&s, NULL);
}
END_TEST

/* ---- text ------------------------------------------------------------ */

START_TEST(test_text_tls12_failed)
{
	struct td_session s = {0};
	struct td_cert c;
	struct td_report_opts o = { 0 };
	struct capture cap;
	char *text;

	use_utc();
	fake_rsa_cert(&c);
	tls12_failed(&s, &c);
	td_report_session(cap_open(&cap), &o, &s);
	text = cap_close(&cap);

	ck_assert_msg(strncmp(text,
			      "#1 10.0.0.1:40004 -> 10.0.0.2:443  TLS 1.2  "
			      "TLS_RSA_WITH_AES_128_GCM_SHA256  SNI server.example  FAILED "
			      "(server sent fatal bad_record_mac)\n",
			      strlen("#1 10.0.0.1:40004")) == 0,
		      "%s", text);
	assert_has_line(text, "#1 10.0.0.1:40004 -> 10.0.0.2:443  TLS 1.2  "
			      "TLS_RSA_WITH_AES_128_GCM_SHA256  SNI server.example  FAILED "
			      "(server sent fatal bad_record_mac)");
	assert_has_line(text, "  Connection");
	assert_has_line(text, "    client              10.0.0.1:40004");
	assert_has_line(text, "    frames              1 - 17");
	assert_has_line(text, "    time                2023-11-14 22:13:20.000123 - "
			      "2023-11-14 22:13:20.456789 UTC (456.666 ms)");
	assert_has_line(text, "    ended               RST from server at frame 13");
	assert_has_line(text, "    retransmissions     client 0, server 2");
	assert_has_line(text, "  ClientHello (frame 4)");
	assert_has_line(text, "    SNI                 server.example");
	assert_has_line(text, "    ALPN                h2, http/1.1");
	assert_has_line(text, "    cipher suites (5)   GREASE (0x1a1a), TLS_RSA_WITH_AES_128_GCM_SHA256,");
	assert_has_line(text, "                        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "
			      "TLS_AES_128_GCM_SHA256,");
	assert_has_line(text, "                        unknown (0x7777)");
	assert_has_line(text, "  ServerHello (frame 6)");
	assert_has_line(text, "    cipher suite        TLS_RSA_WITH_AES_128_GCM_SHA256 (0x009c)");
	assert_has_line(text, "                        key exchange RSA, authentication RSA, "
			      "encryption AES_128_GCM, MAC SHA256");
	assert_has_line(text, "    session             full handshake (new session ID, 32 bytes)");
	assert_has_line(text, "  Certificates (frame 7)");
	assert_has_line(text, "    [0] CN=server.example,O=Example");
	assert_has_line(text, "        issuer          CN=Example CA");
	assert_has_line(text, "        validity        2023-11-14 22:13:20.000000 - "
			      "2024-11-13 22:13:20.000000 UTC");
	assert_has_line(text, "        SAN             DNS:server.example, DNS:www.server.example, "
			      "IP:10.0.0.2");
	assert_has_line(text, "        SHA-256         A0:A1:A2:A3:A4:A5:A6:A7:A8:A9:AA:AB:AC:AD:AE:AF:"
			      "B0:B1:B2:B3:B4:B5:B6:B7:B8:B9:BA:BB:BC:BD:BE:BF");
	assert_has_line(text, "                        "
			      "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
	assert_has_line(text, "        public key      RSA 2048 bits, e=65537");
	assert_has_line(text, "        SPKI SHA-256    "
			      "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f");
	assert_has_line(text, "  Alerts");
	assert_has_line(text, "    frame 12  server -> client  fatal bad_record_mac  "
			      "(in clear, after client Finished)");
	assert_has_line(text, "  Ladder");
	assert_has_line(text, "                           client 10.0.0.1:40004"
			      "                        server 10.0.0.2:443");
	ck_assert_ptr_nonnull(strstr(text, "\n    frame 4    +10.000 ms  ClientHello (512) ---"));
	ck_assert_ptr_nonnull(strstr(text, "\n                           ---- client encrypts from "
					   "here ----\n    frame 9    +30.000 ms  encrypted "
					   "handshake (Finished) (40) ---"));
	ck_assert_ptr_nonnull(strstr(text, "\n    frame 12  +345.000 ms  <====="));
	ck_assert_ptr_nonnull(strstr(text, "===== ALERT fatal bad_record_mac (7)\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n    frame 13  +345.077 ms  <-----"));
	ck_assert_ptr_nonnull(strstr(text, "----- TCP RST\n"));
	assert_has_line(text, "  Outcome");
	assert_has_line(text, "    handshake completed no");
	assert_has_line(text, "    outcome             FAILED");
	assert_has_line(text, "    last stage          client Finished");
	assert_has_line(text, "    aborted by          server");
	assert_has_line(text, "    aborted how         alert (server sent fatal bad_record_mac)");
	/* Sections in order; no colour asked, so no escape byte at all. */
	assert_before(text, strstr(text, "  Connection"), strstr(text, "  ClientHello"));
	assert_before(text, strstr(text, "  ClientHello"), strstr(text, "  ServerHello"));
	assert_before(text, strstr(text, "  ServerHello"), strstr(text, "  Certificates"));
	assert_before(text, strstr(text, "  Certificates"), strstr(text, "  Alerts"));
	assert_before(text, strstr(text, "  Alerts"), strstr(text, "  Ladder"));
	assert_before(text, strstr(text, "  Ladder"), strstr(text, "  Outcome"));
	ck_assert_ptr_null(strchr(text, '\033'));
	/* verbose 0 leaves zero counters out */
	ck_assert_ptr_null(strstr(text, "zero windows"));
	ck_assert_ptr_null(strstr(text, "out of order"));
	free(text);
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_text_tls13_and_color)
{
	struct td_session s = {0};
	struct td_report_opts o = { .color = true };
	struct capture cap;
	char *text;

	use_utc();
	tls13_session(&s);
	td_report_session(cap_open(&cap), &o, &s);
	text = cap_close(&cap);
	ck_assert_ptr_nonnull(strstr(text, "\033[1;31mFAILED\033[0m (server sent encrypted alert)"));
	ck_assert_ptr_nonnull(strstr(text, "\n  \033[1mConnection\033[0m\n"));
	ck_assert_ptr_nonnull(strstr(text, "    VLAN                100\n"));
	ck_assert_ptr_nonnull(strstr(text, "    encapsulation       vlan 100, gre, erspan\n"));
	ck_assert_ptr_nonnull(
		strstr(text, "    certificate not visible without keys (TLS 1.3 encrypts it)\n"));
	ck_assert_ptr_nonnull(strstr(text, "encrypted alert (level and description not visible "
					   "without keys)"));
	ck_assert_ptr_nonnull(strstr(text, "probable encrypted alert"));
	ck_assert_ptr_nonnull(strstr(text, "TLS 1.3 (supported_versions; legacy TLS 1.2)"));
	ck_assert_ptr_nonnull(strstr(text, "    session             full handshake\n"));
	ck_assert_ptr_nonnull(strstr(text, "application data (2 records, 150 bytes) ---"));
	ck_assert_ptr_nonnull(strstr(text, "gap: 120 bytes missing"));
	ck_assert_ptr_nonnull(strstr(text, "TD_ERR_MALFORMED"));
	free(text);

	/* A completed handshake is green. */
	s.outcome = TD_OUTCOME_COMPLETED;
	s.aborted_by = -1;
	s.aborted_how = TD_ABORT_NONE;
	td_report_session(cap_open(&cap), &o, &s);
	text = cap_close(&cap);
	ck_assert_ptr_nonnull(strstr(text, "\033[32mCOMPLETED\033[0m\n"));
	free(text);
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_text_no_server_hello)
{
	struct td_session s = {0};
	struct td_report_opts o = { 0 };
	struct capture cap;
	char *text;

	use_utc();
	tls12_failed(&s, NULL);
	memset(td_session_sh(&s), 0, sizeof *s.sh);
	s.n_certs = s.total_certs = 0;
	s.cert_frame = 0;
	s.n_alerts = s.total_alerts = 0;
	s.n_events = s.total_events = 0;
	s.stage = TD_STAGE_CLIENT_HELLO;
	s.end = TD_END_OPEN;
	s.end_by = -1;
	td_session_finish(&s);
	td_report_session(cap_open(&cap), &o, &s);
	text = cap_close(&cap);
	assert_has_line(text, "#1 10.0.0.1:40004 -> 10.0.0.2:443  SNI server.example  INCOMPLETE "
			      "(last stage: ClientHello)");
	assert_has_line(text, "    ended               still open when the capture ended");
	ck_assert_ptr_null(strstr(text, "ServerHello ("));
	ck_assert_ptr_null(strstr(text, "Certificates"));
	ck_assert_ptr_null(strstr(text, "Alerts"));
	ck_assert_ptr_null(strstr(text, "Ladder"));
	free(text);
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_text_wraps)
{
	struct td_session s = {0};
	struct td_report_opts o = { 0 };
	struct capture cap;
	char *text, *line, shown[64];

	tls12_failed(&s, NULL);
	s.n_certs = 0;
	for (int i = 0; i < TD_MAX_SUITES; i++)
		td_session_ch(&s)->suites[i] = (uint16_t)(0xc000 + i);
	td_session_ch(&s)->n_suites = TD_MAX_SUITES;
	td_session_ch(&s)->total_suites = TD_MAX_SUITES + 173;
	td_report_session(cap_open(&cap), &o, &s);
	text = cap_close(&cap);
	snprintf(shown, sizeof shown, " (%d of %d shown)\n", TD_MAX_SUITES, TD_MAX_SUITES + 173);
	ck_assert_ptr_nonnull(strstr(text, shown));
	/* The list stays within 100 columns (the shown-count may overhang). */
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, "TLS_ECDH") && !strstr(line, "shown)"))
			ck_assert_msg(strlen(line) <= 100, "%zu columns: %s", strlen(line), line);
	free(text);
	td_session_clear(&s, NULL);
}
END_TEST

/* ---- untrusted strings ----------------------------------------------- */

START_TEST(test_escape_session)
{
	struct td_session s = {0};
	struct td_cert c;
	struct td_report_opts o = { 0 };
	struct capture cap;
	char *text;
	json_t *j;
	char *evil_san[] = { "DNS:a\033]0;pwn\007" };

	use_utc();
	fake_rsa_cert(&c);
	c.subject = "CN=\033[2J\xff\\";
	c.sans = evil_san;
	c.n_sans = 1;
	tls12_failed(&s, &c);
	memcpy(td_session_ch(&s)->sni.bytes, nasty, sizeof nasty);
	td_session_ch(&s)->sni.len = sizeof nasty;
	td_session_ch(&s)->alpn.name[0][0] = 0x1b;
	td_session_ch(&s)->alpn.name[0][1] = 0xc0;
	td_session_sh(&s)->alpn[0] = 0x00;

	td_report_session(cap_open(&cap), &o, &s);
	text = cap_close(&cap);
	ck_assert_ptr_null(strchr(text, '\033'));
	ck_assert_ptr_null(strchr(text, '\007'));
	ck_assert_ptr_nonnull(strstr(text, "  SNI evil\\x1b[31m\\x00\\xff\\xff\\\\.com  FAILED"));
	assert_has_line(text, "    SNI                 evil\\x1b[31m\\x00\\xff\\xff\\\\.com");
	assert_has_line(text, "    ALPN                \\x1b\\xc0, http/1.1");
	assert_has_line(text, "    [0] CN=\\x1b[2J\\xff\\\\");
	ck_assert_ptr_nonnull(strstr(text, "DNS:a\\x1b]0;pwn\\x07"));
	for (size_t i = 0; text[i]; i++)
		ck_assert_msg((unsigned char)text[i] >= 0x20 || text[i] == '\n', "control byte %d at %zu",
			      text[i], i);
	free(text);

	o.json = true;
	td_report_session(cap_open(&cap), &o, &s);
	text = cap_close(&cap);
	ck_assert_int_eq(assert_json_lines(text), 1);
	j = json_loads(text, 0, NULL);
	assert_jstr(j, "tls.client_hello.sni", "evil\033[31m\\u0000\\u00ff\\u00ff\\.com");
	assert_jstr(j, "tls.client_hello.alpn.0", "\033\\u00c0");
	assert_jstr(j, "tls.server_hello.alpn", "\\u00002");
	assert_jstr(j, "certificates.0.subject", "CN=\033[2J\\u00ff\\");
	json_decref(j);
	free(text);
	td_session_clear(&s, NULL);
}
END_TEST

/* ---- summary --------------------------------------------------------- */

static void fill_summary(struct td_summary *sum)
{
	static const char *const inputs[] = { "a.pcap", "b\033.pcap" };

	memset(sum, 0, sizeof *sum);
	sum->inputs = inputs;
	sum->n_inputs = 2;
	sum->packets = 1234;
	sum->bytes = 567890;
	sum->tcp_packets = 1200;
	sum->not_tcp = 30;
	sum->truncated = 4;
	sum->first_ts = T(1700000000, 123);
	sum->last_ts = T(1700000012, 345123);
	sum->have_ts = true;
	sum->connections_tls = 10;
	sum->connections_not_tls = 3;
	sum->by_outcome[TD_OUTCOME_COMPLETED] = 7;
	sum->by_outcome[TD_OUTCOME_FAILED] = 2;
	sum->by_outcome[TD_OUTCOME_INCOMPLETE] = 1;
	sum->alerts_total = 6;
	sum->alerts_by_desc_sender[20][1] = 2;
	sum->alerts_by_desc_sender[0][0] = 3;
	sum->alerts_by_desc_sender[200][0] = 1;
	sum->alerts_encrypted[1] = 1;
	sum->certs_distinct = 3;
	sum->x509_parses = 3;
	sum->x509_hits = 12;
	sum->hs_too_big = 1;
	sum->fragments = 5;
	sum->not_decoded[0] = (struct td_not_decoded){TD_UNKNOWN_GRE, 0x880B, 12};
	sum->not_decoded[1] = (struct td_not_decoded){TD_UNKNOWN_ETHERTYPE, 0x88CC, 3};
	sum->n_not_decoded = 2;
	sum->defrag.fragments = 5;
	sum->defrag.reassembled = 1;
	sum->defrag.overlaps = 1;
	sum->stopped = "truncated capture: b.pcap: packet record cut at byte 9000 (frame 77)";
}

START_TEST(test_summary_json)
{
	struct td_summary sum;
	json_t *j;

	use_utc();
	fill_summary(&sum);
	j = roundtrip(td_report_summary_json(&sum));
	assert_jstr(j, "type", "summary");
	ck_assert_int_eq(jint(j, "schema_version"), 1);
	assert_jstr(j, "inputs.0", "a.pcap");
	assert_jstr(j, "inputs.1", "b\033.pcap");
	ck_assert_int_eq(jint(j, "packets"), 1234);
	ck_assert_int_eq(jint(j, "bytes"), 567890);
	assert_jstr(j, "first_ts", "2023-11-14T22:13:20.000123Z");
	assert_jstr(j, "last_ts", "2023-11-14T22:13:32.345123Z");
	ck_assert_int_eq(jint(j, "decode.tcp"), 1200);
	ck_assert_int_eq(jint(j, "decode.not_tcp"), 30);
	ck_assert_int_eq(jint(j, "decode.fragments"), 5);
	assert_jstr(j, "decode.not_decoded.0.what", "GRE protocol 0x880b (PPP)");
	ck_assert_int_eq(jint(j, "decode.not_decoded.0.packets"), 12);
	assert_jstr(j, "decode.not_decoded.1.what", "ethertype 0x88cc (LLDP)");
	ck_assert_int_eq(jint(j, "decode.ip_reassembly.fragments"), 5);
	ck_assert_int_eq(jint(j, "decode.ip_reassembly.reassembled"), 1);
	ck_assert_int_eq(jint(j, "decode.ip_reassembly.overlaps"), 1);
	ck_assert_int_eq(jint(j, "decode.filtered_out"), 0);
	ck_assert_int_eq(jint(j, "connections.tls"), 10);
	ck_assert_int_eq(jint(j, "connections.not_tls"), 3);
	ck_assert_int_eq(jint(j, "connections.completed"), 7);
	ck_assert_int_eq(jint(j, "connections.failed"), 2);
	ck_assert_int_eq(jint(j, "connections.incomplete"), 1);
	ck_assert_int_eq(jint(j, "alerts.total"), 6);
	/* Most frequent first. */
	assert_jstr(j, "alerts.by_description.0.description", "close_notify");
	assert_jstr(j, "alerts.by_description.0.from", "client");
	ck_assert_int_eq(jint(j, "alerts.by_description.0.count"), 3);
	assert_jstr(j, "alerts.by_description.1.description", "bad_record_mac");
	assert_jstr(j, "alerts.by_description.1.from", "server");
	assert_jstr(j, "alerts.by_description.2.description", "unknown (200)");
	ck_assert_int_eq(jint(j, "alerts.encrypted.server"), 1);
	ck_assert_int_eq(jint(j, "certificates.distinct"), 3);
	ck_assert_int_eq(jint(j, "certificates.parsed"), 3);
	ck_assert_int_eq(jint(j, "certificates.cache_hits"), 12);
	ck_assert_int_eq(jint(j, "flows_evicted"), 0);
	ck_assert_int_eq(jint(j, "handshake_too_big"), 1);
	ck_assert_int_eq(jint(j, "desyncs"), 0);
	assert_jstr(j, "stopped", sum.stopped);
	json_decref(j);

	sum.stopped = NULL;
	sum.have_ts = false;
	j = roundtrip(td_report_summary_json(&sum));
	assert_jnull(j, "stopped");
	assert_jnull(j, "first_ts");
	assert_jnull(j, "last_ts");
	json_decref(j);
}
END_TEST

START_TEST(test_summary_text)
{
	struct td_summary sum;
	struct td_report_opts o = { 0 };
	struct capture cap;
	char *text;

	use_utc();
	fill_summary(&sum);
	td_report_summary(cap_open(&cap), &o, &sum);
	text = cap_close(&cap);
	assert_has_line(text, "Summary");
	assert_has_line(text, "  inputs                a.pcap, b\\x1b.pcap");
	assert_has_line(text, "  packets               1234 (567890 bytes)");
	assert_has_line(text, "  time span             2023-11-14 22:13:20.000123 - "
			      "2023-11-14 22:13:32.345123 UTC (12.345 s)");
	assert_has_line(text, "  decode                TCP 1200, not TCP 30, truncated 4, IP fragments 5");
	assert_has_line(text, "  not decoded           12 GRE protocol 0x880b (PPP), 3 ethertype 0x88cc (LLDP)");
	assert_has_line(text, "  IP reassembly         5 fragments, 1 datagrams rebuilt; dropped: 1 overlapping");
	assert_has_line(text, "  TLS connections       10: 7 completed, 2 failed, 1 incomplete");
	assert_has_line(text, "  other connections     3 not TLS");
	assert_has_line(text, "  alerts                6 (encrypted: client 0, server 1)");
	assert_has_line(text, "                        close_notify                 from client 3");
	assert_has_line(text, "                        bad_record_mac               from server 2");
	assert_has_line(text, "  certificates          3 distinct (3 parsed, 12 cache hits)");
	assert_has_line(text, "  handshake too big     1 messages skipped");
	assert_has_line(text, "WARNING: input not read to the end: truncated capture: b.pcap: "
			      "packet record cut at byte 9000 (frame 77)");
	ck_assert_ptr_null(strstr(text, "flows evicted"));
	ck_assert_ptr_null(strchr(text, '\033'));
	free(text);
}
END_TEST

/* Everything a run writes in JSON mode is JSON Lines that load. */
START_TEST(test_json_lines_stream)
{
	struct td_session s1 = {0}, s2 = {0};
	struct td_cert c;
	struct td_summary sum;
	struct td_report_opts o = { .json = true, .color = true };
	struct capture cap;
	FILE *f;
	char *text;

	fake_rsa_cert(&c);
	tls12_failed(&s1, &c);
	tls13_session(&s2);
	fill_summary(&sum);
	f = cap_open(&cap);
	td_report_session(f, &o, &s1);
	td_report_session(f, &o, &s2);
	td_report_summary(f, &o, &sum);
	text = cap_close(&cap);
	ck_assert_int_eq(assert_json_lines(text), 3);
	/* color is for text only */
	ck_assert_ptr_null(strstr(text, "\\u001b[1"));
	/* offsets print as the decimal they are */
	ck_assert_ptr_nonnull(strstr(text, "\"offset_ms\":345.0,"));
	free(text);
	td_session_clear(&s1, NULL);
	td_session_clear(&s2, NULL);
}
END_TEST

/* Random bytes are no valid bool: make each bool field 0 or 1. */
#define FIX_BOOL(b) ((b) = (*(const uint8_t *)&(b) & 1) != 0)

static void fix_bools(struct td_session *s, struct td_client_hello *ch, struct td_server_hello *sh,
		      struct td_chain_facts *chain, struct td_ocsp_facts *ocsp,
		      struct td_plain_text *plain, struct td_proxy_facts *proxy)
{
	FIX_BOOL(plain->reply.cut);
	FIX_BOOL(plain->reply.open);
	FIX_BOOL(plain->greeting.cut);
	FIX_BOOL(plain->greeting.open);
	FIX_BOOL(proxy->local);
	FIX_BOOL(s->syn_seen);
	FIX_BOOL(s->midstream);
	FIX_BOOL(s->roles_guessed);
	FIX_BOOL(s->is_tls);
	FIX_BOOL(ch->seen);
	FIX_BOOL(ch->has_sni);
	FIX_BOOL(sh->seen);
	FIX_BOOL(sh->session_id_echoed);
	FIX_BOOL(sh->hello_retry_request);
	FIX_BOOL(sh->has_alpn);
	FIX_BOOL(s->certs_encrypted);
	FIX_BOOL(s->cert_compressed);
	FIX_BOOL(s->client_cert_requested);
	FIX_BOOL(s->keys_given);
	FIX_BOOL(s->hrr_seen);
	FIX_BOOL(s->resumed);
	FIX_BOOL(ch->has_ticket);
	FIX_BOOL(ch->has_psk_identity);
	FIX_BOOL(ocsp->seen);
	FIX_BOOL(ocsp->parsed);
	FIX_BOOL(s->dec.ems);
	FIX_BOOL(s->dec.etm);
	FIX_BOOL(s->dec.failed);
	FIX_BOOL(chain->checked);
	FIX_BOOL(chain->order_ok);
	FIX_BOOL(chain->missing_intermediate);
	FIX_BOOL(chain->root_sent);
	FIX_BOOL(chain->self_signed_leaf);
	FIX_BOOL(chain->leaf_is_ca);
	FIX_BOOL(chain->ca_checked);
	FIX_BOOL(chain->ca_ok);
	FIX_BOOL(chain->expected_checked);
	FIX_BOOL(chain->expected_match);
	FIX_BOOL(chain->expected_same_key);
	FIX_BOOL(chain->broken);
	FIX_BOOL(chain->sni_history.known);
	FIX_BOOL(chain->sni_history.changed);
	FIX_BOOL(chain->sni_history.key_changed);
	FIX_BOOL(chain->sni_history.at_least);
	for (int i = 0; i < TD_MAX_ALERTS; i++) {
		FIX_BOOL(s->alerts[i].encrypted);
		FIX_BOOL(s->alerts[i].probable);
		FIX_BOOL(s->alerts[i].decrypted);
	}
	for (int d = 0; d < 2; d++) {
		FIX_BOOL(s->ccs_seen[d]);
		FIX_BOOL(s->encrypted[d]);
		FIX_BOOL(s->finished_seen[d]);
		FIX_BOOL(s->dec.app_secrets[d]);
	}
}

/* A session of random bytes (as a parser bug could leave one: counts above
 * the caps, names out of range, lengths past the arrays) still renders:
 * the text has no control byte but newlines, the JSON line loads. Only the
 * certificate pointers are cleared, since the struct holds references. */
START_TEST(test_garbage_session)
{
	struct td_report_opts text_o = { .verbose = 1 }, json_o = { .json = true };
	uint32_t x = 0x12345678u + (uint32_t)_i;
	struct td_session s = {0};
	static struct {
		struct td_event events[TD_MAX_EVENTS];
		struct td_alert alerts[TD_MAX_ALERTS];
		uint16_t cr_sigalgs[TD_MAX_CR_SIGALGS];
		uint8_t cr_ca_der[TD_MAX_CA_NAMES][TD_CA_NAME_LEN];
		struct td_new_ticket new_tickets[TD_MAX_TICKETS];
		struct td_client_hello_wide ch;
		struct td_chain_facts chain;
		struct td_hello_retry retry;
		struct td_plain_text plain;
		struct td_proxy_facts proxy;
		struct td_ocsp_facts ocsp;
		struct td_server_hello_wide sh; /* last: an over-read of it is an ASan error */
	} lists;
	static const struct td_cert *no_certs[TD_MAX_CHAIN], *no_client_certs[TD_MAX_CHAIN];
	struct capture cap;
	struct td_findings findings;
	struct td_ruleset *rules = td_rules_new();
	char err[512];
	char *text;

	/* the rules run on the garbage too, and their findings are reported */
	ck_assert_ptr_nonnull(rules);
	ck_assert_int_eq(td_rules_load_default(rules, err, sizeof err), TD_OK);
	for (int round = 0; round < 50; round++) {
		uint8_t *p = (uint8_t *)&s;

		for (size_t i = 0; i < sizeof s; i++) {
			x = x * 1103515245u + 12345u;
			p[i] = (uint8_t)(x >> 16);
		}
		/* the lists allocated on first use: full size, garbage too
		 * (the client's certificates are references: none) */
		for (size_t i = 0; i < sizeof lists; i++) {
			x = x * 1103515245u + 12345u;
			((uint8_t *)&lists)[i] = (uint8_t)(x >> 16);
		}
		s.events = lists.events;
		s.alerts = lists.alerts;
		s.cr_sigalgs = lists.cr_sigalgs;
		s.cr_ca_der = lists.cr_ca_der;
		s.new_tickets = lists.new_tickets;
		s.ch = td_client_hello_wide(&lists.ch);
		s.sh = td_server_hello_wide(&lists.sh);
		s.chain = &lists.chain;
		s.retry = &lists.retry;
		s.plain = &lists.plain;
		s.proxy = &lists.proxy;
		s.ocsp = &lists.ocsp;
		memset(no_certs, 0, sizeof no_certs);
		memset(no_client_certs, 0, sizeof no_client_certs);
		s.certs = no_certs;
		s.client_certs = no_client_certs;
		/* pointers and strings tlsdiag itself writes, not wire data */
		memset(s.cert_key_match, 0, sizeof s.cert_key_match);
		s.dec.key_files = NULL; /* borrowed --key paths */
		s.diagnosis = NULL;
		lists.chain.expected_path = NULL; /* borrowed from the configuration */
		memset(&s.ndpi, 0, sizeof s.ndpi); /* nDPI's names, not wire data */
		lists.ch.ch.ja3[0] = lists.sh.sh.ja3s[0] = lists.ch.ch.ja4[0] = lists.sh.sh.ja4s[0] = '\0';
		lists.retry.ja3[0] = lists.retry.ja4[0] = '\0';
		lists.retry.ja3s[0] = lists.retry.ja4s[0] = '\0';
		fix_bools(&s, &lists.ch.ch, &lists.sh.sh, &lists.chain, &lists.ocsp, &lists.plain,
			  &lists.proxy);
		s.findings = NULL;
		td_rules_eval(rules, &s, &findings);
		ck_assert_uint_le(findings.n, TD_MAX_FINDINGS);
		s.findings = &findings;
		td_report_session(cap_open(&cap), &text_o, &s);
		text = cap_close(&cap);
		for (size_t i = 0; text[i]; i++)
			ck_assert_msg((unsigned char)text[i] >= 0x20 || text[i] == '\n',
				      "control byte 0x%02x at %zu", (unsigned char)text[i], i);
		free(text);
		td_report_session(cap_open(&cap), &json_o, &s);
		text = cap_close(&cap);
		ck_assert_int_eq(assert_json_lines(text), 1);
		ck_assert_msg(strncmp(text, "{\"type\":\"connection\",", 21) == 0, "%.80s", text);
		free(text);
		assert_line_is_tree(&s, "garbage session");
	}
	td_rules_free(rules); /* s's lists are the static garbage above */
}
END_TEST

/* td_report_json_dump() writes what jansson's own json_dumps() writes
 * with the report's flags: jansson is the reference. Random trees of every
 * value type, strings with every control byte, quotes, backslashes and
 * UTF-8, integers at the extremes, reals of every magnitude (exponents
 * both ways, negative zero, integral values), and a string longer than the
 * writer's buffer. */
static uint64_t dump_rng;

static uint32_t dump_rand(void)
{
	dump_rng = dump_rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(dump_rng >> 33);
}

static json_t *dump_string(void)
{
	static const char *const utf8[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x92", "/", "\x7f"};
	size_t len = dump_rand() % 8 == 0 ? 9000 + dump_rand() % 100 : dump_rand() % 40;
	char *b = malloc(len * 4 + 1);
	size_t n = 0;

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < len; i++) {
		uint32_t r = dump_rand() % 10;

		if (r < 3) {
			b[n++] = (char)(dump_rand() % 0x20); /* control bytes, NUL too */
		} else if (r < 5) {
			b[n++] = "\"\\"[dump_rand() % 2];
		} else if (r < 6) {
			const char *u = utf8[dump_rand() % 5];

			memcpy(b + n, u, strlen(u));
			n += strlen(u);
		} else {
			b[n++] = (char)(0x20 + dump_rand() % 0x5f);
		}
	}
	json_t *v = json_stringn(b, n);

	free(b);
	return v;
}

static json_t *dump_tree(int depth)
{
	static const double reals[] = {0.0, -0.0, 1.0, -2.5, 12.345, 1e-7, 1.5e-300, 1e21, 3e300,
				       123456789012345678.0, 0.1, 2.0 / 3.0, -1e-5, 1e15, 1e16};
	uint32_t kind = dump_rand() % (depth > 4 ? 6 : 8);

	switch (kind) {
	case 0: return json_null();
	case 1: return json_boolean(dump_rand() % 2);
	case 2: {
		static const json_int_t ints[] = {0, 1, -1, 9, 10, -10, INT64_MAX, INT64_MIN, 1234567890123LL};

		return json_integer(dump_rand() % 2 ? ints[dump_rand() % 9]
						    : (json_int_t)dump_rand() - (json_int_t)dump_rand());
	}
	case 3: {
		double d = reals[dump_rand() % 15];

		return json_real(dump_rand() % 2 ? d : d * (double)(dump_rand() % 1000) / 7.0);
	}
	case 4:
	case 5: return dump_string();
	case 6: {
		json_t *a = json_array();
		uint32_t n = dump_rand() % 6;

		for (uint32_t i = 0; i < n; i++)
			json_array_append_new(a, dump_tree(depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		uint32_t n = dump_rand() % 6;

		for (uint32_t i = 0; i < n; i++) {
			json_t *k = dump_string();

			json_object_set_new(o, json_string_value(k), dump_tree(depth + 1));
			json_decref(k);
		}
		return o;
	}
	}
}

/* td_report_json_dump(v) is json_dumps(v) byte for byte; drops v. */
static void assert_dump_as_jansson(json_t *v, unsigned round)
{
	char *want = json_dumps(v, TD_REPORT_JSON_FLAGS | JSON_ENCODE_ANY);
	char *got = NULL;
	size_t got_len = 0;
	FILE *f = open_memstream(&got, &got_len);

	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(td_report_json_dump(f, v), 0);
	ck_assert_int_eq(fclose(f), 0);
	size_t at = 0;

	while (at < got_len && want[at] && got[at] == want[at])
		at++;
	at = at > 60 ? at - 60 : 0;
	ck_assert_msg(got_len == strlen(want) && memcmp(got, want, got_len) == 0,
		      "round %u, from byte %zu: want %.200s\n got %.200s", round, at, want + at,
		      got + at);
	free(got);
	free(want);
	json_decref(v);
}

START_TEST(test_json_dump_as_jansson)
{
	for (unsigned round = 0; round < 2000; round++) {
		dump_rng = round + 1;
		assert_dump_as_jansson(dump_tree(round % 3 ? 5 : 0), round);
	}
	/* The writer skips 8 bytes at a time while none needs an escape:
	 * one special byte (each control byte, '"', '\\', and the bytes
	 * around them: 0x1f/0x20, '!', '#', '[', ']', 0x7f, UTF-8) at every
	 * position of strings of 0 to 24 bytes. */
	{
		static const char specials[] = "\x01\x1f\x20!\"#[\\]\x7f\n\t\x00";
		json_t *a = json_array();

		for (size_t len = 0; len <= 24; len++)
			for (size_t at = 0; at < len; at++)
				for (size_t k = 0; k < sizeof specials - 1 + 1; k++) {
					char b[32];

					memset(b, 'a' + (char)(len % 26), len);
					if (k < sizeof specials - 1)
						b[at] = specials[k];
					else if (at + 1 < len)
						memcpy(b + at, "\xc3\xa9", 2);
					json_array_append_new(a, json_stringn(b, len));
				}
		assert_dump_as_jansson(a, 0);
	}
	/* Reals that are whole thousandths (the timeline's offset_ms) take
	 * the writer's path without snprintf(): every magnitude, both signs,
	 * trailing zeros, the doubles td_report_ms() makes from seconds and
	 * microseconds, and their neighbours one ulp away. */
	dump_rng = 7;
	for (unsigned round = 0; round < 200; round++) {
		json_t *a = json_array();

		for (unsigned i = 0; i < 200; i++) {
			int64_t k = (int64_t)(((uint64_t)dump_rand() << 32 | dump_rand()) %
					      (i % 4 == 0 ? 1000ULL : i % 4 == 1 ? 10000000ULL
							  : i % 4 == 2 ? 1000000000000ULL
								       : 999999999999999ULL));
			double d = (double)(i % 2 ? -k : k) / 1000.0;
			struct td_time t0 = T(1700000000, (int32_t)(dump_rand() % 1000000));
			struct td_time t1 = T(1700000000 + (int64_t)(dump_rand() % 100000),
					      (int32_t)(dump_rand() % 1000000));

			json_array_append_new(a, json_real(d));
			json_array_append_new(a, json_real(td_report_ms(t0, t1)));
			json_array_append_new(a, json_real(nextafter(d, 1e300)));
			json_array_append_new(a, json_real(nextafter(d, -1e300)));
			json_array_append_new(a, json_real((double)k));
		}
		json_array_append_new(a, json_real(-0.0));
		json_array_append_new(a, json_real(0.001));
		json_array_append_new(a, json_real(999999999999.999));
		json_array_append_new(a, json_real(-999999999999.999));
		json_array_append_new(a, json_real(1e12));
		assert_dump_as_jansson(a, round);
	}
}
END_TEST

/* A JSON line is written without a tree (report_json.c's text backend):
 * it is what jansson's json_dumps() writes for the tree
 * td_report_session_json() / td_report_summary_json() return, jansson's
 * allocator is still libc's after each line, and a jansson value made
 * before a line stays valid and is freed with free() after it. */
START_TEST(test_json_line_tree)
{
	struct td_session s[2] = {{0}};
	struct td_cert c;
	struct td_summary sum;
	struct td_report_opts o = { .json = true };
	struct capture cap;
	json_malloc_t m;
	json_free_t f;
	json_t *before = json_pack("{s:s,s:[i,i]}", "kept", "across lines", "n", 1, 2);

	use_utc();
	fake_rsa_cert(&c);
	tls12_failed(&s[0], &c);
	tls13_session(&s[1]);
	fill_summary(&sum);
	ck_assert_ptr_nonnull(before);
	for (unsigned i = 0; i < 3; i++) {
		json_t *tree = i < 2 ? td_report_session_json(&s[i]) : td_report_summary_json(&sum);
		char *want = json_dumps(tree, TD_REPORT_JSON_FLAGS), *got;

		ck_assert_ptr_nonnull(want);
		if (i < 2)
			td_report_session(cap_open(&cap), &o, &s[i]);
		else
			td_report_summary(cap_open(&cap), &o, &sum);
		got = cap_close(&cap);
		ck_assert_uint_eq(strlen(got), strlen(want) + 1);
		ck_assert_int_eq(memcmp(got, want, strlen(want)), 0);
		ck_assert_int_eq(got[strlen(want)], '\n');
		json_get_alloc_funcs(&m, &f);
		ck_assert_ptr_eq(m, malloc);
		ck_assert_ptr_eq(f, free);
		free(got);
		free(want);
		json_decref(tree);
	}
	char *kept = json_dumps(before, JSON_COMPACT);
	ck_assert_str_eq(kept, "{\"kept\":\"across lines\",\"n\":[1,2]}");
	free(kept);
	json_decref(before);
	td_session_clear(&s[0], NULL);
	td_session_clear(&s[1], NULL);
}
END_TEST

/* Every connection of every sample, as tlsdiag reports it (chain checks,
 * cross-connection history, the default rules' findings, the diagnosis):
 * the --json line is json_dumps() of the tree, byte for byte. */
struct line_run {
	const char *file;
	struct td_ruleset *rules;
	struct td_consistency *consistency;
	struct td_findings findings;
	struct td_diagnosis diag;
	unsigned sessions;
};

static void line_run_session(void *user, struct td_session *s)
{
	struct line_run *r = user;
	struct td_chain_facts *f = td_session_chain(s);

	ck_assert_ptr_nonnull(f);
	td_chain_check(f, s, NULL);
	td_consistency_add(r->consistency, s, f);
	td_rules_eval(r->rules, s, &r->findings);
	s->findings = &r->findings;
	td_diagnose(s, r->file, &r->diag);
	s->diagnosis = r->diag.n ? &r->diag : NULL;
	assert_line_is_tree(s, r->file);
	r->sessions++;
}

START_TEST(test_json_line_samples)
{
	struct line_run r = { 0 };
	char err[512];
	glob_t g;
	unsigned total = 0;

	use_utc();
	r.rules = td_rules_new();
	ck_assert_ptr_nonnull(r.rules);
	ck_assert_int_eq(td_rules_load_default(r.rules, err, sizeof err), TD_OK);
	td_test_sample_captures(&g);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct td_x509_cache *cache = td_x509_cache_new(64);
		struct td_engine_config cfg;
		struct td_engine *eng;
		struct td_capture *cap;
		enum td_capture_status st;
		struct td_packet pkt;

		r.file = g.gl_pathv[i];
		r.sessions = 0;
		r.consistency = td_consistency_new(64);
		ck_assert_ptr_nonnull(cache);
		ck_assert_ptr_nonnull(r.consistency);
		td_engine_config_default(&cfg);
		cfg.classify = false; /* nDPI's start-up per engine; its object is
				       * covered by the garbage sessions */
		eng = td_engine_new(&cfg, cache, line_run_session, &r);
		ck_assert_ptr_nonnull(eng);
		cap = td_capture_open_file(r.file, NULL, &st, err, sizeof err);
		ck_assert_msg(cap != NULL, "%s", err);
		while (td_capture_next(cap, &pkt, err, sizeof err) == TD_CAP_OK)
			td_engine_packet(eng, pkt.linktype, pkt.frame, pkt.ts, pkt.data, pkt.caplen,
					 pkt.wirelen);
		td_engine_finish(eng);
		td_capture_close(cap);
		td_engine_free(eng);
		td_x509_cache_free(cache);
		td_consistency_free(r.consistency);
		total += r.sessions;
	}
	/* every sample holds a connection (samples/README.md) */
	ck_assert_uint_ge(total, g.gl_pathc);
	globfree(&g);
	td_rules_free(r.rules);
}
END_TEST

Suite *td_report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *util = tcase_create("util");
	TCase *json = tcase_create("json");
	TCase *text = tcase_create("text");

	tcase_add_test(util, test_utf8_seq);
	tcase_add_test(util, test_escape_term);
	tcase_add_test(util, test_json_wire);
	tcase_add_test(util, test_time_format);
	tcase_add_test(util, test_hex_colon);
	tcase_add_test(util, test_report_buf);
	tcase_add_test(util, test_buf_printf_conversions);
	tcase_add_test(util, test_text_helpers);
	tcase_add_test(util, test_ladder_offsets_and_addr);
	tcase_add_test(util, test_dec_at_and_ip);
	tcase_add_test(util, test_time_cached);
	tcase_add_test(util, test_handshake_names);
	/* the formatter against vsnprintf takes seconds under the sanitizers */
	tcase_set_timeout(util, 60);
	suite_add_tcase(s, util);

	tcase_add_test(json, test_json_tls12_failed);
	tcase_add_test(json, test_json_tls13_hidden);
	tcase_add_test(json, test_json_no_server_hello);
	tcase_add_test(json, test_json_ipv6_ec_unparsed);
	tcase_add_test(json, test_summary_json);
	tcase_add_test(json, test_json_lines_stream);
	tcase_add_test(json, test_json_dump_as_jansson);
	tcase_add_test(json, test_json_line_tree);
	tcase_add_test(json, test_json_line_samples);
	suite_add_tcase(s, json);

	tcase_add_test(text, test_text_tls12_failed);
	tcase_add_test(text, test_text_tls13_and_color);
	tcase_add_test(text, test_text_no_server_hello);
	tcase_add_test(text, test_text_wraps);
	tcase_add_test(text, test_escape_session);
	tcase_add_test(text, test_summary_text);
	tcase_add_loop_test(text, test_garbage_session, 0, 4);
	/* random sessions through the rules and both writers, under sanitizers */
	tcase_set_timeout(text, 60);
	suite_add_tcase(s, text);
	return s;
}
