// SPDX-License-Identifier: GPL-2.0
/* Iterators for spec/iter_spec.lua: each prints one line per object, in a form the
 * spec compares with /proc, with the map it walks, or with what it created. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} elems SEC(".maps");

/* "tgid tid comm" */
SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %d %s\n", task->tgid, task->pid, task->comm);
	return 0;
}

/* "tgid fd" for each open file */
SEC("iter/task_file")
int dump_task_file(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task || !ctx->file)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %d\n", task->tgid, ctx->fd);
	return 0;
}

/* "id name" of every map */
SEC("iter/bpf_map")
int dump_bpf_map(struct bpf_iter__bpf_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_map *map = ctx->map;

	if (!map)
		return 0;
	BPF_SEQ_PRINTF(seq, "%u %s\n", map->id, map->name);
	return 0;
}

/* "key value" of each element of the map given at attach ({ map = }) */
SEC("iter/bpf_map_elem")
int dump_elems(struct bpf_iter__bpf_map_elem *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	__u32 *key = ctx->key;
	__u64 *val = ctx->value;

	if (!key || !val)
		return 0;
	BPF_SEQ_PRINTF(seq, "%u %llu\n", *key, *val);
	return 0;
}

/* "level name" of each cgroup of the walk (a NULL cgroup ends it) */
SEC("iter/cgroup")
int dump_cgroup(struct bpf_iter__cgroup *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct cgroup *cgrp = ctx->cgroup;

	if (!cgrp)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %s\n", cgrp->level, cgrp->kn->name);
	return 0;
}

/* "address name" of each kernel symbol */
SEC("iter/ksym")
int dump_ksym(struct bpf_iter__ksym *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct kallsym_iter *it = ctx->ksym;

	if (!it)
		return 0;
	BPF_SEQ_PRINTF(seq, "%lx %s\n", it->value, it->name);
	return 0;
}

/* "family state local_port" of each TCP socket */
SEC("iter/tcp")
int dump_tcp(struct bpf_iter__tcp *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct sock_common *skc = ctx->sk_common;

	if (!skc)
		return 0;
	BPF_SEQ_PRINTF(seq, "%u %u %u\n", skc->skc_family, skc->skc_state, skc->skc_num);
	return 0;
}

/* "local_port" of each UDP socket */
SEC("iter/udp")
int dump_udp(struct bpf_iter__udp *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct udp_sock *udp = ctx->udp_sk;

	if (!udp)
		return 0;
	BPF_SEQ_PRINTF(seq, "%u\n", udp->inet.sk.__sk_common.skc_num);
	return 0;
}
