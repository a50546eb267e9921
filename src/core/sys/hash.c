/* ayac_hash64: a fast non-cryptographic 64-bit hash (one lane of multiply-rotate mixing
 * and a final avalanche), for cache keys such as the compiled-object cache of
 * ayac.cc, and ayac_file_stamp, a file's identity for the same caches. Not for anything
 * an attacker chooses to collide. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "sys.h"

#define P1 0x9e3779b185ebca87ull
#define P2 0xc2b2ae3d27d4eb4full
#define P3 0x165667b19e3779f9ull
#define P4 0x85ebca77c2b2ae63ull

static inline __u64 rotl(__u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline __u64 mix(__u64 h, __u64 k)
{
	k *= P2;
	k = rotl(k, 31);
	k *= P1;
	h ^= k;
	return rotl(h, 27) * P1 + P4;
}

__u64 ayac_hash64(const void *data, size_t len, __u64 seed)
{
	const unsigned char *p = data;
	__u64 h = seed + P3 + (__u64)len * P1, k;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&k, p, 8);
		h = mix(h, k);
	}
	if (len) {
		k = 0;
		memcpy(&k, p, len);
		h = mix(h, k ^ ((__u64)len << 56));
	}
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}

/* A file's identity without reading it: device, inode, size and modification time
 * (through symlinks). Changes whenever the file is replaced or rewritten. */
int ayac_file_stamp(const char *path, __u64 *stamp)
{
	struct stat st;
	__u64 v[6];

	if (stat(path, &st) < 0)
		return ayac_seterr(errno, "stat '%s'", path);
	v[0] = (__u64)st.st_dev;
	v[1] = (__u64)st.st_ino;
	v[2] = (__u64)st.st_size;
	v[3] = (__u64)st.st_mtim.tv_sec;
	v[4] = (__u64)st.st_mtim.tv_nsec;
	v[5] = (__u64)st.st_mode;
	*stamp = ayac_hash64(v, sizeof(v), 0);
	return 0;
}
