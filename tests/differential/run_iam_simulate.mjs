// Decide cases (the JSON format of ../shared/conformance/iam-simulate/) with the npm package
// @cloud-copilot/iam-simulate, through its public API only (runSimulation), and print one JSON
// object per case on stdout:
//   {"name": ..., "decision": "Allowed"|"ImplicitlyDenied"|"ExplicitlyDenied", "ignoredContextKeys": [...]}
//   {"name": ..., "error": "why iam-simulate refused the case"}
//
// Usage:
//   node run_iam_simulate.mjs [CASES.json]          cases from the file, or from stdin without one
//   node run_iam_simulate.mjs --bench SECONDS FILE  time runSimulation on the file's first case in a
//                                                   loop inside this process; prints one JSON object
//
// The package is loaded from IAM_SIMULATE_DIR (the folder holding its node_modules) because it is
// installed into a scratch folder at test time, never into the project.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

function loadIamSimulate() {
  const installDir = process.env.IAM_SIMULATE_DIR
  if (!installDir) {
    throw new Error('IAM_SIMULATE_DIR must name the folder where @cloud-copilot/iam-simulate is installed')
  }
  // resolve from the scratch install, not from this file's folder (the project has no node_modules)
  const require = createRequire(path.join(path.resolve(installDir), 'package.json'))
  return require('@cloud-copilot/iam-simulate')
}

function named(prefix, policies) {
  return (policies ?? []).map((policy, index) => ({ name: `${prefix}${index + 1}`, policy }))
}

function orgLevels(prefix, levels) {
  return (levels ?? []).map((level) => ({
    orgIdentifier: level.orgIdentifier,
    policies: named(`${prefix}-${level.orgIdentifier}-`, level.policies),
  }))
}

// Our case format -> the package's Simulation and options (field names differ in a few places).
export function toSimulation(testCase) {
  const request = testCase.request
  const simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      contextVariables: request.context ?? {},
    },
    identityPolicies: named('identity', testCase.identityPolicies),
    serviceControlPolicies: orgLevels('scp', testCase.serviceControlPolicies),
    resourceControlPolicies: orgLevels('rcp', testCase.resourceControlPolicies),
  }
  if (testCase.resourcePolicy !== undefined) simulation.resourcePolicy = testCase.resourcePolicy
  if (testCase.permissionBoundaries !== undefined) {
    simulation.permissionBoundaryPolicies = named('boundary', testCase.permissionBoundaries)
  }
  if (testCase.sessionPolicy !== undefined) simulation.sessionPolicy = testCase.sessionPolicy
  if (testCase.endpointPolicies !== undefined) {
    simulation.vpcEndpointPolicies = named('endpoint', testCase.endpointPolicies)
  }
  const options = { simulationMode: testCase.simulation?.mode ?? 'Strict' }
  if (testCase.simulation?.discoveryContextKeyConstraints) {
    options.discoveryContextKeyConstraints = testCase.simulation.discoveryContextKeyConstraints
  }
  return { simulation, options }
}

function outcome(testCase, response) {
  if (response.resultType === 'error') {
    return { name: testCase.name, error: response.errors.message, errors: response.errors }
  }
  const ignored =
    response.resultType === 'single'
      ? response.result.ignoredContextKeys ?? []
      : [...new Set(response.results.flatMap((r) => r.ignoredContextKeys ?? []))]
  return { name: testCase.name, decision: response.overallResult, ignoredContextKeys: ignored }
}

async function decideAll(runSimulation, cases) {
  for (const testCase of cases) {
    let line
    try {
      const { simulation, options } = toSimulation(testCase)
      line = outcome(testCase, await runSimulation(simulation, options))
    } catch (err) {
      line = { name: testCase.name, error: `iam-simulate threw: ${err?.message ?? err}` }
    }
    process.stdout.write(JSON.stringify(line) + '\n')
  }
}

// Times only the evaluation loop: process start and module loading stay outside the clock.
async function bench(runSimulation, testCase, seconds) {
  const { simulation, options } = toSimulation(testCase)
  const first = await runSimulation(simulation, options)
  if (first.resultType === 'error') throw new Error(`benchmark case rejected: ${first.errors.message}`)
  for (let i = 0; i < 200; i++) await runSimulation(simulation, options) // warm the JIT
  const budget = BigInt(Math.round(seconds * 1e9))
  const start = process.hrtime.bigint()
  let iterations = 0
  let elapsed = 0n
  while (elapsed < budget) {
    for (let i = 0; i < 50; i++) await runSimulation(simulation, options)
    iterations += 50
    elapsed = process.hrtime.bigint() - start
  }
  const elapsedSeconds = Number(elapsed) / 1e9
  return {
    name: testCase.name,
    decision: first.overallResult,
    iterations,
    seconds: elapsedSeconds,
    per_second: iterations / elapsedSeconds,
  }
}

async function main(argv) {
  const { runSimulation } = loadIamSimulate()
  if (argv[0] === '--bench') {
    const seconds = Number(argv[1])
    const cases = JSON.parse(readFileSync(argv[2], 'utf8'))
    process.stdout.write(JSON.stringify(await bench(runSimulation, cases[0], seconds)) + '\n')
    return
  }
  const source = argv.length > 0 ? argv[0] : 0 // fd 0 is stdin
  await decideAll(runSimulation, JSON.parse(readFileSync(source, 'utf8')))
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`run_iam_simulate: ${err?.stack ?? err}\n`)
  process.exit(2)
})
