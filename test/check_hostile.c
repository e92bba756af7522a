/* check_hostile.c - input crafted to hurt: lengths that lie, floods of
 * tiny records, captures whose headers lie, and strings meant for the
 * terminal that reads the report.
 *
 * What each test holds tlsdiag to (DESIGN.md "Boundaries and limits"):
 * memory stays within the caps set at init whatever a length field claims
 * (STYLE.md rule 12), time stays linear in the input, bad input ends with
 * the documented exit status and one clear line, and wire strings reach
 * the terminal and the JSON escaped (td_report.h).
 *
 * Environment: TD_BIN (the binary, default build/tlsdiag).
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "td_decode.h"
#include "td_session.h"
#include "td_test_util.h"
#include "td_tls.h"

#define CAP (64 * 1024) /* max_handshake_msg for the parser tests */
#define C2S TD_DIR_C2S
#define S2C TD_DIR_S2C

static const char *bin(void)
{
	const char *b = getenv("TD_BIN");
	return b ? b : "build/tlsdiag";
}

/* ---- a byte builder ---------------------------------------------------- */

struct buf {
	uint8_t *b;
	size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return; /* p may be NULL then */
	if (b->cap - b->n < n) {
		while (b->cap - b->n < n)
			b->cap = b->cap ? 2 * b->cap : 4096;
		b->b = realloc(b->b, b->cap);
		ck_assert_ptr_nonnull(b->b);
	}
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put8(struct buf *b, unsigned v)
{
	uint8_t c = (uint8_t)v;
	put(b, &c, 1);
}

static void put16(struct buf *b, unsigned v)
{
	put8(b, v >> 8);
	put8(b, v);
}

static void put24(struct buf *b, unsigned v)
{
	put8(b, v >> 16);
	put16(b, v & 0xffff);
}

static void put32(struct buf *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b, v & 0xffff);
}

