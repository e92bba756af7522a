/* td_test_util.c - running commands and whole-file I/O for the tests (see
 * td_test_util.h). */
#include "td_test_util.h"

#include "td_capture.h"
#include "td_rules.h"
#include "td_session.h"

#include <check.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Formats into a fresh string. Out of memory in a test leaves nothing
 * sensible to do but stop. */
static char *vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	char *s;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || !(s = malloc((size_t)n + 1)))
		abort();
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vformat(fmt, ap);
	va_end(ap);
	return s;
}

int td_test_vrun(char **out, const char *cwd, const char *fmt, va_list ap)
{
	char *cmd = vformat(fmt, ap), *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *p;
	int st;

	if (cwd) {
		char *full = format("cd '%s' && { %s ; } 2>stderr.txt", cwd, cmd);

		free(cmd);
		cmd = full;
	}
	if (out)
		*out = NULL;
	p = popen(cmd, "r");
	free(cmd);
	if (!p)
		return -1;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? 2 * cap : 8192;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		size_t n = fread(buf + len, 1, cap - len - 1, p);
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	st = pclose(p);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int td_test_run(char **out, const char *cwd, const char *fmt, ...)
{
	va_list ap;
	int st;

	va_start(ap, fmt);
	st = td_test_vrun(out, cwd, fmt, ap);
	va_end(ap);
	return st;
}

char *td_test_sh(const char *cwd, const char *fmt, ...)
{
	va_list ap;
	char *out;
	int st;

	va_start(ap, fmt);
	st = td_test_vrun(&out, cwd, fmt, ap);
	va_end(ap);
	ck_assert_msg(st == 0, "command failed (%d): %s", st, fmt);
	return out;
}

/* dir/name, or name alone when dir is NULL, in path (n bytes). */
static void join(char *path, size_t n, const char *dir, const char *name)
{
	int k = dir ? snprintf(path, n, "%s/%s", dir, name) : snprintf(path, n, "%s", name);

	ck_assert_msg(k >= 0 && (size_t)k < n, "path too long: %s/%s", dir ? dir : "", name);
}

uint8_t *td_test_read_file(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	uint8_t *buf;
	long n;

	join(path, sizeof path, dir, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_msg(n >= 0, "cannot size %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t)n + 1);
	ck_assert(buf != NULL);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

void td_test_write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[1024];
	FILE *f;

	join(path, sizeof path, dir, name);
	f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot create %s", path);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

void td_test_fingerprint_hex(const char *cli_out, char *dst, size_t n)
{
	static const char key[] = "Fingerprint=";
	const char *p = strstr(cli_out, key);
	size_t j = 0;

	ck_assert_msg(p != NULL, "no %s in: %s", key, cli_out);
	for (p += sizeof key - 1; *p && *p != '\n' && *p != '\r' && j + 1 < n; p++) {
		if (*p != ':')
			dst[j++] = (char)tolower((unsigned char)*p);
	}
	dst[j] = '\0';
}

json_t *td_test_json_lines(const char *text)
{
	json_t *arr = json_array();
	const char *p = text;

	ck_assert_ptr_nonnull(arr);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len) {
			json_error_t err;
			json_t *o = json_loadb(p, len, 0, &err);
			ck_assert_msg(o != NULL, "bad JSON line: %s: %.*s", err.text, (int)len, p);
			json_array_append_new(arr, o);
		}
		p += len + (nl ? 1 : 0);
	}
	return arr;
}

json_t *td_test_json_connections(const char *text)
{
	json_t *lines = td_test_json_lines(text), *conns = json_array();
	size_t i;
	json_t *o;

	json_array_foreach(lines, i, o)
	{
		if (strcmp(json_string_value(json_object_get(o, "type")), "connection") == 0)
			json_array_append(conns, o);
	}
	json_decref(lines);
	return conns;
}

const char *td_test_bin(void)
{
	const char *b = getenv("TD_BIN");
	return b ? b : "build/tlsdiag";
}

const char *td_test_samples(void)
{
	const char *s = getenv("TD_SAMPLES");
	return s ? s : "samples";
}

void td_test_sample_captures(glob_t *g)
{
	char pat[512];

	snprintf(pat, sizeof pat, "%s/*.pcap*", td_test_samples());
	ck_assert_int_eq(glob(pat, 0, NULL, g), 0);
	snprintf(pat, sizeof pat, "%s/link/*.pcap", td_test_samples());
	ck_assert_int_eq(glob(pat, GLOB_APPEND, NULL, g), 0);
	ck_assert_uint_ge(g->gl_pathc, 16);
}

/* ---- crafted TCP packets -------------------------------------------- */

static uint8_t *be16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *be32(uint8_t *p, uint32_t v)
{
	return be16(be16(p, v >> 16), v & 0xffff);
}

size_t td_test_tcp_frame(uint8_t *out, const struct td_test_tcp *t)
{
	static const uint8_t mac[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
	uint8_t *p = out;

	memcpy(p, mac, 12); /* dst, src: tlsdiag does not look at them */
	p = be16(p + 12, 0x0800);
	*p++ = 0x45; /* IPv4, header 20 bytes */
	*p++ = 0;
	p = be16(p, (unsigned)(20 + 20 + t->len));
	p = be32(p, 0x00004000); /* id 0, DF */
	*p++ = 64;
	*p++ = 6; /* TCP */
	p = be16(p, 0);
	p = be32(p, t->src);
	p = be32(p, t->dst);
	p = be16(p, t->sport);
	p = be16(p, t->dport);
	p = be32(p, t->seq);
	p = be32(p, t->ack);
	*p++ = 5 << 4; /* data offset: 20 bytes */
	*p++ = t->flags;
	p = be16(p, t->window);
	p = be32(p, 0); /* checksum, urgent pointer */
	if (t->len)
		memcpy(p, t->payload, t->len);
	return TD_TEST_FRAME_LEN(t->len);
}

void td_test_put32(FILE *f, uint32_t v, bool big_endian)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (big_endian ? 24 - 8 * i : 8 * i));
	ck_assert_uint_eq(fwrite(b, 1, 4, f), 4);
}

static void put_le32(FILE *f, uint32_t v)
{
	td_test_put32(f, v, false);
}

void td_test_pcap_header(FILE *f)
{
	put_le32(f, 0xa1b2c3d4);
	put_le32(f, 2 | 4u << 16); /* version 2.4 */
	put_le32(f, 0);            /* thiszone */
	put_le32(f, 0);            /* sigfigs */
	put_le32(f, 262144);       /* snaplen */
	put_le32(f, 1);            /* LINKTYPE_ETHERNET */
}

void td_test_pcap_frame(FILE *f, int64_t sec, uint32_t usec, const uint8_t *frame, size_t len)
{
	put_le32(f, (uint32_t)sec);
	put_le32(f, usec);
	put_le32(f, (uint32_t)len);
	put_le32(f, (uint32_t)len);
	ck_assert_uint_eq(fwrite(frame, 1, len, f), len);
}

size_t td_test_sample_frames(const char *name, uint8_t **frames, size_t *lens, size_t max,
			     int *linktype)
{
	char path[512], err[256];
	enum td_capture_status st;
	struct td_packet pkt;
	struct td_capture *cap;
	size_t n = 0;

	snprintf(path, sizeof path, "%s/%s", td_test_samples(), name);
	cap = td_capture_open_file(path, NULL, &st, err, sizeof err);
	ck_assert_msg(cap != NULL, "%s", err);
	while (td_capture_next(cap, &pkt, err, sizeof err) == TD_CAP_OK) {
		ck_assert_uint_lt(n, max);
		frames[n] = malloc(pkt.caplen ? pkt.caplen : 1);
		ck_assert_ptr_nonnull(frames[n]);
		memcpy(frames[n], pkt.data, pkt.caplen);
		lens[n++] = pkt.caplen;
		*linktype = pkt.linktype;
	}
	td_capture_close(cap);
	return n;
}

char *td_test_tmpdir(const char *what)
{
	char tmpl[256];
	char *d;

	snprintf(tmpl, sizeof tmpl, "/tmp/td-%s-XXXXXX", what);
	d = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(d);
	d = strdup(d);
	ck_assert_ptr_nonnull(d);
	return d;
}

void td_test_rmdir_all(char *dir)
{
	free(td_test_sh(NULL, "rm -rf '%s'", dir));
	free(dir);
}

void td_test_session_reset(struct td_session *s)
{
	td_session_clear(s, NULL);
	td_session_init(s);
}

void td_test_set_cert(struct td_session *s, unsigned i, const struct td_cert *c)
{
	ck_assert_uint_lt(i, TD_MAX_CHAIN);
	while (s->certs_cap <= i) {
		uint8_t n = s->n_certs;
		s->n_certs = s->certs_cap; /* reserve past the end */
		ck_assert(td_session_reserve_cert(s, false));
		s->n_certs = n;
	}
	s->certs[i] = c;
}

void td_test_set_key_match(struct td_session *s, unsigned i, const char *path)
{
	/* one key list per path a test names: a table of them, borrowed */
	static const char *paths[TD_MAX_CHAIN];
	unsigned k = 0;

	ck_assert_uint_lt(i, TD_MAX_CHAIN);
	if (!path) {
		s->cert_key_match[i] = 0;
		return;
	}
	while (k < TD_MAX_CHAIN && paths[k] && strcmp(paths[k], path) != 0)
		k++;
	ck_assert_uint_lt(k, TD_MAX_CHAIN);
	paths[k] = path;
	s->dec.key_files = paths;
	s->dec.n_key_files = TD_MAX_CHAIN;
	s->cert_key_match[i] = (uint8_t)(k + 1);
}

void td_test_rule_eval(const char *when, const char *tpl, const struct td_session *s,
		       struct td_findings *f)
{
	char text[2048], err[1024] = "";
	struct td_ruleset *rs = td_rules_new();

	ck_assert_ptr_nonnull(rs);
	snprintf(text, sizeof text, "rule r {\n severity info\n when %s\n message \"%s\"\n}\n",
		 when, tpl);
	ck_assert_msg(td_rules_load_buffer(rs, "t.rules", (const uint8_t *)text, strlen(text), err,
					   sizeof err) == TD_OK,
		      "%s / %s: %s", when, tpl, err);
	td_rules_eval(rs, s, f);
	td_rules_free(rs);
}

bool td_test_rule_holds(const char *when, const struct td_session *s)
{
	struct td_findings f;

	td_test_rule_eval(when, "m", s, &f);
	return f.n > 0;
}
