#ifndef CBLAS_SHIM_H
#define CBLAS_SHIM_H
#include <cblas.h>
/* OpenBLAS thread control, declared in cblas.h (openblas_config.h) on Debian's OpenBLAS. */
static inline void cblas_shim_set_threads(int n) { openblas_set_num_threads(n); }
static inline int cblas_shim_get_threads(void) { return openblas_get_num_threads(); }
/* OpenBLAS starts its worker threads when it is loaded and lets them spin (sched_yield) for a
   while before they sleep. blas_thread_shutdown_ (exported by OpenBLAS, used by its own fork
   handler; not declared in its headers) stops them; the next threaded call starts them again. */
extern int blas_thread_shutdown_(void);
static inline void cblas_shim_stop_workers(void) { (void)blas_thread_shutdown_(); }
#endif
