/* report_text.c - the human report: one block per connection and a summary
 * (td_report.h). Also the two entry points, which hand over to the JSON
 * writer when opts->json is set.
 *
 * Layout: a header line, then sections at indent 2 and "label  value"
 * fields at indent 4 with values aligned at column VALUE_COL, so a block
 * reads well in a terminal and pastes into a ticket unchanged. Lists wrap
 * at WRAP_COL with continuation lines aligned under the first value.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "td_decode.h"
#include "td_decompress.h"
#include "td_decrypt.h"
#include "td_diagnose.h"
#include "td_digest.h"
#include "td_error.h"
#include "td_names.h"
#include "td_report.h"
#include "td_report_util.h"
#include "td_starttls.h"
#include "td_x509.h"

#define FIELD_INDENT 4
#define LABEL_W 20
#define VALUE_COL (FIELD_INDENT + LABEL_W)
#define CERT_INDENT 8
#define CERT_LABEL_W (VALUE_COL - CERT_INDENT)
#define WRAP_COL 100

#define ANSI_BOLD "\033[1m"
#define ANSI_RED "\033[1;31m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_GREEN "\033[32m"
#define ANSI_RESET "\033[0m"

struct tx {
	struct td_report_buf *out; /* the connection's block, or the summary */
	bool color;
	int verbose;
};

/* The block's writes (td_report_buf, one fwrite() per connection). */
static void tx_printf(const struct tx *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void tx_printf(const struct tx *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	td_report_buf_vprintf(t->out, fmt, ap);
	va_end(ap);
}

static void tx_puts(const struct tx *t, const char *s)
{
	td_report_buf_puts(t->out, s);
}

static void tx_putc(const struct tx *t, char c)
{
	td_report_buf_putc(t->out, c);
}

static void tx_put(const struct tx *t, const char *s, size_t n)
{
	td_report_buf_put(t->out, s, n);
}

/* s and a newline ("%s\n") */
static void tx_line(const struct tx *t, const char *s)
{
	tx_puts(t, s);
	tx_putc(t, '\n');
}

/* n spaces ("%*s" with ""): nothing when n <= 0 */
static void pad(const struct tx *t, int n)
{
	td_report_buf_fill(t->out, ' ', n);
}

/* v in decimal ("%llu"); returns its length */
static size_t tx_dec(const struct tx *t, unsigned long long v)
{
	return td_report_buf_dec(t->out, v, false);
}

/* "%04x" of v into out (5 bytes) */
static const char *hex4(char out[5], uint16_t v)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 3; i >= 0; i--, v >>= 4)
		out[i] = hex[v & 0xf];
	out[4] = '\0';
	return out;
}

/* An untrusted string, escaped for the terminal. */
static void tx_term(const struct tx *t, const uint8_t *p, size_t n)
{
	td_report_buf_term(t->out, p, n);
}

static const char *on(const struct tx *t, const char *code)
{
	return t->color ? code : "";
}

static const char *off(const struct tx *t)
{
	return t->color ? ANSI_RESET : "";
}

