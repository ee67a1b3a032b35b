/*
 * kagen_test: libkagen from C. Runs the HAR demo trace through the demo
 * policy and checks every window's decision against `kagen replay --log`
 * on the same trace; checks that bad input across the boundary returns
 * an error code with a message; and times the per-window overhead of the
 * C call over the Go API.
 *
 *   kagen_test MODEL POLICY OTHER_MODEL EXPECT.jsonl TRACE.csv...
 *
 * EXPECT.jsonl: `kagen replay --model MODEL --policy POLICY --trace DIR
 * --log EXPECT.jsonl` over the folder holding the TRACE files (given in
 * the folder's sorted order). OTHER_MODEL: a model the policy is not
 * for. Exit status 0 when every check passes. Set KAGEN_TIMING=0 to skip
 * the timing loop.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kagen.h"

static int failures;

#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (!(cond)) {                                    \
            failures++;                                   \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                 \
            fputc('\n', stderr);                          \
        }                                                 \
    } while (0)

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(n + 1);
    if (!b || fread(b, 1, n, f) != (size_t)n) {
        fprintf(stderr, "%s: read failed\n", path);
        exit(2);
    }
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* One expected decision from the replay's log. */
typedef struct {
    int cls, from, to;
    float conf;
    char rule[KAGEN_RULE_LEN];
} expect_t;

static int json_int(const char *line, const char *key) {
    const char *p = strstr(line, key);
    return p ? atoi(p + strlen(key)) : -999;
}

static int read_expect(const char *path, expect_t **out) {
    size_t n;
    char *b = read_file(path, &n);
    int cap = 1024, k = 0;
    expect_t *e = calloc(cap, sizeof *e);
    for (char *line = strtok(b, "\n"); line; line = strtok(NULL, "\n")) {
        if (k == cap) {
            cap *= 2;
            e = realloc(e, cap * sizeof *e);
        }
        e[k].cls = json_int(line, "\"class\":");
        e[k].from = json_int(line, "\"from\":");
        e[k].to = json_int(line, "\"to\":");
        const char *c = strstr(line, "\"confidence\":");
        e[k].conf = c ? strtof(c + 13, NULL) : -1;
        const char *r = strstr(line, "\"rule\":\"");
        if (r) {
            r += 8;
            size_t j = 0;
            while (r[j] && r[j] != '"' && j < KAGEN_RULE_LEN - 1) {
                e[k].rule[j] = r[j];
                j++;
            }
            e[k].rule[j] = 0;
        }
        k++;
    }
    free(b);
    *out = e;
    return k;
}

