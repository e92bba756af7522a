/* check_starttls.c - following each plain-text protocol to its upgrade.
 *
 * Each exchange is written as the RFC shows it; the test asserts the exact
 * byte where each direction's TLS starts (the first byte after the
 * client's command line and after the server's go-ahead), however the
 * bytes are split. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "td_ovpn.h"
#include "td_starttls.h"

/* One side's turn: which direction, the plain text, then (optionally) the
 * first TLS bytes that follow it in the same segment. */
struct turn {
	int dir;
	const char *plain;
	const char *tls;
};

/* The same with the plain part's length, for binary protocols. */
struct bturn {
	int dir;
	const char *plain;
	size_t plain_len;
	const char *tls;
};

/* The follower's state after the last run(), for tests that look further. */
static struct td_starttls last_run;

/* Feeds the turns in chunks of at most chunk bytes; checks that exactly
 * the plain part of each turn is taken as plain text. */
static void run(enum td_starttls_proto proto, const struct bturn *turns, size_t n, size_t chunk,
		bool expect_upgrade)
{
	struct td_starttls st;
	uint8_t buf[512];

	td_starttls_init(&st, proto);
	for (size_t i = 0; i < n; i++) {
		size_t plain = turns[i].plain_len;
		size_t tls = turns[i].tls ? strlen(turns[i].tls) : 0;
		memcpy(buf, turns[i].plain, plain);
		if (tls)
			memcpy(buf + plain, turns[i].tls, tls);
		size_t off = 0, taken = 0;
		while (off < plain + tls) {
			size_t len = plain + tls - off < chunk ? plain + tls - off : chunk;
			size_t k = st.d[turns[i].dir].tls
					   ? 0
					   : td_starttls_feed(&st, turns[i].dir, buf + off, len,
							      (uint32_t)(10 + i));
			taken += k;
			off += len;
		}
		ck_assert_msg(taken == plain, "turn %zu (chunk %zu): %zu plain bytes taken, want %zu", i,
			      chunk, taken, plain);
	}
	ck_assert_int_eq(st.state == TD_STARTTLS_UPGRADED, expect_upgrade);
	if (expect_upgrade) {
		ck_assert(st.d[0].tls);
		ck_assert(st.d[1].tls);
	}
	last_run = st;
}

static void run_all_splits_b(enum td_starttls_proto proto, const struct bturn *turns, size_t n,
			     bool expect_upgrade)
{
	for (size_t chunk = 1; chunk <= 40; chunk++)
		run(proto, turns, n, chunk, expect_upgrade);
	run(proto, turns, n, 4096, expect_upgrade);
}

