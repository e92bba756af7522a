/* check_output.c - where the report goes and what it promises: the JSON
 * schema, -o FILE, the progress line, golden reports, --redact and
 * --save-evidence.
 *
 * The JSON Schema (schema/tlsdiag-v1.schema.json) is checked with a real
 * validator that is not tlsdiag: python3-jsonschema (Debian), through
 * tools/validate-json.
 */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "td_test_util.h"

#define SCHEMA "schema/tlsdiag-v1.schema.json"
#define VALIDATE "tools/validate-json"

/* Every sample capture: samples/X.pcap or .pcapng, samples/link/X.pcap (keys,
 * facts and key logs are not captures). The caller globfree()s. */
static void samples(glob_t *g)
{
	char pat[512];

	snprintf(pat, sizeof pat, "%s/*.pcap*", td_test_samples());
	ck_assert_int_eq(glob(pat, 0, NULL, g), 0);
	snprintf(pat, sizeof pat, "%s/link/*.pcap", td_test_samples());
	ck_assert_int_eq(glob(pat, GLOB_APPEND, NULL, g), 0);
	ck_assert_uint_ge(g->gl_pathc, 16);
}

/* The sample's key log: X.pcap or X.pcapng -> X.keylog. */
static void keylog_of(const char *pcap, char *out, size_t n)
{
	const char *dot = strrchr(pcap, '.');

	snprintf(out, n, "%.*s.keylog", (int)(dot - pcap), pcap);
}

static char *tmpdir(void)
{
	char tmpl[] = "/tmp/td-out-XXXXXX";
	char *d = mkdtemp(tmpl);

	ck_assert_ptr_nonnull(d);
	return strdup(d);
}

static void rmdir_all(char *dir)
{
	free(td_test_sh(NULL, "rm -rf '%s'", dir));
	free(dir);
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
	char *dir = tmpdir(), keylog[600], keys[4096] = "", *out;
	glob_t g, k;
	unsigned runs = 0;
	int rc;

	samples(&g);
	snprintf(keys, sizeof keys, "%s/keys/*.key", td_test_samples());
	ck_assert_int_eq(glob(keys, 0, NULL, &k), 0);
	keys[0] = '\0';
	for (size_t i = 0; i < k.gl_pathc; i++) {
		strcat(keys, " --key ");
		strcat(keys, k.gl_pathv[i]);
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i];

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
	rmdir_all(dir);
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

Suite *td_output_suite(void)
{
	Suite *s = suite_create("output");
	TCase *schema = tcase_create("schema");

	tcase_set_timeout(schema, 300);
	tcase_add_test(schema, test_schema_samples);
	tcase_add_test(schema, test_schema_closed);
	suite_add_tcase(s, schema);
	return s;
}
