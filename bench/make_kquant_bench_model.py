#!/usr/bin/env python3
"""Writes a copy of a bench model whose 2-D matrices are Q4_K blocks of random bits.

Neither `gguf` nor this project can quantize to the K-quants, and the benchmark only needs
the bytes of the right type and size: speed does not depend on the values. Each 144-byte
Q4_K block gets small positive f16 scales (d, dmin) and random 6-bit sub-block scales and
4-bit quants, so the model computes finite (meaningless) logits. Metadata, 1-D tensors and
the tokenizer are copied unchanged.

    make_kquant_bench_model.py IN.gguf OUT.gguf
"""
import sys

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter, LlamaFileType

Q4_K_BLOCK_BYTES, Q4_K_BLOCK_ELEMENTS = 144, 256


def random_q4_k(n_rows, n_cols, rng):
    n_blocks = n_rows * (n_cols // Q4_K_BLOCK_ELEMENTS)
    blocks = rng.integers(0, 256, size=(n_blocks, Q4_K_BLOCK_BYTES), dtype=np.uint8)
    # d around 1/(16*64*sqrt(n_cols)) keeps the products near unit size; dmin a bit smaller.
    d = (rng.uniform(0.5, 1.5, n_blocks) / (16 * 16 * np.sqrt(n_cols))).astype(np.float16)
    blocks[:, 0:2] = d.view(np.uint8).reshape(n_blocks, 2)
    blocks[:, 2:4] = (d * np.float16(0.5)).view(np.uint8).reshape(n_blocks, 2)
    return blocks.reshape(n_rows, -1)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1:]
    reader = GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    writer = GGUFWriter(out, arch)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name in ("general.architecture", "general.file_type"):
            continue
        kind = field.types[0]
        sub = field.types[1] if kind == GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
    writer.add_file_type(LlamaFileType.MOSTLY_Q4_K_M)
    rng = np.random.default_rng(1)
    for t in reader.tensors:
        n_cols, n_rows = (int(t.shape[0]), int(t.shape[1])) if len(t.shape) == 2 else (0, 0)
        if len(t.shape) == 2 and n_cols % Q4_K_BLOCK_ELEMENTS == 0:
            data = random_q4_k(n_rows, n_cols, rng)
            writer.add_tensor(t.name, data, raw_dtype=GGMLQuantizationType.Q4_K)
        else:
            writer.add_tensor(t.name, np.asarray(t.data), raw_dtype=t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
