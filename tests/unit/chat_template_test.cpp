// Chat-template interpreter tests.
//  * Corpus: every (template, case) pair of ../shared/chat-templates must render
//    byte-identically to Python Jinja2's output (expected/<stem>/<case>.txt), or fail
//    where Jinja2 failed (.error); where the template itself raised (raise_exception),
//    the message must equal Jinja2's text exactly.
//  * Robustness: bad templates give ChatTemplateError with line:column; recursion,
//    loops, output size and nesting are bounded (no crash, no hang).
// Feature-by-feature comparisons against live Jinja2 are in
// tests/integration/test_chat_template.py (through tools/render_template).
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "chat/chat_template.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

const fs::path kCorpus = fs::path(MMOJO_SHARED_DIR) / "chat-templates";

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in) << "cannot open " << path;
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// 2026-01-15 00:00:00 local time: the fixed moment render.py gives strftime_now.
std::time_t fixed_now() {
    std::tm tm{};
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 0;
    tm.tm_mday = 15;
    tm.tm_isdst = -1;
    return std::mktime(&tm);
}

TEST(ChatTemplateCorpus, MatchesJinja2) {
    ASSERT_TRUE(fs::exists(kCorpus)) << kCorpus;
    const ordered_json cases = ordered_json::parse(read_file(kCorpus / "cases.json"));
    const ordered_json families = ordered_json::parse(read_file(kCorpus / "families.json"));
    const ordered_json manifest = ordered_json::parse(read_file(kCorpus / "expected" / "manifest.json"));
    std::map<std::pair<std::string, std::string>, ordered_json> entries;
    for (const auto& m : manifest) entries[{m["template"], m["case"]}] = m;

    std::vector<fs::path> templates;
    for (const auto& e : fs::directory_iterator(kCorpus / "templates")) {
        if (e.path().extension() == ".jinja") templates.push_back(e.path());
    }
    std::sort(templates.begin(), templates.end());
    ASSERT_EQ(templates.size(), 25u);

    int total = 0, passed = 0, renders = 0, errors = 0;
    for (const fs::path& path : templates) {
        const std::string stem = path.stem().string();
        const ordered_json& family = families.at(path.filename().string());
        std::unique_ptr<mmojo::ChatTemplate> tmpl;
        try {
            tmpl = std::make_unique<mmojo::ChatTemplate>(read_file(path));
        } catch (const mmojo::ChatTemplateError& e) {
            ADD_FAILURE() << stem << ": parse error " << e.what();
            total += static_cast<int>(cases.size());
            continue;
        }
        for (const auto& c : cases) {
            const std::string id = c["id"];
            SCOPED_TRACE(stem + " / " + id);
            ++total;
            mmojo::ChatTemplateInputs in;
            in.messages = c["messages"];
            if (c.contains("tools")) in.tools = c["tools"];
            in.add_generation_prompt = c["add_generation_prompt"];
            in.bos_token = family["bos_token"];
            in.eos_token = family["eos_token"];
            if (c.contains("kwargs")) in.extra = c["kwargs"];
            in.now = fixed_now();
            const ordered_json& entry = entries.at({stem, id});
            const fs::path expected = kCorpus / "expected" / stem / id;
            if (entry["result"] == "ok") {
                ++renders;
                try {
                    std::string out = tmpl->render(in);
                    std::string want = read_file(expected.string() + ".txt");
                    EXPECT_EQ(out, want);
                    passed += out == want;
                } catch (const mmojo::ChatTemplateError& e) {
                    ADD_FAILURE() << "unexpected error: " << e.what();
                }
                continue;
            }
            ++errors;
            try {
                std::string out = tmpl->render(in);
                ADD_FAILURE() << "rendered, but Jinja2 raised: " << out.substr(0, 200);
            } catch (const mmojo::ChatTemplateError& e) {
                if (entry["raised_by_template"].get<bool>()) {
                    std::string want = read_file(expected.string() + ".error");
                    EXPECT_TRUE(e.raised_by_template());
                    EXPECT_EQ(e.message(), want);
                    passed += e.raised_by_template() && e.message() == want;
                } else {
                    ++passed;
                }
            }
        }
    }
    std::printf("chat-template corpus: %d/%d pairs pass (%d renders, %d errors)\n", passed, total,
                renders, errors);
    EXPECT_EQ(total, 450);
    EXPECT_EQ(passed, total);
}

std::string render(const std::string& source, ordered_json vars = ordered_json::object()) {
    return mmojo::ChatTemplate(source).render_variables(vars, fixed_now());
}

// Runs `fn`, which must throw ChatTemplateError; returns it.
template <typename Fn>
mmojo::ChatTemplateError expect_error(Fn fn) {
    try {
        fn();
    } catch (const mmojo::ChatTemplateError& e) {
        return e;
    }
    ADD_FAILURE() << "no ChatTemplateError";
    return mmojo::ChatTemplateError("none");
}

