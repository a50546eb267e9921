/* USDT argument specifications, x86-64 (as GNU as prints operands): "SIZE@OPERAND"
 * separated by spaces, where SIZE is 1, 2, 4 or 8, negative for signed values, and
 * OPERAND is $imm, %reg, off(%reg) or off(%base,%index,scale). Registers of every
 * width name the same pt_regs slot (%al, %ax, %eax, %rax); the size says how much of
 * it the argument is. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ayac/ayac.h>
#include "usdt.h"

struct reg_name {
	const char *names[4]; /* 64, 32, 16, 8 bits */
	__u16 off;            /* offsetof(struct pt_regs, ...) on x86-64 */
};

static const struct reg_name regs[] = {
	{ { "rip", "eip", NULL, NULL }, 128 },
	{ { "rax", "eax", "ax", "al" }, 80 },
	{ { "rbx", "ebx", "bx", "bl" }, 40 },
	{ { "rcx", "ecx", "cx", "cl" }, 88 },
	{ { "rdx", "edx", "dx", "dl" }, 96 },
	{ { "rsi", "esi", "si", "sil" }, 104 },
	{ { "rdi", "edi", "di", "dil" }, 112 },
	{ { "rbp", "ebp", "bp", "bpl" }, 32 },
	{ { "rsp", "esp", "sp", "spl" }, 152 },
	{ { "r8", "r8d", "r8w", "r8b" }, 72 },
	{ { "r9", "r9d", "r9w", "r9b" }, 64 },
	{ { "r10", "r10d", "r10w", "r10b" }, 56 },
	{ { "r11", "r11d", "r11w", "r11b" }, 48 },
	{ { "r12", "r12d", "r12w", "r12b" }, 24 },
	{ { "r13", "r13d", "r13w", "r13b" }, 16 },
	{ { "r14", "r14d", "r14w", "r14b" }, 8 },
	{ { "r15", "r15d", "r15w", "r15b" }, 0 },
};

/* "%reg" at *p: its pt_regs offset; *p moves past it. */
static int parse_reg(const char **p, __u16 *off)
{
	const char *s = *p;
	size_t len = 0, i, w;

	if (*s != '%')
		return -EINVAL;
	s++;
	while ((s[len] >= 'a' && s[len] <= 'z') || (s[len] >= '0' && s[len] <= '9'))
		len++;
	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		for (w = 0; w < 4; w++)
			if (regs[i].names[w] && strlen(regs[i].names[w]) == len &&
			    !strncmp(regs[i].names[w], s, len)) {
				*off = regs[i].off;
				*p = s + len;
				return 0;
			}
	return -ENOENT;
}

/* A number (decimal, or 0x hex), signed. */
static int parse_num(const char **p, __s64 *v)
{
	char *end;

	errno = 0;
	*v = strtoll(*p, &end, 0);
	if (end == *p || errno)
		return -EINVAL;
	*p = end;
	return 0;
}

/* off(%base[,%index[,scale]]) with off already read. */
static int parse_mem(const char **p, struct ayac_usdt_arg *a)
{
	const char *s = *p + 1; /* past '(' */
	__s64 scale = 1;
	int i;

	if (parse_reg(&s, &a->reg_off))
		return -EINVAL;
	a->kind = AYAC_USDT_ARG_REG_DEREF;
	if (*s == ',') {
		s++;
		if (parse_reg(&s, &a->idx_reg_off))
			return -EINVAL;
		if (*s == ',') {
			s++;
			if (parse_num(&s, &scale))
				return -EINVAL;
		}
		for (i = 0; i < 4 && (1 << i) != scale; i++)
			;
		if (i == 4)
			return -EINVAL;
		a->kind = AYAC_USDT_ARG_SIB;
		a->scale_shift = (__u8)i;
	}
	if (*s != ')')
		return -EINVAL;
	*p = s + 1;
	return 0;
}

static int parse_operand(const char **p, struct ayac_usdt_arg *a)
{
	const char *s = *p;
	int err;

	if (*s == '$') {
		s++;
		a->kind = AYAC_USDT_ARG_CONST;
		err = parse_num(&s, &a->val_off);
	} else if (*s == '%') {
		a->kind = AYAC_USDT_ARG_REG;
		err = parse_reg(&s, &a->reg_off);
	} else {
		a->val_off = 0;
		err = 0;
		if (*s != '(')
			err = parse_num(&s, &a->val_off); /* a symbol here (sym(%rip)) is refused */
		err = err ? err : *s == '(' ? parse_mem(&s, a) : -EINVAL;
	}
	*p = s;
	return err;
}

/* "SIZE@" (absent: 8 bytes, unsigned, as old notes write plain operands). */
static int parse_size(const char **p, struct ayac_usdt_arg *a)
{
	const char *at = strchr(*p, '@'), *sp = strchr(*p, ' ');
	__s64 size;
	const char *s = *p;

	a->size = 8;
	a->is_signed = false;
	if (!at || (sp && sp < at))
		return 0;
	if (parse_num(&s, &size) || s != at)
		return -EINVAL;
	if (size < 0) {
		a->is_signed = true;
		size = -size;
	}
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -EINVAL;
	a->size = (__u8)size;
	*p = at + 1;
	return 0;
}

int ayac_usdt_parse_args(const char *spec, struct ayac_usdt_arg *args, int max, int *cnt)
{
	const char *p = spec ? spec : "", *start;
	int n = 0;

	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (n >= max)
			return ayac_seterr(E2BIG, "USDT arguments '%s': more than %d", spec, max);
		start = p;
		memset(&args[n], 0, sizeof(args[n]));
		if (parse_size(&p, &args[n]) || parse_operand(&p, &args[n]) || (*p && *p != ' '))
			return ayac_seterr(EINVAL, "USDT argument #%d '%.*s' of '%s': not a form "
					   "this x86-64 parser knows (SIZE@$imm, SIZE@%%reg, "
					   "SIZE@off(%%reg), SIZE@off(%%base,%%index,scale))", n + 1,
					   (int)strcspn(start, " "), start, spec);
		n++;
	}
	*cnt = n;
	return 0;
}
