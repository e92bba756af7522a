/* pcap-loop.c - the floor for reading a capture: libpcap's read loop, which
 * only counts packets and bytes. tlsdiag's CPU time is reported as a ratio
 * to this program's (bench/run).
 *
 *   build/bench/pcap-loop FILE
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t packets = 0, bytes = 0;
	pcap_t *p;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: pcap-loop FILE\n");
		return 2;
	}
	p = pcap_open_offline(argv[1], err);
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
	printf("%llu packets %llu bytes\n", (unsigned long long)packets, (unsigned long long)bytes);
	return rc == PCAP_ERROR ? 1 : 0;
}
