/* check_evidence.c - --save-evidence: the pcap of the connections worth a
 * ticket.
 *
 * What the evidence file must hold is computed here without tlsdiag: the
 * sample captures are read with libpcap directly, their frames sorted out
 * by 5-tuple with a few lines of Ethernet/IPv4/TCP parsing of our own, and
 * compared against the sample generator's facts.json manifests (which
 * connection failed, its endpoints, how many packets each file holds).
 */
#include <check.h>
#include <limits.h>
#include <errno.h>
#include <glob.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "td_engine.h"
#include "td_test_util.h"
#include "td_x509.h"

#define SCHEMA "schema/tlsdiag-v1.schema.json"
#define VALIDATE "tools/validate-json"
#define MISMATCH "tls12-rsa-key-mismatch"
#define CLEAN "tls12-ecdhe-ok"

struct frame {
	int64_t sec;
	int32_t usec;
	uint32_t caplen, len;
	uint8_t *data;
};

struct frames {
	struct frame *f;
	size_t n;
	int linktype;
};

/* Every packet of path, read with libpcap. */
static struct frames read_pcap(const char *path)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, ebuf);
	struct pcap_pkthdr *h;
	const u_char *d;
	struct frames fs = {0};
	int rc;

	ck_assert_msg(p != NULL, "%s: %s", path, ebuf);
	fs.linktype = pcap_datalink(p);
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		fs.f = realloc(fs.f, (fs.n + 1) * sizeof *fs.f);
		ck_assert_ptr_nonnull(fs.f);
		struct frame *f = &fs.f[fs.n++];
		f->sec = h->ts.tv_sec;
		f->usec = (int32_t)h->ts.tv_usec;
		f->caplen = h->caplen;
		f->len = h->len;
		f->data = malloc(h->caplen ? h->caplen : 1);
		ck_assert_ptr_nonnull(f->data);
		memcpy(f->data, d, h->caplen);
	}
	ck_assert_msg(rc == PCAP_ERROR_BREAK, "%s: %s", path, pcap_geterr(p));
	pcap_close(p);
	return fs;
}

static void frames_free(struct frames *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		free(fs->f[i].data);
	free(fs->f);
	memset(fs, 0, sizeof *fs);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The TCP ports of an Ethernet/IPv4/TCP frame; false for anything else. */
static bool tcp_ports(const struct frame *f, uint16_t *sport, uint16_t *dport)
{
	const uint8_t *p = f->data;
	size_t ihl;

	if (f->caplen < 14 + 20 || be16(p + 12) != 0x0800 || p[14 + 9] != 6)
		return false;
	ihl = (size_t)(p[14] & 0x0f) * 4;
	if (f->caplen < 14 + ihl + 4)
		return false;
	*sport = be16(p + 14 + ihl);
	*dport = be16(p + 14 + ihl + 2);
	return true;
}

/* The frames of fs on the connection between ports a and b, in order. */
static struct frames filter_conn(const struct frames *fs, uint16_t a, uint16_t b)
{
	struct frames out = {.linktype = fs->linktype};
	uint16_t sp, dp;

	out.f = calloc(fs->n ? fs->n : 1, sizeof *out.f);
	ck_assert_ptr_nonnull(out.f);
	for (size_t i = 0; i < fs->n; i++) {
		if (!tcp_ports(&fs->f[i], &sp, &dp) ||
		    !((sp == a && dp == b) || (sp == b && dp == a)))
			continue;
		out.f[out.n] = fs->f[i];
		out.f[out.n].data = malloc(fs->f[i].caplen);
		ck_assert_ptr_nonnull(out.f[out.n].data);
		memcpy(out.f[out.n].data, fs->f[i].data, fs->f[i].caplen);
		out.n++;
	}
	return out;
}

/* Frame i of got is frame i of want: timestamp, lengths, bytes. */
static void assert_same_frames(const struct frames *got, const struct frames *want, size_t n)
{
	ck_assert_uint_ge(got->n, n);
	ck_assert_uint_ge(want->n, n);
	for (size_t i = 0; i < n; i++) {
		const struct frame *g = &got->f[i], *w = &want->f[i];
		ck_assert_msg(g->sec == w->sec && g->usec == w->usec, "frame %zu: time differs", i);
		ck_assert_uint_eq(g->caplen, w->caplen);
		ck_assert_uint_eq(g->len, w->len);
		ck_assert_msg(memcmp(g->data, w->data, g->caplen) == 0, "frame %zu: bytes differ", i);
	}
}

/* The sample's facts.json: its first connection's client and server
 * ports, and how many packets the file holds. */
static void sample_facts(const char *name, uint16_t *cport, uint16_t *sport, size_t *packets)
{
	char path[512];
	json_error_t e;
	json_t *f, *c;

	snprintf(path, sizeof path, "%s/%s.facts.json", td_test_samples(), name);
	f = json_load_file(path, 0, &e);
	ck_assert_msg(f != NULL, "%s: %s", path, e.text);
	c = json_array_get(json_object_get(f, "connections"), 0);
	ck_assert_ptr_nonnull(c);
	*cport = (uint16_t)json_integer_value(json_object_get(json_object_get(c, "client"), "port"));
	*sport = (uint16_t)json_integer_value(json_object_get(json_object_get(c, "server"), "port"));
	*packets = (size_t)json_integer_value(json_object_get(f, "packets"));
	ck_assert_uint_gt(*packets, 0);
	json_decref(f);
}

static struct frames sample_frames(const char *file)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", td_test_samples(), file);
	return read_pcap(path);
}

