#!/usr/bin/env python3
"""Record llama.cpp's outputs on the attention-only family test models into
tests/reference/families/ (run by hand; the tests and CI only read the JSON).

Needs llama-cpp-python (it holds a llama.cpp build) plus numpy and gguf, e.g.
    /work/llcpp-venv/bin/python scripts/record_family_reference.py [NAME...]

The procedure, prompts, settings and file format are those of scripts/record_moe_reference.py
(whose Runner, record and ablation this script calls): for each model of
make_family_test_model.TEST_MODELS, made afresh into a temporary folder, <name>.topk.json
(teacher-forced top-10 log-probabilities with llama.cpp's own batched-versus-one-token
noise per position) and <name>.greedy.json (48 greedy one-token steps with margins).
ablations.json: each F16 model rebuilt with one feature off (make_family_test_model.ABLATIONS),
run by llama.cpp over the same tokens: top-1 changes and the largest top-10 change.
"""
import json
import os
import sys
import tempfile

import llama_cpp as L

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_family_test_model as gen  # noqa: E402
import record_moe_reference as rec  # noqa: E402

OUT = os.path.join(HERE, "..", "tests", "reference", "families")


def main():
    L.llama_backend_init()
    os.makedirs(OUT, exist_ok=True)
    only = set(sys.argv[1:])
    path_ablations = os.path.join(OUT, "ablations.json")
    ablations = {}
    if os.path.exists(path_ablations):
        with open(path_ablations) as f:
            ablations = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        for arch, type_name in gen.TEST_MODELS:
            name = gen.model_name(arch, type_name)
            if only and name not in only:
                continue
            path = os.path.join(tmp, name + ".gguf")
            gen.write_model(arch, type_name, path)
            topk = rec.record(path, name, OUT)
            if type_name != "F16":
                continue
            ablations[name] = {}
            for feature in gen.ABLATIONS[arch]:
                ablated = os.path.join(tmp, f"{name}-{feature}.gguf")
                gen.write_model(arch, type_name, ablated, ablate=[feature])
                ablations[name][feature] = rec.ablation(ablated, topk)
                print(f"  {feature}: {ablations[name][feature]}")
    with open(path_ablations, "w") as f:
        json.dump(dict(sorted(ablations.items())), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
