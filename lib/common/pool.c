/* The worker pool: pthreads pulling task numbers from an atomic counter. */
#include "common/internal.h"

#include <capsift/pool.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef struct pool_run {
    atomic_size_t next;
    atomic_uint running;
    size_t ntasks;
    sift_task_fn fn;
    void *user;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} pool_run_t;

typedef struct pool_worker {
    pool_run_t *run;
    unsigned id;
    pthread_t thread;
} pool_worker_t;

unsigned sift_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : (unsigned)n;
}

static void *pool_main(void *arg)
{
    pool_worker_t *w = arg;
    pool_run_t *run = w->run;
    for (;;) {
        size_t t = atomic_fetch_add(&run->next, 1);
        if (t >= run->ntasks)
            break;
        run->fn(run->user, t, w->id);
    }
    pthread_mutex_lock(&run->mu);
    atomic_fetch_sub(&run->running, 1);
    pthread_cond_signal(&run->cv);
    pthread_mutex_unlock(&run->mu);
    return NULL;
}

int sift_pool_run(unsigned threads, size_t ntasks, sift_task_fn fn, void *user, sift_tick_fn tick,
                  unsigned tick_ms)
{
    if (ntasks == 0)
        return 0;
    if (threads == 0)
        threads = sift_ncpu();
    if (threads > ntasks)
        threads = (unsigned)ntasks;
    if (threads == 1 && !tick) { /* no thread to start: run inline */
        for (size_t t = 0; t < ntasks; t++)
            fn(user, t, 0);
        return 0;
    }
    pool_worker_t *ws = calloc(threads, sizeof *ws);
    if (!ws)
        return SIFT_ENOMEM;
    pool_run_t run = {.ntasks = ntasks, .fn = fn, .user = user};
    atomic_init(&run.next, 0);
    atomic_init(&run.running, threads);
    pthread_mutex_init(&run.mu, NULL);
    pthread_cond_init(&run.cv, NULL);
    unsigned started = 0;
    for (; started < threads; started++) {
        ws[started].run = &run;
        ws[started].id = started;
        if (pthread_create(&ws[started].thread, NULL, pool_main, &ws[started]) != 0)
            break;
    }
    int rc = 0;
    if (started < threads) {
        /* Workers that did start finish all tasks; account for the missing ones. */
        atomic_fetch_sub(&run.running, threads - started);
        if (started == 0)
            rc = SIFT_EINTERNAL;
    }
    pthread_mutex_lock(&run.mu);
    while (atomic_load(&run.running) > 0) {
        if (tick) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)(tick_ms ? tick_ms : 200) * 1000000u;
            ts.tv_sec += (time_t)(ns / 1000000000u);
            ts.tv_nsec = (long)(ns % 1000000000u);
            if (pthread_cond_timedwait(&run.cv, &run.mu, &ts) == ETIMEDOUT) {
                pthread_mutex_unlock(&run.mu);
                tick(user);
                pthread_mutex_lock(&run.mu);
            }
        } else {
            pthread_cond_wait(&run.cv, &run.mu);
        }
    }
    pthread_mutex_unlock(&run.mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(ws[i].thread, NULL);
    pthread_mutex_destroy(&run.mu);
    pthread_cond_destroy(&run.cv);
    free(ws);
    return rc;
}
