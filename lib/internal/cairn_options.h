/* options.h — option parsing shared by libcairn and the CLI. Internal. */
#ifndef CAIRN_OPTIONS_H
#define CAIRN_OPTIONS_H

#include <limits.h>

#include "cairn.h"

/* Applies the CAIRN_* variables to *o (they win over what is there). */
void cairn__options_from_env(cairn_options_t *o);
/* 0 if the options are consistent, CAIRN_EINVAL otherwise. */
int cairn__options_check(const cairn_options_t *o);
/* "TERM", "SIGTERM", "15" -> 15; -1 if unknown. */
int cairn__signal_from_name(const char *s);

#endif
