// The accepted-and-ignored flags of llama-server, as data rows. Names, value syntax,
// environment variables and sections are llama.cpp's (common/arg.cpp, as of the reference
// build in ../shared/reference/llama-server-flags.txt); descriptions are ours. A flag that
// mmojo-server implements is in options.cpp instead, never here.
#include "app/options_compat.h"

#include <charconv>
#include <sstream>

namespace mmojo {

namespace {

// Why a flag has no effect: one phrase each, shown in --help and in the notice.
constexpr const char* kCpuOnly = "mmojo-server computes on the CPU only";
constexpr const char* kPlacement = "threads are placed and scheduled by the operating system";
constexpr const char* kSpec = "speculative decoding is not implemented";
constexpr const char* kMedia = "image, audio and video input is not implemented";
constexpr const char* kAdapters = "LoRA adapters and control vectors are not implemented";
constexpr const char* kRouter = "the multi-model router is not implemented; run one server per model";
constexpr const char* kDownload = "models are not downloaded yet; give -m with a local GGUF file";
constexpr const char* kSampler = "this sampler is not part of mmojo's sampler chain";
constexpr const char* kChain = "the sampler chain has a fixed order";
constexpr const char* kFromModel = "RoPE and YaRN settings are read from the model file";
constexpr const char* kCacheLayout = "the KV cache is one buffer split evenly across the slots";
constexpr const char* kNoEffect = "it has no effect on mmojo's CPU kernels";
constexpr const char* kLogFormat = "log lines have one fixed format";
constexpr const char* kRemoved = "llama-server has removed this flag as well";
constexpr const char* kNotImpl = "not implemented in mmojo-server";
constexpr const char* kTools = "built-in agent tools and MCP are not implemented";
constexpr const char* kLoader = "the model file is always memory-mapped";

// kind: 'f' flag, 'b' on/off pair, 's' string, 'i' integer, '2' two values.
struct Row {
    const char* names;      // spellings, space-separated, ending with a "--" one
    const char* negatives;  // spellings that turn an on/off pair off, or ""
    char kind;
    const char* value;      // placeholder in --help
    const char* env;        // LLAMA_ARG_* variable, or ""
    OptionGroup group;
    const char* help;       // what the flag does in llama-server
    const char* why;        // why it does nothing here
};

constexpr OptionGroup C = OptionGroup::kCommon;
constexpr OptionGroup S = OptionGroup::kSampling;
constexpr OptionGroup P = OptionGroup::kSpeculative;
constexpr OptionGroup V = OptionGroup::kServer;

const Row kRows[] = {
    // ---- common ----
    {"-cl --cache-list", "", 'f', "", "", C, "list the models in the download cache and exit", kDownload},
    {"--completion-bash", "", 'f', "", "", C, "print a bash completion script and exit", kNotImpl},
    {"-C --cpu-mask", "", 's', "M", "", C, "CPU affinity mask (hex)", kPlacement},
    {"-Cr --cpu-range", "", 's', "lo-hi", "", C, "range of CPUs for affinity", kPlacement},
    {"--cpu-strict", "", 's', "<0|1>", "", C, "strict CPU placement", kPlacement},
    {"--prio", "", 'i', "N", "", C, "process/thread priority (-1 low to 3 realtime)", kPlacement},
    {"--poll", "", 's', "<0...100>", "", C, "polling level while waiting for work", kPlacement},
    {"-Cb --cpu-mask-batch", "", 's', "M", "", C, "CPU affinity mask for prompt processing", kPlacement},
    {"-Crb --cpu-range-batch", "", 's', "lo-hi", "", C, "CPU range for prompt processing", kPlacement},
    {"--cpu-strict-batch", "", 'i', "<0|1>", "", C, "strict CPU placement for prompt processing", kPlacement},
    {"--prio-batch", "", 'i', "N", "", C, "thread priority for prompt processing", kPlacement},
    {"--poll-batch", "", 'i', "<0|1>", "", C, "polling while waiting for prompt work", kPlacement},
    {"--swa-full", "", 'f', "", "LLAMA_ARG_SWA_FULL", C, "keep a full-size cache for sliding-window layers", kCacheLayout},
    {"-fa --flash-attn", "", 's', "[on|off|auto]", "LLAMA_ARG_FLASH_ATTN", C, "Flash Attention use", kNoEffect},
    {"--perf", "--no-perf", 'b', "", "LLAMA_ARG_PERF", C, "internal performance timings", "timings are always measured"},
    {"--rope-scaling", "", 's', "{none,linear,yarn}", "LLAMA_ARG_ROPE_SCALING_TYPE", C, "RoPE frequency scaling method", kFromModel},
    {"--rope-scale", "", 's', "N", "LLAMA_ARG_ROPE_SCALE", C, "RoPE context scaling factor", kFromModel},
    {"--rope-freq-base", "", 's', "N", "LLAMA_ARG_ROPE_FREQ_BASE", C, "RoPE base frequency", kFromModel},
    {"--rope-freq-scale", "", 's', "N", "LLAMA_ARG_ROPE_FREQ_SCALE", C, "RoPE frequency scaling factor", kFromModel},
    {"--yarn-orig-ctx", "", 'i', "N", "LLAMA_ARG_YARN_ORIG_CTX", C, "YaRN original context size", kFromModel},
    {"--yarn-ext-factor", "", 's', "N", "LLAMA_ARG_YARN_EXT_FACTOR", C, "YaRN extrapolation mix factor", kFromModel},
    {"--yarn-attn-factor", "", 's', "N", "LLAMA_ARG_YARN_ATTN_FACTOR", C, "YaRN attention magnitude scale", kFromModel},
    {"--yarn-beta-slow", "", 's', "N", "LLAMA_ARG_YARN_BETA_SLOW", C, "YaRN high correction dimension", kFromModel},
    {"--yarn-beta-fast", "", 's', "N", "LLAMA_ARG_YARN_BETA_FAST", C, "YaRN low correction dimension", kFromModel},
    {"-kvo --kv-offload", "-nkvo --no-kv-offload", 'b', "", "LLAMA_ARG_KV_OFFLOAD", C, "KV cache offloading to a GPU", kCpuOnly},
    {"--repack", "-nr --no-repack", 'b', "", "LLAMA_ARG_REPACK", C, "weight repacking into backend layouts", kNoEffect},
    {"--no-host", "", 'f', "", "LLAMA_ARG_NO_HOST", C, "bypass the host buffer", kCpuOnly},
    {"-dt --defrag-thold", "", 's', "N", "LLAMA_ARG_DEFRAG_THOLD", C, "KV cache defragmentation threshold (deprecated)", kRemoved},
    {"--rpc", "", 's', "SERVERS", "LLAMA_ARG_RPC", C, "RPC servers to offload to", kCpuOnly},
    {"-lzm --lazy-mode", "", 's', "MODE", "LLAMA_ARG_LAZY_MODE", C, "read some large tensors on demand", kLoader},
    {"-dio --direct-io", "-ndio --no-direct-io", 'b', "", "LLAMA_ARG_DIO", C, "read the model with direct I/O", kLoader},
    {"--numa", "", 's', "TYPE", "LLAMA_ARG_NUMA", C, "NUMA strategy (distribute, isolate, numactl)", kPlacement},
    {"-dev --device", "", 's', "<dev1,dev2,..>", "LLAMA_ARG_DEVICE", C, "devices to offload to", kCpuOnly},
    {"--list-devices", "", 'f', "", "", C, "list the offload devices and exit", kCpuOnly},
    {"-ot --override-tensor", "", 's', "<tensor name pattern>=<buffer type>,...", "LLAMA_ARG_OVERRIDE_TENSOR", C, "buffer type per tensor", kCpuOnly},
    {"-cmoe --cpu-moe", "", 'f', "", "LLAMA_ARG_CPU_MOE", C, "keep expert weights on the CPU", kCpuOnly},
    {"-ncmoe --n-cpu-moe", "", 'i', "N", "LLAMA_ARG_N_CPU_MOE", C, "keep the experts of the first N layers on the CPU", kCpuOnly},
    {"-ncffn --n-cpu-ffn", "", 'i', "N", "LLAMA_ARG_N_CPU_FFN", C, "keep the FFN weights of the first N layers on the CPU", kCpuOnly},
    {"-ngl --gpu-layers --n-gpu-layers", "", 's', "N", "LLAMA_ARG_N_GPU_LAYERS", C, "layers to store in VRAM", kCpuOnly},
    {"-sm --split-mode", "", 's', "{none,layer,row,tensor}", "LLAMA_ARG_SPLIT_MODE", C, "how to split the model across GPUs", kCpuOnly},
    {"-ts --tensor-split", "", 's', "N0,N1,N2,...", "LLAMA_ARG_TENSOR_SPLIT", C, "share of the model per GPU", kCpuOnly},
    {"-mg --main-gpu", "", 'i', "INDEX", "LLAMA_ARG_MAIN_GPU", C, "the GPU for the model or intermediate results", kCpuOnly},
    {"-fit --fit", "", 's', "[on|off]", "LLAMA_ARG_FIT", C, "adjust unset arguments to fit device memory", kCpuOnly},
    {"-fitt --fit-target", "", 's', "MiB0,MiB1,MiB2,...", "LLAMA_ARG_FIT_TARGET", C, "memory margin per device for --fit", kCpuOnly},
    {"-fitc --fit-ctx", "", 'i', "N", "LLAMA_ARG_FIT_CTX", C, "smallest context --fit may choose", kCpuOnly},
    {"--check-tensors", "", 'f', "", "", C, "check tensor data for invalid values", kNotImpl},
    {"--override-kv", "", 's', "KEY=TYPE:VALUE,...", "", C, "override model metadata", kNotImpl},
    {"--op-offload", "--no-op-offload", 'b', "", "", C, "offload host tensor operations to a device", kCpuOnly},
    {"--lora", "", 's', "FNAME", "", C, "LoRA adapter", kAdapters},
    {"--lora-scaled", "", 's', "FNAME:SCALE,...", "", C, "LoRA adapter with a scale", kAdapters},
    {"--control-vector", "", 's', "FNAME", "", C, "control vector", kAdapters},
    {"--control-vector-scaled", "", 's', "FNAME:SCALE,...", "", C, "control vector with a scale", kAdapters},
    {"--control-vector-layer-range", "", '2', "START END", "", C, "layers the control vectors apply to", kAdapters},
    {"-mu --model-url", "", 's', "MODEL_URL", "LLAMA_ARG_MODEL_URL", C, "download the model from this URL", kDownload},
    {"-dr --docker-repo", "", 's', "[<repo>/]<model>[:quant]", "LLAMA_ARG_DOCKER_REPO", C, "model from Docker Hub", kDownload},
    {"-hf -hfr --hf-repo", "", 's', "<user>/<model>[:quant]", "LLAMA_ARG_HF_REPO", C, "model from a Hugging Face repository", kDownload},
    {"-hff --hf-file", "", 's', "FILE", "LLAMA_ARG_HF_FILE", C, "file in the Hugging Face repository", kDownload},
    {"-hft --hf-token", "", 's', "TOKEN", "HF_TOKEN", C, "Hugging Face access token", kDownload},
    {"--offline", "", 'f', "", "LLAMA_ARG_OFFLINE", C, "never use the network, only the cache", "nothing is ever downloaded"},
    {"--log-jsonl", "--no-log-jsonl", 'b', "", "LLAMA_ARG_LOG_JSONL", C, "log as JSON lines", kLogFormat},
    {"--log-colors", "", 's', "[on|off|auto]", "LLAMA_ARG_LOG_COLORS", C, "colored log lines", kLogFormat},
    {"--log-prefix", "--no-log-prefix", 'b', "", "LLAMA_ARG_LOG_PREFIX", C, "a level prefix on log lines", kLogFormat},
    {"--log-timestamps", "--no-log-timestamps", 'b', "", "LLAMA_ARG_LOG_TIMESTAMPS", C, "timestamps on log lines", kLogFormat},
    {"-ctkd --spec-draft-type-k --cache-type-k-draft", "", 's', "TYPE", "LLAMA_ARG_SPEC_DRAFT_CACHE_TYPE_K", C, "draft model's K cache type", kSpec},
    {"-ctvd --spec-draft-type-v --cache-type-v-draft", "", 's', "TYPE", "LLAMA_ARG_SPEC_DRAFT_CACHE_TYPE_V", C, "draft model's V cache type", kSpec},

    // ---- sampling ----
    {"--samplers", "", 's', "SAMPLERS", "", S, "samplers in order, separated by ';'", kChain},
    {"--sampler-seq --sampling-seq", "", 's', "SEQUENCE", "", S, "sampler order as one letter each", kChain},
    {"--top-nsigma --top-n-sigma", "", 's', "N", "", S, "top-n-sigma sampling", kSampler},
    {"--xtc-probability", "", 's', "N", "", S, "XTC probability", kSampler},
    {"--xtc-threshold", "", 's', "N", "", S, "XTC threshold", kSampler},
    {"--dry-multiplier", "", 's', "N", "", S, "DRY multiplier", kSampler},
    {"--dry-base", "", 's', "N", "", S, "DRY base", kSampler},
    {"--dry-allowed-length", "", 'i', "N", "", S, "DRY allowed length", kSampler},
    {"--dry-penalty-last-n", "", 'i', "N", "", S, "DRY window", kSampler},
    {"--dry-sequence-breaker", "", 's', "STRING", "", S, "DRY sequence breaker", kSampler},
    {"--adaptive-target", "", 's', "N", "", S, "adaptive-p target probability", kSampler},
    {"--adaptive-decay", "", 's', "N", "", S, "adaptive-p decay", kSampler},
    {"--dynatemp-range", "", 's', "N", "", S, "dynamic temperature range", kSampler},
    {"--dynatemp-exp", "", 's', "N", "", S, "dynamic temperature exponent", kSampler},
    {"--mirostat", "", 'i', "N", "", S, "Mirostat version (0 off, 1, 2)", kSampler},
    {"--mirostat-lr", "", 's', "N", "", S, "Mirostat learning rate (eta)", kSampler},
    {"--mirostat-ent", "", 's', "N", "", S, "Mirostat target entropy (tau)", kSampler},
    {"-bs --backend-sampling", "", 'f', "", "LLAMA_ARG_BACKEND_SAMPLING", S, "sample on the compute backend", kCpuOnly},

    // ---- speculative ----
    {"-hfd -hfrd --spec-draft-hf --hf-repo-draft", "", 's', "<user>/<model>[:quant]", "LLAMA_ARG_SPEC_DRAFT_HF_REPO", P, "draft model from Hugging Face", kSpec},
    {"-td --spec-draft-threads --threads-draft", "", 'i', "N", "", P, "draft model threads", kSpec},
    {"-tbd --spec-draft-threads-batch --threads-batch-draft", "", 'i', "N", "", P, "draft model prompt threads", kSpec},
    {"-Cd --spec-draft-cpu-mask --cpu-mask-draft", "", 's', "M", "", P, "draft model CPU mask", kSpec},
    {"-Crd --spec-draft-cpu-range --cpu-range-draft", "", 's', "lo-hi", "", P, "draft model CPU range", kSpec},
    {"--spec-draft-cpu-strict --cpu-strict-draft", "", 'i', "<0|1>", "", P, "draft model strict placement", kSpec},
    {"--spec-draft-prio --prio-draft", "", 'i', "N", "", P, "draft model priority", kSpec},
    {"--spec-draft-poll --poll-draft", "", 'i', "<0|1>", "", P, "draft model polling", kSpec},
    {"-Cbd --spec-draft-cpu-mask-batch --cpu-mask-batch-draft", "", 's', "M", "", P, "draft model prompt CPU mask", kSpec},
    {"-Crbd --spec-draft-cpu-range-batch --cpu-range-batch-draft", "", 's', "lo-hi", "", P, "draft model prompt CPU range", kSpec},
    {"--spec-draft-cpu-strict-batch --cpu-strict-batch-draft", "", 'i', "<0|1>", "", P, "draft model prompt strict placement", kSpec},
    {"--spec-draft-prio-batch --prio-batch-draft", "", 'i', "N", "", P, "draft model prompt priority", kSpec},
    {"--spec-draft-poll-batch --poll-batch-draft", "", 'i', "<0|1>", "", P, "draft model prompt polling", kSpec},
    {"-otd --spec-draft-override-tensor --override-tensor-draft", "", 's', "<tensor name pattern>=<buffer type>,...", "", P, "draft model buffer types", kSpec},
    {"-cmoed --spec-draft-cpu-moe --cpu-moe-draft", "", 'f', "", "LLAMA_ARG_SPEC_DRAFT_CPU_MOE", P, "draft model experts on the CPU", kSpec},
    {"-ncmoed --spec-draft-n-cpu-moe --spec-draft-ncmoe --n-cpu-moe-draft", "", 'i', "N", "LLAMA_ARG_SPEC_DRAFT_N_CPU_MOE", P, "draft model experts of N layers on the CPU", kSpec},
    {"--spec-draft-n-max", "", 'i', "N", "LLAMA_ARG_SPEC_DRAFT_N_MAX", P, "most tokens to draft", kSpec},
    {"--spec-draft-n-min", "", 'i', "N", "LLAMA_ARG_SPEC_DRAFT_N_MIN", P, "fewest tokens to draft", kSpec},
    {"--spec-synth-len", "", 's', "L", "LLAMA_ARG_SPEC_SYNTH_LEN", P, "synthetic acceptance length (benchmarks)", kSpec},
    {"--spec-synth-rates", "", 's', "P0,P1,...", "LLAMA_ARG_SPEC_SYNTH_RATES", P, "synthetic acceptance rates (benchmarks)", kSpec},
    {"--spec-draft-p-split --draft-p-split", "", 's', "P", "LLAMA_ARG_SPEC_DRAFT_P_SPLIT", P, "draft split probability", kSpec},
    {"--spec-draft-p-min --draft-p-min", "", 's', "P", "LLAMA_ARG_SPEC_DRAFT_P_MIN", P, "lowest draft probability", kSpec},
    {"--spec-draft-backend-sampling", "--no-spec-draft-backend-sampling", 'b', "", "LLAMA_ARG_SPEC_DRAFT_BACKEND_SAMPLING", P, "draft sampling on the backend", kSpec},
    {"-devd --spec-draft-device --device-draft", "", 's', "<dev1,dev2,..>", "", P, "draft model devices", kSpec},
    {"-ngld --spec-draft-ngl --gpu-layers-draft --n-gpu-layers-draft", "", 's', "N", "LLAMA_ARG_N_GPU_LAYERS_DRAFT", P, "draft model layers in VRAM", kSpec},
    {"-md --spec-draft-model --model-draft", "", 's', "FNAME", "LLAMA_ARG_SPEC_DRAFT_MODEL", P, "draft model", kSpec},
    {"--spec-type", "", 's', "TYPES", "LLAMA_ARG_SPEC_TYPE", P, "kinds of speculative decoding", kSpec},
    {"--spec-ngram-mod-n-min", "", 'i', "N", "", P, "fewest n-gram draft tokens", kSpec},
    {"--spec-ngram-mod-n-max", "", 'i', "N", "", P, "most n-gram draft tokens", kSpec},
    {"--spec-ngram-mod-n-match", "", 'i', "N", "", P, "n-gram lookup length", kSpec},
    {"--spec-ngram-simple-size-n", "", 'i', "N", "", P, "simple n-gram lookup length", kSpec},
    {"--spec-ngram-simple-size-m", "", 'i', "N", "", P, "simple n-gram draft length", kSpec},
    {"--spec-ngram-simple-min-hits", "", 'i', "N", "", P, "simple n-gram fewest hits", kSpec},
    {"--spec-ngram-map-k-size-n", "", 'i', "N", "", P, "map-k n-gram lookup length", kSpec},
    {"--spec-ngram-map-k-size-m", "", 'i', "N", "", P, "map-k n-gram draft length", kSpec},
    {"--spec-ngram-map-k-min-hits", "", 'i', "N", "", P, "map-k n-gram fewest hits", kSpec},
    {"--spec-ngram-map-k4v-size-n", "", 'i', "N", "", P, "map-k4v n-gram lookup length", kSpec},
    {"--spec-ngram-map-k4v-size-m", "", 'i', "N", "", P, "map-k4v n-gram draft length", kSpec},
    {"--spec-ngram-map-k4v-min-hits", "", 'i', "N", "", P, "map-k4v n-gram fewest hits", kSpec},
    {"--draft --draft-n --draft-max", "", 'i', "N", "LLAMA_ARG_DRAFT_MAX", P, "old name of --spec-draft-n-max", kRemoved},
    {"--draft-min --draft-n-min", "", 'i', "N", "LLAMA_ARG_DRAFT_MIN", P, "old name of --spec-draft-n-min", kRemoved},
    {"--spec-ngram-size-n", "", 'i', "N", "", P, "old n-gram lookup length", kRemoved},
    {"--spec-ngram-size-m", "", 'i', "N", "", P, "old n-gram draft length", kRemoved},
    {"--spec-ngram-min-hits", "", 'i', "N", "", P, "old n-gram fewest hits", kRemoved},

    // ---- server ----
    {"-mm --mmproj", "", 's', "FILE", "LLAMA_ARG_MMPROJ", V, "multimodal projector file", kMedia},
    {"-mmu --mmproj-url", "", 's', "URL", "LLAMA_ARG_MMPROJ_URL", V, "URL of a multimodal projector file", kMedia},
    {"--mmproj-offload", "--no-mmproj-offload", 'b', "", "LLAMA_ARG_MMPROJ_OFFLOAD", V, "GPU offload of the multimodal projector", kMedia},
    {"-mmdev --mmproj-device", "", 's', "DEVICE", "MTMD_BACKEND_DEVICE", V, "device for the multimodal projector", kMedia},
    {"--image-min-tokens", "", 'i', "N", "LLAMA_ARG_IMAGE_MIN_TOKENS", V, "fewest tokens per image", kMedia},
    {"--image-max-tokens", "", 'i', "N", "LLAMA_ARG_IMAGE_MAX_TOKENS", V, "most tokens per image", kMedia},
    {"--video-fps", "", 's', "N", "LLAMA_ARG_VIDEO_FPS", V, "video frame rate to sample", kMedia},
    {"--video-timestamp-interval", "", 'i', "N", "LLAMA_ARG_VIDEO_TIMESTAMP_INTERVAL", V, "milliseconds between video timestamps", kMedia},
    {"--video-ffmpeg-dir", "", 's', "DIR", "LLAMA_ARG_VIDEO_FFMPEG_DIR", V, "where ffmpeg and ffprobe are", kMedia},
    {"-lcs --lookup-cache-static", "", 's', "FNAME", "", V, "static lookup-decoding cache", kSpec},
    {"-lcd --lookup-cache-dynamic", "", 's', "FNAME", "", V, "dynamic lookup-decoding cache", kSpec},
    {"--kv-unified-per-slot", "", 'i', "N", "LLAMA_ARG_KV_UNIFIED_PER_SLOT", V, "context limit per slot in a unified cache", kCacheLayout},
    {"-ctxcp --ctx-checkpoints --swa-checkpoints", "", 'i', "N", "LLAMA_ARG_CTX_CHECKPOINTS", V, "context checkpoints per slot", kCacheLayout},
    {"-cms --checkpoint-min-step", "", 'i', "N", "LLAMA_ARG_CHECKPOINT_MIN_SPACING_NT", V, "fewest tokens between checkpoints", kCacheLayout},
    {"-cram --cache-ram", "", 'i', "N", "LLAMA_ARG_CACHE_RAM", V, "MiB of RAM for the prompt cache", kCacheLayout},
    {"-kvu --kv-unified", "-no-kvu --no-kv-unified", 'b', "", "LLAMA_ARG_KV_UNIFIED", V, "one KV buffer shared by all sequences", kCacheLayout},
    {"--cache-idle-slots", "--no-cache-idle-slots", 'b', "", "LLAMA_ARG_CACHE_IDLE_SLOTS", V, "save idle slots to the prompt cache", kCacheLayout},
    {"--context-shift", "--no-context-shift", 'b', "", "LLAMA_ARG_CONTEXT_SHIFT", V, "shift the context when it is full", "generation stops when the context is full"},
    {"-r --reverse-prompt", "", 's', "PROMPT", "", V, "stop at PROMPT (interactive tools)", "use the request's \"stop\" field"},
    {"-sp --special", "", 'f', "", "", V, "print special tokens", kNotImpl},
    {"--warmup", "--no-warmup", 'b', "", "", V, "an empty warm-up run at start", "no warm-up run is made"},
    {"--spm-infill", "", 'f', "", "", V, "suffix/prefix/middle order for infill", kNotImpl},
    {"--pooling", "", 's', "{none,mean,cls,last,rank}", "LLAMA_ARG_POOLING", V, "pooling of embeddings", "the model file's pooling is used"},
    {"--mmproj-auto", "--no-mmproj --no-mmproj-auto", 'b', "", "LLAMA_ARG_MMPROJ_AUTO", V, "use a projector file when available", kMedia},
    {"--mtmd-batch-max-tokens", "", 'i', "N", "LLAMA_ARG_MTMD_BATCH_MAX_TOKENS", V, "image tokens per batch", kMedia},
    {"--tags", "", 's', "STRING", "LLAMA_ARG_TAGS", V, "informational model tags", kNotImpl},
    {"--embd-normalize", "", 'i', "N", "", V, "embedding normalisation", "embeddings are normalised per request"},
    {"--reuse-port", "", 'f', "", "LLAMA_ARG_REUSE_PORT", V, "let several sockets bind the port", kNotImpl},
    {"--cors-origins", "", 's', "ORIGINS", "LLAMA_ARG_CORS_ORIGINS", V, "allowed CORS origins", kNotImpl},
    {"--cors-methods", "", 's', "METHODS", "LLAMA_ARG_CORS_METHODS", V, "allowed CORS methods", kNotImpl},
    {"--cors-headers", "", 's', "HEADERS", "LLAMA_ARG_CORS_HEADERS", V, "allowed CORS headers", kNotImpl},
    {"--cors-credentials", "--no-cors-credentials", 'b', "", "LLAMA_ARG_CORS_CREDENTIALS", V, "allow CORS credentials", kNotImpl},
    {"--api-prefix", "", 's', "PREFIX", "LLAMA_ARG_API_PREFIX", V, "path prefix of every endpoint", kNotImpl},
    {"--ui-config --webui-config", "", 's', "JSON", "LLAMA_ARG_UI_CONFIG", V, "default settings of llama.cpp's web UI", "mmojo has its own web UI"},
    {"--ui-config-file --webui-config-file", "", 's', "PATH", "LLAMA_ARG_UI_CONFIG_FILE", V, "file of web UI defaults", "mmojo has its own web UI"},
    {"--ui-mcp-proxy --webui-mcp-proxy", "--no-ui-mcp-proxy --no-webui-mcp-proxy", 'b', "", "LLAMA_ARG_UI_MCP_PROXY", V, "MCP CORS proxy for the web UI", kTools},
    {"--tools", "", 's', "TOOL1,TOOL2,...", "LLAMA_ARG_TOOLS", V, "built-in agent tools", kTools},
    {"--tools-runtime", "", 's', "OPTION", "LLAMA_ARG_TOOLS_RUNTIME", V, "where built-in tools run", kTools},
    {"--mcp-servers-config", "", 's', "PATH", "LLAMA_ARG_MCP_SERVERS_CONFIG", V, "MCP server definitions file", kTools},
    {"--mcp-servers-json", "", 's', "JSON", "LLAMA_ARG_MCP_SERVERS_JSON", V, "MCP server definitions", kTools},
    {"-ag --agent", "-no-ag --no-agent", 'b', "", "LLAMA_ARG_AGENT", V, "CORS proxy and all built-in tools", kTools},
    {"--rerank --reranking", "", 'f', "", "LLAMA_ARG_RERANKING", V, "the reranking endpoint", kNotImpl},
    {"--sse-ping-interval", "", 'i', "N", "LLAMA_ARG_SSE_PING_INTERVAL", V, "seconds between SSE pings", kNotImpl},
    {"--cache-prompt", "--no-cache-prompt", 'b', "", "LLAMA_ARG_CACHE_PROMPT", V, "reuse a slot's cached prompt", "each slot always reuses its cached prompt prefix"},
    {"--cache-reuse", "", 'i', "N", "LLAMA_ARG_CACHE_REUSE", V, "reuse cache chunks by KV shifting", kCacheLayout},
    {"--props", "", 'f', "", "LLAMA_ARG_ENDPOINT_PROPS", V, "allow POST /props", kNotImpl},
    {"--slot-save-path", "", 's', "PATH", "", V, "where slots are saved", kNotImpl},
    {"--media-path", "", 's', "PATH", "", V, "folder of local media files", kMedia},
    {"--models-dir", "", 's', "PATH", "LLAMA_ARG_MODELS_DIR", V, "models of the router", kRouter},
    {"--models-preset", "", 's', "PATH", "LLAMA_ARG_MODELS_PRESET", V, "model presets of the router", kRouter},
    {"--models-max", "", 'i', "N", "LLAMA_ARG_MODELS_MAX", V, "models the router keeps loaded", kRouter},
    {"--models-autoload", "--no-models-autoload", 'b', "", "LLAMA_ARG_MODELS_AUTOLOAD", V, "router loads models on demand", kRouter},
    {"-rea --reasoning", "", 's', "[on|off|auto]", "LLAMA_ARG_REASONING", V, "reasoning in the chat", kNotImpl},
    {"--reasoning-budget-message", "", 's', "MESSAGE", "LLAMA_ARG_THINK_BUDGET_MESSAGE", V, "text injected when the budget runs out", kNotImpl},
    {"--reasoning-preserve", "--no-reasoning-preserve", 'b', "", "LLAMA_ARG_REASONING_PRESERVE", V, "keep reasoning in the history", kNotImpl},
    {"--skip-chat-parsing", "--no-skip-chat-parsing", 'b', "", "LLAMA_ARG_SKIP_CHAT_PARSING", V, "plain content parser only", kNotImpl},
    {"--prefill-assistant", "--no-prefill-assistant", 'b', "", "LLAMA_ARG_PREFILL_ASSISTANT", V, "continue a final assistant message", kNotImpl},
    {"-sps --slot-prompt-similarity", "", 's', "SIMILARITY", "", V, "prompt match needed to reuse a slot", kNotImpl},
    {"--lora-init-without-apply", "", 'f', "", "", V, "load adapters without applying them", kAdapters},
    {"--sleep-idle-seconds", "", 'i', "SECONDS", "", V, "sleep after this many idle seconds", kNotImpl},
    {"--log-prompts-dir", "", 's', "PATH", "", V, "log prompts to this folder", kNotImpl},
    {"--embd-gemma-default", "", 'f', "", "", V, "download and serve EmbeddingGemma", kDownload},
    {"--fim-qwen-1.5b-default", "", 'f', "", "", V, "download and serve Qwen 2.5 Coder 1.5B", kDownload},
    {"--fim-qwen-3b-default", "", 'f', "", "", V, "download and serve Qwen 2.5 Coder 3B", kDownload},
    {"--fim-qwen-7b-default", "", 'f', "", "", V, "download and serve Qwen 2.5 Coder 7B", kDownload},
    {"--fim-qwen-7b-spec", "", 'f', "", "", V, "Qwen 2.5 Coder 7B with a draft model", kDownload},
    {"--fim-qwen-14b-spec", "", 'f', "", "", V, "Qwen 2.5 Coder 14B with a draft model", kDownload},
    {"--fim-qwen-30b-default", "", 'f', "", "", V, "download and serve Qwen 3 Coder 30B A3B", kDownload},
    {"--gpt-oss-20b-default", "", 'f', "", "", V, "download and serve gpt-oss-20b", kDownload},
    {"--gpt-oss-120b-default", "", 'f', "", "", V, "download and serve gpt-oss-120b", kDownload},
    {"--vision-gemma-4b-default", "", 'f', "", "", V, "download and serve Gemma 3 4B", kDownload},
    {"--vision-gemma-12b-default", "", 'f', "", "", V, "download and serve Gemma 3 12B", kDownload},
    {"--spec-default", "", 'f', "", "", V, "default speculative decoding settings", kSpec},
};

std::vector<std::string> split_words(const char* text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

// llama-server reads these values with std::stoi: an optional sign, then digits.
void check_integer(const std::string& flag, const std::string& value) {
    int v = 0;
    const char* first = value.data();
    const char* last = first + value.size();
    if (first != last && *first == '+') ++first;
    auto [ptr, ec] = std::from_chars(first, last, v);
    if (value.empty() || ec != std::errc() || ptr != last) {
        throw OptionsError("invalid value '" + value + "' for " + flag + ": expected an integer");
    }
}

OptionSpec spec_of(const Row& r) {
    OptionSpec s;
    s.names = split_words(r.names);
    s.negative_names = split_words(r.negatives);
    s.value_name = r.value;
    s.group = r.group;
    s.env = r.env;
    s.help = std::string(r.help) + " (ignored: " + r.why + ")";
    switch (r.kind) {
        case 'i': s.kind = ValueKind::kInt; break;
        case 's': s.kind = ValueKind::kString; break;
        case '2': s.kind = ValueKind::kTwo; break;
        default: s.kind = ValueKind::kNone; break;
    }
    const bool integer = r.kind == 'i';
    const std::string why = r.why;
    s.apply = [integer, why](Options& o, const std::string& flag, const std::string& value) {
        if (integer) check_integer(flag, value);
        o.notices.push_back(ignored_notice(flag, why));
    };
    return s;
}

}  // namespace

std::string ignored_notice(const std::string& flag, std::string_view why) {
    return "notice: " + flag + " is accepted for compatibility with llama-server and ignored: " + std::string(why);
}

void add_compat_options(std::vector<OptionSpec>& table) {
    for (const Row& r : kRows) table.push_back(spec_of(r));
}

}  // namespace mmojo
