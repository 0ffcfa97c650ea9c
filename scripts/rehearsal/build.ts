/**
 * Builds (or reuses) the rehearsal's binaries from the Go module proxy: one generated wrapper module per
 * component, so modules whose go.mod replaces its own sub-modules by folders (Kubernetes' staging modules, etcd's
 * api/client, the operator's apis/client) build at all. `go install mod@version` refuses those replaces; the
 * wrapper repeats each one as "module => module <pinned version>".
 */
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { goComponents, moduleVersionOf, type GoComponent } from "./go-components.ts";

/** Where built binaries are kept between runs, outside the clone (a fresh clone reuses them). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "anomaly-kit", "rehearsal");
}

/** The Go toolchain: $GO, else the standard install folder, else `go` on PATH. */
export function goBinary(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GO) return env.GO;
  if (existsSync("/usr/local/go/bin/go")) return "/usr/local/go/bin/go";
  return "go";
}

export function componentDir(c: GoComponent, root = cacheRoot()): string {
  return join(root, `${c.name}-${c.version}`);
}

export function binaryPath(c: GoComponent, binary: string, root = cacheRoot()): string {
  return join(componentDir(c, root), "bin", binary);
}

const stampFile = "built.json";

function isBuilt(c: GoComponent, root: string): boolean {
  const dir = componentDir(c, root);
  return existsSync(join(dir, stampFile)) && Object.values(c.commands).every((b) => existsSync(join(dir, "bin", b)));
}

interface Replace {
  readonly from: string;
  readonly to: string;
}

/** The replace directives of a go.mod (single-line and block form), comments dropped. */
export function parseReplaces(goMod: string): Replace[] {
  const out: Replace[] = [];
  let inBlock = false;
  for (const raw of goMod.split("\n")) {
    const line = raw.replace(/\/\/.*$/, "").trim();
    if (!line) continue;
    if (inBlock) {
      if (line === ")") {
        inBlock = false;
        continue;
      }
      const [from, to] = line.split("=>").map((s) => s.trim());
      if (from && to) out.push({ from, to });
    } else if (line === "replace (") {
      inBlock = true;
    } else if (line.startsWith("replace ")) {
      const [from, to] = line
        .slice("replace ".length)
        .split("=>")
        .map((s) => s.trim());
      if (from && to) out.push({ from, to });
    }
  }
  return out;
}

/** The generated wrapper go.mod for one component, from the main module's own go.mod text. */
export function wrapperGoMod(c: GoComponent, mainGoMod: string): string {
  const godebug = mainGoMod.split("\n").filter((l) => l.startsWith("godebug "));
  const replaces: string[] = [];
  for (const r of parseReplaces(mainGoMod)) {
    const local = r.to.startsWith("./") || r.to.startsWith("../");
    // "./FORBIDDEN_DEPENDENCY" is etcd's guard against importing modules it must not; a wrapper need not repeat it.
    if (local && r.to.includes("FORBIDDEN_DEPENDENCY")) continue;
    replaces.push(local ? `\t${r.from.split(/\s+/)[0]} => ${r.from.split(/\s+/)[0]} ${c.localReplaceVersion}` : `\t${r.from} => ${r.to}`);
  }
  return [
    `module anomaly-kit.local/rehearsal/${c.name}`,
    "",
    "go 1.26.0",
    ...godebug,
    "",
    `require ${c.module} ${moduleVersionOf(c)}`,
    ...(replaces.length ? ["", "replace (", ...replaces, ")"] : []),
    "",
  ].join("\n");
}

function goEnv(): NodeJS.ProcessEnv {
  // Local toolchain only (no toolchain download); static binaries (no C compiler needed); go.mod/go.sum of the
  // wrapper completed by the build itself.
  return { ...process.env, GOTOOLCHAIN: "local", CGO_ENABLED: "0", GOFLAGS: "-mod=mod -buildvcs=false" };
}

