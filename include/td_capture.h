/* td_capture.h - packets from saved capture files or a live interface,
 * through libpcap.
 *
 * Stage 1 of the pipeline (DESIGN.md). The only module that includes
 * pcap.h. It opens one or several pcap or pcapng files ("-" for standard
 * input) or a live interface, applies an optional BPF filter, and hands
 * out packets one at a time with a frame number:
 *
 *   one file     as Wireshark counts: from 1, over every packet in the
 *                file, filtered or not;
 *   several      read as one capture in timestamp order, as mergecap
 *   files        merges them: the packet with the smallest timestamp of
 *                all files comes next (ties: the file named first), and
 *                frames count over that merged stream, filtered or not;
 *   live         packets received from the interface, from 1 (the filter
 *                runs in the kernel, so every packet received passed it).
 *
 * Optionally every packet handed out is also written to a new pcap file
 * (td_capture_dump_open, tcpdump's -w).
 *
 * Errors are classified so that the caller can map them to documented exit
 * statuses, and each carries one line naming the file (or interface) and
 * the problem.
 */
#ifndef TD_CAPTURE_H
#define TD_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "td_error.h"
#include "td_time.h"

enum td_capture_status {
	TD_CAP_OK,          /* a packet was read */
	TD_CAP_EOF,         /* the input ended cleanly */
	TD_CAP_ERR_OPEN,    /* cannot open: missing, unreadable, a directory;
			     * live: no such interface, permission denied */
	TD_CAP_ERR_FORMAT,  /* not a pcap/pcapng file, or its header is cut */
	TD_CAP_ERR_LINKTYPE, /* a link type tlsdiag does not decode */
	TD_CAP_ERR_FILTER,  /* the BPF filter does not compile */
	TD_CAP_ERR_READ,    /* the file ends inside a packet, or is damaged;
			     * live: the interface stopped delivering */
	TD_CAP_TIMEOUT,     /* live: no packet within the timeout; call again */
	TD_CAP_ERR_OUTPUT,  /* the -w file: exists, a symbolic link, cannot be
			     * created or written */
};

struct td_packet {
	uint32_t frame;      /* 1, 2, ... (see above) */
	struct td_time ts;
	int linktype;        /* TD_LINK_*; per packet (merged files may differ) */
	const uint8_t *data; /* borrowed until the next td_capture_next() */
	uint32_t caplen, wirelen;
};

struct td_capture_stats {
	uint64_t packets;      /* read (files: filtered or not; live: received) */
	uint64_t bytes;        /* captured bytes read */
	uint64_t filtered_out; /* rejected by the BPF filter (files only: live
				* filters in the kernel) */
	bool live;
	/* live only, from pcap_stats(): packets the kernel dropped for lack
	 * of buffer space, and those the interface or its driver dropped. */
	uint64_t dropped_kernel, dropped_iface;
	/* pcapng files read in place: Decryption Secrets Blocks after the
	 * first packet, which td_pcapng_secrets() does not read; the first
	 * such file (borrowed for the capture's lifetime) and the first
	 * block's byte offset in it. */
	uint64_t late_secrets;
	const char *late_secrets_file;
	uint64_t late_secrets_at;
};

/* Live capture settings (tcpdump's -s, -B, -p). */
#define TD_CAPTURE_SNAPLEN_DEFAULT 262144
/* Live: how long the kernel holds packets before it hands them over
 * (libpcap's packet buffer timeout), at most. */
#define TD_CAPTURE_BUFFER_TIMEOUT_MS 100
/* Live: the kernel buffer when -B is not given. libpcap's 2 MiB holds
 * about 20 ms of a busy link (7,000 packets of the handshake workload at
 * 367,000 packets/s): there 2 MiB lost 2 to 12% of the packets in each of
 * three runs, 16 MiB none in 5 of 6 (make bench-live and by hand, 2
 * cores, the sender on one of them). */
#define TD_CAPTURE_BUFFER_KIB_DEFAULT 16384
struct td_capture_live_opts {
	const char *iface;
	const char *filter; /* NULL or "": none */
	int snaplen;        /* bytes kept per packet; 0: the default above */
	int buffer_kib;     /* kernel buffer; 0: TD_CAPTURE_BUFFER_KIB_DEFAULT */
	bool promisc;
	int timeout_ms;     /* td_capture_next() returns TD_CAP_TIMEOUT after
			     * this long without a packet; 0: 250 */
};

struct td_capture;

/* Opens path ("-": standard input) with an optional BPF filter (NULL or
 * ""). On failure returns NULL, sets *status and writes one line into err
 * ("capture.pcap: No such file or directory"). */
struct td_capture *td_capture_open_file(const char *path, const char *filter,
					enum td_capture_status *status, char *err,
					size_t errlen);
/* Opens n files (n >= 1; at most one "-") to be read as one capture in
 * timestamp order (see above); the filter is compiled for each file. Fails
 * as td_capture_open_file() does, naming the file at fault. */