static void run_all_splits(enum td_starttls_proto proto, const struct turn *turns, size_t n,
			   bool expect_upgrade)
{
	struct bturn b[16];

	ck_assert_uint_le(n, 16);
	for (size_t i = 0; i < n; i++)
		b[i] = (struct bturn){turns[i].dir, turns[i].plain, strlen(turns[i].plain),
				      turns[i].tls};
	run_all_splits_b(proto, b, n, expect_upgrade);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* RFC 3207 §5 example */
START_TEST(test_smtp)
{
	static const struct turn t[] = {
		{1, "220 mail.imc.org SMTP service ready\r\n", NULL},
		{0, "EHLO mail.example.com\r\n", NULL},
		{1, "250-mail.imc.org offers a warm hug of welcome\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 DSN\r\n", NULL},
		{0, "STARTTLS\r\n", NULL},
		{1, "220 Go ahead\r\n", "\x16\x03\x03"},
		{0, "", "\x16\x03\x01"},
	};
	ck_assert_int_eq(td_starttls_detect(1, (const uint8_t *)t[0].plain, strlen(t[0].plain)),
			 TD_STARTTLS_SMTP);
	run_all_splits(TD_STARTTLS_SMTP, t, N(t), true);
}
END_TEST

START_TEST(test_smtp_refused)
{
	static const struct turn t[] = {
		{1, "220 mx ESMTP\r\n", NULL},
		{0, "STARTTLS\r\n", NULL},
		{1, "454 TLS not available due to temporary reason\r\n", NULL},
		{0, "QUIT\r\n", NULL},
	};
	run_all_splits(TD_STARTTLS_SMTP, t, N(t), false);
}
END_TEST

/* A client that begins TLS where a command was due (implicit TLS against
 * a server that greets in plain text): no byte of the ClientHello is
 * taken as text, both directions are TLS from there, and the greeting is
 * kept. Each protocol's greeting as its RFC shows one. */
START_TEST(test_tls_without_asking)
{
	static const struct {
		enum td_starttls_proto proto;
		const char *greeting;
	} g[] = {
		{TD_STARTTLS_SMTP, "220 mail.imc.org SMTP service ready"}, /* RFC 3207 §5 */
		{TD_STARTTLS_FTP, "220 Service ready for new user."},      /* RFC 959 §4.2.2 */
		{TD_STARTTLS_IMAP, "* OK [CAPABILITY IMAP4rev2 STARTTLS] IMAP4rev2 Service Ready"},
		{TD_STARTTLS_POP3, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>"},
	};
	char line[128];

	for (size_t i = 0; i < N(g); i++) {
		snprintf(line, sizeof line, "%s\r\n", g[i].greeting);
		struct turn t[] = {
			{1, line, NULL},
			{0, "", "\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03\x0d\x0a"},
			/* the server answers the hello's bytes in plain text: TLS
			 * for the parser, which finds it is not */
			{1, "", "500 5.5.2 Error: bad syntax\r\n"},
		};
		ck_assert_int_eq(td_starttls_detect(1, (const uint8_t *)line, strlen(line)),
				 g[i].proto == TD_STARTTLS_FTP ? TD_STARTTLS_SMTP : g[i].proto);
		run_all_splits(g[i].proto, t, N(t), false);
		ck_assert_int_eq(last_run.state, TD_STARTTLS_UNASKED);
		ck_assert(last_run.d[0].tls && last_run.d[1].tls);
		ck_assert_uint_eq(last_run.greeting_frame, 10); /* run()'s frame for turn 0 */
		ck_assert_uint_eq(last_run.greeting_len, strlen(g[i].greeting));
		ck_assert(memcmp(last_run.greeting, g[i].greeting, strlen(g[i].greeting)) == 0);
		ck_assert(!last_run.greeting_cut);
	}
}
END_TEST

/* Not the client beginning TLS: bytes that are no handshake record,
 * a hello after STARTTLS was asked for (the go-ahead is still due), a
 * protocol whose client speaks first, a line already begun. */
START_TEST(test_tls_without_asking_negative)
{
	static const struct turn not_tls[] = {
		{1, "220 mx ESMTP\r\n", NULL},
		{0, "\x15\x03\x01 junk\r\n", NULL}, /* an alert's type: no client begins so */
	};
	static const struct turn asked[] = {
		{1, "220 mx ESMTP\r\n", NULL},
		{0, "STARTTLS\r\n", NULL},
		{0, "\x16\x03\x01\r\n", NULL}, /* before the go-ahead: still plain text */
	};
	static const struct turn mid_line[] = {
		{1, "220 mx ESMTP\r\n", NULL},
		{0, "NOOP \x16\x03\x01\r\n", NULL},
	};
	static const struct bturn postgres[] = {
		{0, "\x16\x03\x01\x00\x05", 5, NULL}, /* no greeting: taken as its request */
	};
	run_all_splits(TD_STARTTLS_SMTP, not_tls, N(not_tls), false);
	ck_assert_int_eq(last_run.state, TD_STARTTLS_GREETING);
	run_all_splits(TD_STARTTLS_SMTP, asked, N(asked), false);
	ck_assert_int_eq(last_run.state, TD_STARTTLS_ASKED);
	run_all_splits(TD_STARTTLS_SMTP, mid_line, N(mid_line), false);
	ck_assert_int_eq(last_run.state, TD_STARTTLS_GREETING);
	run_all_splits_b(TD_STARTTLS_POSTGRES, postgres, N(postgres), false);
	ck_assert_int_ne(last_run.state, TD_STARTTLS_UNASKED);
	ck_assert_uint_eq(last_run.greeting_frame, 0);
}
END_TEST

/* A greeting longer than what is kept: its first bytes, marked cut. */
START_TEST(test_greeting_cut)
{
	char line[300];
	static const struct turn hello = {0, "", "\x16\x03\x01"};

	memset(line, 'a', sizeof line);
	memcpy(line, "220 ", 4);
	memcpy(line + 200, "\r\n", 3);
	struct turn t[] = {{1, line, NULL}, hello};
	run_all_splits(TD_STARTTLS_SMTP, t, N(t), false);
	ck_assert_int_eq(last_run.state, TD_STARTTLS_UNASKED);
	ck_assert_uint_eq(last_run.greeting_len, TD_STARTTLS_GREETING_LEN);
	ck_assert(last_run.greeting_cut);
	ck_assert(memcmp(last_run.greeting, line, TD_STARTTLS_GREETING_LEN) == 0);
}
END_TEST

/* HAProxy's PROXY protocol (proxy-protocol.txt §2.1, §2.2): the header is
 * the client's only plain text, the server speaks TLS from its first
 * byte, and the header's addresses and ports are kept; however split. */
START_TEST(test_proxy_protocol)
{
	static const uint8_t v2_tcp4[] = {
		0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, /* sig */
		0x21, 0x11, 0x00, 0x13,	/* v2 PROXY, TCP over IPv4, 19 bytes follow */
		203, 0, 113, 7, 10, 0, 0, 2,	 /* src, dst */
		0xC8, 0x22, 0x01, 0xBB,		 /* 51234, 443 */
		0x02, 0x00, 0x04, 'h', 'o', 's', 't', /* PP2_TYPE_AUTHORITY "host" */
	};
	static const uint8_t v2_local[] = {
		0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
		0x20, 0x00, 0x00, 0x00, /* v2 LOCAL, unspecified, no body */
	};
	static const struct turn v1[] = {
		{0, "PROXY TCP4 203.0.113.7 10.0.0.2 51234 443\r\n", "\x16\x03\x01"},
		{1, "", "\x16\x03\x03"},
	};
	static const struct turn v1_6[] = {
		{0, "PROXY TCP6 2001:db8::7 2001:db8::2 51234 8443\r\n", "\x16\x03\x01"},
	};
	static const struct turn v1_unknown[] = {
		{0, "PROXY UNKNOWN\r\n", "\x16\x03\x01"},
	};
	const uint8_t want_src[4] = {203, 0, 113, 7}, want_dst[4] = {10, 0, 0, 2};
	const uint8_t want6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7};
	struct bturn b2[] = {{0, (const char *)v2_tcp4, sizeof v2_tcp4, "\x16\x03\x01"}};
	struct bturn bl[] = {{0, (const char *)v2_local, sizeof v2_local, "\x16\x03\x01"}};

	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)v1[0].plain, 20), TD_STARTTLS_PROXY);
	ck_assert_int_eq(td_starttls_detect(0, v2_tcp4, sizeof v2_tcp4), TD_STARTTLS_PROXY);
	run_all_splits(TD_STARTTLS_PROXY, v1, N(v1), true);
	ck_assert_uint_eq(last_run.proxy_version, 1);
	ck_assert_uint_eq(last_run.proxy_family, 4);
	ck_assert(memcmp(last_run.proxy_src, want_src, 4) == 0);
	ck_assert(memcmp(last_run.proxy_dst, want_dst, 4) == 0);
	ck_assert_uint_eq(last_run.proxy_sport, 51234);
	ck_assert_uint_eq(last_run.proxy_dport, 443);
	ck_assert_uint_eq(last_run.upgrade_frame, 10);
	run_all_splits(TD_STARTTLS_PROXY, v1_6, N(v1_6), true);
	ck_assert_uint_eq(last_run.proxy_family, 6);
	ck_assert(memcmp(last_run.proxy_src, want6, 16) == 0);
	ck_assert_uint_eq(last_run.proxy_dport, 8443);
	run_all_splits(TD_STARTTLS_PROXY, v1_unknown, N(v1_unknown), true);
	ck_assert_uint_eq(last_run.proxy_family, 0);
	run_all_splits_b(TD_STARTTLS_PROXY, b2, N(b2), true);
	ck_assert_uint_eq(last_run.proxy_version, 2);
	ck_assert_uint_eq(last_run.proxy_cmd, 1);
	ck_assert_uint_eq(last_run.proxy_family, 4);
	ck_assert(memcmp(last_run.proxy_src, want_src, 4) == 0);
	ck_assert_uint_eq(last_run.proxy_sport, 51234);
	ck_assert_uint_eq(last_run.proxy_dport, 443);
	run_all_splits_b(TD_STARTTLS_PROXY, bl, N(bl), true);
	ck_assert_uint_eq(last_run.proxy_cmd, 0);
	ck_assert_uint_eq(last_run.proxy_family, 0);
}
END_TEST

/* Not a PROXY header after all: the rest is not TLS, and no address is
 * kept. A v1 line with an address that does not parse, a port past
 * 65535, no CR LF within 107 bytes; a v2 header of version 1, one whose
 * body is shorter than its addresses. */
