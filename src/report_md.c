/* report_md.c - the Markdown incident report (td_report_md.h).
 *
 * Each failed connection is rendered into memory as it ends (its findings
 * row and its detail section), because the session facts are gone once
 * the engine's callback returns; the file is written in one go at the end
 * of the run with the summary first. Everything from the wire goes
 * through md_text() (prose and table cells) or md_code() (fenced blocks).
 */
#include <stdlib.h>
#include <string.h>

#include "td_diagnose.h"
#include "td_digest.h"
#include "td_names.h"
#include "td_report.h"
#include "td_report_md.h"
#include "td_decrypt.h"
#include "td_report_util.h"
#include "td_x509.h"

#define MD_MAX_REASONS 32 /* distinct failure reasons counted for the summary */
#define MD_REASON_LEN 160
#define MD_CAUSE_LEN 400

struct md_conn {
	char *row;    /* findings table row, with its newline */
	char *detail; /* "## Connection #N" section */
};

struct md_reason {
	char what[MD_REASON_LEN];  /* "server sent fatal bad_record_mac" */
	char cause[MD_CAUSE_LEN];  /* most likely cause of its first connection */
	uint64_t n;
};

struct md_cert {
	uint8_t sha256[32];
	char *row; /* appendix row without the "connections" cell */
	uint64_t connections;
};

struct td_md {
	size_t max_detail;
	struct md_conn *conns;
	size_t n_conns;
	uint64_t failures;     /* all failed connections, detailed or not */
	struct md_reason reasons[MD_MAX_REASONS];
	size_t n_reasons;
	uint64_t other_reasons; /* failures whose reason did not fit */
	struct md_cert *certs;
	size_t n_certs;
	uint64_t certs_left_out;
	bool oom;
};

/* ---- escaping ------------------------------------------------------------ */

/* Characters CommonMark or GFM tables could read as syntax inside a line
 * (emphasis, code spans, links, raw HTML, entities, cell borders): each
 * gets a backslash, which CommonMark §2.4 allows before any ASCII
 * punctuation. Block syntax only matters at a line's start, where the
 * writer never puts a wire string. */
static bool md_special(unsigned char c)
{
	return c && strchr("\\`*_[]<>|&~#", c) != NULL;
}

void td_md_put_text(FILE *out, const uint8_t *p, size_t len)
{
	size_t need;
	char stack[1024], *esc = stack;

	need = td_report_escape_term(stack, sizeof stack, p, len);
	if (need >= sizeof stack) {
		esc = malloc(need + 1);
		if (!esc) {
			fputs("(out of memory)", out);
			return;
		}
		td_report_escape_term(esc, need + 1, p, len);
	}
	for (const char *c = esc; *c; c++) {
		if (md_special((unsigned char)*c))
			fputc('\\', out);
		fputc(*c, out);
	}
	if (esc != stack)
		free(esc);
}

static void md_text(FILE *out, const char *s)
{
	td_md_put_text(out, (const uint8_t *)s, s ? strlen(s) : 0);
}

/* A fenced code block: the fence is one backtick longer than the longest
 * run inside (at least three), so no line of text can close it (CommonMark
 * §4.5). text is written as it is: the caller escapes what needs it. */
