/* check_reasm.c - unit tests of the TCP reassembler (td_reasm.h).
 *
 * Every expectation is computed by the test itself, never by the code under
 * test: a known byte string is cut into segments, the segments are fed in
 * some order, and what the sink received is laid out by stream offset and
 * compared with the original, byte by byte, along with the frame each byte
 * was reported with.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_decode.h"
#include "td_engine.h"
#include "td_reasm.h"
#include "td_test_util.h"
#include "td_x509.h"

#define MAXS 65536 /* longest stream a test builds */
#define MAXEV 8192 /* most sink events a test records */

struct event {
	bool gap;
	size_t off, n; /* stream offset, bytes */
	uint32_t frame;
	struct td_time ts;
	const uint8_t *p; /* data: the pointer the sink was given */
};

/* What the sink received, laid out by stream offset. */
struct collect {
	uint8_t data[MAXS];
	uint32_t frame[MAXS];
	bool missing[MAXS];
	size_t off; /* bytes delivered + bytes reported missing */
	size_t nev;
	struct event ev[MAXEV];
	int dir;
};

static void on_data(void *user, int dir, const uint8_t *p, size_t n, uint32_t frame,
		    struct td_time ts)
{
	struct collect *c = user;

	ck_assert_int_eq(dir, c->dir);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_le(n, MAXS - c->off);
	ck_assert_uint_lt(c->nev, MAXEV);
	memcpy(c->data + c->off, p, n);
	for (size_t i = 0; i < n; i++)
		c->frame[c->off + i] = frame;
	c->ev[c->nev++] = (struct event){ false, c->off, n, frame, ts, p };
	c->off += n;
}

static void on_gap(void *user, int dir, uint64_t missing, uint32_t frame, struct td_time ts)
{
	struct collect *c = user;

	ck_assert_int_eq(dir, c->dir);
	ck_assert_uint_gt(missing, 0);
	ck_assert_uint_le(missing, MAXS - c->off);
	ck_assert_uint_lt(c->nev, MAXEV);
	for (size_t i = 0; i < missing; i++)
		c->missing[c->off + i] = true;
	c->ev[c->nev++] = (struct event){ true, c->off, (size_t)missing, frame, ts, NULL };
	c->off += (size_t)missing;
}

/* One test's fixture: the stream, its reassembler, its sink. */
struct fix {
	struct td_reasm_dir d;
	struct td_reasm_limits lim;
	struct td_reasm_sink sink;
	struct collect *col;
	uint8_t pat[MAXS];
	uint32_t isn; /* sequence number of pat[0] */
};

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static uint32_t rnd(uint32_t *s, uint32_t n)
{
	return xorshift32(s) % n;
}

static struct fix *fix_new(uint32_t isn, uint32_t seed)
{
	struct fix *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(f);
	f->col = calloc(1, sizeof(*f->col));
	ck_assert_ptr_nonnull(f->col);
	f->col->dir = 1;
	td_reasm_init(&f->d);
	f->lim = (struct td_reasm_limits){ 1 << 20, 1 << 16 };
	f->sink = (struct td_reasm_sink){ on_data, on_gap, f->col };
	/* A pattern with no short period, so a byte in the wrong place
	 * shows. */
	seed = seed ? seed : 0x9e3779b9u;
	for (size_t i = 0; i < MAXS; i++)
		f->pat[i] = (uint8_t)xorshift32(&seed);
	f->isn = isn;
	return f;
}

static void fix_free(struct fix *f)
{
	td_reasm_free(&f->d);
	free(f->col);
	free(f);
}

/* Feeds pat[off, off + len) as one segment; the frame number doubles as
 * its timestamp's seconds. */
static void feed_fin(struct fix *f, size_t off, size_t len, uint32_t frame, bool fin)
{
	td_reasm_segment(&f->d, &f->lim, &f->sink, 1, f->isn + (uint32_t)off, fin, f->pat + off,
			 len, frame, (struct td_time){ frame, 0 });
	ck_assert_uint_le(f->d.held_bytes, f->lim.max_held_bytes);
	ck_assert_uint_le(f->d.held_segs, f->lim.max_held_segs);
}

static void feed(struct fix *f, size_t off, size_t len, uint32_t frame)
{
	feed_fin(f, off, len, frame, false);
}

/* Feeds other bytes for [off, off + len). */
static void feed_bytes(struct fix *f, size_t off, const uint8_t *p, size_t len, uint32_t frame)
{
	td_reasm_segment(&f->d, &f->lim, &f->sink, 1, f->isn + (uint32_t)off, false, p, len, frame,
			 (struct td_time){ frame, 0 });
}

static void syn(struct fix *f)
{
	td_reasm_syn(&f->d, f->isn - 1);
}

/* The stream received equals pat[0, n). */
static void assert_stream(const struct fix *f, size_t n)
{
	ck_assert_uint_eq(f->col->off, n);
	ck_assert_mem_eq(f->col->data, f->pat, n);
}

/* Per-byte checks test plainly and abort on a mismatch: every passing
 * ck_assert records a check point, which costs too much byte by byte (and
 * far more under valgrind). */
static void assert_frames(const struct fix *f, size_t from, size_t to, uint32_t frame)
{
	for (size_t i = from; i < to; i++)
		if (f->col->frame[i] != frame)
			ck_abort_msg("byte %zu: frame %u, expected %u", i, f->col->frame[i], frame);
}

static void assert_event(const struct fix *f, size_t i, bool gap, size_t off, size_t n,
			 uint32_t frame)
{
	const struct event *e;

	ck_assert_uint_lt(i, f->col->nev);
	e = &f->col->ev[i];
	ck_assert_msg(e->gap == gap && e->off == off && e->n == n && e->frame == frame,
		      "event %zu: %s off %zu n %zu frame %u; expected %s off %zu n %zu frame %u", i,
		      e->gap ? "gap" : "data", e->off, e->n, e->frame, gap ? "gap" : "data", off,
		      n, frame);
}

START_TEST(in_order)
{
	struct fix *f = fix_new(1000, 1);

	syn(f);
	for (uint32_t i = 0; i < 30; i++)
		feed(f, i * 100, 100, i + 1);
	assert_stream(f, 3000);
	ck_assert_uint_eq(f->col->nev, 30);
	for (uint32_t i = 0; i < 30; i++) {
		assert_event(f, i, false, i * 100, 100, i + 1);
		/* delivered from the caller's buffer, not copied */
		ck_assert_ptr_eq(f->col->ev[i].p, f->pat + i * 100);
		ck_assert_int_eq(f->col->ev[i].ts.sec, i + 1);
	}
	ck_assert_uint_eq(f->d.c.segments, 30);
	ck_assert_uint_eq(f->d.c.bytes_delivered, 3000);
	ck_assert_uint_eq(f->d.c.out_of_order, 0);
	ck_assert_uint_eq(f->d.c.retransmissions, 0);
	ck_assert_uint_eq(f->d.c.largest_segment, 100);
	ck_assert_uint_eq(f->d.next_seq, 1000 + 3000);
	ck_assert_uint_eq(f->d.isn, 999);
	fix_free(f);
}
END_TEST

