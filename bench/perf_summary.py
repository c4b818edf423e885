#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Summarise a `perf record --call-graph dwarf` profile of syslog-ng running threatq().

usage: perf_summary.py PERF_DATA [--top 25] [--indicators N]

Each sample is charged to one component: the first frame, from the leaf up,
that belongs to a known library or function group.  libc, glib, the dynamic
loader and the kernel are "transparent": a memcpy called by libcurl is HTTP, a
writev() made by the file writer is the destination, an epoll_wait() made by
ivykis is the event loop.  Kernel time is shown separately as well.

Components:
  HTTP (libcurl + socket I/O)          libcurl and what it calls; the module's body buffer
  JSON parsing (yajl)                  libyajl's lexer/parser
  threatq: collect (callbacks)         the module's yajl callbacks filling the indicator
  threatq: map to ECS                  threatq_mapper_map and helpers (dates, URLs, TLP,
                                       the document builder, its arena, sorting the fields)
  threatq: render MESSAGE JSON         threatq_document_render (the JSON writer, fetcher thread)
  message build (log_msg_*/nv_table)   threatq_message_factory_build -> log_msg_set_value,
                                       nv_table
  post/ack/flow control                log_source_post, the ack tracker and bookmarks
  event loop, thread hand-off          ivykis (epoll, timerfd, eventfd), futex wake-ups
  destination (template + file writer) log_writer, log_template, log_proto, affile, writev

