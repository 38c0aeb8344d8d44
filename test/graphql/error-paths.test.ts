import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ok } from '../helpers/graphql.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { startTestServer } from '../helpers/server.ts';

const E = `__typename ... on ValidationError { fieldErrors { path message } } ... on NotFoundError { entity key } ... on ConflictError { message }`;

test('error paths of updateDomain, updateDefaultTemplate, updateUser and deleteAlias', async (t) => {
  const { api, app } = await startTestServer(t);
  const before = JSON.stringify(app.repos.domains.template());

  const nf = await ok(api, `mutation { updateDomain(name: "nope.example", input: { maxUsers: 1 }) { ${E} } }`);
  assert.deepEqual([nf.updateDomain.__typename, nf.updateDomain.key], ['NotFoundError', 'nope.example']);
  await ok(api, 'mutation { createDomain(name: "example.com") { __typename } }');
  const bad = await ok(
    api,
    `mutation { updateDomain(name: "example.com", input: { maxUsers: -3, catchallEmail: "nope", spf: { maxLookups: 0 } }) { ${E} } }`,
  );
  assert.deepEqual(bad.updateDomain.fieldErrors.map((e: any) => e.path.join('.')).sort(), [
    'input.catchallEmail',
    'input.maxUsers',
    'input.spf.maxLookups',
  ]);

  const tpl = await ok(
    api,
    `mutation { updateDefaultTemplate(input: { antispam: { rejectScore: 2, quarantineScore: 3 } }) { ${E} } }`,
  );
  assert.equal(tpl.updateDefaultTemplate.__typename, 'ValidationError');
  assert.deepEqual(tpl.updateDefaultTemplate.fieldErrors[0].path, ['input', 'antispam', 'quarantineScore']);
  assert.equal(JSON.stringify(app.repos.domains.template()), before, 'the template is unchanged');

  const nu = await ok(api, `mutation { updateUser(email: "ghost@example.com", input: { quota: 1 }) { ${E} } }`);
  assert.deepEqual([nu.updateUser.__typename, nu.updateUser.entity], ['NotFoundError', 'user']);
  await app.services.accounts.createUser('test', 'a@example.com', TEST_PASSWORD);
  const bq = await ok(api, `mutation { updateUser(email: "a@example.com", input: { quota: -5 }) { ${E} } }`);
  assert.deepEqual(
    bq.updateUser.fieldErrors.map((e: any) => e.path),
    [['input', 'quota']],
  );

  const na = await ok(api, `mutation { deleteAlias(address: "none@example.com") { ${E} } }`);
  assert.deepEqual([na.deleteAlias.__typename, na.deleteAlias.entity], ['NotFoundError', 'alias']);
});

test('delivery events older than events.retention_days are pruned at start-up', async (t) => {
  const { app, config } = await startTestServer(t);
  const day = 86_400_000;
  const base = {
    messageId: null,
    queueId: null,
    sender: null,
    recipients: [],
    domain: 'example.com',
    userEmail: null,
    remoteIp: null,
    reason: null,
    details: null,
  };
  app.repos.deliveryEvents.record({
    ...base,
    type: 'RECEIVED',
    at: Date.now() - (config.events.retention_days + 1) * day,
  });
  app.repos.deliveryEvents.record({
    ...base,
    type: 'RECEIVED',
    at: Date.now() - (config.events.retention_days - 1) * day,
  });
  assert.equal(app.repos.deliveryEvents.list().length, 2);
  const removed = app.repos.deliveryEvents.prune(Date.now() - config.events.retention_days * day);
  assert.equal(removed, 1);
  assert.equal(app.repos.deliveryEvents.list().length, 1);
  await app.stop();
  const { startMailyard } = await import('../../src/server/app.ts');
  const { pino } = await import('pino');
  const again = await startMailyard({ ...config, events: { retention_days: 1 } }, { log: pino({ level: 'silent' }) });
  t.after(() => again.stop());
  assert.equal(again.repos.deliveryEvents.list().length, 0, 'the 29-day-old event is past a 1-day retention');
});
