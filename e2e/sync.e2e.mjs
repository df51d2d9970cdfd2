// End-to-end test of the WatermelonDB sync protocol with the real `@nozbe/watermelondb`
// synchronize() and its LokiJS adapter (in memory, no browser), against a running server.
//
//   node e2e/sync.e2e.mjs <base_url> <token> <campaign_id> <device_id>
//
// The script prints one JSON line per event on stdout. For `{"event": "need", "action": ...}`
// it waits for one line on stdin ("ok") after the driver (tests/sync/watermelon/
// test_e2e_watermelondb.py) has changed the server: a server-side edit between pull and push,
// and a turf reassignment. Exit code 0 = every check passed; otherwise the reason is on stderr.
import { createRequire } from 'node:module'
import { randomUUID } from 'node:crypto'
import readline from 'node:readline'

const require = createRequire(import.meta.url)
const { Database, Model, appSchema, tableSchema } = require('@nozbe/watermelondb')
const LokiJSAdapter = require('@nozbe/watermelondb/adapters/lokijs').default
const { synchronize } = require('@nozbe/watermelondb/sync')
const { schemaMigrations } = require('@nozbe/watermelondb/Schema/migrations')
const { setGenerator } = require('@nozbe/watermelondb/utils/common/randomId')

const [baseUrl, token, campaignId, deviceId] = process.argv.slice(2)
if (!baseUrl || !token || !campaignId || !deviceId) {
  console.error('usage: node sync.e2e.mjs <base_url> <token> <campaign_id> <device_id>')
  process.exit(2)
}

// The server wants device-born ids as lowercase hyphenated UUIDs (canvass/sync/watermelon.py).
setGenerator(() => randomUUID())

// stdout is the event channel: WatermelonDB's informational logs go to stderr.
for (const level of ['log', 'info', 'debug']) {
  console[level] = (...args) => process.stderr.write(args.map(String).join(' ') + '\n')
}

// Every "[Sync] Server wants client to ..." complaint is a protocol bug (created vs updated).
const syncComplaints = []
for (const level of ['error', 'warn']) {
  const original = console[level]
  console[level] = (...args) => {
    const text = args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')
    if (text.includes('[Sync]')) syncComplaints.push(text)
    original.apply(console, args)
  }
}

const s = (name, isOptional = true) => ({ name, type: 'string', isOptional })
const n = (name, isOptional = true) => ({ name, type: 'number', isOptional })
const b = (name) => ({ name, type: 'boolean' })

const schema = appSchema({
  version: 1,
  tables: [
    tableSchema({
      name: 'households',
      columns: [
        s('turf_id'), n('walk_position'), s('house_number'), s('street'), s('unit'), s('city'),
        s('state'), s('zip_code'), n('lon'), n('lat'), s('building_key'), n('units_est'),
        b('is_final'), s('final_reason'), n('updated_at', false),
      ],
    }),
    tableSchema({
      name: 'people',
      columns: [
        s('household_id'), s('first_name'), s('middle_name'), s('last_name'), s('suffix'),
        n('year_of_birth'), s('party'), s('phone'), s('email'), s('language'),
        s('registration_status'), b('is_deceased'), b('has_moved'), s('source'), n('updated_at', false),
      ],
    }),
    tableSchema({
      name: 'questions',
      columns: [
        s('script_id'), s('key'), s('prompt'), s('kind'), n('position'), b('is_builtin'),
        s('show_if_question_id'), s('show_if_option_ids'), n('updated_at', false),
      ],
    }),
    tableSchema({
      name: 'response_options',
      columns: [s('question_id'), s('value'), s('label'), n('position'), n('updated_at', false)],
    }),
    tableSchema({
      name: 'result_codes',
      columns: [
        s('code'), s('label'), b('is_contact'), b('is_final'), n('position'), b('is_active'),
        n('updated_at', false),
      ],
    }),
    tableSchema({
      name: 'contacts',
      columns: [
        s('household_id'), s('person_id'), s('turf_id'), s('result_code_id'), n('supporter_id'),
        s('answers'), s('notes'), n('device_time'), n('gps_lon'), n('gps_lat'),
        n('gps_accuracy_m'), s('canvasser_id'), n('received_at'),
      ],
    }),
    tableSchema({
      name: 'volunteer_signups',
      columns: [
        s('household_id'), s('person_id'), s('kind'), s('interests'), s('first_name'),
        s('last_name'), s('email'), s('phone'), s('availability'), s('workplace'),
        s('employer'), s('union'), s('industry'), s('notes'), n('device_time'), n('updated_at', false),
      ],
    }),
  ],
})

const tables = schema.tables
const modelClasses = Object.keys(tables).map((name) => {
  const klass = class extends Model {}
  klass.table = name
  return klass
})

