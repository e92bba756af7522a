/* td_session.h - the session facts: one plain struct per TCP connection.
 *
 * Everything downstream of the TLS parser (rules, diagnosis, reports) reads
 * this struct and nothing else (DESIGN.md "session facts"); the JSON output
 * mirrors it field for field. The TLS parser and the engine fill it. It
 * holds no pointers into packet data; certificates are references into the
 * x509 cache (released by td_session_clear()).
 *
 * Lists have fixed caps so a connection costs a known amount of memory;
 * each list keeps the true count beside the stored count, so a report can
 * say "128 of 301 shown".
 *
 * Memory: the struct is embedded in every open connection, so what most
 * connections never use (alerts, CertificateRequest facts, tickets, the
 * client's chain, the OCSP staple), what grows with the handshake (the
 * timeline, the server's chain), the hellos (a TCP connection without
 * TLS has none) and the chain facts (written once the connection ended)
 * are blocks allocated on first use, sized to what is stored, through the
 * td_session_add_*(), td_session_reserve_*(), td_session_ch(),
 * td_session_sh(), td_session_chain() and td_session_ocsp() functions
 * below; td_session_bytes() says what they
 * hold, td_session_clear() frees them. Readers index them as before
 * (s->events[i], s->alerts[i], s->certs[i], ...) for i below the stored
 * count: a list with nothing stored may be NULL. A session is therefore not copied by
 * value (two copies would share and both free the blocks):
 * td_session_copy() makes an independent one.
 */
#ifndef TD_SESSION_H
#define TD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_chain.h"
#include "td_classify.h"
#include "td_decode.h"
#include "td_error.h"
#include "td_time.h"

struct td_cert; /* td_x509.h */
struct td_diagnosis; /* td_diagnose.h */
struct td_findings;  /* td_rules.h */
struct td_x509_cache;

/* A ClientHello's lists: the parser's room (td_client_hello_wide, on the
 * stack); a session keeps only what a hello holds. Scanners offer hundreds
 * of suites, and JA3/JA4 need every one: a hello whose list is longer than
 * its cap gets no fingerprint rather than a wrong one. Versions and point
 * formats are capped at the most their one-byte vectors can hold. */
#define TD_MAX_SUITES 2048
#define TD_MAX_EXTS 256
#define TD_MAX_GROUPS 256
#define TD_MAX_SIGALGS 256
#define TD_MAX_VERSIONS 127
#define TD_MAX_POINT_FORMATS 255
/* A ServerHello's extensions (only ones the client offered: the parser's
 * room, td_server_hello_wide; a session keeps what the hello holds) and
 * a CertificateRequest's schemes. */
#define TD_MAX_SH_EXTS 64
#define TD_MAX_CR_SIGALGS 48
#define TD_MAX_ALPN 8
#define TD_ALPN_LEN 64 /* longer ALPN names are cut, and flagged */
#define TD_SNI_LEN 256
#define TD_MAX_CHAIN 10
#define TD_MAX_KEY_SHARES 8
#define TD_MAX_TICKETS 4 /* NewSessionTickets remembered per connection */
#define TD_MAX_CA_NAMES 4  /* CertificateRequest CA names kept (DER) */
#define TD_CA_NAME_LEN 256 /* a longer name is counted, not kept */

/* Extensions seen in a hello, as flags (RFC numbers in tls.c). */
#define TD_EXT_SNI 0x1
#define TD_EXT_STATUS_REQUEST 0x2
#define TD_EXT_SCT 0x4
#define TD_EXT_EMS 0x8
#define TD_EXT_ETM 0x10
#define TD_EXT_TICKET 0x20
#define TD_EXT_PSK 0x40
#define TD_EXT_EARLY_DATA 0x80
#define TD_EXT_RENEGOTIATION_INFO 0x100
#define TD_EXT_HEARTBEAT 0x200
#define TD_EXT_ECH 0x400
#define TD_EXT_KEY_SHARE 0x800
#define TD_EXT_SUPPORTED_VERSIONS 0x1000
#define TD_EXT_RECORD_SIZE_LIMIT 0x2000
#define TD_EXT_MAX_FRAGMENT_LENGTH 0x4000
#define TD_EXT_SCSV_RENEGOTIATION 0x8000 /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV offered */
#define TD_EXT_SCSV_FALLBACK 0x10000     /* TLS_FALLBACK_SCSV offered (RFC 7507) */
#define TD_MAX_ALERTS 16
#define TD_MAX_EVENTS 64

enum td_dir { TD_DIR_C2S = 0, TD_DIR_S2C = 1 };

/* A string from the wire: raw bytes, escaped by whoever prints them;
 * the first len bytes are kept, at most TD_SNI_LEN. */
struct td_wire_str {
	uint16_t len;
	uint8_t *bytes;
};

struct td_alpn_list {
	uint8_t n, total;
	uint8_t len[TD_MAX_ALPN];
	uint8_t (*name)[TD_ALPN_LEN]; /* n names */
};

