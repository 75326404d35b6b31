// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef HOTFOLDER_CINOTIFYTOOLS_SHIM_H
#define HOTFOLDER_CINOTIFYTOOLS_SHIM_H
// inotify.h gives the full struct inotify_event and the IN_* masks; inotifytools.h only forward-declares them.
#include <inotifytools/inotify.h>
#include <inotifytools/inotifytools.h>
#include <stdlib.h>

// Compound macros are not imported into Swift; expose them as constants.
static const unsigned int CIT_IN_ALL_EVENTS = IN_ALL_EVENTS;
static const unsigned int CIT_IN_MOVE = IN_MOVE;
static const unsigned int CIT_IN_CLOSE = IN_CLOSE;

// The event's name is a flexible array member, which Swift does not import.
static inline const char *cit_event_name(const struct inotify_event *event) {
    return event->len > 0 ? event->name : "";
}
#endif
