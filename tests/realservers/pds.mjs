// The reference Bluesky PDS with its PLC directory, on loopback, for the live tests.
// Started once per test session by tests/support/realpds.py. Creates alice.test and bob.test,
// each with an app password, prints one JSON line describing them, then serves until its
// standard input closes (the test session ended) or it is signalled.
// HANDPOST_NODE_DIR is the directory holding node_modules (scripts/node-references).
import http from 'node:http'
import { createRequire } from 'node:module'
import path from 'node:path'

// Listen on loopback only: dev-env binds every server to all interfaces otherwise.
const listen = http.Server.prototype.listen
http.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && typeof args[1] !== 'string') {
    args.splice(1, 0, '127.0.0.1')
  }
  return listen.apply(this, args)
}

const require = createRequire(path.join(process.env.HANDPOST_NODE_DIR, 'package.json'))
const { TestNetworkNoAppView } = require('@atproto/dev-env')

const started = Date.now()
const network = await TestNetworkNoAppView.create({})
const base = network.pds.url.replace('localhost', '127.0.0.1')

async function xrpc(method, body, token) {
  const response = await fetch(`${base}/xrpc/${method}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  })
  const data = await response.json()
  if (!response.ok) throw new Error(`${method}: ${response.status} ${JSON.stringify(data)}`)
  return data
}

const accounts = []
for (const name of ['alice', 'bob']) {
  const handle = `${name}.test`
  const password = `${name}-password-0123`
  const created = await xrpc('com.atproto.server.createAccount', {
    handle,
    email: `${name}@example.test`,
    password,
  })
  const appPassword = await xrpc(
    'com.atproto.server.createAppPassword',
    { name: 'handpost' },
    created.accessJwt,
  )
  accounts.push({ handle, did: created.did, password, app_password: appPassword.password })
}

process.stdout.write(
  JSON.stringify({ url: base, plc: network.plc.url, accounts, started_ms: Date.now() - started }) +
    '\n',
)

const stop = async () => {
  await network.close()
  process.exit(0)
}
process.stdin.on('end', stop)
process.stdin.resume()
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