/* The summary object of a --json run (its last line); json_decref it. */
static json_t *summary_of(const char *out)
{
	json_t *lines = td_test_json_lines(out);
	json_t *sum = json_incref(json_array_get(lines, json_array_size(lines) - 1));

	json_decref(lines);
	ck_assert_str_eq(json_string_value(json_object_get(sum, "type")), "summary");
	return sum;
}

static uint64_t ev_count(const json_t *sum, const char *key)
{
	json_t *v = json_object_get(json_object_get(sum, "evidence"), key);

	ck_assert_msg(json_is_integer(v), "summary evidence.%s missing", key);
	return (uint64_t)json_integer_value(v);
}

/* The failing connection of the key-mismatch sample, merged with a clean
 * connection: the file holds exactly the failing one's frames, as the
 * sample has them (time, lengths, bytes, order), under its link type; the
 * summary says so and validates against the schema. */
START_TEST(test_failing_connection_only)
{
	char *dir = td_test_tmpdir("evidence"), path[512], *out;
	uint16_t cport, sport, cport2, sport2;
	size_t packets, packets2;
	struct frames a, b, merged, want, got;
	json_t *sum;
	int rc;

	sample_facts(MISMATCH, &cport, &sport, &packets);
	sample_facts(CLEAN, &cport2, &sport2, &packets2);
	ck_assert_uint_ne(cport, cport2); /* two connections, told apart by port */
	a = sample_frames(MISMATCH ".pcap");
	b = sample_frames(CLEAN ".pcap");
	ck_assert_uint_eq(a.n, packets);
	ck_assert_uint_eq(b.n, packets2);
	/* both files in one list: the filter must pick the right frames */
	merged.linktype = a.linktype;
	merged.n = a.n + b.n;
	merged.f = malloc(merged.n * sizeof *merged.f);
	ck_assert_ptr_nonnull(merged.f);
	memcpy(merged.f, a.f, a.n * sizeof *a.f);
	memcpy(merged.f + a.n, b.f, b.n * sizeof *b.f);
	want = filter_conn(&merged, cport, sport);
	ck_assert_uint_eq(want.n, packets); /* the sample is that connection */
	free(merged.f);

	rc = td_test_run(&out, NULL,
			 "TZ=UTC %s -q --json -r %s/" MISMATCH ".pcap -r %s/" CLEAN
			 ".pcap --save-evidence %s/ev.pcap",
			 td_test_bin(), td_test_samples(), td_test_samples(), dir);
	ck_assert_int_eq(rc, 0);
	snprintf(path, sizeof path, "%s/ev.pcap", dir);
	got = read_pcap(path);
	ck_assert_int_eq(got.linktype, a.linktype);
	ck_assert_uint_eq(got.n, want.n);
	assert_same_frames(&got, &want, want.n);
	sum = summary_of(out);
	ck_assert_uint_eq(ev_count(sum, "connections"), 1);
	ck_assert_uint_eq(ev_count(sum, "frames"), packets);
	ck_assert_uint_eq(ev_count(sum, "connections_capped"), 0);
	ck_assert_uint_eq(ev_count(sum, "frames_over_cap"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(sum, "evidence"),
							   "min_severity")),
			 "medium");
	json_decref(sum);
	td_test_write_file(dir, "out.jsonl", out, strlen(out));
	free(out);
	rc = td_test_run(&out, NULL, "python3 %s %s %s/out.jsonl 2>&1", VALIDATE, SCHEMA, dir);
	ck_assert_msg(rc == 0, "schema validation failed:\n%s", out);
	free(out);
	frames_free(&got);
	frames_free(&want);
	frames_free(&a);
	frames_free(&b);
	td_test_rmdir_all(dir);
}
END_TEST