static void md_code(FILE *out, const char *info, const char *text, size_t len)
{
	size_t run = 0, longest = 0;

	for (size_t i = 0; i < len; i++) {
		run = text[i] == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	longest = longest < 3 ? 3 : longest + 1;
	for (size_t i = 0; i < longest; i++)
		fputc('`', out);
	fprintf(out, "%s\n", info);
	fwrite(text, 1, len, out);
	if (len && text[len - 1] != '\n')
		fputc('\n', out);
	for (size_t i = 0; i < longest; i++)
		fputc('`', out);
	fputs("\n\n", out);
}

/* ---- pieces --------------------------------------------------------------- */

static void md_key_words(const struct td_cert_key *k, char *buf, size_t n)
{
	if (!k->algorithm[0])
		snprintf(buf, n, "unknown");
	else if (k->rsa_exponent)
		snprintf(buf, n, "%s %u bits, e=%llu", k->algorithm, k->bits,
			 (unsigned long long)k->rsa_exponent);
	else if (k->curve_nist[0] || k->curve[0])
		snprintf(buf, n, "%s %u bits, %s", k->algorithm, k->bits,
			 k->curve_nist[0] ? k->curve_nist : k->curve);
	else
		snprintf(buf, n, "%s %u bits", k->algorithm, k->bits);
}

/* Cells shared by the per-connection table and the appendix: SHA-256,
 * subject, issuer, not after, public key, SPKI SHA-256. */
static void md_cert_cells(FILE *out, const struct td_cert *c)
{
	char hex[65], tb[TD_REPORT_TIME_LEN], key[96];

	fprintf(out, " `%s` |", td_hex(c->sha256, 32, hex));
	if (!c->parsed) {
		fputs(" (not parsed: ", out);
		md_text(out, c->error);
		fputs(") | | | | |", out);
		return;
	}
	fputc(' ', out);
	md_text(out, c->subject);
	fputs(" | ", out);
	md_text(out, c->issuer);
	fprintf(out, " | %s | ",
		td_report_time_utc((struct td_time){ c->not_after, 0 }, tb));
	md_key_words(&c->key, key, sizeof key);
	md_text(out, key);
	fprintf(out, " | `%s` |", td_hex(c->key.spki_sha256, 32, hex));
}

static void md_cert_table(FILE *out, const struct td_session *s)
{
	unsigned n = s->n_certs < TD_MAX_CHAIN ? s->n_certs : TD_MAX_CHAIN;

	fputs("### Certificates\n\n", out);
	if (s->cert_compressed && s->cert_compression_err && n == 0) {
		fprintf(out, "The CompressedCertificate (RFC 8879) was not read: %s.\n\n",
			td_report_cert_compression_error(s->cert_compression_err));
		return;
	}
	if (s->certs_encrypted && n == 0) {
		/* RFC 8446 §2.2: a PSK handshake has no Certificate at all */
		fputs(s->resumed ? "None sent: the session was resumed with a pre-shared key.\n\n"
				 : "Not visible without keys: TLS 1.3 encrypts the server's "
				   "certificate.\n\n",
		      out);
		return;
	}
	if (n == 0) {
		fputs("No certificate was seen.\n\n", out);
		return;
	}
	fputs("| # | SHA-256 | Subject | Issuer | Not after | Public key | SPKI SHA-256 | Key file |\n"
	      "|---|---|---|---|---|---|---|---|\n",
	      out);
	for (unsigned i = 0; i < n; i++) {
		fprintf(out, "| %u |", i);
		md_cert_cells(out, s->certs[i]);
		fputc(' ', out);
		if (!s->keys_given)
			fputs("no \\-\\-key given", out);
		else if (td_session_cert_key(s, i)) {
			fputs("matches ", out);
			md_text(out, td_session_cert_key(s, i));
		} else
			fputs("**does not match** any \\-\\-key", out);
		fputs(" |\n", out);
	}
	if (s->total_certs > n)
		fprintf(out, "\n%u of %u certificates shown.\n", n, (unsigned)s->total_certs);
	fputc('\n', out);
}

/* The SNI as one shell word: as it is when it holds only hostname
 * characters, else single-quoted (a quote as '\'') after the terminal
 * escape, so a pasted command runs nothing the SNI smuggled in. */
static void md_shell_sni(FILE *out, const struct td_session *s)
{
	char esc[TD_SNI_LEN * 4 + 1];
	bool plain = true;

	td_report_escape_term(esc, sizeof esc, s->ch->sni.bytes,
			      s->ch->sni.len < TD_SNI_LEN ? s->ch->sni.len : TD_SNI_LEN);
	for (const char *c = esc; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_*",
			    *c))
			plain = false;
	if (plain && *esc) {
		fputs(esc, out);
		return;
	}
	fputc('\'', out);
	for (const char *c = esc; *c; c++) {
		if (*c == '\'')
			fputs("'\\''", out);
		else
			fputc(*c, out);
	}
	fputc('\'', out);
}

