/* capsift: a worker pool for tasks with mergeable partial results.
 *
 * sift_pool_run runs fn(user, task, worker) for task = 0 .. ntasks-1 on `threads` workers
 * and returns when all are done. Tasks are handed out in order, one at a time, so a slow task
 * never holds back the others; each worker has a number (0 .. threads-1) so it can keep its
 * own partial state, to be merged by the caller afterwards. While waiting, the calling thread
 * runs tick(user) about every tick_ms milliseconds (for progress reports) when tick is given.
 *
 * Independent of captures: usable by any C program that splits work into tasks.
 */
#ifndef CAPSIFT_POOL_H
#define CAPSIFT_POOL_H

#include <capsift/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*sift_task_fn)(void *user, size_t task, unsigned worker);
typedef void (*sift_tick_fn)(void *user);

/* The number of online processors (at least 1). */
SIFT_API unsigned sift_ncpu(void);

/* Returns 0, or SIFT_ENOMEM / SIFT_EINTERNAL when threads could not be started (then no task
 * has run). threads 0 means sift_ncpu(); it is capped at ntasks. */
SIFT_API int sift_pool_run(unsigned threads, size_t ntasks, sift_task_fn fn, void *user,
                           sift_tick_fn tick, unsigned tick_ms);

#ifdef __cplusplus
}
#endif
#endif
