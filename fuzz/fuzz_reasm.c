/* fuzz_reasm.c - the TCP reassembler on segments described by the input.
 *
 * Input layout:
 *   byte 0-3  initial sequence number (big-endian: wrap-around is reached)
 *   byte 4    max_held_segs
 *   byte 5-6  max_held_bytes
 *   byte 7    bit 0: a SYN comes first (else the stream is picked up
 *             mid-stream at the first segment)
 *   then      6-byte operations:
 *               flags  bit 0 FIN, bit 1 payload differs from the stream,
 *                      bit 2 offset counts backwards from the ISN,
 *                      bit 3 NULL payload, bit 4 a SYN at the offset
 *                      instead of a segment
 *               offset 24 bits from the ISN
 *               length 12 bits (the top 4 bits of the field are ignored:
 *                      short segments run faster, and 16 of them reach
 *                      any cap byte 5-6 can set)
 *
 * Every segment's payload is the stream's own bytes at its sequence
 * numbers (a function of the number), unless bit 1 says otherwise. Checked
 * after every call: held bytes and segments never above their caps; the
 * bytes delivered plus the gaps reported account exactly for how far the
 * stream moved (next_seq); while no differing copy was sent, every byte
 * delivered is the stream's byte at its sequence number; after the flush
 * nothing is held and a FIN seen is reached.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "td_reasm.h"

#define OP_FIN 0x01
#define OP_DIFFER 0x02
#define OP_BACK 0x04
#define OP_NULL 0x08
#define OP_SYN 0x10

struct model {
	bool cursor_set;
	uint32_t cursor;    /* sequence number of the next byte the sink expects */
	bool differ;        /* a differing copy was sent: content not checked */
	uint64_t delivered; /* bytes the sink received */
};

static uint8_t stream_byte(uint32_t seq)
{
	return (uint8_t)((seq * 2654435761u) >> 24);
}

static void on_data(void *user, int dir, const uint8_t *p, size_t n, uint32_t frame,
		    struct td_time ts)
{
	struct model *m = user;

	(void)frame;
	(void)ts;
	FUZZ_ASSERT(dir == 1 && n > 0 && p != NULL && m->cursor_set);
	for (size_t i = 0; i < n && !m->differ; i++)
		FUZZ_ASSERT(p[i] == stream_byte(m->cursor + (uint32_t)i));
	m->cursor += (uint32_t)n;
	m->delivered += n;
}

static void on_gap(void *user, int dir, uint64_t missing, uint32_t frame, struct td_time ts)
{
	struct model *m = user;

	(void)frame;
	(void)ts;
	FUZZ_ASSERT(dir == 1 && missing > 0 && missing <= UINT32_MAX && m->cursor_set);
	m->cursor += (uint32_t)missing;
}

static void check(const struct td_reasm_dir *d, const struct td_reasm_limits *lim,
		  const struct model *m)
{
	FUZZ_ASSERT(d->held_bytes <= lim->max_held_bytes);
	FUZZ_ASSERT(d->held_segs <= lim->max_held_segs);
	FUZZ_ASSERT((d->held == NULL) == (d->held_segs == 0));
	FUZZ_ASSERT(d->held_segs == 0 || d->held_bytes > 0);
	FUZZ_ASSERT(d->c.bytes_delivered == m->delivered);
	if (m->cursor_set)
		FUZZ_ASSERT(m->cursor == d->next_seq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t payload[4096];
	struct td_reasm_dir d;
	struct td_reasm_limits lim;
	struct model m = {0};
	struct td_reasm_sink sink = {on_data, on_gap, &m};
	uint32_t frame = 0;

	if (size < 8)
		return 0;
	uint32_t isn = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
		       (uint32_t)data[2] << 8 | data[3];
	lim.max_held_segs = data[4];
	lim.max_held_bytes = (size_t)data[5] << 8 | data[6];
	td_reasm_init(&d);
	if (data[7] & 1) {
		td_reasm_syn(&d, isn);
		m.cursor_set = true;
		m.cursor = isn + 1;
	}
	for (size_t at = 8; size - at >= 6; at += 6) {
		const uint8_t *op = data + at;
		uint32_t off = (uint32_t)op[1] << 16 | (uint32_t)op[2] << 8 | op[3];
		uint32_t seq = op[0] & OP_BACK ? isn - off : isn + off;
		size_t len = ((size_t)op[4] << 8 | op[5]) & 0x0fff;
		struct td_time ts = {1, (int32_t)frame};

		frame++;
		if (op[0] & OP_SYN) {
			/* td_reasm.h: the same SYN, or one just before a
			 * pickup, keeps the stream; another restarts it */
			bool same = d.started && (seq == d.isn || seq + 1 == d.isn);
			td_reasm_syn(&d, seq);
			if (!same) {
				m.cursor_set = true;
				m.cursor = seq + 1;
			}
			check(&d, &lim, &m);
			continue;
		}
		for (size_t i = 0; i < len; i++)
			payload[i] = (uint8_t)(stream_byte(seq + (uint32_t)i) ^
					       (op[0] & OP_DIFFER ? 0x5a : 0));
		if ((op[0] & OP_DIFFER) && len)
			m.differ = true;
		if (!d.started) {
			m.cursor_set = true;
			m.cursor = seq;
		}
		td_reasm_segment(&d, &lim, &sink, 1, seq, op[0] & OP_FIN,
				 op[0] & OP_NULL ? NULL : payload, len, frame, ts);
		check(&d, &lim, &m);
	}
	td_reasm_flush(&d, &sink, 1);
	check(&d, &lim, &m);
	FUZZ_ASSERT(d.held == NULL && d.held_bytes == 0);
	if (d.fin_seen)
		FUZZ_ASSERT(d.next_seq == d.fin_seq);
	td_reasm_free(&d);
	return 0;
}
