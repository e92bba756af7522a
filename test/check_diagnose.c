/* check_diagnose.c - the diagnosis on hand-built sessions: the cause that
 * the scenario makes true must rank first, and the evidence that decides
 * it must be named. */
#include <check.h>
#include <string.h>

#include "td_decrypt.h"
#include "td_diagnose.h"
#include "td_rules.h"
#include "td_starttls.h"
#include "td_test_util.h"
#include "td_x509.h"

#define SUITE_RSA_AES128_GCM 0x009C
#define SUITE_ECDHE_RSA_AES128_GCM 0xC02F

static struct td_cert leaf;

/* A TLS 1.2 session that reached the client's Finished; the caller adds
 * the alert and whatever else the scenario needs. */
static void session_tls12(struct td_session *s, uint16_t suite)
{
	td_test_session_reset(s);
	s->is_tls = true;
	s->server.family = 4;
	s->server.bytes[0] = 10;
	s->server.bytes[3] = 2;
	s->server_port = 443;
	s->packets[TD_DIR_C2S] = s->packets[TD_DIR_S2C] = 5; /* both directions seen */
	s->first_ts.sec = 1800000000;
	td_session_ch(s)->seen = true;
	td_session_ch(s)->legacy_version = 0x0303;
	td_session_ch(s)->total_suites = 2;
	td_session_sh(s)->seen = true;
	td_session_sh(s)->legacy_version = 0x0303;
	td_session_sh(s)->suite = suite;
	s->stage = TD_STAGE_CLIENT_FINISHED;
	memset(&leaf, 0, sizeof leaf);
	leaf.parsed = true;
	leaf.subject = "CN=server.example";
	leaf.issuer = "CN=Some CA";
	leaf.not_before = 1700000000;
	leaf.not_after = 1900000000;
	leaf.key.spki_sha256[0] = 0xab;
	td_test_set_cert(s, 0, &leaf);
	s->n_certs = 1;
	s->total_certs = 1;
}

static void add_alert(struct td_session *s, int dir, uint8_t desc, enum td_phase phase)
{
	struct td_alert *a = td_session_add_alert(s, &(struct td_alert){0});
	ck_assert_ptr_nonnull(a);
	a->dir = (uint8_t)dir;
	a->level = 2;
	a->desc = desc;
	a->phase = (uint8_t)phase;
	a->frame = 9;
}

static const struct td_cause *find(const struct td_diagnosis *d, const char *id)
{
	for (unsigned i = 0; i < d->n; i++)
		if (strcmp(d->causes[i].id, id) == 0)
			return &d->causes[i];
	return NULL;
}

static bool mentions(const struct td_cause *c, const char *words)
{
	for (unsigned i = 0; i < c->n_for; i++)
		if (strstr(c->evidence_for[i], words))
			return true;
	for (unsigned i = 0; i < c->n_against; i++)
		if (strstr(c->evidence_against[i], words))
			return true;
	return false;
}

static void finish(struct td_session *s, enum td_end end, int by)
{
	s->end = (uint8_t)end;
	s->end_by = (int8_t)by;
	td_session_finish(s);
}

/* The classic case: RSA key exchange, bad_record_mac from the server
 * right after the client's Finished. */
START_TEST(test_bad_record_mac_rsa)
{
	struct td_session s = {0};
	struct td_diagnosis d;

	session_tls12(&s, SUITE_RSA_AES128_GCM);
	add_alert(&s, TD_DIR_S2C, 20, TD_PHASE_AFTER_CLIENT_FINISHED);
	finish(&s, TD_END_FIN, TD_DIR_S2C);
	td_diagnose(&s, "x.pcap", &d);
	ck_assert_uint_ge(d.n, 2);
	ck_assert_str_eq(d.causes[0].id, "server-key-mismatch");
	ck_assert_ptr_nonnull(strstr(d.problem, "bad_record_mac"));
	/* without --key: worth checking, not proven; the next step says how */
	ck_assert_int_lt(d.causes[0].likelihood, 70);
	ck_assert_ptr_nonnull(strstr(d.causes[0].next_step, "--key"));
	ck_assert_ptr_nonnull(strstr(d.causes[0].next_step, "openssl pkey"));

	/* --key given and not matching: likely */
	s.keys_given = true;
	td_test_set_key_match(&s, 0, NULL);
	td_diagnose(&s, "x.pcap", &d);
	ck_assert_str_eq(d.causes[0].id, "server-key-mismatch");
	ck_assert_int_ge(d.causes[0].likelihood, 70);
	ck_assert(mentions(&d.causes[0], "none of the --key files matches"));

	/* --key matching: the key is ruled out and drops below the others */
	td_test_set_key_match(&s, 0, "server.key");
	td_diagnose(&s, "x.pcap", &d);
	const struct td_cause *km = find(&d, "server-key-mismatch");
	ck_assert_ptr_nonnull(km);
	ck_assert_int_lt(km->likelihood, 20);
	ck_assert_str_ne(d.causes[0].id, "server-key-mismatch");
	ck_assert(mentions(km, "server.key matches"));
	td_session_clear(&s, NULL);
}
END_TEST

