/* keylog.c - the NSS key log format (see td_keylog.h for the syntax).
 *
 * The file is read whole (capped), then walked through the bounds-checked
 * reader: each line is a sub-reader over its bytes, each field a sub-reader
 * over its characters, and hex is decoded from those. Nothing here indexes
 * the file's bytes directly (STYLE.md rule 2).
 *
 * Secrets go into two arrays (TLS secrets by client random and label, RSA
 * pre-master secrets by the first 8 bytes of their encrypted form). They
 * are sorted once when the file is read, duplicates are dropped keeping the
 * line read last (Wireshark replaces an earlier secret with a later one),
 * and lookups are binary searches. The sort key includes the line number,
 * so the result does not depend on qsort's (unstable) order.
 *
 * Everything that held a secret is wiped before it is freed: the file's
 * buffer, the arrays (also the old array when one grows), the stack copies.
 * This file includes openssl/crypto.h for OPENSSL_cleanse and nothing else.
 */
#include "td_keylog.h"

#include "td_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "td_reader.h"

#define CLIENT_RANDOM_LEN 32 /* RFC 5246 §7.4.1.2, RFC 8446 §4.1.2 */
#define MASTER_LEN 48        /* RFC 5246 §8.1 */
#define RSA_PREFIX_LEN 8     /* Wireshark: first 8 bytes of the encrypted PMS */
#define PMS_LEN 48           /* RFC 5246 §7.4.7.1 */
#define SECRET_MAX 48        /* TLS 1.3 secrets: the hash length, 32 or 48 */
#define LABEL_MAX 64         /* longer first fields are not labels */

struct td_keylog_entry {
	uint8_t random[CLIENT_RANDOM_LEN];
	uint8_t label; /* enum td_keylog_label */
	uint8_t len;   /* of secret */
	uint8_t secret[SECRET_MAX];
	uint32_t line; /* where it was read: the last one wins */
};

struct td_keylog_rsa {
	uint8_t prefix[RSA_PREFIX_LEN];
	uint8_t pms[PMS_LEN];
	uint32_t line;
};

/* The labels, in enum order, with the secret lengths each accepts (bytes)
 * and the warning for any other length. */
static const struct label_def {
	const char *name;
	uint8_t len_a, len_b;
	const char *wrong_len;
} labels[TD_KL_COUNT] = {
	[TD_KL_CLIENT_RANDOM] = {"CLIENT_RANDOM", MASTER_LEN, MASTER_LEN,
				 "secret is not 96 hex digits"},
	[TD_KL_CLIENT_HANDSHAKE] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", 32, 48,
				    "secret is not 64 or 96 hex digits"},
	[TD_KL_SERVER_HANDSHAKE] = {"SERVER_HANDSHAKE_TRAFFIC_SECRET", 32, 48,
				    "secret is not 64 or 96 hex digits"},
	[TD_KL_CLIENT_TRAFFIC_0] = {"CLIENT_TRAFFIC_SECRET_0", 32, 48,
				    "secret is not 64 or 96 hex digits"},
	[TD_KL_SERVER_TRAFFIC_0] = {"SERVER_TRAFFIC_SECRET_0", 32, 48,
				    "secret is not 64 or 96 hex digits"},
	[TD_KL_EARLY_TRAFFIC] = {"EARLY_TRAFFIC_SECRET", 32, 48,
				 "secret is not 64 or 96 hex digits"},
	[TD_KL_EXPORTER] = {"EXPORTER_SECRET", 32, 48, "secret is not 64 or 96 hex digits"},
};

const char *td_keylog_label_name(enum td_keylog_label l)
{
	if ((unsigned)l >= TD_KL_COUNT)
		return "unknown";
	return labels[l].name;
}

/* ---- reading the file --------------------------------------------------- */

/* ---- storage ------------------------------------------------------------- */

/* The parse in progress: what is kept, and the arrays' capacities. */
struct parse {
	struct td_keylog *kl;
	size_t cap_entries;
	size_t cap_rsa;
	uint32_t line; /* number of the line being read, from 1 */
};

/* Makes room for one more element in *arr (n used of *cap, each size
 * bytes). Not realloc: the old array holds secrets and is wiped before it
 * is freed. */
