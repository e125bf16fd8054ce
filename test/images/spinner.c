/* A busy process for a tool-less target: it burns CPU for argv[1] seconds
 * (default 10), then exits, so pidstat and the cgroup's CPU counters have
 * something to see, and nothing outlives the test by more than that. */
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	long seconds = argc > 1 ? strtol(argv[1], NULL, 10) : 10;
	time_t end = time(NULL) + (seconds > 0 && seconds < 3600 ? seconds : 10);
	volatile unsigned long n = 0;

	while (time(NULL) < end)
		for (int i = 0; i < 1000000; i++)
			n++;
	return 0;
}
