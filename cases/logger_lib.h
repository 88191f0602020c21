/*
 * Helper library of the deadlock_logger.c case, not a case itself: a small asynchronous logger of
 * the common kind, with a background thread that flushes a buffer guarded by one internal mutex.
 * Built as libcase_logger.so, so that the child's deadlock happens inside a library the program
 * only calls.  Every function returns 0, or -1 on an error.
 */
#ifndef FS_CASE_LOGGER_LIB_H
#define FS_CASE_LOGGER_LIB_H

/* Starts the flusher thread, which writes logged lines to fd. */
int log_open(int fd);
/* Appends one line to the buffer and wakes the flusher; takes the logger's mutex. */
int log_write(const char *msg);
/* The flusher thread's tid once it runs, else 0 (the case watches that thread through /proc). */
int log_flusher_tid(void);
/* Flushes what is left, stops the flusher and joins it. */
int log_close(void);

#endif
