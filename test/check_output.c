/* check_output.c - where the report goes and what it promises: the JSON
 * schema, -o FILE, the progress line, golden reports and --redact
 * (--save-evidence: check_evidence.c).
 *
 * The JSON Schema (schema/tlsdiag-v1.schema.json) is checked with a real
 * validator that is not tlsdiag: python3-jsonschema (Debian), through
 * tools/validate-json.
 */
#include <check.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "td_test_util.h"

#define SCHEMA "schema/tlsdiag-v1.schema.json"
#define VALIDATE "tools/validate-json"

/* The sample's key log: X.pcap or X.pcapng -> X.keylog. */
static void keylog_of(const char *pcap, char *out, size_t n)
{
	const char *dot = strrchr(pcap, '.');

	snprintf(out, n, "%.*s.keylog", (int)(dot - pcap), pcap);
}

/* The summaries in out: one per tlsdiag run. */
static unsigned count_type(const char *text, const char *type)
{
	json_t *lines = td_test_json_lines(text);
	unsigned n = 0;
	size_t i;
	json_t *v;

	json_array_foreach(lines, i, v)
		n += strcmp(json_string_value(json_object_get(v, "type")), type) == 0;
	json_decref(lines);
	return n;
}

/* ---- the JSON Schema ------------------------------------------------------ */

/* Every object of every sample, three ways: plain; with the sample's key
 * log and every key of samples/keys (decryption, key_match,
 * pre_master_secret, summary keys); with --ca and --cert (ca_ok,
 * expected_certificate). */
START_TEST(test_schema_samples)
{
	char *dir = td_test_tmpdir("out"), keylog[600], keys[4096] = "", *out;
	glob_t g, k;
	unsigned runs = 0;
	int rc;

	td_test_sample_captures(&g);
	snprintf(keys, sizeof keys, "%s/keys/*.key", td_test_samples());
	ck_assert_int_eq(glob(keys, 0, NULL, &k), 0);
	keys[0] = '\0';
	for (size_t i = 0; i < k.gl_pathc; i++) {
		strcat(keys, " --key ");
		strcat(keys, k.gl_pathv[i]);
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i];

		if (!TD_TEST_PICK(i)) /* a third of them under the sanitizers */
			continue;
		keylog_of(p, keylog, sizeof keylog);
		free(td_test_sh(NULL, "%s -r %s --json >> %s/all.jsonl", td_test_bin(), p, dir));
		free(td_test_sh(NULL, "%s -r %s --json --keylog %s %s >> %s/all.jsonl", td_test_bin(),
				p, keylog, keys, dir));
		free(td_test_sh(NULL,
				"%s -r %s --json --ca %s/keys/root-ca.pem --cert "
				"%s/keys/server.example.pem >> %s/all.jsonl",
				td_test_bin(), p, td_test_samples(), td_test_samples(), dir));
		runs += 3;
	}
	rc = td_test_run(&out, NULL, "python3 %s %s %s/all.jsonl 2>&1", VALIDATE, SCHEMA, dir);
	ck_assert_msg(rc == 0, "schema validation failed:\n%s", out);
	free(out);
	/* the file held what the runs wrote: one summary each, connections */
	out = (char *)td_test_read_file(dir, "all.jsonl", &(size_t){ 0 });
	ck_assert_uint_eq(count_type(out, "summary"), runs);
	ck_assert_uint_ge(count_type(out, "connection"), runs);
	free(out);
	globfree(&k);
	globfree(&g);
	td_test_rmdir_all(dir);
}
END_TEST

/* The schema is closed: a field added, a type changed or a value outside
 * a vocabulary fails validation, so the schema cannot fall behind the
 * code unnoticed. */
