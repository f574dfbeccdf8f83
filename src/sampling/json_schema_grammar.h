// JSON Schema -> GBNF (grammar.h). The grammar generates JSON text that validates against
// the schema; where the schema allows more than the grammar writes (extra properties when
// additionalProperties is not given, whitespace, very long numbers), the grammar picks a
// subset, never a superset. Keywords it cannot honour are refused with JsonSchemaError
// listing every one and where it is, so a schema is never silently ignored.
//
// Supported: type (also a list), enum, const, anyOf, oneOf (as anyOf), allOf with one
// member, $ref to "#", "#/$defs/..", "#/definitions/.." (any JSON pointer into the schema;
// recursion allowed), object properties / required / additionalProperties (false, true,
// a schema), array items / minItems / maxItems, string minLength / maxLength / format
// (date, time, date-time, uuid) / pattern (a regular-expression subset, see
// regex_grammar.h), integer minimum / maximum / exclusiveMinimum / exclusiveMaximum,
// number with the same bounds (finite, below 1e15 in size), and annotations that do not
// constrain (title, description, default, examples, $schema, $id, $comment, readOnly,
// writeOnly, deprecated).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mmojo {

class JsonSchemaError : public std::runtime_error {
public:
    JsonSchemaError(const std::string& what, std::vector<std::string> unsupported = {})
        : std::runtime_error(what), unsupported_(std::move(unsupported)) {}
    // "keyword at /json/pointer" for each keyword the converter cannot honour (empty for
    // other errors: a malformed schema, a limit).
    const std::vector<std::string>& unsupported() const { return unsupported_; }

private:
    std::vector<std::string> unsupported_;
};

struct JsonSchemaLimits {
    int max_depth = 64;            // nesting of subschemas
    size_t max_rules = 5000;       // generated rules
    size_t max_grammar_bytes = 1u << 20;
    uint32_t max_items = 1024;     // maxItems / maxLength written as a bounded repetition
};

// GBNF whose rule `root` matches exactly the JSON texts the grammar allows for `schema`.
// Throws JsonSchemaError. Properties are written in the schema's order: pass an
// ordered_json to keep the order the client declared (nlohmann::json sorts keys).
std::string json_schema_to_gbnf(const nlohmann::ordered_json& schema, const JsonSchemaLimits& limits = {});
std::string json_schema_to_gbnf(const nlohmann::json& schema, const JsonSchemaLimits& limits = {});

// The same rules under `rule_name` (a GBNF rule name: letters, digits, '-'), with every
// helper rule named `rule_name-...`, and no `root`: to embed a schema inside a larger
// grammar, e.g. a tool call's arguments:
//   root ::= "<tool_call>" args "</tool_call>"
//   + json_schema_to_gbnf_rule(tool.parameters, "args")
// Two schemas embedded under different names never share or clash rule names.
std::string json_schema_to_gbnf_rule(const nlohmann::ordered_json& schema, const std::string& rule_name,
                                     const JsonSchemaLimits& limits = {});
std::string json_schema_to_gbnf_rule(const nlohmann::json& schema, const std::string& rule_name,
                                     const JsonSchemaLimits& limits = {});

// GBNF for any JSON value (`response_format: json_object` uses any_object).
std::string json_any_value_gbnf(const std::string& rule_name = "root");
std::string json_any_object_gbnf(const std::string& rule_name = "root");

}  // namespace mmojo