START_TEST(reversed)
{
	struct fix *f = fix_new(5000, 2);

	syn(f);
	for (uint32_t i = 30; i-- > 1;) {
		feed(f, i * 100, 100, 30 - i);
		ck_assert_uint_eq(f->col->off, 0);
		ck_assert_uint_eq(f->d.held_segs, 30 - i);
		ck_assert_uint_eq(f->d.held_bytes, (30 - i) * 100);
	}
	feed(f, 0, 100, 30);
	assert_stream(f, 3000);
	assert_frames(f, 0, 100, 30);
	for (uint32_t i = 1; i < 30; i++)
		assert_frames(f, i * 100, i * 100 + 100, 30 - i);
	ck_assert_uint_eq(f->d.c.out_of_order, 29);
	ck_assert_uint_eq(f->d.held_segs, 0);
	ck_assert_uint_eq(f->d.held_bytes, 0);
	ck_assert_uint_eq(f->d.c.gaps, 0);
	fix_free(f);
}
END_TEST

/* Segments for the property tests: a cut of [0, n) into pieces, plus
 * copies of random ranges (equal bytes), shuffled. */
struct seg {
	size_t off, len;
};

static size_t make_segments(uint32_t *s, size_t n, struct seg *out, size_t max)
{
	size_t k = 0, extra;

	for (size_t off = 0; off < n;) {
		size_t len = 1 + rnd(s, 300);

		if (len > n - off)
			len = n - off;
		out[k++] = (struct seg){ off, len };
		off += len;
	}
	extra = rnd(s, (uint32_t)(k / 2 + 2));
	for (size_t i = 0; i < extra && k < max; i++) {
		size_t off = rnd(s, (uint32_t)n), len = 1 + rnd(s, 400);

		if (len > n - off)
			len = n - off;
		out[k++] = (struct seg){ off, len };
	}
	for (size_t i = k; i > 1; i--) {
		size_t j = rnd(s, (uint32_t)i);
		struct seg t = out[i - 1];

		out[i - 1] = out[j];
		out[j] = t;
	}
	return k;
}

/* Frame expected for each byte: the first segment fed that carried it
 * (first copy wins). */
static void expected_frames(const struct seg *sg, size_t k, size_t n, uint32_t *exp)
{
	memset(exp, 0, n * sizeof(*exp));
	for (size_t i = 0; i < k; i++)
		for (size_t b = sg[i].off; b < sg[i].off + sg[i].len; b++)
			if (!exp[b])
				exp[b] = (uint32_t)i + 1;
}

static uint32_t property_isn(uint32_t *s, size_t n, int seed)
{
	/* Every third seed crosses the 2^32 wrap inside the stream. */
	if (seed % 3 == 0)
		return 0u - 1u - rnd(s, (uint32_t)n);
	return xorshift32(s);
}

/* Any order, duplicates and overlaps of equal bytes: the stream comes out
 * whole, each byte with the frame that carried it first. */
START_TEST(property_permutations)
{
	uint32_t s = 0x1234567u + (uint32_t)_i * 7919u;
	size_t n = 1 + rnd(&s, 6000), k;
	struct seg *sg = calloc(4096, sizeof(*sg));
	uint32_t *exp = calloc(n, sizeof(*exp));
	struct fix *f = fix_new(0, (uint32_t)_i + 1);

	ck_assert_ptr_nonnull(sg);
	ck_assert_ptr_nonnull(exp);
	f->isn = property_isn(&s, n, _i);
	k = make_segments(&s, n, sg, 4096);
	expected_frames(sg, k, n, exp);
	syn(f);
	for (size_t i = 0; i < k; i++)
		feed(f, sg[i].off, sg[i].len, (uint32_t)i + 1);

	assert_stream(f, n);
	for (size_t b = 0; b < n; b++)
		if (f->col->frame[b] != exp[b])
			ck_abort_msg("seed %d byte %zu: frame %u, expected %u", _i, b,
				     f->col->frame[b], exp[b]);
	ck_assert_uint_eq(f->d.c.gaps, 0);
	ck_assert_uint_eq(f->d.c.overlaps_differ, 0);
	ck_assert_uint_eq(f->d.c.bytes_delivered, n);
	ck_assert_uint_eq(f->d.held_bytes, 0);
	ck_assert_ptr_null(f->d.held);
	ck_assert_uint_eq(f->d.next_seq, f->isn + (uint32_t)n);
	ck_assert_uint_eq(f->d.c.segments, k);
	free(sg);
	free(exp);
	fix_free(f);
}
END_TEST

/* The same under small caps: memory never above them, every byte either
 * delivered in its place with the right frame or reported missing, and each
 * hole given up is one gap. */
START_TEST(property_caps)
{
	uint32_t s = 0xabcdef1u + (uint32_t)_i * 104729u;
	size_t n = 1 + rnd(&s, 6000), k, delivered = 0;
	struct seg *sg = calloc(4096, sizeof(*sg));
	uint32_t *exp = calloc(n, sizeof(*exp));
	struct fix *f = fix_new(0, (uint32_t)_i + 7);

	ck_assert_ptr_nonnull(sg);
	ck_assert_ptr_nonnull(exp);
	f->isn = property_isn(&s, n, _i);
	f->lim.max_held_bytes = rnd(&s, 2000);
	f->lim.max_held_segs = rnd(&s, 12);
	k = make_segments(&s, n, sg, 4096);
	expected_frames(sg, k, n, exp);
	syn(f);
	for (size_t i = 0; i < k; i++)
		feed(f, sg[i].off, sg[i].len, (uint32_t)i + 1); /* asserts the caps */
	/* Every byte arrived, so nothing can be left behind a hole. */
	ck_assert_ptr_null(f->d.held);
	td_reasm_flush(&f->d, &f->sink, 1);

	ck_assert_uint_eq(f->col->off, n);
	for (size_t b = 0; b < n; b++) {
		if (f->col->missing[b])
			continue;
		delivered++;
		if (f->col->data[b] != f->pat[b])
			ck_abort_msg("seed %d byte %zu differs", _i, b);
		if (f->col->frame[b] != exp[b])
			ck_abort_msg("seed %d byte %zu: frame %u, expected %u", _i, b,
				     f->col->frame[b], exp[b]);
	}
	ck_assert_uint_eq(f->d.c.bytes_delivered, delivered);
	ck_assert_uint_eq(f->d.c.bytes_missing, n - delivered);
	ck_assert_uint_eq(f->d.c.gaps, f->d.c.dropped_over_cap);
	free(sg);
	free(exp);
	fix_free(f);
}
END_TEST

START_TEST(retransmission)
{
	struct fix *f = fix_new(77, 3);

	syn(f);
	feed(f, 0, 100, 1);
	feed(f, 100, 100, 2);
	feed(f, 0, 100, 3);   /* whole segment again */
	feed(f, 50, 100, 4);  /* spans two delivered segments */
	feed(f, 150, 50, 5);  /* tail of the last one */
	assert_stream(f, 200);
	assert_frames(f, 0, 100, 1);
	assert_frames(f, 100, 200, 2);
	ck_assert_uint_eq(f->d.c.retransmissions, 3);
	ck_assert_uint_eq(f->d.c.overlaps, 0);
	ck_assert_uint_eq(f->d.c.segments, 5);
	ck_assert_uint_eq(f->d.c.bytes_delivered, 200);
	fix_free(f);
}
END_TEST

