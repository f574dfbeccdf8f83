// run_server: lifecycle of the HTTP server (see server.h). The socket is bound before the
// model loads so clients and the loading page can watch /health; the model, context,
// scheduler and chat template are created on a loader thread; a signal stops the accept
// loop, then the scheduler (waiting clients get a 503 error event).
#include "server/server.h"

#include "app/model_source.h"
#include "base/free_memory.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "base/memory_lock.h"
#include "server/http_server.h"
#include "server/server_context.h"

namespace mmojo {

namespace {

std::atomic<int> g_signal_count{0};

extern "C" void on_signal(int) {
    if (g_signal_count.fetch_add(1) >= 1) std::_Exit(130);   // second ^C: leave now
}

std::string model_alias(const Options& options, const std::string& model_path) {
    if (!options.alias.empty()) return options.alias;
    return std::filesystem::path(model_path).filename().string();
}

std::string pick_chat_template(const Options& options, const Model& model) {
    const std::string& given = options.chat_template;
    if (!given.empty()) {
        if (given.find("{%") != std::string::npos || given.find("{{") != std::string::npos) return given;
        if (given == "chatml") return chatml_template_source();
        throw std::runtime_error("unknown --chat-template name '" + given +
                                 "' (give Jinja source or one of: chatml)");
    }
    const std::string from_model = model.chat_template();
    return from_model.empty() ? chatml_template_source() : from_model;
}

void load(ServerContext& server) {
    const Options& o = server.options;
    ModelLoadOptions load_options;
    load_options.progress = [&server](float f) {
        server.load_progress.store(f);
        if (g_signal_count.load() > 0) throw std::runtime_error("interrupted");
    };
    LoadedModel loaded = load_model(o.model, load_options);
    server.model = std::move(loaded.model);
    server.model_path = loaded.display;
    if (o.mlock) {
        const std::string why = lock_mapped_memory();
        if (!why.empty()) std::fprintf(stderr, "warning: --mlock: %s\n", why.c_str());
    }

    ContextParams cp;
    cp.n_ctx = o.n_ctx;
    cp.n_ctx_max = o.n_ctx_max;
    cp.n_seq = uint32_t(std::max(1, o.n_parallel));
    cp.n_batch = std::max(1u, o.n_batch);
    cp.n_ubatch = std::max(1u, o.n_ubatch);
    cp.n_threads = o.n_threads;
    cp.n_threads_batch = o.n_threads_batch;
    cp.type_k = o.cache_type_k;
    cp.type_v = o.cache_type_v;
    // --embeddings makes the context return hidden states instead of logits, so the
    // server then only serves the embedding endpoints (as the option says).
    cp.embeddings = o.embeddings;
    server.context = std::make_unique<Context>(*server.model, cp);

    server.chat_template_source = pick_chat_template(o, *server.model);
    try {
        server.chat_template = std::make_unique<ChatTemplate>(server.chat_template_source);
    } catch (const ChatTemplateError& e) {
        std::fprintf(stderr, "warning: the model's chat template does not parse (%s); using ChatML\n", e.what());
        server.chat_template_source = chatml_template_source();
        server.chat_template = std::make_unique<ChatTemplate>(server.chat_template_source);
    }
    server.chat_syntax = detect_chat_syntax(server.chat_template_source);
    server.chat_syntax.reasoning_format = reasoning_format_from_name(o.reasoning_format);
    server.tool_call_rendering = probe_tool_call_rendering(*server.chat_template);
    if (!o.chat_template_kwargs.empty()) {
        server.default_template_kwargs = nlohmann::ordered_json::parse(o.chat_template_kwargs);
    }
    if (!o.reasoning_effort.empty()) server.default_template_kwargs["reasoning_effort"] = o.reasoning_effort;
    if (o.verbosity > 0) {
        std::fprintf(stderr, "chat format: tool calls %s, thinking %s\n", tool_format_name(server.chat_syntax.tools),
                     server.chat_syntax.think_start.empty() ? "none" : server.chat_syntax.think_start.c_str());
    }

    server.defaults.sampling = o.sampling;
    server.defaults.n_predict = o.n_predict;
    server.defaults.n_keep = o.n_keep;
    server.defaults.ignore_eos = o.ignore_eos;
    if (!o.grammar.empty()) {
        try {
            server.defaults.grammar_rules = Grammar::parse(o.grammar);
            server.defaults.grammar = o.grammar;
        } catch (const GrammarError& e) {
            throw std::runtime_error(std::string("--grammar: ") + e.what());
        }
    }
    SchedulerOptions so;
    so.n_slots = int32_t(cp.n_seq);
    so.batch_sleep_ms = o.batch_sleep_ms;
    so.n_batch = int32_t(cp.n_batch);
    // llama-server caps each request's n_predict at -n when -n is positive.
    so.n_predict_max = o.n_predict > 0 ? o.n_predict : -1;
    so.cont_batching = o.cont_batching;
    so.verbose = o.verbosity > 0;
    server.scheduler = std::make_unique<Scheduler>(*server.context, so);
    const Tokenizer& tok = server.model->tokenizer();
    if (tok.model_name() == "llama" || tok.model_name() == "gpt2") {
        size_t longest = 4;   // an unknown character (up to 4 bytes) may become one <unk>
        for (int32_t id = 0; id < tok.n_vocab(); ++id) longest = std::max(longest, tok.token_text(id).size());
        server.max_token_bytes = longest;
    }
    server.model_alias = model_alias(o, server.model_path);
    server.created = unix_time();
}

}  // namespace

int run_server(const Options& options) {
    keep_large_blocks_unmapped();
    ServerContext server;
    server.options = options;
    if (options.webui) {
        server.ui = options.static_path.empty() ? make_embedded_ui_source()
                                                : make_directory_ui_source(options.static_path);
    }

    Router router;
    router.set_api_keys(options.api_keys);
    register_misc_routes(router, server);
    register_completion_routes(router, server);
    register_chat_routes(router, server);
    register_embedding_routes(router, server);

    HttpServerOptions ho;
    ho.host = options.host;
    ho.port = options.port;
    // --timeout bounds a client that stops reading a response; requests themselves must
    // arrive within the front's own deadlines (seconds, see http_server.h).
    ho.write_timeout_s = options.timeout_s;
    if (options.n_threads_http > 0) {
        ho.max_connections = options.n_threads_http;
        ho.max_connections_per_address = std::min(ho.max_connections_per_address, ho.max_connections);
    }
    ho.ssl_key_file = options.ssl_key_file;
    ho.ssl_cert_file = options.ssl_cert_file;
    std::unique_ptr<HttpServer> http_owner;
    try {
        http_owner = std::make_unique<HttpServer>(router, ho);
        http_owner->bind();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    HttpServer& http = *http_owner;
    g_signal_count.store(0);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::thread http_thread([&http] { http.run(); });
    std::fprintf(stderr, "server listening on %s://%s:%d (loading model %s)\n", http.tls() ? "https" : "http", options.host.c_str(),
                 http.port(), options.model.empty() ? "found beside the program" : options.model.c_str());

    std::atomic<bool> load_done{false};
    std::thread loader([&server, &load_done] {
        try {
            load(server);
            server.state.store(ServerState::kReady);
            std::fprintf(stderr, "model loaded; %d slot(s), %d context positions each, %.1f MiB of KV cache\n",
                         server.scheduler->n_slots(), server.scheduler->n_ctx_slot(),
                         double(server.context->state_bytes()) / (1024.0 * 1024.0));
        } catch (const std::exception& e) {
            server.load_error = e.what();
            server.state.store(ServerState::kFailed);
        }
        load_done.store(true);
    });

    int rc = 0;
    while (g_signal_count.load() == 0) {
        if (load_done.load() && server.state.load() == ServerState::kFailed) {
            std::fprintf(stderr, "error: cannot load model: %s\n", server.load_error.c_str());
            rc = 1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (rc == 0) std::fprintf(stderr, "shutting down\n");
    loader.join();
    if (server.scheduler) server.scheduler->stop();   // wakes waiting handlers with an error
    http.stop();
    http_thread.join();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    return rc;
}

}  // namespace mmojo
