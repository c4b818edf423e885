# SPDX-License-Identifier: GPL-2.0-or-later
"""An offline model of how Elasticsearch maps a JSON document with an index template.

Used by test_es_template.py to check the shipped template against real documents without an
Elasticsearch server.  It follows Elasticsearch's rules for what it models and raises
UnsupportedMapping for anything it does not model (so an unknown type or date format makes the
test fail instead of passing unchecked):

* field lookup: a key of the document (a dotted key is a path, as Elasticsearch expands dots)
  is looked up in `properties`; an object mapping (explicit `"type": "object"` or only
  `properties`) and `nested` recurse; `flattened` takes the whole subtree as keywords;
* an unmapped field follows the nearest `dynamic` setting: `strict` rejects the document,
  `false` keeps it in _source only (not indexed: reported as not mapped), `true` applies the
  first matching `dynamic_templates` entry (match_mapping_type, match/unmatch on the name,
  path_match/path_unmatch on the full path, `*` wildcards), else Elasticsearch's own guess
  (reported as such: a guessed field is not mapped by the template);
* values: null is skipped, an array is checked element by element (arrays of objects only
  for object/nested/flattened), and each leaf type has its own acceptance rule (ip: Python's
  ipaddress; date: the mapping's `format` list, `||`-separated; long: an integer in range;
  float: a finite number in float range; keyword: a string; constant_keyword: the mapping's
  value; ...).  Elasticsearch's coercion of strings into numbers is deliberately not modelled:
  the documents must carry numbers as numbers.
"""

import fnmatch
import ipaddress
import math
import re
from collections import namedtuple
from datetime import datetime


class UnsupportedMapping(Exception):
    """The template uses something this model does not implement."""


# One indexed leaf: path, how it was mapped ("properties", "flattened", "dynamic_template:<name>",
# "guessed", "not_indexed"), the mapping used, the value, and the problem (None: accepted).
Leaf = namedtuple("Leaf", "path how mapping value problem")

LONG_RANGE = (-2 ** 63, 2 ** 63 - 1)
INT_RANGES = {"long": LONG_RANGE, "integer": (-2 ** 31, 2 ** 31 - 1),
              "short": (-2 ** 15, 2 ** 15 - 1), "byte": (-128, 127),
              "unsigned_long": (0, 2 ** 64 - 1)}
FLOAT_MAX = {"float": 3.4028234663852886e38, "half_float": 65504.0,
             "double": 1.7976931348623157e308, "scaled_float": 1.7976931348623157e308}
STRING_TYPES = ("keyword", "wildcard", "match_only_text", "text")

# strict_date_optional_time: yyyy-MM-dd, then optionally 'T' HH, :mm, :ss, fraction (1-9
# digits), and a zone (Z or +-HH, +-HHmm, +-HH:mm).  Four-digit years, as the strict format.
_STRICT_DATE_OPTIONAL_TIME = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<h>\d{2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?"
    r"(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$")


def _strict_date_optional_time(value):
    if not isinstance(value, str):
        return False
    m = _STRICT_DATE_OPTIONAL_TIME.match(value)
    if not m:
        return False
    g = {k: int(v) if v and k != "z" and k != "f" else v for k, v in m.groupdict().items()}
    try:
        datetime(g["y"], g["mo"] or 1, g["d"] or 1, g["h"] or 0, g["mi"] or 0, g["s"] or 0)
    except ValueError:
        return False
    if g["z"] and g["z"] != "Z":
        hours = int(g["z"][1:3])
        minutes = int(g["z"][-2:]) if len(g["z"]) > 3 else 0
        if hours > 18 or minutes > 59:
            return False
    return True