START_TEST(test_proxy_protocol_negative)
{
	static const char *const v1[] = {
		"PROXY TCP4 203.0.113.300 10.0.0.2 51234 443\r\n",
		"PROXY TCP4 203.0.113.7 10.0.0.2 70000 443\r\n",
		"PROXY TCP5 203.0.113.7 10.0.0.2 1 2\r\n",
		"PROXY TCP4 203.0.113.7 10.0.0.2 51234 443 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n",
	};
	static const uint8_t v2_bad[][28] = {
		{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x11, 0x11,
		 0x00, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2}, /* version 1 */
		{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x21,
		 0x00, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2}, /* IPv6 needs 36 bytes */
	};
	struct td_starttls st;

	for (size_t i = 0; i < N(v1); i++) {
		struct turn t[] = {{0, v1[i], NULL}, {0, "\x16\x03\x01\r\n", NULL}};
		run_all_splits(TD_STARTTLS_PROXY, t, N(t), false);
		ck_assert_int_eq(last_run.state, TD_STARTTLS_REFUSED);
		ck_assert_uint_eq(last_run.proxy_family, 0);
	}
	for (size_t i = 0; i < N(v2_bad); i++) {
		struct bturn t[] = {{0, (const char *)v2_bad[i], sizeof v2_bad[i], NULL}};
		run_all_splits_b(TD_STARTTLS_PROXY, t, N(t), false);
		ck_assert_int_eq(last_run.state, TD_STARTTLS_REFUSED);
		ck_assert_uint_eq(last_run.proxy_family, 0);
	}
	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)"PROXYX", 6), TD_STARTTLS_NONE);
	ck_assert_int_eq(td_starttls_detect(1, (const uint8_t *)"PROXY TCP4", 10), TD_STARTTLS_NONE);
	td_starttls_init(&st, TD_STARTTLS_PROXY);
	ck_assert(st.d[1].tls && !st.d[0].tls);
}
END_TEST

/* RFC 2817 §3.2-3.3: the client asks with "Upgrade: TLS/1.0", the
 * server agrees with 101 and TLS follows both blocks; gtk-gnutella's
 * handshake (as in nDPI's gnutella.pcap): CONNECT with the same header,
 * the servent's 200 with its own, the client's final 200, then TLS. */
START_TEST(test_upgrade_header)
{
	static const struct turn http[] = {
		{0, "OPTIONS * HTTP/1.1\r\nHost: example.bank.com\r\nUpgrade: TLS/1.0\r\n"
		    "Connection: Upgrade\r\n\r\n", NULL},
		{1, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0, HTTP/1.1\r\n"
		    "Connection: Upgrade\r\n\r\n", NULL},
		{0, "", "\x16\x03\x01"},
		{1, "", "\x16\x03\x03"},
	};
	static const struct turn gnutella[] = {
		{0, "GNUTELLA CONNECT/0.6\r\nUser-Agent: gtk-gnutella/1.2.2\r\nUpgrade: TLS/1.0\r\n"
		    "X-Ultrapeer: False\r\n\r\n", NULL},
		{1, "GNUTELLA/0.6 200 OK\r\nUser-Agent: gtk-gnutella/1.2.2\r\nUpgrade: TLS/1.0\r\n"
		    "Connection: Upgrade\r\n\r\n", NULL},
		{0, "GNUTELLA/0.6 200 OK\r\nConnection: Upgrade\r\n\r\n", "\x16\x03\x01"},
		{1, "", "\x16\x03\x03"},
	};
	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)http[0].plain,
					    strlen(http[0].plain)),
			 TD_STARTTLS_HTTP_UPGRADE);
	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)gnutella[0].plain,
					    strlen(gnutella[0].plain)),
			 TD_STARTTLS_GNUTELLA);
	run_all_splits(TD_STARTTLS_HTTP_UPGRADE, http, N(http), true);
	ck_assert_uint_eq(last_run.upgrade_frame, 11); /* the 101's block */
	run_all_splits(TD_STARTTLS_GNUTELLA, gnutella, N(gnutella), true);
	ck_assert_uint_eq(last_run.upgrade_frame, 12); /* the client's final block */
}
END_TEST

/* No upgrade: plain HTTP is not followed at all; a server that answers
 * 200 (HTTP) or leaves out its Upgrade line (Gnutella) refuses, and
 * what follows stays plain text. */
START_TEST(test_upgrade_header_refused)
{
	static const struct turn http_200[] = {
		{0, "OPTIONS * HTTP/1.1\r\nHost: h\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n",
		 NULL},
		{1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", NULL},
		{0, "\x16\x03\x01 no TLS here\r\n", NULL},
	};
	static const struct turn gnutella_plain[] = {
		{0, "GNUTELLA CONNECT/0.6\r\nUpgrade: TLS/1.0\r\n\r\n", NULL},
		{1, "GNUTELLA/0.6 200 OK\r\nX-Ultrapeer: True\r\n\r\n", NULL},
		{0, "GNUTELLA/0.6 200 OK\r\n\r\n", NULL},
	};
	static const char plain_get[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";

	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)plain_get, strlen(plain_get)),
			 TD_STARTTLS_NONE);
	run_all_splits(TD_STARTTLS_HTTP_UPGRADE, http_200, N(http_200), false);
	ck_assert_int_eq(last_run.state, TD_STARTTLS_REFUSED);
	run_all_splits(TD_STARTTLS_GNUTELLA, gnutella_plain, N(gnutella_plain), false);
	ck_assert_int_eq(last_run.state, TD_STARTTLS_REFUSED);
	ck_assert(!last_run.d[0].tls && !last_run.d[1].tls);
}
END_TEST

/* RFC 4217 §4: AUTH TLS, 234 */
START_TEST(test_ftp)
{
	static const struct turn t[] = {
		{1, "220 ProFTPD Server ready.\r\n", NULL},
		{0, "AUTH TLS\r\n", NULL},
		{1, "234 AUTH TLS successful\r\n", NULL},
		{0, "", "\x16\x03\x01"},
	};
	struct td_starttls st;
	run_all_splits(TD_STARTTLS_SMTP, t, N(t), true); /* 220: starts as SMTP */
	td_starttls_init(&st, TD_STARTTLS_SMTP);
	td_starttls_feed(&st, 1, (const uint8_t *)t[0].plain, strlen(t[0].plain), 1);
	td_starttls_feed(&st, 0, (const uint8_t *)t[1].plain, strlen(t[1].plain), 2);
	ck_assert_int_eq(st.proto, TD_STARTTLS_FTP);
}
END_TEST

/* RFC 9051 §6.2.1 example, with an untagged line before the tagged OK */
START_TEST(test_imap)
{
	static const struct turn t[] = {
		{1, "* OK [CAPABILITY IMAP4rev2 STARTTLS] IMAP server ready\r\n", NULL},
		{0, "a002 STARTTLS\r\n", NULL},
		{1, "* NOTE something\r\na001 OK an older command\r\na002 OK Begin TLS negotiation now\r\n", "\x16\x03\x03"},
		{0, "", "\x16\x03\x01"},
	};
	ck_assert_int_eq(td_starttls_detect(1, (const uint8_t *)t[0].plain, strlen(t[0].plain)),
			 TD_STARTTLS_IMAP);
	run_all_splits(TD_STARTTLS_IMAP, t, N(t), true);
}
END_TEST

