// The TypeScript type check catches contract drift: fixtures with a wrong
// field fail `tsc`, naming the field. Needs the todo plugin's generated
// declarations (`cargo run -p raclette-tests --bin emit-types -- --app
// examples/portal`, which scripts/test runs).

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import test from 'node:test'

const root = path.resolve(import.meta.dirname, '../../..')
const tsc = path.join(root, 'node_modules/.bin/tsc')
const declarations = path.join(root, 'examples/portal/.raclette/types/plugin_pacifico__todo.d.ts')

function typecheck(project) {
  const run = spawnSync(tsc, ['--noEmit', '--pretty', 'false', '-p', project], { cwd: root, encoding: 'utf8' })
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

test('a wrong field in client code fails the type check and is named', () => {
  assert.ok(
    fs.existsSync(declarations),
    `${declarations} is missing: run \`cargo run -p raclette-tests --bin emit-types -- --app examples/portal\` (scripts/test does)`,
  )
  const { status, output } = typecheck('tests/client/typecheck/wrong-field/tsconfig.json')
  assert.notEqual(status, 0, output)
  assert.doesNotMatch(output, /Cannot find module/, 'the fixture must fail for its wrong fields only')
  // A field the server's Rust `Todo` does not have.
  assert.match(output, /wrong-field\.ts\(9,\d+\): error TS2339: Property 'isDone' does not exist on type '(Item<)?Todo>?'/, output)
  // `dependencies` is a map, as the server sends it, not `string[]`.
  assert.match(output, /wrong-field\.ts\(14,\d+\): error TS\d+: Type '\{ \[x: string\]: string; \}' is missing .* from type 'string\[\]'/, output)
})
