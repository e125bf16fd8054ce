/*
 * proctime: whole-process wall time of several commands, paired and
 * interleaved.
 *
 *   proctime [-r ROUNDS] [-w WARMUP] [-s SEED] [-b NAME]... [-t FILE] \
 *            :: NAME ARGV... [:: NAME ARGV...]...
 *
 * Each round runs every command once, in an order shuffled anew for the
 * round, so that a drift of the machine's load falls on all of them alike.
 * A sample is CLOCK_MONOTONIC from before fork to after waitpid: the
 * harness's own fork is in every sample, and nothing else of it is (no shell,
 * no clock read by another process). stdin, stdout and stderr are /dev/null.
 * A command that exits non-zero or is killed ends the measurement with an
 * error naming it: a failed run is never a sample.
 *
 * The commands are separated by `::` (not `--`, which the commands measured
 * here carry themselves). For each baseline (-b, repeatable) every other
 * command also gets the median of its per-round ratios to the baseline with
 * a distribution-free 95% interval: the order statistics of the ratios that
 * the binomial distribution puts around their median.
 *
 * The interval needs 6 rounds or more (below, its ends are NAN).
 *
 * -i: the sample is the command's own report instead, the last line
 * `walltime_us N` it writes on stderr (a timer inside it, around the part
 * that is measured); a run without one ends the measurement with an error.
 *
 * -r rounds kept (default 20), -w rounds run first and dropped (default 0),
 * -s the shuffle's seed (printed, so that a run's orders can be repeated).
 * stdout: a markdown table, times in ms. -t FILE: the same as tab-separated
 * lines, `time NAME MEDIAN P10 P90 MEAN` and `ratio NAME BASELINE MEDIAN LO HI`.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_COMMANDS 32
#define MAX_BASELINES 8
#define MAX_ROUNDS 100000

struct command {
	const char *name;
	char **argv;
	double *ms; /* one sample per round */
};

struct options {
	long rounds, warmup;
	uint64_t seed;
	const char *baselines[MAX_BASELINES];
	int n_baselines;
	const char *tsv_path;
	int inner; /* -i: the command's own walltime_us line is the sample */
	struct command commands[MAX_COMMANDS];
	int n_commands;
};

/* SIGINT, SIGTERM or SIGHUP: the run in progress is reaped, then the
 * measurement ends (a run is never left behind unwaited). */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static int catch_stop_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal}; /* no SA_RESTART: waitpid sees EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		return -errno;
	return 0;
}

/* Descriptors every child gets: /dev/null for its stdio (stderr: capture,
 * when not -1), and the harness's own stderr (close-on-exec) to say why an
 * exec failed. */
struct stdio_fds {
	int devnull, report, capture;
};

static void usage(void)
{
	fprintf(stderr, "usage: proctime [-r ROUNDS] [-w WARMUP] [-s SEED] [-b NAME]... [-t FILE] [-i] "
			":: NAME ARGV... [:: NAME ARGV...]...\n");
}

static int parse_count(const char *s, long max, long *ret)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* The commands: `:: NAME ARGV...` each, the next `::` (made NULL here) or
 * the end of the arguments ending the argv before it. */
static int parse_commands(int argc, char **argv, struct options *o)
{
	if (argc == 0 || strcmp(argv[0], "::")) {
		fprintf(stderr, "proctime: no command (they start with `::`)\n");
		return -EINVAL;
	}
	for (int at = 0; at < argc;) {
		int first = at + 1, end = first;
		while (end < argc && strcmp(argv[end], "::"))
			end++;
		if (end - first < 2) {
			fprintf(stderr, "proctime: command %d has no name or no argv (`:: NAME ARGV...`)\n",
				o->n_commands + 1);
			return -EINVAL;
		}
		if (o->n_commands == MAX_COMMANDS) {
			fprintf(stderr, "proctime: more than %d commands\n", MAX_COMMANDS);
			return -E2BIG;
		}
		o->commands[o->n_commands++] =
		    (struct command){.name = argv[first], .argv = &argv[first + 1]};
		argv[end] = NULL; /* at end == argc it is NULL already */
		at = end;
	}
	return 0;
}