A static or inlined helper of the module is charged to its first caller that
belongs to a group.  Symbols perf cannot resolve ([unknown], e.g. inside the
stripped libyajl and libsyslog-ng statics) are charged by library, or to their
caller.  On this VM perf has no hardware counters: the event is cpu-clock, and
a sample that falls while interrupts are disabled is reported where they are
enabled again (hence _raw_spin_unlock_irq at the top of the leaf list: it is
the timer re-arming inside timerfd_settime(), a VM exit here).
"""

import argparse
import collections
import re
import subprocess
import sys

TRANSPARENT_DSO = re.compile(r"(libc\.so|libglib-2\.0|ld-linux|\[vdso\]|libpthread|libm\.so|"
                             r"\[unknown\]|libgthread)")

THREATQ_COLLECT = re.compile(r"^(_on_\w+|_scalar\w*|_indicator_slot\w*|_indicator_key|_container_\w+|"
                             r"_push|_begin_indicator|threatq_indicator_\w+|_run|threatq_mapper_parse_page|"
                             r"_parser_\w+|_shape_error|_accept_page)")
THREATQ_RENDER = re.compile(r"^(threatq_document_render|threatq_document_json|_append_json_string|"
                            r"_append_value|_append_key|_word_needs_escape)")
THREATQ_MAP = re.compile(r"^(threatq_mapper_\w+|threatq_url_parse|_map_\w+|"
                         r"_add_\w+|_parse_\w+|_text\w*|_normalise_tlp|_attribute_field_name|"
                         r"_confidence|_find_type_rule|_quote_value|threatq_document_\w+|_allocate|"
                         r"_field_new|_civil_from_days|_days_from_civil|threatq_arena_\w+|_sort_fields|"
                         r"_place_items|_compare_fields|threatq_field_name_compare|_format_\w+|_to_msec|"
                         r"_is_plain_ascii|threatq_utf8_append_valid)")
THREATQ_HTTP = re.compile(r"^(threatq_client_\w+|_write_body|_read_header|_perform|_request_page|"
                          r"_fetch_token|_check_abort|_setup_common)")
THREATQ_MESSAGE = re.compile(r"^(threatq_message_\w+|_encode_list|_handle|_payload_size|_queue_document)")
THREATQ_POST = re.compile(r"^(_hand_out_pending|threatq_cursor_\w+|_bookmark\w*|ack_tracker_\w+|"
                          r"_fetch|_fetch_page)$")

SNG_MESSAGE = re.compile(r"^(log_msg_(?!ack|drop|refcache)\w+|nv_table_\w+|nv_registry_\w+|"
                         r"scratch_buffers_\w+|str_repr_\w+|log_msg_registry\w*)")
SNG_DEST = re.compile(r"^(log_writer\w*|log_template\w*|log_macro\w*|log_proto\w*|"
                      r"log_transport\w*|result_append\w*|log_queue\w*|log_dest\w*|"
                      r"append_format\w*|format_\w+|_append_\w+)")
SNG_POST = re.compile(r"^(log_source\w*|log_threaded_\w+|ack_tracker\w*|consecutive_ack\w*|"
                      r"bookmark\w*|log_pipe\w*|log_msg_ack\w*|log_msg_refcache\w*|"
                      r"log_msg_drop\w*|stats_\w+|log_src_\w+|_fetch|_on_fetch_\w+|"
                      r"_schedule_next_fetch\w*|window_size\w*|log_multiplexer\w*|"
                      r"log_center\w*|main_loop_\w+)")

ORDER = ["HTTP (libcurl + socket I/O)", "JSON parsing (yajl)", "threatq: collect (callbacks)",
         "threatq: map to ECS", "threatq: render MESSAGE JSON",
         "message build (log_msg_*/nv_table)", "post/ack/flow control (syslog-ng core)",
         "event loop, thread hand-off (ivykis, futex)", "destination (template + file writer)",
         "syslog-ng core, other", "startup/shutdown (dlopen, config)",
         "kernel, unattributed", "libc/glib, unattributed", "other"]


def classify(frames):
    """frames: [(sym, dso)] leaf first -> component name."""
    kernel_syscall = None
    seen_threatq = False
    for sym, dso in frames:
        if "kernel.kallsyms" in dso:
            if kernel_syscall is None:
                m = re.match(r"^__(?:x64|se)_sys_(\w+)", sym)
                if m:
                    kernel_syscall = m.group(1)
            continue
        if TRANSPARENT_DSO.search(dso):
            if sym.startswith(("_dl_", "dl_main", "_dl_start", "dlopen", "g_module_open")):
                return "startup/shutdown (dlopen, config)"
            continue
        if re.search(r"libcurl|libnghttp2|libssl|libcrypto|libz\.so|libbrotli|libidn|libpsl|"
                     r"libssh|librtmp|libgssapi|libkrb|libldap|libzstd", dso):
            return "HTTP (libcurl + socket I/O)"
        if "libyajl" in dso:
            return "JSON parsing (yajl)"
        if "libivykis" in dso:
            return "event loop, thread hand-off (ivykis, futex)"
        if "libaffile" in dso:
            return "destination (template + file writer)"
        if "libthreatq" in dso:
            for rx, name in ((THREATQ_HTTP, "HTTP (libcurl + socket I/O)"),
                             (THREATQ_COLLECT, "threatq: collect (callbacks)"),
                             (THREATQ_RENDER, "threatq: render MESSAGE JSON"),
                             (THREATQ_MAP, "threatq: map to ECS"),
                             (THREATQ_MESSAGE, "message build (log_msg_*/nv_table)"),
                             (THREATQ_POST, "post/ack/flow control (syslog-ng core)")):
                if rx.match(sym):
                    return name
            if sym in ("threatq_sd_new", "threatq_parse", "threatq_lex") or "grammar" in sym:
                return "startup/shutdown (dlopen, config)"
            seen_threatq = True
            continue   # a helper (inlined or static): its caller says what it is for
        if "libsyslog-ng" in dso or dso.endswith("/syslog-ng") or "/sbin/" in dso:
            if SNG_MESSAGE.match(sym):
                return "message build (log_msg_*/nv_table)"
            if SNG_DEST.match(sym):
                return "destination (template + file writer)"
            if SNG_POST.match(sym):
                return "post/ack/flow control (syslog-ng core)"
            if re.match(r"^(cfg_|plugin_|main_loop_init|app_startup|_main_loop_|"
                        r"main_loop_read_and_init_config|cfg_lexer|yy|main_?\w*$)", sym):
                return "startup/shutdown (dlopen, config)"
            continue   # unknown syslog-ng helper: look further up
        if dso.endswith(".so") or ".so." in dso:
            if "libjson" in dso or "syslogformat" in dso or "basicfuncs" in dso:
                return "destination (template + file writer)"
            return "startup/shutdown (dlopen, config)" if "libmod" in dso else "other"
    if seen_threatq:
        return "post/ack/flow control (syslog-ng core)"
    if frames and "kernel.kallsyms" in frames[0][1]:
        if kernel_syscall in ("epoll_wait", "epoll_pwait", "futex", "timerfd_settime",
                              "epoll_ctl", "eventfd2"):
            return "event loop, thread hand-off (ivykis, futex)"
        if kernel_syscall in ("recvfrom", "sendto", "poll", "ppoll", "connect", "socket"):
            return "HTTP (libcurl + socket I/O)"
        if kernel_syscall in ("writev", "write", "pwrite64"):
            return "destination (template + file writer)"
        return "kernel, unattributed"
    if frames and TRANSPARENT_DSO.search(frames[0][1]):
        return "libc/glib, unattributed"
    return "other"


def samples(perf_data):
    p = subprocess.run(["perf", "script", "-i", perf_data, "-F", "comm,tid,period,ip,sym,dso"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                       errors="replace", check=True)
    tid = None
    frames = []
    for line in p.stdout.split("\n"):
        if not line.strip():
            if tid is not None:
                yield tid, _resolve_inlined(frames)
            tid, frames = None, []
            continue
        if not line.startswith(("\t", " ")) or tid is None and not line.startswith("\t"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit() and tid is None and not line.startswith("\t"):
                tid = int(parts[1])
                continue
        m = re.match(r"^\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$", line)
        if m and tid is not None:
            sym = re.sub(r"\+0x[0-9a-f]+$", "", m.group(1))
            frames.append((sym, m.group(2)))
    if tid is not None:
        yield tid, _resolve_inlined(frames)


def _resolve_inlined(frames):
    """An inlined frame is listed before the real function at the same address: give it
    that function's library."""
    out = []
    real = "?"
    for sym, dso in reversed(frames):
        if dso == "inlined":
            dso = real
        else:
            real = dso
        out.append((sym, dso))
    out.reverse()
    return out


