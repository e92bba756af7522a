/* check_main.c - the one test runner: every module's suite, then the
 * end-to-end tests on the samples. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Suite *td_reader_suite(void);
Suite *td_decode_suite(void);
Suite *td_defrag_suite(void);
Suite *td_flow_suite(void);
Suite *td_reasm_suite(void);
Suite *td_tls_suite(void);
Suite *td_certcomp_suite(void);
Suite *td_arena_suite(void);
Suite *td_names_suite(void);
Suite *td_x509_suite(void);
Suite *td_keys_suite(void);
Suite *td_report_suite(void);
Suite *td_diagnose_suite(void);
Suite *td_starttls_suite(void);
Suite *td_chain_suite(void);
Suite *td_hostile_suite(void);
Suite *td_e2e_suite(void);
Suite *td_live_suite(void);
Suite *td_markdown_suite(void);
Suite *td_decrypt_suite(void);
Suite *td_keylog_suite(void);
Suite *td_pcapng_suite(void);
Suite *td_rules_suite(void);
Suite *td_output_suite(void);
Suite *td_evidence_suite(void);
Suite *td_pipeline_suite(void);

/* Every suite, by the name suite_create() gives it (what CK_RUN_SUITE
 * selects), in the order a whole run takes them. */
static const struct {
	const char *name;
	Suite *(*make)(void);
} suites[] = {
	{"reader", td_reader_suite},
	{"decode", td_decode_suite},
	{"defrag", td_defrag_suite},
	{"flow", td_flow_suite},
	{"reasm", td_reasm_suite},
	{"tls", td_tls_suite},
	{"certcomp", td_certcomp_suite},
	{"arena", td_arena_suite},
	{"names", td_names_suite},
	{"x509", td_x509_suite},
	{"keys", td_keys_suite},
	{"report", td_report_suite},
	{"diagnose", td_diagnose_suite},
	{"starttls", td_starttls_suite},
	{"chain", td_chain_suite},
	{"hostile", td_hostile_suite},
	{"e2e", td_e2e_suite},
	{"live", td_live_suite},
	{"markdown", td_markdown_suite},
	{"decrypt", td_decrypt_suite},
	{"keylog", td_keylog_suite},
	{"pcapng", td_pcapng_suite},
	{"rules", td_rules_suite},
	{"output", td_output_suite},
	{"evidence", td_evidence_suite},
	{"pipeline", td_pipeline_suite},
};

/* check_tlsdiag: every suite (CK_RUN_SUITE: one). check_tlsdiag --list:
 * the suites' names, a line each (tools/run-checks runs them side by
 * side). */
int main(int argc, char **argv)
{
	size_t n = sizeof suites / sizeof suites[0];

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", suites[i].name);
		return EXIT_SUCCESS;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--list]\n", argv[0]);
		return 2;
	}
	SRunner *sr = srunner_create(suites[0].make());
	for (size_t i = 1; i < n; i++)
		srunner_add_suite(sr, suites[i].make());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
