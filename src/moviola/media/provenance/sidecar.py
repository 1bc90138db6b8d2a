"""Sidecar manifests for what c2pa-python cannot embed into (Matroska, WebM, Ogg...): a manifest
store bound to the whole file by a SHA-256 data hash, through the C API's data-hashed signing,
which c2pa-python 0.38 ships in its library but does not wrap (its Builder.sign hashes only the
formats it can embed into)."""

from __future__ import annotations

import ctypes
import json
import os
from pathlib import Path
from typing import BinaryIO


def sidecar_path(path: str | os.PathLike) -> Path:
    """Where the sidecar manifest store of ``path`` goes: its whole name plus ``.c2pa``
    (``out.mkv.c2pa``, so that out.mkv and out.webm never share one; c2patool takes it with
    ``--external-manifest``)."""
    path = Path(path)
    return path.with_name(path.name + ".c2pa")


def data_hashed(c2pa, builder, signer, source: BinaryIO) -> bytes:
    """A manifest store for a sidecar, bound to the whole of ``source`` by a SHA-256 data hash
    (c2pa.hash.data with no exclusions): the C API's data-hashed signing, which c2pa-python
    0.38 does not wrap (its Builder.sign hashes only formats it can embed into)."""
    from c2pa import c2pa as native

    name = getattr(getattr(native, "_lib", None), "_name", None)
    if not name:
        raise c2pa.C2paError("this c2pa-python cannot write sidecar manifests")
    lib = ctypes.CDLL(name)  # the library c2pa loaded, with our own prototypes
    out = ctypes.POINTER(ctypes.c_ubyte)
    vp, cp = ctypes.c_void_p, ctypes.c_char_p
    placeholder = lib.c2pa_builder_data_hashed_placeholder
    placeholder.argtypes = [vp, ctypes.c_size_t, cp, ctypes.POINTER(out)]
    placeholder.restype = ctypes.c_int64
    sign_hashed = lib.c2pa_builder_sign_data_hashed_embeddable
    sign_hashed.argtypes = [vp, vp, cp, cp, vp, ctypes.POINTER(out)]
    sign_hashed.restype = ctypes.c_int64
    reserve = lib.c2pa_signer_reserve_size
    reserve.argtypes, reserve.restype = [vp], ctypes.c_int64
    b = ctypes.cast(builder._handle, vp)
    s = ctypes.cast(signer._handle, vp)
    fmt = b"application/c2pa"
    # no exclusions: the whole file; the hash is filled in from the stream
    fields = {"exclusions": [], "name": "jumbf manifest", "alg": "sha256", "hash": [], "pad": []}
    data_hash = json.dumps(fields)

    def check(n: int) -> int:
        if n < 0:
            raise c2pa.C2paError(native._read_native_error() or "data-hashed signing failed")
        return n

    got = out()
    check(placeholder(b, check(reserve(s)), fmt, ctypes.byref(got)))
    lib.c2pa_free(got)
    stream = c2pa.Stream(source)
    try:
        got = out()
        size = check(sign_hashed(b, s, data_hash.encode(), fmt, stream._stream, ctypes.byref(got)))
    finally:
        stream.close()
    try:
        return ctypes.string_at(got, size)
    finally:
        lib.c2pa_free(got)
