/**
 * AdamW over a list of parameter tensors (torch.optim.AdamW semantics, run in the native kernel) and global-norm
 * gradient clipping (torch.nn.utils.clip_grad_norm_). Defaults are HF Trainer's: betas (0.9, 0.999), eps 1e-8.
 */
import { native } from "../native/index.js";

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const DEFAULT_ADAMW: Readonly<AdamWOptions> = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

export class AdamW {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  /** Updates applied so far (the next update is step + 1, as AdamW's bias correction counts). */
  step = 0;

  constructor(
    readonly params: Float32Array[],
    readonly options: AdamWOptions = DEFAULT_ADAMW,
  ) {
    this.m = params.map((p) => new Float32Array(p.length));
    this.v = params.map((p) => new Float32Array(p.length));
  }

  /** The moment estimates, in parameter order (for checkpoints; restore with loadState). */
  state(): { step: number; m: Float32Array[]; v: Float32Array[] } {
    return { step: this.step, m: this.m, v: this.v };
  }

  /** Restores moments saved by state() (shapes must match the parameters). */
  loadState(state: { step: number; m: ArrayLike<number>[]; v: ArrayLike<number>[] }): void {
    if (state.m.length !== this.params.length || state.v.length !== this.params.length)
      throw new Error(`AdamW state: ${state.m.length}/${state.v.length} moments for ${this.params.length} parameters`);
    this.params.forEach((p, i) => {
      if (state.m[i].length !== p.length || state.v[i].length !== p.length)
        throw new Error(`AdamW state: moment ${i} has ${state.m[i].length} values, parameter has ${p.length}`);
      this.m[i].set(state.m[i]);
      this.v[i].set(state.v[i]);
    });
    this.step = state.step;
  }

  /**
   * Clips `grads` to `maxNorm` (0: no clipping) and applies one update to every tensor in one native call: the same
   * arithmetic as globalNorm + clipToNorm + update + a norm of the parameters, with a pass fewer and no per-tensor
   * call overhead (an adapter has two tensors per wrapped projection and layer). No update when the norm is not finite.
   */
  clipAndUpdate(grads: Float32Array[], lr: number, maxNorm: number): FusedStep {
    if (grads.length !== this.params.length)
      throw new Error(`AdamW: ${grads.length} gradients for ${this.params.length} parameters`);
    const { beta1, beta2, eps, weightDecay } = this.options;
    const out = new Float64Array(2);
    native.adamwTensors(
      this.params,
      grads,
      this.m,
      this.v,
      lr,
      beta1,
      beta2,
      eps,
      weightDecay,
      this.step + 1,
      maxNorm,
      out,
    );
    if (Number.isFinite(out[0])) this.step++;
    return { gradNorm: out[0], paramSquaredNorm: out[1] };
  }

  update(grads: Float32Array[], lr: number): void {
    if (grads.length !== this.params.length)
      throw new Error(`AdamW: ${grads.length} gradients for ${this.params.length} parameters`);
    this.step++;
    const { beta1, beta2, eps, weightDecay } = this.options;
    for (let i = 0; i < this.params.length; i++)
      native.adamwStep(this.params[i], grads[i], this.m[i], this.v[i], lr, beta1, beta2, eps, weightDecay, this.step);
  }
}

/** What one fused optimizer step measured. */
export interface FusedStep {
  /** Global norm of the gradients before clipping. */
  gradNorm: number;
  /** Squared global norm of the parameters after the update; NaN when the gradient norm was not finite (no update). */
  paramSquaredNorm: number;
}

/** L2 norm over all tensors (accumulated in float64). */
export function globalNorm(tensors: Float32Array[]): number {
  let sum = 0;
  for (const t of tensors) sum += native.vecSumSquares(t);
  return Math.sqrt(sum);
}

/** Scales gradients so their global norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(grads: Float32Array[], maxNorm: number): number {
  const norm = globalNorm(grads);
  clipToNorm(grads, norm, maxNorm);
  return norm;
}

/** Scales gradients whose global norm is `norm` (already measured) so it is at most maxNorm. */
export function clipToNorm(grads: Float32Array[], norm: number, maxNorm: number): void {
  const coefficient = maxNorm / (norm + 1e-6);
  if (coefficient < 1) for (const g of grads) native.vecScale(g, coefficient);
}
