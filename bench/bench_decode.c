/* bench_decode: decoder cost per packet at each need level.
 *
 *   bench_decode FILE... [-r ROUNDS]
 *
 * Reads every record of the files into memory once (so disk and reader are not measured),
 * then decodes all of them ROUNDS times per need level and prints ns/packet and M packets/s.
 * The baseline row walks the same records and reads their first bytes without decoding: the
 * cost of the loop and of touching the memory, which every decoder row also pays. Compare the
 * rows with each other (ratios), not across machines.
 */
#include <capsift/decode.h>
#include <capsift/reader.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct recs {
    sift_record_t *rec;
    size_t n, cap;
    uint8_t **bufs;
} recs_t;

static int load(recs_t *rs, const char *path)
{
    sift_ctx_t *ctx = NULL;
    if (sift_ctx_create(&ctx) != 0)
        return -1;
    sift_reader_t *r = NULL;
    if (sift_reader_open(&r, ctx, path, NULL) != 0) {
        fprintf(stderr, "bench_decode: %s\n", sift_ctx_errmsg(ctx));
        sift_ctx_free(ctx);
        return -1;
    }
    sift_record_t rec;
    while (sift_reader_next(r, &rec) == 1) {
        if (rs->n == rs->cap) {
            size_t cap = rs->cap ? rs->cap * 2 : 4096;
            sift_record_t *nr = realloc(rs->rec, cap * sizeof *nr);
            uint8_t **nb = realloc(rs->bufs, cap * sizeof *nb);
            if (!nr || !nb) {
                free(nr ? nr : rs->rec);
                free(nb ? nb : rs->bufs);
                return -1;
            }
            rs->rec = nr;
            rs->bufs = nb;
            rs->cap = cap;
        }
        uint8_t *b = malloc(rec.caplen ? rec.caplen : 1);
        if (!b)
            return -1;
        memcpy(b, rec.data, rec.caplen);
        rs->bufs[rs->n] = b;
        rs->rec[rs->n] = rec;
        rs->rec[rs->n].data = b;
        rs->n++;
    }
    sift_reader_close(r);
    sift_ctx_free(ctx);
    return 0;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Keeps the compiler from dropping work whose result is otherwise unused. */
static volatile uint64_t sink;

static double run(const recs_t *rs, int need, unsigned rounds)
{
    sift_packet_t pkt;
    uint64_t acc = 0;
    double best = 1e300;
    for (unsigned r = 0; r < rounds; r++) {
        double t0 = now_ns();
        for (size_t i = 0; i < rs->n; i++) {
            const sift_record_t *rec = &rs->rec[i];
            if (need < 0) {
                acc += rec->caplen ? rec->data[0] + rec->data[rec->caplen / 2] : 0;
                continue;
            }
            sift_decode(&pkt, rec, (sift_need_t)need);
            acc += pkt.flags + pkt.sport + pkt.payload_len;
        }
        double t = now_ns() - t0;
        if (t < best)
            best = t;
    }
    sink = acc;
    return best / (double)rs->n;
}

int main(int argc, char **argv)
{
    recs_t rs = {0};
    unsigned rounds = 20;
    int files = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-r") && i + 1 < argc) {
            rounds = (unsigned)strtoul(argv[++i], NULL, 10);
            continue;
        }
        if (load(&rs, argv[i]) != 0)
            return 1;
        files++;
    }
    if (!files || rs.n == 0 || rounds == 0) {
        fprintf(stderr, "usage: bench_decode FILE... [-r ROUNDS]\n");
        return 2;
    }
    /* what the records are, so the figures can be read */
    sift_packet_t pkt;
    size_t l4 = 0, tun = 0;
    for (size_t i = 0; i < rs.n; i++) {
        sift_decode(&pkt, &rs.rec[i], SIFT_NEED_PAYLOAD);
        l4 += !!(pkt.flags & SIFT_PKT_L4);
        tun += !!(pkt.flags & SIFT_PKT_TUNNEL);
    }
    printf("%zu packets from %d file(s): %.1f%% with ports, %.1f%% tunnelled; best of %u rounds\n",
           rs.n, files, 100.0 * (double)l4 / (double)rs.n, 100.0 * (double)tun / (double)rs.n,
           rounds);
    static const struct {
        const char *name;
        int need;
    } rows[] = {{"baseline (walk only)", -1},
                {"SIFT_NEED_RECORD", SIFT_NEED_RECORD},
                {"SIFT_NEED_NETWORK", SIFT_NEED_NETWORK},
                {"SIFT_NEED_TRANSPORT", SIFT_NEED_TRANSPORT},
                {"SIFT_NEED_PAYLOAD", SIFT_NEED_PAYLOAD}};
    printf("%-22s %10s %12s\n", "level", "ns/packet", "M packets/s");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double ns = run(&rs, rows[i].need, rounds);
        printf("%-22s %10.2f %12.1f\n", rows[i].name, ns, 1e3 / ns);
    }
    for (size_t i = 0; i < rs.n; i++)
        free(rs.bufs[i]);
    free(rs.bufs);
    free(rs.rec);
    return 0;
}
