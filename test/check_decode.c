/* check_decode.c - unit tests of the decode stage (td_decode.h).
 *
 * Packets are written out field by field by the small builders below
 * (TCP, IPv4, IPv6 with extension headers, then a link layer around them),
 * and every decoded field is asserted. Each packet handed to the decoder is
 * a heap copy of exactly caplen bytes, so that AddressSanitizer and Valgrind
 * see any read past the end.
 *
 * The suite is exposed as td_decode_suite(); the shared runner calls it.
 */
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_decode.h"

Suite *td_decode_suite(void);

/* Where the sample captures live, relative to the directory tests run in
 * (the repository root); a Makefile may point elsewhere. */
#ifndef TD_SAMPLES_DIR
#define TD_SAMPLES_DIR "samples"
#endif

#define PKT_MAX 4096

/* ---- byte builder ---- */

struct pkt {
	uint8_t b[PKT_MAX];
	size_t n;
};

static void put8(struct pkt *p, unsigned v)
{
	ck_assert_uint_lt(p->n, PKT_MAX);
	p->b[p->n++] = (uint8_t)v;
}

static void put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8 & 0xFF);
	put8(p, v & 0xFF);
}

static void put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xFFFF);
}

static void put_bytes(struct pkt *p, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(p, b[i]);
}

static void put_fill(struct pkt *p, unsigned v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(p, v);
}

static void put_pkt(struct pkt *p, const struct pkt *q)
{
	put_bytes(p, q->b, q->n);
}