START_TEST(partial_overlap)
{
	struct fix *f = fix_new(10, 4);

	syn(f);
	feed(f, 0, 100, 1);
	feed(f, 50, 100, 2); /* 50 old, 50 new */
	assert_stream(f, 150);
	ck_assert_uint_eq(f->col->nev, 2);
	assert_event(f, 0, false, 0, 100, 1);
	assert_event(f, 1, false, 100, 50, 2);
	ck_assert_ptr_eq(f->col->ev[1].p, f->pat + 100); /* the new tail, in place */
	ck_assert_uint_eq(f->d.c.overlaps, 1);
	ck_assert_uint_eq(f->d.c.retransmissions, 0);
	ck_assert_uint_eq(f->d.c.bytes_delivered, 150);
	fix_free(f);
}
END_TEST

/* A second copy of held bytes, different: counted, the first kept. */
START_TEST(overlap_differ_held)
{
	struct fix *f = fix_new(4000, 5);
	uint8_t other[100];

	syn(f);
	feed(f, 100, 100, 1);
	memcpy(other, f->pat + 100, 100);
	other[42] ^= 0xff;
	feed_bytes(f, 100, other, 100, 2);
	ck_assert_uint_eq(f->d.c.overlaps_differ, 1);
	ck_assert_uint_eq(f->d.c.overlap_frame_first, 1);
	ck_assert_uint_eq(f->d.c.overlap_frame_second, 2);
	ck_assert_uint_eq(f->d.c.retransmissions, 1);
	ck_assert_uint_eq(f->d.held_bytes, 100);
	feed(f, 0, 100, 3);
	assert_stream(f, 200);
	assert_frames(f, 0, 100, 3);
	assert_frames(f, 100, 200, 1);
	ck_assert_uint_eq(f->d.c.overlaps_differ, 1);
	fix_free(f);
}
END_TEST

/* An in-order segment that runs into held bytes and disagrees with them. */
START_TEST(overlap_differ_in_order)
{
	struct fix *f = fix_new(0xfffffff0u, 6);
	uint8_t other[150];

	syn(f);
	feed(f, 100, 100, 1);
	memcpy(other, f->pat, 150);
	other[120] ^= 0x01;
	feed_bytes(f, 0, other, 150, 2);
	assert_stream(f, 200);
	assert_frames(f, 0, 100, 2);
	assert_frames(f, 100, 200, 1);
	ck_assert_uint_eq(f->col->nev, 2);
	ck_assert_ptr_eq(f->col->ev[0].p, other); /* the new part, in place */
	ck_assert_uint_eq(f->d.c.overlaps, 1);
	ck_assert_uint_eq(f->d.c.overlaps_differ, 1);
	ck_assert_uint_eq(f->d.c.overlap_frame_first, 1);
	ck_assert_uint_eq(f->d.c.overlap_frame_second, 2);
	fix_free(f);
}
END_TEST

/* An out-of-order segment that half overlaps a held one. */
START_TEST(overlap_differ_partial_held)
{
	struct fix *f = fix_new(1, 7);
	uint8_t other[100];

	syn(f);
	feed(f, 100, 100, 1);
	memcpy(other, f->pat + 150, 100);
	other[10] ^= 0x80; /* byte 160: held from frame 1 */
	feed_bytes(f, 150, other, 100, 2);
	ck_assert_uint_eq(f->d.c.overlaps, 1);
	ck_assert_uint_eq(f->d.c.overlaps_differ, 1);
	ck_assert_uint_eq(f->d.c.out_of_order, 2);
	ck_assert_uint_eq(f->d.held_bytes, 150);
	ck_assert_uint_eq(f->d.held_segs, 2);
	feed(f, 0, 100, 3);
	assert_stream(f, 250);
	assert_frames(f, 0, 100, 3);
	assert_frames(f, 100, 200, 1);
	assert_frames(f, 200, 250, 2);
	fix_free(f);
}
END_TEST

/* A segment that bridges two held ones: only the parts between are new. */
START_TEST(bridge_held)
{
	struct fix *f = fix_new(300, 8);

	syn(f);
	feed(f, 100, 50, 1);
	feed(f, 200, 50, 2);
	feed(f, 80, 200, 3); /* [80,100) [150,200) [250,280) new */
	ck_assert_uint_eq(f->d.held_segs, 5);
	ck_assert_uint_eq(f->d.held_bytes, 200);
	ck_assert_uint_eq(f->d.c.overlaps, 1);
	ck_assert_uint_eq(f->d.c.overlaps_differ, 0);
	feed(f, 0, 80, 4);
	assert_stream(f, 280);
	assert_frames(f, 0, 80, 4);
	assert_frames(f, 80, 100, 3);
	assert_frames(f, 100, 150, 1);
	assert_frames(f, 150, 200, 3);
	assert_frames(f, 200, 250, 2);
	assert_frames(f, 250, 280, 3);
	ck_assert_uint_eq(f->d.held_segs, 0);
	fix_free(f);
}
END_TEST

START_TEST(keep_alive)
{
	struct fix *f = fix_new(2000, 9);
	uint8_t junk = 'X';

	syn(f);
	feed(f, 0, 100, 1);
	feed_bytes(f, 99, &junk, 1, 2); /* 1 byte at next_seq - 1 */
	feed_bytes(f, 99, NULL, 0, 3);  /* 0 bytes at next_seq - 1 */
	assert_stream(f, 100);
	ck_assert_uint_eq(f->col->nev, 1);
	ck_assert_uint_eq(f->d.c.retransmissions, 0);
	ck_assert_uint_eq(f->d.c.overlaps, 0);
	ck_assert_uint_eq(f->d.c.overlaps_differ, 0);
	ck_assert_uint_eq(f->d.c.segments, 1);
	ck_assert_uint_eq(f->d.c.keepalives, 2);
	feed(f, 100, 100, 4);
	assert_stream(f, 200);
	assert_frames(f, 100, 200, 4);
	fix_free(f);
}
END_TEST

/* Zero-window probes (the caller saw the peer's window at 0): one byte at
 * next_seq is taken out and counted; the byte sent again later, equal or
 * not, is then the first copy. Anything else is not a probe. */
START_TEST(window_probe)
{
	struct fix *f = fix_new(3000, 11);
	ck_assert(!td_reasm_window_probe(&f->d, f->isn, 1, false)); /* not started */
	syn(f);
	feed(f, 0, 100, 1);
	ck_assert(td_reasm_window_probe(&f->d, f->isn + 100, 1, false));
	ck_assert(td_reasm_window_probe(&f->d, f->isn + 100, 1, false));
	ck_assert(!td_reasm_window_probe(&f->d, f->isn + 100, 2, false)); /* 2 bytes */
	ck_assert(!td_reasm_window_probe(&f->d, f->isn + 101, 1, false)); /* ahead */
	ck_assert(!td_reasm_window_probe(&f->d, f->isn + 99, 1, false));  /* behind */
	ck_assert(!td_reasm_window_probe(&f->d, f->isn + 100, 1, true));  /* FIN */
	ck_assert_uint_eq(f->d.c.zero_window_probes, 2);
	/* the probes' bytes never reached the stream */
	ck_assert_uint_eq(f->d.next_seq, f->isn + 100);
	feed(f, 100, 100, 2);
	assert_stream(f, 200);
	assert_frames(f, 100, 200, 2);
	ck_assert_uint_eq(f->d.c.retransmissions, 0);
	ck_assert_uint_eq(f->d.c.overlaps, 0);
	ck_assert_uint_eq(f->d.c.overlaps_differ, 0);
	fix_free(f);
}
END_TEST

