"""A small YAML emitter for CRD manifests: block style, keys in insertion
order, scalars quoted only when YAML would read them otherwise."""

import json
import re

_PLAIN = re.compile(r"^[A-Za-z0-9/_.(][^\n]*$")
_SPECIAL = re.compile(
    r"^(true|false|yes|no|on|off|y|n|null|~|[-+]?[0-9_.]+([eE][-+]?[0-9]+)?|"
    r"0x[0-9a-fA-F]+|0o[0-7]+|\.inf|\.nan)$",
    re.IGNORECASE,
)


def _scalar(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, int):
        return str(v)
    s = str(v)
    if (
        _PLAIN.match(s)
        and not _SPECIAL.match(s)
        and ": " not in s
        and " #" not in s
        and not s.endswith(":")
        and s == s.strip()
    ):
        return s
    return json.dumps(s)


def _emit(v, indent, out):
    pad = "  " * indent
    if isinstance(v, dict):
        if not v:
            out[-1] += " {}"
            return
        for k, x in v.items():
            key = _scalar(k)
            if isinstance(x, (dict, list)) and x:
                out.append(f"{pad}{key}:")
                _emit(x, indent + 1, out)
            else:
                out.append(f"{pad}{key}: {_flow(x)}")
    elif isinstance(v, list):
        for x in v:
            if isinstance(x, dict) and x:
                out.append(f"{pad}-")
                first = len(out)
                _emit(x, indent + 1, out)
                # "- key: value" on one line, the rest aligned under it.
                out[first - 1] = f"{pad}- " + out[first].lstrip()
                del out[first]
            elif isinstance(x, list) and x:
                out.append(f"{pad}-")
                _emit(x, indent + 1, out)
            else:
                out.append(f"{pad}- {_flow(x)}")


def _flow(x):
    if isinstance(x, dict):
        return "{}"
    if isinstance(x, list):
        return "[]"
    return _scalar(x)


def dump(doc, header=""):
    out = []
    _emit(doc, 0, out)
    return header + "\n".join(out) + "\n"
