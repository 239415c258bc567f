#!/usr/bin/python3
"""Independent reference for the engine: Hugging Face transformers' LlamaForCausalLM / Qwen2ForCausalLM forward,
re-implemented in plain PyTorch (transformers itself is not installable here) and computed in float64.

Written from transformers' source (src/transformers/models/llama/modeling_llama.py,
src/transformers/models/qwen2/modeling_qwen2.py, src/transformers/modeling_rope_utils.py); each function names the
transformers function it mirrors. It reads a model folder in Hugging Face layout on its own (config.json with HF
field names; model.safetensors, or model.safetensors.index.json + shards, with F32 / BF16 / F16 tensors) and shares
no code with the project it checks.

stdin:  {"model_dir": DIR, "sequences": [[token ids], ...], "config_overrides": {...}?}
stdout: {"logits": [[[V floats] per position] per sequence]}
or, to pay for the torch import once, stdin {"requests": [request, ...]} -> stdout {"results": [answer, ...]}.
"config_overrides" replaces config.json fields (negative controls: e.g. drop rope_scaling to show it matters).

Precision: everything is float64 except where transformers forces float32 whatever the model dtype: the RoPE
inverse frequencies and angles (computed in float32 by `_compute_*_parameters` and `LlamaRotaryEmbedding.forward`,
then cos/sin cast to the model dtype). transformers' RMSNorm and eager softmax upcast *to* float32, which only
protects half-precision models; here they stay in float64 so the reference is tighter than float32 would be.
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch

DTYPE = torch.float64


# --------------------------------------------------------------------------------------------------------------
# config.json (LlamaConfig / Qwen2Config field names and defaults)


class Config:
    def __init__(self, raw):
        architectures = raw.get("architectures") or []
        model_type = raw.get("model_type")
        if architectures:
            kinds = {"LlamaForCausalLM": "llama", "Qwen2ForCausalLM": "qwen2"}
            if architectures[0] not in kinds:
                raise ValueError(f"unsupported architecture {architectures[0]}")
            self.arch = kinds[architectures[0]]
        elif model_type in ("llama", "qwen2"):
            self.arch = model_type
        else:
            raise ValueError(f"cannot tell the architecture (model_type {model_type!r})")

        self.vocab_size = raw["vocab_size"]
        self.hidden_size = raw["hidden_size"]
        self.intermediate_size = raw["intermediate_size"]
        self.num_layers = raw["num_hidden_layers"]
        self.num_heads = raw["num_attention_heads"]
        # LlamaConfig / Qwen2Config: num_key_value_heads None -> num_attention_heads (MHA)
        self.num_kv_heads = raw.get("num_key_value_heads") or self.num_heads
        # LlamaAttention / Qwen2Attention: head_dim = getattr(config, "head_dim", hidden_size // num_attention_heads)
        self.head_dim = raw.get("head_dim") or self.hidden_size // self.num_heads
        self.rms_norm_eps = raw.get("rms_norm_eps", 1e-6)
        self.tie_word_embeddings = raw.get("tie_word_embeddings", False)

        # transformers >= 4.56 may spell the RoPE block `rope_parameters` (with rope_theta inside it)
        rope = raw.get("rope_scaling") or raw.get("rope_parameters") or None
        self.rope_theta = raw.get("rope_theta") or (rope or {}).get("rope_theta") or 10000.0
        # BC in transformers: "rope_type" was originally "type"; "default" means plain RoPE
        self.rope_type = "default" if rope is None else rope.get("rope_type", rope.get("type", "default"))
        self.rope = rope
        if self.rope_type not in ("default", "linear", "llama3"):
            raise ValueError(f"rope type {self.rope_type} is not implemented by this reference")

        if raw.get("hidden_act", "silu") != "silu":
            raise ValueError(f"hidden_act {raw.get('hidden_act')} is not implemented by this reference")
        if raw.get("mlp_bias", False):
            raise ValueError("mlp_bias is not implemented by this reference")
        if raw.get("use_sliding_window", False):
            raise ValueError("sliding-window attention is not implemented by this reference")
        if raw.get("pretraining_tp", 1) != 1:
            raise ValueError("pretraining_tp != 1 is not implemented by this reference")

        if self.arch == "qwen2":
            # Qwen2Attention: q/k/v_proj bias=True, o_proj bias=False (no attention_bias field)
            self.qkv_bias, self.o_bias = True, False
        else:
            # LlamaAttention: every projection takes bias=config.attention_bias (default False)
            bias = bool(raw.get("attention_bias", False))
            self.qkv_bias, self.o_bias = bias, bias


# --------------------------------------------------------------------------------------------------------------
# safetensors: 8-byte little-endian header length, JSON header, raw little-endian data


def read_safetensors(path):
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len).decode("utf-8"))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[begin:end]
        dtype = info["dtype"]
        if dtype == "F32":
            array = np.frombuffer(raw, dtype="<f4")
        elif dtype == "F16":
            array = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif dtype == "BF16":
            # bfloat16 is the upper 16 bits of a float32
            array = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(f"{path}: tensor {name} has dtype {dtype}, not implemented by this reference")
        shape = info["shape"]
        if array.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{path}: tensor {name}: {array.size} values for shape {shape}")
        tensors[name] = torch.from_numpy(array.astype(np.float64).reshape(shape))
    return tensors


def read_checkpoint(model_dir):
    single = os.path.join(model_dir, "model.safetensors")
    if os.path.exists(single):
        return read_safetensors(single)
    with open(os.path.join(model_dir, "model.safetensors.index.json")) as f:
        weight_map = json.load(f)["weight_map"]
    tensors = {}
    for shard in sorted(set(weight_map.values())):
        for name, tensor in read_safetensors(os.path.join(model_dir, shard)).items():
            if weight_map.get(name) == shard:
                tensors[name] = tensor
    missing = set(weight_map) - set(tensors)
    if missing:
        raise ValueError(f"index lists tensors its shards lack: {sorted(missing)[:5]}")
    return tensors


class Weights:
    """The state dict of LlamaForCausalLM / Qwen2ForCausalLM, checked strictly against the config."""

    def __init__(self, config, tensors):
        c = config
        self.tensors = dict(tensors)
        self.used = set()
        self.config = c
        q_out, kv_out = c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim
        self.embed = self.take("model.embed_tokens.weight", [c.vocab_size, c.hidden_size])
        self.layers = []
        for i in range(c.num_layers):
            p = f"model.layers.{i}."
            layer = {
                "input_norm": self.take(p + "input_layernorm.weight", [c.hidden_size]),
                "q": self.take(p + "self_attn.q_proj.weight", [q_out, c.hidden_size]),
                "k": self.take(p + "self_attn.k_proj.weight", [kv_out, c.hidden_size]),
                "v": self.take(p + "self_attn.v_proj.weight", [kv_out, c.hidden_size]),
                # LlamaAttention.o_proj: nn.Linear(num_attention_heads * head_dim, hidden_size)
                "o": self.take(p + "self_attn.o_proj.weight", [c.hidden_size, q_out]),
                "q_bias": self.take(p + "self_attn.q_proj.bias", [q_out]) if c.qkv_bias else None,
                "k_bias": self.take(p + "self_attn.k_proj.bias", [kv_out]) if c.qkv_bias else None,
                "v_bias": self.take(p + "self_attn.v_proj.bias", [kv_out]) if c.qkv_bias else None,
                "o_bias": self.take(p + "self_attn.o_proj.bias", [c.hidden_size]) if c.o_bias else None,
                "post_norm": self.take(p + "post_attention_layernorm.weight", [c.hidden_size]),
                "gate": self.take(p + "mlp.gate_proj.weight", [c.intermediate_size, c.hidden_size]),
                "up": self.take(p + "mlp.up_proj.weight", [c.intermediate_size, c.hidden_size]),
                "down": self.take(p + "mlp.down_proj.weight", [c.hidden_size, c.intermediate_size]),
            }
            self.layers.append(layer)
        self.norm = self.take("model.norm.weight", [c.hidden_size])
        if c.tie_word_embeddings:
            # PreTrainedModel.tie_weights: lm_head.weight is embed_tokens.weight (_tied_weights_keys)
            stored = self.tensors.get("lm_head.weight")
            if stored is not None and not torch.equal(stored, self.embed):
                raise ValueError("tied embeddings, but the checkpoint has a different lm_head.weight")
            self.used.add("lm_head.weight")
            self.lm_head = self.embed
        else:
            self.lm_head = self.take("lm_head.weight", [c.vocab_size, c.hidden_size])
        # Stricter than from_pretrained (which warns and drops them): a tensor the architecture has no place for
        # means the checkpoint and the config disagree. Non-persistent RoPE buffers some exports keep are fine.
        unexpected = [n for n in self.tensors if n not in self.used and not n.endswith("rotary_emb.inv_freq")]
        if unexpected:
            raise ValueError(f"unexpected tensors {sorted(unexpected)[:5]}")

    def take(self, name, shape):
        if name not in self.tensors:
            raise ValueError(f"missing tensor {name}")
        tensor = self.tensors[name]
        if list(tensor.shape) != shape:
            raise ValueError(f"tensor {name} has shape {list(tensor.shape)}, config implies {shape}")
        self.used.add(name)
        return tensor


# --------------------------------------------------------------------------------------------------------------
# RoPE (modeling_rope_utils.py), in float32 as transformers computes it


def rope_inverse_frequencies(c):
    # _compute_default_rope_parameters (head_dim as in Qwen2RotaryEmbedding.compute_default_rope_parameters:
    # getattr(config, "head_dim", None) or hidden_size // num_attention_heads; partial_rotary_factor 1)
    dim = c.head_dim
    base = float(c.rope_theta)
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    if c.rope_type == "linear":
        # _compute_linear_scaling_rope_parameters: inv_freq /= factor
        inv_freq = inv_freq / c.rope["factor"]
    elif c.rope_type == "llama3":
        # _compute_llama3_parameters
        factor = c.rope["factor"]
        low_freq_factor = c.rope["low_freq_factor"]
        high_freq_factor = c.rope["high_freq_factor"]
        old_context_len = c.rope["original_max_position_embeddings"]
        low_freq_wavelen = old_context_len / low_freq_factor
        high_freq_wavelen = old_context_len / high_freq_factor
        wavelen = 2 * math.pi / inv_freq
        # wavelen < high_freq_wavelen: kept; wavelen > low_freq_wavelen: divided by factor
        scaled = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        # in between: interpolated with a smooth factor
        smooth = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        is_medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
        inv_freq = torch.where(is_medium, smoothed, scaled)
    # attention_factor is 1.0 for default / linear / llama3
    return inv_freq.float()


def rope_cos_sin(inv_freq, length):
    # LlamaRotaryEmbedding.forward: float32 angles = inv_freq @ position_ids, emb = cat(freqs, freqs),
    # cos/sin in float32, then cast to the activations' dtype
    positions = torch.arange(length, dtype=torch.int64).float()
    freqs = torch.outer(positions, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(DTYPE), emb.sin().to(DTYPE)


def rotate_half(x):
    # rotate_half: dimension i pairs with i + head_dim/2 (not interleaved pairs)
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    # apply_rotary_pos_emb with unsqueeze_dim=1: q, k are [batch, heads, seq, head_dim]
    cos, sin = cos[None, None], sin[None, None]
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


# --------------------------------------------------------------------------------------------------------------
# The decoder (modeling_llama.py / modeling_qwen2.py)


def linear(x, weight, bias=None):
    # nn.Linear: x @ weight.T + bias, weight stored [out, in]
    y = x @ weight.transpose(0, 1)
    return y if bias is None else y + bias


def rms_norm(x, weight, eps):
    # LlamaRMSNorm.forward / Qwen2RMSNorm.forward: weight * (x * rsqrt(mean(x^2) + eps))
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def repeat_kv(x, n_rep):
    # repeat_kv: [batch, kv_heads, seq, hd] -> [batch, kv_heads * n_rep, seq, hd]; query head h reads kv head
    # h // n_rep (torch.repeat_interleave on dim 1)
    batch, kv_heads, length, hd = x.shape
    if n_rep == 1:
        return x
    return x[:, :, None, :, :].expand(batch, kv_heads, n_rep, length, hd).reshape(batch, kv_heads * n_rep, length, hd)


def causal_mask(length):
    # create_causal_mask / AttentionMaskConverter: additive mask, finfo(dtype).min above the diagonal
    mask = torch.full((length, length), torch.finfo(DTYPE).min, dtype=DTYPE)
    return torch.triu(mask, diagonal=1)[None, None]


def attention(c, layer, x, cos, sin, mask):
    # LlamaAttention.forward / Qwen2Attention.forward with eager_attention_forward
    batch, length, _ = x.shape
    hd = c.head_dim
    q = linear(x, layer["q"], layer["q_bias"]).view(batch, length, -1, hd).transpose(1, 2)
    k = linear(x, layer["k"], layer["k_bias"]).view(batch, length, -1, hd).transpose(1, 2)
    v = linear(x, layer["v"], layer["v_bias"]).view(batch, length, -1, hd).transpose(1, 2)
    q, k = apply_rotary_pos_emb(q, k, cos, sin)
    groups = c.num_heads // c.num_kv_heads  # num_key_value_groups
    k = repeat_kv(k, groups)
    v = repeat_kv(v, groups)
    scores = torch.matmul(q, k.transpose(2, 3)) * hd**-0.5  # scaling = head_dim ** -0.5
    scores = scores + mask
    probs = torch.softmax(scores, dim=-1)
    out = torch.matmul(probs, v).transpose(1, 2).reshape(batch, length, -1)
    return linear(out, layer["o"], layer["o_bias"])


def mlp(layer, x):
    # LlamaMLP.forward / Qwen2MLP.forward: down_proj(act_fn(gate_proj(x)) * up_proj(x)), act_fn = silu
    return linear(torch.nn.functional.silu(linear(x, layer["gate"])) * linear(x, layer["up"]), layer["down"])


def forward(c, w, inv_freq, ids):
    # LlamaForCausalLM.forward -> LlamaModel.forward (Qwen2 identical): embed, layers, final norm, lm_head;
    # one unpadded sequence, position_ids = 0..T-1
    length = len(ids)
    cos, sin = rope_cos_sin(inv_freq, length)
    mask = causal_mask(length)
    h = w.embed[torch.tensor(ids, dtype=torch.int64)][None]
    for layer in w.layers:
        # LlamaDecoderLayer.forward: pre-norm residual blocks
        h = h + attention(c, layer, rms_norm(h, layer["input_norm"], c.rms_norm_eps), cos, sin, mask)
        h = h + mlp(layer, rms_norm(h, layer["post_norm"], c.rms_norm_eps))
    h = rms_norm(h, w.norm, c.rms_norm_eps)
    return linear(h, w.lm_head)[0]


def answer(request):
    model_dir = request["model_dir"]
    with open(os.path.join(model_dir, "config.json")) as f:
        raw = json.load(f)
    raw.update(request.get("config_overrides") or {})
    config = Config(raw)
    weights = Weights(config, read_checkpoint(model_dir))
    inv_freq = rope_inverse_frequencies(config)
    logits = []
    with torch.no_grad():
        for ids in request["sequences"]:
            if len(ids) == 0 or min(ids) < 0 or max(ids) >= config.vocab_size:
                raise ValueError(f"token ids must be a non-empty list in [0, {config.vocab_size})")
            logits.append(forward(config, weights, inv_freq, ids).tolist())
    return {"logits": logits}


def main():
    request = json.load(sys.stdin)
    if "requests" in request:
        result = {"results": [answer(r) for r in request["requests"]]}
    else:
        result = answer(request)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
