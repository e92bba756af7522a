/* check_pipeline.c - -j: the engine on its own thread, the reporting on
 * another (td_pipeline.h), and the x509 cache's pins under it.
 *
 * The requirement is that -j 2 reports exactly what -j 1 does: the
 * reference here is the engine run alone on the same packets (the one-
 * thread path), and the facts compared are the reports themselves, every
 * evidence frame, and the certificate cache's own counts. The pin test's
 * expected values come from openssl, not from tlsdiag.
 */
#include <check.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "td_capture.h"
#include "td_engine.h"
#include "td_pipeline.h"
#include "td_report.h"
#include "td_test_util.h"
#include "td_x509.h"

/* What one run reported: every connection's text report (-v) and, per
 * connection, the frame numbers of its evidence, all in one buffer. */
struct seen {
	char *buf;
	size_t len;
	FILE *f;
	unsigned sessions;
	unsigned slow; /* the first this many connections are reported slowly */
	/* The engine alone releasing late, as a pipeline must not: each
	 * connection's certificate references kept until lag more have ended
	 * (UINT_MAX: until the capture's end), then reported and released.
	 * 0: the engine reports and releases at once. */
	unsigned lag;
	struct td_x509_cache *cache;
	struct td_session *held;
	unsigned n_held;
};

static void seen_open(struct seen *v)
{
	memset(v, 0, sizeof *v);
	v->f = open_memstream(&v->buf, &v->len);
	ck_assert_ptr_nonnull(v->f);
}

static void on_session(void *user, struct td_session *s)
{
	struct seen *v = user;
	struct td_report_opts o = {.verbose = 2};

	/* a slow reporter: the analysis runs ahead, ends later connections
	 * and releases their certificates while these are still read */
	if (v->sessions < v->slow)
		usleep(2000);
	v->sessions++;
	td_report_session(v->f, &o, s);
	/* the chain as the cache gave it: read after the analysis thread
	 * released it (ASan would see a freed entry) */
	for (unsigned i = 0; i < s->n_certs; i++)
		fprintf(v->f, "cert %u %02x%02x parsed %d\n", i, s->certs[i]->sha256[0],
			s->certs[i]->sha256[31], s->certs[i]->parsed);
}

static void on_evidence(void *user, const struct td_session *s, const struct td_engine_evidence *ev)
{
	struct seen *v = user;

	fprintf(v->f, "evidence of %llu: %u frames, %u over cap:", (unsigned long long)s->id,
		ev->frames, ev->over_cap);
	for (const struct td_engine_frame *f = ev->first; f; f = f->next)
		fprintf(v->f, " %u/%u", f->frame, f->caplen);
	fputc('\n', v->f);
}

/* Reports and releases the oldest connection held. */
static void release_oldest(struct seen *v)
{
	on_session(v, &v->held[0]);
	td_session_clear(&v->held[0], v->cache);
	memmove(v->held, v->held + 1, --v->n_held * sizeof *v->held);
}

/* The engine's handoff for seen.lag: the connection is held (its
 * references with it); its evidence is not compared. */
static void hold(void *user, struct td_session *s, struct td_engine_evidence *ev)
{
	struct seen *v = user;
	struct td_session *h = realloc(v->held, (v->n_held + 1) * sizeof *h);

	ck_assert_ptr_nonnull(h);
	v->held = h;
	td_engine_evidence_free(ev);
	td_session_move(&h[v->n_held++], s);
	if (v->n_held > v->lag)
		release_oldest(v);
}

static void config(struct td_engine_config *cfg)
{
	td_engine_config_default(cfg);
	cfg->classify = false; /* nDPI's start-up per engine: the e2e tests have it */
	cfg->evidence = on_evidence;
	cfg->evidence_max_bytes = 3000; /* some connections over the cap */
}

/* The sample through the engine alone (pcfg NULL) or through a pipeline;
 * the cache's counts into xs. */
