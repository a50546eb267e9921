// SPDX-License-Identifier: GPL-2.0
/* A made-up "kernel" for spec/core_spec.lua, version A: only its BTF is used, as the
 * target BTF of core_fixture.bpf.c (load option btf = path). core_target_b.bpf.c is
 * the same "kernel" after its types changed. Globals keep the types in the BTF. */

struct core_child {
	int a;
	int b;
};

enum core_state { CORE_IDLE = 10, CORE_RUNNING = 20, CORE_DONE = 30 };

typedef unsigned int core_u32;

struct core_obj {
	long pad;
	core_u32 count;
	int sval;
	union {
		int u_int;
		char u_chars[4];
	};
	unsigned int flag_a : 3, flag_b : 5, flag_c : 9;
	int sbits : 7;
	int gone;
	int old_name;
	struct core_child child;
	int arr[4];
	enum core_state state;
};

struct core_amb {
	int x;
	int y;
};

struct core_match {
	int a;
	core_u32 b;
	struct core_child *c;
};

struct core_obj a_obj;
struct core_amb a_amb;
struct core_match a_match;