#define SNI_MARK '\001' /* stands for the SNI while commands are cut out */

/* The commands inside a next step's prose: each starts at "openssl " or
 * "tlsdiag " and runs to the first ", ", "; ", " and ", " with ", "  ("
 * or ". ", or to the end (without a final '.'). One per line. */
static void md_commands(FILE *out, const struct td_session *s, const char *step)
{
	static const char *const starts[] = { "openssl ", "tlsdiag " };
	static const char *const stops[] = { ", ", "; ", " and ", " with ", "  (", ". " };
	size_t sni_len = s->ch->has_sni ? (s->ch->sni.len < TD_SNI_LEN ? s->ch->sni.len : TD_SNI_LEN)
				       : 0;
	char work[TD_NEXT_STEP_LEN + 1], *buf = NULL;
	size_t w = 0, blen = 0;
	FILE *mem;
	const char *p;

	/* The SNI becomes one mark byte, so nothing inside it starts or ends
	 * a command. */
	for (size_t i = 0; step[i] && w < sizeof work - 1;) {
		if (sni_len && strncmp(step + i, (const char *)s->ch->sni.bytes, sni_len) == 0 &&
		    memchr(s->ch->sni.bytes, 0, sni_len) == NULL) {
			work[w++] = SNI_MARK;
			i += sni_len;
		} else {
			work[w++] = step[i] == SNI_MARK ? '?' : step[i];
			i++;
		}
	}
	work[w] = '\0';
	mem = open_memstream(&buf, &blen);
	if (!mem)
		return;
	for (p = work; *p;) {
		const char *start = NULL, *end;

		for (size_t k = 0; k < 2; k++) {
			const char *f = strstr(p, starts[k]);
			if (f && (!start || f < start))
				start = f;
		}
		if (!start)
			break;
		end = start + strlen(start);
		for (size_t k = 0; k < sizeof stops / sizeof stops[0]; k++) {
			const char *f = strstr(start, stops[k]);
			if (f && f < end)
				end = f;
		}
		p = end;
		if (end > start && end[-1] == '.' && !*end)
			end--;
		for (const char *c = start; c < end; c++) {
			if (*c == SNI_MARK)
				md_shell_sni(mem, s);
			else
				td_report_put_term(mem, (const uint8_t *)c, 1);
		}
		fputc('\n', mem);
	}
	fclose(mem);
	if (buf && blen)
		md_code(out, "sh", buf, blen);
	free(buf);
}

/* The rules' findings as a table: severity, rule, evidence frame,
 * message (escaped: it carries wire strings). */
static void md_findings(FILE *out, const struct td_session *s)
{
	const struct td_findings *f = s->findings;

	if (!f || f->n == 0)
		return;
	fputs("### Findings\n\n", out);
	fputs("| Severity | Rule | Frame | Finding |\n| --- | --- | --- | --- |\n", out);
	for (unsigned i = 0; i < f->n && i < TD_MAX_FINDINGS; i++) {
		const struct td_finding *x = &f->f[i];

		fprintf(out, "| %s | ", td_severity_name(x->severity));
		md_text(out, x->id);
		if (x->frame)
			fprintf(out, " | %lu | ", (unsigned long)x->frame);
		else
			fputs(" | | ", out);
		md_text(out, x->message);
		fputs(" |\n", out);
	}
	if (f->total > f->n)
		fprintf(out, "\n%u of %u findings shown.\n", (unsigned)f->n, (unsigned)f->total);
	fputc('\n', out);
}

