/*
 * kagen.h: the C interface of libkagen, kagen's on-device library.
 *
 * An application opens a model and its policy once (from files or from
 * memory buffers), pushes raw samples (IMU rows, PCM) or ready feature
 * windows, and reads one result per window: the class and its scores, the
 * approximation level the window ran at, the level of the next window and
 * the rule that chose it, the measured latency and the modelled energy.
 * It can read and reset the statistics, change the controller's goal
 * (accuracy floor, energy or latency budget) while it runs, and close.
 * The library is the Go package github.com/kagen-ai/kagen/ondevice behind
 * a C ABI; its results are those of `kagen run` and `kagen replay`.
 *
 * Build (from the kagen source tree; needs a C compiler):
 *   go build -buildmode=c-shared -o libkagen.so ./libkagen
 *   go build -buildmode=c-archive -o libkagen.a ./libkagen
 * Link: cc app.c -I libkagen -L. -lkagen          (shared)
 *       cc app.c -I libkagen libkagen.a -lpthread  (static)
 *
 * Conventions
 * - Every function returns an int: KAGEN_OK (0) or a count (>= 0) on
 *   success, a negative KAGEN_E* code on failure. A failure never
 *   crashes: bad arguments (NULL pointers, wrong sizes, closed handles)
 *   are refused, and a fault inside the library is caught at the
 *   boundary and returned as KAGEN_EINTERNAL.
 * - The message of a handle's last failure is copied by
 *   kagen_last_error; the open functions write theirs into the caller's
 *   err buffer. Messages are UTF-8, NUL-terminated, truncated to the
 *   buffer.
 * - Every buffer is the caller's: the library reads the inputs during the
 *   call only and writes results into the caller's structs; it keeps no
 *   pointer the caller gave it.
 * - A handle is used by one thread at a time (any thread, one after the
 *   other); a call while another thread is inside the same handle returns
 *   KAGEN_EBUSY. Different handles are independent.
 * - Energy is modelled from busy time by a device profile (docs/energy.md
 *   in the kagen tree): no meter is read.
 *
 * Versioning: KAGEN_ABI_VERSION changes when a function, a struct or a
 * constant of this header changes incompatibly; compare it with
 * kagen_abi_version() at startup.
 */
#ifndef KAGEN_H
#define KAGEN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KAGEN_ABI_VERSION 1

/* Return codes. */
#define KAGEN_OK 0
#define KAGEN_EINVAL (-1)    /* an argument: a NULL pointer, a wrong size or value */
#define KAGEN_EHANDLE (-2)   /* not an open handle (closed, or never opened) */
#define KAGEN_EOPEN (-3)     /* the model or the policy was refused */
#define KAGEN_EINPUT (-4)    /* samples or a window refused; the handle goes on */
#define KAGEN_ESTREAM (-5)   /* the stream stopped (a strict stream's bad line): close the handle */
#define KAGEN_EBUSY (-6)     /* another thread is inside this handle */
#define KAGEN_EINTERNAL (-7) /* a fault inside the library, caught */

/* Sizes of the fixed arrays of the structs below. */
#define KAGEN_MAX_SCORES 64 /* scores copied per result (n_scores says how many the model has) */
#define KAGEN_MAX_LEVELS 32 /* levels counted in kagen_stats */
#define KAGEN_RULE_LEN 128  /* bytes of a result's rule, NUL included */

/* A handle: 0 is never a valid one. */
typedef uint64_t kagen_handle;

/* Options of an open; NULL or all zero for the defaults. */
typedef struct {
    int32_t rate;      /* raw PCM sample rate in Hz (0: the model's) */
    int32_t channels;  /* interleaved PCM channels, averaged (0: 1) */
    int32_t strict;    /* nonzero: a malformed CSV line stops the stream (kagen_push_stream) */
    double max_gap_s;  /* longest IMU gap interpolated across (0: one window) */
    const char *device; /* energy profile: a built-in name or a JSON file (NULL: "phone-big") */
} kagen_options;

/* What a handle's model takes. */
typedef struct {
    int32_t task;        /* KAGEN_TASK_IMU or KAGEN_TASK_AUDIO */
    int32_t window_size; /* values of a feature window (kagen_push_window) */
    int32_t n_columns;   /* values per IMU row (kagen_push_imu); 0 for audio */
    int32_t n_classes;
    int32_t n_levels;    /* approximation levels of the policy, 0 exact */
    int32_t sample_rate; /* Hz, the front-end's */
} kagen_info;

#define KAGEN_TASK_IMU 1
#define KAGEN_TASK_AUDIO 2

/* The result of one window. */
typedef struct {
    int64_t seq;         /* windows of the handle before this one */
    int32_t index;       /* window of the stream segment (since open or the last flush) */
    int32_t class_index; /* predicted class, -1 when non_finite */
    double start_s;      /* window span in the segment, seconds */
    double end_s;
    float confidence;    /* softmax probability of the class */
    int32_t level;       /* the level this window ran at */
    int32_t next_level;  /* the level of the next window */
    int32_t non_finite;  /* 1 if the model's outputs held a NaN or an infinity */
    double latency_us;   /* measured busy time of the inference */
    double energy_j;     /* modelled inference energy */
    int32_t n_scores;    /* the model's outputs; the first KAGEN_MAX_SCORES are in scores */
    float scores[KAGEN_MAX_SCORES];
    char rule[KAGEN_RULE_LEN]; /* the rule that chose next_level */
} kagen_result;

