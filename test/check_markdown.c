/* check_markdown.c - the Markdown incident report (--report), the ladder
 * and --only-failures.
 *
 * The report is rendered by a real Markdown renderer, cmark-gfm (Debian
 * package cmark-gfm: GitHub-flavoured CommonMark; pipe tables are a GFM
 * extension that plain cmark does not know), with --unsafe so raw HTML
 * would come through: what keeps a <script> out is our escaping, not the
 * renderer's filter. Expected values come from independent sources: the
 * openssl CLI (certificate fingerprints) and the samples' facts files.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "td_diagnose.h"
#include "td_report.h"
#include "td_report_md.h"
#include "td_report_util.h"
#include "td_test_util.h"


/* A fresh directory for one test's files; removed by the caller. */
static char *tmpdir(void)
{
	char tmpl[] = "/tmp/td-md-XXXXXX";
	char *d = mkdtemp(tmpl);

	ck_assert_ptr_nonnull(d);
	return strdup(d);
}

/* tlsdiag ARGS --report DIR/report.md, then the report through cmark-gfm;
 * returns the HTML (to be freed), the Markdown in *md when md is set. */
static char *report_html(const char *dir, const char *args, char **md)
{
	char *out = td_test_sh(NULL, "TZ=UTC %s %s --report %s/report.md >/dev/null", td_test_bin(), args,
			       dir);
	free(out);
	if (md) {
		size_t len;

		*md = (char *)td_test_read_file(dir, "report.md", &len);
	}
	return td_test_sh(NULL, "cmark-gfm --unsafe -e table %s/report.md", dir);
}

static char *fingerprint(const char *pem)
{
	char *cli = td_test_sh(NULL, "openssl x509 -noout -fingerprint -sha256 -in %s/%s",
			       td_test_samples(), pem);
	char *hex = malloc(65);

	td_test_fingerprint_hex(cli, hex, 65);
	free(cli);
	return hex;
}

/* The <td> cells of the <tr> holding needle; -1 when no row holds it. */
static int cells_of_row(const char *html, const char *needle)
{
	const char *at = strstr(html, needle), *tr, *end;
	int n = 0;

	if (!at)
		return -1;
	for (tr = at; tr > html && strncmp(tr, "<tr>", 4) != 0; tr--)
		;
	end = strstr(at, "</tr>");
	ck_assert_ptr_nonnull(end);
	for (const char *p = tr; (p = strstr(p, "<td")) && p < end; p++)
		n++;
	return n;
}

static json_t *facts(const char *name)
{
	char path[512];
	json_error_t e;
	json_t *j;

	snprintf(path, sizeof path, "%s/%s", td_test_samples(), name);
	j = json_load_file(path, 0, &e);
	ck_assert_msg(j != NULL, "%s: %s", path, e.text);
	return j;
}

/* ---- the samples through cmark-gfm ---------------------------------------- */

START_TEST(test_md_key_mismatch)
{
	char *dir = tmpdir(), *md, args[512];
	char *sha = fingerprint("keys/mismatch-sent.pem");
	char *html;

	snprintf(args, sizeof args, "-r %s/tls12-rsa-key-mismatch.pcap --key %s/keys/mismatch-real.key",
		 td_test_samples(), td_test_samples());
	html = report_html(dir, args, &md);
	ck_assert_ptr_nonnull(strstr(html, "<h1>TLS incident report: server sent fatal "
					   "bad_record_mac</h1>"));
	ck_assert_ptr_nonnull(strstr(html, "<table>"));
	/* findings: one row, six cells, with the alert name */
	ck_assert_int_eq(cells_of_row(html, "legacy.server.example</td>"), 6);
	ck_assert_ptr_nonnull(strstr(html, "<td>server sent fatal bad_record_mac at frame 9"));
	/* the certificate, as openssl fingerprints it, in the connection's
	 * table (8 cells, the key-match result) and the appendix (7) */
	ck_assert_ptr_nonnull(strstr(html, sha));
	ck_assert_int_eq(cells_of_row(html, sha), 8);
	ck_assert_ptr_nonnull(strstr(html, "<strong>does not match</strong> any --key"));
	ck_assert_ptr_nonnull(strstr(strstr(html, "Appendix"), sha));
	/* the ladder and the next steps as code blocks */
	ck_assert_ptr_nonnull(strstr(html, "<pre><code class=\"language-text\">"));
	ck_assert_ptr_nonnull(strstr(html, "ALERT fatal bad_record_mac"));
	ck_assert_ptr_nonnull(strstr(html, "<pre><code class=\"language-sh\">openssl s_client "
					   "-connect 10.0.0.2:443 -tls1_2\n"));
	/* what was analysed: the command line is there */
	ck_assert_ptr_nonnull(strstr(html, "tls12-rsa-key-mismatch.pcap --key"));
	free(html);
	free(md);
	free(sha);
	/* never over an existing file: exit 2 */
	ck_assert_int_eq(td_test_run(NULL, NULL, "%s -r %s/tls12-rsa-key-mismatch.pcap --report "
						 "%s/report.md >/dev/null 2>&1",
				     td_test_bin(), td_test_samples(), dir),
			 2);
	free(td_test_sh(NULL, "rm -rf %s", dir));
	free(dir);
}
END_TEST

