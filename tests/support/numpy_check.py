#!/usr/bin/env python3
# numpy_check.py DIR: numpy loads what brine wrote. DIR/manifest.tsv lists one array a line
# (file, entry or '-', raw file, numpy dtype string, shape comma-separated); each must load
# with numpy.load with that dtype and shape, and its C-order little-endian bytes must equal
# the raw file, which brine wrote from the same tensor. A .npy must also be byte for byte
# what numpy.save writes for the array it holds, and must open memory-mapped.
# A line whose dtype is 'json' names an entry of a ZIP (an object .npz's __brine__.json) that
# Python's json module must parse to what it parses from the raw file.
# Exits 0 when all agree; prints every disagreement and exits 1 otherwise.
import io
import json
import os
import zipfile
import sys

import numpy as np

root = sys.argv[1]
failures = []
checked = 0
with open(os.path.join(root, 'manifest.tsv')) as f:
    lines = [line.rstrip('\n').split('\t') for line in f if line.strip()]
for file, entry, raw, dtype, shape in lines:
    path = os.path.join(root, file)
    shape = tuple(int(d) for d in shape.split(',')) if shape else ()
    where = file if entry == '-' else file + ':' + entry
    try:
        if dtype == 'json':
            with zipfile.ZipFile(path) as z:
                parsed = json.loads(z.read(entry).decode('utf-8'))
            with open(os.path.join(root, raw), 'rb') as g:
                if parsed != json.loads(g.read().decode('utf-8')):
                    failures.append('%s: the JSON differs from %s' % (where, raw))
            checked += 1
            continue
        if entry == '-':
            array = np.load(path)
            mapped = np.load(path, mmap_mode='r')
            if not np.array_equal(np.asarray(mapped), array, equal_nan=True):
                failures.append('%s: the memory-mapped load differs' % where)
            out = io.BytesIO()
            np.save(out, array)
            with open(path, 'rb') as g:
                if out.getvalue() != g.read():
                    failures.append('%s: numpy.save writes other bytes for this array' % where)
        else:
            with np.load(path) as z:
                array = z[entry]
        if array.dtype != np.dtype(dtype):
            failures.append('%s: dtype %s, expected %s' % (where, array.dtype.str, dtype))
        if array.shape != shape:
            failures.append('%s: shape %r, expected %r' % (where, array.shape, shape))
        with open(os.path.join(root, raw), 'rb') as g:
            expected = g.read()
        if array.astype(array.dtype.newbyteorder('<')).tobytes(order='C') != expected:
            failures.append('%s: the values differ from %s' % (where, raw))
        checked += 1
    except Exception as e:  # a failure to load is a disagreement to report, not a crash
        failures.append('%s: numpy.load failed: %r' % (where, e))
for failure in failures:
    print('numpy_check: ' + failure)
print('numpy_check: %d arrays checked, %d disagreements' % (checked, len(failures)))
sys.exit(1 if failures or checked != len(lines) else 0)
