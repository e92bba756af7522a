/* td_decompress.h - certificate compression (RFC 8879).
 *
 * A TLS 1.3 peer that offered compress_certificate (extension 27) may get
 * a CompressedCertificate (handshake type 25) in place of its Certificate:
 * the Certificate message compressed with zlib (RFC 1950), brotli (RFC
 * 7932) or zstd (RFC 8878). Browsers offer it and large sites use it, so
 * a decrypted handshake shows its chain only once it is decompressed.
 *
 * Each algorithm is decoded by its own library (zlib, libbrotlidec,
 * libzstd), never by hand. The message announces the uncompressed length;
 * the caller caps it (the handshake message cap, 256 KiB) and allocates
 * exactly that, and the stream must decode to exactly that many bytes: a
 * stream that would write more is stopped there, so a small message
 * cannot make a large output (a "decompression bomb"). The libraries' own state is bounded:
 * brotli's window by the format (at most 16 MiB, large windows are not
 * enabled), zlib's at 32 KiB, zstd's one-shot decoding writes straight
 * into the output.
 */
#ifndef TD_DECOMPRESS_H
#define TD_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "td_error.h"

/* RFC 8879 §7.3 CertificateCompressionAlgorithm */
enum {
	TD_CERT_COMPRESSION_ZLIB = 1,
	TD_CERT_COMPRESSION_BROTLI = 2,
	TD_CERT_COMPRESSION_ZSTD = 3,
};

/* "zlib", "brotli", "zstd"; NULL for another code. */
const char *td_cert_compression_name(uint16_t alg);

/* Decodes in[0..in_len) with algorithm alg into out[0..out_len).
 * TD_OK: the stream is whole and decoded to exactly out_len bytes, with no
 * byte after its end. TD_ERR_UNSUPPORTED: alg is none of the three.
 * TD_ERR_MALFORMED: not a valid stream, or it decodes to fewer or more
 * bytes than out_len, or bytes follow its end. TD_ERR_NOMEM: the library
 * could not allocate its state. */
TD_MUST_CHECK enum td_err td_decompress(uint16_t alg, const uint8_t *in, size_t in_len,
					uint8_t *out, size_t out_len);

#endif