static void md_diagnosis(FILE *out, const struct td_session *s)
{
	const struct td_diagnosis *d = s->diagnosis;
	bool any_step = false;

	if (!d || d->n == 0)
		return;
	fputs("### Diagnosis\n\n", out);
	md_text(out, d->problem);
	fputs("\n\n", out);
	for (unsigned i = 0; i < d->n; i++) {
		const struct td_cause *c = &d->causes[i];

		fprintf(out, "%u. **%s (%d%%)** ", i + 1, td_likelihood_word(c->likelihood),
			c->likelihood);
		md_text(out, c->summary);
		fputc('\n', out);
		for (unsigned k = 0; k < c->n_for; k++) {
			fputs("   - for: ", out);
			md_text(out, c->evidence_for[k]);
			fputc('\n', out);
		}
		for (unsigned k = 0; k < c->n_against; k++) {
			fputs("   - against: ", out);
			md_text(out, c->evidence_against[k]);
			fputc('\n', out);
		}
		any_step |= c->next_step[0] != '\0';
	}
	fputc('\n', out);
	if (!any_step)
		return;
	fputs("### Next steps\n\n", out);
	for (unsigned i = 0; i < d->n; i++) {
		const struct td_cause *c = &d->causes[i];

		if (!c->next_step[0])
			continue;
		fprintf(out, "%u. ", i + 1);
		md_text(out, c->next_step);
		fputs("\n\n", out);
		md_commands(out, s, c->next_step);
	}
}

static void md_sni(FILE *out, const struct td_session *s)
{
	if (s->ch->seen && s->ch->has_sni)
		td_md_put_text(out, s->ch->sni.bytes,
			       s->ch->sni.len < TD_SNI_LEN ? s->ch->sni.len : TD_SNI_LEN);
	else
		fputs("(none)", out);
}

static void md_what_failed(const struct td_session *s, char *buf, size_t n)
{
	if (s->diagnosis && s->diagnosis->n && s->diagnosis->problem[0])
		snprintf(buf, n, "%s", s->diagnosis->problem);
	else if (s->outcome == TD_OUTCOME_FAILED)
		td_report_failure_reason(s, buf, n);
	else
		snprintf(buf, n, "%s", td_outcome_name(s->outcome));
}

static void md_cause(const struct td_session *s, char *buf, size_t n)
{
	const struct td_diagnosis *d = s->diagnosis;

	if (d && d->n)
		snprintf(buf, n, "%s (%d%%): %s", td_likelihood_word(d->causes[0].likelihood),
			 d->causes[0].likelihood, d->causes[0].summary);
	else
		snprintf(buf, n, "no diagnosis");
}

static void md_row(FILE *out, const struct td_session *s)
{
	char c[96], sv[96], ver[TD_NAMES_FMT_LEN], what[TD_EVIDENCE_LEN], cause[MD_CAUSE_LEN];

	td_addr_port_str(&s->client, s->client_port, c, sizeof c);
	td_addr_port_str(&s->server, s->server_port, sv, sizeof sv);
	fprintf(out, "| %llu | ", (unsigned long long)s->id);
	md_text(out, c);
	fputs(" → ", out);
	md_text(out, sv);
	fputs(" | ", out);
	md_sni(out, s);
	fputs(" | ", out);
	if (s->sh->seen) {
		td_names_fmt16(ver, sizeof ver, td_names_version, td_session_version(s));
		md_text(out, ver);
	} else {
		fputs("(no ServerHello)", out);
	}
	md_what_failed(s, what, sizeof what);
	fputs(" | ", out);
	md_text(out, what);
	md_cause(s, cause, sizeof cause);
	fputs(" | ", out);
	md_text(out, cause);
	fputs(" |\n", out);
}

