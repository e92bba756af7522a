/* tls.c - TLS record layer and handshake push parser (see td_tls.h).
 *
 * Three layers, each a small state machine fed bytes:
 *   records   (feed -> record_header / record_body)
 *   messages  (handshake_bytes: 4-byte header, then body buffered or skipped)
 *   contents  (parse_client_hello, parse_server_hello, parse_certificate),
 *             pure functions from a td_reader to the session facts.
 * Deciding what a message means for the connection (stage, phase,
 * encryption) is kept apart in on_handshake() / on_record().
 */
#include "td_tls.h"
#include "tls_int.h"

#include <stdlib.h>
#include <string.h>

#include "td_decompress.h"
#include "td_digest.h"
#include "td_fingerprint.h"
#include "td_names.h"
#include "td_reader.h"

/* RFC 8446 §4.2 ExtensionType values read here */
enum {
	EXT_SERVER_NAME = 0,
	EXT_MAX_FRAGMENT_LENGTH = 1, /* RFC 6066 §4 */
	EXT_SUPPORTED_GROUPS = 10,
	EXT_EC_POINT_FORMATS = 11,
	EXT_SIGNATURE_ALGORITHMS = 13,
	EXT_ALPN = 16,
	EXT_RECORD_SIZE_LIMIT = 28, /* RFC 8449 */
	EXT_PSK_MODES = 45,
	EXT_KEY_SHARE = 51,
	EXT_SUPPORTED_VERSIONS = 43,
	EXT_PRE_SHARED_KEY = 41,
};

/* Extensions whose presence alone is a fact (td_session.h TD_EXT_*). */
static const struct {
	uint16_t type;
	uint32_t flag;
} ext_flags[] = {
	{0, TD_EXT_SNI},
	{1, TD_EXT_MAX_FRAGMENT_LENGTH},
	{5, TD_EXT_STATUS_REQUEST},          /* RFC 6066 §8 */
	{15, TD_EXT_HEARTBEAT},              /* RFC 6520 */
	{18, TD_EXT_SCT},                    /* RFC 6962 §3.3.1 */
	{22, TD_EXT_ETM},                    /* RFC 7366 */
	{23, TD_EXT_EMS},                    /* RFC 7627 */
	{28, TD_EXT_RECORD_SIZE_LIMIT},
	{35, TD_EXT_TICKET},                 /* RFC 5077 */
	{41, TD_EXT_PSK},                    /* RFC 8446 §4.2.11 */
	{42, TD_EXT_EARLY_DATA},             /* RFC 8446 §4.2.10 */
	{43, TD_EXT_SUPPORTED_VERSIONS},
	{51, TD_EXT_KEY_SHARE},
	{0xff01, TD_EXT_RENEGOTIATION_INFO}, /* RFC 5746 */
	{0xfe0d, TD_EXT_ECH},                /* draft-ietf-tls-esni */
};

static uint32_t ext_flag(uint16_t type)
{
	for (size_t i = 0; i < sizeof ext_flags / sizeof ext_flags[0]; i++)
		if (ext_flags[i].type == type)
			return ext_flags[i].flag;
	return 0;
}

#define TLS13 0x0304

