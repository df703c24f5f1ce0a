// A LangGraph user's program: blModel(name) from @blaxel/langgraph, then invoke and stream,
// run as its own process by sdk-langgraph.test.ts (the SDK reads BL_* at import). The module
// path comes from AGNET_LANGGRAPH_MODULE. Prints one JSON report on stdout.
const { blModel } = require(process.env.AGNET_LANGGRAPH_MODULE)

async function main () {
  const report = {}
  for (const name of ['gpt-4o-mini', 'claude-haiku']) {
    const model = await blModel(name, { maxTokens: 24 })
    const res = await model.invoke('Hello there')
    let chunks = 0
    let text = ''
    for await (const chunk of await model.stream('Stream please')) {
      chunks++
      if (typeof chunk.content === 'string') text += chunk.content
    }
    report[name] = { kind: model.constructor.name, invoke: typeof res.content === 'string' ? res.content : JSON.stringify(res.content), usage: res.usage_metadata ?? null, chunks, text }
  }
  return report
}

main().then(r => { process.stdout.write(JSON.stringify(r) + '\n') }, e => { process.stdout.write(JSON.stringify({ error: String(e && e.stack ? e.stack : e) }) + '\n') })
