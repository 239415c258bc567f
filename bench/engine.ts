/**
 * Engine benchmark on a Qwen2.5-0.5B-shaped random model (24 layers, hidden 896, 14 heads / 2 KV heads,
 * MLP 4864, vocab 151936, tied embeddings). Every figure is printed next to the machine limit measured in the
 * same run — sgemm GFLOP/s on large matrices and memory read GB/s — and the ratio.
 *
 *   npm run bench                  # human-readable table
 *   npm run bench -- --json        # one JSON line
 *   npm run bench -- --preset tiny-qwen2 --quick   # a smoke run
 *   npm run bench -- --model DIR   # a real model folder in HF layout instead of a random one
 *   npm run bench -- --peer-pytorch   # also measure PyTorch on the same workloads: "ours/PyTorch" per row
 *
 * The random model is created once and saved to a temporary folder; each workload then loads it in its own child
 * process, so its peak resident memory is its own. With --peer-pytorch, bench/pytorch_peer.py runs the same
 * workload on the same model folder in its own /usr/bin/python3 process right after ours (float32, every core).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { coreTypeNote, runDoctor } from "../src/cli/commands/doctor.js";
import { projectionShape } from "../src/engine/config.js";
import { KvCache } from "../src/engine/kv-cache.js";
import { createLoraAdapter } from "../src/engine/lora.js";
import { Model } from "../src/engine/model.js";
import { Rng } from "../src/engine/random.js";
import { argmax } from "../src/engine/sampling.js";
import { trainSft } from "../src/engine/train.js";
import { loadModel, saveModel } from "../src/io/model-files.js";
import { presetConfig } from "../src/io/presets.js";
import { createRandomModel } from "../src/io/random-model.js";
import { native } from "../src/native/index.js";

type Phase = "limits" | "train" | "train64" | "prefill" | "decode" | "decode16";
const PHASES: Phase[] = ["limits", "train", "train64", "prefill", "decode", "decode16"];
/** The train64 row's sequence length: a knowledge inner loop's self-edit sequences are about this long. */
const SHORT_TRAIN_SEQ = 64;
type Workload = Exclude<Phase, "limits">;

/** The peer's script: bench/pytorch_peer.py in the repository (this file runs as dist/bench/engine.js). */
const PEER_SCRIPT = fileURLToPath(new URL("../../bench/pytorch_peer.py", import.meta.url));

interface Options {
  preset: string;
  model?: string;
  seq: number;
  rank: number;
  quick: boolean;
}

interface RunOptions extends Options {
  json: boolean;
  peerPytorch: boolean;
  peerPython: string;
}

/** One peer workload's report (bench/pytorch_peer.py's JSON line). */
interface PeerResult {
  tokens_per_s: number;
  peak_rss_mb: number;
  pytorch_version: string;
  threads: number;
}

/** Why the PyTorch peer cannot run here, or its torch version. */
function probePeer(python: string): { version: string } | { reason: string } {
  if (!existsSync(PEER_SCRIPT)) return { reason: `${PEER_SCRIPT} is missing` };
  const probe = spawnSync(python, ["-c", "import numpy, torch; print(torch.__version__)"], {
    encoding: "utf8",
    timeout: 120_000,
  });
  if (probe.error) return { reason: `${python} could not be run (${probe.error.message})` };
  if (probe.status !== 0) return { reason: `${python} cannot import torch and numpy` };
  return { version: probe.stdout.trim() };
}

