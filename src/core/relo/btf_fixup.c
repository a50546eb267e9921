/* The object's BTF made loadable on this kernel: which BTF kinds the kernel lacks
 * (from the feature probes), then the rewrite of btf/btf_sanitize.c and the load of
 * the copy, whose fd becomes the object BTF's fd. */
#include <errno.h>

#include "relo.h"
#include "features/features.h"

static const struct { enum ayac_feature feat; unsigned bit; } feature_bits[] = {
	{ AYAC_FEAT_BTF_FUNC, AYAC_BTF_NO_FUNC },
	{ AYAC_FEAT_BTF_GLOBAL_FUNC, AYAC_BTF_NO_GLOBAL_FUNC },
	{ AYAC_FEAT_BTF_DATASEC, AYAC_BTF_NO_DATASEC },
	{ AYAC_FEAT_BTF_ZERO_DATASEC, AYAC_BTF_NO_ZERO_DATASEC },
	{ AYAC_FEAT_BTF_FLOAT, AYAC_BTF_NO_FLOAT },
	{ AYAC_FEAT_BTF_DECL_TAG, AYAC_BTF_NO_DECL_TAG },
	{ AYAC_FEAT_BTF_TYPE_TAG, AYAC_BTF_NO_TYPE_TAG },
	{ AYAC_FEAT_BTF_ENUM64, AYAC_BTF_NO_ENUM64 },
	{ AYAC_FEAT_BTF_QMARK_DATASEC, AYAC_BTF_NO_QMARK_DATASEC },
};

unsigned ayac_btf_missing_features(void)
{
	unsigned missing = 0;
	size_t i;

	/* Only a definite "no": an unknown answer (a failed probe) changes nothing. */
	for (i = 0; i < sizeof(feature_bits) / sizeof(feature_bits[0]); i++)
		if (ayac_feature(feature_bits[i].feat) == 0)
			missing |= feature_bits[i].bit;
	return missing;
}

unsigned ayac_btf_feature_bit(const char *name)
{
	int f = ayac_feature_by_name(name);
	size_t i;

	for (i = 0; f >= 0 && i < sizeof(feature_bits) / sizeof(feature_bits[0]); i++)
		if (feature_bits[i].feat == (enum ayac_feature)f)
			return feature_bits[i].bit;
	return 0;
}

int ayac_btf_sanitize(struct ayac_obj *obj)
{
	struct ayac_btf *btf = obj->btf, *copy;
	unsigned missing;
	int fd;

	obj->btf_drop_func_info = false;
	if (!btf || ayac_btf_loaded_fd(btf) >= 0)
		return 0;
	if (ayac_feature(AYAC_FEAT_BTF) == 0)
		return ayac_seterr(EOPNOTSUPP, "object '%s': this kernel does not load BTF",
				   obj->name);
	missing = ayac_btf_missing_features();
	obj->btf_drop_func_info = missing & AYAC_BTF_NO_FUNC;
	if (!missing || !ayac_btf_needs_sanitize(btf, missing))
		return 0;
	copy = ayac_btf_sanitized(btf, missing);
	if (!copy)
		return ayac_errctx("object '%s'", obj->name);
	fd = ayac_btf_fd(copy);
	if (fd >= 0) {
		/* the object's BTF now stands for what the kernel holds */
		ayac_btf_take_fd(btf, copy);
	} else {
		ayac_errctx("object '%s': sanitized BTF", obj->name);
	}
	ayac_btf_free(copy);
	return fd < 0 ? fd : 0;
}

