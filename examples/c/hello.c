/* hello: the smallest libkagen program. Streams an IMU CSV file through
 * a model and its policy, as `kagen run` does, and prints each window.
 *   cc hello.c -I libkagen -L. -lkagen -o hello && ./hello MODEL POLICY TRACE.csv */
#include <stdio.h>
#include "kagen.h"

int main(int argc, char **argv) {
    char err[256], name[64], buf[4096];
    kagen_handle h;
    if (argc != 4 || kagen_open_files(argv[1], argv[2], NULL, &h, err, sizeof err) != KAGEN_OK) {
        fprintf(stderr, "open: %s\n", argc == 4 ? err : "usage: hello MODEL POLICY TRACE.csv");
        return 1;
    }
    FILE *f = fopen(argv[3], "rb");
    size_t n;
    kagen_result r;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (kagen_push_stream(h, buf, n) < 0)
            break;
        while (kagen_next_result(h, &r) == 1) {
            kagen_class_name(h, r.class_index, name, sizeof name);
            if (r.seq < 3)
                printf("window %lld: %s (%.2f) at level %d, next %d: %s\n", (long long)r.seq, name, r.confidence, r.level,
                       r.next_level, r.rule);
        }
    }
    kagen_flush(h);
    while (kagen_next_result(h, &r) == 1)
        ;
    kagen_stats st;
    kagen_get_stats(h, &st);
    kagen_last_error(h, err, sizeof err);
    printf("%lld windows, %lld switches, %.4f J modelled%s%s\n", (long long)st.windows, (long long)st.switches, st.energy_j,
           err[0] ? "; error: " : "", err);
    kagen_close(h);
    return err[0] != 0;
}
