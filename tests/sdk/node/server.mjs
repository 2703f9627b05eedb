// Starts and stops a Latch server for the Node SDK suites, shared by smoke.test.mjs and jwt.test.mjs.
//
// If LATCH_URL, LATCH_PROJECT_ID and LATCH_SECRET are set, that server is used. Otherwise one is started
// from LATCH_BIN (default <repo>/target/debug/latch) on a free port with a fresh SQLite data directory
// and a bootstrap project; stopLatch() sends SIGTERM and asserts a clean exit (code 0).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, openSync, readFileSync, closeSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID, randomBytes } from "node:crypto";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "..", "..", "..");

let child = null;
let workdir = null;
let logPath = null;

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

function serverLog() {
  try {
    return readFileSync(logPath, "utf8").slice(-20000);
  } catch {
    return "<no log>";
  }
}

async function waitHealthy(base, proc) {
  const deadline = Date.now() + 20_000;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`latch exited (${proc.exitCode ?? proc.signalCode}) before becoming healthy\n${serverLog()}`);
    }
    try {
      const r = await fetch(new URL("/healthz", base), { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = String(e?.cause?.code ?? e);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`/healthz not 200 within 20 s (last: ${last})\n${serverLog()}`);
}

/// Returns { url, projectId, secret, own } where `own` says whether this process started the server.
export async function startLatch(dirPrefix, extraEnv = {}) {
  const { LATCH_URL: url0, LATCH_PROJECT_ID: project0, LATCH_SECRET: secret0 } = process.env;
  if (url0 && project0 && secret0) return { url: url0, projectId: project0, secret: secret0, own: false };
  const bin = resolve(process.env.LATCH_BIN || join(repoRoot, "target", "debug", "latch"));
  if (!existsSync(bin)) throw new Error(`Latch binary not found at ${bin} (set LATCH_BIN or LATCH_URL/LATCH_PROJECT_ID/LATCH_SECRET)`);
  workdir = mkdtempSync(join(tmpdir(), dirPrefix));
  logPath = join(workdir, "server.log");
  const port = await freePort();
  const projectId = `project-test-${randomUUID()}`;
  const secret = `secret-test-${randomBytes(24).toString("hex")}`;
  const url = `http://127.0.0.1:${port}/`;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LATCH_")));
  Object.assign(env, {
    LATCH_LISTEN: `127.0.0.1:${port}`,
    LATCH_DATA_DIR: join(workdir, "data"),
    LATCH_BOOTSTRAP_PROJECT_ID: projectId,
    LATCH_BOOTSTRAP_SECRET: secret,
    LATCH_LOG: "warn",
    ...extraEnv,
  });
  const fd = openSync(logPath, "a");
  child = spawn(bin, ["serve"], { env, cwd: workdir, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  await waitHealthy(url, child);
  return { url, projectId, secret, own: true };
}

export async function stopLatch() {
  if (!child) return;
  const exited = new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) res([child.exitCode, child.signalCode]);
    else child.once("exit", (code, signal) => res([code, signal]));
  });
  child.kill("SIGTERM");
  let timer;
  const timeout = new Promise((res) => {
    timer = setTimeout(() => res("timeout"), 10_000);
  });
  const result = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (result === "timeout") {
    child.kill("SIGKILL");
    assert.fail(`latch did not exit within 10 s of SIGTERM\n${serverLog()}`);
  }
  const [code, signal] = result;
  assert.equal(code, 0, `latch exit code ${code} (signal ${signal}) after SIGTERM\n${serverLog()}`);
  rmSync(workdir, { recursive: true, force: true });
}
