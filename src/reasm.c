/* reasm.c - per-direction TCP stream reassembly (contract in td_reasm.h).
 *
 * State per direction: next_seq, the first byte not yet delivered, and a
 * list of held segments, sorted by seq, that never overlap each other and
 * all start strictly after next_seq (a hole separates them from it).
 *
 * A segment is first cut to what is new: bytes before next_seq were already
 * delivered (retransmission or overlap), bytes from fin_seq on are not part
 * of the stream. What is left either starts at next_seq and is delivered
 * straight from the caller's buffer, with held bytes taking precedence where
 * they cover it (first copy wins), or lies ahead of a hole and its new parts
 * are copied into the held list. Every sequence comparison goes through
 * TD_SEQ_* so the stream may cross 2^32 (RFC 793 §3.3).
 */
#include "td_reasm.h"

#include <stdlib.h>
#include <string.h>

/* Longest payload taken from one segment. Keeps every distance between two
 * sequence numbers of one direction far inside the 2^31 window where the
 * TD_SEQ_* comparisons are meaningful; no link carries a TCP segment of
 * this size, so it only guards against nonsense lengths. */
#define TD_REASM_MAX_SEG 0x40000000u
/* What the allocator adds to each block (glibc: an 8-byte header, sizes
 * rounded up to 16): counted so the accounting errs high, not low. */
#define TD_REASM_MALLOC_OVERHEAD 16

struct td_reasm_seg {
	struct td_reasm_seg *next;
	uint32_t seq;
	uint32_t len;
	uint32_t frame; /* frame that carried these bytes first */
	struct td_time ts;
	uint8_t data[];
};

static uint32_t seg_end(const struct td_reasm_seg *s)
{
	return s->seq + s->len;
}

static uint32_t seq_min(uint32_t a, uint32_t b)
{
	return TD_SEQ_LT(a, b) ? a : b;
}

static void emit_data(struct td_reasm_dir *d, const struct td_reasm_sink *sink, int dir,
		      const uint8_t *p, uint32_t n, uint32_t frame, struct td_time ts)
{
	d->c.bytes_delivered += n;
	if (n && sink && sink->data)
		sink->data(sink->user, dir, p, n, frame, ts);
}

static void emit_gap(struct td_reasm_dir *d, const struct td_reasm_sink *sink, int dir,
		     uint32_t missing, uint32_t frame, struct td_time ts)
{
	if (!missing)
		return;
	d->c.gaps++;
	d->c.bytes_missing += missing;
	if (sink && sink->gap)
		sink->gap(sink->user, dir, missing, frame, ts);
}

/* Takes the first held segment off the list; the caller frees it. */
static struct td_reasm_seg *pop_held(struct td_reasm_dir *d)
{
	struct td_reasm_seg *h = d->held;

	d->held = h->next;
	d->held_bytes -= h->len;
	d->held_segs--;
	return h;
}

static void free_held(struct td_reasm_dir *d)
{
	while (d->held)
		free(pop_held(d));
}

/* Delivers the held segments that start exactly at next_seq, in order.
 * State is updated before each callback so a sink sees it consistent. */
static void deliver_held_run(struct td_reasm_dir *d, const struct td_reasm_sink *sink, int dir)
{
	while (d->held && d->held->seq == d->next_seq) {
		struct td_reasm_seg *h = pop_held(d);

		d->next_seq = seg_end(h);
		emit_data(d, sink, dir, h->data, h->len, h->frame, h->ts);
		free(h);
	}
}

/* Stops waiting for the bytes before the first held segment: reports them
 * missing and delivers from there up to the next hole. */
static void skip_to_first_held(struct td_reasm_dir *d, const struct td_reasm_sink *sink, int dir)
{
	struct td_reasm_seg *h = d->held;

	emit_gap(d, sink, dir, h->seq - d->next_seq, h->frame, h->ts);
	d->next_seq = h->seq;
	deliver_held_run(d, sink, dir);
}

static void note_differ(struct td_reasm_dir *d, uint32_t first, uint32_t second)
{
	d->c.overlaps_differ++;
	d->c.overlap_frame_first = first;
	d->c.overlap_frame_second = second;
}

