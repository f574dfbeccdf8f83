// Tool calls and reasoning in chat model output, for every template family of
// ../shared/chat-templates: the syntax is detected from the real template, and the model
// output of each case is written from the family's documented format (model cards,
// templates). Each case is checked parsed whole and streamed piece by piece (one UTF-8
// character at a time, and in random chunks): the deltas must add up to the whole answer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "chat/chat_stream.h"
#include "chat/chat_syntax.h"
#include "chat/chat_template.h"
#include "chat/output_parser.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace mmojo;

const fs::path kTemplates = fs::path(MMOJO_SHARED_DIR) / "chat-templates" / "templates";

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path.string());
    return std::string(std::istreambuf_iterator<char>(in), {});
}

ChatSyntax syntax_of(const std::string& template_file) {
    return detect_chat_syntax(read_file(kTemplates / template_file));
}

const json kTools = json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
   "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                  "required": ["city"]}}},
  {"type": "function", "function": {"name": "get_time", "description": "Time in a city",
   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
])");

struct Call {
    std::string name;
    std::string arguments;  // JSON, compared as values
    std::string id = "";    // expected model-given id ("" = generated)
};

struct Case {
    std::string name;
    std::string template_file;  // "" = syntax from `template_text`
    std::string output;
    std::string content;
    std::string reasoning;
    std::vector<Call> calls;
    bool thinking_open = false;
    std::string template_text = "";
};

// The DeepSeek markers.
const std::string kDsCalls = "<｜tool▁calls▁begin｜>", kDsCallsEnd = "<｜tool▁calls▁end｜>";
const std::string kDsCall = "<｜tool▁call▁begin｜>", kDsCallEnd = "<｜tool▁call▁end｜>", kDsSep = "<｜tool▁sep｜>";

