// bench/js_bench.mjs -- the official JS SDK (@alibaba-group/opensandbox) peer:
// same workloads and output as osb_bench.c, through the SDK's public API.
//
//   node js_bench.mjs URL w1 N | w2 small|mid|big | w3 [SANDBOX] | w4 MIB [SANDBOX] | w5 [N] | cold
//                     | m1 N (N command streams of the small stream at once: Promise.all)
//
// The SDK is imported from BENCH_JS_SDK (a path to its package directory).
// Times only the workload: Sandbox.connect (which resolves the execd
// endpoint) runs before the clock starts, except for "cold".
import { performance } from "node:perf_hooks";
import { cpuUsage } from "node:process";

const [base, w, arg] = process.argv.slice(2);
const t00 = performance.now();
const sdk = await import(process.env.BENCH_JS_SDK + "/dist/index.js");
const { ConnectionConfig, Sandbox } = sdk;
const domain = base.replace(/^https?:\/\//, "");
// w4: an optional sandbox id ("sink": its execd endpoint is bench/sink.c)
const id = w === "m1" ? "small" : (w === "w2" || w === "w3") && arg ? arg
  : w === "w4" && process.argv[5] ? process.argv[5] : "s";

async function connect() {
  return Sandbox.connect({
    sandboxId: id,
    connectionConfig: new ConnectionConfig({ domain, protocol: "http", requestTimeoutSeconds: 600 }),
  });
}

if (w === "w5") {
  // the whole flow against the dev server, n times; domain and key from the caller
  const n = Number(arg || 1);
  const cfg = new ConnectionConfig({ domain, protocol: "http", apiKey: process.env.OPEN_SANDBOX_API_KEY });
  const t0 = performance.now();
  const c0 = cpuUsage();
  for (let i = 0; i < n; i++) {
    const sbx = await Sandbox.create({ connectionConfig: cfg, image: "python:3.11" });
    const ex = await sbx.commands.run("echo hello");
    if (!ex.logs.stdout.length) throw new Error("no output");
    await sbx.files.writeFiles([{ path: "/tmp/bench.txt", data: "hello from the benchmark\n" }]);
    const got = await sbx.files.readFile("/tmp/bench.txt");
    if (got !== "hello from the benchmark\n") throw new Error("bad content");
    await sbx.kill();
    await sbx.close();
  }
  const c1 = cpuUsage(c0);
  console.log(`wall_s=${((performance.now() - t0) / 1000).toFixed(6)} cpu_s=${((c1.user + c1.system) / 1e6).toFixed(6)} units=${n}`);
  process.exit(0);
}

if (w === "cold") {
  const sbx = await connect();
  const info = await sbx.getInfo();
  if (!info.status) throw new Error("no status");
  console.log(`ok=1 wall_s=${((performance.now() - t00) / 1000).toFixed(6)}`);
  process.exit(0);
}

const sbx = await connect();
const t0 = performance.now();
const c0 = cpuUsage();
let units = 0, bytes = 0;
if (w === "w1") {
  const n = Number(arg);
  for (let i = 0; i < n; i++) {
    const info = await sbx.getInfo();
    bytes += info.status.state.length;
  }
  units = n;
} else if (w === "w2") {
  let stdout = 0, text = 0, events = 0;
  await sbx.commands.run("cat /var/log/build.log", {}, {
    onStdout: (m) => { stdout++; text += m.text.length; },
    onEvent: () => { events++; },
  });
  if (!stdout) throw new Error("no stdout events");
  units = stdout + 3; // init, ping and execution_complete are not counted by onStdout
  bytes = Number(process.env.BENCH_W2_BYTES || 0);
} else if (w === "m1") {
  const n = Number(arg || 256);
  let events = 0;
  await Promise.all(Array.from({ length: n }, () => sbx.commands.run("cat /var/log/build.log", {}, {
    onEvent: () => { events++; },
  })));
  units = events;
  console.log(`streams=${n}`);
} else if (w === "w3") {
  for await (const chunk of sbx.files.readBytesStream("/data/big.bin")) bytes += chunk.length;
  units = bytes;
} else if (w === "w4") {
  const size = Number(arg) * 1024 * 1024;
  const block = new Uint8Array(256 * 1024);
  async function* data() {
    let left = size;
    while (left > 0) {
      const k = Math.min(left, block.length);
      yield k === block.length ? block : block.subarray(0, k);
      left -= k;
    }
  }
  await sbx.files.writeFiles([{ path: "/tmp/upload.bin", data: data() }]);
  bytes = units = size;
} else {
  throw new Error("unknown workload " + w);
}
const t1 = performance.now();
const c1 = cpuUsage(c0);
console.log(`wall_s=${((t1 - t0) / 1000).toFixed(6)} cpu_s=${((c1.user + c1.system) / 1e6).toFixed(6)} units=${units} bytes=${bytes}`);
process.exit(0);