/* RFC 2595 §4 example */
START_TEST(test_pop3)
{
	static const struct turn t[] = {
		{1, "+OK POP3 server ready\r\n", NULL},
		{0, "STLS\r\n", NULL},
		{1, "+OK Begin TLS negotiation\r\n", NULL},
		{0, "", "\x16\x03\x01"},
	};
	ck_assert_int_eq(td_starttls_detect(1, (const uint8_t *)t[0].plain, strlen(t[0].plain)),
			 TD_STARTTLS_POP3);
	run_all_splits(TD_STARTTLS_POP3, t, N(t), true);
}
END_TEST

/* RFC 6120 §5.4.2 */
START_TEST(test_xmpp)
{
	static const struct turn t[] = {
		{0, "<?xml version='1.0'?><stream:stream to='im.example.com' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>", NULL},
		{1, "<stream:stream from='im.example.com' id='t7AMCin9zjMNwQKDnplntZPIDEI=' version='1.0'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>", NULL},
		{0, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", NULL},
		{1, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "\x16\x03\x03"},
		{0, "", "\x16\x03\x01"},
	};
	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)t[0].plain, strlen(t[0].plain)),
			 TD_STARTTLS_XMPP);
	run_all_splits(TD_STARTTLS_XMPP, t, N(t), true);
}
END_TEST

/* PostgreSQL: SSLRequest (length 8, code 80877103), then 'S' */
START_TEST(test_postgres)
{
	static const uint8_t req[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
	struct td_starttls st;
	ck_assert_int_eq(td_starttls_detect(0, req, sizeof req), TD_STARTTLS_POSTGRES);
	td_starttls_init(&st, TD_STARTTLS_POSTGRES);
	ck_assert_uint_eq(td_starttls_feed(&st, 0, req, sizeof req, 1), 8);
	ck_assert_int_eq(st.state, TD_STARTTLS_ASKED);
	ck_assert_uint_eq(td_starttls_feed(&st, 1, (const uint8_t *)"S\x16\x03\x03", 4, 2), 1);
	ck_assert_int_eq(st.state, TD_STARTTLS_UPGRADED);
	ck_assert_uint_eq(st.upgrade_frame, 2);
	/* 'N': no TLS */
	td_starttls_init(&st, TD_STARTTLS_POSTGRES);
	td_starttls_feed(&st, 0, req, sizeof req, 1);
	td_starttls_feed(&st, 1, (const uint8_t *)"N", 1, 2);
	ck_assert_int_eq(st.state, TD_STARTTLS_REFUSED);
	ck_assert(!st.d[0].tls);
}
END_TEST

/* RFC 4511 §4.14: ExtendedRequest with the StartTLS OID, then an
 * ExtendedResponse with resultCode success (0). */
START_TEST(test_ldap)
{
	static const char oid[] = "1.3.6.1.4.1.1466.20037";
	uint8_t req[64], resp[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a,
				   0x01, 0x00, 0x04, 0x00, 0x04, 0x00, 0x16, 0x03};
	size_t n = 0;
	struct td_starttls st;

	/* LDAPMessage { messageID 1, [APPLICATION 23] { [0] oid } } */
	req[n++] = 0x30;
	req[n++] = (uint8_t)(3 + 2 + 2 + strlen(oid));
	req[n++] = 0x02;
	req[n++] = 0x01;
	req[n++] = 0x01;
	req[n++] = 0x77;
	req[n++] = (uint8_t)(2 + strlen(oid));
	req[n++] = 0x80;
	req[n++] = (uint8_t)strlen(oid);
	memcpy(req + n, oid, strlen(oid));
	n += strlen(oid);
	ck_assert_int_eq(td_starttls_detect(0, req, n), TD_STARTTLS_LDAP);
	td_starttls_init(&st, TD_STARTTLS_LDAP);
	for (size_t i = 0; i < n; i++) /* byte by byte */
		ck_assert_uint_eq(td_starttls_feed(&st, 0, req + i, 1, 1), 1);
	ck_assert_int_eq(st.state, TD_STARTTLS_ASKED);
	ck_assert_uint_eq(td_starttls_feed(&st, 1, resp, sizeof resp, 2), 14);
	ck_assert_int_eq(st.state, TD_STARTTLS_UPGRADED);
	/* a non-zero resultCode refuses */
	td_starttls_init(&st, TD_STARTTLS_LDAP);
	td_starttls_feed(&st, 0, req, n, 1);
	resp[9] = 0x34; /* unavailable (52) */
	td_starttls_feed(&st, 1, resp, 14, 2);
	ck_assert_int_eq(st.state, TD_STARTTLS_REFUSED);
}
END_TEST

/* RFC 9110 §9.3.6: CONNECT host:port, header lines, an empty line; the
 * proxy's 2xx status line, its header lines, an empty line; then the
 * tunnel: the client's ClientHello first. A 407 first (RFC 9110 §15.5.8),
 * then the same CONNECT with credentials. */
START_TEST(test_http_connect)
{
	static const struct turn ok[] = {
		{0, "CONNECT server.example:443 HTTP/1.1\r\nHost: server.example:443\r\n\r\n", NULL},
		{1, "HTTP/1.1 200 Connection established\r\nVia: 1.1 proxy\r\n\r\n", NULL},
		{0, "", "\x16\x03\x01"},
		{1, "", "\x16\x03\x03"},
	};
	static const struct turn auth[] = {
		{0, "CONNECT server.example:443 HTTP/1.1\r\nHost: server.example:443\r\n\r\n", NULL},
		{1, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic "
		    "realm=\"p\"\r\nContent-Length: 0\r\n\r\n",
		 NULL},
		{0, "CONNECT server.example:443 HTTP/1.1\r\nProxy-Authorization: Basic dTpw\r\n\r\n",
		 NULL},
		{1, "HTTP/1.0 200 OK\r\n\r\n", NULL},
		{0, "", "\x16\x03\x01"},
	};
	static const struct turn denied[] = {
		{0, "CONNECT server.example:25 HTTP/1.1\r\n\r\n", NULL},
		{1, "HTTP/1.1 403 Forbidden\r\n\r\n", NULL},
	};
	static const char req[] = "CONNECT a:443 HTTP/1.1\r\n";

	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)req, strlen(req)),
			 TD_STARTTLS_HTTP_CONNECT);
	run_all_splits(TD_STARTTLS_HTTP_CONNECT, ok, N(ok), true);
	run_all_splits(TD_STARTTLS_HTTP_CONNECT, auth, N(auth), true);
	run_all_splits(TD_STARTTLS_HTTP_CONNECT, denied, N(denied), false);
	ck_assert_str_eq(td_starttls_name(TD_STARTTLS_HTTP_CONNECT), "HTTP CONNECT");
	ck_assert_str_eq(td_starttls_how(TD_STARTTLS_HTTP_CONNECT), "proxy tunnel");
}
END_TEST

#define B(s) s, sizeof(s) - 1, NULL
#define T(s) "", 0, s

/* RFC 1928: the methods (§3), the server's choice, the request (§4) with a
 * domain name, the reply (§6) with an IPv4 address; then the tunnel. */
