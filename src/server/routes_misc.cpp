// Informational and utility endpoints: GET /health, /props, /v1/models (/models), /slots
// (--slots), /metrics (--metrics, Prometheus text format 0.0.4), POST /tokenize and
// /detokenize, and the static web UI (with a loading page while the model loads).
#include <cstdio>
#include <sstream>

#include "kernels/dispatch.h"
#include "server/errors.h"
#include "server/server_context.h"
#include "base/utf8.h"
#include "server/sse.h"

namespace mmojo {

namespace {

void handle_health(ServerContext& server, const HttpRequest&, HttpResponse& res) {
    switch (server.state.load()) {
        case ServerState::kReady: res.set_json({{"status", "ok"}}); return;
        case ServerState::kLoading: {
            // "progress" (0..1) is our addition for the loading page.
            res.set_json(error_body(ErrorType::kUnavailable, "Loading model",
                                    {{"progress", server.load_progress.load()}}),
                         503);
            return;
        }
        case ServerState::kFailed:
            res.set_json(error_body(ErrorType::kServer, "Model failed to load: " + server.load_error), 500);
            return;
    }
}

nlohmann::json slot_defaults_json(const ServerContext& server) {
    return {{"id", 0}, {"id_task", -1}, {"n_ctx", server.scheduler->n_ctx_slot()}, {"speculative", false},
            {"is_processing", false}, {"params", generation_settings_json(server.defaults)}};
}

void handle_props(ServerContext& server, const HttpRequest&, HttpResponse& res) {
    server.require_ready();
    const Tokenizer& tok = server.tokenizer();
    res.set_json({
        {"default_generation_settings", slot_defaults_json(server)},
        {"total_slots", server.scheduler->n_slots()},
        {"model_path", server.model_path},
        {"model_alias", server.model_alias},
        {"chat_template", server.chat_template_source},
        {"bos_token", tok.bos() >= 0 ? tok.token_text(tok.bos()) : ""},
        {"eos_token", tok.eos() >= 0 ? tok.token_text(tok.eos()) : ""},
        {"build_info", build_info()},
        {"cpu_kernels", cpu_level_name(selected_cpu_level())},
        {"cpu_features", cpu_features()},
        {"modalities", {{"vision", false}, {"video", false}, {"audio", false}}},
        {"endpoint_slots", server.options.slots},
        {"endpoint_props", false},   // POST /props (--props) is not implemented
        {"endpoint_metrics", server.options.metrics},
        {"ui", server.ui != nullptr},
        {"ui_settings", nlohmann::json::object()},
        {"webui", server.ui != nullptr},   // the older name of "ui"
        {"cors_proxy_enabled", false},
        {"is_sleeping", false},
    });
}

nlohmann::json model_meta(const ServerContext& server) {
    const Model& m = *server.model;
    const ModelHparams& hp = m.hparams();
    const std::string& tm = m.tokenizer().model_name();
    nlohmann::json meta = {
        {"vocab_type", tm == "llama" ? 1 : tm == "gpt2" ? 2 : tm == "bert" ? 3 : 0},
        {"n_vocab", hp.n_vocab},
        {"n_ctx_train", hp.n_ctx_train},
        {"n_ctx", server.context->n_ctx()},
        {"n_embd", hp.n_embd},
        {"n_params", m.n_params()},
        {"size", m.size_bytes()},
    };
    // GGUF general.* keys, named as in the file (absent ones are null).
    for (const char* key : {"architecture", "type", "name", "version", "finetune", "basename",
                            "size_label", "license"}) {
        const std::string full = std::string("general.") + key;
        const GgufValue* v = m.gguf().find(full);
        meta[full] = v && v->type == GgufValueType::kString ? nlohmann::json(v->as_string())
                                                            : nlohmann::json(nullptr);
    }
    // The quantization as the file records it (llama_ftype number), null when absent; the
    // model panel names it with details.quantization_level below.
    const GgufValue* file_type = m.gguf().find("general.file_type");
    meta["general.file_type"] = file_type && file_type->is_integer() ? nlohmann::json(file_type->as_u64())
                                                                     : nlohmann::json(nullptr);
    return meta;
}

void handle_models(ServerContext& server, const HttpRequest&, HttpResponse& res) {
    server.require_ready();
    const std::string& id = server.model_alias;
    res.set_json({
        {"object", "list"},
        {"data", nlohmann::json::array({{{"id", id}, {"object", "model"}, {"created", server.created},
                                         {"owned_by", "mmojo"}, {"meta", model_meta(server)}}})},
        {"models", nlohmann::json::array({{{"name", id}, {"model", id}, {"modified_at", ""}, {"size", ""},
                                           {"digest", ""}, {"type", "model"}, {"description", ""},
                                           {"tags", nlohmann::json::array({""})},
                                           {"capabilities", nlohmann::json::array({"completion"})},
                                           {"parameters", ""},
                                           {"details", {{"parent_model", ""}, {"format", "gguf"}, {"family", ""},
                                                        {"families", nlohmann::json::array({""})},
                                                        {"parameter_size", ""},
                                                        {"quantization_level", server.model->type_label()}}}}})},
    });
}

void handle_slots(ServerContext& server, const HttpRequest&, HttpResponse& res) {
    if (!server.options.slots) {
        throw ApiError(ErrorType::kNotSupported, "This server does not support slots endpoint. Start it with `--slots`");
    }
    server.require_ready();
    res.set_json(nlohmann::json(server.scheduler->slots()));
}

void metric(std::ostringstream& out, const char* name, const char* type, const char* help, double value) {
    out << "# HELP llamacpp:" << name << " " << help << "\n";
    out << "# TYPE llamacpp:" << name << " " << type << "\n";
    out << "llamacpp:" << name << " " << value << "\n";
}

void handle_metrics(ServerContext& server, const HttpRequest&, HttpResponse& res) {
    if (!server.options.metrics) {
        throw ApiError(ErrorType::kNotSupported, "This server does not support metrics endpoint. Start it with `--metrics`");
    }
    server.require_ready();
    const SchedulerMetrics m = server.scheduler->metrics();
    std::ostringstream out;
    out.precision(10);
    metric(out, "prompt_tokens_total", "counter", "Number of prompt tokens processed.", double(m.prompt_tokens_total));
    metric(out, "prompt_seconds_total", "counter", "Prompt process time", m.prompt_seconds_total);
    metric(out, "tokens_predicted_total", "counter", "Number of generation tokens processed.",
           double(m.tokens_predicted_total));
    metric(out, "tokens_predicted_seconds_total", "counter", "Predict process time", m.tokens_predicted_seconds_total);
    metric(out, "n_decode_total", "counter", "Total number of llama_decode() calls", double(m.n_decode_total));
    metric(out, "requests_total", "counter", "Number of requests received.", double(m.requests_total));
    metric(out, "n_busy_slots_per_decode", "gauge", "Average number of busy slots per llama_decode() call",
           m.n_decode_total ? double(m.n_busy_slots_total) / double(m.n_decode_total) : 0.0);
    metric(out, "prompt_tokens_seconds", "gauge", "Average prompt throughput in tokens/s.",
           m.prompt_seconds_total > 0 ? double(m.prompt_tokens_total) / m.prompt_seconds_total : 0.0);
    metric(out, "predicted_tokens_seconds", "gauge", "Average generation throughput in tokens/s.",
           m.tokens_predicted_seconds_total > 0 ? double(m.tokens_predicted_total) / m.tokens_predicted_seconds_total
                                                : 0.0);
    metric(out, "kv_cache_usage_ratio", "gauge", "KV-cache usage. 1 means 100 percent usage.",
           m.n_ctx ? double(m.kv_cache_tokens) / double(m.n_ctx) : 0.0);
    metric(out, "kv_cache_tokens", "gauge", "KV-cache tokens.", double(m.kv_cache_tokens));
    metric(out, "requests_processing", "gauge", "Number of requests processing.", m.requests_processing);
    metric(out, "requests_deferred", "gauge", "Number of requests deferred.", m.requests_deferred);
    res.status = 200;
    res.content_type = "text/plain; version=0.0.4";
    res.body = out.str();
}

// /tokenize takes texts up to this size (about 2M tokens); the rest of the body limit
// would only buy a long wait and a big answer.
constexpr size_t kMaxTokenizeBytes = 8u << 20;

void handle_tokenize(ServerContext& server, const HttpRequest& req, HttpResponse& res) {
    server.require_ready();
    const nlohmann::json body = parse_body(req.body);
    const Tokenizer& tok = server.tokenizer();
    auto content = body.find("content");
    if (content == body.end() || !content->is_string()) {
        throw ApiError(ErrorType::kInvalidRequest, "'content' must be a string");
    }
    const bool add_special = json_bool(body, "add_special", false);
    const bool parse_special = json_bool(body, "parse_special", true);
    const bool with_pieces = json_bool(body, "with_pieces", false);
    const std::string& text = content->get_ref<const std::string&>();
    if (text.size() > kMaxTokenizeBytes) {
        throw ApiError(ErrorType::kPayloadTooLarge, "'content' has " + std::to_string(text.size()) +
                                                        " bytes; /tokenize takes at most " +
                                                        std::to_string(kMaxTokenizeBytes));
    }
    const auto ids = tok.encode(text, add_special, parse_special);
    // Written as text, not as a JSON value per token: a node per token and piece cost
    // ~1 KB each, 3 GB for a 10 MB text.
    std::string out = "{\"tokens\":[";
    out.reserve(out.size() + ids.size() * (with_pieces ? 24 : 7));
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) out += ',';
        if (!with_pieces) {
            out += std::to_string(ids[i]);
            continue;
        }
        const std::string piece = tok.token_to_piece(ids[i], true);
        // Valid UTF-8 pieces are strings; partial characters are byte lists.
        out += "{\"id\":" + std::to_string(ids[i]) + ",\"piece\":";
        out += dump_json(utf8_valid(piece) ? nlohmann::json(piece) : bytes_array(piece));
        out += '}';
    }
    out += "]}";
    res.status = 200;
    res.content_type = "application/json; charset=utf-8";
    res.body = std::move(out);
}