START_TEST(test_schema_closed)
{
	static const char *const edits[] = {
		"s/\"midstream\":false/\"midstream\":false,\"new_field\":1/",
		"s/\"midstream\":false/\"midstream\":0/",
		"s/\"outcome\":\"failed\"/\"outcome\":\"broken\"/",
		"s/\"bytes\":[0-9]*/&,\"more\":2/",
		"s/\"stage\":\"ServerHelloDone\",//",
	};
	char *out;
	int rc;

	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		rc = td_test_run(&out, NULL,
				 "%s -r %s/tls12-unknown-ca.pcap --json | sed '%s' | python3 %s %s "
				 "2>&1",
				 td_test_bin(), td_test_samples(), edits[i], VALIDATE, SCHEMA);
		ck_assert_msg(rc == 1, "edit %s: validator exit %d:\n%s", edits[i], rc, out);
		free(out);
	}
	/* unedited, the same line validates */
	rc = td_test_run(&out, NULL, "%s -r %s/tls12-unknown-ca.pcap --json | python3 %s %s 2>&1",
			 td_test_bin(), td_test_samples(), VALIDATE, SCHEMA);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "2 objects valid (1 connection, 1 summary)"));
	free(out);
}
END_TEST

/* ---- -o FILE -------------------------------------------------------------- */

/* The file holds what standard output holds without -o, byte for byte,
 * and nothing goes to standard output; JSON Lines too, and they validate. */
START_TEST(test_output_file)
{
	static const char *const modes[] = {"", "--json", "--color=never -v"};
	char *dir = td_test_tmpdir("out"), *plain, *with, *file;
	size_t len;

	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		char name[32];

		snprintf(name, sizeof name, "out%zu", i);
		plain = td_test_sh(NULL, "TZ=UTC %s -r %s/tls12-rsa-key-mismatch.pcap %s",
				   td_test_bin(), td_test_samples(), modes[i]);
		with = td_test_sh(NULL, "TZ=UTC %s -r %s/tls12-rsa-key-mismatch.pcap %s -o %s/%s",
				  td_test_bin(), td_test_samples(), modes[i], dir, name);
		file = (char *)td_test_read_file(dir, name, &len);
		ck_assert_str_eq(with, "");
		ck_assert_uint_gt(len, 100);
		ck_assert_str_eq(file, plain);
		free(plain);
		free(with);
		free(file);
	}
	free(td_test_sh(NULL, "python3 %s %s %s/out1 >/dev/null", VALIDATE, SCHEMA, dir));
	td_test_rmdir_all(dir);
}
END_TEST

/* An existing file is never overwritten, a symbolic link never followed:
 * exit 2 with one line naming the file, before any packet is read. */
START_TEST(test_output_no_overwrite)
{
	char *dir = td_test_tmpdir("out"), *out, *file;
	size_t len;
	int rc;

	td_test_write_file(dir, "exists", "keep me\n", 8);
	rc = td_test_run(&out, NULL, "%s -r %s/tls12-ecdhe-ok.pcap --json -o %s/exists 2>&1",
			 td_test_bin(), td_test_samples(), dir);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "-o "));
	ck_assert_ptr_nonnull(strstr(out, "/exists: file exists; tlsdiag does not overwrite it"));
	ck_assert_ptr_null(strstr(out, "\"type\""));
	free(out);
	file = (char *)td_test_read_file(dir, "exists", &len);
	ck_assert_str_eq(file, "keep me\n");
	free(file);
	/* a dangling symbolic link: refused, its target never created */
	free(td_test_sh(NULL, "ln -s %s/target %s/link", dir, dir));
	rc = td_test_run(&out, NULL, "%s -r %s/tls12-ecdhe-ok.pcap -o %s/link 2>&1",
			 td_test_bin(), td_test_samples(), dir);
	ck_assert_int_eq(rc, 2);
	free(out);
	ck_assert_int_ne(access(dir, F_OK), -1);
	rc = td_test_run(NULL, NULL, "test -e %s/target", dir);
	ck_assert_int_ne(rc, 0);
	/* -o - is refused */
	rc = td_test_run(&out, NULL, "%s -r %s/tls12-ecdhe-ok.pcap -o - 2>&1", td_test_bin(),
			 td_test_samples());
	ck_assert_int_eq(rc, 2);
	free(out);
	td_test_rmdir_all(dir);
}
END_TEST

/* tlsdiag -o dir/fifo refused: exit 2 and want in its one line. */
static void fifo_refused(const char *dir, const char *want)
{
	char *out;
	int rc = td_test_run(&out, NULL, "%s -r %s/tls12-ecdhe-ok.pcap --json -o %s/fifo 2>&1",
			     td_test_bin(), td_test_samples(), dir);

	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(out, want), "want \"%s\": %s", want, out);
	ck_assert_ptr_null(strstr(out, "\"type\""));
	free(out);
}