static int find_command(const struct options *o, const char *name)
{
	for (int i = 0; i < o->n_commands; i++)
		if (!strcmp(o->commands[i].name, name))
			return i;
	return -ENOENT;
}

/* Names are how commands and baselines are told apart: each one once, and
 * every baseline one of them. */
static int check_names(const struct options *o)
{
	for (int i = 0; i < o->n_commands; i++)
		if (find_command(o, o->commands[i].name) != i) {
			fprintf(stderr, "proctime: two commands are named `%s`\n", o->commands[i].name);
			return -EINVAL;
		}
	for (int b = 0; b < o->n_baselines; b++)
		if (find_command(o, o->baselines[b]) < 0) {
			fprintf(stderr, "proctime: baseline `%s` names no command\n", o->baselines[b]);
			return -EINVAL;
		}
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	*o = (struct options){.rounds = 20,
			      .seed = ((uint64_t)now.tv_nsec ^ ((uint64_t)getpid() << 32)) & INT64_MAX};
	long seed;
	int opt, r = 0;
	while (r == 0 && (opt = getopt(argc, argv, "+r:w:s:b:t:i")) != -1) {
		switch (opt) {
		case 'r':
			r = parse_count(optarg, MAX_ROUNDS, &o->rounds);
			break;
		case 'w':
			r = parse_count(optarg, MAX_ROUNDS, &o->warmup);
			break;
		case 's':
			r = parse_count(optarg, LONG_MAX, &seed);
			o->seed = (uint64_t)seed;
			break;
		case 'b':
			if (o->n_baselines == MAX_BASELINES)
				r = -E2BIG;
			else
				o->baselines[o->n_baselines++] = optarg;
			break;
		case 't':
			o->tsv_path = optarg;
			break;
		case 'i':
			o->inner = 1;
			break;
		default:
			r = -EINVAL;
		}
	}
	if (r < 0 || o->rounds < 1) {
		usage();
		fprintf(stderr, "proctime: ROUNDS 1 to %d, WARMUP 0 to %d, SEED >= 0, at most %d baselines\n",
			MAX_ROUNDS, MAX_ROUNDS, MAX_BASELINES);
		return -EINVAL;
	}
	r = parse_commands(argc - optind, argv + optind, o);
	return r < 0 ? r : check_names(o);
}

/* splitmix64: a shuffle only needs orders that do not repeat a pattern. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static void shuffle(int *order, int n, uint64_t *state)
{
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = n - 1; i > 0; i--) {
		int j = (int)(next_random(state) % (uint64_t)(i + 1));
		int t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

__attribute__((noreturn)) static void exec_child(const struct command *c, const struct stdio_fds *fds)
{
	if (dup2(fds->devnull, STDIN_FILENO) < 0 || dup2(fds->devnull, STDOUT_FILENO) < 0 ||
	    dup2(fds->capture >= 0 ? fds->capture : fds->devnull, STDERR_FILENO) < 0) {
		dprintf(fds->report, "proctime: %s: redirecting to /dev/null: %s\n", c->name,
			strerror(errno));
		_exit(127);
	}
	execvp(c->argv[0], c->argv);
	dprintf(fds->report, "proctime: %s: cannot execute %s: %s\n", c->name, c->argv[0], strerror(errno));
	_exit(127);
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* The last `walltime_us N` line of what a run wrote on stderr (fd), in ms;
 * -ENOENT when there is none. */
static int reported_ms(int fd, double *ret_ms)
{
	static char buf[1 << 16];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	int found = -ENOENT;
	for (char *line = buf; line && *line;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		unsigned long long us;
		char end;
		if (sscanf(line, "walltime_us %llu%c", &us, &end) == 1) {
			*ret_ms = (double)us / 1e3;
			found = 0;
		}
		line = next;
	}
	return found;
}

/* One run of one command, fork to reaped: its wall time (-i: the time it
 * reported) and wait status. */