/* [decrypt]: what the secrets given proved, as a list. */
static void md_decryption(FILE *out, const struct td_session *s)
{
	const struct td_decrypt_facts *d = &s->dec;

	if (d->status == TD_DECRYPT_OFF)
		return;
	fputs("### Decryption\n\n- Status: ", out);
	md_text(out, td_report_decrypt_status_words(d->status));
	fputs("\n", out);
	for (unsigned i = 0; i < d->n_keys_tried && i < TD_MAX_KEYS; i++) {
		fputs("- Pre-master secret: `", out);
		const char *key = td_decrypt_key_file(d, (int)i);
		md_text(out, key ? key : "the key");
		fputs("` ", out);
		md_text(out, td_report_pms_words(d->pms[i]));
		fputs("\n", out);
	}
	for (int dir = 0; dir < 2; dir++) {
		if (d->finished[dir] == TD_FIN_NOT_SEEN)
			continue;
		fprintf(out, "- %s Finished (frame %lu): ", dir ? "Server" : "Client",
			(unsigned long)d->finished_frame[dir]);
		md_text(out, td_report_finished_words(d->finished[dir]));
		fputs("\n", out);
	}
	if (d->failed) {
		fprintf(out, "- First record that failed: frame %lu, from the %s: ",
			(unsigned long)d->fail_frame, td_dir_name(d->fail_dir));
		md_text(out, td_dec_result_words((enum td_dec_result)d->fail_what));
		fputs("\n", out);
	}
	fputs("\n", out);
}

void td_md_session(FILE *out, const struct td_session *s)
{
	char c[96], sv[96], *lad = NULL;
	size_t lad_len = 0;
	FILE *mem;

	td_addr_port_str(&s->client, s->client_port, c, sizeof c);
	td_addr_port_str(&s->server, s->server_port, sv, sizeof sv);
	fprintf(out, "## Connection #%llu: ", (unsigned long long)s->id);
	md_text(out, c);
	fputs(" → ", out);
	md_text(out, sv);
	fputs("\n\n", out);
	fputs("SNI ", out);
	md_sni(out, s);
	fprintf(out, ", frames %lu to %lu, outcome %s.\n\n", (unsigned long)s->first_frame,
		(unsigned long)s->last_frame, td_outcome_name(s->outcome));
	if (s->encap) {
		char encap[128];
		fputs("Encapsulation: ", out);
		md_text(out, td_report_encap_str(s, encap, sizeof encap));
		fputs(".\n\n", out);
	}
	mem = open_memstream(&lad, &lad_len);
	if (mem) {
		td_report_ladder(mem, s, 0, false);
		fclose(mem);
		if (lad && lad_len) {
			fputs("### Ladder\n\n", out);
			md_code(out, "text", lad, lad_len);
		}
		free(lad);
	}
	md_cert_table(out, s);
	md_decryption(out, s);
	md_findings(out, s);
	md_diagnosis(out, s);
}

/* ---- the collector ------------------------------------------------------- */

struct td_md *td_md_new(size_t max_detail)
{
	struct td_md *m = calloc(1, sizeof *m);

	if (!m)
		return NULL;
	m->max_detail = max_detail;
	return m;
}

void td_md_free(struct td_md *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_conns; i++) {
		free(m->conns[i].row);
		free(m->conns[i].detail);
	}
	free(m->conns);
	for (size_t i = 0; i < m->n_certs; i++)
		free(m->certs[i].row);
	free(m->certs);
	free(m);
}

/* Renders f(out, s) into a new string; NULL when out of memory. */
static char *md_render(void (*f)(FILE *, const struct td_session *), const struct td_session *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (!mem)
		return NULL;
	f(mem, s);
	if (fclose(mem) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void md_count_reason(struct td_md *m, const struct td_session *s)
{
	char what[MD_REASON_LEN];

	if (s->outcome == TD_OUTCOME_FAILED)
		td_report_failure_reason(s, what, sizeof what);
	else
		snprintf(what, sizeof what, "%s with a problem to explain",
			 td_outcome_name(s->outcome));
	for (size_t i = 0; i < m->n_reasons; i++) {
		if (strcmp(m->reasons[i].what, what) == 0) {
			m->reasons[i].n++;
			return;
		}
	}
	if (m->n_reasons == MD_MAX_REASONS) {
		m->other_reasons++;
		return;
	}
	snprintf(m->reasons[m->n_reasons].what, MD_REASON_LEN, "%s", what);
	md_cause(s, m->reasons[m->n_reasons].cause, MD_CAUSE_LEN);
	m->reasons[m->n_reasons++].n = 1;
}

static void md_cert_row(FILE *out, const struct td_cert *c)
{
	fputc('|', out);
	md_cert_cells(out, c);
}

static void md_add_cert(struct td_md *m, const struct td_cert *c)
{
	struct md_cert *grown;

	for (size_t i = 0; i < m->n_certs; i++) {
		if (memcmp(m->certs[i].sha256, c->sha256, 32) == 0) {
			m->certs[i].connections++;
			return;
		}
	}
	if (m->n_certs == TD_MD_MAX_CERTS) {
		m->certs_left_out++;
		return;
	}
	grown = realloc(m->certs, (m->n_certs + 1) * sizeof *grown);
	if (!grown) {
		m->oom = true;
		return;
	}
	m->certs = grown;
	memcpy(grown[m->n_certs].sha256, c->sha256, 32);
	grown[m->n_certs].connections = 1;
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&buf, &len);

		if (!mem) {
			m->oom = true;
			return;
		}
		md_cert_row(mem, c);
		if (fclose(mem) != 0) {
			free(buf);
			m->oom = true;
			return;
		}
		grown[m->n_certs++].row = buf;
	}
}

