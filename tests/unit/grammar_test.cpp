// GBNF parser and matcher (src/sampling/grammar*.cpp): strings a grammar must accept and
// reject (written from the GBNF rules in llama.cpp's grammars/README.md), errors with their
// line and column, the limits, and the token-trie walk against a per-token check.
#include "sampling/grammar.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "sampling/grammar_matcher.h"
#include "sampling/token_trie.h"

using namespace mmojo;

namespace {

bool matches(const std::string& grammar, const std::string& text) {
    GrammarMatcher m(Grammar::parse(grammar));
    return m.accept(text) && m.is_complete();
}

bool prefix_ok(const std::string& grammar, const std::string& text) {
    GrammarMatcher m(Grammar::parse(grammar));
    return m.accept(text);
}

std::string error_of(const std::string& grammar, const GrammarLimits& limits = {}) {
    try {
        Grammar::parse(grammar, "root", limits);
    } catch (const GrammarError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Grammar, Literals) {
    const std::string g = "root ::= \"ab\" \"c\"\n";
    EXPECT_TRUE(matches(g, "abc"));
    EXPECT_FALSE(matches(g, "ab"));
    EXPECT_TRUE(prefix_ok(g, "ab"));
    EXPECT_FALSE(prefix_ok(g, "abd"));
    EXPECT_FALSE(prefix_ok(g, "abcd"));
}

TEST(Grammar, AlternativesGroupsAndComments) {
    const std::string g =
        "# a comment line\n"
        "root ::= greeting (\" \" name)?   # trailing comment\n"
        "greeting ::= \"hi\" | \"hello\"\n"
        "name ::= \"bob\"\n"
        "       | \"alice\"\n";
    EXPECT_TRUE(matches(g, "hi"));
    EXPECT_TRUE(matches(g, "hello bob"));
    EXPECT_TRUE(matches(g, "hi alice"));
    EXPECT_FALSE(matches(g, "hi "));
    EXPECT_FALSE(matches(g, "hey"));
}

TEST(Grammar, Repetitions) {
    EXPECT_TRUE(matches("root ::= \"a\"*\n", ""));
    EXPECT_TRUE(matches("root ::= \"a\"*\n", "aaaa"));
    EXPECT_FALSE(matches("root ::= \"a\"+\n", ""));
    EXPECT_TRUE(matches("root ::= \"a\"+\n", "aaa"));
    EXPECT_TRUE(matches("root ::= \"ab\"+\n", "ababab"));
    EXPECT_FALSE(matches("root ::= \"ab\"+\n", "aba"));
    EXPECT_TRUE(matches("root ::= \"a\"? \"b\"\n", "b"));
    EXPECT_TRUE(matches("root ::= \"a\"? \"b\"\n", "ab"));
    const std::string g = "root ::= [0-9]{2,4}\n";
    EXPECT_FALSE(matches(g, "1"));
    EXPECT_TRUE(matches(g, "12"));
    EXPECT_TRUE(matches(g, "1234"));
    EXPECT_FALSE(prefix_ok(g, "12345"));
    EXPECT_TRUE(matches("root ::= \"x\"{3}\n", "xxx"));
    EXPECT_FALSE(matches("root ::= \"x\"{3}\n", "xx"));
    EXPECT_TRUE(matches("root ::= \"x\"{2,}\n", "xxxxxxx"));
    EXPECT_FALSE(matches("root ::= \"x\"{2,}\n", "x"));
    EXPECT_TRUE(matches("root ::= (\"a\" | \"b\"){0,2} \"c\"\n", "bac"));
    EXPECT_FALSE(matches("root ::= (\"a\" | \"b\"){0,2} \"c\"\n", "abac"));
}

TEST(Grammar, CharacterClasses) {
    const std::string g = "root ::= [a-cx] [^0-9\\n] .\n";
    EXPECT_TRUE(matches(g, "bqz"));
    EXPECT_TRUE(matches(g, "x\xC3\xA9\xE2\x82\xAC"));   // é, €
    EXPECT_FALSE(matches(g, "d!!"));
    EXPECT_FALSE(matches(g, "a5!"));
    EXPECT_FALSE(matches(g, "a\n!"));
    // Escapes in literals and classes.
    EXPECT_TRUE(matches("root ::= \"\\x41\\u00e9\\U0001F600\\t\\\"\"\n", "A\xC3\xA9\xF0\x9F\x98\x80\t\""));
    EXPECT_TRUE(matches("root ::= [\\]\\[\\-]+\n", "][-"));
    // A code point split between accept() calls.
    GrammarMatcher m(Grammar::parse("root ::= [\\u00e0-\\u00ff]\n"));
    EXPECT_TRUE(m.accept("\xC3"));
    EXPECT_FALSE(m.is_complete());
    EXPECT_TRUE(m.accept("\xA9"));
    EXPECT_TRUE(m.is_complete());
    // A lead byte no allowed code point starts with is refused at once.
    GrammarMatcher ascii(Grammar::parse("root ::= [a-z]\n"));
    EXPECT_FALSE(ascii.accept("\xC3"));
    EXPECT_FALSE(ascii.accept("\xFF"));
}

TEST(Grammar, RecursionAndNullableRules) {
    const std::string g =
        "root ::= list\n"
        "list ::= \"[\" (item (\",\" item)*)? \"]\"\n"
        "item ::= [0-9]+ | list\n";
    EXPECT_TRUE(matches(g, "[]"));
    EXPECT_TRUE(matches(g, "[1,[2,[]],33]"));
    EXPECT_FALSE(matches(g, "[1,]"));
    EXPECT_FALSE(matches(g, "[[1]"));
    // Empty alternatives and rules that can be empty.
    const std::string e = "root ::= a b \"!\"\na ::= \"x\" |\nb ::= | \"y\"\n";
    EXPECT_TRUE(matches(e, "!"));
    EXPECT_TRUE(matches(e, "xy!"));
    EXPECT_TRUE(matches(e, "y!"));
}

TEST(Grammar, AmbiguousGrammarsMerge) {
    // Two ways to parse every prefix: stacks are merged, not multiplied.
    GrammarMatcher m(Grammar::parse("root ::= \"a\"* \"a\"*\n"));
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(m.accept("a"));
    EXPECT_TRUE(m.is_complete());
    EXPECT_LE(m.n_stacks(), 3u);
}

TEST(Grammar, ErrorsNameLineAndColumn) {
    EXPECT_NE(error_of("root ::= \"a\"\nroot ::= \"b\"\n").find("line 2, column 1"), std::string::npos);
    EXPECT_NE(error_of("root ::= foo\n").find("'foo' is used but not defined"), std::string::npos);
    EXPECT_NE(error_of("root ::= \"abc\n").find("line 1, column 14: unterminated literal"), std::string::npos);
    EXPECT_NE(error_of("root ::= [a-\n").find("unterminated character class"), std::string::npos);
    EXPECT_NE(error_of("root ::= [z-a]\n").find("ends below its start"), std::string::npos);
    EXPECT_NE(error_of("root ::= (\"a\"\n").find("expected ')'"), std::string::npos);
    EXPECT_NE(error_of("root := \"a\"\n").find("expected '::='"), std::string::npos);
    EXPECT_NE(error_of("root ::= *\n").find("nothing before it to repeat"), std::string::npos);
    EXPECT_NE(error_of("root ::= \"a\"{3,1}\n").find("m <= n"), std::string::npos);
    EXPECT_NE(error_of("root ::= \"\\q\"\n").find("line 1, column 11: unknown escape"), std::string::npos);
    EXPECT_NE(error_of("root ::= \"a\" b ::= \"c\"\n").find("must start on its own line"), std::string::npos);
    EXPECT_NE(error_of("start ::= \"a\"\n").find("no 'root' rule"), std::string::npos);
    EXPECT_NE(error_of("").find("defines no rules"), std::string::npos);
    EXPECT_NE(error_of("root ::= \"\xC3(\"\n").find("invalid UTF-8"), std::string::npos);
    EXPECT_NE(error_of("root ::= root \"a\" | \"b\"\n").find("left-recursive"), std::string::npos);
    EXPECT_NE(error_of("root ::= x \"a\"\nx ::= y\ny ::= \"\" | root\n").find("left-recursive"), std::string::npos);
    EXPECT_NE(error_of("root ::= (\"\")*\n").find("left-recursive"), std::string::npos);
}

TEST(Grammar, Limits) {
    GrammarLimits small;
    small.max_source_bytes = 10;
    EXPECT_NE(error_of("root ::= \"aaaaaaaaaa\"\n", small).find("more than the 10 allowed"), std::string::npos);
    std::string deep = "root ::= ";
    for (int i = 0; i < 100; ++i) deep += "(";
    deep += "\"a\"";
    for (int i = 0; i < 100; ++i) deep += ")";
    EXPECT_NE(error_of(deep + "\n").find("nested deeper than 64"), std::string::npos);
    EXPECT_NE(error_of("root ::= \"a\"{5000}\n").find("above 4096"), std::string::npos);
    GrammarLimits few;
    few.max_elements = 1000;
    EXPECT_NE(error_of("root ::= (\"a\"{999}){999}\n", few).find("more than 1000 elements"), std::string::npos);
    few.max_rules = 3;
    EXPECT_NE(error_of("root ::= a\na ::= b\nb ::= c\nc ::= \"x\"\n", few).find("more than 3 rules"), std::string::npos);
    // Exponential ambiguity is cut off with an error, not memory.
    GrammarMatcher m(Grammar::parse("root ::= x*\nx ::= [a-z] | [a-z] [a-z]\n"), 64);
    std::string err;
    try {
        for (int i = 0; i < 64; ++i) m.accept("a");
    } catch (const GrammarError& e) {
        err = e.what();
    }
    EXPECT_TRUE(err.empty() || err.find("too ambiguous") != std::string::npos) << err;
}

TEST(Grammar, TokenTrieWalkEqualsPerTokenCheck) {
    // A vocabulary with shared prefixes, multi-byte characters split across tokens and
    // duplicates; every state along a text compares the walk with allows() per token.
    std::vector<std::string> vocab = {"{", "{\"", "\"", "\":", "a", "ab", "abc", "b", " ", "  ", "}", "\xC3", "\xA9",
                                      "\xC3\xA9", "1", "12", "123", ",", ", ", "\"a", "\"}", "", "x\"", "ab"};
    std::mt19937 rng(7);
    const std::string chars = "{}\":ab ,1x";
    for (int i = 0; i < 300; ++i) {
        std::string t;
        const int n = 1 + int(rng() % 5);
        for (int k = 0; k < n; ++k) t += chars[rng() % chars.size()];
        vocab.push_back(t);
    }
    const TokenTrie trie = TokenTrie::build(vocab, {});
    const std::string g =
        "root ::= \"{\" ws (kv (\",\" ws kv)*)? \"}\"\n"
        "kv ::= \"\\\"\" [a-z\\u00e9]* \"\\\"\" ws \":\" ws [0-9]+ ws\n"
        "ws ::= \" \"?\n";
    GrammarMatcher m(Grammar::parse(g));
    const std::string text = "{ \"ab\xC3\xA9\": 12, \"b\":1}";
    for (size_t i = 0; i <= text.size(); ++i) {
        std::vector<uint8_t> mask(vocab.size(), 0);
        m.allowed_tokens(trie, mask);
        for (size_t id = 0; id < vocab.size(); ++id) {
            const bool expect = !vocab[id].empty() && m.allows(vocab[id]);
            ASSERT_EQ(bool(mask[id]), expect) << "state after " << i << " bytes, token '" << vocab[id] << "'";
        }
        if (i < text.size()) {
            ASSERT_TRUE(m.accept(text.substr(i, 1)));
        }
    }
    EXPECT_TRUE(m.is_complete());
    EXPECT_FALSE(m.can_continue());
}
