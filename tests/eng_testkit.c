/* eng_testkit.c — shared helpers of the engine suites (see eng_testkit.h). */
#include "eng_testkit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct eng_table *tk_table(uint32_t max_keys, int64_t now, struct eng_store *s, int64_t idle)
{
    return tk_table_scopes(max_keys, now, s, idle, ENG_SCOPES_CLASSIC);
}

struct eng_table *tk_table_scopes(uint32_t max_keys, int64_t now, struct eng_store *s,
                                  int64_t idle, unsigned scopes)
{
    struct eng_table_opts o = {.max_keys = max_keys, .retention_ms = 35 * TK_DAY, .store = s,
                               .evict_idle_ms = idle, .scopes = scopes};
    struct eng_table *t = NULL;
    ck_assert_int_eq(eng_table_create(&o, now, &t), MP_OK);
    return t;
}

void tk_restart(const char *dir, struct eng_store **s, struct eng_table **t, uint32_t max_keys,
                int64_t now, int64_t idle)
{
    eng_table_destroy(*t);
    eng_store_close(*s);
    *s = unit_store_open(dir);
    *t = tk_table(max_keys, now, *s, idle);
}

void tk_open(const char *tag, char dir[UNIT_PATH_MAX], struct eng_store **s,
             struct eng_table **t)
{
    unit_tmpdir(tag, dir);
    *s = unit_store_open(dir);
    *t = tk_table(4096, TK_T0, *s, 0);
}

void tk_close(const char *dir, struct eng_store **s, struct eng_table **t)
{
    eng_table_destroy(*t);
    eng_store_close(*s);
    *t = NULL;
    *s = NULL;
    unit_tmpdir_remove(dir);
}

int tk_rec(struct eng_table *t, const char *tenant, const char *mb, const char *dom, int type,
           int64_t time_ms)
{
    struct eng_event ev = {tenant, strlen(tenant), mb, strlen(mb), dom, strlen(dom), type, time_ms, NULL, 0};
    return eng_table_record(t, NULL, &ev);
}

/* How tk__count reads a key. */
enum { TK_WIN, TK_FINE, TK_DAYS };

static uint64_t tk__count(struct eng_table *t, int scope, const char *tenant, const char *name,
                          int how, int a, int b, int type)
{
    struct eng_key *k;
    if (eng_table_find(t, scope, tenant, name, &k) != MP_OK)
        return 0;
    uint64_t c[ENG_NTYPES];
    if (how == TK_WIN)
        eng_key_sum_window(t, k, a, c);
    else if (how == TK_FINE)
        eng_key_sum_fine(t, k, a, c);
    else
        eng_key_sum_days(t, k, a, b, c);
    return c[type - 1];
}

uint64_t tk_win(struct eng_table *t, int scope, const char *tenant, const char *name, int win,
                int type)
{
    return tk__count(t, scope, tenant, name, TK_WIN, win, 0, type);
}

uint64_t tk_fine(struct eng_table *t, int scope, const char *tenant, const char *name, int nb,
                 int type)
{
    return tk__count(t, scope, tenant, name, TK_FINE, nb, 0, type);
}

uint64_t tk_days(struct eng_table *t, int scope, const char *tenant, const char *name, int back,
                 int nd, int type)
{
    return tk__count(t, scope, tenant, name, TK_DAYS, back, nd, type);
}

void tk_writer_begin(struct tk_writer *w, struct eng_table *t)
{
    w->t = t;
    ck_assert_int_eq(eng_thread_register(t, &w->th), MP_OK);
    ck_assert_int_eq(eng_frame_create(&w->f), MP_OK);
    eng_thread_online(w->th);
}

void tk_writer_batch(struct tk_writer *w)
{
    eng_frame_end(w->t, w->f);
    eng_thread_quiescent(w->th);
}

void tk_writer_end(struct tk_writer *w)
{
    eng_frame_end(w->t, w->f);
    eng_frame_destroy(w->f);
    eng_thread_unregister(w->th);
}

void tk_write_events(const struct tk_worker *w, int n, int batch,
                     void (*ev_of)(const struct tk_worker *w, int i, char *mb,
                                   struct eng_event *ev))
{
    struct tk_writer tw;
    tk_writer_begin(&tw, w->t);
    char mb[TK_MB_MAX];
    for (int i = 0; i < n; i++) {
        struct eng_event ev;
        ev_of(w, i, mb, &ev);
        ck_assert_int_eq(eng_frame_record(w->t, tw.f, &ev), MP_OK);
        if (i % batch == batch - 1)
            tk_writer_batch(&tw);
    }
    tk_writer_end(&tw);
}
