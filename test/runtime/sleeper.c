/* A distroless-style target: the only binary of a runc container. It
 * sleeps, and lets the kernel reap any child it inherits. */
#include <signal.h>
#include <unistd.h>

int main(void)
{
	signal(SIGCHLD, SIG_IGN);
	for (;;)
		pause();
}
