/* The second definition of dl_peer_hook, in a module after dl_peer.c's (see dl_exact.c). */
int dl_peer_hook(void)
{
    return 2;
}
