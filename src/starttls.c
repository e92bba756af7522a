/* starttls.c - following a plain-text exchange up to its upgrade to TLS
 * (see td_starttls.h). */
#include "td_starttls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "td_reader.h"

/* Each protocol's words (RFCs in td_starttls.h). The client command is
 * matched case-insensitively at the start of its line (after the tag for
 * IMAP); the go-ahead is the start of the server's final response line. */
struct proto_words {
	const char *name;
	const char *command[3]; /* any of these asks for the upgrade */
	const char *go_ahead;
	const char *how;
};

static const struct proto_words words[TD_STARTTLS_COUNT] = {
	[TD_STARTTLS_NONE] = {"", {NULL}, NULL, ""},
	[TD_STARTTLS_SMTP] = {"SMTP", {"STARTTLS", NULL}, "220", "STARTTLS"},
	[TD_STARTTLS_FTP] = {"FTP", {"AUTH TLS", "AUTH SSL", NULL}, "234", "AUTH TLS"},
	[TD_STARTTLS_IMAP] = {"IMAP", {"STARTTLS", NULL}, "OK", "STARTTLS"},
	[TD_STARTTLS_POP3] = {"POP3", {"STLS", NULL}, "+OK", "STARTTLS"},
	[TD_STARTTLS_XMPP] = {"XMPP", {"<starttls", NULL}, "<proceed", "STARTTLS"},
	[TD_STARTTLS_LDAP] = {"LDAP", {"1.3.6.1.4.1.1466.20037", NULL}, NULL, "STARTTLS"},
	[TD_STARTTLS_POSTGRES] = {"PostgreSQL", {NULL}, NULL, "SSLRequest"},
	[TD_STARTTLS_MYSQL] = {"MySQL", {NULL}, NULL, "SSLRequest"},
	/* the method is case-sensitive (RFC 9110 §9.1); the status line
	 * starts with the version, then a 2xx code */
	[TD_STARTTLS_HTTP_CONNECT] = {"HTTP CONNECT", {"CONNECT ", NULL}, "HTTP/1.", "proxy tunnel"},
	[TD_STARTTLS_SOCKS4] = {"SOCKS4", {NULL}, NULL, "proxy tunnel"},
	[TD_STARTTLS_SOCKS5] = {"SOCKS5", {NULL}, NULL, "proxy tunnel"},
	[TD_STARTTLS_ADB] = {"ADB", {NULL}, NULL, "STLS"},
	/* the client's version line, then the server's; TLS follows both */
	[TD_STARTTLS_NOMACHINE] = {"NoMachine", {"NXSH-", NULL}, "NXD-", "NXSH/NXD"},
	[TD_STARTTLS_PROXY] = {"PROXY", {"PROXY ", NULL}, NULL, "header"},
	[TD_STARTTLS_HTTP_UPGRADE] = {"HTTP", {NULL}, "HTTP/1.", "Upgrade: TLS"},
	[TD_STARTTLS_GNUTELLA] = {"Gnutella", {"GNUTELLA CONNECT/", NULL}, "GNUTELLA/",
				  "Upgrade: TLS"},
};

/* PROXY protocol v2 (proxy-protocol.txt §2.2): the signature, then
 * ver_cmd, fam, len (big endian): 16 bytes. v1 (§2.1): one line of at
 * most 107 bytes with its CR LF. */
static const uint8_t proxy_v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
					 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
#define PROXY_V2_HEADER 16
#define PROXY_V1_MAX 107

/* PostgreSQL SSLRequest: Int32 length 8, Int32 code 80877103. */
static const uint8_t pg_ssl_request[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};

const char *td_starttls_name(enum td_starttls_proto p)
{
	return (unsigned)p < TD_STARTTLS_COUNT ? words[p].name : "";
}

const char *td_starttls_how(enum td_starttls_proto p)
{
	return (unsigned)p < TD_STARTTLS_COUNT ? words[p].how : "";
}

/* Text matching over wire bytes, through the bounds-checked reader. */
static bool match_at(const struct td_reader *r, size_t at, const char *text, bool nocase)
{
	for (size_t i = 0; text[i]; i++) {
		uint8_t c;
		if (td_peek_u8(r, at + i, &c) != TD_OK)
			return false;
		int a = c, b = (unsigned char)text[i];
		if (nocase ? tolower(a) != tolower(b) : a != b)
			return false;
	}
	return true;
}

static bool starts_with(const uint8_t *p, size_t n, const char *prefix, bool nocase)
{
	struct td_reader r;
	td_reader_init(&r, p, n);
	return match_at(&r, 0, prefix, nocase);
}

static bool contains(const uint8_t *p, size_t n, const char *needle)
{
	struct td_reader r;
	size_t k = strlen(needle);
	td_reader_init(&r, p, n);
	for (size_t at = 0; k <= n && at <= n - k; at++)
		if (match_at(&r, at, needle, false))
			return true;
	return false;
}

/* ---- detection of the binary ones --------------------------------------- */

/* MySQL's first packet, from the server: a 3-byte little-endian length, a
 * sequence number 0, protocol version 10, and the server version as a
 * NUL-terminated string that starts with a digit ("8.0.36"). */
#define MYSQL_PROTOCOL_10 0x0a
#define MYSQL_CLIENT_SSL 0x0800u
#define MYSQL_SSL_REQUEST_LEN 32

static bool mysql_greeting(const uint8_t *p, size_t n)
{
	struct td_reader r;
	uint8_t b[3], seq, proto, c;
	uint32_t len;

	td_reader_init(&r, p, n);
	if (td_read_bytes(&r, b, 3) != TD_OK || td_read_u8(&r, &seq) != TD_OK ||
	    td_read_u8(&r, &proto) != TD_OK || td_read_u8(&r, &c) != TD_OK)
		return false;
	len = b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16;
	if (seq != 0 || proto != MYSQL_PROTOCOL_10 || !isdigit(c) || len < 20 || len > 1024)
		return false;
	/* the version string ends within the packet */
	for (uint32_t i = 2; i < len; i++) {
		if (td_peek_u8(&r, i - 2, &c) != TD_OK)
			return true; /* cut by the segment: the rest looked right */
		if (c == 0)
			return true;
		if (c < 0x20 || c > 0x7e)
			return false;
	}
	return false;
}