/* Runs tlsdiag on s.pcap in directory a, the evidence going to
 * b/s.pcap, then on both; returns whether a connection was written, and
 * asserts that the evidence file reads to the same connection objects as
 * the capture. Both are read under the same name, s.pcap, which the
 * diagnosis' suggested commands quote. */
static bool round_trip(const char *name, const char *bin, const char *a, const char *b,
		       const char *opts)
{
	char *orig, *again, *sum;
	json_t *o, *e, *sj;
	bool written;

	sum = td_test_sh(a, "TZ=UTC %s -q --json -r s.pcap --save-evidence ../b/s.pcap %s", bin,
			 opts);
	sj = summary_of(sum);
	written = ev_count(sj, "connections") > 0;
	json_decref(sj);
	free(sum);
	if (!written) {
		/* only a capture without any finding and without a failed or
		 * incomplete connection is left out */
		sum = td_test_sh(a, "TZ=UTC %s -q --json -r s.pcap", bin);
		sj = summary_of(sum);
		ck_assert_msg(json_integer_value(json_object_get(json_object_get(sj, "findings"),
								 "total")) == 0 &&
				      json_integer_value(json_object_get(
					      json_object_get(sj, "connections"), "failed")) == 0 &&
				      json_integer_value(json_object_get(
					      json_object_get(sj, "connections"), "incomplete")) == 0,
			      "%s: not written, yet it has findings or failures", name);
		json_decref(sj);
		free(sum);
		return false;
	}
	orig = td_test_sh(a, "TZ=UTC %s -q --json -r s.pcap", bin);
	again = td_test_sh(b, "TZ=UTC %s -q --json -r s.pcap", bin);
	o = td_test_json_lines(orig);
	e = td_test_json_lines(again);
	ck_assert_uint_ge(json_array_size(o), 2);
	ck_assert_uint_eq(json_array_size(e), json_array_size(o));
	for (size_t i = 0; i + 1 < json_array_size(o); i++)
		ck_assert_msg(json_equal(json_array_get(o, i), json_array_get(e, i)),
			      "%s: connection %zu reads to other facts from the evidence file", name,
			      i);
	json_decref(o);
	json_decref(e);
	free(orig);
	free(again);
	return true;
}

/* The evidence file of a sample re-analyses to the same connection facts
 * as the sample itself: the key-mismatch sample (failed: written by
 * default), then every sample and every link-layer and fragmented variant
 * with --evidence-min-severity info (a connection without any finding is
 * not written and not compared). */
