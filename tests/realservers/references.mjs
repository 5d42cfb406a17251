// The networks' own text code, for the differential tests (tests/test_reference_text.py).
// Reads {"x": [texts], "bluesky": [texts]} on stdin; writes, for each text, twitter-text's
// parseTweet and extractUrlsWithIndices, and @atproto/api's detectFacets.
// HANDPOST_NODE_DIR is the directory holding node_modules (scripts/node-references).
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const base = process.env.HANDPOST_NODE_DIR
const require = createRequire(path.join(base, 'package.json'))
const twitter = require('twitter-text')
const api = await import(
  pathToFileURL(path.join(base, 'node_modules/@atproto/api/dist/index.js')).href
)

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const x = (input.x || []).map((text) => {
  const parsed = twitter.parseTweet(text)
  return {
    weightedLength: parsed.weightedLength,
    valid: parsed.valid,
    urls: twitter.extractUrlsWithIndices(text.normalize()),
    entities: twitter.extractEntitiesWithIndices(text),
  }
})
const bluesky = (input.bluesky || []).map((text) => {
  const rt = new api.RichText({ text })
  rt.detectFacetsWithoutResolution()
  return rt.facets || []
})
process.stdout.write(JSON.stringify({ x, bluesky }))