/* SOCKS5 (RFC 1928 §3): VER 5, NMETHODS >= 1, that many methods. The
 * client waits for the server's choice, so its first bytes are exactly
 * these. */
#define SOCKS5_VER 5
#define SOCKS4_VER 4

static bool socks5_greeting(const uint8_t *p, size_t n)
{
	struct td_reader r;
	uint8_t ver, nmethods;

	td_reader_init(&r, p, n);
	return td_read_u8(&r, &ver) == TD_OK && ver == SOCKS5_VER &&
	       td_read_u8(&r, &nmethods) == TD_OK && nmethods >= 1 &&
	       td_reader_left(&r) == nmethods;
}

/* SOCKS4 CONNECT: VN 4, CD 1, DSTPORT, DSTIP, USERID, NUL (and for 4A,
 * whose DSTIP is 0.0.0.x, the host name and a NUL): ends with a NUL. */
static bool socks4_request(const uint8_t *p, size_t n)
{
	struct td_reader r;
	uint8_t vn = 0, cd = 0, last = 0; /* GCC -flto warns otherwise */

	td_reader_init(&r, p, n);
	return n >= 9 && n <= 512 && td_read_u8(&r, &vn) == TD_OK && vn == SOCKS4_VER &&
	       td_read_u8(&r, &cd) == TD_OK && cd == 1 && td_peek_u8(&r, n - 3, &last) == TD_OK &&
	       last == 0;
}

/* ADB (AOSP adb protocol.txt, "protocol overview and basics"): every
 * message is a 24-byte header of six little-endian 32-bit words, then
 * data_length bytes of payload:
 *
 *   struct message {
 *       unsigned command;     A_CNXN, A_STLS, ...
 *       unsigned arg0;
 *       unsigned arg1;
 *       unsigned data_length; length of payload (0 is allowed)
 *       unsigned data_crc32;  checksum of the payload
 *       unsigned magic;       command ^ 0xffffffff
 *   };
 *
 * The checksum is not checked: adb itself computes it as a byte sum and
 * stops checking it from version 0x01000001 on. */
#define ADB_HEADER_LEN 24
#define ADB_A_CNXN 0x4e584e43u /* "CNXN" */
#define ADB_A_STLS 0x534c5453u /* "STLS" */
/* CONNECT and AUTH are at most 4096 bytes (protocol.txt, CONNECT); later
 * messages at most the maxdata agreed, 1 MiB in today's adb */
#define ADB_MAX_CNXN 4096u
#define ADB_MAX_PAYLOAD (1024u * 1024u)

struct adb_header {
	uint32_t command, arg0, arg1, data_length, data_crc32, magic;
};

static enum td_err read_u32le(struct td_reader *r, uint32_t *v)
{
	uint8_t b[4];
	enum td_err e = td_read_bytes(r, b, sizeof b);

	if (e == TD_OK)
		*v = b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return e;
}

/* Reads a message header; false when the bytes are too few or the magic
 * is not the command's complement. */
static bool adb_header(const uint8_t *p, size_t n, struct adb_header *h)
{
	struct td_reader r;

	td_reader_init(&r, p, n);
	return read_u32le(&r, &h->command) == TD_OK && read_u32le(&r, &h->arg0) == TD_OK &&
	       read_u32le(&r, &h->arg1) == TD_OK && read_u32le(&r, &h->data_length) == TD_OK &&
	       read_u32le(&r, &h->data_crc32) == TD_OK && read_u32le(&r, &h->magic) == TD_OK &&
	       h->magic == (h->command ^ 0xffffffffu);
}

/* The host opens with CONNECT(version, maxdata, "system-identity-string"). */
static bool adb_connect(const uint8_t *p, size_t n)
{
	struct adb_header h;

	return adb_header(p, n, &h) && h.command == ADB_A_CNXN && h.data_length <= ADB_MAX_CNXN;
}

/* NoMachine: "NXSH-" and a version that starts with a digit. */
static bool nx_version_line(const uint8_t *p, size_t n, const char *word)
{
	struct td_reader r;
	uint8_t c;

	td_reader_init(&r, p, n);
	return match_at(&r, 0, word, false) && td_peek_u8(&r, strlen(word), &c) == TD_OK &&
	       isdigit(c);
}

/* An HTTP/1.1 request that asks to upgrade to TLS (RFC 2817 §3.1: an
 * Upgrade header naming TLS/x.y, in the request's first segment). Plain
 * HTTP is left alone. */
static bool http_upgrade_request(const uint8_t *p, size_t n)
{
	static const char *const methods[] = {"OPTIONS ", "GET ", "HEAD ", "POST ", "PUT "};
	bool method = false;

	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		method |= starts_with(p, n, methods[i], false);
	return method && contains(p, n, "\nUpgrade: TLS/");
}

