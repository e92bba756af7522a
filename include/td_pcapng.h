/* td_pcapng.h - what libpcap does not hand over from a pcapng file: the
 * Decryption Secrets Blocks (pcapng spec, draft-ietf-opsawg-pcapng §4.7;
 * what `editcap --inject-secrets tls,keys.log` writes and Wireshark
 * reads). Part of the capture stage: this scans the file's blocks for
 * secrets before the run, from its start to its first packet block, where
 * editcap and Wireshark write them; reading on would read a file of
 * gigabytes twice. (Where the capture stage reads a pcapng file in place
 * it counts the secrets blocks after the first packet, for a warning:
 * td_capture_stats().) It reads the file in 256 KiB windows (pread) and
 * walks the block headers inside them: a block it skips costs no system
 * call of its own.
 *
 * The file is untrusted: every block header goes through the
 * bounds-checked reader, block lengths are checked (at least 12, a
 * multiple of 4, inside the file), a secrets block is capped, and the
 * scan ends at the first damaged block (the packets are libpcap's
 * business; their errors are reported there).
 */
#ifndef TD_PCAPNG_H
#define TD_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

#include "td_error.h"

/* Largest secrets block read (a key log of many thousand sessions). */
#define TD_PCAPNG_MAX_SECRETS ((size_t)16 << 20)
/* Secrets types (pcapng §4.7) */
#define TD_PCAPNG_SECRETS_TLS 0x544c534bu /* "TLSK": NSS key log text */

/* Calls fn for each Decryption Secrets Block of the TLS key log type
 * before the first packet block (enhanced, simple or obsolete), in file
 * order, with its data (borrowed for the call). A file that is not
 * pcapng (a classic pcap) or not a regular file (stdin, a FIFO: the
 * capture would lose what is read here) is TD_OK with no call, the FIFO
 * not even opened. Errors: the file cannot be opened
 * (TD_ERR_IO), or a block is damaged (TD_ERR_MALFORMED, err says at which
 * byte offset); blocks found before the damage have been handed over.
 * *blocks receives the number of TLS secrets blocks. */
TD_MUST_CHECK enum td_err td_pcapng_secrets(const char *path,
					    void (*fn)(void *user, const uint8_t *p, size_t n),
					    void *user, unsigned *blocks, char *err, size_t errlen);

#endif
