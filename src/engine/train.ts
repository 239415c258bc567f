/**
 * Supervised finetuning on token sequences with loss masks: LoRA (only the adapter learns, the base stays frozen)
 * or full training (every weight, used to pretrain small models from scratch). The loss is the mean token
 * cross-entropy over the unmasked targets of an optimizer step (all its micro-batches together), so gradient
 * accumulation gives exactly the gradient of the large batch.
 */
import type { Model } from "./model.js";
import { TrainJob } from "./train-job.js";
import type { SftExample, StepReport, TrainOptions, TrainResult, TrainTarget } from "./train-options.js";

export {
  DEFAULT_TRAIN,
  type SftExample,
  type StepReport,
  type TrainOptions,
  type TrainResult,
  type TrainTarget,
} from "./train-options.js";
export { exampleTargets, weightTensors, zeroGradientsLike } from "./train-tensors.js";

/**
 * Trains `model` on `examples`; the adapter (or, for full training, the model's weights) is updated in place.
 * Throws TrainingDivergedError at the first step whose loss or gradient norm is not finite (before its update) or
 * whose update left a parameter non-finite; the target's values are then unusable and must be discarded.
 */
export function trainSft(
  model: Model,
  examples: SftExample[],
  target: TrainTarget,
  options: Partial<TrainOptions> = {},
  onStep?: (report: StepReport) => void,
): TrainResult {
  const job = new TrainJob(
    examples,
    target.kind === "lora" ? target : { kind: "full", weights: model.weights },
    options,
  );
  const previousAdapter = model.adapter;
  if (target.kind === "lora") model.adapter = target.adapter;
  try {
    while (!job.done) {
      const step = job.beginStep();
      let lossSum = 0;
      for (const micro of step.microBatches) {
        const { batch, targets } = job.pack(micro.examples);
        const result = model.lossAndBackward(batch, targets, {
          grads: job.gradients,
          gradScale: step.gradScale,
          dropoutSeed: micro.dropoutSeed,
        });
        lossSum += result.lossSum;
      }
      const report = job.finishStep(lossSum); // outside `onStep?.(…)`: optional chaining skips its arguments
      onStep?.(report);
    }
  } finally {
    if (target.kind === "lora") model.adapter = previousAdapter;
  }
  return job.result();
}
