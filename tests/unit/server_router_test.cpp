// Unit tests for request dispatch (no sockets): API key, CORS preflight, 404/405,
// exception-to-JSON conversion, and the typed request-field readers.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "gguf/gguf.h"
#include "server/api_types.h"
#include "server/errors.h"
#include "server/router.h"

using namespace mmojo;

static HttpRequest make(const std::string& method, const std::string& path) {
    HttpRequest r;
    r.method = method;
    r.path = path;
    return r;
}

static nlohmann::json body_of(const HttpResponse& res) { return nlohmann::json::parse(res.body); }

class RouterTest : public ::testing::Test {
protected:
    void SetUp() override {
        router.add("GET", "/health", [](const HttpRequest&, HttpResponse& res) { res.set_json({{"status", "ok"}}); },
                   true);
        router.add("POST", "/echo", [](const HttpRequest& req, HttpResponse& res) {
            res.set_json(parse_body(req.body));
        });
        router.add("GET", "/boom", [](const HttpRequest&, HttpResponse&) { throw std::runtime_error("kaput"); });
        router.add("GET", "/typed", [](const HttpRequest&, HttpResponse&) {
            nlohmann::json j = "x";
            (void)j.at("missing");
        });
    }
    Router router;
};

TEST_F(RouterTest, RoutesAndErrors) {
    auto ok = router.dispatch(make("GET", "/health"));
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(body_of(ok)["status"], "ok");

    auto missing = router.dispatch(make("GET", "/nope"));
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(body_of(missing)["error"]["type"], "not_found_error");
    EXPECT_EQ(body_of(missing)["error"]["code"], 404);

    auto wrong = router.dispatch(make("DELETE", "/echo"));
    EXPECT_EQ(wrong.status, 405);

    auto boom = router.dispatch(make("GET", "/boom"));
    EXPECT_EQ(boom.status, 500);
    EXPECT_EQ(body_of(boom)["error"]["type"], "server_error");
    EXPECT_EQ(body_of(boom)["error"]["message"], "kaput");

    auto typed = router.dispatch(make("GET", "/typed"));
    EXPECT_EQ(typed.status, 400);

    auto bad_json = make("POST", "/echo");
    bad_json.body = "{not json";
    auto r = router.dispatch(bad_json);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(body_of(r)["error"]["type"], "invalid_request_error");

    auto not_object = make("POST", "/echo");
    not_object.body = "[1,2]";
    EXPECT_EQ(router.dispatch(not_object).status, 400);
}

TEST_F(RouterTest, ApiKey) {
    router.set_api_keys({"k1", "secret"});
    auto req = make("POST", "/echo");
    req.body = "{}";
    auto denied = router.dispatch(req);
    EXPECT_EQ(denied.status, 401);
    EXPECT_EQ(body_of(denied)["error"]["type"], "authentication_error");

    req.headers["authorization"] = "Bearer wrong";
    EXPECT_EQ(router.dispatch(req).status, 401);
    req.headers["authorization"] = "Bearer secre";
    EXPECT_EQ(router.dispatch(req).status, 401);
    req.headers["authorization"] = "Bearer secret";
    EXPECT_EQ(router.dispatch(req).status, 200);
    req.headers.clear();
    req.headers["x-api-key"] = "k1";
    EXPECT_EQ(router.dispatch(req).status, 200);

    // /health is public; preflight needs no key.
    EXPECT_EQ(router.dispatch(make("GET", "/health")).status, 200);
    EXPECT_EQ(router.dispatch(make("OPTIONS", "/echo")).status, 200);
}

TEST_F(RouterTest, Cors) {
    auto req = make("OPTIONS", "/v1/chat/completions");
    req.headers["origin"] = "http://example.test";
    req.headers["access-control-request-headers"] = "authorization, content-type";
    auto res = router.dispatch(req);
    EXPECT_EQ(res.status, 200);
    bool origin = false, headers = false;
    for (const auto& [k, v] : res.headers) {
        if (k == "Access-Control-Allow-Origin") origin = v == "http://example.test";
        if (k == "Access-Control-Allow-Headers") headers = v == "authorization, content-type";
    }
    EXPECT_TRUE(origin);
    EXPECT_TRUE(headers);
}

// stories260K's tokenizer (512 tokens), for the fields that name tokens.
static const Tokenizer& tokenizer() {
    static const GgufFile file = GgufFile::open(std::string(MMOJO_SHARED_DIR) + "/models/stories260K.gguf");
    static const std::unique_ptr<Tokenizer> tok = Tokenizer::from_gguf(file);
    return *tok;
}

