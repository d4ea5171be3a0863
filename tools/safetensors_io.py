#!/usr/bin/python3
"""Minimal reader/writer for the safetensors format.

Debian ships no `safetensors` Python package, and ctresnet only needs dense
tensors, so the format is implemented here directly. Output is byte-identical
to the official library's: tensors are laid out by descending dtype alignment,
then by name, so every tensor starts at a multiple of its element size; the
header is compact JSON padded with spaces to a multiple of 8 bytes.

The reader validates the whole header (offsets contiguous, sizes consistent
with dtype and shape) because it also checks files written by the C++ side.
"""
import contextlib
import json
import os
import struct
import sys
import tempfile
from pathlib import Path

import torch

if sys.byteorder != "little":
    raise ImportError("safetensors_io assumes a little-endian host")

# In the official library's enum order, which is increasing alignment; the
# writer sorts by this rank (descending), as the official library does.
DTYPES = {
    "BOOL": torch.bool,
    "U8": torch.uint8,
    "I8": torch.int8,
    "I16": torch.int16,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I32": torch.int32,
    "F32": torch.float32,
    "F64": torch.float64,
    "I64": torch.int64,
}
_NAME_OF_DTYPE = {dtype: name for name, dtype in DTYPES.items()}
_RANK_OF_NAME = {name: rank for rank, name in enumerate(DTYPES)}
_MAX_HEADER_BYTES = 100_000_000  # same limit as the official reader
_UMASK = os.umask(0)
os.umask(_UMASK)


def _element_size(dtype_name):
    return torch.empty((), dtype=DTYPES[dtype_name]).element_size()


def _as_bytes(tensor):
    """Raw little-endian C-order bytes; viewed as uint8 so BF16 needs no numpy support."""
    flat = tensor.detach().cpu().contiguous().reshape(-1)
    return flat.view(torch.uint8).numpy()


def save_file(tensors, path, metadata=None):
    """Write `tensors` (name -> torch.Tensor) to `path`, atomically (see atomic_output)."""
    entries = []
    for name, tensor in tensors.items():
        if tensor.dtype not in _NAME_OF_DTYPE:
            raise TypeError(f"tensor {name!r}: dtype {tensor.dtype} has no safetensors equivalent here")
        entries.append((name, _NAME_OF_DTYPE[tensor.dtype], tensor))
    entries.sort(key=lambda entry: (-_RANK_OF_NAME[entry[1]], entry[0]))

    header = {}
    if metadata:
        header["__metadata__"] = {str(key): str(value) for key, value in sorted(metadata.items())}
    offset = 0
    for name, dtype_name, tensor in entries:
        size = tensor.numel() * tensor.element_size()
        header[name] = {"dtype": dtype_name, "shape": list(tensor.shape), "data_offsets": [offset, offset + size]}
        offset += size
    header_bytes = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)

    with atomic_output(path, "wb") as out:
        out.write(struct.pack("<Q", len(header_bytes)))
        out.write(header_bytes)
        for _, _, tensor in entries:
            out.write(_as_bytes(tensor))


@contextlib.contextmanager
def atomic_output(path, mode):
    """Yield a file that replaces `path` only once it is completely written.

    An interrupted writer thus never leaves a truncated file under the final
    name (a SIGKILL can leave a hidden .NAME.*.tmp behind, nothing else).
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the usual permissions
        with os.fdopen(fd, mode) as out:
            yield out
        os.replace(tmp_name, path)
    except BaseException:
        os.unlink(tmp_name)
        raise


def _reject_duplicate_names(pairs):
    names = [name for name, _ in pairs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"duplicate tensor names in header: {duplicates}")
    return dict(pairs)


def _parse_header(blob, where):
    """Return (metadata, [(name, dtype_name, shape, begin, end)] sorted by offset), validated."""
    if len(blob) < 8:
        raise ValueError(f"{where}: file is {len(blob)} bytes, shorter than the 8-byte header length")
    (header_len,) = struct.unpack_from("<Q", blob, 0)
    if header_len > _MAX_HEADER_BYTES or 8 + header_len > len(blob):
        raise ValueError(f"{where}: header length {header_len} does not fit in a {len(blob)}-byte file")
    try:
        header = json.loads(bytes(blob[8 : 8 + header_len]).decode("utf-8"), object_pairs_hook=_reject_duplicate_names)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{where}: header is not valid UTF-8 JSON: {error}") from None
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{where}: header is a JSON {type(header).__name__}, not an object")

    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        raise ValueError(f"{where}: __metadata__ must map strings to strings")

    entries = []
    for name, info in header.items():
        problem = _entry_problem(info)
        if problem:
            raise ValueError(f"{where}: tensor {name!r}: {problem}")
        begin, end = info["data_offsets"]
        entries.append((name, info["dtype"], info["shape"], begin, end))
    entries.sort(key=lambda entry: (entry[3], entry[4]))

    data_len = len(blob) - 8 - header_len
    expected_begin = 0
    for name, dtype_name, shape, begin, end in entries:
        if begin != expected_begin:
            raise ValueError(f"{where}: tensor {name!r} starts at {begin}, expected {expected_begin} (gap or overlap)")
        numel = 1
        for dim in shape:
            numel *= dim
        if end - begin != numel * _element_size(dtype_name):
            raise ValueError(
                f"{where}: tensor {name!r}: {end - begin} bytes but {dtype_name}{shape} needs "
                f"{numel * _element_size(dtype_name)}"
            )
        expected_begin = end
    if expected_begin != data_len:
        raise ValueError(f"{where}: tensors cover {expected_begin} data bytes, file holds {data_len}")
    return metadata or {}, entries


def _entry_problem(info):
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        return "entry must be an object with exactly dtype, shape, data_offsets"
    if info["dtype"] not in DTYPES:
        return f"unsupported dtype {info['dtype']!r} (supported: {', '.join(DTYPES)})"
    shape, offsets = info["shape"], info["data_offsets"]
    if not (isinstance(shape, list) and all(type(dim) is int and dim >= 0 for dim in shape)):
        return f"shape {shape!r} is not a list of non-negative integers"
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(type(o) is int for o in offsets)
        and 0 <= offsets[0] <= offsets[1]
    ):
        return f"data_offsets {offsets!r} is not [begin, end] with 0 <= begin <= end"
    return None


def load_file_with_metadata(path):
    """Return (tensors, metadata) from a safetensors file; tensors own their memory."""
    with open(path, "rb") as source:
        blob = bytearray(source.read())  # writable, so torch.frombuffer does not warn
    metadata, entries = _parse_header(blob, str(path))
    data_start = 8 + struct.unpack_from("<Q", blob, 0)[0]
    tensors = {}
    for name, dtype_name, shape, begin, end in entries:
        dtype = DTYPES[dtype_name]
        if begin == end:  # torch.frombuffer rejects empty ranges
            tensors[name] = torch.empty(shape, dtype=dtype)
        else:
            raw = torch.frombuffer(blob, dtype=torch.uint8, count=end - begin, offset=data_start + begin)
            tensors[name] = raw.clone().view(dtype).reshape(shape)
    return tensors, metadata


def load_file(path):
    """Return the tensors (name -> torch.Tensor) stored in a safetensors file."""
    return load_file_with_metadata(path)[0]