static enum td_err grow(void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return TD_OK;
	size_t ncap = *cap ? 2 * *cap : 16;
	void *na = calloc(ncap, size);
	if (!na)
		return TD_ERR_NOMEM;
	if (*arr) {
		memcpy(na, *arr, n * size);
		OPENSSL_cleanse(*arr, n * size);
		free(*arr);
	}
	*arr = na;
	*cap = ncap;
	return TD_OK;
}

static enum td_err add_entry(struct parse *ps, const uint8_t random[CLIENT_RANDOM_LEN],
			     enum td_keylog_label label, const uint8_t *secret, size_t len)
{
	struct td_keylog *kl = ps->kl;
	void *arr = kl->entries;
	enum td_err e = grow(&arr, &ps->cap_entries, kl->n_entries, sizeof *kl->entries);

	kl->entries = arr;
	if (e != TD_OK)
		return e;
	struct td_keylog_entry *en = &kl->entries[kl->n_entries++];
	memcpy(en->random, random, CLIENT_RANDOM_LEN);
	en->label = (uint8_t)label;
	en->len = (uint8_t)len;
	memcpy(en->secret, secret, len);
	en->line = ps->line;
	return TD_OK;
}

static enum td_err add_rsa(struct parse *ps, const uint8_t prefix[RSA_PREFIX_LEN],
			   const uint8_t pms[PMS_LEN])
{
	struct td_keylog *kl = ps->kl;
	void *arr = kl->rsa;
	enum td_err e = grow(&arr, &ps->cap_rsa, kl->n_rsa, sizeof *kl->rsa);

	kl->rsa = arr;
	if (e != TD_OK)
		return e;
	struct td_keylog_rsa *r = &kl->rsa[kl->n_rsa++];
	memcpy(r->prefix, prefix, RSA_PREFIX_LEN);
	memcpy(r->pms, pms, PMS_LEN);
	r->line = ps->line;
	return TD_OK;
}

/* Orders by client random, then label; cmp_entry adds the line number. */
static int cmp_entry_key(const void *a, const void *b)
{
	const struct td_keylog_entry *x = a, *y = b;
	int c = memcmp(x->random, y->random, CLIENT_RANDOM_LEN);

	if (c)
		return c;
	return (x->label > y->label) - (x->label < y->label);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct td_keylog_entry *x = a, *y = b;
	int c = cmp_entry_key(a, b);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int cmp_entry_random(const void *a, const void *b)
{
	const struct td_keylog_entry *x = a, *y = b;

	return memcmp(x->random, y->random, CLIENT_RANDOM_LEN);
}

static int cmp_rsa_key(const void *a, const void *b)
{
	const struct td_keylog_rsa *x = a, *y = b;

	return memcmp(x->prefix, y->prefix, RSA_PREFIX_LEN);
}

static int cmp_rsa(const void *a, const void *b)
{
	const struct td_keylog_rsa *x = a, *y = b;
	int c = cmp_rsa_key(a, b);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Sorts n elements of base and keeps, of each run that compares equal
 * under same, only the last one (the highest line number). Returns how
 * many are left; the slots freed are wiped. */
static size_t sort_unique(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *),
			  int (*same)(const void *, const void *))
{
	uint8_t *b = base;
	size_t w = 0;

	if (n == 0)
		return 0;
	qsort(base, n, size, cmp);
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && same(b + i * size, b + (i + 1) * size) == 0)
			continue; /* a later line replaces this one */
		if (w != i)
			memcpy(b + w * size, b + i * size, size);
		w++;
	}
	OPENSSL_cleanse(b + w * size, (n - w) * size);
	return w;
}

/* ---- parsing ------------------------------------------------------------- */

static bool is_blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Skips blanks, then opens field over the next run of non-blank bytes.
 * False when the line has no field left. */
static bool next_field(struct td_reader *line, struct td_reader *field)
{
	uint8_t c;
	size_t n = 0;

	while (td_peek_u8(line, 0, &c) == TD_OK && is_blank(c))
		if (td_read_skip(line, 1) != TD_OK)
			return false;
	while (td_peek_u8(line, n, &c) == TD_OK && !is_blank(c))
		n++;
	return n > 0 && td_read_sub(line, n, field) == TD_OK;
}

