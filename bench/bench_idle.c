/* bench_idle — what an idle daemon costs: CPU time and wake-ups.
 *
 * Starts $MP_BIN_DIR/mailpulsed with the bench config (bench_common.h: one
 * dead webhook receiver, the default rules, the gate's thread running),
 * waits until it is healthy and --settle seconds more (the start's own
 * work: restore, first flush), then reads from /proc, --seconds apart
 * (default 60), the process's user + system CPU time and the sum of every
 * thread's voluntary and involuntary context switches. Nothing is sent: the
 * figures are what the daemon's own threads do while nobody needs them
 * (issue 16: "idle CPU near zero, measured over a minute").
 *
 * Prints:  bench_idle seconds=… cpu_ms=… cpu_pct=… wakeups_per_s=… threads=…
 *          busiest: tid=… wakeups_per_s=…   (the top 3 threads by switches)
 */
#include <dirent.h>

#include "bench_common.h"

struct thread_sw {
    int tid;
    long long sw;
};

#define MAX_THREADS 256

/* Context switches of every thread of pid into t (n of them); the total. */
static long long task_switches(pid_t pid, struct thread_sw *t, int *n)
{
    char path[96], line[128];
    long long total = 0;
    *n = 0;
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d)) && *n < MAX_THREADS) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%.16s/status", (int)pid, de->d_name);
        FILE *f = fopen(path, "r");
        long long sw = 0, v;
        while (f && fgets(line, sizeof(line), f))
            if (sscanf(line, "voluntary_ctxt_switches: %lld", &v) == 1 ||
                sscanf(line, "nonvoluntary_ctxt_switches: %lld", &v) == 1)
                sw += v;
        if (f)
            fclose(f);
        t[*n].tid = atoi(de->d_name);
        t[(*n)++].sw = sw;
        total += sw;
    }
    if (d)
        closedir(d);
    return total;
}

/* utime + stime of pid in clock ticks, or -1. */
static long long proc_ticks(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command may hold spaces */
    unsigned long long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                     &st) != 2)
        return -1;
    return (long long)(ut + st);
}

static int sw_desc(const void *a, const void *b)
{
    long long x = ((const struct thread_sw *)a)->sw, y = ((const struct thread_sw *)b)->sw;
    return x < y ? 1 : x > y ? -1 : 0;
}

int main(int argc, char **argv)
{
    int seconds = 60, settle = 5;
    const struct bench_opt opts[] = {{"seconds", 's', BENCH_OPT_INT, &seconds},
                                     {"settle", 0, BENCH_OPT_INT, &settle}};
    int rc = bench_opts(argc, argv, opts, MP_ARRAY_LEN(opts),
                        "usage: bench_idle [--seconds N] [--settle N]\n");
    if (rc >= 0)
        return rc;
    if (seconds < 1 || settle < 0)
        return 2;
    struct bench_daemon d;
    static struct thread_sw a[MAX_THREADS], b[MAX_THREADS];
    int na, nb;
    if (bench_daemon_prepare(&d, 2, 1u << 20, "warn") != 0 || bench_daemon_exec(&d) != 0 ||
        bench_daemon_wait_healthy(&d, 10, 30000) != 0) {
        fprintf(stderr, "bench_idle: the daemon did not start (log %s)\n", d.log);
        bench_daemon_stop(&d);
        bench_daemon_cleanup(&d, 1);
        return 1;
    }
    sleep((unsigned)settle);
    pid_t pid = d.proc.pid;
    long long c0 = proc_ticks(pid), s0 = task_switches(pid, a, &na);
    sleep((unsigned)seconds);
    long long c1 = proc_ticks(pid), s1 = task_switches(pid, b, &nb);
    long tck = sysconf(_SC_CLK_TCK);
    double cpu_ms = c0 < 0 || c1 < 0 ? -1 : (double)(c1 - c0) * 1000.0 / (double)tck;
    printf("bench_idle seconds=%d cpu_ms=%.0f cpu_pct=%.2f wakeups_per_s=%.1f threads=%d\n",
           seconds, cpu_ms, cpu_ms / 10.0 / seconds, (double)(s1 - s0) / seconds, nb);
    for (int i = 0; i < nb; i++) /* b[i].sw becomes the thread's switches in the interval */
        for (int j = 0; j < na; j++)
            if (a[j].tid == b[i].tid)
                b[i].sw -= a[j].sw;
    qsort(b, (size_t)nb, sizeof(*b), sw_desc);
    printf("busiest:");
    for (int i = 0; i < nb && i < 3; i++)
        printf(" tid=%d wakeups_per_s=%.1f", b[i].tid, (double)b[i].sw / seconds);
    printf("\n");
    bench_daemon_stop(&d);
    bench_daemon_cleanup(&d, 0);
    return 0;
}
