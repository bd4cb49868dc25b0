// The official JavaScript SDK (@alibaba-group/opensandbox) against the dev server, end to end:
// create with a network policy, commands, background commands, sessions, files (search
// included), metrics, egress, endpoints, renew, pause/resume, kill.  Run by tests/jssdk/run.sh,
// which installs the SDK under build/jssdk and starts the dev server; prints one line per step
// and closes with "N passed, N failed".
//
//   OPEN_SANDBOX_DOMAIN, OPEN_SANDBOX_API_KEY   the server (tools/devserver/with_devserver.py)
//   OSB_JSSDK_DIR                               where the SDK was installed (npm --prefix)

import assert from "node:assert/strict";
import path from "node:path";
import { pathToFileURL } from "node:url";

const sdkDir = process.env.OSB_JSSDK_DIR || "build/jssdk";
const sdk = await import(pathToFileURL(path.resolve(
  sdkDir, "node_modules/@alibaba-group/opensandbox/dist/index.js")).href);
const { ConnectionConfig, Sandbox, SandboxManager } = sdk;

const config = new ConnectionConfig({
  domain: process.env.OPEN_SANDBOX_DOMAIN,
  apiKey: process.env.OPEN_SANDBOX_API_KEY,
  protocol: "http",
  requestTimeoutSeconds: 60,
});

