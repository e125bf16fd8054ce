/* The protobuf wire format, only as far as the CRI calls RECap makes need:
 * varints and length-delimited fields. Decoding never reads past its input
 * and refuses what it cannot bound. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

enum recap_pb_wire {
	RECAP_PB_VARINT = 0,
	RECAP_PB_I64 = 1,
	RECAP_PB_LEN = 2,
	RECAP_PB_I32 = 5,
};

/* A field read from a message: its number and wire type, and either its
 * varint value or the bytes it holds (pointing into the input). */
struct recap_pb_field {
	uint32_t number;
	enum recap_pb_wire wire;
	uint64_t varint;
	const uint8_t *data;
	size_t len;
};

/* A cursor over one message's bytes. */
struct recap_pb_reader {
	const uint8_t *p, *end;
};

static inline struct recap_pb_reader recap_pb_reader(const void *data, size_t len)
{
	/* an empty message may come as NULL: no arithmetic on it */
	return (struct recap_pb_reader){.p = data, .end = data ? (const uint8_t *)data + len : NULL};
}

/* The next field: 1, 0 at the end of the message, -EBADMSG (with a message)
 * for a truncated varint or field, a length past the end, field number 0,
 * groups or an unknown wire type. Fixed-width fields are skipped over
 * (their bytes in data/len). */
int recap_pb_next(struct recap_pb_reader *r, struct recap_pb_field *ret, struct recap_error **err);

/* A varint read from the front of [p, end): bytes used, or -EBADMSG when it
 * is truncated or longer than 10 bytes. */
int recap_pb_varint(const uint8_t *p, const uint8_t *end, uint64_t *ret);

/* Writers; -ENOBUFS when b is full. */
int recap_pb_put_varint(struct recap_buf *b, uint64_t v);
int recap_pb_put_string(struct recap_buf *b, uint32_t number, const char *s);
int recap_pb_put_bool(struct recap_buf *b, uint32_t number, bool v);