static const uint8_t v4_client[4] = {10, 0, 0, 1};
static const uint8_t v4_server[4] = {10, 0, 0, 2};
static const uint8_t v6_client[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t v6_server[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

/* ---- TCP ---- */

struct tcp_spec {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	size_t opt_len;     /* multiple of 4 */
	size_t payload_len; /* payload bytes written */
	int doff;           /* data offset written; -1: the true one */
};

static struct tcp_spec tcp_default(void)
{
	struct tcp_spec t = {
		.sport = 51514,
		.dport = 443,
		.seq = 0x01020304,
		.ack = 0xA0B0C0D0,
		.flags = TD_TCP_PSH | TD_TCP_ACK,
		.window = 0xFACE,
		.opt_len = 12,
		.payload_len = 37,
		.doff = -1,
	};
	return t;
}

static uint8_t payload_byte(size_t i)
{
	return (uint8_t)('a' + i % 26);
}

static void build_tcp(struct pkt *p, const struct tcp_spec *t)
{
	unsigned doff = t->doff >= 0 ? (unsigned)t->doff : (unsigned)(20 + t->opt_len) / 4;

	p->n = 0;
	put16(p, t->sport);
	put16(p, t->dport);
	put32(p, t->seq);
	put32(p, t->ack);
	put8(p, doff << 4);
	put8(p, t->flags);
	put16(p, t->window);
	put16(p, 0xC5C5); /* checksum: not checked */
	put16(p, 0);      /* urgent pointer */
	if (t->opt_len >= 12) {
		/* NOP, NOP, Timestamps (RFC 7323 §3), then NOPs */
		put8(p, 1);
		put8(p, 1);
		put8(p, 8);
		put8(p, 10);
		put32(p, 0x11111111);
		put32(p, 0x22222222);
		put_fill(p, 1, t->opt_len - 12);
	} else {
		put_fill(p, 1, t->opt_len);
	}
	for (size_t i = 0; i < t->payload_len; i++)
		put8(p, payload_byte(i));
}

/* A UDP datagram (RFC 768) to carry as "not TCP". */
static void build_udp(struct pkt *p)
{
	p->n = 0;
	put16(p, 5353);
	put16(p, 53);
	put16(p, 12);
	put16(p, 0);
	put32(p, 0xDEADBEEF);
}

/* ---- IPv4 ---- */

struct ip4_spec {
	uint8_t proto;
	size_t opt_len;      /* multiple of 4 */
	uint16_t flags_frag; /* flags and fragment offset as written */
	int ihl;             /* IHL written; -1: the true one */
	long total;          /* total length written; -1: the true one */
	int version;         /* 4 unless a test says otherwise */
};

static struct ip4_spec ip4_default(void)
{
	struct ip4_spec s = {.proto = 6, .ihl = -1, .total = -1, .version = 4};
	return s;
}

static void build_ipv4(struct pkt *p, const struct ip4_spec *s, const struct pkt *l4)
{
	size_t hlen = 20 + s->opt_len;
	unsigned ihl = s->ihl >= 0 ? (unsigned)s->ihl : (unsigned)hlen / 4;
	unsigned total = s->total >= 0 ? (unsigned)s->total : (unsigned)(hlen + l4->n);

	p->n = 0;
	put8(p, (unsigned)s->version << 4 | ihl);
	put8(p, 0x00); /* DSCP/ECN */
	put16(p, total);
	put16(p, 0x4242); /* identification */
	put16(p, s->flags_frag);
	put8(p, 64); /* TTL */
	put8(p, s->proto);
	put16(p, 0xABCD); /* checksum: not checked */
	put_bytes(p, v4_client, 4);
	put_bytes(p, v4_server, 4);
	if (s->opt_len) {
		/* Record Route (RFC 791 §3.1) with room for the rest, then EOL */
		put8(p, 7);
		put8(p, (unsigned)s->opt_len - 1);
		put8(p, 4);
		put_fill(p, 0, s->opt_len - 3);
	}
	put_pkt(p, l4);
}

/* ---- IPv6 ---- */

struct ext_spec {
	uint8_t type;      /* 0, 43, 60, 44, 51 */
	size_t len;        /* bytes in all: 8*k, or 4*k for AH */
	uint16_t offset_m; /* fragment header: offset and M as written */
};

struct ip6_spec {
	const struct ext_spec *ext;
	size_t n_ext;
	uint8_t upper;
	long plen; /* payload length written; -1: the true one */
	int version;
};

static struct ip6_spec ip6_default(void)
{
	struct ip6_spec s = {.upper = 6, .plen = -1, .version = 6};
	return s;
}

static void build_ext(struct pkt *p, const struct ext_spec *e, uint8_t next)
{
	switch (e->type) {
	case 44: /* RFC 8200 §4.5 */
		put8(p, next);
		put8(p, 0);
		put16(p, e->offset_m);
		put32(p, 0x12345678);
		break;
	case 51: /* RFC 4302 §2 */
		put8(p, next);
		put8(p, (unsigned)(e->len / 4 - 2));
		put16(p, 0);
		put_fill(p, 0x5A, e->len - 4);
		break;
	default: /* options and routing headers, RFC 8200 §4.3-4.6 */
		put8(p, next);
		put8(p, (unsigned)(e->len / 8 - 1));
		if (e->type == 43) {
			put8(p, 0); /* routing type 0 (deprecated, still parsable) */
			put8(p, 0); /* segments left */
			put_fill(p, 0, e->len - 4);
		} else {
			put_fill(p, 0, e->len - 2); /* Pad1 options (RFC 8200 §4.2) */
		}
		break;
	}
}

static void build_ipv6(struct pkt *p, const struct ip6_spec *s, const struct pkt *l4)
{
	size_t ext_len = 0;
	for (size_t i = 0; i < s->n_ext; i++)
		ext_len += s->ext[i].len;
	unsigned plen = s->plen >= 0 ? (unsigned)s->plen : (unsigned)(ext_len + l4->n);

	p->n = 0;
	put32(p, (uint32_t)s->version << 28 | 0x00E12345); /* class, flow label */
	put16(p, plen);
	put8(p, s->n_ext ? s->ext[0].type : s->upper);
	put8(p, 64); /* hop limit */
	put_bytes(p, v6_client, 16);
	put_bytes(p, v6_server, 16);
	for (size_t i = 0; i < s->n_ext; i++)
		build_ext(p, &s->ext[i], i + 1 < s->n_ext ? s->ext[i + 1].type : s->upper);
	put_pkt(p, l4);
}

/* ---- link layers ---- */

struct vlan_tag {
	uint16_t tpid, tci;
};

/* The link header carries the first type; tag bodies (TCI, next type)
 * follow it, the last naming the network layer. */
static uint16_t link_type_field(const struct vlan_tag *tags, size_t ntags, uint16_t l3)
{
	return ntags ? tags[0].tpid : l3;
}

static void put_tag_bodies(struct pkt *p, const struct vlan_tag *tags, size_t ntags, uint16_t l3)
{
	for (size_t i = 0; i < ntags; i++) {
		put16(p, tags[i].tci);
		put16(p, i + 1 < ntags ? tags[i + 1].tpid : l3);
	}
}

static void wrap_eth(struct pkt *p, const struct vlan_tag *tags, size_t ntags, uint16_t l3,
		     const struct pkt *in)
{
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02}, src[6] = {0x02, 0, 0, 0, 0, 0x01};

	p->n = 0;
	put_bytes(p, dst, 6);
	put_bytes(p, src, 6);
	put16(p, link_type_field(tags, ntags, l3));
	put_tag_bodies(p, tags, ntags, l3);
	put_pkt(p, in);
}

#define ARPHRD_ETHER 1
#define ARPHRD_NETLINK 824

static void wrap_sll(struct pkt *p, uint16_t hatype, const struct vlan_tag *tags, size_t ntags,
		     uint16_t l3, const struct pkt *in)
{
	p->n = 0;
	put16(p, 0); /* packet type: to us */
	put16(p, hatype);
	put16(p, 6); /* address length */
	put_bytes(p, (const uint8_t[8]){0x02, 0, 0, 0, 0, 0x01, 0, 0}, 8);
	put16(p, link_type_field(tags, ntags, l3));
	put_tag_bodies(p, tags, ntags, l3);
	put_pkt(p, in);
}

static void wrap_sll2(struct pkt *p, uint16_t hatype, const struct vlan_tag *tags, size_t ntags,
		      uint16_t l3, const struct pkt *in)
{
	p->n = 0;
	put16(p, link_type_field(tags, ntags, l3));
	put16(p, 0);  /* reserved */
	put32(p, 3);  /* interface index */
	put16(p, hatype);
	put8(p, 4);   /* packet type: outgoing */
	put8(p, 6);   /* address length */
	put_bytes(p, (const uint8_t[8]){0x02, 0, 0, 0, 0, 0x01, 0, 0}, 8);
	put_tag_bodies(p, tags, ntags, l3);
	put_pkt(p, in);
}

/* NULL/LOOP: 4-byte address family, big- or little-endian. */
static void wrap_af(struct pkt *p, uint32_t af, int big_endian, const struct pkt *in)
{
	p->n = 0;
	if (big_endian) {
		put32(p, af);
	} else {
		put8(p, af & 0xFF);
		put8(p, af >> 8 & 0xFF);
		put8(p, af >> 16 & 0xFF);
		put8(p, af >> 24 & 0xFF);
	}
	put_pkt(p, in);
}

/* ---- running the decoder ---- */

struct run {
	uint8_t *buf; /* exactly caplen bytes */
	size_t caplen;
	struct td_tcp_seg seg;
	enum td_decode_result res;
};

/* Decodes the first caplen bytes of p from a heap copy of that size, as a
 * frame of wirelen bytes on the wire. Checks that seg is left untouched
 * unless the result is TCP. */
static void run_decode_wire(struct run *r, int linktype, const struct pkt *p, size_t caplen,
			    size_t wirelen)
{
	struct td_tcp_seg poison;

	ck_assert_uint_le(caplen, p->n);
	r->buf = malloc(caplen ? caplen : 1);
	ck_assert_ptr_nonnull(r->buf);
	if (caplen)
		memcpy(r->buf, p->b, caplen);
	r->caplen = caplen;
	memset(&r->seg, 0xA5, sizeof r->seg);
	memset(&poison, 0xA5, sizeof poison);
	r->res = td_decode_packet(linktype, r->buf, caplen, wirelen, &r->seg);
	ck_assert_int_ge(r->res, 0);
	ck_assert_int_lt(r->res, TD_DECODE_RESULT_COUNT);
	if (r->res != TD_DECODE_TCP)
		ck_assert_mem_eq(&r->seg, &poison, sizeof poison);
}

/* The same for a frame captured whole or cut by the capture (wirelen is
 * then the packet's full length). */
static void run_decode(struct run *r, int linktype, const struct pkt *p, size_t caplen)
{
	run_decode_wire(r, linktype, p, caplen, p->n);
}

static void run_free(struct run *r)
{
	free(r->buf);
	r->buf = NULL;
}

static enum td_decode_result decode_result(int linktype, const struct pkt *p, size_t caplen)
{
	struct run r;

	run_decode(&r, linktype, p, caplen);
	run_free(&r);
	return r.res;
}

#define ck_assert_result(got, want)                                                        \
	ck_assert_msg((got) == (want), "decode gave %s, want %s",                           \
		      td_decode_result_name(got), td_decode_result_name(want))

/* What a decoded segment must hold. */
struct want {
	int family;
	struct tcp_spec tcp;
	size_t payload_off; /* offset of the payload in the packet */
	size_t payload_len;
	size_t missing;
	uint16_t encap;
	uint16_t vlan_id;
};

static void check_addr(const struct td_addr *a, int family, const uint8_t *bytes, const char *text)
{
	uint8_t full[16] = {0};
	char buf[64];

	memcpy(full, bytes, family == 4 ? 4 : 16);
	ck_assert_uint_eq(a->family, family);
	ck_assert_mem_eq(a->bytes, full, 16);
	ck_assert_str_eq(td_addr_str(a, buf, sizeof buf), text);
}

static void check_seg(const struct run *r, const struct want *w)
{
	const struct td_tcp_seg *s = &r->seg;

	ck_assert_result(r->res, TD_DECODE_TCP);
	if (w->family == 4) {
		check_addr(&s->src, 4, v4_client, "10.0.0.1");
		check_addr(&s->dst, 4, v4_server, "10.0.0.2");
	} else {
		check_addr(&s->src, 6, v6_client, "2001:db8::1");
		check_addr(&s->dst, 6, v6_server, "2001:db8::2");
	}
	ck_assert_uint_eq(s->sport, w->tcp.sport);
	ck_assert_uint_eq(s->dport, w->tcp.dport);
	ck_assert_uint_eq(s->seq, w->tcp.seq);
	ck_assert_uint_eq(s->ack, w->tcp.ack);
	ck_assert_uint_eq(s->flags, w->tcp.flags);
	ck_assert_uint_eq(s->window, w->tcp.window);
	ck_assert_uint_eq(s->payload_len, w->payload_len);
	ck_assert_uint_eq(s->payload_missing, w->missing);
	ck_assert_ptr_eq(s->payload, r->buf + w->payload_off);
	for (size_t i = 0; i < s->payload_len; i++)
		ck_assert_uint_eq(s->payload[i], payload_byte(i));
	ck_assert_uint_eq(s->encap, w->encap);
	ck_assert_uint_eq(s->vlan_id, w->vlan_id);
}

/* ---- the packet variants: one per link type and encapsulation ---- */

enum link_kind {
	LK_ETH, LK_SLL, LK_SLL2, LK_AF_LE, LK_AF_BE, LK_NONE,
	LK_PPP,       /* DLT_PPP: FF 03, protocol */
	LK_PPP_BARE,  /* DLT_PPP without FF 03, compressed 1-byte protocol */
	LK_CHDLC,     /* Cisco HDLC: 0F 00 EtherType */
	LK_PPPOE,     /* DLT_PPP_ETHER: PPPoE header, PPP protocol */
	LK_WLAN,      /* LINKTYPE_IEEE802_11: QoS data frame, LLC/SNAP */
};

/* ---- CAPWAP and IEEE 802.11, written from the standards' figures ---- */

/* A field of a 32-bit word drawn MSB first as RFCs draw them: width bits
 * starting at bit first (bit 0 is the word's most significant). */
static uint32_t rfc_field(uint32_t value, unsigned first, unsigned width)
{
	return value << (32 - first - width);
}

/* RFC 5415 §4.3:
 * |CAPWAP Preamble|  HLEN   |   RID   | WBID    |T|F|L|W|M|K|Flags|
 * |          Fragment ID          |     Frag Offset         |Rsvd |
 * then the Radio MAC Address (M) and Wireless Specific Information (W),
 * each a length byte, that many bytes, padding to a multiple of 4. The
 * preamble (§4.1) is version (4 bits) 0 and type (4 bits) 0. */
struct capwap_spec {
	unsigned preamble; /* 0x00, or 0x01 for a DTLS header */
	unsigned hlen;     /* when hlen_given; else from the optional fields */
	int hlen_given;
	unsigned wbid, t, f, m, w, k;
	uint16_t sport, dport;
};

static const uint8_t radio_mac[6] = {0x02, 0, 0, 0, 0, 0x0B};

static void put_capwap(struct pkt *p, const struct capwap_spec *c)
{
	static struct pkt opt;
	opt.n = 0;
	if (c->m) {
		put8(&opt, 6);
		put_bytes(&opt, radio_mac, 6);
		put8(&opt, 0); /* to 8 bytes */
	}
	if (c->w) {
		put8(&opt, 4); /* RFC 5416 §6.1 IEEE 802.11 Frame Info */
		put8(&opt, 0xC4);
		put8(&opt, 30);
		put16(&opt, 130);
		put_fill(&opt, 0, 3); /* to 8 bytes */
	}
	unsigned hlen = c->hlen_given ? c->hlen : (unsigned)(8 + opt.n) / 4;
	put32(p, rfc_field(c->preamble, 0, 8) | rfc_field(hlen, 8, 5) | rfc_field(0, 13, 5) |
			 rfc_field(c->wbid, 18, 5) | rfc_field(c->t, 23, 1) | rfc_field(c->f, 24, 1) |
			 rfc_field(c->w, 26, 1) | rfc_field(c->m, 27, 1) | rfc_field(c->k, 28, 1));
	put32(p, c->f ? rfc_field(0x1234, 0, 16) | rfc_field(0, 16, 13) : 0);
	put_pkt(p, &opt);
}

/* IEEE 802.11-2020 §9.2.4.1.1 Frame Control, bit 0 sent first:
 * B0-B1 Protocol Version, B2-B3 Type, B4-B7 Subtype, B8 To DS, B9 From DS,
 * B10 More Fragments, B11 Retry, B12 Power Management, B13 More Data,
 * B14 Protected Frame, B15 +HTC/Order. */
#define FC_TO_DS (1u << 8)
#define FC_FROM_DS (1u << 9)
#define FC_MORE_FRAG (1u << 10)
#define FC_PROTECTED (1u << 14)
#define FC_HTC (1u << 15)

struct wlan_spec {
	unsigned pv, type, subtype, flags; /* flags: FC_* */
	int swap;                          /* Cisco's CAPWAP byte order */
	unsigned frag;                     /* fragment number */
	int amsdu;                         /* QoS Control A-MSDU Present (B7) */
	uint32_t oui;                      /* of the SNAP header */
	int not_snap;                      /* LLC DSAP/SSAP 0x42 (STP) instead */
};

static void put16le(struct pkt *p, unsigned v)
{
	put8(p, v & 0xFF);
	put8(p, v >> 8 & 0xFF);
}

/* §9.3.2.1: Frame Control, Duration, Address 1-3, Sequence Control,
 * Address 4 (To DS and From DS), QoS Control (QoS subtypes: B3 of the
 * subtype), HT Control (QoS with +HTC); then LLC/SNAP and the packet. */
static void put_wlan(struct pkt *p, const struct wlan_spec *w, uint16_t type, const struct pkt *in)
{
	unsigned fc = w->pv | w->type << 2 | w->subtype << 4 | w->flags;

	if (w->swap) {
		put8(p, fc >> 8);
		put8(p, fc & 0xFF);
	} else {
		put16le(p, fc);
	}
	put16le(p, 44);       /* Duration */
	put_fill(p, 0xA1, 6); /* Address 1 */
	put_fill(p, 0xA2, 6);
	put_fill(p, 0xA3, 6);
	put16le(p, 775u << 4 | w->frag); /* Sequence Control */
	if ((w->flags & (FC_TO_DS | FC_FROM_DS)) == (FC_TO_DS | FC_FROM_DS))
		put_fill(p, 0xA4, 6);
	if (w->subtype & 8) {
		put16le(p, 6u | (w->amsdu ? 1u << 7 : 0)); /* TID 6 */
		if (w->flags & FC_HTC)
			put32(p, 0xFFFFFFFF); /* HT Control: all ones, nothing read */
	}
	if (w->not_snap) {
		put8(p, 0x42);
		put8(p, 0x42);
		put8(p, 0x03);
	} else {
		put8(p, 0xAA); /* RFC 1042 */
		put8(p, 0xAA);
		put8(p, 0x03);
		put8(p, w->oui >> 16 & 0xFF);
		put8(p, w->oui >> 8 & 0xFF);
		put8(p, w->oui & 0xFF);
		put16(p, type);
	}
	put_pkt(p, in);
}

/* An IPv4 QoS data frame from a station (To DS). */
static struct wlan_spec wlan_default(void)
{
	struct wlan_spec w = {.type = 2, .subtype = 8, .flags = FC_TO_DS};
	return w;
}

/* Outer IPv4 + UDP + CAPWAP around a payload (an 802.11 or 802.3 frame). */
static void capwap_udp(struct pkt *p, const struct capwap_spec *c, const struct pkt *frame);

/* A tunnel around the IP packet, inside the link layer (RFC wire formats;
 * see decode.c). */
enum tunnel {
	TUN_NONE,
	TUN_MPLS,     /* three labels, IP after the bottom one */
	TUN_MPLS_PW,  /* one label, control word, Ethernet (RFC 4385, 4448) */
	TUN_PPPOE,    /* Ethernet 0x8864 */
	TUN_GRE,      /* IPv4 proto 47, GRE with checksum, key, sequence */
	TUN_GRE_TEB,  /* GRE 0x6558: Ethernet */
	TUN_ERSPAN1,  /* GRE 0x88BE, no S, no header */
	TUN_ERSPAN2,  /* GRE 0x88BE with S, 8-byte header */
	TUN_ERSPAN3,  /* GRE 0x22EB, 12-byte header + 8-byte subheader */
	TUN_VXLAN,    /* UDP 4789 */
	TUN_GENEVE,   /* UDP 6081 with 12 bytes of options */
	TUN_IPIP4,    /* IPv4 outer, protocol 4 or 41 */
	TUN_IPIP6,    /* IPv6 outer, next header 4 or 41 */
	TUN_CMD,      /* Cisco MetaData tag */
	TUN_GRE_GRE,  /* GRE in GRE in IPv4 in GRE ...: nine deep */
	TUN_GTPU,     /* UDP 2152, G-PDU with sequence number and one extension header */
	TUN_CAPWAP,   /* UDP to 5247, HLEN 2, T=1 WBID 1: 802.11 data frame, LLC/SNAP */
	TUN_CAPWAP_OPT, /* UDP to 5247, Radio MAC and WSI (HLEN 6), QoS data with +HTC */
	TUN_CAPWAP_4ADDR, /* UDP from 5247, HLEN 4 (WSI), Cisco-swapped 4-address QoS frame */
	TUN_CAPWAP_ETH, /* UDP to 5247, T=0: an Ethernet frame */
};

struct variant {
	const char *name;
	int linktype;
	enum link_kind lk;
	struct vlan_tag tags[3];
	size_t ntags;
	uint32_t af;
	int ipv; /* 4 or 6 */
	size_t ip4_opt_len;
	const struct ext_spec *ext;
	size_t n_ext;
	uint16_t encap;
	uint16_t vlan_id;
	enum tunnel tun;
};

static const struct ext_spec ext_chain[] = {
	{.type = 0, .len = 8},   /* hop-by-hop */
	{.type = 60, .len = 16}, /* destination options */
	{.type = 43, .len = 24}, /* routing */
	{.type = 60, .len = 8},  /* destination options */
};

static const struct ext_spec ext_ah_atomic[] = {
	{.type = 51, .len = 24}, /* AH with a 96-bit ICV */
	{.type = 44, .len = 8, .offset_m = 0}, /* atomic fragment */
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct variant variants[] = {
	{"ethernet ipv4+options", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .ip4_opt_len = 8},
	{"ethernet ipv6", TD_LINK_ETHERNET, LK_ETH, .ipv = 6},
	{"ethernet ipv6+ext chain", TD_LINK_ETHERNET, LK_ETH, .ipv = 6, .ext = ext_chain,
	 .n_ext = N(ext_chain)},
	{"802.1Q ipv4", TD_LINK_ETHERNET, LK_ETH, {{0x8100, 0xA064}}, 1, .ipv = 4,
	 .encap = TD_ENCAP_VLAN, .vlan_id = 100},
	{"802.1ad+802.1Q ipv6+ext chain", TD_LINK_ETHERNET, LK_ETH,
	 {{0x88A8, 300}, {0x8100, 42}}, 2, .ipv = 6, .ext = ext_chain, .n_ext = N(ext_chain),
	 .encap = TD_ENCAP_VLAN, .vlan_id = 300},
	{"QinQ 0x9100 x3 ipv4", TD_LINK_ETHERNET, LK_ETH,
	 {{0x9100, 0xEFFF}, {0x8100, 7}, {0x8100, 8}}, 3, .ipv = 4, .encap = TD_ENCAP_VLAN,
	 .vlan_id = 4095},
	{"SLL ipv4", TD_LINK_LINUX_SLL, LK_SLL, .ipv = 4, .ip4_opt_len = 4},
	{"SLL ipv6", TD_LINK_LINUX_SLL, LK_SLL, .ipv = 6},
	{"SLL 802.1Q ipv4", TD_LINK_LINUX_SLL, LK_SLL, {{0x8100, 5}}, 1, .ipv = 4,
	 .encap = TD_ENCAP_VLAN, .vlan_id = 5},
	{"SLL2 ipv4", TD_LINK_LINUX_SLL2, LK_SLL2, .ipv = 4},
	{"SLL2 ipv6 AH+atomic fragment", TD_LINK_LINUX_SLL2, LK_SLL2, .ipv = 6,
	 .ext = ext_ah_atomic, .n_ext = N(ext_ah_atomic)},
	{"SLL2 802.1ad ipv6", TD_LINK_LINUX_SLL2, LK_SLL2, {{0x88A8, 0x2BAD}}, 1, .ipv = 6,
	 .encap = TD_ENCAP_VLAN, .vlan_id = 0xBAD},
	{"NULL AF_INET little-endian", TD_LINK_NULL, LK_AF_LE, .af = 2, .ipv = 4},
	{"NULL AF_INET big-endian", TD_LINK_NULL, LK_AF_BE, .af = 2, .ipv = 4},
	{"NULL AF_INET6=24 little-endian", TD_LINK_NULL, LK_AF_LE, .af = 24, .ipv = 6},
	{"NULL AF_INET6=24 big-endian", TD_LINK_NULL, LK_AF_BE, .af = 24, .ipv = 6},
	{"NULL AF_INET6=28 little-endian", TD_LINK_NULL, LK_AF_LE, .af = 28, .ipv = 6},
	{"NULL AF_INET6=28 big-endian", TD_LINK_NULL, LK_AF_BE, .af = 28, .ipv = 6},
	{"NULL AF_INET6=30 little-endian", TD_LINK_NULL, LK_AF_LE, .af = 30, .ipv = 6},
	{"NULL AF_INET6=30 big-endian", TD_LINK_NULL, LK_AF_BE, .af = 30, .ipv = 6},
	{"LOOP AF_INET", TD_LINK_LOOP, LK_AF_BE, .af = 2, .ipv = 4},
	{"LOOP AF_INET6=24", TD_LINK_LOOP, LK_AF_BE, .af = 24, .ipv = 6},
	{"RAW(101) ipv4", TD_LINK_RAW, LK_NONE, .ipv = 4},
	{"RAW(101) ipv6", TD_LINK_RAW, LK_NONE, .ipv = 6},
	{"RAW(12) ipv4", TD_LINK_RAW_DLT12, LK_NONE, .ipv = 4, .ip4_opt_len = 40},
	{"RAW(12) ipv6", TD_LINK_RAW_DLT12, LK_NONE, .ipv = 6},
	{"RAW(14) ipv4", TD_LINK_RAW_DLT14, LK_NONE, .ipv = 4},
	{"RAW(14) ipv6+ext chain", TD_LINK_RAW_DLT14, LK_NONE, .ipv = 6, .ext = ext_chain,
	 .n_ext = N(ext_chain)},
	{"IPV4(228)", TD_LINK_IPV4, LK_NONE, .ipv = 4, .ip4_opt_len = 12},
	{"IPV6(229)", TD_LINK_IPV6, LK_NONE, .ipv = 6},
	{"IPV6(229) AH+atomic fragment", TD_LINK_IPV6, LK_NONE, .ipv = 6, .ext = ext_ah_atomic,
	 .n_ext = N(ext_ah_atomic)},
	/* tunnels and the PPP family */
	{"MPLS ipv4", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .tun = TUN_MPLS, .encap = TD_ENCAP_MPLS},
	{"802.1Q MPLS ipv6", TD_LINK_ETHERNET, LK_ETH, {{0x8100, 9}}, 1, .ipv = 6,
	 .tun = TUN_MPLS, .encap = TD_ENCAP_MPLS | TD_ENCAP_VLAN, .vlan_id = 9},
	{"MPLS pseudowire ethernet ipv4", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .tun = TUN_MPLS_PW,
	 .encap = TD_ENCAP_MPLS},
	{"PPPoE ipv4", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .tun = TUN_PPPOE,
	 .encap = TD_ENCAP_PPPOE},
	{"PPPoE ipv6", TD_LINK_ETHERNET, LK_ETH, .ipv = 6, .tun = TUN_PPPOE,
	 .encap = TD_ENCAP_PPPOE},
	{"PPP(9) ipv4", TD_LINK_PPP, LK_PPP, .ipv = 4, .encap = TD_ENCAP_PPP},
	{"PPP(9) no address, compressed protocol", TD_LINK_PPP, LK_PPP_BARE, .ipv = 4,
	 .encap = TD_ENCAP_PPP},
	{"PPP_HDLC(50) ipv6", TD_LINK_PPP_HDLC, LK_PPP, .ipv = 6, .encap = TD_ENCAP_PPP},
	{"PPP_HDLC(50) Cisco HDLC ipv4", TD_LINK_PPP_HDLC, LK_CHDLC, .ipv = 4,
	 .encap = TD_ENCAP_PPP},
	{"C_HDLC(104) ipv6", TD_LINK_C_HDLC, LK_CHDLC, .ipv = 6, .encap = TD_ENCAP_PPP},
	{"PPP_ETHER(51) ipv4", TD_LINK_PPP_ETHER, LK_PPPOE, .ipv = 4, .encap = TD_ENCAP_PPPOE},
	{"GRE ipv4", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .tun = TUN_GRE, .encap = TD_ENCAP_GRE},
	{"GRE ipv6", TD_LINK_RAW, LK_NONE, .ipv = 6, .tun = TUN_GRE, .encap = TD_ENCAP_GRE},
	{"GRE TEB ipv4", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .tun = TUN_GRE_TEB,
	 .encap = TD_ENCAP_GRE},
	{"ERSPAN I ipv4", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .tun = TUN_ERSPAN1,
	 .encap = TD_ENCAP_GRE | TD_ENCAP_ERSPAN},
	{"ERSPAN II ipv6", TD_LINK_ETHERNET, LK_ETH, .ipv = 6, .tun = TUN_ERSPAN2,
	 .encap = TD_ENCAP_GRE | TD_ENCAP_ERSPAN},
	{"ERSPAN III ipv4", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .tun = TUN_ERSPAN3,
	 .encap = TD_ENCAP_GRE | TD_ENCAP_ERSPAN},
	{"VXLAN ipv4", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .tun = TUN_VXLAN,
	 .encap = TD_ENCAP_VXLAN},
	{"VXLAN ipv6", TD_LINK_LINUX_SLL, LK_SLL, .ipv = 6, .tun = TUN_VXLAN,
	 .encap = TD_ENCAP_VXLAN},
	{"Geneve ipv4", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .tun = TUN_GENEVE,
	 .encap = TD_ENCAP_GENEVE},
	{"IPv4 in IPv4", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .tun = TUN_IPIP4,
	 .encap = TD_ENCAP_IPIP},
	{"IPv6 in IPv4", TD_LINK_RAW, LK_NONE, .ipv = 6, .tun = TUN_IPIP4, .encap = TD_ENCAP_IPIP},
	{"IPv4 in IPv6", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .tun = TUN_IPIP6,
	 .encap = TD_ENCAP_IPIP},
	{"IPv6 in IPv6", TD_LINK_IPV6, LK_NONE, .ipv = 6, .tun = TUN_IPIP6, .encap = TD_ENCAP_IPIP},
	{"Cisco MetaData ipv4", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .tun = TUN_CMD},
	{"GTP-U ipv4", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .tun = TUN_GTPU, .encap = TD_ENCAP_GTP},
	{"GTP-U ipv6", TD_LINK_ETHERNET, LK_ETH, .ipv = 6, .tun = TUN_GTPU, .encap = TD_ENCAP_GTP},
	{"GRE nested 8 deep", TD_LINK_RAW, LK_NONE, .ipv = 4, .tun = TUN_GRE_GRE,
	 .encap = TD_ENCAP_GRE},
	{"CAPWAP 802.11 ipv4", TD_LINK_ETHERNET, LK_ETH, .ipv = 4, .tun = TUN_CAPWAP,
	 .encap = TD_ENCAP_CAPWAP | TD_ENCAP_80211},
	{"CAPWAP radio MAC+WSI 802.11 QoS+HTC ipv6", TD_LINK_ETHERNET, LK_ETH,
	 {{0x8100, 20}, {0x8100, 30}}, 2, .ipv = 6, .tun = TUN_CAPWAP_OPT,
	 .encap = TD_ENCAP_VLAN | TD_ENCAP_CAPWAP | TD_ENCAP_80211, .vlan_id = 20},
	{"CAPWAP from AC 802.11 4-address swapped FC ipv4", TD_LINK_RAW, LK_NONE, .ipv = 4,
	 .tun = TUN_CAPWAP_4ADDR, .encap = TD_ENCAP_CAPWAP | TD_ENCAP_80211},
	{"CAPWAP 802.3 ipv6", TD_LINK_ETHERNET, LK_ETH, .ipv = 6, .tun = TUN_CAPWAP_ETH,
	 .encap = TD_ENCAP_CAPWAP},
	{"IEEE802_11(105) ipv4", TD_LINK_IEEE802_11, LK_WLAN, .ipv = 4, .encap = TD_ENCAP_80211},
	{"IEEE802_11(105) ipv6", TD_LINK_IEEE802_11, LK_WLAN, .ipv = 6, .encap = TD_ENCAP_80211},
};

/* The tunnel's outer IPv4 or IPv6 header around in (the inner packet), or
 * nothing. */
static void outer_ip(struct pkt *p, int v6, uint8_t proto, const struct pkt *in)
{
	if (v6) {
		struct ip6_spec s = ip6_default();
		s.upper = proto;
		build_ipv6(p, &s, in);
	} else {
		struct ip4_spec s = ip4_default();
		s.proto = proto;
		build_ipv4(p, &s, in);
	}
}

static uint16_t ip_ethertype(int ipv)
{
	return ipv == 4 ? 0x0800 : 0x86DD;
}

/* Wraps the IP packet l3 (version ipv) in tunnel t; *type is the EtherType
 * of the result (the link layer's next protocol). */
static void wrap_tunnel(struct pkt *p, enum tunnel t, int ipv, const struct pkt *l3,
			uint16_t *type)
{
	static struct pkt in, eth;

	*type = 0x0800;
	in.n = 0;
	eth.n = 0;
	wrap_eth(&eth, NULL, 0, ip_ethertype(ipv), l3);
	switch (t) {
	case TUN_NONE:
		*p = *l3;
		*type = ip_ethertype(ipv);
		return;
	case TUN_MPLS:
		p->n = 0;
		put32(p, 16u << 12 | 64);
		put32(p, 17u << 12 | 64);
		put32(p, 18u << 12 | 1u << 8 | 64);
		put_pkt(p, l3);
		*type = 0x8847;
		return;
	case TUN_MPLS_PW:
		p->n = 0;
		put32(p, 100u << 12 | 1u << 8 | 64);
		put32(p, 0); /* control word */
		put_pkt(p, &eth);
		*type = 0x8848;
		return;
	case TUN_PPPOE:
		p->n = 0;
		put8(p, 0x11);
		put8(p, 0);
		put16(p, 0x0042);
		put16(p, (unsigned)(l3->n + 2));
		put16(p, ipv == 4 ? 0x0021 : 0x0057);
		put_pkt(p, l3);
		*type = 0x8864;
		return;
	case TUN_GRE:
		put16(&in, 0xB000); /* C, K, S */
		put16(&in, ip_ethertype(ipv));
		put32(&in, 0x12340000); /* checksum (not checked), reserved */
		put32(&in, 42);         /* key */
		put32(&in, 7);          /* sequence */
		put_pkt(&in, l3);
		outer_ip(p, 0, 47, &in);
		return;
	case TUN_GRE_TEB:
		put16(&in, 0x0000);
		put16(&in, 0x6558);
		put_pkt(&in, &eth);
		outer_ip(p, 0, 47, &in);
		return;
	case TUN_ERSPAN1:
		put16(&in, 0x0000);
		put16(&in, 0x88BE);
		put_pkt(&in, &eth);
		outer_ip(p, 0, 47, &in);
		return;
	case TUN_ERSPAN2:
		put16(&in, 0x1000); /* S */
		put16(&in, 0x88BE);
		put32(&in, 9);
		put16(&in, 1u << 12 | 100); /* version 1, VLAN 100 */
		put16(&in, 0x0005);         /* session 5 */
		put32(&in, 0);              /* index */
		put_pkt(&in, &eth);
		outer_ip(p, 0, 47, &in);
		return;
	case TUN_ERSPAN3:
		put16(&in, 0x1000);
		put16(&in, 0x22EB);
		put32(&in, 9);
		put16(&in, 2u << 12);  /* version 2 */
		put16(&in, 0x0005);
		put32(&in, 0xCAFEF00D); /* timestamp */
		put16(&in, 0x0100);    /* SGT */
		put16(&in, 0x0001);    /* FT 0 (Ethernet), O: a subheader follows */
		put32(&in, 0x11111111);
		put32(&in, 0x22222222);
		put_pkt(&in, &eth);
		outer_ip(p, 0, 47, &in);
		return;
	case TUN_VXLAN:
	case TUN_GENEVE:
		put16(&in, 49152);
		put16(&in, t == TUN_VXLAN ? 4789 : 6081);
		put16(&in, (unsigned)(eth.n + 8 + (t == TUN_VXLAN ? 8 : 20)));
		put16(&in, 0);
		if (t == TUN_VXLAN) {
			put32(&in, 0x08000000);
			put32(&in, 5000u << 8);
		} else {
			put8(&in, 3); /* version 0, 3 words of options */
			put8(&in, 0);
			put16(&in, 0x6558);
			put32(&in, 6000u << 8);
			put_fill(&in, 0x77, 12);
		}
		put_pkt(&in, &eth);
		outer_ip(p, 0, 17, &in);
		return;
	case TUN_GTPU:
		put16(&in, 49152);
		put16(&in, 2152);
		put16(&in, (unsigned)(l3->n + 8 + 16));
		put16(&in, 0);
		put8(&in, 0x36); /* version 1, PT, E and S */
		put8(&in, 255);  /* G-PDU */
		put16(&in, (unsigned)(l3->n + 8));
		put32(&in, 0x11223344);
		put16(&in, 1);    /* sequence */
		put8(&in, 0);     /* N-PDU */
		put8(&in, 0x85);  /* next: PDU session container */
		put8(&in, 1);     /* 4 bytes */
		put16(&in, 0x0009);
		put8(&in, 0);     /* no more */
		put_pkt(&in, l3);
		outer_ip(p, 0, 17, &in);
		return;
	case TUN_IPIP4:
	case TUN_IPIP6:
		outer_ip(p, t == TUN_IPIP6, ipv == 4 ? 4 : 41, l3);
		*type = ip_ethertype(t == TUN_IPIP6 ? 6 : 4);
		return;
	case TUN_CMD:
		p->n = 0;
		put8(p, 1);
		put8(p, 1);
		put16(p, 0x0001);
		put16(p, 0x00AA);
		put16(p, ip_ethertype(ipv));
		put_pkt(p, l3);
		*type = 0x8909;
		return;
	case TUN_CAPWAP:
	case TUN_CAPWAP_OPT:
	case TUN_CAPWAP_4ADDR:
	case TUN_CAPWAP_ETH: {
		struct capwap_spec c = {.wbid = 1, .t = 1, .sport = 49152, .dport = 5247};
		struct wlan_spec w = wlan_default();
		static struct pkt frame;
		frame.n = 0;
		if (t == TUN_CAPWAP) {
			w.subtype = 0; /* plain Data: no QoS Control */
		} else if (t == TUN_CAPWAP_OPT) {
			c.m = c.w = 1;
			w.flags = FC_FROM_DS | FC_HTC;
		} else if (t == TUN_CAPWAP_4ADDR) {
			c.w = 1;
			c.sport = 5247;
			c.dport = 40000;
			w.flags = FC_TO_DS | FC_FROM_DS;
			w.swap = 1;
			w.frag = 6; /* not a fragment number in CAPWAP (RFC 5416 §2.2) */
		} else {
			c.t = 0;
		}
		if (t == TUN_CAPWAP_ETH)
			put_pkt(&frame, &eth);
		else
			put_wlan(&frame, &w, ip_ethertype(ipv), l3);
		capwap_udp(p, &c, &frame);
		return;
	}
	case TUN_GRE_GRE: {
		/* IPv4/GRE seven times around l3: eight tunnels with the
		 * outermost, the most decode enters */
		static struct pkt cur, tmp;
		cur = *l3;
		uint16_t proto = ip_ethertype(ipv);
		for (int i = 0; i < TD_DECODE_MAX_NESTING; i++) {
			in.n = 0;
			put16(&in, 0);
			put16(&in, proto);
			put_pkt(&in, &cur);
			outer_ip(&tmp, 0, 47, &in);
			cur = tmp;
			proto = 0x0800;
		}
		*p = cur;
		return;
	}
	}
}

static void capwap_udp(struct pkt *p, const struct capwap_spec *c, const struct pkt *frame)
{
	static struct pkt in, cw;

	cw.n = 0;
	put_capwap(&cw, c);
	put_pkt(&cw, frame);
	in.n = 0;
	put16(&in, c->sport);
	put16(&in, c->dport);
	put16(&in, (unsigned)(8 + cw.n));
	put16(&in, 0);
	put_pkt(&in, &cw);
	outer_ip(p, 0, 17, &in);
}

/* Wraps a network-layer packet in the variant's tunnel and link layer. */
static void wrap_link(struct pkt *p, const struct variant *v, const struct pkt *ip)
{
	static struct pkt tun;
	const struct pkt *l3 = &tun;
	uint16_t type;

	wrap_tunnel(&tun, v->tun, v->ipv, ip, &type);
	switch (v->lk) {
	case LK_PPP:
	case LK_PPP_BARE:
		p->n = 0;
		if (v->lk == LK_PPP) {
			put8(p, 0xFF);
			put8(p, 0x03);
			put16(p, type == 0x0800 ? 0x0021 : 0x0057);
		} else {
			put8(p, 0x21); /* compressed IPv4 (RFC 1661 §6.5) */
		}
		put_pkt(p, l3);
		break;
	case LK_CHDLC:
		p->n = 0;
		put8(p, 0x0F);
		put8(p, 0x00);
		put16(p, type);
		put_pkt(p, l3);
		break;
	case LK_PPPOE:
		p->n = 0;
		put8(p, 0x11);
		put8(p, 0);
		put16(p, 7);
		put16(p, (unsigned)(l3->n + 2));
		put16(p, type == 0x0800 ? 0x0021 : 0x0057);
		put_pkt(p, l3);
		break;
	case LK_WLAN: {
		struct wlan_spec w = wlan_default();
		p->n = 0;
		put_wlan(p, &w, type, l3);
		break;
	}
	case LK_ETH:
		wrap_eth(p, v->tags, v->ntags, type, l3);
		break;
	case LK_SLL:
		wrap_sll(p, ARPHRD_ETHER, v->tags, v->ntags, type, l3);
		break;
	case LK_SLL2:
		wrap_sll2(p, ARPHRD_ETHER, v->tags, v->ntags, type, l3);
		break;
	case LK_AF_LE:
	case LK_AF_BE:
		wrap_af(p, v->af, v->lk == LK_AF_BE, l3);
		break;
	case LK_NONE:
		*p = *l3;
		break;
	}
}

/* Builds the variant's packet around tcp; fills w with what must decode. */
static void build_variant(struct pkt *p, const struct variant *v, const struct tcp_spec *t,
			  struct want *w)
{
	static struct pkt l4, l3; /* large: kept off the stack */

	build_tcp(&l4, t);
	if (v->ipv == 4) {
		struct ip4_spec s = ip4_default();
		s.opt_len = v->ip4_opt_len;
		build_ipv4(&l3, &s, &l4);
	} else {
		struct ip6_spec s = ip6_default();
		s.ext = v->ext;
		s.n_ext = v->n_ext;
		build_ipv6(&l3, &s, &l4);
	}
	wrap_link(p, v, &l3);

	memset(w, 0, sizeof *w);
	w->family = v->ipv;
	w->tcp = *t;
	w->payload_len = t->payload_len;
	w->payload_off = p->n - t->payload_len;
	w->encap = v->encap;
	w->vlan_id = v->vlan_id;
}

/* Every variant decodes whole, every field as written. */
START_TEST(test_variant_full)
{
	const struct variant *v = &variants[_i];
	struct tcp_spec t = tcp_default();
	static struct pkt p;
	struct want w;
	struct run r;

	build_variant(&p, v, &t, &w);
	run_decode(&r, v->linktype, &p, p.n);
	ck_assert_msg(r.res == TD_DECODE_TCP, "%s: %s", v->name, td_decode_result_name(r.res));
	check_seg(&r, &w);
	run_free(&r);

	/* no payload at all (a bare ACK) */
	t.payload_len = 0;
	t.flags = TD_TCP_ACK;
	build_variant(&p, v, &t, &w);
	run_decode(&r, v->linktype, &p, p.n);
	check_seg(&r, &w);
	run_free(&r);
}
END_TEST

/* The same packet cut at every length from 0 to whole: TRUNCATED while the
 * cut falls inside a header, then TCP with the payload captured so far and
 * the rest counted as missing. */
START_TEST(test_variant_truncation_sweep)
{
	const struct variant *v = &variants[_i];
	struct tcp_spec t = tcp_default();
	static struct pkt p;
	struct want w;

	build_variant(&p, v, &t, &w);
	for (size_t cut = 0; cut <= p.n; cut++) {
		struct run r;
		run_decode(&r, v->linktype, &p, cut);
		if (cut < w.payload_off) {
			ck_assert_msg(r.res == TD_DECODE_TRUNCATED, "%s cut at %zu: %s", v->name, cut,
				      td_decode_result_name(r.res));
		} else {
			struct want wc = w;
			wc.payload_len = cut - w.payload_off;
			wc.missing = w.payload_len - wc.payload_len;
			check_seg(&r, &wc);
		}
		run_free(&r);
	}
}
END_TEST

/* ---- link layer ---- */

static void build_v4_tcp(struct pkt *l3)
{
	static struct pkt l4;
	struct tcp_spec t = tcp_default();
	struct ip4_spec s = ip4_default();

	build_tcp(&l4, &t);
	build_ipv4(l3, &s, &l4);
}

static void build_v6_tcp(struct pkt *l3)
{
	static struct pkt l4;
	struct tcp_spec t = tcp_default();
	struct ip6_spec s = ip6_default();

	build_tcp(&l4, &t);
	build_ipv6(l3, &s, &l4);
}

START_TEST(test_ethernet_not_ip)
{
	static struct pkt l3, arp, p;
	static const struct vlan_tag tag = {0x8100, 10};

	/* ARP request (RFC 826) for 10.0.0.2 */
	arp.n = 0;
	put16(&arp, 1);
	put16(&arp, 0x0800);
	put8(&arp, 6);
	put8(&arp, 4);
	put16(&arp, 1);
	put_fill(&arp, 0x02, 6);
	put_bytes(&arp, v4_client, 4);
	put_fill(&arp, 0, 6);
	put_bytes(&arp, v4_server, 4);
	wrap_eth(&p, NULL, 0, 0x0806, &arp);
	ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_NOT_TCP);
	wrap_eth(&p, &tag, 1, 0x0806, &arp); /* ARP behind a VLAN tag */
	ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_NOT_TCP);

	/* an IEEE 802.3 length (LLC follows) is not an EtherType */
	build_v4_tcp(&l3);
	wrap_eth(&p, NULL, 0, (uint16_t)l3.n, &l3);
	ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_NOT_TCP);

	/* EtherType IPv4 carrying an IPv6 header: the headers disagree */
	build_v6_tcp(&l3);
	wrap_eth(&p, NULL, 0, 0x0800, &l3);
	ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_MALFORMED);
	build_v4_tcp(&l3);
	wrap_eth(&p, NULL, 0, 0x86DD, &l3);
	ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_MALFORMED);

	/* a tag stack that runs to the end of the packet */
	p.n = 0;
	put_fill(&p, 0x02, 12);
	for (int i = 0; i < 10; i++) {
		put16(&p, 0x8100);
		put16(&p, (unsigned)i);
	}
	ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_TRUNCATED);
}
END_TEST

