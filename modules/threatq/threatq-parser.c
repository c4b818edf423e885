/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-parser.h"
#include "threatq-grammar.h"

int threatq_parse(CfgLexer *lexer, gpointer *instance, gpointer arg);

static CfgLexerKeyword threatq_keywords[] =
{
  { .kw_name = "threatq", .kw_token = KW_THREATQ },
  { .kw_name = "url", .kw_token = KW_URL },
  { .kw_name = "collection", .kw_token = KW_COLLECTION },
  { .kw_name = "client_id", .kw_token = KW_CLIENT_ID },
  { .kw_name = "client_secret", .kw_token = KW_CLIENT_SECRET },
  { .kw_name = "token_url", .kw_token = KW_TOKEN_URL },
  { .kw_name = "poll_interval", .kw_token = KW_POLL_INTERVAL },
  { .kw_name = "page_size", .kw_token = KW_PAGE_SIZE },
  { .kw_name = "fields", .kw_token = KW_FIELDS },
  { .kw_name = "timeout", .kw_token = KW_TIMEOUT },
  { .kw_name = "proxy", .kw_token = KW_PROXY },
  { .kw_name = "user_agent", .kw_token = KW_USER_AGENT },
  { .kw_name = "tls", .kw_token = KW_TLS },
  { .kw_name = "ca_file", .kw_token = KW_CA_FILE },
  { .kw_name = "ca_dir", .kw_token = KW_CA_DIR },
  { .kw_name = "cert_file", .kw_token = KW_CERT_FILE },
  { .kw_name = "key_file", .kw_token = KW_KEY_FILE },
  { .kw_name = "peer_verify", .kw_token = KW_PEER_VERIFY },
  { .kw_name = "cipher_suite", .kw_token = KW_CIPHER_SUITE },
  { .kw_name = "use_system_cert_store", .kw_token = KW_USE_SYSTEM_CERT_STORE },
  { .kw_name = "preserve_original", .kw_token = KW_PRESERVE_ORIGINAL },
  { .kw_name = "ioc_expiration_duration", .kw_token = KW_IOC_EXPIRATION_DURATION },
  { .kw_name = "feed_name", .kw_token = KW_FEED_NAME },
  { .kw_name = "max_page_size", .kw_token = KW_MAX_PAGE_SIZE },
  /* threatq(): what its threatq-match() set holds (m-feed) */
  { .kw_name = "match_statuses", .kw_token = KW_MATCH_STATUSES },
  { .kw_name = "match_min_score", .kw_token = KW_MATCH_MIN_SCORE },
  { .kw_name = "match_max_size", .kw_token = KW_MATCH_MAX_SIZE },
  { .kw_name = "match_state_file", .kw_token = KW_MATCH_STATE_FILE },
  /* threatq-match() */
  { .kw_name = "threatq_match", .kw_token = KW_THREATQ_MATCH },
  { .kw_name = "parent_domains", .kw_token = KW_PARENT_DOMAINS },
  { .kw_name = "tag", .kw_token = KW_TAG },
  { .kw_name = "hits_field", .kw_token = KW_HITS_FIELD },
  { .kw_name = NULL }
};

/* a threatq() driver or a threatq-match() parser */
static void
_cleanup_driver(gpointer driver)
{
  log_pipe_unref((LogPipe *) driver);
}

CfgParser threatq_parser =
{
#if SYSLOG_NG_ENABLE_DEBUG
  .debug_flag = &threatq_debug,
#endif
  .name = "threatq",
  .keywords = threatq_keywords,
  .parse = (gint (*)(CfgLexer *, gpointer *, gpointer)) threatq_parse,
  .cleanup = _cleanup_driver,
};

CFG_PARSER_IMPLEMENT_LEXER_BINDING(threatq_, THREATQ_, gpointer *)