/* What exists at the name and is no file is written to, as tcpdump -w
 * does: /dev/null for each report or capture file option, and a FIFO of
 * the user's own while something reads it (what comes out is the report
 * standard output gets). A FIFO nothing reads is refused at once rather
 * than waited for, and one of another user's is refused as a file. */
START_TEST(test_output_streams)
{
	static const char *const opts[] = {"-o", "-w", "--report", "--save-evidence"};
	char *dir = td_test_tmpdir("out"), *out, *plain, path[1024], got[1 << 16];
	size_t len = 0;
	ssize_t n;
	int rc, fd;

	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		/* standard error only: no complaint */
		rc = td_test_run(&out, NULL,
				 "%s -r %s/tls12-ecdhe-ok.pcap --json %s /dev/null 2>&1 >/dev/null",
				 td_test_bin(), td_test_samples(), opts[i]);
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out, "");
		free(out);
	}
	plain = td_test_sh(NULL, "TZ=UTC %s -r %s/tls12-rsa-key-mismatch.pcap --json", td_test_bin(),
			   td_test_samples());
	ck_assert_uint_lt(strlen(plain), sizeof got); /* fits the FIFO's 64 KiB */
	free(td_test_sh(NULL, "mkfifo %s/fifo", dir));
	/* nothing reads it: refused, exit 2, before any packet is read */
	fifo_refused(dir, "/fifo: a FIFO that nothing reads");
	/* the test reads it: its read end open before tlsdiag starts (no
	 * race), the report whole in the FIFO when tlsdiag exits */
	snprintf(path, sizeof path, "%s/fifo", dir);
	ck_assert_int_ge((fd = open(path, O_RDONLY | O_NONBLOCK)), 0);
	free(td_test_sh(NULL, "TZ=UTC %s -r %s/tls12-rsa-key-mismatch.pcap --json -o %s/fifo",
			td_test_bin(), td_test_samples(), dir));
	while ((n = read(fd, got + len, sizeof got - 1 - len)) > 0)
		len += (size_t)n;
	ck_assert_int_eq(n, 0); /* end of file: the writer closed it */
	close(fd);
	got[len] = '\0';
	ck_assert_uint_gt(len, 100);
	ck_assert_str_eq(got, plain);
	free(plain);
	if (geteuid() == 0) {
		free(td_test_sh(NULL, "chown nobody %s/fifo", dir));
		fifo_refused(dir, "/fifo: file exists; tlsdiag does not overwrite it");
	}
	td_test_rmdir_all(dir);
}
END_TEST

/* Every file-writing option at once (-o, -w, --report, --extract-certs:
 * tlsdiag(1)) under umask 000: every file and directory made is neither
 * group- nor world-writable. Then, for each option, a symbolic link
 * planted at its output name (a dangling one, and one to a file that
 * exists) is refused with one line saying so, the run fails, and the
 * link's target is neither created nor changed. */
