/* check_keylog.c - the NSS key log parser (td_keylog.h).
 *
 * The sample key logs (written by libssl through Python) are read by
 * tlsdiag and, independently, by awk and sscanf here; every secret must
 * agree. A hand-made key log with every kind of garbage gives the exact
 * warnings at the exact line numbers and keeps its good lines. Duplicates
 * keep the line read last. Files that cannot be loaded give their exact
 * one-line error. Every prefix of a key log parses, and keeps exactly the
 * lines it holds whole.
 *
 * Environment: TD_SAMPLES (the samples folder, default samples).
 */
#include <check.h>

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "td_keylog.h"
#include "td_test_util.h"

static const char *samples(void)
{
	const char *s = getenv("TD_SAMPLES");
	return s ? s : "samples";
}

/* Decodes hex with sscanf, independently of the parser; returns the byte
 * count, or -1 when it is not an even run of hex digits. */
static int unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		char two[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
		if (!strchr("0123456789abcdefABCDEF", two[0]) ||
		    !strchr("0123456789abcdefABCDEF", two[1]) || sscanf(two, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

/* The labels by name, written out here rather than taken from the parser. */
static const struct {
	const char *name;
	enum td_keylog_label label;
} label_names[] = {
	{"CLIENT_RANDOM", TD_KL_CLIENT_RANDOM},
	{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", TD_KL_CLIENT_HANDSHAKE},
	{"SERVER_HANDSHAKE_TRAFFIC_SECRET", TD_KL_SERVER_HANDSHAKE},
	{"CLIENT_TRAFFIC_SECRET_0", TD_KL_CLIENT_TRAFFIC_0},
	{"SERVER_TRAFFIC_SECRET_0", TD_KL_SERVER_TRAFFIC_0},
	{"EARLY_TRAFFIC_SECRET", TD_KL_EARLY_TRAFFIC},
	{"EXPORTER_SECRET", TD_KL_EXPORTER},
};
#define N_LABELS (sizeof label_names / sizeof label_names[0])

static int label_of(const char *name)
{
	for (size_t i = 0; i < N_LABELS; i++)
		if (strcmp(label_names[i].name, name) == 0)
			return (int)label_names[i].label;
	return -1;
}

/* td_keylog_parse over an exact-size copy of text, so ASan sees a read one
 * past the end. */
static void parse_bytes(struct td_keylog *kl, const void *text, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(copy);
	if (n)
		memcpy(copy, text, n);
	ck_assert_int_eq(td_keylog_parse(kl, "mem.keylog", n ? copy : NULL, n), TD_OK);
	free(copy);
}

static void fill_hex(char *dst, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(dst + 2 * i, "%02x", b[i]);
}

/* ---- the samples --------------------------------------------------------- */

/* One sample key log: every "LABEL random secret" line awk sees must be
 * found with the same bytes, and nothing else is kept. Returns the number
 * of secrets checked. */
static unsigned check_sample_keylog(const char *path)
{
	struct td_keylog kl;
	char err[512] = "";
	unsigned checked = 0, rsa = 0;

	ck_assert_msg(td_keylog_load(&kl, path, err, sizeof err) == TD_OK, "%s", err);
	ck_assert_str_eq(kl.path, path);
	char *wc = td_test_sh(NULL, "wc -l < '%s'", path);
	ck_assert_int_eq(kl.lines, strtoul(wc, NULL, 10));
	free(wc);
	char *lines =
		td_test_sh(NULL, "awk 'NF && $1 !~ /^#/ { print $1, $2, $3, NF }' '%s'", path);
	char *save = NULL;
	for (char *ln = strtok_r(lines, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
		char name[64], cr_hex[65], sec_hex[97];
		uint8_t cr[32], want[48], got[TD_KEYLOG_MAX_SECRET];
		int nf;
		ck_assert_msg(sscanf(ln, "%63s %64s %96s %d", name, cr_hex, sec_hex, &nf) == 4,
			      "%s: %s", path, ln);
		ck_assert_int_eq(nf, 3);
		if (strcmp(name, "RSA") == 0) { /* libssl logs these with RSA key exchange */
			ck_assert_int_eq(unhex(cr_hex, cr, 8), 8);
			ck_assert_int_eq(unhex(sec_hex, want, sizeof want), 48);
			memset(got, 0xee, sizeof got);
			ck_assert_uint_eq(td_keylog_find_rsa(&kl, cr, got), 48);
			ck_assert_msg(memcmp(got, want, 48) == 0, "%s: %s differs", path, ln);
			checked++;
			rsa++;
			continue;
		}
		int l = label_of(name);
		ck_assert_msg(l >= 0, "%s: label %s", path, name);
		ck_assert_str_eq(td_keylog_label_name((enum td_keylog_label)l), name);
		ck_assert_int_eq(unhex(cr_hex, cr, sizeof cr), 32);
		int n = unhex(sec_hex, want, sizeof want);
		ck_assert_msg(n == 32 || n == 48, "%s: %s", path, ln);
		memset(got, 0xee, sizeof got);
		ck_assert_uint_eq(td_keylog_find(&kl, cr, (enum td_keylog_label)l, got), (size_t)n);
		ck_assert_msg(memcmp(got, want, (size_t)n) == 0, "%s: secret of %s differs", path,
			      ln);
		ck_assert(td_keylog_has(&kl, cr));
		checked++;
	}
	free(lines);
	ck_assert_uint_eq(kl.secrets, checked);
	ck_assert_uint_eq(kl.n_entries, checked - rsa);
	ck_assert_uint_eq(kl.n_rsa, rsa);
	ck_assert_uint_eq(kl.malformed, 0);
	ck_assert_uint_eq(kl.unknown_labels, 0);
	ck_assert_uint_eq(kl.duplicates, 0);
	ck_assert_uint_eq(kl.n_warnings, 0);
	td_keylog_free(&kl);
	return checked;
}

START_TEST(test_samples)
{
	char pattern[1024];
	glob_t g;
	unsigned files = 0, secrets = 0;

	for (int pass = 0; pass < 2; pass++) {
		snprintf(pattern, sizeof pattern, pass ? "%s/link/*.keylog" : "%s/*.keylog",
			 samples());
		if (glob(pattern, 0, NULL, &g) != 0)
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++) {
			secrets += check_sample_keylog(g.gl_pathv[i]);
			files++;
		}
		globfree(&g);
	}
	ck_assert_uint_ge(files, 8);
	ck_assert_uint_ge(secrets, 10);
}
END_TEST

/* The TLS 1.3 sample: the five secrets of one handshake, one client random. */
START_TEST(test_sample_tls13)
{
	char path[1024], err[512];
	struct td_keylog kl;
	uint8_t cr[32], out[TD_KEYLOG_MAX_SECRET];
	enum td_keylog_label l;

	snprintf(path, sizeof path, "%s/tls13-ok.keylog", samples());
	ck_assert_msg(td_keylog_load(&kl, path, err, sizeof err) == TD_OK, "%s", err);
	ck_assert_uint_eq(kl.n_entries, 5);
	/* one client random: sorted by label after it, in enum order */
	ck_assert_uint_eq(td_keylog_entry_at(&kl, 0, cr, &l, out), 32);
	ck_assert_int_eq(l, TD_KL_CLIENT_HANDSHAKE);
	uint8_t first[32];
	memcpy(first, cr, 32);
	static const enum td_keylog_label order[] = {TD_KL_CLIENT_HANDSHAKE,
		TD_KL_SERVER_HANDSHAKE, TD_KL_CLIENT_TRAFFIC_0, TD_KL_SERVER_TRAFFIC_0,
		TD_KL_EXPORTER};
	for (size_t i = 0; i < 5; i++) {
		ck_assert_uint_eq(td_keylog_entry_at(&kl, i, cr, &l, out), 32);
		ck_assert_int_eq(l, order[i]);
		ck_assert(memcmp(cr, first, 32) == 0);
	}
	ck_assert_uint_eq(td_keylog_entry_at(&kl, 5, cr, &l, out), 0);
	ck_assert_uint_eq(td_keylog_find(&kl, first, TD_KL_EARLY_TRAFFIC, out), 0);
	first[31] ^= 1;
	ck_assert(!td_keylog_has(&kl, first));
	ck_assert_uint_eq(td_keylog_find(&kl, first, TD_KL_CLIENT_HANDSHAKE, out), 0);
	td_keylog_free(&kl);
}
END_TEST

/* ---- garbage --------------------------------------------------------------- */

/* Fixed test values: client random i starts with i (32 bits, big-endian),
 * then bytes that vary with i. */
static void make_random(uint8_t cr[32], unsigned i)
{
	for (unsigned j = 0; j < 32; j++)
		cr[j] = j < 4 ? (uint8_t)(i >> (8 * (3 - j))) : (uint8_t)(i * 7 + j);
}

static void make_secret(uint8_t *s, size_t n, unsigned seed)
{
	for (size_t j = 0; j < n; j++)
		s[j] = (uint8_t)(seed * 31 + j * 7 + 1);
}

/* A growing text buffer for building key logs. */
struct text {
	char *p;
	size_t n, cap;
};

static void put(struct text *t, const void *data, size_t n)
{
	if (t->cap - t->n < n + 1) {
		t->cap = 2 * (t->n + n + 1);
		t->p = realloc(t->p, t->cap);
		ck_assert_ptr_nonnull(t->p);
	}
	memcpy(t->p + t->n, data, n);
	t->n += n;
	t->p[t->n] = '\0';
}

static void puts_(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

static void put_hex(struct text *t, const uint8_t *b, size_t n)
{
	char buf[2 * 64 + 1];
	ck_assert_uint_le(n, 64);
	fill_hex(buf, b, n);
	put(t, buf, 2 * n);
}

/* "<label> <random i> <secret>" plus end. */
static void put_line(struct text *t, const char *label, unsigned i, const uint8_t *sec, size_t n,
		     const char *end)
{
	uint8_t cr[32];
	make_random(cr, i);
	puts_(t, label);
	puts_(t, " ");
	put_hex(t, cr, 32);
	puts_(t, " ");
	put_hex(t, sec, n);
	puts_(t, end);
}

static const struct {
	uint32_t line;
	const char *text;
} garbage_warnings[] = {
	{3, "not a key log line"},
	{4, "line longer than 1024 bytes"},
	{5, "client random is not 64 hex digits"},
	{6, "secret is not hex"},
	{7, "missing secret"},
	{11, "secret is not 64 or 96 hex digits"},
	{12, "extra field after the secret"},
	{15, "encrypted pre-master secret prefix is not 16 hex digits"},
	/* line 17 "missing client random" is counted, not described */
};

/* The garbage key log: 18 lines, the last without a newline. */
static void make_garbage(struct text *t)
{
	uint8_t ms1[48], ms1b[48], ms[48], s32[32], pms[48], cr[32];
	static const uint8_t binary[] = {0x00, 0x01, 0xfe, 0xff, ' ', 0x80, '\t', 'x', '\r', '\n'};
	char hex[97];

	make_secret(ms1, 48, 1);
	make_secret(ms1b, 48, 2);
	make_secret(ms, 48, 3);
	make_secret(s32, 32, 4);
	make_secret(pms, 48, 5);
	puts_(t, "# a comment\n");                                       /* 1 */
	put_line(t, "CLIENT_RANDOM", 1, ms1, 48, "\r\n");                /* 2: CRLF */
	put(t, binary, sizeof binary);                                   /* 3 */
	for (int i = 0; i < 5000; i++)                                   /* 4 */
		puts_(t, i % 100 ? "A" : " ");
	puts_(t, "\n");
	make_random(cr, 2);                                              /* 5: 63 digits */
	fill_hex(hex, cr, 32);
	hex[63] = '\0';
	puts_(t, "CLIENT_RANDOM ");
	puts_(t, hex);
	puts_(t, " ");
	put_hex(t, ms, 48);
	puts_(t, "\n");
	make_random(cr, 2);                                              /* 6: 'g' */
	puts_(t, "CLIENT_RANDOM ");
	put_hex(t, cr, 32);
	fill_hex(hex, ms, 48);
	hex[10] = 'g';
	puts_(t, " ");
	puts_(t, hex);
	puts_(t, "\n");
	puts_(t, "CLIENT_RANDOM ");                                      /* 7 */
	put_hex(t, cr, 32);
	puts_(t, "  \t\n");
	make_random(cr, 3);                                              /* 8: tabs */
	puts_(t, "\tCLIENT_HANDSHAKE_TRAFFIC_SECRET\t");
	put_hex(t, cr, 32);
	puts_(t, "\t\t ");
	put_hex(t, s32, 32);
	puts_(t, " \t\n");
	puts_(t, "\n");                                                  /* 9 */
	put_line(t, "CLIENT_RANDOM", 1, ms1b, 48, "\n");                 /* 10: replaces 2 */
	fill_hex(hex, ms, 48);                                           /* 11: 95 digits */
	hex[95] = '\0';
	put_line(t, "SERVER_TRAFFIC_SECRET_0", 3, ms, 0, "");
	puts_(t, hex);
	puts_(t, "\n");
	put_line(t, "CLIENT_RANDOM", 3, ms, 48, " extra\n");             /* 12 */
	put_line(t, "FUTURE_SECRET", 4, ms, 48, "\n");                   /* 13: unknown */
	puts_(t, "RSA 0011223344556677 ");                                /* 14 */
	put_hex(t, pms, 48);
	puts_(t, "\n");
	puts_(t, "RSA 001122334455667 ");                                 /* 15 */
	put_hex(t, pms, 48);
	puts_(t, "\n");
	make_random(cr, 5);                                              /* 16: upper case */
	fill_hex(hex, cr, 32);
	for (char *c = hex; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	puts_(t, "CLIENT_RANDOM ");
	puts_(t, hex);
	fill_hex(hex, ms, 48);
	for (char *c = hex; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	puts_(t, " ");
	puts_(t, hex);
	puts_(t, "\n");
	puts_(t, "CLIENT_RANDOM\n");                                     /* 17 */
	put_line(t, "CLIENT_RANDOM", 6, ms, 48, "");                     /* 18: no newline */
}

static void check_garbage(const struct td_keylog *kl)
{
	uint8_t cr[32], out[TD_KEYLOG_MAX_SECRET], want[48];

	ck_assert_uint_eq(kl->lines, 18);
	ck_assert_uint_eq(kl->malformed, 9);
	ck_assert_uint_eq(kl->unknown_labels, 1);
	ck_assert_uint_eq(kl->secrets, 6);
	ck_assert_uint_eq(kl->duplicates, 1);
	ck_assert_uint_eq(kl->n_entries, 4);
	ck_assert_uint_eq(kl->n_rsa, 1);
	ck_assert_uint_eq(kl->n_warnings, TD_KEYLOG_MAX_WARNINGS);
	for (size_t i = 0; i < TD_KEYLOG_MAX_WARNINGS; i++) {
		ck_assert_uint_eq(kl->warnings[i].line, garbage_warnings[i].line);
		ck_assert_str_eq(kl->warnings[i].text, garbage_warnings[i].text);
	}
	/* line 10 replaced line 2 */
	make_random(cr, 1);
	make_secret(want, 48, 2);
	ck_assert_uint_eq(td_keylog_find(kl, cr, TD_KL_CLIENT_RANDOM, out), 48);
	ck_assert(memcmp(out, want, 48) == 0);
	/* every line for random 2 was malformed */
	make_random(cr, 2);
	ck_assert(!td_keylog_has(kl, cr));
	/* line 8 (tabs), and not line 11 or 12 */
	make_random(cr, 3);
	make_secret(want, 32, 4);
	ck_assert_uint_eq(td_keylog_find(kl, cr, TD_KL_CLIENT_HANDSHAKE, out), 32);
	ck_assert(memcmp(out, want, 32) == 0);
	ck_assert_uint_eq(td_keylog_find(kl, cr, TD_KL_SERVER_TRAFFIC_0, out), 0);
	ck_assert_uint_eq(td_keylog_find(kl, cr, TD_KL_CLIENT_RANDOM, out), 0);
	/* unknown label: nothing kept */
	make_random(cr, 4);
	ck_assert(!td_keylog_has(kl, cr));
	/* line 16, written in upper case */
	make_random(cr, 5);
	make_secret(want, 48, 3);
	ck_assert_uint_eq(td_keylog_find(kl, cr, TD_KL_CLIENT_RANDOM, out), 48);
	ck_assert(memcmp(out, want, 48) == 0);
	/* line 18, without a newline */
	make_random(cr, 6);
	ck_assert_uint_eq(td_keylog_find(kl, cr, TD_KL_CLIENT_RANDOM, out), 48);
	ck_assert(memcmp(out, want, 48) == 0);
	/* line 14 */
	static const uint8_t prefix[8] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
	uint8_t bad_prefix[8] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x78};
	make_secret(want, 48, 5);
	ck_assert_uint_eq(td_keylog_find_rsa(kl, prefix, out), 48);
	ck_assert(memcmp(out, want, 48) == 0);
	ck_assert_uint_eq(td_keylog_find_rsa(kl, bad_prefix, out), 0);
}

START_TEST(test_garbage)
{
	struct text t = {0};
	struct td_keylog kl;
	char dir[] = "/tmp/td_keylog_XXXXXX", path[256], err[512] = "";

	make_garbage(&t);
	parse_bytes(&kl, t.p, t.n);
	ck_assert_str_eq(kl.path, "mem.keylog");
	check_garbage(&kl);
	td_keylog_free(&kl);

	/* the same given in pieces, as a file is read: lines, the CRLF of
	 * line 2 and the over-long line 4 (5,000 bytes) split everywhere,
	 * pieces around the longest line kept (1024, with its '\r' 1025) */
	static const size_t pieces[] = {1, 2, 3, 7, 64, 1023, 1024, 1025, 1026, 1027, 4096, 9999};
	for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
		ck_assert_int_eq(td_keylog_parse_pieces(&kl, "mem.keylog", (const uint8_t *)t.p, t.n,
							pieces[i]),
				 TD_OK);
		check_garbage(&kl);
		td_keylog_free(&kl);
	}

	/* the same from a file */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	td_test_write_file(dir, "garbage.keylog", t.p, t.n);
	snprintf(path, sizeof path, "%s/garbage.keylog", dir);
	ck_assert_msg(td_keylog_load(&kl, path, err, sizeof err) == TD_OK, "%s", err);
	ck_assert_str_eq(kl.path, path);
	check_garbage(&kl);
	td_keylog_free(&kl);
	td_test_run(NULL, NULL, "rm -rf '%s'", dir);
	free(t.p);
}
END_TEST

/* The 9th malformed line is counted; a 10th line that is the first
 * problem of its kind is still not described: the list is full. */
START_TEST(test_warning_cap)
{
	struct text t = {0};
	struct td_keylog kl;

	for (int i = 0; i < 20; i++)
		puts_(&t, "CLIENT_RANDOM zz\n");
	parse_bytes(&kl, t.p, t.n);
	ck_assert_uint_eq(kl.malformed, 20);
	ck_assert_uint_eq(kl.n_warnings, TD_KEYLOG_MAX_WARNINGS);
	for (unsigned i = 0; i < TD_KEYLOG_MAX_WARNINGS; i++) {
		ck_assert_uint_eq(kl.warnings[i].line, i + 1);
		ck_assert_str_eq(kl.warnings[i].text, "client random is not hex");
	}
	td_keylog_free(&kl);
	free(t.p);
}
END_TEST

/* Exact texts for one line each. */
static const struct {
	const char *line;
	const char *warning; /* NULL: good; "" unknown label */
} one_line_cases[] = {
	{"CLIENT_RANDOM", "missing client random"},
	{"CLIENT_RANDOM \t ", "missing client random"},
	{"CLIENT_RANDOM 0g", "client random is not hex"},
	{"CLIENT_RANDOM 00", "client random is not 64 hex digits"},
	{"RSA", "missing encrypted pre-master secret prefix"},
	{"RSA 00112233445566zz", "encrypted pre-master secret prefix is not hex"},
	{"RSA 0011223344556677", "missing secret"},
	{"RSA 0011223344556677 00", "secret is not 96 hex digits"},
	{"RSA 0011223344556677 xx", "secret is not hex"},
	{"client_random 00", ""},
	{"PMS_CLIENT_RANDOM 00 11", ""},
	{"CLIENT-RANDOM 00 11", "not a key log line"},
	{"\x01", "not a key log line"},
	{"  # indented comment", NULL},
	{"#CLIENT_RANDOM x", NULL},
	{" \t ", NULL},
	{"\r", NULL},
};
#define N_ONE_LINE (sizeof one_line_cases / sizeof one_line_cases[0])

START_TEST(test_one_line)
{
	struct td_keylog kl;
	const char *line = one_line_cases[_i].line, *want = one_line_cases[_i].warning;

	parse_bytes(&kl, line, strlen(line));
	ck_assert_uint_eq(kl.lines, 1);
	ck_assert_uint_eq(kl.secrets, 0);
	if (want && want[0]) {
		ck_assert_uint_eq(kl.malformed, 1);
		ck_assert_uint_eq(kl.n_warnings, 1);
		ck_assert_uint_eq(kl.warnings[0].line, 1);
		ck_assert_str_eq(kl.warnings[0].text, want);
	} else {
		ck_assert_uint_eq(kl.malformed, 0);
		ck_assert_uint_eq(kl.unknown_labels, want ? 1 : 0);
	}
	td_keylog_free(&kl);
}
END_TEST

/* Secret lengths per label: TLS 1.3 takes 32 or 48 bytes, CLIENT_RANDOM
 * only 48; a 1024-byte line is fine, 1025 is not (the terminator is not
 * counted, "\r\n" or "\n"). */
START_TEST(test_lengths_and_limit)
{
	struct text t = {0};
	struct td_keylog kl;
	uint8_t s[48], out[TD_KEYLOG_MAX_SECRET], cr[32];

	make_secret(s, 48, 9);
	put_line(&t, "CLIENT_RANDOM", 1, s, 32, "\n");            /* 1: too short */
	put_line(&t, "SERVER_HANDSHAKE_TRAFFIC_SECRET", 1, s, 48, "\n");
	put_line(&t, "EARLY_TRAFFIC_SECRET", 1, s, 32, "\n");
	put_line(&t, "EXPORTER_SECRET", 1, s, 40, "\n");         /* 4: 80 digits */
	size_t start = t.n;                                      /* 5: 1024 bytes */
	put_line(&t, "CLIENT_RANDOM", 2, s, 48, "");
	while (t.n - start < 1024)
		puts_(&t, " ");
	puts_(&t, "\r\n");
	start = t.n;                                             /* 6: 1025 bytes */
	put_line(&t, "CLIENT_RANDOM", 3, s, 48, "");
	while (t.n - start < 1025)
		puts_(&t, " ");
	puts_(&t, "\n");
	/* whole, and in pieces as a file is read: the longest line kept,
	 * 1024 bytes and its '\r', split at every place, and one over it */
	static const size_t pieces[] = {0, 1, 7, 500, 1023, 1024, 1025, 1026, 1100};
	for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
		ck_assert_int_eq(td_keylog_parse_pieces(&kl, "mem.keylog", (const uint8_t *)t.p,
							t.n, pieces[p]),
				 TD_OK);
		ck_assert_uint_eq(kl.lines, 6);
		ck_assert_uint_eq(kl.malformed, 3);
		ck_assert_uint_eq(kl.warnings[0].line, 1);
		ck_assert_str_eq(kl.warnings[0].text, "secret is not 96 hex digits");
		ck_assert_uint_eq(kl.warnings[1].line, 4);
		ck_assert_str_eq(kl.warnings[1].text, "secret is not 64 or 96 hex digits");
		ck_assert_uint_eq(kl.warnings[2].line, 6);
		ck_assert_str_eq(kl.warnings[2].text, "line longer than 1024 bytes");
		make_random(cr, 1);
		ck_assert_uint_eq(td_keylog_find(&kl, cr, TD_KL_SERVER_HANDSHAKE, out), 48);
		ck_assert_uint_eq(td_keylog_find(&kl, cr, TD_KL_EARLY_TRAFFIC, out), 32);
		ck_assert(memcmp(out, s, 32) == 0);
		make_random(cr, 2);
		ck_assert_uint_eq(td_keylog_find(&kl, cr, TD_KL_CLIENT_RANDOM, out), 48);
		make_random(cr, 3);
		ck_assert(!td_keylog_has(&kl, cr));
		td_keylog_free(&kl);
	}
	free(t.p);
}
END_TEST

/* The entries in strictly increasing (random, label) order. */
static void check_sorted(const struct td_keylog *kl)
{
	uint8_t prev[32], cr[32], out[TD_KEYLOG_MAX_SECRET];
	enum td_keylog_label pl = TD_KL_COUNT, l;

	for (size_t i = 0; i < kl->n_entries; i++) {
		ck_assert_uint_gt(td_keylog_entry_at(kl, i, cr, &l, out), 0);
		if (i) {
			int c = memcmp(prev, cr, 32);
			ck_assert(c < 0 || (c == 0 && pl < l));
		}
		memcpy(prev, cr, 32);
		pl = l;
	}
}

/* Many secrets in scrambled order, some written two or three times: the
 * last line for each (random, label) wins, whatever order qsort leaves. */
START_TEST(test_duplicates)
{
	enum { N = 300 };
	struct text t = {0};
	struct td_keylog kl;
	unsigned last_seed[N][2];
	unsigned dups = 0, rsa_last = 0;
	uint32_t x = 12345;
	uint8_t s[48], out[TD_KEYLOG_MAX_SECRET], cr[32];

	memset(last_seed, 0, sizeof last_seed);
	for (unsigned k = 0; k < 3 * N; k++) {
		x = x * 1103515245u + 12345u;
		unsigned i = (x >> 8) % N, which = (x >> 20) & 1, seed = k + 1;
		make_secret(s, 48, seed);
		put_line(&t, which ? "CLIENT_TRAFFIC_SECRET_0" : "CLIENT_RANDOM", i, s,
			 which ? 32 : 48, "\n");
		if (last_seed[i][which])
			dups++;
		last_seed[i][which] = seed;
		if (k % 100 == 0) { /* the same RSA prefix again and again */
			puts_(&t, "RSA 0102030405060708 ");
			put_hex(&t, s, 48);
			puts_(&t, "\n");
			if (rsa_last)
				dups++;
			rsa_last = seed;
		}
	}
	parse_bytes(&kl, t.p, t.n);
	ck_assert_uint_eq(kl.malformed, 0);
	ck_assert_uint_eq(kl.duplicates, dups);
	ck_assert_uint_eq(kl.secrets, 3 * N + 9);
	ck_assert_uint_eq(kl.n_entries + kl.n_rsa + kl.duplicates, kl.secrets);
	size_t kept = 0;
	for (unsigned i = 0; i < N; i++) {
		make_random(cr, i);
		for (unsigned w = 0; w < 2; w++) {
			enum td_keylog_label l = w ? TD_KL_CLIENT_TRAFFIC_0 : TD_KL_CLIENT_RANDOM;
			size_t n = td_keylog_find(&kl, cr, l, out);
			if (!last_seed[i][w]) {
				ck_assert_uint_eq(n, 0);
				continue;
			}
			kept++;
			make_secret(s, 48, last_seed[i][w]);
			ck_assert_uint_eq(n, w ? 32 : 48);
			ck_assert_msg(memcmp(out, s, n) == 0, "random %u label %u", i, w);
		}
	}
	ck_assert_uint_eq(kept, kl.n_entries);
	static const uint8_t prefix[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	make_secret(s, 48, rsa_last);
	ck_assert_uint_eq(td_keylog_find_rsa(&kl, prefix, out), 48);
	ck_assert(memcmp(out, s, 48) == 0);
	check_sorted(&kl);
	td_keylog_free(&kl);
	free(t.p);
}
END_TEST

/* A key log of 20,000 lines whose client randoms come in 64 groups
 * sharing their first 8 bytes (the parser sorts by those first, then by
 * the rest and the label), every label, lines repeated out of order, both
 * line ends, blanks of both kinds, and RSA lines under 16 prefixes. The
 * secret kept for each (random, label) must be the one written last, as
 * this test's own bookkeeping has it; the entries in strictly increasing
 * order, as many as there are distinct keys. */
enum { SG_GROUPS = 64, SG_MEMBERS = 200, SG_LINES = 20000, SG_RSA = 16 };

static void group_random(uint8_t cr[32], unsigned g, unsigned m)
{
	for (unsigned j = 0; j < 32; j++)
		cr[j] = j < 8 ? (uint8_t)(j == 7 ? g : 0xA0 + j) : (uint8_t)(m * 3 + j);
	cr[8] = (uint8_t)(m * 37); /* not in m's order */
	cr[9] = (uint8_t)(m >> 8);
}

START_TEST(test_sort_at_scale)
{
	struct text t = {0};
	struct td_keylog kl;
	unsigned *last = calloc((size_t)SG_GROUPS * SG_MEMBERS * TD_KL_COUNT, sizeof *last);
	uint8_t *last_len = calloc((size_t)SG_GROUPS * SG_MEMBERS * TD_KL_COUNT, 1);
	unsigned rsa_last[SG_RSA] = {0};
	unsigned secrets = 0, distinct = 0, rsa_distinct = 0;
	uint32_t x = 777;
	uint8_t cr[32], s[48], out[TD_KEYLOG_MAX_SECRET];

	ck_assert_ptr_nonnull(last);
	ck_assert_ptr_nonnull(last_len);
	for (unsigned k = 1; k <= SG_LINES; k++) {
		x = x * 1103515245u + 12345u;
		unsigned g = (x >> 4) % SG_GROUPS, m = (x >> 10) % SG_MEMBERS;
		unsigned l = (x >> 18) % TD_KL_COUNT, len = l == TD_KL_CLIENT_RANDOM || (x >> 25) & 1 ? 48 : 32;
		size_t key = ((size_t)g * SG_MEMBERS + m) * TD_KL_COUNT + l;
		const char *blank = (x >> 27) & 1 ? "\t " : " ", *end = (x >> 28) & 1 ? "\r\n" : "\n";

		group_random(cr, g, m);
		make_secret(s, len, k);
		puts_(&t, label_names[l].name);
		puts_(&t, blank);
		put_hex(&t, cr, 32);
		puts_(&t, blank);
		put_hex(&t, s, len);
		puts_(&t, end);
		secrets++;
		if (!last[key])
			distinct++;
		last[key] = k;
		last_len[key] = (uint8_t)len;
		if (k % 50 == 0) {
			unsigned r = (x >> 5) % SG_RSA;
			uint8_t prefix[8] = {0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, (uint8_t)r};

			make_secret(s, 48, k + SG_LINES);
			puts_(&t, "RSA ");
			put_hex(&t, prefix, 8);
			puts_(&t, " ");
			put_hex(&t, s, 48);
			puts_(&t, end);
			secrets++;
			if (!rsa_last[r])
				rsa_distinct++;
			rsa_last[r] = k + SG_LINES;
		}
	}
	for (unsigned i = 0; i < TD_KL_COUNT; i++) /* the lines named label i */
		ck_assert(label_names[i].label == (enum td_keylog_label)i);
	parse_bytes(&kl, t.p, t.n);
	ck_assert_uint_eq(kl.malformed, 0);
	ck_assert_uint_eq(kl.secrets, secrets);
	ck_assert_uint_eq(kl.n_entries, distinct);
	ck_assert_uint_eq(kl.n_rsa, rsa_distinct);
	ck_assert_uint_eq(kl.duplicates, secrets - distinct - rsa_distinct);
	for (unsigned g = 0; g < SG_GROUPS; g++)
		for (unsigned m = 0; m < SG_MEMBERS; m++) {
			group_random(cr, g, m);
			bool any = false;
			for (unsigned l = 0; l < TD_KL_COUNT; l++) {
				size_t key = ((size_t)g * SG_MEMBERS + m) * TD_KL_COUNT + l;
				size_t n = td_keylog_find(&kl, cr, (enum td_keylog_label)l, out);

				any |= last[key] != 0;
				ck_assert_uint_eq(n, last[key] ? last_len[key] : 0);
				make_secret(s, n, last[key]);
				ck_assert_msg(memcmp(out, s, n) == 0, "group %u member %u label %u", g, m, l);
			}
			ck_assert(td_keylog_has(&kl, cr) == any);
		}
	for (unsigned r = 0; r < SG_RSA; r++) {
		uint8_t prefix[8] = {0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, (uint8_t)r};

		ck_assert_uint_eq(td_keylog_find_rsa(&kl, prefix, out), rsa_last[r] ? 48 : 0);
		make_secret(s, 48, rsa_last[r]);
		ck_assert(!rsa_last[r] || memcmp(out, s, 48) == 0);
	}
	check_sorted(&kl);
	td_keylog_free(&kl);
	free(t.p);
	free(last);
	free(last_len);
}
END_TEST

/* A file is read 1 MiB at a time: a CRLF line whose '\r' is the last
 * byte of the first MiB, a 3,000-byte line across the next boundary, and
 * a good line right after it, without a newline at the end of the file. */
START_TEST(test_load_across_pieces)
{
	enum { MIB = 1 << 20 };
	char dir[] = "/tmp/td_keylog_XXXXXX", path[256], err[512] = "";
	struct text t = {0}, a = {0};
	struct td_keylog kl;
	uint8_t s1[48], s2[48], cr[32], out[TD_KEYLOG_MAX_SECRET];
	uint32_t filler = 0;

	make_secret(s1, 48, 11);
	make_secret(s2, 48, 12);
	put_line(&a, "CLIENT_RANDOM", 21, s1, 48, "\r\n");
	/* comment lines up to where line A must start */
	while (t.n + a.n + 100 < MIB + 1) {
		puts_(&t, "# ");
		for (int i = 0; i < 97; i++)
			puts_(&t, "x");
		puts_(&t, "\n");
		filler++;
	}
	while (t.n + a.n < MIB + 1) { /* '\r' at MIB - 1 */
		puts_(&t, "#\n");
		filler++;
	}
	put(&t, a.p, a.n);
	ck_assert_uint_eq(t.n, MIB + 1);
	ck_assert_int_eq(t.p[MIB - 1], '\r');
	while (t.n < 2 * MIB - 1000) {
		puts_(&t, "#\n");
		filler++;
	}
	for (int i = 0; i < 3000; i++) /* over the boundary at 2 MiB */
		puts_(&t, "Z");
	puts_(&t, "\n");
	put_line(&t, "CLIENT_RANDOM", 22, s2, 48, "");
	ck_assert_uint_gt(t.n, 2 * MIB);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	td_test_write_file(dir, "pieces.keylog", t.p, t.n);
	snprintf(path, sizeof path, "%s/pieces.keylog", dir);
	ck_assert_msg(td_keylog_load(&kl, path, err, sizeof err) == TD_OK, "%s", err);
	ck_assert_uint_eq(kl.lines, filler + 3);
	ck_assert_uint_eq(kl.secrets, 2);
	ck_assert_uint_eq(kl.malformed, 1);
	ck_assert_uint_eq(kl.n_warnings, 1);
	ck_assert_uint_eq(kl.warnings[0].line, filler + 2);
	ck_assert_str_eq(kl.warnings[0].text, "line longer than 1024 bytes");
	make_random(cr, 21);
	ck_assert_uint_eq(td_keylog_find(&kl, cr, TD_KL_CLIENT_RANDOM, out), 48);
	ck_assert(memcmp(out, s1, 48) == 0);
	make_random(cr, 22);
	ck_assert_uint_eq(td_keylog_find(&kl, cr, TD_KL_CLIENT_RANDOM, out), 48);
	ck_assert(memcmp(out, s2, 48) == 0);
	td_keylog_free(&kl);
	td_test_run(NULL, NULL, "rm -rf '%s'", dir);
	free(t.p);
	free(a.p);
}
END_TEST

/* ---- files ----------------------------------------------------------------- */

START_TEST(test_load_errors)
{
	char dir[] = "/tmp/td_keylog_XXXXXX", path[256], err[512], want[600];
	struct td_keylog kl;

	ck_assert_ptr_nonnull(mkdtemp(dir));

	snprintf(path, sizeof path, "%s/missing.keylog", dir);
	ck_assert_int_eq(td_keylog_load(&kl, path, err, sizeof err), TD_ERR_IO);
	snprintf(want, sizeof want, "%s: no such file", path);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(kl.path);
	td_keylog_free(&kl);

	ck_assert_int_eq(td_keylog_load(&kl, dir, err, sizeof err), TD_ERR_IO);
	snprintf(want, sizeof want, "%s: not a regular file", dir);
	ck_assert_str_eq(err, want);
	td_keylog_free(&kl);

	snprintf(path, sizeof path, "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(td_keylog_load(&kl, path, err, sizeof err), TD_ERR_IO);
	snprintf(want, sizeof want, "%s: not a regular file", path);
	ck_assert_str_eq(err, want);

	/* sparse: nothing is written, fstat is enough to refuse it */
	snprintf(path, sizeof path, "%s/huge.keylog", dir);
	free(td_test_sh(NULL, "truncate -s 300M '%s'", path));
	ck_assert_int_eq(td_keylog_load(&kl, path, err, sizeof err), TD_ERR_TOO_BIG);
	snprintf(want, sizeof want, "%s: larger than 256 MiB", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(td_keylog_load(&kl, path, NULL, 0), TD_ERR_TOO_BIG);

	td_test_write_file(dir, "empty.keylog", "", 0);
	snprintf(path, sizeof path, "%s/empty.keylog", dir);
	ck_assert_int_eq(td_keylog_load(&kl, path, err, sizeof err), TD_OK);
	ck_assert_uint_eq(kl.lines, 0);
	ck_assert_uint_eq(kl.secrets, 0);
	ck_assert_uint_eq(kl.n_entries, 0);
	uint8_t cr[32] = {0}, out[TD_KEYLOG_MAX_SECRET];
	ck_assert(!td_keylog_has(&kl, cr));
	ck_assert_uint_eq(td_keylog_find(&kl, cr, TD_KL_CLIENT_RANDOM, out), 0);
	ck_assert_uint_eq(td_keylog_find_rsa(&kl, cr, out), 0);
	td_keylog_free(&kl);

	td_test_run(NULL, NULL, "rm -rf '%s'", dir);
}
END_TEST

START_TEST(test_api_edges)
{
	struct td_keylog kl;
	uint8_t cr[32] = {0}, out[TD_KEYLOG_MAX_SECRET];
	enum td_keylog_label l;

	memset(&kl, 0, sizeof kl);
	td_keylog_free(&kl);
	td_keylog_free(&kl);
	td_keylog_free(NULL);
	ck_assert_uint_eq(td_keylog_find(&kl, cr, TD_KL_CLIENT_RANDOM, out), 0);
	ck_assert_uint_eq(td_keylog_find(&kl, cr, TD_KL_COUNT, out), 0);
	ck_assert_uint_eq(td_keylog_entry_at(&kl, 0, cr, &l, out), 0);
	ck_assert(!td_keylog_has(NULL, cr));
	ck_assert_str_eq(td_keylog_label_name(TD_KL_COUNT), "unknown");
	for (size_t i = 0; i < N_LABELS; i++)
		ck_assert_str_eq(td_keylog_label_name(label_names[i].label), label_names[i].name);
	ck_assert_int_eq(td_keylog_parse(&kl, "x", NULL, 0), TD_OK);
	ck_assert_uint_eq(kl.lines, 0);
	td_keylog_free(&kl);
	ck_assert_int_eq(td_keylog_parse(&kl, "x", out, TD_KEYLOG_MAX_FILE + 1), TD_ERR_TOO_BIG);
	ck_assert_ptr_null(kl.path);
}
END_TEST

/* ---- truncation sweep -------------------------------------------------- */

/* Every prefix of a key log: the lines it holds whole are kept, the cut
 * line is at most one malformed line, nothing else changes. */
static void sweep(const uint8_t *text, size_t n)
{
	struct td_keylog full, kl;

	parse_bytes(&full, text, n);
	ck_assert_uint_eq(full.malformed, 0);
	for (size_t k = 0; k <= n; k++) {
		size_t newlines = 0, last_nl = 0;
		for (size_t i = 0; i < k; i++)
			if (text[i] == '\n') {
				newlines++;
				last_nl = i + 1;
			}
		parse_bytes(&kl, text, k);
		ck_assert_uint_eq(kl.lines, newlines + (k > last_nl));
		ck_assert_uint_le(kl.malformed, 1);
		ck_assert_uint_le(kl.secrets + kl.malformed + kl.unknown_labels, kl.lines);
		/* each entry of the prefix is one of the full log's, same bytes */
		for (size_t i = 0; i < kl.n_entries; i++) {
			uint8_t cr[32], a[TD_KEYLOG_MAX_SECRET], b[TD_KEYLOG_MAX_SECRET];
			enum td_keylog_label l;
			size_t len = td_keylog_entry_at(&kl, i, cr, &l, a);
			ck_assert_uint_eq(td_keylog_find(&full, cr, l, b), len);
			ck_assert(memcmp(a, b, len) == 0);
		}
		/* the whole lines are all there: parse the prefix up to the last
		 * newline and compare counts */
		struct td_keylog whole;
		parse_bytes(&whole, text, last_nl);
		ck_assert_uint_eq(whole.malformed, 0);
		ck_assert_uint_ge(kl.n_entries, whole.n_entries);
		ck_assert_uint_le(kl.n_entries, whole.n_entries + 1);
		td_keylog_free(&whole);
		td_keylog_free(&kl);
	}
	ck_assert_uint_gt(full.n_entries, 0);
	td_keylog_free(&full);
}

START_TEST(test_truncation_sweep)
{
	static const char *const names[] = {"tls13-ok.keylog", "tls12-ecdhe-ok.keylog"};
	for (size_t i = 0; i < 2; i++) {
		size_t n;
		uint8_t *text = td_test_read_file(samples(), names[i], &n);
		sweep(text, n);
		free(text);
	}
}
END_TEST

Suite *td_keylog_suite(void)
{
	Suite *s = suite_create("keylog");
	TCase *tc = tcase_create("parse");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_samples);
	tcase_add_test(tc, test_sample_tls13);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_warning_cap);
	tcase_add_loop_test(tc, test_one_line, 0, (int)N_ONE_LINE);
	tcase_add_test(tc, test_lengths_and_limit);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_sort_at_scale);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_load_across_pieces);
	tcase_add_test(tc, test_api_edges);
	tcase_add_test(tc, test_truncation_sweep);
	suite_add_tcase(s, tc);
	return s;
}
