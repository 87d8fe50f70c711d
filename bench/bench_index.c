/* bench_index: the database side of capsift index and query, measured on an index built by
 * `capsift index`:
 *
 *   bench_index inserts DB      copies DB's flows (and their position blobs) into fresh
 *                               databases two ways, and prints rows/s for each and the ratio:
 *                               naive: one INSERT per row in autocommit mode (rollback journal,
 *                               the SQLite defaults); batched: WAL, synchronous=NORMAL, prepared
 *                               statements, one transaction, indexes built after the load.
 *   bench_index queries DB [N]  N queries (default 2000) mixing host, port, net and time-window
 *                               terms picked from the index's own flows, through the library
 *                               API on one open index; prints latency p50/p95/p99.
 */
#include <capsift/capsift.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, sqlite3 *db)
{
    fprintf(stderr, "bench_index: %s: %s\n", what, db ? sqlite3_errmsg(db) : "failed");
    exit(1);
}

static const char create_sql[] =
    "CREATE TABLE flows(id INTEGER PRIMARY KEY, file_id INTEGER, ip_version INTEGER, "
    "proto INTEGER, src BLOB, dst BLOB, sport INTEGER, dport INTEGER, vlan INTEGER, app TEXT, "
    "first_ns INTEGER, last_ns INTEGER, packets_ab INTEGER, packets_ba INTEGER, "
    "bytes_ab INTEGER, bytes_ba INTEGER, flags_ab INTEGER, flags_ba INTEGER, positions BLOB)";
static const char index_sql[] =
    "CREATE INDEX s ON flows(src); CREATE INDEX d ON flows(dst);"
    "CREATE INDEX sp ON flows(sport); CREATE INDEX dp ON flows(dport);"
    "CREATE INDEX t0 ON flows(first_ns); CREATE INDEX t1 ON flows(last_ns);";

