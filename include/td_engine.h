/* td_engine.h - the pipeline from a packet to finished session facts.
 *
 * Wires decode -> flow -> reasm -> tls -> session for every packet, owns
 * the connection table, and hands each connection's facts to the caller
 * when it ends: both FINs, an RST, an idle timeout, eviction, or the end of
 * the input. No output here: the caller reports.
 */
#ifndef TD_ENGINE_H
#define TD_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "td_decode.h"
#include "td_defrag.h"
#include "td_reasm.h"
#include "td_session.h"
#include "td_tls.h"

struct td_x509_cache;

/* Idle-timeout states (td_flow.h's enum td_flow_state, in that order). */
enum { TD_ENGINE_HALF_OPEN, TD_ENGINE_ESTABLISHED, TD_ENGINE_CLOSING, TD_ENGINE_STATES };

struct td_engine_evidence;
/* Called once per finished TLS connection right after emit (s is the same
 * session, valid during the call only) with the frames it kept; the
 * caller decides whether to write them. */
typedef void (*td_engine_evidence_fn)(void *user, const struct td_session *s,
				      const struct td_engine_evidence *ev);

struct td_classify; /* td_classify.h */

struct td_engine_config {
	size_t max_flows;         /* connections held at once; oldest evicted */
	/* Bytes held for all connections together (table, entries, session
	 * facts, reassembly and TLS buffers: td_flow_bytes()); above it the
	 * least recently active connections are evicted. 0: no limit. */
	size_t max_memory;
	size_t max_handshake_msg; /* largest handshake message parsed */
	struct td_reasm_limits reasm;
	/* Seconds of capture time without a packet before a connection ends,
	 * per state: half-open (a SYN, no SYN-ACK, no data), established,
	 * closing (a FIN or RST seen; also how long the 5-tuple of a finished
	 * connection is remembered, so late segments are not a new one). */
	uint32_t idle_timeout[TD_ENGINE_STATES];
	struct td_defrag_limits defrag; /* IP fragment reassembly */
	bool classify;            /* run nDPI on each flow's first packets */
	/* With classify: nDPI's module to use, borrowed (the caller's: it
	 * outlives the engine and is freed, or not, by the caller); NULL: the
	 * engine makes its own and frees it. */
	struct td_classify *ndpi;
	/* Secrets to decrypt handshakes with (--keylog, --key); borrowed,
	 * NULL when none. */
	const struct td_tls_secrets *secrets;
	/* --save-evidence: every connection keeps the frames that carried
	 * its TCP segments, up to evidence_max_bytes (TD_ENGINE_FRAME_BYTES
	 * of each; later frames are counted, not kept), until it ends; then
	 * evidence() is called (after emit, TLS connections only) and the
	 * frames are freed. The frames count in max_memory. NULL: none kept. */
	td_engine_evidence_fn evidence;
	size_t evidence_max_bytes;
	/* -j (td_pipeline.h): when set, each finished TLS connection goes
	 * here instead of to emit and evidence, on the engine's thread: the
	 * callee takes what the session holds (td_session_move; its
	 * certificate references too) and the evidence frames (ev->first set
	 * to NULL; freed with td_engine_evidence_free). NULL: emit. */
	void (*handoff)(void *user, struct td_session *s, struct td_engine_evidence *ev);
};

/* One frame a connection kept (td_engine_config.evidence), as the capture
 * delivered it. */
struct td_engine_frame {
	struct td_engine_frame *next; /* the connection's next frame */
	uint32_t frame;
	struct td_time ts;
	int linktype;
	uint32_t caplen, wirelen;
	uint8_t data[]; /* caplen bytes */
};

/* What one held frame costs: its struct, its bytes and the allocator's
 * header; what evidence_max_bytes and max_memory count. */
#define TD_ENGINE_FRAME_BYTES(caplen) (sizeof(struct td_engine_frame) + 16 + (size_t)(caplen))

/* A connection's evidence. The frames are in frame order; borrowed for
 * the evidence() call, read-only. */
struct td_engine_evidence {
	struct td_engine_frame *first;
	uint32_t frames;
	/* Frames of the connection not kept: from the first that did not fit
	 * under evidence_max_bytes on (the first frames are kept: the
	 * handshake), and segments out of IP reassembly whose fragments'
	 * frames were not all held (dropped past the reassembly caps, or a
	 * fragment inside a fragmented tunnel): counted once per segment.
	 * The fragments of a reassembled datagram are kept, each its frame. */
	uint32_t over_cap, fragments;
};

/* Frees the frames of evidence taken by a handoff; ev->first becomes NULL. */
void td_engine_evidence_free(struct td_engine_evidence *ev);

/* --evidence-max-bytes' default: the handshake of any real connection
 * (certificate chains included) with its ACKs, several times over. */
#define TD_ENGINE_EVIDENCE_MAX_DEFAULT ((size_t)128 << 10)

/* --max-memory's default: about 33000 connections mid-handshake. */
#define TD_ENGINE_MAX_MEMORY_DEFAULT ((size_t)256 << 20)

/* Defaults documented in the man page. */
void td_engine_config_default(struct td_engine_config *cfg);

/* Called once per finished connection; s is valid during the call only
 * and may be completed by the caller (key matching) before it reports. */
typedef void (*td_engine_emit_fn)(void *user, struct td_session *s);

/* Packets decode stopped at for a field it does not know (an EtherType, a
 * GRE protocol...), one row per distinct field, in order of first sight. */
#define TD_ENGINE_MAX_NOT_DECODED 16

struct td_not_decoded {
	uint8_t kind; /* enum td_decode_unknown */
	uint32_t value;
	uint64_t packets;
};

struct td_engine_stats {
	uint64_t packets;
	uint64_t by_decode[TD_DECODE_RESULT_COUNT];
	struct td_defrag_stats defrag;
	struct td_not_decoded not_decoded[TD_ENGINE_MAX_NOT_DECODED];
	size_t n_not_decoded;
	uint64_t not_decoded_other; /* packets of fields beyond the table's rows */
	uint64_t flows_created, flows_expired;
	uint64_t flows_evicted;        /* all evictions: */
	uint64_t flows_evicted_memory; /* because of max_memory */
	size_t memory_now, memory_peak; /* td_flow_bytes(), its peak */
	uint64_t tls, not_tls;
	uint64_t ignored_no_flow; /* payload-less packets of unknown connections */
	size_t flows_now, flows_peak;
	bool classify; /* nDPI classified the flows (off, or it could not start) */
};

struct td_engine;

/* cache is borrowed and must outlive the engine. NULL on out of memory. */
struct td_engine *td_engine_new(const struct td_engine_config *cfg, struct td_x509_cache *cache,
				td_engine_emit_fn emit, void *user);
void td_engine_packet(struct td_engine *e, int linktype, uint32_t frame, struct td_time ts,
		      const uint8_t *data, size_t caplen, size_t wirelen);
/* End of input: every open connection is finished (end "open") and
 * emitted, in order of first packet. */
/* Time moves on without a packet (a quiet live interface; now is the wall
 * clock, as live packets' timestamps are): connections idle for longer than
 * their state's timeout end (TD_END_IDLE) and are reported, and unfinished
 * IP datagrams time out, as if a packet had come at now. */
void td_engine_advance(struct td_engine *e, struct td_time now);
void td_engine_finish(struct td_engine *e);
void td_engine_stats(const struct td_engine *e, struct td_engine_stats *out);
void td_engine_free(struct td_engine *e);

#endif
