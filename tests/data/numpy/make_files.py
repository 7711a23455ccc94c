#!/usr/bin/env python3
# make_files.py OUT_DIR: writes .npy and .npz files with numpy itself, for brine's numpy tests.
# Each array also goes to OUT_DIR/<label>.raw as its C-order little-endian bytes, and to
# OUT_DIR/manifest.tsv as one line: file, entry ('-' for a .npy), raw file, brine dtype name,
# shape (comma-separated, empty for 0-d). numpy_test.cpp loads every line with brine and
# compares the tensor's bytes with the raw file. tests/data/numpy/golden/ is this script's
# output, committed once (README.md): run it again only into another directory.
import os
import sys
import zipfile

import numpy as np
from numpy.lib import format as npformat

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
manifest = []

BRINE_NAMES = {
    'b1': 'bool', 'i1': 'int8', 'i2': 'int16', 'i4': 'int32', 'i8': 'int64',
    'u1': 'uint8', 'u2': 'uint16', 'u4': 'uint32', 'u8': 'uint64',
    'f2': 'float16', 'f4': 'float32', 'f8': 'float64', 'c8': 'complex64', 'c16': 'complex128',
}


def values(code, shape, byteorder='<'):
    n = int(np.prod(shape)) if len(shape) else 1
    dtype = np.dtype(code).newbyteorder(byteorder) if code != 'b1' else np.dtype('b1')
    if code == 'b1':
        a = (np.arange(n) % 3 == 1)
    elif code[0] in 'iu':
        # Values that use every byte, and negatives for the signed types.
        a = (np.arange(n, dtype=np.uint64) * np.uint64(0x0102030405060708)).astype(dtype)
        if code[0] == 'i':
            a = a * np.array(-1 if n % 2 else 1).astype(dtype)
    elif code[0] == 'f':
        a = (np.arange(n) * 1.25 - 3.5).astype(dtype)
    else:
        a = (np.arange(n) * 0.5 + 1j * (np.arange(n) - 2.25)).astype(dtype)
    return a.astype(dtype).reshape(shape)


def record(file, entry, label, array):
    raw = label + '.raw'
    little = array.astype(array.dtype.newbyteorder('<'))
    with open(os.path.join(out, raw), 'wb') as f:
        f.write(little.tobytes(order='C'))
    code = array.dtype.str[1:]
    manifest.append('\t'.join([file, entry, raw, BRINE_NAMES[code],
                               ','.join(str(d) for d in array.shape)]))


def save(name, array, version=None):
    path = os.path.join(out, name + '.npy')
    with open(path, 'wb') as f:
        npformat.write_array(f, array, version=version)
    record(name + '.npy', '-', name, array)


# Every dtype brine reads, C order, little-endian.
for code in BRINE_NAMES:
    save('c_' + code, values(code, (2, 3)))
# Big-endian (numpy writes '>'; one-byte types have no order).
for code in ['i2', 'i4', 'i8', 'u2', 'u4', 'u8', 'f2', 'f4', 'f8', 'c8', 'c16']:
    save('be_' + code, values(code, (3, 2), '>'))
# Fortran order, also combined with big-endian.
save('fortran_f4', np.asfortranarray(values('f4', (2, 3, 4))))
save('fortran_be_i8', np.asfortranarray(values('i8', (3, 5), '>')))
save('fortran_c16', np.asfortranarray(values('c16', (4, 3))))
# 0-d and empty arrays.
save('scalar_f8', values('f8', ()))
save('empty_f4', values('f4', (0,)))
save('empty_i2', values('i2', (2, 0, 3)))
# Each format version, written by numpy's own writer.
for version in [(1, 0), (2, 0), (3, 0)]:
    save('version_%d_0' % version[0], values('f4', (4, 5)), version)
# A one-dimensional array, the commonest.
save('vector_u1', values('u1', (17,)))



# Headers numpy no longer writes: padded to 16 bytes (numpy before 1.x aligned to 16), and
# padded so the data starts at an odd offset (a writer that did not align it at all).
def save_with_data_at(name, array, modulus, remainder):
    text = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (array.dtype.str,
                                                                      array.shape)
    pad = 0
    while (10 + len(text) + pad + 1) % modulus != remainder:
        pad += 1
    header = text + ' ' * pad + '\n'
    with open(os.path.join(out, name + '.npy'), 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + len(header).to_bytes(2, 'little') + header.encode('latin1'))
        f.write(array.tobytes(order='C'))
    record(name + '.npy', '-', name, array)


save_with_data_at('aligned16_f8', values('f8', (5,)), 64, 16)
save_with_data_at('misaligned_f8', values('f8', (5,)), 8, 3)
save_with_data_at('misaligned_c16', values('c16', (2, 2)), 16, 5)

# .npz: stored (savez) and deflate (savez_compressed), names with '/' as numpy allows.
arrays = {'a': values('f4', (3, 4)), 'b': values('i8', (5,)), 'dir/c': values('c8', (2, 2)),
          'big_endian': values('f8', (2, 3), '>'), 'fortran': np.asfortranarray(values('i2', (3, 4)))}
for kind, fn in [('stored', np.savez), ('deflate', np.savez_compressed)]:
    fn(os.path.join(out, kind + '.npz'), **arrays)
    for key, array in arrays.items():
        record(kind + '.npz', key, kind + '_' + key.replace('/', '_'), array)

# ZIP64: numpy.savez writes ZIP64 records (through Python's zipfile) for entries, offsets
# or counts over the 32-bit limits; lowering zipfile's limits makes it write them for small
# arrays: ZIP64 extra fields in the local and central headers, and the ZIP64 end of central
# directory record and locator.
zip64 = {'x': values('f8', (6, 7)), 'y': values('u2', (9,))}
saved_limits = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 16, 1
try:
    for kind, fn in [('zip64_stored', np.savez), ('zip64_deflate', np.savez_compressed)]:
        fn(os.path.join(out, kind + '.npz'), **zip64)
        for key, array in zip64.items():
            record(kind + '.npz', key, kind + '_' + key, array)
finally:
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = saved_limits

with open(os.path.join(out, 'manifest.tsv'), 'w') as f:
    f.write('\n'.join(manifest) + '\n')
with open(os.path.join(out, 'numpy_version.txt'), 'w') as f:
    f.write(np.__version__ + '\n')