static int run_once(const struct options *o, const struct command *c, struct stdio_fds *fds, double *ret_ms,
		    int *ret_status)
{
	struct timespec t0, t1;
	int status, r = 0;
	if (o->inner && (fds->capture = memfd_create("proctime-stderr", MFD_CLOEXEC)) < 0)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0)
		r = -errno;
	if (pid == 0)
		exec_child(c, fds);
	while (pid > 0 && waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			r = -errno;
			break;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ret_ms = ms_between(&t0, &t1);
	*ret_status = status;
	if (r == 0 && o->inner && status == 0 && (r = reported_ms(fds->capture, ret_ms)) == -ENOENT)
		fprintf(stderr, "proctime: `%s` wrote no `walltime_us N` line on stderr (-i)\n", c->name);
	if (fds->capture >= 0)
		close(fds->capture);
	fds->capture = -1;
	return r;
}

static void report_failure(const struct command *c, long round, int status)
{
	if (round < 0)
		fprintf(stderr, "proctime: `%s` failed in a warm-up round:", c->name);
	else
		fprintf(stderr, "proctime: `%s` failed in round %ld:", c->name, round + 1);
	for (char **a = c->argv; *a; a++)
		fprintf(stderr, " %s", *a);
	if (WIFSIGNALED(status))
		fprintf(stderr, ": killed by signal %d (%s)\n", WTERMSIG(status),
			strsignal(WTERMSIG(status)));
	else
		fprintf(stderr, ": exit status %d\n", WEXITSTATUS(status));
}