static GenerationParams parse_generation_params(const nlohmann::json& body, const GenerationParams& d, bool openai) {
    return mmojo::parse_generation_params(body, d, openai, tokenizer());
}

TEST(ApiTypes, LogitBiasForms) {
    GenerationParams d;
    auto p = parse_generation_params(nlohmann::json::parse(R"({"logit_bias": [[5, -1.5], [7, false]]})"), d, false);
    ASSERT_EQ(p.sampling.logit_bias.size(), 2u);
    EXPECT_EQ(p.sampling.logit_bias[0], (std::pair<int32_t, float>{5, -1.5f}));
    EXPECT_EQ(p.sampling.logit_bias[1].first, 7);
    EXPECT_TRUE(std::isinf(p.sampling.logit_bias[1].second) && p.sampling.logit_bias[1].second < 0);

    // OpenAI's object form: numeric keys are ids, other keys texts whose tokens all get the bias.
    auto o = parse_generation_params(nlohmann::json::parse(R"({"logit_bias": {"9": 3, "Once upon": -2}})"), d, true);
    const std::vector<TokenId> text = tokenizer().encode("Once upon", false, false);
    ASSERT_FALSE(text.empty());
    ASSERT_EQ(o.sampling.logit_bias.size(), 1 + text.size());
    size_t with_id_9 = 0, text_entries = 0;
    for (const auto& [id, bias] : o.sampling.logit_bias) {
        if (id == 9 && bias == 3.0f) ++with_id_9;
        if (bias == -2.0f) {
            EXPECT_EQ(id, text[text_entries]);
            ++text_entries;
        }
    }
    EXPECT_EQ(with_id_9, 1u);
    EXPECT_EQ(text_entries, text.size());

    for (const char* bad : {R"({"logit_bias": [[512, 1]]})", R"({"logit_bias": [[-1, 1]]})",
                            R"({"logit_bias": [[5, true]]})", R"({"logit_bias": [[5, "x"]]})",
                            R"({"logit_bias": [5, 1]})", R"({"logit_bias": 3})", R"({"logit_bias": {"600": 1}})"}) {
        EXPECT_THROW(parse_generation_params(nlohmann::json::parse(bad), d, false), ApiError) << bad;
    }
}

TEST(ApiTypes, FieldTypes) {
    GenerationParams d;
    auto p = parse_generation_params(nlohmann::json::parse(R"({"n_predict": 7, "temperature": 0,
        "stop": ["a", ""], "seed": 42, "top_k": 5, "n_probs": 3, "stream": true})"), d, false);
    EXPECT_EQ(p.n_predict, 7);
    EXPECT_EQ(p.sampling.temperature, 0.0f);
    EXPECT_EQ(p.stop, std::vector<std::string>{"a"});
    EXPECT_EQ(p.sampling.seed, 42u);
    EXPECT_EQ(p.sampling.top_k, 5);
    EXPECT_EQ(p.sampling.n_probs, 3);
    EXPECT_TRUE(p.stream);

    auto oai = parse_generation_params(nlohmann::json::parse(R"({"max_tokens": 9, "stop": "x",
        "logprobs": true, "top_logprobs": 4, "stream_options": {"include_usage": true}})"), d, true);
    EXPECT_EQ(oai.n_predict, 9);
    EXPECT_EQ(oai.stop, std::vector<std::string>{"x"});
    EXPECT_EQ(oai.sampling.n_probs, 4);
    EXPECT_TRUE(oai.include_usage);

    for (const char* bad : {R"({"temperature": "hot"})", R"({"n_predict": 1.5})", R"({"n_predict": "3"})",
                            R"({"stop": 5})", R"({"stop": [1]})", R"({"stream": "yes"})", R"({"top_p": 2})",
                            R"({"n_probs": -1})", R"({"seed": "x"})", R"({"n_predict": -2})"}) {
        EXPECT_THROW(parse_generation_params(nlohmann::json::parse(bad), d, false), ApiError) << bad;
    }
    EXPECT_EQ(parse_generation_params(nlohmann::json::parse(R"({"n": 2})"), d, true).n_choices, 2);
    EXPECT_EQ(oai.n_choices, 1);
    EXPECT_THROW(parse_generation_params(nlohmann::json::parse(R"({"n": 0})"), d, true), ApiError);
    EXPECT_THROW(parse_generation_params(nlohmann::json::parse(R"({"n": 129})"), d, true), ApiError);
    EXPECT_THROW(parse_generation_params(nlohmann::json::parse(R"({"logprobs": "x"})"), d, true), ApiError);
    EXPECT_THROW(parse_generation_params(nlohmann::json::parse(R"({"stream_options": 1})"), d, true), ApiError);
}
