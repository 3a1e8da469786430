"""course_utils.nn: the chapter-3 checks against torch and transformers, and
clear errors for bad input.
"""

import copy
import math
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import nn as cnn
from course_utils.errors import CourseError


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def minilm():
    from transformers import AutoModel, AutoTokenizer

    from course_utils import resolve_checkpoint

    checkpoint = resolve_checkpoint("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModel.from_pretrained(
        checkpoint, attn_implementation="eager"
    ).eval()
    batch = tokenizer(
        [
            "The animal didn't cross the street because it was too tired.",
            "Attention is all you need.",
            (
                "Layer normalisation keeps every token on the same scale, "
                "whatever the depth."
            ),
        ],
        padding=True,
        return_tensors="pt",
    )
    assert (batch["attention_mask"] == 0).any()  # the batch really is padded
    return model, batch


def _encoder_layer(config):
    return cnn.EncoderLayer(
        config.hidden_size,
        config.num_attention_heads,
        config.intermediate_size,
        activation=config.hidden_act,
        layer_norm_eps=config.layer_norm_eps,
    ).eval()


# --- scaled dot-product attention and masks -----------------------------------


def test_attention_is_the_formula():
    q, k, v = torch.randn(2, 4, 8), torch.randn(2, 6, 8), torch.randn(2, 6, 3)
    out, w = cnn.scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 4, 3) and w.shape == (2, 4, 6)
    torch.testing.assert_close(
        w, (q @ k.transpose(-2, -1) / math.sqrt(8)).softmax(-1)
    )
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 4))
    torch.testing.assert_close(
        out[1, 2], sum(w[1, 2, j] * v[1, j] for j in range(6))
    )


@pytest.mark.parametrize("kind", ["none", "causal", "padding", "both"])
def test_attention_matches_torch_sdpa(kind):
    # [batch, heads, L, d]
    q, k, v = (torch.randn(2, 3, 7, 16) for _ in range(3))
    pad = cnn.padding_mask(torch.tensor([[1] * 7, [1] * 4 + [0] * 3]))
    mask = {
        "none": None,
        "causal": cnn.causal_mask(7),
        "padding": pad,
        "both": pad & cnn.causal_mask(7),
    }[kind]
    out, w = cnn.scaled_dot_product_attention(q, k, v, mask)
    # one attention against torch's kernel (CONTRIBUTING.md)
    tol = dict(atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(
        out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), **tol
    )
    if kind == "causal":
        torch.testing.assert_close(
            out, F.scaled_dot_product_attention(q, k, v, is_causal=True), **tol
        )
    if mask is not None:
        assert (w.masked_select(~mask.expand_as(w)) == 0).all()


def test_masks():
    assert torch.equal(
        cnn.causal_mask(3),
        torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=torch.bool),
    )
    pad = cnn.padding_mask(torch.tensor([[1, 1, 0], [1, 1, 1]]))
    assert (
        pad.shape == (2, 1, 1, 3)
        and pad.dtype == torch.bool
        and not pad[0, 0, 0, 2]
    )


def test_padding_does_not_change_real_tokens():
    q, k, v = (torch.randn(1, 2, 6, 8) for _ in range(3))
    pad = cnn.padding_mask(torch.tensor([[1, 1, 1, 1, 0, 0]]))
    padded, _ = cnn.scaled_dot_product_attention(q, k, v, pad)
    alone, _ = cnn.scaled_dot_product_attention(
        q[..., :4, :], k[..., :4, :], v[..., :4, :]
    )
    # one attention, 6 keys vs 4
    torch.testing.assert_close(padded[..., :4, :], alone, atol=1e-5, rtol=1e-5)


# --- multi-head attention -----------------------------------------------------


def _torch_mha_with_our_weights(
    mha: cnn.MultiHeadAttention,
) -> nn.MultiheadAttention:
    ref = nn.MultiheadAttention(
        mha.d_model, mha.n_heads, batch_first=True
    ).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(
            torch.cat([mha.q_proj.weight, mha.k_proj.weight, mha.v_proj.weight])
        )
        ref.in_proj_bias.copy_(
            torch.cat([mha.q_proj.bias, mha.k_proj.bias, mha.v_proj.bias])
        )
        ref.out_proj.weight.copy_(mha.o_proj.weight)
        ref.out_proj.bias.copy_(mha.o_proj.bias)
    return ref


