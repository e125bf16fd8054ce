#include "cri/pb.h"

#include <errno.h>
#include <string.h>

int recap_pb_varint(const uint8_t *p, const uint8_t *end, uint64_t *ret)
{
	uint64_t v = 0;
	for (int i = 0; i < 10; i++) {
		if (p + i >= end)
			return -EBADMSG;
		uint8_t byte = p[i];
		/* the tenth byte may carry only the top bit of a 64-bit value */
		if (i == 9 && byte > 1)
			return -EBADMSG;
		v |= (uint64_t)(byte & 0x7f) << (7 * i);
		if (!(byte & 0x80)) {
			*ret = v;
			return i + 1;
		}
	}
	return -EBADMSG;
}

static int take(struct recap_pb_reader *r, size_t n, struct recap_pb_field *f, uint32_t number,
		struct recap_error **err)
{
	if ((size_t)(r->end - r->p) < n)
		return recap_error_set(err, EBADMSG,
				       "protobuf field %u: %zu bytes past the end of the message", number,
				       n - (size_t)(r->end - r->p));
	f->data = r->p;
	f->len = n;
	r->p += n;
	return 1;
}

int recap_pb_next(struct recap_pb_reader *r, struct recap_pb_field *ret, struct recap_error **err)
{
	if (r->p >= r->end)
		return 0;
	uint64_t key;
	int n = recap_pb_varint(r->p, r->end, &key);
	if (n < 0)
		return recap_error_set(err, EBADMSG, "protobuf: truncated or overlong field key");
	r->p += n;
	struct recap_pb_field f = {.number = (uint32_t)(key >> 3), .wire = (enum recap_pb_wire)(key & 7)};
	if (key >> 3 == 0 || key >> 3 > 536870911u)
		return recap_error_set(err, EBADMSG, "protobuf: field number %llu out of range",
				       (unsigned long long)(key >> 3));
	switch (f.wire) {
	case RECAP_PB_VARINT:
		n = recap_pb_varint(r->p, r->end, &f.varint);
		if (n < 0)
			return recap_error_set(err, EBADMSG, "protobuf field %u: truncated varint", f.number);
		r->p += n;
		break;
	case RECAP_PB_I64:
		n = take(r, 8, &f, f.number, err);
		break;
	case RECAP_PB_I32:
		n = take(r, 4, &f, f.number, err);
		break;
	case RECAP_PB_LEN:
		n = recap_pb_varint(r->p, r->end, &f.varint);
		if (n < 0)
			return recap_error_set(err, EBADMSG, "protobuf field %u: truncated length", f.number);
		r->p += n;
		if (f.varint > (uint64_t)(r->end - r->p))
			return recap_error_set(err, EBADMSG,
					       "protobuf field %u: length %llu past the end of the message",
					       f.number, (unsigned long long)f.varint);
		n = take(r, (size_t)f.varint, &f, f.number, err);
		break;
	default:
		return recap_error_set(err, EBADMSG, "protobuf field %u: unsupported wire type %d", f.number,
				       (int)f.wire);
	}
	if (n < 0)
		return n;
	*ret = f;
	return 1;
}

int recap_pb_put_varint(struct recap_buf *b, uint64_t v)
{
	uint8_t out[10];
	size_t n = 0;
	do {
		out[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	return recap_buf_append(b, out, n);
}

int recap_pb_put_string(struct recap_buf *b, uint32_t number, const char *s)
{
	size_t len = strlen(s);
	int r = recap_pb_put_varint(b, (uint64_t)number << 3 | RECAP_PB_LEN);
	if (r >= 0)
		r = recap_pb_put_varint(b, len);
	if (r >= 0)
		r = recap_buf_append(b, s, len);
	return r;
}

int recap_pb_put_bool(struct recap_buf *b, uint32_t number, bool v)
{
	int r = recap_pb_put_varint(b, (uint64_t)number << 3 | RECAP_PB_VARINT);
	return r < 0 ? r : recap_pb_put_varint(b, v ? 1 : 0);
}