/* The accounting counts each held segment's bytes and its header. */
START_TEST(bytes_accounted)
{
	struct fix *f = fix_new(4000, 12);

	syn(f);
	ck_assert_uint_eq(td_reasm_bytes(&f->d), 0);
	feed(f, 100, 50, 1);
	feed(f, 300, 70, 2);
	ck_assert_uint_eq(f->d.held_segs, 2);
	ck_assert_uint_ge(td_reasm_bytes(&f->d), 120 + 2 * 16);
	ck_assert_uint_le(td_reasm_bytes(&f->d), 120 + 2 * 96);
	feed(f, 0, 400, 3);
	ck_assert_uint_eq(td_reasm_bytes(&f->d), 0);
	fix_free(f);
}
END_TEST

/* ISN 0xFFFFFF00: the stream crosses 2^32, in order and in disorder. */
START_TEST(wrap)
{
	static const unsigned order[8] = { 3, 1, 7, 0, 5, 2, 6, 4 };
	struct fix *f = fix_new(0xffffff00u, 10);

	syn(f);
	ck_assert_uint_eq(f->d.next_seq, 0xffffff00u);
	for (unsigned i = 0; i < 8; i++)
		feed(f, order[i] * 64, 64, order[i] + 1); /* bytes 256.. wrap to 0 */
	feed(f, 512, 100, 9);
	assert_stream(f, 612);
	for (unsigned i = 0; i < 8; i++)
		assert_frames(f, i * 64, i * 64 + 64, i + 1);
	ck_assert_uint_eq(f->d.next_seq, 0xffffff00u + 612u);
	ck_assert_uint_eq(f->d.next_seq, 612 - 256);
	ck_assert_uint_eq(f->d.c.gaps, 0);

	/* Old data from before the wrap is still old after it. */
	feed(f, 200, 100, 10);
	ck_assert_uint_eq(f->d.c.retransmissions, 1);
	assert_stream(f, 612);
	fix_free(f);
}
END_TEST

/* The brief's case: a hole that never fills while held data grows past the
 * byte cap. The hole is given up with its exact size and delivery goes on. */
START_TEST(cap_bytes_hole)
{
	struct fix *f = fix_new(90000, 11);

	f->lim = (struct td_reasm_limits){ 350, 10 };
	syn(f);
	feed(f, 0, 100, 1);
	/* [100,200) never comes */
	feed(f, 200, 100, 3);
	feed(f, 300, 100, 4);
	feed(f, 400, 100, 5);
	ck_assert_uint_eq(f->d.held_bytes, 300);
	ck_assert_uint_eq(f->col->nev, 1);
	feed(f, 500, 100, 6); /* 400 held would exceed 350 */
	ck_assert_uint_eq(f->d.c.gaps, 1);
	ck_assert_uint_eq(f->d.c.bytes_missing, 100);
	ck_assert_uint_eq(f->d.c.dropped_over_cap, 1);
	ck_assert_uint_eq(f->d.held_bytes, 0);
	feed(f, 600, 100, 7);
	feed(f, 100, 100, 8); /* the hole's data, too late */
	ck_assert_uint_eq(f->d.c.retransmissions, 1);

	ck_assert_uint_eq(f->col->nev, 7);
	assert_event(f, 0, false, 0, 100, 1);
	assert_event(f, 1, true, 100, 100, 3); /* gap told with the frame after it */
	assert_event(f, 2, false, 200, 100, 3);
	assert_event(f, 3, false, 300, 100, 4);
	assert_event(f, 4, false, 400, 100, 5);
	assert_event(f, 5, false, 500, 100, 6);
	assert_event(f, 6, false, 600, 100, 7);
	ck_assert_ptr_eq(f->col->ev[5].p, f->pat + 500); /* in order after the gap */
	ck_assert_mem_eq(f->col->data, f->pat, 100);
	ck_assert_mem_eq(f->col->data + 200, f->pat + 200, 500);
	ck_assert_uint_eq(f->d.c.bytes_delivered, 600);
	fix_free(f);
}
END_TEST

/* The segment-count cap, with two holes: each is given up in turn. */
START_TEST(cap_segs_two_holes)
{
	struct fix *f = fix_new(7, 12);

	f->lim = (struct td_reasm_limits){ 1 << 20, 2 };
	syn(f);
	feed(f, 0, 100, 1);
	feed(f, 200, 100, 2); /* hole [100,200) */
	feed(f, 300, 100, 3);
	ck_assert_uint_eq(f->d.held_segs, 2);
	feed(f, 500, 100, 4); /* hole [400,500); 3 segments: give up the first hole */
	ck_assert_uint_eq(f->d.c.gaps, 1);
	ck_assert_uint_eq(f->d.held_segs, 1);
	ck_assert_uint_eq(f->d.next_seq, 7 + 400);
	feed(f, 600, 100, 5);
	feed(f, 700, 100, 6); /* give up [400,500) */
	ck_assert_uint_eq(f->d.c.gaps, 2);
	ck_assert_uint_eq(f->d.c.bytes_missing, 200);
	ck_assert_uint_eq(f->d.c.dropped_over_cap, 2);
	ck_assert_uint_eq(f->col->off, 800);
	ck_assert(f->col->missing[100] && f->col->missing[199] && !f->col->missing[200]);
	ck_assert(f->col->missing[400] && f->col->missing[499] && !f->col->missing[500]);
	ck_assert_mem_eq(f->col->data + 200, f->pat + 200, 200);
	ck_assert_mem_eq(f->col->data + 500, f->pat + 500, 300);
	ck_assert_uint_eq(f->d.held_segs, 0);
	fix_free(f);
}
END_TEST

/* A segment too large to hold at all: the hole up to it is given up and
 * it is delivered in place. */
START_TEST(cap_segment_larger_than_cap)
{
	struct fix *f = fix_new(123456, 13);

	f->lim = (struct td_reasm_limits){ 50, 10 };
	syn(f);
	feed(f, 0, 100, 1);
	feed(f, 200, 100, 2);
	ck_assert_uint_eq(f->col->nev, 3);
	assert_event(f, 1, true, 100, 100, 2);
	assert_event(f, 2, false, 200, 100, 2);
	ck_assert_ptr_eq(f->col->ev[2].p, f->pat + 200);
	ck_assert_uint_eq(f->d.held_bytes, 0);
	fix_free(f);
}
END_TEST

/* The new segment lies inside the hole, before the held data: only the
 * part of the hole before it is given up. */
START_TEST(cap_segment_inside_hole)
{
	struct fix *f = fix_new(55, 14);

	f->lim = (struct td_reasm_limits){ 250, 10 };
	syn(f);
	feed(f, 0, 100, 1);
	feed(f, 300, 100, 2);
	feed(f, 400, 100, 3);
	feed(f, 200, 100, 4); /* 300 held would exceed 250 */
	ck_assert_uint_eq(f->col->nev, 5);
	assert_event(f, 1, true, 100, 100, 4);
	assert_event(f, 2, false, 200, 100, 4);
	assert_event(f, 3, false, 300, 100, 2);
	assert_event(f, 4, false, 400, 100, 3);
	ck_assert_uint_eq(f->d.c.bytes_missing, 100);
	ck_assert_uint_eq(f->d.held_bytes, 0);
	fix_free(f);
}
END_TEST

