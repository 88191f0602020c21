/* forksan case: control, a line-buffered stdout and an unbuffered stderr, each line ending in a newline, have nothing pending at fork
 * expect: none
 */

/*
 * setvbuf(_IOLBF) makes stdout write each line as it ends, as it is on a terminal; stderr is
 * unbuffered.  At fork nothing is pending, so nothing can be written twice.  The child ends with
 * exit(): it inherited no handler and no pending output, so that is harmless here.
 */
#include "case_util.h"

int main(void)
{
    case_watchdog();
    CASE_TRUE(setvbuf(stdout, NULL, _IOLBF, 0) == 0);
    printf("a whole line\n");
    fprintf(stderr, "a line on stderr\n");
    pid_t pid = fork();
    CASE_SYS(pid);
    if (pid == 0)
        exit(0);
    CASE_TRUE(case_reap_child(pid) == 0);
    return 0;
}