static void run(const char *file, size_t cache_entries, const struct td_pipeline_config *pcfg,
		struct seen *v, struct td_x509_stats *xs)
{
	struct td_x509_cache *cache = td_x509_cache_new(cache_entries);
	struct td_engine_config cfg;
	struct td_engine *eng = NULL;
	struct td_pipeline *pipe = NULL;
	enum td_capture_status st;
	struct td_capture *cap;
	struct td_packet pkt;
	char err[512];

	ck_assert_ptr_nonnull(cache);
	config(&cfg);
	if (v->lag && !pcfg) {
		cfg.handoff = hold;
		v->cache = cache;
	}
	if (pcfg)
		pipe = td_pipeline_new(&cfg, pcfg, cache, on_session, v);
	else
		eng = td_engine_new(&cfg, cache, on_session, v);
	ck_assert(eng || pipe);
	cap = td_capture_open_file(file, NULL, &st, err, sizeof err);
	ck_assert_msg(cap != NULL, "%s", err);
	while (td_capture_next(cap, &pkt, err, sizeof err) == TD_CAP_OK) {
		if (pipe)
			td_pipeline_packet(pipe, pkt.linktype, pkt.frame, pkt.ts, pkt.data,
					   pkt.caplen, pkt.wirelen);
		else
			td_engine_packet(eng, pkt.linktype, pkt.frame, pkt.ts, pkt.data, pkt.caplen,
					 pkt.wirelen);
	}
	td_capture_close(cap);
	if (pipe) {
		td_pipeline_finish(pipe);
		td_pipeline_free(pipe);
	} else {
		td_engine_finish(eng);
		td_engine_free(eng);
		while (v->n_held > 0)
			release_oldest(v);
		free(v->held);
	}
	td_x509_cache_stats(cache, xs);
	td_x509_cache_free(cache);
	fclose(v->f);
}

/* The first difference of two reports, for the failure message. */
static const char *first_difference(const struct seen *a, const struct seen *b)
{
	size_t i = 0;

	while (i < a->len && i < b->len && a->buf[i] == b->buf[i])
		i++;
	while (i > 0 && a->buf[i - 1] != '\n')
		i--;
	return a->buf + i;
}

/* The pipelines compared with the engine alone: of three threads, of two
 * (the engine on the caller's), of two with the caller reading and
 * reporting, of several batch sizes (one packet and one connection per
 * batch: every queue full and empty in turn); the first, the fourth and
 * the sixth with a slow reporter. */
static const struct td_pipeline_config pcfgs[] = {
	{.batch_bytes = 1, .batch_sessions = 1, .analysis_thread = true},
	{.batch_bytes = 2048, .batch_sessions = 3, .analysis_thread = true},
	{.analysis_thread = true},
	{.batch_sessions = 1},
	{0},
	{.batch_bytes = 1, .batch_sessions = 1, .analysis_thread = true, .report_on_caller = true},
	{.batch_bytes = 2048, .batch_sessions = 3, .analysis_thread = true,
	 .report_on_caller = true},
	{.analysis_thread = true, .report_on_caller = true},
};

/* file through the engine alone and through every pipeline of pcfgs, with
 * a cache of entries certificates: asserts the same reports, evidence and
 * cache counts. The engine's counts into xw; returns how many connections
 * it reported. */
