/* What kind of link a bpf_link fd is, asked of the kernel (BPF_OBJ_GET_INFO_BY_FD), for
 * links that ayac did not make itself in this process (ayac.link_from_pin). The names
 * are the ones ayac's own links carry ("tracepoint", "uprobe", "raw_tp", "fentry", …),
 * and the kernel's link type names for the rest ("xdp", "cgroup", "tcx", …).
 *
 * struct bpf_link_info grew after the uapi headers this builds against: the perf event
 * details (Linux 6.6) and kprobe_multi's flags are read from the layout below. Older
 * kernels leave them zero: a perf event link is then just "perf_event". */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

/* What a BTF-id attach is called, for messages and link:kind() (also of a link reopened
 * from a pin). */
const char *ayac_tracing_kind(enum bpf_prog_type type, enum bpf_attach_type attach_type)
{
	switch (type) {
	case BPF_PROG_TYPE_LSM:
		return "lsm";
	case BPF_PROG_TYPE_EXT:
		return "freplace";
	case BPF_PROG_TYPE_TRACING:
		break;
	default:
		return "tracing";
	}
	switch (attach_type) {
	case BPF_TRACE_RAW_TP:
		return "tp_btf";
	case BPF_TRACE_FENTRY:
		return "fentry";
	case BPF_TRACE_FEXIT:
		return "fexit";
	case BPF_MODIFY_RETURN:
		return "fmod_ret";
	default:
		return "tracing";
	}
}

/* enum bpf_perf_event_type (Linux 6.6) */
enum {
	PERF_EVENT_UPROBE = 1,
	PERF_EVENT_URETPROBE = 2,
	PERF_EVENT_KPROBE = 3,
	PERF_EVENT_KRETPROBE = 4,
	PERF_EVENT_TRACEPOINT = 5,
	PERF_EVENT_EVENT = 6,
};

/* The parts of struct bpf_link_info read here; the rest of the union stays zero (the
 * kernel accepts a larger buffer whose tail is zero). */
struct link_info {
	__u32 type;
	__u32 id;
	__u32 prog_id;
	__u32 pad;
	union {
		struct {
			__u32 attach_type;
			__u32 target_obj_id;
			__u32 target_btf_id;
		} tracing;
		struct {
			__u32 type; /* PERF_EVENT_* */
		} perf_event;
		__u64 raw[12];
	};
};

/* The type of the program with this id, or 0 (unspec) when it cannot be asked. */
static enum bpf_prog_type prog_type_of(__u32 id)
{
	struct bpf_prog_info info;
	union bpf_attr attr;
	__u32 len = sizeof(info);
	int fd, err;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	fd = sys_bpf_fd(BPF_PROG_GET_FD_BY_ID, &attr, sizeof(attr));
	if (fd < 0)
		return BPF_PROG_TYPE_UNSPEC;
	memset(&info, 0, sizeof(info));
	err = sys_obj_info(fd, &info, &len);
	close(fd);
	return err ? BPF_PROG_TYPE_UNSPEC : (enum bpf_prog_type)info.type;
}

static const char *perf_event_kind(__u32 type)
{
	switch (type) {
	case PERF_EVENT_UPROBE:
		return "uprobe";
	case PERF_EVENT_URETPROBE:
		return "uretprobe";
	case PERF_EVENT_KPROBE:
		return "kprobe";
	case PERF_EVENT_KRETPROBE:
		return "kretprobe";
	case PERF_EVENT_TRACEPOINT:
		return "tracepoint";
	default: /* PERF_EVENT_EVENT, or a kernel before 6.6 that does not say */
		return "perf_event";
	}
}

/* A tracing link's program decides: lsm, freplace, or by attach type fentry, tp_btf… */
static const char *tracing_kind(const struct link_info *info)
{
	enum bpf_prog_type type = prog_type_of(info->prog_id);

	if (type == BPF_PROG_TYPE_UNSPEC)
		type = info->tracing.attach_type == BPF_LSM_MAC ? BPF_PROG_TYPE_LSM
								 : BPF_PROG_TYPE_TRACING;
	return ayac_tracing_kind(type, (enum bpf_attach_type)info->tracing.attach_type);
}

static const char *const link_type_names[] = {
	[3] = "cgroup",  [4] = "iter",   [5] = "netns",         [6] = "xdp",
	[8] = "kprobe_multi", [9] = "struct_ops", [10] = "netfilter", [11] = "tcx",
	[12] = "uprobe_multi", [13] = "netkit", [14] = "sockmap",
};

const char *ayac_link_kind_of_fd(int fd)
{
	struct link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (sys_obj_info(fd, &info, &len) < 0)
		return "link";
	switch (info.type) {
	case BPF_LINK_TYPE_RAW_TRACEPOINT: /* also tp_btf programs' links */
		return prog_type_of(info.prog_id) == BPF_PROG_TYPE_TRACING ? "tp_btf" : "raw_tp";
	case BPF_LINK_TYPE_TRACING:
		return tracing_kind(&info);
	case BPF_LINK_TYPE_PERF_EVENT:
		return perf_event_kind(info.perf_event.type);
	default:
		if (info.type < sizeof(link_type_names) / sizeof(link_type_names[0]) &&
		    link_type_names[info.type])
			return link_type_names[info.type];
		return "link";
	}
}