int td_md_add(struct td_md *m, const struct td_session *s)
{
	struct md_conn *grown;
	unsigned n = s->n_certs < TD_MAX_CHAIN ? s->n_certs : TD_MAX_CHAIN;
	unsigned nc = s->n_client_certs < TD_MAX_CHAIN ? s->n_client_certs : TD_MAX_CHAIN;

	for (unsigned i = 0; i < n; i++)
		md_add_cert(m, s->certs[i]);
	for (unsigned i = 0; i < nc; i++)
		md_add_cert(m, s->client_certs[i]);
	if (!td_report_is_failure(s))
		return m->oom ? -1 : 0;
	m->failures++;
	md_count_reason(m, s);
	if (m->n_conns >= m->max_detail)
		return m->oom ? -1 : 0;
	grown = realloc(m->conns, (m->n_conns + 1) * sizeof *grown);
	if (!grown) {
		m->oom = true;
		return -1;
	}
	m->conns = grown;
	grown[m->n_conns].row = md_render(md_row, s);
	grown[m->n_conns].detail = md_render(td_md_session, s);
	if (!grown[m->n_conns].row || !grown[m->n_conns].detail) {
		free(grown[m->n_conns].row);
		free(grown[m->n_conns].detail);
		m->oom = true;
		return -1;
	}
	m->n_conns++;
	return m->oom ? -1 : 0;
}

/* ---- the report ------------------------------------------------------------ */

static const struct md_reason *md_dominant(const struct td_md *m)
{
	const struct md_reason *best = NULL;

	for (size_t i = 0; i < m->n_reasons; i++)
		if (!best || m->reasons[i].n > best->n)
			best = &m->reasons[i];
	return best;
}

static void md_analysed(FILE *out, const struct td_summary *sum, const struct td_md_run *run)
{
	char a[TD_REPORT_TIME_LEN], b[TD_REPORT_TIME_LEN];

	fputs("## What was analysed\n\n", out);
	fputs(sum->live ? "- **Interface:** " : "- **Inputs:** ", out);
	for (size_t i = 0; i < sum->n_inputs; i++) {
		if (i)
			fputs(", ", out);
		md_text(out, sum->inputs[i]);
	}
	fputc('\n', out);
	if (sum->have_ts)
		fprintf(out, "- **Time span:** %s to %s (%.3f s)\n",
			td_report_time_utc(sum->first_ts, a), td_report_time_utc(sum->last_ts, b),
			td_report_ms(sum->first_ts, sum->last_ts) / 1000.0);
	fprintf(out, "- **Packets:** %llu (%llu bytes)\n", (unsigned long long)sum->packets,
		(unsigned long long)sum->bytes);
	fprintf(out,
		"- **TLS connections:** %llu (%llu completed, %llu failed, %llu incomplete)\n",
		(unsigned long long)sum->connections_tls,
		(unsigned long long)sum->by_outcome[TD_OUTCOME_COMPLETED],
		(unsigned long long)sum->by_outcome[TD_OUTCOME_FAILED],
		(unsigned long long)sum->by_outcome[TD_OUTCOME_INCOMPLETE]);
	if (sum->stopped) {
		fputs("- **Warning:** ", out);
		md_text(out, sum->stopped);
		fputc('\n', out);
	}
	fprintf(out, "- **tlsdiag:** %s\n\nCommand:\n\n", run && run->version ? run->version : "?");
	{
		char esc[8192];
		const char *cmd = run && run->command ? run->command : "tlsdiag";

		td_report_escape_term(esc, sizeof esc, (const uint8_t *)cmd, strlen(cmd));
		md_code(out, "sh", esc, strlen(esc));
	}
}