START_TEST(test_socks5)
{
	static const uint8_t greeting[] = {5, 1, 0};
	static const struct bturn ok[] = {
		{0, B("\x05\x01\x00")},
		{1, B("\x05\x00")},
		{0, B("\x05\x01\x00\x03\x0eserver.example\x01\xbb")},
		{1, B("\x05\x00\x00\x01\x0a\x00\x00\x01\x04\x38")},
		{0, T("\x16\x03\x01")},
		{1, T("\x16\x03\x03")},
	};
	/* RFC 1929 username/password, the request by IPv4, the reply by IPv6 */
	static const struct bturn userpass[] = {
		{0, B("\x05\x02\x00\x02")},
		{1, B("\x05\x02")},
		{0, B("\x01\x04user\x06secret")},
		{1, B("\x01\x00")},
		{0, B("\x05\x01\x00\x01\xc0\x00\x02\x01\x01\xbb")},
		{1, B("\x05\x00\x00\x04\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
		      "\x04\x38")},
		{0, T("\x16\x03\x01")},
	};
	/* REP 5: connection refused */
	static const struct bturn refused[] = {
		{0, B("\x05\x01\x00")},
		{1, B("\x05\x00")},
		{0, B("\x05\x01\x00\x01\xc0\x00\x02\x01\x01\xbb")},
		{1, B("\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")},
	};
	/* the password refused (RFC 1929 §2: status not 0) */
	static const struct bturn bad_password[] = {
		{0, B("\x05\x01\x02")},
		{1, B("\x05\x02")},
		{0, B("\x01\x01u\x01p")},
		{1, B("\x01\x01")},
	};

	ck_assert_int_eq(td_starttls_detect(0, greeting, sizeof greeting), TD_STARTTLS_SOCKS5);
	/* more bytes than the methods announced: not SOCKS5 */
	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)"\x05\x01\x00\x00", 4),
			 TD_STARTTLS_NONE);
	run_all_splits_b(TD_STARTTLS_SOCKS5, ok, N(ok), true);
	run_all_splits_b(TD_STARTTLS_SOCKS5, userpass, N(userpass), true);
	run_all_splits_b(TD_STARTTLS_SOCKS5, refused, N(refused), false);
	run_all_splits_b(TD_STARTTLS_SOCKS5, bad_password, N(bad_password), false);
}
END_TEST

/* SOCKS4: VN 4, CD 1, DSTPORT, DSTIP, USERID, NUL; the reply VN 0, CD 90
 * (granted), 6 bytes. SOCKS4A: DSTIP 0.0.0.x and the host after the
 * USERID's NUL. */
START_TEST(test_socks4)
{
	static const uint8_t req[] = {4, 1, 1, 0xbb, 192, 0, 2, 1, 'u', 0};
	static const struct bturn ok[] = {
		{0, B("\x04\x01\x01\xbb\xc0\x00\x02\x01u\x00")},
		{1, B("\x00\x5a\x00\x00\x00\x00\x00\x00")},
		{0, T("\x16\x03\x01")},
		{1, T("\x16\x03\x03")},
	};
	static const struct bturn socks4a[] = {
		{0, B("\x04\x01\x01\xbb\x00\x00\x00\x01user\x00server.example\x00")},
		{1, B("\x00\x5a\x01\xbb\xc0\x00\x02\x01")},
		{0, T("\x16\x03\x01")},
	};
	static const struct bturn rejected[] = {
		{0, B("\x04\x01\x01\xbb\xc0\x00\x02\x01\x00")},
		{1, B("\x00\x5b\x00\x00\x00\x00\x00\x00")},
	};

	ck_assert_int_eq(td_starttls_detect(0, req, sizeof req), TD_STARTTLS_SOCKS4);
	run_all_splits_b(TD_STARTTLS_SOCKS4, ok, N(ok), true);
	run_all_splits_b(TD_STARTTLS_SOCKS4, socks4a, N(socks4a), true);
	run_all_splits_b(TD_STARTTLS_SOCKS4, rejected, N(rejected), false);
}
END_TEST

/* MySQL: the server's greeting (protocol 10, "8.0.36"), the client's
 * 32-byte SSLRequest with CLIENT_SSL (0x0800) in its capability flags,
 * then TLS both ways. A client without CLIENT_SSL logs in in clear. */
START_TEST(test_mysql)
{
	/* length 0x1b, sequence 0, protocol 10, version, NUL, 19 more bytes */
	static const char greet[] = "\x1b\x00\x00\x00\x0a"
				    "8.0.36\x00"
				    "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
				    "\x10\x11\x12\x13";
	static const char ssl_req[] = "\x20\x00\x00\x01"
				      "\x05\xaa\xff\x01\x00\x00\x00\x01\x21\x00\x00\x00\x00\x00\x00\x00"
				      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
	static const char login[] = "\x20\x00\x00\x01"
				    "\x05\xa2\xff\x01\x00\x00\x00\x01\x21\x00\x00\x00\x00\x00\x00\x00"
				    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
	static const struct bturn ok[] = {
		{1, greet, sizeof greet - 1, NULL},
		{0, ssl_req, sizeof ssl_req - 1, "\x16\x03\x01"},
		{1, T("\x16\x03\x03")},
	};
	static const struct bturn plain[] = {
		{1, greet, sizeof greet - 1, NULL},
		{0, login, sizeof login - 1, NULL},
	};

	ck_assert_uint_eq(sizeof greet - 1, 4 + 0x1b);
	ck_assert_uint_eq(sizeof ssl_req - 1, 4 + 32);
	ck_assert_int_eq(td_starttls_detect(1, (const uint8_t *)greet, sizeof greet - 1),
			 TD_STARTTLS_MYSQL);
	ck_assert_int_eq(td_starttls_detect(1, (const uint8_t *)"\x1a\x00\x00\x00\x09x", 6),
			 TD_STARTTLS_NONE);
	run_all_splits_b(TD_STARTTLS_MYSQL, ok, N(ok), true);
	run_all_splits_b(TD_STARTTLS_MYSQL, plain, N(plain), false);
}
END_TEST

START_TEST(test_detect_negative)
{
	static const char http[] = "GET / HTTP/1.1\r\n";
	static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x00, 0x10};
	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)http, strlen(http)), TD_STARTTLS_NONE);
	ck_assert_int_eq(td_starttls_detect(1, (const uint8_t *)"HTTP/1.1 200", 12), TD_STARTTLS_NONE);
	ck_assert_int_eq(td_starttls_detect(0, tls, sizeof tls), TD_STARTTLS_NONE);
	ck_assert_int_eq(td_starttls_detect(1, NULL, 0), TD_STARTTLS_NONE);
	ck_assert_str_eq(td_starttls_name(TD_STARTTLS_POSTGRES), "PostgreSQL");
	ck_assert_str_eq(td_starttls_name(TD_STARTTLS_COUNT), "");
}
END_TEST

