// SPDX-License-Identifier: GPL-2.0
/* The made-up "kernel" of core_target_a.bpf.c after its types changed: fields moved,
 * widened, renamed (old_name -> new_name) and removed (gone), bitfields at other bits,
 * enum values renumbered and one dropped, a second flavor of core_amb that disagrees
 * with the first and one of core_state that agrees. Only its BTF is used (load option
 * btf = path). */

struct core_child {
	long pre;
	int a;
	int b;
};

enum core_state { CORE_SLEEPING = 1, CORE_RUNNING = 2, CORE_IDLE = 3 };

/* a second candidate for core_state that agrees with the first */
enum core_state___copy {
	CORE_SLEEPING___copy = 1,
	CORE_RUNNING___copy = 2,
	CORE_IDLE___copy = 3,
};

struct core_obj {
	char name[24];
	unsigned long long count;      /* 8 bytes: loads of it are widened */
	long sval;                     /* signed and wider: loads cannot be resized */
	int arr[8];
	struct core_child child;
	unsigned int flag_c : 9, flag_a : 3, pad_bits : 7, flag_b : 5;
	short pad_short;
	int sbits : 7;
	struct {
		int new_name;
		union {
			int u_int;
			char u_chars[4];
		};
	};
	enum core_state state;
};

struct core_amb {
	int x;
	int y;
};

/* a second candidate for core_amb, with y elsewhere */
struct core_amb___dup {
	int y;
	int x;
};

struct core_match {
	int a;
	long b;
	struct core_child *c;
};

struct core_obj b_obj;
struct core_amb b_amb;
struct core_amb___dup b_amb_dup;
struct core_match b_match;
enum core_state___copy b_state_copy;