START_TEST(test_output_modes_and_links)
{
	static const struct {
		const char *opt, *name; /* name: what a link is planted at */
	} outs[] = {
		{"-o", "out.jsonl"},
		{"-w", "w.pcap"},
		{"--report", "r.md"},
		{"--extract-certs", "certs"},        /* the directory itself */
		{"--extract-certs", "c2/index.json"}, /* a file inside it */
	};
	char *dir = td_test_tmpdir("out"), *out;
	size_t len;
	int rc;

	free(td_test_sh(NULL, "mkdir -p %s/all && chmod 755 %s/all", dir, dir));
	rc = td_test_run(&out, NULL,
			 "umask 000 && %s -r %s/tls12-ecdhe-ok.pcap --json -o %s/all/out.jsonl "
			 "-w %s/all/w.pcap --report %s/all/r.md --extract-certs %s/all/certs 2>&1",
			 td_test_bin(), td_test_samples(), dir, dir, dir, dir);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	free(out);
	/* what was made: the four outputs, the certificate directory, its
	 * index and the leaf's .der and .pem at least */
	out = td_test_sh(NULL, "cd %s/all && find . -mindepth 1 | sort", dir);
	static const char *const made[] = {"./out.jsonl", "./w.pcap", "./r.md", "./certs",
					   "./certs/index.json", ".der\n", ".pem\n"};
	for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
		ck_assert_msg(strstr(out, made[i]) != NULL, "%s not made:\n%s", made[i], out);
	free(out);
	out = td_test_sh(NULL, "cd %s/all && find . -mindepth 1 \\( -perm -g+w -o -perm -o+w \\) "
			       "-printf '%%m %%p\\n'",
			 dir);
	ck_assert_msg(out[0] == '\0', "group- or world-writable under umask 000:\n%s", out);
	free(out);

	for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
		for (int existing = 0; existing < 2; existing++) {
			char sub[600], link[700], target[700];
			const char *slash = strrchr(outs[i].name, '/');

			snprintf(sub, sizeof sub, "%s/l%zu%d", dir, i, existing);
			free(td_test_sh(NULL, "mkdir -p %s/c2", sub));
			snprintf(link, sizeof link, "%s/%s", sub, outs[i].name);
			snprintf(target, sizeof target, "%s/target", sub);
			if (existing)
				td_test_write_file(NULL, target, "target", 6);
			ck_assert_int_eq(symlink(target, link), 0);
			/* --extract-certs takes the directory: c2 for the index */
			rc = td_test_run(&out, NULL,
					 "umask 000 && %s -r %s/tls12-ecdhe-ok.pcap %s %s%s%s 2>&1 "
					 ">/dev/null",
					 td_test_bin(), td_test_samples(), outs[i].opt, sub,
					 slash ? "/c2" : "/", slash ? "" : outs[i].name);
			ck_assert_msg(rc == 2, "%s %s: exit %d", outs[i].opt, link, rc);
			ck_assert_msg(strstr(out, "is a symbolic link") != NULL, "%s %s: %s",
				      outs[i].opt, link, out);
			ck_assert_msg(strstr(out, outs[i].opt) != NULL, "%s: option not named: %s",
				      outs[i].opt, out);
			free(out);
			if (existing) {
				char *t = (char *)td_test_read_file(NULL, target, &len);
				ck_assert_str_eq(t, "target");
				free(t);
			} else {
				ck_assert_int_eq(access(target, F_OK), -1);
			}
		}
	}
	td_test_rmdir_all(dir);
}
END_TEST

/* ---- the progress line ---------------------------------------------------- */

/* Under a pseudo-terminal (script(1) from util-linux), standard error is a
 * terminal: the line appears, redrawn with \r, and is erased at the end
 * (\r ESC [K). -q, or standard error not a terminal (a file, a pipe),
 * leave it out. */
START_TEST(test_progress_line)
{
	char *dir = td_test_tmpdir("out"), *out, *err;
	const char *line = "\rtlsdiag: ";
	size_t len;
	int rc;

	/* the report goes to a file: what the terminal got is stderr only */
	rc = td_test_run(&out, NULL,
			 "script -qec '%s -r %s/tls12-ecdhe-ok.pcap -r %s/tls13-ok.pcapng --json "
			 "-o %s/a.jsonl' /dev/null",
			 td_test_bin(), td_test_samples(), td_test_samples(), dir);
	ck_assert_msg(rc == 0, "script: exit %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, line));
	ck_assert_ptr_nonnull(strstr(out, "% of "));
	ck_assert_ptr_nonnull(strstr(out, " packets"));
	ck_assert_ptr_nonnull(strstr(out, "TLS connections"));
	/* erased at the end: the last thing written is the erase sequence */
	len = strlen(out);
	ck_assert_uint_ge(len, 4);
	ck_assert_str_eq(out + len - 4, "\r\033[K");
	free(out);
	/* -q: none, under the same terminal */
	out = td_test_sh(NULL,
			 "script -qec '%s -q -r %s/tls12-ecdhe-ok.pcap --json -o %s/b.jsonl' /dev/null",
			 td_test_bin(), td_test_samples(), dir);
	ck_assert_ptr_null(strstr(out, "tlsdiag: "));
	ck_assert_ptr_null(strchr(out, '\r') ? strstr(out, "\033[K") : NULL);
	free(out);
	/* standard error a file, standard output the terminal: none in either */
	out = td_test_sh(NULL,
			 "script -qec '%s -r %s/tls12-ecdhe-ok.pcap --color=never 2>%s/err.txt' "
			 "/dev/null",
			 td_test_bin(), td_test_samples(), dir);
	ck_assert_ptr_nonnull(strstr(out, "Summary"));
	ck_assert_ptr_null(strstr(out, "\033[K"));
	free(out);
	err = (char *)td_test_read_file(dir, "err.txt", &len);
	ck_assert_uint_eq(len, 0);
	free(err);
	/* and without a terminal at all (popen: a pipe) */
	rc = td_test_run(&out, NULL, "%s -r %s/tls12-ecdhe-ok.pcap --json 2>&1 >/dev/null",
			 td_test_bin(), td_test_samples());
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "");
	free(out);
	td_test_rmdir_all(dir);
}
END_TEST