enum hex_result { HEX_OK, HEX_NOT_HEX, HEX_BAD_LEN };

/* Decodes field, hex digits of either case, into out when it holds exactly
 * 2 * len_a or 2 * len_b digits (out has room for the larger); *outlen is
 * the number of bytes. Digits are all checked before the length, so "not
 * hex" wins over "wrong length". */
static enum hex_result read_hex(struct td_reader *field, size_t len_a, size_t len_b, uint8_t *out,
				size_t *outlen)
{
	struct td_reader scan = *field;
	size_t digits = td_reader_left(field);
	uint8_t c, hi, lo;

	while (td_read_u8(&scan, &c) == TD_OK)
		if (hex_value(c) < 0)
			return HEX_NOT_HEX;
	if (digits != 2 * len_a && digits != 2 * len_b)
		return HEX_BAD_LEN;
	for (size_t i = 0; i < digits / 2; i++) {
		if (td_read_u8(field, &hi) != TD_OK || td_read_u8(field, &lo) != TD_OK)
			return HEX_BAD_LEN;
		out[i] = (uint8_t)(hex_value(hi) << 4 | hex_value(lo));
	}
	*outlen = digits / 2;
	return HEX_OK;
}

/* Counts a malformed line and describes it while there is room. */
static void malformed(struct parse *ps, const char *text)
{
	struct td_keylog *kl = ps->kl;

	kl->malformed++;
	if (kl->n_warnings < TD_KEYLOG_MAX_WARNINGS) {
		struct td_keylog_warning *w = &kl->warnings[kl->n_warnings++];
		w->line = ps->line;
		td_err_format(w->text, sizeof w->text, "%s", text);
	}
}

/* A label is a word of letters, digits and '_', at most LABEL_MAX long. */
static bool is_word(const struct td_reader *field)
{
	struct td_reader r = *field;
	uint8_t c;

	if (td_reader_left(&r) > LABEL_MAX)
		return false;
	while (td_read_u8(&r, &c) == TD_OK)
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
	return true;
}

static bool field_is(const struct td_reader *field, const char *name)
{
	struct td_reader r = *field;
	size_t n = strlen(name);
	const uint8_t *p;

	return td_reader_left(&r) == n && td_read_ptr(&r, &p, n) == TD_OK &&
	       memcmp(p, name, n) == 0;
}

/* What one line holds, decoded (wiped after each line). */
struct line_fields {
	uint8_t first[CLIENT_RANDOM_LEN]; /* client random, or the RSA prefix */
	uint8_t secret[SECRET_MAX];
	size_t first_len, secret_len;
};

/* One hex field: the lengths it may have (bytes) and the warning for each
 * way it can be wrong. */
struct hex_spec {
	size_t len_a, len_b;
	const char *missing, *not_hex, *wrong_len;
};

/* "<first> <secret>" after the label, and nothing after them. Returns the
 * warning, or NULL when the line is good. */

static const char *read_pair(struct td_reader *line, const struct hex_spec *first,
			     const struct hex_spec *second, struct line_fields *f)
{
	struct td_reader field;
	enum hex_result h;

	if (!next_field(line, &field))
		return first->missing;
	h = read_hex(&field, first->len_a, first->len_b, f->first, &f->first_len);
	if (h != HEX_OK)
		return h == HEX_NOT_HEX ? first->not_hex : first->wrong_len;
	if (!next_field(line, &field))
		return second->missing;
	h = read_hex(&field, second->len_a, second->len_b, f->secret, &f->secret_len);
	if (h != HEX_OK)
		return h == HEX_NOT_HEX ? second->not_hex : second->wrong_len;
	if (next_field(line, &field))
		return "extra field after the secret";
	return NULL;
}

static const struct hex_spec client_random_spec = {
	CLIENT_RANDOM_LEN, CLIENT_RANDOM_LEN, "missing client random", "client random is not hex",
	"client random is not 64 hex digits"};
