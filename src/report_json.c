/* report_json.c - the JSON Lines report, schema_version 1 (td_report.h).
 *
 * One object per connection mirroring struct td_session, and a summary
 * object last. Builders return NULL only when jansson runs out of memory;
 * a NULL member value makes json_object_set_new() fail and the object is
 * then incomplete, which the writer reports by writing nothing for it
 * rather than a line that breaks the schema.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "td_decode.h"
#include "td_decrypt.h"
#include "td_diagnose.h"
#include "td_digest.h"
#include "td_error.h"
#include "td_names.h"
#include "td_report.h"
#include "td_fingerprint.h"
#include "td_report_util.h"
#include "td_starttls.h"
#include "td_x509.h"

/* Sets key to v; remembers a failure in *ok (v == NULL means jansson ran
 * out of memory building it). Keeps the builders flat: one line a field. */
struct jb {
	json_t *o;
	bool ok;
};

static void put(struct jb *b, const char *key, json_t *v)
{
	/* Keys are ours (ASCII, NUL-free): no UTF-8 check. json_decref(NULL)
	 * is a no-op. */
	if (!v || json_object_setn_new_nocheck(b->o, key, strlen(key), v) != 0)
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

static void arr_add(json_t *a, json_t *v, bool *ok)
{
	if (!a || !v || json_array_append_new(a, v) != 0)
		*ok = false;
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

static json_t *j_epoch_or_null(int64_t sec)
{
	return sec ? j_time((struct td_time){ sec, 0 }) : json_null();
}

/* RFC 6066 §8: the stapled OCSP response, as the x509 module read it. */
static json_t *j_ocsp(const struct td_ocsp_facts *o)
{
	if (!o->seen)
		return json_null();
	return json_pack("{s:o,s:I,s:b,s:o,s:o,s:o,s:I,s:o,s:o,s:o,s:o}", "frame", j_frame(o->frame),
			 "length", (json_int_t)o->length, "parsed", o->parsed, "response_status",
			 o->parsed ? j_str_or_null(td_ocsp_response_status_name(o->response_status))
				   : json_null(),
			 "cert_status",
			 j_str_or_null(td_ocsp_cert_status_name((enum td_ocsp_cert_status)o->cert_status)),
			 "revocation_reason",
			 o->revocation_reason >= 0 ? json_integer(o->revocation_reason) : json_null(),
			 "responses", (json_int_t)o->n_responses, "produced_at",
			 j_epoch_or_null(o->produced_at), "this_update", j_epoch_or_null(o->this_update),
			 "next_update", j_epoch_or_null(o->next_update), "revoked_at",
			 j_epoch_or_null(o->revoked_at));
}

/* The CertificateRequest's first CA names as the subjects print; null for
 * one too long to keep or that does not decode. */
static json_t *j_ca_names(const struct td_session *s)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < s->cr_n_ca_names && i < TD_MAX_CA_NAMES; i++) {
		char *name = td_report_ca_name(s, i);
		json_t *v = name ? td_report_json_cstr(name) : json_null();
		free(name);
		if (json_array_append_new(a, v) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
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

/* ["vlan", "gre", ...]: td_encap_name() of each bit set, in bit order. */
static json_t *j_encap(uint16_t encap)
{
	json_t *a = json_array();
	bool ok = true;

	for (unsigned i = 0; a && i < TD_ENCAP_COUNT; i++)
		if (encap >> i & 1)
			arr_add(a, json_string(td_encap_name(i)), &ok);
	if (!ok) {
		json_decref(a);
		return NULL;
	}
	return a;
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
	put(&b, "rsts", j_pair_u64(t->rsts[0], t->rsts[1]));
	put(&b, "keepalives", j_pair_u64(t->keepalives[0], t->keepalives[1]));
	put(&b, "zero_window_probes",
	    j_pair_u64(t->zero_window_probes[0], t->zero_window_probes[1]));
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

/* Extensions whose presence is the fact (RFC numbers in tls.c). */
static void j_ext_facts(struct jb *b, uint32_t f)
{
	put(b, "extended_master_secret", json_boolean(f & TD_EXT_EMS));
	put(b, "encrypt_then_mac", json_boolean(f & TD_EXT_ETM));
	put(b, "session_ticket", json_boolean(f & TD_EXT_TICKET));
	put(b, "status_request", json_boolean(f & TD_EXT_STATUS_REQUEST));
	put(b, "signed_certificate_timestamp", json_boolean(f & TD_EXT_SCT));
	put(b, "pre_shared_key", json_boolean(f & TD_EXT_PSK));
	put(b, "early_data", json_boolean(f & TD_EXT_EARLY_DATA));
	put(b, "heartbeat", json_boolean(f & TD_EXT_HEARTBEAT));
	put(b, "encrypted_client_hello", json_boolean(f & TD_EXT_ECH));
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
	j_ext_facts(&b, ch->ext_flags);
	put(&b, "key_share_groups",
	    j_names16(ch->key_shares, ch->n_key_shares < TD_MAX_KEY_SHARES ? ch->n_key_shares
									: TD_MAX_KEY_SHARES,
		      td_names_group));
	{
		/* RFC 8446 §4.2.9 PskKeyExchangeMode values 0 and 1 */
		json_t *modes = json_array();
		if (modes && (ch->psk_modes & 1))
			arr_add(modes, json_string("psk_ke"), &b.ok);
		if (modes && (ch->psk_modes & 2))
			arr_add(modes, json_string("psk_dhe_ke"), &b.ok);
		put(&b, "psk_modes", modes);
	}
	put(&b, "session_ticket_length", json_integer(ch->ticket_len));
	put(&b, "record_size_limit", ch->record_size_limit ? json_integer(ch->record_size_limit)
							   : json_null());
	put(&b, "max_fragment_length",
	    ch->max_fragment_length ? json_integer(ch->max_fragment_length) : json_null());
	put(&b, "secure_renegotiation",
	    json_boolean(ch->ext_flags & (TD_EXT_RENEGOTIATION_INFO | TD_EXT_SCSV_RENEGOTIATION)));
	put(&b, "fallback_scsv", json_boolean(ch->ext_flags & TD_EXT_SCSV_FALLBACK));
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
	j_ext_facts(&b, sh->ext_flags);
	put(&b, "key_share_group", sh->key_share ? j_name16(td_names_group, sh->key_share)
						 : json_null());
	put(&b, "secure_renegotiation", json_boolean(sh->ext_flags & TD_EXT_RENEGOTIATION_INFO));
	put(&b, "downgrade_sentinel", sh->downgrade == 12   ? json_string("TLS 1.2")
				      : sh->downgrade == 11 ? json_string("TLS 1.1 or below")
							    : json_null());
	return jb_done(&b);
}

static json_t *j_tls(const struct td_session *s)
{
	struct jb b = jb_new();
	const struct td_cipher_info *ci = NULL;

	if (!b.o)
		return NULL;
	if (s->sh->seen) {
		uint16_t v = td_session_version(s);

		ci = td_names_cipher(s->sh->suite);
		put(&b, "version", j_version(v));
		put(&b, "version_code", json_integer(v));
		put(&b, "cipher_suite", j_name16(td_names_cipher_name, s->sh->suite));
		put(&b, "cipher_suite_code", json_integer(s->sh->suite));
	} else {
		put(&b, "version", json_null());
		put(&b, "version_code", json_null());
		put(&b, "cipher_suite", json_null());
		put(&b, "cipher_suite_code", json_null());
	}
	put(&b, "key_exchange", j_str_or_null(ci ? ci->kx : NULL));
	put(&b, "client_hello", j_client_hello(s->ch));
	put(&b, "server_hello", j_server_hello(s->sh));
	{
		char str[TD_JA4_RAW_MAX];

		put(&b, "ja3", s->ch->ja3[0] ? json_string(s->ch->ja3) : json_null());
		td_ja3_string(s->ch, str, sizeof str);
		put(&b, "ja3_string", s->ch->ja3[0] ? json_string(str) : json_null());
		put(&b, "ja3s", s->sh->ja3s[0] ? json_string(s->sh->ja3s) : json_null());
		td_ja3s_string(s->sh, str, sizeof str);
		put(&b, "ja3s_string", s->sh->ja3s[0] ? json_string(str) : json_null());
		put(&b, "ja4", s->ch->ja4[0] ? json_string(s->ch->ja4) : json_null());
		td_ja4_raw(s->ch, str, sizeof str);
		put(&b, "ja4_r", s->ch->ja4[0] ? json_string(str) : json_null());
		put(&b, "ja4s", s->sh->ja4s[0] ? json_string(s->sh->ja4s) : json_null());
		td_ja4s_raw(s->sh, str, sizeof str);
		put(&b, "ja4s_r", s->sh->ja4s[0] ? json_string(str) : json_null());
		put(&b, "client_hello_retry",
		    s->ch2_frame ? json_pack("{s:i,s:s,s:s}", "frame", (json_int_t)s->ch2_frame, "ja3",
					     s->ch->ja3_retry, "ja4", s->ch->ja4_retry)
				 : json_null());
	}
	put(&b, "resumed", json_boolean(s->resumed));
	put(&b, "resumption",
	    s->resumed
		    ? json_pack("{s:s,s:o,s:o,s:o}", "how",
				td_resumption_name((enum td_resumption)s->resumption),
				"full_handshake_in_capture",
				s->full_handshake_in_capture < 0
					? json_null()
					: json_boolean(s->full_handshake_in_capture > 0),
				"full_handshake_connection",
				s->full_handshake_conn ? json_integer((json_int_t)s->full_handshake_conn)
						       : json_null(),
				"full_handshake_frame", j_frame(s->full_handshake_frame))
		    : json_null());
	if (s->reneg_frame && (s->reneg_by == 0 || s->reneg_by == 1))
		put(&b, "renegotiation",
		    json_pack("{s:s,s:o,s:b}", "by", td_dir_name(s->reneg_by), "frame",
			      j_frame(s->reneg_frame), "secure", td_session_reneg_secure(s)));
	else
		put(&b, "renegotiation", json_null());
	put(&b, "server_key_exchange",
	    (s->ske_group || s->ske_dh_bits)
		    ? json_pack("{s:o,s:o,s:o}", "group",
				s->ske_group ? j_name16(td_names_group, s->ske_group) : json_null(),
				"dh_bits", s->ske_dh_bits ? json_integer(s->ske_dh_bits) : json_null(),
				"signature_scheme",
				s->ske_sigalg ? j_name16(td_names_sigscheme, s->ske_sigalg)
					      : json_null())
		    : json_null());
	put(&b, "certificate_request",
	    s->client_cert_requested
		    ? json_pack("{s:i,s:i,s:o,s:o}", "certificate_authorities",
				(json_int_t)s->cr_n_cas, "signature_algorithms",
				(json_int_t)s->cr_n_sigalgs, "ca_names", j_ca_names(s),
				"signature_schemes",
				j_names16(s->cr_sigalgs,
					  s->cr_n_sigalgs < TD_MAX_SIGALGS ? s->cr_n_sigalgs
									   : TD_MAX_SIGALGS,
					  td_names_sigscheme))
		    : json_null());
	put(&b, "ocsp_staple", j_ocsp(&s->ocsp));
	put(&b, "certificate_verify_scheme",
	    s->cv_sigalg ? j_name16(td_names_sigscheme, s->cv_sigalg) : json_null());
	put(&b, "client_key_exchange_length", s->cke_len ? json_integer(s->cke_len) : json_null());
	put(&b, "new_session_ticket",
	    s->new_ticket_len ? json_pack("{s:I,s:i}", "lifetime", (json_int_t)s->ticket_lifetime,
					  "length", (json_int_t)s->new_ticket_len)
			      : json_null());
	put(&b, "certificates_visible", json_boolean(s->n_certs > 0));
	put(&b, "certificates_note",
	    !s->certs_encrypted ? json_null()
	    : s->n_certs	? json_string("decrypted with the secrets given")
	    : s->resumed	? json_string("none sent: resumed with a pre-shared key")
				: json_string("certificate not visible without keys"));
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

/* Appends each built element; a NULL element marks the array failed. */

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
	put(&b, "spki_sha256_b64", k->spki_sha256_b64[0] ? json_string(k->spki_sha256_b64) : json_null());
	put(&b, "rsa_modulus_sha256",
	    k->has_modulus ? j_hex(k->rsa_modulus_sha256, sizeof k->rsa_modulus_sha256) : json_null());
	return jb_done(&b);
}

/* An array of certificate strings (NULL list: empty array). */
static json_t *j_cstrs(char *const *items, size_t n, bool *ok)
{
	json_t *a = json_array();

	for (size_t i = 0; a && items && i < n; i++)
		arr_add(a, td_report_json_cstr(items[i]), ok);
	return a;
}

/* The extensions of td_cert_ext, flat in the certificate object. */
static void j_cert_ext(struct jb *b, const struct td_cert_ext *e)
{
	json_t *ku = json_null();

	if (e->has_key_usage) {
		ku = json_array();
		for (unsigned i = 0; ku && i < TD_KU_COUNT; i++)
			if (e->key_usage & (1u << i))
				arr_add(ku, json_string(td_x509_key_usage_name(i)), &b->ok);
	}
	put(b, "key_usage", ku);
	put(b, "extended_key_usage", e->n_eku ? j_cstrs(e->eku, e->n_eku, &b->ok) : json_null());
	if (e->has_basic_constraints) {
		struct jb bc = jb_new();

		if (bc.o) {
			put(&bc, "ca", json_boolean(e->is_ca));
			put(&bc, "path_len", e->path_len >= 0 ? json_integer(e->path_len) : json_null());
		}
		put(b, "basic_constraints", jb_done(&bc));
	} else {
		put(b, "basic_constraints", json_null());
	}
	put(b, "subject_key_id", j_str_or_null(e->subject_key_id));
	put(b, "authority_key_id", j_str_or_null(e->authority_key_id));
	put(b, "crl_urls", j_cstrs(e->crl_urls, e->n_crl_urls, &b->ok));
	put(b, "ocsp_urls", j_cstrs(e->ocsp_urls, e->n_ocsp_urls, &b->ok));
	put(b, "sct_count", e->has_scts ? json_integer(e->n_scts) : json_null());
	put(b, "bad_extensions", json_integer(e->bad_extensions));
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
	j_cert_ext(&b, &c->ext);
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
	put(&b, "decrypted", json_boolean(a->decrypted));
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
	if (ev->kind == TD_EV_HANDSHAKE)
		put(&b, "decrypted", json_boolean(ev->decrypted));
	return jb_done(&b);
}

static json_t *j_finished(const struct td_decrypt_facts *d, int dir)
{
	struct jb b = jb_new();

	if (b.o) {
		put(&b, "check", json_string(td_finished_check_name(d->finished[dir])));
		put(&b, "frame", d->finished[dir] == TD_FIN_NOT_SEEN ? json_null()
								     : j_frame(d->finished_frame[dir]));
	}
	return jb_done(&b);
}

/* [decrypt]: null when no secrets were given (man/tlsdiag.1, "decryption"). */
static json_t *j_decryption(const struct td_session *s)
{
	const struct td_decrypt_facts *d = &s->dec;
	struct jb b;
	json_t *a;

	if (d->status == TD_DECRYPT_OFF)
		return json_null();
	b = jb_new();
	if (!b.o)
		return NULL;
	put(&b, "status", json_string(td_decrypt_status_name(d->status)));
	put(&b, "source", d->source ? json_string(td_decrypt_source_name(d->source)) : json_null());
	put(&b, "key_file", d->source == TD_SRC_RSA_KEY && d->key_index >= 0 &&
				    d->key_index < TD_MAX_KEYS
			    ? j_str_or_null(d->key_files[d->key_index])
			    : json_null());
	a = json_array();
	for (unsigned i = 0; i < d->n_keys_tried && i < TD_MAX_KEYS; i++) {
		struct jb k = jb_new();
		if (k.o) {
			put(&k, "key_file", j_str_or_null(d->key_files[i]));
			put(&k, "result", json_string(td_pms_result_name(d->pms[i])));
		}
		arr_add(a, jb_done(&k), &b.ok);
	}
	put(&b, "pre_master_secret", a);
	put(&b, "extended_master_secret", json_boolean(d->ems));
	put(&b, "encrypt_then_mac", json_boolean(d->etm));
	put(&b, "finished", j_pair(j_finished(d, 0), j_finished(d, 1)));
	put(&b, "records_opened", j_pair_u64(d->records[0], d->records[1]));
	put(&b, "records_not_opened", j_pair_u64(d->skipped[0], d->skipped[1]));
	if (d->failed) {
		struct jb f = jb_new();
		if (f.o) {
			put(&f, "frame", j_frame(d->fail_frame));
			put(&f, "from", json_string(td_dir_name(d->fail_dir)));
			put(&f, "what", json_string(td_dec_result_name(d->fail_what)));
			put(&f, "record_length", json_integer(d->fail_len));
		}
		put(&b, "first_failure", jb_done(&f));
	} else {
		put(&b, "first_failure", json_null());
	}
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

/* [{"id", "severity", "message", "frame", "explain"}], most severe first;
 * empty when the rules did not run or found nothing. */
static json_t *j_findings(const struct td_findings *f, bool *ok)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && f && i < f->n && i < TD_MAX_FINDINGS; i++) {
		const struct td_finding *x = &f->f[i];
		struct jb b = jb_new();

		if (b.o) {
			put(&b, "id", td_report_json_cstr(x->id));
			put(&b, "severity", json_string(td_severity_name(x->severity)));
			put(&b, "message", td_report_json_cstr(x->message));
			put(&b, "frame", x->frame ? j_frame(x->frame) : json_null());
			put(&b, "explain", x->explain && x->explain[0] ? td_report_json_cstr(x->explain)
								: json_null());
		}
		arr_add(a, jb_done(&b), ok);
	}
	return a;
}

/* {"protocol", "category", "risks": [names]} or null without nDPI. */
static json_t *j_ndpi(const struct td_classify_facts *n)
{
	struct jb b;
	json_t *risks;

	if (!n->done)
		return json_null();
	b = jb_new();
	if (!b.o)
		return NULL;
	put(&b, "protocol", td_report_json_cstr(n->protocol));
	put(&b, "category", td_report_json_cstr(n->category));
	risks = json_array();
	for (unsigned i = 0; risks && i < 64; i++) {
		const char *name = (n->risks >> i & 1) ? td_classify_risk_name(i) : NULL;
		if (name)
			arr_add(risks, json_string(name), &b.ok);
	}
	put(&b, "risks", risks);
	put(&b, "packets", json_integer(n->packets));
	return jb_done(&b);
}

/* The capture-time checks of certificate i: "checks" (ids) and
 * "days_left" (whole days from the capture to notAfter). */
static void j_cert_checks(json_t *c, const struct td_session *s, size_t i, bool *ok)
{
	const struct td_chain_facts *f = s->chain;
	const struct td_cert *cert = s->certs[i];
	json_t *a;
	int64_t d;

	if (!c || !f->checked || !cert || !cert->parsed)
		return;
	a = json_array();
	for (unsigned k = 0; a && k < TD_CHK_COUNT; k++)
		if (f->checks[i] & (1u << k))
			arr_add(a, json_string(td_chain_check_id(k)), ok);
	if (!a || json_object_set_new(c, "checks", a) != 0)
		*ok = false;
	d = cert->not_after - f->at;
	d = d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
	if (json_object_set_new(c, "days_left", json_integer((json_int_t)d)) != 0)
		*ok = false;
}

/* --cert: {"file", "match", "same_key", "sha256", "spki_sha256"}. */
static json_t *j_expected(const struct td_chain_facts *f)
{
	struct jb b;

	if (!f->expected_checked || !f->expected_path)
		return json_null();
	b = jb_new();
	if (!b.o)
		return NULL;
	put(&b, "file", td_report_json_cstr(f->expected_path));
	put(&b, "match", json_boolean(f->expected_match));
	put(&b, "same_key", json_boolean(f->expected_match || f->expected_same_key));
	put(&b, "sha256", j_hex(f->expected_sha256, 32));
	put(&b, "spki_sha256", j_hex(f->expected_spki_sha256, 32));
	return jb_done(&b);
}

/* A leaf remembered across connections: {"sha256", "spki_sha256",
 * "connections", "first_connection", "first_frame"}. */
static json_t *j_consist_leaf(const struct td_consist_leaf *l)
{
	struct jb b = jb_new();

	if (!b.o)
		return NULL;
	put(&b, "sha256", j_hex(l->sha256, 32));
	put(&b, "spki_sha256", j_hex(l->spki_sha256, 32));
	put(&b, "connections", j_u64(l->connections));
	put(&b, "first_connection", j_u64(l->first_connection));
	put(&b, "first_frame", j_frame(l->first_frame));
	return jb_done(&b);
}

/* What earlier connections with the same SNI presented (td_sni_history);
 * null for the first connection of a name, without SNI, or untracked. */
static json_t *j_sni_history(const struct td_sni_history *h)
{
	struct jb b;

	if (!h->known)
		return json_null();
	b = jb_new();
	if (!b.o)
		return NULL;
	put(&b, "changed", json_boolean(h->changed));
	put(&b, "public_key_changed", json_boolean(h->key_changed));
	put(&b, "earlier_connections", j_u64(h->earlier_connections));
	put(&b, "earlier_certificates", json_integer(h->earlier_leaves));
	put(&b, "at_least", json_boolean(h->at_least));
	put(&b, "most_presented", j_consist_leaf(&h->earlier));
	return jb_done(&b);
}

/* Chain facts (td_chain.h); null when no chain was visible. "problems"
 * lists the chain's problem ids, then each certificate check id that
 * applies to some certificate, once. */
static json_t *j_chain(const struct td_session *s)
{
	const struct td_chain_facts *f = s->chain;
	unsigned n = s->n_certs < TD_MAX_CHAIN ? s->n_certs : TD_MAX_CHAIN, any = 0;
	struct jb b;
	json_t *p;

	if (!f->checked)
		return json_null();
	b = jb_new();
	if (!b.o)
		return NULL;
	put(&b, "checked_at", j_time((struct td_time){ f->at, 0 }));
	put(&b, "order_ok", json_boolean(f->order_ok));
	put(&b, "unchained_at", f->order_ok ? json_null() : json_integer(f->unchained_at));
	put(&b, "missing_intermediate", json_boolean(f->missing_intermediate));
	put(&b, "top", json_integer(f->top));
	put(&b, "broken", json_boolean(f->broken));
	put(&b, "broken_at", f->broken ? json_integer(f->broken_at) : json_null());
	put(&b, "root_sent", json_boolean(f->root_sent));
	put(&b, "duplicates", json_integer(f->duplicates));
	put(&b, "self_signed_leaf", json_boolean(f->self_signed_leaf));
	put(&b, "leaf_is_ca", json_boolean(f->leaf_is_ca));
	put(&b, "sni_matches", f->sni_match < 0 ? json_null() : json_boolean(f->sni_match == 1));
	p = json_array();
	for (unsigned k = 0; p && k < TD_CHAIN_PROBLEM_COUNT; k++)
		if (f->problems & (1u << k))
			arr_add(p, json_string(td_chain_problem_id(k)), &b.ok);
	for (unsigned i = 0; i < n; i++)
		any |= f->checks[i];
	for (unsigned k = 0; p && k < TD_CHK_COUNT; k++)
		if (any & (1u << k))
			arr_add(p, json_string(td_chain_check_id(k)), &b.ok);
	put(&b, "problems", p);
	put(&b, "ca_ok", f->ca_checked ? json_boolean(f->ca_ok) : json_null());
	put(&b, "ca_verdict",
	    f->ca_checked ? td_report_json_wire((const uint8_t *)f->ca_verdict,
						strnlen(f->ca_verdict, sizeof f->ca_verdict))
			  : json_null());
	put(&b, "ca_error_depth",
	    f->ca_checked && f->ca_depth >= 0 ? json_integer(f->ca_depth) : json_null());
	put(&b, "expected_certificate", j_expected(f));
	put(&b, "sni_history", j_sni_history(&f->sni_history));
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
	put(&b, "encapsulation", j_encap(s->encap));
	put(&b, "roles", json_string(td_report_roles_name(s)));
	put(&b, "midstream", json_boolean(s->midstream));
	put(&b, "seen", json_string(!s->packets[0]   ? "server only"
				    : !s->packets[1] ? "client only"
						     : "both"));
	put(&b, "starttls", s->starttls ? json_string(td_starttls_name(s->starttls)) : json_null());
	put(&b, "starttls_frame", s->starttls ? j_frame(s->starttls_frame) : json_null());
	put(&b, "ndpi", j_ndpi(&s->ndpi));
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
		j_cert_checks(c, s, i, &b.ok);
		arr_add(a, c, &b.ok);
	}
	put(&b, "certificates", a);
	put(&b, "chain", j_chain(s));

	/* the client's chain (mutual TLS), in the order sent */
	a = json_array();
	n = s->n_client_certs < TD_MAX_CHAIN ? s->n_client_certs : TD_MAX_CHAIN;
	for (size_t i = 0; i < n; i++)
		arr_add(a, j_cert(i, s->client_certs[i]), &b.ok);
	put(&b, "client_certificates", a);
	put(&b, "client_certificate_frame", j_frame(s->client_cert_frame));

	a = json_array();
	n = s->n_alerts < TD_MAX_ALERTS ? s->n_alerts : TD_MAX_ALERTS;
	for (size_t i = 0; i < n; i++)
		arr_add(a, j_alert(&s->alerts[i]), &b.ok);
	put(&b, "alerts", a);
	put(&b, "alerts_total", json_integer(s->total_alerts));
	put(&b, "decryption", j_decryption(s));

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
	put(&b, "resyncs", j_pair_u64(s->resyncs[0], s->resyncs[1]));
	put(&b, "findings", j_findings(s->findings, &b.ok));
	put(&b, "findings_total", json_integer(s->findings ? s->findings->total : 0));
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

/* How the packets were read: live (the interface, the drop counters) or
 * from files (live false, the rest null). */
static json_t *j_summary_capture(const struct td_summary *sum)
{
	struct jb b = jb_new();

	if (!b.o)
		return NULL;
	put(&b, "live", json_boolean(sum->live));
	put(&b, "interface", sum->live && sum->interface ? td_report_json_cstr(sum->interface)
							   : json_null());
	put(&b, "dropped_kernel", sum->live ? j_u64(sum->dropped_kernel) : json_null());
	put(&b, "dropped_interface", sum->live ? j_u64(sum->dropped_iface) : json_null());
	return jb_done(&b);
}

/* Every SNI and server endpoint that presented more than one leaf:
 * [{"sni" | "server", "connections", "distinct_certificates",
 * "distinct_public_keys", "at_least", "certificates": [{"sha256",
 * "spki_sha256", "connections"}]}]. */
static json_t *j_consistency(const struct td_consistency *c, bool *ok)
{
	size_t n;
	const struct td_consist_entry *e = td_consistency_entries(c, &n);
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		struct jb b;
		json_t *leaves;

		if (e[i].n_leaves < 2)
			continue;
		b = jb_new();
		if (!b.o) {
			*ok = false;
			break;
		}
		put(&b, e[i].kind == TD_CONSIST_SNI ? "sni" : "server",
		    td_report_json_wire(e[i].key, e[i].key_len));
		put(&b, "connections", j_u64(e[i].connections));
		put(&b, "distinct_certificates", json_integer(e[i].n_leaves));
		put(&b, "distinct_public_keys", json_integer(e[i].distinct_keys));
		put(&b, "at_least", json_boolean(e[i].overflow));
		leaves = json_array();
		for (unsigned k = 0; leaves && k < e[i].n_leaves; k++)
			arr_add(leaves, j_consist_leaf(&e[i].leaves[k]), &b.ok);
		put(&b, "certificates", leaves);
		arr_add(a, jb_done(&b), ok);
	}
	return a;
}

/* [decrypt]: null without secrets; else connections per status (every
 * status, zeros included) and the Finished checks. */
static json_t *j_summary_decryption(const struct td_summary *sum)
{
	struct jb b, st;

	if (!sum->decrypt_on)
		return json_null();
	b = jb_new();
	st = jb_new();
	if (st.o)
		for (int i = TD_DECRYPT_DONE; i < TD_DECRYPT_STATUS_COUNT; i++)
			put(&st, td_decrypt_status_name((enum td_decrypt_status)i),
			    j_u64(sum->decrypt_by_status[i]));
	put(&b, "connections", jb_done(&st));
	put(&b, "finished_verified", j_u64(sum->finished_verified));
	put(&b, "finished_failed", j_u64(sum->finished_failed));
	return jb_done(&b);
}

/* --save-evidence's counters, or null when it was not asked for. */
static json_t *j_summary_evidence(const struct td_summary *sum)
{
	struct jb b;

	if (!sum->evidence.file)
		return json_null();
	b = jb_new();
	put(&b, "file", td_report_json_cstr(sum->evidence.file));
	put(&b, "min_severity", json_string(td_severity_name(sum->evidence.min_severity)));
	put(&b, "max_bytes_per_connection", j_u64(sum->evidence.max_bytes));
	put(&b, "connections", j_u64(sum->evidence.connections));
	put(&b, "frames", j_u64(sum->evidence.frames));
	put(&b, "connections_capped", j_u64(sum->evidence.connections_capped));
	put(&b, "frames_over_cap", j_u64(sum->evidence.frames_over_cap));
	put(&b, "fragmented_segments_not_kept", j_u64(sum->evidence.segments_fragments_lost));
	put(&b, "frames_other_link_type", j_u64(sum->evidence.frames_other_link));
	return jb_done(&b);
}

/* The not-decoded rows of the summary: [{"what": "ethertype 0x88cc",
 * "packets": 3}, ...], and "other" for fields past the table. */
static json_t *j_not_decoded(const struct td_summary *sum)
{
	json_t *a = json_array();
	bool ok = true;

	if (!a)
		return NULL;
	for (size_t i = 0; i < sum->n_not_decoded; i++) {
		char what[64];
		struct jb o = jb_new();
		const struct td_not_decoded *nd = &sum->not_decoded[i];
		if (!o.o)
			continue;
		td_decode_unknown_str(nd->kind, nd->value, what, sizeof what);
		put(&o, "what", json_string(what));
		put(&o, "packets", j_u64(nd->packets));
		arr_add(a, jb_done(&o), &ok);
	}
	if (sum->not_decoded_other) {
		struct jb o = jb_new();
		if (o.o) {
			put(&o, "what", json_string("other"));
			put(&o, "packets", j_u64(sum->not_decoded_other));
			arr_add(a, jb_done(&o), &ok);
		}
	}
	if (!ok) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *j_defrag(const struct td_defrag_stats *st)
{
	struct jb o = jb_new();

	if (!o.o)
		return NULL;
	put(&o, "fragments", j_u64(st->fragments));
	put(&o, "reassembled", j_u64(st->reassembled));
	put(&o, "pending", j_u64(st->pending));
	put(&o, "timed_out", j_u64(st->timed_out));
	put(&o, "overlaps", j_u64(st->overlaps));
	put(&o, "oversized", j_u64(st->oversized));
	put(&o, "too_many_fragments", j_u64(st->too_many));
	put(&o, "inconsistent", j_u64(st->inconsistent));
	put(&o, "evicted", j_u64(st->evicted));
	put(&o, "truncated", j_u64(st->truncated));
	return jb_done(&o);
}

json_t *td_report_summary_json(const struct td_summary *sum)
{
	struct jb b = jb_new(), d, c, ce, f;
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
	put(&b, "capture", j_summary_capture(sum));

	d = jb_new();
	if (d.o) {
		put(&d, "tcp", j_u64(sum->tcp_packets));
		put(&d, "not_tcp", j_u64(sum->not_tcp));
		put(&d, "truncated", j_u64(sum->truncated));
		put(&d, "malformed", j_u64(sum->malformed));
		put(&d, "fragments", j_u64(sum->fragments));
		put(&d, "unsupported_link", j_u64(sum->unsupported_link));
		put(&d, "filtered_out", j_u64(sum->filtered_out));
		put(&d, "not_decoded", j_not_decoded(sum));
		put(&d, "ip_reassembly", j_defrag(&sum->defrag));
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
	f = jb_new();
	if (f.o) {
		uint64_t total = 0;
		for (int i = TD_SEV_COUNT - 1; i >= 0; i--) {
			put(&f, td_severity_name((unsigned)i), j_u64(sum->findings_by_severity[i]));
			total += sum->findings_by_severity[i];
		}
		put(&f, "total", j_u64(total));
	}
	put(&b, "findings", jb_done(&f));

	ce = jb_new();
	if (ce.o) {
		put(&ce, "distinct", j_u64(sum->certs_distinct));
		put(&ce, "parsed", j_u64(sum->x509_parses));
		put(&ce, "cache_hits", j_u64(sum->x509_hits));
	}
	put(&b, "certificates", jb_done(&ce));
	{
		json_t *keys = json_array();
		for (size_t i = 0; keys && i < sum->n_keys; i++)
			arr_add(keys,
				json_pack("{s:o,s:I}", "file", td_report_json_cstr(sum->keys[i].path),
					  "certificates_matched",
					  (json_int_t)sum->keys[i].certificates_matched),
				&b.ok);
		put(&b, "keys", keys);
	}
	put(&b, "certificate_consistency", j_consistency(sum->consistency, &b.ok));
	put(&b, "certificate_consistency_untracked", j_u64(td_consistency_untracked(sum->consistency)));
	put(&b, "certificate_consistency_bytes", j_u64(td_consistency_bytes(sum->consistency)));
	put(&b, "decryption", j_summary_decryption(sum));
	put(&b, "flows_evicted", j_u64(sum->flows_evicted));
	put(&b, "flows_evicted_memory", j_u64(sum->flows_evicted_memory));
	put(&b, "memory_cap", j_u64(sum->memory_cap));
	put(&b, "memory_peak", j_u64(sum->memory_peak));
	put(&b, "handshake_too_big", j_u64(sum->hs_too_big));
	put(&b, "desyncs", j_u64(sum->desyncs));
	put(&b, "evidence", j_summary_evidence(sum));
	put(&b, "stopped", sum->stopped ? td_report_json_cstr(sum->stopped) : json_null());
	return jb_done(&b);
}

/* The writer: the same bytes json_dumpf(v, out, TD_REPORT_JSON_FLAGS)
 * writes (compact, insertion order, %.15g reals with ".0" added and the
 * exponent's '+' and leading zeros dropped, strings escaped as jansson
 * escapes them: '"', '\\', and control characters below 0x20, \u with
 * upper-case hex), but into a td_report_buf written with one fwrite() per
 * line instead of jansson's callback per token, which took 45 % of a --json run
 * (bench/README.md). The tree is ours: its depth is the builders', not the
 * wire's, so the recursion is bounded. test/check_output.c compares the
 * two writers on every sample and on generated trees. */
/* Whether one of the 8 bytes of x is below 0x20, '"' or '\\': the exact
 * word tests "has a byte below n" ((x - n*ones) & ~x & highs, n <= 128)
 * and "has a zero byte" (the same with n = 1) on x and on x xor the
 * character. */
static bool jw_word_special(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

	return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
}

static void jw_string(struct td_report_buf *w, const char *s, size_t len)
{
	size_t run = 0, i = 0;

	td_report_buf_putc(w, '"');
	while (i < len) {
		unsigned char c;
		char esc[8];
		const char *e;
		uint64_t x;

		if (len - i >= 8) {
			memcpy(&x, s + i, 8);
			if (!jw_word_special(x)) {
				i += 8;
				continue;
			}
		}
		c = (unsigned char)s[i++];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		td_report_buf_put(w, s + run, i - 1 - run);
		run = i;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			snprintf(esc, sizeof esc, "\\u%04X", c);
			e = esc;
		}
		td_report_buf_put(w, e, strlen(e));
	}
	td_report_buf_put(w, s + run, len - run);
	td_report_buf_putc(w, '"');
}

/* v as jansson writes it when v is a whole number of thousandths
 * (offset_ms: microseconds / 1000), without snprintf(); false for any
 * other v. Why it is the same text: td_report_thousandths() puts v within
 * 3.4e-16 relative of k/1000 with |k| < 10^15, while 15-digit decimals
 * near v are more than 1e-15 relative apart: rounded to 15 significant
 * digits v is k/1000, which has at most 15 of them. "%.15g" writes it in
 * plain notation (the exponent is between -3 and 11) without trailing
 * zeros, and jansson adds ".0" when no '.' is left. -0.0 goes the slow
 * way. test/check_report.c compares with jansson on such values and on
 * their neighbours. */
static bool jw_real_ms(struct td_report_buf *w, double v)
{
	char b[32];
	size_t len = sizeof b;
	long long k;
	unsigned long long u, frac;
	const char *start;

	if (!td_report_thousandths(v, &k))
		return false;
	u = k < 0 ? 0ULL - (unsigned long long)k : (unsigned long long)k;
	frac = u % 1000;
	u /= 1000;
	if (frac == 0) {
		b[--len] = '0';
	} else {
		int digits = 3;

		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		while (digits-- > 0) {
			b[--len] = (char)('0' + frac % 10);
			frac /= 10;
		}
	}
	b[--len] = '.';
	start = td_report_dec(b + len, u, k < 0);
	td_report_buf_put(w, start, (size_t)(b + sizeof b - start));
	return true;
}

/* jansson's jsonp_dtostr() with precision 15, in the "C" locale. */
static void jw_real(struct td_report_buf *w, double v)
{
	char b[48];
	int len;
	char *e;

	if (jw_real_ms(w, v))
		return;
	len = snprintf(b, sizeof b - 3, "%.15g", v);
	if (len < 0 || (size_t)len >= sizeof b - 3) {
		w->err = true;
		return;
	}
	if (!strchr(b, '.') && !strchr(b, 'e')) {
		memcpy(b + len, ".0", 3);
		len += 2;
	}
	e = strchr(b, 'e');
	if (e) {
		char *start = e + 1, *end = e + 2;

		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, (size_t)len - (size_t)(end - b) + 1);
			len -= (int)(end - start);
		}
	}
	td_report_buf_put(w, b, (size_t)len);
}

static void jw_value(struct td_report_buf *w, const json_t *v)
{
	char num[24];

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		bool first = true;

		td_report_buf_putc(w, '{');
		/* json_object_foreach() with the key's stored length */
		for (void *it = json_object_iter((json_t *)v); it;
		     it = json_object_iter_next((json_t *)v, it)) {
			if (!first)
				td_report_buf_putc(w, ',');
			first = false;
			jw_string(w, json_object_iter_key(it), json_object_iter_key_len(it));
			td_report_buf_putc(w, ':');
			jw_value(w, json_object_iter_value(it));
		}
		td_report_buf_putc(w, '}');
		break;
	}
	case JSON_ARRAY:
		td_report_buf_putc(w, '[');
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				td_report_buf_putc(w, ',');
			jw_value(w, json_array_get(v, i));
		}
		td_report_buf_putc(w, ']');
		break;
	case JSON_STRING:
		jw_string(w, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER: {
		/* Digits backwards, no snprintf(): integers are most values. */
		json_int_t i = json_integer_value(v);
		unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
		const char *start = td_report_dec(num + sizeof num, u, i < 0);

		td_report_buf_put(w, start, (size_t)(num + sizeof num - start));
		break;
	}
	case JSON_REAL:
		jw_real(w, json_real_value(v));
		break;
	case JSON_TRUE:
		td_report_buf_put(w, "true", 4);
		break;
	case JSON_FALSE:
		td_report_buf_put(w, "false", 5);
		break;
	case JSON_NULL:
		td_report_buf_put(w, "null", 4);
		break;
	}
}

