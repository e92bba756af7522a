/* fingerprint.c - JA3 / JA3S strings and hashes (see td_fingerprint.h). */
#include "td_fingerprint.h"

#include <stdio.h>
#include <string.h>

#include "td_digest.h"

/* RFC 8701 §2: GREASE values are 0x?A?A with both bytes equal. */
static int is_grease(unsigned v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

struct out_buf {
	char *p;
	size_t n, len;
};

static void put(struct out_buf *o, const char *s)
{
	size_t l = strlen(s);
	if (o->n == 0)
		return;
	if (l > o->n - 1 - o->len)
		l = o->n - 1 - o->len;
	memcpy(o->p + o->len, s, l);
	o->len += l;
	o->p[o->len] = '\0';
}

/* n is clamped to cap: the lists are the session's fixed arrays. */
static void put_u16_list(struct out_buf *o, const uint16_t *v, size_t n, size_t cap,
			 int skip_grease)
{
	const char *sep = "";
	char num[8];
	if (n > cap)
		n = cap;
	for (size_t i = 0; i < n; i++) {
		if (skip_grease && is_grease(v[i]))
			continue;
		snprintf(num, sizeof num, "%s%u", sep, (unsigned)v[i]);
		put(o, num);
		sep = "-";
	}
}

void td_ja3_string(const struct td_client_hello *ch, char *out, size_t n)
{
	struct out_buf o = {out, n, 0};
	char num[8];
	uint16_t pf[TD_MAX_POINT_FORMATS];

	if (n)
		out[0] = '\0';
	snprintf(num, sizeof num, "%u,", (unsigned)ch->legacy_version);
	put(&o, num);
	put_u16_list(&o, ch->suites, ch->n_suites, TD_MAX_SUITES, 1);
	put(&o, ",");
	put_u16_list(&o, ch->exts, ch->n_exts, TD_MAX_EXTS, 1);
	put(&o, ",");
	put_u16_list(&o, ch->groups, ch->n_groups, TD_MAX_GROUPS, 1);
	put(&o, ",");
	size_t npf = ch->n_point_formats < TD_MAX_POINT_FORMATS ? ch->n_point_formats
								 : TD_MAX_POINT_FORMATS;
	for (size_t i = 0; i < npf; i++)
		pf[i] = ch->point_formats[i];
	put_u16_list(&o, pf, npf, TD_MAX_POINT_FORMATS, 0);
}

void td_ja3s_string(const struct td_server_hello *sh, char *out, size_t n)
{
	struct out_buf o = {out, n, 0};
	char num[16];

	if (n)
		out[0] = '\0';
	snprintf(num, sizeof num, "%u,%u,", (unsigned)sh->legacy_version, (unsigned)sh->suite);
	put(&o, num);
	put_u16_list(&o, sh->exts, sh->n_exts, TD_MAX_EXTS, 1);
}

void td_ja3_hash(const char *str, char out[33])
{
	uint8_t md[TD_MD5_LEN];
	td_md5(str, strlen(str), md);
	td_hex(md, sizeof md, out);
}
