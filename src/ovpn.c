/* ovpn.c - the TLS inside an OpenVPN control channel over TCP (see
 * td_ovpn.h). */
#include "td_ovpn.h"

#include <string.h>

#include "td_reader.h"

/* Opcodes (the top 5 bits of a packet's first byte). */
#define P_CONTROL_HARD_RESET_CLIENT_V1 1
#define P_CONTROL_V1 4
#define P_CONTROL_HARD_RESET_CLIENT_V2 7
#define P_CONTROL_HARD_RESET_CLIENT_V3 10
#define OPCODE_SHIFT 3
#define KEY_ID_MASK 0x07

#define SESSION_ID_LEN 8
#define PACKET_ID_LEN 4
#define ACK_MAX 8 /* RELIABLE_ACK_SIZE: the acks one packet carries */
#define MIN_RESET_LEN (1 + SESSION_ID_LEN + 1 + PACKET_ID_LEN)
#define MAX_RESET_LEN 1024

/* The tls-auth fields a packet may carry after its session id: none, or
 * an HMAC of MD5, SHA-1, SHA-256, SHA-384 or SHA-512 and the replay
 * protection's packet id and time (4 + 4). */
static const int16_t hmac_sizes[] = {0, 16 + 8, 20 + 8, 32 + 8, 48 + 8, 64 + 8};

bool td_ovpn_detect(int dir, const uint8_t *p, size_t n)
{
	struct td_reader r;
	uint16_t len;
	uint8_t op;

	if (dir != 0)
		return false;
	td_reader_init(&r, p, n);
	if (td_read_u16(&r, &len) != TD_OK || td_read_u8(&r, &op) != TD_OK)
		return false;
	unsigned opcode = op >> OPCODE_SHIFT;
	return (opcode == P_CONTROL_HARD_RESET_CLIENT_V2 ||
		opcode == P_CONTROL_HARD_RESET_CLIENT_V3 ||
		opcode == P_CONTROL_HARD_RESET_CLIENT_V1) &&
	       (op & KEY_ID_MASK) == 0 && len >= MIN_RESET_LEN && len <= MAX_RESET_LEN &&
	       n >= 2u + len;
}

void td_ovpn_init(struct td_ovpn *o)
{
	memset(o, 0, sizeof *o);
	o->hmac = -1;
}

/* Where a P_CONTROL_V1's TLS bytes start in head[0..have), when its
 * tls-auth fields take hmac bytes; 0 when the header does not fit. */
static size_t tls_offset(const uint8_t *head, size_t have, int16_t hmac)
{
	struct td_reader r;
	uint8_t acks;

	td_reader_init(&r, head, have);
	if (td_read_skip(&r, 1 + SESSION_ID_LEN + (size_t)hmac) != TD_OK ||
	    td_read_u8(&r, &acks) != TD_OK || acks > ACK_MAX ||
	    td_read_skip(&r, (size_t)acks * PACKET_ID_LEN + (acks ? SESSION_ID_LEN : 0) +
				     PACKET_ID_LEN) != TD_OK)
		return 0;
	return r.off;
}

/* The first TLS bytes of a control channel are a handshake record's
 * header (content type 22, major version 3). */
static bool starts_tls(const uint8_t *head, size_t have, size_t off)
{
	struct td_reader r;
	uint8_t type, major;

	td_reader_init(&r, head, have);
	return td_read_skip(&r, off) == TD_OK && td_read_u8(&r, &type) == TD_OK && type == 22 &&
	       td_read_u8(&r, &major) == TD_OK && major == 3;
}

enum phase { PHASE_HEAD, PHASE_TLS, PHASE_SKIP };

/* The current packet's header is in head (all of it, or TD_OVPN_HEAD
 * bytes): decides whether its TLS bytes flow, and hands over those already
 * in head. */
static void control_header(struct td_ovpn *o, int dir, td_ovpn_tls_fn out, void *user)
{
	struct td_ovpn_dir *d = &o->d[dir];
	size_t off = 0;

	d->phase = PHASE_SKIP;
	if (o->hmac < 0) {
		for (size_t i = 0; i < sizeof hmac_sizes / sizeof hmac_sizes[0]; i++) {
			off = tls_offset(d->head, d->have, hmac_sizes[i]);
			if (off && starts_tls(d->head, d->have, off)) {
				o->hmac = hmac_sizes[i];
				break;
			}
			off = 0;
		}
		if (!off) {
			o->lost = true; /* --tls-crypt, or not OpenVPN */
			return;
		}
	} else {
		off = tls_offset(d->head, d->have, o->hmac);
		if (!off)
			return; /* a header that does not parse: the packet is passed over */
	}
	o->control_packets[dir]++;
	d->phase = PHASE_TLS;
	if (d->have > off) {
		o->tls_bytes[dir] += d->have - off;
		out(user, dir, d->head + off, d->have - off);
	}
}

void td_ovpn_feed(struct td_ovpn *o, int dir, const uint8_t *p, size_t n, td_ovpn_tls_fn out,
		  void *user)
{
	struct td_ovpn_dir *d = &o->d[dir & 1];
	struct td_reader r;

	dir &= 1;
	td_reader_init(&r, p, n);
	while (!o->lost && td_reader_left(&r)) {
		if (d->len_have < 2) {
			uint8_t b;

			if (td_read_u8(&r, &b) != TD_OK)
				break;
			d->len = d->len_have == 0 ? b : (uint16_t)(d->len << 8 | b);
			if (++d->len_have == 2) {
				d->done = 0;
				d->have = 0;
				d->phase = PHASE_HEAD;
				if (d->len == 0)
					d->len_have = 0; /* an empty packet */
			}
			continue;
		}
		size_t left = (size_t)(d->len - d->done);
		size_t k = td_reader_left(&r) < left ? td_reader_left(&r) : left;
		const uint8_t *chunk;

		if (d->phase == PHASE_HEAD) {
			size_t target = d->len < TD_OVPN_HEAD ? d->len : TD_OVPN_HEAD;

			k = k < target - d->have ? k : target - d->have;
			if (td_read_bytes(&r, d->head + d->have, k) != TD_OK)
				break;
			d->have = (uint16_t)(d->have + k);
			if ((d->head[0] >> OPCODE_SHIFT) != P_CONTROL_V1)
				d->phase = PHASE_SKIP; /* resets, acks, data: passed over */
			else if (d->have == target)
				control_header(o, dir, out, user);
		} else {
			if (td_read_ptr(&r, &chunk, k) != TD_OK)
				break;
			if (d->phase == PHASE_TLS) {
				o->tls_bytes[dir] += k;
				out(user, dir, chunk, k);
			}
		}
		d->done = (uint16_t)(d->done + k);
		if (d->done == d->len)
			d->len_have = 0;
	}
}
