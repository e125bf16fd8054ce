/* UTF-8 validation shared by the module's files (not part of its interface). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF. */
bool recap_ws_utf8_valid(const uint8_t *s, size_t len);
