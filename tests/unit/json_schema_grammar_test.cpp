// JSON Schema -> GBNF (src/sampling/json_schema_grammar.cpp): hand-written JSON texts the
// grammar must accept or refuse, refusals of unsupported keywords with their paths, and
// embedding under a named rule. Whether generated output validates is checked with
// Python's jsonschema in tests/integration/test_grammar_server.py.
#include "sampling/json_schema_grammar.h"

#include <gtest/gtest.h>

#include <string>

#include "sampling/grammar.h"
#include "sampling/grammar_matcher.h"
#include "sampling/regex_grammar.h"

using namespace mmojo;
using json = nlohmann::ordered_json;

namespace {

bool schema_matches(const json& schema, const std::string& text) {
    GrammarMatcher m(Grammar::parse(json_schema_to_gbnf(schema)));
    return m.accept(text) && m.is_complete();
}

std::string schema_error(const json& schema) {
    try {
        json_schema_to_gbnf(schema);
    } catch (const JsonSchemaError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(JsonSchemaGrammar, ObjectsWithRequiredAndOptionalProperties) {
    const json s = json::parse(R"({"type":"object","properties":{
        "a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}},"required":["b"]})");
    EXPECT_TRUE(schema_matches(s, R"({"b":"x"})"));
    EXPECT_TRUE(schema_matches(s, R"({"a":1,"b":"x","c":true})"));
    EXPECT_TRUE(schema_matches(s, R"({ "a": -12, "b": "y\n\u00e9" })"));
    EXPECT_TRUE(schema_matches(s, R"({"b":"x", "c":false})"));
    EXPECT_FALSE(schema_matches(s, R"({})"));
    EXPECT_FALSE(schema_matches(s, R"({"a":1})"));
    EXPECT_FALSE(schema_matches(s, R"({"b":"x","a":1})"));    // declared order only
    EXPECT_FALSE(schema_matches(s, R"({"b":"x","d":1})"));    // no extras unless asked
    EXPECT_FALSE(schema_matches(s, R"({"a":1.5,"b":"x"})"));
    EXPECT_FALSE(schema_matches(s, R"({"a":01,"b":"x"})"));
    const json none = json::parse(R"({"type":"object","properties":{"a":{"type":"null"}}})");
    EXPECT_TRUE(schema_matches(none, "{}"));
    EXPECT_TRUE(schema_matches(none, R"({"a":null})"));
}

TEST(JsonSchemaGrammar, AdditionalPropertiesNeverRepeatDeclaredKeys) {
    const json s = json::parse(R"({"type":"object","properties":{"id":{"type":"integer"}},
        "additionalProperties":{"type":"string"}})");
    EXPECT_TRUE(schema_matches(s, R"({"id":1,"name":"x","i":"y","idx":"z"})"));
    EXPECT_TRUE(schema_matches(s, R"({"other":"x"})"));
    EXPECT_FALSE(schema_matches(s, R"({"id":1,"id":"x"})"));
    EXPECT_FALSE(schema_matches(s, R"({"id":1,"n":2})"));
    const json any = json::parse(R"({"type":"object","additionalProperties":true})");
    EXPECT_TRUE(schema_matches(any, R"({"x":[1,{"y":null}],"z":"w"})"));
}

TEST(JsonSchemaGrammar, ArraysWithBounds) {
    const json s = json::parse(R"({"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":3})");
    EXPECT_FALSE(schema_matches(s, "[1]"));
    EXPECT_TRUE(schema_matches(s, "[1, 2]"));
    EXPECT_TRUE(schema_matches(s, "[1,2,3]"));
    EXPECT_FALSE(schema_matches(s, "[1,2,3,4]"));
    const json any = json::parse(R"({"type":"array"})");
    EXPECT_TRUE(schema_matches(any, "[]"));
    EXPECT_TRUE(schema_matches(any, R"([1,"a",[true],{}])"));
}

TEST(JsonSchemaGrammar, EnumConstAnyOfRefs) {
    const json s = json::parse(R"({"$defs":{"color":{"enum":["red","green",3]},
        "node":{"type":"object","properties":{"v":{"const":"x"},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},
        "required":["v","next"]}},
        "type":"object","properties":{"c":{"$ref":"#/$defs/color"},"n":{"$ref":"#/$defs/node"}},"required":["c","n"]})");
    EXPECT_TRUE(schema_matches(s, R"({"c":"red","n":{"v":"x","next":null}})"));
    EXPECT_TRUE(schema_matches(s, R"({"c":3,"n":{"v":"x","next":{"v":"x","next":null}}})"));
    EXPECT_FALSE(schema_matches(s, R"({"c":"blue","n":{"v":"x","next":null}})"));
    EXPECT_FALSE(schema_matches(s, R"({"c":"red","n":{"v":"y","next":null}})"));
    // enum filtered by the type beside it
    const json typed = json::parse(R"({"type":"string","enum":["a",1]})");
    EXPECT_TRUE(schema_matches(typed, R"("a")"));
    EXPECT_FALSE(schema_matches(typed, "1"));
}

