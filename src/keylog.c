/* keylog.c - the NSS key log format (see td_keylog.h for the syntax).
 *
 * A key log can be large (a browser's, left on for months), so the file is
 * read in pieces of 1 MiB (capped in all) and never held whole; a line
 * that goes on in the next piece waits in a carry (struct parse). Each
 * piece is walked through the bounds-checked reader: each line is a
 * sub-reader over its bytes (up to the '\n' that td_reader_find_u8 finds),
 * each field a sub-reader over its characters (td_reader_span), and hex is
 * decoded from those (td_read_hex), all at memchr's speed. Nothing here
 * indexes the file's bytes directly (STYLE.md rule 2).
 *
 * Secrets go into two arrays (TLS secrets by client random and label, RSA
 * pre-master secrets by the first 8 bytes of their encrypted form). They
 * are sorted once when the file is read (by keys of 16 bytes, then in
 * place: sort_unique), duplicates are dropped keeping the line read last
 * (Wireshark replaces an earlier secret with a later one), and lookups are
 * binary searches. Equal keys are ordered by where they were read, so the
 * result does not depend on qsort's (unstable) order.
 *
 * Everything that held a secret is wiped before it is freed: the piece
 * buffer (td_file), the carry, the arrays (also the old array when one
 * grows), the stack copies.
 * This file includes openssl/crypto.h for OPENSSL_cleanse and nothing else.
 */
#define _GNU_SOURCE /* qsort_r */
#include "td_keylog.h"

#include "td_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
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
};

struct td_keylog_rsa {
	uint8_t prefix[RSA_PREFIX_LEN];
	uint8_t pms[PMS_LEN];
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
	/* The file comes in pieces (td_keylog_load): the start of a line
	 * that goes on in the next piece, as long as it may still be short
	 * enough (its '\r' included), else only that it is too long. */
	uint8_t carry[TD_KEYLOG_MAX_LINE + 1];
	size_t carry_n;
	bool carry_long;
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

/* The shortest line that gives an entry: "EXPORTER_SECRET", a blank, 64
 * digits, a blank, 64 digits. */
#define SHORTEST_ENTRY_LINE (15 + 1 + 64 + 1 + 64)

/* Room, from the start, for every entry a text of n bytes can hold, so
 * that the array is never copied as it grows (a copy that, at the last
 * doubling, held the old array and the new one at once). The pages the
 * entries do not reach are never written, so never in memory: calloc
 * maps a large block on demand. Only a hint: on failure, or if the text
 * was longer, the array grows as before. */
static void reserve_entries(struct parse *ps, size_t n)
{
	size_t want = n / SHORTEST_ENTRY_LINE + 1;
	void *a;

	if (ps->kl->entries || want <= 16 || !(a = calloc(want, sizeof *ps->kl->entries)))
		return;
	ps->kl->entries = a;
	ps->cap_entries = want;
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

/* The sort goes over small keys, not over the elements: the first 8 bytes
 * of an element's key (both structs start with it) as a big-endian number,
 * so that numbers compare as the bytes do, and the element's index. The
 * elements were added in line order, so the index orders the lines. qsort
 * then moves 16 bytes instead of an element, mostly compares two numbers,
 * and copies no secret into the buffer it allocates. */
struct order {
	uint64_t prefix;
	size_t i;
};

struct order_ctx {
	const uint8_t *base;
	size_t size;
	int (*same)(const void *, const void *); /* the whole key's order */
};

static int cmp_order(const void *a, const void *b, void *arg)
{
	const struct order *x = a, *y = b;
	const struct order_ctx *c = arg;
	int r;

	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	r = c->same(c->base + x->i * c->size, c->base + y->i * c->size);
	return r ? r : (x->i > y->i) - (x->i < y->i);
}

/* Puts the n elements of base (size bytes each) in the order o gives
 * (o[k].i: the element that goes to slot k), in place, a cycle of the
 * permutation at a time; o[].i is used up. tmp holds one element. */
static void permute(uint8_t *base, size_t size, struct order *o, size_t n, uint8_t *tmp)
{
	for (size_t k = 0; k < n; k++) {
		size_t j = k;

		if (o[k].i == k)
			continue;
		memcpy(tmp, base + k * size, size);
		for (;;) {
			size_t next = o[j].i;

			o[j].i = j;
			if (next == k) {
				memcpy(base + j * size, tmp, size);
				break;
			}
			memcpy(base + j * size, base + next * size, size);
			j = next;
		}
	}
}

/* Sorts the n elements of base (size bytes each, at most
 * SORT_ELEMENT_MAX) by the key same compares, and keeps of each run of
 * equal keys only the last one read (the highest line number). *kept is
 * how many are left; the slots freed are wiped. TD_ERR_NOMEM leaves base
 * as it was. */
#define SORT_ELEMENT_MAX 128
static enum td_err sort_unique(void *base, size_t n, size_t size,
			       int (*same)(const void *, const void *), size_t *kept)
{
	struct order_ctx ctx = {base, size, same};
	uint8_t *b = base, tmp[SORT_ELEMENT_MAX];
	struct order *o;
	size_t w = 0;

	*kept = n;
	if (n == 0)
		return TD_OK;
	o = malloc(n * sizeof *o);
	if (!o)
		return TD_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *k = b + i * size;
		uint64_t v = 0;

		for (int j = 0; j < 8; j++)
			v = v << 8 | k[j];
		o[i] = (struct order){v, i};
	}
	qsort_r(o, n, sizeof *o, cmp_order, &ctx);
	permute(b, size, o, n, tmp);
	free(o);
	OPENSSL_cleanse(tmp, sizeof tmp);
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && same(b + i * size, b + (i + 1) * size) == 0)
			continue; /* a later line replaces this one */
		if (w != i)
			memcpy(b + w * size, b + i * size, size);
		w++;
	}
	OPENSSL_cleanse(b + w * size, (n - w) * size);
	*kept = w;
	return TD_OK;
}