/* A ClientHello. Its lists are pointers: the parser writes into one whose
 * lists have room for their caps (struct td_client_hello_wide below); a
 * session keeps a copy whose lists are as long as what they hold, all in
 * one block (td_session_set_ch()). Readers index them as arrays for i
 * below the stored count. */
struct td_client_hello {
	bool seen;
	uint32_t frame;
	struct td_time ts;
	uint16_t record_version;
	uint16_t legacy_version;
	uint8_t session_id_len;
	uint16_t n_suites, total_suites;
	uint16_t *suites;
	uint8_t n_compression;
	uint16_t n_exts, total_exts;
	uint16_t *exts; /* in wire order, GREASE included */
	uint16_t n_versions, total_versions;
	uint16_t *versions; /* supported_versions */
	uint16_t n_groups, total_groups;
	uint16_t *groups;
	uint16_t n_sigalgs, total_sigalgs;
	uint16_t *sigalgs;
	uint16_t n_point_formats;
	uint8_t *point_formats;
	bool has_sni;
	struct td_wire_str sni;
	struct td_alpn_list alpn;
	uint32_t ext_flags; /* TD_EXT_* seen in this hello */
	uint8_t random[32]; /* the key log's index (NSS key log format) */
	uint16_t n_key_shares;
	uint16_t *key_shares; /* groups offered (RFC 8446 §4.2.8) */
	uint8_t psk_modes;            /* bit 0 psk_ke, bit 1 psk_dhe_ke (§4.2.9) */
	uint16_t ticket_len;          /* session_ticket extension length (RFC 5077) */
	uint16_t record_size_limit;   /* RFC 8449, 0 when absent */
	uint8_t max_fragment_length;  /* RFC 6066 §4 code, 0 when absent */
	uint8_t session_id[32];       /* legacy_session_id, session_id_len bytes */
	/* What a resumption offer names, as SHA-256 digests (a ticket can be
	 * kilobytes): the session_ticket extension's ticket (RFC 5077 §3.2)
	 * and the first pre_shared_key identity (RFC 8446 §4.2.11). */
	bool has_ticket;
	uint8_t ticket_sha256[32];
	bool has_psk_identity;
	uint8_t psk_identity_sha256[32];
	uint8_t malformed; /* enum td_err of the parse, TD_OK when clean */
	/* Fingerprints, set by the TLS parser (not by the hello parsers) */
	char ja3[33];       /* MD5 hex of the JA3 string */
	char ja4[48];
	uint16_t block_bytes; /* the session's block, as td_session_bytes() counts it */
};

/* A ClientHello with room in every list for its cap: what the parsers
 * write into. td_client_hello_wide() points w->ch's lists at the rooms
 * (nothing else is touched: zero w first for an empty hello) and returns
 * &w->ch. */
struct td_client_hello_wide {
	struct td_client_hello ch;
	uint16_t suites[TD_MAX_SUITES];
	uint16_t exts[TD_MAX_EXTS];
	uint16_t versions[TD_MAX_VERSIONS];
	uint16_t groups[TD_MAX_GROUPS];
	uint16_t sigalgs[TD_MAX_SIGALGS];
	uint16_t key_shares[TD_MAX_KEY_SHARES];
	uint8_t point_formats[TD_MAX_POINT_FORMATS];
	uint8_t sni[TD_SNI_LEN];
	uint8_t alpn[TD_MAX_ALPN][TD_ALPN_LEN];
};

struct td_client_hello *td_client_hello_wide(struct td_client_hello_wide *w);

/* A HelloRetryRequest's fingerprints (the ServerHello that asks for a
 * second ClientHello, RFC 8446 §4.1.4) and those of the second
 * ClientHello; "" when not computed (a list over its cap) or not seen. */
struct td_hello_retry {
	char ja3s[33], ja4s[48]; /* of the HelloRetryRequest */
	char ja3[33], ja4[48];   /* of the second ClientHello */
};

/* A line of plain text as on the wire (CR LF stripped; the reports
 * escape it), its first TD_PLAIN_LINE_LEN bytes. */
#define TD_PLAIN_LINE_LEN 96
struct td_plain_line {
	uint32_t frame; /* where it began (a greeting: where it ended); 0: none */
	uint8_t len;
	bool cut;  /* longer than the cap, or ended by a byte that is not text */
	bool open; /* its end has not come (yet) */
	uint8_t text[TD_PLAIN_LINE_LEN];
};

/* The bytes of a line's text to read: len, never past the array. */
static inline size_t td_plain_len(const struct td_plain_line *l)
{
	return l->len < TD_PLAIN_LINE_LEN ? l->len : TD_PLAIN_LINE_LEN;
}

/* A server that answered TLS in plain text: the port does not speak TLS,
 * or expects the client to ask for it first (STARTTLS). */
struct td_plain_text {
	/* The server's first bytes where its first TLS record was due, when
	 * they are a line of text (an HTTP, SMTP, SSH... server). */
	struct td_plain_line reply;
	/* The server's plain-text greeting, when a line protocol greeted
	 * (SMTP, FTP, IMAP, POP3) and the client then sent a ClientHello
	 * without asking for the upgrade. */
	struct td_plain_line greeting;
};