/* ---- golden reports (STYLE.md rule 18) ------------------------------------ */

/* Every sample's text, JSON and Markdown reports, made now by
 * tools/golden-run, against test/golden/ (written by the same script
 * through tools/update-golden, `make golden`, and reviewed when
 * committed). A difference fails with the diff; a sample without golden
 * files, or golden files without a sample, fail too. */
START_TEST(test_golden)
{
	char *dir = td_test_tmpdir("out"), *out;
	glob_t g;
	size_t skip = strlen(td_test_samples()) + 1;
	int rc;

	td_test_sample_captures(&g);
	for (size_t i = 0; i < g.gl_pathc; i++)
		free(td_test_sh(NULL, "tools/golden-run %s %s %s %s", td_test_bin(), td_test_samples(),
				g.gl_pathv[i] + skip, dir));
	rc = td_test_run(&out, NULL, "diff -ru test/golden %s 2>&1", dir);
	ck_assert_msg(rc == 0,
		      "the reports differ from test/golden (if the change is intended: make golden, "
		      "review git diff test/golden, commit):\n%s",
		      out);
	free(out);
	globfree(&g);
	td_test_rmdir_all(dir);
}
END_TEST

/* ---- --redact and secrets ------------------------------------------------- */

/* What tshark (not tlsdiag) sees in a capture, decrypting with its key
 * log: addresses, the SNI, the certificates' DNS and IP names; one per
 * line, to be freed. The CAPWAP samples' 802.11 frames are as RFC 5416
 * writes them: Wireshark's default swaps their Frame Control (for Cisco's
 * access points), so that is turned off. */
static char *tshark_names(const char *pcap, const char *keylog)
{
	return td_test_sh(NULL,
			  "tshark -r %s -o tls.keylog_file:%s -o capwap.swap_fc:FALSE "
			  "-T fields -e ip.src -e ip.dst "
			  "-e ipv6.src -e ipv6.dst -e tls.handshake.extensions_server_name "
			  "-e x509ce.dNSName -e x509ce.iPAddress 2>/dev/null | tr '\\t,' '\\n\\n' | "
			  "sort -u | grep .",
			  pcap, keylog);
}

/* tshark's names, and from the generator's facts the SNI, the domain a
 * plain-text greeting names (RFC 5321 §4.2: "220 SP Domain") and the
 * client address a PROXY header gives; to be freed. A name twice is
 * looked for twice. */
static char *sample_names(const char *pcap, const char *keylog)
{
	char *names = tshark_names(pcap, keylog), facts[600], *out;
	size_t n = strlen(pcap) - strlen(strrchr(pcap, '.'));
	json_t *f, *text;
	const char *t, *sp;

	snprintf(facts, sizeof facts, "%.*s.facts.json", (int)n, pcap);
	f = json_load_file(facts, 0, NULL);
	text = json_object_get(json_object_get(json_object_get(json_array_get(json_object_get(
							   f, "connections"), 0), "plain_text"), "greeting"),
			       "text");
	json_t *conn = json_array_get(json_object_get(f, "connections"), 0);
	const char *px = json_string_value(
		json_object_get(json_object_get(json_object_get(conn, "proxy"), "client"), "ip"));
	/* the SNI too: tshark does not follow every upgrade to TLS (HTTP's) */
	const char *sni = json_string_value(json_object_get(conn, "sni"));
	t = json_string_value(text);
	sp = t ? strchr(t, ' ') : NULL;
	n = strlen(names) + (sp ? strlen(sp) : 0) + (px ? strlen(px) : 0) + (sni ? strlen(sni) : 0) + 4;
	out = malloc(n);
	ck_assert_ptr_nonnull(out);
	snprintf(out, n, "%s%.*s%s%s%s%s%s", names, sp ? (int)strcspn(sp + 1, " ") : 0,
		 sp ? sp + 1 : "", sp ? "\n" : "", px ? px : "", px ? "\n" : "", sni ? sni : "",
		 sni ? "\n" : "");
	free(names);
	json_decref(f);
	return out;
}