/* A later copy p of the held bytes [pos, stop) of h: the held copy stays,
 * a difference is counted. */
static void compare_held(struct td_reasm_dir *d, const struct td_reasm_seg *h, uint32_t pos,
			 uint32_t stop, const uint8_t *p, uint32_t frame)
{
	if (memcmp(h->data + (pos - h->seq), p, stop - pos) != 0)
		note_differ(d, h->frame, frame);
}

/* Bytes and list nodes that holding [seq, end) would add: the parts no
 * held segment covers yet. */
static void count_new(const struct td_reasm_dir *d, uint32_t seq, uint32_t end, size_t *bytes,
		      unsigned *pieces)
{
	uint32_t pos = seq;

	*bytes = 0;
	*pieces = 0;
	for (const struct td_reasm_seg *h = d->held; h && TD_SEQ_LT(pos, end); h = h->next) {
		if (TD_SEQ_LEQ(seg_end(h), pos))
			continue;
		if (TD_SEQ_GEQ(h->seq, end))
			break;
		if (TD_SEQ_LT(pos, h->seq)) {
			*bytes += h->seq - pos;
			(*pieces)++;
		}
		pos = seg_end(h);
	}
	if (TD_SEQ_LT(pos, end)) {
		*bytes += end - pos;
		(*pieces)++;
	}
}

static bool over_cap(const struct td_reasm_dir *d, const struct td_reasm_limits *lim,
		     size_t bytes, unsigned pieces)
{
	if (!bytes)
		return false;
	/* Written as subtractions so a changed (smaller) limit cannot make
	 * them wrap. */
	return d->held_bytes > lim->max_held_bytes || bytes > lim->max_held_bytes - d->held_bytes ||
	       d->held_segs > lim->max_held_segs || pieces > lim->max_held_segs - d->held_segs;
}

/* Makes sure holding [seq, end) keeps the held list within the caps by
 * giving up holes (DESIGN.md: memory is bounded; the consumer is told).
 * The first hole goes first, and its held data is delivered; when the new
 * segment itself lies before the first held segment, the hole is given up
 * only up to the new segment, which is then in order. Nothing is dropped:
 * each hole given up is counted in dropped_over_cap and reported as a gap. */
static void make_room(struct td_reasm_dir *d, const struct td_reasm_limits *lim,
		      const struct td_reasm_sink *sink, int dir, uint32_t seq, uint32_t end,
		      uint32_t frame, struct td_time ts)
{
	for (;;) {
		size_t bytes;
		unsigned pieces;

		if (TD_SEQ_LEQ(seq, d->next_seq))
			return; /* in order now: delivered without holding */
		count_new(d, seq, end, &bytes, &pieces);
		if (!over_cap(d, lim, bytes, pieces))
			return;
		d->c.dropped_over_cap++;
		if (!d->held || TD_SEQ_LT(seq, d->held->seq)) {
			emit_gap(d, sink, dir, seq - d->next_seq, frame, ts);
			d->next_seq = seq;
			return;
		}
		skip_to_first_held(d, sink, dir);
	}
}

static struct td_reasm_seg *seg_new(uint32_t seq, const uint8_t *p, uint32_t len, uint32_t frame,
				    struct td_time ts)
{
	struct td_reasm_seg *s = malloc(sizeof(*s) + len);

	if (!s)
		return NULL;
	s->next = NULL;
	s->seq = seq;
	s->len = len;
	s->frame = frame;
	s->ts = ts;
	memcpy(s->data, p, len);
	return s;
}

/* [seq, seq + n) lies after next_seq: copies the parts not held yet into
 * the list (room was made by make_room) and compares the parts that are.
 * Returns whether anything new was held. */
