// Tool calls for the mock providers. When a request offers tools and the conversation is not
// answering one already, the mock calls a tool, as a model asked to use tools would: the
// forced one, else the first. Its arguments are built from the tool's JSON Schema, so a
// client can parse them against its own declaration.
import { isRecord } from './context.js'

/** A tool a request offers, whatever the provider's way of declaring it. */
export interface OfferedTool {
  name: string
  schema: unknown
}

export interface MockToolCall {
  name: string
  args: Record<string, unknown>
  /** The arguments as JSON text, as they are streamed. */
  json: string
  /** Output tokens the call is billed: a token per 4 characters of its arguments, at least 1. */
  outputTokens: number
}

/** Characters of arguments per streamed delta: small, so a call arrives in many deltas. */
export const ARGUMENT_DELTA_CHARS = 6

function sample (schema: unknown, depth: number): unknown {
  if (!isRecord(schema) || depth > 4) return null
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0]
  switch (schema['type']) {
    case 'string': return 'agnet'
    case 'integer':
    case 'number': return 1
    case 'boolean': return true
    case 'array': return [sample(schema['items'], depth + 1)]
    case 'object': return sampleObject(schema, depth + 1)
    default: return isRecord(schema['properties']) ? sampleObject(schema, depth + 1) : null
  }
}

function sampleObject (schema: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const props = isRecord(schema['properties']) ? schema['properties'] : {}
  for (const name of Object.keys(props)) out[name] = sample(props[name], depth)
  return out
}

export function makeToolCall (tool: OfferedTool): MockToolCall {
  const args = isRecord(tool.schema) ? sampleObject(tool.schema, 0) : {}
  const json = JSON.stringify(args)
  return { name: tool.name, args, json, outputTokens: Math.max(1, Math.ceil(json.length / 4)) }
}

/** The arguments JSON cut into small pieces. */
export function argumentDeltas (json: string): string[] {
  const out: string[] = []
  for (let i = 0; i < json.length; i += ARGUMENT_DELTA_CHARS) out.push(json.slice(i, i + ARGUMENT_DELTA_CHARS))
  return out
}

/** The tool to call: `forced` when named and offered, else the first; null when none is offered. */
export function chooseTool (tools: readonly OfferedTool[], forced: string | null): MockToolCall | null {
  const tool = (forced !== null ? tools.find(t => t.name === forced) : undefined) ?? tools[0]
  if (tool === undefined) return null
  return makeToolCall(tool)
}

/** The function tools of an OpenAI-shaped `tools` list (`{ type: 'function', function: { name, parameters } }`: OpenAI, Cohere v2). */
export function functionTools (list: unknown): OfferedTool[] {
  const tools: OfferedTool[] = []
  if (!Array.isArray(list)) return tools
  for (const t of list) {
    const f = isRecord(t) && isRecord(t['function']) ? t['function'] : null
    if (f !== null && typeof f['name'] === 'string') tools.push({ name: f['name'], schema: f['parameters'] })
  }
  return tools
}

/** Whether an OpenAI-shaped conversation's last message is a tool result (the model answers it, calls nothing). */
export function answersTool (messages: unknown): boolean {
  const last: unknown = Array.isArray(messages) ? messages[messages.length - 1] : undefined
  return isRecord(last) && last['role'] === 'tool'
}
