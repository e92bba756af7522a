/* report_json.c - the JSON Lines report, schema_version 1 (td_report.h).
 *
 * One object per connection mirroring struct td_session, and a summary
 * object last. Builders return NULL only when jansson runs out of memory;
 * a NULL member value makes json_object_set_new() fail and the object is
 * then incomplete, which the writer reports by writing nothing for it
 * rather than a line that breaks the schema.
 */
#include <stdlib.h>
#include <string.h>

#include "td_decode.h"
#include "td_diagnose.h"
#include "td_digest.h"
#include "td_error.h"
#include "td_names.h"
#include "td_report.h"
#include "td_fingerprint.h"
#include "td_report_util.h"
#include "td_x509.h"

/* Sets key to v; remembers a failure in *ok (v == NULL means jansson ran
 * out of memory building it). Keeps the builders flat: one line a field. */
struct jb {
	json_t *o;
	bool ok;
};

static void put(struct jb *b, const char *key, json_t *v)
{
	if (!v || json_object_set_new(b->o, key, v) != 0)
		b->ok = false;
}

static json_t *jb_done(struct jb *b)
{
	if (!b->o)
		return NULL;
	if (!b->ok) {
		json_decref(b->o);
		return NULL;
	}
	return b->o;
}

static struct jb jb_new(void)
{
	struct jb b = { json_object(), true };

	if (!b.o)
		b.ok = false;
	return b;
}

static json_t *j_u64(uint64_t v)
{
	/* json_int_t is long long: counters never reach 2^63. */
	return json_integer((json_int_t)(v > INT64_MAX ? INT64_MAX : v));
}

static json_t *j_frame(uint32_t frame)
{
	/* Frames count from 1; 0 means "none". */
	return frame ? json_integer(frame) : json_null();
}

static json_t *j_time(struct td_time t)
{
	char buf[TD_REPORT_TIME_LEN];

	return json_string(td_report_time_utc(t, buf));
}

static json_t *j_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *j_hex(const uint8_t *data, size_t len)
{
	char buf[2 * 64 + 1];

	if (len > 64)
		return NULL;
	return json_string(td_hex(data, len, buf));
}

/* {"client": a, "server": b} */
static json_t *j_pair(json_t *c, json_t *s)
{
	struct jb b = jb_new();

	if (b.o) {
		put(&b, "client", c);
		put(&b, "server", s);
	} else {
		json_decref(c);
		json_decref(s);
	}
	return jb_done(&b);
}

static json_t *j_pair_u64(uint64_t c, uint64_t s)
{
	return j_pair(j_u64(c), j_u64(s));
}

static json_t *j_dir(int dir)
{
	return dir < 0 ? json_null() : json_string(td_dir_name(dir));
}

/* A code point name through td_names_fmt16: the name, "GREASE (0x1a1a)"
 * or "unknown (0x1234)", so nothing from the wire is lost. */
static json_t *j_name16(const char *(*lookup)(uint16_t), uint16_t v)
{
	char buf[96];

	return json_string(td_names_fmt16(buf, sizeof buf, lookup, v));
}

