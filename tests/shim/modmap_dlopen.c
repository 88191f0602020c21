/* Libraries loaded with dlopen after start-up, each followed by a fork: each fork's trace must
 * name the new module (a module map written again, with its `mod` record), or the analyzer could
 * not symbolize frames in it.  The shim decides whether to rewrite the map at each fork from
 * ld.so's load count, read without the loader's lock where start-up found it
 * (preload/unwind.c); this is what proves it found the right word.  The second library is loaded
 * after the first was closed, so that the count is followed past one change.
 *
 * usage: shim_modmap_dlopen LIBRARY1 LIBRARY2 */
#include <dlfcn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int fork_and_wait(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0)
        _exit(0);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "modmap_dlopen: child failed\n");
        return -1;
    }
    return 0;
}

static int load_and_fork(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "modmap_dlopen: %s\n", dlerror());
        return -1;
    }
    if (fork_and_wait() < 0)
        return -1;
    return dlclose(h) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: shim_modmap_dlopen LIBRARY1 LIBRARY2\n");
        return 2;
    }
    /* A fork before: the module map as at start-up, compared from then on. */
    if (fork_and_wait() < 0 || load_and_fork(argv[1]) < 0 || fork_and_wait() < 0 ||
        load_and_fork(argv[2]) < 0)
        return 1;
    return 0;
}
