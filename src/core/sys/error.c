/* The per-thread last error: a number (errno or AYAC_E*) and a message with context.
 * Messages can be large (a verifier log is appended), so the buffer is on the heap; a
 * thread-specific key frees it when its thread exits. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ayac/ayac.h>

static _Thread_local char *err_msg;
static _Thread_local size_t err_cap;
static _Thread_local int err_num;

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static bool key_made;

/* Runs in the exiting thread: its message goes, and a later error starts afresh. */
static void msg_free(void *p)
{
	free(p);
	err_msg = NULL;
	err_cap = 0;
}

static void key_make(void)
{
	key_made = pthread_key_create(&key, msg_free) == 0;
}

static void err_store(const char *text, size_t len)
{
	if (len + 1 > err_cap) {
		char *p = realloc(err_msg, len + 1);
		if (!p)
			return; /* keep the older message rather than lose both */
		if (p != err_msg) {
			pthread_once(&key_once, key_make);
			if (key_made)
				pthread_setspecific(key, p);
		}
		err_msg = p;
		err_cap = len + 1;
	}
	memcpy(err_msg, text, len);
	err_msg[len] = '\0';
}

static char *vformat(const char *fmt, va_list ap, size_t *len)
{
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return s;
}

int ayac_seterr(int err, const char *fmt, ...)
{
	va_list ap;
	size_t len;
	char *msg;
	const char *why;

	if (err < 0)
		err = -err;
	err_num = err;
	va_start(ap, fmt);
	msg = vformat(fmt, ap, &len);
	va_end(ap);
	why = err >= AYAC_EBADELF ? NULL : strerror(err);
	if (msg && why) {
		/* "load program 'x': Permission denied" reads better than a bare errno. */
		char *full = NULL;
		int n = asprintf(&full, "%s: %s", msg, why);
		if (n >= 0) {
			err_store(full, (size_t)n);
			free(full);
		}
	} else if (msg) {
		err_store(msg, len);
	}
	free(msg);
	return -err;
}

int ayac_errctx(const char *fmt, ...)
{
	va_list ap;
	size_t len;
	char *ctx, *full = NULL;
	int n;

	va_start(ap, fmt);
	ctx = vformat(fmt, ap, &len);
	va_end(ap);
	if (!ctx)
		return -err_num;
	n = asprintf(&full, "%s: %s", ctx, err_msg ? err_msg : "");
	if (n >= 0)
		err_store(full, (size_t)n);
	free(full);
	free(ctx);
	return -err_num;
}

static void err_append(const char *sep, const char *text)
{
	size_t old = err_msg ? strlen(err_msg) : 0, slen = strlen(sep), add = strlen(text);
	char *p = malloc(old + slen + add + 1);

	if (!p)
		return;
	if (old)
		memcpy(p, err_msg, old);
	memcpy(p + old, sep, slen);
	memcpy(p + old + slen, text, add + 1);
	err_store(p, old + slen + add);
	free(p);
}

void ayac_errappend(const char *text)
{
	err_append("\n", text);
}

void ayac_errsuffix(const char *text)
{
	err_append("", text);
}

const char *ayac_errmsg(void)
{
	return err_msg ? err_msg : "";
}

int ayac_errnum(void)
{
	return err_num;
}

#define E(x) [x] = #x
static const char *const errno_names[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG), E(ENOEXEC),
	E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT), E(EBUSY),
	E(EEXIST), E(EXDEV), E(ENODEV), E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE),
	E(EMFILE), E(ENOTTY), E(EFBIG), E(ENOSPC), E(ESPIPE), E(EROFS), E(EMLINK),
	E(EPIPE), E(EDOM), E(ERANGE), E(EDEADLK), E(ENAMETOOLONG), E(ENOLCK), E(ENOSYS),
	E(ENOTEMPTY), E(ELOOP), E(ENOMSG), E(EIDRM), E(ENODATA), E(ETIME), E(EPROTO),
	E(EBADMSG), E(EOVERFLOW), E(EILSEQ), E(ENOTSOCK), E(EMSGSIZE), E(EPROTOTYPE),
	E(ENOPROTOOPT), E(EPROTONOSUPPORT), E(EOPNOTSUPP), E(EAFNOSUPPORT),
	E(EADDRINUSE), E(EADDRNOTAVAIL), E(ENETDOWN), E(ENETUNREACH), E(ECONNRESET),
	E(ENOBUFS), E(EISCONN), E(ENOTCONN), E(ETIMEDOUT), E(ECONNREFUSED),
	E(EALREADY), E(EINPROGRESS), E(ESTALE), E(EDQUOT), E(ECANCELED), E(EOWNERDEAD),
	E(ENOTRECOVERABLE),
};
#undef E

const char *ayac_errname(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case AYAC_EBADELF: return "EBADELF";
	case AYAC_EBTF: return "EBTF";
	case AYAC_EVERIFIER: return "EVERIFIER";
	case AYAC_ECORE: return "ECORE";
	case 524: return "ENOTSUPP"; /* kernel-internal, but bpf(2) leaks it */
	}
	if (err > 0 && (size_t)err < sizeof(errno_names) / sizeof(errno_names[0]) &&
	    errno_names[err])
		return errno_names[err];
	return "EUNKNOWN";
}