/* No limits at all: nothing is held. */
START_TEST(null_limits_and_sink)
{
	struct td_reasm_dir d;
	uint8_t buf[300] = { 0 };

	td_reasm_init(&d);
	td_reasm_syn(&d, 9);
	td_reasm_segment(&d, NULL, NULL, 0, 10, false, buf, 100, 1, (struct td_time){ 0, 0 });
	td_reasm_segment(&d, NULL, NULL, 0, 210, false, buf, 100, 2, (struct td_time){ 0, 0 });
	ck_assert_uint_eq(d.held_bytes, 0);
	ck_assert_uint_eq(d.c.gaps, 1);
	ck_assert_uint_eq(d.c.bytes_missing, 100);
	ck_assert_uint_eq(d.c.bytes_delivered, 200);
	td_reasm_free(&d);
}
END_TEST

START_TEST(flush_with_holes)
{
	struct fix *f = fix_new(31337, 15);

	syn(f);
	feed(f, 0, 100, 1);
	feed(f, 400, 100, 2);
	feed(f, 200, 100, 3);
	feed(f, 500, 100, 4);
	ck_assert_uint_eq(f->col->nev, 1);
	td_reasm_flush(&f->d, &f->sink, 1);
	ck_assert_uint_eq(f->col->nev, 6);
	assert_event(f, 0, false, 0, 100, 1);
	assert_event(f, 1, true, 100, 100, 3);
	assert_event(f, 2, false, 200, 100, 3);
	assert_event(f, 3, true, 300, 100, 2);
	assert_event(f, 4, false, 400, 100, 2);
	assert_event(f, 5, false, 500, 100, 4);
	ck_assert_int_eq(f->col->ev[1].ts.sec, 3);
	ck_assert_mem_eq(f->col->data + 200, f->pat + 200, 100);
	ck_assert_mem_eq(f->col->data + 400, f->pat + 400, 200);
	ck_assert_uint_eq(f->d.c.gaps, 2);
	ck_assert_uint_eq(f->d.c.bytes_missing, 200);
	ck_assert_uint_eq(f->d.c.dropped_over_cap, 0);
	ck_assert_ptr_null(f->d.held);
	ck_assert_uint_eq(f->d.held_bytes, 0);
	ck_assert_uint_eq(f->d.held_segs, 0);
	/* A second flush has nothing to do. */
	td_reasm_flush(&f->d, &f->sink, 1);
	ck_assert_uint_eq(f->col->nev, 6);
	fix_free(f);
}
END_TEST

/* The FIN says where the stream ends: a hole before it is reported at
 * flush even with nothing held after it. */
START_TEST(flush_hole_before_fin)
{
	struct fix *f = fix_new(1, 16);

	syn(f);
	feed(f, 0, 100, 1);
	feed_fin(f, 200, 0, 2, true); /* FIN at 200, [100,200) lost */
	ck_assert(f->d.fin_seen);
	ck_assert_uint_eq(f->d.fin_seq, 1 + 200);
	td_reasm_flush(&f->d, &f->sink, 1);
	ck_assert_uint_eq(f->col->nev, 2);
	assert_event(f, 1, true, 100, 100, 0);
	ck_assert_uint_eq(f->d.c.bytes_missing, 100);
	fix_free(f);
}
END_TEST

START_TEST(fin_and_data_after)
{
	struct fix *f = fix_new(0xffffff80u, 17);

	syn(f);
	feed(f, 0, 100, 1);
	feed_fin(f, 100, 100, 2, true);
	ck_assert(f->d.fin_seen);
	ck_assert_uint_eq(f->d.fin_seq, 0xffffff80u + 200u);
	feed(f, 200, 100, 3); /* after the FIN: not part of the stream */
	feed(f, 150, 100, 4); /* old bytes, and bytes after the FIN */
	assert_stream(f, 200);
	ck_assert_uint_eq(f->d.held_bytes, 0);
	ck_assert_uint_eq(f->d.c.bytes_delivered, 200);
	ck_assert_uint_eq(f->d.c.retransmissions, 1);
	/* A second FIN further on changes nothing. */
	feed_fin(f, 300, 10, 5, true);
	ck_assert_uint_eq(f->d.fin_seq, 0xffffff80u + 200u);
	assert_stream(f, 200);
	td_reasm_flush(&f->d, &f->sink, 1);
	ck_assert_uint_eq(f->d.c.gaps, 0);
	fix_free(f);
}
END_TEST

/* Held data beyond a FIN seen later is cut away. */
START_TEST(fin_trims_held)
{
	struct fix *f = fix_new(600, 18);

	syn(f);
	feed(f, 0, 100, 1);
	feed(f, 300, 100, 2); /* entirely after the FIN to come */
	feed(f, 150, 150, 3); /* straddles it */
	ck_assert_uint_eq(f->d.held_bytes, 250);
	feed_fin(f, 200, 0, 4, true);
	ck_assert_uint_eq(f->d.held_bytes, 50);
	ck_assert_uint_eq(f->d.held_segs, 1);
	feed(f, 100, 50, 5);
	assert_stream(f, 200);
	assert_frames(f, 100, 150, 5);
	assert_frames(f, 150, 200, 3);
	ck_assert_uint_eq(f->d.next_seq, f->d.fin_seq);
	td_reasm_flush(&f->d, &f->sink, 1);
	ck_assert_uint_eq(f->d.c.gaps, 0);
	fix_free(f);
}
END_TEST

/* No SYN: the stream starts at the first segment seen. */
START_TEST(mid_stream)
{
	struct fix *f = fix_new(0x80000000u, 19);

	feed(f, 100, 100, 1);
	ck_assert(f->d.started);
	ck_assert_uint_eq(f->d.isn, 0x80000000u + 100u);
	feed(f, 0, 100, 2); /* before the pickup point: old */
	feed(f, 200, 50, 3);
	ck_assert_uint_eq(f->col->off, 150);
	ck_assert_mem_eq(f->col->data, f->pat + 100, 150);
	ck_assert_uint_eq(f->d.c.retransmissions, 1);
	/* The SYN shows up late, just before the pickup point: same stream. */
	td_reasm_syn(&f->d, 0x80000000u + 99u);
	feed(f, 250, 50, 4);
	ck_assert_uint_eq(f->col->off, 200);
	fix_free(f);
}
END_TEST

START_TEST(syn_restart)
{
	struct fix *f = fix_new(1000, 20);

	syn(f);
	feed(f, 0, 100, 1);
	feed(f, 200, 100, 2);
	ck_assert_uint_eq(f->d.held_segs, 1);
	syn(f); /* the same SYN again: nothing changes */
	ck_assert_uint_eq(f->d.held_segs, 1);
	ck_assert_uint_eq(f->d.next_seq, 1100);
	td_reasm_syn(&f->d, 50000); /* another connection on the same ports */
	ck_assert_uint_eq(f->d.held_segs, 0);
	ck_assert_uint_eq(f->d.held_bytes, 0);
	ck_assert_uint_eq(f->d.next_seq, 50001);
	ck_assert_uint_eq(f->d.isn, 50000);
	fix_free(f);
}
END_TEST

/* A segment more than 2^30 bytes from next_seq, ahead or behind, is in
 * no TCP window (RFC 7323 §2.3): counted as another stream's and dropped,
 * not held, not a gap, its FIN ignored; one exactly 2^30 ahead is still
 * held; the stream goes on. */
