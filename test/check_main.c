/* check_main.c - the one test runner: every module's suite, then the
 * end-to-end tests on the samples. */
#include <check.h>
#include <stdlib.h>

Suite *td_reader_suite(void);
Suite *td_decode_suite(void);
Suite *td_defrag_suite(void);
Suite *td_flow_suite(void);
Suite *td_reasm_suite(void);
Suite *td_tls_suite(void);
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

int main(void)
{
	SRunner *sr = srunner_create(td_reader_suite());
	srunner_add_suite(sr, td_decode_suite());
	srunner_add_suite(sr, td_defrag_suite());
	srunner_add_suite(sr, td_flow_suite());
	srunner_add_suite(sr, td_reasm_suite());
	srunner_add_suite(sr, td_tls_suite());
	srunner_add_suite(sr, td_names_suite());
	srunner_add_suite(sr, td_x509_suite());
	srunner_add_suite(sr, td_keys_suite());
	srunner_add_suite(sr, td_report_suite());
	srunner_add_suite(sr, td_diagnose_suite());
	srunner_add_suite(sr, td_starttls_suite());
	srunner_add_suite(sr, td_chain_suite());
	srunner_add_suite(sr, td_hostile_suite());
	srunner_add_suite(sr, td_e2e_suite());
	srunner_add_suite(sr, td_live_suite());
	srunner_add_suite(sr, td_markdown_suite());
	srunner_add_suite(sr, td_decrypt_suite());
	srunner_add_suite(sr, td_keylog_suite());
	srunner_add_suite(sr, td_pcapng_suite());
	srunner_add_suite(sr, td_rules_suite());
	srunner_add_suite(sr, td_output_suite());
	srunner_add_suite(sr, td_evidence_suite());
	srunner_add_suite(sr, td_pipeline_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