def test_multi_head_attention_matches_torch():
    mha = cnn.MultiHeadAttention(16, 4)
    ref = _torch_mha_with_our_weights(mha)
    x = torch.randn(2, 5, 16)
    # one attention with its projections, torch's kernels (CONTRIBUTING.md)
    tol = dict(atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        out, w = mha(x)
        ref_out, ref_w = ref(
            x, x, x, need_weights=True, average_attn_weights=False
        )
        torch.testing.assert_close(out, ref_out, **tol)
        torch.testing.assert_close(w, ref_w, **tol)
        causal = cnn.causal_mask(5)
        # torch: True = blocked
        torch.testing.assert_close(
            mha(x, mask=causal)[0], ref(x, x, x, attn_mask=~causal)[0], **tol
        )
        kpm = torch.tensor([[0, 0, 0, 0, 0], [0, 0, 0, 1, 1]], dtype=torch.bool)
        torch.testing.assert_close(
            mha(x, mask=cnn.padding_mask((~kpm).long()))[0],
            ref(x, x, x, key_padding_mask=kpm)[0],
            **tol,
        )
        memory = torch.randn(2, 7, 16)  # cross-attention
        torch.testing.assert_close(
            mha(x, memory)[0], ref(x, memory, memory)[0], **tol
        )


def test_split_heads_splits_the_model_dimension():
    mha = cnn.MultiHeadAttention(12, 3)
    x = torch.arange(2 * 6 * 12, dtype=torch.float32).view(2, 6, 12)
    heads = mha.split_heads(x)
    assert heads.shape == (2, 3, 6, 4)  # every head keeps all 6 positions
    torch.testing.assert_close(heads[:, 1], x[..., 4:8])
    torch.testing.assert_close(mha.merge_heads(heads), x)


# --- FFN, positions -----------------------------------------------------------


def test_ffn_is_position_wise_and_uses_the_activation():
    ffn = cnn.PositionwiseFFN(8, 32, activation="gelu_tanh")
    x = torch.randn(2, 5, 8)
    torch.testing.assert_close(
        ffn(x), ffn.fc2(F.gelu(ffn.fc1(x), approximate="tanh"))
    )
    # two linear layers, other shapes
    torch.testing.assert_close(ffn(x)[:, 2], ffn(x[:, 2]), atol=1e-5, rtol=1e-5)
    relu = cnn.PositionwiseFFN(8, 32, activation="relu")
    torch.testing.assert_close(relu(x), relu.fc2(F.relu(relu.fc1(x))))


def test_sinusoidal_encoding():
    pe = cnn.sinusoidal_positional_encoding(64, 16)
    assert pe.shape == (64, 16)
    torch.testing.assert_close(pe[0], torch.tensor([0.0, 1.0] * 8))
    torch.testing.assert_close(
        pe[7, 2], torch.tensor(math.sin(7 / 10000 ** (2 / 16)))
    )
    torch.testing.assert_close(
        pe[7, 3], torch.tensor(math.cos(7 / 10000 ** (2 / 16)))
    )
    dots = (pe[:-3] * pe[3:]).sum(-1)  # depends only on the offset
    # angles reach 63 rad, so each sin/cos is off by up to ~63 u; 16 such
    # products summed
    torch.testing.assert_close(
        dots, torch.full_like(dots, dots[0].item()), atol=1e-4, rtol=0
    )


def test_split_and_merge_heads_functions():
    x = torch.randn(2, 6, 12)
    heads = cnn.split_heads(x, 3)  # [2, 3, 6, 4]: every head keeps 6 positions
    assert heads.shape == (2, 3, 6, 4)
    torch.testing.assert_close(heads[:, 2], x[..., 8:12])
    assert torch.equal(cnn.merge_heads(heads), x)  # a copy: bit-identical
    with pytest.raises(CourseError, match="d_model=12 is not divisible by"):
        cnn.split_heads(x, 5)


def test_sinusoidal_encoding_in_float64_is_the_formula():
    pe64 = cnn.sinusoidal_positional_encoding(50, 16, dtype=torch.float64)
    assert pe64.dtype == torch.float64
    expected = math.sin(37 / 10000 ** (6 / 16))
    assert pe64[37, 6].item() == pytest.approx(expected, abs=1e-12)
    pe32 = cnn.sinusoidal_positional_encoding(50, 16)
    # float32 angles up to 49 rad round by ~49 u = 3e-6 (CONTRIBUTING.md)
    torch.testing.assert_close(pe32.double(), pe64, atol=1e-5, rtol=0)


def test_importing_nn_stays_light():
    code = (
        "import course_utils.nn, sys; "
        "assert 'datasets' not in sys.modules, 'datasets'; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_learned_positional_embedding():
    emb = cnn.LearnedPositionalEmbedding(10, 4)
    x = torch.zeros(2, 6, 4)
    torch.testing.assert_close(emb(x)[1], emb.embedding.weight[:6])
    with pytest.raises(CourseError, match="only 10 were learned"):
        emb(torch.zeros(1, 11, 4))


# --- real pretrained weights: MiniLM (BERT) -----------------------------------


def test_embeddings_with_learned_positions_match_bert(minilm):
    model, batch = minilm
    emb, cfg = model.embeddings, model.config
    learned = cnn.LearnedPositionalEmbedding(
        cfg.max_position_embeddings, cfg.hidden_size
    )
    learned.embedding.load_state_dict(emb.position_embeddings.state_dict())
    with torch.no_grad():
        ours = emb.LayerNorm(
            learned(
                emb.word_embeddings(batch["input_ids"])
                + emb.token_type_embeddings(batch["token_type_ids"])
            )
        )
        torch.testing.assert_close(
            ours,
            emb(
                input_ids=batch["input_ids"],
                token_type_ids=batch["token_type_ids"],
            ),
        )


def test_encoder_layer_matches_the_pretrained_bert_layer(minilm):
    from transformers.masking_utils import create_bidirectional_mask

    model, batch = minilm
    ours = cnn.load_bert_layer(
        _encoder_layer(model.config), model.encoder.layer[0]
    )
    assert sum(p.numel() for p in ours.parameters()) == sum(
        p.numel() for p in model.encoder.layer[0].parameters()
    )
    with torch.no_grad():
        x = model.embeddings(
            input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"]
        )
        hf_mask = create_bidirectional_mask(
            config=model.config,
            inputs_embeds=x,
            attention_mask=batch["attention_mask"],
        )
        theirs = model.encoder.layer[0](x, hf_mask)
        mine = ours(x, cnn.padding_mask(batch["attention_mask"]))
    # one Transformer layer (CONTRIBUTING.md)
    torch.testing.assert_close(mine, theirs, atol=2e-5, rtol=2e-5)


def test_six_encoder_layers_reproduce_last_hidden_state(minilm):
    model, batch = minilm
    stack = [
        cnn.load_bert_layer(_encoder_layer(model.config), layer)
        for layer in model.encoder.layer
    ]
    assert len(stack) == 6
    pad = cnn.padding_mask(batch["attention_mask"])
    with torch.no_grad():
        out = model(**batch, output_attentions=True)
        h = model.embeddings(
            input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"]
        )
        for depth, (layer, theirs_w) in enumerate(
            zip(stack, out.attentions), start=1
        ):
            h, w = layer(h, pad, return_attention=True)
            # the weights of layer n come after n - 1 layers and one attention
            # (CONTRIBUTING.md)
            tol = 2e-5 * depth
            torch.testing.assert_close(w, theirs_w, atol=tol, rtol=tol)
    # 6 layers x 2e-5 (CONTRIBUTING.md)
    torch.testing.assert_close(
        h, out.last_hidden_state, atol=1.2e-4, rtol=1.2e-4
    )


# --- GPT-2 block --------------------------------------------------------------


@pytest.fixture(scope="module")
def gpt2_block():
    from transformers import GPT2Config
    from transformers.models.gpt2.modeling_gpt2 import GPT2Block

    torch.manual_seed(1)
    config = GPT2Config(
        n_embd=64,
        n_head=4,
        n_layer=2,
        n_positions=32,
        vocab_size=100,
        bos_token_id=0,
        eos_token_id=0,
        attn_implementation="eager",
    )
    block = GPT2Block(config, layer_idx=0).eval()
    # larger than the default init, so a wrongly copied weight shows
    with torch.no_grad():
        for name, p in block.named_parameters():
            (
                p.uniform_(0.5, 1.5)
                if name.startswith("ln_") and name.endswith("weight")
                else p.normal_(0.0, 0.2)
            )
    return config, block


def test_decoder_block_matches_gpt2_block(gpt2_block):
    from transformers.masking_utils import create_causal_mask

    config, block = gpt2_block
    ours = cnn.load_gpt2_block(
        cnn.DecoderBlock(64, 4, layer_norm_eps=config.layer_norm_epsilon), block
    ).eval()
    x = torch.randn(2, 10, 64)
    with torch.no_grad():
        hf_mask = create_causal_mask(
            config=config, inputs_embeds=x, attention_mask=None, cache=None
        )
        theirs = block(x, attention_mask=hf_mask)
        # one Transformer block (CONTRIBUTING.md)
        tol = dict(atol=2e-5, rtol=2e-5)
        torch.testing.assert_close(ours(x), theirs, **tol)
        assert (theirs - x).abs().mean() > 0.1
        # with right padding as well: compare the real positions
        am = torch.tensor([[1] * 10, [1] * 7 + [0] * 3])
        hf_mask = create_causal_mask(
            config=config, inputs_embeds=x, attention_mask=am, cache=None
        )
        torch.testing.assert_close(
            ours(x, attention_mask=am)[1, :7],
            block(x, attention_mask=hf_mask)[1, :7],
            **tol,
        )
        # forgetting the Conv1D transpose gives a different block
        wrong = copy.deepcopy(ours)
        wrong.attn.o_proj.weight.copy_(block.attn.c_proj.weight)
        assert not torch.allclose(wrong(x), theirs, atol=1e-2)


def test_decoder_block_is_causal(gpt2_block):
    config, block = gpt2_block
    ours = cnn.load_gpt2_block(cnn.DecoderBlock(64, 4), block).eval()
    x = torch.randn(1, 8, 64)
    later = x.clone()
    later[:, 5:] = torch.randn(1, 3, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(later)[:, :5], ours(x)[:, :5])
        # a margin far above rounding
        assert not torch.allclose(ours(later)[:, 5:], ours(x)[:, 5:], atol=1e-2)


# --- cross-attention and the encoder-decoder layer ----------------------------


def _torch_decoder_layer(activation="gelu"):
    torch.manual_seed(2)
    return nn.TransformerDecoderLayer(
        32, 4, 64, dropout=0.0, activation=activation, batch_first=True
    ).eval()


def test_cross_attention_matches_torch_with_the_encoder_padding_mask():
    torch_layer = _torch_decoder_layer()
    ours = cnn.load_torch_decoder_layer(
        cnn.DecoderLayer(32, 4, 64, activation="gelu"), torch_layer
    ).eval()
    memory = torch.randn(3, 6, 32)  # [B, T_x, d]
    source_mask = torch.tensor([[1] * 6, [1] * 2 + [0] * 4, [1] * 5 + [0]])
    y = torch.randn(3, 4, 32)  # [B, T_y, d]
    with torch.no_grad():
        read, w = ours.cross_attn(y, memory, mask=cnn.padding_mask(source_mask))
        ref, ref_w = torch_layer.multihead_attn(
            y,
            memory,
            memory,
            key_padding_mask=source_mask == 0,
            average_attn_weights=False,
        )
    # one attention with its projections (CONTRIBUTING.md)
    torch.testing.assert_close(read, ref, atol=2e-5, rtol=2e-5)
    torch.testing.assert_close(w, ref_w, atol=1e-5, rtol=1e-5)
    assert w.shape == (3, 4, 4, 6)  # [B, h, T_y, T_x]
    assert (w[1, ..., 2:] == 0).all() and (w[2, ..., 5:] == 0).all()
    assert (w[0] > 0).all()  # no causal mask on the source


def test_decoder_layer_matches_torch_transformer_decoder_layer():
    for activation in ("relu", "gelu"):
        torch_layer = _torch_decoder_layer(activation)
        ours = cnn.load_torch_decoder_layer(
            cnn.DecoderLayer(32, 4, 64, activation=activation), torch_layer
        ).eval()
        memory, y = torch.randn(2, 7, 32), torch.randn(2, 5, 32)
        source_mask = torch.tensor([[1] * 7, [1] * 3 + [0] * 4])
        target_mask = torch.tensor([[1] * 5, [1] * 4 + [0]])
        with torch.no_grad():
            theirs = torch_layer(
                y,
                memory,
                tgt_mask=~cnn.causal_mask(5),
                tgt_key_padding_mask=target_mask == 0,
                memory_key_padding_mask=source_mask == 0,
            )
            mine = ours(y, memory, source_mask, target_mask)
            unmasked = ours(y, memory)  # the source padding is read now
        # one Transformer layer (CONTRIBUTING.md)
        torch.testing.assert_close(mine, theirs, atol=2e-5, rtol=2e-5)
        # a margin far above rounding (CONTRIBUTING.md)
        assert not torch.allclose(unmasked[1], mine[1], atol=1e-3)
        # causal: changing the last target token leaves the others alone
        later = y.clone()
        later[:, -1] = torch.randn(2, 32)
        with torch.no_grad():
            moved = ours(later, memory, source_mask)
            base = ours(y, memory, source_mask)
        torch.testing.assert_close(moved[:, :-1], base[:, :-1])


def test_load_torch_decoder_layer_refuses_what_it_cannot_copy():
    with pytest.raises(CourseError, match="pre-LN"):
        cnn.load_torch_decoder_layer(
            cnn.DecoderLayer(32, 4, 64),
            nn.TransformerDecoderLayer(32, 4, 64, norm_first=True),
        )
    with pytest.raises(CourseError, match="cannot copy"):
        cnn.load_torch_decoder_layer(
            cnn.DecoderLayer(16, 4, 64), _torch_decoder_layer()
        )


# --- bad input: one clear sentence --------------------------------------------


def test_bad_input_gets_clear_errors(minilm, gpt2_block):
    with pytest.raises(
        CourseError, match="d_model=10 is not divisible by n_heads=4"
    ):
        cnn.MultiHeadAttention(10, 4)
    q = torch.randn(1, 3, 8)
    with pytest.raises(
        CourseError, match="queries have dimension 8 but keys have 6"
    ):
        cnn.scaled_dot_product_attention(
            q, torch.randn(1, 3, 6), torch.randn(1, 3, 8)
        )
    with pytest.raises(CourseError, match="3 keys but 4 values"):
        cnn.scaled_dot_product_attention(q, q, torch.randn(1, 4, 8))
    with pytest.raises(CourseError, match="pass a boolean mask"):
        cnn.scaled_dot_product_attention(q, q, q, torch.ones(3, 3))
    with pytest.raises(CourseError, match="does not broadcast"):
        cnn.scaled_dot_product_attention(
            q, q, q, torch.ones(4, 4, dtype=torch.bool)
        )
    with pytest.raises(CourseError, match=r"\[batch, seq_len\]"):
        cnn.padding_mask(torch.ones(5))
    with pytest.raises(CourseError, match="at least 1"):
        cnn.causal_mask(0)
    with pytest.raises(CourseError, match=r"tensor \[batch, seq_len, 16\]"):
        cnn.MultiHeadAttention(16, 4)(torch.randn(2, 5, 12))
    with pytest.raises(CourseError, match="d_model must be even"):
        cnn.sinusoidal_positional_encoding(10, 7)
    with pytest.raises(CourseError, match="unknown activation 'swish'"):
        cnn.PositionwiseFFN(8, 16, activation="swish")
    model, _ = minilm
    with pytest.raises(CourseError, match="cannot copy"):
        cnn.load_bert_layer(
            cnn.EncoderLayer(64, 4, 256), model.encoder.layer[0]
        )
    _, block = gpt2_block
    with pytest.raises(
        CourseError, match="build DecoderBlock with the config's n_embd"
    ):
        cnn.load_gpt2_block(cnn.DecoderBlock(32, 4), block)
