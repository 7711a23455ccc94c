"""Decodes a brine stable archive with cbor2 (an independent CBOR decoder) and compares
every value with brine's own JSON rendering of it.

usage: cbor_check.py ARCHIVE.cbor VALUES.json
Exits 0 when they agree, 1 with the first difference otherwise.

Both sides are normalised to the same form: every object gets a number in order of first
appearance, and a second appearance of the same object (a shared pointer) becomes
{"$same": number}. cbor2 resolves the value-sharing tags 28/29 into one Python object, so
identity is what it gives; brine's rendering gives "$id" and "$ref".
"""
import base64
import json
import math
import struct
import sys

import cbor2

TYPED = {72: "b", 69: "H", 77: "h", 70: "I", 78: "i", 71: "Q", 79: "q", 85: "f", 86: "d"}
# RFC 8746 typed-array tags of tensors inside tag 40 (docs/format/stable-v1.md §4.1).
TENSOR_DTYPES = {64: "uint8", 72: "int8", 69: "uint16", 77: "int16", 70: "uint32",
                 78: "int32", 71: "uint64", 79: "int64", 84: "float16", 85: "float32",
                 86: "float64"}


def tensor(dtype, shape, data):
    return {"$tensor": {"data": base64.b64encode(data).decode(), "dtype": dtype,
                        "shape": list(shape)}}


def esc(k):
    return "$" + k if k.startswith("$") else k


class FromCbor:
    def __init__(self):
        self.numbers = {}

    def render(self, v):
        if isinstance(v, cbor2.CBORTag):
            if v.tag == 27:
                name = v.value[0]
                if name == "$path":
                    return {"$path": v.value[1]}
                if name == "$function":
                    return {"$function": v.value[1]}
                if name == "$tensor":
                    return tensor(v.value[1], v.value[2], v.value[3])
                if id(v) in self.numbers:
                    return {"$same": self.numbers[id(v)]}
                self.numbers[id(v)] = len(self.numbers)
                out = {"$type": name, "$version": v.value[1], "$n": self.numbers[id(v)]}
                for k, f in v.value[2].items():
                    out[esc(k)] = self.render(f)
                return out
            if v.tag == 40:
                shape, array = v.value
                return tensor(TENSOR_DTYPES[array.tag], shape, array.value)
            if v.tag in TYPED:
                size = struct.calcsize(TYPED[v.tag])
                fmt = "<%d%s" % (len(v.value) // size, TYPED[v.tag])
                return [self.render(x) for x in struct.unpack(fmt, v.value)]
            raise ValueError("unexpected tag %d" % v.tag)
        if isinstance(v, bytes):
            return {"$bytes": base64.b64encode(v).decode()}
        if isinstance(v, list):
            return [self.render(x) for x in v]
        if isinstance(v, dict):
            return {esc(k): self.render(x) for k, x in v.items()}
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            return {"$float": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}
        return v


class FromBrineJson:
    def __init__(self):
        self.count = 0
        self.by_id = {}

    def render(self, v):
        if isinstance(v, list):
            return [self.render(x) for x in v]
        if isinstance(v, dict):
            if "$ref" in v and len(v) == 1:
                return {"$same": self.by_id[v["$ref"]]}
            if "$type" in v:
                n = self.count
                self.count += 1
                if "$id" in v:
                    self.by_id[v["$id"]] = n
                out = {"$type": v["$type"], "$version": v["$version"], "$n": n}
                for k, x in v.items():
                    if k not in ("$type", "$version", "$id"):
                        out[k] = self.render(x)
                return out
            return {k: self.render(x) for k, x in v.items()}
        return v


def main():
    with open(sys.argv[1], "rb") as f:
        doc = cbor2.load(f)
    with open(sys.argv[2]) as f:
        expected = json.load(f)
    for key in ("format", "format_version", "values", "checksum"):
        if key not in doc:
            print("missing key %r in the document" % key)
            return 1
    if doc["format"] != "brine-stable":
        print("format is %r" % doc["format"])
        return 1
    values = doc["values"]
    if len(values) != len(expected):
        print("%d values, expected %d" % (len(values), len(expected)))
        return 1
    for i, v in enumerate(values):
        got = FromCbor().render(v)
        want = FromBrineJson().render(expected[i])
        if got != want:
            print("value %d differs:\n cbor2: %s\n brine: %s" % (
                i, json.dumps(got, sort_keys=True)[:3000], json.dumps(want, sort_keys=True)[:3000]))
            return 1
    print("cbor2 decoded %d values; all agree with brine's rendering" % len(values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
