/* td_privdrop.h - giving up root after the capture is open.
 *
 * Live capture needs root (or CAP_NET_RAW) only to open the interface;
 * parsing untrusted packets should not run with it (DESIGN.md
 * "Boundaries", tcpdump's droproot()). tlsdiag opens the interface and its
 * -w file as root, then calls td_privdrop_to() before the first packet is
 * parsed.
 *
 * The switch is done in the one order that works: supplementary groups
 * (setgroups, to the user's primary group only: least privilege), then the
 * group id, then the user id (after setuid() the process could no longer
 * change its groups). As root, setgid()/setuid() set the real, effective
 * and saved ids alike. It is then checked, not assumed: real and effective
 * ids must be the user's and setuid(0) must fail (unless the user is root
 * itself), else the call reports failure and the caller must stop.
 */
#ifndef TD_PRIVDROP_H
#define TD_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>

#include "td_error.h"

enum td_privdrop_result {
	TD_PRIVDROP_OK,
	TD_PRIVDROP_NO_USER, /* no such user (err says so) */
	TD_PRIVDROP_FAILED,  /* a call failed or the drop did not stick; the
			      * process may be half-switched: stop */
};

/* The user tlsdiag drops to, as tcpdump does, when started as root
 * without -Z (if the system has it). */
#define TD_PRIVDROP_DEFAULT_USER "nobody"

/* True when user exists in the password database. */
bool td_privdrop_user_exists(const char *user);

/* Switches the whole process to user (see above). On failure writes one
 * line into err ("no such user 'bob'", "setuid(65534): Operation not
 * permitted"). Called as non-root it fails at setgroups(): callers decide
 * beforehand whether a drop is wanted (tlsdiag: only when running as
 * root). */
TD_MUST_CHECK enum td_privdrop_result td_privdrop_to(const char *user, char *err, size_t errlen);

#endif
