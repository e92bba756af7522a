/* td_capture.h - packets from saved capture files, through libpcap.
 *
 * Stage 1 of the pipeline (DESIGN.md). The only module that includes
 * pcap.h. It opens a pcap or pcapng file (or "-" for standard input),
 * applies an optional BPF filter, and hands out packets one at a time with
 * their frame number counted as Wireshark counts it: from 1, over every
 * packet in the file, filtered or not.
 *
 * Errors are classified so that the caller can map them to documented exit
 * statuses, and each carries one line naming the file and the problem.
 */
#ifndef TD_CAPTURE_H
#define TD_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "td_time.h"

enum td_capture_status {
	TD_CAP_OK,          /* a packet was read */
	TD_CAP_EOF,         /* the input ended cleanly */
	TD_CAP_ERR_OPEN,    /* cannot open: missing, unreadable, a directory */
	TD_CAP_ERR_FORMAT,  /* not a pcap/pcapng file, or its header is cut */
	TD_CAP_ERR_LINKTYPE, /* a link type tlsdiag does not decode */
	TD_CAP_ERR_FILTER,  /* the BPF filter does not compile */
	TD_CAP_ERR_READ,    /* the file ends inside a packet, or is damaged */
};

struct td_packet {
	uint32_t frame;      /* 1, 2, ... over every packet of the input */
	struct td_time ts;
	int linktype;        /* TD_LINK_* */
	const uint8_t *data; /* borrowed until the next td_capture_next() */
	uint32_t caplen, wirelen;
};

struct td_capture_stats {
	uint64_t packets;      /* read from the file, filtered or not */
	uint64_t bytes;        /* captured bytes read */
	uint64_t filtered_out; /* rejected by the BPF filter */
};

struct td_capture;

/* Opens path ("-": standard input) with an optional BPF filter (NULL or
 * ""). On failure returns NULL, sets *status and writes one line into err
 * ("capture.pcap: No such file or directory"). */
struct td_capture *td_capture_open_file(const char *path, const char *filter,
					enum td_capture_status *status, char *err,
					size_t errlen);
/* Reads the next packet that passes the filter. TD_CAP_ERR_READ means the
 * input stopped early: err says where ("truncated capture: ... after frame
 * N, at byte offset M"); the packets before it were delivered. */
enum td_capture_status td_capture_next(struct td_capture *c, struct td_packet *pkt, char *err,
				       size_t errlen);
void td_capture_stats(const struct td_capture *c, struct td_capture_stats *out);
int td_capture_linktype(const struct td_capture *c);
void td_capture_close(struct td_capture *c);

#endif