void handle_detokenize(ServerContext& server, const HttpRequest& req, HttpResponse& res) {
    server.require_ready();
    const nlohmann::json body = parse_body(req.body);
    const Tokenizer& tok = server.tokenizer();
    auto tokens = body.find("tokens");
    if (tokens == body.end() || !tokens->is_array()) {
        throw ApiError(ErrorType::kInvalidRequest, "'tokens' must be a list of token ids");
    }
    std::vector<int32_t> ids;
    for (const auto& t : *tokens) {
        if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= tok.n_vocab()) {
            throw ApiError(ErrorType::kInvalidRequest, "'tokens' must hold ids in [0, " +
                                                           std::to_string(tok.n_vocab()) + ")");
        }
        ids.push_back(int32_t(t.get<int64_t>()));
    }
    res.set_json({{"content", tok.decode(ids, true)}});
}

const char kBuiltinLoadingPage[] = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>Loading model</title>
<style>body{font-family:sans-serif;margin:20vh auto;max-width:30em;text-align:center}
progress{width:100%}</style></head>
<body><h1>Loading model&hellip;</h1><progress id="p" max="1" value="0"></progress>
<script>
async function poll(){
  try{const r=await fetch('health');
    if(r.ok){location.reload();return}
    const j=await r.json();if(j.error&&j.error.progress!==undefined)document.getElementById('p').value=j.error.progress;
  }catch(e){}
  setTimeout(poll,500);
}
poll();
</script></body></html>
)";

