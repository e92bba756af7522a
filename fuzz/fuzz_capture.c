/* fuzz_capture.c - a capture file read two ways: by the capture stage, as
 * `tlsdiag -r FILE` reads it (classic pcap records and pcapng packet
 * blocks in place, libpcap from the first one it does not take), and by
 * libpcap alone through
 * fmemopen(). Both must give the same packets, field for field and byte
 * for byte, and end the same way: at the end of the file together, or
 * stopped early together with libpcap's own words in the capture stage's
 * message.
 */
#define _GNU_SOURCE
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "td_capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1024], ebuf[PCAP_ERRBUF_SIZE];
	enum td_capture_status st;
	struct td_capture *cap;
	struct td_packet pkt;
	pcap_t *p;
	FILE *f;
	int fd;

	if (size == 0 || (fd = fuzz_input_path(data, size, path, sizeof path)) < 0)
		return 0;
	cap = td_capture_open_file(path, NULL, &st, err, sizeof err);
	if (!cap) {
		FUZZ_ASSERT(st != TD_CAP_OK && err[0] != '\0');
		close(fd);
		return 0;
	}
	f = fmemopen((void *)data, size, "rb");
	FUZZ_ASSERT(f != NULL);
	p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	FUZZ_ASSERT(p != NULL); /* the capture stage opened it with libpcap too */
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *d;
		int rc;

		st = td_capture_next(cap, &pkt, err, sizeof err);
		rc = pcap_next_ex(p, &h, &d);
		if (st == TD_CAP_OK) {
			FUZZ_ASSERT(rc == 1);
			FUZZ_ASSERT(pkt.ts.sec == (int64_t)h->ts.tv_sec);
			FUZZ_ASSERT(pkt.ts.usec == (int32_t)h->ts.tv_usec);
			FUZZ_ASSERT(pkt.caplen == h->caplen && pkt.wirelen == h->len);
			FUZZ_ASSERT(memcmp(pkt.data, d, h->caplen) == 0);
			continue;
		}
		if (st == TD_CAP_EOF) {
			FUZZ_ASSERT(rc == PCAP_ERROR_BREAK);
		} else {
			FUZZ_ASSERT(st == TD_CAP_ERR_READ && rc == PCAP_ERROR);
			FUZZ_ASSERT(strstr(err, pcap_geterr(p)) != NULL);
		}
		break;
	}
	pcap_close(p); /* closes f */
	td_capture_close(cap);
	close(fd);
	return 0;
}
