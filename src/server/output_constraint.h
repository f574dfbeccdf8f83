// Constrained output of a request: llama-server's `grammar` (GBNF) and `json_schema`, and
// OpenAI's `response_format` ({"type":"text"}, {"type":"json_object"[, "schema"]},
// {"type":"json_schema","json_schema":{"schema":...}}), turned into one parsed grammar.
// Bad grammars and schemas are 400s naming what is wrong; unsupported schema keywords are
// listed in the message and in the error's "unsupported" field.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sampling/grammar.h"

namespace mmojo {

struct GenerationParams;

// Sets params.grammar / params.grammar_rules from the body's fields (at most one of
// grammar, json_schema, response_format with a schema). `raw_body` is the request text,
// read again with key order kept so object properties come out in the declared order.
void read_output_constraint(const nlohmann::json& body, std::string_view raw_body, GenerationParams& params);

// Parses GBNF from a request (start rule `root`); ApiError 400 with the parser's message.
std::shared_ptr<const Grammar> parse_request_grammar(const std::string& gbnf);

// GBNF for a JSON schema from a request (ordered keys); ApiError 400 listing unsupported
// keywords.
std::string request_schema_grammar(const nlohmann::ordered_json& schema);

}  // namespace mmojo
