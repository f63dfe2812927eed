/* test_mp_thread.c — mp_thread_stop(): the flag reaches the loop (which
 * then sees what was written before the ask) and the join waits for the
 * loop's end; a thread never started is only flagged. mp_thread_name():
 * the kernel keeps the name (with its index), cut to 15 bytes. */
#include "mp_thread.h"

#include "check_main.h"

struct loop {
    mp_atomic_u32 stop;
    int before; /* written by the stopper before asking */
    int seen;   /* the loop's copy of it, after the flag */
    int passes;
};

static void *loop_main(void *arg)
{
    struct loop *l = arg;
    while (!mp_load_acquire(&l->stop))
        l->passes++;
    l->seen = l->before;
    return NULL;
}

START_TEST(stops_and_joins)
{
    struct loop l = {.before = 0};
    mp_atomic_init(&l.stop, 0);
    pthread_t tid;
    ck_assert_int_eq(pthread_create(&tid, NULL, loop_main, &l), 0);
    l.before = 42;
    mp_thread_stop(&l.stop, 1, tid);
    /* joined: the loop has ended and its last write is ours to read */
    ck_assert_int_eq(l.seen, 42);
    ck_assert_uint_eq(mp_load_relaxed(&l.stop), 1);
}
END_TEST

START_TEST(never_started)
{
    mp_atomic_u32 stop;
    mp_atomic_init(&stop, 0);
    mp_thread_stop(&stop, 0, pthread_self()); /* not started: never joined */
    ck_assert_uint_eq(mp_load_relaxed(&stop), 1);
}
END_TEST

struct named {
    const char *name;
    int index;
    char got[16];
};

static void *named_main(void *arg)
{
    struct named *n = arg;
    mp_thread_name(n->name, n->index);
    pthread_getname_np(pthread_self(), n->got, sizeof(n->got));
    return NULL;
}

static void name_of(const char *name, int index, const char *want)
{
    struct named n = {name, index, ""};
    pthread_t tid;
    ck_assert_int_eq(pthread_create(&tid, NULL, named_main, &n), 0);
    pthread_join(tid, NULL);
    ck_assert_str_eq(n.got, want);
}

START_TEST(names_threads)
{
    name_of("mp-worker", 1, "mp-worker-1");
    name_of("mp-eval", -1, "mp-eval");
    name_of("mp-a-very-long-thread-name", 12, "mp-a-very-long-"); /* 15 bytes kept */
}
END_TEST

CHECK_SUITE("mp_thread", 10, NULL, NULL, stops_and_joins, never_started, names_threads)