START_TEST(test_sll_not_ip)
{
	static struct pkt l3, p;

	build_v4_tcp(&l3);
	/* netlink: the protocol field is a netlink family, even if it reads 0x0800 */
	wrap_sll(&p, ARPHRD_NETLINK, NULL, 0, 0x0800, &l3);
	ck_assert_result(decode_result(TD_LINK_LINUX_SLL, &p, p.n), TD_DECODE_NOT_TCP);
	wrap_sll2(&p, ARPHRD_NETLINK, NULL, 0, 0x0800, &l3);
	ck_assert_result(decode_result(TD_LINK_LINUX_SLL2, &p, p.n), TD_DECODE_NOT_TCP);
	/* LINUX_SLL_P_802_2 (4): LLC frame */
	wrap_sll(&p, ARPHRD_ETHER, NULL, 0, 0x0004, &l3);
	ck_assert_result(decode_result(TD_LINK_LINUX_SLL, &p, p.n), TD_DECODE_NOT_TCP);
	wrap_sll2(&p, ARPHRD_ETHER, NULL, 0, 0x0806, &l3);
	ck_assert_result(decode_result(TD_LINK_LINUX_SLL2, &p, p.n), TD_DECODE_NOT_TCP);
}
END_TEST

START_TEST(test_null_loop_families)
{
	static struct pkt l3, p;

	build_v4_tcp(&l3);
	/* AF_INET6 announced, IPv4 inside */
	wrap_af(&p, 30, 0, &l3);
	ck_assert_result(decode_result(TD_LINK_NULL, &p, p.n), TD_DECODE_MALFORMED);
	/* Linux AF_INET6 (10), AF_UNSPEC, AF_APPLETALK-ish values: not IP */
	wrap_af(&p, 10, 0, &l3);
	ck_assert_result(decode_result(TD_LINK_NULL, &p, p.n), TD_DECODE_NOT_TCP);
	wrap_af(&p, 0, 1, &l3);
	ck_assert_result(decode_result(TD_LINK_NULL, &p, p.n), TD_DECODE_NOT_TCP);
	wrap_af(&p, 16, 1, &l3);
	ck_assert_result(decode_result(TD_LINK_NULL, &p, p.n), TD_DECODE_NOT_TCP);
	/* LOOP is network byte order only: a little-endian 2 is 0x02000000 */
	wrap_af(&p, 2, 0, &l3);
	ck_assert_result(decode_result(TD_LINK_LOOP, &p, p.n), TD_DECODE_NOT_TCP);
	wrap_af(&p, 2, 1, &l3);
	ck_assert_result(decode_result(TD_LINK_LOOP, &p, p.n), TD_DECODE_TCP);
}
END_TEST

