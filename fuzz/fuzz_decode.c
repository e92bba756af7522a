/* fuzz_decode.c - one packet through td_decode_packet, for every link type.
 *
 * The input is the packet's captured bytes. It is decoded as each link
 * type decode knows (and one it does not), with the wire length equal to
 * the captured length, then longer (the snaplen cut it), then 0 (the
 * IPv4 "total length 0" TSO case). Invariants from td_decode.h: a TCP
 * result's payload lies inside the packet and every byte of it is read;
 * a fragment's data too, and every fragment goes through one reassembly
 * context (td_defrag.h), whose datagrams are decoded again as raw IP.
 */
#include "fuzz.h"
#include "td_decode.h"
#include "td_defrag.h"

static const int links[] = {
	TD_LINK_NULL,      TD_LINK_ETHERNET, TD_LINK_RAW_DLT12, TD_LINK_RAW_DLT14,
	TD_LINK_RAW,       TD_LINK_LOOP,     TD_LINK_LINUX_SLL, TD_LINK_IPV4,
	TD_LINK_IPV6,      TD_LINK_LINUX_SLL2, TD_LINK_PPP,     TD_LINK_PPP_HDLC,
	TD_LINK_PPP_ETHER, TD_LINK_C_HDLC,   TD_LINK_IEEE802_11,
	147, /* LINKTYPE_USER0: not handled */
};

static volatile uint8_t touched; /* volatile: the payload reads stay */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t wirelens[] = {size, size + 1500, 0};
	uint8_t acc = 0;
	struct td_defrag_limits lim;
	td_defrag_limits_default(&lim);
	struct td_defrag *df = td_defrag_new(&lim);

	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		for (size_t w = 0; w < sizeof wirelens / sizeof wirelens[0]; w++) {
			struct td_tcp_seg seg;
			struct td_decode_info info;
			enum td_decode_result r = td_decode_packet_info(links[i], data, size,
									wirelens[w], &seg, &info);
			FUZZ_ASSERT(r < TD_DECODE_RESULT_COUNT);
			if (r == TD_DECODE_FRAGMENT && df) {
				const uint8_t *dg;
				size_t n;
				struct td_time ts = {(int64_t)i * 20, 0};
				FUZZ_ASSERT(info.frag.len <= size);
				FUZZ_ASSERT(!info.frag.len || (info.frag.data >= data &&
							       (size_t)(info.frag.data - data) <=
								       size - info.frag.len));
				if (td_defrag_add(df, &info.frag, ts, &dg, &n) == TD_DEFRAG_DONE) {
					FUZZ_ASSERT(n <= 40 + 65535);
					(void)td_decode_packet_info(TD_LINK_RAW, dg, n, n, &seg, &info);
				}
				continue;
			}
			FUZZ_ASSERT(td_decode_result_name(r) != NULL);
			if (td_decode_link_name(links[i]) == NULL)
				FUZZ_ASSERT(r == TD_DECODE_UNSUPPORTED_LINK);
			if (r != TD_DECODE_TCP)
				continue;
			FUZZ_ASSERT(seg.src.family == 4 || seg.src.family == 6);
			FUZZ_ASSERT(seg.src.family == seg.dst.family);
			FUZZ_ASSERT(seg.payload_len <= size);
			if (seg.payload_len) {
				FUZZ_ASSERT(seg.payload >= data &&
					    (size_t)(seg.payload - data) <= size - seg.payload_len);
				for (size_t k = 0; k < seg.payload_len; k++)
					acc ^= seg.payload[k];
			}
		}
	}
	td_defrag_free(df);
	touched = acc;
	return 0;
}