std::vector<Case> cases() {
    const std::string hermes = "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja";
    const std::string qwen25 = "Qwen-Qwen2.5-7B-Instruct.jinja";
    const std::string qwen3 = "Qwen-Qwen3-0.6B.jinja";
    const std::string coder = "Qwen3.5-4B.jinja";
    const std::string llama31 = "meta-llama-Llama-3.1-8B-Instruct.jinja";
    const std::string fv31 = "meetkai-functionary-medium-v3.1.jinja";
    const std::string nemo = "mistralai-Mistral-Nemo-Instruct-2407.jinja";
    const std::string mistral = "Mistral-Small-3.2-24B-Instruct-2506.jinja";
    const std::string oss = "openai-gpt-oss-120b.jinja";
    const std::string r1 = "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja";
    const std::string r7b = "CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja";
    const std::string glm = "GLM-4.6.jinja";
    const std::string kimi = "moonshotai-Kimi-K2.jinja";
    const std::string granite = "ibm-granite-granite-3.3-2B-Instruct.jinja";
    const std::string gemma = "google-gemma-4-31B-it.jinja";
    const std::string paris = R"({"city": "Paris"})";
    const std::string london = R"({"city": "London"})";
    std::vector<Case> c = {
        // Hermes / Qwen 2.5
        {"hermes_plain", hermes, "The weather is nice.", "The weather is nice.", "", {}},
        {"hermes_one", hermes, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", "", "",
         {{"get_weather", paris}}},
        {"hermes_parallel", qwen25,
         "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n"
         "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"city\": \"London\"}}\n</tool_call>",
         "", "", {{"get_weather", paris}, {"get_time", london}}},
        {"hermes_text_first", qwen25,
         "Let me check that.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
         "Let me check that.", "", {{"get_weather", R"({"city": "Paris", "days": 2})"}}},
        {"hermes_malformed", qwen25, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": }}\n</tool_call>",
         "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": }}\n</tool_call>", "", {}},
        {"hermes_unfinished", qwen25, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par",
         "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par", "", {}},
        {"hermes_tag_in_text", qwen25, "Use <tool_call> tags, like <b>this</b>.", "Use <tool_call> tags, like <b>this</b>.", "", {}},
        // Qwen3: thinking then a call
        {"qwen3_think_call", qwen3,
         "<think>\nThe user wants weather.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
         "", "The user wants weather.", {{"get_weather", paris}}},
        {"qwen3_think_answer", qwen3, "<think>\nEasy: 2+2.\n</think>\n\nIt is 4.", "It is 4.", "Easy: 2+2.", {}},
        {"qwen3_no_think", qwen3, "It is 4.", "It is 4.", "", {}},
        {"qwen3_unclosed_think", qwen3, "<think>\nStill going", "", "Still going", {}},
        // Qwen3-Coder / Qwen3.5 XML
        {"coder_one", coder,
         "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>",
         "", "", {{"get_weather", R"({"city": "Paris", "days": 3})"}}},
        {"coder_parallel_text", coder,
         "Checking both.\n<tool_call>\n<function=get_weather>\n<parameter=city>\n123\n</parameter>\n</function>\n</tool_call>\n"
         "<tool_call>\n<function=get_time>\n<parameter=city>\nLondon\n</parameter>\n</function>\n</tool_call>",
         "Checking both.", "", {{"get_weather", R"({"city": "123"})"}, {"get_time", london}}},
        {"coder_malformed", coder, "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</function>",
         "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</function>", "", {}},
        // Llama 3.1 / 3.3
        {"llama3_plain", llama31, "Hello there!", "Hello there!", "", {}},
        {"llama3_json", llama31, R"({"name": "get_weather", "parameters": {"city": "Paris"}})", "", "", {{"get_weather", paris}}},
        {"llama3_parallel", llama31,
         R"({"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_time", "parameters": {"city": "London"}})",
         "", "", {{"get_weather", paris}, {"get_time", london}}},
        {"llama3_builtin", llama31, "<|python_tag|>brave_search.call(query=\"weather in Paris\")", "", "",
         {{"brave_search", R"({"query": "weather in Paris"})"}}},
        {"llama3_text_then_tag", llama31, "Let me look.<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}",
         "Let me look.", "", {{"get_weather", paris}}},
        {"llama3_code", llama31, "<|python_tag|>print(\"hi\")\nx = 1", "", "", {{"python", R"({"code": "print(\"hi\")\nx = 1"})"}}},
        {"llama3_json_answer", llama31, R"({"answer": 42})", R"({"answer": 42})", "", {}},
        {"llama3_malformed", llama31, R"({"name": "get_weather", "parameters": {"city": "Paris"})",
         R"({"name": "get_weather", "parameters": {"city": "Paris"})", "", {}},
        // Functionary v3.1
        {"fv31_one", fv31, "<function=get_weather>{\"city\": \"Paris\"}</function>", "", "", {{"get_weather", paris}}},
        {"fv31_parallel_text", fv31,
         "Sure.<function=get_weather>{\"city\": \"Paris\"}</function><function=get_time>{\"city\": \"London\"}</function>", "Sure.",
         "", {{"get_weather", paris}, {"get_time", london}}},
        {"fv31_python", fv31, "<|python_tag|>1+1", "", "", {{"python", R"({"code": "1+1"})"}}},
        {"fv31_malformed", fv31, "<function=get_weather>{\"city\": Paris}</function>",
         "<function=get_weather>{\"city\": Paris}</function>", "", {}},
        // Mistral Nemo
        {"nemo_one", nemo, "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": \"a1b2c3d4e\"}]", "", "",
         {{"get_weather", paris, "a1b2c3d4e"}}},
        {"nemo_parallel", nemo,
         "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, {\"name\": \"get_time\", \"arguments\": {\"city\": \"London\"}}]",
         "", "", {{"get_weather", paris}, {"get_time", london}}},
        {"nemo_text_first", nemo, "One moment.[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]",
         "One moment.", "", {{"get_weather", paris}}},
        {"nemo_malformed", nemo, "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}",
         "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}", "", {}},
        // Mistral Small 3.2 / Ministral
        {"mistral_one", mistral, "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}", "", "", {{"get_weather", paris}}},
        {"mistral_parallel", mistral, "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}[TOOL_CALLS]get_time[ARGS]{\"city\": \"London\"}",
         "", "", {{"get_weather", paris}, {"get_time", london}}},
        {"mistral_text_first", mistral, "Let me see.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}", "Let me see.", "",
         {{"get_weather", paris}}},
        {"mistral_malformed", mistral, "[TOOL_CALLS]get weather[ARGS]{\"city\": \"Paris\"}",
         "[TOOL_CALLS]get weather[ARGS]{\"city\": \"Paris\"}", "", {}},
        // gpt-oss harmony
        {"oss_plain", oss, "<|channel|>analysis<|message|>Simple greeting.<|end|><|start|>assistant<|channel|>final<|message|>Hello!",
         "Hello!", "Simple greeting.", {}},
        {"oss_one", oss,
         "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather "
         "<|constrain|>json<|message|>{\"city\": \"Paris\"}<|call|>",
         "", "Need the weather.", {{"get_weather", paris}}},
        {"oss_recipient_first", oss,
         "<|channel|>analysis<|message|>Two calls.<|end|><|start|>assistant to=functions.get_weather<|channel|>commentary json"
         "<|message|>{\"city\": \"Paris\"}<|call|><|start|>assistant to=functions.get_time<|channel|>commentary json<|message|>"
         "{\"city\": \"London\"}",
         "", "Two calls.", {{"get_weather", paris}, {"get_time", london}}},
        {"oss_preamble", oss,
         "<|channel|>analysis<|message|>Check.<|end|><|start|>assistant<|channel|>commentary<|message|>Checking now.<|end|>"
         "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"Paris\"}",
         "Checking now.", "Check.", {{"get_weather", paris}}},
        {"oss_malformed", oss, "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\": Paris}",
         "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\": Paris}", "", {}},
        // DeepSeek R1 (the prompt opens <think>) and V3.1
        {"r1_answer", r1, "Okay, simple.\n</think>\n\nHi!", "Hi!", "Okay, simple.", {}, true},
        {"r1_one", r1,
         "The user wants weather.\n</think>\n\n" + kDsCalls + kDsCall + "function" + kDsSep + "get_weather\n```json\n{\"city\": \"Paris\"}\n```" +
             kDsCallEnd + kDsCallsEnd,
         "", "The user wants weather.", {{"get_weather", paris}}, true},
        {"r1_parallel_text", r1,
         "Two.\n</think>\n\nChecking." + kDsCalls + kDsCall + "function" + kDsSep + "get_weather\n```json\n{\"city\": \"Paris\"}\n```" +
             kDsCallEnd + "\n" + kDsCall + "function" + kDsSep + "get_time\n```json\n{\"city\": \"London\"}\n```" + kDsCallEnd +
             kDsCallsEnd,
         "Checking.", "Two.", {{"get_weather", paris}, {"get_time", london}}, true},
        {"v31_one", r1, "Hmm.</think>" + kDsCalls + kDsCall + "get_weather" + kDsSep + "{\"city\": \"Paris\"}" + kDsCallEnd + kDsCallsEnd,
         "", "Hmm.", {{"get_weather", paris}}, true},
        {"r1_malformed", r1, "Hmm.</think>" + kDsCalls + kDsCall + "get_weather" + kDsSep + "{\"city\": Paris}" + kDsCallEnd,
         kDsCalls + kDsCall + "get_weather" + kDsSep + "{\"city\": Paris}" + kDsCallEnd, "Hmm.", {}, true},
        // Command R7B
        {"r7b_answer", r7b, "<|START_THINKING|>Greeting.<|END_THINKING|><|START_RESPONSE|>Hello!<|END_RESPONSE|>", "Hello!", "Greeting.", {}},
        {"r7b_parallel", r7b,
         "<|START_THINKING|>I will call two tools.<|END_THINKING|><|START_ACTION|>[\n    {\"tool_call_id\": \"0\", \"tool_name\": "
         "\"get_weather\", \"parameters\": {\"city\": \"Paris\"}},\n    {\"tool_call_id\": \"1\", \"tool_name\": \"get_time\", "
         "\"parameters\": {\"city\": \"London\"}}\n]<|END_ACTION|>",
         "", "I will call two tools.", {{"get_weather", paris, "0"}, {"get_time", london, "1"}}},
        {"r7b_malformed", r7b, "<|START_ACTION|>[{\"tool_name\": \"get_weather\", \"parameters\": {\"city\": }}]<|END_ACTION|>",
         "<|START_ACTION|>[{\"tool_name\": \"get_weather\", \"parameters\": {\"city\": }}]<|END_ACTION|>", "", {}},
        // GLM 4.6
        {"glm_one", glm, "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>",
         "", "", {{"get_weather", R"({"city": "Paris", "days": 3})"}}},
        {"glm_think_parallel", glm,
         "<think>Both cities.</think>\nSure.<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n</tool_call>"
         "<tool_call>get_time\n<arg_key>city</arg_key>\n<arg_value>London</arg_value>\n</tool_call>",
         "Sure.", "Both cities.", {{"get_weather", paris}, {"get_time", london}}},
        {"glm_malformed", glm, "<tool_call>get_weather\n<arg_key>city</arg_key>\n<oops>Paris</oops></tool_call>",
         "<tool_call>get_weather\n<arg_key>city</arg_key>\n<oops>Paris</oops></tool_call>", "", {}},
        // Kimi K2
        {"kimi_parallel", kimi,
         "Let me check.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": "
         "\"Paris\"}<|tool_call_end|><|tool_call_begin|>functions.get_time:1<|tool_call_argument_begin|>{\"city\": \"London\"}"
         "<|tool_call_end|><|tool_calls_section_end|>",
         "Let me check.", "", {{"get_weather", paris, "functions.get_weather:0"}, {"get_time", london, "functions.get_time:1"}}},
        {"kimi_malformed", kimi, "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{oops}",
         "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{oops}", "", {}},
        // Granite 3.3
        {"granite_parallel", granite,
         "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, {\"name\": \"get_time\", \"arguments\": {\"city\": \"London\"}}]",
         "", "", {{"get_weather", paris}, {"get_time", london}}},
        {"granite_think", granite, "<think>Just greet.</think><response>Hello!</response>", "Hello!", "Just greet.", {}},
        {"granite_malformed", granite, "<|tool_call|>[{\"arguments\": {\"city\": \"Paris\"}}]",
         "<|tool_call|>[{\"arguments\": {\"city\": \"Paris\"}}]", "", {}},
        // Gemma 4
        {"gemma_one", gemma, "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:3}<tool_call|>", "", "",
         {{"get_weather", R"({"city": "Paris", "days": 3})"}}},
        {"gemma_think_parallel", gemma,
         "<|channel>thought\nTwo lookups.<channel|>Sure.<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>}<tool_call|>"
         "<|tool_call>call:get_time{city:<|\"|>London<|\"|>}<tool_call|>",
         "Sure.", "Two lookups.", {{"get_weather", paris}, {"get_time", london}}},
        {"gemma_malformed", gemma, "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>]<tool_call|>",
         "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>]<tool_call|>", "", {}},
    };
    // Functionary v3.2 (no template in the corpus: the marker its template prints).
    const std::string fv32 = "{{ '>>>all\\n' }}";
    c.push_back({"fv32_text_call", "", "all\nLet me check.>>>get_weather\n{\"city\": \"Paris\"}", "Let me check.", "",
                 {{"get_weather", paris}}, false, fv32});
    c.push_back({"fv32_parallel", "", "get_weather\n{\"city\": \"Paris\"}>>>get_time\n{\"city\": \"London\"}", "", "",
                 {{"get_weather", paris}, {"get_time", london}}, false, fv32});
    c.push_back({"fv32_plain", "", "all\nHello!", "Hello!", "", {}, false, fv32});
    return c;
}

ChatOutputOptions options_for(const Case& c) {
    ChatOutputOptions o;
    o.syntax = c.template_file.empty() ? detect_chat_syntax(c.template_text) : syntax_of(c.template_file);
    o.syntax.thinking_open = c.thinking_open;
    o.tools = kTools;
    return o;
}

void expect_message(const Case& c, const ParsedMessage& m, const std::string& how, bool check_ids = true) {
    SCOPED_TRACE(c.name + " (" + how + ")");
    EXPECT_EQ(m.content, c.content);
    EXPECT_EQ(m.reasoning, c.reasoning);
    ASSERT_EQ(m.tool_calls.size(), c.calls.size());
    for (size_t i = 0; i < c.calls.size(); ++i) {
        EXPECT_EQ(m.tool_calls[i].name, c.calls[i].name);
        const json got = json::parse(m.tool_calls[i].arguments, nullptr, false);
        ASSERT_FALSE(got.is_discarded()) << m.tool_calls[i].arguments;
        EXPECT_EQ(got, json::parse(c.calls[i].arguments)) << m.tool_calls[i].arguments;
        if (check_ids && !c.calls[i].id.empty()) {
            EXPECT_EQ(m.tool_calls[i].id, c.calls[i].id);
        }
    }
}

// Rebuilds a message from stream deltas, as an OpenAI client does.
struct Assembled {
    ParsedMessage message;
    void add(const json& delta) {
        if (delta.contains("content")) message.content += delta["content"].get<std::string>();
        if (delta.contains("reasoning_content")) message.reasoning += delta["reasoning_content"].get<std::string>();
        for (const auto& piece : delta.value("tool_calls", json::array())) {
            const size_t i = piece["index"].get<size_t>();
            if (i == message.tool_calls.size()) {
                ASSERT_TRUE(piece.contains("id"));
                ASSERT_EQ(piece["type"], "function");
                message.tool_calls.push_back({piece["function"]["name"].get<std::string>(), "", piece["id"].get<std::string>()});
            }
            ASSERT_LT(i, message.tool_calls.size());
            message.tool_calls[i].arguments += piece["function"].value("arguments", "");
        }
    }
};

// UTF-8 characters of `s`, grouped into chunks of 1..max_chars characters.
std::vector<std::string> chunks(const std::string& s, size_t max_chars, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        const size_t n_chars = max_chars <= 1 ? 1 : 1 + rng() % max_chars;
        size_t j = i;
        for (size_t k = 0; k < n_chars && j < s.size(); ++k) {
            ++j;
            while (j < s.size() && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) ++j;
        }
        out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

class ChatOutputCase : public ::testing::TestWithParam<Case> {};

TEST_P(ChatOutputCase, Whole) {
    const Case& c = GetParam();
    const ChatOutputOptions o = options_for(c);
    expect_message(c, parse_chat_output(o.syntax, c.output, false, o.tools), "whole");
}

TEST_P(ChatOutputCase, Streamed) {
    const Case& c = GetParam();
    for (const auto& [max_chars, seed] : std::vector<std::pair<size_t, unsigned>>{{1, 0}, {4, 1}, {9, 2}, {1000000, 3}}) {
        ChatStream stream(options_for(c));
        Assembled got;
        for (const auto& piece : chunks(c.output, max_chars, seed)) {
            for (const auto& d : stream.push(piece)) got.add(d);
        }
        for (const auto& d : stream.finish()) got.add(d);
        // A malformed call may already have been streamed as a call before it broke; the
        // whole-output parse says what it is then (checked above), so only well-formed
        // cases must add up exactly.
        if (c.name.find("malformed") == std::string::npos && c.name.find("unfinished") == std::string::npos) {
            // A model's id that follows the call's name (Mistral Nemo) comes too late for the
            // stream: the call was announced with an id of ours.
            expect_message(c, got.message, "streamed in chunks of up to " + std::to_string(max_chars), false);
        }
        expect_message(c, stream.message(), "final of stream", false);
        for (size_t i = 0; i < stream.message().tool_calls.size(); ++i) {
            EXPECT_FALSE(stream.message().tool_calls[i].id.empty());
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Families, ChatOutputCase, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// Detection from the real templates (the family of families.json, mapped to the format
// its model card documents).
TEST(ChatSyntax, DetectsEveryTemplateOfTheCorpus) {
    const std::vector<std::pair<std::string, std::string>> want = {
        {"meta-llama-Llama-3.1-8B-Instruct.jinja", "llama3"},
        {"meta-llama-Llama-3.3-70B-Instruct.jinja", "llama3"},
        {"Qwen-Qwen2.5-7B-Instruct.jinja", "hermes"},
        {"Qwen-Qwen3-0.6B.jinja", "hermes"},
        {"Qwen-QwQ-32B.jinja", "hermes"},
        {"Qwen3.5-4B.jinja", "qwen3-coder"},
        {"google-gemma-2-2b-it.jinja", "none"},
        {"google-gemma-4-31B-it.jinja", "gemma4"},
        {"microsoft-Phi-3.5-mini-instruct.jinja", "none"},
        {"mistralai-Mistral-Nemo-Instruct-2407.jinja", "mistral-nemo"},
        {"Mistral-Small-3.2-24B-Instruct-2506.jinja", "mistral"},
        {"deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja", "deepseek"},
        {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", "deepseek"},
        {"ibm-granite-granite-3.3-2B-Instruct.jinja", "granite"},
        {"NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja", "hermes"},
        {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", "hermes"},
        {"CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja", "command-r7b"},
        {"openai-gpt-oss-120b.jinja", "gpt-oss"},
        {"GLM-4.6.jinja", "glm4"},
        {"moonshotai-Kimi-K2.jinja", "kimi-k2"},
        {"meetkai-functionary-medium-v3.1.jinja", "functionary-v3.1"},
    };
    for (const auto& [file, format] : want) {
        EXPECT_EQ(tool_format_name(syntax_of(file).tools), format) << file;
    }
    EXPECT_EQ(syntax_of("Qwen-Qwen3-0.6B.jinja").think_start, "<think>");
    EXPECT_EQ(syntax_of("CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja").think_start, "<|START_THINKING|>");
    EXPECT_EQ(syntax_of("Qwen-Qwen2.5-7B-Instruct.jinja").think_start, "");
}

// Whether a rendered prompt leaves the model inside a thinking block, through the real
// templates (rendered by our interpreter, itself tested against Jinja2).
TEST(ChatSyntax, ThinkingOpenedByThePrompt) {
    auto prompt = [](const std::string& file, bool thinking) {
        ChatTemplate tmpl(read_file(kTemplates / file));
        ChatTemplateInputs in;
        in.messages = nlohmann::ordered_json::array({{{"role", "user"}, {"content", "Hi"}}});
        in.extra = nlohmann::ordered_json::object();
        if (!thinking) in.extra["enable_thinking"] = false;
        else in.extra["enable_thinking"] = true;
        return prompt_opens_thinking(syntax_of(file), tmpl.render(in));
    };
    EXPECT_TRUE(prompt("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", true));
    EXPECT_FALSE(prompt("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", false));
    EXPECT_FALSE(prompt("Qwen-Qwen3-0.6B.jinja", true));   // the model writes <think> itself
    EXPECT_FALSE(prompt("Qwen-Qwen3-0.6B.jinja", false));  // the prompt closed an empty block
    // Command R7B writes <|START_THINKING|> itself; without thinking the prompt closes an empty block.
    EXPECT_FALSE(prompt("CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja", true));
    EXPECT_FALSE(prompt("CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja", false));
}

TEST(ChatSyntax, ToolCallRenderingProbe) {
    auto probe = [](const std::string& file) {
        return probe_tool_call_rendering(ChatTemplate(read_file(kTemplates / file)));
    };
    // Jinja2's renders of ../shared (tool_call_*_args) fail for the other forms: GLM and
    // Qwen3.5 reject string arguments, Qwen3 and gpt-oss null content, and DeepSeek R1 Llama
    // concatenates the arguments as a string and prints calls only when content is null.
    EXPECT_TRUE(probe("GLM-4.6.jinja").object_arguments);
    EXPECT_TRUE(probe("Qwen3.5-4B.jinja").object_arguments);
    EXPECT_FALSE(probe("Qwen-Qwen3-0.6B.jinja").null_content);
    EXPECT_FALSE(probe("openai-gpt-oss-120b.jinja").null_content);
    const ToolCallRendering r1 = probe("deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja");
    EXPECT_FALSE(r1.object_arguments);
    EXPECT_TRUE(r1.null_content);
}

TEST(ChatOutput, ReasoningFormatNoneKeepsThinkingInContent) {
    ChatSyntax s = syntax_of("Qwen-Qwen3-0.6B.jinja");
    s.reasoning_format = ReasoningFormat::kNone;
    const auto m = parse_chat_output(s, "<think>\nhm\n</think>\n\nAnswer", false);
    EXPECT_EQ(m.reasoning, "");
    EXPECT_EQ(m.content, "<think>\nhm\n</think>\n\nAnswer");
    s.reasoning_format = ReasoningFormat::kDeepSeekLegacy;
    const auto legacy = parse_chat_output(s, "<think>\nhm\n</think>\n\nAnswer", false);
    EXPECT_EQ(legacy.reasoning, "hm");
    EXPECT_EQ(legacy.content, "<think>\nhm\n</think>Answer");
}

TEST(ChatOutput, ToolsOffLeavesCallsAsContent) {
    ChatSyntax s = syntax_of("Qwen-Qwen2.5-7B-Instruct.jinja");
    s.parse_tools = false;
    const std::string text = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n</tool_call>";
    const auto m = parse_chat_output(s, text, false);
    EXPECT_TRUE(m.tool_calls.empty());
    EXPECT_EQ(m.content, text);
}

TEST(ChatOutput, PlainTextIsUntouched) {
    // No format and no markers: the answer comes back byte for byte, whitespace included.
    const ChatSyntax s = syntax_of("google-gemma-2-2b-it.jinja");
    EXPECT_EQ(parse_chat_output(s, "  Hello\n\n", false).content, "  Hello\n\n");
    ChatStream stream({s, nullptr, true, nullptr});
    std::string got;
    for (const char* piece : {"  Hel", "lo\n", "\n"}) {
        for (const auto& d : stream.push(piece)) got += d["content"].get<std::string>();
    }
    for (const auto& d : stream.finish()) got += d["content"].get<std::string>();
    EXPECT_EQ(got, "  Hello\n\n");
}

TEST(ChatOutput, ParallelToolCallsFalseKeepsTheFirst) {
    ChatOutputOptions o;
    o.syntax = syntax_of("Qwen-Qwen2.5-7B-Instruct.jinja");
    o.parallel_tool_calls = false;
    ChatStream stream(o);
    stream.push("<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": {}}\n</tool_call>");
    stream.finish();
    ASSERT_EQ(stream.message().tool_calls.size(), 1u);
    EXPECT_EQ(stream.message().tool_calls[0].name, "a");
}

TEST(ChatOutput, StreamingHoldsBackPartialMarkers) {
    ChatStream stream({syntax_of("Qwen-Qwen2.5-7B-Instruct.jinja"), nullptr, true, nullptr});
    std::string content;
    for (const auto& d : stream.push("Sure <tool_c")) content += d.value("content", "");
    EXPECT_EQ(content, "Sure");  // the partial tag (and the space before it) wait
    for (const auto& d : stream.push("all")) content += d.value("content", "");
    EXPECT_EQ(content, "Sure");
    for (const auto& d : stream.push("> is a tag")) content += d.value("content", "");
    for (const auto& d : stream.finish()) content += d.value("content", "");
    EXPECT_EQ(content, "Sure <tool_call> is a tag");
}

TEST(ChatOutput, ArgumentsStreamIncrementally) {
    ChatStream stream({syntax_of("Qwen-Qwen2.5-7B-Instruct.jinja"), nullptr, true, nullptr});
    size_t argument_deltas = 0;
    const std::string text = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}\n</tool_call>";
    for (const auto& piece : chunks(text, 1, 0)) {
        for (const auto& d : stream.push(piece)) {
            if (d.contains("tool_calls") && !d["tool_calls"][0].contains("id")) ++argument_deltas;
        }
    }
    stream.finish();
    EXPECT_GT(argument_deltas, 10u);  // not one piece at the end
}

TEST(ChatOutput, HostileInputNeverThrows) {
    // Deep nesting, stray markers and truncations in every family: content or calls, no throw.
    std::vector<std::string> texts = {std::string(5000, '{'), std::string(5000, '['), "<tool_call>" + std::string(3000, '['),
                                      "[TOOL_CALLS]" + std::string(3000, '['), "<|tool_call>call:f" + std::string(3000, '{')};
    for (const auto& c : cases()) texts.push_back(c.output.substr(0, c.output.size() / 2));
    for (const auto& c : cases()) {
        const ChatOutputOptions o = options_for(c);
        for (const auto& t : texts) {
            EXPECT_NO_THROW(parse_chat_output(o.syntax, t, false, o.tools)) << c.name;
            EXPECT_NO_THROW(parse_chat_output(o.syntax, t, true, o.tools)) << c.name;
        }
    }
}

}  // namespace