START_TEST(test_raw_version_nibble)
{
	static struct pkt l3;
	static const int raws[] = {TD_LINK_RAW, TD_LINK_RAW_DLT12, TD_LINK_RAW_DLT14};

	for (size_t i = 0; i < N(raws); i++) {
		build_v4_tcp(&l3);
		ck_assert_result(decode_result(raws[i], &l3, l3.n), TD_DECODE_TCP);
		l3.b[0] = 0x55; /* version 5 */
		ck_assert_result(decode_result(raws[i], &l3, l3.n), TD_DECODE_MALFORMED);
		l3.b[0] = 0x05; /* version 0 */
		ck_assert_result(decode_result(raws[i], &l3, l3.n), TD_DECODE_MALFORMED);
		ck_assert_result(decode_result(raws[i], &l3, 0), TD_DECODE_TRUNCATED);
	}
	/* the IPV4 and IPV6 link types do not guess */
	build_v6_tcp(&l3);
	ck_assert_result(decode_result(TD_LINK_IPV4, &l3, l3.n), TD_DECODE_MALFORMED);
	build_v4_tcp(&l3);
	ck_assert_result(decode_result(TD_LINK_IPV6, &l3, l3.n), TD_DECODE_MALFORMED);
}
END_TEST

START_TEST(test_unsupported_link)
{
	static struct pkt l3;
	static const int others[] = {-1, 2, 8, 106, 127, 192, 230, 275, 277, 65535, 1 << 20};
	struct td_tcp_seg seg;

	build_v4_tcp(&l3);
	for (size_t i = 0; i < N(others); i++) {
		ck_assert_result(decode_result(others[i], &l3, l3.n), TD_DECODE_UNSUPPORTED_LINK);
		ck_assert_ptr_null(td_decode_link_name(others[i]));
	}
	/* no bytes at all: still the link type that decides */
	ck_assert_result(td_decode_packet(147, NULL, 0, 0, &seg), TD_DECODE_UNSUPPORTED_LINK);
	ck_assert_result(td_decode_packet(TD_LINK_ETHERNET, NULL, 0, 0, &seg), TD_DECODE_TRUNCATED);
	ck_assert_result(td_decode_packet(TD_LINK_RAW, NULL, 0, 0, &seg), TD_DECODE_TRUNCATED);
}
END_TEST

START_TEST(test_names)
{
	static const struct {
		int link;
		const char *name;
	} links[] = {
		{TD_LINK_NULL, "BSD loopback (NULL)"},
		{TD_LINK_ETHERNET, "Ethernet"},
		{TD_LINK_RAW_DLT12, "raw IP"},
		{TD_LINK_RAW_DLT14, "raw IP"},
		{TD_LINK_RAW, "raw IP"},
		{TD_LINK_LOOP, "OpenBSD loopback (LOOP)"},
		{TD_LINK_LINUX_SLL, "Linux cooked (SLL)"},
		{TD_LINK_IPV4, "raw IPv4"},
		{TD_LINK_IPV6, "raw IPv6"},
		{TD_LINK_LINUX_SLL2, "Linux cooked v2 (SLL2)"},
	};
	for (size_t i = 0; i < N(links); i++) {
		ck_assert_ptr_nonnull(td_decode_link_name(links[i].link));
		ck_assert_str_eq(td_decode_link_name(links[i].link), links[i].name);
	}

	ck_assert_str_eq(td_decode_result_name(TD_DECODE_TCP), "tcp");
	ck_assert_str_eq(td_decode_result_name(TD_DECODE_NOT_TCP), "not-tcp");
	ck_assert_str_eq(td_decode_result_name(TD_DECODE_FRAGMENT), "fragment");
	ck_assert_str_eq(td_decode_result_name(TD_DECODE_TRUNCATED), "truncated");
	ck_assert_str_eq(td_decode_result_name(TD_DECODE_MALFORMED), "malformed");
	ck_assert_str_eq(td_decode_result_name(TD_DECODE_UNSUPPORTED_LINK), "unsupported-link");
	ck_assert_str_eq(td_decode_result_name(TD_DECODE_RESULT_COUNT), "unknown");
}
END_TEST

START_TEST(test_addr_str)
{
	struct td_addr a = {.family = 4, .bytes = {192, 168, 255, 1}};
	char buf[64], small[8];

	ck_assert_str_eq(td_addr_str(&a, buf, sizeof buf), "192.168.255.1");
	ck_assert_ptr_eq(td_addr_str(&a, buf, sizeof buf), buf);
	/* too small for the text: a marker, never a cut address */
	ck_assert_str_eq(td_addr_str(&a, small, sizeof small), "?");

	struct td_addr b = {.family = 6, .bytes = {0xfe, 0x80, [15] = 0x01}};
	ck_assert_str_eq(td_addr_str(&b, buf, sizeof buf), "fe80::1");
	struct td_addr m = {.family = 6, .bytes = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 1}};
	ck_assert_str_eq(td_addr_str(&m, buf, sizeof buf), "::ffff:10.0.0.1");

	struct td_addr bad = {.family = 5};
	ck_assert_str_eq(td_addr_str(&bad, buf, sizeof buf), "?");
}
END_TEST

/* ---- IPv4 ---- */

/* Ethernet + IPv4 around l4, with s. */
static void eth_v4(struct pkt *p, const struct ip4_spec *s, const struct pkt *l4)
{
	static struct pkt l3;

	build_ipv4(&l3, s, l4);
	wrap_eth(p, NULL, 0, 0x0800, &l3);
}

START_TEST(test_ipv4_options)
{
	static struct pkt l4, p;
	struct tcp_spec t = tcp_default();
	struct want w = {.family = 4, .tcp = t, .payload_len = t.payload_len};
	struct run r;

	build_tcp(&l4, &t);
	for (size_t opt = 0; opt <= 40; opt += 4) {
		struct ip4_spec s = ip4_default();
		s.opt_len = opt;
		eth_v4(&p, &s, &l4);
		w.payload_off = 14 + 20 + opt + 32;
		run_decode(&r, TD_LINK_ETHERNET, &p, p.n);
		check_seg(&r, &w);
		run_free(&r);
	}
}
END_TEST

START_TEST(test_ipv4_fragments)
{
	static struct pkt l4, udp, p;
	struct tcp_spec t = tcp_default();
	static const uint16_t frags[] = {0x2000, 0x6000 /* DF and MF */, 0x0001, 0x1FFF, 0x00B9,
					 0x2010};
	static const uint16_t whole[] = {0x0000, 0x4000 /* DF */, 0x8000 /* reserved bit */};

	build_tcp(&l4, &t);
	build_udp(&udp);
	for (size_t i = 0; i < N(frags); i++) {
		struct ip4_spec s = ip4_default();
		s.flags_frag = frags[i];
		eth_v4(&p, &s, &l4);
		ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_FRAGMENT);
		s.proto = 17; /* a fragment whatever it carries */
		eth_v4(&p, &s, &udp);
		ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_FRAGMENT);
	}
	for (size_t i = 0; i < N(whole); i++) {
		struct ip4_spec s = ip4_default();
		struct want w = {.family = 4, .tcp = t, .payload_len = t.payload_len,
				 .payload_off = 14 + 20 + 32};
		struct run r;
		s.flags_frag = whole[i];
		eth_v4(&p, &s, &l4);
		run_decode(&r, TD_LINK_ETHERNET, &p, p.n);
		check_seg(&r, &w);
		run_free(&r);
	}
}
END_TEST

