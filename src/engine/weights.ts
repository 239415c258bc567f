/**
 * All weights of one decoder layer, as flat row-major Float32Arrays in PyTorch's nn.Linear layout
 * ([out, in]). Biases are present only when the config says so.
 */
export interface LayerWeights {
  inputNorm: Float32Array;
  qProj: Float32Array;
  kProj: Float32Array;
  vProj: Float32Array;
  oProj: Float32Array;
  qBias: Float32Array | null;
  kBias: Float32Array | null;
  vBias: Float32Array | null;
  oBias: Float32Array | null;
  postAttentionNorm: Float32Array;
  gateProj: Float32Array;
  upProj: Float32Array;
  downProj: Float32Array;
}

export interface ModelWeights {
  /** [vocab, hidden] */
  embedTokens: Float32Array;
  layers: LayerWeights[];
  finalNorm: Float32Array;
  /** [vocab, hidden]; the same array as `embedTokens` when embeddings are tied. */
  lmHead: Float32Array;
}
