/* Reading a trace file back into records.  Used by the analyzer and the tests only (it allocates).
 *
 * Damage is reported, never fatal for the rest of the file: a line that does not parse is
 * counted and skipped, a missing final newline marks the file truncated and drops that last
 * partial record.  Only an unreadable file or a wrong magic/version makes the file unusable. */
#ifndef FORKSAN_TRACE_READ_H
#define FORKSAN_TRACE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fs_field {
    char *key;
    char *value; /* unescaped */
};

struct fs_record {
    char *tag;
    struct fs_field *fields;
    size_t nfields;
    unsigned line; /* 1-based line number in the file */
};

struct fs_trace_file {
    char *path;
    int version;
    struct fs_record *recs;
    size_t nrecs;
    unsigned bad_lines;      /* lines skipped because they did not parse */
    unsigned first_bad_line; /* 0 when none */
    bool truncated;          /* the file ended inside a record */
    bool ends_expected;      /* the header says the writer ends the file with an `end` record */
    bool ended;              /* the last record is `end` or `exec`: the image ended normally */
    char error[256];         /* why the file is unusable, when fs_trace_read fails */
    char *text;              /* owns the strings the records point into */
};

/* 0 when the file could be read (it may still be damaged: check bad_lines and truncated),
 * -1 when it is unusable, with the reason in file->error. */
int fs_trace_read(const char *path, struct fs_trace_file *file);
/* Same, from memory (tests, fuzzing).  The text is copied. */
int fs_trace_parse(const char *text, size_t len, const char *name, struct fs_trace_file *file);
void fs_trace_release(struct fs_trace_file *file);

/* Field accessors: NULL / -1 when the key is missing or does not parse. */
const char *fs_rec_str(const struct fs_record *rec, const char *key);
int fs_rec_dec(const struct fs_record *rec, const char *key, int64_t *out);
int fs_rec_hex(const struct fs_record *rec, const char *key, uint64_t *out);
/* A comma-separated hex list; *out is malloc'd (NULL when empty).  Returns the count or -1. */
long fs_rec_hexlist(const struct fs_record *rec, const char *key, uint64_t **out);

#endif
