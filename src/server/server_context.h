// State shared by the route handlers: options, load progress, the model, the scheduler,
// the chat template and the UI source; plus the helpers that several endpoint groups use
// (prompt tokenization, waiting for and streaming task events, JSON pieces).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/options.h"
#include "chat/chat_syntax.h"
#include "chat/chat_template.h"
#include "model/model.h"
#include "runtime/context.h"
#include "server/api_types.h"
#include "server/http_types.h"
#include "server/router.h"
#include "server/scheduler.h"
#include "server/static_files.h"

namespace mmojo {

enum class ServerState : int { kLoading = 0, kReady = 1, kFailed = 2 };

struct ServerContext {
    Options options;
    std::atomic<ServerState> state{ServerState::kLoading};
    std::atomic<float> load_progress{0.0f};
    std::string load_error;

    // Set once before state becomes kReady, read-only afterwards.
    std::unique_ptr<Model> model;
    std::unique_ptr<Context> context;
    std::unique_ptr<Scheduler> scheduler;
    std::unique_ptr<ChatTemplate> chat_template;
    std::string chat_template_source;
    ChatSyntax chat_syntax;           // tool-call and thinking markers of the template
    ToolCallRendering tool_call_rendering;  // how the template wants assistant tool calls
    nlohmann::ordered_json default_template_kwargs = nlohmann::ordered_json::object();  // --chat-template-kwargs
    std::string model_alias;          // id in /v1/models and "model" in responses
    std::string model_path;           // where the model came from: a file or /zip/<entry>
    GenerationParams defaults;        // from the command line
    int64_t created = 0;              // unix time the model finished loading
    // The most input bytes one token can stand for (the longest token text), when the
    // tokenizer never drops input (SPM, byte-level BPE); 0 when it may (WordPiece drops
    // whitespace). Lets a prompt that cannot fit be refused before it is tokenized.
    size_t max_token_bytes = 0;

    std::unique_ptr<UiSource> ui;     // null: no web UI

    // Throws ApiError 503 "Loading model" unless the model is ready.
    void require_ready() const;
    // require_ready(), then ApiError 501 when the context gives hidden states rather than
    // logits (--embeddings, or an encoder model): no text generation then.
    void require_generation() const;
    const Tokenizer& tokenizer() const { return model->tokenizer(); }
};

void register_misc_routes(Router& router, ServerContext& server);
void register_completion_routes(Router& router, ServerContext& server);
void register_chat_routes(Router& router, ServerContext& server);
void register_embedding_routes(Router& router, ServerContext& server);

// --- helpers shared by the endpoint files (completion_common.cpp) ----------------------

// A prompt value is a string, a list of token ids, or a list mixing both. A list of
// strings or of lists holds several prompts. Strings are tokenized with parse_special;
// `add_special` applies to the first piece only.
std::vector<std::vector<int32_t>> tokenize_prompts(const ServerContext& server, const nlohmann::json& prompt,
                                                   bool add_special);
std::vector<int32_t> tokenize_one(const ServerContext& server, const nlohmann::json& prompt,
                                  bool add_special);
// ApiError for an empty prompt, an id outside the vocabulary or a prompt that does not fit
// a slot's context.
void validate_prompt(const ServerContext& server, const std::vector<int32_t>& tokens);
// ApiError (exceed_context_size_error) when `bytes` of prompt text (plus `n_ids` token ids)
// must make more tokens than a slot holds, whatever the text: checked before tokenizing.
void check_prompt_bytes(const ServerContext& server, size_t bytes, size_t n_ids = 0);

// Collects a task's events until its final event; throws ApiError on an error event.
struct TaskResult {
    TaskEvent final;
    std::vector<TokenProbs> probs;
};
std::vector<TaskResult> wait_results(const std::shared_ptr<TaskChannel>& channel, size_t n_tasks);

// Runs tasks sharing `channel` and writes each formatted event to the sink. A failed write
// or a closed connection cancels the tasks. `format` returns "" to skip an event.
void stream_events(StreamSink& sink, const std::shared_ptr<TaskChannel>& channel, size_t n_tasks,
                   const std::function<std::string(const TaskEvent&)>& format);

nlohmann::json timings_json(const TaskTimings& t, int32_t n_cached);
// llama-server's completion_probabilities entries.
nlohmann::json probs_json(const ServerContext& server, const std::vector<TokenProbs>& probs, bool post_sampling);
// OpenAI chat "logprobs.content" entries.
nlohmann::json chat_logprobs_json(const ServerContext& server, const std::vector<TokenProbs>& probs);

// The fields every OpenAI completion object and stream chunk starts with.
struct OpenAiHeader {
    std::string id;
    std::string object;   // "text_completion", "chat.completion", "chat.completion.chunk"
    int64_t created = 0;
    std::string model;
};
// The header's fields, system_fingerprint, and `fields` (choices, usage, ...).
nlohmann::json openai_object(const OpenAiHeader& header, nlohmann::json fields);

std::string random_id(const std::string& prefix);
int64_t unix_time();
std::string build_info();

}  // namespace mmojo
