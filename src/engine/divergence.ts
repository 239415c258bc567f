/**
 * Divergence: a training step whose loss or gradient norm is not finite (NaN, ±Infinity), or an update that left
 * the parameters non-finite (or too large for float32). Training stops at once with a TrainingDivergedError rather
 * than go on writing NaN into the weights; callers decide what a diverged run means (an error for `seal train`, a
 * failed inner loop inside SEAL's loops).
 */
import { globalNorm } from "./optimizer.js";

/** What was found non-finite. */
export type DivergenceCause = "loss" | "gradient norm" | "parameters";

export interface DivergenceDetails {
  /** The optimizer step that diverged (1-based, as step reports count). */
  step: number;
  totalSteps: number;
  /** 1-based. */
  epoch: number;
  cause: DivergenceCause;
  loss: number;
  gradNorm: number;
}

/** A diverged training as a JSON record keeps it (non-finite numbers become null, as JSON has none). */
export interface DivergenceRecord {
  step: number;
  totalSteps: number;
  epoch: number;
  cause: DivergenceCause;
  loss: number | null;
  gradNorm: number | null;
  error: string;
}

export const DEFAULT_DIVERGENCE_HINT = "lower the learning rate (or the LoRA alpha)";

const show = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(4))) : String(x));

function describe(details: DivergenceDetails): string {
  const { step, totalSteps, epoch, cause, loss, gradNorm } = details;
  const what =
    cause === "loss"
      ? `the loss is ${show(loss)} (gradient norm ${show(gradNorm)})`
      : cause === "gradient norm"
        ? `the gradient norm is ${show(gradNorm)} (loss ${show(loss)})`
        : `its update made the parameters non-finite or too large for float32 (loss ${show(loss)}, gradient norm ${show(gradNorm)})`;
  return `training diverged at step ${step} of ${totalSteps} (epoch ${epoch}): ${what}`;
}

/** Training stopped because its loss, gradient norm or parameters became non-finite. */
export class TrainingDivergedError extends Error {
  override name = "TrainingDivergedError";

  constructor(
    readonly details: DivergenceDetails,
    /** What to do about it, e.g. which flag to lower. */
    readonly hint: string = DEFAULT_DIVERGENCE_HINT,
    /** What was being trained (prefixed to the message). */
    readonly context: string | null = null,
  ) {
    super(`${context === null ? "" : `${context}: `}${describe(details)}; ${hint}`);
  }

  /** The same divergence with a caller's context and hint (flag names the engine cannot know). */
  withHint(hint: string, context: string | null = this.context): TrainingDivergedError {
    return new TrainingDivergedError(this.details, hint, context);
  }

  toRecord(): DivergenceRecord {
    const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);
    return {
      step: this.details.step,
      totalSteps: this.details.totalSteps,
      epoch: this.details.epoch,
      cause: this.details.cause,
      loss: finiteOrNull(this.details.loss),
      gradNorm: finiteOrNull(this.details.gradNorm),
      error: this.message,
    };
  }
}

/** The state of one optimizer step, checked before and after its update. */
export type StepState = Omit<DivergenceDetails, "cause">;

/** Throws TrainingDivergedError when the step's loss or gradient norm is not finite (call before the update). */
export function checkStepFinite(state: StepState, hint: string = DEFAULT_DIVERGENCE_HINT): void {
  if (!Number.isFinite(state.loss)) throw new TrainingDivergedError({ ...state, cause: "loss" }, hint);
  if (!Number.isFinite(state.gradNorm)) throw new TrainingDivergedError({ ...state, cause: "gradient norm" }, hint);
}

/**
 * Throws TrainingDivergedError when the update left the parameters non-finite or so large that their norm
 * overflows float32 (values around 1e19: no float32 forward pass survives them): call after the update. This also
 * catches the last step, whose loss is never computed again.
 */
export function checkParametersFinite(
  params: Float32Array[],
  state: StepState,
  hint: string = DEFAULT_DIVERGENCE_HINT,
): void {
  if (!Number.isFinite(globalNorm(params))) throw new TrainingDivergedError({ ...state, cause: "parameters" }, hint);
}