/* little-endian, for pcap headers */
static void put32le(struct buf *b, uint32_t v)
{
	uint8_t c[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	put(b, c, 4);
}

/* RFC 8446 §5.1 TLSPlaintext header */
static void record_hdr(struct buf *b, unsigned type, unsigned len)
{
	put8(b, type);
	put16(b, 0x0303);
	put16(b, len);
}

/* A ClientHello body (RFC 8446 §4.1.2) with one server_name extension
 * holding name (n bytes) and nothing else. */
static void client_hello_body(struct buf *b, const void *name, size_t n)
{
	static const uint8_t random[32];
	put16(b, 0x0303);
	put(b, random, sizeof random);
	put8(b, 0);       /* legacy_session_id */
	put16(b, 2);      /* cipher_suites */
	put16(b, 0xc02f);
	put8(b, 1);       /* legacy_compression_methods */
	put8(b, 0);
	put16(b, (unsigned)(2 + 2 + 2 + 1 + 2 + n)); /* extensions */
	put16(b, 0);      /* server_name (RFC 6066 §3) */
	put16(b, (unsigned)(2 + 1 + 2 + n));
	put16(b, (unsigned)(1 + 2 + n)); /* server_name_list */
	put8(b, 0);       /* host_name */
	put16(b, (unsigned)n);
	put(b, name, n);
}

/* The whole ClientHello as one handshake record. */
static void client_hello_record(struct buf *b, const void *name, size_t n)
{
	struct buf body = {0};
	client_hello_body(&body, name, n);
	record_hdr(b, 22, (unsigned)(4 + body.n));
	put8(b, 1);
	put24(b, (unsigned)body.n);
	put(b, body.b, body.n);
	free(body.b);
}

/* ---- the parser alone -------------------------------------------------- */

struct parser {
	struct td_tls t;
	struct td_session s;
};

static struct parser *parser_new_cap(size_t cap)
{
	const struct td_tls_limits lim = {.max_handshake_msg = cap};
	struct parser *p = calloc(1, sizeof *p);
	ck_assert_ptr_nonnull(p);
	td_session_init(&p->s);
	td_tls_init(&p->t, &lim);
	return p;
}

static struct parser *parser_new(void)
{
	return parser_new_cap(CAP);
}

static void parser_free(struct parser *p)
{
	td_tls_free(&p->t);
	td_session_clear(&p->s, NULL);
	free(p);
}

static void feed(struct parser *p, int dir, const struct buf *b)
{
	td_tls_feed(&p->t, &p->s, NULL, dir, b->b, b->n, 1, (struct td_time){0, 0});
}

/* Neither direction's handshake buffer grew past the cap. */
static void assert_bounded(const struct parser *p)
{
	for (int d = 0; d < 2; d++)
		ck_assert_uint_le(p->t.d[d].hs_buf_size, CAP);
}

/* A ClientHello claiming 2^24 - 1 bytes (16 MiB): skipped by length and
 * counted, never buffered; the records around it still count. */
START_TEST(test_16mib_handshake_message)
{
	struct parser *p = parser_new();
	struct buf b = {0};
	uint8_t zero[1024] = {0};

	record_hdr(&b, 22, 4 + sizeof zero);
	put8(&b, 1);
	put24(&b, 0xffffff);
	put(&b, zero, sizeof zero);
	for (int i = 0; i < 64; i++) { /* 1 MiB of the claimed body */
		record_hdr(&b, 22, 16384);
		for (int k = 0; k < 16; k++)
			put(&b, zero, sizeof zero);
	}
	feed(p, C2S, &b);
	ck_assert_uint_eq(p->s.hs_too_big[C2S], 1);
	ck_assert_uint_eq(p->s.records[C2S], 65);
	ck_assert(!p->s.ch->seen);
	ck_assert_uint_eq(p->s.desync[C2S], TD_OK);
	assert_bounded(p);
	ck_assert_ptr_null(p->t.d[C2S].hs_buf);

	/* the server's Certificate claiming 16 MiB too */
	free(b.b);
	b = (struct buf){0};
	record_hdr(&b, 22, 4);
	put8(&b, 11);
	put24(&b, 0xffffff);
	feed(p, S2C, &b);
	ck_assert_uint_eq(p->s.hs_too_big[S2C], 1);
	ck_assert_uint_eq(p->s.total_certs, 0);
	assert_bounded(p);
	free(b.b);
	parser_free(p);
}
END_TEST

/* Inner lengths that claim far more than the message holds: extensions
 * of 2^16 - 1 bytes, a certificate_list and a certificate of 2^24 - 1
 * bytes. Each message is parsed as malformed; nothing is allocated for
 * the claimed sizes. */
START_TEST(test_lying_inner_lengths)
{
	struct parser *p = parser_new();
	struct buf b = {0}, body = {0};

	client_hello_body(&body, "a.example", 9);
	/* extensions<0..2^16-1> claims 0xffff bytes, then the one
	 * extension claims 0xffff bytes of server_name */
	size_t ext_at = body.n - (2 + 2 + 2 + 2 + 1 + 2 + 9);
	body.b[ext_at] = 0xff;
	body.b[ext_at + 1] = 0xff;
	body.b[ext_at + 4] = 0xff;
	body.b[ext_at + 5] = 0xff;
	record_hdr(&b, 22, (unsigned)(4 + body.n));
	put8(&b, 1);
	put24(&b, (unsigned)body.n);
	put(&b, body.b, body.n);
	feed(p, C2S, &b);
	ck_assert(p->s.ch->seen);
	ck_assert_uint_ne(p->s.ch->malformed, TD_OK);
	ck_assert(!p->s.ch->has_sni);

	/* Certificate: certificate_list<0..2^24-1> claims 2^24 - 1 bytes */
	free(b.b);
	b = (struct buf){0};
	record_hdr(&b, 22, 4 + 3 + 3 + 4);
	put8(&b, 11);
	put24(&b, 3 + 3 + 4);
	put24(&b, 0xffffff);
	put24(&b, 0xffffff); /* one ASN.1Cert of 2^24 - 1 bytes */
	put32(&b, 0x30820000);
	feed(p, S2C, &b);
	ck_assert_uint_eq(p->s.handshake_messages[S2C], 1);
	ck_assert_uint_eq(p->s.n_certs, 0);
	ck_assert_uint_eq(p->s.desync[S2C], TD_OK);
	assert_bounded(p);
	free(body.b);
	free(b.b);
	parser_free(p);
}
END_TEST

/* An SSLv2-compatible ClientHello (RFC 5246 §E.2) whose 15-bit length
 * claims 32 KiB, with the cap at 1 KiB: skipped and counted like any
 * handshake message above the cap, nothing buffered. (The parser once
 * sized its buffer from this length alone.) */
START_TEST(test_sslv2_hello_over_cap)
{
	struct parser *p = parser_new_cap(1024);
	struct buf b = {0};
	uint8_t zero[1024] = {0};

	put16(&b, 0xffff); /* top bit: 2-byte header; length 0x7fff */
	put8(&b, 1);       /* msg_type client_hello */
	put16(&b, 0x0301);
	for (int i = 0; i < 31; i++)
		put(&b, zero, sizeof zero);
	feed(p, C2S, &b);
	ck_assert_uint_eq(p->s.hs_too_big[C2S], 1);
	ck_assert(!p->s.ch->seen);
	ck_assert_uint_le(p->t.d[C2S].hs_buf_size, 1024);
	ck_assert_uint_eq(p->s.desync[C2S], TD_OK);
	free(b.b);
	parser_free(p);

	/* the same hello under the cap is parsed (and buffered at its size) */
	p = parser_new_cap(1024);
	b = (struct buf){0};
	put16(&b, 0x8000 | (9 + 3 + 16));
	put8(&b, 1);
	put16(&b, 0x0301);
	put16(&b, 3);  /* cipher_spec_length */
	put16(&b, 0);  /* session_id_length */
	put16(&b, 16); /* challenge_length */
	put8(&b, 0);
	put16(&b, 0x002f);
	put(&b, zero, 16);
	feed(p, C2S, &b);
	ck_assert(p->s.ch->seen);
	ck_assert_uint_eq(p->s.ch->malformed, TD_OK);
	ck_assert_uint_eq(p->s.ch->n_suites, 1);
	ck_assert_uint_eq(p->t.d[C2S].hs_buf_size, 9 + 3 + 16 - 1);
	free(b.b);
	parser_free(p);
}
END_TEST

/* A record length above 2^14 + 2048 (RFC 5246 §6.2.3) loses sync at once:
 * nothing waits for the 64 KiB it claims. */
START_TEST(test_record_over_limit)
{
	struct parser *p = parser_new();
	struct buf b = {0};

	record_hdr(&b, 23, 0xffff);
	feed(p, C2S, &b);
	ck_assert_uint_eq(p->s.desync[C2S], TD_ERR_TOO_BIG);
	ck_assert(p->t.d[C2S].dead);
	free(b.b);
	parser_free(p);
}
END_TEST

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A ClientHello sent one byte per record, then application data one byte
 * per record: a million records in all. Every one is counted, the hello
 * is put back together, memory stays at the hello's size, and the time is
 * linear (a generous bound that still catches quadratic work). */
START_TEST(test_million_one_byte_records)
{
	enum { RECORDS = 1000000 };
	struct parser *p = parser_new();
	struct buf hello = {0}, b = {0};

	client_hello_record(&hello, "one.example", 11);
	const uint8_t *msg = hello.b + 5; /* the handshake message */
	size_t msg_len = hello.n - 5;
	for (size_t i = 0; i < msg_len; i++) {
		record_hdr(&b, 22, 1);
		put8(&b, msg[i]);
	}
	for (size_t i = msg_len; i < RECORDS; i++) {
		record_hdr(&b, 23, 1);
		put8(&b, 0x42);
	}
	double t0 = now();
	/* fed as a reassembler would hand it over: segment-sized pieces */
	for (size_t off = 0; off < b.n; off += 1448) {
		size_t n = b.n - off < 1448 ? b.n - off : 1448;
		td_tls_feed(&p->t, &p->s, NULL, C2S, b.b + off, n, 1, (struct td_time){0, 0});
	}
	double took = now() - t0;
	ck_assert_uint_eq(p->s.records[C2S], RECORDS);
	ck_assert(p->s.ch->seen);
	ck_assert_uint_eq(p->s.ch->malformed, TD_OK);
	ck_assert_uint_eq(p->s.ch->sni.len, 11);
	ck_assert_uint_eq(p->s.appdata_records[C2S], RECORDS - msg_len);
	ck_assert_uint_le(p->s.n_events, TD_MAX_EVENTS);
	ck_assert_uint_le(p->t.d[C2S].hs_buf_size, msg_len);
	ck_assert_msg(took < 20.0, "a million records took %.1f s", took);
	free(hello.b);
	free(b.b);
	parser_free(p);
}
END_TEST

/* ---- captures, through the binary ------------------------------------- */

/* pcap global header (little-endian, microseconds). */
static void pcap_header(struct buf *b, uint32_t snaplen, uint32_t linktype)
{
	put32le(b, 0xa1b2c3d4);
	put16(b, 0x0200); /* version 2.4, little-endian */
	put16(b, 0x0400);
	put32le(b, 0);
	put32le(b, 0);
	put32le(b, snaplen);
	put32le(b, linktype);
}

static void pcap_record(struct buf *b, uint32_t sec, uint32_t caplen, uint32_t len)
{
	put32le(b, sec);
	put32le(b, 0);
	put32le(b, caplen);
	put32le(b, len);
}

/* An Ethernet + IPv4 + TCP packet (no options) carrying payload;
 * checksums are not checked by tlsdiag and left zero. */
static void tcp_packet(struct buf *b, int from_client, uint32_t seq, unsigned flags,
		       const void *payload, size_t n)
{
	static const uint8_t mac_c[6] = {2, 0, 0, 0, 0, 1}, mac_s[6] = {2, 0, 0, 0, 0, 2};
	uint32_t ip_c = 0x0a000001, ip_s = 0x0a000002;
	put(b, from_client ? mac_s : mac_c, 6);
	put(b, from_client ? mac_c : mac_s, 6);
	put16(b, 0x0800);
	put8(b, 0x45); /* IPv4, IHL 5 */
	put8(b, 0);
	put16(b, (unsigned)(20 + 20 + n));
	put32(b, 0x00004000); /* id 0, DF */
	put8(b, 64);
	put8(b, 6);
	put16(b, 0);
	put32(b, from_client ? ip_c : ip_s);
	put32(b, from_client ? ip_s : ip_c);
	put16(b, from_client ? 40000 : 443);
	put16(b, from_client ? 443 : 40000);
	put32(b, seq);
	put32(b, 0);
	put8(b, 5 << 4);
	put8(b, flags);
	put16(b, 65535);
	put32(b, 0);
	if (n)
		put(b, payload, n);
}

/* One packet record holding the packet p built. */
static void pcap_packet(struct buf *cap, uint32_t sec, const struct buf *p)
{
	pcap_record(cap, sec, (uint32_t)p->n, (uint32_t)p->n);
	put(cap, p->b, p->n);
}

/* A capture of a SYN then a ClientHello whose SNI is name (n bytes). */
static void hello_capture(struct buf *cap, uint32_t snaplen, const void *name, size_t n)
{
	struct buf pkt = {0}, tls = {0};

	pcap_header(cap, snaplen, 1);
	tcp_packet(&pkt, 1, 1000, 0x02, NULL, 0);
	pcap_packet(cap, 1, &pkt);
	client_hello_record(&tls, name, n);
	pkt.n = 0;
	tcp_packet(&pkt, 1, 1001, 0x18, tls.b, tls.n);
	pcap_packet(cap, 2, &pkt);
	free(pkt.b);
	free(tls.b);
}

struct tmp {
	char dir[32];
	char path[64];
};

static void tmp_capture(struct tmp *t, const struct buf *cap)
{
	strcpy(t->dir, "/tmp/td-hostile-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	snprintf(t->path, sizeof t->path, "%s/c.pcap", t->dir);
	td_test_write_file(NULL, t->path, cap->b, cap->n);
}

static void tmp_remove(struct tmp *t)
{
	unlink(t->path);
	rmdir(t->dir);
}

/* Runs the binary on the capture; returns stdout+stderr, exit in *st. */
static char *run_on(const struct tmp *t, const char *opts, int *st)
{
	char *out;
	*st = td_test_run(&out, NULL, "TZ=UTC %s -r %s %s 2>&1", bin(), t->path, opts);
	ck_assert_ptr_nonnull(out);
	return out;
}

/* Packet headers that lie: a caplen beyond the end of the file, a caplen
 * of ~4 GiB, a caplen above the wire length. The first two stop the
 * capture early (exit 5, a warning naming the file and the frame; the
 * packets before are reported); none crashes. */
START_TEST(test_lying_packet_headers)
{
	static const struct {
		uint32_t caplen, len;
		size_t present; /* bytes of packet data actually there */
		int want;       /* exit status, -2: 0 or 5 */
	} cases[] = {
		{2000, 2000, 20, 5},
		{0xfffffff0u, 0xfffffff0u, 64, 5},
		{0x00040001u, 0x00040001u, 64, 5}, /* above the 256 KiB snaplen */
		{54, 20, 54, -2},                  /* caplen > wire length */
		{0, 60, 0, -2},                    /* nothing captured */
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf cap = {0}, pkt = {0};
		struct tmp t;
		int st;
		uint8_t junk[64];

		memset(junk, 0x45, sizeof junk);
		hello_capture(&cap, 262144, "lie.example", 11);
		pcap_record(&cap, 3, cases[i].caplen, cases[i].len);
		if (cases[i].present) {
			tcp_packet(&pkt, 0, 5000, 0x12, NULL, 0);
			put(&cap, cases[i].present <= pkt.n ? pkt.b : junk, cases[i].present);
		}
		tmp_capture(&t, &cap);
		char *out = run_on(&t, "", &st);
		if (cases[i].want == -2)
			ck_assert_msg(st == 0 || st == 5, "case %zu: exit %d: %s", i, st, out);
		else
			ck_assert_msg(st == cases[i].want, "case %zu: exit %d: %s", i, st, out);
		if (st == 5) {
			ck_assert_msg(strstr(out, "warning") && strstr(out, t.path) &&
					      strstr(out, "after frame 2"),
				      "case %zu: %s", i, out);
		}
		/* the ClientHello before the lie is reported */
		ck_assert_msg(strstr(out, "lie.example") != NULL, "case %zu: %s", i, out);
		free(out);
		tmp_remove(&t);
		free(cap.b);
		free(pkt.b);
	}
}
END_TEST

/* snaplen 0 (some writers leave it unset) and 262144 (tcpdump's default)
 * in the global header: the capture reads normally either way. */
START_TEST(test_snaplen_extremes)
{
	static const uint32_t snaplens[] = {0, 262144, 65535};

	for (size_t i = 0; i < sizeof snaplens / sizeof snaplens[0]; i++) {
		struct buf cap = {0};
		struct tmp t;
		int st;

		hello_capture(&cap, snaplens[i], "snap.example", 12);
		tmp_capture(&t, &cap);
		char *out = run_on(&t, "--json", &st);
		ck_assert_msg(st == 0, "snaplen %u: exit %d: %s", snaplens[i], st, out);
		ck_assert_msg(strstr(out, "\"snap.example\"") != NULL, "snaplen %u: %s",
			      snaplens[i], out);
		free(out);
		tmp_remove(&t);
		free(cap.b);
	}
}
END_TEST

/* An SNI made of terminal escape sequences (OSC title, CSI colour, a
 * bell, a cursor move) and invalid UTF-8: the text report holds no ESC or
 * BEL byte, and every JSON line parses (jansson rejects invalid UTF-8). */
START_TEST(test_hostile_sni)
{
	static const char sni[] = "\x1b]0;owned\x07\x1b[31mred\x1b[2J\x1b[H\xff\xfe\xc3\x28"
				  "\xed\xa0\x80.example\r\n";
	struct buf cap = {0};
	struct tmp t;
	int st;

	hello_capture(&cap, 262144, sni, sizeof sni - 1);
	tmp_capture(&t, &cap);

	char *out = run_on(&t, "", &st);
	ck_assert_msg(st == 0, "exit %d: %s", st, out);
	ck_assert_ptr_nonnull(strstr(out, "SNI"));
	ck_assert_ptr_nonnull(strstr(out, ".example"));
	ck_assert_msg(strchr(out, '\x1b') == NULL, "ESC in the text report");
	ck_assert_msg(strchr(out, '\x07') == NULL, "BEL in the text report");
	ck_assert_msg(strchr(out, '\r') == NULL, "CR in the text report");
	free(out);

	out = run_on(&t, "-v", &st);
	ck_assert_int_eq(st, 0);
	ck_assert_msg(strchr(out, '\x1b') == NULL, "ESC in the verbose text report");
	free(out);

	out = run_on(&t, "--json", &st);
	ck_assert_int_eq(st, 0);
	size_t lines = 0;
	int found = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		json_error_t err;
		json_t *o = json_loads(line, 0, &err);
		ck_assert_msg(o != NULL, "bad JSON line: %s: %s", err.text, line);
		lines++;
		char *dump = json_dumps(o, 0);
		found |= dump && strstr(dump, ".example") != NULL;
		free(dump);
		json_decref(o);
	}
	ck_assert_uint_eq(lines, 2);
	ck_assert(found);
	free(out);
	tmp_remove(&t);
	free(cap.b);
}
END_TEST

/* ---- certificates: huge, deeply nested, many ------------------------- */

static long child_maxrss_kib(void);

/* A capture of one TLS 1.2 handshake up to the server's Certificate: SYN,
 * SYN-ACK, a ClientHello, then a ServerHello and a Certificate message
 * (RFC 5246 §7.4.2) holding the n DER certificates der[i] (len[i] bytes),
 * in records of at most 16384 bytes and segments of at most 1400. With
 * list_len set, the certificate_list claims that length instead of the
 * real one. */
static void cert_capture(struct buf *cap, uint8_t *const *der, const size_t *len, size_t n,
			 uint32_t list_len)
{
	static const uint8_t random[32];
	struct buf pkt = {0}, ch = {0}, hs = {0}, tls = {0};
	size_t list = 0;

	pcap_header(cap, 262144, 1);
	tcp_packet(&pkt, 1, 1000, 0x02, NULL, 0);
	pcap_packet(cap, 1, &pkt);
	pkt.n = 0;
	tcp_packet(&pkt, 0, 5000, 0x12, NULL, 0);
	pcap_packet(cap, 1, &pkt);
	client_hello_record(&ch, "certs.example", 13);
	pkt.n = 0;
	tcp_packet(&pkt, 1, 1001, 0x18, ch.b, ch.n);
	pcap_packet(cap, 1, &pkt);

	put8(&hs, 2); /* ServerHello: no extensions */
	put24(&hs, 2 + 32 + 1 + 2 + 1);
	put16(&hs, 0x0303);
	put(&hs, random, sizeof random);
	put8(&hs, 0);
	put16(&hs, 0xc02f);
	put8(&hs, 0);
	for (size_t i = 0; i < n; i++)
		list += 3 + len[i];
	put8(&hs, 11); /* Certificate */
	put24(&hs, (unsigned)(3 + list));
	put24(&hs, list_len ? list_len : (unsigned)list);
	for (size_t i = 0; i < n; i++) {
		put24(&hs, (unsigned)len[i]);
		put(&hs, der[i], len[i]);
	}
	for (size_t off = 0; off < hs.n; off += 16384) {
		size_t k = hs.n - off < 16384 ? hs.n - off : 16384;
		record_hdr(&tls, 22, (unsigned)k);
		put(&tls, hs.b + off, k);
	}
	for (size_t off = 0; off < tls.n; off += 1400) {
		size_t k = tls.n - off < 1400 ? tls.n - off : 1400;
		pkt.n = 0;
		tcp_packet(&pkt, 0, 5001 + (uint32_t)off, 0x18, tls.b + off, k);
		pcap_packet(cap, 2, &pkt);
	}
	free(pkt.b);
	free(ch.b);
	free(hs.b);
	free(tls.b);
}

/* DER: a SEQUENCE around content (n bytes), definite length (X.690 §8.1.3). */
static void der_sequence(struct buf *out, const uint8_t *content, size_t n)
{
	put8(out, 0x30);
	if (n < 0x80) {
		put8(out, (unsigned)n);
	} else if (n < 0x100) {
		put8(out, 0x81);
		put8(out, (unsigned)n);
	} else if (n < 0x10000) {
		put8(out, 0x82);
		put16(out, (unsigned)n);
	} else {
		put8(out, 0x83);
		put24(out, (unsigned)n);
	}
	put(out, content, n);
}

/* depth SEQUENCEs, each holding the next, the innermost empty. */
static struct buf nested_sequences(unsigned depth)
{
	struct buf in = {0}, out = {0};

	der_sequence(&out, NULL, 0);
	for (unsigned i = 1; i < depth; i++) {
		struct buf t = in;
		in = out;
		out = t;
		out.n = 0;
		der_sequence(&out, in.b, in.n);
	}
	free(in.b);
	return out;
}

/* Runs tlsdiag --json on the capture in t; checks it exits 0 within
 * max_seconds, prints one connection; returns that connection (the array
 * of lines in *lines, to be json_decref'd). */
static json_t *run_json_conn(const struct tmp *t, double max_seconds, json_t **lines)
{
	int st;
	double t0 = now();
	char *out;

	st = td_test_run(&out, NULL, "TZ=UTC %s -r %s --json", bin(), t->path);
	double took = now() - t0;
	ck_assert_msg(st == 0, "exit %d", st);
	ck_assert_msg(took < max_seconds, "%.1f s", took);
	*lines = td_test_json_lines(out);
	free(out);
	ck_assert_uint_eq(json_array_size(*lines), 2); /* the connection, the summary */
	return json_array_get(*lines, 0);
}

/* What openssl says about the DER certificate in dir/name: its SHA-256
 * fingerprint in want (lower-case hex), and whether it parses at all. */
static bool openssl_cert(const char *dir, const char *name, char want[65])
{
	char *out;
	int st = td_test_run(&out, dir, "openssl x509 -inform DER -in %s -noout -fingerprint "
					"-sha256", name);
	ck_assert_ptr_nonnull(out);
	if (st == 0)
		td_test_fingerprint_hex(out, want, 65);
	else
		want[0] = '\0';
	free(out);
	return st == 0;
}

static const char *cert_str(json_t *conn, size_t i, const char *key)
{
	json_t *c = json_array_get(json_object_get(conn, "certificates"), i);
	ck_assert_ptr_nonnull(c);
	return json_string_value(json_object_get(c, key));
}

/* (a) A certificate of more than 64 KiB (3000 DNS names in its SAN, made
 * by openssl req), in a Certificate message of five records and ~80
 * segments: parsed, its fingerprint openssl's, every name counted. (b) A
 * certificate whose SAN holds an otherName whose value is 400 nested
 * SEQUENCEs, and one with a private extension of 2000 of them (crafted
 * bytes handed to openssl req as DER: extensions): parsed exactly when
 * openssl x509 parses them, fingerprints openssl's; and a "certificate"
 * that is 5000 nested SEQUENCEs and nothing else: not parsed, the error
 * named. Each run bounded in time. */
START_TEST(test_huge_and_nested_certificates)
{
	char dir[] = "/tmp/td-certs-XXXXXX", want[65];
	struct buf nest400 = nested_sequences(400), nest2000 = nested_sequences(2000);
	struct buf nest5000 = nested_sequences(5000), hex = {0}, cnf = {0};
	uint8_t *der[4];
	size_t len[4];
	struct tmp t;
	json_t *lines;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* (a) */
	free(td_test_sh(dir, "awk 'BEGIN { print \"[req]\\ndistinguished_name = dn\\n"
			     "x509_extensions = ext\\nprompt = no\\n[dn]\\nCN = huge.example\\n"
			     "[ext]\\nsubjectAltName = @san\\n[san]\"; for (i = 1; i <= 3000; i++) "
			     "printf \"DNS.%%d = host-%%05d.huge-san-list.example\\n\", i, i }' "
			     "> huge.cnf && openssl req -x509 -new -newkey ec -pkeyopt "
			     "ec_paramgen_curve:P-256 -nodes -keyout huge.key -config huge.cnf "
			     "-days 30 -outform DER -out huge.der 2>/dev/null"));
	/* (b) SAN: GeneralNames { otherName [0] { 1.2.3.4, [0] { nested } } } */
	struct buf on = {0}, gn = {0}, val = {0};
	static const uint8_t oid[] = {0x06, 0x03, 0x2a, 0x03, 0x04};
	put8(&val, 0xa0);
	put8(&val, 0x82);
	put16(&val, (unsigned)nest400.n);
	put(&val, nest400.b, nest400.n);
	put(&on, oid, sizeof oid);
	put(&on, val.b, val.n);
	put8(&gn, 0xa0);
	put8(&gn, 0x82);
	put16(&gn, (unsigned)on.n);
	put(&gn, on.b, on.n);
	struct buf san = {0};
	der_sequence(&san, gn.b, gn.n);
	const struct buf *ext[2] = {&san, &nest2000};
	const char *names[2] = {"subjectAltName", "1.3.6.1.4.1.55555.1"};
	for (int k = 0; k < 2; k++) {
		hex.n = 0;
		for (size_t i = 0; i < ext[k]->n; i++) {
			char h[3];
			snprintf(h, sizeof h, "%02X", ext[k]->b[i]);
			put(&hex, h, 2);
		}
		put8(&hex, 0);
		cnf.n = 0;
		char head[256];
		snprintf(head, sizeof head,
			 "[req]\ndistinguished_name = dn\nx509_extensions = ext\nprompt = no\n"
			 "[dn]\nCN = nested%d.example\n[ext]\n%s = DER:", k, names[k]);
		put(&cnf, head, strlen(head));
		put(&cnf, hex.b, hex.n - 1);
		put(&cnf, "\n", 1);
		char cname[32];
		snprintf(cname, sizeof cname, "nested%d.cnf", k);
		td_test_write_file(dir, cname, cnf.b, cnf.n);
		free(td_test_sh(dir, "openssl req -x509 -new -newkey ec -pkeyopt "
				     "ec_paramgen_curve:P-256 -nodes -keyout nested%d.key -config "
				     "nested%d.cnf -days 30 -outform DER -out nested%d.der 2>/dev/null",
				k, k, k));
	}

	der[0] = td_test_read_file(dir, "huge.der", &len[0]);
	ck_assert_uint_gt(len[0], 64 * 1024);
	der[1] = td_test_read_file(dir, "nested0.der", &len[1]);
	der[2] = td_test_read_file(dir, "nested1.der", &len[2]);
	ck_assert_uint_gt(len[2], 2000 * 2);
	der[3] = nest5000.b;
	len[3] = nest5000.n;
	td_test_write_file(dir, "junk.der", der[3], len[3]);

	/* each certificate alone, as the server's leaf */
	static const char *const files[4] = {"huge.der", "nested0.der", "nested1.der", "junk.der"};
	for (int i = 0; i < 4; i++) {
		struct buf cap = {0};
		bool parses = openssl_cert(dir, files[i], want);

		cert_capture(&cap, &der[i], &len[i], 1, 0);
		tmp_capture(&t, &cap);
		json_t *conn = run_json_conn(&t, 30, &lines);
		ck_assert_msg(json_is_boolean(json_object_get(
				      json_array_get(json_object_get(conn, "certificates"), 0), "parsed")),
			      "%s: no certificate reported", files[i]);
		bool parsed = json_is_true(json_object_get(
			json_array_get(json_object_get(conn, "certificates"), 0), "parsed"));
		ck_assert_msg(parsed == parses, "%s: parsed %d, openssl %d", files[i], parsed, parses);
		if (parses) {
			ck_assert_str_eq(cert_str(conn, 0, "sha256"), want);
		} else {
			const char *err = cert_str(conn, 0, "error");
			ck_assert_ptr_nonnull(err);
			ck_assert_msg(strncmp(err, "not a certificate", 17) == 0, "%s: error %s",
				      files[i], err);
		}
		if (i == 0) { /* every name of the SAN, as openssl lists them */
			json_t *sans = json_object_get(
				json_array_get(json_object_get(conn, "certificates"), 0), "san");
			char *n = td_test_sh(dir, "openssl x509 -inform DER -in huge.der -noout "
						  "-ext subjectAltName | grep -o 'DNS:' | wc -l");
			size_t got = 0, k;
			json_t *v;
			json_array_foreach(sans, k, v) got += json_is_string(v) ? 1 : 0;
			if (json_is_object(sans)) /* {"dns": [...]} */
				got = json_array_size(json_object_get(sans, "dns"));
			ck_assert_uint_eq(got, strtoul(n, NULL, 10));
			ck_assert_uint_eq(got, 3000);
			free(n);
		}
		json_decref(lines);
		tmp_remove(&t);
		free(cap.b);
	}
	for (int i = 0; i < 3; i++)
		free(der[i]);
	free(td_test_sh(NULL, "rm -rf %s", dir));
	free(nest400.b);
	free(nest2000.b);
	free(nest5000.b);
	free(hex.b);
	free(cnf.b);
	free(on.b);
	free(gn.b);
	free(val.b);
	free(san.b);
}
END_TEST

/* (c) A Certificate message holding 3000 "certificates" of 60 random bytes
 * (just under the 256 KiB handshake cap): every one counted, each an
 * error named, the chain shown capped, in bounded time and memory. And a
 * certificate_list that claims 16 MiB inside a 255-byte message: the
 * message is malformed (the server's anomaly), no certificate taken,
 * nothing allocated for the claim. */
START_TEST(test_many_certificates)
{
	enum { N = 3000, LEN = 60 };
	uint8_t *der[N];
	size_t len[N];
	uint32_t x = 0x2545f491u;
	struct buf cap = {0};
	struct tmp t;
	json_t *lines;

	for (size_t i = 0; i < N; i++) {
		der[i] = malloc(LEN);
		ck_assert_ptr_nonnull(der[i]);
		for (size_t k = 0; k < LEN; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			der[i][k] = (uint8_t)x;
		}
		der[i][0] = 0x30; /* a SEQUENCE that lies about its length */
		len[i] = LEN;
	}
	cert_capture(&cap, der, len, N, 0);
	tmp_capture(&t, &cap);
	json_t *conn = run_json_conn(&t, 60, &lines);
	long rss = child_maxrss_kib();
	json_t *tls = json_object_get(conn, "tls");
	ck_assert_int_eq(json_integer_value(json_object_get(tls, "certificates_total")), N);
	json_t *certs = json_object_get(conn, "certificates");
	ck_assert_uint_eq(json_array_size(certs), TD_MAX_CHAIN);
	for (size_t i = 0; i < json_array_size(certs); i++) {
		const char *err = cert_str(conn, i, "error");
		ck_assert_ptr_nonnull(err);
		ck_assert_msg(strncmp(err, "not a certificate", 17) == 0, "error %s", err);
	}
#ifndef __SANITIZE_ADDRESS__
	ck_assert_msg(rss < 200 * 1024, "peak RSS %ld KiB", rss);
#else
	(void)rss;
#endif
	json_decref(lines);
	tmp_remove(&t);

	/* the 16 MiB claim */
	free(cap.b);
	cap = (struct buf){0};
	cert_capture(&cap, der, len, 4, 0xffffff);
	tmp_capture(&t, &cap);
	conn = run_json_conn(&t, 30, &lines);
	ck_assert_uint_eq(json_array_size(json_object_get(conn, "certificates")), 0);
	/* the server's malformed message is counted as its anomaly */
	json_t *an = json_object_get(conn, "anomalies");
	ck_assert_int_eq(json_integer_value(json_object_get(an, "server")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(an, "client")), 0);
	ck_assert_int_eq(
		json_integer_value(json_object_get(json_object_get(conn, "tls"), "certificates_total")),
		0);
	json_decref(lines);
	tmp_remove(&t);
	free(cap.b);
	for (size_t i = 0; i < N; i++)
		free(der[i]);
}
END_TEST

/* ---- a SYN flood under --max-memory ------------------------------------ */

static uint32_t flood_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Copies of the frames of a sample capture. */
struct frames {
	size_t n;
	uint8_t *p[64];
	size_t len[64];
};

static long child_maxrss_kib(void)
{
	struct rusage ru;

	ck_assert_int_eq(getrusage(RUSAGE_CHILDREN, &ru), 0);
	return ru.ru_maxrss;
}

/* One million SYNs from distinct sources (100.64.0.0/10, each to
 * 10.0.0.254:443, 10 us apart) with one real connection
 * (tls12-ecdhe-ok.pcap) inside: its SYN and SYN-ACK at the 100000th SYN,
 * each of its other packets 50000 SYNs after the one before, so between
 * two of its packets far more SYNs arrive than 32 MiB can hold. With
 * --max-memory 32M: the table's peak (as counted) stays under the cap,
 * the process's peak RSS under what it needs without the flood plus the
 * cap and a quarter (allocator slack, what nDPI allocates beyond its flow
 * struct), nearly every SYN's entry was evicted (a connection costs at
 * least its struct td_session: no more than 32M / that fit), and the real
 * connection is reported whole: completed, ended by FIN, its leaf the
 * certificate openssl fingerprints.
 *
 * Under the sanitizers (td_test_util.h) the same at a tenth of the size:
 * 100000 SYNs, the real connection's packets 5000 apart, an 8 MiB cap
 * (which holds fewer than 1500 connections, so the gaps still overflow it). */
START_TEST(test_syn_flood_max_memory)
{
	/* a tenth of the SYNs under the sanitizers (td_test_util.h): still
	 * many times what the cap holds */
	enum { N = TD_TEST_N(1000000, 100000), REAL_AT = N / 10, REAL_GAP = N / 20 };
	const unsigned long long cap = (unsigned long long)TD_TEST_N(32, 8) << 20;
	struct frames fr;
	char dir[] = "/tmp/td-flood-XXXXXX", path[64], want[65];
	uint32_t rng = 0x12345678u;
	size_t k = 0;
	int st;

	int linktype;
	fr.n = td_test_sample_frames("tls12-ecdhe-ok.pcap", fr.p, fr.len, 64, &linktype);
	ck_assert_int_eq(linktype, TD_LINK_ETHERNET);
	ck_assert_uint_gt(fr.n, 2);
	ck_assert_uint_lt(REAL_AT + (fr.n - 1) * REAL_GAP, N);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/flood.pcap", dir);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	td_test_pcap_header(f);
	for (uint32_t i = 0; i < N; i++) {
		int64_t sec = 1000 + i / 100000;
		uint32_t usec = (i % 100000) * 10;
		uint8_t syn[TD_TEST_FRAME_LEN(0)];
		struct td_test_tcp t = {
			.src = 0x64400000u + i,
			.dst = 0x0a0000feu,
			.sport = (uint16_t)(1024 + i % 60000),
			.dport = 443,
			.seq = flood_rand(&rng),
			.flags = 0x02,
			.window = 65535,
		};

		/* the real connection: SYN and SYN-ACK together, then spread */
		while (k < fr.n && i == (k < 2 ? REAL_AT : REAL_AT + (k - 1) * REAL_GAP)) {
			td_test_pcap_frame(f, sec, usec, fr.p[k], fr.len[k]);
			k++;
		}
		td_test_pcap_frame(f, sec, usec, syn, td_test_tcp_frame(syn, &t));
	}
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_eq(k, fr.n);

	/* what the process needs without the flood */
	st = td_test_run(NULL, NULL, "%s -r %s/tls12-ecdhe-ok.pcap --json > /dev/null", bin(),
			 td_test_samples());
	ck_assert_int_eq(st, 0);
	long base_kib = child_maxrss_kib();

	char *out;
	st = td_test_run(&out, NULL, "TZ=UTC %s -r %s --json --max-memory %lluK", bin(), path,
			 cap >> 10);
	ck_assert_int_eq(st, 0);
	long flood_kib = child_maxrss_kib();
	json_t *lines = td_test_json_lines(out);
	size_t nconn = 0;
	json_t *conn = NULL, *sum = NULL, *o;
	size_t i;
	json_array_foreach(lines, i, o) {
		const char *type = json_string_value(json_object_get(o, "type"));
		if (type && strcmp(type, "connection") == 0) {
			nconn++;
			conn = o;
		} else if (type && strcmp(type, "summary") == 0) {
			sum = o;
		}
	}
	ck_assert_uint_eq(nconn, 1);
	ck_assert_ptr_nonnull(sum);

	char *fp = td_test_sh(NULL, "openssl x509 -in %s/keys/server.example.pem -noout "
				    "-fingerprint -sha256", td_test_samples());
	td_test_fingerprint_hex(fp, want, sizeof want);
	free(fp);
	json_t *leaf = json_array_get(json_object_get(conn, "certificates"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(leaf, "sha256")), want);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(conn, "tls"), "outcome")),
			 "completed");
	ck_assert_str_eq(json_string_value(json_object_get(conn, "end")), "fin");

	json_int_t peak = json_integer_value(json_object_get(sum, "memory_peak"));
	json_int_t evicted = json_integer_value(json_object_get(sum, "flows_evicted_memory"));
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "memory_cap")), (json_int_t)cap);
	ck_assert_int_gt(peak, (json_int_t)(cap / 2));
	ck_assert_int_le(peak, (json_int_t)cap);
	ck_assert_int_ge(evicted, (json_int_t)(N - cap / sizeof(struct td_session)));