static void section(const struct tx *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void section(const struct tx *t, const char *fmt, ...)
{
	va_list ap;

	tx_puts(t, "  ");
	tx_puts(t, on(t, ANSI_BOLD));
	va_start(ap, fmt);
	td_report_buf_vprintf(t->out, fmt, ap);
	va_end(ap);
	tx_puts(t, off(t));
	tx_putc(t, '\n');
}

/* Starts a field: indent, label, padding up to the value column. The
 * caller writes the value and the newline. */
static void label_at(const struct tx *t, int indent, int width, const char *label)
{
	struct td_report_buf *b = t->out;
	size_t len = strlen(label);
	size_t in = indent > 0 ? (size_t)indent : 0;
	size_t fill = width - 1 > (int)len ? (size_t)(width - 1) - len : 0;

	/* "%*s%-*s ": with one capacity check when it fits */
	if (in + len + fill + 1 <= b->cap - b->n) {
		char *p = b->p + b->n;

		memset(p, ' ', in);
		memcpy(p + in, label, len);
		memset(p + in + len, ' ', fill + 1);
		b->n += in + len + fill + 1;
		return;
	}
	td_report_buf_fill(t->out, ' ', indent);
	td_report_buf_put(t->out, label, len);
	td_report_buf_fill(t->out, ' ', width - 1 - (int)len);
	tx_putc(t, ' ');
}

static void label(const struct tx *t, const char *l)
{
	label_at(t, FIELD_INDENT, LABEL_W, l);
}

static void field(const struct tx *t, const char *l, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void field(const struct tx *t, const char *l, const char *fmt, ...)
{
	va_list ap;

	label(t, l);
	va_start(ap, fmt);
	td_report_buf_vprintf(t->out, fmt, ap);
	va_end(ap);
	tx_putc(t, '\n');
}

/* A field whose value is an untrusted string. */
static void field_wire(const struct tx *t, const char *l, const uint8_t *p, size_t n)
{
	label(t, l);
	tx_term(t, p, n);
	tx_putc(t, '\n');
}

/* A line of plain text from the wire, quoted and escaped, with its frame;
 * nothing when there is none. */
static void plain_line(const struct tx *t, const char *l, const struct td_plain_line *pl,
		       const char *what)
{
	if (!pl->frame)
		return;
	label(t, l);
	tx_putc(t, '"');
	tx_term(t, pl->text, td_plain_len(pl));
	td_report_buf_printf(t->out, "%s\" (%s, frame %u)\n", pl->cut || pl->open ? "..." : "",
			     what, (unsigned)pl->frame);
}

static void field_cstr(const struct tx *t, int indent, int width, const char *l, const char *s)
{
	label_at(t, indent, width, l);
	tx_term(t, (const uint8_t *)s, strlen(s));
	tx_putc(t, '\n');
}

/* A comma separated list wrapped at WRAP_COL, continuation lines aligned at
 * VALUE_COL. Items are already safe for the terminal. */
struct wrap {
	const struct tx *t;
	size_t col;
	bool first;
};

static void wrap_start(struct wrap *w, const struct tx *t, const char *l)
{
	label(t, l);
	w->t = t;
	w->col = VALUE_COL;
	w->first = true;
}

static void wrap_item_n(struct wrap *w, const char *item, size_t len)
{
	if (!w->first) {
		/* + 1: room for the comma that may follow this item */
		if (w->col + 2 + len + 1 > WRAP_COL) {
			td_report_buf_put(w->t->out, ",\n", 2);
			td_report_buf_fill(w->t->out, ' ', VALUE_COL);
			w->col = VALUE_COL;
		} else {
			tx_puts(w->t, ", ");
			w->col += 2;
		}
	}
	tx_put(w->t, item, len);
	w->col += len;
	w->first = false;
}

static void wrap_item(struct wrap *w, const char *item)
{
	wrap_item_n(w, item, strlen(item));
}

/* An item from the wire, escaped for the terminal into item (n bytes, cut
 * there as td_report_escape_term() cuts); as it is when the escape would
 * not change it. */
static void wrap_item_wire(struct wrap *w, const uint8_t *p, size_t len, char *item, size_t n)
{
	if (len < n && td_report_term_plain((const char *)p, len)) {
		wrap_item_n(w, (const char *)p, len);
		return;
	}
	td_report_escape_term(item, n, p, len);
	wrap_item(w, item);
}

static void wrap_end(struct wrap *w, size_t shown, size_t total)
{
	if (total > shown)
		tx_printf(w->t, " (%zu of %zu shown)", shown, total);
	tx_putc(w->t, '\n');
}

static void list16(const struct tx *t, const char *l, const uint16_t *v, size_t n, size_t cap,
		   size_t total, const char *(*lookup)(uint16_t))
{
	struct wrap w;
	char name[TD_NAMES_FMT_LEN], item[TD_NAMES_FMT_LEN + 16];
	char x[5];

	if (n > cap)
		n = cap;
	if (n == 0 && t->verbose == 0)
		return;
	wrap_start(&w, t, l);
	if (n == 0)
		wrap_item(&w, "(none)");
	for (size_t i = 0; i < n; i++) {
		/* the table's own string, or the "unknown (0x...)" text in name,
		 * cut to name's size as td_names_fmt16() cuts it */
		const char *nm = td_names_str16(name, sizeof name, lookup, v[i]);
		size_t len = strlen(nm);

		if (len >= sizeof name)
			len = sizeof name - 1;
		/* Verbose: the code beside the name, unless the name says it. */
		if (t->verbose > 0 && memchr(nm, '(', len) == NULL) {
			/* "%s (0x%04x)": fits, name is shorter than item by 16 */
			memcpy(item, nm, len);
			memcpy(item + len, " (0x", 4);
			memcpy(item + len + 4, hex4(x, v[i]), 4);
			item[len + 8] = ')';
			wrap_item_n(&w, item, len + 9);
		} else {
			wrap_item_n(&w, nm, len);
		}
	}
	wrap_end(&w, n, total);
}

/* The stapled OCSP response (RFC 6066 §8), as the x509 module read it;
 * its signature is not checked. */
static void ocsp_staple(const struct tx *t, const struct td_ocsp_facts *o)
{
	char a[TD_REPORT_TIME_LEN], b[TD_REPORT_TIME_LEN];
	const char *rs = td_ocsp_response_status_name(o->response_status);
	const char *cs = td_ocsp_cert_status_name((enum td_ocsp_cert_status)o->cert_status);

	if (!o->parsed) {
		field(t, "OCSP staple", "%u bytes at frame %lu, does not decode", (unsigned)o->length,
		      (unsigned long)o->frame);
		return;
	}
	field(t, "OCSP staple", "%u bytes at frame %lu, response %s, certificate %s",
	      (unsigned)o->length, (unsigned long)o->frame, rs ? rs : "status ?",
	      cs ? cs : "(no status)");
	if (o->this_update)
		field(t, "  this update", "%s", td_report_time_utc((struct td_time){ o->this_update, 0 }, a));
	if (o->next_update)
		field(t, "  next update", "%s", td_report_time_utc((struct td_time){ o->next_update, 0 }, b));
	if (o->revoked_at)
		field(t, "  revoked", "%s (reason %d)",
		      td_report_time_utc((struct td_time){ o->revoked_at, 0 }, a), o->revocation_reason);
}

/* CertificateRequest (RFC 5246 §7.4.4): the CA names kept, as the
 * subjects print (from the wire: escaped), its signature schemes, and the
 * scheme of the client's CertificateVerify. */
static void certificate_request(const struct tx *t, const struct td_session *s)
{
	field(t, "client certificate", "requested (%u acceptable CAs named)", (unsigned)s->cr_n_cas);
	for (unsigned i = 0; i < s->cr_n_ca_names && i < TD_MAX_CA_NAMES; i++) {
		char *name = td_report_ca_name(s, i);
		if (name)
			field_wire(t, "  acceptable CA", (const uint8_t *)name, strlen(name));
		else
			field(t, "  acceptable CA", "(%s)",
			      s->cr_ca_len[i] ? "does not decode" : "too long to keep");
		free(name);
	}
	list16(t, "  signature schemes", s->cr_sigalgs, s->cr_n_sigalgs, TD_MAX_CR_SIGALGS,
	       s->cr_n_sigalgs, td_names_sigscheme);
	if (s->cv_sigalg) {
		char scheme[TD_NAMES_FMT_LEN];
		field(t, "  CertificateVerify", "%s",
		      td_names_fmt16(scheme, sizeof scheme, td_names_sigscheme, s->cv_sigalg));
	}
}


static void version_name(uint16_t v, char buf[TD_NAMES_FMT_LEN])
{
	td_names_fmt16(buf, TD_NAMES_FMT_LEN, td_names_version, v);
}

static void upper(char *dst, size_t n, const char *src)
{
	size_t i = 0;

	/* "not-tls" -> "NOT TLS" */
	for (; src[i] && i + 1 < n; i++)
		dst[i] = src[i] == '-' ? ' ' : (char)toupper((unsigned char)src[i]);
	dst[i] = '\0';
}

static const char *outcome_color(uint8_t outcome)
{
	switch (outcome) {
	case TD_OUTCOME_COMPLETED:
		return ANSI_GREEN;
	case TD_OUTCOME_FAILED:
		return ANSI_RED;
	case TD_OUTCOME_INCOMPLETE:
		return ANSI_YELLOW;
	default:
		return "";
	}
}

static const char *alert_color(const struct td_alert *a)
{
	if (a->encrypted || a->probable)
		return ANSI_YELLOW;
	return a->level == 2 ? ANSI_RED : ANSI_YELLOW;
}

static void header(const struct tx *t, const struct td_session *s)
{
	char c[80], sv[80], name[TD_NAMES_FMT_LEN], oc[32], why[160];

	td_addr_port_str(&s->client, s->client_port, c, sizeof c);
	td_addr_port_str(&s->server, s->server_port, sv, sizeof sv);
	tx_printf(t, "%s#%llu %s -> %s%s", on(t, ANSI_BOLD), (unsigned long long)s->id, c, sv,
		off(t));
	if (s->sh->seen) {
		version_name(td_session_version(s), name);
		tx_printf(t, "  %s", name);
		td_names_fmt16(name, sizeof name, td_names_cipher_name, s->sh->suite);
		tx_printf(t, "  %s", name);
	}
	if (s->ch->seen && s->ch->has_sni) {
		tx_puts(t, "  SNI ");
		tx_term(t, s->ch->sni.bytes,
				   s->ch->sni.len < TD_SNI_LEN ? s->ch->sni.len : TD_SNI_LEN);
	}
	upper(oc, sizeof oc, td_outcome_name(s->outcome));
	tx_printf(t, "  %s%s%s", on(t, outcome_color(s->outcome)), oc, off(t));
	if (s->outcome == TD_OUTCOME_FAILED) {
		td_report_failure_reason(s, why, sizeof why);
		tx_printf(t, " (%s)", why);
	} else if (s->outcome == TD_OUTCOME_INCOMPLETE) {
		tx_printf(t, " (last stage: %s)", td_stage_name(s->stage));
	}
	tx_putc(t, '\n');
}

/* Whether a per-direction counter is shown: not when both are 0, unless
 * verbose. */
static bool pair_shown(const struct tx *t, uint64_t c, uint64_t sv)
{
	return c || sv || t->verbose > 0;
}

/* The field l with "client 1, server 2" for a per-direction counter, not
 * ended (the caller adds what follows and the newline); false, with
 * nothing written, when it is not shown (pair_shown()). */
static bool pair_field(const struct tx *t, const char *l, uint64_t c, uint64_t sv)
{
	if (!pair_shown(t, c, sv))
		return false;
	label(t, l);
	tx_put(t, "client ", 7);
	tx_dec(t, c);
	tx_put(t, ", server ", 9);
	tx_dec(t, sv);
	return true;
}

/* The same as a whole line, with suffix after the counts. */
static void pair_line(const struct tx *t, const char *l, uint64_t c, uint64_t sv,
		      const char *suffix)
{
	if (pair_field(t, l, c, sv)) {
		tx_puts(t, suffix);
		tx_putc(t, '\n');
	}
}

static void sec_connection(const struct tx *t, const struct td_session *s)
{
	char a[80], t1[TD_REPORT_TIME_LEN], t2[TD_REPORT_TIME_LEN], zone[TD_REPORT_TIME_LEN];
	char ms[48];
	const struct td_tcp_evidence *e = &s->tcp;

	section(t, "Connection");
	td_addr_port_str(&s->client, s->client_port, a, sizeof a);
	field(t, "client", "%s", a);
	td_addr_port_str(&s->server, s->server_port, a, sizeof a);
	field(t, "server", "%s", a);
	field(t, "roles", "%s",
	      s->syn_seen        ? "from the TCP handshake (SYN)"
	      : s->roles_guessed ? "guessed from the ports (no SYN, no hello): lower port is the server"
				 : "from the TLS hellos (no SYN seen)");
	if (td_session_one_sided(s))
		field(t, "one-sided", "the capture has packets from the %s only",
		      s->packets[0] ? "client" : "server");
	if (s->midstream)
		field(t, "mid-stream", "no SYN seen: the connection began before the capture%s",
		      s->resyncs[0] || s->resyncs[1] ? "; record boundaries found again" : "");
	else if (s->resyncs[0] || s->resyncs[1])
		field(t, "resynced", "record boundaries found again after lost bytes (client %u, "
				     "server %u times)",
		      (unsigned)s->resyncs[0], (unsigned)s->resyncs[1]);
	if (s->starttls && !s->starttls_frame && s->plain->greeting.frame)
		field(t, "upgrade", "none: the server greeted in plain %s and the client began TLS "
				    "without %s",
		      td_starttls_name(s->starttls), td_starttls_how(s->starttls));
	else if (s->starttls)
		field(t, "upgrade", "%s %s, TLS from frame %u", td_starttls_name(s->starttls),
		      td_starttls_how(s->starttls), (unsigned)s->starttls_frame);
	if (s->proxy->version && s->proxy->client.family) {
		char from[80], to[80];
		td_addr_port_str(&s->proxy->client, s->proxy->client_port, from, sizeof from);
		td_addr_port_str(&s->proxy->server, s->proxy->server_port, to, sizeof to);
		field(t, "proxied for", "%s -> %s (PROXY protocol v%u header, frame %u)", from, to,
		      (unsigned)s->proxy->version, (unsigned)s->proxy->frame);
	} else if (s->proxy->version) {
		field(t, "proxied for", "%s (PROXY protocol v%u header, frame %u)",
		      s->proxy->local ? "the proxy itself (LOCAL)" : "no address given",
		      (unsigned)s->proxy->version, (unsigned)s->proxy->frame);
	}
	plain_line(t, "greeting", &s->plain->greeting, "plain text");
	plain_line(t, "plain text", &s->plain->reply, "from the server, where TLS was due");
	if (s->ndpi.done) {
		char risks[512] = "";
		size_t used = 0;
		for (unsigned i = 0; i < 64; i++) {
			const char *name = (s->ndpi.risks >> i & 1) ? td_classify_risk_name(i) : NULL;
			if (name && used < sizeof risks)
				used += (size_t)td_report_snprintf(risks + used,
								   sizeof risks - used, "%s%s",
								   used ? ", " : "", name);
		}
		field(t, "nDPI", "%s (%s)%s%s", s->ndpi.protocol, s->ndpi.category,
		      used ? "; risks: " : "", risks);
	}
	if (s->encap & TD_ENCAP_VLAN)
		field(t, "VLAN", "%u", (unsigned)s->vlan_id);
	if (s->encap & ~TD_ENCAP_VLAN) {
		char encap[128];
		field(t, "encapsulation", "%s", td_report_encap_str(s, encap, sizeof encap));
	}
	field(t, "frames", "%lu - %lu", (unsigned long)s->first_frame, (unsigned long)s->last_frame);
	td_report_zone_local(s->first_ts, zone);
	td_report_fixed3(td_report_ms(s->first_ts, s->last_ts), false, ms); /* "%.3f" */
	field(t, "time", "%s - %s %s (%s ms)", td_report_time_local(s->first_ts, t1),
	      td_report_time_local(s->last_ts, t2), zone, ms);
	field(t, "packets", "client %llu (%llu bytes payload), server %llu (%llu bytes payload)",
	      (unsigned long long)s->packets[0], (unsigned long long)s->payload_bytes[0],
	      (unsigned long long)s->packets[1], (unsigned long long)s->payload_bytes[1]);

	label(t, "ended");
	switch (s->end) {
	case TD_END_FIN:
	case TD_END_RST:
		tx_printf(t, "%s", s->end == TD_END_FIN ? "FIN" : "RST");
		if (s->end_by >= 0)
			tx_printf(t, " from %s", td_dir_name(s->end_by));
		if (s->end_frame)
			tx_printf(t, " at frame %lu", (unsigned long)s->end_frame);
		break;
	case TD_END_IDLE:
		tx_puts(t, "idle timeout (no packet for too long)");
		break;
	case TD_END_EVICTED:
		tx_puts(t, "evicted from the flow table (memory cap)");
		break;
	default:
		tx_puts(t, "still open when the capture ended");
		break;
	}
	if (s->end != TD_END_FIN && s->end != TD_END_RST && s->end_by >= 0) {
		tx_printf(t, "; first FIN/RST from %s", td_dir_name(s->end_by));
		if (s->end_frame)
			tx_printf(t, " at frame %lu", (unsigned long)s->end_frame);
	}
	tx_putc(t, '\n');

	pair_line(t, "retransmissions", e->retransmissions[0], e->retransmissions[1], "");
	pair_line(t, "out of order", e->out_of_order[0], e->out_of_order[1], "");
	if (pair_field(t, "gaps", e->gaps[0], e->gaps[1]))
		tx_printf(t, " (bytes missing: client %llu, server %llu)\n",
			  (unsigned long long)e->bytes_missing[0],
			  (unsigned long long)e->bytes_missing[1]);
	if (e->overlaps_differ || t->verbose > 0)
		field(t, "overlaps differing", "%lu", (unsigned long)e->overlaps_differ);
	pair_line(t, "zero windows", e->zero_windows[0], e->zero_windows[1], "");
	pair_line(t, "RSTs", e->rsts[0], e->rsts[1], "");
	pair_line(t, "keep-alives", e->keepalives[0], e->keepalives[1], " (ignored)");
	pair_line(t, "window probes", e->zero_window_probes[0], e->zero_window_probes[1],
		  " (ignored)");
	pair_line(t, "out of window", e->out_of_window[0], e->out_of_window[1],
		  " (another stream's segments on these ports: dropped)");
	if (t->verbose > 0)
		field(t, "largest segment", "client %lu, server %lu",
		      (unsigned long)e->largest_segment[0], (unsigned long)e->largest_segment[1]);
	if (s->is_tls || t->verbose > 0) {
		field(t, "TLS records", "client %lu, server %lu", (unsigned long)s->records[0],
		      (unsigned long)s->records[1]);
		if (pair_shown(t, s->appdata_records[0], s->appdata_records[1]))
			field(t, "application data",
			      "client %lu record%s (%llu bytes), server %lu record%s (%llu bytes)",
			      (unsigned long)s->appdata_records[0],
			      s->appdata_records[0] == 1 ? "" : "s",
			      (unsigned long long)s->appdata_bytes[0],
			      (unsigned long)s->appdata_records[1],
			      s->appdata_records[1] == 1 ? "" : "s",
			      (unsigned long long)s->appdata_bytes[1]);
	}
	for (int d = 0; d < 2; d++) {
		if (s->encrypted[d])
			field(t, d ? "server encrypts" : "client encrypts", "from frame %lu",
			      (unsigned long)s->encrypted_frame[d]);
	}
	pair_line(t, "parser anomalies", s->anomalies[0], s->anomalies[1], "");
	for (int d = 0; d < 2; d++) {
		if (s->desync[d])
			field(t, d ? "server desync" : "client desync",
			      "%s (%s) at frame %lu; rest of this direction not parsed",
			      td_err_name((enum td_err)s->desync[d]),
			      td_err_msg((enum td_err)s->desync[d]), (unsigned long)s->desync_frame[d]);
	}
	pair_line(t, "handshake too big", s->hs_too_big[0], s->hs_too_big[1],
		  " (skipped unparsed)");
}

/* The extensions whose presence is the fact, as words. */
static void ext_words(const struct tx *t, const char *l, uint32_t f)
{
	static const struct {
		uint32_t flag;
		const char *word;
	} words[] = {
		{TD_EXT_EMS, "extended master secret"},
		{TD_EXT_ETM, "encrypt-then-MAC"},
		{TD_EXT_TICKET, "session ticket"},
		{TD_EXT_PSK, "pre-shared key"},
		{TD_EXT_EARLY_DATA, "early data"},
		{TD_EXT_STATUS_REQUEST, "OCSP stapling"},
		{TD_EXT_SCT, "SCT"},
		{TD_EXT_RENEGOTIATION_INFO, "renegotiation_info"},
		{TD_EXT_SCSV_RENEGOTIATION, "renegotiation SCSV"},
		{TD_EXT_SCSV_FALLBACK, "fallback SCSV"},
		{TD_EXT_HEARTBEAT, "heartbeat"},
		{TD_EXT_ECH, "encrypted ClientHello"},
	};
	struct wrap w;
	bool any = false;

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (!(f & words[i].flag))
			continue;
		if (!any)
			wrap_start(&w, t, l);
		wrap_item(&w, words[i].word);
		any = true;
	}
	if (any)
		wrap_end(&w, 0, 0);
}

/* What the key exchange used and the handshake's other optional messages. */
static void sec_key_exchange(const struct tx *t, const struct td_session *s)
{
	char g[TD_NAMES_FMT_LEN], sig[TD_NAMES_FMT_LEN];

	if (!s->sh->seen)
		return;
	section(t, "Key exchange");
	if (s->sh->key_share)
		field(t, "key share", "%s",
		      td_names_fmt16(g, sizeof g, td_names_group, s->sh->key_share));
	if (s->ske_group || s->ske_dh_bits) {
		if (s->ske_group)
			td_names_fmt16(g, sizeof g, td_names_group, s->ske_group);
		else
			td_report_snprintf(g, sizeof g, "DH %u bits", (unsigned)s->ske_dh_bits);
		if (s->ske_sigalg)
			field(t, "ServerKeyExchange", "%s, signed with %s", g,
			      td_names_fmt16(sig, sizeof sig, td_names_sigscheme, s->ske_sigalg));
		else
			field(t, "ServerKeyExchange", "%s", g);
	}
	if (s->cke_len)
		field(t, "ClientKeyExchange", "%u bytes", (unsigned)s->cke_len);
	if (s->client_cert_requested)
		certificate_request(t, s);
	if (s->ocsp->seen)
		ocsp_staple(t, s->ocsp);
	if (s->new_ticket_len)
		field(t, "session ticket", "%u bytes, lifetime %u s", (unsigned)s->new_ticket_len,
		      (unsigned)s->ticket_lifetime);
	if (!s->resumed)
		field(t, "resumed", "no");
	else if (s->full_handshake_in_capture > 0)
		field(t, "resumed", "yes, by %s; full handshake in this capture: connection %llu, "
				    "frame %lu",
		      td_resumption_name((enum td_resumption)s->resumption),
		      (unsigned long long)s->full_handshake_conn,
		      (unsigned long)s->full_handshake_frame);
	else
		field(t, "resumed", "yes, by %s; full handshake %s",
		      td_resumption_name((enum td_resumption)s->resumption),
		      s->full_handshake_in_capture == 0
			      ? "not in this capture"
			      : "not found (TLS 1.3 tickets are encrypted: give the key log of "
				"the full handshake to match it)");
	if (s->reneg_frame && (s->reneg_by == 0 || s->reneg_by == 1))
		field(t, "renegotiation", "by the %s at frame %lu (%s)", td_dir_name(s->reneg_by),
		      (unsigned long)s->reneg_frame,
		      td_session_reneg_secure(s) ? "secure, RFC 5746"
						 : "INSECURE: no renegotiation_info on both sides");
	if (s->sh->downgrade)
		field(t, "downgrade", "the server's random says it negotiated down from TLS 1.3 (%s)",
		      s->sh->downgrade == 12 ? "to TLS 1.2" : "to TLS 1.1 or below");
}

/* A fingerprint, or "none" when it was not computed (a list over its
 * cap, td_fingerprint.h). */
static const char *fp_or_none(const char *fp)
{
	return fp[0] ? fp : "none";
}

static void sec_client_hello(const struct tx *t, const struct td_session *s)
{
	const struct td_client_hello *ch = s->ch;
	char v1[TD_NAMES_FMT_LEN], v2[TD_NAMES_FMT_LEN], lbl[32];
	struct wrap w;
	size_t n;

	if (!ch->seen)
		return;
	section(t, "ClientHello (frame %lu)", (unsigned long)ch->frame);
	version_name(ch->record_version, v1);
	version_name(ch->legacy_version, v2);
	field(t, "record version", "%s", v1);
	field(t, "legacy version", "%s", v2);
	list16(t, "supported versions", ch->versions, ch->n_versions, TD_MAX_VERSIONS,
	       ch->total_versions, td_names_version);
	if (ch->has_sni)
		field_wire(t, "SNI", ch->sni.bytes, ch->sni.len < TD_SNI_LEN ? ch->sni.len : TD_SNI_LEN);
	else if (t->verbose > 0)
		field(t, "SNI", "(none)");
	n = ch->alpn.n < TD_MAX_ALPN ? ch->alpn.n : TD_MAX_ALPN;
	if (n > 0) {
		wrap_start(&w, t, "ALPN");
		for (size_t i = 0; i < n; i++) {
			char item[4 * TD_ALPN_LEN + 1];
			size_t len = ch->alpn.len[i] < TD_ALPN_LEN ? ch->alpn.len[i] : TD_ALPN_LEN;

			wrap_item_wire(&w, ch->alpn.name[i], len, item, sizeof item);
		}
		wrap_end(&w, n, ch->alpn.total);
	}
	td_report_snprintf(lbl, sizeof lbl, "cipher suites (%u)", (unsigned)ch->total_suites);
	list16(t, lbl, ch->suites, ch->n_suites, TD_MAX_SUITES, ch->total_suites,
	       td_names_cipher_name);
	if (ch->n_compression != 1 || t->verbose > 0)
		field(t, "compression", "%u method%s", (unsigned)ch->n_compression,
		      ch->n_compression == 1 ? "" : "s");
	list16(t, "groups", ch->groups, ch->n_groups, TD_MAX_GROUPS, ch->total_groups,
	       td_names_group);
	list16(t, "signature algs", ch->sigalgs, ch->n_sigalgs, TD_MAX_SIGALGS, ch->total_sigalgs,
	       td_names_sigscheme);
	n = ch->n_point_formats < TD_MAX_POINT_FORMATS ? ch->n_point_formats : TD_MAX_POINT_FORMATS;
	if (n > 0 && t->verbose > 0) {
		label(t, "EC point formats");
		for (size_t i = 0; i < n; i++)
			tx_printf(t, "%s%u", i ? ", " : "", (unsigned)ch->point_formats[i]);
		tx_putc(t, '\n');
	}
	list16(t, "extensions", ch->exts, ch->n_exts, TD_MAX_EXTS, ch->total_exts,
	       td_names_extension);
	if (ch->n_key_shares)
		list16(t, "key shares", ch->key_shares, ch->n_key_shares, TD_MAX_KEY_SHARES,
		       ch->n_key_shares, td_names_group);
	ext_words(t, "features", ch->ext_flags);
	if (s->ch->ja3[0])
		field(t, "JA3", "%s", s->ch->ja3);
	if (s->ch->ja4[0])
		field(t, "JA4", "%s", s->ch->ja4);
	if (s->ch2_frame)
		field(t, "retry hello", "frame %u (after HelloRetryRequest): JA3 %s, JA4 %s",
		      (unsigned)s->ch2_frame, fp_or_none(s->retry->ja3), fp_or_none(s->retry->ja4));
	if (ch->session_id_len || t->verbose > 0)
		field(t, "session ID", "%u bytes", (unsigned)ch->session_id_len);
	if (ch->malformed)
		field(t, "parse error", "%s", td_err_msg((enum td_err)ch->malformed));
}

static bool has_ext(const struct td_server_hello *sh, uint16_t ext)
{
	size_t n = sh->n_exts < TD_MAX_SH_EXTS ? sh->n_exts : TD_MAX_SH_EXTS;

	for (size_t i = 0; i < n; i++)
		if (sh->exts[i] == ext)
			return true;
	return false;
}

static void sec_server_hello(const struct tx *t, const struct td_session *s)
{
	const struct td_server_hello *sh = s->sh;
	const struct td_cipher_info *ci;
	char v[TD_NAMES_FMT_LEN], lv[TD_NAMES_FMT_LEN], name[TD_NAMES_FMT_LEN], x[5];

	if (!sh->seen)
		return;
	section(t, "ServerHello (frame %lu)", (unsigned long)sh->frame);
	version_name(sh->legacy_version, lv);
	if (sh->selected_version) {
		version_name(sh->selected_version, v);
		field(t, "version", "%s (supported_versions; legacy %s)", v, lv);
	} else {
		field(t, "version", "%s", lv);
	}
	td_names_fmt16(name, sizeof name, td_names_cipher_name, sh->suite);
	field(t, "cipher suite", "%s (0x%s)", name, hex4(x, sh->suite)); /* "%s (0x%04x)" */
	ci = td_names_cipher(sh->suite);
	if (ci)
		field(t, "", "key exchange %s, authentication %s, encryption %s, MAC %s", ci->kx,
		      ci->auth, ci->enc, ci->mac);
	if (sh->compression || t->verbose > 0)
		field(t, "compression", "method %u", (unsigned)sh->compression);
	if (sh->has_alpn)
		field_wire(t, "ALPN", sh->alpn, sh->alpn_len < TD_ALPN_LEN ? sh->alpn_len : TD_ALPN_LEN);
	if (sh->hello_retry_request)
		field(t, "HelloRetryRequest", "yes (the server asked for another key share)");
	if (td_session_is_tls13(s)) {
		/* RFC 8446 §4.2.11: the server accepts a PSK (resumption) by
		 * sending pre_shared_key (41); the echoed session ID is only
		 * middlebox compatibility (Appendix D.4). */
		field(t, "session", "%s",
		      has_ext(sh, 41) ? "resumed (pre_shared_key accepted)" : "full handshake");
	} else if (sh->session_id_echoed) {
		field(t, "session", "resumed (session ID echoed)");
	} else if (sh->session_id_len) {
		field(t, "session", "full handshake (new session ID, %u bytes)",
		      (unsigned)sh->session_id_len);
	} else {
		field(t, "session", "full handshake");
	}
	list16(t, "extensions", sh->exts, sh->n_exts, TD_MAX_SH_EXTS, sh->total_exts,
	       td_names_extension);
	ext_words(t, "features", sh->ext_flags);
	if (s->sh->ja3s[0])
		field(t, "JA3S", "%s", s->sh->ja3s);
	if (s->sh->ja4s[0])
		field(t, "JA4S", "%s", s->sh->ja4s);
	if (s->hrr_seen)
		field(t, "retry request", "frame %u (HelloRetryRequest): JA3S %s, JA4S %s",
		      (unsigned)s->hrr_frame, fp_or_none(s->retry->ja3s),
		      fp_or_none(s->retry->ja4s));
	if (sh->malformed)
		field(t, "parse error", "%s", td_err_msg((enum td_err)sh->malformed));
}

static void cert_key_line(const struct tx *t, const struct td_cert_key *k)
{
	char buf[160];
	size_t o;

	if (!k->algorithm[0])
		return;
	label_at(t, CERT_INDENT, CERT_LABEL_W, "public key");
	tx_term(t, (const uint8_t *)k->algorithm, strlen(k->algorithm));
	o = (size_t)td_report_snprintf(buf, sizeof buf, " %u bits", k->bits);
	if (k->rsa_exponent && o < sizeof buf)
		o += (size_t)td_report_snprintf(buf + o, sizeof buf - o, ", e=%llu",
						(unsigned long long)k->rsa_exponent);
	tx_puts(t, buf);
	if (k->curve[0]) {
		tx_puts(t, ", ");
		tx_term(t, (const uint8_t *)k->curve, strlen(k->curve));
		if (k->curve_nist[0]) {
			tx_puts(t, " (");
			tx_term(t, (const uint8_t *)k->curve_nist, strlen(k->curve_nist));
			tx_putc(t, ')');
		}
	}
	tx_putc(t, '\n');
}

/* A list of certificate strings (already printable ASCII, escaped again
 * for the terminal) wrapped under a certificate label. */
static void cert_list(const struct tx *t, const char *l, char *const *items, size_t n)
{
	struct wrap w;

	if (n == 0 || !items)
		return;
	label_at(t, CERT_INDENT, CERT_LABEL_W, l);
	w = (struct wrap){ t, VALUE_COL, true };
	for (size_t i = 0; i < n; i++) {
		char item[1024];

		wrap_item_wire(&w, (const uint8_t *)items[i], strlen(items[i]), item, sizeof item);
	}
	tx_putc(t, '\n');
}

/* keyUsage, extendedKeyUsage, basicConstraints, key identifiers, CRL and
 * OCSP addresses, embedded SCTs (td_cert_ext). */
static void cert_ext_lines(const struct tx *t, const struct td_cert_ext *e)
{
	if (e->has_key_usage) {
		char *names[TD_KU_COUNT];
		size_t n = 0;

		for (unsigned i = 0; i < TD_KU_COUNT; i++)
			if (e->key_usage & (1u << i))
				names[n++] = (char *)td_x509_key_usage_name(i);
		if (n)
			cert_list(t, "key usage", names, n);
		else
			field_cstr(t, CERT_INDENT, CERT_LABEL_W, "key usage", "(none)");
	}
	cert_list(t, "ext key usage", e->eku, e->n_eku);
	if (e->has_basic_constraints) {
		label_at(t, CERT_INDENT, CERT_LABEL_W, "constraints");
		if (e->is_ca && e->path_len >= 0)
			tx_printf(t, "CA:TRUE, pathlen:%ld\n", e->path_len);
		else
			tx_printf(t, "CA:%s\n", e->is_ca ? "TRUE" : "FALSE");
	}
	if (e->subject_key_id)
		field_cstr(t, CERT_INDENT, CERT_LABEL_W, "subject key ID", e->subject_key_id);
	if (e->authority_key_id)
		field_cstr(t, CERT_INDENT, CERT_LABEL_W, "issuer key ID", e->authority_key_id);
	cert_list(t, "CRL", e->crl_urls, e->n_crl_urls);
	cert_list(t, "OCSP", e->ocsp_urls, e->n_ocsp_urls);
	if (e->has_scts) {
		label_at(t, CERT_INDENT, CERT_LABEL_W, "SCTs");
		tx_printf(t, "%u embedded\n", e->n_scts);
	}
	if (e->bad_extensions) {
		label_at(t, CERT_INDENT, CERT_LABEL_W, "bad extensions");
		tx_printf(t, "%u that do not decode\n", e->bad_extensions);
	}
}

static void cert_block(const struct tx *t, size_t pos, const struct td_cert *c)
{
	char hex[2 * 32 + 1], colon[3 * 32], t1[TD_REPORT_TIME_LEN], t2[TD_REPORT_TIME_LEN];
	char zone[TD_REPORT_TIME_LEN];

	pad(t, FIELD_INDENT); /* "%*s[%zu] " */
	tx_putc(t, '[');
	tx_dec(t, pos);
	tx_put(t, "] ", 2);
	if (!c) {
		tx_puts(t, "(certificate facts not available)\n");
		return;
	}
	if (!c->parsed) {
		tx_puts(t, "not a parsable certificate: ");
		tx_term(t, (const uint8_t *)c->error, strnlen(c->error, sizeof c->error));
		tx_putc(t, '\n');
	} else {
		if (c->subject && c->subject[0])
			tx_term(t, (const uint8_t *)c->subject, strlen(c->subject));
		else
			tx_puts(t, "(empty subject)");
		tx_putc(t, '\n');
		if (c->issuer)
			field_cstr(t, CERT_INDENT, CERT_LABEL_W, "issuer", c->issuer);
		if (c->serial_hex)
			field_cstr(t, CERT_INDENT, CERT_LABEL_W, "serial", c->serial_hex);
		td_report_zone_local((struct td_time){ c->not_after, 0 }, zone);
		label_at(t, CERT_INDENT, CERT_LABEL_W, "validity");
		tx_printf(t, "%s - %s %s\n", td_report_time_local((struct td_time){ c->not_before, 0 }, t1),
			td_report_time_local((struct td_time){ c->not_after, 0 }, t2), zone);
		if (c->n_sans && c->sans) {
			struct wrap w;

			label_at(t, CERT_INDENT, CERT_LABEL_W, "SAN");
			w = (struct wrap){ t, VALUE_COL, true };
			for (size_t i = 0; i < c->n_sans; i++) {
				char item[1024];

				if (!c->sans[i])
					continue;
				wrap_item_wire(&w, (const uint8_t *)c->sans[i], strlen(c->sans[i]),
					       item, sizeof item);
			}
			tx_putc(t, '\n');
		}
		if (c->sig_alg[0])
			field_cstr(t, CERT_INDENT, CERT_LABEL_W, "signature", c->sig_alg);
		if (c->self_signed)
			field_cstr(t, CERT_INDENT, CERT_LABEL_W, "self-signed", "yes");
		cert_ext_lines(t, &c->ext);
		if (t->verbose > 0) {
			label_at(t, CERT_INDENT, CERT_LABEL_W, "version");
			tx_printf(t, "%ld\n", c->version);
		}
	}
	label_at(t, CERT_INDENT, CERT_LABEL_W, "SHA-256");
	tx_line(t, td_report_hex_colon(c->sha256, sizeof c->sha256, colon));
	pad(t, VALUE_COL);
	tx_line(t, td_hex(c->sha256, sizeof c->sha256, hex));
	if (t->verbose > 0) {
		label_at(t, CERT_INDENT, CERT_LABEL_W, "SHA-1");
		tx_line(t, td_report_hex_colon(c->sha1, sizeof c->sha1, colon));
	}
	if (c->parsed) {
		cert_key_line(t, &c->key);
		label_at(t, CERT_INDENT, CERT_LABEL_W, "SPKI SHA-256");
		tx_line(t, td_hex(c->key.spki_sha256, sizeof c->key.spki_sha256, hex));
		field_cstr(t, CERT_INDENT, CERT_LABEL_W, "pin-sha256", c->key.spki_sha256_b64);
		if (c->key.has_modulus) {
			label_at(t, CERT_INDENT, CERT_LABEL_W, "modulus SHA-256");
			tx_line(t, td_hex(c->key.rsa_modulus_sha256,
					  sizeof c->key.rsa_modulus_sha256, hex));
		}
	}
}

/* Whole days from the capture to t (negative: before it). */
static long long days_from(int64_t at, int64_t t)
{
	int64_t d = t - at;

	return (long long)(d >= 0 ? d / 86400 : -((-d + 86399) / 86400));
}

/* The capture-time checks of certificate i (td_chain.h), in words. */
static void cert_checks_line(const struct tx *t, const struct td_session *s, size_t i)
{
	const struct td_chain_facts *f = s->chain;
	const struct td_cert *c = s->certs[i];
	unsigned k = f->checks[i];
	char buf[512];
	size_t o = 0;

	if (!f->checked || !c || !c->parsed)
		return;
#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (o < sizeof buf)                                                                \
			o += (size_t)td_report_snprintf(buf + o, sizeof buf - o, "%s",             \
							o ? "; " : "");                            \
		if (o < sizeof buf)                                                                \
			o += (size_t)td_report_snprintf(buf + o, sizeof buf - o, __VA_ARGS__);     \
	} while (0)
	if (k & TD_CHK_EXPIRED)
		ADD("EXPIRED %lld days before the capture", -days_from(f->at, c->not_after));
	if (k & TD_CHK_NOT_YET_VALID)
		ADD("NOT YET VALID: valid from %lld days after the capture",
		    days_from(f->at, c->not_before));
	if (k & TD_CHK_EXPIRING)
		ADD("expires %lld days after the capture", days_from(f->at, c->not_after));
	if (k & TD_CHK_WEAK_RSA)
		ADD("weak key: RSA %u bits (below %d)", c->key.bits, TD_CHAIN_MIN_RSA_BITS);
	if (k & TD_CHK_WEAK_EC)
		ADD("weak key: EC %u bits (below %d)", c->key.bits, TD_CHAIN_MIN_EC_BITS);
	if (k & TD_CHK_DSA)
		ADD("DSA key (current TLS clients refuse it)");
	if (k & TD_CHK_MD5)
		ADD("MD5 signature (broken)");
	if (k & TD_CHK_SHA1)
		ADD("SHA-1 signature (refused by current clients)");
#undef ADD
	label_at(t, CERT_INDENT, CERT_LABEL_W, "checks");
	if (k)
		tx_printf(t, "%s%s%s\n", on(t, ANSI_RED), buf, off(t));
	else
		tx_printf(t, "ok at the capture's time (dates, key size, signature hash)\n");
}