/* A PROXY protocol header before the client's bytes (a load balancer or
 * proxy passing on the client's own address): its version and the
 * connection it stands for. */
struct td_proxy_facts {
	uint8_t version; /* 1 or 2; 0: none */
	bool local;      /* v2 LOCAL: the proxy's own connection, no client */
	uint32_t frame;  /* where the header ended */
	struct td_addr client, server; /* family 0: not given */
	uint16_t client_port, server_port;
};

/* A ServerHello. Its lists are pointers, as a ClientHello's are: the
 * parser writes into one with room for their caps (struct
 * td_server_hello_wide), a session keeps a copy fitted to what they hold
 * (td_session_set_sh()). */
struct td_server_hello {
	bool seen;
	uint32_t frame;
	struct td_time ts;
	uint16_t record_version;
	uint16_t legacy_version;
	uint16_t selected_version; /* supported_versions, 0 when absent */
	uint16_t suite;
	uint8_t compression;
	uint8_t session_id_len;
	uint8_t session_id[32];
	bool session_id_echoed; /* same non-empty id as the ClientHello: resumption */
	bool hello_retry_request; /* RFC 8446 §4.1.3 special random */
	uint16_t n_exts, total_exts;
	uint16_t *exts;         /* n_exts, in wire order */
	bool has_alpn;
	uint8_t alpn_len;       /* at most TD_ALPN_LEN: a longer name is cut */
	uint8_t *alpn;          /* alpn_len bytes */
	uint32_t ext_flags;     /* TD_EXT_* */
	uint8_t random[32];
	uint16_t key_share;     /* group chosen (or asked for, in an HRR), 0 none */
	uint8_t downgrade;      /* RFC 8446 §4.1.3 sentinel: 0 none, 11 "TLS 1.1
				 * or below", 12 "TLS 1.2" */
	uint8_t malformed;
	/* Fingerprints, set by the TLS parser */
	char ja3s[33];          /* MD5 hex of the JA3S string */
	char ja4s[48];
	uint16_t block_bytes; /* the session's block, as td_session_bytes() counts it */
};

/* A ServerHello with room in its lists for their caps, as
 * td_client_hello_wide: td_server_hello_wide() points w->sh's lists at
 * the rooms and returns &w->sh; td_server_hello_widen() makes w a copy of
 * sh (lists included) to change and hand back to td_session_set_sh(). */
struct td_server_hello_wide {
	struct td_server_hello sh;
	uint16_t exts[TD_MAX_SH_EXTS];
	uint8_t alpn[TD_ALPN_LEN];
};

struct td_server_hello *td_server_hello_wide(struct td_server_hello_wide *w);
struct td_server_hello *td_server_hello_widen(struct td_server_hello_wide *w,
					      const struct td_server_hello *sh);

/* The point of the handshake an event happened at (RFC 5246 §7.3,
 * RFC 8446 §2 message flows). */
enum td_phase {
	TD_PHASE_BEFORE_SERVER_HELLO,
	TD_PHASE_SERVER_FLIGHT,          /* after ServerHello, server still sending */
	TD_PHASE_AFTER_SERVER_FLIGHT,    /* client's turn (key exchange, Finished) */
	TD_PHASE_AFTER_CLIENT_FINISHED,  /* waiting for the server's Finished */
	TD_PHASE_APPLICATION,            /* handshake complete */
	TD_PHASE_COUNT
};

struct td_alert {
	uint8_t dir;       /* enum td_dir of the sender */
	bool encrypted;    /* sent under encryption: level/description unknown */
	bool probable;     /* TLS 1.3: an application_data record of alert size */
	bool decrypted;    /* sent under encryption and opened with the secrets given */
	uint8_t level;     /* 1 warning, 2 fatal; 0 when encrypted */
	uint8_t desc;      /* RFC 8446 §6 AlertDescription; valid unless encrypted */
	uint8_t phase;     /* enum td_phase */
	uint16_t record_len;
	uint32_t frame;
	struct td_time ts;
};

enum td_event_kind {
	TD_EV_HANDSHAKE,           /* a handshake message in clear: type = HandshakeType */
	TD_EV_ENCRYPTED_HANDSHAKE, /* a handshake record after encryption started */
	TD_EV_CCS,
	TD_EV_ALERT,               /* type = index into alerts[] */
	TD_EV_APPDATA,             /* application_data records, coalesced per run */
	TD_EV_TCP_FIN,
	TD_EV_TCP_RST,
	TD_EV_GAP,                 /* bytes missing from the stream: len = count */
	TD_EV_PLAIN_TEXT,          /* text where a TLS record was due
				    * (td_plain_text.reply): len = the bytes
				    * of its segment */
	TD_EV_KIND_COUNT
};

/* 24 bytes: the timeline is the longest list an open connection holds.
 * Its time is kept as the two fields of a struct td_time (one would be
 * padded to 16 bytes); td_event_ts() gives it back. */
