// Folds one streamed /v1/chat/completions chunk into the reply being built:
// delta.content, delta.reasoning_content (llama.cpp's field for a thinking model's
// reasoning), delta.tool_calls (OpenAI's incremental form: pieces of one call share its
// `index`, the arguments arrive as string fragments), finish_reason and the final timings.
// Models whose reasoning arrives inline between <think> and </think> are split here too.

export function newReply() {
  return { role: 'assistant', content: '', reasoning: '', tool_calls: [], raw: '' };
}

export function applyChunk(reply, chunk) {
  const choice = chunk.choices?.[0];
  const delta = choice?.delta ?? {};
  if (typeof delta.reasoning_content === 'string') reply.reasoning += delta.reasoning_content;
  if (typeof delta.content === 'string' && delta.content) {
    reply.raw += delta.content;
    splitThink(reply);
  }
  for (const piece of delta.tool_calls ?? []) {
    const index = Number.isInteger(piece.index) ? piece.index : reply.tool_calls.length;
    const call = reply.tool_calls[index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } };
    if (piece.id) call.id = piece.id;
    if (piece.type) call.type = piece.type;
    if (piece.function?.name) call.function.name += piece.function.name;
    if (piece.function?.arguments) call.function.arguments += piece.function.arguments;
  }
  if (choice?.finish_reason) reply.finish = choice.finish_reason;
  if (chunk.timings) reply.timings = chunk.timings;
  if (chunk.usage) reply.usage = chunk.usage;
}

// reply.raw holds the content as sent; content and (inline) reasoning are derived from it.
function splitThink(reply) {
  const raw = reply.raw;
  const open = raw.indexOf('<think>');
  if (open < 0 || raw.slice(0, open).trim() !== '') {
    reply.content = raw;
    return;
  }
  const close = raw.indexOf('</think>', open);
  const inline = close < 0 ? raw.slice(open + 7) : raw.slice(open + 7, close);
  reply.inlineReasoning = inline;
  reply.content = close < 0 ? '' : raw.slice(close + 8).replace(/^\s+/, '');
}

// The finished message as stored: no empty fields, counts and speed kept for display.
export function finishReply(reply, { elapsedMs, firstTokenMs, chunks, stopped }) {
  const message = { role: 'assistant', content: reply.content };
  const reasoning = (reply.reasoning + (reply.inlineReasoning ?? '')).trim();
  if (reasoning) message.reasoning = reasoning;
  const calls = reply.tool_calls.filter(Boolean);
  if (calls.length) message.tool_calls = calls;
  const tokens = reply.timings?.predicted_n ?? reply.usage?.completion_tokens ?? chunks;
  const generationMs = reply.timings?.predicted_ms ?? Math.max(1, elapsedMs - (firstTokenMs ?? 0));
  message.stats = {
    tokens,
    tokens_per_second: tokens > 0 && generationMs > 0 ? (1000 * tokens) / generationMs : 0,
    prompt_tokens: reply.timings?.prompt_n ?? reply.usage?.prompt_tokens,
    elapsed_ms: Math.round(elapsedMs),
  };
  if (stopped) message.stopped = true;
  else if (reply.finish) message.finish = reply.finish;
  return message;
}

// What goes back to the server for a stored message: role and content, and an assistant's
// tool calls; reasoning and statistics stay in the browser.
export function toApiMessage(message) {
  const out = { role: message.role, content: message.content };
  if (message.tool_calls?.length) out.tool_calls = message.tool_calls;
  if (message.tool_call_id) out.tool_call_id = message.tool_call_id;
  return out;
}
