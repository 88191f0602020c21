/* forksan case: control, recursive divide and conquer: each child forks deeper in the stack than the fork that made it
 * expect: none
 */

/*
 * sum(lo, hi) forks a child for the left half and recurses on the right half itself, three levels
 * deep; each child returns its partial sum as its exit status and ends with _exit.  A child does
 * fork from the same line as its parent did, but one recursion level deeper: a different stack,
 * which is how forksan tells recursion from a child that fell back into its parent's loop.
 */
#include "case_util.h"

static int sum(int lo, int hi, int depth)
{
    if (depth == 0 || hi - lo < 2) {
        int s = 0;
        for (int i = lo; i < hi; i++)
            s += i;
        return s;
    }
    int mid = (lo + hi) / 2;
    pid_t pid = fork();
    if (pid < 0)
        case_die(__FILE__, __LINE__, "fork", errno);
    if (pid == 0)
        _exit(sum(lo, mid, depth - 1) & 0x7f);
    int right = sum(mid, hi, depth - 1);
    int status = case_reap_child(pid);
    CASE_TRUE(WIFEXITED(status));
    return right + WEXITSTATUS(status);
}

int main(void)
{
    case_watchdog();
    /* 0..15 in leaves of two: every partial sum stays below 128. */
    CASE_TRUE(sum(0, 16, 3) == 120);
    return 0;
}