/* A handle's figures since open or the last kagen_reset_stats. */
typedef struct {
    int64_t windows;
    int64_t switches;   /* windows after which the level changed */
    int64_t non_finite;
    int64_t bad_lines;  /* malformed CSV lines skipped (since open) */
    int64_t gaps;       /* gaps the IMU stream was split at (since open) */
    double busy_us;     /* summed measured busy time */
    double energy_j;    /* summed modelled energy */
    int32_t n_levels;
    int64_t level_windows[KAGEN_MAX_LEVELS];
} kagen_stats;

/* Goals of kagen_set_goal. */
#define KAGEN_GOAL_FLOOR_PP 1  /* accuracy floor in percentage points (< 0: no floor guard) */
#define KAGEN_GOAL_BUDGET_J 2  /* budget controller: mean energy per inference, joules */
#define KAGEN_GOAL_BUDGET_US 3 /* budget controller: mean busy time per inference, microseconds */

#ifndef KAGEN_NO_PROTOTYPES

/* The library's KAGEN_ABI_VERSION. */
int kagen_abi_version(void);

/* Open a model file and a policy file bound to it (checked as `kagen
 * policy validate` checks them). opts may be NULL. On failure *out is 0
 * and err (if not NULL) holds the message. */
int kagen_open_files(const char *model_path, const char *policy_path, const kagen_options *opts,
                     kagen_handle *out, char *err, size_t err_len);

/* Open a model and a policy held in memory. */
int kagen_open_memory(const void *model, size_t model_len, const void *policy, size_t policy_len,
                      const kagen_options *opts, kagen_handle *out, char *err, size_t err_len);

/* What the model takes. */
int kagen_get_info(kagen_handle h, kagen_info *out);

/* Names of class i and of IMU column i (NUL-terminated, truncated to len). */
int kagen_class_name(kagen_handle h, int32_t i, char *buf, size_t len);
int kagen_column_name(kagen_handle h, int32_t i, char *buf, size_t len);

/* Push IMU rows: rows timestamps (Unix ms, non-decreasing) and
 * rows * n_columns values, row-major, in kagen_column_name's order.
 * Returns the number of windows the rows completed (queued: read them
 * with kagen_next_result), or an error; a refused push changes nothing. */
int kagen_push_imu(kagen_handle h, const double *timestamps, const double *values, size_t rows, size_t n_values);

/* Push PCM samples (interleaved when channels > 1): 16-bit or 32-bit
 * float (full scale 1). Returns the windows completed, or an error. */
int kagen_push_pcm16(kagen_handle h, const int16_t *samples, size_t n);
int kagen_push_pcm_f32(kagen_handle h, const float *samples, size_t n);

/* Push bytes of a stream as `kagen run` reads it: IMU CSV text (header
 * first) or raw PCM (s16le). Returns the windows completed, or an error. */
int kagen_push_stream(kagen_handle h, const void *bytes, size_t n);

/* End the stream segment: the samples held back make their windows
 * (returned, queued); the next push starts a new stream (new CSV
 * header, timestamps from anywhere), the controller going on. */
int kagen_flush(kagen_handle h);

/* Copy the oldest queued result into *out: 1 if one was copied, 0 if the
 * queue is empty, or an error. */
int kagen_next_result(kagen_handle h, kagen_result *out);

/* Run one ready feature window (window_size floats, the model's input
 * tensor) and write its result to *out. A handle takes windows or raw
 * samples, the kind of its first push. */
int kagen_push_window(kagen_handle h, const float *window, size_t n, kagen_result *out);

/* Statistics. */
int kagen_get_stats(kagen_handle h, kagen_stats *out);
int kagen_reset_stats(kagen_handle h);

/* Change the controller's goal (KAGEN_GOAL_*); the controller restarts
 * from its first level with it. */
int kagen_set_goal(kagen_handle h, int32_t goal, double value);

/* Copy the message of the handle's last failure (empty if none) into buf;
 * returns its full length in bytes. */
int kagen_last_error(kagen_handle h, char *buf, size_t len);

/* Close the handle; the handle value is invalid afterwards. */
int kagen_close(kagen_handle h);

/* Diagnostics: time `rounds` pushes of one window made inside the
 * library through the Go API, without crossing the C boundary per window
 * (what kagen_push_window's per-call overhead is measured against).
 * Writes the mean nanoseconds per window. */
int kagen_bench_window(kagen_handle h, const float *window, size_t n, int64_t rounds, double *ns_per_window);

#endif /* KAGEN_NO_PROTOTYPES */

#ifdef __cplusplus
}
#endif

#endif /* KAGEN_H */
