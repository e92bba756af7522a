/* names.c - lookups over the generated IANA name tables (td_names.h). */
#include "td_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One row of every table but the cipher suites. The id is uint16_t even
 * for the one-byte registries (alerts, handshake and content types) so one
 * search serves them all; the generator refuses values above 255 there. */
struct names_entry {
	uint16_t id;
	const char *name;
};

/* The tables themselves: build/gen/names_data.c, written by
 * tools/gen-names.awk from data/tls-*.csv, sorted and free of duplicate
 * values. It is included rather than compiled on its own so the tables
 * stay static to this file and the compiler checks every row against the
 * two structs above; the Makefile puts build/gen on the include path. */
#include "names_data.c"

#define NAMES_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct names_table {
	const struct names_entry *rows;
	size_t n;
};

/* Indexed by enum td_names_table; the cipher table has its own struct and
 * is handled apart, so its slot stays empty. */
static const struct names_table tables[TD_NAMES_TABLE_COUNT] = {
	[TD_NAMES_CIPHER] = { NULL, 0 },
	[TD_NAMES_ALERT] = { names_alert_tab, NAMES_LEN(names_alert_tab) },
	[TD_NAMES_GROUP] = { names_group_tab, NAMES_LEN(names_group_tab) },
	[TD_NAMES_SIGSCHEME] = { names_sigscheme_tab,
				 NAMES_LEN(names_sigscheme_tab) },
	[TD_NAMES_EXTENSION] = { names_extension_tab,
				 NAMES_LEN(names_extension_tab) },
	[TD_NAMES_HANDSHAKE] = { names_handshake_tab,
				 NAMES_LEN(names_handshake_tab) },
	[TD_NAMES_VERSION] = { names_version_tab,
			       NAMES_LEN(names_version_tab) },
	[TD_NAMES_CONTENT_TYPE] = { names_content_type_tab,
				    NAMES_LEN(names_content_type_tab) },
};

/* The index of the first row whose id (its first member, uint16_t) is
 * not below id, in rows of stride bytes sorted by id: a binary search
 * inlined with the stride, without bsearch()'s call per probe (a report
 * names every suite, extension, group and scheme of both hellos). */
