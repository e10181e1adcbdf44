/* workloads.h - the workload families. Adding a family: one .c file here,
 * one line below, one line in wl_register_all (workloads.c), one line in
 * CMakeLists.txt, one section in docs/families.md (docs/cases.md is
 * generated). */
#ifndef PYMB_WORKLOADS_H
#define PYMB_WORKLOADS_H

int wl_refcount_register(void);
int wl_gc_register(void);
int wl_lifetime_register(void);
int wl_lifetime_real_register(void);
int wl_alloc_register(void);
int wl_buffers_register(void);
int wl_containers_register(void);
int wl_bindings_register(void);
/* Stress tests only (pymembench --stress), never benchmarks. */
int wl_threads_register(void);
/* Planted faults for the tests; registers nothing unless PYMB_SELFTEST=1. */
int wl_selftest_register(void);

/* Register every benchmark family (and selftest when PYMB_SELFTEST=1);
 * 0 or -1 (the reason is on stderr). */
int wl_register_all(void);
/* Register the stress-only families, after wl_register_all. */
int wl_register_stress(void);

#endif /* PYMB_WORKLOADS_H */