/* With ECDHE a wrong key would have failed the signature earlier: the
 * key mismatch ranks below corrupted traffic. */
START_TEST(test_bad_record_mac_ecdhe)
{
	struct td_session s = {0};
	struct td_diagnosis d;

	session_tls12(&s, SUITE_ECDHE_RSA_AES128_GCM);
	add_alert(&s, TD_DIR_S2C, 20, TD_PHASE_AFTER_CLIENT_FINISHED);
	finish(&s, TD_END_FIN, TD_DIR_S2C);
	td_diagnose(&s, NULL, &d);
	ck_assert_ptr_null(find(&d, "server-key-mismatch"));
	const struct td_cause *dhe = find(&d, "key-mismatch-with-dhe");
	const struct td_cause *alt = find(&d, "traffic-altered");
	ck_assert_ptr_nonnull(dhe);
	ck_assert_ptr_nonnull(alt);
	ck_assert_int_lt(dhe->likelihood, alt->likelihood);
	ck_assert_ptr_nonnull(strstr(dhe->basis, "signs"));
	td_session_clear(&s, NULL);
}
END_TEST

/* TCP overlaps with different bytes make corruption the first suspect. */
START_TEST(test_bad_record_mac_overlaps)
{
	struct td_session s = {0};
	struct td_diagnosis d;

	session_tls12(&s, SUITE_ECDHE_RSA_AES128_GCM);
	add_alert(&s, TD_DIR_S2C, 20, TD_PHASE_AFTER_CLIENT_FINISHED);
	s.tcp.overlaps_differ = 3;
	finish(&s, TD_END_FIN, TD_DIR_S2C);
	td_diagnose(&s, NULL, &d);
	ck_assert_str_eq(d.causes[0].id, "traffic-altered");
	ck_assert(mentions(&d.causes[0], "3 overlapping TCP segments"));
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_certificate_expired_vs_clock)
{
	struct td_session s = {0};
	struct td_diagnosis d;

	session_tls12(&s, SUITE_ECDHE_RSA_AES128_GCM);
	add_alert(&s, TD_DIR_C2S, 45, TD_PHASE_AFTER_SERVER_FLIGHT);
	leaf.not_after = s.first_ts.sec - 86400; /* expired the day before */
	finish(&s, TD_END_FIN, TD_DIR_C2S);
	td_diagnose(&s, NULL, &d);
	ck_assert_str_eq(d.causes[0].id, "certificate-expired");
	ck_assert(mentions(&d.causes[0], "expired on"));

	leaf.not_after = s.first_ts.sec + 86400 * 30; /* valid: the clock is wrong */
	td_diagnose(&s, NULL, &d);
	ck_assert_str_eq(d.causes[0].id, "clock-skew");
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_unknown_ca)
{
	struct td_session s = {0};
	struct td_diagnosis d;

	session_tls12(&s, SUITE_ECDHE_RSA_AES128_GCM);
	add_alert(&s, TD_DIR_C2S, 48, TD_PHASE_AFTER_SERVER_FLIGHT);
	finish(&s, TD_END_FIN, TD_DIR_C2S);
	/* a lone leaf, not self-signed: the intermediate may be missing */
	td_diagnose(&s, NULL, &d);
	ck_assert_ptr_nonnull(find(&d, "incomplete-chain"));
	ck_assert(mentions(find(&d, "incomplete-chain"), "only its leaf"));
	/* self-signed: not trusted */
	leaf.self_signed = true;
	leaf.issuer = leaf.subject;
	td_diagnose(&s, NULL, &d);
	ck_assert_str_eq(d.causes[0].id, "untrusted-issuer");
	ck_assert(mentions(&d.causes[0], "self-signed"));
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_closed_without_alert)
{
	struct td_session s = {0};
	struct td_diagnosis d;

	session_tls12(&s, SUITE_ECDHE_RSA_AES128_GCM);
	td_session_sh(&s)->seen = false;
	s.n_certs = 0;
	s.stage = TD_STAGE_CLIENT_HELLO;
	s.end_frame = 5;
	finish(&s, TD_END_RST, TD_DIR_S2C);
	td_diagnose(&s, NULL, &d);
	ck_assert_uint_ge(d.n, 1);
	ck_assert_str_eq(d.causes[0].id, "closed-without-alert");
	ck_assert(mentions(&d.causes[0], "TCP RST at frame 5"));
	td_session_clear(&s, NULL);
}
END_TEST

