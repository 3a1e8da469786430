"""Train a small byte-level GPT with Accelerate: the same file runs on one process, on two CPU processes, or on many GPUs.

    python train_data_parallel.py --out runs/single                                   # 1 process, global batch 16
    accelerate launch --multi_gpu --num_processes 2 train_data_parallel.py --out runs/ddp  # 2 CPU processes x 8
    accelerate launch --multi_gpu --num_processes 8 train_data_parallel.py ...         # 8 GPUs on one machine
    accelerate launch --multi_gpu --num_machines 4 --num_processes 32 --machine_rank R \
        --main_process_ip HOST --main_process_port 29500 train_data_parallel.py ...   # 4 machines x 8 GPUs

Every process builds the same model from the same seed; ``accelerator.prepare`` wraps it in
DistributedDataParallel, which averages the gradients of all processes in ``accelerator.backward``, and gives each
process its slice of every global batch (``split_batches=True``), so N processes take exactly the steps that one
process takes on the whole batch. The text is bytes of the packaged Wikipedia articles (a 256-symbol vocabulary, no
tokenizer needed). The main process saves the weights after the first step
(``first_step.safetensors``), the final weights (``save_pretrained``) and the losses to ``--out``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import DataLoaderConfiguration, set_seed
from safetensors.torch import save_file
from torch.utils.data import DataLoader, TensorDataset
from transformers import GPT2Config, GPT2LMHeadModel

SEQUENCE_LENGTH = 64


def byte_blocks(n_blocks: int) -> torch.Tensor:
    """[n_blocks, SEQUENCE_LENGTH] UTF-8 byte ids of the Wikipedia articles, in order (the same on every process)."""
    from course_utils import data

    text = "\n".join(data.load_wikipedia()["text"][:20]).encode("utf-8")
    ids = torch.tensor(list(text[: n_blocks * SEQUENCE_LENGTH]), dtype=torch.long)
    if len(ids) < n_blocks * SEQUENCE_LENGTH:
        raise SystemExit(f"Only {len(ids)} bytes of text for {n_blocks} blocks: ask for fewer --steps.")
    return ids.view(n_blocks, SEQUENCE_LENGTH)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for the final weights and losses.json")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--global-batch", type=int, default=16, help="sequences per optimizer step, all processes together")
    args = parser.parse_args(argv)

    accelerator = Accelerator(cpu=not torch.cuda.is_available(),
                              dataloader_config=DataLoaderConfiguration(split_batches=True))
    if args.global_batch % accelerator.num_processes:
        raise SystemExit(f"--global-batch {args.global_batch} does not split evenly over {accelerator.num_processes} processes.")
    set_seed(0)  # the same initial weights in every process (DDP also broadcasts rank 0's weights)
    config = GPT2Config(vocab_size=256, n_positions=SEQUENCE_LENGTH, n_embd=64, n_layer=2, n_head=4,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,  # no dropout: the runs must be comparable
                        bos_token_id=0, eos_token_id=0)  # byte 0 never occurs in the text
    model = GPT2LMHeadModel(config)
    loader = DataLoader(TensorDataset(byte_blocks(args.steps * args.global_batch)), batch_size=args.global_batch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)

    out = Path(args.out)
    losses = []
    model.train()
    for step, (input_ids,) in enumerate(loader):  # this process's [global_batch / num_processes, SEQUENCE_LENGTH] slice
        loss = model(input_ids=input_ids, labels=input_ids).loss
        accelerator.backward(loss)  # DDP: all-reduce (average) the gradients across processes
        optimizer.step()
        optimizer.zero_grad()
        losses.append(accelerator.gather(loss.detach()).mean().item())  # mean over processes = loss of the global batch
        if step == 0 and accelerator.is_main_process:  # after one update the runs can be compared most tightly
            out.mkdir(parents=True, exist_ok=True)
            weights = {k: v.detach().clone() for k, v in accelerator.unwrap_model(model).state_dict().items()}
            save_file(weights, str(out / "first_step.safetensors"))  # clone: the tied embedding is saved twice

    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        accelerator.unwrap_model(model).save_pretrained(out)
        (out / "losses.json").write_text(json.dumps({"processes": accelerator.num_processes, "losses": losses}))
        print(f"{accelerator.num_processes} process(es): {len(losses)} steps, loss {losses[0]:.3f} -> {losses[-1]:.3f}")


if __name__ == "__main__":
    main()