START_TEST(test_md_unknown_ca)
{
	char *dir = tmpdir(), args[512];
	char *leaf = fingerprint("keys/server.example.pem");
	char *inter = fingerprint("keys/intermediate-ca.pem");
	json_t *f = facts("tls12-unknown-ca.facts.json");
	json_t *alert = json_array_get(json_object_get(json_array_get(json_object_get(f, "connections"), 0), "alerts"), 0);
	const char *desc = json_string_value(json_object_get(alert, "description"));
	char want[128];
	char *html;

	snprintf(args, sizeof args, "-r %s/tls12-unknown-ca.pcap", td_test_samples());
	html = report_html(dir, args, NULL);
	ck_assert_ptr_nonnull(strstr(html, "<table>"));
	ck_assert_ptr_nonnull(desc);
	snprintf(want, sizeof want, "client sent fatal %s", desc);
	ck_assert_ptr_nonnull(strstr(html, want));
	ck_assert_int_eq(cells_of_row(html, leaf), 8);
	ck_assert_int_eq(cells_of_row(html, inter), 8);
	ck_assert_ptr_nonnull(strstr(html, "no --key given"));
	ck_assert_ptr_nonnull(strstr(html, "<pre><code class=\"language-text\">"));
	ck_assert_ptr_nonnull(strstr(html, "<pre><code class=\"language-sh\">"));
	free(html);
	free(leaf);
	free(inter);
	json_decref(f);
	free(td_test_sh(NULL, "rm -rf %s", dir));
	free(dir);
}
END_TEST

/* ---- hostile strings ------------------------------------------------------- */

static void hostile_session(struct td_session *s, struct td_diagnosis *d, const char *sni)
{
	struct td_event ev = { .kind = TD_EV_HANDSHAKE, .dir = TD_DIR_C2S, .type = 1, .len = 200,
			       .frame = 4, .ts_sec = 1700000000, .ts_usec = 10 };

	td_test_session_reset(s);
	s->id = 7;
	s->client.family = s->server.family = 4;
	s->client.bytes[0] = 10;
	s->server.bytes[0] = 10;
	s->server.bytes[3] = 2;
	s->client_port = 40000;
	s->server_port = 443;
	s->is_tls = true;
	s->first_ts = (struct td_time){ 1700000000, 0 };
	td_session_ch(s)->seen = true;
	td_session_ch(s)->has_sni = true;
	td_session_ch(s)->sni.len = (uint16_t)strlen(sni);
	memcpy(td_session_ch(s)->sni.bytes, sni, s->ch->sni.len);
	td_session_add_event(s, &ev);
	ev = (struct td_event){ .kind = TD_EV_TCP_RST, .dir = TD_DIR_S2C, .frame = 5,
				.ts_sec = 1700000000, .ts_usec = 900 };
	td_session_add_event(s, &ev);
	s->end = TD_END_RST;
	s->end_by = TD_DIR_S2C;
	s->stage = TD_STAGE_CLIENT_HELLO;
	td_session_finish(s);
	memset(d, 0, sizeof *d);
	td_diagnose(s, "x.pcap", d);
	if (d->n == 0) { /* make sure there is a diagnosis carrying the SNI */
		d->n = 1;
		d->causes[0].id = "test";
		d->causes[0].summary = "test cause";
		d->causes[0].likelihood = 50;
	}
	snprintf(d->problem, sizeof d->problem, "problem with %s", sni);
	snprintf(d->causes[0].evidence_for[0], TD_EVIDENCE_LEN, "SNI %s", sni);
	d->causes[0].n_for = 1;
	snprintf(d->causes[0].next_step, TD_NEXT_STEP_LEN,
		 "Reproduce it: openssl s_client -connect 10.0.0.2:443 -servername %s -state, then "
		 "look.", sni);
	s->diagnosis = d;
}