function runLogged(cmd: string, args: string[], cwd: string, label: string, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn("nice", ["-n", "10", cmd, ...args], { cwd, env: goEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let packages = 0;
    const tail: string[] = [];
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString().split("\n")) {
        if (!line.trim()) continue;
        packages++;
        tail.push(line);
        if (tail.length > 30) tail.shift();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setInterval(() => {
      log(`  ${label}: ${Math.round((Date.now() - started) / 1000)} s, ${packages} packages so far`);
    }, 30_000);
    child.on("error", (e) => {
      clearInterval(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearInterval(timer);
      if (code === 0) resolve();
      else reject(new Error(`${label}: ${cmd} ${args.join(" ")} exited ${code} in ${cwd}; last output:\n${tail.join("\n")}`));
    });
  });
}

export interface BuildReport {
  readonly component: string;
  readonly version: string;
  readonly reused: boolean;
  readonly seconds: number;
}

async function buildComponent(c: GoComponent, root: string, log: (line: string) => void): Promise<BuildReport> {
  if (isBuilt(c, root)) return { component: c.name, version: c.version, reused: true, seconds: 0 };
  const started = Date.now();
  const go = goBinary();
  const dir = componentDir(c, root);
  const wrapper = join(dir, "wrapper");
  mkdirSync(wrapper, { recursive: true });
  log(`building ${c.name} ${c.version} into ${dir} (first run on this machine; later runs reuse it)`);
  const info = JSON.parse(
    execFileSync(go, ["mod", "download", "-json", `${c.module}@${moduleVersionOf(c)}`], { cwd: wrapper, env: goEnv(), encoding: "utf8" }),
  ) as { GoMod?: string; Error?: string };
  if (!info.GoMod) throw new Error(`${c.name}: go mod download ${c.module}@${moduleVersionOf(c)} failed: ${info.Error ?? "no go.mod"}`);
  writeFileSync(join(wrapper, "go.mod"), wrapperGoMod(c, readFileSync(info.GoMod, "utf8")));
  // A Go file so the wrapper is a buildable module; it imports nothing (the commands are built by path).
  writeFileSync(join(wrapper, "wrapper.go"), "// Package wrapper only carries the generated go.mod's replaces.\npackage wrapper\n");
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  for (const [pkg, binary] of Object.entries(c.commands)) {
    const importPath = pkg === "." ? c.module : `${c.module}/${pkg}`;
    // Per process: two rehearsals building at once must not write one file.
    const tmp = join(bin, `.${binary}.${process.pid}.partial`);
    await runLogged(go, ["build", "-v", "-trimpath", "-ldflags=-s -w", "-o", tmp, importPath], wrapper, `${c.name} ${binary}`, log);
    renameSync(tmp, join(bin, binary));
    log(`  built ${binary} (${Math.round((Date.now() - started) / 1000)} s since ${c.name} started)`);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(
    join(dir, stampFile),
    JSON.stringify({ component: c.name, version: c.version, seconds, builtAt: new Date().toISOString() }, null, 2),
  );
  return { component: c.name, version: c.version, reused: false, seconds };
}

/** True when every component is built in the cache (nothing to build). */
export function allBuilt(root = cacheRoot()): boolean {
  return goComponents.every((c) => isBuilt(c, root));
}

/** Builds every missing component (or those named), in order; returns what was built or reused. */
export async function ensureBinaries(log: (line: string) => void, root = cacheRoot(), only?: readonly string[]): Promise<BuildReport[]> {
  const reports: BuildReport[] = [];
  for (const c of goComponents.filter((x) => only === undefined || only.includes(x.name))) {
    try {
      reports.push(await buildComponent(c, root, log));
    } catch (e) {
      // A half-built component must not pass for built on the next run.
      rmSync(join(componentDir(c, root), stampFile), { force: true });
      throw e;
    }
  }
  return reports;
}

/** Path of a built binary by its name (kube-apiserver, etcd, kwok, prometheus-operator, ...). */
export function binary(name: string, root = cacheRoot()): string {
  for (const c of goComponents) {
    if (Object.values(c.commands).includes(name)) return binaryPath(c, name, root);
  }
  throw new Error(
    `binary: ${JSON.stringify(name)} is not built by the rehearsal; allowed: ${goComponents.flatMap((c) => Object.values(c.commands)).join(", ")}`,
  );
}