static const struct hex_spec rsa_prefix_spec = {
	RSA_PREFIX_LEN, RSA_PREFIX_LEN, "missing encrypted pre-master secret prefix",
	"encrypted pre-master secret prefix is not hex",
	"encrypted pre-master secret prefix is not 16 hex digits"};
static const struct hex_spec rsa_pms_spec = {PMS_LEN, PMS_LEN, "missing secret",
					     "secret is not hex", "secret is not 96 hex digits"};

/* One line, without its terminator. Only running out of memory stops the
 * parse; everything else is a counted line. */
static enum td_err parse_line(struct parse *ps, struct td_reader *line)
{
	struct td_keylog *kl = ps->kl;
	struct td_reader label;
	struct line_fields f;
	const char *bad;
	enum td_err e = TD_OK;
	uint8_t c;

	if (!next_field(line, &label))
		return TD_OK; /* blank */
	if (td_peek_u8(&label, 0, &c) == TD_OK && c == '#')
		return TD_OK; /* comment */
	if (!is_word(&label)) {
		malformed(ps, "not a key log line");
		return TD_OK;
	}
	memset(&f, 0, sizeof f);
	if (field_is(&label, "RSA")) {
		bad = read_pair(line, &rsa_prefix_spec, &rsa_pms_spec, &f);
		if (!bad) {
			kl->secrets++;
			e = add_rsa(ps, f.first, f.secret);
		}
	} else {
		int l = -1;
		for (int i = 0; i < TD_KL_COUNT && l < 0; i++)
			if (field_is(&label, labels[i].name))
				l = i;
		if (l < 0) {
			kl->unknown_labels++;
			return TD_OK;
		}
		struct hex_spec secret_spec = {labels[l].len_a, labels[l].len_b, "missing secret",
					       "secret is not hex", labels[l].wrong_len};
		bad = read_pair(line, &client_random_spec, &secret_spec, &f);
		if (!bad) {
			kl->secrets++;
			e = add_entry(ps, f.first, (enum td_keylog_label)l, f.secret,
				      f.secret_len);
		}
	}
	if (bad)
		malformed(ps, bad);
	OPENSSL_cleanse(&f, sizeof f);
	return e;
}

/* Splits r into lines ("\n" or "\r\n", the last one may lack it). A line
 * is scanned to its end before it is looked at, so an over-long one is
 * skipped without being copied anywhere. */
static enum td_err parse_lines(struct parse *ps, struct td_reader *r)
{
	while (td_reader_left(r) > 0) {
		struct td_reader start = *r, line;
		size_t n = 0; /* bytes before the '\n' */
		uint8_t c;

		while (td_read_u8(r, &c) == TD_OK && c != '\n')
			n++;
		if (n > 0 && td_peek_u8(&start, n - 1, &c) == TD_OK && c == '\r')
			n--;
		ps->kl->lines++;
		ps->line = ps->kl->lines;
		if (n > TD_KEYLOG_MAX_LINE) {
			malformed(ps, "line longer than 1024 bytes");
			continue;
		}
		if (td_read_sub(&start, n, &line) != TD_OK)
			return TD_ERR_MALFORMED; /* cannot happen: n bytes were read */
		TD_TRY(parse_line(ps, &line));
	}
	return TD_OK;
}

_Static_assert(TD_KEYLOG_MAX_LINE == 1024, "the warning text names the limit");
_Static_assert(TD_KEYLOG_MAX_SECRET >= SECRET_MAX && TD_KEYLOG_MAX_SECRET >= PMS_LEN,
	       "callers' buffers hold every secret");
/* lines fit a uint32_t: a line takes at least one byte but the last */
_Static_assert(TD_KEYLOG_MAX_FILE < UINT32_MAX, "line numbers are 32-bit");

enum td_err td_keylog_parse(struct td_keylog *kl, const char *name, const uint8_t *p, size_t n)
{
	struct parse ps = {.kl = kl};
	struct td_reader r;
	enum td_err e;

