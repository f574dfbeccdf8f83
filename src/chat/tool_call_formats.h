// The per-family tool-call readers behind parse_chat_output (output_parser.cpp). Each
// reader takes the output with its thinking removed and splits it into content and calls.
#pragma once

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/output_parser.h"
#include "chat/output_scan.h"

namespace mmojo::chat_formats {

using chat_scan::Cursor;
using chat_scan::Scan;

// Reads one block of calls at the cursor (just after its start marker). Complete calls
// are appended to `calls`; while streaming (kMore) so is a last call whose name is known.
using BlockReader = Scan (*)(Cursor& c, size_t which_start, bool partial, const nlohmann::json& tools,
                             std::vector<ParsedToolCall>& calls);

struct BlockFormat {
    std::vector<std::string_view> starts;  // markers that open a block of calls
    BlockReader read = nullptr;
    bool json_at_start = false;            // Llama 3: a bare JSON call as the whole output
};

// Content and calls of `text` for a format read block by block.
void split_blocks(const BlockFormat& format, std::string_view text, bool partial, const nlohmann::json& tools,
                  std::string& content, std::vector<ParsedToolCall>& calls);

// The block format of a family, or nullptr for families with a reader of their own.
const BlockFormat* block_format(ToolFormat format);

// Families whose whole output is a sequence of addressed messages.
void parse_harmony(const ChatSyntax& syntax, std::string_view text, bool partial, ParsedMessage& out);
void parse_functionary_v32(std::string_view text, bool partial, std::string& content,
                           std::vector<ParsedToolCall>& calls);

// Readers of the families that write arguments as bare text (tool_call_formats_text.cpp).
Scan read_qwen3_coder_block(Cursor& c, bool partial, const nlohmann::json& tools, std::vector<ParsedToolCall>& calls);
Scan read_glm4_block(Cursor& c, bool partial, const nlohmann::json& tools, std::vector<ParsedToolCall>& calls);
Scan read_gemma4_block(Cursor& c, bool partial, std::vector<ParsedToolCall>& calls);

// --- shared by the readers ------------------------------------------------------------

// {"name": .., "<args>": {..}} at the cursor. `name_keys`/`args_keys`/`id_keys` list the
// accepted member names (first present wins).
Scan read_json_call(Cursor& c, bool partial, std::initializer_list<const char*> name_keys,
                    std::initializer_list<const char*> args_keys, std::initializer_list<const char*> id_keys,
                    std::vector<ParsedToolCall>& calls);
// A JSON list of such calls at the cursor.
Scan read_json_call_list(Cursor& c, bool partial, std::initializer_list<const char*> name_keys,
                         std::initializer_list<const char*> args_keys, std::initializer_list<const char*> id_keys,
                         std::vector<ParsedToolCall>& calls);
// A JSON object at the cursor as the arguments of a call named `name`.
Scan read_json_arguments(Cursor& c, bool partial, std::string name, std::string id,
                         std::vector<ParsedToolCall>& calls);
// The closing marker of a call or block: kDone also when the output simply ended there
// (the model stopped on an end-of-generation token instead).
Scan read_close(Cursor& c, std::string_view marker, bool partial);
// A bare-text parameter value as JSON: a string when the tool's schema says so (or the
// text is not JSON), else the JSON value the text spells.
std::string argument_value_json(const nlohmann::json& tools, const std::string& function, const std::string& key,
                                std::string_view raw);
// A plausible function name: non-empty, no whitespace or brackets, at most 256 bytes.
bool valid_name(std::string_view name);

}  // namespace mmojo::chat_formats
