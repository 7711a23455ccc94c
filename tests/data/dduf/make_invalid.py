#!/usr/bin/python3
"""Writes the DDUF test files of this folder: one valid file per layout brine must read, and
one file per rule of docs/format/dduf.md that it breaks (tests/hostile/dduf_rules_test.cpp
expects each file's rule and entry). Run it from anywhere with /usr/bin/python3; the files are
committed, so a change here shows as a change of the bytes.

The ZIP records are written by hand (struct), not by zipfile, so that each file can break
exactly one rule and nothing else.
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

INDEX = b'{"_class_name": "TinyPipeline", "vae": ["diffusers", "AutoencoderKL"]}'
VAE_CONFIG = b'{"latent_channels": 4}'
# A real safetensors file: one float32 tensor of 4 elements.
_header = b'{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'
WEIGHTS = struct.pack("<Q", len(_header)) + _header + struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)


def entry(name, data, **tweaks):
    e = {"name": name.encode() if isinstance(name, str) else name, "data": data}
    e.update(tweaks)
    return e


def build(entries, zip64=False, eocd_tweak=None, locator_tweak=None):
    """A stored ZIP of `entries`. Tweaks per entry: method, flags, crc, size (both sizes),
    csize (compressed only), local_name, local_size, stored (bytes written instead of data),
    extra_size (size written but data shorter)."""
    out = bytearray()
    central = bytearray()
    for e in entries:
        data = e["data"]
        stored = e.get("stored", data)
        crc = e.get("crc", zlib.crc32(data) & 0xFFFFFFFF)
        size = e.get("size", len(data))
        csize = e.get("csize", size)
        method = e.get("method", 0)
        flags = e.get("flags", 0)
        offset = len(out)
        local_name = e.get("local_name", e["name"])
        local_size = e.get("local_size", size)
        local_csize = e.get("local_size", csize)
        lextra = b""
        lsize, lcsize = local_size, local_csize
        if zip64:
            lextra = struct.pack("<HHQQ", 1, 16, local_size, local_csize)
            lsize = lcsize = 0xFFFFFFFF
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, flags, method, 0,
                           0x21, crc, lcsize, lsize, len(local_name), len(lextra))
        out += local_name + lextra + stored
        cextra = b""
        csz, usz, off = csize, size, offset
        if zip64:
            cextra = struct.pack("<HHQQQ", 1, 24, size, csize, offset)
            csz = usz = off = 0xFFFFFFFF
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 45,
                               45 if zip64 else 20, flags, method, 0, 0x21, crc, csz, usz,
                               len(e["name"]), len(cextra), 0, 0, 0, 0o100644 << 16, off)
        central += e["name"] + cextra
    cd_offset = len(out)
    out += central
    count = len(entries)
    fields = {"disk": 0, "cd_disk": 0, "here": count, "count": count, "cd_size": len(central),
              "cd_offset": cd_offset}
    if eocd_tweak:
        fields.update(eocd_tweak)
    if zip64:
        record = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | 45, 45, 0, 0, count, count,
                           len(central), fields["cd_offset"])
        locator = {"disk": 0, "record": record, "disks": 1}
        if locator_tweak:
            locator.update(locator_tweak)
        out += struct.pack("<IIQI", 0x07064B50, locator["disk"], locator["record"],
                           locator["disks"])
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                           0xFFFFFFFF, 0)
    else:
        out += struct.pack("<IHHHHIIH", 0x06054B50, fields["disk"], fields["cd_disk"],
                           fields["here"], fields["count"], fields["cd_size"],
                           fields["cd_offset"], 0)
    return bytes(out)


def base(**vae_weights_tweaks):
    return [
        entry("model_index.json", INDEX),
        entry("vae/config.json", VAE_CONFIG),
        entry("vae/diffusion_pytorch_model.safetensors", WEIGHTS, **vae_weights_tweaks),
    ]


def files():
    valid = build(base())
    yield "valid.dduf", valid
    yield "valid_zip64.dduf", build(base(), zip64=True)
    # A directory entry, as generic ZIP tools write them: read, not required.
    yield "valid_directory_entry.dduf", build(
        [base()[0], entry("vae/", b"")] + base()[1:])

    deflated = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = deflated.compress(VAE_CONFIG) + deflated.flush()
    yield "compressed_entry.dduf", build([
        entry("model_index.json", INDEX),
        entry("vae/config.json", VAE_CONFIG, method=8, csize=len(packed), stored=packed),
    ])
    yield "encrypted_entry.dduf", build(base(flags=1))
    yield "size_mismatch.dduf", build(base(csize=len(WEIGHTS) - 1))
    yield "bad_extension.dduf", build(base() + [entry("vae/weights.bin", b"x")])
    yield "too_deep.dduf", build(base() + [entry("vae/sub/config.json", b"{}")])
    yield "parent_reference.dduf", build(base() + [entry("../evil.json", b"{}")])
    yield "absolute_name.dduf", build(base() + [entry("/evil.json", b"{}")])
    yield "backslash_in_name.dduf", build(base() + [entry("vae\\evil.json", b"{}")])
    yield "empty_component.dduf", build(base() + [entry("vae//x.json", b"{}")])
    yield "duplicate_name.dduf", build(base() + [entry("vae/config.json", b"{}")])
    yield "directory_with_data.dduf", build(base() + [entry("vae/", b"{}")])
    yield "missing_model_index.dduf", build(base()[1:])
    yield "model_index_not_object.dduf", build(
        [entry("model_index.json", b'["vae"]')] + base()[1:])
    yield "model_index_not_json.dduf", build([entry("model_index.json", b'{"vae": ')] + base()[1:])
    yield "model_index_too_deep.dduf", build(
        [entry("model_index.json", b"[" * 1000 + b"]" * 1000)] + base()[1:])
    yield "folder_not_in_index.dduf", build(base() + [entry("text_encoder/config.json", b"{}")])
    yield "folder_without_config.dduf", build(
        [entry("model_index.json", INDEX),
         entry("vae/diffusion_pytorch_model.safetensors", WEIGHTS)])
    yield "truncated.dduf", valid[: len(valid) // 2]
    yield "not_a_zip.dduf", b"model_index.json is not here: this is text\n" * 4
    yield "central_directory_past_end.dduf", build(base(), eocd_tweak={"cd_offset": 1 << 20})
    yield "multi_disk.dduf", build(base(), eocd_tweak={"disk": 1})
    yield "zip64_bad_locator.dduf", build(base(), zip64=True, locator_tweak={"record": 7})
    yield "bad_crc.dduf", build(base(crc=0x12345678))
    yield "local_name_mismatch.dduf", build(
        base(local_name=b"vae/diffusion_pytorch_model.safetensorz"))
    yield "local_size_mismatch.dduf", build(base(local_size=len(WEIGHTS) - 4))
    # The data of model_index.json claims to run over the next entry's local header.
    over = INDEX + b"\0" * 10
    yield "overlapping_entries.dduf", build([
        entry("model_index.json", INDEX, size=len(INDEX) + 40, stored=over),
        entry("vae/config.json", VAE_CONFIG),
    ])
    # The last entry claims more bytes than there are before the central directory.
    yield "entry_out_of_bounds.dduf", build(base(size=len(WEIGHTS) + 1000))


def main():
    for name, data in files():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