START_TEST(test_ipv4_not_tcp)
{
	static struct pkt udp, p;
	static const uint8_t protos[] = {1, 17, 47, 50, 132, 255, 0};

	build_udp(&udp);
	for (size_t i = 0; i < N(protos); i++) {
		struct ip4_spec s = ip4_default();
		s.proto = protos[i];
		eth_v4(&p, &s, &udp);
		ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_NOT_TCP);
	}
}
END_TEST

START_TEST(test_ipv4_malformed)
{
	static struct pkt l4, p;
	struct tcp_spec t = tcp_default();

	build_tcp(&l4, &t);
	/* IHL below 5 */
	for (int ihl = 0; ihl < 5; ihl++) {
		struct ip4_spec s = ip4_default();
		s.ihl = ihl;
		eth_v4(&p, &s, &l4);
		ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_MALFORMED);
	}
	/* total length below the header length */
	static const struct {
		size_t opt;
		long total;
	} shorts[] = {{0, 1}, {0, 19}, {4, 20}, {4, 23}, {40, 59}};
	for (size_t i = 0; i < N(shorts); i++) {
		struct ip4_spec s = ip4_default();
		s.opt_len = shorts[i].opt;
		s.total = shorts[i].total;
		eth_v4(&p, &s, &l4);
		ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_MALFORMED);
	}
	/* version other than 4 */
	for (int v = 0; v < 16; v++) {
		struct ip4_spec s = ip4_default();
		if (v == 4)
			continue;
		s.version = v;
		eth_v4(&p, &s, &l4);
		ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_MALFORMED);
	}
	/* total length leaves less than a TCP header, with every byte captured */
	for (long tcp_room = 0; tcp_room < 20; tcp_room++) {
		struct ip4_spec s = ip4_default();
		s.total = 20 + tcp_room;
		eth_v4(&p, &s, &l4);
		ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_MALFORMED);
	}
	/* IHL larger than the captured bytes: the options were cut off */
	{
		struct ip4_spec s = ip4_default();
		static struct pkt empty;
		s.ihl = 15;
		eth_v4(&p, &s, &empty);
		ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_MALFORMED);
		s.total = 60 + 20; /* total length room for them: now only cut */
		eth_v4(&p, &s, &empty);
		ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_TRUNCATED);
	}
}
END_TEST

/* Total length larger than what was captured: the payload is what was
 * captured, the rest is missing. Smaller: the rest is padding. */
START_TEST(test_ipv4_lengths)
{
	static struct pkt l4, p;
	struct tcp_spec t = tcp_default();
	struct ip4_spec s = ip4_default();
	struct want w = {.family = 4, .tcp = t, .payload_len = t.payload_len,
			 .payload_off = 14 + 20 + 32};
	struct run r;

	build_tcp(&l4, &t);
	s.total = 20 + 32 + 1400;
	eth_v4(&p, &s, &l4);
	run_decode(&r, TD_LINK_ETHERNET, &p, p.n);
	w.missing = 1400 - t.payload_len;
	check_seg(&r, &w);
	run_free(&r);

	/* total length covers only part of the payload: the rest is trailer */
	s.total = 20 + 32 + 10;
	eth_v4(&p, &s, &l4);
	run_decode(&r, TD_LINK_ETHERNET, &p, p.n);
	w.missing = 0;
	w.payload_len = 10;
	check_seg(&r, &w);
	run_free(&r);

	/* the data offset runs past the total length */
	t.doff = 15;
	t.payload_len = 60;
	build_tcp(&l4, &t);
	s.total = 20 + 40;
	eth_v4(&p, &s, &l4);
	ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_MALFORMED);
	/* the same with the total length announcing room: it was only cut */
	s.total = 20 + 1000;
	eth_v4(&p, &s, &l4);
	ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, 14 + 20 + 40), TD_DECODE_TRUNCATED);
}
END_TEST

/* IPv4 total length 0: a segment captured on the sending host before TCP
 * segmentation offload (as Windows captures show it). The datagram is the
 * rest of the frame on the wire. */
START_TEST(test_ipv4_tso_total_zero)
{
	static struct pkt l4, p;
	struct tcp_spec t = tcp_default();
	struct ip4_spec s = ip4_default();
	struct run r;

	t.payload_len = 3000; /* more than any MTU */
	build_tcp(&l4, &t);
	s.total = 0;
	s.opt_len = 4;
	eth_v4(&p, &s, &l4);
	struct want w = {.family = 4, .tcp = t, .payload_len = 3000,
			 .payload_off = 14 + 24 + 32};
	run_decode(&r, TD_LINK_ETHERNET, &p, p.n);
	check_seg(&r, &w);
	run_free(&r);

	/* cut by a snaplen: what the wire had beyond it is missing */
	run_decode_wire(&r, TD_LINK_ETHERNET, &p, 14 + 24 + 32 + 100, p.n);
	w.payload_len = 100;
	w.missing = 2900;
	check_seg(&r, &w);
	run_free(&r);
	/* a wirelen below caplen (a broken record) counts nothing as missing */
	run_decode_wire(&r, TD_LINK_ETHERNET, &p, 14 + 24 + 32 + 100, 10);
	w.missing = 0;
	check_seg(&r, &w);
	run_free(&r);

	/* still a header longer than the whole frame: MALFORMED */
	static struct pkt empty;
	s.opt_len = 40;
	eth_v4(&p, &s, &empty);
	p.n -= 4;
	ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_MALFORMED);
	/* and room for the header but not for TCP: MALFORMED too */
	eth_v4(&p, &s, &empty);
	put_fill(&p, 0, 19);
	ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_MALFORMED);
}
END_TEST

/* Ethernet pads frames to 60 bytes; the IPv4 total length says where the
 * datagram ends, and what follows is not payload. */
START_TEST(test_ethernet_padding)
{
	static struct pkt l4, l3, p;
	struct tcp_spec t = tcp_default();
	struct run r;

	for (size_t payload = 0; payload <= 6; payload++) {
		t.opt_len = 0;
		t.payload_len = payload;
		build_tcp(&l4, &t);
		struct ip4_spec s = ip4_default();
		build_ipv4(&l3, &s, &l4);
		wrap_eth(&p, NULL, 0, 0x0800, &l3);
		put_fill(&p, 0xEE, 60 - p.n); /* padding up to 60 bytes */
		ck_assert_uint_eq(p.n, 60);
		struct want w = {.family = 4, .tcp = t, .payload_len = payload,
				 .payload_off = 14 + 20 + 20};
		run_decode(&r, TD_LINK_ETHERNET, &p, p.n);
		check_seg(&r, &w);
		run_free(&r);
	}

	/* the same for IPv6 and its payload length, with an FCS-like trailer */
	t = tcp_default();
	t.payload_len = 3;
	build_tcp(&l4, &t);
	struct ip6_spec s6 = ip6_default();
	build_ipv6(&l3, &s6, &l4);
	wrap_eth(&p, NULL, 0, 0x86DD, &l3);
	put32(&p, 0xFEEDFACE);
	struct want w = {.family = 6, .tcp = t, .payload_len = 3, .payload_off = p.n - 4 - 3};
	run_decode(&r, TD_LINK_ETHERNET, &p, p.n);
	check_seg(&r, &w);
	run_free(&r);
}
END_TEST

/* ---- TCP ---- */

START_TEST(test_tcp_data_offset)
{
	static struct pkt l4, p;
	struct tcp_spec t = tcp_default();

	for (int doff = 0; doff < 5; doff++) {
		t.doff = doff;
		build_tcp(&l4, &t);
		struct ip4_spec s = ip4_default();
		eth_v4(&p, &s, &l4);
		ck_assert_result(decode_result(TD_LINK_ETHERNET, &p, p.n), TD_DECODE_MALFORMED);
		struct ip6_spec s6 = ip6_default();
		static struct pkt l3;
		build_ipv6(&l3, &s6, &l4);
		ck_assert_result(decode_result(TD_LINK_IPV6, &l3, l3.n), TD_DECODE_MALFORMED);
	}
	/* every offset from 5 to 15 */
	for (int doff = 5; doff <= 15; doff++) {
		t = tcp_default();
		t.opt_len = (size_t)(doff - 5) * 4;
		build_tcp(&l4, &t);
		struct ip4_spec s = ip4_default();
		eth_v4(&p, &s, &l4);
		struct want w = {.family = 4, .tcp = t, .payload_len = t.payload_len,
				 .payload_off = 14 + 20 + (size_t)doff * 4};
		struct run r;
		run_decode(&r, TD_LINK_ETHERNET, &p, p.n);
		check_seg(&r, &w);
		run_free(&r);
	}
}
END_TEST

START_TEST(test_tcp_flags)
{
	static struct pkt l4, p;
	static const uint8_t flags[] = {TD_TCP_SYN,
					TD_TCP_SYN | TD_TCP_ACK,
					TD_TCP_FIN | TD_TCP_ACK,
					TD_TCP_RST,
					TD_TCP_URG | TD_TCP_PSH | TD_TCP_ACK,
					0xC2 /* SYN with ECE and CWR (RFC 3168) */,
					0xFF,
					0x00};

	for (size_t i = 0; i < N(flags); i++) {
		struct tcp_spec t = tcp_default();
		t.flags = flags[i];
		t.window = (uint16_t)(i * 4099);
		t.seq = 0xFFFFFFFFu - (uint32_t)i;
		t.ack = (uint32_t)i << 28;
		t.sport = (uint16_t)(1 + i);
		t.dport = (uint16_t)(65535 - i);
		build_tcp(&l4, &t);
		struct ip4_spec s = ip4_default();
		eth_v4(&p, &s, &l4);
		struct want w = {.family = 4, .tcp = t, .payload_len = t.payload_len,
				 .payload_off = 14 + 20 + 32};
		struct run r;
		run_decode(&r, TD_LINK_ETHERNET, &p, p.n);
		check_seg(&r, &w);
		run_free(&r);
	}
}
END_TEST

/* ---- IPv6 ---- */

/* Raw IPv6 (link type 229) around l4 with the given extension headers. */
static void v6_ext(struct pkt *p, const struct ext_spec *ext, size_t n, uint8_t upper,
		   const struct pkt *l4)
{
	struct ip6_spec s = ip6_default();

	s.ext = ext;
	s.n_ext = n;
	s.upper = upper;
	build_ipv6(p, &s, l4);
}

START_TEST(test_ipv6_extension_headers)
{
	static struct pkt l4, p;
	struct tcp_spec t = tcp_default();
	static const struct ext_spec all[] = {
		{.type = 0, .len = 8},
		{.type = 60, .len = 2048}, /* the largest: (255 + 1) * 8 */
		{.type = 43, .len = 16},
		{.type = 44, .len = 8, .offset_m = 0},
		{.type = 51, .len = 12},
		{.type = 60, .len = 8},
	};
	struct run r;

	build_tcp(&l4, &t);
	for (size_t n = 0; n <= N(all); n++) {
		size_t ext_len = 0;
		for (size_t i = 0; i < n; i++)
			ext_len += all[i].len;
		v6_ext(&p, all, n, 6, &l4);
		struct want w = {.family = 6, .tcp = t, .payload_len = t.payload_len,
				 .payload_off = 40 + ext_len + 32};
		run_decode(&r, TD_LINK_IPV6, &p, p.n);
		check_seg(&r, &w);
		run_free(&r);
	}
}
END_TEST

START_TEST(test_ipv6_fragments)
{
	static struct pkt l4, p;
	struct tcp_spec t = tcp_default();
	static const uint16_t frags[] = {0x0001 /* first, M */, 0x0008 /* offset 1 */,
					 0xFFF8, 0x0029, 0x0006 /* reserved bits only */};

	build_tcp(&l4, &t);
	for (size_t i = 0; i < N(frags); i++) {
		struct ext_spec e[2] = {{.type = 0, .len = 8}, {.type = 44, .len = 8,
							      .offset_m = frags[i]}};
		v6_ext(&p, &e[1], 1, 6, &l4);
		enum td_decode_result want = frags[i] & 0xFFF9 ? TD_DECODE_FRAGMENT : TD_DECODE_TCP;
		ck_assert_result(decode_result(TD_LINK_IPV6, &p, p.n), want);
		v6_ext(&p, e, 2, 6, &l4);
		ck_assert_result(decode_result(TD_LINK_IPV6, &p, p.n), want);
		/* a fragment of UDP is a fragment too */
		v6_ext(&p, &e[1], 1, 17, &l4);
		ck_assert_result(decode_result(TD_LINK_IPV6, &p, p.n),
				 want == TD_DECODE_FRAGMENT ? TD_DECODE_FRAGMENT : TD_DECODE_NOT_TCP);
	}
}
END_TEST

START_TEST(test_ipv6_not_tcp)
{
	static struct pkt udp, p;
	static const uint8_t uppers[] = {17, 58, 50 /* ESP */, 59 /* no next header */, 132, 135};
	static const struct ext_spec hbh = {.type = 0, .len = 8};

	build_udp(&udp);
	for (size_t i = 0; i < N(uppers); i++) {
		v6_ext(&p, NULL, 0, uppers[i], &udp);
		ck_assert_result(decode_result(TD_LINK_IPV6, &p, p.n), TD_DECODE_NOT_TCP);
		v6_ext(&p, &hbh, 1, uppers[i], &udp);
		ck_assert_result(decode_result(TD_LINK_IPV6, &p, p.n), TD_DECODE_NOT_TCP);
	}
	/* No Next Header with nothing after it at all */
	static struct pkt empty;
	v6_ext(&p, NULL, 0, 59, &empty);
	ck_assert_result(decode_result(TD_LINK_IPV6, &p, p.n), TD_DECODE_NOT_TCP);
}
END_TEST