# inclusive shares of the busiest thread: samples with the function anywhere on the stack
INCLUSIVE = [
    ("__x64_sys_timerfd_settime", "timerfd_settime() (ivykis re-arming its timer each loop)"),
    ("__x64_sys_epoll_wait", "epoll_wait()"),
    ("__x64_sys_futex", "futex() (mutex/condvar hand-off between threads)"),
    ("curl_easy_perform", "curl_easy_perform (HTTP, all of it)"),
    ("threatq_mapper_parse_page", "threatq_mapper_parse_page (yajl + callbacks + mapping)"),
    ("threatq_mapper_map", "threatq_mapper_map (ECS mapping, document in the page arena)"),
    ("threatq_message_factory_build", "threatq_message_factory_build (MESSAGE + every field)"),
    ("log_msg_get_value_handle", "  of it log_msg_get_value_handle (name -> handle, locked)"),
    ("nv_table_realloc", "  of it nv_table_realloc (the message outgrowing its first size)"),
    ("log_source_post", "log_source_post (post, queue, flow control)"),
    ("ack_tracker_request_bookmark", "bookmark per message (ack tracker)"),
]


def role(comps):
    """What a thread is, from the component it spends most on."""
    first = comps.most_common(1)[0][0] if comps else ""
    if first in ("JSON parsing (yajl)", "threatq: collect (callbacks)", "threatq: map to ECS",
                 "HTTP (libcurl + socket I/O)"):
        return "threatq-reader: HTTP, parsing, mapping"
    if first in ("message build (log_msg_*/nv_table)", "threatq: render MESSAGE JSON",
                 "post/ack/flow control (syslog-ng core)"):
        return "fetcher: MESSAGE, name-value pairs, posting"
    if first == "destination (template + file writer)":
        return "destination writer"
    return "main loop"


def summarise(perf_data, top=0, out=sys.stdout, n=0):
    """Print the summary; n: indicators of the run (for the per-indicator figures)."""
    by_comp = collections.Counter()
    by_comp_kernel = collections.Counter()
    by_tid = collections.Counter()
    by_tid_comp = collections.defaultdict(collections.Counter)
    leaf = collections.Counter()
    total = 0
    inclusive = collections.defaultdict(collections.Counter)
    for tid, frames in samples(perf_data):
        comp = classify(frames)
        names = {sym for sym, _ in frames}
        for fn, _ in INCLUSIVE:
            if fn in names:
                inclusive[tid][fn] += 1
        total += 1
        by_comp[comp] += 1
        by_tid[tid] += 1
        by_tid_comp[tid][comp] += 1
        if frames and "kernel.kallsyms" in frames[0][1]:
            by_comp_kernel[comp] += 1
        if frames:
            leaf[(frames[0][0], frames[0][1].rsplit("/", 1)[-1])] += 1
    if not total:
        print("no samples", file=out)
        return {}
    print("%d samples of syslog-ng (cpu-clock, ~1 ms each), all threads:" % total, file=out)
    print("  %-46s %7s %14s" % ("component", "share", "(of it kernel)"), file=out)
    for comp in ORDER:
        if by_comp[comp]:
            print("  %-46s %6.1f%% %13.1f%%" % (comp, 100.0 * by_comp[comp] / total,
                                                100.0 * by_comp_kernel[comp] / total), file=out)
    # threads: name them by what they mostly do
    print("threads:", file=out)
    for tid, count in by_tid.most_common(6):
        main_comps = ", ".join("%s %.0f%%" % (c, 100.0 * k / count)
                               for c, k in by_tid_comp[tid].most_common(3))
        print("  tid %-7d %5.1f%% of samples (~%.2f s CPU) [%s]: %s"
              % (tid, 100.0 * count / total, count / 997.0, role(by_tid_comp[tid]), main_comps), file=out)
    busiest, count = by_tid.most_common(1)[0]
    per = (" = %s us per indicator" if n else "%s")
    print("the busiest thread (tid %d, %s: the critical path), by component:"
          % (busiest, role(by_tid_comp[busiest])), file=out)
    for comp, k in by_tid_comp[busiest].most_common():
        if 100.0 * k / count >= 0.5:
            print("  %-46s %6.1f%%%s" % (comp, 100.0 * k / count,
                                        (per % ("%.2f" % (k / 997.0 / n * 1e6))) if n else ""),
                  file=out)
    print("the busiest thread, inclusive (the function anywhere on the stack):", file=out)
    for fn, label in INCLUSIVE:
        k = inclusive[busiest][fn]
        if k:
            print("  %-66s %5.1f%%" % (label, 100.0 * k / count), file=out)
    if top:
        print("top %d leaf functions (self):" % top, file=out)
        for (sym, dso), count in leaf.most_common(top):
            print("  %5.1f%%  %-45s %s" % (100.0 * count / total, sym[:45], dso), file=out)
    return {c: 100.0 * k / total for c, k in by_comp.items()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("perf_data")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--indicators", type=int, default=0, help="N of the run: adds us/indicator")
    a = p.parse_args()
    summarise(a.perf_data, a.top, n=a.indicators)


if __name__ == "__main__":
    main()