int td_report_json_dump(FILE *out, const json_t *v)
{
	char mem[TD_REPORT_BUF_LEN];
	struct td_report_buf w;

	td_report_buf_init(&w, out, mem, sizeof mem);
	jw_value(&w, v);
	return td_report_buf_end(&w);
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
	{
		char mem[TD_REPORT_BUF_LEN];
		struct td_report_buf w;

		td_report_buf_init(&w, out, mem, sizeof mem);
		jw_value(&w, v);
		td_report_buf_putc(&w, '\n');
		td_report_buf_end(&w);
	}
}

/* The tree of one line lives in a bump arena: a connection's tree is
 * about a thousand small jansson nodes, and malloc() and free() of each
 * took a quarter of a --json run on the handshake-heavy workload (perf:
 * malloc 14 %, free and json_delete 12 %). jansson takes its
 * allocator only as process-wide hooks (json_set_alloc_funcs()), so the
 * hooks are installed for the window of one line - build, write, drop -
 * and the previous ones put back after it; the arena is reached through
 * the one pointer below, set only inside that window. Nothing else runs
 * in the window: the builders call no code that keeps a jansson value, the
 * tree is written and then dropped whole with its chunks, without
 * json_decref() (whose frees would all be no-ops). jansson frees inside
 * the window (a rehashed object's old buckets, an unfinished builder's
 * json_decref()) are no-ops for arena memory and go to the previous free
 * for anything else. Not reentrant, and one thread at a time: the hooks
 * are process-wide (the pipeline is single-threaded). Trees returned by
 * td_report_session_json() are outside any window: ordinary jansson
 * values the caller json_decref()s. */
struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	max_align_t data[];
};

struct arena {
	struct arena_chunk *chunks; /* newest first */
	json_malloc_t prev_malloc;
	json_free_t prev_free;
};

#define ARENA_CHUNK (64 * 1024)

static struct arena *arena_cur; /* non-NULL only inside a line's window */

static void *arena_malloc(size_t n)
{
	struct arena *a = arena_cur;
	struct arena_chunk *c = a->chunks;
	size_t need = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	void *p;

	if (need < n)
		return NULL;
	if (!c || need > c->size - c->used) {
		size_t size = need > ARENA_CHUNK ? need : ARENA_CHUNK;

		if (size > SIZE_MAX - sizeof *c || !(c = malloc(sizeof *c + size)))
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = a->chunks;
		a->chunks = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	return p;
}

static void arena_free(void *p)
{
	for (const struct arena_chunk *c = arena_cur->chunks; c; c = c->next)
		if ((const char *)p >= (const char *)c->data &&
		    (const char *)p < (const char *)c->data + c->size)
			return;
	arena_cur->prev_free(p);
}

static void arena_begin(struct arena *a)
{
	a->chunks = NULL;
	json_get_alloc_funcs(&a->prev_malloc, &a->prev_free);
	arena_cur = a;
	json_set_alloc_funcs(arena_malloc, arena_free);
}

static void arena_end(struct arena *a)
{
	json_set_alloc_funcs(a->prev_malloc, a->prev_free);
	arena_cur = NULL;
	while (a->chunks) {
		struct arena_chunk *c = a->chunks;

		a->chunks = c->next;
		free(c);
	}
}

void td_report_json_session(FILE *out, const struct td_session *s)
{
	struct arena a;

	arena_begin(&a);
	write_line(out, td_report_session_json(s), "connection");
	arena_end(&a);
}

void td_report_json_summary(FILE *out, const struct td_summary *sum)
{
	struct arena a;

	arena_begin(&a);
	write_line(out, td_report_summary_json(sum), "summary");
	arena_end(&a);
}
