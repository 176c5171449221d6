import { relative } from 'node:path';
import { DemoSeed } from './demo.seed';
import { StackDescription } from './stack';

/**
 * What `npm start` prints once the stack is up: the endpoints, and commands a
 * newcomer can paste. It shows the demo's API key on purpose (a local demo,
 * generated for this stack). It never shows an admin password taken from the
 * environment: the commands then read `$APIM_ADMIN_PASSWORD` from the shell;
 * only the built-in default (public, in the README) is printed as is.
 */
export function walkthrough(
  stack: StackDescription,
  demo: DemoSeed,
  admin: { username: string; password: string; fromEnv: boolean },
): string {
  const [dc1, dc2] = stack.dcs;
  const password = admin.fromEnv ? '<your APIM_ADMIN_PASSWORD>' : admin.password;
  const loginVariables = admin.fromEnv
    ? `{"u":"${admin.username}","p":"'"$APIM_ADMIN_PASSWORD"'"}`
    : `{"u":"${admin.username}","p":"${admin.password}"}`;
  const endpoints = stack.dcs.map(
    (dc) =>
      `  ${dc.dc}  GraphQL ${dc.graphql}  gateway ${dc.gateway}  replicator ${dc.replicator}  Kafka ${dc.kafka}  database ${dc.database}`,
  );
  const { api } = demo;
  return [
    '',
    `apim is up: ${stack.dcs.length} DCs, each with its Kafka, database, control plane, gateway and replicator (Ctrl-C stops it all).`,
    '',
    ...endpoints,
    `  sample upstream  ${stack.upstream} (answers every request with a JSON echo of it)`,
    '',
    `The demo: API "${api.name}" ${api.version} at ${api.context} (id ${api.id}), published in ${dc1.dc}; developer ${demo.developer.username},`,
    `application "Demo app" subscribed on the ${demo.tier} tier, and its API key (a local demo key, shown on purpose):`,
    `  ${demo.key}`,
    '',
    'Try it:',
    '',
    `  # 1. Call the demo API through ${dc1.dc}'s gateway, and through ${dc2.dc}'s (it got there by replication):`,
    `  curl -s ${dc1.gateway}${demo.path} -H 'apikey: ${demo.key}'`,
    `  curl -s ${dc2.gateway}${demo.path} -H 'apikey: ${demo.key}'`,
    `  curl -s ${dc1.gateway}${demo.path}        # no key: 401 MISSING_CREDENTIALS`,
    '',
    `  # 2. The admin API: open ${dc1.graphql} in a browser (GraphiQL) and run`,
    `  #      mutation { login(username: "${admin.username}", password: "${password}") { accessToken } }`,
    `  #    then add the header {"Authorization": "Bearer <accessToken>"} and run { apis { name context version state homeDc } }.`,
    `  #    The same from a shell (with jq):`,
    `  TOKEN=$(curl -s ${dc1.graphql} -H 'content-type: application/json' \\`,
    `    -d '{"query":"mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }","variables":${loginVariables}}' \\`,
    `    | jq -r .data.login.accessToken)`,
    `  curl -s ${dc1.graphql} -H 'content-type: application/json' -H "Authorization: Bearer $TOKEN" \\`,
    `    -d '{"query":"{ apis { name context version state homeDc } regions { dc role epoch } }"}'`,
    '',
    `  # 3. Both DCs as an SRE sees them (role, epoch, replication lag, gateways):`,
    ...(admin.fromEnv
      ? [`  npm run apimctl -- status      # reads APIM_ADMIN_USER / APIM_ADMIN_PASSWORD, as exported for npm start`]
      : [`  export APIMCTL_USER=${admin.username} APIMCTL_PASSWORD=${admin.password}`, `  npm run apimctl -- status`]),
    '',
    'More: docs/api.md (every operation, by example), docs/operations.md (failover runbooks).',
    `Endpoints and the demo's ids: .run/stack.json; the demo key: ${stack.demo ? relative(process.cwd(), stack.demo.keyFile) : '-'}; logs: .run/stack/logs/.`,
    '',
  ].join('\n');
}
