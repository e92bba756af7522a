/* privdrop.c - switch to an unprivileged user and check it stuck (see
 * td_privdrop.h). */
#include "td_privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

bool td_privdrop_user_exists(const char *user)
{
	return user && *user && getpwnam(user) != NULL;
}

enum td_privdrop_result td_privdrop_to(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	errno = 0;
	pw = user && *user ? getpwnam(user) : NULL;
	if (!pw) {
		if (errno)
			snprintf(err, errlen, "cannot look up user '%s': %s", user ? user : "",
				 strerror(errno));
		else
			snprintf(err, errlen, "no such user '%s'", user ? user : "");
		return TD_PRIVDROP_NO_USER;
	}
	/* pw points into libc's static buffer: copy what is needed now */
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (setgroups(1, &gid) != 0) {
		snprintf(err, errlen, "setgroups(%lu): %s", (unsigned long)gid, strerror(errno));
		return TD_PRIVDROP_FAILED;
	}
	if (setgid(gid) != 0) {
		snprintf(err, errlen, "setgid(%lu): %s", (unsigned long)gid, strerror(errno));
		return TD_PRIVDROP_FAILED;
	}
	if (setuid(uid) != 0) {
		snprintf(err, errlen, "setuid(%lu): %s", (unsigned long)uid, strerror(errno));
		return TD_PRIVDROP_FAILED;
	}
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
		snprintf(err, errlen, "ids did not change to uid %lu gid %lu", (unsigned long)uid,
			 (unsigned long)gid);
		return TD_PRIVDROP_FAILED;
	}
	/* The drop must be irreversible: a saved set-user-ID of 0 would let
	 * setuid(0) succeed. */
	if (uid != 0 && setuid(0) != -1) {
		snprintf(err, errlen, "setuid(0) still succeeds after dropping to uid %lu",
			 (unsigned long)uid);
		return TD_PRIVDROP_FAILED;
	}
	if (gid != 0 && uid != 0 && setgid(0) != -1) {
		snprintf(err, errlen, "setgid(0) still succeeds after dropping to gid %lu",
			 (unsigned long)gid);
		return TD_PRIVDROP_FAILED;
	}
	return TD_PRIVDROP_OK;
}
