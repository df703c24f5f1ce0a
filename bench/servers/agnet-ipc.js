// agnet for the soak: the same serve() the CLI calls, in a child started with fork(), answering
// {type: 'memory'} over the IPC channel with process.memoryUsage(). The channel exists only in
// this bench wrapper: the product has no debug endpoint.
// usage (fork): agnet-ipc.js <dist dir> <config file>
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [dist, config] = process.argv.slice(2)
const { serve } = await import(pathToFileURL(path.join(path.resolve(dist), 'server.js')).href)
const served = await serve({ config, port: 0, host: '127.0.0.1', watch: false })
process.on('message', m => {
  if (m?.type === 'memory') process.send({ type: 'memory', id: m.id, usage: process.memoryUsage() })
})
process.send({ type: 'listening', port: served.port })
process.on('disconnect', () => { served.close().finally(() => process.exit(0)) })