enum td_starttls_proto td_starttls_detect(int dir, const uint8_t *p, size_t n)
{
	if (starts_with(p, n, "<?xml", false) || starts_with(p, n, "<stream:stream", false))
		return TD_STARTTLS_XMPP;
	if (dir == 1) {
		/* server greetings: SMTP/FTP "220", IMAP "* OK", POP3 "+OK" */
		if (starts_with(p, n, "220 ", false) || starts_with(p, n, "220-", false))
			return TD_STARTTLS_SMTP; /* FTP is told apart by its command */
		if (starts_with(p, n, "* OK", true) || starts_with(p, n, "* PREAUTH", true))
			return TD_STARTTLS_IMAP;
		if (starts_with(p, n, "+OK", false))
			return TD_STARTTLS_POP3;
		if (mysql_greeting(p, n))
			return TD_STARTTLS_MYSQL;
		return TD_STARTTLS_NONE;
	}
	if (starts_with(p, n, words[TD_STARTTLS_HTTP_CONNECT].command[0], false))
		return TD_STARTTLS_HTTP_CONNECT;
	if (socks5_greeting(p, n))
		return TD_STARTTLS_SOCKS5;
	if (socks4_request(p, n))
		return TD_STARTTLS_SOCKS4;
	if (adb_connect(p, n))
		return TD_STARTTLS_ADB;
	if (starts_with(p, n, words[TD_STARTTLS_GNUTELLA].command[0], false))
		return TD_STARTTLS_GNUTELLA;
	if (http_upgrade_request(p, n))
		return TD_STARTTLS_HTTP_UPGRADE;
	if (starts_with(p, n, words[TD_STARTTLS_PROXY].command[0], false) ||
	    (n >= sizeof proxy_v2_sig && memcmp(p, proxy_v2_sig, sizeof proxy_v2_sig) == 0))
		return TD_STARTTLS_PROXY;
	if (nx_version_line(p, n, words[TD_STARTTLS_NOMACHINE].command[0]))
		return TD_STARTTLS_NOMACHINE;
	struct td_reader r;
	uint8_t first[sizeof pg_ssl_request];
	td_reader_init(&r, p, n);
	if (td_read_bytes(&r, first, sizeof first) == TD_OK &&
	    memcmp(first, pg_ssl_request, sizeof first) == 0)
		return TD_STARTTLS_POSTGRES;
	/* LDAPMessage: SEQUENCE { messageID INTEGER, protocolOp ... }
	 * (RFC 4511 §4.1.1), asking for StartTLS */
	if (n >= 5 && starts_with(p, n, "\x30", false) &&
	    contains(p, n, words[TD_STARTTLS_LDAP].command[0]))
		return TD_STARTTLS_LDAP;
	return TD_STARTTLS_NONE;
}

void td_starttls_init(struct td_starttls *st, enum td_starttls_proto proto)
{
	memset(st, 0, sizeof *st);
	st->proto = (uint8_t)proto;
	st->state = TD_STARTTLS_GREETING;
	if (proto == TD_STARTTLS_PROXY)
		st->d[1].tls = true; /* the server never sees the header's protocol */
}

static void upgrade(struct td_starttls *st, uint32_t frame)
{
	st->state = TD_STARTTLS_UPGRADED;
	st->upgrade_frame = frame;
	st->d[0].tls = true; /* the client's next bytes are its ClientHello */
	st->d[1].tls = true;
}

/* ---- line protocols: SMTP, FTP, IMAP, POP3 -------------------------------- */

static void client_line(struct td_starttls *st, const uint8_t *l, size_t n)
{
	if (st->state != TD_STARTTLS_GREETING)
		return;
	if (st->proto == TD_STARTTLS_IMAP) {
		/* tag SP "STARTTLS" (RFC 9051 §2.2.1) */
		struct td_reader r;
		size_t t = 0;
		uint8_t c;
		td_reader_init(&r, l, n);
		while (td_peek_u8(&r, t, &c) == TD_OK && c != ' ' && t + 1 < sizeof st->imap_tag)
			t++;
		if (t == 0 || !match_at(&r, t, " STARTTLS", true) ||
		    td_read_bytes(&r, st->imap_tag, t) != TD_OK)
			return;
		st->imap_tag[t] = '\0';
		st->state = TD_STARTTLS_ASKED;
		return;
	}
	if (st->proto == TD_STARTTLS_HTTP_CONNECT) {
		if (starts_with(l, n, words[st->proto].command[0], false))
			st->state = TD_STARTTLS_ASKED; /* its header lines follow */
		return;
	}
	if (st->proto == TD_STARTTLS_NOMACHINE) {
		if (nx_version_line(l, n, words[st->proto].command[0]))
			st->state = TD_STARTTLS_ASKED;
		return;
	}
	/* SMTP and FTP share the 220 greeting: the command tells them apart */
	for (int p = TD_STARTTLS_SMTP; p <= TD_STARTTLS_POP3; p++) {
		if (p == TD_STARTTLS_IMAP)
			continue;
		bool same_family = p == st->proto ||
				   (st->proto == TD_STARTTLS_SMTP && p == TD_STARTTLS_FTP);
		if (!same_family)
			continue;
		for (int k = 0; k < 3 && words[p].command[k]; k++) {
			if (starts_with(l, n, words[p].command[k], true)) {
				st->proto = (uint8_t)p;
				st->state = TD_STARTTLS_ASKED;
				return;
			}
		}
	}
}

/* HTTP/1.x SP 3DIGIT SP reason (RFC 9112 §4), header lines, an empty
 * line: with a 2xx code the tunnel is open after the empty line (RFC 9110
 * §9.3.6); any other code (407: proxy authentication) refuses this
 * CONNECT, and the client may send another. 1xx responses are interim. */
#define HTTP_STATUS_LINE 1
#define HTTP_HEADERS_OK 2
#define HTTP_HEADERS_NO 3

static void http_response_line(struct td_starttls *st, struct td_reader *r, size_t n,
			       uint32_t frame)
{
	struct td_starttls_dir *d = &st->d[1];
	uint8_t code;

	if (d->step == 0 || d->step == HTTP_STATUS_LINE) {
		if (!match_at(r, 0, words[TD_STARTTLS_HTTP_CONNECT].go_ahead, false) ||
		    td_peek_u8(r, 9, &code) != TD_OK)
			return; /* not a status line: wait for one */
		d->step = code == '2' ? HTTP_HEADERS_OK : HTTP_HEADERS_NO;
		if (code == '1')
			d->step = HTTP_STATUS_LINE;
		return;
	}
	if (n != 0)
		return; /* a header line */
	if (d->step == HTTP_HEADERS_OK) {
		upgrade(st, frame);
		return;
	}
	d->step = HTTP_STATUS_LINE;
	st->state = TD_STARTTLS_GREETING;
}

/* A reply line is final unless it continues ("250-..." in SMTP/FTP, RFC
 * 5321 §4.2.1; "* ..." untagged in IMAP). */
