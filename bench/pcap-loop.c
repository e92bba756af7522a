/* pcap-loop.c - the floor for reading a capture: libpcap's read loop, which
 * only counts packets and bytes. tlsdiag's CPU time is reported as a ratio
 * to this program's (bench/run). It reads the file through a 64 KiB stdio
 * buffer, as tlsdiag does (src/capture.c): the floor is the cheapest read,
 * not the 4 KiB read(2) calls of pcap_open_offline's default buffer.
 *
 *   build/bench/pcap-loop FILE
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define READ_BUFFER ((size_t)1 << 16)

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t packets = 0, bytes = 0;
	pcap_t *p;
	char *buf = malloc(READ_BUFFER);
	FILE *f;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: pcap-loop FILE\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f || !buf) {
		perror(argv[1]);
		return 3;
	}
	setvbuf(f, buf, _IOFBF, READ_BUFFER);
	p = pcap_fopen_offline(f, err); /* pcap_close() closes f */
	if (!p) {
		fprintf(stderr, "pcap-loop: %s\n", err);
		return 3;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		packets++;
		bytes += h->caplen;
	}
	if (rc == PCAP_ERROR)
		fprintf(stderr, "pcap-loop: %s\n", pcap_geterr(p));
	pcap_close(p);
	free(buf);
	printf("%llu packets %llu bytes\n", (unsigned long long)packets, (unsigned long long)bytes);
	return rc == PCAP_ERROR ? 1 : 0;
}
