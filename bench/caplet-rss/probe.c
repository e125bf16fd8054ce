#include "probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s PORT CA CERT KEY\n", argv[0]);
		return 2;
	}
	struct probe_args a = {atoi(argv[1]), argv[2], argv[3], argv[4]};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a.port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		return 1;
	}
	char line[256];
	if (probe_tls_get(fd, &a, "GET /version HTTP/1.1\r\nHost: localhost\r\n\r\n", line, sizeof(line)) < 0)
		return 1;
	printf("ready %s\n", line);
	fflush(stdout);
	char c;
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	close(fd);
	return 0;
}