START_TEST(test_ipv6_malformed)
{
	static struct pkt l4, l3;
	struct tcp_spec t = tcp_default();

	build_tcp(&l4, &t);
	/* version other than 6 */
	for (int v = 0; v < 16; v++) {
		struct ip6_spec s = ip6_default();
		if (v == 6)
			continue;
		s.version = v;
		build_ipv6(&l3, &s, &l4);
		ck_assert_result(decode_result(TD_LINK_IPV6, &l3, l3.n), TD_DECODE_MALFORMED);
	}
	/* payload length leaves less than a TCP header */
	for (long room = 0; room < 20; room++) {
		struct ip6_spec s = ip6_default();
		s.plen = room;
		build_ipv6(&l3, &s, &l4);
		ck_assert_result(decode_result(TD_LINK_IPV6, &l3, l3.n), TD_DECODE_MALFORMED);
	}
	/* an extension header longer than the payload length */
	{
		static const struct ext_spec big = {.type = 60, .len = 64};
		struct ip6_spec s = ip6_default();
		s.ext = &big;
		s.n_ext = 1;
		s.plen = 40;
		build_ipv6(&l3, &s, &l4);
		ck_assert_result(decode_result(TD_LINK_IPV6, &l3, l3.n), TD_DECODE_MALFORMED);
		/* with room announced it is a cut capture instead */
		s.plen = 1000;
		build_ipv6(&l3, &s, &l4);
		ck_assert_result(decode_result(TD_LINK_IPV6, &l3, 40 + 30), TD_DECODE_TRUNCATED);
		/* payload length of 1: not even the next-header byte pair fits */
		s.plen = 1;
		build_ipv6(&l3, &s, &l4);
		ck_assert_result(decode_result(TD_LINK_IPV6, &l3, l3.n), TD_DECODE_MALFORMED);
	}
	/* a fragment header cut by the payload length */
	{
		static const struct ext_spec frag = {.type = 44, .len = 8};
		struct ip6_spec s = ip6_default();
		s.ext = &frag;
		s.n_ext = 1;
		s.plen = 6;
		build_ipv6(&l3, &s, &l4);
		ck_assert_result(decode_result(TD_LINK_IPV6, &l3, l3.n), TD_DECODE_MALFORMED);
	}
	/* payload length beyond the capture: payload cut, rest missing */
	{
		struct ip6_spec s = ip6_default();
		struct run r;
		s.plen = 32 + 2000;
		build_ipv6(&l3, &s, &l4);
		struct want w = {.family = 6, .tcp = t, .payload_len = t.payload_len,
				 .payload_off = 40 + 32, .missing = 2000 - t.payload_len};
		run_decode(&r, TD_LINK_IPV6, &l3, l3.n);
		check_seg(&r, &w);
		run_free(&r);
	}
}
END_TEST

/* RFC 2675 jumbogram: Payload Length 0 and a Jumbo Payload option in a
 * hop-by-hop header. Not supported: MALFORMED. */
START_TEST(test_ipv6_jumbogram)
{
	static struct pkt l4, p;
	struct tcp_spec t = tcp_default();

	build_tcp(&l4, &t);
	p.n = 0;
	put32(&p, 0x60000000);
	put16(&p, 0);    /* payload length 0 */
	put8(&p, 0);     /* hop-by-hop */
	put8(&p, 64);
	put_bytes(&p, v6_client, 16);
	put_bytes(&p, v6_server, 16);
	put8(&p, 6);     /* next: TCP */
	put8(&p, 0);     /* 8 bytes */
	put8(&p, 0xC2);  /* Jumbo Payload option */
	put8(&p, 4);
	put32(&p, (uint32_t)(8 + l4.n));
	put_pkt(&p, &l4);
	ck_assert_result(decode_result(TD_LINK_IPV6, &p, p.n), TD_DECODE_MALFORMED);
	/* Payload Length 0 straight to TCP is no jumbogram, and no room */
	v6_ext(&p, NULL, 0, 6, &l4);
	p.b[4] = 0;
	p.b[5] = 0;
	ck_assert_result(decode_result(TD_LINK_IPV6, &p, p.n), TD_DECODE_MALFORMED);
}
END_TEST

/* A chain of extension headers is followed 16 deep, no further. */
START_TEST(test_ipv6_extension_bound)
{
	static struct pkt l4, p;
	static struct ext_spec chain[64];
	struct tcp_spec t = tcp_default();
	struct run r;

	for (size_t i = 0; i < N(chain); i++)
		chain[i] = (struct ext_spec){.type = (i % 2) ? 60 : 43, .len = 8};
	build_tcp(&l4, &t);

	v6_ext(&p, chain, 16, 6, &l4);
	struct want w = {.family = 6, .tcp = t, .payload_len = t.payload_len,
			 .payload_off = 40 + 16 * 8 + 32};
	run_decode(&r, TD_LINK_IPV6, &p, p.n);
	check_seg(&r, &w);
	run_free(&r);

	for (size_t n = 17; n <= N(chain); n++) {
		v6_ext(&p, chain, n, 6, &l4);
		ck_assert_result(decode_result(TD_LINK_IPV6, &p, p.n), TD_DECODE_MALFORMED);
	}
	/* a chain of atomic fragment headers is bounded the same way */
	for (size_t i = 0; i < N(chain); i++)
		chain[i] = (struct ext_spec){.type = 44, .len = 8};
	v6_ext(&p, chain, 16, 6, &l4);
	ck_assert_result(decode_result(TD_LINK_IPV6, &p, p.n), TD_DECODE_TCP);
	v6_ext(&p, chain, 17, 6, &l4);
	ck_assert_result(decode_result(TD_LINK_IPV6, &p, p.n), TD_DECODE_MALFORMED);
	/* the bound also holds when the chain ends in something else */
	v6_ext(&p, chain, 16, 59, &l4);
	ck_assert_result(decode_result(TD_LINK_IPV6, &p, p.n), TD_DECODE_NOT_TCP);
}
END_TEST

/* ---- robustness ---- */

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* Whatever the result, a TCP payload lies inside the captured bytes. */
static void check_sane(const struct run *r)
{
	if (r->res != TD_DECODE_TCP)
		return;
	ck_assert_ptr_nonnull(r->seg.payload);
	ck_assert(r->seg.payload >= r->buf);
	ck_assert_uint_le(r->seg.payload_len, r->caplen);
	ck_assert_uint_le((size_t)(r->seg.payload - r->buf), r->caplen - r->seg.payload_len);
	ck_assert(r->seg.src.family == r->seg.dst.family);
	ck_assert(r->seg.src.family == 4 || r->seg.src.family == 6);
}

/* Valid packets with a few bytes changed and a random cut, then plain
 * random bytes under every link type: never a crash, never a payload
 * outside the packet (the sanitizers watch the reads). */
START_TEST(test_mutations)
{
	static struct pkt p;
	struct tcp_spec t = tcp_default();
	const struct variant *v = &variants[_i];
	uint32_t seed = 0x9E3779B9u ^ (uint32_t)_i;
	struct want w;

	build_variant(&p, v, &t, &w);
	static struct pkt m;
	for (int iter = 0; iter < 3000; iter++) {
		m = p;
		int flips = 1 + (int)(xorshift32(&seed) % 4);
		for (int f = 0; f < flips; f++) {
			/* bias toward the headers, where the lengths are */
			size_t at = xorshift32(&seed) % (w.payload_off + 1);
			if (at >= m.n)
				at = m.n - 1;
			m.b[at] = (uint8_t)xorshift32(&seed);
		}
		size_t cut = xorshift32(&seed) % 4 ? m.n : xorshift32(&seed) % (m.n + 1);
		struct run r;
		run_decode(&r, v->linktype, &m, cut);
		check_sane(&r);
		run_free(&r);
	}

	for (int iter = 0; iter < 500; iter++) {
		m.n = xorshift32(&seed) % 200;
		for (size_t i = 0; i < m.n; i++)
			m.b[i] = (uint8_t)xorshift32(&seed);
		struct run r;
		run_decode(&r, v->linktype, &m, m.n);
		check_sane(&r);
		run_free(&r);
	}
}
END_TEST

/* ---- sample captures: the .pcap files in samples/link ---- */

/* A classic pcap file read by hand (no libpcap in this module's tests): a
 * 24-byte global header, then a 16-byte header before each record. */
struct pcap_file {
	FILE *f;
	int swapped; /* written big-endian */
	int linktype;
};

static uint32_t pcap_u32(const struct pcap_file *pf, const uint8_t *b)
{
	if (pf->swapped)
		return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

static int pcap_open(struct pcap_file *pf, const char *path)
{
	uint8_t gh[24];

	pf->f = fopen(path, "rb");
	if (!pf->f)
		return -1;
	if (fread(gh, 1, sizeof gh, pf->f) != sizeof gh)
		return -1;
	/* microsecond and nanosecond magics, either byte order; pcapng and
	 * anything else is refused */
	uint32_t magic = (uint32_t)gh[3] << 24 | (uint32_t)gh[2] << 16 | (uint32_t)gh[1] << 8 | gh[0];
	if (magic == 0xA1B2C3D4u || magic == 0xA1B23C4Du)
		pf->swapped = 0;
	else if (magic == 0xD4C3B2A1u || magic == 0x4D3CB2A1u)
		pf->swapped = 1;
	else
		return -1;
	/* the low 16 bits are the link type; FCS bits may sit above them */
	pf->linktype = (int)(pcap_u32(pf, gh + 20) & 0xFFFF);
	return 0;
}

/* Reads the next record into a malloc'ed buffer of exactly caplen bytes.
 * 1: a record, 0: end of file, -1: a broken file. */
static int pcap_next_record(struct pcap_file *pf, uint8_t **data, size_t *caplen, size_t *wirelen)
{
	uint8_t rh[16];
	size_t got = fread(rh, 1, sizeof rh, pf->f);

	*data = NULL;
	if (got == 0)
		return 0;
	if (got != sizeof rh)
		return -1;
	*caplen = pcap_u32(pf, rh + 8);
	*wirelen = pcap_u32(pf, rh + 12);
	if (*caplen == 0 || *caplen > 262144)
		return -1;
	*data = malloc(*caplen);
	if (!*data || fread(*data, 1, *caplen, pf->f) != *caplen) {
		free(*data);
		*data = NULL;
		return -1;
	}
	return 1;
}

/* The expected endpoints, from the sample's .facts.json when there is one
 * (the generator's manifest), else the addresses every sample uses. */
struct endpoints {
	char client_ip[64], server_ip[64];
	unsigned long client_port, server_port;
	long packets; /* -1: unknown */
	long linktype;
};

/* Finds "key": { in text and returns the position after the brace. */
static const char *json_object(const char *text, const char *key)
{
	char quoted[64];
	const char *p = text;

	snprintf(quoted, sizeof quoted, "\"%s\"", key);
	while ((p = strstr(p, quoted))) {
		p += strlen(quoted);
		const char *q = p + strspn(p, " \t\r\n");
		if (*q != ':')
			continue;
		q += 1 + strspn(q + 1, " \t\r\n");
		if (*q == '{')
			return q + 1;
	}
	return NULL;
}

/* The value of "key": within the text from p: a string copied into out, or
 * a number into *num. Returns 0 when found. */
static int json_value(const char *p, const char *key, char *out, size_t n, long *num)
{
	char quoted[64];

	snprintf(quoted, sizeof quoted, "\"%s\"", key);
	if (!p || !(p = strstr(p, quoted)))
		return -1;
	p += strlen(quoted);
	p += strspn(p, " \t\r\n");
	if (*p++ != ':')
		return -1;
	p += strspn(p, " \t\r\n");
	if (out && *p == '"') {
		size_t len = strcspn(p + 1, "\"");
		if (len >= n)
			return -1;
		memcpy(out, p + 1, len);
		out[len] = '\0';
		return 0;
	}
	if (num && *p >= '0' && *p <= '9') {
		*num = strtol(p, NULL, 10);
		return 0;
	}
	return -1;
}

static void sample_endpoints(const char *pcap_path, struct endpoints *ep)
{
	char path[1024];
	static char text[65536];
	long port;

	snprintf(ep->client_ip, sizeof ep->client_ip, "10.0.0.1");
	snprintf(ep->server_ip, sizeof ep->server_ip, "10.0.0.2");
	ep->client_port = 0; /* any but 0 and 443 */
	ep->server_port = 443;
	ep->packets = -1;
	ep->linktype = -1;

	snprintf(path, sizeof path, "%.*s.facts.json", (int)(strlen(pcap_path) - 5), pcap_path);
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	json_value(text, "packets", NULL, 0, &ep->packets);
	json_value(text, "linktype", NULL, 0, &ep->linktype);
	const char *c = json_object(text, "client"), *s = json_object(text, "server");
	json_value(c, "ip", ep->client_ip, sizeof ep->client_ip, NULL);
	if (json_value(c, "port", NULL, 0, &port) == 0)
		ep->client_port = (unsigned long)port;
	json_value(s, "ip", ep->server_ip, sizeof ep->server_ip, NULL);
	if (json_value(s, "port", NULL, 0, &port) == 0)
		ep->server_port = (unsigned long)port;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The encapsulation a link/ sample's name promises (the generator's
 * suffixes, samples/README.md). */
static uint16_t encap_of_name(const char *name)
{
	static const struct {
		const char *suffix;
		uint16_t encap;
	} names[] = {
		{"-vlan.", TD_ENCAP_VLAN},     {"-mpls.", TD_ENCAP_MPLS},
		{"-pppoe.", TD_ENCAP_PPPOE},   {"-ppp.", TD_ENCAP_PPP},
		{"-gre.", TD_ENCAP_GRE},       {"-erspan2.", TD_ENCAP_GRE | TD_ENCAP_ERSPAN},
		{"-vxlan.", TD_ENCAP_VXLAN},   {"-geneve.", TD_ENCAP_GENEVE},
		{"-ipip.", TD_ENCAP_IPIP},     {"-6in4.", TD_ENCAP_IPIP},
		{"-capwap.", TD_ENCAP_CAPWAP | TD_ENCAP_80211},
		{"-capwap-eth.", TD_ENCAP_CAPWAP}, {"-wlan.", TD_ENCAP_80211},
	};
	for (size_t i = 0; i < N(names); i++)
		if (strstr(name, names[i].suffix))
			return names[i].encap;
	return 0;
}

/* Every packet of one sample decodes as TCP between the sample's two
 * endpoints (or, in the "-frag" samples, as an IP fragment); the first is
 * printed. */
static void check_sample(const char *dir, const char *name)
{
	char path[1024], a[64], b[64];
	struct pcap_file pf;
	struct endpoints ep;
	uint8_t *data;
	size_t caplen, wirelen;
	long count = 0;
	int rc;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	sample_endpoints(path, &ep);
	ck_assert_msg(pcap_open(&pf, path) == 0, "%s: not a classic pcap file", path);
	ck_assert_msg(td_decode_link_name(pf.linktype), "%s: link type %d not handled", path,
		      pf.linktype);
	if (ep.linktype >= 0)
		ck_assert_int_eq(pf.linktype, ep.linktype);
	while ((rc = pcap_next_record(&pf, &data, &caplen, &wirelen)) == 1) {
		struct td_tcp_seg seg;
		struct td_decode_info info;
		enum td_decode_result res =
			td_decode_packet_info(pf.linktype, data, caplen, wirelen, &seg, &info);
		count++;
		if (res == TD_DECODE_FRAGMENT && strstr(name, "-frag")) {
			ck_assert_uint_eq(info.frag.missing, 0);
			ck_assert_uint_gt(info.frag.len, 0);
			free(data);
			continue;
		}
		ck_assert_msg(res == TD_DECODE_TCP, "%s packet %ld (%s): %s", path, count,
			      td_decode_link_name(pf.linktype), td_decode_result_name(res));
		td_addr_str(&seg.src, a, sizeof a);
		td_addr_str(&seg.dst, b, sizeof b);
		int from_client = strcmp(a, ep.client_ip) == 0 && strcmp(b, ep.server_ip) == 0;
		int from_server = strcmp(a, ep.server_ip) == 0 && strcmp(b, ep.client_ip) == 0;
		ck_assert_msg(from_client || from_server, "%s packet %ld: %s -> %s", path, count, a, b);
		uint16_t cport = from_client ? seg.sport : seg.dport;
		uint16_t sport = from_client ? seg.dport : seg.sport;
		ck_assert_msg(sport == ep.server_port, "%s packet %ld: server port %u", path, count,
			      sport);
		if (ep.client_port)
			ck_assert_msg(cport == ep.client_port, "%s packet %ld: client port %u", path,
				      count, cport);
		else
			ck_assert_msg(cport != 0 && cport != 443, "%s: client port %u", path, cport);
		ck_assert(seg.payload >= data && seg.payload_len <= caplen);
		ck_assert_uint_le((size_t)(seg.payload - data), caplen - seg.payload_len);
		ck_assert_uint_eq(seg.payload_missing, 0);
		ck_assert_uint_eq(seg.encap, encap_of_name(name));
		ck_assert_uint_eq(info.encap, seg.encap);
		if (count == 1)
			printf("check_decode: %s: %s, %s:%u -> %s:%u, flags 0x%02x%s\n", name,
			       td_decode_link_name(pf.linktype), a, seg.sport, b, seg.dport,
			       seg.flags, seg.encap & TD_ENCAP_VLAN ? ", VLAN" : "");
		free(data);
	}
	ck_assert_msg(rc == 0, "%s: broken record after packet %ld", path, count);
	ck_assert_msg(count > 0, "%s: no packet", path);
	if (ep.packets >= 0)
		ck_assert_int_eq(count, ep.packets);
	fclose(pf.f);
}

START_TEST(test_sample_captures)
{
	const char *dir = TD_SAMPLES_DIR "/link";
	char *names[256];
	size_t n = 0;
	DIR *d = opendir(dir);

	if (!d) {
		printf("check_decode: %s not found: sample-capture test skipped\n", dir);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) && n < N(names)) {
		size_t len = strlen(e->d_name);
		if (len > 5 && strcmp(e->d_name + len - 5, ".pcap") == 0)
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof names[0], cmp_names);
	if (n == 0)
		printf("check_decode: no .pcap in %s: sample-capture test skipped\n", dir);
	for (size_t i = 0; i < n; i++) {
		check_sample(dir, names[i]);
		free(names[i]);
	}
}
END_TEST