static void cert_name(const struct tx *t, const struct td_session *s, unsigned i)
{
	const struct td_cert *c = i < s->n_certs && i < TD_MAX_CHAIN ? s->certs[i] : NULL;

	tx_printf(t, "[%u] \"", i);
	if (c && c->subject)
		tx_term(t, (const uint8_t *)c->subject, strlen(c->subject));
	tx_putc(t, '"');
}

/* A continuation line under the value column, or the first one with the
 * label. */
static void chain_row(const struct tx *t, bool *first, const char *l)
{
	if (*first)
		label(t, l);
	else
		pad(t, VALUE_COL);
	*first = false;
}

/* What earlier connections with the same SNI presented, when this leaf
 * is none of theirs (td_sni_history). */
static void sni_history_lines(const struct tx *t, const struct td_chain_facts *f)
{
	const struct td_sni_history *h = &f->sni_history;
	char hex[65];

	if (!h->known || !h->changed)
		return;
	label(t, "SNI history");
	tx_printf(t, "%sNEW CERTIFICATE%s: none of the %llu earlier connection%s for this SNI "
			"presented it%s (%s)\n",
		on(t, ANSI_YELLOW), off(t), (unsigned long long)h->earlier_connections,
		h->earlier_connections == 1 ? "" : "s",
		h->at_least ? ", as far as the 8 leaves remembered tell" : "",
		h->key_changed ? "another public key too" : "same public key");
	tx_printf(t, "%*searlier SHA-256 %s\n", VALUE_COL, "", td_hex(h->earlier.sha256, 32, hex));
	tx_printf(t, "%*s        in %llu connection%s (of %s%u distinct), first #%llu frame %u\n",
		VALUE_COL, "", (unsigned long long)h->earlier.connections,
		h->earlier.connections == 1 ? "" : "s", h->at_least ? "at least " : "",
		(unsigned)h->earlier_leaves, (unsigned long long)h->earlier.first_connection,
		(unsigned)h->earlier.first_frame);
}