static void server_line(struct td_starttls *st, const uint8_t *l, size_t n, uint32_t frame)
{
	struct td_reader r;
	size_t at = 0; /* where the reply's text starts */
	uint8_t c;

	if (st->state != TD_STARTTLS_ASKED)
		return;
	td_reader_init(&r, l, n);
	if (st->proto == TD_STARTTLS_HTTP_CONNECT) {
		http_response_line(st, &r, n, frame);
		return;
	}
	switch (st->proto) {
	case TD_STARTTLS_SMTP:
	case TD_STARTTLS_FTP:
		if (td_peek_u8(&r, 3, &c) != TD_OK || c == '-')
			return; /* too short, or a continuation line */
		break;
	case TD_STARTTLS_IMAP:
		at = strlen(st->imap_tag);
		if (!match_at(&r, 0, st->imap_tag, false) || !match_at(&r, at, " ", false))
			return; /* untagged or another command's reply */
		at++;
		break;
	default:
		break;
	}
	if (st->proto == TD_STARTTLS_NOMACHINE ? nx_version_line(l, n, words[st->proto].go_ahead)
					       : match_at(&r, at, words[st->proto].go_ahead, true))
		upgrade(st, frame);
	else
		st->state = TD_STARTTLS_GREETING; /* refused: the client may go on in clear */
}

/* ---- header blocks: HTTP Upgrade (RFC 2817), Gnutella ---------------------- */

/* d->step bits while a block of header lines is read */
#define BLOCK_UPGRADE 0x1 /* an "Upgrade: TLS/..." line */
#define BLOCK_STATUS_OK 0x2 /* the server's status line agrees */
#define BLOCK_STARTED 0x4 /* the block's first line has come */

/* One line of a header block; an empty line ends the block (RFC 9112
 * §2.1). The client asks in its first block; the server agrees with 101
 * (HTTP, RFC 2817 §3.3) or with 200 and an Upgrade line of its own
 * (Gnutella); Gnutella's client then ends its final block, after which it
 * speaks TLS (the servent is TLS from the end of its block). */
static void header_block_line(struct td_starttls *st, int dir, const uint8_t *l, size_t n,
			      uint32_t frame)
{
	struct td_starttls_dir *d = &st->d[dir];
	struct td_reader r;

	td_reader_init(&r, l, n);
	if (n) {
		if (match_at(&r, 0, "Upgrade:", true) && contains(l, n, "TLS/"))
			d->step |= BLOCK_UPGRADE;
		/* the status line: "HTTP/1.1 101 ..." or "GNUTELLA/0.6 200 ..." */
		if (dir == 1 && !(d->step & BLOCK_STARTED) &&
		    match_at(&r, 0, words[st->proto].go_ahead, false) &&
		    (st->proto == TD_STARTTLS_HTTP_UPGRADE ? match_at(&r, 8, " 101", false)
							    : match_at(&r, 12, " 200", false)))
			d->step |= BLOCK_STATUS_OK;
		d->step |= BLOCK_STARTED;
		return;
	}
	if (!(d->step & BLOCK_STARTED))
		return; /* empty lines between blocks */
	uint8_t block = d->step;
	d->step = 0;
	if (dir == 0 && st->state == TD_STARTTLS_GREETING) {
		st->state = block & BLOCK_UPGRADE ? TD_STARTTLS_ASKED : TD_STARTTLS_REFUSED;
	} else if (dir == 1 && st->state == TD_STARTTLS_ASKED) {
		bool agreed = st->proto == TD_STARTTLS_HTTP_UPGRADE
				      ? (block & BLOCK_STATUS_OK) != 0
				      : (block & (BLOCK_STATUS_OK | BLOCK_UPGRADE)) ==
						(BLOCK_STATUS_OK | BLOCK_UPGRADE);
		if (!agreed)
			st->state = TD_STARTTLS_REFUSED;
		else if (st->proto == TD_STARTTLS_HTTP_UPGRADE)
			upgrade(st, frame);
		else
			d->tls = true; /* the client's final block comes first */
	} else if (dir == 0 && st->state == TD_STARTTLS_ASKED && st->d[1].tls) {
		upgrade(st, frame);
	}
}

/* XMPP is not line based: an element ends at '>'. */
static void xmpp_element(struct td_starttls *st, int dir, const uint8_t *l, size_t n,
			 uint32_t frame)
{
	if (dir == 0 && st->state == TD_STARTTLS_GREETING && contains(l, n, "<starttls"))
		st->state = TD_STARTTLS_ASKED;
	else if (dir == 1 && st->state == TD_STARTTLS_ASKED && contains(l, n, "<proceed"))
		upgrade(st, frame);
	else if (dir == 1 && st->state == TD_STARTTLS_ASKED && contains(l, n, "<failure"))
		st->state = TD_STARTTLS_REFUSED;
}

/* The line protocols whose server speaks first: a greeting, then the
 * client's commands (RFC 5321 §3.1, RFC 959 §5.4, RFC 9051 §7.1, RFC 1939
 * §4). */
static bool greets_first(uint8_t proto)
{
	return proto == TD_STARTTLS_SMTP || proto == TD_STARTTLS_FTP || proto == TD_STARTTLS_IMAP ||
	       proto == TD_STARTTLS_POP3;
}

/* A TLS handshake record (RFC 8446 §5.1: content type 22) where a
 * client's command line was due: the client began TLS without asking. No
 * command of these protocols starts with the control byte 22, so that
 * byte decides, whatever follows it and however the bytes are split. */
static bool tls_instead_of_command(const struct td_starttls *st, const struct td_reader *r)
{
	uint8_t type;

	if (st->state != TD_STARTTLS_GREETING || st->d[0].have || !greets_first(st->proto))
		return false;
	return td_peek_u8(r, 0, &type) == TD_OK && type == 22;
}

