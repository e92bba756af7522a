/* fields.c - the field table of the rule language (td_rules_fields.h).
 *
 * One row per field: name, type, scope, meaning, accessor. The parser,
 * the evaluator, --list-fields and the man page's list all come from the
 * table `fields` below; adding a field is adding a row and its accessor.
 *
 * Accessors read the session only, and bound every count by its array
 * (a session's counts are facts from the wire, and the tests fill whole
 * sessions with random bytes). A fact the session does not have (no
 * ServerHello, no certificate, no --key) is "absent": comparisons with it
 * are neither true nor false (tlsdiag-rules(5), "Missing values").
 */
#include "td_rules_fields.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "td_chain.h"
#include "td_classify.h"
#include "td_decompress.h"
#include "td_decrypt.h"
#include "td_digest.h"
#include "td_names.h"
#include "td_starttls.h"
#include "td_x509.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* ---- enumerations ------------------------------------------------------ */

static const char *const dir_ids[] = { "client", "server" };
static const char *const level_ids[] = { [1] = "warning", [2] = "fatal" };
static const char *const outcome_ids[TD_OUTCOME_COUNT] = {
	[TD_OUTCOME_NOT_TLS] = "not_tls",
	[TD_OUTCOME_INCOMPLETE] = "incomplete",
	[TD_OUTCOME_FAILED] = "failed",
	[TD_OUTCOME_COMPLETED] = "completed",
};
static const char *const stage_ids[TD_STAGE_COUNT] = {
	[TD_STAGE_NONE] = "none",
	[TD_STAGE_CLIENT_HELLO] = "client_hello",
	[TD_STAGE_SERVER_HELLO] = "server_hello",
	[TD_STAGE_CERTIFICATE] = "certificate",
	[TD_STAGE_SERVER_HELLO_DONE] = "server_hello_done",
	[TD_STAGE_CLIENT_KEY_EXCHANGE] = "client_key_exchange",
	[TD_STAGE_CLIENT_FINISHED] = "client_finished",
	[TD_STAGE_SERVER_FINISHED] = "server_finished",
	[TD_STAGE_APPLICATION_DATA] = "application_data",
};
static const char *const phase_ids[TD_PHASE_COUNT] = {
	[TD_PHASE_BEFORE_SERVER_HELLO] = "before_server_hello",
	[TD_PHASE_SERVER_FLIGHT] = "server_flight",
	[TD_PHASE_AFTER_SERVER_FLIGHT] = "after_server_flight",
	[TD_PHASE_AFTER_CLIENT_FINISHED] = "after_client_finished",
	[TD_PHASE_APPLICATION] = "application",
};
static const char *phase_display(long c)
{
	return td_phase_name((enum td_phase)c);
}

static const char *stage_display(long c)
{
	return td_stage_name((enum td_stage)c);
}

static const char *alert_display(long c)
{
	return c >= 0 && c <= 255 ? td_names_alert((uint8_t)c) : NULL;
}

static long alert_lookup(const char *name)
{
	return td_names_alert_by_name(name);
}

/* The session module's names (td_session.h), as the enums' names. */
static const char *end_name(long c)
{
	return td_end_name((enum td_end)c);
}

static const char *abort_name(long c)
{
	return td_abort_name((enum td_abort_how)c);
}

static const char *decrypt_status_name(long c)
{
	return td_decrypt_status_name((enum td_decrypt_status)c);
}

static const char *finished_name(long c)
{
	return td_finished_check_name((enum td_finished_check)c);
}

static const char *dec_result_name(long c)
{
	return td_dec_result_name((enum td_dec_result)c);
}

#define IDS(a) .ids = (a), .n_ids = N_OF(a)
#define NAMED(fn, n) .name = (fn), .count = (n)
static const char *const resumption_ids[] = {
	[TD_RESUME_NONE] = "none", [TD_RESUME_SESSION_ID] = "session_id",
	[TD_RESUME_TICKET] = "ticket", [TD_RESUME_PSK] = "psk",
};
static const char *const ocsp_status_ids[] = {
	[TD_OCSP_GOOD] = "good", [TD_OCSP_REVOKED] = "revoked", [TD_OCSP_UNKNOWN] = "unknown",
};
static const struct rf_enum en_dir = { IDS(dir_ids) };
static const struct rf_enum en_resumption = { IDS(resumption_ids) };
static const struct rf_enum en_ocsp_status = { IDS(ocsp_status_ids) };
static const struct rf_enum en_level = { IDS(level_ids) };
static const struct rf_enum en_outcome = { IDS(outcome_ids) };
static const struct rf_enum en_end = { NAMED(end_name, TD_END_COUNT) };
static const struct rf_enum en_stage = { IDS(stage_ids), .display = stage_display };
static const struct rf_enum en_phase = { IDS(phase_ids), .display = phase_display };
static const struct rf_enum en_abort = { NAMED(abort_name, TD_ABORT_COUNT) };
static const struct rf_enum en_alert = { .lookup = alert_lookup, .display = alert_display };
static const struct rf_enum en_decrypt_status = { NAMED(decrypt_status_name,
							 TD_DECRYPT_STATUS_COUNT) };
static const struct rf_enum en_finished = { NAMED(finished_name, TD_FIN_CHECK_COUNT) };
static const struct rf_enum en_dec_result = { NAMED(dec_result_name, TD_DEC_FAILED + 1) };

long rf_enum_lookup(const struct rf_enum *e, const char *name)
{
	if (e->lookup)
		return e->lookup(name);
	for (long i = 0; !e->ids && e->name && i < e->count; i++)
		if (strcmp(e->name(i), name) == 0)
			return i;
	for (size_t i = 0; e->ids && i < e->n_ids; i++)
		if (e->ids[i] && strcmp(e->ids[i], name) == 0)
			return (long)i;
	return -1;
}

void rf_enum_names(const struct rf_enum *e, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	if (!e->ids && !e->name) {
		snprintf(buf, n, "the IANA names");
		return;
	}
	size_t count = e->ids ? e->n_ids : (size_t)e->count;
	for (size_t i = 0; i < count && used < n; i++) {
		const char *id = e->ids ? e->ids[i] : e->name((long)i);
		if (!id)
			continue;
		int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", id);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

const char *rf_enum_display(const struct rf_enum *e, long code)
{
	const char *s = NULL;

	if (e->display)
		s = e->display(code);
	else if (e->ids && code >= 0 && (size_t)code < e->n_ids)
		s = e->ids[code];
	else if (!e->ids && e->name)
		s = e->name(code);
	return s && strcmp(s, "?") != 0 ? s : NULL;
}

/* ---- literals ------------------------------------------------------------ */

long rf_version_parse(const char *s)
{
	static const struct {
		const char *name;
		long value;
	} versions[] = {
		{ "SSL2", 0x0002 },   { "SSL2.0", 0x0002 }, { "SSL3", 0x0300 },
		{ "SSL3.0", 0x0300 }, { "TLS1", 0x0301 },   { "TLS1.0", 0x0301 },
		{ "TLS1.1", 0x0302 }, { "TLS1.2", 0x0303 }, { "TLS1.3", 0x0304 },
	};
	char norm[16];
	size_t n = 0;

	/* drop one space or 'v' between the protocol and its number */
	for (size_t i = 0; s[i] && n < sizeof norm - 1; i++) {
		if (i == 3 && (s[i] == ' ' || s[i] == 'v' || s[i] == 'V'))
			continue;
		norm[n++] = s[i];
	}
	norm[n] = '\0';
	for (size_t i = 0; i < N_OF(versions); i++)
		if (strcasecmp(norm, versions[i].name) == 0 && strlen(s) < sizeof norm - 1)
			return versions[i].value;
	return -1;
}

bool rf_time_parse(const char *s, int64_t *out)
{
	struct tm tm;
	int len = 0;

	memset(&tm, 0, sizeof tm);
	if (strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
				       &len) == 3 && len == 10) {
	} else if (strlen(s) == 20 && sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year,
					      &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
					      &tm.tm_sec, &len) == 6 && len == 20) {
	} else {
		return false;
	}
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm);
	return true;
}