/* Chain facts: order, completeness, root, duplicates, leaf, SNI, --ca and
 * --cert (td_chain.h). */
static void chain_lines(const struct tx *t, const struct td_session *s)
{
	const struct td_chain_facts *f = s->chain;
	const struct td_cert *top;
	char hex[65];
	bool first = true;

	if (!f->checked)
		return;
	if (f->broken) {
		chain_row(t, &first, "chain");
		tx_printf(t, "%sBROKEN%s: ", on(t, ANSI_RED), off(t));
		cert_name(t, s, f->broken_at);
		tx_puts(t, " certifies none of the chain (a wrong intermediate)\n");
	} else if (f->order_ok) {
		chain_row(t, &first, "chain");
		tx_printf(t, "%s\n",
			s->n_certs > 1 ? "in order: each certificate is signed by the next"
				       : "one certificate");
	} else {
		chain_row(t, &first, "chain");
		tx_printf(t, "%sWRONG ORDER%s: ", on(t, ANSI_RED), off(t));
		cert_name(t, s, f->unchained_at + 1u);
		tx_puts(t, " did not sign ");
		cert_name(t, s, f->unchained_at);
		tx_putc(t, '\n');
	}
	top = f->top < s->n_certs && f->top < TD_MAX_CHAIN ? s->certs[f->top] : NULL;
	if (f->missing_intermediate && top && top->parsed) {
		chain_row(t, &first, "chain");
		tx_printf(t, "%sINCOMPLETE%s: ", on(t, ANSI_RED), off(t));
		cert_name(t, s, f->top);
		tx_puts(t, " was issued by \"");
		tx_term(t, (const uint8_t *)top->issuer, strlen(top->issuer));
		tx_puts(t, "\", which was not sent (missing intermediate)\n");
	}
	if (f->root_sent) {
		chain_row(t, &first, "chain");
		tx_puts(t, "a self-signed root was sent (needless: clients use their own copy)\n");
	}
	if (f->duplicates) {
		chain_row(t, &first, "chain");
		tx_printf(t, "%u certificate%s sent more than once\n", (unsigned)f->duplicates,
			f->duplicates == 1 ? "" : "s");
	}
	if (f->self_signed_leaf) {
		chain_row(t, &first, "chain");
		tx_printf(t, "%sthe leaf is self-signed%s\n", on(t, ANSI_RED), off(t));
	}
	if (f->leaf_is_ca) {
		chain_row(t, &first, "chain");
		tx_printf(t, "%sthe leaf is a CA certificate (basicConstraints CA:TRUE)%s\n",
			on(t, ANSI_RED), off(t));
	}
	if (f->sni_match >= 0) {
		label(t, "SNI check");
		tx_term(t, s->ch->sni.bytes,
				   s->ch->sni.len < TD_SNI_LEN ? s->ch->sni.len : TD_SNI_LEN);
		if (f->sni_match)
			tx_puts(t, ": the leaf is valid for this name\n");
		else
			tx_printf(t, ": %sthe leaf is NOT valid for this name%s\n", on(t, ANSI_RED),
				off(t));
	}
	sni_history_lines(t, f);
	if (f->ca_checked) {
		label(t, "--ca");
		if (f->ca_ok)
			tx_printf(t, "%sverified%s: the chain leads to a trust anchor at the capture's "
					"time\n",
				on(t, ANSI_GREEN), off(t));
		else {
			tx_printf(t, "%sNOT VERIFIED%s: ", on(t, ANSI_RED), off(t));
			tx_term(t, (const uint8_t *)f->ca_verdict,
					   strnlen(f->ca_verdict, sizeof f->ca_verdict));
			if (f->ca_depth >= 0)
				tx_printf(t, " (at [%d])", f->ca_depth);
			tx_putc(t, '\n');
		}
	}
	if (f->expected_checked && f->expected_path && s->n_certs && s->certs[0] &&
	    s->certs[0]->parsed) {
		const struct td_cert *leaf = s->certs[0];

		label(t, "--cert");
		if (f->expected_match) {
			tx_puts(t, "the server sent the expected certificate ");
			tx_term(t, (const uint8_t *)f->expected_path,
					   strlen(f->expected_path));
			tx_putc(t, '\n');
			return;
		}
		tx_printf(t, "%sthe server sent a different certificate than ", on(t, ANSI_RED));
		tx_term(t, (const uint8_t *)f->expected_path, strlen(f->expected_path));
		tx_printf(t, "%s%s\n", off(t),
			f->expected_same_key ? " (same public key: another issue of it)"
					     : " (another public key too)");
		tx_printf(t, "%*ssent      SHA-256 %s\n", VALUE_COL, "",
			td_hex(leaf->sha256, 32, hex));
		tx_printf(t, "%*s           SPKI %s\n", VALUE_COL, "",
			td_hex(leaf->key.spki_sha256, 32, hex));
		tx_printf(t, "%*sexpected  SHA-256 %s\n", VALUE_COL, "",
			td_hex(f->expected_sha256, 32, hex));
		tx_printf(t, "%*s           SPKI %s\n", VALUE_COL, "",
			td_hex(f->expected_spki_sha256, 32, hex));
	}
}