static void end_line(struct td_starttls *st, int dir, uint32_t frame)
{
	struct td_starttls_dir *d = &st->d[dir];
	size_t n = d->have;

	/* strip CR LF */
	while (n && (d->line[n - 1] == '\n' || d->line[n - 1] == '\r'))
		n--;
	if (dir == 1 && !st->greeting_frame && greets_first(st->proto)) {
		st->greeting_frame = frame;
		st->greeting_cut = d->overflow || n > sizeof st->greeting;
		st->greeting_len = (uint8_t)(n < sizeof st->greeting ? n : sizeof st->greeting);
		memcpy(st->greeting, d->line, st->greeting_len);
	}
	if (st->proto == TD_STARTTLS_HTTP_UPGRADE || st->proto == TD_STARTTLS_GNUTELLA)
		header_block_line(st, dir, d->line, n, frame);
	else if (st->proto == TD_STARTTLS_XMPP)
		xmpp_element(st, dir, d->line, n, frame);
	else if (dir == 0)
		client_line(st, d->line, n);
	else
		server_line(st, d->line, n, frame);
	d->have = 0;
	d->overflow = false;
}

/* ---- LDAP: BER-framed messages ------------------------------------------ */

/* RFC 4511 §4.1.1: LDAPMessage ::= SEQUENCE; BER definite length (X.690
 * §8.1.3). Returns the header length once the buffered bytes hold it, 0
 * while more are needed, and sets *body. SIZE_MAX: not BER. */
static size_t ber_header(const uint8_t *p, size_t n, uint32_t *body)
{
	struct td_reader r;
	uint8_t tag, len0, b;
	uint32_t len = 0;

	td_reader_init(&r, p, n);
	if (td_read_u8(&r, &tag) != TD_OK || td_read_u8(&r, &len0) != TD_OK)
		return 0;
	if (tag != 0x30)
		return SIZE_MAX;
	if (len0 < 0x80) {
		*body = len0;
		return 2;
	}
	if ((len0 & 0x7f) == 0 || (len0 & 0x7f) > 4)
		return SIZE_MAX;
	for (unsigned i = 0; i < (len0 & 0x7fu); i++) {
		if (td_read_u8(&r, &b) != TD_OK)
			return 0;
		len = len << 8 | b;
	}
	*body = len;
	return r.off;
}

/* ExtendedResponse ::= [APPLICATION 24] SEQUENCE { resultCode ENUMERATED
 * ... } (RFC 4511 §4.12): success is 0. */
static bool ldap_success(const uint8_t *p, size_t n)
{
	struct td_reader r;
	uint8_t c, len, code;

	td_reader_init(&r, p, n);
	/* to the [APPLICATION 24] tag, then to the ENUMERATED in it */
	do {
		if (td_read_u8(&r, &c) != TD_OK)
			return false;
	} while (c != 0x78);
	do {
		if (td_read_u8(&r, &c) != TD_OK)
			return false;
	} while (c != 0x0a);
	return td_read_u8(&r, &len) == TD_OK && len == 1 && td_read_u8(&r, &code) == TD_OK &&
	       code == 0;
}

static void ldap_message(struct td_starttls *st, int dir, uint32_t frame)
{
	struct td_starttls_dir *d = &st->d[dir];
	if (dir == 0 && st->state == TD_STARTTLS_GREETING &&
	    contains(d->line, d->have, words[TD_STARTTLS_LDAP].command[0]))
		st->state = TD_STARTTLS_ASKED;
	else if (dir == 1 && st->state == TD_STARTTLS_ASKED) {
		if (ldap_success(d->line, d->have))
			upgrade(st, frame);
		else
			st->state = TD_STARTTLS_REFUSED;
	}
	d->have = 0;
	d->overflow = false;
}

static void keep(struct td_starttls_dir *d, uint8_t c)
{
	if (d->have < sizeof d->line)
		d->line[d->have++] = c;
	else
		d->overflow = true;
}

/* ---- SOCKS and MySQL: binary messages, a byte at a time ------------------ */

/* Each message is a few fixed bytes and length-prefixed fields. Each
 * direction walks it one byte at a time: d->step is where it is; a field
 * to pass over is S_SKIP with d->left bytes, then d->after. What the
 * protocol does not allow ends the following (REFUSED: plain bytes to the
 * end, as a refused STARTTLS). */
enum binary_step {
	S_START,
	S_SKIP,
	/* SOCKS5 client: the methods; RFC 1929 username/password; the request */
	S5C_NMETHODS, S5C_NEXT, S5C_AUTH_ULEN, S5C_AUTH_PLEN, S5C_REQ_CMD, S5C_REQ_RSV,
	S5C_ATYP, S5C_DLEN, S5C_SENT,
	/* SOCKS5 server: the method chosen; the RFC 1929 status; the reply */
	S5S_METHOD, S5S_NEXT, S5S_AUTH_STATUS, S5S_REP, S5S_RSV, S5S_ATYP, S5S_DLEN, S5S_OPEN,
	/* SOCKS4 client: CD, port and address, USERID up to a NUL, (4A) host */
	S4C_CD, S4C_USERID, S4C_HOST, S4C_SENT,
	/* SOCKS4 server: VN, CD, then port and address */
	S4S_CD, S4S_OPEN,
	/* MySQL: the server's greeting; the client's SSLRequest */
	MY_HEADER, MY_SSL_FLAGS, MY_SSL_SENT, MY_GREETED,
	/* ADB, each side: a message header; this side's STLS has been sent */
	ADB_HEADER, ADB_STLS_SENT,
};

#define SOCKS5_AUTH_USERPASS 2
#define SOCKS5_NO_METHOD 0xFF
#define SOCKS5_RFC1929_VER 1
#define SOCKS5_ATYP_IPV4 1
#define SOCKS5_ATYP_DOMAIN 3
#define SOCKS5_ATYP_IPV6 4
#define SOCKS4_GRANTED 0x5A
#define SOCKS4_ADDR_LEN 6 /* DSTPORT and DSTIP */
#define PORT_LEN 2
#define MYSQL_HEADER_LEN 4