let passed = 0;
let failed = 0;
async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack.split("\n").slice(0, 3).join(" | ") : e}`);
  }
}

const stdout = (exec) => exec.logs.stdout.map((m) => m.text).join("\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let sandbox = null;
await step("create with a network policy", async () => {
  sandbox = await Sandbox.create({
    connectionConfig: config,
    image: "python:3.11",
    entrypoint: ["tail", "-f", "/dev/null"],
    timeoutSeconds: 10 * 60,
    readyTimeoutSeconds: 60,
    healthCheckPollingInterval: 200,
    metadata: { suite: "jssdk-flow" },
    env: { FLOW_ENV: "from-create" },
    networkPolicy: { defaultAction: "deny", egress: [{ action: "allow", target: "pypi.org" }] },
  });
  assert.equal(typeof sandbox.id, "string");
  assert.equal(await sandbox.isHealthy(), true);
  const info = await sandbox.getInfo();
  assert.equal(info.id, sandbox.id);
  assert.equal(info.status.state, "Running");
  assert.equal(info.metadata?.suite, "jssdk-flow");
  assert.ok(info.expiresAt instanceof Date);
});

if (!sandbox) {
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}

await step("commands: run, working directory, envs, failure", async () => {
  const seen = [];
  const ok = await sandbox.commands.run("echo hello-flow; echo $FLOW_ENV", undefined, {
    onStdout: (m) => seen.push(m.text),
  });
  assert.equal(ok.error, undefined);
  assert.equal(ok.exitCode, 0);
  assert.deepEqual(ok.logs.stdout.map((m) => m.text), ["hello-flow", "from-create"]);
  assert.deepEqual(seen, ["hello-flow", "from-create"]);
  assert.ok(ok.complete && ok.complete.executionTimeMs >= 0);
  const pwd = await sandbox.commands.run("pwd", { workingDirectory: "/tmp" });
  assert.equal(stdout(pwd), "/tmp");
  const env = await sandbox.commands.run("echo $FLOW_X", { envs: { FLOW_X: "injected" } });
  assert.equal(stdout(env), "injected");
  const bad = await sandbox.commands.run("echo oops >&2; exit 3");
  assert.equal(bad.error?.name, "CommandExecError");
  assert.equal(bad.error?.value, "3");
  assert.equal(bad.exitCode, 3);
  assert.equal(bad.logs.stderr[0]?.text, "oops");
  assert.equal(bad.complete, undefined);
});

await step("background command: status and logs", async () => {
  const bg = await sandbox.commands.run("echo line-1; echo line-2; sleep 0.5", { background: true });
  assert.ok(bg.id);
  let text = "";
  let cursor;
  for (let i = 0; i < 50 && !text.includes("line-2"); i++) {
    const logs = await sandbox.commands.getBackgroundCommandLogs(bg.id, cursor);
    text += logs.content;
    cursor = logs.cursor ?? cursor;
    if (!text.includes("line-2")) await sleep(100);
  }
  assert.equal(text, "line-1\nline-2\n");
  let status = await sandbox.commands.getCommandStatus(bg.id);
  assert.equal(status.id, bg.id);
  for (let i = 0; i < 100 && status.running; i++) {
    await sleep(100);
    status = await sandbox.commands.getCommandStatus(bg.id);
  }
  assert.equal(status.running, false);
  assert.equal(status.exitCode, 0);
});

await step("sessions keep working directory and environment", async () => {
  const sid = await sandbox.commands.createSession({ workingDirectory: "/tmp" });
  assert.equal(typeof sid, "string");
  assert.equal(stdout(await sandbox.commands.runInSession(sid, "pwd")), "/tmp");
  await sandbox.commands.runInSession(sid, "export FLOW_S=kept; cd /");
  const r = await sandbox.commands.runInSession(sid, "echo $FLOW_S; pwd");
  assert.equal(stdout(r), "kept\n/");
  const once = await sandbox.commands.runInSession(sid, "pwd", { workingDirectory: "/tmp" });
  assert.equal(stdout(once), "/tmp");
  await sandbox.commands.deleteSession(sid);
});

const dir = `/tmp/jssdk-flow-${Date.now()}`;
await step("files: write, read, line reads, search, info, permissions, replace, move, delete", async () => {
  await sandbox.files.createDirectories([{ path: dir, mode: 755 }]);
  await sandbox.files.writeFiles([
    { path: `${dir}/a.txt`, data: "alpha\nbeta\ngamma\n", mode: 644 },
    { path: `${dir}/sub/b.txt`, data: "bravo" },
    { path: `${dir}/sub/c.md`, data: "# c" },
  ]);
  assert.equal(await sandbox.files.readFile(`${dir}/a.txt`), "alpha\nbeta\ngamma\n");
  assert.equal(await sandbox.files.readFile(`${dir}/a.txt`, { offset: 2, limit: 1 }), "beta");
  assert.equal(await sandbox.files.readFile(`${dir}/a.txt`, { range: "bytes=0-4" }), "alpha");
  const found = await sandbox.files.search({ path: dir, pattern: "**/*.txt" });
  assert.deepEqual(found.map((f) => f.path), [`${dir}/a.txt`, `${dir}/sub/b.txt`]);
  const all = await sandbox.files.search({ path: dir, pattern: "*" });
  assert.equal(all.length, 3);
  const info = await sandbox.files.getFileInfo([`${dir}/a.txt`]);
  assert.equal(info[`${dir}/a.txt`].size, 17);
  await sandbox.files.setPermissions([{ path: `${dir}/a.txt`, mode: 600 }]);
  const perm = await sandbox.files.getFileInfo([`${dir}/a.txt`]);
  assert.equal(perm[`${dir}/a.txt`].mode, 600);
  const replaced = await sandbox.files.replaceContentsDetailed([
    { path: `${dir}/a.txt`, oldContent: "beta", newContent: "BETA" }]);
  assert.equal(replaced[0]?.replacedCount, 1);
  assert.equal(await sandbox.files.readFile(`${dir}/a.txt`), "alpha\nBETA\ngamma\n");
  await sandbox.files.moveFiles([{ src: `${dir}/sub/b.txt`, dest: `${dir}/moved/b.txt` }]);
  assert.equal(await sandbox.files.readFile(`${dir}/moved/b.txt`), "bravo");
  const listed = await sandbox.files.listDirectory({ path: dir, depth: 1 });
  assert.deepEqual(listed.map((f) => f.path).sort(), [`${dir}/a.txt`, `${dir}/moved`, `${dir}/sub`]);
  await sandbox.files.deleteFiles([`${dir}/a.txt`]);
  await assert.rejects(sandbox.files.readFile(`${dir}/a.txt`));
  await sandbox.files.deleteDirectories([dir]);
  const gone = await sandbox.commands.run(`test -e ${dir} && echo there || echo gone`);
  assert.equal(stdout(gone), "gone");
});

await step("metrics", async () => {
  const m = await sandbox.getMetrics();
  assert.ok(m.cpuCount > 0);
  assert.ok(m.cpuUsedPercentage >= 0 && m.cpuUsedPercentage <= 100);
  assert.ok(m.memoryTotalMiB > 0);
  assert.ok(m.memoryUsedMiB >= 0 && m.memoryUsedMiB <= m.memoryTotalMiB);
  assert.ok(Math.abs(Date.now() - m.timestamp) < 120_000);
});

await step("egress policy: read and patch", async () => {
  const p = await sandbox.getEgressPolicy();
  assert.equal(p.defaultAction, "deny");
  assert.ok(p.egress?.some((r) => r.target === "pypi.org" && r.action === "allow"));
  await sandbox.patchEgressRules([{ action: "allow", target: "www.github.com" },
                                  { action: "deny", target: "pypi.org" }]);
  const q = await sandbox.getEgressPolicy();
  assert.ok(q.egress?.some((r) => r.target === "www.github.com" && r.action === "allow"));
  assert.ok(q.egress?.some((r) => r.target === "pypi.org" && r.action === "deny"));
});

await step("endpoints", async () => {
  const ep = await sandbox.getEndpoint(44772);
  assert.equal(typeof ep.endpoint, "string");
  assert.ok(!ep.endpoint.includes("://"));
  const url = await sandbox.getEndpointUrl(44772);
  assert.ok(url.startsWith("http://"));
  const res = await fetch(url + "/ping", { headers: ep.headers || {} });
  assert.equal(res.status, 200);
  const eg = await sandbox.getEndpoint(18080);
  assert.ok(eg.headers && eg.headers["OPENSANDBOX-EGRESS-AUTH"]);
});

await step("renew", async () => {
  const r = await sandbox.renew(20 * 60);
  assert.ok(r.expiresAt instanceof Date);
  assert.ok(r.expiresAt.getTime() > Date.now() + 15 * 60_000);
});

await step("pause and resume", async () => {
  await sandbox.pause();
  const paused = await sandbox.getInfo();
  assert.equal(paused.status.state, "Paused");
  const resumed = await sandbox.resume();
  assert.equal(resumed.id, sandbox.id);
  assert.equal((await resumed.getInfo()).status.state, "Running");
  assert.equal(stdout(await resumed.commands.run("echo after-resume")), "after-resume");
  sandbox = resumed;
});

await step("list and kill", async () => {
  const manager = SandboxManager.create({ connectionConfig: config });
  const list = await manager.listSandboxInfos({ metadata: { suite: "jssdk-flow" } });
  assert.ok(list.items.some((s) => s.id === sandbox.id));
  await sandbox.kill();
  await assert.rejects(sandbox.getInfo(), (e) => e?.error?.code === "DOCKER::SANDBOX_NOT_FOUND");
  await sandbox.close();
});

await step("through the server proxy: commands, files, egress", async () => {
  const proxied = new ConnectionConfig({
    domain: process.env.OPEN_SANDBOX_DOMAIN,
    apiKey: process.env.OPEN_SANDBOX_API_KEY,
    protocol: "http",
    requestTimeoutSeconds: 60,
    useServerProxy: true,
  });
  const sb = await Sandbox.create({
    connectionConfig: proxied,
    image: "python:3.11",
    entrypoint: ["tail", "-f", "/dev/null"],
    timeoutSeconds: 5 * 60,
    readyTimeoutSeconds: 60,
    healthCheckPollingInterval: 200,
    networkPolicy: { defaultAction: "deny" },
  });
  try {
    const ep = await sb.getEndpoint(18080);
    assert.ok(ep.endpoint.endsWith(`/sandboxes/${sb.id}/proxy/18080`));
    assert.equal(stdout(await sb.commands.run("echo via-proxy")), "via-proxy");
    await sb.files.writeFiles([{ path: "/tmp/p.txt", data: "one\ntwo\n" }]);
    assert.equal(await sb.files.readFile("/tmp/p.txt", { offset: 2 }), "two");
    const found = await sb.files.search({ path: "/tmp", pattern: "**/p.txt" });
    assert.deepEqual(found.map((f) => f.path), ["/tmp/p.txt"]);
    const p = await sb.getEgressPolicy();
    assert.equal(p.defaultAction, "deny");
  } finally {
    await sb.kill();
    await sb.close();
  }
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
