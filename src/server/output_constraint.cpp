// Reading a request's grammar, json_schema and response_format (see output_constraint.h).
#include "server/output_constraint.h"

#include "sampling/json_schema_grammar.h"
#include "server/api_types.h"
#include "server/errors.h"

namespace mmojo {

namespace {

ApiError bad(const std::string& message) { return ApiError(ErrorType::kInvalidRequest, message); }

bool present(const nlohmann::json& body, const char* key) {
    auto it = body.find(key);
    return it != body.end() && !it->is_null();
}

// The value at `path` (keys) of the body read with its key order.
nlohmann::ordered_json ordered_field(const nlohmann::json& value, std::string_view raw_body,
                                     std::initializer_list<const char*> path) {
    if (!raw_body.empty()) {
        try {
            nlohmann::ordered_json node = nlohmann::ordered_json::parse(raw_body);
            for (const char* key : path) node = node.at(key);
            return node;
        } catch (const nlohmann::json::exception&) {
            // Fall through: the value as parsed (keys sorted).
        }
    }
    return nlohmann::ordered_json(value);
}

}  // namespace

std::shared_ptr<const Grammar> parse_request_grammar(const std::string& gbnf) {
    try {
        return Grammar::parse(gbnf);
    } catch (const GrammarError& e) {
        throw bad(std::string("invalid 'grammar': ") + e.what());
    }
}

std::string request_schema_grammar(const nlohmann::ordered_json& schema) {
    try {
        return json_schema_to_gbnf(schema);
    } catch (const JsonSchemaError& e) {
        ApiError error = bad(e.what());
        if (!e.unsupported().empty()) error.extra = {{"unsupported", e.unsupported()}};
        throw error;
    }
}

void read_output_constraint(const nlohmann::json& body, std::string_view raw_body, GenerationParams& params) {
    // llama-server's lazy grammars (applied only after a trigger) are not implemented:
    // refusing them beats applying the grammar from the first token.
    if (present(body, "grammar_lazy") && body["grammar_lazy"] != nlohmann::json(false)) {
        throw ApiError(ErrorType::kNotSupported, "'grammar_lazy' (grammars started by a trigger) is not supported");
    }
    const bool has_grammar = present(body, "grammar");
    const bool has_schema = present(body, "json_schema");
    std::string gbnf;
    if (has_grammar) {
        if (!body["grammar"].is_string()) throw bad("'grammar' must be a string (GBNF)");
        gbnf = body["grammar"].get<std::string>();
    }
    if (has_schema) {
        if (has_grammar) throw bad("Either 'json_schema' or 'grammar' can be specified, but not both");
        const nlohmann::json& s = body["json_schema"];
        if (!s.is_object() && !s.is_boolean()) throw bad("'json_schema' must be an object");
        gbnf = request_schema_grammar(ordered_field(s, raw_body, {"json_schema"}));
    }
    if (present(body, "response_format")) {
        const nlohmann::json& rf = body["response_format"];
        if (!rf.is_object()) throw bad("'response_format' must be an object");
        const std::string type = rf.value("type", std::string("text"));
        if (type == "json_object" || type == "json_schema") {
            if (has_grammar || has_schema) {
                throw bad("'response_format' cannot be combined with 'grammar' or 'json_schema'");
            }
        }
        if (type == "json_object") {
            gbnf = rf.contains("schema") && !rf["schema"].is_null()
                       ? request_schema_grammar(ordered_field(rf["schema"], raw_body, {"response_format", "schema"}))
                       : json_any_object_gbnf();
        } else if (type == "json_schema") {
            // OpenAI: {"json_schema": {"name", "schema", "strict"}}; llama-server also takes
            // {"schema": ...} directly.
            if (rf.contains("json_schema") && rf["json_schema"].is_object() && rf["json_schema"].contains("schema")) {
                gbnf = request_schema_grammar(
                    ordered_field(rf["json_schema"]["schema"], raw_body, {"response_format", "json_schema", "schema"}));
            } else if (rf.contains("schema")) {
                gbnf = request_schema_grammar(ordered_field(rf["schema"], raw_body, {"response_format", "schema"}));
            } else {
                throw bad("'response_format' of type json_schema needs 'json_schema': {'schema': {...}}");
            }
        } else if (type != "text") {
            throw bad("'response_format' type must be one of \"text\", \"json_object\" or \"json_schema\", but got: " + type);
        }
    }
    if (gbnf.empty()) return;
    params.grammar = gbnf;
    params.grammar_rules = parse_request_grammar(gbnf);
}

}  // namespace mmojo