_Static_assert(sizeof(struct td_keylog_entry) <= SORT_ELEMENT_MAX &&
		       sizeof(struct td_keylog_rsa) <= SORT_ELEMENT_MAX,
	       "sort_unique's spare slot holds either");

/* ---- parsing ------------------------------------------------------------- */

#define BLANKS " \t"

/* Skips blanks, then opens field over the next run of non-blank bytes.
 * False when the line has no field left. */
static bool next_field(struct td_reader *line, struct td_reader *field)
{
	size_t n;

	if (td_read_skip(line, td_reader_span(line, BLANKS, true)) != TD_OK)
		return false;
	n = td_reader_span(line, BLANKS, false);
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
	size_t digits = td_reader_left(field);

	if (td_reader_hex_span(field) != digits)
		return HEX_NOT_HEX;
	if (digits != 2 * len_a && digits != 2 * len_b)
		return HEX_BAD_LEN;
	if (td_read_hex(field, out, digits / 2) != TD_OK)
		return HEX_NOT_HEX; /* cannot happen: every digit was checked */
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
		w->line = kl->lines;
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

/* A whole line, without its '\n' (too_long: longer than the carry, so
 * longer than any line read). */
static enum td_err end_line(struct parse *ps, struct td_reader *line, bool too_long)
{
	size_t n = td_reader_left(line);
	uint8_t c;

	if (n > 0 && td_peek_u8(line, n - 1, &c) == TD_OK && c == '\r')
		n--;
	ps->kl->lines++; /* the number of the line being read, from 1 */
	if (too_long || n > TD_KEYLOG_MAX_LINE) {
		malformed(ps, "line longer than 1024 bytes");
		return TD_OK;
	}
	struct td_reader text;
	if (td_read_sub(line, n, &text) != TD_OK)
		return TD_ERR_MALFORMED; /* cannot happen: n bytes are left */
	return parse_line(ps, &text);
}

/* The line held in the carry is whole: read it, and wipe the carry. */
static enum td_err end_carried(struct parse *ps)
{
	struct td_reader line;
	enum td_err e;

	td_reader_init(&line, ps->carry, ps->carry_n);
	e = end_line(ps, &line, ps->carry_long);
	OPENSSL_cleanse(ps->carry, ps->carry_n);
	ps->carry_n = 0;
	ps->carry_long = false;
	return e;
}

/* The next piece of the text: split into lines ("\n" or "\r\n"). A line
 * inside the piece is read where it is; the start of one that goes on in
 * the next piece waits in the carry, and once it is longer than any line
 * read, is only counted, not copied. */
static enum td_err feed(struct parse *ps, const uint8_t *p, size_t n)
{
	struct td_reader r;

	td_reader_init(&r, p, n);
	while (td_reader_left(&r) > 0) {
		size_t at;
		bool nl = td_reader_find_u8(&r, '\n', &at) == TD_OK;
		size_t len = nl ? at : td_reader_left(&r);

		if (nl && ps->carry_n == 0 && !ps->carry_long) {
			struct td_reader line;

			if (td_read_sub(&r, len, &line) != TD_OK || td_read_skip(&r, 1) != TD_OK)
				return TD_ERR_MALFORMED; /* cannot happen: found inside r */
			TD_TRY(end_line(ps, &line, false));
			continue;
		}
		if (!ps->carry_long && len <= sizeof ps->carry - ps->carry_n) {
			if (td_read_bytes(&r, ps->carry + ps->carry_n, len) != TD_OK)
				return TD_ERR_MALFORMED; /* cannot happen */
			ps->carry_n += len;
		} else {
			if (td_read_skip(&r, len) != TD_OK)
				return TD_ERR_MALFORMED; /* cannot happen */
			ps->carry_long = true;
		}
		if (nl) {
			if (td_read_skip(&r, 1) != TD_OK)
				return TD_ERR_MALFORMED; /* cannot happen */
			TD_TRY(end_carried(ps));
		}
	}
	return TD_OK;
}

/* The end of the text: a last line without a '\n' counts. */
static enum td_err feed_end(struct parse *ps)
{
	if (ps->carry_n == 0 && !ps->carry_long)
		return TD_OK;
	return end_carried(ps);
}

_Static_assert(TD_KEYLOG_MAX_LINE == 1024, "the warning text names the limit");
_Static_assert(TD_KEYLOG_MAX_SECRET >= SECRET_MAX && TD_KEYLOG_MAX_SECRET >= PMS_LEN,
	       "callers' buffers hold every secret");
/* lines fit a uint32_t: a line takes at least one byte but the last */
_Static_assert(TD_KEYLOG_MAX_FILE < UINT32_MAX, "line numbers are 32-bit");

/* Starts kl (zeroed first) and ps for a parse of a text called name. */
static enum td_err parse_start(struct td_keylog *kl, struct parse *ps, const char *name)
{
	memset(kl, 0, sizeof *kl);
	memset(ps, 0, sizeof *ps);
	ps->kl = kl;
	kl->path = strdup(name ? name : "");
	return kl->path ? TD_OK : TD_ERR_NOMEM;
}

/* Sorts what was kept and drops the secrets later lines replace. */
static enum td_err sort_secrets(struct td_keylog *kl)
{
	size_t ne, nr;

	TD_TRY(sort_unique(kl->entries, kl->n_entries, sizeof *kl->entries, cmp_entry_key, &ne));
	TD_TRY(sort_unique(kl->rsa, kl->n_rsa, sizeof *kl->rsa, cmp_rsa_key, &nr));
	kl->duplicates = (uint32_t)(kl->n_entries - ne + kl->n_rsa - nr);
	kl->n_entries = ne;
	kl->n_rsa = nr;
	return TD_OK;
}

/* The rest of a parse once every piece was fed: the last line, the sort;
 * on error kl is freed. The carry is wiped either way. */
static enum td_err parse_end(struct td_keylog *kl, struct parse *ps, enum td_err e)
{
	if (e == TD_OK)
		e = feed_end(ps);
	if (e == TD_OK)
		e = sort_secrets(kl);
	OPENSSL_cleanse(ps, sizeof *ps);
	if (e != TD_OK)
		td_keylog_free(kl);
	return e;
}

enum td_err td_keylog_parse_pieces(struct td_keylog *kl, const char *name, const uint8_t *p,
				   size_t n, size_t piece)
{
	struct parse ps;
	enum td_err e;

	if (n > TD_KEYLOG_MAX_FILE) {
		memset(kl, 0, sizeof *kl);
		return TD_ERR_TOO_BIG;
	}
	e = parse_start(kl, &ps, name);
	if (e == TD_OK)
		reserve_entries(&ps, n);
	if (piece == 0)
		piece = n ? n : 1;
	for (size_t off = 0; e == TD_OK && off < n; off += piece)
		e = feed(&ps, p + off, n - off < piece ? n - off : piece);
	return parse_end(kl, &ps, e);
}

enum td_err td_keylog_parse(struct td_keylog *kl, const char *name, const uint8_t *p, size_t n)
{
	return td_keylog_parse_pieces(kl, name, p, n, 0);
}

static enum td_err feed_piece(void *user, const uint8_t *p, size_t n)
{
	return feed(user, p, n);
}

/* The file is read 1 MiB at a time: what is kept is the secrets, never
 * the whole text. */
#define LOAD_PIECE ((size_t)1 << 20)

enum td_err td_keylog_load(struct td_keylog *kl, const char *path, char *err, size_t errlen)
{
	struct parse ps;
	struct stat st;
	enum td_err e = parse_start(kl, &ps, path);

	/* the size now, as a hint (td_file checks the file itself) */
	if (e == TD_OK && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uintmax_t)st.st_size <= TD_KEYLOG_MAX_FILE)
		reserve_entries(&ps, (size_t)st.st_size);
	if (e == TD_OK) {
		e = td_file_read_pieces(path, TD_KEYLOG_MAX_FILE, LOAD_PIECE, feed_piece, &ps, err,
					errlen);
		if (e == TD_ERR_IO || e == TD_ERR_TOO_BIG) {
			/* the file's own error, worded by td_file (feed gives
			 * neither) */
			parse_end(kl, &ps, e);
			return e;
		}
	}
	e = parse_end(kl, &ps, e);
	if (e != TD_OK)
		td_err_format(err, errlen, "%s: %s", path,
			      e == TD_ERR_NOMEM ? "out of memory" : td_err_msg(e));
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