START_TEST(out_of_window)
{
	struct fix *f = fix_new(0xfffff000u, 22);
	static const uint8_t junk[8] = "junkjunk";

	syn(f);
	feed(f, 0, 100, 1);
	td_reasm_segment(&f->d, &f->lim, &f->sink, 1, f->isn + 100 + (1u << 30) + 1, true, junk,
			 sizeof junk, 2, (struct td_time){2, 0});
	td_reasm_segment(&f->d, &f->lim, &f->sink, 1, f->isn + 100 - (1u << 30) - 9, false, junk,
			 sizeof junk, 3, (struct td_time){3, 0});
	ck_assert_uint_eq(f->d.out_of_window, 2);
	ck_assert_uint_eq(f->d.held_segs, 0);
	ck_assert(!f->d.fin_seen);
	td_reasm_segment(&f->d, &f->lim, &f->sink, 1, f->isn + 100 + (1u << 30), false, junk,
			 sizeof junk, 4, (struct td_time){4, 0});
	ck_assert_uint_eq(f->d.out_of_window, 2);
	ck_assert_uint_eq(f->d.held_segs, 1);
	feed(f, 100, 100, 5);
	assert_stream(f, 200);
	ck_assert_uint_eq(f->d.c.gaps, 0);
	ck_assert_uint_eq(f->d.c.retransmissions, 0);
	ck_assert_uint_eq(f->col->nev, 2);
	/* an acknowledgment of this stream: stale more than 2^30 behind
	 * the next byte, not exactly 2^30 behind, nor ahead */
	uint32_t next = f->isn + 200;
	ck_assert(!td_reasm_ack_stale(&f->d, next));
	ck_assert(!td_reasm_ack_stale(&f->d, next - (1u << 30)));
	ck_assert(td_reasm_ack_stale(&f->d, next - (1u << 30) - 1));
	ck_assert(!td_reasm_ack_stale(&f->d, next + (1u << 30) + 5));
	/* the count saturates */
	f->d.out_of_window = UINT16_MAX;
	td_reasm_note_out_of_window(&f->d);
	ck_assert_uint_eq(f->d.out_of_window, UINT16_MAX);
	fix_free(f);
}
END_TEST

/* td_reasm_free releases held data (valgrind/ASan check the rest) and the
 * direction can be used again. */
START_TEST(free_with_held)
{
	struct fix *f = fix_new(42, 21);

	syn(f);
	for (uint32_t i = 1; i < 20; i++)
		feed(f, i * 100, 100, i);
	ck_assert_uint_eq(f->d.held_segs, 19);
	td_reasm_free(&f->d);
	ck_assert_ptr_null(f->d.held);
	ck_assert_uint_eq(f->d.held_bytes, 0);
	td_reasm_init(&f->d);
	ck_assert(!f->d.started);
	fix_free(f);
}
END_TEST

/* ---- property: a real connection, resegmented, gives the same facts ---- */

/* What must not depend on how the bytes were cut, ordered or repeated:
 * the TLS facts of the connection (frames and times excluded). */
struct facts {
	size_t n; /* connections emitted */
	bool is_tls;
	char ja3[33], ja3s[33], ja4[48], ja4s[48];
	uint16_t version, suite;
	uint8_t n_certs;
	uint8_t cert_sha256[TD_MAX_CHAIN][32];
	uint8_t n_alerts;
	struct {
		uint8_t dir, level, desc, phase;
		bool encrypted, probable;
	} alerts[TD_MAX_ALERTS];
	uint8_t outcome, stage, end;
	uint32_t records[2], appdata_records[2], handshake_messages[2];
	uint64_t appdata_bytes[2], payload_bytes[2], bytes_missing[2];
	uint32_t gaps[2], overlaps_differ, rsts[2];
	/* not compared: segments out of order and sent again (the test's
	 * own disorder, which must show) */
	uint32_t disorder;
};

static void on_facts(void *user, struct td_session *s)
{
	struct facts *f = user;

	f->n++;
	f->is_tls = s->is_tls;
	memcpy(f->ja3, s->ch->ja3, sizeof f->ja3);
	memcpy(f->ja3s, s->sh->ja3s, sizeof f->ja3s);
	memcpy(f->ja4, s->ch->ja4, sizeof f->ja4);
	memcpy(f->ja4s, s->sh->ja4s, sizeof f->ja4s);
	f->version = td_session_version(s);
	f->suite = s->sh->suite;
	f->n_certs = s->n_certs;
	for (unsigned i = 0; i < s->n_certs; i++)
		memcpy(f->cert_sha256[i], s->certs[i]->sha256, 32);
	f->n_alerts = s->n_alerts;
	for (unsigned i = 0; i < s->n_alerts; i++) {
		f->alerts[i].dir = s->alerts[i].dir;
		f->alerts[i].level = s->alerts[i].level;
		f->alerts[i].desc = s->alerts[i].desc;
		f->alerts[i].phase = s->alerts[i].phase;
		f->alerts[i].encrypted = s->alerts[i].encrypted;
		f->alerts[i].probable = s->alerts[i].probable;
	}
	f->outcome = s->outcome;
	f->stage = s->stage;
	f->end = s->end;
	for (int d = 0; d < 2; d++) {
		f->records[d] = s->records[d];
		f->appdata_records[d] = s->appdata_records[d];
		f->handshake_messages[d] = s->handshake_messages[d];
		f->appdata_bytes[d] = s->appdata_bytes[d];
		f->payload_bytes[d] = 0; /* differs: duplicates are payload too */
		f->bytes_missing[d] = s->tcp.bytes_missing[d];
		f->gaps[d] = s->tcp.gaps[d];
		f->rsts[d] = s->tcp.rsts[d];
	}
	f->overlaps_differ = s->tcp.overlaps_differ;
	f->disorder = s->tcp.out_of_order[0] + s->tcp.out_of_order[1] +
		      s->tcp.retransmissions[0] + s->tcp.retransmissions[1];
}

/* One segment of the sample connection, decoded. */
struct pseg {
	struct td_test_tcp t;
	uint8_t *data; /* owned copy of the payload */
};

struct pconn {
	size_t n;
	struct pseg s[64];
};

static uint32_t ipv4_of(const struct td_addr *a)
{
	return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
	       (uint32_t)a->bytes[2] << 8 | a->bytes[3];
}

/* Reads the sample's packets (one IPv4 connection) with the capture and
 * decode stages: every segment's addresses, numbers, flags and payload. */
static void pconn_load(struct pconn *c, const char *name)
{
	uint8_t *frames[64];
	size_t lens[64];
	int linktype;
	size_t n = td_test_sample_frames(name, frames, lens, 64, &linktype);

	c->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct td_tcp_seg seg;

		ck_assert_int_eq(td_decode_packet(linktype, frames[i], lens[i], lens[i], &seg),
				 TD_DECODE_TCP);
		ck_assert_int_eq(seg.src.family, 4);
		struct pseg *p = &c->s[c->n++];
		p->t = (struct td_test_tcp){ ipv4_of(&seg.src), ipv4_of(&seg.dst), seg.sport,
					     seg.dport, seg.seq, seg.ack, seg.flags, seg.window,
					     NULL, seg.payload_len };
		p->data = malloc(seg.payload_len + 1);
		ck_assert_ptr_nonnull(p->data);
		memcpy(p->data, seg.payload, seg.payload_len);
		p->t.payload = p->data;
		free(frames[i]);
	}
	ck_assert_uint_gt(c->n, 4);
}

static void pconn_free(struct pconn *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->s[i].data);
}

/* Runs segments through a fresh engine (no nDPI: not a TLS fact). */
struct prun {
	struct td_x509_cache *cache;
	struct td_engine *e;
	uint32_t frame;
	struct facts f;
};

