// Brief scenario 9 with @camunda8/sdk 8.8.13: node peer_sdk.js <host:port> <one-task.bpmn>; prints PASS.
const { Camunda8 } = require('@camunda8/sdk')

async function main() {
  const [target, bpmnPath] = process.argv.slice(2)
  const c8 = new Camunda8({
    ZEEBE_GRPC_ADDRESS: `grpc://${target}`,
    CAMUNDA_AUTH_STRATEGY: 'NONE',
    CAMUNDA_SECURE_CONNECTION: false,
    zeebeGrpcSettings: { ZEEBE_CLIENT_LOG_LEVEL: 'ERROR' },
  })
  const zeebe = c8.getZeebeGrpcApiClient()
  const deployed = await zeebe.deployResource({ processFilename: bpmnPath })
  if (deployed.deployments[0].process.bpmnProcessId !== 'e2e-one-task') throw new Error(`deploy ${JSON.stringify(deployed)}`)
  const worker = zeebe.createWorker({
    taskType: 'double',
    taskHandler: (job) => job.complete({ y: job.variables.x * 2 }),
  })
  const result = await zeebe.createProcessInstanceWithResult({
    bpmnProcessId: 'e2e-one-task',
    variables: { x: 50 },
    requestTimeout: 10000,
  })
  if (result.variables.y !== 100) throw new Error(`result ${JSON.stringify(result)}`)
  if (result.tenantId !== '<default>') throw new Error(`tenant ${result.tenantId}`)
  await worker.close()
  await zeebe.close()
  console.log('PASS sdk')
  process.exit(0)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
