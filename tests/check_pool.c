/*
 * check_pool.c - capture/pool.c: records of one size from chunks.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pool.h"
#include "tests/suites.h"

/* Records across many chunks: zeroed, 8-aligned, never overlapping, and a
   record given back comes out zeroed again, before any new memory. */
START_TEST(test_records)
{
    enum { N = 8000, SZ = 283 };    /* 283 -> 288-byte records: 2.3 MB, five chunks */
    static const uint8_t zero[SZ];
    uint8_t want[SZ];
    pool *p = pool_create(SZ);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(pool_bytes(p), 0);
    uint8_t **r = calloc(N, sizeof(*r));
    ck_assert_ptr_nonnull(r);
    for (int i = 0; i < N; i++) {
        r[i] = pool_get(p);
        ck_assert_ptr_nonnull(r[i]);
        ck_assert_uint_eq((uintptr_t)r[i] % 8, 0);
        ck_assert(memcmp(r[i], zero, SZ) == 0);
        memset(r[i], (uint8_t)(i * 7 + 1), SZ);
    }
    for (int i = 0; i < N; i++) {    /* nothing was overwritten by a neighbour */
        memset(want, (uint8_t)(i * 7 + 1), SZ);
        ck_assert(memcmp(r[i], want, SZ) == 0);
    }
    size_t held = pool_bytes(p);
    ck_assert_uint_ge(held, (size_t)N * 288);
    ck_assert_uint_le(held, (size_t)N * 288 * 2 + (4u << 20));
    pool_put(p, r[5]);
    pool_put(p, r[9]);
    pool_put(p, NULL);
    uint8_t *a = pool_get(p), *b = pool_get(p);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert(memcmp(a, zero, SZ) == 0);
    ck_assert(memcmp(b, zero, SZ) == 0);
    ck_assert_uint_eq(pool_bytes(p), held);     /* reused, nothing new */
    pool_free(p);                               /* frees every record left */
    pool_free(NULL);
    free(r);
}
END_TEST

Suite *
suite_pool(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_records);
    suite_add_tcase(s, tc);
    return s;
}