static bool hold(struct td_reasm_dir *d, uint32_t seq, const uint8_t *p, uint32_t n,
		 uint32_t frame, struct td_time ts, bool *overlapped)
{
	struct td_reasm_seg **pp = &d->held;
	uint32_t end = seq + n, pos = seq;
	bool held_new = false;

	while (TD_SEQ_LT(pos, end)) {
		struct td_reasm_seg *h = *pp, *s;
		uint32_t stop;

		if (h && TD_SEQ_LEQ(seg_end(h), pos)) {
			pp = &h->next;
			continue;
		}
		if (h && TD_SEQ_LEQ(h->seq, pos)) {
			stop = seq_min(seg_end(h), end);
			compare_held(d, h, pos, stop, p + (pos - seq), frame);
			*overlapped = true;
			pos = stop;
			pp = &h->next;
			continue;
		}
		stop = h ? seq_min(h->seq, end) : end;
		s = seg_new(pos, p + (pos - seq), stop - pos, frame, ts);
		if (!s) {
			/* Out of memory: these bytes become a hole, reported
			 * when it is given up or flushed. */
			d->c.dropped_over_cap++;
			break;
		}
		s->next = h;
		*pp = s;
		pp = &s->next;
		d->held_bytes += s->len;
		d->held_segs++;
		held_new = true;
		pos = stop;
	}
	return held_new;
}

/* [seq, seq + n) starts at next_seq: delivered from p, except where held
 * segments already cover it (they were first), then everything held that
 * became contiguous. */
static void deliver_in_order(struct td_reasm_dir *d, const struct td_reasm_sink *sink, int dir,
			     uint32_t seq, const uint8_t *p, uint32_t n, uint32_t frame,
			     struct td_time ts, bool *overlapped)
{
	uint32_t end = seq + n;

	while (TD_SEQ_LT(d->next_seq, end)) {
		struct td_reasm_seg *h = d->held;
		uint32_t pos = d->next_seq, stop;

		if (!h || TD_SEQ_GEQ(h->seq, end)) {
			d->next_seq = end;
			emit_data(d, sink, dir, p + (pos - seq), end - pos, frame, ts);
			break;
		}
		if (TD_SEQ_LT(pos, h->seq)) {
			d->next_seq = h->seq;
			emit_data(d, sink, dir, p + (pos - seq), h->seq - pos, frame, ts);
			continue;
		}
		stop = seq_min(seg_end(h), end);
		compare_held(d, h, pos, stop, p + (pos - seq), frame);
		*overlapped = true;
		h = pop_held(d);
		d->next_seq = seg_end(h);
		emit_data(d, sink, dir, h->data, h->len, h->frame, h->ts);
		free(h);
	}
	deliver_held_run(d, sink, dir);
}

/* Bytes from fin_seq on are not part of the stream: held ones are cut. */
static void trim_held_to_fin(struct td_reasm_dir *d)
{
	struct td_reasm_seg **pp = &d->held;

	while (*pp) {
		struct td_reasm_seg *h = *pp;

		if (TD_SEQ_GEQ(h->seq, d->fin_seq)) {
			*pp = h->next;
			d->held_bytes -= h->len;
			d->held_segs--;
			free(h);
			continue;
		}
		if (TD_SEQ_GT(seg_end(h), d->fin_seq)) {
			uint32_t cut = seg_end(h) - d->fin_seq;

			h->len -= cut;
			d->held_bytes -= cut;
		}
		pp = &h->next;
	}
}

/* The first FIN wins, as the first copy of data does. A FIN before bytes
 * already delivered contradicts them and is ignored. */
static void note_fin(struct td_reasm_dir *d, uint32_t fin_seq)
{
	if (d->fin_seen || TD_SEQ_LT(fin_seq, d->next_seq))
		return;
	d->fin_seen = true;
	d->fin_seq = fin_seq;
	trim_held_to_fin(d);
}

void td_reasm_init(struct td_reasm_dir *d)
{
	memset(d, 0, sizeof(*d));
}

void td_reasm_free(struct td_reasm_dir *d)
{
	free_held(d);
}

void td_reasm_syn(struct td_reasm_dir *d, uint32_t seq)
{
	/* The same SYN again, or a SYN captured after a pickup at the first
	 * data byte (data began at seq + 1): same stream. */
	if (d->started && (seq == d->isn || seq + 1 == d->isn)) {
		d->isn = seq;
		return;
	}
	free_held(d);
	d->started = true;
	d->isn = seq;
	d->next_seq = seq + 1;
	d->fin_seen = false;
	d->fin_seq = 0;
}

bool td_reasm_ack_stale(const struct td_reasm_dir *d, uint32_t ack)
{
	uint32_t behind = d->next_seq - ack;
	return d->started && behind > TD_REASM_MAX_WINDOW && behind < 0x80000000u;
}

