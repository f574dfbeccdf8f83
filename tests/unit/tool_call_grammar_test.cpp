// Forced tool-call grammars, per family: the documented call text of each family is in the
// grammar, malformed arguments are not, and random walks through the grammar (a byte at a
// time, chosen at random among the bytes the matcher allows: what a random-weight model
// under the grammar can write) always parse back, with the family's own parser, into
// calls of the allowed tools whose arguments are JSON objects holding every required key.
// That the arguments then validate against the schema is the schema converter's job
// (json_schema_grammar_test); the server test checks it with Python's jsonschema.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "chat/output_parser.h"
#include "chat/tool_call_grammar.h"
#include "sampling/grammar.h"
#include "sampling/grammar_matcher.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;
using namespace mmojo;

const fs::path kTemplates = fs::path(MMOJO_SHARED_DIR) / "chat-templates" / "templates";

ChatSyntax syntax_of(const std::string& file) {
    std::ifstream in(kTemplates / file, std::ios::binary);
    return detect_chat_syntax(std::string(std::istreambuf_iterator<char>(in), {}));
}

const ordered_json kTools = ordered_json::parse(R"([
  {"type": "function", "function": {"name": "get_weather",
   "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 9},
                  "unit": {"enum": ["c", "f"]}}, "required": ["city", "days"], "additionalProperties": false}}},
  {"type": "function", "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}}}
])");

struct Family {
    std::string file;
    std::string good;  // a documented forced call for get_weather
    std::string bad;   // the same with arguments the schema refuses
};

std::vector<Family> families() {
    const std::string ds_calls = "<｜tool▁calls▁begin｜>", ds_end = "<｜tool▁calls▁end｜>";
    const std::string ds_call = "<｜tool▁call▁begin｜>", ds_call_end = "<｜tool▁call▁end｜>", ds_sep = "<｜tool▁sep｜>";
    return {
        {"Qwen-Qwen2.5-7B-Instruct.jinja", "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}\n</tool_call>",
         "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"},
        {"Qwen3.5-4B.jinja",
         "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>",
         "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\nx\n</parameter>\n</function>\n</tool_call>"},
        {"meta-llama-Llama-3.1-8B-Instruct.jinja", "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 3}}",
         "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 30}}"},
        {"meetkai-functionary-medium-v3.1.jinja", "<function=get_weather>{\"city\": \"Paris\", \"days\": 3}</function>",
         "<function=get_weather>{\"city\": 1, \"days\": 3}</function>"},
        {"mistralai-Mistral-Nemo-Instruct-2407.jinja",
         "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}]",
         "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"days\": 3}}]"},
        {"Mistral-Small-3.2-24B-Instruct-2506.jinja", "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\", \"days\": 3}",
         "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\", \"days\": 3, \"x\": 1}"},
        {"openai-gpt-oss-120b.jinja",
         "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"Paris\", \"days\": 3}",
         "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"Paris\", \"days\": 3.5}"},
        {"deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja",
         ds_calls + ds_call + "function" + ds_sep + "get_weather\n```json\n{\"city\": \"Paris\", \"days\": 3}\n```" + ds_call_end + ds_end,
         ds_calls + ds_call + "function" + ds_sep + "get_weather\n```json\n{\"city\": \"Paris\", \"days\": 0}\n```" + ds_call_end + ds_end},
        {"CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja",
         "<|START_ACTION|>[{\"tool_call_id\": \"0\", \"tool_name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 3}}]<|END_ACTION|>",
         "<|START_ACTION|>[{\"tool_call_id\": \"0\", \"tool_name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 3, \"unit\": \"k\"}}]<|END_ACTION|>"},
        {"GLM-4.6.jinja",
         "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>",
         "<tool_call>get_weather\n<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>"},
        {"moonshotai-Kimi-K2.jinja",
         "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\", \"days\": 3}<|tool_call_end|><|tool_calls_section_end|>",
         "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|>"},
        {"ibm-granite-granite-3.3-2B-Instruct.jinja", "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}]",
         "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": \"3\"}}]"},
        {"google-gemma-2-2b-it.jinja", "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}",
         "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}"},
    };
}

bool matches(const std::shared_ptr<const Grammar>& g, const std::string& text) {
    GrammarMatcher m(g);
    return m.accept(text) && m.is_complete();
}