const adapter = new LokiJSAdapter({
  schema,
  // Migration syncs need a migrations object, even an empty one (schema version 1).
  migrations: schemaMigrations({ migrations: [] }),
  useWebWorker: false,
  useIncrementalIndexedDB: false,
  dbName: `e2e-${deviceId}`,
  onSetUpError: (error) => fail(`LokiJS set-up failed: ${error}`),
})
const database = new Database({ adapter, modelClasses })

// ---------------------------------------------------------------------------------------------

const stdin = readline.createInterface({ input: process.stdin })
const stdinLines = stdin[Symbol.asyncIterator]()

function emit(event, data = {}) {
  process.stdout.write(JSON.stringify({ event, ...data }) + '\n')
}

async function need(action, data = {}) {
  emit('need', { action, ...data })
  const { value, done } = await stdinLines.next()
  if (done || value.trim() !== 'ok') fail(`driver did not acknowledge ${action}: ${value}`)
}

function fail(message) {
  console.error(`E2E FAILURE: ${message}`)
  process.exit(1)
}

function check(condition, message) {
  if (!condition) fail(message)
}

const headers = {
  Authorization: `Token ${token}`,
  'X-Device-Id': deviceId,
  Accept: 'application/json',
}

class HttpError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}: ${JSON.stringify(body)}`)
    this.status = status
    this.body = body
  }
}

async function sync({ afterPull } = {}) {
  const pulls = []
  await synchronize({
    database,
    migrationsEnabledAtVersion: 1,
    pullChanges: async ({ lastPulledAt, schemaVersion, migration }) => {
      const query = new URLSearchParams({
        campaign_id: campaignId,
        last_pulled_at: lastPulledAt === null || lastPulledAt === undefined ? 'null' : String(lastPulledAt),
        schema_version: String(schemaVersion),
        migration: JSON.stringify(migration ?? null),
      })
      const response = await fetch(`${baseUrl}/api/sync/pull/?${query}`, { headers })
      const body = await response.json()
      if (!response.ok) throw new HttpError(response.status, body)
      check(Number.isInteger(body.timestamp) && body.timestamp > 0, 'timestamp is a positive integer')
      pulls.push(body)
      if (afterPull) await afterPull(body)
      return { changes: body.changes, timestamp: body.timestamp }
    },
    pushChanges: async ({ changes, lastPulledAt }) => {
      const response = await fetch(
        `${baseUrl}/api/sync/push/?campaign_id=${campaignId}&last_pulled_at=${lastPulledAt}`,
        {
          method: 'POST',
          headers: { ...headers, 'Content-Type': 'application/json' },
          body: JSON.stringify({ changes, last_pulled_at: lastPulledAt }),
        },
      )
      const body = await response.json()
      if (!response.ok) throw new HttpError(response.status, body)
    },
  })
  return pulls
}

const all = (table) => database.get(table).query().fetch()
const ids = (records) => records.map((r) => r.id).sort()
const raw = (record) => record._raw
const pulledIds = (pull, table, op) =>
  pull.changes[table][op].map((r) => (typeof r === 'string' ? r : r.id))

async function main() {
  // 1. First pull: the assigned turf, its residents, the script and the result codes.
  let [pull] = await sync()
  const households = await all('households')
  const people = await all('people')
  const codes = await all('result_codes')
  check(households.length > 0, 'first pull brought households')
  check(people.length > 0, 'first pull brought people')
  check(codes.length === 10, `ten default result codes, got ${codes.length}`)
  check((await all('questions')).length >= 1, 'the script came along')
  check(pull.changes.households.updated.length === 0, 'a first pull sends only created')
  emit('first_pull', {
    households: ids(households),
    people: ids(people),
    timestamp: pull.timestamp,
  })

  // 2. Offline knocks: contacts, a sign-up and a new person at a door.
  const [door, secondDoor] = households.sort((a, b) => raw(a).walk_position - raw(b).walk_position)
  const resident = people.find((p) => raw(p).household_id === door.id)
  const canvassed = codes.find((c) => raw(c).code === 'canvassed')
  const notHome = codes.find((c) => raw(c).code === 'not_home')
  let knock, newcomer, newcomerKnock, signup
  await database.write(async () => {
    knock = await database.get('contacts').create((r) => {
      r._setRaw('household_id', door.id)
      r._setRaw('person_id', resident.id)
      r._setRaw('turf_id', raw(door).turf_id)
      r._setRaw('result_code_id', canvassed.id)
      r._setRaw('supporter_id', 1)
      r._setRaw('answers', JSON.stringify({ supporter_id: 1 }))
      r._setRaw('notes', 'wants a yard sign')
      r._setRaw('device_time', Date.now() - 5 * 60 * 1000)
      r._setRaw('gps_lon', raw(door).lon)
      r._setRaw('gps_lat', raw(door).lat)
      r._setRaw('gps_accuracy_m', 6)
    })
    newcomer = await database.get('people').create((r) => {
      r._setRaw('household_id', secondDoor.id)
      r._setRaw('first_name', 'Ana')
      r._setRaw('last_name', 'Doorstep')
      r._setRaw('language', 'pt')
    })
    newcomerKnock = await database.get('contacts').create((r) => {
      r._setRaw('household_id', secondDoor.id)
      r._setRaw('person_id', newcomer.id)
      r._setRaw('turf_id', raw(secondDoor).turf_id)
      r._setRaw('result_code_id', notHome.id)
      r._setRaw('answers', '{}')
      r._setRaw('device_time', Date.now() - 4 * 60 * 1000)
    })
    signup = await database.get('volunteer_signups').create((r) => {
      r._setRaw('household_id', door.id)
      r._setRaw('person_id', resident.id)
      r._setRaw('kind', 'volunteer')
      r._setRaw('interests', JSON.stringify(['phone banking']))
      r._setRaw('email', 'e2e-volunteer@example.org')
      r._setRaw('availability', JSON.stringify({ weekends: true }))
      r._setRaw('device_time', Date.now() - 3 * 60 * 1000)
    })
  })

  // 3. Sync: pull, then push the knocks.
  await sync()
  for (const record of [knock, newcomer, newcomerKnock, signup]) {
    check(record._raw._status === 'synced', `${record.table}#${record.id} is synced after push`)
  }
  emit('pushed', {
    contacts: [knock.id, newcomerKnock.id],
    person: newcomer.id,
    signup: signup.id,
  })

  // 4. Re-pull: this device's own records come back as `updated`, never `created`.
  ;[pull] = await sync()
  for (const [table, id] of [
    ['contacts', knock.id],
    ['contacts', newcomerKnock.id],
    ['people', newcomer.id],
    ['volunteer_signups', signup.id],
  ]) {
    check(pulledIds(pull, table, 'updated').includes(id), `own ${table}#${id} came back as updated`)
    check(!pulledIds(pull, table, 'created').includes(id), `own ${table}#${id} not as created`)
  }
  const contactsNow = await all('contacts')
  check(contactsNow.length === 2, `two contacts locally, got ${contactsNow.length}`)
  check(
    raw(contactsNow.find((c) => c.id === newcomerKnock.id)).person_id === newcomer.id,
    "the new person's knock still names the device's id for them",
  )
  emit('repulled', { timestamp: pull.timestamp })

  // 5. A server-side edit between pull and push: 409, pull again, retry succeeds.
  const corrected = people.find((p) => p.id !== resident.id && raw(p).household_id !== secondDoor.id) || people[1]
  await database.write(async () => {
    await corrected.update((r) => {
      r._setRaw('language', 'es')
    })
  })
  let conflict = null
  try {
    await sync({
      afterPull: async () => need('server_edit', { person: corrected.id }),
    })
  } catch (error) {
    conflict = error
  }
  check(conflict instanceof HttpError && conflict.status === 409, `push got 409, got ${conflict}`)
  check(conflict.body.error.code === 'sync_conflict', 'error code sync_conflict')
  check(corrected._raw._status === 'updated', 'the local edit is still pending')
  await sync()
  const after = await database.get('people').find(corrected.id)
  check(raw(after).language === 'es', 'the local correction survived the re-pull')
  check(raw(after).first_name === 'Edited-On-Server', `the server edit arrived: ${raw(after).first_name}`)
  check(raw(after)._status === 'synced', 'the correction is pushed after the retry')
  emit('conflict_resolved', { person: corrected.id })

  // 6. Turf reassignment: the old turf's doors and residents arrive as `deleted`.
  const before = ids(await all('households'))
  await need('reassign')
  ;[pull] = await sync()
  const deleted = pulledIds(pull, 'households', 'deleted')
  check(before.every((id) => deleted.includes(id)), 'every door of the old turf came as deleted')
  const householdsNow = await all('households')
  check(householdsNow.every((h) => !before.includes(h.id)), 'no door of the old turf is left')
  check(householdsNow.length > 0, 'the new turf arrived')
  const peopleNow = await all('people')
  check(peopleNow.every((p) => !before.includes(raw(p).household_id)), 'old residents are gone')
  check((await all('contacts')).length === 0, 'contacts at the old doors are gone')
  emit('reassigned', { households: ids(householdsNow), people: peopleNow.length })

  check(syncComplaints.length === 0, `WatermelonDB complained: ${syncComplaints.join(' | ')}`)
  emit('done')
  process.exit(0)
}

main().catch((error) => fail(error && error.stack ? error.stack : String(error)))