static void prun_start(struct prun *r)
{
	struct td_engine_config cfg;

	memset(r, 0, sizeof *r);
	td_engine_config_default(&cfg);
	cfg.classify = false;
	r->cache = td_x509_cache_new(16);
	r->e = td_engine_new(&cfg, r->cache, on_facts, &r->f);
	ck_assert_ptr_nonnull(r->e);
}

static void prun_seg(struct prun *r, const struct td_test_tcp *t)
{
	uint8_t frame[TD_TEST_FRAME_LEN(65536)];
	size_t len;

	ck_assert_uint_le(t->len, 65536);
	len = td_test_tcp_frame(frame, t);
	r->frame++;
	td_engine_packet(r->e, 1, r->frame, (struct td_time){ 1000, r->frame }, frame, len, len);
}

static void prun_end(struct prun *r)
{
	td_engine_finish(r->e);
	td_engine_free(r->e);
	td_x509_cache_free(r->cache);
}

/* A flight: consecutive payload bytes of one direction, from the
 * template segment tmpl (addresses, ports, flags). */
struct flight {
	bool open;
	struct td_test_tcp tmpl;
	uint32_t seq; /* of buf[0] */
	uint8_t buf[65536];
	size_t len;
};

struct piece {
	size_t off, len;
};

/* Sends the flight cut into random pieces, shuffled, some sent twice and
 * some overlapping others (always with the flight's own bytes). */
static void flight_send(struct prun *r, struct flight *fl, uint32_t *rng)
{
	enum { MAXP = 400 };
	struct piece p[MAXP];
	size_t np = 0, off = 0, avg;

	if (!fl->open)
		return;
	avg = fl->len / 40 > 8 ? fl->len / 40 : 8;
	while (off < fl->len) {
		size_t n = 1 + rnd(rng, (uint32_t)(2 * avg));

		if (n > fl->len - off)
			n = fl->len - off;
		p[np++] = (struct piece){ off, n };
		off += n;
	}
	for (size_t i = 0, base = np; i < base && np < MAXP - 1; i++) {
		if (rnd(rng, 5) == 0) /* a duplicate */
			p[np++] = p[i];
		if (rnd(rng, 5) == 0) { /* an overlap across neighbours */
			size_t a = p[i].off > avg ? p[i].off - rnd(rng, (uint32_t)avg) : 0;
			size_t b = p[i].off + p[i].len + rnd(rng, (uint32_t)avg);
			p[np++] = (struct piece){ a, (b < fl->len ? b : fl->len) - a };
		}
	}
	for (size_t i = np; i > 1; i--) { /* Fisher-Yates */
		size_t j = rnd(rng, (uint32_t)i);
		struct piece tmp = p[i - 1];
		p[i - 1] = p[j];
		p[j] = tmp;
	}
	for (size_t i = 0; i < np; i++) {
		struct td_test_tcp t = fl->tmpl;

		t.seq = fl->seq + (uint32_t)p[i].off;
		t.flags = 0x18; /* ACK PSH */
		t.payload = fl->buf + p[i].off;
		t.len = p[i].len;
		prun_seg(r, &t);
	}
	fl->open = false;
	fl->len = 0;
}

/* The sample's segments in capture order, except that each run of data
 * segments from one side (a flight) is re-cut and disordered as one;
 * segments without payload (SYN, ACK, FIN, RST) stay where they were,
 * a FIN or RST after the flight before it. rng 0: the segments as they
 * were. */
static void pconn_send(struct prun *r, const struct pconn *c, uint32_t rng)
{
	struct flight *fl = calloc(1, sizeof *fl);

	ck_assert_ptr_nonnull(fl);
	for (size_t i = 0; i < c->n; i++) {
		const struct td_test_tcp *t = &c->s[i].t;
		bool data = t->len > 0 && !(t->flags & 0x07); /* no SYN FIN RST */

		if (!rng) {
			prun_seg(r, t);
			continue;
		}
		if (data && fl->open && t->src == fl->tmpl.src && t->seq == fl->seq + fl->len &&
		    t->len <= sizeof fl->buf - fl->len) {
			memcpy(fl->buf + fl->len, t->payload, t->len);
			fl->len += t->len;
			continue;
		}
		if (data) {
			flight_send(r, fl, &rng);
			fl->open = true;
			fl->tmpl = *t;
			fl->seq = t->seq;
			memcpy(fl->buf, t->payload, t->len);
			fl->len = t->len;
			continue;
		}
		if (t->len == 0 && !(t->flags & 0x07)) { /* a bare ACK: any time */
			prun_seg(r, t);
			continue;
		}
		flight_send(r, fl, &rng);
		prun_seg(r, t);
	}
	flight_send(r, fl, &rng);
	free(fl);
}

static const char *const prop_samples[] = { "tls12-ecdhe-ok.pcap", "tls12-unknown-ca.pcap",
					    "tls12-rsa-key-mismatch.pcap", "tls13-ok.pcapng" };

/* Seeds per property test, and per sample in the resegmentation test: the
 * full sizes in the plain build, fewer under the sanitizers (each seed is a
 * forked test; td_test_util.h, TD_TEST_N). */
enum { PROP_SEEDS = TD_TEST_N(200, 50), RESEG_SEEDS = TD_TEST_N(200, 25) };

/* Each sample's facts: as captured, then cut into random pieces,
 * shuffled within each flight, duplicated and overlapped (equal bytes)
 * under RESEG_SEEDS seeds: the same facts every time, no byte missing, no
 * overlap that differs. The sample's own run is checked against what its
 * generator recorded (one connection, TLS, a certificate or an alert). */
START_TEST(property_resegmented_connection)
{
	struct pconn *c = calloc(1, sizeof *c);
	struct prun r;
	struct facts want;

	ck_assert_ptr_nonnull(c);
	pconn_load(c, prop_samples[_i / RESEG_SEEDS]);
	prun_start(&r);
	pconn_send(&r, c, 0);
	prun_end(&r);
	memcpy(&want, &r.f, sizeof want);
	ck_assert_uint_eq(want.n, 1);
	ck_assert(want.is_tls);
	ck_assert(want.ja3[0] != '\0');
	ck_assert(want.n_certs > 0 || want.n_alerts > 0 || want.version == 0x0304);
	ck_assert_uint_eq(want.gaps[0] + want.gaps[1], 0);

	prun_start(&r);
	pconn_send(&r, c, 0x9e3779b9u * (uint32_t)(_i % RESEG_SEEDS + 1));
	prun_end(&r);
	ck_assert_uint_gt(r.f.disorder, 0);
	r.f.disorder = want.disorder;
	ck_assert_msg(memcmp(&r.f, &want, sizeof want) == 0,
		      "%s seed %d: facts differ (ja3 %s/%s, certs %u/%u, alerts %u/%u, outcome "
		      "%u/%u, gaps %u/%u, overlaps differing %u)",
		      prop_samples[_i / RESEG_SEEDS], _i % RESEG_SEEDS, r.f.ja3, want.ja3, r.f.n_certs,
		      want.n_certs, r.f.n_alerts, want.n_alerts, r.f.outcome, want.outcome,
		      r.f.gaps[0] + r.f.gaps[1], want.gaps[0] + want.gaps[1], r.f.overlaps_differ);
	pconn_free(c);
	free(c);
}
END_TEST

/* The sample's segments in capture order, except that its FINs are moved
 * ahead of the last data segment of each side (captured first, as a
 * reordering capture point can show them): ..., FIN, FIN, last data,
 * last data, ACK. With rst, the first FIN is an RST (same side, same
 * sequence number) instead, and a second RST of that side comes last. */
