/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-parser.h"
#include "plugin.h"
#include "plugin-types.h"

#include <curl/curl.h>
#include <gmodule.h>

static Plugin threatq_plugins[] =
{
  {
    .type = LL_CONTEXT_SOURCE,
    .name = "threatq",
    .parser = &threatq_parser,
  },
  {
    .type = LL_CONTEXT_PARSER,
    .name = "threatq-match",
    .parser = &threatq_parser,
  },
};

G_MODULE_EXPORT gboolean
threatq_module_init(PluginContext *context, CfgArgs *args)
{
  /* not thread-safe, so here in the main thread rather than lazily in a fetcher */
  curl_global_init(CURL_GLOBAL_ALL);
  plugin_register(context, threatq_plugins, G_N_ELEMENTS(threatq_plugins));
  return TRUE;
}

G_MODULE_EXPORT const ModuleInfo module_info =
{
  .canonical_name = "threatq",
  .version = SYSLOG_NG_VERSION,
  .description = "threatq(): pulls ThreatQuotient threat-intelligence indicators as ECS documents; "
                 "threatq-match(): tags log messages whose fields hold one of them",
  .core_revision = SYSLOG_NG_SOURCE_REVISION,
  .plugins = threatq_plugins,
  .plugins_len = G_N_ELEMENTS(threatq_plugins),
};