// A random text of the grammar: at each step one of the allowed bytes at random; past
// `soft_limit` bytes the walk prefers bytes that close things, and it stops at a complete
// point with probability 1/4 (always, when nothing else is allowed). "" when it ran away.
std::string random_walk(const std::shared_ptr<const Grammar>& g, std::mt19937& rng, size_t soft_limit = 120) {
    GrammarMatcher m(g);
    std::string text;
    while (text.size() < 4000) {
        // ASCII when the grammar allows some; else the non-ASCII characters of the family
        // markers (DeepSeek's fullwidth bar and U+2581), whole, as a lone lead byte may
        // begin a sequence the grammar cannot finish.
        std::vector<std::string> allowed;
        for (int b = 1; b < 128; ++b) {
            const std::string c(1, char(b));
            if (m.allows(c)) allowed.push_back(c);
        }
        if (allowed.empty()) {
            for (const char* c : {"\xEF\xBD\x9C", "\xE2\x96\x81"}) {
                if (m.allows(c)) allowed.push_back(c);
            }
        }
        if (m.is_complete() && (allowed.empty() || rng() % 4 == 0)) return text;
        if (allowed.empty()) return "";
        std::vector<std::string> pick = allowed;
        if (text.size() > soft_limit) {
            std::vector<std::string> closing;
            for (const auto& c : allowed) {
                if (std::string_view("\"}]<>\n,0123456789").find(c[0]) != std::string_view::npos) closing.push_back(c);
            }
            if (!closing.empty()) pick = closing;
        }
        const std::string& c = pick[rng() % pick.size()];
        EXPECT_TRUE(m.accept(c));
        text += c;
    }
    if (std::getenv("WALK_DEBUG")) std::fprintf(stderr, "runaway: %s\n", text.substr(0, 600).c_str());
    return "";
}

TEST(ToolCallGrammar, DocumentedCallsInMalformedOut) {
    for (const auto& f : families()) {
        SCOPED_TRACE(f.file);
        const ChatSyntax syntax = syntax_of(f.file);
        const auto g = Grammar::parse(forced_tool_call_grammar(syntax, {kTools, "", true}));
        EXPECT_TRUE(matches(g, f.good));
        EXPECT_FALSE(matches(g, f.bad));
        // A named function: the other tool is out.
        const auto only_ping = Grammar::parse(forced_tool_call_grammar(syntax, {kTools, "ping", true}));
        EXPECT_FALSE(matches(only_ping, f.good));
    }
}

TEST(ToolCallGrammar, RandomWalksParseBackIntoValidCalls) {
    std::mt19937 rng(7);
    for (const auto& f : families()) {
        SCOPED_TRACE(f.file);
        const ChatSyntax syntax = syntax_for_forced_call(syntax_of(f.file));
        for (bool parallel : {false, true}) {
            const auto g = Grammar::parse(forced_tool_call_grammar(syntax_of(f.file), {kTools, "", parallel}));
            int n_walks = 0;
            for (int i = 0; i < 12; ++i) {
                const std::string text = random_walk(g, rng);
                if (text.empty()) continue;
                ++n_walks;
                const ParsedMessage m = parse_chat_output(syntax, text, false, json::parse(kTools.dump()));
                ASSERT_FALSE(m.tool_calls.empty()) << text;
                EXPECT_EQ(m.content, "") << text;
                if (!parallel) {
                    EXPECT_EQ(m.tool_calls.size(), 1u) << text;
                }
                for (const auto& call : m.tool_calls) {
                    const json args = json::parse(call.arguments, nullptr, false);
                    ASSERT_TRUE(args.is_object()) << text;
                    if (call.name == "get_weather") {
                        EXPECT_TRUE(args.contains("city") && args["city"].is_string()) << text;
                        EXPECT_TRUE(args.contains("days") && args["days"].is_number_integer()) << text;
                        EXPECT_GE(args.value("days", 0), 1);
                        EXPECT_LE(args.value("days", 99), 9);
                    } else {
                        EXPECT_EQ(call.name, "ping") << text;
                    }
                }
            }
            EXPECT_GE(n_walks, 8);
        }
    }
}

TEST(ToolCallGrammar, ThinkingOpenIsClosedFirst) {
    ChatSyntax s = syntax_of("deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja");
    s.thinking_open = true;
    const auto g = Grammar::parse(forced_tool_call_grammar(s, {kTools, "ping", false}));
    const std::string call = "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>ping\n```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
    EXPECT_TRUE(matches(g, "</think>\n\n" + call));
    EXPECT_FALSE(matches(g, call));
}

TEST(ToolCallGrammar, GemmaFourIsRefusedClearly) {
    EXPECT_THROW(forced_tool_call_grammar(syntax_of("google-gemma-4-31B-it.jinja"), {kTools, "", true}),
                 ToolGrammarUnsupported);
}

}  // namespace