static void pconn_send_fins_early(struct prun *r, const struct pconn *c, bool rst)
{
	size_t last_data[2] = { SIZE_MAX, SIZE_MAX }, first_fin = SIZE_MAX, at;
	uint32_t client = c->s[0].t.src;

	for (size_t i = 0; i < c->n; i++) {
		const struct td_test_tcp *t = &c->s[i].t;

		if (t->flags & 0x01) {
			ck_assert_uint_eq(t->len, 0);
			if (first_fin == SIZE_MAX)
				first_fin = i;
		} else if (t->len > 0 && first_fin == SIZE_MAX) {
			last_data[t->src != client] = i;
		}
	}
	ck_assert_uint_ne(first_fin, SIZE_MAX);
	ck_assert_uint_ne(last_data[0], SIZE_MAX);
	ck_assert_uint_ne(last_data[1], SIZE_MAX);
	at = last_data[0] < last_data[1] ? last_data[0] : last_data[1];
	struct td_test_tcp first = c->s[first_fin].t;
	if (rst)
		first.flags = 0x14; /* RST ACK */
	for (size_t i = 0; i < c->n; i++) {
		if (i == at) { /* the FINs (or RST) first */
			for (size_t k = first_fin; k < c->n; k++)
				if (c->s[k].t.flags & 0x01)
					prun_seg(r, k == first_fin ? &first : &c->s[k].t);
		}
		if (!(c->s[i].t.flags & 0x01))
			prun_seg(r, &c->s[i].t);
	}
	if (rst)
		prun_seg(r, &first);
}

/* The sample name loaded (to be freed with pconn_free, then free) and its
 * facts as captured in *want: one connection. */
static struct pconn *pconn_baseline(const char *name, struct facts *want)
{
	struct pconn *c = calloc(1, sizeof *c);
	struct prun r;

	ck_assert_ptr_nonnull(c);
	pconn_load(c, name);
	prun_start(&r);
	pconn_send(&r, c, 0);
	prun_end(&r);
	memcpy(want, &r.f, sizeof *want);
	ck_assert_uint_eq(want->n, 1);
	return c;
}

/* FINs captured before the data of their side that precedes them (#4):
 * each is applied at its place in the stream, so the data comes through
 * and the TLS facts are the sample's own, no gap, one connection ended by
 * FIN. */
START_TEST(fins_before_last_data)
{
	struct facts want;
	struct pconn *c = pconn_baseline(prop_samples[_i], &want);
	struct prun r;

	ck_assert_uint_eq(want.end, TD_END_FIN);

	prun_start(&r);
	pconn_send_fins_early(&r, c, false);
	prun_end(&r);
	r.f.disorder = want.disorder;
	ck_assert_msg(memcmp(&r.f, &want, sizeof want) == 0,
		      "%s: facts differ (connections %zu, records %u+%u/%u+%u, gaps %u, end %u)",
		      prop_samples[_i], r.f.n, r.f.records[0], r.f.records[1], want.records[0],
		      want.records[1], r.f.gaps[0] + r.f.gaps[1], r.f.end);
	pconn_free(c);
	free(c);
}
END_TEST

/* The same with the first FIN an RST (RFC 5961 §3.2: its sequence number
 * is past bytes not captured yet): the data before it still comes
 * through, the facts are the sample's but for the end (rst), and both
 * RSTs of that side are counted, the second after the connection's last
 * packet. */
START_TEST(rst_before_last_data)
{
	struct facts want;
	struct pconn *c = pconn_baseline(prop_samples[_i], &want);
	struct prun r;

	ck_assert_uint_eq(want.rsts[0] + want.rsts[1], 0);

	prun_start(&r);
	pconn_send_fins_early(&r, c, true);
	prun_end(&r);
	/* which side sent the first FIN: the RST's side */
	int side = -1;
	for (size_t i = 0; i < c->n && side < 0; i++)
		if (c->s[i].t.flags & 0x01)
			side = c->s[i].t.src != c->s[0].t.src;
	ck_assert_uint_eq(r.f.rsts[side], 2);
	ck_assert_uint_eq(r.f.rsts[!side], 0);
	want.rsts[side] = 2;
	want.end = TD_END_RST;
	r.f.disorder = want.disorder;
	ck_assert_msg(memcmp(&r.f, &want, sizeof want) == 0,
		      "%s: facts differ (connections %zu, records %u+%u/%u+%u, gaps %u, end %u)",
		      prop_samples[_i], r.f.n, r.f.records[0], r.f.records[1], want.records[0],
		      want.records[1], r.f.gaps[0] + r.f.gaps[1], r.f.end);
	pconn_free(c);
	free(c);
}
END_TEST

Suite *td_reasm_suite(void);

Suite *td_reasm_suite(void)
{
	Suite *s = suite_create("reasm");
	TCase *basic = tcase_create("basic");
	TCase *overlap = tcase_create("overlap");
	TCase *caps = tcase_create("caps");
	TCase *ends = tcase_create("ends");
	TCase *prop = tcase_create("property");

	tcase_add_test(basic, in_order);
	tcase_add_test(basic, reversed);
	tcase_add_test(basic, retransmission);
	tcase_add_test(basic, keep_alive);
	tcase_add_test(basic, window_probe);
	tcase_add_test(basic, bytes_accounted);
	tcase_add_test(basic, wrap);
	tcase_add_test(basic, mid_stream);
	tcase_add_test(basic, syn_restart);
	tcase_add_test(basic, out_of_window);
	tcase_add_test(basic, free_with_held);
	suite_add_tcase(s, basic);

	tcase_add_test(overlap, partial_overlap);
	tcase_add_test(overlap, overlap_differ_held);
	tcase_add_test(overlap, overlap_differ_in_order);
	tcase_add_test(overlap, overlap_differ_partial_held);
	tcase_add_test(overlap, bridge_held);
	suite_add_tcase(s, overlap);

	tcase_add_test(caps, cap_bytes_hole);
	tcase_add_test(caps, cap_segs_two_holes);
	tcase_add_test(caps, cap_segment_larger_than_cap);
	tcase_add_test(caps, cap_segment_inside_hole);
	tcase_add_test(caps, null_limits_and_sink);
	suite_add_tcase(s, caps);

	tcase_add_test(ends, flush_with_holes);
	tcase_add_test(ends, flush_hole_before_fin);
	tcase_add_test(ends, fin_and_data_after);
	tcase_add_test(ends, fin_trims_held);
	tcase_add_loop_test(ends, fins_before_last_data, 0,
			    (int)(sizeof prop_samples / sizeof prop_samples[0]));
	tcase_add_loop_test(ends, rst_before_last_data, 0,
			    (int)(sizeof prop_samples / sizeof prop_samples[0]));
	suite_add_tcase(s, ends);

	/* Slow under valgrind: one seed per test, generous timeout. */
	tcase_set_timeout(prop, 120);
	tcase_add_loop_test(prop, property_permutations, 0, PROP_SEEDS);
	tcase_add_loop_test(prop, property_caps, 0, PROP_SEEDS);
	/* four samples, RESEG_SEEDS seeds each, through the engine */
	tcase_add_loop_test(prop, property_resegmented_connection, 0,
			    (int)(sizeof prop_samples / sizeof prop_samples[0]) * RESEG_SEEDS);
	suite_add_tcase(s, prop);
	return s;
}
