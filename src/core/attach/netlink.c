/* rtnetlink on libmnl: the one place that frames, sends and reads netlink messages for
 * XDP and TC. A request is sent with a fresh sequence number and read until its ack; a
 * dump (NLM_F_DUMP) is read over as many datagrams as it takes, until NLMSG_DONE. The
 * kernel's extended ack (NLMSGERR_ATTR_MSG: "XDP program already attached", "Exclusivity
 * flag on, cannot modify") goes into the error message next to the errno. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "attach_priv.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
#ifndef NLMSGERR_ATTR_MSG
#define NLMSGERR_ATTR_MSG 1
#endif

/* Dump datagrams grow to 32 KiB when the reader's buffer allows (netlink_recvmsg). */
#define RECV_BUF 32768
#define EXTACK_MAX 256

struct ayac_nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
};

/* One exchange: the caller's callback and what the kernel said went wrong. */
struct talk {
	ayac_nl_cb cb;
	void *data;
	int err;
	char extack[EXTACK_MAX];
};

struct ayac_nl *ayac_nl_open(void)
{
	struct ayac_nl *nl = ayac_calloc(1, sizeof(*nl));
	int one = 1;

	if (!nl)
		return NULL;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock) {
		ayac_seterr(errno, "open a netlink socket");
		free(nl);
		return NULL;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ayac_seterr(errno, "bind a netlink socket");
		ayac_nl_close(nl);
		return NULL;
	}
	/* Both are optional: kernels before 4.12 have no extended ack, and the answer is
	 * only less informative without it. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned int)time(NULL);
	return nl;
}

void ayac_nl_close(struct ayac_nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
}

static int extack_attr(const struct nlattr *attr, void *data)
{
	struct talk *t = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(t->extack, sizeof(t->extack), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/* The TLVs after an error code start past the echoed request, unless it was capped. */
static void read_extack(const struct nlmsghdr *nlh, size_t off, struct talk *t)
{
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (off <= mnl_nlmsg_get_payload_len(nlh))
		mnl_attr_parse(nlh, (unsigned int)off, extack_attr, t);
}

static int on_error(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct talk *t = data;
	size_t off = sizeof(*e);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP; /* the ack */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len > sizeof(struct nlmsghdr))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	t->err = e->error < 0 ? -e->error : e->error;
	read_extack(nlh, off, t);
	errno = t->err;
	return MNL_CB_ERROR;
}

/* The end of a dump; it may carry the dump's error (and an extended ack) too. */
static int on_done(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;
	int err = 0;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(int));
	if (err >= 0)
		return MNL_CB_STOP;
	t->err = -err;
	read_extack(nlh, sizeof(int), t);
	errno = t->err;
	return MNL_CB_ERROR;
}

static int on_data(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;

	return t->cb ? t->cb(nlh, t->data) : MNL_CB_OK;
}

static int talk_error(const struct talk *t, int err)
{
	if (t->extack[0])
		return ayac_seterr(err, "the kernel says: %s", t->extack);
	return ayac_seterr(err, "netlink");
}

static int receive(struct ayac_nl *nl, unsigned int seq, struct talk *t, char *buf)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = on_error,
		[NLMSG_DONE] = on_done,
	};
	ssize_t n;
	int ret;

	do {
		n = mnl_socket_recvfrom(nl->sock, buf, RECV_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return talk_error(t, errno);
		errno = 0;
		ret = mnl_cb_run2(buf, (size_t)n, seq, nl->portid, on_data, t, ctl, NLMSG_MIN_TYPE);
		if (ret == MNL_CB_ERROR)
			return talk_error(t, errno ? errno : EPROTO);
	} while (ret == MNL_CB_OK);
	return 0;
}

/* A dump is said so by the caller: NLM_F_DUMP's bits are NLM_F_REPLACE | NLM_F_EXCL
 * for a "new" request, so the flags alone cannot tell. */
static int talk(struct ayac_nl *nl, struct nlmsghdr *req, ayac_nl_cb cb, void *data, bool dump)
{
	struct talk t = { .cb = cb, .data = data };
	char *buf;
	int err;

	if (!nl || !req)
		return ayac_seterr(EINVAL, "netlink: no socket or request");
	req->nlmsg_flags |= NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
	req->nlmsg_seq = ++nl->seq;
	buf = malloc(RECV_BUF);
	if (!buf)
		return ayac_seterr(ENOMEM, "netlink");
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		err = ayac_seterr(errno, "netlink send");
	else
		err = receive(nl, req->nlmsg_seq, &t, buf);
	free(buf);
	return err;
}

int ayac_nl_talk(struct ayac_nl *nl, struct nlmsghdr *req, ayac_nl_cb cb, void *data)
{
	return talk(nl, req, cb, data, false);
}

int ayac_nl_dump(struct ayac_nl *nl, struct nlmsghdr *req, ayac_nl_cb cb, void *data)
{
	return talk(nl, req, cb, data, true);
}

int ayac_nl_talk_once(struct nlmsghdr *req, ayac_nl_cb cb, void *data, bool dump)
{
	struct ayac_nl *nl = ayac_nl_open();
	int err;

	if (!nl)
		return -ayac_errnum();
	err = talk(nl, req, cb, data, dump);
	ayac_nl_close(nl);
	return err;
}
