#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Everything building, the demo and the tests need, from Debian 12's archive.
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential autoconf automake libtool pkg-config bison flex python3 \
  syslog-ng-core syslog-ng-dev libglib2.0-dev libivykis-dev \
  libcurl4-openssl-dev libssl-dev libyajl-dev libjson-c-dev \
  libcriterion-dev python3-pytest curl ca-certificates openssl procps \
  syslog-ng-scl syslog-ng-mod-http syslog-ng-mod-sql libdbd-pgsql postgresql postgresql-client \
  debhelper dpkg-dev fakeroot mmdebstrap \
  syslog-ng-mod-python syslog-ng-mod-rdkafka syslog-ng-mod-add-contextual-data \
  clang libclang-rt-14-dev valgrind >/dev/null