def _epoch(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return math.isfinite(value)
    return isinstance(value, str) and re.match(r"^-?\d+(\.\d+)?$", value) is not None


DATE_FORMATS = {
    "strict_date_optional_time": _strict_date_optional_time,
    "epoch_millis": _epoch,
    "epoch_second": _epoch,
}
DEFAULT_DATE_FORMAT = "strict_date_optional_time||epoch_millis"


def date_accepts(mapping, value):
    formats = mapping.get("format", DEFAULT_DATE_FORMAT).split("||")
    for f in formats:
        if f not in DATE_FORMATS:
            raise UnsupportedMapping("date format %r is not modelled" % f)
    return any(DATE_FORMATS[f](value) for f in formats)


def leaf_problem(mapping, value):
    """None if a field with this mapping accepts the (non-null, non-list) value, else why not."""
    t = mapping.get("type")
    if t in STRING_TYPES:
        return None if isinstance(value, str) else "%s needs a string" % t
    if t == "constant_keyword":
        if not isinstance(value, str):
            return "constant_keyword needs a string"
        if "value" in mapping and value != mapping["value"]:
            return "constant_keyword: %r is not the constant %r" % (value, mapping["value"])
        return None
    if t == "ip":
        if not isinstance(value, str):
            return "ip needs a string"
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return "not an IP address"
        return None
    if t == "date":
        return None if date_accepts(mapping, value) else \
            "does not parse with %s" % mapping.get("format", DEFAULT_DATE_FORMAT)
    if t in INT_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            return "%s needs an integer" % t
        lo, hi = INT_RANGES[t]
        return None if lo <= value <= hi else "%s out of range" % t
    if t in FLOAT_MAX:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "%s needs a number" % t
        return None if math.isfinite(value) and abs(value) <= FLOAT_MAX[t] else \
            "%s out of range" % t
    if t == "boolean":
        return None if isinstance(value, bool) or value in ("true", "false", "") else \
            "boolean needs true/false"
    raise UnsupportedMapping("field type %r is not modelled" % t)


def _json_type(value):
    """Elasticsearch's match_mapping_type of a JSON value (date/numeric detection off)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    raise UnsupportedMapping("no mapping type for %r" % (value,))


def _glob(pattern, text):
    """match/path_match: `*` matches any run of characters (dots included)."""
    pats = pattern if isinstance(pattern, list) else [pattern]
    return any(fnmatch.fnmatchcase(text, p.replace("[", "[[]")) for p in pats)


def _dynamic_template(templates, path, name, value):
    for entry in templates:
        (tname, spec), = entry.items()
        unknown = set(spec) - {"match_mapping_type", "match", "unmatch", "path_match",
                               "path_unmatch", "mapping"}
        if unknown:
            raise UnsupportedMapping("dynamic template %s uses %s" % (tname, sorted(unknown)))
        mmt = spec.get("match_mapping_type", "*")
        if mmt != "*" and mmt != _json_type(value):
            continue
        if "match" in spec and not _glob(spec["match"], name):
            continue
        if "unmatch" in spec and _glob(spec["unmatch"], name):
            continue
        if "path_match" in spec and not _glob(spec["path_match"], path):
            continue
        if "path_unmatch" in spec and _glob(spec["path_unmatch"], path):
            continue
        mapping = dict(spec["mapping"])
        for k, v in mapping.items():
            if isinstance(v, str):
                mapping[k] = v.replace("{name}", name).replace("{dynamic_type}", _json_type(value))
        return tname, mapping
    return None, None


class Mapper:
    """Maps documents with one composable index template (the parsed JSON)."""

    def __init__(self, template):
        mappings = template["template"]["mappings"]
        self.root = {"properties": mappings.get("properties", {}),
                     "dynamic": mappings.get("dynamic", True)}
        self.templates = mappings.get("dynamic_templates", [])

    def leaves(self, doc):
        """[Leaf] for every leaf value of the document."""
        out = []
        self._object(self.root, doc, "", self.root["dynamic"], out)
        return out

    # -- objects -----------------------------------------------------------------------
    def _object(self, mapping, obj, prefix, dynamic, out):
        dynamic = mapping.get("dynamic", dynamic)
        if isinstance(dynamic, str) and dynamic not in ("true", "false", "strict"):
            raise UnsupportedMapping("dynamic %r is not modelled" % dynamic)
        dynamic = {"true": True, "false": False}.get(dynamic, dynamic)
        props = mapping.get("properties", {})
        for key, value in obj.items():
            first, dot, rest = key.partition(".")
            if dot:  # Elasticsearch expands a dotted key into objects
                self._object(mapping, {first: {rest: value}}, prefix, dynamic, out)
                continue
            self._field(props.get(key), key, value, prefix + key, dynamic, out)

    def _field(self, mapping, name, value, path, dynamic, out):
        if mapping is None:
            self._unmapped(name, value, path, dynamic, out)
            return
        self._mapped(mapping, value, path, dynamic, "properties", out)

    def _mapped(self, mapping, value, path, dynamic, how, out):
        t = mapping.get("type", "object")
        if value is None:
            return
        if isinstance(value, list):
            for v in value:
                if isinstance(v, list):
                    out.append(Leaf(path, how, mapping, value, "nested arrays"))
                    return
                self._mapped(mapping, v, path, dynamic, how, out)
            return
        if t in ("object", "nested"):
            if not isinstance(value, dict):
                out.append(Leaf(path, how, mapping, value,
                                "an object field (%s) holds a value" % t))
                return
            self._object(mapping, value, path + ".", dynamic, out)
            return
        if t == "flattened":
            self._flattened(mapping, value, path, out)
            return
        if isinstance(value, dict):
            out.append(Leaf(path, how, mapping, value, "a %s field holds an object" % t))
            return
        problem = leaf_problem(mapping, value)
        if mapping.get("index") is False and problem is None:
            how = how + ",index:false"
        out.append(Leaf(path, how, mapping, value, problem))

    def _flattened(self, mapping, value, path, out):
        depth_limit = mapping.get("depth_limit", 20)

        def walk(v, p, depth):
            if depth > depth_limit:
                out.append(Leaf(p, "flattened", mapping, v, "deeper than depth_limit"))
            elif isinstance(v, dict):
                for k, sub in v.items():
                    walk(sub, p + "." + k, depth + 1)
            elif isinstance(v, list):
                for sub in v:
                    walk(sub, p, depth)
            elif v is not None:
                # every leaf is indexed as a keyword: strings, numbers and booleans alike
                ok = isinstance(v, (str, int, float, bool))
                out.append(Leaf(p, "flattened", mapping, v,
                                None if ok else "flattened leaf of type %s" % type(v).__name__))

        if not isinstance(value, dict):
            out.append(Leaf(path, "flattened", mapping, value, "flattened needs an object"))
            return
        walk(value, path, 0)

    def _unmapped(self, name, value, path, dynamic, out):
        if dynamic == "strict":
            out.append(Leaf(path, "strict", None, value, "not mapped and dynamic is strict"))
            return
        if dynamic is False:
            out.append(Leaf(path, "not_indexed", None, value, None))
            return
        probe = value
        while isinstance(probe, list) and probe:
            probe = next((v for v in probe if v is not None), None)
        if probe is None or isinstance(probe, list):
            return  # null or empty: Elasticsearch adds no mapping
        tname, mapping = _dynamic_template(self.templates, path, name, probe)
        if mapping is None:
            if isinstance(probe, dict):  # a new object mapping; its fields are looked at in turn
                for v in (value if isinstance(value, list) else [value]):
                    if isinstance(v, dict):
                        self._object({}, v, path + ".", dynamic, out)
                return
            out.append(Leaf(path, "guessed", None, value, None))
            return
        self._mapped(mapping, value, path, dynamic, "dynamic_template:" + tname, out)


def lookup(template, dotted):
    """The explicit mapping of a dotted field name (through properties), or None."""
    node = {"properties": template["template"]["mappings"].get("properties", {})}
    for part in dotted.split("."):
        props = node.get("properties")
        if props is None or part not in props:
            return None
        node = props[part]
    return node