/* The client's chain (mutual TLS): shown when the client sent a
 * Certificate message, empty or not. */
static void sec_client_certificates(const struct tx *t, const struct td_session *s)
{
	size_t n = s->n_client_certs < TD_MAX_CHAIN ? s->n_client_certs : TD_MAX_CHAIN;

	if (!s->client_cert_frame)
		return;
	section(t, "Client certificates (frame %lu)", (unsigned long)s->client_cert_frame);
	if (s->total_client_certs == 0)
		tx_printf(t, "%*snone sent (the client had no certificate to offer)\n", FIELD_INDENT,
			"");
	for (size_t i = 0; i < n; i++)
		cert_block(t, i, s->client_certs[i]);
}

static void sec_certificates(const struct tx *t, const struct td_session *s)
{
	size_t n = s->n_certs < TD_MAX_CHAIN ? s->n_certs : TD_MAX_CHAIN;
	const char *name = td_cert_compression_name(s->cert_compression);
	char alg[24];

	if (!s->sh->seen && n == 0)
		return;
	if (!name) {
		td_report_snprintf(alg, sizeof alg, "algorithm %u", (unsigned)s->cert_compression);
		name = alg;
	}
	if (s->cert_frame && s->cert_compressed)
		section(t, "Certificates (frame %lu%s, %s-compressed: %lu bytes)",
			(unsigned long)s->cert_frame, s->certs_encrypted ? ", decrypted" : "", name,
			(unsigned long)s->cert_uncompressed_len);
	else if (s->cert_frame)
		section(t, "Certificates (frame %lu%s)", (unsigned long)s->cert_frame,
			s->certs_encrypted ? ", decrypted" : "");
	else
		section(t, "Certificates");
	if (n == 0) {
		pad(t, FIELD_INDENT);
		if (s->cert_compressed && s->cert_compression_err)
			tx_printf(t, "CompressedCertificate not read: %s\n",
				  td_report_cert_compression_error(s->cert_compression_err));
		else if (s->certs_encrypted && s->resumed) /* RFC 8446 §2.2: none in a PSK handshake */
			tx_line(t, "none sent: resumed with a pre-shared key");
		else if (s->certs_encrypted)
			tx_line(t, "certificate not visible without keys (TLS 1.3 encrypts it)");
		else if (s->total_certs)
			tx_printf(t, "%u certificates sent, none kept\n", (unsigned)s->total_certs);
		else if (s->sh->seen && (td_session_is_tls13(s) ? has_ext(s->sh, 41)
							      : s->sh->session_id_echoed))
			tx_line(t, "none sent (session resumed)");
		else
			tx_line(t, "no Certificate message seen");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		cert_block(t, i, s->certs[i]);
		cert_checks_line(t, s, i);
		if (!s->keys_given)
			continue;
		label_at(t, CERT_INDENT, CERT_LABEL_W, "key file");
		if (td_session_cert_key(s, i))
			tx_printf(t, "matches key %s\n", td_session_cert_key(s, i));
		else
			tx_printf(t, "%sdoes not match any supplied key%s\n", on(t, ANSI_RED),
				off(t));
	}
	if (s->total_certs > n)
		tx_printf(t, "%*s(%zu of %u certificates shown)\n", FIELD_INDENT, "", n,
			(unsigned)s->total_certs);
	chain_lines(t, s);
}

