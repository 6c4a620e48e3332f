/*
 * tapstack.h - the one header a program that embeds the library includes.
 *
 * Installed as <tapstack/tapstack.h> (mk/install.mk; link with `pkg-config --cflags --libs
 * tapstack`). It brings the stack instance and its loop (stack.h), the ts_* socket calls
 * (socket/socket.h), the blocking facade (blocking.h), the TAP driver and the capture
 * wrapper. Every function it declares starts with ts_ or tapstack_ and is callable from C++.
 * docs/library.md walks through the smallest program.
 *
 * It sits in a folder of its own so that the same line, #include <tapstack/tapstack.h>, works
 * in the tree (with -I stack) and against the installed copy (with -I PREFIX/include).
 */
#ifndef TAPSTACK_TAPSTACK_H
#define TAPSTACK_TAPSTACK_H

#include "blocking.h"
#include "core/api.h"
#include "drivers/pcap.h"
#include "drivers/tap.h"
#include "stack.h"

#endif
