/* forksan case: control, descriptors put in place on purpose before exec (dup2, posix_spawn file actions, close-on-exec cleared in the child) and the rest close-on-exec
 * expect: none
 */

/*
 * The pipe is made with O_CLOEXEC.  The forked child dup2()s its read end onto fd 5 for the program
 * it runs, and a posix_spawn gets the write end on fd 6 through a dup2 file action: both are the
 * program's own decision.  A second forked child clears close-on-exec on the write end itself
 * (fcntl F_SETFD), which is how a program hands one descriptor to the program it execs without
 * moving it.  Nothing else crosses the execs.
 */
#include "case_util.h"

#include <fcntl.h>
#include <spawn.h>

extern char **environ;

int main(void)
{
    int p[2];

    case_watchdog();
    CASE_SYS(pipe2(p, O_CLOEXEC));
    pid_t pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        if (dup2(p[0], 5) < 0)
            _exit(2);
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    CASE_TRUE(case_reap_child(pid) == 0);

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        if (fcntl(p[1], F_SETFD, 0) < 0)
            _exit(2);
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    CASE_TRUE(case_reap_child(pid) == 0);

    posix_spawn_file_actions_t fa;
    CASE_OK(posix_spawn_file_actions_init(&fa));
    CASE_OK(posix_spawn_file_actions_adddup2(&fa, p[1], 6));
    char *argv[] = {"true", NULL};
    pid_t spawned;
    CASE_OK(posix_spawn(&spawned, "/bin/true", &fa, NULL, argv, environ));
    CASE_OK(posix_spawn_file_actions_destroy(&fa));
    CASE_TRUE(case_reap_child(spawned) == 0);
    return 0;
}
