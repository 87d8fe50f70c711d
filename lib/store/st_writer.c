/* The index's writer thread: every database write of an update happens here, fed by a bounded
 * queue, so that workers never hold the database lock and never wait for SQLite except when
 * the queue is full.
 *
 * Two kinds of job: a position segment (a full buffer of one flow's packet positions, spilled
 * while the file is still being read so that memory does not grow with packets) goes to the
 * connection's TEMP table `spill`, in batched transactions that touch only the temporary
 * database (no lock on the index, gone with the connection if the run dies); a call runs a
 * function on this thread (writing one file in one transaction) while its caller waits.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#define SPILL_BATCH 256 /* segments per transaction of the temporary database */

typedef struct st_job {
    struct st_job *next;
    uint64_t id;   /* segment */
    uint8_t *blob; /* segment (owned), NULL for a call */
    size_t len;
    int (*fn)(void *arg); /* call */
    void *arg;
    int result;
    bool done;
} st_job_t;

static int exec(st_writer_t *w, const char *sql)
{
    int rc = sqlite3_exec(w->ix->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : rc;
}

/* Ends the open batch of segments, if any. */
static int end_batch(st_writer_t *w)
{
    if (!w->in_batch)
        return 0;
    w->in_batch = false;
    w->batched = 0;
    return exec(w, "COMMIT");
}

static int put_segment(st_writer_t *w, const st_job_t *j)
{
    int rc = 0;
    if (!w->in_batch) {
        rc = exec(w, "BEGIN");
        w->in_batch = rc == 0;
    }
    if (rc == 0) {
        sqlite3_bind_int64(w->ins, 1, (int64_t)j->id);
        sqlite3_bind_blob(w->ins, 2, j->blob, (int)j->len, SQLITE_STATIC);
        rc = sqlite3_step(w->ins);
        sqlite3_reset(w->ins);
        rc = rc == SQLITE_DONE ? 0 : rc;
    }
    if (rc == 0 && ++w->batched >= SPILL_BATCH)
        rc = end_batch(w);
    return rc;
}

static void *writer_main(void *arg)
{
    st_writer_t *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop) {
            if (w->in_batch) { /* idle: let what is batched reach the database */
                pthread_mutex_unlock(&w->mu);
                int rc = end_batch(w);
                pthread_mutex_lock(&w->mu);
                if (rc && !w->rc)
                    w->rc = rc;
                continue;
            }
            pthread_cond_wait(&w->cv_work, &w->mu);
        }
        if (!w->head && w->stop)
            break;
        st_job_t *j = w->head;
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        w->queued -= j->len;
        pthread_cond_broadcast(&w->cv_room);
        int failed = w->rc;
        pthread_mutex_unlock(&w->mu);
        int rc = 0;
        if (j->blob) {
            rc = failed ? 0 : put_segment(w, j);
            free(j->blob);
        } else {
            rc = end_batch(w);
            j->result = rc ? rc : j->fn(j->arg);
        }
        pthread_mutex_lock(&w->mu);
        if (rc && !w->rc)
            w->rc = rc;
        if (j->blob) {
            free(j);
        } else {
            j->done = true;
            pthread_cond_broadcast(&w->cv_done);
        }
    }
    pthread_mutex_unlock(&w->mu);
    int rc = end_batch(w);
    pthread_mutex_lock(&w->mu);
    if (rc && !w->rc)
        w->rc = rc;
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int sift__writer_start(st_writer_t *w, sift_index_t *ix, size_t limit)
{
    memset(w, 0, sizeof *w);
    w->ix = ix;
    w->limit = limit;
    int rc = sift__db_exec(ix,
                           "CREATE TEMP TABLE IF NOT EXISTS spill("
                           "id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
                           "DELETE FROM temp.spill;",
                           "setting up its temporary table");
    if (rc < 0)
        return rc;
    int src = sqlite3_prepare_v3(ix->db, "INSERT INTO temp.spill(id, data) VALUES(?,?)", -1,
                                 SQLITE_PREPARE_PERSISTENT, &w->ins, NULL);
    if (src != SQLITE_OK)
        return sift__db_error(ix, src, "preparing to write");
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv_work, NULL);
    pthread_cond_init(&w->cv_room, NULL);
    pthread_cond_init(&w->cv_done, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        sqlite3_finalize(w->ins);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv_work);
        pthread_cond_destroy(&w->cv_room);
        pthread_cond_destroy(&w->cv_done);
        return sift__ctx_error(ix->ctx, SIFT_EINTERNAL, "cannot start the writer thread");
    }
    w->running = true;
    return 0;
}

static void enqueue(st_writer_t *w, st_job_t *j)
{
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->queued += j->len;
    pthread_cond_signal(&w->cv_work);
}

int sift__writer_segment(st_writer_t *w, uint8_t *blob, size_t len, uint64_t *id)
{
    st_job_t *j = calloc(1, sizeof *j);
    if (!j) {
        free(blob);
        return SIFT_ENOMEM;
    }
    j->blob = blob;
    j->len = len;
    pthread_mutex_lock(&w->mu);
    while (w->queued > 0 && w->queued + len > w->limit && !w->rc)
        pthread_cond_wait(&w->cv_room, &w->mu); /* the writer is behind: wait for room */
    int rc = w->rc;
    if (rc == 0) {
        j->id = *id = ++w->next_id;
        enqueue(w, j);
    }
    pthread_mutex_unlock(&w->mu);
    if (rc) {
        free(blob);
        free(j);
        return SIFT_EDB;
    }
    return 0;
}

int sift__writer_call(st_writer_t *w, int (*fn)(void *arg), void *arg)
{
    st_job_t j = {.fn = fn, .arg = arg};
    pthread_mutex_lock(&w->mu);
    enqueue(w, &j);
    while (!j.done)
        pthread_cond_wait(&w->cv_done, &w->mu);
    pthread_mutex_unlock(&w->mu);
    return j.result;
}

int sift__writer_stop(st_writer_t *w)
{
    if (!w->running)
        return 0;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv_work);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->running = false;
    sqlite3_finalize(w->ins);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv_work);
    pthread_cond_destroy(&w->cv_room);
    pthread_cond_destroy(&w->cv_done);
    sqlite3_exec(w->ix->db, "DELETE FROM temp.spill", NULL, NULL, NULL);
    return w->rc;
}
