// Drives the Salesforce sandbox with jsforce 3, unchanged, and prints what it saw as one JSON line on stdout.
// Run by tests/sandboxes/salesforce/test_salesforce_jsforce.py, which installs jsforce and asserts on the output.
//
// Environment: JSFORCE_PREFIX (the npm --prefix jsforce is installed under), SF_LOGIN_URL, SF_USERNAME,
// SF_PASSWORD (password and security token together, as jsforce's login expects), SF_CLIENT_ID, SF_CLIENT_SECRET,
// SF_RUN (a tag unique to this run, put in the names of the records it creates), and NODE_EXTRA_CA_CERTS (the
// sandbox's CA, so jsforce's own TLS stack trusts it).
import { createRequire } from 'node:module';
import path from 'node:path';

// jsforce lives in an ignored folder outside this script's tree, so it is resolved from there.
const require = createRequire(path.join(process.env.JSFORCE_PREFIX, 'package.json'));
const jsforce = require('jsforce');

const env = process.env;
const version = '59.0';
const results = { jsforceVersion: jsforce.VERSION };

// Each step reports its own failure (with the platform's error code when jsforce gives one) instead of ending the
// script, so the test can say which call broke and how.
async function step(name, run) {
  try {
    results[name] = await run();
  } catch (error) {
    results[name] = { error: String(error && error.message || error), errorCode: error && error.errorCode,
                      errorName: error && error.name };
  }
}

let soap;
await step('soapLogin', async () => {
  soap = new jsforce.Connection({ loginUrl: env.SF_LOGIN_URL, version, logLevel: 'FATAL' });
  const userInfo = await soap.login(env.SF_USERNAME, env.SF_PASSWORD);
  return { userInfo, instanceUrl: soap.instanceUrl, hasToken: Boolean(soap.accessToken) };
});

await step('oauthPasswordLogin', async () => {
  const conn = new jsforce.Connection({
    oauth2: { loginUrl: env.SF_LOGIN_URL, clientId: env.SF_CLIENT_ID, clientSecret: env.SF_CLIENT_SECRET },
    version, logLevel: 'FATAL',
  });
  const userInfo = await conn.login(env.SF_USERNAME, env.SF_PASSWORD);
  // A call on the new session shows the token works, not just that a token came back.
  const count = await conn.query('SELECT COUNT() FROM Account');
  return { userInfo, instanceUrl: conn.instanceUrl, accountCount: count.totalSize };
});

await step('clientCredentialsLogin', async () => {
  const conn = new jsforce.Connection({
    oauth2: { loginUrl: env.SF_LOGIN_URL, clientId: env.SF_CLIENT_ID, clientSecret: env.SF_CLIENT_SECRET },
    version, logLevel: 'FATAL',
  });
  const userInfo = await conn.authorize({ grant_type: 'client_credentials' });
  const count = await conn.query('SELECT COUNT() FROM Account');
  return { userInfo, instanceUrl: conn.instanceUrl, accountCount: count.totalSize };
});

await step('autoFetchQuery', async () => {
  let fetches = 0;
  const query = soap.query('SELECT Id, Name FROM Account ORDER BY Id')
    .on('fetch', () => { fetches += 1; });
  const result = await query.run({ autoFetch: true, maxFetch: 1000000 });
  const ids = result.records.map((record) => record.Id);
  return { totalSize: result.totalSize, done: result.done, fetched: ids.length, distinct: new Set(ids).size,
           fetches };
});

await step('collectionCreate', async () => {
  const names = ['One', 'Two', 'Three', 'Four', 'Five'].map((n) => `jsforce ${env.SF_RUN} ${n} Café`);
  const saved = await soap.sobject('Account').create(names.map((Name, i) => ({ Name, Phone: `555-01${i}` })));
  const ids = saved.map((result) => result.id);
  // Read back with SOQL: an independent path from the write.
  const readBack = await soap.query(
    `SELECT Id, Name, Phone FROM Account WHERE Id IN (${ids.map((id) => `'${id}'`).join(',')}) ORDER BY Phone`);
  return { names, saved, readBack: readBack.records.map(({ Id, Name, Phone }) => ({ Id, Name, Phone })) };
});

await step('collectionUpdate', async () => {
  const created = results.collectionCreate.saved || [];
  const saved = await soap.sobject('Account').update(created.map((result) => ({ Id: result.id, Type: 'Broker' })));
  return { saved };
});

await step('describe', async () => {
  const described = await soap.sobject('Account').describe();
  return {
    name: described.name, label: described.label, keyPrefix: described.keyPrefix,
    fields: described.fields.map(({ name, type }) => ({ name, type })),
  };
});

console.log(JSON.stringify(results));
