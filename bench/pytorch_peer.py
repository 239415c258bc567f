#!/usr/bin/python3
"""The engine benchmark's peer: the same four workloads as bench/engine.ts, computed by PyTorch (float32, CPU).

    /usr/bin/python3 bench/pytorch_peer.py --model DIR --seq 256 --rank 32 --workload train|prefill|decode|decode16
        [--quick] [--threads N]
    /usr/bin/python3 bench/pytorch_peer.py --model DIR --workload check

prints one JSON line: {"workload", "tokens_per_s", "peak_rss_mb", "pytorch_version", "threads", ...}.

The model is the Llama / Qwen2 decoder of transformers (LlamaForCausalLM / Qwen2ForCausalLM) written as a compact,
efficient inference-and-training module: torch.nn.functional ops (linear, embedding, silu, softmax, cross_entropy),
batched matmuls over all heads, grouped-query attention without copying K/V per query head, a preallocated KV
cache, LM-head logits only for the rows that need them, torch.inference_mode() outside training, and
torch.set_num_threads(os.cpu_count()) unless --threads says otherwise. A product of one row by a weight matrix
(batch-1 decode, the last-position LM head) goes through torch.mv (BLAS gemv) rather than F.linear: Debian's torch
hands F.linear to OpenBLAS 0.3.21's sgemm, which for a single row runs ~3x below gemv (PyTorch's MKL wheels and
newer OpenBLAS forward that case to gemv themselves); --plain-linear measures the F.linear-everywhere variant. Weights are read from the model folder
(safetensors, F32 / BF16 / F16, single file or sharded) into float32 tensors; the config is parsed by the
float64 reference in test/reference/hf_decoder_reference.py, and `--workload check` compares this model's
logits (one full forward, and a cached prefill + decode) against that reference's.

Workloads (mirroring runPhase in bench/engine.ts):
  train     LoRA rank r, alpha 2r, dropout 0 on q_proj and v_proj of every layer (base frozen); one sequence of
            --seq random tokens; forward, mean cross-entropy over every next-token target, backward, global-norm
            clipping at 1 and a torch.optim.AdamW step (lr 1e-4). tokens/s = seq / mean step time, the first
            (warm-up) step excluded; 6 steps (2 with --quick).
  prefill   one --seq-token forward that fills a KV cache, with LM-head logits for the last position only;
            a warm-up call, then repeated for at least 5 s (0.5 s with --quick) and 2 calls.
  decode    a 16-token prompt, then greedy steps (argmax of the last logits, one-token forward with the KV
            cache); tokens/s over the steps after the first; 48 steps (8 with --quick).
  decode16  the same with 16 sequences in flight (one [16, 1] forward per step).
Each workload runs in its own process (the benchmark starts one per workload), so peak_rss_mb
(getrusage ru_maxrss, including the torch runtime) is that workload's own.
"""

import argparse
import json
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "reference"))
import hf_decoder_reference as reference  # noqa: E402  (config parsing, RoPE frequencies, the float64 check)

PROMPT_LENGTH = 16


# --------------------------------------------------------------------------------------------------------------
# weights


def read_safetensors_f32(path, wanted=None):
    """Tensors of one safetensors file as float32 torch tensors (F32 data is used in place, not copied)."""
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len).decode("utf-8"))
        data = np.fromfile(f, dtype=np.uint8)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or (wanted is not None and not wanted(name)):
            continue
        begin, end = info["data_offsets"]
        raw = data[begin:end]
        dtype = info["dtype"]
        if dtype == "F32":
            array = raw.view("<f4") if begin % 4 == 0 else raw.copy().view("<f4")
        elif dtype == "F16":
            array = raw.view("<f2").astype(np.float32)
        elif dtype == "BF16":
            array = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(f"{path}: tensor {name} has dtype {dtype}")
        tensors[name] = torch.from_numpy(array.reshape(info["shape"]))
    return tensors


def read_checkpoint_f32(model_dir):
    single = os.path.join(model_dir, "model.safetensors")
    if os.path.exists(single):
        return read_safetensors_f32(single)
    with open(os.path.join(model_dir, "model.safetensors.index.json")) as f:
        weight_map = json.load(f)["weight_map"]
    tensors = {}
    for shard in sorted(set(weight_map.values())):
        tensors.update(read_safetensors_f32(os.path.join(model_dir, shard), lambda n, s=shard: weight_map.get(n) == s))
    return tensors