/* A ClientHello answered in plain text, closed by the client. */
static void plain_session(struct td_session *s, uint16_t port, const char *reply)
{
	struct td_plain_text *pt;

	session_tls12(s, SUITE_ECDHE_RSA_AES128_GCM);
	td_session_sh(s)->seen = false;
	s->n_certs = 0;
	s->stage = TD_STAGE_CLIENT_HELLO;
	s->server_port = port;
	s->end_frame = 7;
	td_session_ch(s)->frame = 5;
	pt = td_session_plain(s);
	ck_assert_ptr_nonnull(pt);
	pt->reply.frame = 6;
	pt->reply.len = (uint8_t)strlen(reply);
	memcpy(pt->reply.text, reply, pt->reply.len);
}

/* The plain text ranks first and names the protocol its first bytes
 * show; the close without an alert is explained by it. The next step
 * follows the protocol: an HTTP URL; for a server that greeted in plain
 * SMTP, the other mode's port (RFC 8314 §3.3: 465 implicit, 587 with
 * STARTTLS). */
START_TEST(test_server_answered_plain_text)
{
	struct td_session s = {0};
	struct td_diagnosis d;
	const struct td_cause *c;

	plain_session(&s, 8443, "HTTP/1.1 400 Bad Request");
	finish(&s, TD_END_FIN, TD_DIR_S2C);
	td_diagnose(&s, NULL, &d);
	ck_assert_uint_ge(d.n, 2);
	ck_assert_str_eq(d.causes[0].id, "server-not-tls");
	ck_assert(mentions(&d.causes[0], "at frame 6, are plain text"));
	ck_assert(mentions(&d.causes[0], "\"HTTP/1.1 400 Bad Request\" (HTTP)"));
	ck_assert(strstr(d.causes[0].next_step, "curl -v http://10.0.0.2:8443/"));
	ck_assert(!find(&d, "tls-without-starttls"));
	c = find(&d, "closed-without-alert");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_lt(c->likelihood, d.causes[0].likelihood);
	ck_assert_uint_eq(c->n_against, 1);
	td_session_clear(&s, NULL);

	/* SSH: no STARTTLS advice */
	plain_session(&s, 443, "SSH-2.0-OpenSSH_9.6");
	finish(&s, TD_END_FIN, TD_DIR_C2S);
	td_diagnose(&s, NULL, &d);
	ck_assert_str_eq(d.causes[0].id, "server-not-tls");
	ck_assert(mentions(&d.causes[0], "(SSH)"));
	ck_assert(strstr(d.causes[0].next_step, "nc 10.0.0.2 443"));
	ck_assert(!strstr(d.causes[0].next_step, "STARTTLS"));
	td_session_clear(&s, NULL);

	/* SMTP greeted on 465, the client sent its hello at once */
	for (int k = 0; k < 2; k++) {
		uint16_t port = k ? 25 : 465;
		struct td_plain_text *pt;

		plain_session(&s, port, "502 5.5.2 Error: command not recognized");
		s.starttls = TD_STARTTLS_SMTP;
		pt = td_session_plain(&s);
		pt->greeting.frame = 4;
		pt->greeting.len = 12;
		memcpy(pt->greeting.text, "220 mx ESMTP", 12);
		finish(&s, TD_END_FIN, TD_DIR_C2S);
		td_diagnose(&s, NULL, &d);
		ck_assert_str_eq(d.causes[0].id, "tls-without-starttls");
		ck_assert(!find(&d, "server-not-tls"));
		ck_assert(mentions(&d.causes[0],
				   "greeted in plain SMTP at frame 4 (\"220 mx ESMTP\")"));
		ck_assert(mentions(&d.causes[0], "at frame 5, were a ClientHello, not STARTTLS"));
		const char *want = k ? "-connect 10.0.0.2:25 -starttls smtp"
				     : "-connect 10.0.0.2:587 -starttls smtp";
		ck_assert(strstr(d.causes[0].next_step, want));
		td_session_clear(&s, NULL);
	}
}
END_TEST

