#!/usr/bin/env python3
"""Writes a copy of a bench model whose 2-D matrices are K-quant blocks of random bits.

Neither `gguf` nor this project can quantize to the K-quants, and the benchmark only needs
the bytes of the right types and sizes: speed does not depend on the values. Blocks get
small f16 scales and random sub-block scales and quants, so the model computes finite
(meaningless) logits. Metadata, 1-D tensors and the tokenizer are copied unchanged.

    make_kquant_bench_model.py IN.gguf OUT.gguf [Q4_K | Q4_K_M]

Q4_K (the default) makes every matrix Q4_K. Q4_K_M follows llama-quantize's Q4_K_M mix:
Q6_K for output.weight and for attn_v / ffn_down in the layers that get more bits (the
first and last eighth of the layers and every third one between), Q4_K elsewhere.
"""
import re
import sys

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter, LlamaFileType

QK_K = 256
Q4_K, Q6_K = GGMLQuantizationType.Q4_K, GGMLQuantizationType.Q6_K


def random_blocks(qtype, n_rows, n_cols, rng):
    n_blocks = n_rows * (n_cols // QK_K)
    # d near 1/(16*16*sqrt(n_cols)) keeps a row's products near unit size.
    d = (rng.uniform(0.5, 1.5, n_blocks) / (16 * 16 * np.sqrt(n_cols))).astype(np.float16)
    d_bytes = d.view(np.uint8).reshape(n_blocks, 2)
    if qtype == Q4_K:   # d, dmin, scales[12], qs[128]
        blocks = rng.integers(0, 256, size=(n_blocks, 144), dtype=np.uint8)
        blocks[:, 0:2] = d_bytes
        blocks[:, 2:4] = (d * np.float16(0.5)).view(np.uint8).reshape(n_blocks, 2)
    else:               # ql[128], qh[64], scales[16] (int8), d
        blocks = rng.integers(0, 256, size=(n_blocks, 210), dtype=np.uint8)
        blocks[:, 192:208] = rng.integers(-32, 32, size=(n_blocks, 16), dtype=np.int8).view(np.uint8)
        blocks[:, 208:210] = d_bytes
    return blocks.reshape(n_rows, -1)


def more_bits(layer, n_layer):
    return layer < n_layer // 8 or layer >= 7 * n_layer // 8 or (layer - n_layer // 8) % 3 == 2


def tensor_type(name, mix, n_layer):
    if mix == "Q4_K":
        return Q4_K
    if name == "output.weight":
        return Q6_K
    m = re.match(r"blk\.(\d+)\.(attn_v|ffn_down)\.weight$", name)
    return Q6_K if m and more_bits(int(m.group(1)), n_layer) else Q4_K


def main():
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] not in ("Q4_K", "Q4_K_M")):
        sys.exit(__doc__)
    src, out = sys.argv[1:3]
    mix = sys.argv[3] if len(sys.argv) == 4 else "Q4_K"
    reader = GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    n_layer = int(reader.fields[f"{arch}.block_count"].contents())
    writer = GGUFWriter(out, arch)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name in ("general.architecture", "general.file_type"):
            continue
        kind = field.types[0]
        sub = field.types[1] if kind == GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
    writer.add_file_type(LlamaFileType.MOSTLY_Q4_K_M if mix == "Q4_K_M" else LlamaFileType.MOSTLY_Q4_K_S)
    rng = np.random.default_rng(1)
    for t in reader.tensors:
        if len(t.shape) == 2 and int(t.shape[0]) % QK_K == 0:
            n_cols, n_rows = int(t.shape[0]), int(t.shape[1])
            qtype = tensor_type(t.name, mix, n_layer)
            writer.add_tensor(t.name, random_blocks(qtype, n_rows, n_cols, rng), raw_dtype=qtype)
        else:
            writer.add_tensor(t.name, np.asarray(t.data), raw_dtype=t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