struct td_event {
	int64_t ts_sec;
	int32_t ts_usec;
	uint32_t len;   /* message or record bytes (sum for a run) */
	uint32_t frame;
	uint16_t count; /* TD_EV_APPDATA: records in this run */
	uint8_t type;
	uint8_t kind : 4;      /* enum td_event_kind */
	uint8_t dir : 1;
	uint8_t decrypted : 1; /* TD_EV_HANDSHAKE: the message was read after decrypting */
};
_Static_assert(TD_EV_KIND_COUNT <= 16, "td_event.kind has 4 bits");

static inline struct td_time td_event_ts(const struct td_event *ev)
{
	return (struct td_time){.sec = ev->ts_sec, .usec = ev->ts_usec};
}

enum td_outcome {
	TD_OUTCOME_NOT_TLS,
	TD_OUTCOME_INCOMPLETE, /* capture ended or went idle mid-handshake */
	TD_OUTCOME_FAILED,     /* ended (alert, RST, FIN) before completing */
	TD_OUTCOME_COMPLETED,
	TD_OUTCOME_COUNT
};

enum td_end {
	TD_END_OPEN,   /* still open when the capture ended */
	TD_END_FIN,
	TD_END_RST,
	TD_END_IDLE,   /* idle timeout */
	TD_END_EVICTED,
	TD_END_COUNT
};

/* Handshake stages in order, for "last stage reached". */
enum td_stage {
	TD_STAGE_NONE,
	TD_STAGE_CLIENT_HELLO,
	TD_STAGE_SERVER_HELLO,
	TD_STAGE_CERTIFICATE,
	TD_STAGE_SERVER_HELLO_DONE,  /* TLS 1.2 server flight complete */
	TD_STAGE_CLIENT_KEY_EXCHANGE,
	TD_STAGE_CLIENT_FINISHED,
	TD_STAGE_SERVER_FINISHED,
	TD_STAGE_APPLICATION_DATA,
	TD_STAGE_COUNT
};

/* Decryption with a key log or the server's RSA key ([decrypt]): what
 * could be opened, and what the checks found. Facts only; the diagnosis
 * and the reports word them. */
enum td_decrypt_status {
	TD_DECRYPT_OFF,         /* no --keylog, --key or SSLKEYLOGFILE */
	TD_DECRYPT_DONE,        /* keys derived; see the checks below */
	TD_DECRYPT_NO_HELLOS,   /* ClientHello or ServerHello not captured */
	TD_DECRYPT_NO_SECRETS,  /* nothing in the key log for this client random,
				 * and no RSA key exchange a --key could open */
	TD_DECRYPT_DHE_NO_KEYLOG, /* (EC)DHE key exchange: an RSA key cannot help */
	TD_DECRYPT_PMS_FAILED,  /* RSA: no --key decrypts the pre-master secret */
	TD_DECRYPT_TLS13_MISSING, /* TLS 1.3 handshake secrets not in the key log */
	TD_DECRYPT_RESUMED,     /* resumed: the key log has no secret for it */
	TD_DECRYPT_SUITE,       /* cipher suite not supported here */
	TD_DECRYPT_VERSION,     /* SSL 3.0 or a TLS 1.3 draft */
	TD_DECRYPT_NOT_REACHED, /* the handshake ended before encryption began */
	TD_DECRYPT_STATUS_COUNT
};

enum td_decrypt_source {
	TD_SRC_NONE,
	TD_SRC_KEYLOG,     /* CLIENT_RANDOM or TLS 1.3 traffic secrets */
	TD_SRC_KEYLOG_RSA, /* a key log "RSA" line (pre-master secret) */
	TD_SRC_RSA_KEY,    /* the pre-master secret decrypted with --key */
};

/* The pre-master secret of an RSA key exchange tried with each --key. */
enum td_pms_result {
	TD_PMS_NOT_TRIED,
	TD_PMS_DECRYPTED,   /* PKCS#1 v1.5 padding and client_version right */
	TD_PMS_WRONG_KEY,   /* padding check failed: not encrypted to this key */
	TD_PMS_WRONG_VERSION, /* padding right, version bytes wrong */
	TD_PMS_WRONG_LENGTH,
	TD_PMS_NOT_RSA,     /* the key given is not an RSA key */
	TD_PMS_RESULT_COUNT
};

enum td_finished_check {
	TD_FIN_NOT_SEEN,     /* no Finished from this side */
	TD_FIN_VERIFIED,     /* verify_data equals the transcript's */
	TD_FIN_MISMATCH,     /* decrypted, verify_data differs */
	TD_FIN_UNREADABLE,   /* its record did not decrypt (see failure) */
	TD_FIN_NO_KEYS,      /* seen, but no keys for this direction */
	TD_FIN_NO_TRANSCRIPT, /* handshake messages missing or too large */
	TD_FIN_CHECK_COUNT
};

#define TD_MAX_KEYS 8 /* --key files tried on an RSA pre-master secret */