/* RFC 8446 §4.1.3: the ServerHello.random of a HelloRetryRequest. */
static const uint8_t hrr_random[32] = {
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
	0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
	0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

/* ---- contents: pure parsers from bytes to facts ------------------------ */

/* Reads a vector of u16 values into out (up to cap), counting all. */
static enum td_err read_u16_list(struct td_reader *r, uint16_t *out, uint16_t cap,
				 uint16_t *n, uint16_t *total)
{
	*n = *total = 0;
	if (td_reader_left(r) % 2)
		return TD_ERR_MALFORMED;
	while (td_reader_left(r)) {
		uint16_t v;
		TD_TRY(td_read_u16(r, &v));
		if (*n < cap)
			out[(*n)++] = v;
		if (*total < UINT16_MAX)
			(*total)++;
	}
	return TD_OK;
}

/* RFC 6066 §3:
 *   struct { NameType name_type; select (name_type) { case host_name:
 *            HostName; } name; } ServerName;
 *   struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
 * The first host_name is kept. */
static enum td_err parse_sni(struct td_reader *ext, struct td_client_hello *ch)
{
	struct td_reader list;
	TD_TRY(td_read_vec16(ext, &list));
	TD_TRY(td_reader_close(ext));
	while (td_reader_left(&list)) {
		uint8_t type;
		struct td_reader name;
		TD_TRY(td_read_u8(&list, &type));
		TD_TRY(td_read_vec16(&list, &name));
		if (type != 0 || ch->has_sni)
			continue;
		size_t n = td_reader_left(&name);
		if (n > TD_SNI_LEN)
			n = TD_SNI_LEN;
		TD_TRY(td_read_bytes(&name, ch->sni.bytes, n));
		ch->sni.len = (uint16_t)n;
		ch->has_sni = true;
	}
	return TD_OK;
}

/* RFC 7301 §3.1: ProtocolName protocol_name_list<2..2^16-1>, each
 * opaque ProtocolName<1..2^8-1>. */
static enum td_err parse_alpn_list(struct td_reader *ext, struct td_alpn_list *out)
{
	struct td_reader list;
	TD_TRY(td_read_vec16(ext, &list));
	TD_TRY(td_reader_close(ext));
	while (td_reader_left(&list)) {
		struct td_reader name;
		TD_TRY(td_read_vec8(&list, &name));
		if (td_reader_left(&name) == 0)
			return TD_ERR_MALFORMED;
		if (out->total < UINT8_MAX)
			out->total++;
		if (out->n >= TD_MAX_ALPN)
			continue;
		size_t n = td_reader_left(&name);
		if (n > TD_ALPN_LEN)
			n = TD_ALPN_LEN;
		TD_TRY(td_read_bytes(&name, out->name[out->n], n));
		out->len[out->n++] = (uint8_t)n;
	}
	return TD_OK;
}

static enum td_err parse_ch_extension(uint16_t type, struct td_reader *ext,
				      struct td_client_hello *ch)
{
	struct td_reader v;
	uint8_t u8;

	ch->ext_flags |= ext_flag(type);
	switch (type) {
	case EXT_KEY_SHARE: /* RFC 8446 §4.2.8 KeyShareEntry client_shares<0..2^16-1> */
		TD_TRY(td_read_vec16(ext, &v));
		TD_TRY(td_reader_close(ext));
		while (td_reader_left(&v)) {
			uint16_t group;
			struct td_reader key;
			TD_TRY(td_read_u16(&v, &group));
			TD_TRY(td_read_vec16(&v, &key));
			if (ch->n_key_shares < TD_MAX_KEY_SHARES)
				ch->key_shares[ch->n_key_shares++] = group;
		}
		return TD_OK;
	case EXT_PSK_MODES: /* RFC 8446 §4.2.9 ke_modes<1..255> */
		TD_TRY(td_read_vec8(ext, &v));
		TD_TRY(td_reader_close(ext));
		while (td_reader_left(&v)) {
			TD_TRY(td_read_u8(&v, &u8));
			if (u8 < 8)
				ch->psk_modes |= (uint8_t)(1u << u8);
		}
		return TD_OK;
	case 35: /* RFC 5077 §3.2: the ticket itself, empty when asking for one */
		ch->ticket_len = (uint16_t)td_reader_left(ext);
		ch->has_ticket = ch->ticket_len > 0;
		if (ch->has_ticket) {
			const uint8_t *ticket;
			TD_TRY(td_read_ptr(ext, &ticket, ch->ticket_len));
			td_sha256(ticket, ch->ticket_len, ch->ticket_sha256);
		}
		return TD_OK;
	case EXT_PRE_SHARED_KEY: {
		/* RFC 8446 §4.2.11: struct { opaque identity<1..2^16-1>;
		 * uint32 obfuscated_ticket_age; } PskIdentity;
		 * OfferedPsks { PskIdentity identities<7..2^16-1>; ... };
		 * only the first identity is kept */
		struct td_reader ids, id;
		const uint8_t *identity;
		TD_TRY(td_read_vec16(ext, &ids));
		TD_TRY(td_read_vec16(&ids, &id));
		size_t len = td_reader_left(&id);
		TD_TRY(td_read_ptr(&id, &identity, len));
		td_sha256(identity, len, ch->psk_identity_sha256);
		ch->has_psk_identity = true;
		return TD_OK;
	}
	case EXT_RECORD_SIZE_LIMIT:
		TD_TRY(td_read_u16(ext, &ch->record_size_limit));
		return td_reader_close(ext);
	case EXT_MAX_FRAGMENT_LENGTH:
		TD_TRY(td_read_u8(ext, &ch->max_fragment_length));
		return td_reader_close(ext);
	case EXT_SERVER_NAME:
		return parse_sni(ext, ch);
	case EXT_SUPPORTED_GROUPS: /* RFC 8446 §4.2.7 NamedGroup list<2..2^16-1> */
		TD_TRY(td_read_vec16(ext, &v));
		TD_TRY(td_reader_close(ext));
		return read_u16_list(&v, ch->groups, TD_MAX_GROUPS, &ch->n_groups,
				     &ch->total_groups);
	case EXT_SIGNATURE_ALGORITHMS: /* RFC 8446 §4.2.3 */
		TD_TRY(td_read_vec16(ext, &v));
		TD_TRY(td_reader_close(ext));
		return read_u16_list(&v, ch->sigalgs, TD_MAX_SIGALGS, &ch->n_sigalgs,
				     &ch->total_sigalgs);
	case EXT_SUPPORTED_VERSIONS: /* RFC 8446 §4.2.1 versions<2..254> */
		TD_TRY(td_read_vec8(ext, &v));
		TD_TRY(td_reader_close(ext));
		return read_u16_list(&v, ch->versions, TD_MAX_VERSIONS, &ch->n_versions,
				     &ch->total_versions);
	case EXT_EC_POINT_FORMATS: /* RFC 8422 §5.1.2 ec_point_format_list<1..2^8-1> */
		TD_TRY(td_read_vec8(ext, &v));
		TD_TRY(td_reader_close(ext));
		ch->n_point_formats = 0;
		while (td_reader_left(&v)) {
			uint8_t f;
			TD_TRY(td_read_u8(&v, &f));
			if (ch->n_point_formats < TD_MAX_POINT_FORMATS)
				ch->point_formats[ch->n_point_formats++] = f;
		}
		return TD_OK;
	case EXT_ALPN:
		return parse_alpn_list(ext, &ch->alpn);
	default:
		return TD_OK; /* unknown or not needed: skipped by length */
	}
}

/* Extension extensions<0..2^16-1> (RFC 8446 §4.2); absent in SSL 3.0 and
 * early TLS hellos, which end after the compression methods. Each
 * extension's type is kept in exts (the first cap of them) and its body
 * is parsed by fn; a malformed extension body is
 * remembered (first error) but does not stop the others. */
static enum td_err parse_extensions(struct td_reader *r, uint16_t *exts, uint16_t cap,
				    uint16_t *n, uint16_t *total,
				    enum td_err (*fn)(uint16_t, struct td_reader *, void *),
				    void *arg)
{
	enum td_err first = TD_OK;
	struct td_reader list;

	if (td_reader_left(r) == 0)
		return TD_OK;
	TD_TRY(td_read_vec16(r, &list));
	TD_TRY(td_reader_close(r));
	while (td_reader_left(&list)) {
		uint16_t type;
		struct td_reader body;
		TD_TRY(td_read_u16(&list, &type));
		TD_TRY(td_read_vec16(&list, &body));
		if (*n < cap)
			exts[(*n)++] = type;
		if (*total < UINT16_MAX)
			(*total)++;
		enum td_err e = fn(type, &body, arg);
		if (e != TD_OK && first == TD_OK)
			first = e == TD_ERR_SHORT ? TD_ERR_MALFORMED : e;
	}
	return first;
}

static enum td_err ch_ext_cb(uint16_t type, struct td_reader *body, void *arg)
{
	return parse_ch_extension(type, body, arg);
}

/* RFC 8446 §4.1.2 (and RFC 5246 §7.4.1.2):
 *   struct {
 *       ProtocolVersion legacy_version;
 *       Random random;
 *       opaque legacy_session_id<0..32>;
 *       CipherSuite cipher_suites<2..2^16-2>;
 *       opaque legacy_compression_methods<1..2^8-1>;
 *       Extension extensions<8..2^16-1>;
 *   } ClientHello;
 */
enum td_err td_tls_parse_client_hello(struct td_reader *r, struct td_client_hello *ch)
{
	struct td_reader sid, suites, comp;

	TD_TRY(td_read_u16(r, &ch->legacy_version));
	TD_TRY(td_read_bytes(r, ch->random, sizeof ch->random));
	TD_TRY(td_read_vec8(r, &sid));
	if (td_reader_left(&sid) > 32)
		return TD_ERR_MALFORMED;
	ch->session_id_len = (uint8_t)td_reader_left(&sid);
	TD_TRY(td_read_bytes(&sid, ch->session_id, ch->session_id_len));
	TD_TRY(td_read_vec16(r, &suites));
	TD_TRY(read_u16_list(&suites, ch->suites, TD_MAX_SUITES, &ch->n_suites,
			     &ch->total_suites));
	TD_TRY(td_read_vec8(r, &comp));
	if (td_reader_left(&comp) == 0)
		return TD_ERR_MALFORMED;
	ch->n_compression = (uint8_t)td_reader_left(&comp);
	for (unsigned i = 0; i < ch->n_suites; i++) {
		if (ch->suites[i] == 0x00FF) /* RFC 5746 §3.3 */
			ch->ext_flags |= TD_EXT_SCSV_RENEGOTIATION;
		if (ch->suites[i] == 0x5600) /* RFC 7507 */
			ch->ext_flags |= TD_EXT_SCSV_FALLBACK;
	}
	return parse_extensions(r, ch->exts, TD_MAX_EXTS, &ch->n_exts, &ch->total_exts, ch_ext_cb,
				ch);
}

static enum td_err sh_ext_cb(uint16_t type, struct td_reader *body, void *arg)
{
	struct td_server_hello *sh = arg;
	struct td_reader list, name, key;

	sh->ext_flags |= ext_flag(type);
	switch (type) {
	case EXT_KEY_SHARE:
		/* RFC 8446 §4.2.8: a KeyShareEntry, or in a HelloRetryRequest
		 * only the selected_group */
		TD_TRY(td_read_u16(body, &sh->key_share));
		if (!sh->hello_retry_request)
			TD_TRY(td_read_vec16(body, &key));
		return td_reader_close(body);
	case EXT_SUPPORTED_VERSIONS: /* RFC 8446 §4.2.1: selected_version */
		TD_TRY(td_read_u16(body, &sh->selected_version));
		return td_reader_close(body);
	case EXT_ALPN: /* RFC 7301 §3.1: exactly one name */
		TD_TRY(td_read_vec16(body, &list));
		TD_TRY(td_reader_close(body));
		TD_TRY(td_read_vec8(&list, &name));
		TD_TRY(td_reader_close(&list));
		sh->has_alpn = true;
		sh->alpn_len = (uint8_t)(td_reader_left(&name) < TD_ALPN_LEN
						 ? td_reader_left(&name)
						 : TD_ALPN_LEN);
		return td_read_bytes(&name, sh->alpn, sh->alpn_len);
	default:
		return TD_OK;
	}
}

/* RFC 8446 §4.3.1: EncryptedExtensions (seen only decrypted) carries the
 * TLS 1.3 server's ALPN choice; it is kept with the ServerHello's facts. */
static enum td_err ee_ext_cb(uint16_t type, struct td_reader *body, void *arg)
{
	return type == EXT_ALPN ? sh_ext_cb(type, body, arg) : TD_OK;
}

/* TLS 1.3 drafts before -22 had no session id echo and no compression
 * method: version, random, suite, extensions. */
static enum td_err server_hello_draft_rest(struct td_reader *r, struct td_server_hello *sh)
{
	TD_TRY(td_read_u16(r, &sh->suite));
	return parse_extensions(r, sh->exts, TD_MAX_SH_EXTS, &sh->n_exts, &sh->total_exts, sh_ext_cb,
				sh);
}

/* RFC 8446 §4.1.3:
 *   struct {
 *       ProtocolVersion legacy_version = 0x0303;
 *       Random random;
 *       opaque legacy_session_id_echo<0..32>;
 *       CipherSuite cipher_suite;
 *       uint8 legacy_compression_method = 0;
 *       Extension extensions<6..2^16-1>;
 *   } ServerHello;
 */
enum td_err td_tls_parse_server_hello(struct td_reader *r, struct td_server_hello *sh)
{
	const uint8_t *random = sh->random;
	struct td_reader sid, at;
	enum td_err e;

	TD_TRY(td_read_u16(r, &sh->legacy_version));
	TD_TRY(td_read_bytes(r, sh->random, sizeof sh->random));
	sh->hello_retry_request = memcmp(random, hrr_random, sizeof sh->random) == 0;
	/* RFC 8446 §4.1.3: a TLS 1.3 server negotiating less says so in the
	 * last 8 bytes of its random */
	if (memcmp(random + 24, "DOWNGRD", 7) == 0 && random[31] <= 1)
		sh->downgrade = random[31] ? 12 : 11;
	at = *r;
	if ((sh->legacy_version >> 8) == 0x7f && (sh->legacy_version & 0xff) < 22)
		return server_hello_draft_rest(r, sh);
	e = td_read_vec8(r, &sid);
	if (e == TD_OK && td_reader_left(&sid) > 32)
		e = TD_ERR_MALFORMED;
	if (e == TD_OK) {
		sh->session_id_len = (uint8_t)td_reader_left(&sid);
		e = td_read_bytes(&sid, sh->session_id, sh->session_id_len);
	}
	if (e == TD_OK)
		e = td_read_u16(r, &sh->suite);
	if (e == TD_OK)
		e = td_read_u8(r, &sh->compression);
	if (e != TD_OK && sh->legacy_version == 0x0304) {
		/* early drafts also wrote 0x0304 there (RFC 8446 servers
		 * write 0x0303): read the draft layout when the final one
		 * does not fit */
		sh->session_id_len = 0;
		sh->compression = 0;
		*r = at;
		return server_hello_draft_rest(r, sh);
	}
	TD_TRY(e);
	return parse_extensions(r, sh->exts, TD_MAX_SH_EXTS, &sh->n_exts, &sh->total_exts, sh_ext_cb,
				sh);
}

/* RFC 5246 §7.4.2: opaque ASN.1Cert<1..2^24-1>;
 *                  struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;
 * RFC 8446 §4.4.2 adds a request context and per-entry extensions:
 *   struct { opaque cert_data<1..2^24-1>; Extension extensions<0..2^16-1>; } CertificateEntry;
 *   struct { opaque certificate_request_context<0..2^8-1>;
 *            CertificateEntry certificate_list<0..2^24-1>; } Certificate; */
enum td_err td_tls_parse_certificate(struct td_reader *r, bool tls13, bool client,
				     struct td_session *s, const struct td_tls_cert_sink *sink)
{
	struct td_reader ctx, list;
	uint8_t *n = client ? &s->n_client_certs : &s->n_certs;
	uint16_t *total = client ? &s->total_client_certs : &s->total_certs;

	if (tls13)
		TD_TRY(td_read_vec8(r, &ctx));
	TD_TRY(td_read_vec24(r, &list));
	TD_TRY(td_reader_close(r));
	while (td_reader_left(&list)) {
		struct td_reader cert, exts;
		const uint8_t *der;
		TD_TRY(td_read_vec24(&list, &cert));
		if (td_reader_left(&cert) == 0)
			return TD_ERR_MALFORMED;
		if (tls13)
			TD_TRY(td_read_vec16(&list, &exts));
		size_t len = td_reader_left(&cert);
		TD_TRY(td_read_ptr(&cert, &der, len));
		if (*total < UINT16_MAX)
			(*total)++;
		/* the chains are allocated as they come */
		if (*n < TD_MAX_CHAIN && sink && sink->cert && td_session_reserve_cert(s, client)) {
			const struct td_cert *c = sink->cert(sink->user, der, len);
			if (c) {
				if (client)
					s->client_certs[(*n)++] = c;
				else
					s->certs[(*n)++] = c;
			}
		}
	}
	return TD_OK;
}

/* RFC 8422 §5.4 (ECDHE) and RFC 5246 §7.4.3 (DHE):
 *   struct { ECParameters curve_params; ECPoint public; } ServerECDHParams;
 *     ECParameters: ECCurveType curve_type (3 = named_curve); NamedCurve;
 *     ECPoint: opaque point<1..2^8-1>;
 *   struct { opaque dh_p<1..2^16-1>; opaque dh_g<1..2^16-1>;
 *            opaque dh_Ys<1..2^16-1>; } ServerDHParams;
 * then, unless anonymous, digitally-signed: in TLS 1.2 a
 * SignatureAndHashAlgorithm before the signature<0..2^16-1>. */
enum td_err td_tls_parse_server_key_exchange(struct td_reader *r, const char *kx, bool signed_,
					     bool tls12, struct td_session *s)
{
	struct td_reader v, sig;
	uint8_t curve_type;

	if (strncmp(kx, "ECDH", 4) == 0) {
		TD_TRY(td_read_u8(r, &curve_type));
		if (curve_type != 3)
			return TD_ERR_UNSUPPORTED; /* explicit curves (deprecated, RFC 8422 §5.4) */
		TD_TRY(td_read_u16(r, &s->ske_group));
		TD_TRY(td_read_vec8(r, &v));
	} else if (strncmp(kx, "DH", 2) == 0) {
		TD_TRY(td_read_vec16(r, &v)); /* p */
		size_t n = td_reader_left(&v);
		uint8_t lead;
		while (n && td_read_u8(&v, &lead) == TD_OK && lead == 0)
			n--; /* leading zero bytes are not part of the size */
		s->ske_dh_bits = (uint16_t)(n > 8191 ? 65535 : n * 8);
		TD_TRY(td_read_vec16(r, &v)); /* g */
		TD_TRY(td_read_vec16(r, &v)); /* Ys */
	} else {
		return TD_ERR_UNSUPPORTED; /* RSA_EXPORT, PSK, SRP ... */
	}
	if (!signed_)
		return td_reader_close(r);
	if (tls12)
		TD_TRY(td_read_u16(r, &s->ske_sigalg));
	TD_TRY(td_read_vec16(r, &sig));
	return td_reader_close(r);
}

/* RFC 5246 §7.4.4:
 *   struct { ClientCertificateType certificate_types<1..2^8-1>;
 *            SignatureAndHashAlgorithm supported_signature_algorithms<2^16-1>;  (TLS 1.2)
 *            DistinguishedName certificate_authorities<0..2^16-1>; } */
static enum td_err parse_certificate_request(struct td_reader *r, bool tls12,
					     struct td_session *s)
{
	struct td_reader v, cas, dn;
	uint16_t kept;

	TD_TRY(td_read_vec8(r, &v));
	if (tls12) {
		TD_TRY(td_read_vec16(r, &v));
		/* kept in a block sized to the list (rare: most servers never ask) */
		if (!td_session_reserve_cr_sigalgs(s, (uint16_t)(td_reader_left(&v) / 2 >
								   TD_MAX_CR_SIGALGS
							   ? TD_MAX_CR_SIGALGS
							   : td_reader_left(&v) / 2)))
			return TD_ERR_NOMEM;
		TD_TRY(read_u16_list(&v, s->cr_sigalgs, s->cr_sigalgs_cap, &kept, &s->cr_n_sigalgs));
	}
	TD_TRY(td_read_vec16(r, &cas));
	TD_TRY(td_reader_close(r));
	while (td_reader_left(&cas)) {
		TD_TRY(td_read_vec16(&cas, &dn));
		if (s->cr_n_cas < UINT16_MAX)
			s->cr_n_cas++;
		if (s->cr_n_ca_names >= TD_MAX_CA_NAMES)
			continue;
		size_t len = td_reader_left(&dn);
		uint8_t *row = td_session_add_ca_name(s);
		if (!row)
			return TD_ERR_NOMEM;
		uint8_t i = (uint8_t)(s->cr_n_ca_names - 1);
		s->cr_ca_len[i] = len <= TD_CA_NAME_LEN ? (uint16_t)len : 0;
		if (s->cr_ca_len[i])
			TD_TRY(td_read_bytes(&dn, row, len));
	}
	return TD_OK;
}

/* RFC 6066 §8:
 *   struct { CertificateStatusType status_type;
 *            select (status_type) { case ocsp: OCSPResponse response; } response;
 *   } CertificateStatus;
 *   opaque OCSPResponse<1..2^24-1>;
 * the response itself goes to the sink (the x509 module reads DER). */
static enum td_err parse_certificate_status(struct td_reader *r, uint32_t frame,
					    struct td_session *s, const struct td_tls_cert_sink *sink)
{
	struct td_reader resp;
	const uint8_t *der;
	uint8_t type;

	TD_TRY(td_read_u8(r, &type));
	if (type != 1)
		return TD_ERR_UNSUPPORTED; /* only ocsp(1) is defined */
	TD_TRY(td_read_vec24(r, &resp));
	TD_TRY(td_reader_close(r));
	size_t len = td_reader_left(&resp);
	if (len == 0)
		return TD_ERR_MALFORMED;
	TD_TRY(td_read_ptr(&resp, &der, len));
	struct td_ocsp_facts *o = td_session_ocsp(s);
	if (!o)
		return TD_ERR_NOMEM; /* counted as an anomaly */
	o->seen = true;
	o->frame = frame;
	o->length = (uint32_t)len;
	if (sink && sink->ocsp)
		sink->ocsp(sink->user, der, len, o);
	return TD_OK;
}

/* RFC 5246 §7.4.8, §4.7:
 *   struct { digitally-signed struct { opaque handshake_messages[..]; } }
 *   CertificateVerify;
 * digitally-signed in TLS 1.2: SignatureAndHashAlgorithm algorithm;
 * opaque signature<0..2^16-1>. */
static enum td_err parse_certificate_verify(struct td_reader *r, struct td_session *s)
{
	struct td_reader sig;
	uint16_t scheme;

	TD_TRY(td_read_u16(r, &scheme));
	TD_TRY(td_read_vec16(r, &sig));
	TD_TRY(td_reader_close(r));
	s->cv_sigalg = scheme;
	return TD_OK;
}

/* RFC 5077 §3.3: struct { uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>; } */
/* RFC 5077 §3.3:
 *   struct { uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>; } NewSessionTicket;
 * RFC 8446 §4.6.1 (seen only decrypted):
 *   struct { uint32 ticket_lifetime; uint32 ticket_age_add;
 *            opaque ticket_nonce<0..255>; opaque ticket<1..2^16-1>;
 *            Extension extensions<0..2^16-2>; } NewSessionTicket; */
static enum td_err parse_new_session_ticket(struct td_reader *r, bool tls13, uint32_t frame,
					    struct td_session *s)
{
	struct td_reader t, nonce, ext;
	uint32_t age_add;
	TD_TRY(td_read_u32(r, &s->ticket_lifetime));
	if (tls13) {
		TD_TRY(td_read_u32(r, &age_add));
		TD_TRY(td_read_vec8(r, &nonce));
	}
	TD_TRY(td_read_vec16(r, &t));
	s->new_ticket_len = (uint16_t)td_reader_left(&t);
	if (s->n_new_tickets < TD_MAX_TICKETS) {
		const uint8_t *ticket;
		uint8_t digest[TD_SHA256_LEN];
		TD_TRY(td_read_ptr(&t, &ticket, s->new_ticket_len));
		td_sha256(ticket, s->new_ticket_len, digest);
		(void)td_session_add_ticket(s, digest, frame); /* out of memory: not kept */
	}
	if (tls13)
		TD_TRY(td_read_vec16(r, &ext));
	return td_reader_close(r);
}

/* ---- deciding what a message means for the connection ----------------- */

static void raise_stage(struct td_session *s, enum td_stage st)
{
	if (s->stage < st)
		s->stage = (uint8_t)st;
}

/* RFC 5246 §7.3 / RFC 8446 §2 message flows: where are we? */
static enum td_phase current_phase(const struct td_tls *t, const struct td_session *s)
{
	if (!s->sh->seen || s->sh->hello_retry_request)
		return TD_PHASE_BEFORE_SERVER_HELLO;
	if (td_session_handshake_complete(s))
		return TD_PHASE_APPLICATION;
	if (s->finished_seen[TD_DIR_C2S])
		return TD_PHASE_AFTER_CLIENT_FINISHED;
	if (t->server_flight_done)
		return TD_PHASE_AFTER_SERVER_FLIGHT;
	return TD_PHASE_SERVER_FLIGHT;
}

static void add_event(struct td_session *s, enum td_event_kind kind, int dir, uint8_t type,
		      uint32_t len, uint32_t frame, struct td_time ts)
{
	struct td_event ev = {
		.kind = (uint8_t)kind,
		.dir = (uint8_t)dir,
		.type = type,
		.count = 1,
		.len = len,
		.frame = frame,
		.ts_sec = ts.sec,
		.ts_usec = ts.usec,
	};
	td_session_add_event(s, &ev);
}

static void add_alert(struct td_tls *t, struct td_session *s, int dir, const struct td_alert *in)
{
	struct td_alert a = *in;
	a.dir = (uint8_t)dir;
	a.phase = (uint8_t)current_phase(t, s);
	if (td_session_add_alert(s, &a))
		add_event(s, TD_EV_ALERT, dir, (uint8_t)(s->n_alerts - 1), a.record_len, a.frame,
			  a.ts);
}

/* RFC 5246 §7.4.1.1: after the handshake, the only handshake messages of
 * TLS <= 1.2 are a client's new ClientHello and a server's HelloRequest:
 * a renegotiation (RFC 5746). The first one is kept. */
static void note_renegotiation(struct td_session *s, int dir, uint32_t frame)
{
	if (s->reneg_frame)
		return;
	s->reneg_frame = frame ? frame : 1;
	s->reneg_by = (int8_t)dir;
}

/* The other side speaking after the ServerHello means the server's flight
 * reached it: a client only answers a complete flight. */
static void note_client_spoke(struct td_tls *t, struct td_session *s, int dir)
{
	if (dir == TD_DIR_C2S && s->sh->seen && !s->sh->hello_retry_request)
		t->server_flight_done = true;
}

/* The fingerprints of a hello just parsed, kept in it. */
static void client_fingerprint(struct td_client_hello *ch)
{
	char str[TD_JA3_MAX];

	if (td_ja3_string(ch, str, sizeof str))
		td_ja3_hash(str, ch->ja3);
	else
		ch->ja3[0] = '\0';
	td_ja4(ch, ch->ja4);
}

static void server_fingerprint(struct td_server_hello *sh)
{
	char str[TD_JA3_MAX];

	if (td_ja3s_string(sh, str, sizeof str))
		td_ja3_hash(str, sh->ja3s);
	else
		sh->ja3s[0] = '\0';
	td_ja4s(sh, sh->ja4s);
}

/* A parse error kept in a hello: the message came whole, so one cut
 * short is malformed. */
static uint8_t hello_error(enum td_err e)
{
	return (uint8_t)(e == TD_ERR_SHORT ? TD_ERR_MALFORMED : e);
}

/* Reads a ClientHello, a TLS one or the SSLv2-compatible one (RFC 5246
 * §E.2) by parse, into the session's block for it: where it was seen, its
 * fields, its fingerprints. False when out of memory, counted as an
 * anomaly of its direction. */
static bool read_client_hello(struct td_session *s, int dir, struct td_reader *r,
			      enum td_err (*parse)(struct td_reader *, struct td_client_hello *),
			      uint16_t record_version, uint32_t frame, struct td_time ts)
{
	struct td_client_hello_wide w = {0};
	struct td_client_hello *ch = td_client_hello_wide(&w);

	ch->seen = true;
	ch->frame = frame;
	ch->ts = ts;
	ch->record_version = record_version;
	ch->malformed = hello_error(parse(r, ch));
	client_fingerprint(ch);
	if (!td_session_set_ch(s, ch)) {
		s->anomalies[dir]++; /* out of memory */
		return false;
	}
	return true;
}

/* Reads a ServerHello into the session's block for it (in place of a
 * HelloRetryRequest's), as read_client_hello(). */
static bool read_server_hello(struct td_session *s, int dir, struct td_reader *r,
			      uint16_t record_version, uint32_t frame, struct td_time ts)
{
	struct td_server_hello_wide w = {0};
	struct td_server_hello *sh = td_server_hello_wide(&w);

	sh->seen = true;
	sh->frame = frame;
	sh->ts = ts;
	sh->record_version = record_version;
	sh->malformed = hello_error(td_tls_parse_server_hello(r, sh));
	server_fingerprint(sh);
	if (!td_session_set_sh(s, sh)) {
		s->anomalies[dir]++; /* out of memory */
		return false;
	}
	return true;
}

/* The version field of the record header a handshake message came in. */
static uint16_t header_version(const struct td_tls *t, int dir)
{
	return (uint16_t)(t->d[dir].hdr[1] << 8 | t->d[dir].hdr[2]);
}

static void retry_hello(struct td_session *s, struct td_reader *r, uint32_t frame)
{
	struct td_client_hello_wide w = {0};
	struct td_client_hello *ch2 = td_client_hello_wide(&w);
	struct td_hello_retry *rt = td_session_retry(s);

	if (!rt) {
		s->anomalies[TD_DIR_C2S]++; /* out of memory */
		return;
	}
	if (td_tls_parse_client_hello(r, ch2) != TD_OK)
		s->anomalies[TD_DIR_C2S]++;
	s->ch2_frame = frame;
	client_fingerprint(ch2);
	memcpy(rt->ja3, ch2->ja3, sizeof rt->ja3);
	memcpy(rt->ja4, ch2->ja4, sizeof rt->ja4);
}

static void on_server_hello(struct td_tls *t, struct td_session *s)
{
	struct td_server_hello *sh = td_session_sh(s); /* allocated by the caller */

	sh->session_id_echoed = sh->session_id_len > 0 && s->ch->seen &&
				sh->session_id_len == s->ch->session_id_len &&
				memcmp(sh->session_id, s->ch->session_id, sh->session_id_len) == 0;
	s->version = td_session_version(s);
	if (s->sh->hello_retry_request) {
		struct td_hello_retry *rt = td_session_retry(s);

		s->hrr_seen = true;
		s->hrr_frame = s->sh->frame;
		/* the ServerHello that follows takes its place in s->sh */
		if (rt) {
			memcpy(rt->ja3s, s->sh->ja3s, sizeof rt->ja3s);
			memcpy(rt->ja4s, s->sh->ja4s, sizeof rt->ja4s);
		} else {
			s->anomalies[TD_DIR_S2C]++; /* out of memory */
		}
		return;
	}
	raise_stage(s, TD_STAGE_SERVER_HELLO);
	if (td_session_is_tls13(s)) {
		/* RFC 8446 §2.2: a pre_shared_key in the ServerHello resumes */
		s->resumed = (s->sh->ext_flags & TD_EXT_PSK) != 0;
		/* RFC 8446 §2: everything after the ServerHello is encrypted,
		 * the Certificate included. */
		s->certs_encrypted = true;
		t->d[TD_DIR_S2C].tls13_encrypted = true;
		t->d[TD_DIR_C2S].tls13_encrypted = true;
	}
}

/* A Certificate message, or the one a CompressedCertificate held (r:
 * its body; NULL when it was skipped). The first chain of each side is
 * kept. */
static void on_certificate(struct td_session *s, const struct td_tls_cert_sink *sink, int dir,
			   struct td_reader *r, uint32_t frame)
{
	enum td_err e;

	if (dir == TD_DIR_C2S) {
		/* the client's chain (RFC 5246 §7.4.6): empty when it has
		 * none to send */
		if (r && !s->total_client_certs) {
			s->client_cert_frame = frame;
			if (td_tls_parse_certificate(r, td_session_is_tls13(s), true, s, sink) !=
			    TD_OK)
				s->anomalies[dir]++;
		}
		return;
	}
	if (!r || s->n_certs || s->total_certs) {
		s->anomalies[dir]++; /* a second chain (renegotiation): first kept */
		return;
	}
	s->cert_frame = frame;
	e = td_tls_parse_certificate(r, td_session_is_tls13(s), false, s, sink);
	if (e != TD_OK)
		s->anomalies[dir]++;
	/* a Certificate message whose nested lengths all add up (RFC 5246
	 * §7.4.2), with a certificate in it: TLS, also in a capture that
	 * begins after the hellos */
	if (e == TD_OK && s->total_certs)
		s->is_tls = true;
	raise_stage(s, TD_STAGE_CERTIFICATE);
}

/* RFC 8879 §4:
 *   struct { CertificateCompressionAlgorithm algorithm;
 *            uint24 uncompressed_length;
 *            opaque compressed_certificate_message<1..2^24-1>;
 *   } CompressedCertificate;
 * The Certificate message inside is decompressed into a buffer of the
 * length announced, at most the handshake message cap, and read as a
 * Certificate sent in the same frame. The server's facts record the
 * algorithm and, when the chain could not be read, why. */
static void on_compressed_certificate(struct td_tls *t, struct td_session *s,
				      const struct td_tls_cert_sink *sink, int dir,
				      struct td_reader *r, uint32_t frame)
{
	struct td_reader comp, plain;
	uint16_t alg = 0;
	uint32_t ulen = 0;
	uint8_t *buf = NULL;
	const uint8_t *in;
	size_t in_len = 0;
	enum td_err e;

	if (!r) {
		on_certificate(s, sink, dir, NULL, frame);
		return;
	}
	e = td_read_u16(r, &alg);
	if (e == TD_OK)
		e = td_read_u24(r, &ulen);
	if (e == TD_OK)
		e = td_read_vec24(r, &comp);
	if (e == TD_OK)
		e = td_reader_close(r);
	if (e == TD_OK && !td_cert_compression_name(alg))
		e = TD_ERR_UNSUPPORTED;
	if (e == TD_OK && ulen > t->lim.max_handshake_msg) {
		e = TD_ERR_TOO_BIG;
		s->hs_too_big[dir]++;
	}
	if (e == TD_OK && !(buf = malloc(ulen ? ulen : 1)))
		e = TD_ERR_NOMEM;
	if (e == TD_OK) {
		in_len = td_reader_left(&comp);
		e = td_read_ptr(&comp, &in, in_len);
	}
	if (e == TD_OK)
		e = td_decompress(alg, in, in_len, buf, ulen);
	if (dir == TD_DIR_S2C && !s->cert_compressed && !s->n_certs && !s->total_certs) {
		s->cert_compressed = true;
		s->cert_compression = alg;
		s->cert_compression_err = (uint8_t)(e == TD_ERR_SHORT || e == TD_ERR_TRAILING
							    ? TD_ERR_MALFORMED
							    : e);
		s->cert_uncompressed_len = ulen;
	}
	if (e == TD_OK) {
		td_reader_init(&plain, buf, ulen);
		on_certificate(s, sink, dir, &plain, frame);
	} else {
		if (e != TD_ERR_TOO_BIG)
			s->anomalies[dir]++;
		if (dir == TD_DIR_S2C && !s->cert_frame)
			s->cert_frame = frame;
	}
	free(buf);
}

static void on_handshake(struct td_tls *t, struct td_session *s,
			 const struct td_tls_cert_sink *sink, int dir, uint8_t type,
			 const uint8_t *body, uint32_t len, uint32_t frame, struct td_time ts)
{
	struct td_reader r;
	struct td_server_hello *sh;
	enum td_err e;

	/* body is NULL when the message was skipped (above the cap): its
	 * event is recorded, its contents are not read. */
	td_reader_init(&r, body, body ? len : 0);
	if (s->handshake_messages[dir] < UINT32_MAX)
		s->handshake_messages[dir]++;
	if (t->secrets)
		td_tlsdec_message_before(t, s, dir, type, body, len);
	if (dir == TD_DIR_C2S)
		note_client_spoke(t, s, dir);
	switch (type) {
	case HS_CLIENT_HELLO:
		if (dir == TD_DIR_C2S && s->ch->seen && (s->hrr_seen || !s->sh->seen) && body &&
		    !s->ch2_frame) {
			/* the second ClientHello after a HelloRetryRequest
			 * (RFC 8446 §4.1.4): the first one stays the facts,
			 * this one gets its own fingerprints */
			retry_hello(s, &r, frame);
			break;
		}
		if (dir == TD_DIR_C2S && td_session_handshake_complete(s) &&
		    !td_session_is_tls13(s))
			note_renegotiation(s, dir, frame); /* read decrypted */
		if (dir != TD_DIR_C2S || s->ch->seen || !body) {
			/* renegotiation or the wrong side: the first is kept */
			s->anomalies[dir]++;
			s->is_tls = true;
			break;
		}
		s->is_tls = true;
		if (read_client_hello(s, dir, &r, td_tls_parse_client_hello, header_version(t, dir),
				      frame, ts))
			raise_stage(s, TD_STAGE_CLIENT_HELLO);
		break;
	case HS_SERVER_HELLO:
		if (dir != TD_DIR_S2C || !body || (s->sh->seen && !s->sh->hello_retry_request)) {
			s->anomalies[dir]++;
			s->is_tls = true;
			break;
		}
		s->is_tls = true;
		if (read_server_hello(s, dir, &r, header_version(t, dir), frame, ts))
			on_server_hello(t, s);
		break;
	case HS_CERTIFICATE:
		on_certificate(s, sink, dir, body ? &r : NULL, frame);
		break;
	case HS_COMPRESSED_CERTIFICATE:
		on_compressed_certificate(t, s, sink, dir, body ? &r : NULL, frame);
		break;
	case HS_CERTIFICATE_REQUEST:
		if (dir != TD_DIR_S2C)
			break;
		s->client_cert_requested = true;
		/* TLS 1.3's (RFC 8446 §4.3.2, seen only decrypted) is a
		 * context and extensions: only its presence is kept */
		if (body && !td_session_is_tls13(s) &&
		    parse_certificate_request(&r, td_session_version(s) >= 0x0303, s) != TD_OK)
			s->anomalies[dir]++;
		break;
	case HS_CERTIFICATE_STATUS:
		/* the server's, after its Certificate; the first one is kept */
		if (dir != TD_DIR_S2C || !body || s->ocsp->seen)
			break;
		e = parse_certificate_status(&r, frame, s, sink);
		if (e != TD_OK && e != TD_ERR_UNSUPPORTED)
			s->anomalies[dir]++;
		break;
	case HS_CERTIFICATE_VERIFY:
		/* the client's, in clear: TLS 1.2 (earlier versions sign
		 * without naming a scheme); the first one is kept */
		if (dir == TD_DIR_C2S && body && td_session_version(s) == 0x0303 && !s->cv_sigalg &&
		    parse_certificate_verify(&r, s) != TD_OK)
			s->anomalies[dir]++;
		break;
	case HS_HELLO_REQUEST:
		if (dir == TD_DIR_S2C && td_session_handshake_complete(s) && !td_session_is_tls13(s))
			note_renegotiation(s, dir, frame); /* read decrypted */
		break;
	case HS_ENCRYPTED_EXTENSIONS:
		/*   struct { Extension extensions<0..2^16-1>; } EncryptedExtensions; */
		if (dir == TD_DIR_S2C && body && t->plaintext) {
			uint16_t exts[TD_MAX_SH_EXTS], n = 0, total = 0;
			struct td_server_hello_wide w;
			sh = td_server_hello_widen(&w, s->sh);
			e = parse_extensions(&r, exts, TD_MAX_SH_EXTS, &n, &total, ee_ext_cb, sh);
			if (!td_session_set_sh(s, sh) || e != TD_OK)
				s->anomalies[dir]++;
		}
		break;
	case HS_FINISHED:
		/* read only after decrypting (t->plaintext): in clear it is
		 * counted as the first encrypted handshake record */
		if (!t->plaintext)
			break;
		s->finished_seen[dir] = true;
		t->d[dir].first_encrypted_done = true;
		if (td_session_is_tls13(s) && dir == TD_DIR_S2C) {
			/* RFC 8446 §4.4.4: the server's Finished ends its
			 * flight; the handshake completes with the client's */
			t->server_flight_done = true;
			raise_stage(s, TD_STAGE_SERVER_HELLO_DONE);
		} else {
			raise_stage(s, dir == TD_DIR_C2S ? TD_STAGE_CLIENT_FINISHED
							 : TD_STAGE_SERVER_FINISHED);
		}
		break;
	case HS_SERVER_KEY_EXCHANGE: {
		const struct td_cipher_info *ci = td_names_cipher(s->sh->suite);
		if (dir != TD_DIR_S2C || !body || !ci)
			break;
		e = td_tls_parse_server_key_exchange(&r, ci->kx, strcmp(ci->auth, "anon") != 0,
						     td_session_version(s) >= 0x0303, s);
		if (e != TD_OK && e != TD_ERR_UNSUPPORTED)
			s->anomalies[dir]++;
		break;
	}
	case HS_NEW_SESSION_TICKET:
		if (dir == TD_DIR_S2C && body &&
		    parse_new_session_ticket(&r, td_session_is_tls13(s), frame, s) != TD_OK)
			s->anomalies[dir]++;
		break;
	case HS_SERVER_HELLO_DONE:
		t->server_flight_done = true;
		raise_stage(s, TD_STAGE_SERVER_HELLO_DONE);
		break;
	case HS_CLIENT_KEY_EXCHANGE:
		/* its size tells the key exchange apart: an RSA-encrypted
		 * pre-master secret is as long as the server's modulus */
		s->cke_len = (uint16_t)(len > UINT16_MAX ? UINT16_MAX : len);
		raise_stage(s, TD_STAGE_CLIENT_KEY_EXCHANGE);
		break;
	default:
		break;
	}
	if (t->secrets)
		td_tlsdec_message_after(t, s, dir, type, body, len);
	struct td_event ev = {
		.kind = TD_EV_HANDSHAKE,
		.dir = (uint8_t)dir,
		.type = type,
		.decrypted = t->plaintext,
		.count = 1,
		.len = len,
		.frame = frame,
		.ts_sec = ts.sec,
		.ts_usec = ts.usec,
	};
	td_session_add_event(s, &ev);
}

/* ---- messages: handshake bytes of one direction ------------------------ */

static bool hs_type_parsed(uint8_t type)
{
	return type == HS_CLIENT_HELLO || type == HS_SERVER_HELLO || type == HS_CERTIFICATE ||
	       type == HS_SERVER_KEY_EXCHANGE || type == HS_CERTIFICATE_REQUEST ||
	       type == HS_CERTIFICATE_VERIFY || type == HS_NEW_SESSION_TICKET ||
	       type == HS_CERTIFICATE_STATUS || type == HS_COMPRESSED_CERTIFICATE;
}

/* A message header was read: read the body when its contents are read
 * here and it fits the cap, else skip it by length. */
static void start_message(struct td_tls *t, struct td_session *s, struct td_tls_dir *d, int dir)
{
	d->hs_type = d->hs_hdr[0];
	d->hs_len = (uint32_t)d->hs_hdr[1] << 16 | (uint32_t)d->hs_hdr[2] << 8 | d->hs_hdr[3];
	d->hs_have = 0;
	d->hs_mode = TD_HS_SKIP;
	if (!hs_type_parsed(d->hs_type) && !td_tlsdec_wants_messages(t))
		return;
	if (d->hs_len > t->lim.max_handshake_msg) {
		s->hs_too_big[dir]++;
		return;
	}
	d->hs_mode = TD_HS_BODY;
}

/* A message body that arrives in pieces is gathered in hs_buf, grown
 * with what has arrived (doubling, up to the message's length: a
 * connection waiting for the rest of a Certificate holds what came, not
 * what the header announced); out of memory, the message is skipped as
 * one above the cap. One that arrives whole is read where it is, and most
 * do: an open connection holds no message buffer between messages. */
static bool hold_message(struct td_session *s, struct td_tls_dir *d, int dir, size_t take)
{
	size_t need = d->hs_have + take;

	if (need > d->hs_buf_size) {
		size_t size = d->hs_buf_size * 2 > need ? d->hs_buf_size * 2 : need;
		if (size > d->hs_len)
			size = d->hs_len;
		uint8_t *nb = realloc(d->hs_buf, size);
		if (!nb) {
			s->hs_too_big[dir]++;
			d->hs_mode = TD_HS_SKIP;
			return false;
		}
		d->hs_buf = nb;
		d->hs_buf_size = size;
	}
	return true;
}

static void release_message(struct td_tls_dir *d)
{
	free(d->hs_buf);
	d->hs_buf = NULL;
	d->hs_buf_size = 0;
}

/* Handshake record payload in clear: reassemble messages (RFC 8446 §5.1:
 * messages may be split across records and several may share one).
 *   struct { HandshakeType msg_type; uint24 length; ... } Handshake; */
static void handshake_bytes(struct td_tls *t, struct td_session *s,
			    const struct td_tls_cert_sink *sink, int dir, const uint8_t *p,
			    size_t n, uint32_t frame, struct td_time ts)
{
	struct td_tls_dir *d = &t->d[dir];
	struct td_reader r;

	td_reader_init(&r, p, n);
	while (td_reader_left(&r)) {
		/* A ServerHello that selects TLS 1.3 ends the clear text in the
		 * middle of its record (RFC 8446 §2): what follows it is not
		 * read in clear, whether it came in this piece or a later one
		 * (record_body() decides per piece; STYLE.md rule 13). */
		if ((s->encrypted[dir] || d->tls13_encrypted) && !t->plaintext)
			return;
		if (d->hs_mode == TD_HS_HEADER) {
			if (d->hs_hdr_have == 0) {
				d->hs_frame = frame;
				d->hs_ts = ts;
			}
			if (td_read_u8(&r, &d->hs_hdr[d->hs_hdr_have]) != TD_OK)
				return;
			if (++d->hs_hdr_have < 4)
				continue;
			d->hs_hdr_have = 0;
			start_message(t, s, d, dir);
		}
		size_t want = d->hs_len - d->hs_have;
		size_t take = td_reader_left(&r) < want ? td_reader_left(&r) : want;
		const uint8_t *chunk, *body = NULL;
		if (td_read_ptr(&r, &chunk, take) != TD_OK)
			return;
		bool whole = d->hs_have == 0 && take == d->hs_len;
		if (d->hs_mode == TD_HS_BODY && whole)
			body = chunk;
		else if (d->hs_mode == TD_HS_BODY && take && hold_message(s, d, dir, take))
			memcpy(d->hs_buf + d->hs_have, chunk, take);
		d->hs_have += (uint32_t)take;
		if (d->hs_have < d->hs_len)
			return;
		if (d->hs_mode == TD_HS_BODY && !whole)
			body = d->hs_buf;
		on_handshake(t, s, sink, dir, d->hs_type, body, d->hs_len, d->hs_frame, d->hs_ts);
		if (!whole)
			release_message(d);
		d->hs_mode = TD_HS_HEADER;
	}
}

/* ---- records ---------------------------------------------------------- */

bool td_tls13_alert_sized(uint16_t record_len)
{
	return record_len == 2 + 1 + 16 || record_len == 2 + 1 + 8;
}

static void flush_pending_small(struct td_session *s, struct td_tls_dir *d, int dir)
{
	if (!d->pending_small)
		return;
	d->pending_small = false;
	add_event(s, TD_EV_APPDATA, dir, 0, d->pending_len, d->pending_frame, d->pending_ts);
}

/* A NULL-encryption suite (RFC 5246 §6.2.3.1 with a null cipher): records
 * after ChangeCipherSpec carry a MAC but stay readable. */
static bool null_cipher(const struct td_session *s)
{
	const struct td_cipher_info *ci = s->sh->seen ? td_names_cipher(s->sh->suite) : NULL;
	return ci && strcmp(ci->enc, "NULL") == 0 && !td_session_is_tls13(s);
}

static void on_ccs(struct td_tls *t, struct td_session *s, int dir);
static void classify_record(struct td_tls *t, struct td_session *s, int dir, bool encrypted);

/* An application_data record that is data: counted, never read. */
static void count_appdata(struct td_tls *t, struct td_session *s, int dir)
{
	struct td_tls_dir *d = &t->d[dir];

	s->appdata_records[dir]++;
	s->appdata_bytes[dir] += d->rec_len;
	if (td_session_handshake_complete(s))
		raise_stage(s, TD_STAGE_APPLICATION_DATA);
}

/* A record header was read: decide what its body is. Called once per
 * record, before its body. */
static void on_record(struct td_tls *t, struct td_session *s, int dir)
{
	struct td_tls_dir *d = &t->d[dir];
	bool tls13 = d->tls13_encrypted;
	bool encrypted = s->encrypted[dir] || (tls13 && d->rec_type != CT_CHANGE_CIPHER_SPEC);

	s->records[dir]++;
	/* a record after a small one: the small one was data, not the last
	 * record before closing */
	flush_pending_small(s, d, dir);
	if (encrypted) {
		if (!s->encrypted_frame[dir])
			s->encrypted_frame[dir] = d->rec_frame;
		s->encrypted[dir] = true;
	}
	if (dir == TD_DIR_C2S && d->rec_type != CT_HANDSHAKE)
		note_client_spoke(t, s, dir);
	d->dec_open = false;
	if (encrypted && t->secrets && d->rec_type != CT_CHANGE_CIPHER_SPEC &&
	    td_tlsdec_open_record(t, s, dir)) {
		d->dec_open = true; /* classified at its end, once opened */
		return;
	}
	if (d->rec_type == CT_CHANGE_CIPHER_SPEC)
		on_ccs(t, s, dir);
	else
		classify_record(t, s, dir, encrypted);
}

/* A ChangeCipherSpec record (RFC 5246 §7.1). */
static void on_ccs(struct td_tls *t, struct td_session *s, int dir)
{
	struct td_tls_dir *d = &t->d[dir];
	bool tls13 = d->tls13_encrypted;

	add_event(s, TD_EV_CCS, dir, 0, d->rec_len, d->rec_frame, d->rec_ts);
	if (s->ccs_seen[dir])
		return;
	s->ccs_seen[dir] = true;
	/* RFC 5246 §7.3: a server that changes ciphers right after its
	 * ServerHello, with no Certificate, resumed an earlier session
	 * (abbreviated handshake) */
	if (dir == TD_DIR_S2C && s->sh->seen && !tls13 && !td_session_is_tls13(s) &&
	    s->stage < TD_STAGE_SERVER_HELLO_DONE && !s->total_certs)
		s->resumed = true;
	/* TLS <= 1.2: what follows is encrypted (RFC 5246 §7.1); TLS 1.3 CCS
	 * is only for middlebox compatibility (RFC 8446 §D.4) and changes
	 * nothing. A client CCS before any ServerHello, and any CCS around a
	 * HelloRetryRequest, can only be TLS 1.3's compatibility one: no
	 * TLS <= 1.2 peer changes ciphers before the ServerHello. */
	bool tls13_compat = (dir == TD_DIR_C2S && !s->sh->seen) || s->hrr_seen ||
			    td_session_is_tls13(s);
	if (tls13 || tls13_compat)
		return;
	s->encrypted[dir] = true; /* frame set at the next record */
	if (t->secrets)
		td_tlsdec_ccs(t, s, dir);
}

/* What a record that is not ChangeCipherSpec is, when its contents are
 * not read (protected, and not opened) or read message by message. */
static void classify_record(struct td_tls *t, struct td_session *s, int dir, bool encrypted)
{
	struct td_tls_dir *d = &t->d[dir];
	bool tls13 = d->tls13_encrypted;

	switch (d->rec_type) {
	case CT_HANDSHAKE:
		if (!encrypted)
			break; /* parsed message by message */
		if (!d->first_encrypted_done) {
			/* TLS <= 1.2: the first encrypted handshake message after
			 * CCS is Finished (RFC 5246 §7.4.9). */
			d->first_encrypted_done = true;
			s->finished_seen[dir] = true;
			raise_stage(s, dir == TD_DIR_C2S ? TD_STAGE_CLIENT_FINISHED
							 : TD_STAGE_SERVER_FINISHED);
		} else if (td_session_handshake_complete(s) && !td_session_is_tls13(s)) {
			note_renegotiation(s, dir, d->rec_frame);
		}
		add_event(s, TD_EV_ENCRYPTED_HANDSHAKE, dir, 0, d->rec_len, d->rec_frame, d->rec_ts);
		break;
	case CT_ALERT:
		if (d->rec_len != 2 && !null_cipher(s)) {
			/* An alert in clear is exactly two bytes (RFC 8446 §6);
			 * anything longer carries a MAC or tag. */
			struct td_alert a = {.encrypted = true,
					     .record_len = d->rec_len,
					     .frame = d->rec_frame,
					     .ts = d->rec_ts};
			add_alert(t, s, dir, &a);
		}
		d->alert_have = 0;
		break;
	case CT_APPLICATION_DATA:
		if (tls13 && !s->finished_seen[dir] && dir == TD_DIR_C2S && s->sh->seen) {
			/* RFC 8446 §4.4.4: the client's first encrypted
			 * handshake record is its Finished, unless it is alert
			 * sized: then it refused the server's flight. */
			if (td_tls13_alert_sized(d->rec_len)) {
				struct td_alert a = {.encrypted = true,
						     .probable = true,
						     .record_len = d->rec_len,
						     .frame = d->rec_frame,
						     .ts = d->rec_ts};
				add_alert(t, s, dir, &a);
				break;
			}
			s->finished_seen[dir] = true;
			raise_stage(s, TD_STAGE_CLIENT_FINISHED);
			add_event(s, TD_EV_ENCRYPTED_HANDSHAKE, dir, 0, d->rec_len, d->rec_frame,
				  d->rec_ts);
			break;
		}
		if (tls13 && dir == TD_DIR_S2C && !s->finished_seen[TD_DIR_C2S]) {
			add_event(s, TD_EV_ENCRYPTED_HANDSHAKE, dir, 0, d->rec_len, d->rec_frame,
				  d->rec_ts);
			break;
		}
		count_appdata(t, s, dir);
		if (tls13 && td_tls13_alert_sized(d->rec_len)) {
			/* maybe an encrypted alert: decided by what follows */
			d->pending_small = true;
			d->pending_len = d->rec_len;
			d->pending_frame = d->rec_frame;
			d->pending_ts = d->rec_ts;
			break;
		}
		add_event(s, TD_EV_APPDATA, dir, 0, d->rec_len, d->rec_frame, d->rec_ts);
		break;
	default:
		break; /* heartbeat and others: counted as records only */
	}
}

static void alert_bytes(struct td_tls *t, struct td_session *s, int dir, const uint8_t *p,
			size_t n)
{
	struct td_tls_dir *d = &t->d[dir];
	struct td_reader r;

	td_reader_init(&r, p, n);
	while (td_reader_left(&r)) {
		if (td_read_u8(&r, &d->alert[d->alert_have]) != TD_OK)
			return;
		if (++d->alert_have < 2)
			continue;
		d->alert_have = 0;
		/* RFC 8446 §6: struct { AlertLevel level; AlertDescription description; } */
		struct td_alert a = {.level = d->alert[0],
				     .desc = d->alert[1],
				     .decrypted = t->plaintext,
				     .record_len = d->rec_len,
				     .frame = d->rec_frame,
				     .ts = d->rec_ts};
		if (dir == TD_DIR_C2S)
			note_client_spoke(t, s, dir);
		add_alert(t, s, dir, &a);
	}
}

static bool is_text(uint8_t c)
{
	return (c >= 0x20 && c <= 0x7e) || c == '\t';
}

/* Appends r's bytes to the server's plain-text line while it is open: up
 * to its end (CR or LF), its cap, or a byte that is not text. The line
 * does not depend on how the bytes were split into segments. */
static void plain_line_add(struct td_plain_line *l, struct td_reader *r)
{
	uint8_t c;

	while (l->open && td_read_u8(r, &c) == TD_OK) {
		if (c == '\r' || c == '\n') {
			l->open = false;
		} else if (!is_text(c) || l->len >= sizeof l->text) {
			l->open = false;
			l->cut = true;
		} else {
			l->text[l->len++] = c;
		}
	}
}

/* The server's first bytes are no TLS record (RFC 8446 §5.1: a record
 * starts with a content type 20 to 24): when they begin a line of
 * printable text (an HTTP status line, an SMTP reply, an SSH banner), the
 * server does not speak TLS there, and the line says what it speaks. The
 * header bytes read so far, then the rest of the segment; later segments
 * through td_tls_feed until the line ends. */
static void note_plain_reply(struct td_session *s, const struct td_tls_dir *d,
			     const struct td_reader *rest)
{
	struct td_plain_text *pt;
	struct td_reader h, r = *rest;
	uint8_t c;

	td_reader_init(&h, d->hdr, sizeof d->hdr);
	for (size_t i = 0; td_peek_u8(&h, i, &c) == TD_OK; i++) {
		if (i && (c == '\r' || c == '\n'))
			break;
		if (!is_text(c))
			return; /* binary: some other protocol, not told apart here */
	}
	if (s->plain->reply.frame || !(pt = td_session_plain(s)))
		return;
	pt->reply.frame = d->rec_frame;
	pt->reply.open = true;
	plain_line_add(&pt->reply, &h);
	plain_line_add(&pt->reply, &r);
	size_t seg = sizeof d->hdr + td_reader_left(rest);
	add_event(s, TD_EV_PLAIN_TEXT, TD_DIR_S2C, 0, seg > UINT32_MAX ? UINT32_MAX : (uint32_t)seg,
		  d->rec_frame, d->rec_ts);
}

/* Resync attempts per direction before giving up on it: bounds the work
 * a stream of near-miss headers can cause. */
#define TD_TLS_MAX_RESYNCS 64

/* The record boundary is lost. With resync the direction looks for the
 * next plausible record header (after a gap, or in a connection picked up
 * mid-stream); otherwise, or after too many tries, it is given up. Either
 * way the first loss is recorded. */
static void lose_sync(struct td_session *s, struct td_tls_dir *d, int dir, enum td_err why,
		      uint32_t frame, bool resync)
{
	if (!s->desync[dir]) {
		s->desync[dir] = (uint8_t)why;
		s->desync_frame[dir] = frame;
	}
	d->in_record = false;
	d->sslv2 = false;
	d->rec_left = 0;
	d->hdr_have = 0;
	d->hs_mode = TD_HS_HEADER;
	d->hs_hdr_have = 0;
	d->alert_have = 0;
	d->good_records = 0;
	if (resync && d->resyncs < TD_TLS_MAX_RESYNCS) {
		d->resync = true;
		d->win_have = 0;
		d->resyncs++;
		s->resyncs[dir]++;
	} else {
		d->resync = false;
		d->dead = true;
	}
}

/* A header worth resynchronising on (RFC 8446 §5.1): a known content
 * type, version 3.0 to 3.4, a length the type allows. Strict on purpose:
 * a false boundary costs more than a few skipped bytes. */
static bool plausible_header(const uint8_t h[5])
{
	uint16_t len = (uint16_t)(h[3] << 8 | h[4]);

	if (h[0] < CT_CHANGE_CIPHER_SPEC || h[0] > CT_APPLICATION_DATA || h[1] != 3 || h[2] > 4)
		return false;
	if (len == 0 || len > TD_TLS_MAX_RECORD)
		return false;
	if (h[0] == CT_CHANGE_CIPHER_SPEC)
		return len == 1;
	return true;
}

/* RFC 5246 §6.2.1 / RFC 8446 §5.1:
 *   struct { ContentType type; ProtocolVersion legacy_record_version;
 *            uint16 length; opaque fragment[length]; } TLSPlaintext;
 * An SSLv2-compatible ClientHello (RFC 5246 §E.2) starts with a 2-byte
 * length whose top bit is set, then msg_type 1. */
static enum td_err check_record_header(struct td_tls_dir *d)
{
	struct td_reader r;
	uint8_t type, major, minor;
	uint16_t len;

	td_reader_init(&r, d->hdr, sizeof d->hdr);
	TD_TRY(td_read_u8(&r, &type));
	if ((type & 0x80) && !d->seen_record) {
		uint8_t lo, msg;
		TD_TRY(td_read_u8(&r, &lo));
		TD_TRY(td_read_u8(&r, &msg));
		len = (uint16_t)((type & 0x7f) << 8 | lo);
		if (msg != HS_CLIENT_HELLO || len < 9)
			return TD_ERR_MALFORMED;
		d->sslv2 = true;
		d->rec_type = CT_HANDSHAKE;
		d->rec_len = len;
		d->rec_left = (uint16_t)(len - 1); /* msg_type already read */
		return TD_OK;
	}
	TD_TRY(td_read_u8(&r, &major));
	TD_TRY(td_read_u8(&r, &minor));
	TD_TRY(td_read_u16(&r, &len));
	if (type < CT_CHANGE_CIPHER_SPEC || type > CT_HEARTBEAT || major != 3 || minor > 4)
		return TD_ERR_MALFORMED;
	if (len > TD_TLS_MAX_RECORD)
		return TD_ERR_TOO_BIG;
	d->sslv2 = false;
	d->rec_type = type;
	d->rec_len = len;
	d->rec_left = len;
	return TD_OK;
}

/* RFC 5246 §E.2:
 *   uint8 msg_type (already read); Version version; uint16 cipher_spec_length;
 *   uint16 session_id_length; uint16 challenge_length;
 *   V2CipherSpec cipher_specs[cipher_spec_length]; (3 bytes each)
 *   opaque session_id[..]; opaque challenge[..]; */
enum td_err td_tls_parse_sslv2_hello(struct td_reader *r, struct td_client_hello *ch)
{
	uint16_t spec_len, sid_len, chal_len;
	struct td_reader specs;

	TD_TRY(td_read_u16(r, &ch->legacy_version));
	TD_TRY(td_read_u16(r, &spec_len));
	TD_TRY(td_read_u16(r, &sid_len));
	TD_TRY(td_read_u16(r, &chal_len));
	if (spec_len % 3 || sid_len > 32)
		return TD_ERR_MALFORMED;
	TD_TRY(td_read_sub(r, spec_len, &specs));
	while (td_reader_left(&specs)) {
		uint8_t hi;
		uint16_t lo;
		TD_TRY(td_read_u8(&specs, &hi));
		TD_TRY(td_read_u16(&specs, &lo));
		if (hi != 0)
			continue; /* an SSLv2-only cipher kind */
		if (ch->n_suites < TD_MAX_SUITES)
			ch->suites[ch->n_suites++] = lo;
		ch->total_suites++;
	}
	TD_TRY(td_read_skip(r, sid_len));
	TD_TRY(td_read_skip(r, chal_len));
	ch->session_id_len = (uint8_t)sid_len;
	ch->n_compression = 1;
	return td_reader_close(r);
}

static void sslv2_hello(struct td_tls *t, struct td_session *s, int dir, const uint8_t *p,
			size_t n)
{
	struct td_tls_dir *d = &t->d[dir];

	/* Buffered like a handshake message, under the same cap (STYLE.md
	 * rule 12): a 15-bit length may claim 32 KiB. Counted once, at the
	 * record's first byte (rec_left is decreased after this call). */
	if (d->rec_len - 1u > t->lim.max_handshake_msg) {
		if (n && d->rec_left == d->rec_len - 1u)
			s->hs_too_big[dir]++;
		return;
	}
	/* reuse the handshake buffer */
	if (d->hs_have == 0 && d->rec_len - 1u > d->hs_buf_size) {
		uint8_t *nb = realloc(d->hs_buf, d->rec_len - 1u);
		if (!nb)
			return;
		d->hs_buf = nb;
		d->hs_buf_size = d->rec_len - 1u;
	}
	if (d->hs_buf_size < d->hs_have + n)
		return;
	memcpy(d->hs_buf + d->hs_have, p, n);
	d->hs_have += (uint32_t)n;
	if (d->hs_have < d->rec_len - 1u || dir != TD_DIR_C2S || s->ch->seen)
		return;
	struct td_reader r;
	td_reader_init(&r, d->hs_buf, d->hs_have);
	d->hs_have = 0;
	s->is_tls = true;
	/* an SSL 2.0 record header has no version: SSL 2.0's own number */
	if (!read_client_hello(s, dir, &r, td_tls_parse_sslv2_hello, 0x0002, d->rec_frame,
			       d->rec_ts))
		return;
	raise_stage(s, TD_STAGE_CLIENT_HELLO);
	add_event(s, TD_EV_HANDSHAKE, dir, HS_CLIENT_HELLO, d->rec_len, d->rec_frame, d->rec_ts);
}

static void record_body(struct td_tls *t, struct td_session *s,
			const struct td_tls_cert_sink *sink, int dir, const uint8_t *p, size_t n,
			uint32_t frame, struct td_time ts)
{
	struct td_tls_dir *d = &t->d[dir];
	size_t at = (size_t)d->rec_len - d->rec_left; /* offset of p in the record */
	bool clear = !s->encrypted[dir] && !(d->tls13_encrypted && d->rec_type != CT_CHANGE_CIPHER_SPEC);

	if (d->sslv2) {
		sslv2_hello(t, s, dir, p, n);
		return;
	}
	if (d->dec_open) {
		td_tlsdec_record_bytes(t, dir, p, n);
		return;
	}
	if (d->rec_type == CT_HANDSHAKE && clear)
		handshake_bytes(t, s, sink, dir, p, n, frame, ts);
	else if (d->rec_type == CT_ALERT && (d->rec_len == 2 || null_cipher(s)) && at < 2)
		alert_bytes(t, s, dir, p, n < 2 - at ? n : 2 - at); /* a MAC may follow */
}

void td_tls_feed(struct td_tls *t, struct td_session *s, const struct td_tls_cert_sink *sink,
		 int dir, const uint8_t *p, size_t n, uint32_t frame, struct td_time ts)
{
	struct td_tls_dir *d = &t->d[dir];
	struct td_reader r;

	if (dir != TD_DIR_C2S && dir != TD_DIR_S2C)
		return;
	td_reader_init(&r, p, n);
	if (d->dead && dir == TD_DIR_S2C && s->plain->reply.open) {
		/* the rest of the server's plain-text line (the block is the
		 * session's own since the line began) */
		plain_line_add(&td_session_plain(s)->reply, &r);
		return;
	}
	while (!d->dead && td_reader_left(&r)) {
		if (d->resync) {
			uint8_t c;
			if (td_read_u8(&r, &c) != TD_OK)
				return;
			if (d->win_have == sizeof d->win) {
				memmove(d->win, d->win + 1, sizeof d->win - 1);
				d->win_have--;
			}
			d->win[d->win_have++] = c;
			if (d->win_have < sizeof d->win || !plausible_header(d->win))
				continue;
			/* found: take it as this record's header */
			d->resync = false;
			d->seen_record = true;
			memcpy(d->hdr, d->win, sizeof d->hdr);
			d->rec_frame = frame;
			d->rec_ts = ts;
			if (check_record_header(d) != TD_OK) {
				lose_sync(s, d, dir, TD_ERR_MALFORMED, frame, true);
				continue;
			}
			d->in_record = true;
			on_record(t, s, dir);
		}
		if (!d->in_record) {
			if (d->hdr_have == 0) {
				d->rec_frame = frame;
				d->rec_ts = ts;
			}
			/* an SSLv2 header is 3 bytes (length, msg_type) */
			size_t hdr_len = d->hdr_have && (d->hdr[0] & 0x80) && !d->seen_record ? 3 : 5;
			if (td_read_u8(&r, &d->hdr[d->hdr_have]) != TD_OK)
				return;
			if (++d->hdr_have < hdr_len)
				continue;
			d->hdr_have = 0;
			enum td_err e = check_record_header(d);
			if (e != TD_OK) {
				if (dir == TD_DIR_S2C && !t->midstream && !d->seen_record &&
				    !d->resyncs)
					note_plain_reply(s, d, &r);
				/* in a connection picked up mid-stream, the first
				 * bytes need not start a record */
				lose_sync(s, d, dir, e, d->rec_frame,
					  (t->midstream && !d->seen_record) || d->resyncs > 0);
				continue;
			}
			d->seen_record = true;
			d->in_record = true;
			if (!d->sslv2)
				on_record(t, s, dir);
			else
				d->hs_have = 0;
		}
		size_t take = td_reader_left(&r) < d->rec_left ? td_reader_left(&r) : d->rec_left;
		const uint8_t *chunk;
		if (td_read_ptr(&r, &chunk, take) != TD_OK)
			return;
		record_body(t, s, sink, dir, chunk, take, frame, ts);
		d->rec_left = (uint16_t)(d->rec_left - take);
		if (d->rec_left == 0) {
			d->in_record = false;
			d->sslv2 = false;
			if (d->dec_open) {
				d->dec_open = false;
				td_tlsdec_record_end(t, s, sink, dir);
			}
			/* three whole records in a row after finding the boundary
			 * again: this is TLS, even with no hello in sight */
			if (d->resyncs && d->good_records < UINT8_MAX && ++d->good_records >= 3 &&
			    t->midstream)
				s->is_tls = true;
		}
	}
}

void td_tls_gap(struct td_tls *t, struct td_session *s, int dir, uint64_t missing,
		uint32_t frame, struct td_time ts)
{
	struct td_tls_dir *d = &t->d[dir];
	bool skippable;

	if (dir != TD_DIR_C2S && dir != TD_DIR_S2C)
		return;
	add_event(s, TD_EV_GAP, dir, 0, missing > UINT32_MAX ? UINT32_MAX : (uint32_t)missing,
		  frame, ts);
	/* Bytes lost inside a record whose contents are only counted cost
	 * nothing: stay in sync. Anything else loses the record boundary. */
	skippable = d->in_record && !d->sslv2 && missing <= d->rec_left &&
		    (d->rec_type == CT_APPLICATION_DATA || s->encrypted[dir] ||
		     d->tls13_encrypted);
	if (d->dec_open) {
		/* bytes of a record being buffered for opening are lost: it
		 * cannot be opened, and is classified as without secrets */
		d->dec_open = false;
		td_tlsdec_record_lost(t, dir);
		td_tls_classify_protected(t, s, dir);
	}
	if (skippable) {
		d->rec_left = (uint16_t)(d->rec_left - missing);
		if (d->rec_left == 0)
			d->in_record = false;
		return;
	}
	if (!d->dead)
		lose_sync(s, d, dir, TD_ERR_SHORT, frame, true);
}

void td_tls_end(struct td_tls *t, struct td_session *s, int dir)
{
	struct td_tls_dir *d = &t->d[dir];

	if ((dir != TD_DIR_C2S && dir != TD_DIR_S2C) || !d->pending_small)
		return;
	/* RFC 8446 §6.1: the last record before closing is the encrypted
	 * close_notify (or an error alert): alert sized, then FIN/RST. */
	d->pending_small = false;
	s->appdata_records[dir]--;
	s->appdata_bytes[dir] -= d->pending_len;
	struct td_alert a = {.encrypted = true,
			     .probable = true,
			     .record_len = d->pending_len,
			     .frame = d->pending_frame,
			     .ts = d->pending_ts};
	add_alert(t, s, dir, &a);
}

void td_tls_close(struct td_tls *t, struct td_session *s)
{
	if (t->secrets)
		td_tlsdec_close(t, s);
}

/* ---- for tls_decrypt.c (tls_int.h) ------------------------------------- */

void td_tls_plain_handshake(struct td_tls *t, struct td_session *s,
			    const struct td_tls_cert_sink *sink, int dir, const uint8_t *p, size_t n)
{
	handshake_bytes(t, s, sink, dir, p, n, t->d[dir].rec_frame, t->d[dir].rec_ts);
}

void td_tls_plain_alert(struct td_tls *t, struct td_session *s, int dir, const uint8_t *p,
			size_t n)
{
	alert_bytes(t, s, dir, p, n);
}

void td_tls_plain_appdata(struct td_tls *t, struct td_session *s, int dir)
{
	struct td_tls_dir *d = &t->d[dir];

	count_appdata(t, s, dir);
	add_event(s, TD_EV_APPDATA, dir, 0, d->rec_len, d->rec_frame, d->rec_ts);
}

void td_tls_classify_protected(struct td_tls *t, struct td_session *s, int dir)
{
	classify_record(t, s, dir, true);
}

int td_tls_sniff_hello(const uint8_t *p, size_t n)
{
	struct td_reader r;
	uint8_t type, major, minor, hs;
	uint16_t len;

	td_reader_init(&r, p, n);
	if (td_read_u8(&r, &type) != TD_OK)
		return 0;
	if (type & 0x80) {
		uint8_t lo, msg;
		if (td_read_u8(&r, &lo) != TD_OK || td_read_u8(&r, &msg) != TD_OK ||
		    td_read_u8(&r, &major) != TD_OK)
			return 0;
		return msg == HS_CLIENT_HELLO && (major == 3 || major == 0 || major == 2) ? 1 : 0;
	}
	if (type != CT_HANDSHAKE || td_read_u8(&r, &major) != TD_OK ||
	    td_read_u8(&r, &minor) != TD_OK || td_read_u16(&r, &len) != TD_OK ||
	    td_read_u8(&r, &hs) != TD_OK)
		return 0;
	if (major != 3 || minor > 4 || len < 4)
		return 0;
	if (hs == HS_CLIENT_HELLO)
		return 1;
	if (hs == HS_SERVER_HELLO)
		return 2;
	return 0;
}

void td_tls_init(struct td_tls *t, const struct td_tls_limits *lim)
{
	memset(t, 0, sizeof *t);
	t->lim = *lim;
}

size_t td_tls_bytes(const struct td_tls *t)
{
	size_t n = td_tlsdec_bytes(t);

	for (int i = 0; i < 2; i++)
		if (t->d[i].hs_buf)
			n += t->d[i].hs_buf_size + TD_TLS_MALLOC_OVERHEAD;
	return n;
}

void td_tls_free(struct td_tls *t)
{
	td_tlsdec_free(t);
	for (int i = 0; i < 2; i++) {
		free(t->d[i].hs_buf);
		t->d[i].hs_buf = NULL;
		t->d[i].hs_buf_size = 0;
	}
}
