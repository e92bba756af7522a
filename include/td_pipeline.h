/* td_pipeline.h - -j: reading, analysis and reporting on two or three
 * threads.
 *
 * The caller's thread reads the capture and gives it packet by packet to
 * td_pipeline_packet. Three layouts:
 * - the caller runs the engine (td_engine.h) itself, and a reporting
 *   thread reports (two threads);
 * - the caller copies each packet into a batch, an analysis thread runs
 *   the engine on the batches in order, and a reporting thread reports
 *   (three threads);
 * - the same with the caller reporting too, between batches and while it
 *   waits for a free one (two threads: reading and reporting, analysis):
 *   for a file, where reading may wait, the two threads share the work
 *   more evenly once the report is cheap.
 * Either way each finished connection is reported in the order the engine
 * ended it, with the same calls the engine makes with one thread: emit,
 * then evidence. Nothing else changes hands, so the report is the same,
 * byte for byte, as with td_engine alone.
 *
 * Memory: besides what the engine holds (and --max-memory counts), the
 * batches on their way: TD_PIPELINE_BATCHES batches of finished
 * connections waiting to be reported, their evidence frames included (at
 * most evidence_max_bytes each), and with an analysis thread as many
 * packet batches of batch_bytes.
 *
 * The x509 cache is shared: the analysis thread releases a connection's
 * certificates when the engine ends it (td_x509_cert_release_pinned), the
 * thread that reports it unpins them when it is done, so the cache's
 * lookups, hits and evictions are those of one thread.
 */
#ifndef TD_PIPELINE_H
#define TD_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_engine.h"

/* Batches of each kind in flight; how far reading may run ahead of the
 * analysis, and the analysis ahead of the reporting. */
#define TD_PIPELINE_BATCHES 4
/* Packet bytes per batch by default (a larger packet gets a batch of its
 * own size), and connections per batch. A batch hand-over can wake the
 * other thread (a futex call, a context switch): 1 MiB instead of 256 KiB
 * made -j 2 on the 1 GB mixed workload about a tenth faster (median wall
 * of 8 runs, 0.755 s against 0.675 s; 512 KiB 0.685 s, 2 MiB 0.725 s). */
#define TD_PIPELINE_BATCH_BYTES ((size_t)1 << 20)
#define TD_PIPELINE_BATCH_SESSIONS 32

struct td_pipeline_config {
	size_t batch_bytes;       /* 0: TD_PIPELINE_BATCH_BYTES */
	unsigned batch_sessions;  /* 0: TD_PIPELINE_BATCH_SESSIONS */
	/* Reporting thread, after the connections an advance ended: the
	 * input went quiet (live), a moment to flush files. NULL: none. */
	void (*idle)(void *user);
	/* The engine on a thread of its own (three threads: reading,
	 * analysis, reporting); false: on the caller's thread, which reads
	 * and analyses (two threads), and no packet is copied. */
	bool analysis_thread;
	/* With analysis_thread: no reporting thread; emit, evidence and idle
	 * are called on the caller's thread, inside td_pipeline_packet,
	 * _flush, _advance and _finish (two threads). Not for a live
	 * capture, whose reading must not wait for the report. */
	bool report_on_caller;
};

struct td_pipeline;

/* Starts the analysis and reporting threads (with every signal blocked
 * but SIGPIPE and the faults: the caller's thread gets them). emit and cfg->evidence are called on
 * the reporting thread (report_on_caller: the caller's), as td_engine_new() describes; cache is
 * borrowed.
 * NULL on out of memory or when a thread cannot start. */
struct td_pipeline *td_pipeline_new(const struct td_engine_config *cfg,
				    const struct td_pipeline_config *pcfg,
				    struct td_x509_cache *cache, td_engine_emit_fn emit, void *user);
/* td_engine_packet(), on the analysis thread; data is copied. Blocks while
 * every packet batch is in flight. */
void td_pipeline_packet(struct td_pipeline *p, int linktype, uint32_t frame, struct td_time ts,
			const uint8_t *data, size_t caplen, size_t wirelen);
/* The packets so far go to the analysis now (live: a connection's report
 * is not held back waiting for a batch to fill). */
void td_pipeline_flush(struct td_pipeline *p);
/* Age in seconds of the oldest packet not yet handed over (0: none), by
 * the monotonic clock. */
double td_pipeline_pending_age(const struct td_pipeline *p, double now);
/* td_engine_advance() after the packets so far; then the idle callback. */
void td_pipeline_advance(struct td_pipeline *p, struct td_time now);
/* End of input: td_engine_finish() after the packets so far, and waits
 * until every connection has been reported and both threads have ended.
 * Only td_pipeline_stats() and td_pipeline_free() may follow. */
void td_pipeline_finish(struct td_pipeline *p);
/* The engine's statistics as of the last batch it finished (exact after
 * td_pipeline_finish). */
void td_pipeline_stats(struct td_pipeline *p, struct td_engine_stats *out);
/* Finishes first when td_pipeline_finish() was not called. p may be NULL. */
void td_pipeline_free(struct td_pipeline *p);

#endif
