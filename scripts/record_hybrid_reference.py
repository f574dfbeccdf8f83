#!/usr/bin/env python3
"""Record llama.cpp's outputs on the hybrid test models into tests/reference/hybrid/ (run by
hand; the tests and CI only read the JSON).

    /work/llcpp-venv/bin/python scripts/record_hybrid_reference.py [model-name ...]

For every model of make_hybrid_test_model.TEST_MODELS (made afresh into a temporary folder)
it runs record_moe_reference.record (same context settings, procedure and file format: see
that script and ../shared/reference/README.md) on PROMPTS below, which are long (90-130
tokens of the stories260K vocabulary) so that a prompt crosses several chunks of the
chunked delta rule and the recurrent state is carried between them: 32 greedy steps from
one-token decodes, and teacher forcing over the whole prompt plus 16 greedy tokens in one
decode. llama.cpp evaluates the prompt in one batch (its chunked form) and the greedy steps
one token at a time (its recurrent form); `noise` compares the two on the same tokens.
"""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_hybrid_test_model as gen  # noqa: E402
import record_moe_reference as rec  # noqa: E402

OUT = os.path.join(HERE, "..", "tests", "reference", "hybrid")
PROMPTS = [
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the sun. "
    "One day, she saw a big red ball in the park. She ran to the ball and kicked it very hard. "
    "The ball flew over the fence and into the garden of an old man. Lily was scared, but she "
    "went to the door and knocked.",
    "Tom and his mom went to the store to buy some food for dinner. Tom wanted to get a big box of "
    "candy, but his mom said no. Tom was sad and started to cry. Then his mom showed him a shiny "
    "green apple and said it was sweet and good for him. Tom took a bite and smiled, because",
    "The little bird sat on the branch and sang a happy song. A cat was watching from below. "
    "The cat wanted to catch the bird, so it climbed the tree very slowly. But the bird was smart. "
    "It saw the cat and flew away to a tall house. The cat was stuck in the tree and",
]
N_GEN = 32
N_PAST_PROMPT = 16


def main():
    rec.L.llama_backend_init()
    os.makedirs(OUT, exist_ok=True)
    only = set(sys.argv[1:])
    with tempfile.TemporaryDirectory() as tmp:
        for arch, type_name in gen.TEST_MODELS:
            name = gen.model_name(arch, type_name)
            if only and name not in only:
                continue
            path = os.path.join(tmp, name + ".gguf")
            gen.write_model(arch, type_name, path)
            rec.record(path, name, prompts=PROMPTS, n_gen=N_GEN, n_past_prompt=N_PAST_PROMPT, out=OUT)


if __name__ == "__main__":
    main()
