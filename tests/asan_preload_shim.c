/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Preloaded next to gcc's libasan.so into the (uninstrumented) syslog-ng by
 * tests/sanitizers.sh.  Not part of the module.
 *
 * Why: with libasan in LD_PRELOAD, libgpg-error's constructor runs before
 * libasan's, calls bindtextdomain(), which holds glibc's _nl_state_lock for
 * writing and mallocs; that first malloc initializes ASan, whose init does
 * dlsym(RTLD_DEFAULT, "swift_demangle") and, when that fails, dlerror() ->
 * dcgettext(), taking the same lock for reading from inside the write-locked
 * region.  The lock's state is corrupted and the next bindtextdomain() (the
 * gnutls constructor when syslog-ng dlopens its http module) blocks forever.
 * Defining swift_demangle makes that dlsym() succeed, so no dlerror() happens.
 * ASan only calls it for names starting with "_T" (Swift); NULL means "not
 * Swift", and it falls back to the C++ demangler.
 */
#include <stddef.h>

char *swift_demangle(const char *mangled, size_t length, char *out, size_t *out_length, unsigned flags);

char *
swift_demangle(const char *mangled, size_t length, char *out, size_t *out_length, unsigned flags)
{
  return NULL;
}