/* Goes to step; the steps that end a message act. */
static void arrive(struct td_starttls *st, struct td_starttls_dir *d, uint8_t step,
		   uint32_t frame)
{
	d->step = step;
	switch (step) {
	case S5C_SENT:
	case S4C_SENT:
		st->state = TD_STARTTLS_ASKED;
		break;
	case S5S_OPEN:
	case S4S_OPEN:
	case MY_SSL_SENT:
		if (st->state == TD_STARTTLS_ASKED || step == MY_SSL_SENT)
			upgrade(st, frame);
		break;
	case ADB_STLS_SENT:
		/* "the connection will be encrypted" once both sides said so */
		if (st->d[0].step == ADB_STLS_SENT && st->d[1].step == ADB_STLS_SENT)
			upgrade(st, frame);
		else
			st->state = TD_STARTTLS_ASKED;
		break;
	default:
		break;
	}
}

/* Passes over n bytes, then goes to after (at once when n is 0). */
static void skip(struct td_starttls *st, struct td_starttls_dir *d, uint32_t n, uint8_t after,
		 uint32_t frame)
{
	if (n == 0) {
		arrive(st, d, after, frame);
		return;
	}
	d->left = n;
	d->after = after;
	d->step = S_SKIP;
}

/* The bytes after ATYP (RFC 1928 §4, §5): address and port; for a domain
 * its length byte comes first (0 here); UINT32_MAX for an unknown type. */
static uint32_t socks5_addr_len(uint8_t atyp)
{
	if (atyp == SOCKS5_ATYP_IPV4)
		return 4 + PORT_LEN;
	if (atyp == SOCKS5_ATYP_IPV6)
		return 16 + PORT_LEN;
	return atyp == SOCKS5_ATYP_DOMAIN ? 0 : UINT32_MAX;
}

static void socks5_atyp(struct td_starttls *st, struct td_starttls_dir *d, uint8_t atyp,
			uint8_t dlen_step, uint8_t done, uint32_t frame)
{
	uint32_t n = socks5_addr_len(atyp);

	if (n == UINT32_MAX)
		st->state = TD_STARTTLS_REFUSED;
	else if (n == 0)
		d->step = dlen_step;
	else
		skip(st, d, n, done, frame);
}

static void socks5_client(struct td_starttls *st, struct td_starttls_dir *d, uint8_t c,
			  uint32_t frame)
{
	switch (d->step) {
	case S_START: /* VER, checked by the detection */
		d->step = S5C_NMETHODS;
		break;
	case S5C_NMETHODS:
		skip(st, d, c, S5C_NEXT, frame);
		break;
	case S5C_NEXT: /* RFC 1929's VER 1, or the request's VER 5 */
		if (c == SOCKS5_RFC1929_VER && st->socks_method == SOCKS5_AUTH_USERPASS)
			d->step = S5C_AUTH_ULEN;
		else if (c == SOCKS5_VER)
			d->step = S5C_REQ_CMD;
		else
			st->state = TD_STARTTLS_REFUSED;
		break;
	case S5C_AUTH_ULEN:
		skip(st, d, c, S5C_AUTH_PLEN, frame);
		break;
	case S5C_AUTH_PLEN:
		skip(st, d, c, S5C_NEXT, frame);
		break;
	case S5C_REQ_CMD:
		d->step = S5C_REQ_RSV;
		break;
	case S5C_REQ_RSV:
		d->step = S5C_ATYP;
		break;
	case S5C_ATYP:
		socks5_atyp(st, d, c, S5C_DLEN, S5C_SENT, frame);
		break;
	case S5C_DLEN:
		skip(st, d, (uint32_t)c + PORT_LEN, S5C_SENT, frame);
		break;
	default: /* more before the reply: not a client that waits */
		st->state = TD_STARTTLS_REFUSED;
	}
}

static void socks5_server(struct td_starttls *st, struct td_starttls_dir *d, uint8_t c,
			  uint32_t frame)
{
	switch (d->step) {
	case S_START:
		d->step = c == SOCKS5_VER ? S5S_METHOD : S_START;
		if (c != SOCKS5_VER)
			st->state = TD_STARTTLS_REFUSED;
		break;
	case S5S_METHOD:
		st->socks_method = c;
		d->step = S5S_NEXT;
		if (c == SOCKS5_NO_METHOD)
			st->state = TD_STARTTLS_REFUSED;
		break;
	case S5S_NEXT: /* RFC 1929's VER 1 with a status, or the reply's VER 5 */
		if (c == SOCKS5_RFC1929_VER && st->socks_method == SOCKS5_AUTH_USERPASS)
			d->step = S5S_AUTH_STATUS;
		else if (c == SOCKS5_VER)
			d->step = S5S_REP;
		else
			st->state = TD_STARTTLS_REFUSED;
		break;
	case S5S_AUTH_STATUS:
		d->step = S5S_NEXT;
		if (c != 0)
			st->state = TD_STARTTLS_REFUSED;
		break;
	case S5S_REP:
		d->step = S5S_RSV;
		if (c != 0) /* 0: succeeded (RFC 1928 §6) */
			st->state = TD_STARTTLS_REFUSED;
		break;
	case S5S_RSV:
		d->step = S5S_ATYP;
		break;
	case S5S_ATYP:
		socks5_atyp(st, d, c, S5S_DLEN, S5S_OPEN, frame);
		break;
	case S5S_DLEN:
		skip(st, d, (uint32_t)c + PORT_LEN, S5S_OPEN, frame);
		break;
	default:
		st->state = TD_STARTTLS_REFUSED;
	}
}

static void socks4_client(struct td_starttls *st, struct td_starttls_dir *d, uint8_t c,
			  uint32_t frame)
{
	switch (d->step) {
	case S_START: /* VN, checked by the detection */
		d->step = S4C_CD;
		break;
	case S4C_CD:
		/* DSTPORT, DSTIP: kept, 0.0.0.x (x != 0) means 4A */
		d->have = 0;
		skip(st, d, SOCKS4_ADDR_LEN, S4C_USERID, frame);
		break;
	case S4C_USERID:
	case S4C_HOST:
		if (c != 0)
			break;
		/* line[] holds DSTPORT (2) then DSTIP (4) */
		if (d->step == S4C_USERID && d->have == SOCKS4_ADDR_LEN && d->line[2] == 0 &&
		    d->line[3] == 0 && d->line[4] == 0 && d->line[5] != 0)
			d->step = S4C_HOST;
		else
			arrive(st, d, S4C_SENT, frame);
		break;
	default:
		st->state = TD_STARTTLS_REFUSED;
	}
}

