/* registry.h - the engine's own view of a registered row (cases.h is what
 * families and drivers see). Shared by registry.c, which fills the table,
 * and cases.c, which runs one row through a case's lifecycle. */
#ifndef PYMB_REGISTRY_H
#define PYMB_REGISTRY_H

#include "cases.h"

typedef struct pmb_reg {
    const pmb_case *c;
    const char *family; /* static, from the family's register call */
    int64_t param;
    int hook;         /* the hook counts during this case's runs */
    int hook_per_run; /* install it around each run (PMB_HOOK_BOTH) */
    char name[160];   /* family/case[/param][/memhook:on|off] */
    char crashed[96]; /* why it is not run (pmb_mark_crashed), or "" */
} pmb_reg;

/* Row i (i < pmb_nrows()). Its size is part of the heap every case starts
 * from (instruction counts see malloc's state): keep it as it is. */
const pmb_reg *pmb_reg_at(size_t i);
/* The name Google Benchmark reports for r (see pmb_row_full_name); valid
 * until the next call. */
const char *pmb_reg_full_name(const pmb_reg *r);
/* The lifecycle of one row (cases.c): the Google Benchmark function of
 * every row, and what pmb_run_row drives by hand. ctx is a pmb_reg. */
void pmb_case_run(gbs_state *st, void *ctx);

#endif /* PYMB_REGISTRY_H */