static inline size_t lower_bound(const void *rows, size_t n, size_t stride, uint16_t id)
{
	const unsigned char *p = rows;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint16_t e;

		memcpy(&e, p + mid * stride, sizeof e);
		if (e < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const char *find(enum td_names_table t, uint16_t id)
{
	const struct names_entry *rows = tables[t].rows;
	size_t i = lower_bound(rows, tables[t].n, sizeof rows[0], id);

	return i < tables[t].n && rows[i].id == id ? rows[i].name : NULL;
}

const struct td_cipher_info *td_names_cipher(uint16_t id)
{
	size_t n = NAMES_LEN(names_cipher_tab);
	size_t i = lower_bound(names_cipher_tab, n, sizeof names_cipher_tab[0], id);

	return i < n && names_cipher_tab[i].id == id ? &names_cipher_tab[i] : NULL;
}

const char *td_names_cipher_name(uint16_t id)
{
	const struct td_cipher_info *c = td_names_cipher(id);

	return c ? c->name : NULL;
}

const char *td_names_alert(uint8_t desc)
{
	return find(TD_NAMES_ALERT, desc);
}

const char *td_names_group(uint16_t id)
{
	return find(TD_NAMES_GROUP, id);
}

const char *td_names_sigscheme(uint16_t id)
{
	return find(TD_NAMES_SIGSCHEME, id);
}

const char *td_names_extension(uint16_t id)
{
	return find(TD_NAMES_EXTENSION, id);
}

const char *td_names_handshake(uint8_t type)
{
	return find(TD_NAMES_HANDSHAKE, type);
}

const char *td_names_version(uint16_t v)
{
	return find(TD_NAMES_VERSION, v);
}

const char *td_names_content_type(uint8_t t)
{
	return find(TD_NAMES_CONTENT_TYPE, t);
}

bool td_names_is_grease(uint16_t v)
{
	/* RFC 8701 §2: both bytes equal, each of the form 0x?A. */
	return (v >> 8) == (v & 0xFF) && (v & 0x0F) == 0x0A;
}

/* "GREASE (0x1a1a)" or "unknown (0x1234)" into buf, cut at n like
 * snprintf() would (n > 0), without the format parser: GREASE values are
 * in most hellos' lists. */
static const char *fmt16_fallback(char *buf, size_t n, const char *prefix, size_t plen,
				  uint16_t v)
{
	static const char hexdig[] = "0123456789abcdef";
	char t[32];
	size_t len = plen;

	memcpy(t, prefix, plen);
	for (int shift = 12; shift >= 0; shift -= 4)
		t[len++] = hexdig[v >> shift & 0xf];
	t[len++] = ')';
	if (len >= n)
		len = n - 1;
	memcpy(buf, t, len);
	buf[len] = '\0';
	return buf;
}

const char *td_names_str16(char *buf, size_t n, const char *(*lookup)(uint16_t), uint16_t v)
{
	const char *name;

	if (buf == NULL || n == 0)
		return buf;
	if (td_names_is_grease(v))
		return fmt16_fallback(buf, n, "GREASE (0x", 10, v);
	name = lookup ? lookup(v) : NULL;
	if (name)
		return name;
	return fmt16_fallback(buf, n, "unknown (0x", 11, v);
}

const char *td_names_fmt16(char *buf, size_t n,
			   const char *(*lookup)(uint16_t), uint16_t v)
{
	const char *name = td_names_str16(buf, n, lookup, v);

	if (name != buf) {
		/* snprintf(buf, n, "%s", name) without the format parser: one
		 * call per cipher suite, group and extension of every hello */
		size_t len = strlen(name);

		if (len >= n)
			len = n - 1;
		memcpy(buf, name, len);
		buf[len] = '\0';
	}
	return buf;
}

/* ASCII-only case folding: rule files are ASCII, and the C library's
 * strcasecmp would follow the locale. */
static bool same_name(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = (unsigned char)*a;
		unsigned char cb = (unsigned char)*b;

		if (ca >= 'A' && ca <= 'Z')
			ca = (unsigned char)(ca - 'A' + 'a');
		if (cb >= 'A' && cb <= 'Z')
			cb = (unsigned char)(cb - 'A' + 'a');
		if (ca != cb)
			return false;
		if (ca == '\0')
			return true;
	}
}

/* Linear scans: these run when rules are loaded, not per packet, and the
 * tables are a few hundred rows. */
long td_names_cipher_by_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < NAMES_LEN(names_cipher_tab); i++)
		if (same_name(names_cipher_tab[i].name, name))
			return names_cipher_tab[i].id;
	return -1;
}

long td_names_alert_by_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < tables[TD_NAMES_ALERT].n; i++)
		if (same_name(tables[TD_NAMES_ALERT].rows[i].name, name))
			return tables[TD_NAMES_ALERT].rows[i].id;
	return -1;
}

size_t td_names_table_size(enum td_names_table t)
{
	if (t == TD_NAMES_CIPHER)
		return NAMES_LEN(names_cipher_tab);
	if ((unsigned)t >= TD_NAMES_TABLE_COUNT)
		return 0;
	return tables[t].n;
}

bool td_names_table_entry(enum td_names_table t, size_t i, uint16_t *id,
			  const char **name)
{
	uint16_t v;
	const char *s;

	if (i >= td_names_table_size(t))
		return false;
	if (t == TD_NAMES_CIPHER) {
		v = names_cipher_tab[i].id;
		s = names_cipher_tab[i].name;
	} else {
		v = tables[t].rows[i].id;
		s = tables[t].rows[i].name;
	}
	if (id)
		*id = v;
	if (name)
		*name = s;
	return true;
}