function runPeer(python: string, workload: Workload, modelDir: string, opts: Options): PeerResult | null {
  const seq = workload === "train64" ? SHORT_TRAIN_SEQ : opts.seq;
  const args = [PEER_SCRIPT, "--model", modelDir, "--seq", String(seq), "--rank", String(opts.rank)];
  args.push("--workload", workload === "train64" ? "train" : workload, ...(opts.quick ? ["--quick"] : []));
  const child = spawnSync(python, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const last = child.status === 0 ? child.stdout.trim().split("\n").at(-1) : undefined;
  if (!last) {
    process.stderr.write(`bench: PyTorch peer ${workload} failed (exit ${child.status ?? child.signal}); no figure\n`);
    return null;
  }
  return JSON.parse(last) as PeerResult;
}

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function timeIt(fn: () => void, minSeconds: number, minReps: number): number {
  fn(); // warm-up: first-touch allocation, OpenBLAS buffers
  let reps = 0;
  const start = performance.now();
  while (reps < minReps || performance.now() - start < minSeconds * 1000) {
    fn();
    reps++;
  }
  return (performance.now() - start) / 1000 / reps;
}

function measureLimits(
  quick: boolean,
  short: boolean,
): { sgemm_gflops: number; mem_read_gbs: number; sgemm_n: number; read_mb: number } {
  const n = quick ? 1024 : short ? 2048 : 3072;
  const a = new Float32Array(n * n).fill(0.5);
  const b = new Float32Array(n * n).fill(0.25);
  const c = new Float32Array(n * n);
  const sgemmSeconds = timeIt(() => native.sgemm(false, true, n, n, n, 1, a, n, b, n, 0, c, n), quick ? 0.3 : 2, 3);
  // memory read bandwidth: the best of two streaming reads over a buffer far larger than the caches — a plain
  // sum, and a matrix-vector product (several concurrent row streams, which some memory systems need to saturate)
  const bytes = quick || short ? 256 << 20 : 1 << 30;
  const big = new Float32Array(bytes / 4).fill(1);
  const sumSeconds = timeIt(() => native.vecSum(big), quick ? 0.3 : 2, 3);
  const cols = 1024;
  const x = new Float32Array(cols).fill(1);
  const y = new Float32Array(big.length / cols);
  const matvecSeconds = timeIt(() => native.matmulSmallM(y, x, big, 1, y.length, cols), quick ? 0.3 : 2, 3);
  const readSeconds = Math.min(sumSeconds, matvecSeconds);
  return {
    sgemm_gflops: (2 * n * n * n) / sgemmSeconds / 1e9,
    mem_read_gbs: bytes / readSeconds / 1e9,
    sgemm_n: n,
    read_mb: bytes / 2 ** 20,
  };
}

function buildModel(options: Options): Model {
  if (!options.model) throw new Error("internal: phase without --model");
  const { config, weights } = loadModel(options.model);
  return new Model(config, weights);
}

/** Matmul FLOPs of one token's forward (projections + LM head + attention at context `context`). */
function forwardFlopsPerToken(model: Model, context: number, withHead: boolean): number {
  const c = model.config;
  let perLayer = 0;
  for (const p of ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const) {
    const [o, i] = projectionShape(c, p);
    perLayer += 2 * o * i;
  }
  perLayer += 2 * 2 * context * c.numHeads * c.headDim; // scores and weighted values
  return c.numLayers * perLayer + (withHead ? 2 * c.vocabSize * c.hiddenSize : 0);
}

function weightBytes(model: Model): number {
  const c = model.config;
  let params = c.vocabSize * c.hiddenSize * (c.tieWordEmbeddings ? 1 : 2) + c.hiddenSize;
  for (const p of ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const) {
    const [o, i] = projectionShape(c, p);
    params += c.numLayers * o * i;
  }
  return params * 4;
}

/**
 * Runs one workload, then measures the machine limits again in the same process: on a shared machine the
 * available compute and bandwidth drift, so each ratio uses the limit measured next to its own workload.
 * Peak RSS is read before that measurement so its buffers do not count.
 */
function runPhaseWithLimits(phase: Phase, options: Options): Record<string, number> {
  if (phase === "limits") return measureLimits(options.quick, false);
  const result = runPhase(phase, options);
  const limits = measureLimits(options.quick, true);
  return { ...result, near_sgemm_gflops: limits.sgemm_gflops, near_mem_read_gbs: limits.mem_read_gbs };
}

function runPhase(phase: Exclude<Phase, "limits">, options: Options): Record<string, number> {
  const model = buildModel(options);
  const V = model.config.vocabSize;
  const rng = new Rng(1);
  const tokens = Array.from({ length: options.seq }, () => rng.int(V));
  if (phase === "train" || phase === "train64") {
    const seq = phase === "train64" ? SHORT_TRAIN_SEQ : options.seq;
    const trainTokens = phase === "train64" ? Array.from({ length: seq }, () => rng.int(V)) : tokens;
    const adapter = createLoraAdapter(
      model.config,
      { rank: options.rank, alpha: 2 * options.rank, dropout: 0, targets: ["q_proj", "v_proj"] },
      new Rng(2),
    );
    const steps = options.quick ? 2 : 6;
    const times: number[] = [];
    trainSft(
      model,
      Array.from({ length: steps }, () => ({ tokens: trainTokens, lossMask: null })),
      { kind: "lora", adapter },
      { epochs: 1, lr: 1e-4, shuffle: false },
      (r) => times.push(r.tokens / r.tokensPerSecond),
    );
    const measured = times.slice(1); // the first step allocates the activation arena
    const seconds = measured.reduce((s, t) => s + t, 0) / measured.length;
    const flops = 2 * forwardFlopsPerToken(model, seq / 2, true);
    return { [`${phase}_tokens_per_s`]: seq / seconds, train_flops_per_token: flops, peak_rss_mb: peakRssMb() };
  }
  if (phase === "prefill") {
    const cache = new KvCache(model.config, 1, options.seq);
    const ids = Int32Array.from(tokens);
    const positions = Int32Array.from(tokens, (_, i) => i);
    const slots = new Int32Array(options.seq);
    const seconds = timeIt(
      () => model.forwardCached(cache, ids, positions, slots, [options.seq - 1]),
      options.quick ? 0.5 : 5,
      2,
    );
    const flops = forwardFlopsPerToken(model, options.seq / 2, false) + (2 * V * model.config.hiddenSize) / options.seq;
    return { prefill_tokens_per_s: options.seq / seconds, prefill_flops_per_token: flops, peak_rss_mb: peakRssMb() };
  }
  // decode: prefill a 16-token prompt per sequence, then time greedy decode steps (forward + argmax)
  const sequences = phase === "decode" ? 1 : 16;
  const promptLength = 16;
  const steps = options.quick ? 8 : 48;
  const cache = new KvCache(model.config, sequences, promptLength + steps + 1);
  const slots = Int32Array.from({ length: sequences * promptLength }, (_, i) => Math.floor(i / promptLength));
  const positions = Int32Array.from({ length: sequences * promptLength }, (_, i) => i % promptLength);
  const prompt = Int32Array.from({ length: sequences * promptLength }, (_, i) => tokens[i % promptLength]);
  const lastRows = Array.from({ length: sequences }, (_, s) => s * promptLength + promptLength - 1);
  let logits = model.forwardCached(cache, prompt, positions, slots, lastRows);
  const stepSlots = Int32Array.from({ length: sequences }, (_, s) => s);
  const outputRows = Array.from({ length: sequences }, (_, s) => s);
  let seconds = 0;
  for (let step = 0; step < steps; step++) {
    const started = performance.now();
    const next = Int32Array.from({ length: sequences }, (_, s) => argmax(logits.subarray(s * V, (s + 1) * V)));
    logits = model.forwardCached(
      cache,
      next,
      new Int32Array(sequences).fill(promptLength + step),
      stepSlots,
      outputRows,
    );
    if (step > 0) seconds += (performance.now() - started) / 1000; // step 0 warms the decode buffers
  }
  const key = phase === "decode" ? "decode_tokens_per_s" : "decode16_tokens_per_s";
  return {
    [key]: (sequences * (steps - 1)) / seconds,
    weight_bytes: weightBytes(model),
    decode_flops_per_token: forwardFlopsPerToken(model, promptLength + steps / 2, true),
    peak_rss_mb: peakRssMb(),
  };
}

async function main(): Promise<void> {
  const program = new Command()
    .name("bench")
    .description("Engine throughput against this machine's measured sgemm peak and memory bandwidth")
    .option("--preset <name>", "model preset for the random model", "qwen2.5-0.5b")
    .option("--model <dir>", "benchmark this model folder (HF layout) instead of a random preset")
    .option("--seq <n>", "training / prefill sequence length", (v) => Number.parseInt(v, 10), 256)
    .option("--rank <r>", "LoRA rank (q_proj, v_proj)", (v) => Number.parseInt(v, 10), 32)
    .option("--quick", "short measurements (smoke test)", false)
    .option("--json", "print one JSON line", false)
    .option("--peer-pytorch", "also run each workload in PyTorch (bench/pytorch_peer.py) and print ours/PyTorch", false)
    .option("--peer-python <path>", "Python with torch and numpy for --peer-pytorch", "/usr/bin/python3")
    .option("--phase <phase>", "internal: run one workload and print its JSON");
  program.parse();
  const opts = program.opts<RunOptions & { phase?: Phase }>();
  if (opts.phase) {
    console.log(JSON.stringify(runPhaseWithLimits(opts.phase, opts)));
    return;
  }
  let modelDir = opts.model;
  let temporary: string | null = null;
  if (!modelDir) {
    temporary = mkdtempSync(join(tmpdir(), "seal-bench-"));
    modelDir = temporary;
    if (!opts.json) process.stderr.write(`bench: creating a random ${opts.preset} model in ${temporary}…\n`);
    const config = presetConfig(opts.preset);
    saveModel(temporary, { config, weights: createRandomModel(config, 0) });
  }
  try {
    await runAll(opts, modelDir);
  } finally {
    if (temporary) rmSync(temporary, { recursive: true, force: true });
  }
}

async function runAll(opts: RunOptions, modelDir: string): Promise<void> {
  const results: Record<string, Record<string, number>> = {};
  let peerVersion: string | null = null;
  let peerUnavailable: string | null = null;
  if (opts.peerPytorch) {
    const probe = probePeer(opts.peerPython);
    if ("reason" in probe) {
      peerUnavailable = probe.reason;
      process.stderr.write(`bench: --peer-pytorch: no PyTorch peer: ${probe.reason}; continuing without it\n`);
    } else peerVersion = probe.version;
  }
  const peer: Partial<Record<Workload, PeerResult | null>> = {};
  for (const phase of PHASES) {
    if (!opts.json) process.stderr.write(`bench: ${phase}…\n`);
    const args = [
      fileURLToPath(import.meta.url),
      "--phase",
      phase,
      "--model",
      modelDir,
      "--seq",
      String(opts.seq),
      "--rank",
      String(opts.rank),
      ...(opts.quick ? ["--quick"] : []),
    ];
    const child = spawnSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (child.status !== 0) throw new Error(`bench phase ${phase} failed (exit ${child.status})`);
    results[phase] = JSON.parse(child.stdout.trim().split("\n").at(-1)!);
    if (peerVersion !== null && phase !== "limits") {
      if (!opts.json) process.stderr.write(`bench: ${phase}, PyTorch peer…\n`);
      peer[phase] = runPeer(opts.peerPython, phase, modelDir, opts);
    }
  }
  const { sgemm_gflops, mem_read_gbs } = results.limits;
  // a core type preset that leaves AVX-512 unused is honoured, and said once, with what it costs here
  const coreTypeCost = (await runDoctor()).coreTypeCost;
  const train = results.train;
  const train64 = results.train64;
  const prefill = results.prefill;
  const summary = {
    model: opts.model ?? opts.preset,
    sgemm_gflops,
    mem_read_gbs,
    train_tokens_per_s: train.train_tokens_per_s,
    train_limit_tokens_per_s: (train.near_sgemm_gflops * 1e9) / train.train_flops_per_token,
    train64_tokens_per_s: train64.train64_tokens_per_s,
    train64_limit_tokens_per_s: (train64.near_sgemm_gflops * 1e9) / train64.train_flops_per_token,
    prefill_tokens_per_s: prefill.prefill_tokens_per_s,
    prefill_limit_tokens_per_s: (prefill.near_sgemm_gflops * 1e9) / prefill.prefill_flops_per_token,
    decode_tokens_per_s: results.decode.decode_tokens_per_s,
    decode_limit_tokens_per_s: (results.decode.near_mem_read_gbs * 1e9) / results.decode.weight_bytes,
    decode16_tokens_per_s: results.decode16.decode16_tokens_per_s,
    // decode16 is mostly compute-bound (16 rows per weight read): its limit is sgemm / forward FLOPs per token
    decode16_limit_tokens_per_s: (results.decode16.near_sgemm_gflops * 1e9) / results.decode16.decode_flops_per_token,
    near_sgemm_gflops: {
      train: train.near_sgemm_gflops,
      train64: train64.near_sgemm_gflops,
      prefill: prefill.near_sgemm_gflops,
      decode16: results.decode16.near_sgemm_gflops,
    },
    near_mem_read_gbs: { decode: results.decode.near_mem_read_gbs },
    peak_rss_mb: Math.max(
      train.peak_rss_mb,
      train64.peak_rss_mb,
      prefill.peak_rss_mb,
      results.decode.peak_rss_mb,
      results.decode16.peak_rss_mb,
    ),
    peak_rss_mb_train: train.peak_rss_mb,
    peak_rss_mb_train64: train64.peak_rss_mb,
    peak_rss_mb_prefill: prefill.peak_rss_mb,
    peak_rss_mb_decode: results.decode.peak_rss_mb,
    peak_rss_mb_decode16: results.decode16.peak_rss_mb,
    blas: native.info().blasConfig,
    openblas_coretype_preset: coreTypeCost?.preset ?? null,
    sgemm_gflops_preset_core: coreTypeCost?.presetSpeed.gflops ?? null,
    sgemm_gflops_faster_core: coreTypeCost?.fasterSpeed?.gflops ?? null,
    faster_core: coreTypeCost?.faster ?? null,
  };
  const workloads: Workload[] = ["train", "train64", "prefill", "decode", "decode16"];
  const peerThreads = workloads.map((w) => peer[w]?.threads).find((t) => t !== undefined) ?? null;
  const peerSummary =
    peerVersion === null
      ? peerUnavailable === null
        ? {}
        : { pytorch_unavailable: peerUnavailable }
      : {
          ...Object.fromEntries(workloads.map((w) => [`pytorch_${w}_tokens_per_s`, peer[w]?.tokens_per_s ?? null])),
          pytorch_version: peerVersion,
          pytorch_threads: peerThreads,
          ...Object.fromEntries(workloads.map((w) => [`pytorch_peak_rss_mb_${w}`, peer[w]?.peak_rss_mb ?? null])),
        };
  if (opts.json) {
    console.log(JSON.stringify({ ...summary, ...peerSummary }));
    return;
  }
  const rows: { left: string; peer: PeerResult | null | undefined; value: number }[] = [];
  const row = (name: string, value: number, limit: number | null, unit: string, rss: number, workload: Workload) =>
    rows.push({
      left: `${name.padEnd(34)} ${value.toFixed(1).padStart(8)} ${unit.padEnd(6)} ${limit === null ? "".padStart(22) : `limit ${limit.toFixed(1).padStart(7)}  ${((100 * value) / limit).toFixed(0).padStart(4)}%`}  peak RSS ${peerVersion === null ? rss.toFixed(0) : rss.toFixed(0).padStart(5)} MB`,
      peer: peer[workload],
      value,
    });
  console.log(`model ${summary.model}; ${summary.blas}`);
  console.log(
    `machine: sgemm ${sgemm_gflops.toFixed(1)} GFLOP/s (3072²), memory read ${mem_read_gbs.toFixed(1)} GB/s (1 GB)`,
  );
  const note = coreTypeNote(coreTypeCost);
  if (note !== null) console.log(note);
  row(
    `LoRA train r${opts.rank} q,v seq ${opts.seq}`,
    summary.train_tokens_per_s,
    summary.train_limit_tokens_per_s,
    "tok/s",
    train.peak_rss_mb,
    "train",
  );
  row(
    `LoRA train r${opts.rank} q,v seq ${SHORT_TRAIN_SEQ}`,
    summary.train64_tokens_per_s,
    summary.train64_limit_tokens_per_s,
    "tok/s",
    train64.peak_rss_mb,
    "train64",
  );
  row(
    `prefill ${opts.seq}`,
    summary.prefill_tokens_per_s,
    summary.prefill_limit_tokens_per_s,
    "tok/s",
    prefill.peak_rss_mb,
    "prefill",
  );
  row(
    "decode, batch 1",
    summary.decode_tokens_per_s,
    summary.decode_limit_tokens_per_s,
    "tok/s",
    results.decode.peak_rss_mb,
    "decode",
  );
  row(
    "decode, 16 sequences (aggregate)",
    summary.decode16_tokens_per_s,
    summary.decode16_limit_tokens_per_s,
    "tok/s",
    results.decode16.peak_rss_mb,
    "decode16",
  );
  if (peerVersion === null) for (const r of rows) console.log(r.left);
  else {
    const width = Math.max(...rows.map((r) => r.left.length));
    console.log(`${"".padEnd(width)}  | PyTorch tok/s  ours/PyTorch  PyTorch RSS`);
    for (const r of rows) {
      const cells = r.peer
        ? `${r.peer.tokens_per_s.toFixed(1).padStart(13)}  ${`${(r.value / r.peer.tokens_per_s).toFixed(2)}x`.padStart(12)}  ${`${r.peer.peak_rss_mb.toFixed(0)} MB`.padStart(11)}`
        : "failed".padStart(13);
      console.log(`${r.left.padEnd(width)}  | ${cells}`);
    }
  }
  console.log(
    [
      `limits, each measured in the workload's own process right after it (sgemm ${opts.quick ? 1024 : 2048}², 256 MB read):`,
      `  train   = sgemm ${train.near_sgemm_gflops.toFixed(1)} GFLOP/s / forward+backward FLOPs per token`,
      `  train64 = sgemm ${train64.near_sgemm_gflops.toFixed(1)} GFLOP/s / forward+backward FLOPs per token (seq ${SHORT_TRAIN_SEQ})`,
      `  prefill = sgemm ${prefill.near_sgemm_gflops.toFixed(1)} GFLOP/s / forward FLOPs per token (LM head on the last token only)`,
      `  decode  = read ${results.decode.near_mem_read_gbs.toFixed(1)} GB/s / fp32 weight bytes`,
      `  decode16 = sgemm ${results.decode16.near_sgemm_gflops.toFixed(1)} GFLOP/s / forward FLOPs per token`,
    ].join("\n"),
  );
  if (peerVersion !== null)
    console.log(
      `PyTorch peer (bench/pytorch_peer.py): torch ${peerVersion}, ${peerThreads ?? "?"} threads, float32, the same model folder and workloads, each in its own ${opts.peerPython} process right after ours; ours/PyTorch > 1 means we are faster`,
    );
}

await main();
