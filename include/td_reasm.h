/* td_reasm.h - per-direction TCP stream reassembly.
 *
 * Stage 4 of the pipeline (DESIGN.md). One struct td_reasm_dir per
 * direction of a connection. Segments go in in capture order; bytes come out
 * in sequence order through the sink, each chunk tagged with the frame that
 * carried it. In-order payload is handed on without copying (a pointer into
 * the packet); only segments that arrive ahead of a hole are copied and
 * held, within caps. Missing bytes are reported to the sink as a gap, never
 * invented.
 *
 * Sequence numbers compare wrap-safe (RFC 793 §3.3 modular arithmetic, as
 * Suricata's SEQ_LT/SEQ_GT).
 *
 * Overlap policy: first copy wins. Bytes already delivered or already held
 * are never replaced; when a later copy of held bytes differs, the
 * difference is counted (overlaps_differ) with both frame numbers.
 */
#ifndef TD_REASM_H
#define TD_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_time.h"

/* RFC 7323 §2.3: a TCP window is at most 2^30 bytes. A segment further
 * than that from the next byte expected, ahead or behind, lies in no
 * window the receiver could have offered: it belongs to another stream
 * on the same ports (a port reused, a mirror mixing two connections)
 * and is dropped, not taken for a gap of gigabytes. */
#define TD_REASM_MAX_WINDOW (1u << 30)

#define TD_SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define TD_SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define TD_SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define TD_SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

struct td_reasm_limits {
	size_t max_held_bytes;  /* out-of-order bytes held per direction */
	unsigned max_held_segs; /* out-of-order segments held per direction */
};

/* Receives the stream. All callbacks are optional (NULL: ignored).
 * data: p is borrowed for the duration of the call only. */
struct td_reasm_sink {
	void (*data)(void *user, int dir, const uint8_t *p, size_t n, uint32_t frame,
		     struct td_time ts);
	void (*gap)(void *user, int dir, uint64_t missing, uint32_t frame, struct td_time ts);
	void *user;
};

struct td_reasm_counters {
	uint32_t segments;       /* segments with payload */
	uint32_t retransmissions; /* entirely already seen */
	uint32_t out_of_order;   /* arrived ahead of a hole */
	uint32_t overlaps;       /* partly already seen */
	uint32_t overlaps_differ;
	uint32_t overlap_frame_first, overlap_frame_second; /* last differing pair */
	uint32_t gaps;
	uint64_t bytes_missing;
	uint64_t bytes_delivered;
	uint32_t dropped_over_cap; /* holes given up because of the caps (or memory) */
	uint32_t largest_segment;
	uint32_t keepalives;         /* ignored: one byte (or none) at next_seq - 1 */
	uint32_t zero_window_probes; /* ignored: see td_reasm_window_probe() */
};

struct td_reasm_seg; /* private */

/* Two in every open connection: the fields are ordered to leave the
 * least padding (104 B on x86-64). */
struct td_reasm_dir {
	uint32_t isn;       /* first sequence number (SYN's, or first data's) */
	uint32_t next_seq;  /* next byte to deliver */
	uint32_t fin_seq;
	unsigned held_segs;
	bool started;       /* next_seq is known */
	bool fin_seen;
	/* Segments dropped as not of this stream (saturates; kept here, in
	 * what was padding): more than TD_REASM_MAX_WINDOW bytes from
	 * next_seq either way, or (engine.c) a SYN-ACK that does not
	 * acknowledge the client's SYN. */
	uint16_t out_of_window;
	struct td_reasm_seg *held; /* sorted by seq, non-overlapping */
	size_t held_bytes;
	struct td_reasm_counters c;
};

void td_reasm_init(struct td_reasm_dir *d);
/* Frees held segments; d can be initialised again. */
void td_reasm_free(struct td_reasm_dir *d);

/* A SYN (or SYN-ACK) was seen with this sequence number: data starts at
 * seq + 1. A second SYN with another number restarts the direction. */
void td_reasm_syn(struct td_reasm_dir *d, uint32_t seq);
/* Does ack, carried by a segment of the other direction, acknowledge
 * bytes of this one more than TD_REASM_MAX_WINDOW behind those already
 * seen? No receiver lags that far, and a capture that lost packets only
 * makes the next byte seen lag, never lead: the segment is another
 * stream's. (An acknowledgment far ahead can be a capture that missed
 * this direction's data: false.) False before the direction started. */
bool td_reasm_ack_stale(const struct td_reasm_dir *d, uint32_t ack);
/* Counts a segment dropped as not of this stream (out_of_window). */
void td_reasm_note_out_of_window(struct td_reasm_dir *d);

/* One segment's payload (len may be 0, then only FIN bookkeeping). A
 * direction with no SYN seen starts at the first segment's seq
 * (connection picked up mid-stream). */
void td_reasm_segment(struct td_reasm_dir *d, const struct td_reasm_limits *lim,
		      const struct td_reasm_sink *sink, int dir, uint32_t seq, bool fin,
		      const uint8_t *payload, size_t len, uint32_t frame, struct td_time ts);

/* Heap bytes d holds (its held segments, each with its list header and an
 * allocator header), for the flow table's accounting (td_flow_charge). */
size_t td_reasm_bytes(const struct td_reasm_dir *d);

/* The receiver's last advertised window was 0: is this segment a
 * zero-window probe (RFC 9293 §3.8.6.1: one byte at next_seq, sent to
 * learn when the window opens; the receiver drops it and the sender sends
 * the byte again later)? Then it is counted and true returned, and the
 * caller does not pass it to td_reasm_segment(): it is neither data nor,
 * when the byte comes again, a retransmission. As Suricata does. */
bool td_reasm_window_probe(struct td_reasm_dir *d, uint32_t seq, size_t len, bool fin);

/* Whether the stream has reached its FIN: a FIN was seen and every byte
 * before it delivered. A FIN captured ahead of data of its direction
 * (reordering) is only reached once that data has come, or never. */
bool td_reasm_fin_reached(const struct td_reasm_dir *d);

/* End of the stream (FIN/RST/end of capture): whatever is still held is
 * delivered in order, with a gap reported before each hole. */
void td_reasm_flush(struct td_reasm_dir *d, const struct td_reasm_sink *sink, int dir);

#endif
