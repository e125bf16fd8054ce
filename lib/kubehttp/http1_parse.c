/* HTTP/1.1 response framing (RFC 9112): one state per part of the answer,
 * each handled by its own function; feed() moves between them. */
#include "kubehttp/http1_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHUNK_LINE_MAX 4096

void recap_http1_init(struct recap_http1_parser *p, size_t max_head, bool head_request)
{
	*p = (struct recap_http1_parser){.max_head = max_head, .head_request = head_request};
	recap_buf_init(&p->line, max_head);
}

void recap_http1_free(struct recap_http1_parser *p)
{
	recap_buf_free(&p->line);
}

/* Collects one CRLF- (or LF-) terminated line into p->line. Returns 1 with
 * the line complete (terminator stripped), 0 when it needs more input. */
static int take_line(struct recap_http1_parser *p, const char *d, size_t len, size_t *used, size_t limit,
		     struct recap_error **err)
{
	const char *nl = memchr(d, '\n', len);
	size_t n = nl ? (size_t)(nl - d) + 1 : len;
	if (p->line.len + n > limit || recap_buf_append(&p->line, d, n) < 0)
		return recap_error_set(err, EMSGSIZE, "HTTP answer: %s longer than %zu bytes",
				       p->state <= RECAP_HTTP1_HEADER ? "head" : "chunk line",
				       p->state <= RECAP_HTTP1_HEADER ? p->max_head : (size_t)CHUNK_LINE_MAX);
	*used = n;
	if (!nl)
		return 0;
	p->line.len--;
	if (p->line.len && p->line.data[p->line.len - 1] == '\r')
		p->line.len--;
	p->line.data[p->line.len] = '\0';
	if (memchr(p->line.data, '\0', p->line.len))
		return recap_error_set(err, EBADMSG, "HTTP answer: NUL byte in a line");
	return 1;
}

static int parse_status(struct recap_http1_parser *p, struct recap_error **err)
{
	const char *l = p->line.data;
	if (strncmp(l, "HTTP/1.1 ", 9) == 0)
		p->version = 11;
	else if (strncmp(l, "HTTP/1.0 ", 9) == 0)
		p->version = 10;
	else
		return recap_error_set(err, EBADMSG, "HTTP answer: bad status line \"%.40s\"", l);
	if (l[9] < '1' || l[9] > '5' || l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9' ||
	    (l[12] != ' ' && l[12] != '\0'))
		return recap_error_set(err, EBADMSG, "HTTP answer: bad status code \"%.40s\"", l);
	p->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	p->chunked = p->has_length = false;
	p->conn_close = p->version == 10;
	p->retry_after[0] = '\0';
	p->date[0] = '\0';
	p->state = RECAP_HTTP1_HEADER;
	return 0;
}

static bool has_token(const char *value, const char *token)
{
	size_t n = strlen(token);
	for (const char *s = value; *s;) {
		s += strspn(s, " \t,");
		size_t len = strcspn(s, ",");
		size_t t = len;
		while (t && (s[t - 1] == ' ' || s[t - 1] == '\t'))
			t--;
		if (t == n && strncasecmp(s, token, n) == 0)
			return true;
		s += len;
	}
	return false;
}

static int parse_length(struct recap_http1_parser *p, const char *v, struct recap_error **err)
{
	char *end = NULL;
	if (*v < '0' || *v > '9')
		return recap_error_set(err, EBADMSG, "HTTP answer: bad Content-Length \"%.30s\"", v);
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	end += strspn(end, " \t");
	if (errno || *end || (p->has_length && n != p->remaining))
		return recap_error_set(err, EBADMSG, "HTTP answer: bad Content-Length \"%.30s\"", v);
	p->has_length = true;
	p->remaining = n;
	return 0;
}

static int parse_header(struct recap_http1_parser *p, struct recap_error **err)
{
	char *l = p->line.data;
	char *colon = strchr(l, ':');
	if (!colon || colon == l || l[0] == ' ' || l[0] == '\t')
		return recap_error_set(err, EBADMSG, "HTTP answer: bad header line \"%.40s\"", l);
	*colon = '\0';
	char *v = colon + 1;
	v += strspn(v, " \t");
	size_t vl = strlen(v);
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		v[--vl] = '\0';
	if (strcasecmp(l, "Content-Length") == 0)
		return parse_length(p, v, err);
	if (strcasecmp(l, "Transfer-Encoding") == 0) {
		if (!has_token(v, "chunked") || strcasecmp(v + vl - 7, "chunked") != 0)
			return recap_error_set(err, EBADMSG,
					       "HTTP answer: unsupported Transfer-Encoding \"%.30s\"", v);
		p->chunked = true;
	} else if (strcasecmp(l, "Connection") == 0) {
		if (has_token(v, "close"))
			p->conn_close = true;
		else if (has_token(v, "keep-alive") && p->version == 10)
			p->conn_close = false;
	} else if (strcasecmp(l, "Retry-After") == 0) {
		snprintf(p->retry_after, sizeof(p->retry_after), "%s", v);
	} else if (strcasecmp(l, "Date") == 0) {
		snprintf(p->date, sizeof(p->date), "%s", v);
	}
	return 0;
}