/* Copies every flow row of src into a new database at path; returns rows per second. */
static double copy_rows(sqlite3 *src, const char *path, int batched, long *nrows)
{
    unlink(path);
    sqlite3 *dst;
    if (sqlite3_open(path, &dst) != SQLITE_OK)
        die("open", dst);
    if (batched &&
        sqlite3_exec(dst, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", 0, 0, 0))
        die("pragma", dst);
    if (sqlite3_exec(dst, create_sql, 0, 0, 0) != SQLITE_OK)
        die("create", dst);
    if (!batched && sqlite3_exec(dst, index_sql, 0, 0, 0) != SQLITE_OK) /* kept during load */
        die("index", dst);
    sqlite3_stmt *sel, *ins;
    if (sqlite3_prepare_v2(
            src,
            "SELECT f.*, p.data FROM flows f JOIN positions p ON p.flow_id = f.id AND p.seq = 0",
            -1, &sel, NULL) != SQLITE_OK)
        die("select", src);
    if (sqlite3_prepare_v2(dst, "INSERT INTO flows VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &ins, NULL) != SQLITE_OK)
        die("insert", dst);
    /* read everything first, so that only the writing is timed */
    size_t cap = 1024, n = 0;
    sqlite3_value **vals = malloc(cap * 19 * sizeof *vals);
    while (sqlite3_step(sel) == SQLITE_ROW) {
        if (n == cap) {
            cap *= 2;
            vals = realloc(vals, cap * 19 * sizeof *vals);
        }
        for (int c = 0; c < 19; c++)
            vals[n * 19 + (size_t)c] = sqlite3_value_dup(sqlite3_column_value(sel, c));
        n++;
    }
    sqlite3_finalize(sel);
    double t0 = now();
    if (batched)
        sqlite3_exec(dst, "BEGIN", 0, 0, 0);
    for (size_t r = 0; r < n; r++) {
        for (int c = 0; c < 19; c++)
            sqlite3_bind_value(ins, c + 1, vals[r * 19 + (size_t)c]);
        if (sqlite3_step(ins) != SQLITE_DONE)
            die("step", dst);
        sqlite3_reset(ins);
    }
    if (batched && (sqlite3_exec(dst, "COMMIT", 0, 0, 0) != SQLITE_OK ||
                    sqlite3_exec(dst, index_sql, 0, 0, 0) != SQLITE_OK))
        die("commit", dst);
    double dt = now() - t0;
    for (size_t i = 0; i < n * 19; i++)
        sqlite3_value_free(vals[i]);
    free(vals);
    sqlite3_finalize(ins);
    sqlite3_close(dst);
    *nrows = (long)n;
    return (double)n / dt;
}

static int inserts(const char *dbpath)
{
    sqlite3 *src;
    if (sqlite3_open_v2(dbpath, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die("open", src);
    char tmp[] = "/tmp/capsift-bench-XXXXXX";
    if (!mkdtemp(tmp))
        die("mkdtemp", NULL);
    char a[64], b[64];
    snprintf(a, sizeof a, "%s/naive.db", tmp);
    snprintf(b, sizeof b, "%s/batched.db", tmp);
    long n;
    double batched = copy_rows(src, b, 1, &n);
    double naive = copy_rows(src, a, 0, &n);
    printf("flow rows written: %ld\n", n);
    printf("naive (autocommit, one INSERT per row):          %10.0f rows/s\n", naive);
    printf("batched (WAL, one transaction, index after load): %10.0f rows/s\n", batched);
    printf("batched vs naive: %.1fx (claim: batch 2-5x, database 10-100x; WAL up to 10x)\n",
           batched / naive);
    sqlite3_close(src);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    return system(cmd) == 0 ? 0 : 1;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static int count(void *user, const sift_flow_row_t *r)
{
    (void)r;
    (*(long *)user)++;
    return 0;
}

static int queries(const char *dbpath, int n)
{
    sqlite3 *raw;
    if (sqlite3_open_v2(dbpath, &raw, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die("open", raw);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(raw,
                           "SELECT src, dport, first_ns, last_ns FROM flows ORDER BY random() "
                           "LIMIT 500",
                           -1, &st, NULL) != SQLITE_OK)
        die("sample", raw);
    char(*hosts)[48] = calloc(500, sizeof *hosts);
    int ports[500];
    long long t0s[500];
    int m = 0;
    while (sqlite3_step(st) == SQLITE_ROW && m < 500) {
        sift_format_addr(sqlite3_column_blob(st, 0), hosts[m], sizeof hosts[m]);
        ports[m] = sqlite3_column_int(st, 1);
        t0s[m] = sqlite3_column_int64(st, 2);
        m++;
    }
    sqlite3_finalize(st);
    sqlite3_close(raw);
    if (m == 0)
        die("the index has no flows", NULL);
    sift_ctx_t *ctx;
    sift_index_t *ix;
    sift_index_opts_t ro = {.read_only = true};
    sift_ctx_create(&ctx);
    if (sift_index_open(&ix, ctx, dbpath, &ro) < 0) {
        fprintf(stderr, "%s\n", sift_ctx_errmsg(ctx));
        return 1;
    }
    double *lat = malloc((size_t)n * sizeof *lat);
    long rows = 0;
    srand(1);
    for (int i = 0; i < n; i++) {
        int k = rand() % m;
        char expr[256];
        switch (i % 4) {
        case 0:
            snprintf(expr, sizeof expr, "host %s", hosts[k]);
            break;
        case 1:
            snprintf(expr, sizeof expr, "port %d and tcp", ports[k]);
            break;
        case 2:
            snprintf(expr, sizeof expr, "host %s and port %d", hosts[k], ports[k]);
            break;
        default:
            snprintf(expr, sizeof expr, "after %lld.0 and before %lld.0", t0s[k] / 1000000000,
                     t0s[k] / 1000000000 + 60);
            break;
        }
        sift_query_t *q;
        if (sift_query_compile(&q, expr, NULL, NULL) < 0)
            die(expr, NULL);
        double t = now();
        if (sift_index_query(ix, q, SIFT_SORT_NONE, 1000, count, &rows) < 0)
            die(sift_ctx_errmsg(ctx), NULL);
        lat[i] = (now() - t) * 1e3;
        sift_query_free(q);
    }
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    printf("%d queries (host / port+tcp / host+port / 60 s window, at most 1000 rows each), "
           "%ld rows: latency p50 %.3f ms, p95 %.3f ms, p99 %.3f ms, max %.3f ms\n",
           n, rows, lat[n / 2], lat[n * 95 / 100], lat[n * 99 / 100], lat[n - 1]);
    free(lat);
    free(hosts);
    sift_index_close(ix);
    sift_ctx_free(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "inserts") == 0)
        return inserts(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "queries") == 0)
        return queries(argv[2], argc > 3 ? atoi(argv[3]) : 2000);
    fprintf(stderr, "usage: bench_index inserts DB | queries DB [N]\n");
    return 2;
}
