/* The index's writer thread: every storage call of an update happens here, fed by a bounded
 * queue, so that workers never hold the database lock and never wait for the storage except
 * when the queue is full.
 *
 * Two kinds of job: a position segment (a full buffer of one flow's packet positions, spilled
 * while the file is still being read so that memory does not grow with packets) goes to the
 * backend's spill; a call runs a function on this thread (writing one file in one
 * transaction) while its caller waits. When idle, and before each call, the spill is flushed.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

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

static int flush(st_writer_t *w)
{
    return w->ix->be->spill_flush(w->ix);
}

static void *writer_main(void *arg)
{
    st_writer_t *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        bool flushed = false;
        while (!w->head && !w->stop) {
            if (!flushed) { /* idle: let what is batched reach the database */
                pthread_mutex_unlock(&w->mu);
                int rc = flush(w);
                pthread_mutex_lock(&w->mu);
                if (rc && !w->rc)
                    w->rc = rc;
                flushed = true;
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
            rc = failed ? 0 : w->ix->be->spill(w->ix, j->id, j->blob, j->len);
            free(j->blob);
        } else {
            rc = flush(w);
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
    int rc = flush(w);
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
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv_work, NULL);
    pthread_cond_init(&w->cv_room, NULL);
    pthread_cond_init(&w->cv_done, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
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
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv_work);
    pthread_cond_destroy(&w->cv_room);
    pthread_cond_destroy(&w->cv_done);
    return w->rc;
}
