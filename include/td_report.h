/* td_report.h - the report: a text block or a JSON line per connection, and
 * a summary at the end.
 *
 * The last stage of the pipeline (DESIGN.md "report"). It reads the session
 * facts (td_session.h) and the engine's counters (struct td_summary) and
 * nothing else; it decides nothing and keeps no state between calls, so
 * connections can be reported as they end.
 *
 * Two outputs, one set of facts:
 *   text   one block per connection for a terminal or a ticket: a header
 *          line, then the sections Connection, ClientHello, ServerHello,
 *          Certificates, Alerts, Ladder, Outcome (sections with nothing
 *          to show are left out); times in the local time zone (TZ).
 *   JSON   JSON Lines, schema_version 1: one {"type":"connection"} object
 *          per connection and one {"type":"summary"} object last. The
 *          field names are a contract (renaming or retyping one needs a new
 *          schema_version); times are RFC 3339 UTC with microseconds.
 *
 * Strings from the wire (SNI, ALPN, certificate names) are escaped for the
 * output they go to (td_report_util.h tells how): the text can be printed
 * to a terminal safely and every JSON line is valid UTF-8 that jansson's
 * json_loads() accepts with default flags.
 */
#ifndef TD_REPORT_H
#define TD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "td_engine.h"
#include "td_rules.h"
#include "td_session.h"
#include "td_time.h"

#define TD_REPORT_SCHEMA_VERSION 1

struct td_report_opts {
	bool json;   /* JSON Lines instead of text */
	bool color;  /* ANSI colours in the text (the caller checks isatty) */
	int verbose; /* text: 0 leaves out empty and zero fields; 1 shows
		      * them, plus numeric codes beside names */
};

struct td_key_use {
	const char *path;
	uint64_t certificates_matched;
};

/* Counters the engine keeps over the whole run. */
struct td_summary {
	/* File names, or the interface; borrowed for the call. */
	const char *const *inputs;
	size_t n_inputs;
	uint64_t packets, bytes;
	/* Decode results (td_decode_result) and what the filter dropped. */
	uint64_t tcp_packets, not_tcp, truncated, malformed, fragments, unsupported_link,
		filtered_out;
	/* Fields decode stopped at (td_engine.h), and IP reassembly's
	 * counters. */
	struct td_not_decoded not_decoded[TD_ENGINE_MAX_NOT_DECODED];
	size_t n_not_decoded;
	uint64_t not_decoded_other;
	struct td_defrag_stats defrag;
	struct td_time first_ts, last_ts;
	bool have_ts; /* first_ts/last_ts are set (at least one packet) */
	uint64_t connections_tls, connections_not_tls;
	uint64_t by_outcome[TD_OUTCOME_COUNT];
	uint64_t alerts_total;
	uint64_t alerts_by_desc_sender[256][2]; /* [AlertDescription][enum td_dir] */
	uint64_t alerts_encrypted[2];           /* [enum td_dir] */
	/* Findings shown (at or above --min-severity), per enum td_severity. */
	uint64_t findings_by_severity[TD_SEV_COUNT];
	uint64_t certs_distinct;
	uint64_t x509_parses, x509_hits;
	/* Distinct leaf certificates per SNI and per server endpoint
	 * (td_chain.h); borrowed, NULL when not tracked. */
	const struct td_consistency *consistency;
	/* --key files and how many certificates each matched (a key that
	 * matches none is worth saying); borrowed, n_keys 0 without --key. */
	const struct td_key_use *keys;
	size_t n_keys;
	uint64_t flows_evicted, hs_too_big, desyncs;
	/* --max-memory: connections evicted to stay under it (counted in
	 * flows_evicted too), the cap (0: none) and the most held at once. */
	uint64_t flows_evicted_memory;
	uint64_t memory_cap, memory_peak;
	/* nDPI classified the flows (false: --no-ndpi, or it could not start) */
	bool ndpi;
	/* [decrypt]: secrets were given; connections per td_decrypt_status,
	 * Finished messages verified and failed (mismatch or unreadable). */
	bool decrypt_on;
	uint64_t decrypt_by_status[TD_DECRYPT_STATUS_COUNT];
	uint64_t finished_verified, finished_failed;
	/* Live capture (-i): the interface (borrowed for the call) and
	 * pcap_stats()'s drop counters: by the kernel (buffer full), by the
	 * interface or its driver. All zero/NULL when reading files. */
	bool live;
	const char *interface;
	uint64_t dropped_kernel, dropped_iface;
	/* --save-evidence: the file (NULL: not asked for, and the rest is
	 * zero), the severity a finding needs for its connection to be
	 * written (enum td_severity), the cap of bytes kept per connection;
	 * connections and frames written; connections written whose frames
	 * did not all fit under the cap, and those frames; segments out of
	 * IP reassembly whose fragments' frames were not all held (td_engine.h);
	 * frames whose link type is not the file's (the first input's). */
	struct {
		const char *file;
		unsigned min_severity;
		uint64_t max_bytes;
		uint64_t connections, frames;
		uint64_t connections_capped, frames_over_cap, segments_fragments_lost,
			frames_other_link;
	} evidence;
	/* NULL: the input was read to its end. Else why it stopped early
	 * ("truncated capture: file.pcap: ... at byte N (frame M)");
	 * borrowed for the call. */
	const char *stopped;
};

/* Writes one connection to out: a text block (opts->json false) or one
 * JSON line. The caller owns out and flushes it. */
void td_report_session(FILE *out, const struct td_report_opts *o, const struct td_session *s);

/* Writes the summary block, or the last JSON line. */
void td_report_summary(FILE *out, const struct td_report_opts *o, const struct td_summary *sum);

/* The JSON object for one session or the summary, as written by the two
 * functions above; the caller json_decref()s it. NULL only when out of
 * memory. Used by the writers and by tests. */
json_t *td_report_session_json(const struct td_session *s);
json_t *td_report_summary_json(const struct td_summary *sum);

/* The connection failed, or the diagnosis has something to explain: what
 * --only-failures keeps and the Markdown report details. */
bool td_report_is_failure(const struct td_session *s);

/* Writes v to out exactly as json_dumpf(v, out, TD_REPORT_JSON_FLAGS)
 * would, without jansson's per-token callbacks. 0, or -1 when a write
 * failed. */
int td_report_json_dump(FILE *out, const json_t *v);

/* Flags the writer gives json_dumpf(): compact, keys in insertion order,
 * reals with 15 significant digits so 12.345 ms prints as 12.345. */
#define TD_REPORT_JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

#endif