static void md_summary(FILE *out, const struct td_md *m, const struct td_summary *sum)
{
	const struct md_reason *dom = md_dominant(m);

	fputs("## Summary\n\n", out);
	if (m->failures == 0) {
		fprintf(out, "No TLS connection failed: %llu TLS connection%s seen, %llu completed, "
			     "%llu incomplete.\n\n",
			(unsigned long long)sum->connections_tls,
			sum->connections_tls == 1 ? "" : "s",
			(unsigned long long)sum->by_outcome[TD_OUTCOME_COMPLETED],
			(unsigned long long)sum->by_outcome[TD_OUTCOME_INCOMPLETE]);
		return;
	}
	fprintf(out, "%llu of %llu TLS connection%s failed or need%s explaining. ",
		(unsigned long long)m->failures, (unsigned long long)sum->connections_tls,
		sum->connections_tls == 1 ? "" : "s", m->failures == 1 ? "s" : "");
	if (dom) {
		fputs("The most common failure is: ", out);
		md_text(out, dom->what);
		fprintf(out, " (%llu of %llu). Most likely cause: ", (unsigned long long)dom->n,
			(unsigned long long)m->failures);
		md_text(out, dom->cause);
		fputc('\n', out);
	}
	fputc('\n', out);
}

int td_md_write(FILE *out, const struct td_md *m, const struct td_summary *sum,
		const struct td_md_run *run)
{
	const struct md_reason *dom = md_dominant(m);

	fputs("# TLS incident report: ", out);
	if (dom)
		md_text(out, dom->what);
	else
		fputs("no failed handshake", out);
	fputs("\n\n", out);
	if (m->oom)
		fputs("**This report is incomplete: tlsdiag ran out of memory while collecting "
		      "it.**\n\n",
		      out);
	md_analysed(out, sum, run);
	md_summary(out, m, sum);
	if (m->failures) {
		fputs("## Findings\n\n"
		      "| # | Client → Server | SNI | Version | What failed | Most likely cause |\n"
		      "|---|---|---|---|---|---|\n",
		      out);
		for (size_t i = 0; i < m->n_conns; i++)
			fputs(m->conns[i].row, out);
		fputc('\n', out);
		if (m->failures > m->n_conns)
			fprintf(out, "%llu more failed connections are counted but not shown (at most "
				     "%zu in detail).\n\n",
				(unsigned long long)(m->failures - m->n_conns), m->max_detail);
		for (size_t i = 0; i < m->n_conns; i++)
			fputs(m->conns[i].detail, out);
	}
	fputs("## Appendix: certificates seen\n\n", out);
	if (m->n_certs == 0) {
		fputs("No certificate was seen in clear.\n", out);
	} else {
		fputs("| SHA-256 | Subject | Issuer | Not after | Public key | SPKI SHA-256 | "
		      "Connections |\n|---|---|---|---|---|---|---|\n",
		      out);
		for (size_t i = 0; i < m->n_certs; i++)
			fprintf(out, "%s %llu |\n", m->certs[i].row,
				(unsigned long long)m->certs[i].connections);
		if (m->certs_left_out)
			fprintf(out, "\n%llu more certificates are not listed.\n",
				(unsigned long long)m->certs_left_out);
	}
	return ferror(out) ? -1 : 0;
}
