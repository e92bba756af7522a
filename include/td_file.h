/* td_file.h - reading a small untrusted file whole (key files, key logs,
 * rule files): one place for the checks every such read needs.
 */
#ifndef TD_FILE_H
#define TD_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_error.h"

/* Reads the regular file path, of at most max bytes, into a fresh buffer
 * (*buf, *len; a NUL follows the data, not counted). The size is checked
 * before reading and again while reading, in case the file grows. Opened
 * with O_NONBLOCK so a FIFO is refused rather than waited on. On failure
 * *buf is NULL and err receives one line starting with the path as given:
 *   "<path>: no such file"                       TD_ERR_IO
 *   "<path>: <strerror>" (other open/read errors) TD_ERR_IO
 *   "<path>: not a regular file"                 TD_ERR_IO
 *   "<path>: larger than <max> MiB" (or KiB)     TD_ERR_TOO_BIG
 *   "<path>: out of memory"                      TD_ERR_NOMEM
 * The contents may be secret: every buffer dropped on the way is wiped;
 * the caller wipes (explicit_bzero) and frees *buf. */
TD_MUST_CHECK enum td_err td_file_read(const char *path, size_t max, uint8_t **buf, size_t *len,
				       char *err, size_t errlen);

/* The same checks and messages as td_file_read, but the file is handed to
 * piece(user, bytes, n) as it is read, up to chunk bytes at a time (the
 * last piece may be shorter; an empty file gives none), and never held
 * whole: for files that may be large (key logs). The buffer is wiped
 * before it is freed. A piece that returns other than TD_OK stops the
 * read, and that is returned with err untouched: the caller words it.
 * A file that grows past max while it is read gives TD_ERR_TOO_BIG, after
 * the pieces read before it. */
TD_MUST_CHECK enum td_err td_file_read_pieces(const char *path, size_t max, size_t chunk,
					      enum td_err (*piece)(void *user, const uint8_t *p,
								   size_t n),
					      void *user, char *err, size_t errlen);

/* pread(2) of n bytes at off into buf, again after a signal or a short
 * read: the count read, short only at the end of the file or on an error.
 * The one such loop for the readers that walk a file by offset (the
 * capture stage's in-place reader, the pcapng secrets scan). */
size_t td_file_pread(int fd, void *buf, size_t n, long long off);

/* Creates the file path for writing, exclusively: O_CREAT|O_EXCL|O_NOFOLLOW,
 * mode 0644 (so never group- or world-writable, whatever the umask). The
 * name may be in a directory others can write to and we may be root, so
 * an existing file is never replaced and a symbolic link at the name
 * (dangling or not) never followed. Returns the descriptor (O_CLOEXEC),
 * or -1 with errno kept and err receiving one line starting with the path:
 *   "<path>: is a symbolic link; not followed, not replaced"
 *   "<path>: file exists; tlsdiag does not overwrite it"
 *   "<path>: <strerror>"
 * The files --extract-certs writes are made here. */
TD_MUST_CHECK int td_file_create(const char *path, char *err, size_t errlen);
/* td_file_create() for the report and capture outputs (-o, -w, --report,
 * --save-evidence), where what exists and is no file is written to as it
 * is, as tcpdump -w does: a character device (/dev/null, a terminal) or a
 * FIFO owned by the effective user (one of another user's is refused as a
 * file: that user would read what is written). *made says whether the
 * file was created (only then may the caller remove it on failure). One
 * more message:
 *   "<path>: a FIFO that nothing reads" */
TD_MUST_CHECK int td_file_create_output(const char *path, bool *made, char *err, size_t errlen);

#endif