/* The head is complete: pick the body framing. */
static int end_head(struct recap_http1_parser *p, const struct recap_http1_callbacks *cb, void *ud)
{
	if (p->status < 200) {
		p->state = RECAP_HTTP1_STATUS; /* an interim answer: the real one follows */
		return 0;
	}
	int r = cb->on_head ? cb->on_head(p, ud) : 0;
	if (r < 0)
		return r;
	if (p->head_request || p->status == 204 || p->status == 304)
		p->state = RECAP_HTTP1_DONE;
	else if (p->chunked)
		p->state = RECAP_HTTP1_CHUNK_SIZE;
	else if (p->has_length)
		p->state = p->remaining ? RECAP_HTTP1_BODY_LENGTH : RECAP_HTTP1_DONE;
	else
		p->state = RECAP_HTTP1_BODY_CLOSE;
	return 0;
}

static int head_line(struct recap_http1_parser *p, const struct recap_http1_callbacks *cb, void *ud,
		     struct recap_error **err)
{
	if (p->state == RECAP_HTTP1_STATUS)
		return parse_status(p, err);
	if (p->line.len == 0)
		return end_head(p, cb, ud);
	return parse_header(p, err);
}

static int chunk_size_line(struct recap_http1_parser *p, struct recap_error **err)
{
	const char *l = p->line.data;
	char *end = NULL;
	if (!((*l >= '0' && *l <= '9') || (*l >= 'a' && *l <= 'f') || (*l >= 'A' && *l <= 'F')))
		return recap_error_set(err, EBADMSG, "HTTP answer: bad chunk size \"%.30s\"", l);
	errno = 0;
	unsigned long long n = strtoull(l, &end, 16);
	end += strspn(end, " \t");
	if (errno || (*end && *end != ';'))
		return recap_error_set(err, EBADMSG, "HTTP answer: bad chunk size \"%.30s\"", l);
	p->remaining = n;
	p->state = n ? RECAP_HTTP1_CHUNK_DATA : RECAP_HTTP1_TRAILER;
	return 0;
}

/* Lines: the head, chunk sizes, the CRLF after a chunk, trailers. */
static int line_state(struct recap_http1_parser *p, const char *d, size_t len, size_t *used,
		      const struct recap_http1_callbacks *cb, void *ud, struct recap_error **err)
{
	bool head = p->state <= RECAP_HTTP1_HEADER;
	size_t limit = head ? p->max_head - p->head_bytes + p->line.len : CHUNK_LINE_MAX;
	int r = take_line(p, d, len, used, limit, err);
	if (head)
		p->head_bytes += *used;
	if (r <= 0)
		return r;
	switch (p->state) {
	case RECAP_HTTP1_CHUNK_SIZE:
		r = chunk_size_line(p, err);
		break;
	case RECAP_HTTP1_CHUNK_END:
		r = p->line.len ? recap_error_set(err, EBADMSG, "HTTP answer: chunk longer than its size")
				: 0;
		p->state = RECAP_HTTP1_CHUNK_SIZE;
		break;
	case RECAP_HTTP1_TRAILER:
		if (p->line.len == 0)
			p->state = RECAP_HTTP1_DONE;
		break;
	default:
		r = head_line(p, cb, ud, err);
	}
	recap_buf_reset(&p->line);
	return r;
}

static int body_state(struct recap_http1_parser *p, const char *d, size_t len, size_t *used,
		      const struct recap_http1_callbacks *cb, void *ud)
{
	size_t n = len;
	if (p->state != RECAP_HTTP1_BODY_CLOSE && n > p->remaining)
		n = (size_t)p->remaining;
	*used = n;
	if (p->state != RECAP_HTTP1_BODY_CLOSE) {
		p->remaining -= n;
		if (p->remaining == 0)
			p->state =
			    p->state == RECAP_HTTP1_CHUNK_DATA ? RECAP_HTTP1_CHUNK_END : RECAP_HTTP1_DONE;
	}
	return n && cb->on_data ? cb->on_data(d, n, ud) : 0;
}

int recap_http1_feed(struct recap_http1_parser *p, const char *data, size_t len, size_t *consumed,
		     const struct recap_http1_callbacks *cb, void *userdata, struct recap_error **err)
{
	size_t off = 0;
	int r = 0;
	while (p->state != RECAP_HTTP1_DONE && off < len && r >= 0) {
		size_t used = 0;
		if (p->state == RECAP_HTTP1_BODY_LENGTH || p->state == RECAP_HTTP1_BODY_CLOSE ||
		    p->state == RECAP_HTTP1_CHUNK_DATA)
			r = body_state(p, data + off, len - off, &used, cb, userdata);
		else
			r = line_state(p, data + off, len - off, &used, cb, userdata, err);
		off += used;
	}
	*consumed = off;
	if (r < 0)
		return r;
	return p->state == RECAP_HTTP1_DONE ? 1 : 0;
}

int recap_http1_eof(struct recap_http1_parser *p, struct recap_error **err)
{
	if (p->state == RECAP_HTTP1_DONE)
		return 1;
	if (p->state == RECAP_HTTP1_BODY_CLOSE) {
		p->state = RECAP_HTTP1_DONE;
		p->conn_close = true;
		return 1;
	}
	if (p->state == RECAP_HTTP1_STATUS && p->line.len == 0 && p->head_bytes == 0)
		return recap_error_set(err, ECONNRESET, "the server closed the connection without an answer");
	return recap_error_set(err, EPIPE, "the server closed the connection in the middle of the answer");
}

bool recap_http1_reusable(const struct recap_http1_parser *p)
{
	return p->state == RECAP_HTTP1_DONE && !p->conn_close && p->version == 11;
}
