/* fuzz_rules.c - the rule parser: the input as a rule file.
 *
 * A rule file is untrusted input (tlsdiag-rules(5)): whatever the bytes,
 * loading must end with the rules or with one error line
 * "fuzz.rules:LINE:COL: message" (or "fuzz.rules: message" for the file
 * as a whole), and a ruleset that loaded must evaluate on sessions
 * without trouble: at most TD_MAX_FINDINGS findings, each message a
 * terminated string. The caps (nesting depth above all) keep the stack
 * flat, which ASan watches.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "td_rules.h"

static void check_error(const char *err)
{
	static const char prefix[] = "fuzz.rules:";
	const char *p = err + sizeof prefix - 1;

	FUZZ_ASSERT(strncmp(err, prefix, sizeof prefix - 1) == 0);
	if (*p == ' ')
		return; /* the file as a whole */
	FUZZ_ASSERT(*p >= '1' && *p <= '9');
	while (*p >= '0' && *p <= '9')
		p++;
	FUZZ_ASSERT(*p++ == ':');
	FUZZ_ASSERT(*p >= '1' && *p <= '9');
	while (*p >= '0' && *p <= '9')
		p++;
	FUZZ_ASSERT(p[0] == ':' && p[1] == ' ' && p[2] != '\0');
}

static void eval_on(const struct td_ruleset *rs, const struct td_session *s)
{
	struct td_findings f;

	td_rules_eval(rs, s, &f);
	FUZZ_ASSERT(f.n <= TD_MAX_FINDINGS && f.n <= f.total);
	for (unsigned i = 0; i < f.n; i++) {
		FUZZ_ASSERT(memchr(f.f[i].message, '\0', TD_FINDING_MSG_LEN) != NULL);
		FUZZ_ASSERT(f.f[i].severity < TD_SEV_COUNT);
		FUZZ_ASSERT(i == 0 || f.f[i - 1].severity >= f.f[i].severity);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct td_ruleset *rs = td_rules_new();
	static struct td_session s;
	char err[1024];
	FILE *null;

	FUZZ_ASSERT(rs != NULL);
	err[0] = '\0';
	if (td_rules_load_buffer(rs, "fuzz.rules", data, size, err, sizeof err) != TD_OK) {
		check_error(err);
		FUZZ_ASSERT(td_rules_count(rs) == 0);
		td_rules_free(rs);
		return 0;
	}
	td_session_init(&s);
	eval_on(rs, &s);
	/* a TLS 1.2 connection with a fatal alert, an SNI and offered suites */
	s.is_tls = true;
	struct td_client_hello *ch = td_session_ch(&s);
	struct td_server_hello *sh = td_session_sh(&s);
	if (!ch || !sh) {
		td_session_clear(&s, NULL);
		td_rules_free(rs);
		return 0;
	}
	ch->seen = sh->seen = true;
	ch->has_sni = true;
	ch->sni.len = 14;
	memcpy(ch->sni.bytes, "server.example", 14);
	ch->n_suites = ch->total_suites = 2;
	ch->suites[0] = 0x0005;
	ch->suites[1] = 0xc02f;
	sh->legacy_version = 0x0303;
	sh->suite = 0xc02f;
	(void)td_session_add_alert(&s, &(struct td_alert){.level = 2, .desc = 40, .frame = 7});
	s.outcome = TD_OUTCOME_FAILED;
	eval_on(rs, &s);
	td_session_clear(&s, NULL);
	null = fopen("/dev/null", "w");
	if (null) {
		td_rules_list(null, rs);
		fclose(null);
	}
	td_rules_free(rs);
	return 0;
}