static void socks4_server(struct td_starttls *st, struct td_starttls_dir *d, uint8_t c,
			  uint32_t frame)
{
	switch (d->step) {
	case S_START: /* VN 0 */
		d->step = S4S_CD;
		if (c != 0)
			st->state = TD_STARTTLS_REFUSED;
		break;
	case S4S_CD:
		if (c == SOCKS4_GRANTED)
			skip(st, d, SOCKS4_ADDR_LEN, S4S_OPEN, frame);
		else
			st->state = TD_STARTTLS_REFUSED;
		break;
	default:
		st->state = TD_STARTTLS_REFUSED;
	}
}

/* MySQL: the server's greeting is one packet (a 3-byte little-endian
 * length, a sequence number); the client answers with the 32-byte
 * SSLRequest (sequence 1, capability flags with CLIENT_SSL), and then both
 * speak TLS. Any other answer is a login in clear. */
static void mysql(struct td_starttls *st, int dir, struct td_starttls_dir *d, uint8_t c,
		  uint32_t frame)
{
	uint32_t len;

	switch (d->step) {
	case S_START:
	case MY_GREETED:
		d->have = 0;
		d->step = MY_HEADER;
		/* fall through */
	case MY_HEADER:
		keep(d, c);
		if (d->have < MYSQL_HEADER_LEN)
			break;
		len = d->line[0] | (uint32_t)d->line[1] << 8 | (uint32_t)d->line[2] << 16;
		if (dir == 1 && st->state == TD_STARTTLS_GREETING)
			skip(st, d, len, MY_GREETED, frame);
		else if (dir == 0 && len == MYSQL_SSL_REQUEST_LEN)
			d->step = MY_SSL_FLAGS;
		else
			st->state = TD_STARTTLS_REFUSED;
		d->have = 0;
		break;
	case MY_SSL_FLAGS:
		keep(d, c);
		if (d->have < 4)
			break;
		if (!((d->line[0] | (uint32_t)d->line[1] << 8) & MYSQL_CLIENT_SSL))
			st->state = TD_STARTTLS_REFUSED;
		else
			skip(st, d, MYSQL_SSL_REQUEST_LEN - 4, MY_SSL_SENT, frame);
		break;
	default:
		st->state = TD_STARTTLS_REFUSED;
	}
}

/* ADB: messages one after the other on each side (CNXN, AUTH, ...) until
 * STLS. A header that is not one (its magic wrong, its payload longer than
 * adb allows) ends the following, as does more from a side that sent STLS
 * before the other side did: it waits for the other's STLS (protocol.txt
 * gives no other message after it). */
static void adb(struct td_starttls *st, struct td_starttls_dir *d, uint8_t c, uint32_t frame)
{
	struct adb_header h;

	switch (d->step) {
	case S_START:
	case ADB_HEADER:
		d->step = ADB_HEADER;
		keep(d, c);
		if (d->have < ADB_HEADER_LEN)
			break;
		d->have = 0;
		if (!adb_header(d->line, ADB_HEADER_LEN, &h) || h.data_length > ADB_MAX_PAYLOAD) {
			st->state = TD_STARTTLS_REFUSED;
			break;
		}
		skip(st, d, h.data_length, h.command == ADB_A_STLS ? ADB_STLS_SENT : ADB_HEADER,
		     frame);
		break;
	default:
		st->state = TD_STARTTLS_REFUSED;
	}
}

static void binary_byte(struct td_starttls *st, int dir, uint8_t c, uint32_t frame)
{
	struct td_starttls_dir *d = &st->d[dir];

	if (d->step == S_SKIP) {
		if (st->proto == TD_STARTTLS_SOCKS4 && d->after == S4C_USERID)
			keep(d, c); /* SOCKS4's DSTPORT and DSTIP */
		if (--d->left == 0)
			arrive(st, d, d->after, frame);
		return;
	}
	switch (st->proto) {
	case TD_STARTTLS_SOCKS5:
		(dir ? socks5_server : socks5_client)(st, d, c, frame);
		break;
	case TD_STARTTLS_SOCKS4:
		(dir ? socks4_server : socks4_client)(st, d, c, frame);
		break;
	case TD_STARTTLS_ADB:
		adb(st, d, c, frame);
		break;
	default:
		mysql(st, dir, d, c, frame);
	}
}

/* ---- PROXY protocol --------------------------------------------------------- */

/* v1: "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP dport, or
 * "PROXY UNKNOWN" and anything (proxy-protocol.txt §2.1). false: not a
 * header. */
static bool proxy_v1_line(struct td_starttls *st, const uint8_t *l, size_t n)
{
	char text[PROXY_V1_MAX + 1], proto[8], src[48], dst[48];
	unsigned sport, dport;
	int af;

	if (n > PROXY_V1_MAX)
		return false;
	memcpy(text, l, n);
	text[n] = '\0';
	if (strncmp(text, "PROXY UNKNOWN", 13) == 0)
		return true;
	if (sscanf(text, "PROXY %7s %47s %47s %u %u", proto, src, dst, &sport, &dport) != 5 ||
	    sport > 65535 || dport > 65535)
		return false;
	af = strcmp(proto, "TCP4") == 0 ? AF_INET : strcmp(proto, "TCP6") == 0 ? AF_INET6 : 0;
	if (!af || inet_pton(af, src, st->proxy_src) != 1 || inet_pton(af, dst, st->proxy_dst) != 1)
		return false;
	st->proxy_family = af == AF_INET ? 4 : 6;
	st->proxy_sport = (uint16_t)sport;
	st->proxy_dport = (uint16_t)dport;
	return true;
}

