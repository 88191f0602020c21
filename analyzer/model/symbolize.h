/* Offline symbolization with elfutils libdwfl: recorded addresses plus a recorded module map in,
 * frames with function, file:line and inlined frames out.  No process needs to be alive. */
#ifndef FORKSAN_SYMBOLIZE_H
#define FORKSAN_SYMBOLIZE_H

#include "finding.h"
#include "model.h"

struct fs_symbolizer;

struct fs_symbolizer *fs_symbolizer_new(void);
void fs_symbolizer_free(struct fs_symbolizer *sym);

/* Appends to `out` one frame per recorded address, preceded by the frames inlined at that
 * address (innermost first).  Every address is treated as a return address (looked up at pc-1),
 * as the shim records only return addresses.  Addresses outside every module, modules whose file
 * is missing or has another build-id, and modules without debug info still produce a frame with
 * what is known; each such problem is reported once through diag.h. */
void fs_symbolize(struct fs_symbolizer *sym, const struct fs_modmap *mods, const uint64_t *pcs,
                  size_t n, struct fs_stack *out);

#endif