START_TEST(test_reanalysis_same_facts)
{
	char *dir = td_test_tmpdir("evidence"), a[600], b[600], *bin, pat[512];
	unsigned compared = 0;
	glob_t g;

	bin = realpath(td_test_bin(), NULL);
	ck_assert_ptr_nonnull(bin);
	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	free(td_test_sh(NULL, "mkdir %s %s && cp %s/" MISMATCH ".pcap %s/s.pcap", a, b,
			td_test_samples(), a));
	ck_assert(round_trip(MISMATCH, bin, a, b, ""));

	snprintf(pat, sizeof pat, "%s/*.pcap*", td_test_samples());
	ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
	snprintf(pat, sizeof pat, "%s/link/*.pcap", td_test_samples());
	ck_assert_int_eq(glob(pat, GLOB_APPEND, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		free(td_test_sh(NULL, "rm -f %s/s.pcap %s/s.pcap && cp %s %s/s.pcap", a, b,
				g.gl_pathv[i], a));
		compared += round_trip(g.gl_pathv[i], bin, a, b, "--evidence-min-severity info");
	}
	/* the samples without any finding (some STARTTLS ones) are checked
	 * in round_trip; the others are compared */
	ck_assert_uint_ge(compared, g.gl_pathc / 2);
	globfree(&g);
	free(bin);
	td_test_rmdir_all(dir);
}
END_TEST

/* A clean connection: with the default severity the file is a pcap header
 * and no packet; with --evidence-min-severity low (the sample's nDPI risk
 * finding is low) every frame of it. A failed connection is written
 * whatever the severity asked for. */
START_TEST(test_min_severity)
{
	char *dir = td_test_tmpdir("evidence"), path[512];
	uint16_t cport, sport;
	size_t packets;
	struct frames got, want;

	sample_facts(CLEAN, &cport, &sport, &packets);
	free(td_test_sh(NULL, "%s -q -r %s/" CLEAN ".pcap --save-evidence %s/default.pcap >/dev/null",
			td_test_bin(), td_test_samples(), dir));
	snprintf(path, sizeof path, "%s/default.pcap", dir);
	got = read_pcap(path);
	ck_assert_uint_eq(got.n, 0);
	ck_assert_int_eq(got.linktype, DLT_EN10MB);
	frames_free(&got);

	free(td_test_sh(NULL,
			"%s -q -r %s/" CLEAN ".pcap --save-evidence %s/low.pcap "
			"--evidence-min-severity low >/dev/null",
			td_test_bin(), td_test_samples(), dir));
	snprintf(path, sizeof path, "%s/low.pcap", dir);
	got = read_pcap(path);
	want = sample_frames(CLEAN ".pcap");
	ck_assert_uint_eq(want.n, packets);
	ck_assert_uint_eq(got.n, packets);
	assert_same_frames(&got, &want, packets);
	frames_free(&got);
	frames_free(&want);

	free(td_test_sh(NULL,
			"%s -q -r %s/" MISMATCH ".pcap --save-evidence %s/crit.pcap "
			"--evidence-min-severity critical >/dev/null",
			td_test_bin(), td_test_samples(), dir));
	sample_facts(MISMATCH, &cport, &sport, &packets);
	snprintf(path, sizeof path, "%s/crit.pcap", dir);
	got = read_pcap(path);
	ck_assert_uint_eq(got.n, packets);
	frames_free(&got);
	td_test_rmdir_all(dir);
}
END_TEST

/* --evidence-max-bytes 1K: the connection is cut at the cap and counted;
 * what is kept is its first frames, and kept + left out is all of them.
 * The default cap holds the whole handshake: nothing counted. */
START_TEST(test_cap_counted)
{
	char *dir = td_test_tmpdir("evidence"), path[512], *out;
	uint16_t cport, sport;
	size_t packets;
	struct frames got, want;
	json_t *sum;

	sample_facts(MISMATCH, &cport, &sport, &packets);
	out = td_test_sh(NULL,
			 "%s -q --json -r %s/" MISMATCH ".pcap --save-evidence %s/cap.pcap "
			 "--evidence-max-bytes 1K",
			 td_test_bin(), td_test_samples(), dir);
	sum = summary_of(out);
	ck_assert_uint_eq(ev_count(sum, "max_bytes_per_connection"), 1024);
	ck_assert_uint_eq(ev_count(sum, "connections_capped"), 1);
	ck_assert_uint_gt(ev_count(sum, "frames_over_cap"), 0);
	ck_assert_uint_eq(ev_count(sum, "frames") + ev_count(sum, "frames_over_cap"), packets);
	snprintf(path, sizeof path, "%s/cap.pcap", dir);
	got = read_pcap(path);
	want = sample_frames(MISMATCH ".pcap");
	ck_assert_uint_eq(got.n, ev_count(sum, "frames"));
	ck_assert_uint_lt(got.n, packets);
	ck_assert_uint_gt(got.n, 0);
	assert_same_frames(&got, &want, got.n);
	/* within the cap: the frames' bytes fit in 1 KiB */
	size_t bytes = 0;
	for (size_t i = 0; i < got.n; i++)
		bytes += got.f[i].caplen;
	ck_assert_uint_le(bytes, 1024);
	json_decref(sum);
	free(out);
	frames_free(&got);
	frames_free(&want);

	/* the text summary says it too */
	out = td_test_sh(NULL,
			 "%s -q -r %s/" MISMATCH ".pcap --save-evidence %s/cap2.pcap "
			 "--evidence-max-bytes 1K",
			 td_test_bin(), td_test_samples(), dir);
	ck_assert_msg(strstr(out, "1 cut at the cap of 1024 bytes per connection"), "%s", out);
	free(out);
	out = td_test_sh(NULL, "%s -q --json -r %s/" MISMATCH ".pcap --save-evidence %s/nocap.pcap",
			 td_test_bin(), td_test_samples(), dir);
	sum = summary_of(out);
	ck_assert_uint_eq(ev_count(sum, "connections_capped"), 0);
	json_decref(sum);
	free(out);
	td_test_rmdir_all(dir);
}
END_TEST

/* The frames held count in the engine's memory (--max-memory): the peak
 * held with --save-evidence exceeds the peak without by at least the
 * connection's captured bytes (read from the sample here) but its last
 * frame's (the connection ends on it, before it would be charged). */
START_TEST(test_memory_accounted)
{
	char *dir = td_test_tmpdir("evidence"), *with, *without;
	struct frames a = sample_frames(MISMATCH ".pcap");
	json_t *sw, *so;
	size_t bytes = 0;

	for (size_t i = 0; i + 1 < a.n; i++)
		bytes += a.f[i].caplen;
	ck_assert_uint_gt(bytes, 1000);
	with = td_test_sh(NULL, "%s -q --json -r %s/" MISMATCH ".pcap --save-evidence %s/ev.pcap",
			  td_test_bin(), td_test_samples(), dir);
	without = td_test_sh(NULL, "%s -q --json -r %s/" MISMATCH ".pcap", td_test_bin(),
			     td_test_samples());
	sw = summary_of(with);
	so = summary_of(without);
	json_int_t pw = json_integer_value(json_object_get(sw, "memory_peak"));
	json_int_t po = json_integer_value(json_object_get(so, "memory_peak"));
	ck_assert_msg(pw - po >= (json_int_t)bytes, "peak %lld with, %lld without, frames %zu bytes",
		      (long long)pw, (long long)po, bytes);
	json_decref(sw);
	json_decref(so);
	free(with);
	free(without);
	frames_free(&a);
	td_test_rmdir_all(dir);
}
END_TEST

/* Merged inputs of two link types: the file takes the first input's, the
 * other's frames are counted, not written (their count from facts.json). */
START_TEST(test_other_link_type)
{
	char *dir = td_test_tmpdir("evidence"), path[512], *out;
	uint16_t cport, sport;
	size_t packets, sll_packets;
	struct frames got, sll;
	json_t *sum;

	sample_facts(MISMATCH, &cport, &sport, &packets);
	sample_facts("link/tls12-ecdhe-ok-sll", &cport, &sport, &sll_packets);
	sll = sample_frames("link/tls12-ecdhe-ok-sll.pcap");
	ck_assert_int_ne(sll.linktype, DLT_EN10MB);
	out = td_test_sh(NULL,
			 "%s -q --json -r %s/" MISMATCH ".pcap -r %s/link/tls12-ecdhe-ok-sll.pcap "
			 "--save-evidence %s/ev.pcap --evidence-min-severity info",
			 td_test_bin(), td_test_samples(), td_test_samples(), dir);
	sum = summary_of(out);
	ck_assert_uint_eq(ev_count(sum, "connections"), 2);
	ck_assert_uint_eq(ev_count(sum, "frames"), packets);
	ck_assert_uint_eq(ev_count(sum, "frames_other_link_type"), sll_packets);
	snprintf(path, sizeof path, "%s/ev.pcap", dir);
	got = read_pcap(path);
	ck_assert_int_eq(got.linktype, DLT_EN10MB);
	ck_assert_uint_eq(got.n, packets);
	json_decref(sum);
	free(out);
	frames_free(&got);
	frames_free(&sll);
	td_test_rmdir_all(dir);
}
END_TEST

/* --save-evidence path exits 2 with why in its message. */
static void assert_refused(const char *path, const char *why)
{
	char *out;
	int rc = td_test_run(&out, NULL, "%s -q -r %s/" MISMATCH ".pcap --save-evidence %s 2>&1",
			     td_test_bin(), td_test_samples(), path);

	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(out, why), "%s", out);
	free(out);
}

