/* SPDX-License-Identifier: MIT */
/* xxh3.c — the one copy of XXH3 in libcairn (see internal/cairn_xxh3.h). */
#define XXH_IMPLEMENTATION
#include "cairn_xxh3.h"