static json_t *j_names16(const uint16_t *v, size_t n, const char *(*lookup)(uint16_t))
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		if (json_array_append_new(a, j_name16(lookup, v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *j_version(uint16_t v)
{
	return j_name16(td_names_version, v);
}

static json_t *j_endpoint(const struct td_addr *a, uint16_t port)
{
	char buf[64];
	struct jb b = jb_new();

	if (b.o) {
		put(&b, "ip", json_string(td_addr_str(a, buf, sizeof buf)));
		put(&b, "port", json_integer(port));
	}
	return jb_done(&b);
}

static json_t *j_tcp(const struct td_tcp_evidence *t)
{
	struct jb b = jb_new();

	if (!b.o)
		return NULL;
	put(&b, "retransmissions", j_pair_u64(t->retransmissions[0], t->retransmissions[1]));
	put(&b, "out_of_order", j_pair_u64(t->out_of_order[0], t->out_of_order[1]));
	put(&b, "gaps", j_pair_u64(t->gaps[0], t->gaps[1]));
	put(&b, "bytes_missing", j_pair_u64(t->bytes_missing[0], t->bytes_missing[1]));
	put(&b, "overlaps_differ", j_u64(t->overlaps_differ));
	put(&b, "zero_windows", j_pair_u64(t->zero_windows[0], t->zero_windows[1]));
	put(&b, "largest_segment", j_pair_u64(t->largest_segment[0], t->largest_segment[1]));
	return jb_done(&b);
}

static json_t *j_alpn_list(const struct td_alpn_list *l)
{
	json_t *a = json_array();
	size_t n = l->n < TD_MAX_ALPN ? l->n : TD_MAX_ALPN;

	for (size_t i = 0; a && i < n; i++) {
		size_t len = l->len[i] < TD_ALPN_LEN ? l->len[i] : TD_ALPN_LEN;

		if (json_array_append_new(a, td_report_json_wire(l->name[i], len)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *j_client_hello(const struct td_client_hello *ch)
{
	struct jb b;
	json_t *pf;
	size_t n;

	if (!ch->seen)
		return json_null();
	b = jb_new();
	if (!b.o)
		return NULL;
	put(&b, "frame", json_integer(ch->frame));
	put(&b, "time", j_time(ch->ts));
	put(&b, "record_version", j_version(ch->record_version));
	put(&b, "legacy_version", j_version(ch->legacy_version));
	put(&b, "supported_versions",
	    j_names16(ch->versions, ch->n_versions < TD_MAX_VERSIONS ? ch->n_versions : TD_MAX_VERSIONS,
		      td_names_version));
	put(&b, "cipher_suites",
	    j_names16(ch->suites, ch->n_suites < TD_MAX_SUITES ? ch->n_suites : TD_MAX_SUITES,
		      td_names_cipher_name));
	put(&b, "cipher_suites_total", json_integer(ch->total_suites));
	put(&b, "compression_methods", json_integer(ch->n_compression));
	put(&b, "extensions",
	    j_names16(ch->exts, ch->n_exts < TD_MAX_EXTS ? ch->n_exts : TD_MAX_EXTS,
		      td_names_extension));
	if (ch->has_sni) {
		n = ch->sni.len < TD_SNI_LEN ? ch->sni.len : TD_SNI_LEN;
		put(&b, "sni", td_report_json_wire(ch->sni.bytes, n));
	} else {
		put(&b, "sni", json_null());
	}
	put(&b, "alpn", j_alpn_list(&ch->alpn));
	put(&b, "supported_groups",
	    j_names16(ch->groups, ch->n_groups < TD_MAX_GROUPS ? ch->n_groups : TD_MAX_GROUPS,
		      td_names_group));
	put(&b, "signature_algorithms",
	    j_names16(ch->sigalgs, ch->n_sigalgs < TD_MAX_SIGALGS ? ch->n_sigalgs : TD_MAX_SIGALGS,
		      td_names_sigscheme));
	pf = json_array();
	n = ch->n_point_formats < TD_MAX_POINT_FORMATS ? ch->n_point_formats : TD_MAX_POINT_FORMATS;
	for (size_t i = 0; pf && i < n; i++)
		if (json_array_append_new(pf, json_integer(ch->point_formats[i])) != 0)
			b.ok = false;
	put(&b, "ec_point_formats", pf);
	put(&b, "session_id_length", json_integer(ch->session_id_len));
	return jb_done(&b);
}

static json_t *j_server_hello(const struct td_server_hello *sh)
{
	struct jb b;

	if (!sh->seen)
		return json_null();
	b = jb_new();
	if (!b.o)
		return NULL;
	put(&b, "frame", json_integer(sh->frame));
	put(&b, "time", j_time(sh->ts));
	put(&b, "legacy_version", j_version(sh->legacy_version));
	put(&b, "selected_version", sh->selected_version ? j_version(sh->selected_version) : json_null());
	put(&b, "cipher_suite", j_name16(td_names_cipher_name, sh->suite));
	put(&b, "compression_method", json_integer(sh->compression));
	put(&b, "extensions",
	    j_names16(sh->exts, sh->n_exts < TD_MAX_EXTS ? sh->n_exts : TD_MAX_EXTS,
		      td_names_extension));
	if (sh->has_alpn)
		put(&b, "alpn",
		    td_report_json_wire(sh->alpn, sh->alpn_len < TD_ALPN_LEN ? sh->alpn_len : TD_ALPN_LEN));
	else
		put(&b, "alpn", json_null());
	put(&b, "session_id_length", json_integer(sh->session_id_len));
	put(&b, "session_id_echoed", json_boolean(sh->session_id_echoed));
	put(&b, "hello_retry_request", json_boolean(sh->hello_retry_request));
	return jb_done(&b);
}

static json_t *j_tls(const struct td_session *s)
{
	struct jb b = jb_new();
	const struct td_cipher_info *ci = NULL;

	if (!b.o)
		return NULL;
	if (s->sh.seen) {
		uint16_t v = td_session_version(s);

		ci = td_names_cipher(s->sh.suite);
		put(&b, "version", j_version(v));
		put(&b, "version_code", json_integer(v));
		put(&b, "cipher_suite", j_name16(td_names_cipher_name, s->sh.suite));
		put(&b, "cipher_suite_code", json_integer(s->sh.suite));
	} else {
		put(&b, "version", json_null());
		put(&b, "version_code", json_null());
		put(&b, "cipher_suite", json_null());
		put(&b, "cipher_suite_code", json_null());
	}
	put(&b, "key_exchange", j_str_or_null(ci ? ci->kx : NULL));
	put(&b, "client_hello", j_client_hello(&s->ch));
	put(&b, "server_hello", j_server_hello(&s->sh));
	{
		char str[TD_JA3_MAX];

		put(&b, "ja3", s->ja3[0] ? json_string(s->ja3) : json_null());
		td_ja3_string(&s->ch, str, sizeof str);
		put(&b, "ja3_string", s->ja3[0] ? json_string(str) : json_null());
		put(&b, "ja3s", s->ja3s[0] ? json_string(s->ja3s) : json_null());
		td_ja3s_string(&s->sh, str, sizeof str);
		put(&b, "ja3s_string", s->ja3s[0] ? json_string(str) : json_null());
	}
	put(&b, "certificates_visible", json_boolean(s->n_certs > 0));
	put(&b, "certificates_note",
	    s->certs_encrypted ? json_string("certificate not visible without keys") : json_null());
	put(&b, "certificate_frame", j_frame(s->cert_frame));
	put(&b, "certificates_total", json_integer(s->total_certs));
	put(&b, "encryption_started",
	    j_pair(s->encrypted[0] ? j_frame(s->encrypted_frame[0]) : json_null(),
		   s->encrypted[1] ? j_frame(s->encrypted_frame[1]) : json_null()));
	put(&b, "records", j_pair_u64(s->records[0], s->records[1]));
	{
		struct jb c = jb_new(), sv = jb_new();

		if (c.o) {
			put(&c, "records", j_u64(s->appdata_records[0]));
			put(&c, "bytes", j_u64(s->appdata_bytes[0]));
		}
		if (sv.o) {
			put(&sv, "records", j_u64(s->appdata_records[1]));
			put(&sv, "bytes", j_u64(s->appdata_bytes[1]));
		}
		put(&b, "application_data", j_pair(jb_done(&c), jb_done(&sv)));
	}
	put(&b, "stage", json_string(td_stage_name(s->stage)));
	put(&b, "outcome", json_string(td_outcome_name(s->outcome)));
	put(&b, "handshake_completed", json_boolean(s->outcome == TD_OUTCOME_COMPLETED));
	put(&b, "aborted_by", j_dir(s->aborted_by));
	put(&b, "aborted_how", j_str_or_null(td_report_abort_name(s->aborted_how)));
	return jb_done(&b);
}

static json_t *j_cert_key(const struct td_cert_key *k)
{
	struct jb b = jb_new();

	if (!b.o)
		return NULL;
	put(&b, "algorithm", k->algorithm[0] ? td_report_json_cstr(k->algorithm) : json_null());
	put(&b, "bits", json_integer(k->bits));
	put(&b, "rsa_exponent", k->rsa_exponent ? j_u64(k->rsa_exponent) : json_null());
	put(&b, "curve", k->curve[0] ? td_report_json_cstr(k->curve) : json_null());
	put(&b, "curve_nist", k->curve_nist[0] ? td_report_json_cstr(k->curve_nist) : json_null());
	put(&b, "spki_sha256", j_hex(k->spki_sha256, sizeof k->spki_sha256));
	return jb_done(&b);
}

static json_t *j_cert(size_t pos, const struct td_cert *c)
{
	struct jb b = jb_new();
	json_t *san;

	if (!b.o)
		return NULL;
	put(&b, "position", json_integer((json_int_t)pos));
	if (!c) {
		/* The x509 cache could not give a reference (out of memory). */
		put(&b, "sha256", json_null());
		put(&b, "sha1", json_null());
		put(&b, "parsed", json_false());
		put(&b, "error", json_string("certificate facts not available"));
		return jb_done(&b);
	}
	put(&b, "sha256", j_hex(c->sha256, sizeof c->sha256));
	put(&b, "sha1", j_hex(c->sha1, sizeof c->sha1));
	put(&b, "parsed", json_boolean(c->parsed));
	put(&b, "error", c->parsed || !c->error[0] ? json_null() : td_report_json_cstr(c->error));
	if (!c->parsed)
		return jb_done(&b);
	put(&b, "version", json_integer(c->version));
	put(&b, "subject", td_report_json_cstr(c->subject));
	put(&b, "issuer", td_report_json_cstr(c->issuer));
	put(&b, "serial", td_report_json_cstr(c->serial_hex));
	put(&b, "not_before", j_time((struct td_time){ c->not_before, 0 }));
	put(&b, "not_after", j_time((struct td_time){ c->not_after, 0 }));
	san = json_array();
	for (size_t i = 0; san && c->sans && i < c->n_sans; i++)
		if (json_array_append_new(san, td_report_json_cstr(c->sans[i])) != 0)
			b.ok = false;
	put(&b, "san", san);
	put(&b, "signature_algorithm", c->sig_alg[0] ? td_report_json_cstr(c->sig_alg) : json_null());
	put(&b, "self_signed", json_boolean(c->self_signed));
	put(&b, "public_key", j_cert_key(&c->key));
	return jb_done(&b);
}

static json_t *j_alert(const struct td_alert *a)
{
	struct jb b = jb_new();
	bool known = !a->encrypted && !a->probable;
	const char *desc = known ? td_names_alert(a->desc) : NULL;

	if (!b.o)
		return NULL;
	put(&b, "frame", j_frame(a->frame));
	put(&b, "time", j_time(a->ts));
	put(&b, "from", json_string(td_dir_name(a->dir)));
	put(&b, "level", j_str_or_null(known ? td_report_alert_level(a->level) : NULL));
	put(&b, "description", j_str_or_null(desc));
	put(&b, "code", known ? json_integer(a->desc) : json_null());
	put(&b, "encrypted", json_boolean(a->encrypted || a->probable));
	put(&b, "probable", json_boolean(a->probable));
	put(&b, "phase", json_string(td_phase_name(a->phase)));
	put(&b, "record_length", json_integer(a->record_len));
	return jb_done(&b);
}

static json_t *j_event(struct td_report_events *w, const struct td_session *s,
		       const struct td_event *ev)
{
	struct jb b = jb_new();
	char what[128];

	if (!b.o)
		return NULL;
	put(&b, "frame", j_frame(ev->frame));
	put(&b, "time", j_time(ev->ts));
	put(&b, "offset_ms", json_real(td_report_ms(s->first_ts, ev->ts)));
	put(&b, "from", json_string(td_dir_name(ev->dir)));
	put(&b, "what", json_string(td_report_event_what(w, ev, what, sizeof what)));
	put(&b, "length", j_u64(ev->len));
	if (ev->kind == TD_EV_APPDATA)
		put(&b, "count", json_integer(ev->count));
	return jb_done(&b);
}

static json_t *j_desync(const struct td_session *s, int dir)
{
	struct jb b;

	if (!s->desync[dir])
		return json_null();
	b = jb_new();
	if (b.o) {
		put(&b, "error", json_string(td_err_name((enum td_err)s->desync[dir])));
		put(&b, "frame", j_frame(s->desync_frame[dir]));
	}
	return jb_done(&b);
}

/* Appends each built element; a NULL element marks the array failed. */
static void arr_add(json_t *a, json_t *v, bool *ok)
{
	if (!a || !v || json_array_append_new(a, v) != 0)
		*ok = false;
}

static json_t *j_strings(const char (*list)[TD_EVIDENCE_LEN], unsigned n, bool *ok)
{
	json_t *a = json_array();
	for (unsigned i = 0; a && i < n; i++)
		arr_add(a, td_report_json_cstr(list[i]), ok);
	return a;
}

/* {"problem": "...", "causes": [{"id", "likelihood", "likelihood_word",
 * "summary", "evidence_for", "evidence_against", "next_step", "basis"}]},
 * or null when nothing needed explaining. */
static json_t *j_diagnosis(const struct td_diagnosis *d)
{
	struct jb b;
	json_t *causes;

	if (!d || d->n == 0)
		return json_null();
	b = jb_new();
	if (!b.o)
		return NULL;
	put(&b, "problem", td_report_json_cstr(d->problem));
	causes = json_array();
	for (unsigned i = 0; causes && i < d->n; i++) {
		const struct td_cause *c = &d->causes[i];
		struct jb cb = jb_new();
		if (!cb.o) {
			b.ok = false;
			break;
		}
		put(&cb, "id", json_string(c->id));
		put(&cb, "likelihood", json_integer(c->likelihood));
		put(&cb, "likelihood_word", json_string(td_likelihood_word(c->likelihood)));
		put(&cb, "summary", json_string(c->summary));
		put(&cb, "evidence_for", j_strings(c->evidence_for, c->n_for, &cb.ok));
		put(&cb, "evidence_against", j_strings(c->evidence_against, c->n_against, &cb.ok));
		put(&cb, "next_step", c->next_step[0] ? td_report_json_cstr(c->next_step) : json_null());
		put(&cb, "basis", j_str_or_null(c->basis));
		arr_add(causes, jb_done(&cb), &b.ok);
	}
	put(&b, "causes", causes);
	return jb_done(&b);
}

json_t *td_report_session_json(const struct td_session *s)
{
	struct jb b = jb_new();
	struct td_report_events w;
	json_t *a;
	size_t n;

	if (!b.o)
		return NULL;
	put(&b, "type", json_string("connection"));
	put(&b, "schema_version", json_integer(TD_REPORT_SCHEMA_VERSION));
	put(&b, "id", j_u64(s->id));
	put(&b, "client", j_endpoint(&s->client, s->client_port));
	put(&b, "server", j_endpoint(&s->server, s->server_port));
	put(&b, "ip_version", json_integer(s->client.family));
	if (s->encap & TD_ENCAP_VLAN)
		put(&b, "vlan", json_integer(s->vlan_id));
	put(&b, "roles", json_string(td_report_roles_name(s)));
	put(&b, "first_ts", j_time(s->first_ts));
	put(&b, "last_ts", j_time(s->last_ts));
	put(&b, "first_frame", j_frame(s->first_frame));
	put(&b, "last_frame", j_frame(s->last_frame));
	put(&b, "packets", j_pair_u64(s->packets[0], s->packets[1]));
	put(&b, "payload_bytes", j_pair_u64(s->payload_bytes[0], s->payload_bytes[1]));
	put(&b, "tcp", j_tcp(&s->tcp));
	put(&b, "tls", j_tls(s));

	a = json_array();
	n = s->n_certs < TD_MAX_CHAIN ? s->n_certs : TD_MAX_CHAIN;
	for (size_t i = 0; i < n; i++) {
		json_t *c = j_cert(i, s->certs[i]);
		/* with --key: the matching key file, or null for none */
		if (c && s->keys_given &&
		    json_object_set_new(c, "key_match", j_str_or_null(s->cert_key_match[i])) != 0)
			b.ok = false;
		arr_add(a, c, &b.ok);
	}
	put(&b, "certificates", a);

	a = json_array();
	n = s->n_alerts < TD_MAX_ALERTS ? s->n_alerts : TD_MAX_ALERTS;
	for (size_t i = 0; i < n; i++)
		arr_add(a, j_alert(&s->alerts[i]), &b.ok);
	put(&b, "alerts", a);
	put(&b, "alerts_total", json_integer(s->total_alerts));

	a = json_array();
	n = s->n_events < TD_MAX_EVENTS ? s->n_events : TD_MAX_EVENTS;
	td_report_events_init(&w, s);
	for (size_t i = 0; i < n; i++)
		arr_add(a, j_event(&w, s, &s->events[i]), &b.ok);
	put(&b, "timeline", a);
	put(&b, "timeline_total", json_integer(s->total_events));

	put(&b, "end", json_string(td_report_end_name(s->end)));
	put(&b, "end_by", j_dir(s->end_by));
	put(&b, "end_frame", s->end_by >= 0 ? j_frame(s->end_frame) : json_null());
	put(&b, "anomalies", j_pair_u64(s->anomalies[0], s->anomalies[1]));
	put(&b, "diagnosis", j_diagnosis(s->diagnosis));
	put(&b, "desync", j_pair(j_desync(s, 0), j_desync(s, 1)));
	put(&b, "handshake_too_big", j_pair_u64(s->hs_too_big[0], s->hs_too_big[1]));
	return jb_done(&b);
}

/* One (description, sender) pair of the summary's alert table. */
struct alert_count {
	uint8_t desc, dir;
	uint64_t count;
};

/* Most frequent first; ties by description code, then client first, so
 * the order does not depend on qsort's stability. */
static int alert_count_cmp(const void *pa, const void *pb)
{
	const struct alert_count *a = pa, *b = pb;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->desc != b->desc)
		return a->desc < b->desc ? -1 : 1;
	return (int)a->dir - (int)b->dir;
}

static json_t *j_summary_alerts(const struct td_summary *sum)
{
	struct alert_count rows[512];
	size_t n = 0;
	struct jb b = jb_new();
	json_t *a = json_array();
	char buf[32];

	for (int d = 0; d < 256; d++)
		for (int dir = 0; dir < 2; dir++)
			if (sum->alerts_by_desc_sender[d][dir])
				rows[n++] = (struct alert_count){ (uint8_t)d, (uint8_t)dir,
								  sum->alerts_by_desc_sender[d][dir] };
	qsort(rows, n, sizeof rows[0], alert_count_cmp);
	for (size_t i = 0; i < n; i++) {
		struct jb r = jb_new();
		const char *name = td_names_alert(rows[i].desc);

		if (!name) {
			snprintf(buf, sizeof buf, "unknown (%u)", (unsigned)rows[i].desc);
			name = buf;
		}
		if (r.o) {
			put(&r, "description", json_string(name));
			put(&r, "from", json_string(td_dir_name(rows[i].dir)));
			put(&r, "count", j_u64(rows[i].count));
		}
		arr_add(a, jb_done(&r), &b.ok);
	}
	if (!b.o) {
		json_decref(a);
		return NULL;
	}
	put(&b, "total", j_u64(sum->alerts_total));
	put(&b, "by_description", a);
	put(&b, "encrypted", j_pair_u64(sum->alerts_encrypted[0], sum->alerts_encrypted[1]));
	return jb_done(&b);
}

json_t *td_report_summary_json(const struct td_summary *sum)
{
	struct jb b = jb_new(), d, c, ce;
	json_t *in;

	if (!b.o)
		return NULL;
	put(&b, "type", json_string("summary"));
	put(&b, "schema_version", json_integer(TD_REPORT_SCHEMA_VERSION));
	in = json_array();
	for (size_t i = 0; sum->inputs && i < sum->n_inputs; i++)
		arr_add(in, td_report_json_cstr(sum->inputs[i]), &b.ok);
	put(&b, "inputs", in);
	put(&b, "packets", j_u64(sum->packets));
	put(&b, "bytes", j_u64(sum->bytes));
	put(&b, "first_ts", sum->have_ts ? j_time(sum->first_ts) : json_null());
	put(&b, "last_ts", sum->have_ts ? j_time(sum->last_ts) : json_null());

	d = jb_new();
	if (d.o) {
		put(&d, "tcp", j_u64(sum->tcp_packets));
		put(&d, "not_tcp", j_u64(sum->not_tcp));
		put(&d, "truncated", j_u64(sum->truncated));
		put(&d, "malformed", j_u64(sum->malformed));
		put(&d, "fragments", j_u64(sum->fragments));
		put(&d, "unsupported_link", j_u64(sum->unsupported_link));
		put(&d, "filtered_out", j_u64(sum->filtered_out));
	}
	put(&b, "decode", jb_done(&d));

	c = jb_new();
	if (c.o) {
		put(&c, "tls", j_u64(sum->connections_tls));
		put(&c, "not_tls", j_u64(sum->connections_not_tls));
		put(&c, "completed", j_u64(sum->by_outcome[TD_OUTCOME_COMPLETED]));
		put(&c, "failed", j_u64(sum->by_outcome[TD_OUTCOME_FAILED]));
		put(&c, "incomplete", j_u64(sum->by_outcome[TD_OUTCOME_INCOMPLETE]));
	}
	put(&b, "connections", jb_done(&c));
	put(&b, "alerts", j_summary_alerts(sum));

	ce = jb_new();
	if (ce.o) {
		put(&ce, "distinct", j_u64(sum->certs_distinct));
		put(&ce, "parsed", j_u64(sum->x509_parses));
		put(&ce, "cache_hits", j_u64(sum->x509_hits));
	}
	put(&b, "certificates", jb_done(&ce));
	put(&b, "flows_evicted", j_u64(sum->flows_evicted));
	put(&b, "handshake_too_big", j_u64(sum->hs_too_big));
	put(&b, "desyncs", j_u64(sum->desyncs));
	put(&b, "stopped", sum->stopped ? td_report_json_cstr(sum->stopped) : json_null());
	return jb_done(&b);
}

/* Writes v as one line. A value that could not be built (out of memory)
 * becomes an error line of its own type, so a reader sees the gap. */
static void write_line(FILE *out, json_t *v, const char *type)
{
	if (!v) {
		fprintf(out, "{\"type\":\"error\",\"schema_version\":%d,\"error\":\"out of memory "
			     "building the %s object\"}\n",
			TD_REPORT_SCHEMA_VERSION, type);
		return;
	}
	json_dumpf(v, out, TD_REPORT_JSON_FLAGS);
	fputc('\n', out);
	json_decref(v);
}

void td_report_json_session(FILE *out, const struct td_session *s)
{
	write_line(out, td_report_session_json(s), "connection");
}

void td_report_json_summary(FILE *out, const struct td_summary *sum)
{
	write_line(out, td_report_summary_json(sum), "summary");
}
