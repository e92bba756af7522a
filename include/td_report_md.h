/* td_report_md.h - the Markdown incident report (--report FILE.md).
 *
 * Part of the report module (DESIGN.md "report"). Connections are reported
 * as they end, but an incident report needs the whole run (a summary
 * first, the details after), so this writer collects: td_md_add() renders
 * what the report needs of each failed connection into memory when the
 * connection ends (its ladder, certificates, diagnosis and next steps),
 * and td_md_write() writes the file at the end of the run. Memory is
 * bounded: at most max_detail failed connections are kept in detail and
 * at most TD_MD_MAX_CERTS distinct certificates for the appendix; the
 * rest is counted and the report says how many were left out.
 *
 * The Markdown is CommonMark with GitHub's pipe tables (GitHub, GitLab;
 * Jira renders it through its Markdown paste). Strings from the wire are
 * escaped first for the terminal (td_report_util.h: no control byte, no
 * newline, no invalid UTF-8), then every ASCII punctuation character that
 * Markdown or HTML could read as syntax gets a backslash, so a table cell
 * stays one cell and no raw HTML comes through; code blocks are fenced
 * with more backticks than any run inside them.
 */
#ifndef TD_REPORT_MD_H
#define TD_REPORT_MD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "td_report.h"
#include "td_session.h"

#define TD_MD_MAX_DETAIL 200 /* failed connections kept in detail by default */
#define TD_MD_MAX_CERTS 1000 /* distinct certificates in the appendix */

struct td_md;

/* What the report says about the run itself; strings borrowed for the
 * call of td_md_write(). */
struct td_md_run {
	const char *version; /* tlsdiag's version */
	const char *command; /* the command line, arguments joined by spaces */
};

/* A collector keeping at most max_detail failed connections in detail;
 * NULL when out of memory. */
struct td_md *td_md_new(size_t max_detail);
void td_md_free(struct td_md *m);

/* Records one ended connection: its certificates for the appendix, and,
 * when td_report_is_failure(s), its row, ladder, certificates, diagnosis
 * and next steps. s (and its diagnosis) need not outlive the call.
 * Returns 0, or -1 when out of memory (the report then says it is
 * incomplete). */
int td_md_add(struct td_md *m, const struct td_session *s);

/* Writes the whole report to out. Returns 0, -1 when a write failed. */
int td_md_write(FILE *out, const struct td_md *m, const struct td_summary *sum,
		const struct td_md_run *run);

/* Writes one connection's detail section (as td_md_add() keeps it): for
 * tests and for writers that have the session at hand. */
void td_md_session(FILE *out, const struct td_session *s);

/* Markdown escape of p[0..len) for running text and table cells (see
 * above), written to out. */
void td_md_put_text(FILE *out, const uint8_t *p, size_t len);

#endif