/* ---- accessor helpers --------------------------------------------------- */

#define GET(fn) static void fn(const struct rf_ctx *c, struct rf_value *v)
#define ELEM(fn) static void fn(const struct rf_ctx *c, size_t i, struct rf_value *v)
#define S (c->s)

static void num(struct rf_value *v, int64_t n)
{
	v->present = true;
	v->n = n;
}

static void str(struct rf_value *v, const void *p, size_t len)
{
	v->present = true;
	v->s = p;
	v->slen = len;
}

static void cstr(struct rf_value *v, const char *p)
{
	if (p)
		str(v, p, strlen(p));
}

/* A string made on the fly, into v->buf. */
static void fmt(struct rf_value *v, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void fmt(struct rf_value *v, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(v->buf, sizeof v->buf, f, ap);
	va_end(ap);
	cstr(v, v->buf);
}

static void hex(struct rf_value *v, const uint8_t *p, size_t n)
{
	cstr(v, td_hex(p, n, v->buf));
}

/* A NUL-terminated array member that may not be terminated (random
 * sessions in the tests): bounded by its size. */
static void carr(struct rf_value *v, const char *p, size_t size)
{
	size_t n = strnlen(p, size);
	if (n)
		str(v, p, n);
}

static const struct td_cert *cur_cert(const struct rf_ctx *c)
{
	unsigned i = c->idx[RF_CERT];
	if (i >= MIN(S->n_certs, TD_MAX_CHAIN) || !S->certs[i] || !S->certs[i]->parsed)
		return NULL;
	return S->certs[i];
}

static const struct td_alert *cur_alert(const struct rf_ctx *c)
{
	unsigned i = c->idx[RF_ALERT];
	return i < MIN(S->n_alerts, TD_MAX_ALERTS) ? &S->alerts[i] : NULL;
}

static const struct td_cipher_info *chosen_suite(const struct rf_ctx *c)
{
	return S->sh->seen ? td_names_cipher(S->sh->suite) : NULL;
}

/* The capture's time for a certificate's dates: what the chain checks
 * used, else the connection's first packet. */
static int64_t capture_time(const struct td_session *s)
{
	return s->chain->checked ? s->chain->at : s->first_ts.sec;
}

static void suite_name(struct rf_value *v, uint16_t id)
{
	const char *name = td_names_cipher_name(id);
	if (name)
		cstr(v, name);
	else
		fmt(v, "%s (0x%04x)", td_names_is_grease(id) ? "GREASE" : "unknown", id);
}

/* ---- connection ---------------------------------------------------------- */

GET(g_id) { num(v, (int64_t)S->id); }
GET(g_client_ip) { cstr(v, td_addr_str(&S->client, v->buf, sizeof v->buf)); }
GET(g_client_port) { num(v, S->client_port); }
GET(g_server_ip) { cstr(v, td_addr_str(&S->server, v->buf, sizeof v->buf)); }
GET(g_server_port) { num(v, S->server_port); }
GET(g_sni)
{
	if (S->ch->seen && S->ch->has_sni)
		str(v, S->ch->sni.bytes, MIN(S->ch->sni.len, TD_SNI_LEN));
}
GET(g_midstream) { num(v, S->midstream); }
/* [decrypt]: absent when no secrets were given (status off) */
GET(g_dec_status)
{
	if (S->dec.status != TD_DECRYPT_OFF)
		num(v, S->dec.status);
}
GET(g_dec_client_finished)
{
	if (S->dec.status != TD_DECRYPT_OFF)
		num(v, S->dec.finished[TD_DIR_C2S]);
}
GET(g_dec_server_finished)
{
	if (S->dec.status != TD_DECRYPT_OFF)
		num(v, S->dec.finished[TD_DIR_S2C]);
}
GET(g_dec_pms_wrong_key)
{
	bool wrong = false;
	if (S->dec.n_keys_tried == 0)
		return;
	for (unsigned i = 0; i < S->dec.n_keys_tried && i < TD_MAX_KEYS; i++)
		wrong |= S->dec.pms[i] == TD_PMS_WRONG_KEY;
	num(v, wrong);
}
GET(g_dec_pms_decrypted)
{
	if (S->dec.n_keys_tried)
		num(v, S->dec.key_index >= 0);
}
GET(g_dec_record_failed)
{
	if (S->dec.status != TD_DECRYPT_OFF)
		num(v, S->dec.failed);
}
GET(g_dec_failed_frame)
{
	if (S->dec.failed)
		num(v, S->dec.fail_frame);
}
GET(g_dec_failed_from)
{
	if (S->dec.failed)
		num(v, S->dec.fail_dir ? 1 : 0);
}
GET(g_dec_failed_what)
{
	if (S->dec.failed)
		num(v, S->dec.fail_what);
}
GET(g_one_sided) { num(v, td_session_one_sided(S)); }
/* a plain-text start: which protocol, and whether the client asked */
GET(g_starttls)
{
	if (S->starttls)
		cstr(v, td_starttls_name(S->starttls));
}
GET(g_starttls_asked)
{
	if (S->starttls)
		num(v, S->starttls_frame != 0);
}
GET(g_answered_plain) { num(v, S->plain->reply.frame != 0); }
GET(g_proxy_seen) { num(v, S->proxy->version != 0); }
GET(g_proxy_version)
{
	if (S->proxy->version)
		num(v, S->proxy->version);
}
GET(g_proxy_client_ip)
{
	if (S->proxy->version && S->proxy->client.family)
		cstr(v, td_addr_str(&S->proxy->client, v->buf, sizeof v->buf));
}
GET(g_proxy_client_port)
{
	if (S->proxy->version && S->proxy->client.family)
		num(v, S->proxy->client_port);
}
GET(g_plain_text)
{
	if (S->plain->reply.frame)
		str(v, S->plain->reply.text, td_plain_len(&S->plain->reply));
}
GET(g_plain_text_frame)
{
	if (S->plain->reply.frame)
		num(v, S->plain->reply.frame);
}
GET(g_greeting)
{
	if (S->plain->greeting.frame)
		str(v, S->plain->greeting.text, td_plain_len(&S->plain->greeting));
}
GET(g_outcome) { num(v, S->outcome); }
GET(g_stage) { num(v, S->stage); }
GET(g_end) { num(v, S->end); }
GET(g_end_by)
{
	if (S->end_by == 0 || S->end_by == 1)
		num(v, S->end_by);
}
GET(g_end_frame)
{
	if (S->end_by == 0 || S->end_by == 1)
		num(v, S->end_frame);
}
GET(g_aborted_by)
{
	if (S->aborted_by == 0 || S->aborted_by == 1)
		num(v, S->aborted_by);
}
GET(g_aborted_how) { num(v, S->aborted_how); }
GET(g_first_frame) { num(v, S->first_frame); }
GET(g_last_frame) { num(v, S->last_frame); }

/* ---- TLS ---------------------------------------------------------------- */

GET(g_version)
{
	uint16_t ver = td_session_version(S);
	if (S->sh->seen && ver)
		num(v, ver);
}
GET(g_completed) { num(v, td_session_handshake_complete(S)); }
GET(g_cipher)
{
	if (S->sh->seen)
		suite_name(v, S->sh->suite);
}
GET(g_kx)
{
	const struct td_cipher_info *ci = chosen_suite(c);
	if (ci)
		cstr(v, ci->kx);
}
GET(g_auth)
{
	const struct td_cipher_info *ci = chosen_suite(c);
	if (ci)
		cstr(v, ci->auth);
}
GET(g_enc)
{
	const struct td_cipher_info *ci = chosen_suite(c);
	if (ci)
		cstr(v, ci->enc);
}
GET(g_mac)
{
	const struct td_cipher_info *ci = chosen_suite(c);
	if (ci)
		cstr(v, ci->mac);
}
GET(g_resumed) { num(v, S->resumed); }
GET(g_resumption) { num(v, S->resumption); }
GET(g_full_hs_in_capture)
{
	if (S->resumed && S->full_handshake_in_capture >= 0)
		num(v, S->full_handshake_in_capture);
}
GET(g_ocsp_status)
{
	if (S->ocsp->seen && S->ocsp->parsed && S->ocsp->cert_status != TD_OCSP_NONE)
		num(v, S->ocsp->cert_status);
}
GET(g_reneg_secure)
{
	if (S->reneg_frame && (S->reneg_by == 0 || S->reneg_by == 1))
		num(v, td_session_reneg_secure(S));
}
GET(g_reneg_by)
{
	if (S->reneg_frame && (S->reneg_by == 0 || S->reneg_by == 1))
		num(v, S->reneg_by);
}
GET(g_hrr) { num(v, S->hrr_seen); }
GET(g_client_cert_requested) { num(v, S->client_cert_requested); }
GET(g_dhe_bits)
{
	if (S->ske_dh_bits)
		num(v, S->ske_dh_bits);
}

/* ---- ClientHello -------------------------------------------------------- */

GET(g_ch_seen) { num(v, S->ch->seen); }
GET(g_ch_frame)
{
	if (S->ch->seen)
		num(v, S->ch->frame);
}
GET(g_ch_version)
{
	if (S->ch->seen)
		num(v, S->ch->legacy_version);
}
GET(g_ch_versions)
{
	if (S->ch->seen)
		num(v, MIN(S->ch->n_versions, TD_MAX_VERSIONS));
}
ELEM(e_ch_versions) { num(v, S->ch->versions[i]); }
GET(g_ch_has_sni)
{
	if (S->ch->seen)
		num(v, S->ch->has_sni);
}
GET(g_ch_alpn)
{
	if (S->ch->seen)
		num(v, MIN(S->ch->alpn.n, TD_MAX_ALPN));
}
ELEM(e_ch_alpn) { str(v, S->ch->alpn.name[i], MIN(S->ch->alpn.len[i], TD_ALPN_LEN)); }
GET(g_ch_suites)
{
	if (S->ch->seen)
		num(v, MIN(S->ch->n_suites, TD_MAX_SUITES));
}
ELEM(e_ch_suites) { suite_name(v, S->ch->suites[i]); }
GET(g_ch_groups)
{
	if (S->ch->seen)
		num(v, MIN(S->ch->n_groups, TD_MAX_GROUPS));
}
ELEM(e_ch_groups)
{
	char b[TD_NAMES_FMT_LEN];
	fmt(v, "%s", td_names_fmt16(b, sizeof b, td_names_group, S->ch->groups[i]));
}
GET(g_ch_fallback)
{
	if (S->ch->seen)
		num(v, (S->ch->ext_flags & TD_EXT_SCSV_FALLBACK) != 0);
}
GET(g_ch_reneg)
{
	if (S->ch->seen)
		num(v, (S->ch->ext_flags &
			(TD_EXT_RENEGOTIATION_INFO | TD_EXT_SCSV_RENEGOTIATION)) != 0);
}
GET(g_ja3) { carr(v, S->ch->ja3, sizeof S->ch->ja3); }
GET(g_ja4) { carr(v, S->ch->ja4, sizeof S->ch->ja4); }

/* ---- ServerHello -------------------------------------------------------- */

GET(g_sh_seen) { num(v, S->sh->seen); }
GET(g_sh_frame)
{
	if (S->sh->seen)
		num(v, S->sh->frame);
}
GET(g_sh_alpn)
{
	if (S->sh->seen && S->sh->has_alpn)
		str(v, S->sh->alpn, MIN(S->sh->alpn_len, TD_ALPN_LEN));
}
GET(g_ja3s) { carr(v, S->sh->ja3s, sizeof S->sh->ja3s); }
GET(g_ja4s) { carr(v, S->sh->ja4s, sizeof S->sh->ja4s); }
GET(g_downgrade)
{
	if (S->sh->seen)
		num(v, S->sh->downgrade);
}
GET(g_sh_reneg)
{
	if (S->sh->seen)
		num(v, (S->sh->ext_flags & TD_EXT_RENEGOTIATION_INFO) != 0);
}
GET(g_sh_ems)
{
	if (S->sh->seen)
		num(v, (S->sh->ext_flags & TD_EXT_EMS) != 0);
}

/* ---- certificates and chain --------------------------------------------- */

GET(g_certs_count) { num(v, S->total_certs); }
GET(g_certs_encrypted) { num(v, S->certs_encrypted); }
GET(g_certs_compression)
{
	const char *name = td_cert_compression_name(S->cert_compression);
	if (!S->cert_compressed)
		return;
	if (name)
		cstr(v, name);
	else
		fmt(v, "unknown (%u)", (unsigned)S->cert_compression);
}
GET(g_keys_given) { num(v, S->keys_given); }

#define CHAIN_GET(fn, expr)                                                                  \
	GET(fn)                                                                              \
	{                                                                                    \
		if (S->chain->checked)                                                        \
			num(v, (expr));                                                      \
	}
CHAIN_GET(g_chain_order_ok, S->chain->order_ok)
CHAIN_GET(g_chain_missing, S->chain->missing_intermediate)
CHAIN_GET(g_chain_broken, S->chain->broken)
GET(g_chain_broken_at)
{
	if (S->chain->checked && S->chain->broken)
		num(v, S->chain->broken_at);
}
CHAIN_GET(g_chain_root_sent, S->chain->root_sent)
CHAIN_GET(g_chain_duplicates, S->chain->duplicates)
CHAIN_GET(g_chain_self_signed_leaf, S->chain->self_signed_leaf)
CHAIN_GET(g_chain_leaf_is_ca, S->chain->leaf_is_ca)
GET(g_chain_sni_match)
{
	if (S->chain->checked && S->chain->sni_match >= 0)
		num(v, S->chain->sni_match == 1);
}
GET(g_chain_ca_ok)
{
	if (S->chain->checked && S->chain->ca_checked)
		num(v, S->chain->ca_ok);
}
GET(g_chain_ca_verdict)
{
	if (S->chain->checked && S->chain->ca_checked)
		carr(v, S->chain->ca_verdict, sizeof S->chain->ca_verdict);
}
GET(g_chain_expected_match)
{
	if (S->chain->checked && S->chain->expected_checked)
		num(v, S->chain->expected_match);
}
GET(g_chain_expected_same_key)
{
	if (S->chain->checked && S->chain->expected_checked)
		num(v, S->chain->expected_same_key);
}
GET(g_chain_expected_file)
{
	if (S->chain->checked && S->chain->expected_checked)
		cstr(v, S->chain->expected_path);
}

/* Across connections (td_chain.h, td_sni_history): absent for the first
 * connection of a name, without SNI or leaf, or with the table full. */
#define HIST_GET(fn, stmt)                                                                   \
	GET(fn)                                                                              \
	{                                                                                    \
		const struct td_sni_history *h = &S->chain->sni_history;                      \
		if (S->chain->checked && h->known)                                            \
			stmt;                                                                \
	}
HIST_GET(g_hist_changed, num(v, h->changed))
HIST_GET(g_hist_key_changed, num(v, h->key_changed))
HIST_GET(g_hist_connections, num(v, (int64_t)MIN(h->earlier_connections, (uint64_t)INT64_MAX)))
HIST_GET(g_hist_leaves, num(v, h->earlier_leaves))
HIST_GET(g_hist_sha256, hex(v, h->earlier.sha256, 32))
HIST_GET(g_hist_spki, hex(v, h->earlier.spki_sha256, 32))
HIST_GET(g_hist_count, num(v, (int64_t)MIN(h->earlier.connections, (uint64_t)INT64_MAX)))
HIST_GET(g_hist_first_conn, num(v, (int64_t)MIN(h->earlier.first_connection, (uint64_t)INT64_MAX)))
HIST_GET(g_hist_first_frame, num(v, h->earlier.first_frame))

GET(g_cert_index)
{
	if (cur_cert(c))
		num(v, c->idx[RF_CERT]);
}
GET(g_cert_frame)
{
	if (cur_cert(c))
		num(v, S->cert_frame);
}
GET(g_cert_parsed)
{
	unsigned i = c->idx[RF_CERT];
	if (i < MIN(S->n_certs, TD_MAX_CHAIN) && S->certs[i])
		num(v, S->certs[i]->parsed);
}

#define CERT_GET(fn, stmt)                                                                   \
	GET(fn)                                                                              \
	{                                                                                    \
		const struct td_cert *x = cur_cert(c);                                       \
		if (x)                                                                       \
			stmt;                                                                \
	}
CERT_GET(g_cert_subject, cstr(v, x->subject))
CERT_GET(g_cert_issuer, cstr(v, x->issuer))
CERT_GET(g_cert_serial, cstr(v, x->serial_hex))
CERT_GET(g_cert_sans, num(v, (int64_t)x->n_sans))
CERT_GET(g_cert_not_before, num(v, x->not_before))
CERT_GET(g_cert_not_after, num(v, x->not_after))
CERT_GET(g_cert_days_left, num(v, (x->not_after - capture_time(S)) / 86400))
CERT_GET(g_cert_validity_days, num(v, (x->not_after - x->not_before) / 86400))
CERT_GET(g_cert_expired, num(v, x->not_after < capture_time(S)))
CERT_GET(g_cert_not_yet_valid, num(v, x->not_before > capture_time(S)))
CERT_GET(g_cert_self_signed, num(v, x->self_signed))
CERT_GET(g_cert_is_ca, num(v, x->ext.has_basic_constraints && x->ext.is_ca))
CERT_GET(g_cert_key_alg, carr(v, x->key.algorithm, sizeof x->key.algorithm))
CERT_GET(g_cert_key_bits, num(v, x->key.bits))
CERT_GET(g_cert_key_curve, carr(v, x->key.curve, sizeof x->key.curve))
CERT_GET(g_cert_sig_alg, carr(v, x->sig_alg, sizeof x->sig_alg))
CERT_GET(g_cert_spki, hex(v, x->key.spki_sha256, 32))
CERT_GET(g_cert_sha256, hex(v, x->sha256, 32))
CERT_GET(g_cert_key_match,
	 if (S->keys_given) num(v, td_session_cert_key(S, c->idx[RF_CERT]) != NULL))
CERT_GET(g_cert_key_file, cstr(v, td_session_cert_key(S, c->idx[RF_CERT])))
ELEM(e_cert_sans)
{
	const struct td_cert *x = cur_cert(c);
	if (x && i < x->n_sans)
		cstr(v, x->sans[i]);
}

/* ---- alerts --------------------------------------------------------------- */

/* One sentence per alert, from RFC 8446 §6 (and RFC 5246 §7.2.2, RFC 6066,
 * RFC 7301, RFC 7507 for the others): what the sender is saying. */
static const struct {
	uint8_t desc;
	const char *meaning;
} alert_meanings[] = {
	{ 0, "the sender closes the connection" },
	{ 10, "a message arrived that the sender did not expect at this point" },
	{ 20, "a record failed its integrity check: wrong keys or altered data" },
	{ 21, "a record could not be decrypted (TLS 1.0)" },
	{ 22, "a record was longer than allowed" },
	{ 30, "decompression failed" },
	{ 40, "no set of parameters both sides support (versions, suites, groups)" },
	{ 41, "no certificate (SSL 3.0)" },
	{ 42, "a certificate was corrupt or its signature did not verify" },
	{ 43, "a certificate of an unsupported type" },
	{ 44, "a certificate was revoked by its signer" },
	{ 45, "a certificate has expired or is not yet valid" },
	{ 46, "a certificate was rejected for another reason" },
	{ 47, "a field in the handshake was out of range or inconsistent" },
	{ 48, "the certificate chain does not lead to a trusted CA" },
	{ 49, "the peer is not allowed to go on (access control)" },
	{ 50, "a message could not be decoded" },
	{ 51, "a handshake signature or Finished did not verify" },
	{ 60, "export restriction (obsolete)" },
	{ 70, "the protocol version offered is not supported" },
	{ 71, "the peer requires more secure parameters than offered" },
	{ 80, "the sender failed for a reason of its own (not the peer's fault)" },
	{ 86, "a fallback to a lower version was refused (RFC 7507)" },
	{ 90, "the user cancelled the handshake" },
	{ 100, "renegotiation was refused" },
	{ 109, "a required extension was missing" },
	{ 110, "an extension was not allowed in this message" },
	{ 111, "a certificate could not be fetched from its URL" },
	{ 112, "the server has no certificate for the name asked (SNI)" },
	{ 113, "the OCSP response was invalid" },
	{ 114, "a certificate hash did not match" },
	{ 115, "the PSK identity is unknown" },
	{ 116, "the server requires a client certificate" },
	{ 117, "the sender failed for a reason it does not say" },
	{ 120, "no application protocol (ALPN) in common" },
	{ 121, "the server requires Encrypted Client Hello" },
};

GET(g_alerts_count) { num(v, S->total_alerts); }

#define ALERT_GET(fn, stmt)                                                                  \
	GET(fn)                                                                              \
	{                                                                                    \
		const struct td_alert *a = cur_alert(c);                                     \
		if (a)                                                                       \
			stmt;                                                                \
	}
ALERT_GET(g_alert_from, num(v, a->dir))
ALERT_GET(g_alert_level, if (!a->encrypted) num(v, a->level))
ALERT_GET(g_alert_desc, if (!a->encrypted) num(v, a->desc))
ALERT_GET(g_alert_encrypted, num(v, a->encrypted))
ALERT_GET(g_alert_probable, num(v, a->probable))
ALERT_GET(g_alert_decrypted, num(v, a->decrypted))
ALERT_GET(g_alert_phase, num(v, a->phase))
ALERT_GET(g_alert_frame, num(v, a->frame))
ALERT_GET(g_alert_aborting, num(v, td_session_aborting_alert(S) == a))
GET(g_alert_meaning)
{
	const struct td_alert *a = cur_alert(c);

	if (!a || a->encrypted)
		return;
	for (size_t i = 0; i < N_OF(alert_meanings); i++)
		if (alert_meanings[i].desc == a->desc)
			cstr(v, alert_meanings[i].meaning);
	if (!v->present)
		cstr(v, "an alert that tlsdiag has no description of");
}

/* ---- offered cipher suites --------------------------------------------- */

static const struct td_cipher_info *cur_suite(const struct rf_ctx *c)
{
	unsigned i = c->idx[RF_SUITE];
	return i < MIN(S->ch->n_suites, TD_MAX_SUITES) ? td_names_cipher(S->ch->suites[i]) : NULL;
}

GET(g_suite_name)
{
	unsigned i = c->idx[RF_SUITE];
	if (i < MIN(S->ch->n_suites, TD_MAX_SUITES))
		suite_name(v, S->ch->suites[i]);
}
GET(g_suite_value)
{
	unsigned i = c->idx[RF_SUITE];
	if (i < MIN(S->ch->n_suites, TD_MAX_SUITES))
		num(v, S->ch->suites[i]);
}
#define SUITE_GET(fn, member)                                                                \
	GET(fn)                                                                              \
	{                                                                                    \
		const struct td_cipher_info *ci = cur_suite(c);                              \
		if (ci)                                                                      \
			cstr(v, ci->member);                                                 \
	}
SUITE_GET(g_suite_kx, kx)
SUITE_GET(g_suite_auth, auth)
SUITE_GET(g_suite_enc, enc)
SUITE_GET(g_suite_mac, mac)

/* ---- TCP and nDPI ------------------------------------------------------- */

GET(g_tcp_retrans) { num(v, (int64_t)S->tcp.retransmissions[0] + S->tcp.retransmissions[1]); }
GET(g_tcp_ooo) { num(v, (int64_t)S->tcp.out_of_order[0] + S->tcp.out_of_order[1]); }
GET(g_tcp_gaps) { num(v, (int64_t)S->tcp.gaps[0] + S->tcp.gaps[1]); }
GET(g_tcp_missing)
{
	uint64_t m = S->tcp.bytes_missing[0] + S->tcp.bytes_missing[1];
	num(v, m > INT64_MAX ? INT64_MAX : (int64_t)m);
}
GET(g_tcp_overlaps) { num(v, S->tcp.overlaps_differ); }
GET(g_tcp_zero_win) { num(v, (int64_t)S->tcp.zero_windows[0] + S->tcp.zero_windows[1]); }

/* nDPI risk bits set, the i-th of them. */
static int risk_bit(const struct td_session *s, size_t i)
{
	for (int b = 0; b < 64; b++)
		if ((s->ndpi.risks >> b) & 1 && td_classify_risk_name((unsigned)b) && i-- == 0)
			return b;
	return -1;
}

static size_t risk_count(const struct td_session *s)
{
	size_t n = 0;
	while (s->ndpi.done && risk_bit(s, n) >= 0)
		n++;
	return n;
}

GET(g_ndpi_protocol)
{
	if (S->ndpi.done)
		carr(v, S->ndpi.protocol, sizeof S->ndpi.protocol);
}
GET(g_ndpi_category)
{
	if (S->ndpi.done)
		carr(v, S->ndpi.category, sizeof S->ndpi.category);
}
GET(g_ndpi_risks)
{
	if (S->ndpi.done)
		num(v, (int64_t)risk_count(S));
}
ELEM(e_ndpi_risks) { cstr(v, td_classify_risk_name((unsigned)risk_bit(S, i))); }
GET(g_risk_name)
{
	int b = risk_bit(S, c->idx[RF_RISK]);
	if (b >= 0)
		cstr(v, td_classify_risk_name((unsigned)b));
}
GET(g_risk_id)
{
	int b = risk_bit(S, c->idx[RF_RISK]);
	if (b >= 0)
		num(v, b);
}

/* ---- the table ----------------------------------------------------------- */

#define F(name, type, scope, en, get, elem, meaning) { name, type, scope, en, meaning, get, elem }
#define SF(name, type, get, meaning) F(name, type, RF_SESSION, NULL, get, NULL, meaning)
#define SE(name, en, get, meaning) F(name, RF_ENUM, RF_SESSION, en, get, NULL, meaning)
#define CF(name, type, get, meaning) F(name, type, RF_CERT, NULL, get, NULL, meaning)
#define AF(name, type, en, get, meaning) F(name, type, RF_ALERT, en, get, NULL, meaning)

static const struct rf_field fields[] = {
	SF("connection.id", RF_NUM, g_id, "connection number (1, 2, ... by first packet)"),
	SF("client.ip", RF_STR, g_client_ip, "client address"),
	SF("client.port", RF_NUM, g_client_port, "client TCP port"),
	SF("server.ip", RF_STR, g_server_ip, "server address"),
	SF("server.port", RF_NUM, g_server_port, "server TCP port"),
	SF("server.sni", RF_STR, g_sni, "server name the client asked for (SNI); absent without"),
	SF("server.answered_plain_text", RF_BOOL, g_answered_plain,
	   "the server sent a line of plain text where its first TLS record was due"),
	SF("server.plain_text", RF_STR, g_plain_text,
	   "the server's first line of plain text where its first TLS record was due "
	   "(an HTTP, SMTP, SSH... server); absent when none"),
	SF("server.plain_text_frame", RF_NUM, g_plain_text_frame, "frame of that line"),
	SF("server.greeting", RF_STR, g_greeting,
	   "the server's plain-text greeting (SMTP, FTP, IMAP, POP3), kept when the client then "
	   "began TLS without asking; absent otherwise"),
	SF("proxy.seen", RF_BOOL, g_proxy_seen,
	   "a PROXY protocol header came before the client's bytes (a load balancer's)"),
	SF("proxy.version", RF_NUM, g_proxy_version,
	   "a PROXY protocol header came before the client's bytes: its version (1, 2); absent "
	   "without one"),
	SF("proxy.client_ip", RF_STR, g_proxy_client_ip,
	   "the client's own address the PROXY header gives; absent without one"),
	SF("proxy.client_port", RF_NUM, g_proxy_client_port, "the client's own port it gives"),
	SF("connection.starttls", RF_STR, g_starttls,
	   "plain-text protocol before TLS: SMTP, FTP, IMAP, POP3, XMPP, LDAP, PostgreSQL, ...; "
	   "absent when TLS began at once"),
	SF("connection.starttls_asked", RF_BOOL, g_starttls_asked,
	   "the client asked for TLS (STARTTLS, AUTH TLS, ...) and the server agreed; false when "
	   "the client began TLS without asking; absent without a plain-text start"),
	SF("connection.midstream", RF_BOOL, g_midstream, "picked up after it began (no SYN)"),
	SF("connection.one_sided", RF_BOOL, g_one_sided, "packets seen in one direction only"),
	SE("connection.outcome", &en_outcome, g_outcome, "completed, failed, incomplete"),
	SE("connection.stage", &en_stage, g_stage, "last handshake stage reached (ordered)"),
	SE("connection.end", &en_end, g_end, "how it ended: open, fin, rst, idle, evicted"),
	SE("connection.end_by", &en_dir, g_end_by, "who sent the first FIN or RST"),
	SF("connection.end_frame", RF_NUM, g_end_frame, "frame of the first FIN or RST"),
	SE("connection.aborted_by", &en_dir, g_aborted_by, "who ended a failed handshake"),
	SE("connection.aborted_how", &en_abort, g_aborted_how,
	   "how a failed handshake ended: alert, rst, fin, silence, none"),
	SF("connection.first_frame", RF_NUM, g_first_frame, "frame of the first packet"),
	SF("connection.last_frame", RF_NUM, g_last_frame, "frame of the last packet"),
	SF("tls.version", RF_VERSION, g_version, "negotiated version; absent without ServerHello"),
	SE("decrypt.status", &en_decrypt_status, g_dec_status,
	   "decrypted, no_secrets, dhe_needs_keylog, pms_not_decrypted, ...; absent without "
	   "--keylog/--key"),
	SE("decrypt.client_finished", &en_finished, g_dec_client_finished,
	   "the client's Finished: verified, mismatch, unreadable, no_keys, not_seen, ..."),
	SE("decrypt.server_finished", &en_finished, g_dec_server_finished,
	   "the server's Finished, as decrypt.client_finished"),
	SF("decrypt.pms_wrong_key", RF_BOOL, g_dec_pms_wrong_key,
	   "a --key failed the PKCS#1 padding check on the RSA pre-master secret"),
	SF("decrypt.pms_decrypted", RF_BOOL, g_dec_pms_decrypted,
	   "a --key decrypted the RSA pre-master secret"),
	SF("decrypt.record_failed", RF_BOOL, g_dec_record_failed,
	   "a protected record failed its tag, MAC or padding check"),
	SF("decrypt.failed_frame", RF_NUM, g_dec_failed_frame, "frame of the first record that failed"),
	SE("decrypt.failed_from", &en_dir, g_dec_failed_from, "sender of the first record that failed"),
	SE("decrypt.failed_what", &en_dec_result, g_dec_failed_what,
	   "what failed: bad_tag, bad_mac, bad_padding, short, no_type, failed"),
	SF("tls.completed", RF_BOOL, g_completed, "the handshake completed (Finished seen)"),
	SF("tls.cipher", RF_STR, g_cipher, "chosen cipher suite (IANA name)"),
	SF("tls.kx", RF_STR, g_kx, "key exchange of the chosen suite: RSA, ECDHE, DHE, any (1.3)"),
	SF("tls.auth", RF_STR, g_auth, "authentication of the chosen suite: RSA, ECDSA, anon"),
	SF("tls.enc", RF_STR, g_enc, "encryption of the chosen suite: AES_128_GCM, RC4_128"),
	SF("tls.mac", RF_STR, g_mac, "MAC of the chosen suite: SHA256, SHA, MD5"),
	SF("tls.resumed", RF_BOOL, g_resumed, "abbreviated handshake or TLS 1.3 PSK"),
	SE("tls.resumption", &en_resumption, g_resumption,
	   "how the session was resumed: none, session_id, ticket, psk"),
	SF("tls.full_handshake_in_capture", RF_BOOL, g_full_hs_in_capture,
	   "resumed: an earlier connection of the capture issued the session ID or ticket; "
	   "absent when not resumed or when it cannot be told (TLS 1.3 tickets not decrypted)"),
	SE("tls.ocsp_status", &en_ocsp_status, g_ocsp_status,
	   "the stapled OCSP response's certificate status: good, revoked, unknown; absent "
	   "without a staple that decodes"),
	SF("tls.renegotiation_secure", RF_BOOL, g_reneg_secure,
	   "the renegotiation was secure (RFC 5746); absent without one"),
	SF("tls.hrr", RF_BOOL, g_hrr, "a HelloRetryRequest came first"),
	SE("tls.renegotiation_by", &en_dir, g_reneg_by,
	   "who started a renegotiation (TLS <= 1.2); absent without one"),
	SF("tls.client_cert_requested", RF_BOOL, g_client_cert_requested,
	   "the server sent a CertificateRequest"),
	SF("tls.dhe_bits", RF_NUM, g_dhe_bits, "size of the DHE prime (ServerKeyExchange)"),
	SF("client_hello.seen", RF_BOOL, g_ch_seen, "a ClientHello was seen"),
	SF("client_hello.frame", RF_NUM, g_ch_frame, "frame of the ClientHello"),
	SF("client_hello.version", RF_VERSION, g_ch_version, "ClientHello legacy_version"),
	F("client_hello.versions", RF_LIST_VERSION, RF_SESSION, NULL, g_ch_versions,
	  e_ch_versions, "supported_versions offered"),
	SF("client_hello.has_sni", RF_BOOL, g_ch_has_sni, "the ClientHello carries an SNI"),
	F("client_hello.alpn", RF_LIST_STR, RF_SESSION, NULL, g_ch_alpn, e_ch_alpn,
	  "ALPN protocols offered"),
	F("client_hello.suites", RF_LIST_STR, RF_SESSION, NULL, g_ch_suites, e_ch_suites,
	  "cipher suites offered (IANA names)"),
	F("client_hello.groups", RF_LIST_STR, RF_SESSION, NULL, g_ch_groups, e_ch_groups,
	  "groups offered (IANA names)"),
	SF("client_hello.fallback_scsv", RF_BOOL, g_ch_fallback, "TLS_FALLBACK_SCSV offered"),
	SF("client_hello.renegotiation_info", RF_BOOL, g_ch_reneg,
	   "renegotiation_info or its SCSV offered (RFC 5746)"),
	SF("client_hello.ja3", RF_STR, g_ja3, "JA3 fingerprint (MD5 hex)"),
	SF("client_hello.ja4", RF_STR, g_ja4, "JA4 fingerprint"),
	SF("server_hello.seen", RF_BOOL, g_sh_seen, "a ServerHello was seen"),
	SF("server_hello.frame", RF_NUM, g_sh_frame, "frame of the ServerHello"),
	SF("server_hello.alpn", RF_STR, g_sh_alpn, "ALPN protocol chosen"),
	SF("server_hello.ja3s", RF_STR, g_ja3s, "JA3S fingerprint (MD5 hex)"),
	SF("server_hello.ja4s", RF_STR, g_ja4s, "JA4S fingerprint"),
	SF("server_hello.downgrade", RF_NUM, g_downgrade,
	   "RFC 8446 downgrade sentinel: 0 none, 11 TLS 1.1 or below, 12 TLS 1.2"),
	SF("server_hello.renegotiation_info", RF_BOOL, g_sh_reneg,
	   "the server sent renegotiation_info (RFC 5746 secure renegotiation)"),
	SF("server_hello.ems", RF_BOOL, g_sh_ems, "extended master secret accepted (RFC 7627)"),
	SF("certs.count", RF_NUM, g_certs_count, "certificates the server sent"),
	SF("certs.encrypted", RF_BOOL, g_certs_encrypted, "the Certificate is encrypted (TLS 1.3)"),
	SF("certs.compression", RF_STR, g_certs_compression,
	   "RFC 8879 algorithm of a CompressedCertificate (zlib, brotli, zstd, unknown (N)); "
	   "absent when the chain came as is"),
	SF("keys.given", RF_BOOL, g_keys_given, "--key files were given"),
	SF("chain.order_ok", RF_BOOL, g_chain_order_ok, "each certificate signed by the next one"),
	SF("chain.missing_intermediate", RF_BOOL, g_chain_missing,
	   "the issuer of the top certificate sent was not sent"),
	SF("chain.broken", RF_BOOL, g_chain_broken,
	   "a certificate after the leaf certifies none of the chain (wrong intermediate)"),
	SF("chain.broken_at", RF_NUM, g_chain_broken_at,
	   "position of the first such certificate; absent when not broken"),
	SF("chain.root_sent", RF_BOOL, g_chain_root_sent,
	   "a self-signed certificate after the leaf"),
	SF("chain.duplicates", RF_NUM, g_chain_duplicates, "certificates sent twice"),
	SF("chain.self_signed_leaf", RF_BOOL, g_chain_self_signed_leaf, "the leaf is self-signed"),
	SF("chain.leaf_is_ca", RF_BOOL, g_chain_leaf_is_ca, "the leaf is marked CA"),
	SF("chain.sni_match", RF_BOOL, g_chain_sni_match,
	   "the leaf is valid for the SNI; absent without SNI"),
	SF("chain.ca_ok", RF_BOOL, g_chain_ca_ok, "the chain verifies against --ca"),
	SF("chain.ca_verdict", RF_STR, g_chain_ca_verdict, "libcrypto's verdict against --ca"),
	SF("chain.expected_match", RF_BOOL, g_chain_expected_match, "the leaf is a --cert"),
	SF("chain.expected_same_key", RF_BOOL, g_chain_expected_same_key,
	   "not a --cert, but the same public key as one"),
	SF("chain.expected_file", RF_STR, g_chain_expected_file,
	   "the --cert matched, or the closest one"),
	SF("sni_history.changed", RF_BOOL, g_hist_changed,
	   "the leaf is none of those earlier connections with the same SNI presented; absent "
	   "for the first connection of a name"),
	SF("sni_history.key_changed", RF_BOOL, g_hist_key_changed,
	   "and its public key is none of theirs either"),
	SF("sni_history.earlier_connections", RF_NUM, g_hist_connections,
	   "earlier connections with the same SNI and a certificate"),
	SF("sni_history.earlier_certificates", RF_NUM, g_hist_leaves,
	   "distinct leaf certificates they presented"),
	SF("sni_history.earlier_sha256", RF_STR, g_hist_sha256,
	   "SHA-256 of the leaf most of them presented"),
	SF("sni_history.earlier_spki_sha256", RF_STR, g_hist_spki, "its public key's SHA-256"),
	SF("sni_history.earlier_count", RF_NUM, g_hist_count, "connections that presented it"),
	SF("sni_history.earlier_first_connection", RF_NUM, g_hist_first_conn,
	   "the first connection that presented it (connection.id)"),
	SF("sni_history.earlier_first_frame", RF_NUM, g_hist_first_frame,
	   "frame of that connection's Certificate message"),
	CF("cert.index", RF_NUM, g_cert_index, "position in the chain (0: leaf)"),
	CF("cert.frame", RF_NUM, g_cert_frame, "frame of the Certificate message"),
	CF("cert.parsed", RF_BOOL, g_cert_parsed, "libcrypto parsed it"),
	CF("cert.subject", RF_STR, g_cert_subject, "subject (RFC 2253)"),
	CF("cert.issuer", RF_STR, g_cert_issuer, "issuer (RFC 2253)"),
	CF("cert.serial", RF_STR, g_cert_serial, "serial number (upper-case hex)"),
	F("cert.sans", RF_LIST_STR, RF_CERT, NULL, g_cert_sans, e_cert_sans,
	  "subjectAltName entries (DNS:name, IP:addr, ...)"),
	CF("cert.not_before", RF_TIME, g_cert_not_before, "start of validity"),
	CF("cert.not_after", RF_TIME, g_cert_not_after, "end of validity"),
	CF("cert.days_left", RF_NUM, g_cert_days_left, "days from the capture to not_after"),
	CF("cert.validity_days", RF_NUM, g_cert_validity_days,
	   "whole days from not_before to not_after"),
	CF("cert.expired", RF_BOOL, g_cert_expired, "not_after before the capture"),
	CF("cert.not_yet_valid", RF_BOOL, g_cert_not_yet_valid, "not_before after the capture"),
	CF("cert.self_signed", RF_BOOL, g_cert_self_signed, "signed by its own key"),
	CF("cert.is_ca", RF_BOOL, g_cert_is_ca, "basicConstraints cA"),
	CF("cert.key.algorithm", RF_STR, g_cert_key_alg, "RSA, RSA-PSS, EC, Ed25519, Ed448, DSA"),
	CF("cert.key.bits", RF_NUM, g_cert_key_bits, "public key size in bits"),
	CF("cert.key.curve", RF_STR, g_cert_key_curve, "EC curve (OpenSSL name: prime256v1)"),
	CF("cert.sig_alg", RF_STR, g_cert_sig_alg, "signature algorithm: sha256WithRSAEncryption"),
	CF("cert.spki_sha256", RF_STR, g_cert_spki, "SHA-256 of the public key (hex)"),
	CF("cert.sha256", RF_STR, g_cert_sha256, "SHA-256 fingerprint (hex)"),
	CF("cert.key_match", RF_BOOL, g_cert_key_match, "a --key matches its public key"),
	CF("cert.key_file", RF_STR, g_cert_key_file, "the --key file that matches"),
	SF("alerts.count", RF_NUM, g_alerts_count, "alerts seen"),
	AF("alert.from", RF_ENUM, &en_dir, g_alert_from, "sender: client or server"),
	AF("alert.level", RF_ENUM, &en_level, g_alert_level, "warning or fatal; absent encrypted"),
	AF("alert.description", RF_ENUM, &en_alert, g_alert_desc,
	   "AlertDescription (IANA name); absent encrypted"),
	AF("alert.meaning", RF_STR, NULL, g_alert_meaning, "what the alert says, in words"),
	AF("alert.encrypted", RF_BOOL, NULL, g_alert_encrypted, "sent under encryption"),
	AF("alert.decrypted", RF_BOOL, NULL, g_alert_decrypted,
	   "sent under encryption and read with the secrets given"),
	AF("alert.probable", RF_BOOL, NULL, g_alert_probable,
	   "TLS 1.3: a record of alert size, probably an alert"),
	AF("alert.phase", RF_ENUM, &en_phase, g_alert_phase, "point of the handshake (ordered)"),
	AF("alert.frame", RF_NUM, NULL, g_alert_frame, "frame of the alert"),
	AF("alert.aborting", RF_BOOL, NULL, g_alert_aborting, "the alert that ended the handshake"),
	F("suite.name", RF_STR, RF_SUITE, NULL, g_suite_name, NULL, "cipher suite (IANA name)"),
	F("suite.value", RF_NUM, RF_SUITE, NULL, g_suite_value, NULL, "its two-byte value"),
	F("suite.kx", RF_STR, RF_SUITE, NULL, g_suite_kx, NULL, "its key exchange"),
	F("suite.auth", RF_STR, RF_SUITE, NULL, g_suite_auth, NULL, "its authentication"),
	F("suite.enc", RF_STR, RF_SUITE, NULL, g_suite_enc, NULL, "its encryption"),
	F("suite.mac", RF_STR, RF_SUITE, NULL, g_suite_mac, NULL, "its MAC"),
	SF("tcp.retransmissions", RF_NUM, g_tcp_retrans, "retransmitted segments"),
	SF("tcp.out_of_order", RF_NUM, g_tcp_ooo, "segments out of order"),
	SF("tcp.gaps", RF_NUM, g_tcp_gaps, "holes in the streams"),
	SF("tcp.bytes_missing", RF_NUM, g_tcp_missing, "bytes never captured"),
	SF("tcp.overlaps_differ", RF_NUM, g_tcp_overlaps, "overlapping segments with other data"),
	SF("tcp.zero_windows", RF_NUM, g_tcp_zero_win, "zero-window advertisements"),
	SF("ndpi.protocol", RF_STR, g_ndpi_protocol, "nDPI's protocol (TLS.Google)"),
	SF("ndpi.category", RF_STR, g_ndpi_category, "nDPI's category (Web)"),
	F("ndpi.risks", RF_LIST_STR, RF_SESSION, NULL, g_ndpi_risks, e_ndpi_risks,
	  "nDPI flow risks (names)"),
	F("risk.name", RF_STR, RF_RISK, NULL, g_risk_name, NULL, "nDPI risk name"),
	F("risk.id", RF_NUM, RF_RISK, NULL, g_risk_id, NULL, "nDPI risk number"),
};

static size_t cert_count(const struct td_session *s)
{
	return MIN(s->n_certs, TD_MAX_CHAIN);
}

static uint32_t cert_frame(const struct td_session *s, size_t i)
{
	(void)i;
	return s->cert_frame;
}

static size_t alert_count(const struct td_session *s)
{
	return MIN(s->n_alerts, TD_MAX_ALERTS);
}

static uint32_t alert_frame(const struct td_session *s, size_t i)
{
	return s->alerts[i].frame;
}

static size_t suite_count(const struct td_session *s)
{
	return s->ch->seen ? MIN(s->ch->n_suites, TD_MAX_SUITES) : 0;
}

static uint32_t suite_frame(const struct td_session *s, size_t i)
{
	(void)i;
	return s->ch->frame;
}

static uint32_t risk_frame(const struct td_session *s, size_t i)
{
	(void)s;
	(void)i;
	return 0;
}

static const struct rf_domain domains[] = {
	{ "cert", RF_CERT, "the server's certificates, leaf first", cert_count, cert_frame },
	{ "alert", RF_ALERT, "the alerts, both directions, in order", alert_count, alert_frame },
	{ "suite", RF_SUITE, "the cipher suites the client offered", suite_count, suite_frame },
	{ "risk", RF_RISK, "nDPI's flow risks", risk_count, risk_frame },
};

size_t rf_field_count(void)
{
	return N_OF(fields);
}

const struct rf_field *rf_field_at(size_t i)
{
	return i < N_OF(fields) ? &fields[i] : NULL;
}

const struct rf_field *rf_field_find(const char *name)
{
	for (size_t i = 0; i < N_OF(fields); i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

const struct rf_domain *rf_domain_find(const char *name)
{
	for (size_t i = 0; i < N_OF(domains); i++)
		if (strcmp(domains[i].name, name) == 0)
			return &domains[i];
	return NULL;
}

const struct rf_domain *rf_domain_at(size_t i)
{
	return i < N_OF(domains) ? &domains[i] : NULL;
}

const struct rf_domain *rf_domain_of(unsigned scope)
{
	for (size_t i = 0; i < N_OF(domains); i++)
		if (domains[i].scope == scope)
			return &domains[i];
	return NULL;
}

const char *rf_type_name(unsigned type)
{
	static const char *const names[RF_TYPE_COUNT] = {
		[RF_BOOL] = "bool",   [RF_NUM] = "number",         [RF_STR] = "string",
		[RF_VERSION] = "version", [RF_TIME] = "time",      [RF_ENUM] = "enum",
		[RF_LIST_STR] = "list of strings", [RF_LIST_VERSION] = "list of versions",
	};
	return type < RF_TYPE_COUNT ? names[type] : "?";
}