class Decoder:
    """LlamaForCausalLM / Qwen2ForCausalLM in float32, with optional LoRA on some projections."""

    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json")) as f:
            self.config = c = reference.Config(json.load(f))
        self.model_dir = model_dir
        t = read_checkpoint_f32(model_dir)
        self.embed = t["model.embed_tokens.weight"]
        self.norm = t["model.norm.weight"]
        self.lm_head = self.embed if c.tie_word_embeddings else t["lm_head.weight"]
        names = {
            "input_norm": "input_layernorm.weight",
            "post_norm": "post_attention_layernorm.weight",
            "q": "self_attn.q_proj.weight",
            "k": "self_attn.k_proj.weight",
            "v": "self_attn.v_proj.weight",
            "o": "self_attn.o_proj.weight",
            "q_bias": "self_attn.q_proj.bias",
            "k_bias": "self_attn.k_proj.bias",
            "v_bias": "self_attn.v_proj.bias",
            "o_bias": "self_attn.o_proj.bias",
            "gate": "mlp.gate_proj.weight",
            "up": "mlp.up_proj.weight",
            "down": "mlp.down_proj.weight",
        }
        self.layers = [{k: t.get(f"model.layers.{i}.{n}") for k, n in names.items()} for i in range(c.num_layers)]
        self.groups = c.num_heads // c.num_kv_heads
        self.scale = c.head_dim**-0.5
        self.lora = None  # per layer: {"q": (A [r, in], B [out, r]), "v": ...}
        self.lora_scale = 0.0
        self.single_row_mv = True
        inv_freq = reference.rope_inverse_frequencies(c)
        self.rope_inv_freq = inv_freq
        self.cos = self.sin = torch.empty(0)

    def ensure_rope(self, length):
        # LlamaRotaryEmbedding: float32 angles, emb = cat(freqs, freqs)
        if self.cos.shape[0] >= length:
            return
        freqs = torch.outer(torch.arange(length, dtype=torch.float32), self.rope_inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()

    def add_lora(self, rank, alpha, targets, generator):
        c = self.config
        out_dims = {"q": c.num_heads * c.head_dim, "k": c.num_kv_heads * c.head_dim, "v": c.num_kv_heads * c.head_dim}
        self.lora = []
        for _ in range(c.num_layers):
            pairs = {}
            for p in targets:
                bound = 1 / c.hidden_size**0.5
                a = (torch.rand(rank, c.hidden_size, generator=generator) * 2 - 1) * bound
                pairs[p] = (a.requires_grad_(), torch.zeros(out_dims[p], rank, requires_grad=True))
            self.lora.append(pairs)
        self.lora_scale = alpha / rank
        return [t for pairs in self.lora for pair in pairs.values() for t in pair]

    def linear(self, x, weight, bias=None):
        if self.single_row_mv and x.numel() == x.shape[-1]:
            y = torch.mv(weight, x.reshape(-1)) if bias is None else torch.addmv(bias, weight, x.reshape(-1))
            return y.view(*x.shape[:-1], -1)
        return F.linear(x, weight, bias)

    def project(self, x, layer, index, name):
        y = self.linear(x, layer[name], layer[name + "_bias"])
        if self.lora is not None and name in self.lora[index]:
            a, b = self.lora[index][name]
            y = y + F.linear(F.linear(x, a), b) * self.lora_scale
        return y

    def rms_norm(self, x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.config.rms_norm_eps) * weight

    def rope(self, x, cos, sin):
        half = x.shape[-1] // 2
        return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin

    def new_cache(self, batch, length):
        c = self.config
        shape = (batch, c.num_kv_heads, length, c.head_dim)
        return [(torch.zeros(shape), torch.zeros(shape)) for _ in range(c.num_layers)]

    def forward(self, ids, start=0, cache=None, last_only=False):
        """ids [B, T] at positions start..start+T-1 of every sequence -> logits [B, T or 1, V]."""
        c = self.config
        batch, length = ids.shape
        end = start + length
        self.ensure_rope(end)
        cos, sin = self.cos[start:end], self.sin[start:end]
        g, hd, kvh = self.groups, c.head_dim, c.num_kv_heads
        mask = None
        if length > 1:
            # causal: query at position start+i sees keys 0..start+i; one row per query, repeated for the group
            keys = torch.arange(end)
            queries = torch.arange(start, end)
            mask = torch.zeros(length, end).masked_fill_(keys[None, :] > queries[:, None], float("-inf"))
            mask = mask.repeat(g, 1)
        h = F.embedding(ids, self.embed)
        for i, layer in enumerate(self.layers):
            x = self.rms_norm(h, layer["input_norm"])
            q = self.project(x, layer, i, "q").view(batch, length, c.num_heads, hd).transpose(1, 2)
            k = self.project(x, layer, i, "k").view(batch, length, kvh, hd).transpose(1, 2)
            v = self.project(x, layer, i, "v").view(batch, length, kvh, hd).transpose(1, 2)
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            if cache is not None:
                k_cache, v_cache = cache[i]
                k_cache[:, :, start:end] = k
                v_cache[:, :, start:end] = v
                k, v = k_cache[:, :, :end], v_cache[:, :, :end]
            # grouped-query attention: query head h reads kv head h // g, so the g query heads of one kv head
            # are stacked as g * T rows against that head's keys (no repeat_kv copy of K and V)
            q = q.reshape(batch, kvh, g * length, hd)
            scores = torch.matmul(q, k.transpose(2, 3)) * self.scale
            if mask is not None:
                scores = scores + mask
            out = torch.matmul(torch.softmax(scores, dim=-1), v)  # [B, kvh, g * T, hd]
            out = out.view(batch, kvh, g, length, hd).permute(0, 3, 1, 2, 4).reshape(batch, length, -1)
            h = h + self.linear(out, layer["o"], layer["o_bias"])
            x = self.rms_norm(h, layer["post_norm"])
            mlp = F.silu(self.linear(x, layer["gate"])) * self.linear(x, layer["up"])
            h = h + self.linear(mlp, layer["down"])
        if last_only:
            h = h[:, -1:]
        return self.linear(self.rms_norm(h, self.norm), self.lm_head)


# --------------------------------------------------------------------------------------------------------------
# workloads


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def random_tokens(vocab, count):
    return torch.randint(0, vocab, (count,), generator=torch.Generator().manual_seed(1))


def run_train(model, args):
    params = model.add_lora(args.rank, 2 * args.rank, ["q", "v"], torch.Generator().manual_seed(2))
    optimizer = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    ids = random_tokens(model.config.vocab_size, args.seq)[None]
    steps = 2 if args.quick else 6
    times, losses = [], []
    for _ in range(steps):
        started = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        logits = model.forward(ids)
        loss = F.cross_entropy(logits[0, :-1], ids[0, 1:])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        times.append(time.perf_counter() - started)
        losses.append(loss.item())
    measured = times[1:]  # the first step allocates
    return {"tokens_per_s": args.seq / (sum(measured) / len(measured)), "losses": losses}


def run_prefill(model, args):
    ids = random_tokens(model.config.vocab_size, args.seq)[None]
    cache = model.new_cache(1, args.seq)
    with torch.inference_mode():
        model.forward(ids, 0, cache, last_only=True)  # warm-up
        reps, started = 0, time.perf_counter()
        while reps < 2 or time.perf_counter() - started < (0.5 if args.quick else 5):
            model.forward(ids, 0, cache, last_only=True)
            reps += 1
        seconds = (time.perf_counter() - started) / reps
    return {"tokens_per_s": args.seq / seconds, "reps": reps}


def run_decode(model, args, sequences):
    steps = 8 if args.quick else 48
    prompt = random_tokens(model.config.vocab_size, PROMPT_LENGTH)[None].repeat(sequences, 1)
    cache = model.new_cache(sequences, PROMPT_LENGTH + steps + 1)
    seconds = 0.0
    with torch.inference_mode():
        logits = model.forward(prompt, 0, cache, last_only=True)
        for step in range(steps):
            started = time.perf_counter()
            following = logits[:, -1].argmax(-1)
            logits = model.forward(following[:, None], PROMPT_LENGTH + step, cache, last_only=True)
            if step > 0:  # step 0 warms up
                seconds += time.perf_counter() - started
    return {"tokens_per_s": sequences * (steps - 1) / seconds}


def run_check(model):
    """Max |peer - float64 reference| over the logits of a full forward and of a cached prefill + decode."""
    c = model.config
    tokens = random_tokens(c.vocab_size, 12)
    weights = reference.Weights(c, reference.read_checkpoint(model.model_dir))
    with torch.no_grad():
        expected = reference.forward(c, weights, reference.rope_inverse_frequencies(c), tokens.tolist()).float()
    scale = expected.abs().max().item()
    with torch.inference_mode():
        full = model.forward(tokens[None])[0]
        cached = []
        for batch in (1, 2):  # batch 1 decodes through torch.mv, batch 2 through F.linear
            cache = model.new_cache(batch, 12)
            rows = [model.forward(tokens[None, :8].repeat(batch, 1), 0, cache)[-1]]
            for i in range(8, 12):
                rows.append(model.forward(tokens[None, i : i + 1].repeat(batch, 1), i, cache, last_only=True)[-1])
            cached.append(torch.cat(rows))
    return {
        "max_abs_diff_full": (full - expected).abs().max().item(),
        "max_abs_diff_cached": max((got - expected).abs().max().item() for got in cached),
        "max_abs_logit": scale,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="model folder in Hugging Face layout")
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--rank", type=int, default=32)
    parser.add_argument("--workload", required=True, choices=["train", "prefill", "decode", "decode16", "check"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--plain-linear", action="store_true", help="F.linear for single rows too (no torch.mv)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = Decoder(args.model)
    model.single_row_mv = not args.plain_linear
    if args.workload == "train":
        result = run_train(model, args)
    elif args.workload == "prefill":
        result = run_prefill(model, args)
    elif args.workload == "check":
        result = run_check(model)
    else:
        result = run_decode(model, args, 1 if args.workload == "decode" else 16)
    print(
        json.dumps(
            {
                "workload": args.workload,
                **result,
                "peak_rss_mb": peak_rss_mb(),
                "pytorch_version": torch.__version__,
                "threads": torch.get_num_threads(),
                "single_row_mv": model.single_row_mv,
            }
        )
    )


if __name__ == "__main__":
    main()