struct td_decrypt_facts {
	uint8_t status;   /* enum td_decrypt_status */
	uint8_t source;   /* enum td_decrypt_source */
	int8_t key_index; /* TD_SRC_RSA_KEY: which --key (0-based), else -1 */
	uint8_t n_keys_tried;
	uint8_t pms[TD_MAX_KEYS]; /* enum td_pms_result per --key, in order */
	/* the --key paths in order, n_key_files of them, for the report and
	 * the certificates' key matches: borrowed from the caller's list,
	 * which lives for the whole run; set by the caller after
	 * td_session_finish() (NULL when unknown). td_decrypt_key_file()
	 * reads it. */
	uint8_t n_key_files;
	const char *const *key_files;
	bool ems;         /* extended master secret (RFC 7627) used */
	bool etm;         /* encrypt_then_mac (RFC 7366) used */
	bool app_secrets[2]; /* TLS 1.3: application traffic secrets known */
	uint8_t finished[2]; /* enum td_finished_check per sender */
	uint32_t finished_frame[2];
	uint32_t records[2];   /* records opened */
	uint32_t skipped[2];   /* application data records counted, not opened */
	bool failed;           /* a record failed to open: */
	uint8_t fail_dir;
	uint8_t fail_what;     /* enum td_dec_result (td_decrypt.h) */
	uint32_t fail_frame;
	uint16_t fail_len;
};

/* The path of --key i (0-based), NULL when unknown. */
static inline const char *td_decrypt_key_file(const struct td_decrypt_facts *d, int i)
{
	return d->key_files && i >= 0 && i < d->n_key_files ? d->key_files[i] : NULL;
}

/* A stapled OCSP response (RFC 6066 §8 CertificateStatus, TLS <= 1.2 in
 * clear; RFC 6960 OCSPResponse), read by the x509 module. */
enum td_ocsp_cert_status {
	TD_OCSP_GOOD,
	TD_OCSP_REVOKED,
	TD_OCSP_UNKNOWN,
	TD_OCSP_NONE, /* no SingleResponse (or the response is not successful) */
};

struct td_ocsp_facts {
	bool seen;            /* a CertificateStatus of type ocsp(1) */
	uint32_t frame;
	uint32_t length;      /* of the DER response */
	bool parsed;          /* libcrypto decoded it */
	uint8_t response_status; /* RFC 6960 §4.2.1 OCSPResponseStatus, 0 successful */
	uint8_t cert_status;  /* enum td_ocsp_cert_status, of the first SingleResponse */
	int8_t revocation_reason; /* RFC 5280 CRLReason, -1 when none given */
	uint16_t n_responses; /* SingleResponses */
	int64_t produced_at;  /* seconds since the epoch, UTC; 0 when absent */
	int64_t this_update;
	int64_t next_update;  /* 0: none given */
	int64_t revoked_at;   /* 0 unless revoked */
};

/* A NewSessionTicket, as its SHA-256 (a ticket can be kilobytes). */
struct td_new_ticket {
	uint8_t sha256[32];
	uint32_t frame;
};

struct td_tcp_evidence {
	uint32_t retransmissions[2];
	uint32_t out_of_order[2];
	uint32_t gaps[2];
	uint64_t bytes_missing[2];
	uint32_t overlaps_differ;
	uint32_t zero_windows[2];
	uint32_t largest_segment[2];
	uint32_t rsts[2];               /* RSTs sent, up to the connection's end */
	uint32_t keepalives[2];         /* keep-alives ignored (not data) */
	uint32_t zero_window_probes[2]; /* window probes ignored (not data) */
	/* segments dropped as another stream's (td_reasm.h, out_of_window;
	 * saturates at 65535) */
	uint16_t out_of_window[2];
};

struct td_session {
	uint64_t id; /* 1, 2, ... in order of first packet */
	struct td_addr client, server;
	uint16_t client_port, server_port;
	bool syn_seen;      /* roles from the SYN; else from TLS content or ports */
	bool midstream;     /* no SYN: picked up after the connection began */
	bool roles_guessed; /* no SYN and no hello to tell: lower port = server */
	uint16_t encap; /* TD_ENCAP_* bits (td_decode.h) */
	uint16_t vlan_id;
	uint32_t first_frame, last_frame;
	struct td_time first_ts, last_ts;
	uint64_t packets[2];
	uint64_t payload_bytes[2];
	struct td_tcp_evidence tcp;