static unsigned same_as_engine(const char *file, size_t entries, struct td_x509_stats *xw)
{
	struct seen want, got;
	struct td_x509_stats xg;
	unsigned sessions;

	seen_open(&want);
	run(file, entries, NULL, &want, xw);
	for (size_t k = 0; k < sizeof pcfgs / sizeof pcfgs[0]; k++) {
		seen_open(&got);
		got.slow = k == 0 || k == 3 || k == 5 ? 3 : 0;
		run(file, entries, &pcfgs[k], &got, &xg);
		ck_assert_uint_eq(got.sessions, want.sessions);
		ck_assert_msg(got.len == want.len && memcmp(got.buf, want.buf, got.len) == 0,
			      "%s, %zu-entry cache, batch config %zu: the pipeline reported "
			      "otherwise from here:\n%.2000s\n---- the engine alone:\n%.2000s",
			      file, entries, k, first_difference(&got, &want),
			      first_difference(&want, &got));
		ck_assert_msg(xg.lookups == xw->lookups && xg.parses == xw->parses &&
				      xg.hits == xw->hits && xg.evictions == xw->evictions &&
				      xg.held == xw->held,
			      "%s, %zu-entry cache, batch config %zu: cache lookups %llu parses "
			      "%llu hits %llu evictions %llu held %llu; the engine alone %llu "
			      "%llu %llu %llu %llu",
			      file, entries, k, (unsigned long long)xg.lookups,
			      (unsigned long long)xg.parses, (unsigned long long)xg.hits,
			      (unsigned long long)xg.evictions, (unsigned long long)xg.held,
			      (unsigned long long)xw->lookups, (unsigned long long)xw->parses,
			      (unsigned long long)xw->hits, (unsigned long long)xw->evictions,
			      (unsigned long long)xw->held);
		free(got.buf);
	}
	sessions = want.sessions;
	free(want.buf);
	return sessions;
}

/* Every sample through every pipeline, with caches of one and two
 * certificates (evictions of busy and idle entries, where the moment a
 * certificate is released decides what is evicted): the same reports,
 * evidence and cache counts as the engine alone. */
START_TEST(test_pipeline_same_as_engine)
{
	glob_t g;
	unsigned total = 0, evicted = 0;

	td_test_sample_captures(&g);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct td_x509_stats xw;

		if (!TD_TEST_PICK(i))
			continue;
		for (size_t entries = 1; entries <= 2; entries++) {
			unsigned n = same_as_engine(g.gl_pathv[i], entries, &xw);

			if (entries == 1)
				total += n;
			evicted += xw.evictions > 0;
		}
	}
	/* every sample holds a connection; with a one-entry cache, chains of
	 * two certificates evict (samples/README.md) */
	ck_assert_uint_ge(total, TD_TEST_SMALL ? g.gl_pathc / 3 : g.gl_pathc);
	ck_assert_uint_gt(evicted, 0);
	globfree(&g);
}
END_TEST

/* The gap the samples leave: their connections do not overlap in time, so
 * the same entries are evicted whenever a connection's certificates are
 * released. Here they overlap: bench/make-workload (the samples'
 * connections cloned under fresh 5-tuples, made here, not committed) with
 * up to 10 open at once, three distinct certificates among them. A two-
 * entry cache then evicts an idle entry or a busy one depending on
 * whether the connections that ended released theirs, and the pipelines
 * must count exactly the engine's hits and misses. That the input tells
 * the two apart is checked too: the engine alone, releasing late (as a
 * pipeline releasing at unpin time behind a slow reporter, or never),
 * counts otherwise. The counts the runs are held to come from the
 * workload's truth (samples' facts.json), not from tlsdiag. */
START_TEST(test_pipeline_overlap)
{
	static const unsigned lags[] = {2, 3, UINT_MAX};
	char *dir = td_test_tmpdir("overlap"), path[PATH_MAX];
	json_error_t jerr;
	json_t *truth;
	long long conns, certs;
	struct td_x509_stats xw;

	free(td_test_sh(NULL,
			"python3 %s/../bench/make-workload --mix handshake --size 0.5 --open 10 "
			"--seed 1 --samples %s -o %s/w.pcap 2>/dev/null",
			td_test_samples(), td_test_samples(), dir));
	snprintf(path, sizeof path, "%s/w.pcap.truth.json", dir);
	truth = json_load_file(path, 0, &jerr);
	ck_assert_msg(truth != NULL, "%s: %s", path, jerr.text);
	conns = json_integer_value(json_object_get(truth, "connections"));
	certs = json_integer_value(json_object_get(truth, "certificates"));
	/* the input overlaps: connections open at once, most with a chain
	 * in clear */
	ck_assert_int_ge(json_integer_value(json_object_get(truth, "max_open_connections")), 5);
	ck_assert_int_ge(json_integer_value(json_object_get(truth, "certificate_messages")),
			 conns / 2);
	snprintf(path, sizeof path, "%s/w.pcap", dir);
	for (size_t entries = 1; entries <= 2; entries++) { /* xw: the last's */
		ck_assert_int_eq(same_as_engine(path, entries, &xw), conns);
		/* every certificate in clear looked up once; a cache smaller
		 * than the three distinct certificates evicts */
		ck_assert_int_eq(xw.lookups, certs);
		ck_assert_uint_gt(xw.evictions, 0);
	}
	for (size_t k = 0; k < sizeof lags / sizeof lags[0]; k++) {
		struct td_x509_stats xl;
		struct seen late;

		seen_open(&late);
		late.lag = lags[k];
		run(path, 2, NULL, &late, &xl);
		ck_assert_int_eq(late.sessions, conns);
		ck_assert_msg(xl.lookups == xw.lookups && xl.parses != xw.parses,
			      "released %u connections late, a 2-entry cache parses %llu "
			      "certificates as on time (%llu): the input does not tell",
			      lags[k], (unsigned long long)xl.parses,
			      (unsigned long long)xw.parses);
		free(late.buf);
	}
	json_decref(truth);
	td_test_rmdir_all(dir);
}
END_TEST