/* Width of the widest frame number among n values, for aligned columns. */
static int frame_width(uint32_t max)
{
	int w = 1;

	while (max >= 10) {
		max /= 10;
		w++;
	}
	return w;
}

static void sec_alerts(const struct tx *t, const struct td_session *s)
{
	size_t n = s->n_alerts < TD_MAX_ALERTS ? s->n_alerts : TD_MAX_ALERTS;
	uint32_t maxf = 0;
	char words[64];
	int fw;

	if (n == 0 && s->total_alerts == 0)
		return;
	section(t, "Alerts");
	for (size_t i = 0; i < n; i++)
		if (s->alerts[i].frame > maxf)
			maxf = s->alerts[i].frame;
	fw = frame_width(maxf);
	for (size_t i = 0; i < n; i++) {
		const struct td_alert *a = &s->alerts[i];

		/* "%*sframe %-*lu  %s -> %s  %s" */
		pad(t, FIELD_INDENT);
		tx_put(t, "frame ", 6);
		pad(t, fw - (int)tx_dec(t, a->frame));
		tx_printf(t, "  %s -> %s  %s", td_dir_name(a->dir), td_dir_name(!a->dir),
			  on(t, alert_color(a)));
		if (a->probable)
			tx_puts(t, "probable encrypted alert (a record of alert size; level and "
				   "description not visible without keys)");
		else if (a->encrypted)
			tx_puts(t, "encrypted alert (level and description not visible without keys)");
		else
			tx_puts(t, td_report_alert_words(a, words, sizeof words));
		tx_printf(t, "%s  (%s%s)\n", off(t),
			a->decrypted			 ? "decrypted, "
			: a->encrypted || a->probable ? ""
						      : "in clear, ",
			td_phase_name(a->phase));
	}
	if (s->total_alerts > n)
		tx_printf(t, "%*s(%zu of %u alerts shown)\n", FIELD_INDENT, "", n,
			(unsigned)s->total_alerts);
}

static void paragraph(const struct tx *t, int indent, int width, int cont, const char *lbl,
		      const char *text);

/* What decryption found ([decrypt]): shown only when secrets were given.
 * Long values wrap at WRAP_COL like the diagnosis (paragraph()). */
static void sec_decryption(const struct tx *t, const struct td_session *s)
{
	const struct td_decrypt_facts *d = &s->dec;
	static const char *const src_words[] = {"", "key log", "key log RSA line", "--key"};

	if (d->status == TD_DECRYPT_OFF)
		return;
	section(t, "Decryption");
	if (d->status == TD_DECRYPT_DONE && d->source < sizeof src_words / sizeof src_words[0]) {
		if (d->source == TD_SRC_RSA_KEY && d->key_index >= 0 && d->key_index < TD_MAX_KEYS &&
		    td_decrypt_key_file(d, d->key_index))
			field(t, "status", "decrypted (pre-master secret from --key %s)",
			      td_decrypt_key_file(d, d->key_index));
		else
			field(t, "status", "decrypted (%s)", src_words[d->source]);
	} else {
		field(t, "status", "%s%s%s", on(t, ANSI_YELLOW),
		      td_report_decrypt_status_words(d->status), off(t));
	}
	for (unsigned i = 0; i < d->n_keys_tried && i < TD_MAX_KEYS; i++) {
		char l[32];
		snprintf(l, sizeof l, "pre-master (key %u)", i + 1);
		char text[1024];
		const char *key = td_decrypt_key_file(d, (int)i);
		snprintf(text, sizeof text, "%s %s", key ? key : "the key",
			 td_report_pms_words(d->pms[i]));
		paragraph(t, FIELD_INDENT, LABEL_W, VALUE_COL, l, text);
	}
	if (d->status == TD_DECRYPT_DONE && !td_session_is_tls13(s))
		field(t, "extensions", "extended_master_secret %s, encrypt_then_mac %s",
		      d->ems ? "yes" : "no", d->etm ? "yes" : "no");
	for (int dir = 0; dir < 2; dir++) {
		char l[32];
		snprintf(l, sizeof l, "%s Finished", td_dir_name(dir));
		if (d->finished[dir] == TD_FIN_NOT_SEEN)
			field(t, l, "not seen");
		else
			field(t, l, "frame %lu: %s%s%s", (unsigned long)d->finished_frame[dir],
			      on(t, d->finished[dir] == TD_FIN_VERIFIED ? ANSI_GREEN
				    : d->finished[dir] == TD_FIN_MISMATCH ||
						    d->finished[dir] == TD_FIN_UNREADABLE
					    ? ANSI_RED
					    : ""),
			      td_report_finished_words(d->finished[dir]), off(t));
	}
	if (d->failed) {
		char text[256];
		snprintf(text, sizeof text, "frame %lu, %s record of %u bytes: %s",
			 (unsigned long)d->fail_frame, td_dir_name(d->fail_dir), (unsigned)d->fail_len,
			 td_dec_result_words((enum td_dec_result)d->fail_what));
		paragraph(t, FIELD_INDENT, LABEL_W, VALUE_COL, "first failure", text);
	}
	if (d->records[0] || d->records[1] || d->skipped[0] || d->skipped[1]) {
		char text[256];
		snprintf(text, sizeof text,
			 "client %lu, server %lu (application data not opened: client %lu, server %lu)",
			 (unsigned long)d->records[0], (unsigned long)d->records[1],
			 (unsigned long)d->skipped[0], (unsigned long)d->skipped[1]);
		paragraph(t, FIELD_INDENT, LABEL_W, VALUE_COL, "records opened", text);
	}
}

/* The handshake ladder (td_report_ladder(), shared with the Markdown
 * report): who sent what, when, where encryption starts, how it ended. */
static void sec_ladder(const struct tx *t, const struct td_session *s)
{
	if (s->n_events == 0)
		return;
	section(t, "Ladder");
	td_report_buf_ladder(t->out, s, FIELD_INDENT, t->color);
}

static void sec_outcome(const struct tx *t, const struct td_session *s)
{
	char oc[32], why[160];

	section(t, "Outcome");
	field(t, "handshake completed", "%s", s->outcome == TD_OUTCOME_COMPLETED ? "yes" : "no");
	upper(oc, sizeof oc, td_outcome_name(s->outcome));
	field(t, "outcome", "%s%s%s", on(t, outcome_color(s->outcome)), oc,
	      *outcome_color(s->outcome) ? off(t) : "");
	field(t, "last stage", "%s", td_stage_name(s->stage));
	if (s->aborted_by >= 0)
		field(t, "aborted by", "%s", td_dir_name(s->aborted_by));
	if (s->aborted_how != TD_ABORT_NONE) {
		const char *how = td_report_abort_name(s->aborted_how);

		td_report_failure_reason(s, why, sizeof why);
		field(t, "aborted how", "%s (%s)", how ? how : "?", why);
	}
}

/* Text (escaped for the terminal first) wrapped at WRAP_COL: the first
 * line starts after a label at indent, padded to width; the others start
 * at column cont. */
static void paragraph(const struct tx *t, int indent, int width, int cont, const char *lbl,
		      const char *text)
{
	char esc[2048];
	size_t len = strlen(text), llen = strlen(lbl);
	const char *p = text, *end;
	int start = indent + (!*lbl || width > (int)llen ? width : (int)llen + 1);
	int col = start;

	/* the text as it is when the escape would leave it so (and it is not
	 * longer than the escape's buffer would cut it) */
	if (len >= sizeof esc || !td_report_term_plain(text, len)) {
		td_report_escape_term(esc, sizeof esc, (const uint8_t *)text, len);
		p = esc;
		len = strlen(esc);
	}
	end = p + len;
	/* "%*s%-*s" */
	td_report_buf_fill(t->out, ' ', indent);
	tx_put(t, lbl, llen);
	td_report_buf_fill(t->out, ' ', start - indent - (int)llen);
	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t word = sp ? (size_t)(sp - p) : (size_t)(end - p);

		if (col > start && col + 1 + (int)word > WRAP_COL) {
			tx_putc(t, '\n');
			td_report_buf_fill(t->out, ' ', cont);
			col = start = cont;
		} else if (col > start) {
			tx_putc(t, ' ');
			col++;
		}
		td_report_buf_put(t->out, p, word);
		col += (int)word;
		p += word;
		while (p < end && *p == ' ')
			p++;
	}
	tx_putc(t, '\n');
}