#ifndef __SANITIZE_ADDRESS__
	/* (AddressSanitizer's shadow memory and quarantine are not ours) */
	ck_assert_msg(flood_kib <= base_kib + (long)(cap / 1024) * 5 / 4,
		      "peak RSS %ld KiB; without the flood %ld KiB, cap %llu KiB", flood_kib,
		      base_kib, cap / 1024);
#else
	(void)flood_kib;
	(void)base_kib;
#endif
	json_decref(lines);
	free(out);
	for (size_t j = 0; j < fr.n; j++)
		free(fr.p[j]);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* Another stream on the same ports (a port reused, a mirror mixing two
 * connections, as in the mercury project's capture2.pcap): a SYN-ACK that
 * does not acknowledge the client's SYN, put before or after the real
 * one, a server segment 2^31 bytes away from the real stream, and one
 * 16 MiB ahead that acknowledges the client's bytes 1.25 GiB before those
 * it sent, are dropped and counted (tcp.out_of_window), and the
 * connection reads as the sample does: completed, no gap, no desync, the
 * same certificates. Without the SYN-ACK check the late bogus SYN-ACK
 * restarts the server's stream and the real data is lost; without the
 * window checks the far segments are gaps. */
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

START_TEST(test_other_stream_on_ports)
{
	struct frames fr;
	int linktype;
	char dir[] = "/tmp/td-oow-XXXXXX", path[64];

	fr.n = td_test_sample_frames("tls12-ecdhe-ok.pcap", fr.p, fr.len, 64, &linktype);
	ck_assert_int_eq(linktype, TD_LINK_ETHERNET);
	ck_assert_uint_gt(fr.n, 6);
	/* frame 2 is the SYN-ACK: Ethernet, IPv4 (its IHL), TCP */
	const uint8_t *sa = fr.p[1];
	size_t tcp = 14 + (size_t)(sa[14] & 0x0f) * 4;
	ck_assert_uint_eq(sa[tcp + 13] & 0x12, 0x12);
	uint32_t server_isn = be32(sa + tcp + 4), client_isn = be32(sa + tcp + 8) - 1;
	struct td_test_tcp bogus = {
		.src = be32(sa + 26),
		.dst = be32(sa + 30),
		.sport = (uint16_t)(sa[tcp] << 8 | sa[tcp + 1]),
		.dport = (uint16_t)(sa[tcp + 2] << 8 | sa[tcp + 3]),
		.seq = server_isn + 0x40000000u,
		.ack = client_isn + 0x01000000u,
		.flags = 0x12,
		.window = 65535,
	};
	uint8_t bogus_synack[TD_TEST_FRAME_LEN(0)], far[TD_TEST_FRAME_LEN(8)];
	size_t bogus_len = td_test_tcp_frame(bogus_synack, &bogus);
	struct td_test_tcp data = bogus;
	data.seq = server_isn + 1 + 0x80000000u;
	data.ack = client_isn + 1;
	data.flags = 0x18;
	data.payload = (const uint8_t *)"\x16\x03\x03\x00\x03xyz";
	data.len = 8;
	size_t far_len = td_test_tcp_frame(far, &data);
	/* within a window of the real stream (16 MiB ahead), but
	 * acknowledging the client's bytes 1.25 GiB before those it sent */
	uint8_t lagging[TD_TEST_FRAME_LEN(8)];
	data.seq = server_isn + 1 + 0x01000000u;
	data.ack = client_isn + 1 - 0x50000000u;
	size_t lagging_len = td_test_tcp_frame(lagging, &data);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/oow.pcap", dir);
	for (int late = 0; late < 2; late++) {
		FILE *f = fopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		td_test_pcap_header(f);
		for (size_t k = 0; k < fr.n; k++) {
			if (k == 1 && !late)
				td_test_pcap_frame(f, 1000, (uint32_t)k * 10, bogus_synack, bogus_len);
			td_test_pcap_frame(f, 1000, (uint32_t)k * 10 + 1, fr.p[k], fr.len[k]);
			if (k == 1 && late)
				td_test_pcap_frame(f, 1000, (uint32_t)k * 10 + 2, bogus_synack, bogus_len);
			if (k == 4) {
				td_test_pcap_frame(f, 1000, (uint32_t)k * 10 + 3, far, far_len);
				td_test_pcap_frame(f, 1000, (uint32_t)k * 10 + 4, lagging,
						   lagging_len);
			}
		}
		ck_assert_int_eq(fclose(f), 0);

		char *out, *ref;
		ck_assert_int_eq(td_test_run(&out, NULL, "%s -r %s --json", bin(), path), 0);
		ck_assert_int_eq(td_test_run(&ref, NULL, "%s -r %s/tls12-ecdhe-ok.pcap --json", bin(),
					     td_test_samples()),
				 0);
		json_t *got_lines = td_test_json_lines(out), *want_lines = td_test_json_lines(ref);
		json_t *got = json_array_get(got_lines, 0), *want = json_array_get(want_lines, 0);
		json_t *t = json_object_get(got, "tcp");
		ck_assert_int_eq(json_integer_value(json_object_get(
					 json_object_get(t, "out_of_window"), "server")),
				 3);
		ck_assert_int_eq(json_integer_value(json_object_get(
					 json_object_get(t, "out_of_window"), "client")),
				 0);
		static const char *const same[] = {"tcp.gaps", "tcp.bytes_missing", "desync",
						   "tcp.retransmissions", "resyncs", "anomalies"};
		for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
			char a[64];
			snprintf(a, sizeof a, "%s", same[i]);
			char *dot = strchr(a, '.');
			json_t *g = dot ? json_object_get(json_object_get(got, "tcp"), dot + 1)
					: json_object_get(got, a);
			json_t *w = dot ? json_object_get(json_object_get(want, "tcp"), dot + 1)
					: json_object_get(want, a);
			ck_assert_msg(json_equal(g, w), "late %d: %s differs", late, same[i]);
		}
		const char *outcome = json_string_value(
			json_object_get(json_object_get(got, "tls"), "outcome"));
		ck_assert_str_eq(outcome, "completed");
		ck_assert_int_eq(json_array_size(json_object_get(got, "certificates")),
				 json_array_size(json_object_get(want, "certificates")));
		for (size_t i = 0; i < json_array_size(json_object_get(want, "certificates")); i++)
			ck_assert_str_eq(
				json_string_value(json_object_get(
					json_array_get(json_object_get(got, "certificates"), i), "sha256")),
				json_string_value(json_object_get(
					json_array_get(json_object_get(want, "certificates"), i), "sha256")));
		json_decref(got_lines);
		json_decref(want_lines);
		free(out);
		free(ref);
	}
	unlink(path);
	rmdir(dir);
	for (size_t k = 0; k < fr.n; k++)
		free(fr.p[k]);
}
END_TEST

Suite *td_hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *parser = tcase_create("parser");
	TCase *capture = tcase_create("capture");

	tcase_set_timeout(parser, 120); /* a million records under sanitizers */
	tcase_add_test(parser, test_16mib_handshake_message);
	tcase_add_test(parser, test_lying_inner_lengths);
	tcase_add_test(parser, test_sslv2_hello_over_cap);
	tcase_add_test(parser, test_record_over_limit);
	tcase_add_test(parser, test_million_one_byte_records);
	tcase_set_timeout(capture, 60);
	tcase_add_test(capture, test_lying_packet_headers);
	tcase_add_test(capture, test_snaplen_extremes);
	tcase_add_test(capture, test_hostile_sni);
	tcase_add_test(capture, test_other_stream_on_ports);
	tcase_add_test(capture, test_huge_and_nested_certificates);
	tcase_add_test(capture, test_many_certificates);
	suite_add_tcase(s, parser);
	suite_add_tcase(s, capture);
	TCase *flood = tcase_create("flood");
	tcase_set_timeout(flood, 180); /* ~10 s plain, longer under sanitizers */
	tcase_add_test(flood, test_syn_flood_max_memory);
	suite_add_tcase(s, flood);
	return s;
}