/* A line far longer than the buffer is still one line. */
START_TEST(test_long_line)
{
	struct td_starttls st;
	uint8_t big[2000];
	td_starttls_init(&st, TD_STARTTLS_SMTP);
	memset(big, 'x', sizeof big);
	memcpy(big, "250-", 4);
	big[sizeof big - 2] = '\r';
	big[sizeof big - 1] = '\n';
	td_starttls_feed(&st, 1, (const uint8_t *)"220 hi\r\n", 8, 1);
	td_starttls_feed(&st, 0, (const uint8_t *)"STARTTLS\r\n", 10, 2);
	ck_assert_uint_eq(td_starttls_feed(&st, 1, big, sizeof big, 3), sizeof big);
	ck_assert_int_eq(st.state, TD_STARTTLS_ASKED);
	ck_assert_uint_eq(td_starttls_feed(&st, 1, (const uint8_t *)"220 go\r\n\x16", 9, 4), 8);
	ck_assert_int_eq(st.state, TD_STARTTLS_UPGRADED);
}
END_TEST

/* ---- OpenVPN over TCP ---------------------------------------------------- */

/* An OpenVPN TCP stream built from its packet layout (td_ovpn.h): a
 * 16-bit length before each packet; hmac bytes of tls-auth fields after
 * the session id. */
struct ovpn_stream {
	uint8_t b[8192];
	size_t n;
};

static void ov_put(struct ovpn_stream *s, const void *p, size_t n)
{
	ck_assert_uint_le(s->n + n, sizeof s->b);
	if (n) /* p may be NULL for an empty payload */
		memcpy(s->b + s->n, p, n);
	s->n += n;
}

/* One packet: opcode, the tls-auth fields (filled with 0xAA), acks acks,
 * a message packet id for control packets, then payload. */
static void ov_packet(struct ovpn_stream *s, unsigned opcode, size_t hmac, unsigned acks,
		      const uint8_t *payload, size_t n)
{
	uint8_t h[256];
	size_t k = 0;

	h[k++] = (uint8_t)(opcode << 3);
	memset(h + k, 0x11, 8); /* session id */
	k += 8;
	memset(h + k, 0xAA, hmac);
	k += hmac;
	h[k++] = (uint8_t)acks;
	memset(h + k, 0x22, acks * 4 + (acks ? 8 : 0));
	k += acks * 4 + (acks ? 8 : 0);
	if (opcode == 4 || opcode == 7 || opcode == 8) {
		memset(h + k, 0, 4); /* message packet id */
		k += 4;
	}
	size_t len = k + n;
	uint8_t l[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	ov_put(s, l, 2);
	ov_put(s, h, k);
	ov_put(s, payload, n);
}

struct ov_sink {
	uint8_t got[2][4096];
	size_t n[2];
};

static void ov_collect(void *user, int dir, const uint8_t *p, size_t n)
{
	struct ov_sink *k = user;

	ck_assert_uint_le(k->n[dir] + n, sizeof k->got[dir]);
	memcpy(k->got[dir] + k->n[dir], p, n);
	k->n[dir] += n;
}

/* The TLS bytes of each direction come out whole and in order, whatever
 * the tls-auth HMAC (none, SHA-1, SHA-256, SHA-512), the acks carried and
 * the segmentation; resets, acks and data-channel packets are passed over. */
START_TEST(test_ovpn_control_channel)
{
	static const size_t hmacs[] = {0, 20 + 8, 32 + 8, 64 + 8};
	uint8_t hello[600], server[900];

	hello[0] = 0x16;
	hello[1] = 0x03;
	hello[2] = 0x01;
	for (size_t i = 3; i < sizeof hello; i++)
		hello[i] = (uint8_t)(i * 7);
	server[0] = 0x16;
	server[1] = 0x03;
	server[2] = 0x03;
	for (size_t i = 3; i < sizeof server; i++)
		server[i] = (uint8_t)(i * 13);
	for (size_t h = 0; h < N(hmacs); h++) {
		struct ovpn_stream c = {.n = 0}, sv = {.n = 0};
		uint8_t data[100];

		memset(data, 0x5A, sizeof data);
		ov_packet(&c, 7, hmacs[h], 0, NULL, 0); /* P_CONTROL_HARD_RESET_CLIENT_V2 */
		ov_packet(&sv, 8, hmacs[h], 1, NULL, 0);
		ov_packet(&c, 5, hmacs[h], 1, NULL, 0); /* P_ACK_V1 */
		/* the ClientHello in three control packets, acks on the second */
		ov_packet(&c, 4, hmacs[h], 0, hello, 250);
		ov_packet(&c, 4, hmacs[h], 2, hello + 250, 250);
		ov_packet(&c, 4, hmacs[h], 0, hello + 500, 100);
		ov_packet(&sv, 4, hmacs[h], 3, server, 500);
		ov_packet(&sv, 4, hmacs[h], 0, server + 500, 400);
		ov_packet(&c, 6, 0, 0, data, sizeof data); /* P_DATA_V1: not TLS */
		ov_packet(&sv, 9, 0, 0, data, sizeof data);
		ck_assert(td_ovpn_detect(0, c.b, c.n));
		ck_assert(!td_ovpn_detect(1, c.b, c.n));
		for (size_t chunk = 1; chunk <= 4096; chunk = chunk < 64 ? chunk + 1 : chunk * 4) {
			struct td_ovpn o;
			struct ov_sink k = {.n = {0, 0}};

			td_ovpn_init(&o);
			for (size_t off = 0; off < c.n || off < sv.n; off += chunk) {
				if (off < c.n)
					td_ovpn_feed(&o, 0, c.b + off, c.n - off < chunk ? c.n - off : chunk,
						     ov_collect, &k);
				if (off < sv.n)
					td_ovpn_feed(&o, 1, sv.b + off,
						     sv.n - off < chunk ? sv.n - off : chunk, ov_collect, &k);
			}
			ck_assert_msg(!o.lost, "hmac %zu chunk %zu", hmacs[h], chunk);
			ck_assert_int_eq(o.hmac, (int)hmacs[h]);
			ck_assert_uint_eq(k.n[0], sizeof hello);
			ck_assert(memcmp(k.got[0], hello, sizeof hello) == 0);
			ck_assert_uint_eq(k.n[1], sizeof server);
			ck_assert(memcmp(k.got[1], server, sizeof server) == 0);
			ck_assert_uint_eq(o.control_packets[0], 3);
			ck_assert_uint_eq(o.control_packets[1], 2);
		}
	}
}
END_TEST

/* --tls-crypt encrypts the control channel: no TLS record header shows at
 * any HMAC size, so nothing comes out. Not OpenVPN at all: not detected. */
START_TEST(test_ovpn_not_followed)
{
	struct ovpn_stream c = {.n = 0};
	uint8_t noise[300];
	struct td_ovpn o;
	struct ov_sink k = {.n = {0, 0}};

	for (size_t i = 0; i < sizeof noise; i++)
		noise[i] = (uint8_t)(0x80 + i * 31);
	ov_packet(&c, 7, 0, 0, NULL, 0);
	ov_packet(&c, 4, 0, 0, noise, sizeof noise);
	ck_assert(td_ovpn_detect(0, c.b, c.n));
	td_ovpn_init(&o);
	td_ovpn_feed(&o, 0, c.b, c.n, ov_collect, &k);
	ck_assert(o.lost);
	ck_assert_uint_eq(k.n[0], 0);
	/* a length past the first segment, a key id, another opcode, TLS */
	static const uint8_t bad[][16] = {
		{0, 20, 0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0},
		{0, 14, 0x39, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0},
		{0, 14, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0},
		{0x16, 0x03, 0x01, 0, 10, 1, 0, 0, 6, 3, 3, 0, 0, 0, 0, 0},
	};
	for (size_t i = 0; i < N(bad); i++)
		ck_assert_msg(!td_ovpn_detect(0, bad[i], 16), "case %zu", i);
	/* P_CONTROL_HARD_RESET_CLIENT_V2, session id, no ack, packet id 0 */
	static const uint8_t good[16] = {0, 14, 0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0};
	ck_assert(td_ovpn_detect(0, good, sizeof good));
}
END_TEST

/* ---- ADB (AOSP adb protocol.txt) ----------------------------------------- */

/* The protocol text's constants: commands are four ASCII letters read as a
 * little-endian word ("CNXN" = 0x4e584e43); STLS carries A_STLS_VERSION. */
#define A_CNXN 0x4e584e43u
#define A_AUTH 0x48545541u
#define A_STLS 0x534c5453u
#define A_VERSION 0x01000001u
#define A_STLS_VERSION 0x01000000u
#define ADB_HEADER 24

struct adb_msg {
	char b[256];
	size_t n;
};

static void le32(char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (char)(v >> (8 * i));
}

/* A message as protocol.txt lays it out: command, arg0, arg1, data_length,
 * data checksum (adb's byte sum), magic = command ^ 0xffffffff, payload. */
static void adb_msg(struct adb_msg *m, uint32_t command, uint32_t arg0, uint32_t arg1,
		    const char *data, size_t len)
{
	uint32_t sum = 0;

	ck_assert_uint_le(ADB_HEADER + len, sizeof m->b);
	for (size_t i = 0; i < len; i++)
		sum += (uint8_t)data[i];
	le32(m->b, command);
	le32(m->b + 4, arg0);
	le32(m->b + 8, arg1);
	le32(m->b + 12, (uint32_t)len);
	le32(m->b + 16, sum);
	le32(m->b + 20, command ^ 0xffffffffu);
	if (len)
		memcpy(m->b + ADB_HEADER, data, len);
	m->n = ADB_HEADER + len;
}

#define M(m) (m).b, (m).n

/* Wireless debugging as adb does it: the host's CONNECT, the device's STLS
 * (it requires TLS), the host's STLS; then the host's ClientHello and the
 * device's ServerHello. The upgrade is the host's STLS. */
START_TEST(test_adb)
{
	static const char host_id[] = "host::features=shell_v2,cmd";
	struct adb_msg cnxn, stls_dev, stls_host;
	struct td_starttls st;

	adb_msg(&cnxn, A_CNXN, A_VERSION, 256 * 1024, host_id, sizeof host_id);
	adb_msg(&stls_dev, A_STLS, A_STLS_VERSION, 0, NULL, 0);
	adb_msg(&stls_host, A_STLS, A_STLS_VERSION, 0, NULL, 0);
	/* the layout of protocol.txt: "CNXN" on the wire, the magic its
	 * complement, the length of the identity string */
	ck_assert(memcmp(cnxn.b, "CNXN", 4) == 0);
	ck_assert(memcmp(stls_dev.b, "STLS", 4) == 0);
	ck_assert_uint_eq((uint8_t)cnxn.b[20], 0xff - 'C');
	ck_assert_uint_eq((uint8_t)cnxn.b[12], sizeof host_id);
	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)cnxn.b, cnxn.n), TD_STARTTLS_ADB);
	/* the header alone is enough to tell */
	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)cnxn.b, ADB_HEADER),
			 TD_STARTTLS_ADB);

	const struct bturn t[] = {
		{0, M(cnxn), NULL},
		{1, M(stls_dev), NULL},
		{0, M(stls_host), "\x16\x03\x01"},
		{1, T("\x16\x03\x03")},
	};
	run_all_splits_b(TD_STARTTLS_ADB, t, N(t), true);

	td_starttls_init(&st, TD_STARTTLS_ADB);
	ck_assert_uint_eq(td_starttls_feed(&st, 0, (const uint8_t *)cnxn.b, cnxn.n, 4), cnxn.n);
	ck_assert_int_eq(st.state, TD_STARTTLS_GREETING);
	ck_assert_uint_eq(td_starttls_feed(&st, 1, (const uint8_t *)stls_dev.b, stls_dev.n, 5),
			  ADB_HEADER);
	ck_assert_int_eq(st.state, TD_STARTTLS_ASKED);
	ck_assert(!st.d[0].tls && !st.d[1].tls);
	ck_assert_uint_eq(td_starttls_feed(&st, 0, (const uint8_t *)stls_host.b, stls_host.n, 6),
			  ADB_HEADER);
	ck_assert_int_eq(st.state, TD_STARTTLS_UPGRADED);
	ck_assert_uint_eq(st.upgrade_frame, 6);
	ck_assert_str_eq(td_starttls_name(TD_STARTTLS_ADB), "ADB");
	ck_assert_str_eq(td_starttls_how(TD_STARTTLS_ADB), "STLS");
}
END_TEST