TEST(JsonSchemaGrammar, IntegerAndNumberBounds) {
    const json s = json::parse(R"({"type":"integer","minimum":-15,"maximum":120})");
    for (int v = -30; v <= 150; ++v) {
        EXPECT_EQ(schema_matches(s, std::to_string(v)), v >= -15 && v <= 120) << v;
    }
    EXPECT_FALSE(schema_matches(s, "-0"));
    const json ex = json::parse(R"({"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":1000})");
    EXPECT_FALSE(schema_matches(ex, "0"));
    EXPECT_TRUE(schema_matches(ex, "1"));
    EXPECT_TRUE(schema_matches(ex, "999"));
    EXPECT_FALSE(schema_matches(ex, "1000"));
    const json big = json::parse(R"({"type":"integer","minimum":1234})");
    EXPECT_FALSE(schema_matches(big, "1233"));
    EXPECT_TRUE(schema_matches(big, "1234"));
    EXPECT_TRUE(schema_matches(big, "99999999"));
    const json num = json::parse(R"({"type":"number","minimum":-1.5,"maximum":2.5})");
    EXPECT_TRUE(schema_matches(num, "-1"));
    EXPECT_TRUE(schema_matches(num, "-0.75"));
    EXPECT_TRUE(schema_matches(num, "1.999"));
    EXPECT_TRUE(schema_matches(num, "2"));
    EXPECT_FALSE(schema_matches(num, "3"));
    EXPECT_FALSE(schema_matches(num, "-2"));
    EXPECT_FALSE(schema_matches(num, "2.7"));
    EXPECT_FALSE(schema_matches(num, "-1.7"));
    EXPECT_TRUE(schema_matches(json::parse(R"({"type":"number"})"), "-1.25e10"));
}