START_TEST(test_md_hostile_sni)
{
	static const char sni[] = "a|b`c``` <script>alert(1)</script> *x* _y_ [z](u) & \n|x";
	struct td_session s = {0};
	struct td_diagnosis d;
	struct td_summary sum;
	struct td_md *m = td_md_new(10);
	struct td_md_run run = { "test", "tlsdiag -r 'x|y.pcap'" };
	char *dir = tmpdir(), *buf = NULL, *html;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *inputs[] = { "evil|`<b>.pcap" };

	ck_assert_ptr_nonnull(m);
	hostile_session(&s, &d, sni);
	ck_assert(td_report_is_failure(&s));
	ck_assert_int_eq(td_md_add(m, &s), 0);
	memset(&sum, 0, sizeof sum);
	sum.inputs = inputs;
	sum.n_inputs = 1;
	sum.connections_tls = 1;
	sum.by_outcome[TD_OUTCOME_FAILED] = 1;
	ck_assert_int_eq(td_md_write(f, m, &sum, &run), 0);
	fclose(f);
	td_test_write_file(dir, "report.md", buf, len);
	html = td_test_sh(NULL, "cmark-gfm --unsafe -e table %s/report.md", dir);
	/* no tag from the wire, the findings row still has its six cells */
	ck_assert_ptr_null(strstr(html, "<script"));
	ck_assert_ptr_null(strstr(html, "<b>"));
	ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;"));
	ck_assert_int_eq(cells_of_row(html, "<td>7</td>"), 6);
	/* the newline in the SNI stays an escape, not a new row or line */
	ck_assert_ptr_nonnull(strstr(html, "\\x0a|x"));
	/* the SNI in the copyable command is one single-quoted shell word */
	ck_assert_ptr_nonnull(strstr(buf, "-servername 'a|b`c``` <script>alert(1)</script> *x* "
					  "_y_ [z](u) & \\x0a|x' -state\n"));
	/* and the code block around it is not closed by the ``` inside */
	ck_assert_ptr_nonnull(strstr(html, "<pre><code class=\"language-sh\">openssl s_client"));
	ck_assert_ptr_nonnull(strstr(html, "-state\n</code></pre>"));
	free(html);
	free(buf);
	td_md_free(m);
	free(td_test_sh(NULL, "rm -rf %s", dir));
	free(dir);
	td_session_clear(&s, NULL);
}
END_TEST

/* The detail cap: connections beyond it are counted, not kept. */
START_TEST(test_md_bounded)
{
	struct td_session s = {0};
	struct td_diagnosis d;
	struct td_summary sum;
	struct td_md *m = td_md_new(2);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (int i = 0; i < 5; i++) {
		hostile_session(&s, &d, "host.example");
		s.id = (uint64_t)i + 1;
		ck_assert_int_eq(td_md_add(m, &s), 0);
	}
	memset(&sum, 0, sizeof sum);
	sum.connections_tls = 5;
	ck_assert_int_eq(td_md_write(f, m, &sum, NULL), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "5 of 5 TLS connections failed"));
	ck_assert_ptr_nonnull(strstr(buf, "3 more failed connections are counted but not shown"));
	ck_assert_ptr_nonnull(strstr(buf, "## Connection #2:"));
	ck_assert_ptr_null(strstr(buf, "## Connection #3:"));
	free(buf);
	td_md_free(m);
	td_session_clear(&s, NULL);
}
END_TEST

/* ---- --only-failures and the ladder ---------------------------------------- */

START_TEST(test_only_failures)
{
	char *all = td_test_sh(NULL, "TZ=UTC %s -r %s/tls12-ecdhe-ok.pcap", td_test_bin(), td_test_samples());
	char *only = td_test_sh(NULL, "TZ=UTC %s -r %s/tls12-ecdhe-ok.pcap --only-failures", td_test_bin(),
				td_test_samples());
	char *json = td_test_sh(NULL, "TZ=UTC %s -r %s/tls12-ecdhe-ok.pcap --only-failures --json",
				td_test_bin(), td_test_samples());
	char *fail = td_test_sh(NULL, "TZ=UTC %s -r %s/tls12-unknown-ca.pcap --only-failures",
				td_test_bin(), td_test_samples());

	ck_assert_ptr_nonnull(strstr(all, "#1 "));
	ck_assert_ptr_nonnull(strstr(all, "COMPLETED"));
	ck_assert_ptr_null(strstr(only, "#1 "));
	ck_assert_ptr_nonnull(strstr(only, "Summary"));
	ck_assert_ptr_null(strstr(json, "\"type\":\"connection\""));
	ck_assert_ptr_nonnull(strstr(json, "\"type\":\"summary\""));
	ck_assert_ptr_nonnull(strstr(fail, "#1 "));
	ck_assert_ptr_nonnull(strstr(fail, "FAILED"));
	free(all);
	free(only);
	free(json);
	free(fail);
}
END_TEST