/* Messages with payloads before the upgrade (the device's CONNECT, an AUTH
 * token and signature), and the other order: the host's STLS first, the
 * device's second, which is then the upgrade. */
START_TEST(test_adb_messages_then_stls)
{
	static const char host_id[] = "host::", dev_id[] = "device:SERIAL01:ro.product.name=x;";
	static const char token[20] = "0123456789abcdefghij";
	char sig[200];
	struct adb_msg cnxn, dcnxn, auth1, auth2, stls_h, stls_d;

	memset(sig, 0xA5, sizeof sig);
	adb_msg(&cnxn, A_CNXN, A_VERSION, 4096, host_id, sizeof host_id);
	adb_msg(&auth1, A_AUTH, 1, 0, token, sizeof token);   /* TOKEN(1) */
	adb_msg(&auth2, A_AUTH, 2, 0, sig, sizeof sig);       /* SIGNATURE(2) */
	adb_msg(&dcnxn, A_CNXN, A_VERSION, 256 * 1024, dev_id, sizeof dev_id);
	adb_msg(&stls_h, A_STLS, A_STLS_VERSION, 0, NULL, 0);
	adb_msg(&stls_d, A_STLS, A_STLS_VERSION, 0, NULL, 0);
	const struct bturn t[] = {
		{0, M(cnxn), NULL},
		{1, M(auth1), NULL},
		{0, M(auth2), NULL},
		{1, M(dcnxn), NULL},
		{0, M(stls_h), NULL},
		{1, M(stls_d), NULL},
		{0, T("\x16\x03\x01")},
		{1, T("\x16\x03\x03")},
	};
	run_all_splits_b(TD_STARTTLS_ADB, t, N(t), true);
}
END_TEST

