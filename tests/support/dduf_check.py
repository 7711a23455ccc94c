"""Python's zipfile on both sides of brine's DDUF files (tests/unit/dduf_test.cpp).

  dduf_check.py read FILE.dduf OUT_DIR     extracts every entry with zipfile (CRC checked) into
                                           OUT_DIR and prints the names in archive order
  dduf_check.py write FILE.dduf IN_DIR [zip64]
                                           writes IN_DIR's files (sorted, model_index.json
                                           first) as a stored ZIP, unaligned, as huggingface_hub
                                           does; 'zip64' forces ZIP64 records as it does too
"""
import os
import sys
import zipfile


def read(path, out_dir):
    with zipfile.ZipFile(path) as zf:
        bad = zf.testzip()
        if bad is not None:
            sys.exit("bad CRC in " + bad)
        for info in zf.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                sys.exit("compressed entry " + info.filename)
            print(info.filename)
            target = os.path.join(out_dir, info.filename)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(zf.read(info))


def write(path, in_dir, zip64):
    names = []
    for root, _, files in os.walk(in_dir):
        for name in files:
            names.append(os.path.relpath(os.path.join(root, name), in_dir).replace(os.sep, "/"))
    names.sort(key=lambda n: (n != "model_index.json", n))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name in names:
            with open(os.path.join(in_dir, name), "rb") as src, zf.open(name, "w", force_zip64=zip64) as dst:
                dst.write(src.read())


if __name__ == "__main__":
    if sys.argv[1] == "read":
        read(sys.argv[2], sys.argv[3])
    else:
        write(sys.argv[2], sys.argv[3], len(sys.argv) > 4 and sys.argv[4] == "zip64")