/* A PROXY header, the ClientHello, and the server's FIN without a word:
 * the header is the likely cause, with its client; with a ServerHello
 * first, the server took the header and it is no cause. */
START_TEST(test_proxy_header_not_accepted)
{
	struct td_session s = {0};
	struct td_diagnosis d;
	struct td_proxy_facts *px;

	for (int answered = 0; answered < 2; answered++) {
		session_tls12(&s, SUITE_ECDHE_RSA_AES128_GCM);
		td_session_sh(&s)->seen = answered;
		s.n_certs = 0;
		s.stage = answered ? TD_STAGE_SERVER_HELLO : TD_STAGE_CLIENT_HELLO;
		s.end_frame = 7;
		td_session_ch(&s)->frame = 5;
		px = td_session_proxy(&s);
		px->version = 1;
		px->frame = 4;
		px->client.family = 4;
		px->client.bytes[0] = 203;
		px->client.bytes[2] = 113;
		px->client.bytes[3] = 7;
		px->client_port = 51234;
		finish(&s, TD_END_FIN, TD_DIR_S2C);
		td_diagnose(&s, NULL, &d);
		ck_assert_uint_ge(d.n, 1);
		if (answered) {
			ck_assert(!find(&d, "proxy-header-not-accepted"));
		} else {
			ck_assert_str_eq(d.causes[0].id, "proxy-header-not-accepted");
			ck_assert(mentions(&d.causes[0],
					   "PROXY protocol v1 header (for 203.0.113.7:51234"));
			ck_assert(mentions(&d.causes[0], "closed the connection at frame 7"));
			ck_assert(strstr(d.causes[0].next_step, "proxy_protocol"));
		}
		td_session_clear(&s, NULL);
	}
}
END_TEST

START_TEST(test_version_and_tls13_hidden)
{
	struct td_session s = {0};
	struct td_diagnosis d;

	session_tls12(&s, SUITE_ECDHE_RSA_AES128_GCM);
	add_alert(&s, TD_DIR_S2C, 70, TD_PHASE_BEFORE_SERVER_HELLO);
	finish(&s, TD_END_FIN, TD_DIR_S2C);
	td_diagnose(&s, NULL, &d);
	ck_assert_str_eq(d.causes[0].id, "version-mismatch");

	/* TLS 1.3, a client record of alert size after the server's flight */
	session_tls12(&s, 0x1301);
	td_session_sh(&s)->selected_version = 0x0304;
	s.n_certs = 0;
	s.certs_encrypted = true;
	add_alert(&s, TD_DIR_C2S, 0, TD_PHASE_AFTER_SERVER_FLIGHT);
	s.alerts[0].encrypted = s.alerts[0].probable = true;
	s.alerts[0].level = 0;
	finish(&s, TD_END_FIN, TD_DIR_C2S);
	td_diagnose(&s, NULL, &d);
	ck_assert_str_eq(d.causes[0].id, "tls13-client-rejected-server");
	ck_assert_ptr_nonnull(strstr(d.problem, "probable encrypted alert"));
	td_session_clear(&s, NULL);
}
END_TEST

/* A completed handshake without a fatal alert needs no diagnosis. */
START_TEST(test_nothing_to_explain)
{
	struct td_session s = {0};
	struct td_diagnosis d;

	session_tls12(&s, SUITE_ECDHE_RSA_AES128_GCM);
	s.finished_seen[0] = s.finished_seen[1] = true;
	finish(&s, TD_END_FIN, TD_DIR_C2S);
	ck_assert_uint_eq(s.outcome, TD_OUTCOME_COMPLETED);
	td_diagnose(&s, NULL, &d);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_str_eq(td_likelihood_word(70), "likely");
	ck_assert_str_eq(td_likelihood_word(40), "possible");
	ck_assert_str_eq(td_likelihood_word(39), "unlikely");
	td_session_clear(&s, NULL);
}
END_TEST

/* A capture with one direction only: an encrypted alert after the
 * sender's own application data closes a session, it does not abort a
 * handshake, and a one-sided connection that did not complete is
 * incomplete, not failed. With both directions, the same RST fails it. */