/* Warm-up rounds (negative numbers) run as the others do but keep nothing. */
static int run_rounds(struct options *o, struct stdio_fds *fds)
{
	int order[MAX_COMMANDS];
	uint64_t random_state = o->seed;
	for (long round = -o->warmup; round < o->rounds; round++) {
		shuffle(order, o->n_commands, &random_state);
		for (int k = 0; k < o->n_commands; k++) {
			struct command *c = &o->commands[order[k]];
			double ms = 0;
			int status = 0, r = run_once(o, c, fds, &ms, &status);
			if (r == -ENOENT)
				return r; /* said */
			if (r < 0) {
				fprintf(stderr, "proctime: `%s`: fork, wait or reading its stderr: %s\n",
					c->name, strerror(-r));
				return r;
			}
			if (stop_signal) {
				fprintf(stderr, "proctime: stopped by signal %d (%s), `%s` reaped\n",
					stop_signal, strsignal(stop_signal), c->name);
				return -EINTR;
			}
			if (status != 0) {
				report_failure(c, round, status);
				return -ECHILD;
			}
			if (round >= 0)
				c->ms[round] = ms;
		}
	}
	return 0;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Linear between the two nearest order statistics (p = 0.5: the median). */
static double quantile(const double *sorted, long n, double p)
{
	double h = (double)(n - 1) * p;
	long lo = (long)h;
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

/* The rank j (from 1) of the lower end of the distribution-free 95%
 * interval for the median of n samples: [x(j), x(n+1-j)] misses it with
 * probability 2 P(B <= j-1), B ~ Binomial(n, 1/2). 0 when n < 6. */
static long median_interval_rank(long n)
{
	double log_n_fact = lgamma((double)n + 1), cdf = 0;
	long j = 0;
	for (long k = 0; k <= n / 2; k++) {
		cdf +=
		    exp(log_n_fact - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) - (double)n * M_LN2);
		if (2 * cdf > 0.05)
			break;
		j = k + 1;
	}
	return j;
}

struct summary {
	double median, p10, p90, mean;
};

struct ratio {
	double median, lo, hi; /* lo and hi NAN when there are too few rounds */
};

static int summarize(const double *ms, long n, struct summary *ret)
{
	double *s = malloc((size_t)n * sizeof(*s)), sum = 0;
	if (!s)
		return -ENOMEM;
	for (long i = 0; i < n; i++)
		sum += s[i] = ms[i];
	qsort(s, (size_t)n, sizeof(*s), compare_double);
	*ret =
	    (struct summary){quantile(s, n, 0.5), quantile(s, n, 0.1), quantile(s, n, 0.9), sum / (double)n};
	free(s);
	return 0;
}

/* The median of the per-round ratios c/base: each round's pair ran under
 * the same load, so the ratio cancels what the load did to both. */
static int paired_ratio(const struct command *c, const struct command *base, long n, struct ratio *ret)
{
	double *r = malloc((size_t)n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (long i = 0; i < n; i++)
		r[i] = c->ms[i] / base->ms[i];
	qsort(r, (size_t)n, sizeof(*r), compare_double);
	long j = median_interval_rank(n);
	*ret = (struct ratio){quantile(r, n, 0.5), j ? r[j - 1] : NAN, j ? r[n - j] : NAN};
	free(r);
	return 0;
}

struct results {
	struct summary times[MAX_COMMANDS];
	struct ratio ratios[MAX_COMMANDS][MAX_BASELINES];
};

static int compute_results(const struct options *o, struct results *res)
{
	for (int i = 0; i < o->n_commands; i++) {
		int r = summarize(o->commands[i].ms, o->rounds, &res->times[i]);
		for (int b = 0; r == 0 && b < o->n_baselines; b++) {
			const struct command *base = &o->commands[find_command(o, o->baselines[b])];
			r = paired_ratio(&o->commands[i], base, o->rounds, &res->ratios[i][b]);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static void print_table(const struct options *o, const struct results *res)
{
	printf("%ld rounds after %ld warm-up, order shuffled per round (seed %llu), ms\n\n", o->rounds,
	       o->warmup, (unsigned long long)o->seed);
	printf("| command | median | p10 | p90 | mean |");
	for (int b = 0; b < o->n_baselines; b++)
		printf(" / %s, paired median [95%%] |", o->baselines[b]);
	printf("\n| --- | ---: | ---: | ---: | ---: |");
	for (int b = 0; b < o->n_baselines; b++)
		printf(" ---: |");
	for (int i = 0; i < o->n_commands; i++) {
		const struct summary *s = &res->times[i];
		printf("\n| %s | %.2f | %.2f | %.2f | %.2f |", o->commands[i].name, s->median, s->p10, s->p90,
		       s->mean);
		for (int b = 0; b < o->n_baselines; b++) {
			const struct ratio *q = &res->ratios[i][b];
			if (!strcmp(o->commands[i].name, o->baselines[b]))
				printf(" 1 |");
			else
				printf(" %.2f [%.2f, %.2f] |", q->median, q->lo, q->hi);
		}
	}
	printf("\n");
}

static int write_tsv(const char *path, const struct options *o, const struct results *res)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	for (int i = 0; i < o->n_commands; i++) {
		const struct summary *s = &res->times[i];
		fprintf(f, "time\t%s\t%.3f\t%.3f\t%.3f\t%.3f\n", o->commands[i].name, s->median, s->p10,
			s->p90, s->mean);
		for (int b = 0; b < o->n_baselines; b++) {
			const struct ratio *q = &res->ratios[i][b];
			fprintf(f, "ratio\t%s\t%s\t%.4f\t%.4f\t%.4f\n", o->commands[i].name, o->baselines[b],
				q->median, q->lo, q->hi);
		}
	}
	int r = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

static int open_stdio_fds(struct stdio_fds *ret)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		return -errno;
	int report = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (report < 0) {
		int r = -errno;
		close(devnull);
		return r;
	}
	*ret = (struct stdio_fds){devnull, report, -1};
	return 0;
}

static int allocate_samples(struct options *o)
{
	for (int i = 0; i < o->n_commands; i++)
		if (!(o->commands[i].ms = calloc((size_t)o->rounds, sizeof(double))))
			return -ENOMEM;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct stdio_fds fds = {-1, -1, -1};
	static struct results res;
	int r;
	if (parse_options(argc, argv, &o) < 0)
		return 2;
	if ((r = allocate_samples(&o)) < 0 || (r = open_stdio_fds(&fds)) < 0 ||
	    (r = catch_stop_signals()) < 0) {
		fprintf(stderr, "proctime: setting up: %s\n", strerror(-r));
		return 1;
	}
	if (run_rounds(&o, &fds) < 0)
		return stop_signal ? 128 + stop_signal : 1;
	if ((r = compute_results(&o, &res)) < 0) {
		fprintf(stderr, "proctime: computing: %s\n", strerror(-r));
		return 1;
	}
	print_table(&o, &res);
	if (o.tsv_path && (r = write_tsv(o.tsv_path, &o, &res)) < 0) {
		fprintf(stderr, "proctime: writing %s: %s\n", o.tsv_path, strerror(-r));
		return 1;
	}
	return 0;
}
