/* The pod sandbox of hack/node's containers: holds the pod's namespaces,
 * reaps what it inherits, and exits on the kubelet's TERM. Also a tool-less
 * application container (nothing in its image but this program). */
#include <signal.h>
#include <unistd.h>

static void stop(int sig)
{
	(void)sig;
	_exit(0);
}

int main(void)
{
	signal(SIGCHLD, SIG_IGN);
	signal(SIGTERM, stop);
	signal(SIGINT, stop);
	for (;;)
		pause();
}
