/*
 * The policies util/sandbox.c adds by itself: the groups QEMU's -sandbox
 * sub-options allow, and what the sanitizer runtime needs.
 */
#ifndef UTIL_SANDBOX_INTERNAL_H
#define UTIL_SANDBOX_INTERNAL_H

#include "qemu-remote/sandbox.h"

extern const SandboxPolicy sandbox_obsolete_policy;         /* obsolete=allow */
extern const SandboxPolicy sandbox_elevate_policy;  /* elevateprivileges=allow */
extern const SandboxPolicy sandbox_spawn_policy;            /* spawn=allow */
extern const SandboxPolicy sandbox_resourcecontrol_policy;
/* ASan/UBSan/LSan builds only; rules NULL in other builds. */
extern const SandboxPolicy sandbox_sanitizer_policy;

#endif
