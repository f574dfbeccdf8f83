#!/usr/bin/env python3
"""Times llama.cpp on the same files and machine as `bench`, for same-day ratios.

The figures in shared/reference/perf.md were taken on another day, when this VM's memory
bandwidth was different; generation speed follows the bandwidth. This script measures
llama.cpp itself through PyPI's llama-cpp-python, whose install builds llama.cpp from
source for this CPU (OpenMP, repacking, llamafile's sgemm: the defaults perf.md used);
bench/README.md gives the install command (its CPU flags leave out AMX, which crashed).

    build/llama-cpp-venv/bin/python bench/llama_cpp_reference.py -m MODEL [-m ...] -t 1,2

It runs what llama-bench runs for `-p 128 -n 64`: ppN = one batch of N random tokens from an
empty cache (n_batch 2048, n_ubatch 512), tgN = N one-token decodes from an empty cache, each
once untimed and then -r times; it prints the median, min and max tokens/s. The K/V cache is
F16 (the default of both programs).
"""
import argparse
import random
import statistics
import time

import llama_cpp


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-m", "--model", action="append", required=True)
    p.add_argument("-t", "--threads", default="1,2")
    p.add_argument("-p", "--n-prompt", type=int, default=128)
    p.add_argument("-n", "--n-gen", type=int, default=64)
    p.add_argument("-r", "--repetitions", type=int, default=5)
    return p.parse_args()


def timed(llm, tokens, one_at_a_time):
    llm.reset()   # n_tokens = 0: eval drops the cached positions from there on
    start = time.perf_counter()
    if one_at_a_time:
        for tok in tokens:
            llm.eval([tok])
    else:
        llm.eval(tokens)
    return len(tokens) / (time.perf_counter() - start)


def main():
    a = parse_args()
    print(f"llama-cpp-python {llama_cpp.__version__}; system info: {llama_cpp.llama_print_system_info().decode()}")
    print("| model | test | t | t/s median | min | max |")
    print("|---|---|---|---|---|---|")
    for path in a.model:
        for threads in [int(t) for t in a.threads.split(",")]:
            llm = llama_cpp.Llama(model_path=path, n_ctx=2048, n_batch=2048, n_ubatch=512, n_threads=threads,
                                  n_threads_batch=threads, verbose=False)
            n_vocab = llm.n_vocab()
            rng = random.Random(1)
            for name, n, one in (("pp", a.n_prompt, False), ("tg", a.n_gen, True)):
                if n <= 0:
                    continue
                tokens = [rng.randrange(1, n_vocab) for _ in range(n)]
                timed(llm, tokens, one)
                runs = [timed(llm, tokens, one) for _ in range(a.repetitions)]
                print(f"| {path.rsplit('/', 1)[-1]} | {name}{n} | {threads} | {statistics.median(runs):.2f} | "
                      f"{min(runs):.2f} | {max(runs):.2f} |", flush=True)
            del llm


if __name__ == "__main__":
    main()