/* ---- tunnels: limits and what is not decoded ---- */

/* One GRE level more than TD_DECODE_MAX_NESTING: MALFORMED, not a loop. */
START_TEST(test_tunnel_nesting_bound)
{
	static struct pkt l3, p, in;
	uint16_t type;

	build_v4_tcp(&l3);
	wrap_tunnel(&p, TUN_GRE_GRE, 4, &l3, &type);
	ck_assert_result(decode_result(TD_LINK_RAW, &p, p.n), TD_DECODE_TCP);
	in.n = 0;
	put16(&in, 0);
	put16(&in, 0x0800);
	put_pkt(&in, &p);
	outer_ip(&p, 0, 47, &in);
	ck_assert_result(decode_result(TD_LINK_RAW, &p, p.n), TD_DECODE_MALFORMED);
}
END_TEST

static void decode_unknown(int linktype, const struct pkt *p, enum td_decode_unknown kind,
			   uint32_t value, const char *text)
{
	struct td_decode_info info;
	struct td_tcp_seg seg;
	char buf[64];

	ck_assert_result(td_decode_packet_info(linktype, p->b, p->n, p->n, &seg, &info),
			 TD_DECODE_NOT_TCP);
	ck_assert_uint_eq(info.unknown, kind);
	ck_assert_uint_eq(info.unknown_value, value);
	ck_assert_str_eq(td_decode_unknown_str(kind, value, buf, sizeof buf), text);
}

START_TEST(test_not_decoded_named)
{
	static struct pkt l3, p, in, body;

	build_v4_tcp(&l3);
	/* LLDP */
	wrap_eth(&p, NULL, 0, 0x88CC, &l3);
	decode_unknown(TD_LINK_ETHERNET, &p, TD_UNKNOWN_ETHERTYPE, 0x88CC, "ethertype 0x88cc (LLDP)");
	/* a number nobody registered for the names */
	wrap_eth(&p, NULL, 0, 0x1234, &l3);
	decode_unknown(TD_LINK_ETHERNET, &p, TD_UNKNOWN_ETHERTYPE, 0x1234, "ethertype 0x1234");
	/* an 802.3 length: one row per DSAP, whatever the length (here the
	 * IPv4 header's first byte, 0x45, stands where the DSAP is) */
	wrap_eth(&p, NULL, 0, 100, &l3);
	decode_unknown(TD_LINK_ETHERNET, &p, TD_UNKNOWN_LLC, 0x45, "IEEE 802.3 LLC DSAP 0x45");
	/* spanning tree: DSAP 0x42, SSAP 0x42, UI, then the BPDU */
	body.n = 0;
	put8(&body, 0x42);
	put8(&body, 0x42);
	put8(&body, 0x03);
	put_fill(&body, 0, 35);
	wrap_eth(&p, NULL, 0, (uint16_t)body.n, &body);
	decode_unknown(TD_LINK_ETHERNET, &p, TD_UNKNOWN_LLC, 0x42, "IEEE 802.3 LLC DSAP 0x42 (STP)");
	/* CDP: SNAP with Cisco's OUI 00-00-0C and PID 0x2000 */
	body.n = 0;
	put8(&body, 0xAA);
	put8(&body, 0xAA);
	put8(&body, 0x03);
	put8(&body, 0x00);
	put16(&body, 0x000C);
	put16(&body, 0x2000);
	put_fill(&body, 0, 20);
	wrap_eth(&p, NULL, 0, (uint16_t)body.n, &body);
	decode_unknown(TD_LINK_ETHERNET, &p, TD_UNKNOWN_LLC, 0xAA | 0x2000u << 8 | 1u << 24,
		       "IEEE 802.3 LLC SNAP Cisco PID 0x2000 (CDP)");
	/* SNAP with OUI 00-00-00: the PID is an EtherType (AppleTalk ARP) */
	body.b[5] = 0x00;
	body.b[6] = 0x80;
	body.b[7] = 0xF3;
	wrap_eth(&p, NULL, 0, (uint16_t)body.n, &body);
	decode_unknown(TD_LINK_ETHERNET, &p, TD_UNKNOWN_LLC, 0xAA | 0x80F3u << 8,
		       "IEEE 802.3 LLC SNAP PID 0x80f3 (AARP)");
	/* an LLC header cut after its DSAP: still one row, by that DSAP */
	body.n = 1;
	body.b[0] = 0xAA;
	wrap_eth(&p, NULL, 0, 1, &body);
	decode_unknown(TD_LINK_ETHERNET, &p, TD_UNKNOWN_LLC, 0xAA, "IEEE 802.3 LLC DSAP 0xaa");
	/* PPTP's enhanced GRE (version 1, protocol 0x880B) */
	in.n = 0;
	put16(&in, 0x3001);
	put16(&in, 0x880B);
	put32(&in, 0);
	put_pkt(&in, &l3);
	outer_ip(&p, 0, 47, &in);
	decode_unknown(TD_LINK_RAW, &p, TD_UNKNOWN_GRE, 0x880B, "GRE protocol 0x880b (PPP)");
	/* GRE carrying ARP */
	in.n = 0;
	put16(&in, 0);
	put16(&in, 0x0806);
	put_pkt(&in, &l3);
	outer_ip(&p, 0, 47, &in);
	decode_unknown(TD_LINK_RAW, &p, TD_UNKNOWN_GRE, 0x0806, "GRE protocol 0x0806 (ARP)");
	/* PPP LCP */
	p.n = 0;
	put8(&p, 0xFF);
	put8(&p, 0x03);
	put16(&p, 0xC021);
	put_fill(&p, 0, 8);
	decode_unknown(TD_LINK_PPP, &p, TD_UNKNOWN_PPP, 0xC021, "PPP protocol 0xc021 (LCP)");
	/* MPLS with something that is neither IP nor a control word */
	body.n = 0;
	put32(&body, 16u << 12 | 1u << 8 | 64);
	put_fill(&body, 0x99, 40);
	wrap_eth(&p, NULL, 0, 0x8847, &body);
	decode_unknown(TD_LINK_ETHERNET, &p, TD_UNKNOWN_MPLS, 9,
		       "MPLS payload starting with nibble 9");
	/* plain UDP is simply not TCP: nothing unknown */
	build_udp(&body);
	{
		struct ip4_spec s = ip4_default();
		struct td_decode_info info;
		s.proto = 17;
		build_ipv4(&p, &s, &body);
		ck_assert_result(td_decode_packet_info(TD_LINK_RAW, p.b, p.n, p.n, NULL, &info),
				 TD_DECODE_NOT_TCP);
		ck_assert_uint_eq(info.unknown, TD_UNKNOWN_NONE);
	}
}
END_TEST

/* ---- CAPWAP (RFC 5415 §4.3) and IEEE 802.11 data frames ---- */

/* An IPv4 TCP segment in a CAPWAP packet carrying frame_of(l3); the
 * payload's offset is where it was written. */
static void capwap_wlan(struct pkt *p, const struct capwap_spec *c, const struct wlan_spec *w,
			struct want *want)
{
	static struct pkt l3, frame;
	struct tcp_spec t = tcp_default();

	build_v4_tcp(&l3);
	frame.n = 0;
	put_wlan(&frame, w, 0x0800, &l3);
	capwap_udp(p, c, &frame);
	memset(want, 0, sizeof *want);
	want->family = 4;
	want->tcp = t;
	want->payload_len = t.payload_len;
	want->payload_off = p->n - t.payload_len;
	want->encap = TD_ENCAP_CAPWAP | TD_ENCAP_80211;
}

static struct capwap_spec capwap_default(void)
{
	struct capwap_spec c = {.wbid = 1, .t = 1, .sport = 49152, .dport = 5247};
	return c;
}

static void decode_want(int linktype, const struct pkt *p, const struct want *w)
{
	struct run r;

	run_decode(&r, linktype, p, p->n);
	check_seg(&r, w);
	run_free(&r);
}

/* w around a TCP segment in IPv4, as LINKTYPE_IEEE802_11 frames it. */
static void wlan_alone(struct pkt *p, const struct wlan_spec *w)
{
	static struct pkt l3;

	build_v4_tcp(&l3);
	p->n = 0;
	put_wlan(p, w, 0x0800, &l3);
}

/* HLEN counts the whole header in 4-byte words, the optional Radio MAC
 * Address and Wireless Specific Information with their padding: the frame
 * starts HLEN * 4 bytes after the header's start whatever they are. */
START_TEST(test_capwap_hlen)
{
	static struct pkt p;
	struct wlan_spec w = wlan_default();
	struct want want;
	static const struct {
		unsigned m, w, hlen;
	} cases[] = {{0, 0, 2}, {0, 1, 4}, {1, 0, 4}, {1, 1, 6}};

	for (size_t i = 0; i < N(cases); i++) {
		struct capwap_spec c = capwap_default();
		c.m = cases[i].m;
		c.w = cases[i].w;
		p.n = 0;
		capwap_wlan(&p, &c, &w, &want);
		/* the 802.11 frame begins at 20 (IPv4) + 8 (UDP) + HLEN * 4 */
		ck_assert_uint_eq(p.b[20 + 8 + cases[i].hlen * 4], 0x88); /* QoS Data, PV 0 */
		ck_assert_uint_eq(p.b[20 + 8] , 0);                       /* preamble */
		ck_assert_uint_eq(p.b[20 + 8 + 1] >> 3, cases[i].hlen);
		decode_want(TD_LINK_RAW, &p, &want);
	}
	/* an HLEN below the two fixed words, or one past the datagram */
	for (unsigned hlen = 0; hlen < 2; hlen++) {
		struct capwap_spec c = capwap_default();
		c.hlen = hlen;
		c.hlen_given = 1;
		capwap_wlan(&p, &c, &w, &want);
		ck_assert_result(decode_result(TD_LINK_RAW, &p, p.n), TD_DECODE_MALFORMED);
	}
	struct capwap_spec c = capwap_default();
	c.hlen = 31; /* 124 bytes: more than the UDP length leaves */
	c.hlen_given = 1;
	p.n = 0;
	static struct pkt l3, small;
	build_udp(&l3); /* a 12-byte body after the header */
	small.n = 0;
	put_pkt(&small, &l3);
	capwap_udp(&p, &c, &small);
	ck_assert_result(decode_result(TD_LINK_RAW, &p, p.n), TD_DECODE_MALFORMED);
}
END_TEST

/* T=0: an IEEE 802.3 frame; T=1 with WBID 1 an IEEE 802.11 frame (RFC
 * 5416); other bindings, fragments (F), keep-alives (K), a DTLS preamble
 * and CAPWAP on neither port are not decoded, each as what it is. */
START_TEST(test_capwap_choices)
{
	static struct pkt p, l3, eth;
	struct wlan_spec w = wlan_default();
	struct want want;
	struct capwap_spec c = capwap_default();
	struct td_decode_info info;

	/* T=0: Ethernet, no 802.11 */
	build_v4_tcp(&l3);
	wrap_eth(&eth, NULL, 0, 0x0800, &l3);
	c.t = 0;
	capwap_wlan(&p, &c, &w, &want); /* for want's offsets only */
	p.n = 0;
	capwap_udp(&p, &c, &eth);
	want.payload_off = p.n - want.payload_len;
	want.encap = TD_ENCAP_CAPWAP;
	decode_want(TD_LINK_RAW, &p, &want);
	/* from the AC's port 5247 to the WTP's */
	c = capwap_default();
	c.sport = 5247;
	c.dport = 33000;
	capwap_wlan(&p, &c, &w, &want);
	decode_want(TD_LINK_RAW, &p, &want);
	/* neither port: plain UDP, no tunnel entered */
	c.sport = 5246; /* the control channel */
	c.dport = 33000;
	capwap_wlan(&p, &c, &w, &want);
	ck_assert_result(td_decode_packet_info(TD_LINK_RAW, p.b, p.n, p.n, NULL, &info),
			 TD_DECODE_NOT_TCP);
	ck_assert_uint_eq(info.encap, 0);
	ck_assert_uint_eq(info.unknown, TD_UNKNOWN_NONE);

	c = capwap_default();
	c.wbid = 3; /* EPCGlobal */
	capwap_wlan(&p, &c, &w, &want);
	decode_unknown(TD_LINK_RAW, &p, TD_UNKNOWN_CAPWAP_WBID, 3,
		       "CAPWAP wireless binding 3 (EPCGlobal)");
	c = capwap_default();
	c.f = 1;
	capwap_wlan(&p, &c, &w, &want);
	decode_unknown(TD_LINK_RAW, &p, TD_UNKNOWN_CAPWAP, TD_CAPWAP_FRAGMENT,
		       "CAPWAP data (a fragment, not reassembled)");
	c = capwap_default();
	c.preamble = 0x01; /* RFC 5415 §4.2: CAPWAP DTLS header */
	capwap_wlan(&p, &c, &w, &want);
	decode_unknown(TD_LINK_RAW, &p, TD_UNKNOWN_CAPWAP, TD_CAPWAP_DTLS,
		       "CAPWAP data (DTLS-encrypted)");
	c = capwap_default();
	c.k = 1;
	capwap_wlan(&p, &c, &w, &want);
	ck_assert_result(td_decode_packet_info(TD_LINK_RAW, p.b, p.n, p.n, NULL, &info),
			 TD_DECODE_NOT_TCP);
	ck_assert_uint_eq(info.unknown, TD_UNKNOWN_NONE);
	ck_assert_uint_eq(info.encap, TD_ENCAP_CAPWAP);
	/* preamble version 1, type 2: no such thing */
	for (unsigned pre = 0x10; pre <= 0x12; pre += 2) {
		c = capwap_default();
		c.preamble = pre;
		capwap_wlan(&p, &c, &w, &want);
		ck_assert_result(decode_result(TD_LINK_RAW, &p, p.n), TD_DECODE_MALFORMED);
	}
}
END_TEST