void td_reasm_note_out_of_window(struct td_reasm_dir *d)
{
	if (d->out_of_window < UINT16_MAX)
		d->out_of_window++;
}

void td_reasm_segment(struct td_reasm_dir *d, const struct td_reasm_limits *lim,
		      const struct td_reasm_sink *sink, int dir, uint32_t seq, bool fin,
		      const uint8_t *payload, size_t len, uint32_t frame, struct td_time ts)
{
	/* No limits given: hold nothing, every hole is given up at once. */
	static const struct td_reasm_limits no_holding = { 0, 0 };
	uint32_t n = len > TD_REASM_MAX_SEG ? TD_REASM_MAX_SEG : (uint32_t)len;
	bool overlapped = false;

	if (!payload)
		n = 0;
	if (!lim)
		lim = &no_holding;

	if (!d->started) {
		/* Picked up mid-stream: the stream starts here. */
		d->started = true;
		d->isn = seq;
		d->next_seq = seq;
	} else if (!fin && n <= 1 && seq == d->next_seq - 1) {
		/* Keep-alive (RFC 9293 §3.8.4): one byte (or none) before
		 * next_seq, sent to elicit an ACK. Not data, not a
		 * retransmission. */
		d->c.keepalives++;
		return;
	} else if (seq - d->next_seq > TD_REASM_MAX_WINDOW &&
		   d->next_seq - seq > TD_REASM_MAX_WINDOW) {
		/* in no window (TD_REASM_MAX_WINDOW): another stream's */
		td_reasm_note_out_of_window(d);
		return;
	}

	if (n) {
		d->c.segments++;
		if (n > d->c.largest_segment)
			d->c.largest_segment = n;
	}
	if (fin)
		note_fin(d, seq + n);
	if (d->fin_seen) {
		if (TD_SEQ_GEQ(seq, d->fin_seq))
			n = 0;
		else if (TD_SEQ_GT(seq + n, d->fin_seq))
			n = d->fin_seq - seq;
	}
	if (!n)
		return;

	make_room(d, lim, sink, dir, seq, seq + n, frame, ts);

	if (TD_SEQ_LEQ(seq + n, d->next_seq)) {
		d->c.retransmissions++;
		return;
	}
	if (TD_SEQ_LT(seq, d->next_seq)) {
		uint32_t skip = d->next_seq - seq;

		overlapped = true;
		seq += skip;
		payload += skip;
		n -= skip;
	}
	if (seq == d->next_seq) {
		deliver_in_order(d, sink, dir, seq, payload, n, frame, ts, &overlapped);
	} else if (hold(d, seq, payload, n, frame, ts, &overlapped)) {
		d->c.out_of_order++;
	} else if (overlapped) {
		/* Every byte was held already: a copy of data seen before. */
		d->c.retransmissions++;
		overlapped = false;
	}
	if (overlapped)
		d->c.overlaps++;
}

bool td_reasm_window_probe(struct td_reasm_dir *d, uint32_t seq, size_t len, bool fin)
{
	if (!d->started || fin || len != 1 || seq != d->next_seq)
		return false;
	d->c.zero_window_probes++;
	return true;
}

bool td_reasm_fin_reached(const struct td_reasm_dir *d)
{
	return d->fin_seen && d->next_seq == d->fin_seq;
}

size_t td_reasm_bytes(const struct td_reasm_dir *d)
{
	return d->held_bytes +
	       (size_t)d->held_segs * (sizeof(struct td_reasm_seg) + TD_REASM_MALLOC_OVERHEAD);
}

void td_reasm_flush(struct td_reasm_dir *d, const struct td_reasm_sink *sink, int dir)
{
	while (d->held)
		skip_to_first_held(d, sink, dir);
	/* Bytes between the last delivered one and a FIN seen were sent but
	 * never captured. No frame carries them: frame 0, time 0. */
	if (d->fin_seen && TD_SEQ_LT(d->next_seq, d->fin_seq)) {
		uint32_t missing = d->fin_seq - d->next_seq;

		d->next_seq = d->fin_seq;
		emit_gap(d, sink, dir, missing, 0, (struct td_time){ 0, 0 });
	}
}