TEST(JsonSchemaGrammar, StringsFormatsAndPatterns) {
    const json len = json::parse(R"({"type":"string","minLength":2,"maxLength":3})");
    EXPECT_FALSE(schema_matches(len, R"("a")"));
    EXPECT_TRUE(schema_matches(len, R"("a\"")"));
    EXPECT_TRUE(schema_matches(len, R"("\u00e9bc")"));
    EXPECT_FALSE(schema_matches(len, R"("abcd")"));
    EXPECT_TRUE(schema_matches(json::parse(R"({"type":"string","format":"date"})"), R"("2024-02-28")"));
    EXPECT_FALSE(schema_matches(json::parse(R"({"type":"string","format":"date"})"), R"("2024-02-30")"));
    EXPECT_FALSE(schema_matches(json::parse(R"({"type":"string","format":"date"})"), R"("2024-13-01")"));
    EXPECT_TRUE(schema_matches(json::parse(R"({"type":"string","format":"date-time"})"), R"("2024-06-30T23:59:01.5+02:00")"));
    EXPECT_TRUE(schema_matches(json::parse(R"({"type":"string","format":"time"})"), R"("08:00:00Z")"));
    EXPECT_TRUE(schema_matches(json::parse(R"({"type":"string","format":"uuid"})"),
                               R"("123e4567-e89b-12d3-a456-426614174000")"));
    const json pat = json::parse(R"({"type":"string","pattern":"^[A-Z]{2}-\\d{3}(x|yz)?$"})");
    EXPECT_TRUE(schema_matches(pat, R"("AB-123")"));
    EXPECT_TRUE(schema_matches(pat, R"("QQ-000yz")"));
    EXPECT_FALSE(schema_matches(pat, R"("ab-123")"));
    EXPECT_FALSE(schema_matches(pat, R"("AB-12")"));
    // Characters JSON escapes are written escaped.
    const json quote = json::parse(R"({"type":"string","pattern":"^a\"b\\\\c\\td$"})");
    EXPECT_TRUE(schema_matches(quote, R"("a\"b\\c\td")"));
}

TEST(JsonSchemaGrammar, UnsupportedKeywordsAreListed) {
    const json s = json::parse(R"({"type":"object","properties":{"a":{"type":"number","multipleOf":2},
        "b":{"not":{"type":"string"}}},"minProperties":1})");
    try {
        json_schema_to_gbnf(s);
        FAIL() << "no error";
    } catch (const JsonSchemaError& e) {
        ASSERT_EQ(e.unsupported().size(), 3u) << e.what();
        const std::string what = e.what();
        EXPECT_NE(what.find("minProperties at /"), std::string::npos) << what;
        EXPECT_NE(what.find("multipleOf at /properties/a"), std::string::npos) << what;
        EXPECT_NE(what.find("not at /properties/b"), std::string::npos) << what;
    }
    EXPECT_NE(schema_error(json::parse(R"({"type":"string","format":"hostname"})")).find("format at /"), std::string::npos);
    EXPECT_NE(schema_error(json::parse(R"({"type":"string","pattern":"(a)\\1"})")).find("backreferences"), std::string::npos);
    EXPECT_NE(schema_error(json::parse(R"({"allOf":[{"type":"string"},{"minLength":1}]})")).find("allOf"), std::string::npos);
    EXPECT_NE(schema_error(json::parse(R"({"$ref":"#/$defs/missing"})")).find("does not point"), std::string::npos);
    EXPECT_NE(schema_error(json::parse(R"({"$ref":"http://x/y.json"})")).find("only references inside"), std::string::npos);
    EXPECT_NE(schema_error(json::parse(R"({"type":"wat"})")).find("unknown type 'wat'"), std::string::npos);
    EXPECT_NE(schema_error(json::parse(R"({"type":"array","maxItems":100000})")).find("maxItems"), std::string::npos);
    EXPECT_NE(schema_error(json::parse(R"({"type":"integer","minimum":5,"maximum":4})")).find("no number"), std::string::npos);
    EXPECT_NE(schema_error(json::parse(R"(false)")).find("matches nothing"), std::string::npos);
    // Annotations and unknown extension keywords do not constrain: accepted.
    EXPECT_EQ(schema_error(json::parse(R"({"type":"string","title":"t","description":"d","x-extra":1})")), "");
}

TEST(JsonSchemaGrammar, DepthAndSizeLimits) {
    json deep = json::parse(R"({"type":"string"})");
    for (int i = 0; i < 100; ++i) deep = {{"type", "array"}, {"items", deep}};
    EXPECT_NE(schema_error(deep).find("nested deeper than 64"), std::string::npos);
    json wide = {{"type", "object"}, {"properties", json::object()}};
    for (int i = 0; i < 6000; ++i) {
        std::string name = "p";
        name += std::to_string(i);
        wide["properties"][name] = {{"enum", {i}}};
    }
    EXPECT_NE(schema_error(wide).find("more than 5000 rules"), std::string::npos);
}

TEST(JsonSchemaGrammar, EmbeddingUnderANamedRule) {
    const json args = json::parse(R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})");
    const json other = json::parse(R"({"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]})");
    const std::string g = "root ::= \"<call>\" (weather-args | count-args) \"</call>\"\n" +
                          json_schema_to_gbnf_rule(args, "weather-args") + json_schema_to_gbnf_rule(other, "count-args");
    GrammarMatcher m(Grammar::parse(g));
    EXPECT_TRUE(m.accept(R"(<call>{"city":"Paris"}</call>)"));
    EXPECT_TRUE(m.is_complete());
    GrammarMatcher m2(Grammar::parse(g));
    EXPECT_TRUE(m2.accept(R"(<call>{"n":5}</call>)"));
    EXPECT_TRUE(m2.is_complete());
    EXPECT_EQ(g.find("\nroot-"), std::string::npos);
    EXPECT_THROW(json_schema_to_gbnf_rule(args, "bad name"), JsonSchemaError);
    EXPECT_TRUE(GrammarMatcher(Grammar::parse(json_any_object_gbnf())).accept("{\"a\": [1, 2.5, \"x\", null]}"));
    EXPECT_FALSE(GrammarMatcher(Grammar::parse(json_any_object_gbnf())).accept("[1]"));
    EXPECT_EQ(gbnf_literal("a\"\\\n\xC3\xA9"), "\"a\\\"\\\\\\x0A\\xE9\"");
}