START_TEST(test_one_sided_capture)
{
	struct td_session s = {0};
	struct td_diagnosis d;
	struct td_event data = {.kind = TD_EV_APPDATA, .dir = TD_DIR_S2C, .count = 1, .frame = 7};

	session_tls12(&s, SUITE_ECDHE_RSA_AES128_GCM);
	s.packets[TD_DIR_C2S] = 0; /* the client's side is not in the capture */
	s.finished_seen[TD_DIR_S2C] = true;
	td_session_add_event(&s, &data);
	add_alert(&s, TD_DIR_S2C, 0, TD_PHASE_AFTER_SERVER_FLIGHT);
	s.alerts[0].encrypted = true;
	s.alerts[0].level = 0;
	s.alerts[0].frame = 8;
	ck_assert(td_session_one_sided(&s));
	ck_assert_ptr_null(td_session_aborting_alert(&s));
	finish(&s, TD_END_RST, TD_DIR_C2S);
	ck_assert_uint_eq(s.outcome, TD_OUTCOME_INCOMPLETE);
	td_diagnose(&s, NULL, &d);
	ck_assert_uint_eq(d.n, 0);

	/* the same alert with no data before it aborts the handshake */
	s.alerts[0].frame = 6;
	ck_assert_ptr_nonnull(td_session_aborting_alert(&s));

	/* both directions seen, no alert, RST: failed */
	session_tls12(&s, SUITE_ECDHE_RSA_AES128_GCM);
	finish(&s, TD_END_RST, TD_DIR_C2S);
	ck_assert_uint_eq(s.outcome, TD_OUTCOME_FAILED);
	ck_assert_uint_eq(s.aborted_how, TD_ABORT_RST);
	td_session_clear(&s, NULL);
}
END_TEST

/* A completed handshake whose findings (the rules ran first) include
 * one of high severity or above gets a diagnosis from the finding table;
 * medium findings, or none, give none. */
static void one_finding(struct td_findings *f, const char *id, unsigned sev, const char *msg)
{
	memset(f, 0, sizeof *f);
	f->n = f->total = 1;
	f->f[0].id = id;
	f->f[0].explain = "the rule's explanation";
	f->f[0].severity = (uint8_t)sev;
	f->f[0].frame = 5;
	snprintf(f->f[0].message, sizeof f->f[0].message, "%s", msg);
}