struct td_capture *td_capture_open_files(const char *const *paths, size_t n, const char *filter,
					 enum td_capture_status *status, char *err,
					 size_t errlen);
/* Opens a live interface: pcap_create(), the options above, the packet
 * buffer timeout TD_CAPTURE_BUFFER_TIMEOUT_MS (not immediate mode: see
 * capture.c), then pcap_activate() and the filter in the kernel. Failures:
 * TD_CAP_ERR_OPEN ("eth9: no such interface", "eth0: permission denied:
 * live capture needs root or CAP_NET_RAW"), TD_CAP_ERR_LINKTYPE,
 * TD_CAP_ERR_FILTER. A warning from pcap_activate() (e.g. promiscuous
 * mode not supported) is kept for td_capture_warning(). */
struct td_capture *td_capture_open_live(const struct td_capture_live_opts *o,
					enum td_capture_status *status, char *err,
					size_t errlen);

/* Reads the next packet that passes the filter. TD_CAP_ERR_READ means the
 * input stopped early: err says where ("truncated capture: ... after frame
 * N, at byte offset M"); the packets before it were delivered. With
 * several files, a file that stops early ends only itself: the others are
 * read to their end first, then TD_CAP_ERR_READ reports the first such
 * file. Live: TD_CAP_TIMEOUT when nothing arrived within the timeout (or a
 * signal interrupted the wait), so the caller can check its flags. */
enum td_capture_status td_capture_next(struct td_capture *c, struct td_packet *pkt, char *err,
				       size_t errlen);

/* Also writes every packet td_capture_next() delivers from now on to a new
 * pcap file at path (td_capture_writer_open(): microsecond timestamps, the
 * input's link type; an existing file or a symbolic link at path is
 * refused, TD_CAP_ERR_OUTPUT, err says which). Merged files must share one
 * link type. */
TD_MUST_CHECK enum td_capture_status td_capture_dump_open(struct td_capture *c, const char *path, char *err,
					    size_t errlen);
/* Flushes the -w file; TD_CAP_ERR_OUTPUT when writing it failed. TD_CAP_OK
 * when there is none. */
TD_MUST_CHECK enum td_capture_status td_capture_dump_flush(struct td_capture *c, char *err, size_t errlen);

/* A pcap file being written: the -w file, the --save-evidence file. */
struct td_capture_writer;

/* Creates path with td_file_create() (td_file.h: an existing file or a
 * symbolic link at path is refused, never overwritten or followed; mode
 * 0644) and writes the pcap file header: link type linktype (a DLT_ value,
 * as td_capture_linktype() gives it), snapshot length snaplen,
 * microsecond timestamps. NULL on failure, with one line in err (a file
 * created on the way is removed). */
TD_MUST_CHECK struct td_capture_writer *td_capture_writer_open(const char *path, int linktype,
							       int snaplen, char *err,
							       size_t errlen);
/* Appends one packet: its timestamp, captured bytes and original length
 * as given. A write error shows at the next flush or at close. */
void td_capture_writer_put(struct td_capture_writer *w, struct td_time ts, const uint8_t *data,
			   uint32_t caplen, uint32_t wirelen);
/* Puts what is buffered on disk; TD_CAP_ERR_OUTPUT (err names the file)
 * when a write failed. */
TD_MUST_CHECK enum td_capture_status td_capture_writer_flush(struct td_capture_writer *w, char *err,
							     size_t errlen);
/* Flushes and closes w (NULL: nothing to do, TD_CAP_OK); TD_CAP_ERR_OUTPUT
 * when a write failed. w is freed either way. */
enum td_capture_status td_capture_writer_close(struct td_capture_writer *w, char *err,
					       size_t errlen);

/* Counters so far; live, the drop counters are asked of the kernel. */
void td_capture_stats(const struct td_capture *c, struct td_capture_stats *out);
/* Files: how far reading has got, for a progress line. *done is the byte
 * offset reached in every file together (a file read to its end counts
 * whole), *total their sizes. False when it cannot be known: live
 * capture, standard input or another file that is not a regular file. */
bool td_capture_progress(const struct td_capture *c, uint64_t *done, uint64_t *total);
int td_capture_linktype(const struct td_capture *c);
/* libpcap's warning when the live capture was opened, or NULL. Borrowed
 * for the capture's lifetime. */
const char *td_capture_warning(const struct td_capture *c);
/* The link type's name, for the "listening on" line, and the snapshot
 * length (several files: the largest of theirs). */
const char *td_capture_linktype_name(const struct td_capture *c);
int td_capture_snaplen(const struct td_capture *c);
void td_capture_close(struct td_capture *c);

/* Interfaces that can be captured on (pcap_findalldevs()), one line each
 * written to out as tcpdump -D writes them ("1.eth0 [Up, Running]").
 * Returns 0, or -1 with one line in err. */
TD_MUST_CHECK int td_capture_list_ifaces(FILE *out, char *err, size_t errlen);

#endif
