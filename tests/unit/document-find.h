/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * For the tests and the fuzz harness only: a field of a finished document by
 * name.  The module never looks a field up by name (the message factory walks
 * the fields in order), so this lives with the tests.
 */
#ifndef THREATQ_TEST_DOCUMENT_FIND_H_INCLUDED
#define THREATQ_TEST_DOCUMENT_FIND_H_INCLUDED

#include <string.h>

#include "threatq-document.h"

static inline const ThreatqField *
threatq_document_find(const ThreatqDocument *self, const gchar *name)
{
  for (guint i = 0; i < self->field_count; i++)
    if (strcmp(self->fields[i].name, name) == 0)
      return &self->fields[i];
  return NULL;
}

#endif