static void assert_victim_kept(const char *dir)
{
	size_t len;
	uint8_t *v = td_test_read_file(dir, "victim", &len);

	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(memcmp(v, "keep", 4), 0);
	free(v);
}

/* The file is created, never replaced, never reached through a symbolic
 * link (exit 2, the target untouched), and not world-writable even under
 * umask 0. */
START_TEST(test_file_safety)
{
	char *dir = td_test_tmpdir("evidence"), path[512];
	struct stat st;

	td_test_write_file(dir, "victim", "keep", 4);
	snprintf(path, sizeof path, "%s/link.pcap", dir);
	ck_assert_int_eq(symlink("victim", path), 0);
	assert_refused(path, "symbolic link");
	assert_victim_kept(dir);
	/* an existing file is not overwritten */
	snprintf(path, sizeof path, "%s/victim", dir);
	assert_refused(path, "file exists");
	assert_victim_kept(dir);

	free(td_test_sh(NULL, "umask 0; %s -q -r %s/" MISMATCH ".pcap --save-evidence %s/new.pcap "
			      ">/dev/null",
			td_test_bin(), td_test_samples(), dir));
	snprintf(path, sizeof path, "%s/new.pcap", dir);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_msg(!(st.st_mode & S_IWOTH), "mode %o", (unsigned)st.st_mode);
	ck_assert_msg(!(st.st_mode & S_IWGRP), "mode %o", (unsigned)st.st_mode);
	td_test_rmdir_all(dir);
}
END_TEST