START_TEST(test_completed_with_high_finding)
{
	struct td_session s = {0};
	struct td_diagnosis d;
	struct td_findings f;

	session_tls12(&s, SUITE_ECDHE_RSA_AES128_GCM);
	s.finished_seen[0] = s.finished_seen[1] = true;
	finish(&s, TD_END_FIN, TD_DIR_C2S);
	ck_assert_uint_eq(s.outcome, TD_OUTCOME_COMPLETED);

	/* key-mismatch with --key: the file is not the server's key */
	s.keys_given = true;
	one_finding(&f, "key-mismatch", TD_SEV_CRITICAL, "no --key file matches");
	s.findings = &f;
	td_diagnose(&s, "x.pcap", &d);
	ck_assert_uint_ge(d.n, 1);
	ck_assert_str_eq(d.causes[0].id, "key-file-not-the-servers");
	ck_assert_int_ge(d.causes[0].likelihood, 70);
	ck_assert(mentions(&d.causes[0], "the handshake completed"));
	ck_assert_ptr_nonnull(strstr(d.causes[0].next_step, "openssl pkey"));
	ck_assert_ptr_nonnull(strstr(d.causes[0].next_step, "ab00000000")); /* the leaf's SPKI */
	ck_assert_ptr_nonnull(strstr(d.problem, "key-mismatch (critical)"));
	ck_assert_ptr_nonnull(strstr(d.causes[0].basis, "RFC 5246"));
	/* ... and the same SNI with another certificate before: evidence */
	const struct td_cause *other = find(&d, "another-certificate-deployed");
	ck_assert_ptr_nonnull(other);
	int before = other->likelihood;
	td_session_chain(&s)->checked = true;
	td_session_chain(&s)->sni_history.known = td_session_chain(&s)->sni_history.changed = true;
	td_session_chain(&s)->sni_history.earlier_connections = 4;
	td_session_chain(&s)->sni_history.earlier.first_connection = 2;
	td_session_chain(&s)->sni_history.earlier.first_frame = 17;
	td_diagnose(&s, "x.pcap", &d);
	other = find(&d, "another-certificate-deployed");
	ck_assert_int_gt(other->likelihood, before);
	ck_assert(mentions(other, "first in connection 2 at frame 17"));
	memset(td_session_chain(&s), 0, sizeof *s.chain);

	/* an expired leaf: not renewed ranks over the capture's clock */
	leaf.not_after = s.first_ts.sec - 86400;
	one_finding(&f, "cert-expired", TD_SEV_HIGH, "certificate [0] expired");
	td_diagnose(&s, NULL, &d);
	ck_assert_str_eq(d.causes[0].id, "certificate-not-renewed");
	ck_assert(mentions(&d.causes[0], "expired on"));
	ck_assert_ptr_nonnull(find(&d, "capture-clock-wrong"));
	ck_assert_int_lt(find(&d, "capture-clock-wrong")->likelihood, d.causes[0].likelihood);
	leaf.not_after = 1900000000;

	/* a site rule no row knows: the catch-all, with the rule's words */
	one_finding(&f, "site-pin", TD_SEV_HIGH, "pin mismatch for api.example");
	td_diagnose(&s, NULL, &d);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.causes[0].id, "rule-finding");
	ck_assert(mentions(&d.causes[0], "pin mismatch for api.example"));
	ck_assert_ptr_nonnull(strstr(d.causes[0].next_step, "the rule's explanation"));

	/* medium, or nothing: no diagnosis */
	one_finding(&f, "cert-expiring", TD_SEV_MEDIUM, "expires in 10 days");
	td_diagnose(&s, NULL, &d);
	ck_assert_uint_eq(d.n, 0);
	f.n = 0;
	td_diagnose(&s, NULL, &d);
	ck_assert_uint_eq(d.n, 0);
	s.findings = NULL;
	td_diagnose(&s, NULL, &d);
	ck_assert_uint_eq(d.n, 0);

	/* a failed handshake is explained by its alert, not its findings */
	session_tls12(&s, SUITE_ECDHE_RSA_AES128_GCM);
	add_alert(&s, TD_DIR_C2S, 48, TD_PHASE_AFTER_SERVER_FLIGHT);
	finish(&s, TD_END_FIN, TD_DIR_C2S);
	one_finding(&f, "weak-rsa-key", TD_SEV_HIGH, "1024-bit");
	s.findings = &f;
	td_diagnose(&s, NULL, &d);
	ck_assert_ptr_nonnull(strstr(d.problem, "unknown_ca"));
	ck_assert_ptr_null(find(&d, "weak-certificate-deployed"));
	td_session_clear(&s, NULL);
}
END_TEST

/* A broken chain (a wrong intermediate under the issuer's name) behind
 * unknown_ca: wrong-intermediate first, untrusted-issuer argued against. */
START_TEST(test_unknown_ca_broken_chain)
{
	struct td_session s = {0};
	struct td_diagnosis d;
	static struct td_cert wrong;

	session_tls12(&s, SUITE_ECDHE_RSA_AES128_GCM);
	wrong = leaf;
	wrong.subject = "CN=Some CA";
	wrong.issuer = "CN=Root";
	wrong.ext.has_basic_constraints = wrong.ext.is_ca = true;
	td_test_set_cert(&s, 1, &wrong);
	s.n_certs = s.total_certs = 2;
	td_session_chain(&s)->checked = true;
	td_session_chain(&s)->broken = true;
	td_session_chain(&s)->broken_at = 1;
	td_session_chain(&s)->top = 0;
	add_alert(&s, TD_DIR_C2S, 48, TD_PHASE_AFTER_SERVER_FLIGHT);
	finish(&s, TD_END_FIN, TD_DIR_C2S);
	td_diagnose(&s, NULL, &d);
	ck_assert_str_eq(d.causes[0].id, "wrong-intermediate");
	ck_assert(mentions(&d.causes[0], "has the name of the issuer of [0] but did not sign it"));
	const struct td_cause *u = find(&d, "untrusted-issuer");
	ck_assert_ptr_nonnull(u);
	ck_assert(mentions(u, "the chain is broken at [1]"));
	/* not broken: the row does not apply */
	td_session_chain(&s)->broken = false;
	td_diagnose(&s, NULL, &d);
	ck_assert_ptr_null(find(&d, "wrong-intermediate"));
	td_session_clear(&s, NULL);
}
END_TEST