	bool is_tls;
	struct td_classify_facts ndpi; /* nDPI's verdict on the flow */
	uint8_t starttls;        /* enum td_starttls_proto: plain text came first */
	uint32_t starttls_frame; /* frame of the server's go-ahead, 0: none */
	/* Plain text from the server where TLS was expected: a shared
	 * read-only all-zero instance until written through
	 * td_session_plain(), never NULL after td_session_init. */
	const struct td_plain_text *plain;
	/* A PROXY protocol header came first: the same kind of shared zero
	 * instance until written through td_session_proxy(). */
	const struct td_proxy_facts *proxy;
	/* The hellos: a shared read-only all-zero instance until the parser
	 * writes one through td_session_ch() / td_session_sh() (a connection
	 * without a hello holds neither); never NULL after td_session_init. */
	const struct td_client_hello *ch;
	const struct td_server_hello *sh;
	uint16_t version; /* negotiated: supported_versions or legacy */
	bool hrr_seen;    /* a HelloRetryRequest came first (RFC 8446 §4.1.4) */
	uint32_t hrr_frame;
	/* The second ClientHello, after a HelloRetryRequest (RFC 8446
	 * §4.1.4): its frame, 0 when none. */
	uint32_t ch2_frame;
	uint32_t cert_uncompressed_len; /* RFC 8879, with cert_compression */
	/* The fingerprints of the HelloRetryRequest and of the second
	 * ClientHello: a shared read-only all-zero instance until written
	 * through td_session_retry() (most connections have no retry), never
	 * NULL after td_session_init. */
	const struct td_hello_retry *retry;

	/* Server certificate chain, in the order sent (references held);
	 * allocated as it comes, certs_cap entries (at most TD_MAX_CHAIN). */
	uint8_t n_certs, certs_cap;
	uint16_t total_certs;
	uint32_t cert_frame;
	const struct td_cert **certs;
	bool certs_encrypted; /* TLS 1.3: Certificate is inside encryption */
	/* --key results, per certificate: 1 + the index in dec.key_files of
	 * the key file whose public half is the certificate's key, 0 when
	 * none (td_session_cert_key() gives the path). */
	bool keys_given;
	uint8_t cert_key_match[TD_MAX_CHAIN];
	/* RFC 8879: the server's chain came in a CompressedCertificate
	 * (td_decompress.h, cert_compressed): its algorithm, the
	 * uncompressed length it announced (cert_uncompressed_len, above
	 * where it fills a hole), and TD_OK or why the chain in it was not
	 * read (enum td_err: TD_ERR_UNSUPPORTED an algorithm tlsdiag does
	 * not know, TD_ERR_TOO_BIG above the handshake message cap, TD_ERR_MALFORMED
	 * a stream that does not decode to that length). */
	bool cert_compressed;
	uint8_t cert_compression_err;
	uint16_t cert_compression;
	/* Chain facts (order, completeness, dates, weak keys, SNI, --ca,
	 * --cert), set by the caller with td_chain_check() after
	 * td_session_finish() into td_session_chain(); chain->checked is
	 * false until then. A shared read-only all-zero instance until
	 * written (an open connection holds none), never NULL after
	 * td_session_init. */
	const struct td_chain_facts *chain;
	bool client_cert_requested;
	/* ServerKeyExchange (TLS <= 1.2, RFC 8422 §5.4 / RFC 5246 §7.4.3) */
	uint16_t ske_group;    /* named curve, 0 when not ECDHE */
	uint16_t ske_dh_bits;  /* size of the DHE prime, 0 when not DHE */
	uint16_t ske_sigalg;   /* signature scheme (TLS 1.2), 0 before 1.2 */
	/* CertificateRequest (RFC 5246 §7.4.4) */
	uint16_t cr_n_cas;     /* distinguished names of acceptable CAs */
	uint16_t cr_n_sigalgs; /* schemes on the wire; the first TD_MAX_CR_SIGALGS kept */
	uint8_t cr_sigalgs_cap; /* entries allocated in cr_sigalgs */
	uint16_t *cr_sigalgs;   /* the kept ones (allocated), NULL when none */
	/* the first TD_MAX_CA_NAMES names as DER (RFC 5280 Name), printed by
	 * the report through the x509 module; length 0: longer than
	 * TD_CA_NAME_LEN, not kept */
	uint8_t cr_n_ca_names;
	uint16_t cr_ca_len[TD_MAX_CA_NAMES];
	uint8_t (*cr_ca_der)[TD_CA_NAME_LEN]; /* cr_n_ca_names rows (allocated) */
	/* The stapled OCSP response: a shared read-only all-zero instance
	 * until written through td_session_ocsp() (few servers staple), never
	 * NULL after td_session_init. */
	const struct td_ocsp_facts *ocsp;
	/* the client's CertificateVerify (TLS 1.2, RFC 5246 §7.4.8): its
	 * signature scheme, 0 when none was seen */
	uint16_t cv_sigalg;
	/* ClientKeyExchange: the encrypted pre-master secret or public value */
	uint16_t cke_len;
	/* NewSessionTicket (RFC 5077 §3.3) */
	uint32_t ticket_lifetime;
	uint16_t new_ticket_len;
	bool resumed;          /* abbreviated handshake, or TLS 1.3 PSK */
	uint8_t resumption;    /* enum td_resumption, by td_session_finish() */
	/* Whether the full handshake that made the resumed session is in the
	 * same capture (an earlier connection issued the session ID or the
	 * ticket): 1 yes, 0 no, -1 cannot tell (a TLS 1.3 ticket travels
	 * encrypted and was not decrypted). Set by the engine; meaningful
	 * only when resumed. */
	int8_t full_handshake_in_capture;
	uint64_t full_handshake_conn;  /* that connection's id, 0 when none */
	uint32_t full_handshake_frame; /* its ServerHello or NewSessionTicket */
	/* NewSessionTickets (TLS <= 1.2 in clear, TLS 1.3 once decrypted):
	 * SHA-256 of each ticket and its frame, the first TD_MAX_TICKETS
	 * (allocated: n_new_tickets entries) */
	uint8_t n_new_tickets;
	struct td_new_ticket *new_tickets;
	/* TLS <= 1.2 renegotiation (RFC 5246 §7.4.1.1, RFC 5746): a handshake
	 * record after both Finished; by the client (ClientHello) or the
	 * server (HelloRequest). 0 / -1 when none. */
	uint32_t reneg_frame;
	int8_t reneg_by;
	/* The client's chain (TLS <= 1.2 in clear), references held;
	 * allocated, client_certs_cap entries (at most TD_MAX_CHAIN). */
	uint8_t n_client_certs, client_certs_cap;
	uint16_t total_client_certs;
	uint32_t client_cert_frame;
	const struct td_cert **client_certs;