TEST(ChatTemplate, RaiseExceptionKeepsTheTemplatesMessage) {
    auto e = expect_error([] { render("a\n  {{ raise_exception('Roles must alternate') }}"); });
    EXPECT_TRUE(e.raised_by_template());
    EXPECT_EQ(e.message(), "Roles must alternate");
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(std::string(e.what()).rfind("2:", 0), 0u) << e.what();
}

TEST(ChatTemplate, SyntaxErrorsHavePositions) {
    auto unclosed = expect_error([] { mmojo::ChatTemplate("x\ny {% for m in messages %}"); });
    EXPECT_EQ(unclosed.line(), 2);
    EXPECT_NE(unclosed.message().find("endfor"), std::string::npos) << unclosed.message();

    auto bad_char = expect_error([] { mmojo::ChatTemplate("{{ a ? b }}"); });
    EXPECT_EQ(bad_char.line(), 1);
    EXPECT_EQ(bad_char.column(), 6);

    auto unknown_tag = expect_error([] { mmojo::ChatTemplate("\n\n  {% frobnicate %}"); });
    EXPECT_EQ(unknown_tag.line(), 3);
    EXPECT_NE(unknown_tag.message().find("frobnicate"), std::string::npos);

    expect_error([] { mmojo::ChatTemplate("{{ 'unterminated }}"); });
    expect_error([] { mmojo::ChatTemplate("{# no end"); });
    expect_error([] { mmojo::ChatTemplate("{% break %}"); });
    expect_error([] { mmojo::ChatTemplate("{{ 99999999999999999999 }}"); });
}

TEST(ChatTemplate, RuntimeErrorsHavePositions) {
    auto e = expect_error([] { render("{% set x = 1 %}\n{{ 'a' + x }}"); });
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.message(), "can only concatenate str (not \"int\") to str");
    EXPECT_FALSE(e.raised_by_template());

    auto u = expect_error([] { render("{{ foo.bar }}"); });
    EXPECT_EQ(u.message(), "'foo' is undefined");
    auto n = expect_error([] { render("{{ x.split(',') }}", {{"x", nullptr}}); });
    EXPECT_EQ(n.message(), "'None' has no attribute 'split'");
}

TEST(ChatTemplate, LimitsStopHostileTemplates) {
    // Unbounded macro recursion.
    auto rec = expect_error([] { render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"); });
    EXPECT_NE(rec.message().find("recursion"), std::string::npos) << rec.message();
    // Too many steps: 10^10 iterations would never finish.
    auto start = std::chrono::steady_clock::now();
    auto steps = expect_error([] {
        render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}");
    });
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(300));  // no hang
    EXPECT_NE(steps.message().find("steps"), std::string::npos) << steps.message();
    // Output and string sizes.
    expect_error([] { render("{{ 'x' * 1000000000 }}"); });
    expect_error([] { render("{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(40) %}"
                             "{% set ns.s = ns.s + ns.s %}{% endfor %}"); });
    // Syntactic nesting.
    expect_error([] { mmojo::ChatTemplate("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}"); });
    expect_error([] { mmojo::ChatTemplate("{{ " + std::string(20000, '-') + "1 }}"); });
    std::string chain = "{{ 1";
    for (int i = 0; i < 5000; ++i) chain += " + 1";
    expect_error([&] { mmojo::ChatTemplate(chain + " }}"); });
    std::string ifs;
    for (int i = 0; i < 500; ++i) ifs += "{% if true %}";
    expect_error([&] { mmojo::ChatTemplate t(ifs); });
    // A namespace that contains itself must not leak or loop (repr is depth-limited).
    expect_error([] { render("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}"); });
}

TEST(ChatTemplate, InputsBecomeVariables) {
    mmojo::ChatTemplate t(
        "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}"
        "{{ tools is defined }}{{ add_generation_prompt }}{{ enable_thinking }}{{ eos_token }}");
    mmojo::ChatTemplateInputs in;
    in.messages = ordered_json::parse(R"([{"role":"user","content":"hi"}])");
    in.bos_token = "<s>";
    in.eos_token = "</s>";
    in.extra = {{"enable_thinking", false}};
    EXPECT_EQ(t.render(in), "<s>[user:hi]FalseTrueFalse</s>");
    in.tools = ordered_json::array();
    in.add_generation_prompt = false;
    EXPECT_EQ(t.render(in), "<s>[user:hi]TrueFalseFalse</s>");
}

TEST(ChatTemplate, ChatmlFallback) {
    // The ChatML layout: <|im_start|>{role}\n{content}<|im_end|>\n, then the assistant header.
    mmojo::ChatTemplate t(mmojo::chatml_template_source());
    mmojo::ChatTemplateInputs in;
    in.messages = ordered_json::parse(R"([{"role":"system","content":"Be brief."},
        {"role":"user","content":[{"type":"text","text":"Hi"},{"type":"text","text":" there"}]},
        {"role":"assistant","content":null}])");
    EXPECT_EQ(t.render(in),
              "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n"
              "<|im_start|>assistant\n<|im_end|>\n<|im_start|>assistant\n");
}

}  // namespace
