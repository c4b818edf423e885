/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef THREATQ_SOURCE_H_INCLUDED
#define THREATQ_SOURCE_H_INCLUDED

#include "driver.h"

LogDriver *threatq_sd_new(GlobalConfig *cfg);
/* is this pipe (a driver of a source statement) a threatq() source driver; for threatq-match()'s source() check */
gboolean threatq_sd_is_threatq(LogPipe *s);

/* The name of the first required option that was not given, or NULL. */
const gchar *threatq_sd_missing_required_option(LogDriver *s);

gboolean threatq_sd_set_url(LogDriver *s, const gchar *url, GError **error);
gboolean threatq_sd_set_token_url(LogDriver *s, const gchar *url, GError **error);
void threatq_sd_set_collection(LogDriver *s, const gchar *collection);
void threatq_sd_set_client_id(LogDriver *s, const gchar *client_id);
void threatq_sd_set_client_secret(LogDriver *s, const gchar *client_secret);
void threatq_sd_set_poll_interval(LogDriver *s, gdouble seconds);
void threatq_sd_set_page_size(LogDriver *s, gint page_size);
void threatq_sd_set_fields(LogDriver *s, const gchar *fields);
void threatq_sd_set_timeout(LogDriver *s, gint seconds);
void threatq_sd_set_max_page_size(LogDriver *s, gsize bytes);
void threatq_sd_set_proxy(LogDriver *s, const gchar *proxy);
void threatq_sd_set_user_agent(LogDriver *s, const gchar *user_agent);
void threatq_sd_set_preserve_original(LogDriver *s, gboolean preserve_original);
void threatq_sd_set_ioc_expiration(LogDriver *s, gint64 seconds);
void threatq_sd_set_feed_name(LogDriver *s, const gchar *feed_name);
void threatq_sd_set_ca_file(LogDriver *s, const gchar *path);
void threatq_sd_set_ca_dir(LogDriver *s, const gchar *path);
void threatq_sd_set_cert_file(LogDriver *s, const gchar *path);
void threatq_sd_set_key_file(LogDriver *s, const gchar *path);
void threatq_sd_set_peer_verify(LogDriver *s, gboolean peer_verify);
void threatq_sd_set_cipher_suite(LogDriver *s, const gchar *cipher_suite);
void threatq_sd_set_use_system_cert_store(LogDriver *s, gboolean use_system_cert_store);

/* threatq-match(): what the set this source feeds holds (threatq-match-source.h) */
gboolean threatq_sd_set_match_statuses(LogDriver *s, GList *statuses, GError **error);
void threatq_sd_set_match_min_score(LogDriver *s, gdouble min_score);
void threatq_sd_set_match_max_size(LogDriver *s, gsize max_size);
void threatq_sd_set_match_state_file(LogDriver *s, const gchar *path);

#endif