/* Every report of one sample with its key log, options opts (text into
 * DIR/k.txt, Markdown into DIR/k.md, JSON Lines into DIR/k.jsonl), all
 * together, lower-cased when lower is set; to be freed. */
static char *keylog_reports(const char *dir, const char *pcap, const char *opts, bool lower)
{
	char keylog[600];

	keylog_of(pcap, keylog, sizeof keylog);
	free(td_test_sh(NULL, "rm -f %s/k.*", dir));
	return td_test_sh(NULL,
			  "%s -r %s --keylog %s %s -o %s/k.txt --report %s/k.md && "
			  "%s -r %s --keylog %s %s --json -o %s/k.jsonl && "
			  "cat %s/k.txt %s/k.md %s/k.jsonl | %s",
			  td_test_bin(), pcap, keylog, opts, dir, dir, td_test_bin(), pcap, keylog,
			  opts, dir, dir, dir, dir, lower ? "tr A-F a-f" : "cat");
}

/* Asserts that no line of list (changed in place) is in out; returns how
 * many lines were looked for. */
static unsigned assert_absent(const char *out, char *list, const char *pcap, const char *what)
{
	unsigned n = 0;

	for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n"), n++)
		ck_assert_msg(strstr(out, line) == NULL, "%s: %s '%s' is in the output", pcap, what,
			      line);
	return n;
}

/* Every report of every sample (text, JSON, Markdown, with the key log so
 * TLS 1.3 certificates are in them): none of the names tshark finds is
 * left, and the pseudonyms are there instead. */
START_TEST(test_redact_samples)
{
	char *dir = td_test_tmpdir("out"), keylog[600], *names, *out;
	glob_t g;

	td_test_sample_captures(&g);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i];

		if (!TD_TEST_PICK(i)) /* a third of them under the sanitizers */
			continue;
		keylog_of(p, keylog, sizeof keylog);
		names = sample_names(p, keylog);
		out = keylog_reports(dir, p, "--redact --color=always", false);
		/* two addresses and a name at least */
		ck_assert_uint_ge(assert_absent(out, names, p, "the name"), 3);
		ck_assert_ptr_nonnull(strstr(out, ".example"));
		ck_assert(strstr(out, "192.0.2.") || strstr(out, "2001:db8:ffff::"));
		ck_assert_ptr_null(strstr(out, "\033[")); /* --redact: no colour */
		free(out);
		free(names);
	}
	globfree(&g);
	td_test_rmdir_all(dir);
}
END_TEST

/* The server's name in each connection of a merged run: same SNI, same
 * pseudonym; another SNI, another pseudonym; another run, another key. */
static json_t *redacted_run(const char *files)
{
	char *out = td_test_sh(NULL, "%s %s --redact --json", td_test_bin(), files);
	json_t *lines = td_test_json_lines(out);

	free(out);
	return lines;
}

static const char *sni_of(json_t *lines, size_t i)
{
	json_t *ch = json_object_get(json_object_get(json_array_get(lines, i), "tls"), "client_hello");
	const char *v = json_string_value(json_object_get(ch, "sni"));

	ck_assert_ptr_nonnull(v);
	return v;
}