/* The [decrypt] evidence table: each fact speaks for the causes it bears
 * on, and within a group only the first fact that holds. */
START_TEST(test_decrypt_evidence)
{
	struct td_session s = {0};
	struct td_diagnosis d;
	const struct td_cause *km, *alt;

	session_tls12(&s, SUITE_RSA_AES128_GCM);
	add_alert(&s, TD_DIR_S2C, 20, TD_PHASE_AFTER_CLIENT_FINISHED);
	finish(&s, TD_END_FIN, TD_DIR_S2C);
	td_diagnose(&s, NULL, &d);
	int base = find(&d, "server-key-mismatch")->likelihood;

	/* the pre-master secret fails the padding check under a --key */
	s.dec.status = TD_DECRYPT_PMS_FAILED;
	s.dec.source = TD_SRC_NONE;
	s.dec.n_keys_tried = 2;
	static const char *const key_files[] = {"a.key", "b.key"};
	s.dec.key_files = key_files;
	s.dec.n_key_files = 2;
	s.dec.pms[0] = TD_PMS_NOT_RSA;
	s.dec.pms[1] = TD_PMS_WRONG_KEY;
	td_diagnose(&s, NULL, &d);
	km = find(&d, "server-key-mismatch");
	ck_assert(mentions(km, "does not decrypt under b.key (the PKCS#1 v1.5 padding check fails)"));
	ck_assert_int_eq(km->likelihood, base + 30);

	/* a key log: the client's Finished verifies with the client's secrets */
	memset(&s.dec, 0, sizeof s.dec);
	s.dec.status = TD_DECRYPT_DONE;
	s.dec.source = TD_SRC_KEYLOG;
	s.dec.key_index = -1;
	s.dec.finished[TD_DIR_C2S] = TD_FIN_VERIFIED;
	s.dec.finished_frame[TD_DIR_C2S] = 8;
	td_diagnose(&s, NULL, &d);
	km = find(&d, "server-key-mismatch");
	ck_assert(mentions(km, "the client's Finished (frame 8) decrypts and verifies with the key "
			       "log's secrets"));
	ck_assert_int_eq(km->likelihood, base + 15);
	alt = find(&d, "traffic-altered");
	ck_assert(mentions(alt, "the client's Finished record (frame 8) opens and verifies as "
				"captured"));

	/* a record failing its check: for traffic-altered, and the Finished
	 * that opened is then not said against it (same group) */
	s.dec.failed = true;
	s.dec.fail_dir = TD_DIR_S2C;
	s.dec.fail_frame = 11;
	s.dec.fail_what = TD_DEC_BAD_TAG;
	td_diagnose(&s, NULL, &d);
	alt = find(&d, "traffic-altered");
	ck_assert(mentions(alt, "the server's record at frame 11 fails its integrity check"));
	ck_assert(mentions(alt, "when those are the server's own (its key log)"));
	ck_assert(!mentions(alt, "opens and verifies as captured"));
	/* a short record is not tampering */
	s.dec.fail_what = TD_DEC_SHORT;
	td_diagnose(&s, NULL, &d);
	ck_assert(!mentions(find(&d, "traffic-altered"), "fails its integrity check"));
	td_session_clear(&s, NULL);
}
END_TEST

Suite *td_diagnose_suite(void)
{
	Suite *s = suite_create("diagnose");
	TCase *tc = tcase_create("causes");
	tcase_add_test(tc, test_bad_record_mac_rsa);
	tcase_add_test(tc, test_bad_record_mac_ecdhe);
	tcase_add_test(tc, test_bad_record_mac_overlaps);
	tcase_add_test(tc, test_certificate_expired_vs_clock);
	tcase_add_test(tc, test_unknown_ca);
	tcase_add_test(tc, test_closed_without_alert);
	tcase_add_test(tc, test_version_and_tls13_hidden);
	tcase_add_test(tc, test_nothing_to_explain);
	tcase_add_test(tc, test_one_sided_capture);
	tcase_add_test(tc, test_completed_with_high_finding);
	tcase_add_test(tc, test_unknown_ca_broken_chain);
	tcase_add_test(tc, test_decrypt_evidence);
	tcase_add_test(tc, test_server_answered_plain_text);
	tcase_add_test(tc, test_proxy_header_not_accepted);
	suite_add_tcase(s, tc);
	return s;
}
