/* The shape hash is FNV-1a 64: published test vectors, and the printf form. */
#include "check.h"
#include "dshq/hash.h"

int main(void)
{
    CHECK_EQ_U64(dshq_shape_hash(""), UINT64_C(0xcbf29ce484222325));
    CHECK_EQ_U64(dshq_shape_hash("a"), UINT64_C(0xaf63dc4c8601ec8c));
    CHECK_EQ_U64(dshq_shape_hash("foobar"), UINT64_C(0x85944171f73967e8));
    CHECK_EQ_U64(dshq_shape_hashf("foo%s", "bar"), UINT64_C(0x85944171f73967e8));
    /* Incremental == one shot. */
    uint64_t h = dshq_fnv1a64(DSHQ_FNV64_OFFSET, "foo", 3);
    CHECK_EQ_U64(dshq_fnv1a64(h, "bar", 3), UINT64_C(0x85944171f73967e8));
    /* Any change of the canonical string changes the hash. */
    CHECK(dshq_shape_hash("weights/v1;params=10") != dshq_shape_hash("weights/v1;params=11"));
    puts("hash: ok");
    return 0;
}