START_TEST(test_redact_stable)
{
	char files[1024];
	json_t *a, *b;

	/* SNI server.example, server.example, legacy.server.example (tshark
	 * says so: test_redact_samples) */
	snprintf(files, sizeof files, "-r %s/tls12-ecdhe-ok.pcap -r %s/tls12-unknown-ca.pcap -r "
				      "%s/tls12-rsa-key-mismatch.pcap",
		 td_test_samples(), td_test_samples(), td_test_samples());
	free(td_test_sh(NULL, "tshark -r %s/tls12-ecdhe-ok.pcap -T fields -e "
			      "tls.handshake.extensions_server_name 2>/dev/null | grep -qx server.example && "
			      "tshark -r %s/tls12-unknown-ca.pcap -T fields -e "
			      "tls.handshake.extensions_server_name 2>/dev/null | grep -qx server.example && "
			      "tshark -r %s/tls12-rsa-key-mismatch.pcap -T fields -e "
			      "tls.handshake.extensions_server_name 2>/dev/null | grep -qx legacy.server.example",
			td_test_samples(), td_test_samples(), td_test_samples()));
	a = redacted_run(files);
	ck_assert_uint_eq(json_array_size(a), 4);
	/* the merged run reports by time; find the odd one out */
	const char *s0 = sni_of(a, 0), *s1 = sni_of(a, 1), *s2 = sni_of(a, 2);
	unsigned same = !strcmp(s0, s1) + !strcmp(s0, s2) + !strcmp(s1, s2);
	ck_assert_uint_eq(same, 1); /* two equal, the third different */
	for (size_t i = 0; i < 3; i++) {
		const char *v = sni_of(a, i);
		ck_assert_msg(strncmp(v, "h-", 2) == 0 && strstr(v, ".example"), "%s", v);
		ck_assert_ptr_null(strstr(v, "server"));
	}
	/* a second run draws another key: the pseudonyms change */
	b = redacted_run(files);
	for (size_t i = 0; i < 3; i++)
		ck_assert_str_ne(sni_of(a, i), sni_of(b, i));
	json_decref(a);
	json_decref(b);
}
END_TEST

/* Secrets never reach an output: every secret of each sample's key log
 * (the last field of each line, in hex), in either case, in no report of
 * a --keylog run (text -v -v, JSON, Markdown). */
START_TEST(test_no_secrets)
{
	char *dir = td_test_tmpdir("out"), keylog[600], *secrets, *out;
	glob_t g;
	unsigned checked = 0, picked = 0;

	td_test_sample_captures(&g);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i];

		if (!TD_TEST_PICK(i)) /* a third of them under the sanitizers */
			continue;
		picked++;
		keylog_of(p, keylog, sizeof keylog);
		secrets = td_test_sh(NULL, "awk 'NF == 3 && $1 !~ /^#/ { print tolower($3) }' %s",
				     keylog);
		out = keylog_reports(dir, p, "-v -v", true);
		ck_assert_uint_gt(strlen(out), 1000);
		checked += assert_absent(out, secrets, p, "the secret");
		free(out);
		free(secrets);
	}
	ck_assert_uint_ge(checked, picked);
	globfree(&g);
	td_test_rmdir_all(dir);
}
END_TEST

Suite *td_output_suite(void)
{
	Suite *s = suite_create("output");
	TCase *schema = tcase_create("schema");

	tcase_set_timeout(schema, 300);
	tcase_add_test(schema, test_schema_samples);
	tcase_add_test(schema, test_schema_closed);
	suite_add_tcase(s, schema);

	TCase *out = tcase_create("output-file");
	tcase_set_timeout(out, 60);
	tcase_add_test(out, test_output_file);
	tcase_add_test(out, test_output_no_overwrite);
	tcase_add_test(out, test_output_streams);
	tcase_add_test(out, test_output_modes_and_links);
	tcase_add_test(out, test_progress_line);
	suite_add_tcase(s, out);

	TCase *golden = tcase_create("golden");
	tcase_set_timeout(golden, 300);
	tcase_add_test(golden, test_golden);
	suite_add_tcase(s, golden);

	TCase *redact = tcase_create("redact");
	tcase_set_timeout(redact, 300);
	tcase_add_test(redact, test_redact_samples);
	tcase_add_test(redact, test_redact_stable);
	tcase_add_test(redact, test_no_secrets);
	suite_add_tcase(s, redact);
	return s;
}