void handle_static(ServerContext& server, const HttpRequest& req, HttpResponse& res) {
    auto path = sanitize_ui_path(req.path);
    if (!path) throw ApiError(ErrorType::kNotFound, "File Not Found");
    const bool loading = server.state.load() != ServerState::kReady;
    if (loading && *path == "index.html") {
        std::optional<Blob> page = server.ui ? server.ui->get("loading.html") : std::nullopt;
        res.status = 503;
        res.content_type = "text/html; charset=utf-8";
        res.body = page ? page->data : std::string(kBuiltinLoadingPage);
        res.headers.emplace_back("Cache-Control", "no-store");
        return;
    }
    if (!server.ui) throw ApiError(ErrorType::kNotFound, "File Not Found");
    auto blob = server.ui->get(*path);
    if (!blob) throw ApiError(ErrorType::kNotFound, "File Not Found");
    res.status = 200;
    res.content_type = blob->content_type.empty() ? content_type_for(*path) : blob->content_type;
    res.body = std::move(blob->data);
}

}  // namespace

void register_misc_routes(Router& router, ServerContext& server) {
    ServerContext* s = &server;
    auto bind = [s](void (*fn)(ServerContext&, const HttpRequest&, HttpResponse&)) {
        return [s, fn](const HttpRequest& req, HttpResponse& res) { fn(*s, req, res); };
    };
    router.add("GET", "/health", bind(handle_health), true);
    router.add("GET", "/v1/health", bind(handle_health), true);
    router.add("GET", "/props", bind(handle_props));
    router.add("GET", "/v1/models", bind(handle_models));
    router.add("GET", "/models", bind(handle_models));
    router.add("GET", "/slots", bind(handle_slots));
    router.add("GET", "/metrics", bind(handle_metrics));
    router.add("POST", "/tokenize", bind(handle_tokenize));
    router.add("POST", "/detokenize", bind(handle_detokenize));
    router.set_fallback(bind(handle_static));
}

}  // namespace mmojo
