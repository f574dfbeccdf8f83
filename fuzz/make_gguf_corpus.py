"""Writes the seed corpus of fuzz/gguf_fuzz.cpp into fuzz/corpus/gguf/ using Python's `gguf`
package (an independent writer). Each seed is a small valid GGUF file exercising one part of
the format; the replay driver then mutates them.

    .venv/bin/python fuzz/make_gguf_corpus.py
"""
from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

OUT = Path(__file__).resolve().parent / "corpus" / "gguf"
Q = gguf.GGMLQuantizationType


def raw_tensor(w: gguf.GGUFWriter, name: str, qtype: Q, shape: list[int], seed: int) -> None:
    """A tensor of `qtype` with random block bytes; `shape` is numpy order (rows, row length)."""
    block, nbytes = gguf.GGML_QUANT_SIZES[qtype]
    rows, cols = shape
    data = np.random.default_rng(seed).integers(0, 256, size=(rows, cols // block * nbytes),
                                                dtype=np.uint8)
    w.add_tensor(name, data, raw_dtype=qtype)


def write(name: str, build, alignment: int | None = None) -> None:
    path = OUT / name
    w = gguf.GGUFWriter(path, "llama")
    if alignment is not None:
        w.data_alignment = alignment
        w.add_uint32("general.alignment", alignment)
    build(w)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(path, path.stat().st_size, "bytes")


def all_value_types(w: gguf.GGUFWriter) -> None:
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -5)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -300)
    w.add_uint32("t.u32", 4000000000)
    w.add_int32("t.i32", -70000)
    w.add_float32("t.f32", 0.5)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "hello")
    w.add_uint64("t.u64", 2**63)
    w.add_int64("t.i64", -(2**40))
    w.add_float64("t.f64", 0.1)
    w.add_array("t.arr.i32", [1, 2, 3])
    w.add_array("t.arr.f32", [0.25, -1.0])
    w.add_array("t.arr.str", ["a", "bc", "def"])
    w.add_array("t.arr.nested", [[1, 2], [3], [4, 5, 6]])
    w.add_array("t.arr.nested2", [[["x"], ["y", "z"]]])
    raw_tensor(w, "a.f32", Q.F32, [2, 4], 1)


def small_model(w: gguf.GGUFWriter) -> None:
    w.add_block_count(1)
    w.add_context_length(64)
    w.add_embedding_length(32)
    w.add_head_count(2)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model("llama")
    w.add_token_list(["<unk>", "<s>", "</s>", "a", "b"])
    w.add_token_scores([0.0, 0.0, 0.0, -1.0, -2.0])
    w.add_token_types([2, 3, 3, 1, 1])
    raw_tensor(w, "token_embd.weight", Q.Q8_0, [5, 32], 2)
    raw_tensor(w, "blk.0.attn_norm.weight", Q.F32, [1, 32], 3)
    raw_tensor(w, "blk.0.attn_q.weight", Q.Q4_0, [2, 32], 4)
    raw_tensor(w, "blk.0.ffn_up.weight", Q.Q4_K, [1, 256], 5)
    raw_tensor(w, "output.weight", Q.F16, [3, 32], 6)


def vocab_only(w: gguf.GGUFWriter) -> None:
    w.add_tokenizer_model("gpt2")
    w.add_token_list(["!", "\"", "Ġthe", "ĠĠ", "<|endoftext|>"])
    w.add_token_merges(["Ġ t", "h e", "Ġt he"])
    w.add_bos_token_id(4)
    w.add_chat_template("{{ messages }}")  # last value ends in a nonzero byte (see main)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write("all_value_types.gguf", all_value_types)
    write("small_model.gguf", small_model)
    write("vocab_only.gguf", vocab_only)
    write("alignment_64.gguf", lambda w: raw_tensor(w, "x", Q.Q8_0, [2, 64], 7), alignment=64)
    write("empty.gguf", lambda w: None)
    # llama.cpp's vocab files end right after the metadata, without padding
    padded = (OUT / "vocab_only.gguf").read_bytes()
    (OUT / "vocab_unpadded.gguf").write_bytes(padded.rstrip(b"\0"))


if __name__ == "__main__":
    main()
