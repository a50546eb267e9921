// SPDX-License-Identifier: GPL-2.0
/* One do-nothing program for every cgroup attach type ayac knows a section for, for
 * spec/net_cgroup_spec.lua to attach and detach each (they all allow what they see). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("cgroup/sock_create")
int all_sock_create(struct bpf_sock *ctx)
{
	return 1;
}

SEC("cgroup/sock_release")
int all_sock_release(struct bpf_sock *ctx)
{
	return 1;
}

SEC("cgroup/post_bind4")
int all_post_bind4(struct bpf_sock *ctx)
{
	return 1;
}

SEC("cgroup/post_bind6")
int all_post_bind6(struct bpf_sock *ctx)
{
	return 1;
}

SEC("cgroup/bind4")
int all_bind4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/bind6")
int all_bind6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/connect4")
int all_connect4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/connect6")
int all_connect6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/sendmsg4")
int all_sendmsg4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/sendmsg6")
int all_sendmsg6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/recvmsg4")
int all_recvmsg4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/recvmsg6")
int all_recvmsg6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/getpeername4")
int all_getpeername4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/getpeername6")
int all_getpeername6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/getsockname4")
int all_getsockname4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/getsockname6")
int all_getsockname6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup_skb/ingress")
int all_skb_ingress(struct __sk_buff *ctx)
{
	return 1;
}

SEC("cgroup_skb/egress")
int all_skb_egress(struct __sk_buff *ctx)
{
	return 1;
}

SEC("cgroup/dev")
int all_dev(struct bpf_cgroup_dev_ctx *ctx)
{
	return 1;
}

SEC("cgroup/sysctl")
int all_sysctl(struct bpf_sysctl *ctx)
{
	return 1;
}

SEC("cgroup/getsockopt")
int all_getsockopt(struct bpf_sockopt *ctx)
{
	return 1;
}

SEC("cgroup/setsockopt")
int all_setsockopt(struct bpf_sockopt *ctx)
{
	return 1;
}

SEC("sockops")
int all_sockops(struct bpf_sock_ops *ctx)
{
	return 1;
}
