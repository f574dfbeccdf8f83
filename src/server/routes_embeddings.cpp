// Embeddings (with --embeddings): POST /v1/embeddings (OpenAI: "input", optional
// encoding_format "float" | "base64") and POST /embedding (llama-server native: "content",
// one row per token when the model's pooling is none). Each input runs as a task in its
// own slot sequence; rows are pooled by the model's pooling type (mean when the file does
// not say, which is what decoder models get) and L2-normalized like llama-server.
#include <cstring>

#include "server/errors.h"
#include "server/server_context.h"

namespace mmojo {

namespace {

std::string base64_floats(const std::vector<float>& values) {
    static const char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes(values.size() * sizeof(float), '\0');
    // Little-endian float32, as OpenAI's base64 format is decoded with numpy float32.
    for (size_t i = 0; i < values.size(); ++i) {
        uint32_t bits;
        std::memcpy(&bits, &values[i], 4);
        for (int b = 0; b < 4; ++b) bytes[i * 4 + size_t(b)] = char((bits >> (8 * b)) & 0xFF);
    }
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (size_t i = 0; i < bytes.size(); i += 3) {
        const uint32_t a = uint8_t(bytes[i]);
        const uint32_t b = i + 1 < bytes.size() ? uint8_t(bytes[i + 1]) : 0;
        const uint32_t c = i + 2 < bytes.size() ? uint8_t(bytes[i + 2]) : 0;
        const uint32_t triple = (a << 16) | (b << 8) | c;
        out += kTable[(triple >> 18) & 63];
        out += kTable[(triple >> 12) & 63];
        out += i + 1 < bytes.size() ? kTable[(triple >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? kTable[triple & 63] : '=';
    }
    return out;
}

Pooling model_pooling(const ServerContext& server) {
    const Pooling p = server.model->hparams().pooling;
    return p == Pooling::kUnspecified ? Pooling::kMean : p;
}

void require_embeddings(const ServerContext& server) {
    server.require_ready();
    if (!server.options.embeddings) {
        throw ApiError(ErrorType::kNotSupported,
                       "This server does not support embeddings. Start it with `--embeddings`");
    }
}

std::vector<TaskResult> run_embeddings(ServerContext& server, const std::vector<std::vector<int32_t>>& inputs,
                                       Pooling pooling, bool normalize) {
    auto channel = std::make_shared<TaskChannel>();
    for (size_t i = 0; i < inputs.size(); ++i) {
        auto task = std::make_shared<Task>();
        task->type = Task::Type::kEmbedding;
        task->index = int32_t(i);
        task->prompt = inputs[i];
        task->pooling = pooling;
        task->normalize = normalize;
        task->params.cache_prompt = false;
        task->channel = channel;
        server.scheduler->submit(task);
    }
    return wait_results(channel, inputs.size());
}

void handle_v1_embeddings(ServerContext& server, const HttpRequest& req, HttpResponse& res) {
    require_embeddings(server);
    const nlohmann::json body = parse_body(req.body);
    auto input = body.find("input");
    if (input == body.end()) input = body.find("content");
    if (input == body.end() || input->is_null()) throw ApiError(ErrorType::kInvalidRequest, "'input' is required");
    const std::string format = json_string(body, "encoding_format", "float");
    if (format != "float" && format != "base64") {
        throw ApiError(ErrorType::kInvalidRequest, "'encoding_format' must be \"float\" or \"base64\"");
    }
    const Pooling pooling = model_pooling(server);
    if (pooling == Pooling::kNone) {
        throw ApiError(ErrorType::kInvalidRequest,
                       "Pooling type 'none' is not OpenAI compatible. Please use a different pooling type");
    }
    auto inputs = tokenize_prompts(server, *input, true);
    for (const auto& p : inputs) validate_prompt(server, p);
    auto results = run_embeddings(server, inputs, pooling, true);
    nlohmann::json data = nlohmann::json::array();
    int32_t n_tokens = 0;
    for (const auto& r : results) {
        const auto& row = r.final.embedding.empty() ? std::vector<float>{} : r.final.embedding[0];
        nlohmann::json item = {{"object", "embedding"}, {"index", r.final.index}};
        if (format == "base64") {
            item["embedding"] = base64_floats(row);
        } else {
            item["embedding"] = row;
        }
        data.push_back(item);
        n_tokens += r.final.n_prompt;
    }
    res.set_json({{"object", "list"}, {"model", server.model_alias}, {"data", data},
                  {"usage", {{"prompt_tokens", n_tokens}, {"total_tokens", n_tokens}}}});
}

void handle_embedding(ServerContext& server, const HttpRequest& req, HttpResponse& res) {
    require_embeddings(server);
    const nlohmann::json body = parse_body(req.body);
    auto content = body.find("content");
    if (content == body.end()) content = body.find("input");
    if (content == body.end() || content->is_null()) {
        throw ApiError(ErrorType::kInvalidRequest, "'content' is required");
    }
    const Pooling pooling = model_pooling(server);
    // llama-server's embd_normalize: 2 = Euclidean (default), -1 = none.
    const int64_t norm = json_int(body, "embd_normalize", 2, -1, 2);
    if (norm != 2 && norm != -1) {
        throw ApiError(ErrorType::kInvalidRequest, "'embd_normalize' supports 2 (Euclidean) and -1 (none)");
    }
    auto inputs = tokenize_prompts(server, *content, true);
    for (const auto& p : inputs) validate_prompt(server, p);
    auto results = run_embeddings(server, inputs, pooling, norm == 2);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : results) out.push_back({{"index", r.final.index}, {"embedding", r.final.embedding}});
    res.set_json(out);
}

}  // namespace

void register_embedding_routes(Router& router, ServerContext& server) {
    ServerContext* s = &server;
    auto oai = [s](const HttpRequest& req, HttpResponse& res) { handle_v1_embeddings(*s, req, res); };
    router.add("POST", "/v1/embeddings", oai);
    auto native = [s](const HttpRequest& req, HttpResponse& res) { handle_embedding(*s, req, res); };
    router.add("POST", "/embedding", native);
    router.add("POST", "/embeddings", native);
}

}  // namespace mmojo