/* What is not ADB, or not its upgrade: a wrong magic (at the start and
 * later), a CONNECT longer than protocol.txt allows before maxdata is
 * known, the device's bytes first, every cut of the header; STLS from one
 * side only. */
START_TEST(test_adb_not_followed)
{
	static const char host_id[] = "host::";
	char big[4097];
	struct adb_msg cnxn, bad, huge, stls, other;
	struct td_starttls st;

	memset(big, 'x', sizeof big);
	adb_msg(&cnxn, A_CNXN, A_VERSION, 4096, host_id, sizeof host_id);
	adb_msg(&stls, A_STLS, A_STLS_VERSION, 0, NULL, 0);
	bad = cnxn;
	bad.b[20] ^= 1; /* magic no longer command ^ 0xffffffff */
	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)bad.b, bad.n), TD_STARTTLS_NONE);
	adb_msg(&huge, A_CNXN, A_VERSION, 4096, NULL, 0);
	le32(huge.b + 12, sizeof big);
	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)huge.b, huge.n), TD_STARTTLS_NONE);
	le32(huge.b + 12, 4096);
	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)huge.b, huge.n), TD_STARTTLS_ADB);
	ck_assert_int_eq(td_starttls_detect(1, (const uint8_t *)cnxn.b, cnxn.n), TD_STARTTLS_NONE);
	for (size_t cut = 0; cut < ADB_HEADER; cut++)
		ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)cnxn.b, cut), TD_STARTTLS_NONE);
	/* STLS with a wrong magic: no upgrade, and no TLS after it */
	other = stls;
	other.b[23] ^= 0x80;
	const struct bturn bad_stls[] = {
		{0, M(cnxn), NULL},
		{1, M(stls), NULL},
		{0, M(other), NULL},
		{0, B("\x16\x03\x01")},
	};
	run_all_splits_b(TD_STARTTLS_ADB, bad_stls, N(bad_stls), false);
	/* the device asks for TLS, the host answers with an AUTH, not STLS */
	adb_msg(&other, A_AUTH, 1, 0, "token", 5);
	const struct bturn one_side[] = {
		{0, M(cnxn), NULL},
		{1, M(stls), NULL},
		{0, M(other), NULL},
	};
	run_all_splits_b(TD_STARTTLS_ADB, one_side, N(one_side), false);
	/* the host's STLS alone, then more from the host: still plain */
	td_starttls_init(&st, TD_STARTTLS_ADB);
	td_starttls_feed(&st, 0, (const uint8_t *)cnxn.b, cnxn.n, 1);
	ck_assert_uint_eq(td_starttls_feed(&st, 0, (const uint8_t *)stls.b, stls.n, 2), stls.n);
	ck_assert_int_eq(st.state, TD_STARTTLS_ASKED);
	ck_assert_uint_eq(td_starttls_feed(&st, 0, (const uint8_t *)"\x16\x03\x01", 3, 3), 3);
	ck_assert_int_ne(st.state, TD_STARTTLS_UPGRADED);
	ck_assert(!st.d[0].tls && !st.d[1].tls);
	/* a payload length past 1 MiB (today's largest maxdata) ends it */
	td_starttls_init(&st, TD_STARTTLS_ADB);
	adb_msg(&other, A_CNXN, A_VERSION, 4096, NULL, 0);
	le32(other.b + 12, 1024u * 1024u + 1);
	td_starttls_feed(&st, 1, (const uint8_t *)other.b, other.n, 1);
	ck_assert_int_eq(st.state, TD_STARTTLS_REFUSED);
}
END_TEST

/* NoMachine's NX (no public specification; the lines as a NoMachine 8
 * client and server send them on port 4000): the client's "NXSH-" version
 * line, the server's "NXD-" version line, then TLS, the client's
 * ClientHello first. Another answer from the server is no upgrade. */
START_TEST(test_nomachine)
{
	static const struct turn ok[] = {
		{0, "NXSH-8.10.1\n", NULL},
		{1, "NXD-8.10.1\n", NULL},
		{0, "", "\x16\x03\x01"},
		{1, "", "\x16\x03\x03"},
	};
	static const struct turn other[] = {
		{0, "NXSH-8.10.1\n", NULL},
		{1, "NX> 500 ERROR: unsupported\n", NULL},
		{0, "\x16\x03\x01", NULL},
	};
	static const char hello[] = "NXSH-8.10.1\n";

	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)hello, strlen(hello)),
			 TD_STARTTLS_NOMACHINE);
	/* a version that does not start with a digit; the server's line first */
	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)"NXSH-x\n", 7), TD_STARTTLS_NONE);
	ck_assert_int_eq(td_starttls_detect(0, (const uint8_t *)"NXSH-", 5), TD_STARTTLS_NONE);
	ck_assert_int_eq(td_starttls_detect(1, (const uint8_t *)"NXD-8.10.1\n", 11),
			 TD_STARTTLS_NONE);
	run_all_splits(TD_STARTTLS_NOMACHINE, ok, N(ok), true);
	run_all_splits(TD_STARTTLS_NOMACHINE, other, N(other), false);
	ck_assert_str_eq(td_starttls_name(TD_STARTTLS_NOMACHINE), "NoMachine");
}
END_TEST

Suite *td_starttls_suite(void)
{
	Suite *s = suite_create("starttls");
	TCase *tc = tcase_create("protocols");
	tcase_add_test(tc, test_smtp);
	tcase_add_test(tc, test_smtp_refused);
	tcase_add_test(tc, test_tls_without_asking);
	tcase_add_test(tc, test_tls_without_asking_negative);
	tcase_add_test(tc, test_greeting_cut);
	tcase_add_test(tc, test_proxy_protocol);
	tcase_add_test(tc, test_proxy_protocol_negative);
	tcase_add_test(tc, test_upgrade_header);
	tcase_add_test(tc, test_upgrade_header_refused);
	tcase_add_test(tc, test_ftp);
	tcase_add_test(tc, test_imap);
	tcase_add_test(tc, test_pop3);
	tcase_add_test(tc, test_xmpp);
	tcase_add_test(tc, test_postgres);
	tcase_add_test(tc, test_ldap);
	tcase_add_test(tc, test_http_connect);
	tcase_add_test(tc, test_socks5);
	tcase_add_test(tc, test_socks4);
	tcase_add_test(tc, test_mysql);
	tcase_add_test(tc, test_adb);
	tcase_add_test(tc, test_adb_messages_then_stls);
	tcase_add_test(tc, test_adb_not_followed);
	tcase_add_test(tc, test_nomachine);
	tcase_add_test(tc, test_ovpn_control_channel);
	tcase_add_test(tc, test_ovpn_not_followed);
	tcase_add_test(tc, test_detect_negative);
	tcase_add_test(tc, test_long_line);
	suite_add_tcase(s, tc);
	return s;
}