/* A sample's server certificate as DER (openssl), and its SHA-256 (openssl
 * dgst), into der/sha. */
static uint8_t *sample_cert_der(size_t *len, char sha[65])
{
	char *dir = td_test_tmpdir("pin");
	char *out = td_test_sh(NULL,
			       "openssl x509 -in %s/keys/mismatch-sent.pem -outform DER -out %s/c.der && "
			       "openssl dgst -sha256 -r %s/c.der | cut -c1-64",
			       td_test_samples(), dir, dir);
	uint8_t *der = td_test_read_file(dir, "c.der", len);

	ck_assert_uint_ge(strlen(out), 64);
	memcpy(sha, out, 64);
	sha[64] = '\0';
	free(out);
	td_test_rmdir_all(dir);
	return der;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* td_x509_cert_release_pinned: the cache counts as after a release (the
 * entry is idle, evicted by the next new certificate, looked up again as
 * a miss) while the pinned facts stay readable until unpinned. */
START_TEST(test_x509_pin)
{
	struct td_x509_cache *pinned = td_x509_cache_new(1), *plain = td_x509_cache_new(1);
	struct td_x509_stats sp, sq;
	uint8_t junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	char sha[65], got[65];
	size_t len;
	uint8_t *der = sample_cert_der(&len, sha);
	const struct td_cert *a, *b, *c;

	ck_assert_ptr_nonnull(pinned);
	ck_assert_ptr_nonnull(plain);
	/* the same calls on both caches, pinned and plain release */
	a = td_x509_cache_get(pinned, der, len);
	ck_assert_ptr_nonnull(a);
	ck_assert(a->parsed);
	td_x509_cert_release_pinned(pinned, a);
	td_x509_cert_release(plain, td_x509_cache_get(plain, der, len));
	/* a new entry evicts the idle one: freed in plain, kept while pinned */
	b = td_x509_cache_get(pinned, junk, sizeof junk);
	td_x509_cert_release(plain, td_x509_cache_get(plain, junk, sizeof junk));
	ck_assert_ptr_nonnull(b);
	hex(a->sha256, 32, got);
	ck_assert_str_eq(got, sha);
	ck_assert(a->parsed);
	/* looked up again: a miss in both, a new entry */
	c = td_x509_cache_get(pinned, der, len);
	td_x509_cert_release(plain, td_x509_cache_get(plain, der, len));
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_ne(c, a);
	td_x509_cache_stats(pinned, &sp);
	td_x509_cache_stats(plain, &sq);
	ck_assert_uint_eq(sp.lookups, 3);
	ck_assert_uint_eq(sp.parses, 3);
	ck_assert_uint_eq(sp.hits, 0);
	ck_assert_uint_eq(sp.evictions, 2);
	ck_assert_uint_eq(sp.parses, sq.parses);
	ck_assert_uint_eq(sp.evictions, sq.evictions);
	ck_assert_uint_eq(sp.held, sq.held);
	hex(a->sha256, 32, got); /* still readable */
	ck_assert_str_eq(got, sha);
	td_x509_cert_unpin(pinned, a); /* freed now (ASan/valgrind: no leak) */
	td_x509_cert_release(pinned, b);
	td_x509_cert_release(pinned, c);
	/* a held reference, pinned and released in turn, and the cache freed
	 * with the pin still on: nothing leaks */
	a = td_x509_cache_get(pinned, der, len);
	td_x509_cert_release_pinned(pinned, a);
	td_x509_cache_free(pinned);
	td_x509_cache_free(plain);
	free(der);
}
END_TEST

/* tlsdiag -j 1, -j 2 and -j 3 on every sample, with everything the reporting
 * thread writes: the text report (-v), the JSON Lines, the Markdown report
 * (but the command line it quotes), the evidence pcap, the extracted
 * certificates and their index, and the exit status: byte for byte the
 * same. */
START_TEST(test_threads_cli_same)
{
	char *dir = td_test_tmpdir("threads"), *bin = realpath(td_test_bin(), NULL);
	glob_t g;

	ck_assert_ptr_nonnull(bin);
	td_test_sample_captures(&g);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char *p = realpath(g.gl_pathv[i], NULL);
		char keylog[PATH_MAX + 16], *out;
		int rc;

		ck_assert_ptr_nonnull(p);
		if (!TD_TEST_PICK(i)) {
			free(p);
			continue;
		}
		snprintf(keylog, sizeof keylog, "%.*s.keylog", (int)(strrchr(p, '.') - p), p);
		if (access(keylog, R_OK) != 0)
			snprintf(keylog, sizeof keylog, "/dev/null");
		for (int j = 1; j <= 3; j++)
			free(td_test_sh(NULL,
					"cd %s && rm -rf %d && mkdir -p %d/certs && cd %d && "
					"{ %s -j %d -q -r %s --keylog %s -v --color=never -o out.txt "
					"--report out.md --save-evidence out.pcap --evidence-min-severity "
					"info --extract-certs certs; echo $?; "
					"%s --threads %d -q -r %s --keylog %s --json -o out.jsonl; "
					"echo $?; } > status 2>&1; "
					"grep -v -- ' -j %d -q' out.md > md.body",
					dir, j, j, j, bin, j, p, keylog, bin, j, p, keylog, j));
		rc = td_test_run(&out, dir,
				 "for f in out.txt md.body out.pcap out.jsonl status; do "
				 "cmp 1/$f 2/$f && cmp 1/$f 3/$f || exit 1; done; "
				 "diff -r 1/certs 2/certs && diff -r 1/certs 3/certs && "
				 "test -s 1/out.txt && test -s 1/out.jsonl");
		ck_assert_msg(rc == 0, "%s: -j 1, -j 2 and -j 3 differ: %s", p, out);
		free(out);
		free(p);
	}
	free(bin);
	globfree(&g);
	td_test_rmdir_all(dir);
}
END_TEST

/* -j takes 1 to 256, as tcpdump-style options say. */
START_TEST(test_threads_option)
{
	static const char *const bad[] = {"0", "257", "x", "-1", "2x"};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *out;
		int rc = td_test_run(&out, NULL, "%s -j %s -r %s/tls12-ecdhe-ok.pcap 2>&1",
				     td_test_bin(), bad[i], td_test_samples());

		ck_assert_int_eq(rc, 2);
		ck_assert_msg(strstr(out, "-j takes a number from 1 to 256"), "%s", out);
		free(out);
	}
}
END_TEST

Suite *td_pipeline_suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("pipeline");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_pipeline_same_as_engine);
	tcase_add_test(tc, test_pipeline_overlap);
	tcase_add_test(tc, test_x509_pin);
	tcase_add_test(tc, test_threads_cli_same);
	tcase_add_test(tc, test_threads_option);
	suite_add_tcase(s, tc);
	return s;
}
