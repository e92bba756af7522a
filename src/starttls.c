/* starttls.c - following a plain-text exchange up to its upgrade to TLS
 * (see td_starttls.h). */
#include "td_starttls.h"

#include <ctype.h>
#include <string.h>

#include "td_reader.h"

/* Each protocol's words (RFCs in td_starttls.h). The client command is
 * matched case-insensitively at the start of its line (after the tag for
 * IMAP); the go-ahead is the start of the server's final response line. */
struct proto_words {
	const char *name;
	const char *command[3]; /* any of these asks for the upgrade */
	const char *go_ahead;
};

static const struct proto_words words[TD_STARTTLS_COUNT] = {
	[TD_STARTTLS_NONE] = {"", {NULL}, NULL},
	[TD_STARTTLS_SMTP] = {"SMTP", {"STARTTLS", NULL}, "220"},
	[TD_STARTTLS_FTP] = {"FTP", {"AUTH TLS", "AUTH SSL", NULL}, "234"},
	[TD_STARTTLS_IMAP] = {"IMAP", {"STARTTLS", NULL}, "OK"},
	[TD_STARTTLS_POP3] = {"POP3", {"STLS", NULL}, "+OK"},
	[TD_STARTTLS_XMPP] = {"XMPP", {"<starttls", NULL}, "<proceed"},
	[TD_STARTTLS_LDAP] = {"LDAP", {"1.3.6.1.4.1.1466.20037", NULL}, NULL},
	[TD_STARTTLS_POSTGRES] = {"PostgreSQL", {NULL}, NULL},
};

/* PostgreSQL SSLRequest: Int32 length 8, Int32 code 80877103. */
static const uint8_t pg_ssl_request[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};

const char *td_starttls_name(enum td_starttls_proto p)
{
	return (unsigned)p < TD_STARTTLS_COUNT ? words[p].name : "";
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
		return TD_STARTTLS_NONE;
	}
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
	if (match_at(&r, at, words[st->proto].go_ahead, true))
		upgrade(st, frame);
	else
		st->state = TD_STARTTLS_GREETING; /* refused: the client may go on in clear */
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

static void end_line(struct td_starttls *st, int dir, uint32_t frame)
{
	struct td_starttls_dir *d = &st->d[dir];
	size_t n = d->have;

	/* strip CR LF */
	while (n && (d->line[n - 1] == '\n' || d->line[n - 1] == '\r'))
		n--;
	if (st->proto == TD_STARTTLS_XMPP)
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

/* ---- the feed ----------------------------------------------------------------- */

static void keep(struct td_starttls_dir *d, uint8_t c)
{
	if (d->have < sizeof d->line)
		d->line[d->have++] = c;
	else
		d->overflow = true;
}

size_t td_starttls_feed(struct td_starttls *st, int dir, const uint8_t *p, size_t n,
			uint32_t frame)
{
	struct td_starttls_dir *d = &st->d[dir & 1];
	struct td_reader r;
	uint8_t c;

	dir &= 1;
	td_reader_init(&r, p, n);
	while (!d->tls && td_read_u8(&r, &c) == TD_OK) {
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
			if (d->ber_left) {
				keep(d, c);
				if (--d->ber_left == 0)
					ldap_message(st, dir, frame);
				break;
			}
			keep(d, c);
			size_t h = ber_header(d->line, d->have, &body);
			if (h == SIZE_MAX) {
				st->state = TD_STARTTLS_REFUSED; /* not LDAP after all */
				d->have = 0;
			} else if (h) {
				d->ber_left = body;
				if (body == 0)
					ldap_message(st, dir, frame);
			}
			break;
		}
		default:
			keep(d, c);
			if (c == (st->proto == TD_STARTTLS_XMPP ? '>' : '\n'))
				end_line(st, dir, frame);
			break;
		}
	}
	return r.off;
}