/* v2 (§2.2):
 *   uint8 sig[12]; uint8 ver_cmd; uint8 fam; uint16 len;
 *   then len bytes: for TCP over IPv4 (fam 0x11) src_addr[4], dst_addr[4],
 *   src_port, dst_port; over IPv6 (0x21) the same with 16-byte
 *   addresses; TLVs after them (skipped).
 * h[0..have) is what was kept of it: the 16-byte header alone (body
 * false: *len says how much follows), or with its body. Only the first
 * bytes of a body are kept in the line buffer: enough for the addresses.
 * false: not a v2 header, or a body shorter than its addresses. */
static bool proxy_v2_header(struct td_starttls *st, const uint8_t *h, size_t have, bool body,
			    uint16_t *len)
{
	struct td_reader r;
	uint8_t sig[sizeof proxy_v2_sig], ver_cmd, fam;
	size_t alen;

	td_reader_init(&r, h, have);
	if (td_read_bytes(&r, sig, sizeof sig) != TD_OK ||
	    memcmp(sig, proxy_v2_sig, sizeof sig) != 0 || td_read_u8(&r, &ver_cmd) != TD_OK ||
	    (ver_cmd >> 4) != 2 || td_read_u8(&r, &fam) != TD_OK || td_read_u16(&r, len) != TD_OK)
		return false; /* version 2 is the only one */
	st->proxy_cmd = ver_cmd & 0x0F;
	if (!body || st->proxy_cmd != 1 || (fam != 0x11 && fam != 0x21))
		return true; /* LOCAL, UDP, UNIX or unspecified: no TCP addresses */
	alen = fam == 0x11 ? 4 : 16;
	if (td_read_bytes(&r, st->proxy_src, alen) != TD_OK ||
	    td_read_bytes(&r, st->proxy_dst, alen) != TD_OK ||
	    td_read_u16(&r, &st->proxy_sport) != TD_OK ||
	    td_read_u16(&r, &st->proxy_dport) != TD_OK)
		return false;
	st->proxy_family = fam == 0x11 ? 4 : 6;
	return true;
}

/* The v2 header with its body kept: TLS from here, or not a header. */
static void proxy_v2_done(struct td_starttls *st, const struct td_starttls_dir *d,
			  uint32_t frame)
{
	uint16_t len;

	if (proxy_v2_header(st, d->line, d->have, true, &len))
		upgrade(st, frame);
	else
		st->state = TD_STARTTLS_REFUSED;
}

/* The client's header, a byte at a time: v1 to its CR LF, v2 to the end
 * of the length its header gives; then TLS. Anything else ends the
 * following (REFUSED: not a PROXY header after all). */
static void proxy_byte(struct td_starttls *st, struct td_starttls_dir *d, uint8_t c,
		       uint32_t frame)
{
	struct td_reader r;
	uint8_t prev;
	uint16_t len;

	if (d->have == 0) /* the first byte tells the versions apart */
		st->proxy_version = c == proxy_v2_sig[0] ? 2 : 1;
	keep(d, c);
	if (st->proxy_version == 1) {
		st->proxy_cmd = 1;
		td_reader_init(&r, d->line, d->have);
		if (c == '\n' && td_peek_u8(&r, d->have - 2, &prev) == TD_OK && prev == '\r' &&
		    proxy_v1_line(st, d->line, d->have - 2))
			upgrade(st, frame);
		else if (c == '\n' || d->have > PROXY_V1_MAX)
			st->state = TD_STARTTLS_REFUSED;
		return;
	}
	if (d->left) { /* the body */
		if (--d->left == 0)
			proxy_v2_done(st, d, frame);
		return;
	}
	if (d->have < PROXY_V2_HEADER)
		return;
	if (!proxy_v2_header(st, d->line, d->have, false, &len))
		st->state = TD_STARTTLS_REFUSED;
	else if ((d->left = len) == 0)
		proxy_v2_done(st, d, frame);
}

/* ---- the feed ----------------------------------------------------------------- */

size_t td_starttls_feed(struct td_starttls *st, int dir, const uint8_t *p, size_t n,
			uint32_t frame)
{
	struct td_starttls_dir *d = &st->d[dir & 1];
	struct td_reader r;
	uint8_t c;

	dir &= 1;
	td_reader_init(&r, p, n);
	while (!d->tls) {
		if (dir == 0 && tls_instead_of_command(st, &r)) {
			st->state = TD_STARTTLS_UNASKED;
			st->d[0].tls = true;
			st->d[1].tls = true;
			break;
		}
		if (td_read_u8(&r, &c) != TD_OK)
			break;
		st->plain_bytes[dir]++;
		switch (st->proto) {
		case TD_STARTTLS_POSTGRES:
			/* client: the 8-byte SSLRequest, then TLS; server: one
			 * byte, 'S' to go ahead or 'N' to refuse */
			if (dir == 1) {
				if (c == 'S')
					upgrade(st, frame);
				else
					st->state = TD_STARTTLS_REFUSED;
			} else if (st->plain_bytes[0] == sizeof pg_ssl_request) {
				st->state = TD_STARTTLS_ASKED;
			}
			break;
		case TD_STARTTLS_LDAP: {
			uint32_t body = 0;
			if (d->left) {
				keep(d, c);
				if (--d->left == 0)
					ldap_message(st, dir, frame);
				break;
			}
			keep(d, c);
			size_t h = ber_header(d->line, d->have, &body);
			if (h == SIZE_MAX) {
				st->state = TD_STARTTLS_REFUSED; /* not LDAP after all */
				d->have = 0;
			} else if (h) {
				d->left = body;
				if (body == 0)
					ldap_message(st, dir, frame);
			}
			break;
		}
		case TD_STARTTLS_PROXY:
			if (dir == 0 && st->state != TD_STARTTLS_REFUSED)
				proxy_byte(st, d, c, frame);
			break;
		case TD_STARTTLS_SOCKS4:
		case TD_STARTTLS_SOCKS5:
		case TD_STARTTLS_MYSQL:
		case TD_STARTTLS_ADB:
			if (st->state != TD_STARTTLS_REFUSED)
				binary_byte(st, dir, c, frame);
			break;
		default:
			keep(d, c);
			if (c == (st->proto == TD_STARTTLS_XMPP ? '>' : '\n'))
				end_line(st, dir, frame);
			break;
		}
	}
	return r.off;
}