/* Ranked causes, each with its evidence and the next step (td_diagnose.h). */
static void sec_diagnosis(const struct tx *t, const struct td_session *s)
{
	const struct td_diagnosis *d = s->diagnosis;
	char head[64];

	if (!d || d->n == 0)
		return;
	section(t, "Diagnosis");
	paragraph(t, FIELD_INDENT, 0, FIELD_INDENT, "", d->problem);
	for (unsigned i = 0; i < d->n; i++) {
		const struct td_cause *c = &d->causes[i];
		td_report_snprintf(head, sizeof head, "%u. %s (%d%%)", i + 1,
				   td_likelihood_word(c->likelihood), c->likelihood);
		const int sub = FIELD_INDENT + 3, lw = 10, cont = FIELD_INDENT + 3 + 10;
		paragraph(t, FIELD_INDENT, 0, FIELD_INDENT + 3, head, c->summary);
		for (unsigned k = 0; k < c->n_for; k++)
			paragraph(t, sub, lw, cont, "for:", c->evidence_for[k]);
		for (unsigned k = 0; k < c->n_against; k++)
			paragraph(t, sub, lw, cont, "against:", c->evidence_against[k]);
		if (c->next_step[0])
			paragraph(t, sub, lw, cont, "next:", c->next_step);
		if (t->verbose > 0 && c->basis)
			paragraph(t, sub, lw, cont, "basis:", c->basis);
	}
}

static const char *severity_color(const struct tx *t, uint8_t sev)
{
	return sev >= TD_SEV_HIGH ? on(t, ANSI_RED) : sev == TD_SEV_MEDIUM ? on(t, ANSI_YELLOW) : "";
}

/* The rules' findings (td_rules.h), most severe first: severity, rule id
 * and evidence frame, then the message (from the wire: escaped by
 * paragraph()); with -v the rule's explanation. */
static void sec_findings(const struct tx *t, const struct td_session *s)
{
	const struct td_findings *f = s->findings;
	char head[160];

	if (!f || f->n == 0)
		return;
	if (f->total > f->n)
		section(t, "Findings (%u of %u shown)", (unsigned)f->n, (unsigned)f->total);
	else
		section(t, "Findings");
	for (unsigned i = 0; i < f->n && i < TD_MAX_FINDINGS; i++) {
		const struct td_finding *x = &f->f[i];
		const char *sev = td_severity_name(x->severity);
		int n;

		n = td_report_snprintf(head, sizeof head, "%s", x->id);
		if (x->frame && n >= 0 && (size_t)n < sizeof head)
			td_report_snprintf(head + n, sizeof head - (size_t)n, ", frame %lu",
					   (unsigned long)x->frame);
		/* "%*s%s%-8s%s  " */
		pad(t, FIELD_INDENT);
		tx_puts(t, severity_color(t, x->severity));
		tx_puts(t, sev);
		pad(t, 8 - (int)strlen(sev));
		tx_puts(t, x->severity >= TD_SEV_MEDIUM ? off(t) : "");
		tx_put(t, "  ", 2);
		tx_term(t, (const uint8_t *)head, strlen(head));
		tx_putc(t, '\n');
		paragraph(t, VALUE_COL - 10, 0, VALUE_COL - 10, "", x->message);
		if (t->verbose > 0 && x->explain && x->explain[0])
			paragraph(t, VALUE_COL - 10, 5, VALUE_COL - 5, "why:", x->explain);
	}
}

static void text_session(const struct tx *t, const struct td_session *s)
{
	header(t, s);
	sec_connection(t, s);
	sec_client_hello(t, s);
	sec_server_hello(t, s);
	sec_key_exchange(t, s);
	sec_certificates(t, s);
	sec_client_certificates(t, s);
	sec_alerts(t, s);
	sec_decryption(t, s);
	sec_ladder(t, s);
	if (s->is_tls || t->verbose > 0)
		sec_outcome(t, s);
	sec_findings(t, s);
	sec_diagnosis(t, s);
	tx_putc(t, '\n');
}

void td_report_session(FILE *out, const struct td_report_opts *o, const struct td_session *s)
{
	char mem[TD_REPORT_BUF_LEN];
	struct td_report_buf b;
	struct tx t = { &b, o->color, o->verbose };

	if (o->json) {
		td_report_json_session(out, s);
		return;
	}
	/* one fwrite() per connection: a live capture's blocks reach the
	 * terminal whole */
	td_report_buf_init(&b, out, mem, sizeof mem);
	text_session(&t, s);
	td_report_buf_end(&b);
}

/* Summary fields sit at indent 2 under a top-level heading. */
static void sfield(const struct tx *t, const char *l, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void sfield(const struct tx *t, const char *l, const char *fmt, ...)
{
	va_list ap;

	label_at(t, 2, VALUE_COL - 2, l);
	va_start(ap, fmt);
	td_report_buf_vprintf(t->out, fmt, ap);
	va_end(ap);
	tx_putc(t, '\n');
}

/* Names and endpoints that presented more than one leaf certificate
 * (td_chain.h consistency table). */
static void consistency_lines(const struct tx *t, const struct td_summary *sum)
{
	size_t n;
	const struct td_consist_entry *e = td_consistency_entries(sum->consistency, &n);
	uint64_t untracked = td_consistency_untracked(sum->consistency);
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		if (e[i].n_leaves < 2)
			continue;
		if (first)
			label_at(t, 2, VALUE_COL - 2, "certificate changes");
		else
			tx_printf(t, "%*s", VALUE_COL, "");
		first = false;
		tx_printf(t, "%s%s ", on(t, ANSI_YELLOW),
			e[i].kind == TD_CONSIST_SNI ? "SNI" : "server");
		tx_term(t, e[i].key, e[i].key_len);
		tx_printf(t, ": %s%u different certificates, %s%u different public key%s in %llu "
				"connections%s\n",
			e[i].overflow ? "at least " : "", (unsigned)e[i].n_leaves,
			e[i].overflow ? "at least " : "", (unsigned)e[i].distinct_keys,
			e[i].distinct_keys == 1 ? "" : "s", (unsigned long long)e[i].connections,
			off(t));
	}
	if (untracked)
		sfield(t, "not compared", "%llu connections (table of names and servers full)",
		       (unsigned long long)untracked);
}

struct alert_row {
	uint8_t desc, dir;
	uint64_t count;
};

/* [decrypt]: how many connections opened, Finished checks, and why the
 * others did not (one line per reason, most frequent reasons first in
 * enum order: the list is short). */
static void decryption_lines(const struct tx *t, const struct td_summary *sum)
{
	bool first = true;

	if (!sum->decrypt_on)
		return;
	sfield(t, "decryption", "%llu of %llu connections decrypted; Finished: %llu verified, %llu "
				"failed",
	       (unsigned long long)sum->decrypt_by_status[TD_DECRYPT_DONE],
	       (unsigned long long)sum->connections_tls, (unsigned long long)sum->finished_verified,
	       (unsigned long long)sum->finished_failed);
	for (int st = TD_DECRYPT_NO_HELLOS; st < TD_DECRYPT_STATUS_COUNT; st++) {
		if (!sum->decrypt_by_status[st])
			continue;
		label_at(t, 2, VALUE_COL - 2, first ? "not decrypted" : "");
		first = false;
		tx_printf(t, "%llu: %s\n", (unsigned long long)sum->decrypt_by_status[st],
			td_report_decrypt_status_words((uint8_t)st));
	}
}

/* "findings  4: 1 critical, 2 high, 1 low" (severities with none left
 * out unless -v). */
static void findings_line(const struct tx *t, const struct td_summary *sum)
{
	uint64_t total = 0;

	for (int i = 0; i < TD_SEV_COUNT; i++)
		total += sum->findings_by_severity[i];
	if (!total && t->verbose == 0)
		return;
	label_at(t, 2, VALUE_COL - 2, "findings");
	tx_printf(t, "%llu", (unsigned long long)total);
	for (int i = TD_SEV_COUNT - 1, first = 1; i >= 0; i--) {
		if (!sum->findings_by_severity[i] && t->verbose == 0)
			continue;
		tx_printf(t, "%s%llu %s", first ? ": " : ", ",
			(unsigned long long)sum->findings_by_severity[i], td_severity_name(i));
		first = 0;
	}
	tx_putc(t, '\n');
}

/* "not decoded  12 GRE protocol 0x880b, 3 ethertype 0x88cc" */
static void text_not_decoded(const struct tx *t, const struct td_summary *sum)
{
	if (!sum->n_not_decoded && !sum->not_decoded_other)
		return;
	label_at(t, 2, VALUE_COL - 2, "not decoded");
	for (size_t i = 0; i < sum->n_not_decoded; i++) {
		char what[64];
		const struct td_not_decoded *nd = &sum->not_decoded[i];
		tx_printf(t, "%s%llu %s", i ? ", " : "", (unsigned long long)nd->packets,
			td_decode_unknown_str(nd->kind, nd->value, what, sizeof what));
	}
	if (sum->not_decoded_other)
		tx_printf(t, "%s%llu other", sum->n_not_decoded ? ", " : "",
			(unsigned long long)sum->not_decoded_other);
	tx_putc(t, '\n');
}

/* "IP reassembly  4 fragments: 2 datagrams rebuilt; dropped: 1 overlap" */
static void text_defrag(const struct tx *t, const struct td_defrag_stats *st)
{
	const struct {
		const char *name;
		uint64_t n;
	} dropped[] = {
		{"timed out", st->timed_out},     {"overlapping", st->overlaps},
		{"oversized", st->oversized},     {"too many fragments", st->too_many},
		{"inconsistent", st->inconsistent}, {"evicted", st->evicted},
		{"not captured whole", st->truncated},
	};
	bool first = true;

	if (!st->fragments && t->verbose == 0)
		return;
	label_at(t, 2, VALUE_COL - 2, "IP reassembly");
	tx_printf(t, "%llu fragments, %llu datagrams rebuilt",
		(unsigned long long)st->fragments, (unsigned long long)st->reassembled);
	if (st->pending)
		tx_printf(t, ", %llu incomplete at the end", (unsigned long long)st->pending);
	for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++) {
		if (!dropped[i].n)
			continue;
		tx_printf(t, "%s%llu %s", first ? "; dropped: " : ", ",
			(unsigned long long)dropped[i].n, dropped[i].name);
		first = false;
	}
	tx_putc(t, '\n');
}