/* The line of the ladder for frame f, from the text report; NULL if none. */
static const char *ladder_line(const char *ladder, uint32_t f, char *line, size_t n)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof key, "    frame %lu ", (unsigned long)f);
	p = strstr(ladder, key);
	if (!p)
		return NULL;
	snprintf(line, n, "%.*s", (int)strcspn(p, "\n"), p);
	return p;
}

/* ">" at the end: from the client; "<" first after the time: from the server. */
static const char *arrow_dir(const char *line)
{
	const char *ms = strstr(line, " ms  ");

	ck_assert_ptr_nonnull(ms);
	if (ms[5] == '<')
		return "server";
	ck_assert_int_eq(line[strlen(line) - 1], '>');
	return "client";
}

START_TEST(test_ladder_mismatch)
{
	json_t *f = facts("tls12-rsa-key-mismatch.facts.json");
	json_t *c = json_array_get(json_object_get(f, "connections"), 0);
	json_t *alert = json_array_get(json_object_get(c, "alerts"), 0);
	char *text = td_test_sh(NULL, "TZ=UTC %s -r %s/tls12-rsa-key-mismatch.pcap", td_test_bin(),
				td_test_samples());
	const char *ladder = strstr(text, "\n  Ladder\n");
	const char *end, *p4, *p5, *p8, *p9;
	char l4[128], l5[128], l8[128], l9[128];

	ck_assert_ptr_nonnull(ladder);
	end = strstr(ladder, "\n  Outcome");
	ck_assert_ptr_nonnull(end);
	ck_assert_ptr_null(strstr(text, "Timeline"));
	p4 = ladder_line(ladder, (uint32_t)json_integer_value(json_object_get(c, "client_hello_frame")), l4, sizeof l4);
	p5 = ladder_line(ladder, (uint32_t)json_integer_value(json_object_get(c, "server_hello_frame")), l5, sizeof l5);
	p8 = ladder_line(ladder, 8, l8, sizeof l8);
	p9 = ladder_line(ladder, (uint32_t)json_integer_value(json_object_get(alert, "frame")), l9, sizeof l9);
	ck_assert(p4 && p5 && p8 && p9);
	ck_assert(p4 < p5 && p5 < p8 && p8 < p9 && p9 < end);
	ck_assert_ptr_nonnull(strstr(l4, "ClientHello"));
	ck_assert_str_eq(arrow_dir(l4), "client");
	ck_assert_ptr_nonnull(strstr(l5, "ServerHello"));
	ck_assert_str_eq(arrow_dir(l5), "server");
	ck_assert_str_eq(arrow_dir(l8), "client");
	ck_assert_ptr_nonnull(strstr(l9, json_string_value(json_object_get(alert, "description"))));
	ck_assert_str_eq(arrow_dir(l9), json_string_value(json_object_get(alert, "from")));
	ck_assert_ptr_nonnull(strstr(l9, "<===="));
	/* encryption starts before the client's Finished, after its CCS */
	ck_assert_ptr_nonnull(strstr(ladder, "---- client encrypts from here ----"));
	ck_assert(strstr(ladder, "ChangeCipherSpec") < strstr(ladder, "client encrypts"));
	ck_assert(strstr(ladder, "client encrypts") < strstr(ladder, "encrypted handshake (Finished)"));
	ck_assert(strstr(ladder, "TCP FIN") > p9);
	/* no line longer than 100 columns, no colour without a terminal */
	for (const char *p = ladder + 1; p < end;) {
		size_t n = strcspn(p, "\n");
		ck_assert_uint_le(n, 100);
		p += n + 1;
	}
	ck_assert_ptr_null(strchr(text, '\033'));
	free(text);
	json_decref(f);
}
END_TEST

Suite *td_markdown_suite(void)
{
	Suite *s = suite_create("markdown");
	TCase *md = tcase_create("report");
	TCase *cli = tcase_create("cli");

	tcase_set_timeout(md, 60);
	tcase_add_test(md, test_md_key_mismatch);
	tcase_add_test(md, test_md_unknown_ca);
	tcase_add_test(md, test_md_hostile_sni);
	tcase_add_test(md, test_md_bounded);
	suite_add_tcase(s, md);
	tcase_set_timeout(cli, 60);
	tcase_add_test(cli, test_only_failures);
	tcase_add_test(cli, test_ladder_mismatch);
	suite_add_tcase(s, cli);
	return s;
}