	memset(kl, 0, sizeof *kl);
	if (n > TD_KEYLOG_MAX_FILE)
		return TD_ERR_TOO_BIG;
	kl->path = strdup(name ? name : "");
	if (!kl->path)
		return TD_ERR_NOMEM;
	td_reader_init(&r, p, n);
	e = parse_lines(&ps, &r);
	if (e != TD_OK) {
		td_keylog_free(kl);
		return e;
	}
	size_t ne = sort_unique(kl->entries, kl->n_entries, sizeof *kl->entries, cmp_entry,
				cmp_entry_key);
	size_t nr = sort_unique(kl->rsa, kl->n_rsa, sizeof *kl->rsa, cmp_rsa, cmp_rsa_key);
	kl->duplicates = (uint32_t)(kl->n_entries - ne + kl->n_rsa - nr);
	kl->n_entries = ne;
	kl->n_rsa = nr;
	return TD_OK;
}

enum td_err td_keylog_load(struct td_keylog *kl, const char *path, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	enum td_err e;

	memset(kl, 0, sizeof *kl);
	e = td_file_read(path, TD_KEYLOG_MAX_FILE, &buf, &len, err, errlen);
	if (e != TD_OK)
		return e;
	e = td_keylog_parse(kl, path, buf, len);
	if (e != TD_OK)
		td_err_format(err, errlen, "%s: %s", path,
			      e == TD_ERR_NOMEM ? "out of memory" : td_err_msg(e));
	OPENSSL_cleanse(buf, len);
	free(buf);
	return e;
}

void td_keylog_free(struct td_keylog *kl)
{
	if (!kl)
		return;
	if (kl->entries) {
		OPENSSL_cleanse(kl->entries, kl->n_entries * sizeof *kl->entries);
		free(kl->entries);
	}
	if (kl->rsa) {
		OPENSSL_cleanse(kl->rsa, kl->n_rsa * sizeof *kl->rsa);
		free(kl->rsa);
	}
	free(kl->path);
	memset(kl, 0, sizeof *kl);
}

/* ---- lookups ------------------------------------------------------------- */

size_t td_keylog_find(const struct td_keylog *kl, const uint8_t client_random[32],
		      enum td_keylog_label label, uint8_t *out)
{
	struct td_keylog_entry key;
	const struct td_keylog_entry *hit;

	if (!kl || kl->n_entries == 0 || (unsigned)label >= TD_KL_COUNT)
		return 0;
	memcpy(key.random, client_random, CLIENT_RANDOM_LEN);
	key.label = (uint8_t)label;
	hit = bsearch(&key, kl->entries, kl->n_entries, sizeof *kl->entries, cmp_entry_key);
	if (!hit)
		return 0;
	memcpy(out, hit->secret, hit->len);
	return hit->len;
}

size_t td_keylog_find_rsa(const struct td_keylog *kl, const uint8_t enc_prefix[8], uint8_t *out)
{
	struct td_keylog_rsa key;
	const struct td_keylog_rsa *hit;

	if (!kl || kl->n_rsa == 0)
		return 0;
	memcpy(key.prefix, enc_prefix, RSA_PREFIX_LEN);
	hit = bsearch(&key, kl->rsa, kl->n_rsa, sizeof *kl->rsa, cmp_rsa_key);
	if (!hit)
		return 0;
	memcpy(out, hit->pms, PMS_LEN);
	return PMS_LEN;
}

bool td_keylog_has(const struct td_keylog *kl, const uint8_t client_random[32])
{
	struct td_keylog_entry key;

	if (!kl || kl->n_entries == 0)
		return false;
	memcpy(key.random, client_random, CLIENT_RANDOM_LEN);
	/* sorted by client random first, so this comparison is consistent */
	return bsearch(&key, kl->entries, kl->n_entries, sizeof *kl->entries,
		       cmp_entry_random) != NULL;
}

size_t td_keylog_entry_at(const struct td_keylog *kl, size_t i, uint8_t client_random[32],
			  enum td_keylog_label *label, uint8_t *out)
{
	const struct td_keylog_entry *en;

	if (!kl || i >= kl->n_entries)
		return 0;
	en = &kl->entries[i];
	memcpy(client_random, en->random, CLIENT_RANDOM_LEN);
	*label = (enum td_keylog_label)en->label;
	memcpy(out, en->secret, en->len);
	return en->len;
}