/* The MAC header's length follows the frame: 24 bytes, + 6 with four
 * addresses, + 2 for QoS Control, + 4 for HT Control in a QoS frame with
 * +HTC (in a plain data frame that bit is "Order" and adds nothing). */
START_TEST(test_80211_header_forms)
{
	static struct pkt p;
	struct want want;
	struct capwap_spec c = capwap_default();
	static const struct {
		unsigned subtype, flags;
		size_t hdr_len;
	} forms[] = {
		{0, FC_TO_DS, 24},
		{0, FC_FROM_DS | FC_HTC, 24},
		{0, FC_TO_DS | FC_FROM_DS, 30},
		{8, FC_TO_DS, 26},
		{8, FC_FROM_DS | FC_HTC, 30},
		{8, FC_TO_DS | FC_FROM_DS, 32},
		{8, FC_TO_DS | FC_FROM_DS | FC_HTC, 36},
		{1, FC_TO_DS, 24}, /* Data + CF-Ack: a body */
		{9, FC_FROM_DS, 26},
	};

	for (size_t i = 0; i < N(forms); i++) {
		struct wlan_spec w = wlan_default();
		w.subtype = forms[i].subtype;
		w.flags = forms[i].flags;
		capwap_wlan(&p, &c, &w, &want);
		/* frame = header + 8 (LLC/SNAP) + the IPv4 packet (20, TCP 20 + 12
		 * of options, payload) */
		ck_assert_uint_eq(p.n - (20 + 8 + 8), forms[i].hdr_len + 8 + 52 + want.payload_len);
		decode_want(TD_LINK_RAW, &p, &want);
		/* the same frame alone, as LINKTYPE_IEEE802_11 */
		static struct pkt alone;
		wlan_alone(&alone, &w);
		struct want wa = want;
		wa.payload_off = alone.n - wa.payload_len;
		wa.encap = TD_ENCAP_80211;
		decode_want(TD_LINK_IEEE802_11, &alone, &wa);
	}
}
END_TEST

/* Cisco's access points swap Frame Control's two bytes in CAPWAP and leave
 * a value in the fragment number (RFC 5416 §2.2: the WTP reassembles); on
 * the air (linktype 105) neither is so. */
START_TEST(test_80211_capwap_quirks)
{
	static struct pkt p, alone;
	struct want want;
	struct capwap_spec c = capwap_default();
	struct wlan_spec w = wlan_default();

	w.swap = 1;
	w.frag = 6;
	capwap_wlan(&p, &c, &w, &want);
	decode_want(TD_LINK_RAW, &p, &want);
	w.flags = FC_FROM_DS;
	capwap_wlan(&p, &c, &w, &want);
	decode_want(TD_LINK_RAW, &p, &want);

	w = wlan_default();
	w.frag = 6;
	wlan_alone(&alone, &w);
	decode_unknown(TD_LINK_IEEE802_11, &alone, TD_UNKNOWN_80211_UNREAD, TD_80211_FRAGMENT,
		       "IEEE 802.11 data frame (a fragment, not reassembled)");
	/* a swapped To DS frame read as is: protocol version 1 */
	w = wlan_default();
	w.swap = 1;
	wlan_alone(&alone, &w);
	decode_unknown(TD_LINK_IEEE802_11, &alone, TD_UNKNOWN_80211_UNREAD, TD_80211_S1G,
		       "IEEE 802.11 data frame (S1G, protocol version 1)");
	/* protocol versions 2 and 3 are reserved */
	w = wlan_default();
	w.pv = 2;
	wlan_alone(&alone, &w);
	ck_assert_result(decode_result(TD_LINK_IEEE802_11, &alone, alone.n), TD_DECODE_MALFORMED);
}
END_TEST

/* Frames whose body is not an IP packet to read: each named. */
START_TEST(test_80211_not_decoded)
{
	static struct pkt p;
	struct want want;
	struct capwap_spec c = capwap_default();
	struct wlan_spec w;
	static const struct {
		unsigned type, subtype;
		const char *text;
	} nodata[] = {
		{0, 8, "IEEE 802.11 type/subtype 0x0008 (Beacon)"},
		{0, 13, "IEEE 802.11 type/subtype 0x000d (Action)"},
		{1, 13, "IEEE 802.11 type/subtype 0x001d (ACK)"},
		{2, 4, "IEEE 802.11 type/subtype 0x0024 (Null function)"},
		{2, 12, "IEEE 802.11 type/subtype 0x002c (QoS Null function)"},
		{2, 6, "IEEE 802.11 type/subtype 0x0026"}, /* CF-Poll, no data */
		{3, 0, "IEEE 802.11 type/subtype 0x0030"}, /* extension */
	};

	for (size_t i = 0; i < N(nodata); i++) {
		w = wlan_default();
		w.type = nodata[i].type;
		w.subtype = nodata[i].subtype;
		capwap_wlan(&p, &c, &w, &want);
		decode_unknown(TD_LINK_RAW, &p, TD_UNKNOWN_80211,
			       nodata[i].type << 4 | nodata[i].subtype, nodata[i].text);
	}
	w = wlan_default();
	w.flags |= FC_PROTECTED;
	capwap_wlan(&p, &c, &w, &want);
	decode_unknown(TD_LINK_RAW, &p, TD_UNKNOWN_80211_UNREAD, TD_80211_PROTECTED,
		       "IEEE 802.11 data frame (protected: encrypted)");
	w = wlan_default();
	w.flags |= FC_MORE_FRAG;
	capwap_wlan(&p, &c, &w, &want);
	decode_unknown(TD_LINK_RAW, &p, TD_UNKNOWN_80211_UNREAD, TD_80211_FRAGMENT,
		       "IEEE 802.11 data frame (a fragment, not reassembled)");
	w = wlan_default();
	w.amsdu = 1;
	capwap_wlan(&p, &c, &w, &want);
	decode_unknown(TD_LINK_RAW, &p, TD_UNKNOWN_80211_UNREAD, TD_80211_AMSDU,
		       "IEEE 802.11 data frame (an A-MSDU, not split)");
	/* LLC that is not SNAP, SNAP with another OUI (Cisco's) */
	w = wlan_default();
	w.not_snap = 1;
	capwap_wlan(&p, &c, &w, &want);
	decode_unknown(TD_LINK_RAW, &p, TD_UNKNOWN_LLC, 0x42, "IEEE 802.3 LLC DSAP 0x42 (STP)");
	w = wlan_default();
	w.oui = 0x00000C;
	capwap_wlan(&p, &c, &w, &want);
	decode_unknown(TD_LINK_RAW, &p, TD_UNKNOWN_LLC, 0xAA | 0x0800u << 8 | 1u << 24,
		       "IEEE 802.3 LLC SNAP Cisco PID 0x0800");
	/* the bridge-tunnel OUI (IEEE 802.1H) also carries an EtherType */
	w = wlan_default();
	w.oui = 0x0000F8;
	capwap_wlan(&p, &c, &w, &want);
	decode_want(TD_LINK_RAW, &p, &want);
	/* an EtherType that is not IP: EAPOL */
	static struct pkt l3, frame;
	w = wlan_default();
	build_udp(&l3);
	frame.n = 0;
	put_wlan(&frame, &w, 0x888E, &l3);
	capwap_udp(&p, &c, &frame);
	decode_unknown(TD_LINK_RAW, &p, TD_UNKNOWN_ETHERTYPE, 0x888E,
		       "ethertype 0x888e (EAPOL, 802.1X)");
}
END_TEST

/* p cut at every length: TRUNCATED while the cut is inside the first
 * need bytes (the headers decode must read to decide), then NOT_TCP with
 * the unknown field of the whole packet; never a crash (each cut copy is
 * exactly caplen bytes). */
static void sweep_not_decoded(const struct pkt *p, size_t need, enum td_decode_unknown kind,
			      uint32_t value)
{
	for (size_t cut = 0; cut <= p->n; cut++) {
		struct td_decode_info info;
		uint8_t *b = malloc(cut ? cut : 1);
		ck_assert_ptr_nonnull(b);
		memcpy(b, p->b, cut);
		enum td_decode_result r = td_decode_packet_info(TD_LINK_RAW, b, cut, p->n, NULL, &info);
		ck_assert_result(r, cut < need ? TD_DECODE_TRUNCATED : TD_DECODE_NOT_TCP);
		if (cut >= need) {
			ck_assert_uint_eq(info.unknown, kind);
			ck_assert_uint_eq(info.unknown_value, value);
		}
		free(b);
	}
}

START_TEST(test_capwap_truncation_not_decoded)
{
	static struct pkt p;
	struct want want;
	struct capwap_spec c = capwap_default();
	struct wlan_spec w = wlan_default();

	/* protected: decided after the whole MAC header (IPv4, UDP, CAPWAP,
	 * 26 bytes of QoS data header) */
	w.flags |= FC_PROTECTED;
	capwap_wlan(&p, &c, &w, &want);
	sweep_not_decoded(&p, 20 + 8 + 8 + 26, TD_UNKNOWN_80211_UNREAD, TD_80211_PROTECTED);
	/* a CAPWAP fragment: after the CAPWAP header and its optional fields */
	c.m = c.w = 1;
	c.f = 1;
	w = wlan_default();
	capwap_wlan(&p, &c, &w, &want);
	sweep_not_decoded(&p, 20 + 8 + 24, TD_UNKNOWN_CAPWAP, TD_CAPWAP_FRAGMENT);
}
END_TEST

START_TEST(test_encap_names)
{
	static const char *const want[] = {"vlan",   "mpls",   "ppp",      "pppoe", "gre",
					   "erspan", "vxlan",  "geneve",   "ip-in-ip", "gtp-u",
					   "capwap", "802.11", "openvpn"};
	ck_assert_uint_eq(N(want), TD_ENCAP_COUNT);
	for (unsigned i = 0; i < TD_ENCAP_COUNT; i++)
		ck_assert_str_eq(td_encap_name(i), want[i]);
	ck_assert_ptr_null(td_encap_name(TD_ENCAP_COUNT));
	ck_assert_uint_eq(TD_ENCAP_VLAN, 1u << 0);
	ck_assert_uint_eq(TD_ENCAP_IPIP, 1u << 8);
}
END_TEST

/* An IPv4 fragment hands out what reassembly needs. */
START_TEST(test_fragment_info)
{
	static struct pkt l4, p;
	struct tcp_spec t = tcp_default();
	struct ip4_spec s = ip4_default();
	struct td_decode_info info;

	build_tcp(&l4, &t);
	s.flags_frag = 0x2000 | 3; /* MF, offset 24 bytes */
	build_ipv4(&p, &s, &l4);
	ck_assert_result(td_decode_packet_info(TD_LINK_RAW, p.b, p.n, p.n, NULL, &info),
			 TD_DECODE_FRAGMENT);
	ck_assert_uint_eq(info.frag.offset, 24);
	ck_assert(info.frag.more);
	ck_assert_uint_eq(info.frag.id, 0x4242);
	ck_assert_uint_eq(info.frag.proto, 6);
	ck_assert_uint_eq(info.frag.len, l4.n);
	ck_assert_ptr_eq(info.frag.data, p.b + 20);
	ck_assert_uint_eq(info.frag.src.family, 4);
	ck_assert_uint_eq(info.frag.missing, 0);
}
END_TEST

Suite *td_decode_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *tc;

	tc = tcase_create("link");
	tcase_add_loop_test(tc, test_variant_full, 0, (int)N(variants));
	tcase_add_test(tc, test_ethernet_not_ip);
	tcase_add_test(tc, test_sll_not_ip);
	tcase_add_test(tc, test_null_loop_families);
	tcase_add_test(tc, test_raw_version_nibble);
	tcase_add_test(tc, test_unsupported_link);
	tcase_add_test(tc, test_tunnel_nesting_bound);
	tcase_add_test(tc, test_not_decoded_named);
	tcase_add_test(tc, test_encap_names);
	tcase_add_test(tc, test_fragment_info);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_addr_str);
	suite_add_tcase(s, tc);

	tc = tcase_create("capwap");
	tcase_add_test(tc, test_capwap_hlen);
	tcase_add_test(tc, test_capwap_choices);
	tcase_add_test(tc, test_80211_header_forms);
	tcase_add_test(tc, test_80211_capwap_quirks);
	tcase_add_test(tc, test_80211_not_decoded);
	tcase_add_test(tc, test_capwap_truncation_not_decoded);
	suite_add_tcase(s, tc);

	tc = tcase_create("ipv4");
	tcase_add_test(tc, test_ipv4_options);
	tcase_add_test(tc, test_ipv4_fragments);
	tcase_add_test(tc, test_ipv4_not_tcp);
	tcase_add_test(tc, test_ipv4_malformed);
	tcase_add_test(tc, test_ipv4_lengths);
	tcase_add_test(tc, test_ipv4_tso_total_zero);
	tcase_add_test(tc, test_ethernet_padding);
	suite_add_tcase(s, tc);

	tc = tcase_create("tcp");
	tcase_add_test(tc, test_tcp_data_offset);
	tcase_add_test(tc, test_tcp_flags);
	suite_add_tcase(s, tc);

	tc = tcase_create("ipv6");
	tcase_add_test(tc, test_ipv6_extension_headers);
	tcase_add_test(tc, test_ipv6_fragments);
	tcase_add_test(tc, test_ipv6_not_tcp);
	tcase_add_test(tc, test_ipv6_malformed);
	tcase_add_test(tc, test_ipv6_jumbogram);
	tcase_add_test(tc, test_ipv6_extension_bound);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_set_timeout(tc, 120); /* slow under Valgrind */
	tcase_add_loop_test(tc, test_variant_truncation_sweep, 0, (int)N(variants));
	tcase_add_loop_test(tc, test_mutations, 0, (int)N(variants));
	suite_add_tcase(s, tc);

	tc = tcase_create("samples");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sample_captures);
	suite_add_tcase(s, tc);

	return s;
}
