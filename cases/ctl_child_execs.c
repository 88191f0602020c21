/* forksan case: control, output pending at fork but the child execs at once, which discards its copy
 * expect: none
 */

/*
 * The greeting is still buffered when main forks, but the child replaces its image with /bin/true
 * straight away: its copy of the buffer is gone with the image, so only the parent writes the line.
 */
#include "case_util.h"

int main(void)
{
    case_watchdog();
    printf("running /bin/true\n");
    pid_t pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    CASE_TRUE(case_reap_child(pid) == 0);
    return 0;
}
