/* test_timer_heap.c - the agent's deadline heap: order, re-arm, stop, the
 * firing mark, the reserved room, and a random run against a plain model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "timer_heap.h"

#include <stdint.h>
#include <stdlib.h>

static clus_timer_heap *heap_with_room(size_t n)
{
    clus_timer_heap *heap = clus_timer_heap_new();

    assert_non_null(heap);
    assert_true(clus_timer_heap_reserve(heap, n));
    return heap;
}

/* Arms ref, tagged tag, for due. */
static bool start(clus_timer_heap *heap, clus_timer_ref *ref, uint64_t due, int tag)
{
    ref->tag = (uint32_t)tag;
    return clus_timer_heap_start(heap, ref, due);
}

/* The tag of what comes due by now, or -1. */
static int pop_which(clus_timer_heap *heap, uint64_t now)
{
    clus_timer_ref *ref = clus_timer_heap_pop_due(heap, now, clus_timer_heap_mark(heap));

    return ref != NULL ? (int)ref->tag : -1;
}

static void test_order_and_ties(void **state)
{
    clus_timer_heap *heap = heap_with_room(8);
    clus_timer_ref r[5] = {0};
    const uint64_t due[5] = {30, 10, 20, 10, 5};

    (void)state;
    assert_int_equal(clus_timer_heap_next_due(heap), UINT64_MAX);
    for (int i = 0; i < 5; i++)
        assert_true(start(heap, &r[i], due[i], i));
    assert_int_equal(clus_timer_heap_next_due(heap), 5);
    assert_int_equal(pop_which(heap, 4), -1); /* nothing due yet */
    assert_int_equal(pop_which(heap, 100), 4);
    assert_int_equal(pop_which(heap, 100), 1); /* 10: started before #3 */
    assert_int_equal(pop_which(heap, 100), 3);
    assert_int_equal(pop_which(heap, 100), 2);
    assert_int_equal(r[2].pos, 0); /* popped: disarmed */
    assert_int_equal(pop_which(heap, 29), -1);
    assert_int_equal(pop_which(heap, 30), 0);
    assert_int_equal(clus_timer_heap_count(heap), 0);
    clus_timer_heap_free(heap);
}

static void test_rearm_and_stop(void **state)
{
    clus_timer_heap *heap = heap_with_room(4);
    clus_timer_ref a = {0}, b = {0};

    (void)state;
    assert_true(start(heap, &a, 10, 1));
    assert_true(start(heap, &b, 20, 2));
    assert_true(start(heap, &a, 50, 1)); /* re-arm: one entry */
    assert_int_equal(clus_timer_heap_count(heap), 2);
    assert_int_equal(clus_timer_heap_next_due(heap), 20);
    clus_timer_heap_stop(heap, &b);
    clus_timer_heap_stop(heap, &b); /* twice: nothing */
    assert_int_equal(b.pos, 0);
    assert_int_equal(clus_timer_heap_next_due(heap), 50);
    assert_int_equal(pop_which(heap, 49), -1);
    assert_int_equal(pop_which(heap, 60), 1);
    assert_int_equal(pop_which(heap, 60), -1);
    clus_timer_heap_free(heap);
}

/* A callback that re-arms with due == now does not fire again in the same
 * round: entries started after the mark stay for the next round. */
static void test_mark_stops_a_round(void **state)
{
    clus_timer_heap *heap = heap_with_room(4);
    clus_timer_ref a = {0}, b = {0};
    uint64_t mark;

    (void)state;
    assert_true(start(heap, &a, 5, 1));
    assert_true(start(heap, &b, 7, 2));
    mark = clus_timer_heap_mark(heap);
    assert_ptr_equal(clus_timer_heap_pop_due(heap, 10, mark), &a);
    assert_true(start(heap, &a, 10, 1)); /* "again now" */
    assert_ptr_equal(clus_timer_heap_pop_due(heap, 10, mark), &b);
    assert_null(clus_timer_heap_pop_due(heap, 10, mark));
    assert_int_equal(pop_which(heap, 10), 1); /* the next round */
    clus_timer_heap_free(heap);
}

static void test_room_is_reserved(void **state)
{
    clus_timer_heap *heap = heap_with_room(2);
    clus_timer_ref r[40] = {0};
    int armed = 0;

    (void)state;
    for (int i = 0; i < 40; i++)
        armed += start(heap, &r[i], (uint64_t)i, i);
    /* reserve rounds up to 16; the 17th start is refused and changes nothing */
    assert_int_equal(armed, 16);
    assert_int_equal(clus_timer_heap_count(heap), 16);
    assert_int_equal(r[16].pos, 0);
    assert_true(start(heap, &r[3], 99, 3)); /* re-arm needs no room */
    assert_true(clus_timer_heap_reserve(heap, 40));
    assert_true(start(heap, &r[16], 16, 16));
    clus_timer_heap_free(heap);
}

/* Random starts, re-arms and stops against a plain array of due times. */
static void test_random_against_model(void **state)
{
    enum { N = 64 };
    clus_timer_heap *heap = heap_with_room(N);
    clus_timer_ref r[N] = {0};
    uint64_t model[N], now = 0;

    (void)state;
    srand(7);
    for (int i = 0; i < N; i++)
        model[i] = UINT64_MAX;
    for (int step = 0; step < 20000; step++) {
        int i = rand() % N, op = rand() % 4;
        if (op < 2) {
            model[i] = now + (uint64_t)(rand() % 50);
            assert_true(start(heap, &r[i], model[i], i));
        } else if (op == 2) {
            model[i] = UINT64_MAX;
            clus_timer_heap_stop(heap, &r[i]);
        } else {
            int which;
            now += (uint64_t)(rand() % 5);
            while ((which = pop_which(heap, now)) >= 0) {
                uint64_t min = UINT64_MAX;
                for (int k = 0; k < N; k++)
                    min = model[k] < min ? model[k] : min;
                assert_true(model[which] <= now);
                assert_int_equal(model[which], min); /* the earliest came out */
                model[which] = UINT64_MAX;
            }
        }
        for (int k = 0; k < N; k++)
            assert_int_equal(r[k].pos != 0, model[k] != UINT64_MAX);
    }
    clus_timer_heap_free(heap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_ties),       cmocka_unit_test(test_rearm_and_stop),
        cmocka_unit_test(test_mark_stops_a_round),   cmocka_unit_test(test_room_is_reserved),
        cmocka_unit_test(test_random_against_model),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