/* Push one CSV trace file as rows of the model's columns. */
static int push_csv(kagen_handle h, const char *path, int ncols, char names[][64], kagen_result *res, int *nres, int cap) {
    size_t len;
    char *b = read_file(path, &len);
    char *save = NULL;
    char *line = strtok_r(b, "\n", &save);
    /* header: map each model column to its field */
    int field[64], ts_field = -1, nf = 0;
    char *hs = NULL;
    for (char *tok = strtok_r(line, ",\r", &hs); tok; tok = strtok_r(NULL, ",\r", &hs), nf++) {
        if (!strcmp(tok, "timestamp"))
            ts_field = nf;
        for (int c = 0; c < ncols; c++)
            if (!strcmp(tok, names[c]))
                field[c] = nf;
    }
    enum { CHUNK = 100 };
    double ts[CHUNK], vals[CHUNK * 64], f[64];
    int rows = 0, windows = 0;
    for (;;) {
        line = strtok_r(NULL, "\n", &save);
        if (line) {
            int i = 0;
            char *fs = NULL;
            for (char *tok = strtok_r(line, ",", &fs); tok && i < 64; tok = strtok_r(NULL, ",", &fs))
                f[i++] = strtod(tok, NULL);
            ts[rows] = f[ts_field];
            for (int c = 0; c < ncols; c++)
                vals[rows * ncols + c] = f[field[c]];
            rows++;
        }
        if (rows == CHUNK || (!line && rows > 0)) {
            int n = kagen_push_imu(h, ts, vals, rows, (size_t)rows * ncols);
            CHECK(n >= 0, "kagen_push_imu: %d", n);
            windows += n > 0 ? n : 0;
            rows = 0;
        }
        if (!line)
            break;
    }
    int n = kagen_flush(h);
    CHECK(n >= 0, "kagen_flush: %d", n);
    while (*nres < cap && kagen_next_result(h, &res[*nres]) == 1)
        (*nres)++;
    free(b);
    return windows + (n > 0 ? n : 0);
}

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The error code and message of a refused call. */
static void expect_error(kagen_handle h, int rc, int want, const char *what) {
    char msg[256];
    kagen_last_error(h, msg, sizeof msg);
    CHECK(rc == want, "%s: code %d, expected %d (%s)", what, rc, want, msg);
    CHECK(msg[0] != 0, "%s: no message", what);
    printf("  %-34s -> %d: %s\n", what, rc, msg);
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: kagen_test MODEL POLICY OTHER_MODEL EXPECT.jsonl TRACE.csv...\n");
        return 2;
    }
    const char *model = argv[1], *policy = argv[2], *other = argv[3];
    CHECK(kagen_abi_version() == KAGEN_ABI_VERSION, "ABI version %d, header %d", kagen_abi_version(), KAGEN_ABI_VERSION);

    /* 1. The demo trace against kagen replay's decisions. */
    char err[512];
    kagen_handle h = 0;
    int rc = kagen_open_files(model, policy, NULL, &h, err, sizeof err);
    if (rc != KAGEN_OK) {
        fprintf(stderr, "open: %d: %s\n", rc, err);
        return 1;
    }
    kagen_info info;
    CHECK(kagen_get_info(h, &info) == KAGEN_OK, "info");
    char names[64][64];
    for (int c = 0; c < info.n_columns && c < 64; c++)
        kagen_column_name(h, c, names[c], sizeof names[c]);
    expect_t *want;
    int nwant = read_expect(argv[4], &want);
    kagen_result *res = calloc(nwant + 16, sizeof *res);
    int nres = 0;
    for (int i = 5; i < argc; i++)
        push_csv(h, argv[i], info.n_columns, names, res, &nres, nwant + 16);
    CHECK(nres == nwant, "%d windows, kagen replay %d", nres, nwant);
    int differ = 0;
    for (int i = 0; i < nres && i < nwant; i++) {
        kagen_result *r = &res[i];
        if (r->class_index != want[i].cls || r->level != want[i].from || r->next_level != want[i].to ||
            fabsf(r->confidence - want[i].conf) > 1e-6f || strcmp(r->rule, want[i].rule)) {
            if (differ++ < 5)
                fprintf(stderr, "window %d: class %d conf %.7g level %d->%d %s; replay class %d conf %.7g level %d->%d %s\n", i,
                        r->class_index, r->confidence, r->level, r->next_level, r->rule, want[i].cls, want[i].conf,
                        want[i].from, want[i].to, want[i].rule);
        }
        if (r->seq != i || r->n_scores != info.n_classes || r->energy_j <= 0 || r->latency_us <= 0)
            differ++;
    }
    CHECK(differ == 0, "%d windows differ from kagen replay", differ);
    kagen_stats st;
    CHECK(kagen_get_stats(h, &st) == KAGEN_OK && st.windows == nwant, "stats: %lld windows", (long long)st.windows);
    char cls[64];
    kagen_class_name(h, res[0].class_index, cls, sizeof cls);
    printf("demo trace: %d windows, every decision equal to kagen replay's; first: %s (%.3f) at level %d -> %d\n", nres, cls,
           res[0].confidence, res[0].level, res[0].next_level);
    printf("windows per level:");
    for (int l = 0; l < st.n_levels; l++)
        printf(" %lld", (long long)st.level_windows[l]);
    printf("; %lld switches; inference energy %.4g J (modelled); mean latency %.1f us\n", (long long)st.switches,
           st.energy_j, st.busy_us / st.windows);

    /* 2. Bad input across the boundary: each an error code and a message. */
    printf("bad input:\n");
    double t1[2] = {1000, 999}, v1[12] = {0};
    expect_error(h, kagen_push_imu(h, NULL, v1, 1, 6), KAGEN_EINVAL, "push_imu NULL timestamps");
    expect_error(h, kagen_push_imu(h, t1, NULL, 1, 6), KAGEN_EINVAL, "push_imu NULL values");
    expect_error(h, kagen_push_imu(h, t1, v1, 1, 5), KAGEN_EINVAL, "push_imu wrong n_values");
    expect_error(h, kagen_push_imu(h, t1, v1, 2, 12), KAGEN_EINPUT, "push_imu backwards timestamps");
    v1[3] = NAN;
    expect_error(h, kagen_push_imu(h, t1, v1, 1, 6), KAGEN_EINPUT, "push_imu NaN value");
    int16_t pcm[4] = {0};
    expect_error(h, kagen_push_pcm16(h, pcm, 4), KAGEN_EINPUT, "push_pcm16 to an IMU model");
    expect_error(h, kagen_push_window(h, NULL, (size_t)info.window_size, res), KAGEN_EINVAL, "push_window NULL window");
    float *win = calloc(info.window_size, sizeof(float));
    expect_error(h, kagen_push_window(h, win, (size_t)info.window_size - 1, res), KAGEN_EINVAL, "push_window wrong size");
    expect_error(h, kagen_push_window(h, win, (size_t)info.window_size, NULL), KAGEN_EINVAL, "push_window NULL result");
    expect_error(h, kagen_get_stats(h, NULL), KAGEN_EINVAL, "get_stats NULL");
    expect_error(h, kagen_next_result(h, NULL), KAGEN_EINVAL, "next_result NULL");
    expect_error(h, kagen_class_name(h, 99, cls, sizeof cls), KAGEN_EINVAL, "class_name out of range");
    expect_error(h, kagen_set_goal(h, 42, 1), KAGEN_EINVAL, "set_goal unknown goal");
    expect_error(h, kagen_set_goal(h, KAGEN_GOAL_BUDGET_J, 0.001), KAGEN_EINVAL, "set_goal budget on confidence");
    expect_error(h, kagen_set_goal(h, KAGEN_GOAL_FLOOR_PP, NAN), KAGEN_EINVAL, "set_goal floor NaN");
    CHECK(kagen_set_goal(h, KAGEN_GOAL_FLOOR_PP, 0.5) == KAGEN_OK, "set floor 0.5");
    CHECK(kagen_reset_stats(h) == KAGEN_OK, "reset stats");
    CHECK(kagen_close(h) == KAGEN_OK, "close");
    expect_error(h, kagen_close(h), KAGEN_EHANDLE, "close twice");
    expect_error(h, kagen_push_imu(h, t1, v1, 1, 6), KAGEN_EHANDLE, "push after close");
    expect_error(12345, kagen_get_stats(12345, &st), KAGEN_EHANDLE, "a handle never opened");
    expect_error(0, kagen_get_info(0, &info), KAGEN_EHANDLE, "handle 0");

    size_t mlen, plen, olen;
    char *mbuf = read_file(model, &mlen), *pbuf = read_file(policy, &plen), *obuf = read_file(other, &olen);
    struct {
        const char *what;
        const void *m;
        size_t ml;
        const void *p;
        size_t pl;
        int want;
    } opens[] = {
        {"open_memory NULL model", NULL, mlen, pbuf, plen, KAGEN_EINVAL},
        {"open_memory NULL policy", mbuf, mlen, NULL, plen, KAGEN_EINVAL},
        {"open_memory model_len 0", mbuf, 0, pbuf, plen, KAGEN_EINVAL},
        {"open_memory truncated model", mbuf, mlen / 2, pbuf, plen, KAGEN_EOPEN},
        {"open_memory truncated policy", mbuf, mlen, pbuf, plen / 2, KAGEN_EOPEN},
        {"open_memory policy of another model", obuf, olen, pbuf, plen, KAGEN_EOPEN},
    };
    for (size_t i = 0; i < sizeof opens / sizeof opens[0]; i++) {
        kagen_handle x = 77;
        err[0] = 0;
        rc = kagen_open_memory(opens[i].m, opens[i].ml, opens[i].p, opens[i].pl, NULL, &x, err, sizeof err);
        CHECK(rc == opens[i].want && x == 0 && err[0], "%s: code %d handle %llu: %s", opens[i].what, rc,
              (unsigned long long)x, err);
        printf("  %-34s -> %d: %s\n", opens[i].what, rc, err);
    }
    rc = kagen_open_files(NULL, policy, NULL, &h, err, sizeof err);
    CHECK(rc == KAGEN_EINVAL && err[0], "open_files NULL model: %d", rc);
    printf("  %-34s -> %d: %s\n", "open_files NULL model", rc, err);
    rc = kagen_open_files(model, policy, NULL, NULL, err, sizeof err);
    CHECK(rc == KAGEN_EINVAL, "open_files NULL out: %d", rc);
    printf("  %-34s -> %d: %s\n", "open_files NULL out", rc, err);
    rc = kagen_open_files("/no/such/model.onnx", policy, NULL, &h, err, 24); /* a short error buffer */
    CHECK(rc == KAGEN_EOPEN && strlen(err) == 23, "open_files missing file, short buffer: %d %s", rc, err);
    printf("  %-34s -> %d: %s\n", "open_files missing file (24 B buf)", rc, err);
    kagen_options bad = {.device = "no-such-device"};
    rc = kagen_open_files(model, policy, &bad, &h, err, sizeof err);
    CHECK(rc == KAGEN_EINVAL && err[0], "open_files unknown device: %d", rc);
    printf("  %-34s -> %d: %s\n", "open_files unknown device", rc, err);

    /* 3. Per-window overhead of the C call over the Go API: rounds of
     * kagen_push_window from C interleaved with rounds of the same window
     * pushed inside the library (kagen_bench_window). */
    const char *timing = getenv("KAGEN_TIMING");
    if (!timing || strcmp(timing, "0")) {
        rc = kagen_open_memory(mbuf, mlen, pbuf, plen, NULL, &h, err, sizeof err);
        CHECK(rc == KAGEN_OK, "open_memory: %s", err);
        for (int i = 0; i < info.window_size; i++)
            win[i] = (float)(i % 7) / 7;
        enum { ROUNDS = 31, PER = 200 };
        double c_ns[ROUNDS], go_ns[ROUNDS], diff[ROUNDS];
        kagen_result r;
        for (int i = 0; i < 200; i++)
            kagen_push_window(h, win, info.window_size, &r);
        for (int k = 0; k < ROUNDS; k++) {
            /* odd rounds time the Go API first, so that neither side
             * always follows the other */
            if (k % 2)
                CHECK(kagen_bench_window(h, win, info.window_size, PER, &go_ns[k]) == KAGEN_OK, "bench");
            double t0 = now_ns();
            for (int i = 0; i < PER; i++)
                if (kagen_push_window(h, win, info.window_size, &r) != KAGEN_OK)
                    failures++;
            c_ns[k] = (now_ns() - t0) / PER;
            if (k % 2 == 0)
                CHECK(kagen_bench_window(h, win, info.window_size, PER, &go_ns[k]) == KAGEN_OK, "bench");
            diff[k] = c_ns[k] - go_ns[k];
        }
        qsort(c_ns, ROUNDS, sizeof(double), cmp_double);
        qsort(go_ns, ROUNDS, sizeof(double), cmp_double);
        qsort(diff, ROUNDS, sizeof(double), cmp_double);
        /* The boundary alone: a call that crosses into the library, finds
         * the handle, takes its lock and returns (the result queue is
         * empty), timed in the same way. */
        double empty[ROUNDS];
        for (int k = 0; k < ROUNDS; k++) {
            double t0 = now_ns();
            for (int i = 0; i < 100 * PER; i++)
                kagen_next_result(h, &r);
            empty[k] = (now_ns() - t0) / (100 * PER);
        }
        qsort(empty, ROUNDS, sizeof(double), cmp_double);
        printf("timing: a call through the boundary (kagen_next_result, empty queue): median %.0f ns\n", empty[ROUNDS / 2]);
        printf("timing: %d rounds of %d windows: C kagen_push_window median %.0f ns/window, Go API inside the library %.0f ns/window; "
               "C-call overhead median %.0f ns/window (rounds from %.0f to %.0f)\n",
               ROUNDS, PER, c_ns[ROUNDS / 2], go_ns[ROUNDS / 2], diff[ROUNDS / 2], diff[0], diff[ROUNDS - 1]);
        kagen_close(h);
    }
    free(mbuf);
    free(pbuf);
    free(obuf);
    free(win);
    free(res);
    free(want);
    if (failures) {
        fprintf(stderr, "kagen_test: %d checks failed\n", failures);
        return 1;
    }
    printf("kagen_test: all checks passed\n");
    return 0;
}
