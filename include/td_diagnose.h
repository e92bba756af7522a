/* td_diagnose.h - why a handshake failed: likely causes, ranked, with the
 * evidence for and against each and the next step that confirms it.
 *
 * The knowledge is two tables (diagnose.c): alert x sender x phase x key
 * exchange -> causes, and for connections that did not fail, finding
 * (rule id) of high severity -> causes, each with a base likelihood, the evidence checks
 * that move it, and the RFC or behaviour it relies on. Evidence comes from
 * the session facts only (td_session.h), including the --key results.
 *
 * Likelihoods are a ranking aid in percent, not probabilities: 70 and up
 * reads "likely", 40 and up "possible", below that "unlikely".
 */
#ifndef TD_DIAGNOSE_H
#define TD_DIAGNOSE_H

#include <stdint.h>

#include "td_session.h"

#define TD_MAX_CAUSES 4
#define TD_MAX_EVIDENCE 4
#define TD_EVIDENCE_LEN 240
#define TD_NEXT_STEP_LEN 480

struct td_cause {
	const char *id;      /* stable identifier, e.g. "server-key-mismatch" */
	const char *summary; /* one sentence (static) */
	const char *basis;   /* the RFC section or behaviour relied on (static) */
	int likelihood;      /* 0..100 after the evidence */
	uint8_t n_for, n_against;
	char evidence_for[TD_MAX_EVIDENCE][TD_EVIDENCE_LEN];
	char evidence_against[TD_MAX_EVIDENCE][TD_EVIDENCE_LEN];
	char next_step[TD_NEXT_STEP_LEN];
};

struct td_diagnosis {
	/* What is being explained ("server sent fatal bad_record_mac at frame
	 * 9, after client Finished"); empty when nothing needs explaining. */
	char problem[TD_EVIDENCE_LEN];
	uint8_t n;
	struct td_cause causes[TD_MAX_CAUSES]; /* most likely first */
};

/* Fills d for a failed handshake (or one that completed but carries a
 * fatal alert), else for a connection with a finding of high severity or
 * above in s->findings (the rules run first; NULL: none): d->n is 0 when
 * there is nothing to explain. Only problem and causes[0..n) are written.
 * capture is the file name to put in suggested commands (may be NULL). */
void td_diagnose(const struct td_session *s, const char *capture, struct td_diagnosis *d);

/* "likely", "possible" or "unlikely". */
const char *td_likelihood_word(int likelihood);

#endif