	/* allocated, grown up to TD_MAX_ALERTS (cap_alerts entries) */
	uint8_t n_alerts, total_alerts, cap_alerts;
	struct td_alert *alerts;

	/* allocated, grown up to TD_MAX_EVENTS (cap_events entries) */
	uint16_t n_events, total_events, cap_events;
	struct td_event *events;

	/* bytes of the blocks above, allocator headers included */
	uint32_t heap_bytes;

	bool ccs_seen[2];
	bool encrypted[2];          /* encryption started in this direction */
	uint32_t encrypted_frame[2];
	bool finished_seen[2];      /* (encrypted) Finished seen */
	uint32_t records[2];
	uint32_t appdata_records[2];
	uint64_t appdata_bytes[2];
	uint32_t handshake_messages[2];

	uint8_t stage;   /* enum td_stage: last stage reached */
	uint8_t outcome; /* enum td_outcome, set by td_session_finish() */
	uint8_t end;     /* enum td_end */
	int8_t end_by;   /* enum td_dir of the first FIN/RST, -1 when none */
	uint32_t end_frame;
	int8_t aborted_by;   /* who ended a failed handshake, -1 when not failed */
	uint8_t aborted_how; /* TD_ABORT_* */

	/* Parser anomalies (typed, counted; rules decide what is a finding). */
	uint32_t anomalies[2];
	uint8_t desync[2];        /* enum td_err that stopped the parser, 0 if none */
	uint32_t desync_frame[2];
	uint32_t hs_too_big[2];   /* handshake messages above the cap, skipped */
	uint32_t resyncs[2];      /* record boundary found again after a gap */

	struct td_decrypt_facts dec;

	/* Set by the caller after td_session_finish(), for the report;
	 * borrowed, NULL when not diagnosed. */
	const struct td_diagnosis *diagnosis;
	/* The rules' findings (td_rules_eval), set like diagnosis; borrowed,
	 * NULL when the rules did not run. */
	const struct td_findings *findings;
};

/* How a session was resumed. */
enum td_resumption {
	TD_RESUME_NONE,       /* full handshake */
	TD_RESUME_SESSION_ID, /* RFC 5246 §7.3: the server's session cache */
	TD_RESUME_TICKET,     /* RFC 5077 §3.1: a ticket the client offered */
	TD_RESUME_PSK,        /* RFC 8446 §2.2: a TLS 1.3 pre-shared key */
	TD_RESUME_COUNT
};

enum td_abort_how {
	TD_ABORT_NONE,
	TD_ABORT_ALERT,
	TD_ABORT_RST,
	TD_ABORT_FIN,
	TD_ABORT_SILENCE,
	TD_ABORT_COUNT
};

/* Initialises s for a new connection. */
void td_session_init(struct td_session *s);
/* Releases certificate references (none when cache is NULL: a copy from
 * td_session_copy() holds none) and frees the allocated lists; s can be
 * initialised again after. */
void td_session_clear(struct td_session *s, struct td_x509_cache *cache);
/* What the allocated lists hold, allocator headers included: the engine
 * counts it in --max-memory. */
size_t td_session_bytes(const struct td_session *s);
/* dst becomes a copy of src with lists of its own; its certificate
 * pointers are borrowed (no reference taken: valid while src's are). Free
 * it with td_session_clear(dst, NULL). Returns false when out of memory
 * (dst is then initialised and empty). */
TD_MUST_CHECK bool td_session_copy(struct td_session *dst, const struct td_session *src);
/* dst takes over all src holds (lists, hellos, certificate references);
 * src is left initialised and empty. dst must hold nothing. */
void td_session_move(struct td_session *dst, struct td_session *src);

/* The hellos to write: allocated (zeroed) on the first call, the
 * ClientHello with room in its lists for their caps; NULL when out of
 * memory. The parser fills a struct td_client_hello_wide instead and hands
 * it to td_session_set_ch(), which keeps a copy whose lists are only as
 * long as what they hold (in place of any the session had; false when out
 * of memory): through td_session_ch() on such a session, write the other
 * fields, never the lists or their counts. */
