/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef THREATQ_PARSER_H_INCLUDED
#define THREATQ_PARSER_H_INCLUDED

#include "cfg-parser.h"
#include "driver.h"

extern CfgParser threatq_parser;

CFG_PARSER_DECLARE_LEXER_BINDING(threatq_, THREATQ_, gpointer *)

#endif