/* Usage errors (exit 2, nothing written): the evidence options without
 * --save-evidence, a cap below 1K, a bad severity, and --redact (the file
 * holds the real addresses). */
START_TEST(test_usage_errors)
{
	static const char *const bad[] = {
		"--evidence-min-severity low",
		"--evidence-max-bytes 64K",
		"--save-evidence DIR/e.pcap --evidence-max-bytes 10",
		"--save-evidence DIR/e.pcap --evidence-min-severity severe",
		"--save-evidence DIR/e.pcap --redact",
		"--save-evidence -",
	};
	char *dir = td_test_tmpdir("evidence"), args[600], *out;
	struct stat st;
	char path[512];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *d = strstr(bad[i], "DIR");
		if (d)
			snprintf(args, sizeof args, "%.*s%s%s", (int)(d - bad[i]), bad[i], dir, d + 3);
		else
			snprintf(args, sizeof args, "%s", bad[i]);
		int rc = td_test_run(&out, NULL, "%s -q -r %s/" MISMATCH ".pcap %s 2>&1",
				     td_test_bin(), td_test_samples(), args);
		ck_assert_msg(rc == 2, "%s: exit %d\n%s", args, rc, out);
		free(out);
	}
	snprintf(path, sizeof path, "%s/e.pcap", dir);
	ck_assert_int_eq(stat(path, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	td_test_rmdir_all(dir);
}
END_TEST

/* ---- the engine: what a connection holds, and what it hands over ------ */

#define MAX_FRAMES 64

/* What the evidence callback was given, copied. */
struct seen {
	unsigned calls;
	struct td_engine_evidence ev;
	uint32_t frame[MAX_FRAMES];
	size_t len[MAX_FRAMES];
	uint8_t *data[MAX_FRAMES];
};

static void on_emit(void *user, struct td_session *s)
{
	(void)user;
	(void)s;
}

static void on_evidence(void *user, const struct td_session *s,
			const struct td_engine_evidence *ev)
{
	struct seen *x = user;
	size_t i = 0;

	(void)s;
	x->calls++;
	x->ev = *ev;
	for (const struct td_engine_frame *f = ev->first; f; f = f->next, i++) {
		ck_assert_uint_lt(i, MAX_FRAMES);
		x->frame[i] = f->frame;
		x->len[i] = f->caplen;
		x->data[i] = malloc(f->caplen);
		ck_assert_ptr_nonnull(x->data[i]);
		memcpy(x->data[i], f->data, f->caplen);
	}
	ck_assert_uint_eq(i, ev->frames);
	x->ev.first = NULL;
}

static struct td_engine *engine(struct td_x509_cache *cache, struct seen *x, size_t cap)
{
	struct td_engine_config cfg;
	struct td_engine *e;

	td_engine_config_default(&cfg);
	cfg.classify = false;
	if (x) {
		cfg.evidence = on_evidence;
		cfg.evidence_max_bytes = cap;
	}
	e = td_engine_new(&cfg, cache, on_emit, x);
	ck_assert_ptr_nonnull(e);
	return e;
}

static size_t memory_now(const struct td_engine *e)
{
	struct td_engine_stats st;

	td_engine_stats(e, &st);
	return st.memory_now;
}

/* The key-mismatch sample through two engines, one keeping evidence:
 * while the connection is open the difference in memory held is exactly
 * TD_ENGINE_FRAME_BYTES of every frame so far (what --max-memory counts);
 * when it ends the callback gets every frame, in order, byte for byte, and
 * the memory is given back. */
START_TEST(test_engine_frames_accounted)
{
	uint8_t *frames[MAX_FRAMES];
	size_t lens[MAX_FRAMES], n, held = 0;
	int lt;
	struct td_x509_cache *cache = td_x509_cache_new(16);
	struct seen x = {0};
	struct td_engine *plain, *ev;

	ck_assert_ptr_nonnull(cache);
	n = td_test_sample_frames(MISMATCH ".pcap", frames, lens, MAX_FRAMES, &lt);
	ck_assert_uint_ge(n, 3);
	plain = engine(cache, NULL, 0);
	ev = engine(cache, &x, TD_ENGINE_EVIDENCE_MAX_DEFAULT);
	for (size_t i = 0; i < n; i++) {
		struct td_time ts = {1000, (int32_t)i};
		td_engine_packet(plain, lt, (uint32_t)i + 1, ts, frames[i], lens[i], lens[i]);
		td_engine_packet(ev, lt, (uint32_t)i + 1, ts, frames[i], lens[i], lens[i]);
		held += TD_ENGINE_FRAME_BYTES(lens[i]);
		if (i + 1 < n) {
			ck_assert_uint_eq(x.calls, 0);
			ck_assert_uint_eq(memory_now(ev) - memory_now(plain), held);
		}
	}
	/* the last ACK after both FINs ends the connection */
	ck_assert_uint_eq(x.calls, 1);
	ck_assert_uint_eq(memory_now(ev), memory_now(plain));
	ck_assert_uint_eq(x.ev.frames, n);
	ck_assert_uint_eq(x.ev.over_cap, 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(x.frame[i], i + 1);
		ck_assert_uint_eq(x.len[i], lens[i]);
		ck_assert_int_eq(memcmp(x.data[i], frames[i], lens[i]), 0);
		free(x.data[i]);
	}
	td_engine_free(plain);
	td_engine_free(ev);

	/* a cap of the first three frames: they are kept, the rest counted */
	memset(&x, 0, sizeof x);
	size_t cap = TD_ENGINE_FRAME_BYTES(lens[0]) + TD_ENGINE_FRAME_BYTES(lens[1]) +
		     TD_ENGINE_FRAME_BYTES(lens[2]);
	ev = engine(cache, &x, cap);
	for (size_t i = 0; i < n; i++)
		td_engine_packet(ev, lt, (uint32_t)i + 1, (struct td_time){1000, (int32_t)i},
				 frames[i], lens[i], lens[i]);
	ck_assert_uint_eq(x.calls, 1);
	ck_assert_uint_eq(x.ev.frames, 3);
	ck_assert_uint_eq(x.ev.over_cap, n - 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_uint_eq(x.frame[i], i + 1);
		free(x.data[i]);
	}
	td_engine_free(ev);
	for (size_t i = 0; i < n; i++)
		free(frames[i]);
	td_x509_cache_free(cache);
}
END_TEST

Suite *td_evidence_suite(void)
{
	Suite *s = suite_create("evidence");
	TCase *tc = tcase_create("save-evidence");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_failing_connection_only);
	tcase_add_test(tc, test_reanalysis_same_facts);
	tcase_add_test(tc, test_min_severity);
	tcase_add_test(tc, test_cap_counted);
	tcase_add_test(tc, test_memory_accounted);
	tcase_add_test(tc, test_other_link_type);
	tcase_add_test(tc, test_file_safety);
	tcase_add_test(tc, test_usage_errors);
	tcase_add_test(tc, test_engine_frames_accounted);
	suite_add_tcase(s, tc);
	return s;
}