/* --save-evidence: what went into the file, and what could not. */
static void evidence_lines(const struct tx *t, const struct td_summary *sum)
{
	const char *file = sum->evidence.file;
	char line[600];

	if (!file)
		return;
	snprintf(line, sizeof line, "%llu connection%s (%llu frames) written to %s",
		 (unsigned long long)sum->evidence.connections,
		 sum->evidence.connections == 1 ? "" : "s",
		 (unsigned long long)sum->evidence.frames, file);
	label_at(t, 2, VALUE_COL - 2, "evidence");
	tx_term(t, (const uint8_t *)line, strlen(line));
	tx_putc(t, '\n');
	if (sum->evidence.connections_capped || t->verbose > 0)
		tx_printf(t, "%*s%llu cut at the cap of %llu bytes per connection (%llu frames "
				"left out)\n",
			VALUE_COL, "", (unsigned long long)sum->evidence.connections_capped,
			(unsigned long long)sum->evidence.max_bytes,
			(unsigned long long)sum->evidence.frames_over_cap);
	if (sum->evidence.segments_fragments_lost || t->verbose > 0)
		tx_printf(t, "%*s%llu segments left out: not all their IP fragments were held\n",
			VALUE_COL, "", (unsigned long long)sum->evidence.segments_fragments_lost);
	if (sum->evidence.frames_other_link || t->verbose > 0)
		tx_printf(t, "%*s%llu frames left out: another link type than the file's\n",
			VALUE_COL, "", (unsigned long long)sum->evidence.frames_other_link);
}

static void text_summary(const struct tx *t, const struct td_summary *sum)
{
	static const struct {
		const char *name;
		size_t off;
	} decode[] = {
		{ "TCP", offsetof(struct td_summary, tcp_packets) },
		{ "not TCP", offsetof(struct td_summary, not_tcp) },
		{ "truncated", offsetof(struct td_summary, truncated) },
		{ "malformed", offsetof(struct td_summary, malformed) },
		{ "IP fragments", offsetof(struct td_summary, fragments) },
		{ "unsupported link type", offsetof(struct td_summary, unsupported_link) },
		{ "filtered out", offsetof(struct td_summary, filtered_out) },
	};
	char t1[TD_REPORT_TIME_LEN], t2[TD_REPORT_TIME_LEN], zone[TD_REPORT_TIME_LEN];
	bool any = false;

	tx_printf(t, "%sSummary%s\n", on(t, ANSI_BOLD), off(t));
	label_at(t, 2, VALUE_COL - 2, sum->n_inputs == 1 ? "input" : "inputs");
	for (size_t i = 0; sum->inputs && i < sum->n_inputs; i++) {
		if (i)
			tx_puts(t, ", ");
		if (sum->inputs[i])
			tx_term(t, (const uint8_t *)sum->inputs[i], strlen(sum->inputs[i]));
	}
	tx_putc(t, '\n');
	sfield(t, "packets", "%llu (%llu bytes)", (unsigned long long)sum->packets,
	       (unsigned long long)sum->bytes);
	if (sum->live) {
		label_at(t, 2, VALUE_COL - 2, "capture");
		tx_puts(t, "live on ");
		if (sum->interface)
			tx_term(t, (const uint8_t *)sum->interface,
					   strlen(sum->interface));
		tx_printf(t, ", %s%llu dropped by the kernel, %llu by the interface%s\n",
			sum->dropped_kernel || sum->dropped_iface ? on(t, ANSI_YELLOW) : "",
			(unsigned long long)sum->dropped_kernel, (unsigned long long)sum->dropped_iface,
			sum->dropped_kernel || sum->dropped_iface ? off(t) : "");
	}
	if (sum->have_ts) {
		td_report_zone_local(sum->first_ts, zone);
		sfield(t, "time span", "%s - %s %s (%.3f s)", td_report_time_local(sum->first_ts, t1),
		       td_report_time_local(sum->last_ts, t2), zone,
		       td_report_ms(sum->first_ts, sum->last_ts) / 1000.0);
	}
	label_at(t, 2, VALUE_COL - 2, "decode");
	for (size_t i = 0; i < sizeof decode / sizeof decode[0]; i++) {
		uint64_t v;

		memcpy(&v, (const char *)sum + decode[i].off, sizeof v);
		if (!v && t->verbose == 0)
			continue;
		tx_printf(t, "%s%s %llu", any ? ", " : "", decode[i].name, (unsigned long long)v);
		any = true;
	}
	tx_puts(t, any ? "\n" : "nothing decoded\n");
	text_not_decoded(t, sum);
	text_defrag(t, &sum->defrag);

	label_at(t, 2, VALUE_COL - 2, "TLS connections");
	tx_printf(t, "%llu: ", (unsigned long long)sum->connections_tls);
	tx_printf(t, "%s%llu completed%s, ", on(t, ANSI_GREEN),
		(unsigned long long)sum->by_outcome[TD_OUTCOME_COMPLETED], off(t));
	tx_printf(t, "%s%llu failed%s, ",
		sum->by_outcome[TD_OUTCOME_FAILED] ? on(t, ANSI_RED) : "",
		(unsigned long long)sum->by_outcome[TD_OUTCOME_FAILED],
		sum->by_outcome[TD_OUTCOME_FAILED] ? off(t) : "");
	tx_printf(t, "%llu incomplete\n",
		(unsigned long long)sum->by_outcome[TD_OUTCOME_INCOMPLETE]);
	if (sum->connections_not_tls || t->verbose > 0)
		sfield(t, "other connections", "%llu not TLS",
		       (unsigned long long)sum->connections_not_tls);

	if (sum->alerts_total || t->verbose > 0) {
		struct alert_row rows[512];
		size_t n = 0;

		label_at(t, 2, VALUE_COL - 2, "alerts");
		tx_printf(t, "%llu", (unsigned long long)sum->alerts_total);
		if (sum->alerts_encrypted[0] || sum->alerts_encrypted[1] || t->verbose > 0)
			tx_printf(t, " (encrypted: client %llu, server %llu)",
				(unsigned long long)sum->alerts_encrypted[0],
				(unsigned long long)sum->alerts_encrypted[1]);
		tx_putc(t, '\n');
		for (int d = 0; d < 256; d++)
			for (int dir = 0; dir < 2; dir++)
				if (sum->alerts_by_desc_sender[d][dir])
					rows[n++] = (struct alert_row){ (uint8_t)d, (uint8_t)dir,
									sum->alerts_by_desc_sender[d][dir] };
		/* Most frequent first (a small insertion sort: at most 512). */
		for (size_t i = 1; i < n; i++) {
			struct alert_row r = rows[i];
			size_t j = i;

			for (; j > 0 && rows[j - 1].count < r.count; j--)
				rows[j] = rows[j - 1];
			rows[j] = r;
		}
		for (size_t i = 0; i < n; i++) {
			const char *name = td_names_alert(rows[i].desc);
			char unk[32];

			if (!name) {
				snprintf(unk, sizeof unk, "unknown (%u)", (unsigned)rows[i].desc);
				name = unk;
			}
			tx_printf(t, "%*s%-28s from %-6s %llu\n", VALUE_COL, "", name,
				td_dir_name(rows[i].dir), (unsigned long long)rows[i].count);
		}
	}
	findings_line(t, sum);
	sfield(t, "certificates", "%llu distinct (%llu parsed, %llu cache hits)",
	       (unsigned long long)sum->certs_distinct, (unsigned long long)sum->x509_parses,
	       (unsigned long long)sum->x509_hits);
	consistency_lines(t, sum);
	for (size_t i = 0; i < sum->n_keys; i++) {
		char line[600];
		if (sum->keys[i].certificates_matched)
			snprintf(line, sizeof line, "key %s matches %llu certificate%s", sum->keys[i].path,
				 (unsigned long long)sum->keys[i].certificates_matched,
				 sum->keys[i].certificates_matched == 1 ? "" : "s");
		else
			snprintf(line, sizeof line, "key %s matches no certificate in the capture",
				 sum->keys[i].path);
		label_at(t, 2, VALUE_COL - 2, i == 0 ? "--key" : "");
		tx_term(t, (const uint8_t *)line, strlen(line));
		tx_putc(t, '\n');
	}
	decryption_lines(t, sum);
	if (!sum->ndpi)
		sfield(t, "nDPI", "not run: flows not classified");
	if (sum->memory_peak || t->verbose > 0) {
		/* under a MiB in KiB: a small capture's table is a few KiB */
		bool kib = sum->memory_peak < (1 << 20);

		sfield(t, "memory held", "%.*f %s at most (cap %.0f MiB); certificate table %.0f KiB",
		       kib ? 0 : 1, (double)sum->memory_peak / (kib ? 1 << 10 : 1 << 20),
		       kib ? "KiB" : "MiB", (double)sum->memory_cap / (1 << 20),
		       (double)td_consistency_bytes(sum->consistency) / 1024);
	}
	if (sum->flows_evicted || t->verbose > 0)
		sfield(t, "flows evicted", "%llu (%llu for the memory cap, %llu with the table full)",
		       (unsigned long long)sum->flows_evicted,
		       (unsigned long long)sum->flows_evicted_memory,
		       (unsigned long long)(sum->flows_evicted - sum->flows_evicted_memory));
	if (sum->hs_too_big || t->verbose > 0)
		sfield(t, "handshake too big", "%llu messages skipped",
		       (unsigned long long)sum->hs_too_big);
	if (sum->desyncs || t->verbose > 0)
		sfield(t, "parser desyncs", "%llu", (unsigned long long)sum->desyncs);
	evidence_lines(t, sum);
	if (sum->stopped) {
		tx_printf(t, "%sWARNING: input not read to the end: ", on(t, ANSI_YELLOW));
		tx_term(t, (const uint8_t *)sum->stopped, strlen(sum->stopped));
		tx_printf(t, "%s\n", off(t));
	}
}

void td_report_summary(FILE *out, const struct td_report_opts *o, const struct td_summary *sum)
{
	char mem[TD_REPORT_BUF_LEN];
	struct td_report_buf b;
	struct tx t = { &b, o->color, o->verbose };

	if (o->json) {
		td_report_json_summary(out, sum);
		return;
	}
	td_report_buf_init(&b, out, mem, sizeof mem);
	text_summary(&t, sum);
	td_report_buf_end(&b);
}