struct td_client_hello *td_session_ch(struct td_session *s);
TD_MUST_CHECK bool td_session_set_ch(struct td_session *s, const struct td_client_hello *ch);
/* The ServerHello, the same way (struct td_server_hello_wide). */
struct td_server_hello *td_session_sh(struct td_session *s);
TD_MUST_CHECK bool td_session_set_sh(struct td_session *s, const struct td_server_hello *sh);
/* The chain facts to write, the same way. */
struct td_chain_facts *td_session_chain(struct td_session *s);
/* The retry fingerprints to write (allocated on first use, counted in
 * td_session_bytes); NULL when out of memory. */
struct td_hello_retry *td_session_retry(struct td_session *s);
/* The plain-text facts and the PROXY header's to write, the same way. */
struct td_plain_text *td_session_plain(struct td_session *s);
struct td_proxy_facts *td_session_proxy(struct td_session *s);
/* The OCSP facts to write, the same way. */
struct td_ocsp_facts *td_session_ocsp(struct td_session *s);
/* The path of the --key that matches certificate i of the server's chain,
 * NULL when none does (or i is past the chain). */
static inline const char *td_session_cert_key(const struct td_session *s, unsigned i)
{
	return i < s->n_certs && i < TD_MAX_CHAIN
		       ? td_decrypt_key_file(&s->dec, s->cert_key_match[i] - 1)
		       : NULL;
}

/* Appending to the lists. Out of memory counts like a full list: the
 * true count goes up, the entry is not stored. */

/* Appends an event (coalescing application data runs); counts overflow. */
void td_session_add_event(struct td_session *s, const struct td_event *ev);
/* Appends an alert; counts overflow. Returns the stored copy, NULL when
 * it was not stored. */
struct td_alert *td_session_add_alert(struct td_session *s, const struct td_alert *a);
/* Room for n kept CertificateRequest signature schemes (n at most
 * TD_MAX_CR_SIGALGS); false when out of memory. */
TD_MUST_CHECK bool td_session_reserve_cr_sigalgs(struct td_session *s, uint16_t n);
/* A new CertificateRequest CA name row (TD_CA_NAME_LEN bytes, zeroed),
 * cr_n_ca_names counted; NULL when TD_MAX_CA_NAMES are stored or out of
 * memory. */
uint8_t *td_session_add_ca_name(struct td_session *s);
/* Appends a NewSessionTicket's digest; false when TD_MAX_TICKETS are
 * stored or out of memory. */
bool td_session_add_ticket(struct td_session *s, const uint8_t sha256[32], uint32_t frame);
/* Room for one more certificate of the server's chain, or of the
 * client's (below TD_MAX_CHAIN); false when full or out of memory. */
TD_MUST_CHECK bool td_session_reserve_cert(struct td_session *s, bool client);
/* The alert that ended the handshake: the first fatal one in clear, or any
 * encrypted one sent before the handshake completed (its level is not
 * visible, and a peer that gives up sends exactly one). NULL when none. */
const struct td_alert *td_session_aborting_alert(const struct td_session *s);
/* Both Finished seen (TLS <= 1.2), or the client's (TLS 1.3: the server's
 * is inside its encrypted flight). */
bool td_session_handshake_complete(const struct td_session *s);
/* Packets were seen in one direction only (the capture missed the other). */
bool td_session_one_sided(const struct td_session *s);
/* Decides outcome, abort side and how, after the connection ended. */
void td_session_finish(struct td_session *s);
/* TLS 1.3 or one of its drafts (0x7fNN) was negotiated. */
bool td_session_is_tls13(const struct td_session *s);
/* Negotiated version: supported_versions when present, else legacy. */
uint16_t td_session_version(const struct td_session *s);

const char *td_phase_name(enum td_phase p);
const char *td_outcome_name(enum td_outcome o);
const char *td_end_name(enum td_end e);
const char *td_stage_name(enum td_stage st);
const char *td_abort_name(enum td_abort_how h);
const char *td_decrypt_status_name(enum td_decrypt_status st);
const char *td_resumption_name(enum td_resumption r);
/* RFC 6960 §4.2.1 response status and §4.2.2 certificate status names. */
const char *td_ocsp_response_status_name(unsigned status);
const char *td_ocsp_cert_status_name(enum td_ocsp_cert_status st);
/* A renegotiation was secure: renegotiation_info (or its SCSV) from the
 * client and renegotiation_info from the server (RFC 5746 §3). */
bool td_session_reneg_secure(const struct td_session *s);
const char *td_decrypt_source_name(enum td_decrypt_source src);
const char *td_pms_result_name(enum td_pms_result r);
const char *td_finished_check_name(enum td_finished_check c);
const char *td_event_kind_name(enum td_event_kind k);
static inline const char *td_dir_name(int dir)
{
	return dir == TD_DIR_C2S ? "client" : "server";
}

#endif
