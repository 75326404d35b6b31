// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef HOTFOLDER_CINOTIFYTOOLS_SHIM_H
#define HOTFOLDER_CINOTIFYTOOLS_SHIM_H
// inotify.h gives the full struct inotify_event and the IN_* masks; inotifytools.h only forward-declares them.
#include <inotifytools/inotify.h>
#include <inotifytools/inotifytools.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>

// Compound macros are not imported into Swift; expose them as constants.
static const unsigned int CIT_IN_ALL_EVENTS = IN_ALL_EVENTS;
static const unsigned int CIT_IN_MOVE = IN_MOVE;
static const unsigned int CIT_IN_CLOSE = IN_CLOSE;

// The event's name is a flexible array member, which Swift does not import.
static inline const char *cit_event_name(const struct inotify_event *event) {
    return event->len > 0 ? event->name : "";
}

// statfs is not exported by Swift's Glibc module; returns the file system magic, or 0 on error.
static inline unsigned long cit_fs_magic(const char *path) {
    struct statfs sfs;
    if (statfs(path, &sfs) != 0) return 0;
    return (unsigned long)sfs.f_type & 0xFFFFFFFFul;
}

// Whether path names a directory, following symlinks (used only for the inbox root itself).
static inline int cit_is_directory(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
#endif
